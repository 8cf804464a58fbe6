// Tokenizers against llama.cpp's vectors in ../shared/testdata/tokenizers: every
// string encodes to exactly the expected ids, and decodes back to the input.
#include "import/model_file.h"
#include "import/vocab_import.h"
#include <algorithm>

#include "error.h"
#include "test_support.h"
#include "tokenizer.h"

namespace plm {
namespace {

class VocabVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabVectors, EncodeMatchesLlamaCppAndDecodeRoundTrips) {
  const std::string base = test::testdata(std::string("tokenizers/ggml-vocab-") + GetParam() + ".gguf");
  PLM_REQUIRE_TESTDATA(base);
  PLM_REQUIRE_TESTDATA(base + ".inp");
  const ModelFile mf = open_model_file(base);
  const Tokenizer tok(vocab_from_metadata(mf.meta, base));
  test::expect_llama_cpp_vectors(tok, base, /*check_decode=*/true);
}

std::string vocab_test_name(const ::testing::TestParamInfo<const char*>& i) {
  std::string n = i.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Spm, VocabVectors, ::testing::Values("llama-spm", "phi-3"), vocab_test_name);
INSTANTIATE_TEST_SUITE_P(ByteBpe, VocabVectors, ::testing::Values("gpt-2", "starcoder", "mpt", "refact", "deepseek-llm"),
                         vocab_test_name);

TEST(Tokenizer, ByteLevelBpeIsLosslessOnAnyBytes) {
  const std::string path = test::testdata("tokenizers/ggml-vocab-gpt-2.gguf");
  PLM_REQUIRE_TESTDATA(path);
  const Tokenizer tok(vocab_from_metadata(open_model_file(path).meta, path));
  EXPECT_EQ(tok.vocab().kind, TokenizerKind::ByteBpe);
  EXPECT_FALSE(tok.vocab().add_bos);  // gpt-2 says nothing: byte-level BPE adds no BOS by default
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += char(b);
  for (const std::string& s : {all_bytes, std::string("\xff\xfe ok \xc3"), std::string("a\0b", 3), std::string("   ")})
    EXPECT_EQ(tok.decode(tok.encode(s, false)), s);
  // "<|endoftext|>" is a control token: text unless special tokens are parsed.
  const int32_t eot = tok.find("<|endoftext|>");
  ASSERT_GE(eot, 0);
  EXPECT_EQ(tok.encode("hi<|endoftext|>", false, true).back(), eot);
  const auto plain = tok.encode("hi<|endoftext|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), eot), 0);
  EXPECT_EQ(tok.decode(plain), "hi<|endoftext|>");
}

TEST(Tokenizer, ByteLevelBpeRejectsBadTables) {
  Vocab v;
  v.kind = TokenizerKind::ByteBpe;
  v.pieces = {"a", "b", "ab"};
  v.pre = "gpt-2";
  v.merges = {"a b"};
  EXPECT_EQ(Tokenizer(v).encode("ab", false), (std::vector<int32_t>{2}));
  v.merges = {"ab"};  // not two pieces
  EXPECT_THROW(Tokenizer{v}, Error);
  v.merges = {"a b"};
  v.pre = "klingon";
  EXPECT_THROW(Tokenizer{v}, Error);
}

TEST(Tokenizer, Llama2cTokenizerEncodesLikeItsGguf) {
  const std::string bin = test::testdata("models/aidreams260K.bin");
  const std::string gguf = test::testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(bin);
  PLM_REQUIRE_TESTDATA(gguf);
  const Tokenizer a(vocab_from_metadata(open_model_file(bin).meta, bin));
  const Tokenizer b(vocab_from_metadata(open_model_file(gguf).meta, gguf));
  const std::string text = "Once upon a time, a little robot dreamed of the sea.";
  EXPECT_EQ(a.encode(text, true), b.encode(text, true));
  EXPECT_EQ(a.encode(text, true).front(), 1);
  EXPECT_EQ(a.decode(a.encode(text, true)), text);
}

TEST(Tokenizer, SpecialTokensOnlyWhenAsked) {
  Vocab v;
  v.pieces = {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a", "b", "<0x62>", "\xE2\x96\x81"};
  v.types = {TokenType::Unknown, TokenType::Control, TokenType::Control, TokenType::Normal, TokenType::Normal,
             TokenType::Byte, TokenType::Normal};
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  const Tokenizer t(v);
  EXPECT_EQ(t.encode("a</s>a", false, true), (std::vector<int32_t>{3, 2, 3}));
  // Without parse_special, "</s>" is text: '<', '/', 's', '>' have no pieces or bytes -> unk.
  const auto plain = t.encode("a</s>", false, false);
  EXPECT_EQ(plain.front(), 3);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  EXPECT_EQ(t.encode("ab", true), (std::vector<int32_t>{1, 3, 4}));
  EXPECT_EQ(t.piece_bytes(5), "b");
  EXPECT_EQ(t.piece_bytes(2), "");
  EXPECT_THROW(t.piece_bytes(7), Error);
  EXPECT_THROW(t.piece_bytes(-1), Error);
}

TEST(Tokenizer, RejectsInconsistentTables) {
  Vocab v;
  v.pieces = {"a", "b"};
  v.scores = {0.0f};
  EXPECT_THROW(Tokenizer{v}, Error);
  Vocab w;
  w.pieces = {"a"};
  w.bos = 5;
  EXPECT_THROW(Tokenizer{w}, Error);
}

}  // namespace
}  // namespace plm
