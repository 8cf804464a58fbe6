// Hugging Face tokenizer.json import: the llama.cpp vocabularies in ../shared are
// written out as tokenizer.json files (vocab, merges in both spellings, added tokens,
// the pre-tokenizer as its model card has it) and read back through the importer;
// every llama.cpp test vector must still encode to the expected ids.
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <tuple>
#include <unordered_map>
#include <nlohmann/json.hpp>

#include "error.h"
#include "import/hf_tokenizer.h"
#include "import/model_file.h"
#include "import/vocab_import.h"
#include "test_support.h"
#include "tokenizer.h"

namespace plm {
namespace {

using json = nlohmann::json;

// A tokenizer.json equivalent to a GGUF vocabulary, with the given pre_tokenizer.
std::string write_tokenizer_json(const ModelFile& mf, const json& pre_tokenizer, bool pair_merges, const std::string& name) {
  const auto tokens = mf.meta.get_string_array("tokenizer.ggml.tokens");
  const auto types = mf.meta.get_int_array("tokenizer.ggml.token_type");
  json vocab = json::object(), added = json::array(), merges = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (types[i] == int64_t(TokenType::Control) || types[i] == int64_t(TokenType::UserDefined))
      added.push_back({{"id", i}, {"content", tokens[i]}, {"special", types[i] == int64_t(TokenType::Control)}});
    else vocab[tokens[i]] = i;
  }
  for (const std::string& m : mf.meta.get_string_array("tokenizer.ggml.merges")) {
    const size_t sp = m.find(' ', 1);
    if (pair_merges) merges.push_back(json::array({m.substr(0, sp), m.substr(sp + 1)}));
    else merges.push_back(m);
  }
  const json j = {{"version", "1.0"},
                  {"added_tokens", added},
                  {"pre_tokenizer", pre_tokenizer},
                  {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
  const std::string dir = test::temp_dir() + "/" + name;
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  return dir + "/tokenizer.json";
}

json byte_level(bool use_regex) { return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}}; }

TEST(HfTokenizer, ByteLevelVocabulariesEncodeLikeTheirGguf) {
  struct Case {
    const char* vocab;
    json pre;
    bool pair_merges;
  };
  const std::vector<Case> cases = {
      {"gpt-2", byte_level(true), false},
      {"starcoder",
       {{"type", "Sequence"},
        {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)}}},
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.vocab);
    const std::string gguf = test::testdata(std::string("tokenizers/ggml-vocab-") + c.vocab + ".gguf");
    PLM_REQUIRE_TESTDATA(gguf);
    const ModelFile mf = open_model_file(gguf);
    const std::string path = write_tokenizer_json(mf, c.pre, c.pair_merges, c.vocab);
    Metadata meta(path);
    import_hf_tokenizer(path, meta);
    const Tokenizer tok(vocab_from_metadata(meta, path));
    EXPECT_EQ(tok.vocab().pre, c.vocab);
    test::expect_llama_cpp_vectors(tok, gguf, /*check_decode=*/false);
  }
}

// Llama 2's tokenizer.json shape: SentencePiece pieces with "\u2581", byte-fallback
// pieces, a Prepend + Replace normalizer, and merges listed best-first (built here as
// Hugging Face's converter builds them: every split of a piece into two pieces,
// ordered by the piece's SentencePiece score).
TEST(HfTokenizer, SentencePieceStyleEncodesLikeItsGguf) {
  const std::string gguf = test::testdata("tokenizers/ggml-vocab-llama-spm.gguf");
  PLM_REQUIRE_TESTDATA(gguf);
  const ModelFile mf = open_model_file(gguf);
  const auto tokens = mf.meta.get_string_array("tokenizer.ggml.tokens");
  const auto types = mf.meta.get_int_array("tokenizer.ggml.token_type");
  const auto scores = mf.meta.get_float_array("tokenizer.ggml.scores");
  json vocab = json::object(), added = json::array();
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < tokens.size(); ++i) {
    index.emplace(tokens[i], i);
    if (types[i] == int64_t(TokenType::Control)) added.push_back({{"id", i}, {"content", tokens[i]}, {"special", true}});
    else vocab[tokens[i]] = i;
  }
  std::vector<std::tuple<float, size_t, std::string>> merges;  // (score, id, "l r")
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (types[i] != int64_t(TokenType::Normal)) continue;
    const std::string& p = tokens[i];
    for (size_t cut = 1; cut < p.size(); ++cut)
      if ((static_cast<unsigned char>(p[cut]) & 0xC0) != 0x80 && index.count(p.substr(0, cut)) && index.count(p.substr(cut)))
        merges.emplace_back(scores[i], i, p.substr(0, cut) + " " + p.substr(cut));
  }
  std::stable_sort(merges.begin(), merges.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  json mj = json::array();
  for (const auto& m : merges) mj.push_back(std::get<2>(m));
  const json j = {{"added_tokens", added},
                  {"normalizer",
                   {{"type", "Sequence"},
                    {"normalizers",
                     {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
                      {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}}}}},
                  {"pre_tokenizer", nullptr},
                  {"model", {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab}, {"merges", mj}}}};
  const std::string dir = test::temp_dir() + "/spm-json";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  Metadata meta(dir + "/tokenizer.json");
  import_hf_tokenizer(dir + "/tokenizer.json", meta);
  const Tokenizer tok(vocab_from_metadata(meta, dir));
  EXPECT_EQ(tok.vocab().kind, TokenizerKind::Spm);
  EXPECT_EQ(tok.vocab().unk, 0);
  test::expect_llama_cpp_vectors(tok, gguf, /*check_decode=*/false);
}

TEST(HfTokenizer, PatternsNameTheirFamilyAndConfigGivesBosEos) {
  const std::string gguf = test::testdata("tokenizers/ggml-vocab-gpt-2.gguf");
  PLM_REQUIRE_TESTDATA(gguf);
  const ModelFile mf = open_model_file(gguf);
  // Llama 3's pre-tokenizer as its tokenizer.json spells it: a Split with (?i:...).
  const json llama3 = {{"type", "Sequence"},
                       {"pretokenizers",
                        {{{"type", "Split"},
                          {"pattern",
                           {{"Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
                          {"behavior", "Isolated"},
                          {"invert", false}},
                         byte_level(false)}}};
  const std::string path = write_tokenizer_json(mf, llama3, false, "llama3");
  std::ofstream(std::filesystem::path(path).parent_path() / "tokenizer_config.json")
      << json({{"bos_token", "<|endoftext|>"}, {"eos_token", {{"content", "<|endoftext|>"}}}, {"add_bos_token", true}}).dump();
  Metadata meta(path);
  import_hf_tokenizer(path, meta);
  const Tokenizer tok(vocab_from_metadata(meta, path));
  EXPECT_EQ(tok.vocab().pre, "llama-bpe");
  EXPECT_EQ(tok.vocab().bos, 50256);
  EXPECT_EQ(tok.vocab().eos, 50256);
  EXPECT_TRUE(tok.vocab().add_bos);
  EXPECT_EQ(tok.decode(tok.encode("Hello 12345 world's", false)), "Hello 12345 world's");
  // The CLI takes a tokenizer.json by itself too.
  const auto r = test::run_command({test::pocketlm_binary(), "tokenize", path, "-p", "Hello world", "--ids"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "15496 995\n");
}

TEST(HfTokenizer, ClearErrors) {
  const std::string dir = test::temp_dir() + "/hf-bad";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  auto expect = [&](const std::string& path, const std::string& needle) {
    Metadata meta(path);
    try {
      import_hf_tokenizer(path, meta);
      ADD_FAILURE() << "accepted " << path;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  expect(write("a.json", "{\"model\": "), "not valid JSON");
  expect(write("b.json", "{\"model\": {\"type\": \"WordPiece\"}}"), "model.type 'WordPiece' is not supported");
  expect(write("c.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": null}"), "neither a ByteLevel");
  expect(write("d.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": "
                         "[{\"type\": \"Split\", \"pattern\": {\"Regex\": \"[a-z]+\"}, \"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\", \"use_regex\": false}]}}"),
         "are not those of a family");
  expect(write("e.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}"),
         "no token has id 1");
  expect(write("f.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [7]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}"),
         "model.merges holds 7");
  expect(dir + "/missing.json", "cannot open");
}

}  // namespace
}  // namespace plm
