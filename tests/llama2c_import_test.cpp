// llama2.c checkpoints import into the same model as the equivalent GGUF.
#include "gguf_builder.h"
#include "import/model_file.h"
#include "error.h"
#include "test_support.h"

namespace plm {
namespace {

TEST(Llama2cImport, Aidreams260KMatchesItsGgufTensorForTensor) {
  const std::string bin = test::testdata("models/aidreams260K.bin");
  const std::string gguf = test::testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(bin);
  PLM_REQUIRE_TESTDATA(gguf);
  const ModelFile a = open_model_file(bin);  // finds aidreams260K.tok512.bin beside it
  const ModelFile b = open_model_file(gguf);
  EXPECT_EQ(a.format, "llama2.c");
  for (const TensorInfo& t : a.tensors) {
    const TensorInfo* u = b.find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(t.ne, u->ne) << t.name;
    ASSERT_EQ(t.n_bytes, u->n_bytes) << t.name;
    EXPECT_EQ(0, std::memcmp(t.data, u->data, t.n_bytes)) << t.name << " differs";
  }
  // The checkpoint shares its classifier with the embedding; the GGUF stores a copy.
  EXPECT_EQ(a.find("output.weight"), nullptr);
  EXPECT_EQ(0, std::memcmp(a.find("token_embd.weight")->data, b.find("output.weight")->data, b.find("output.weight")->n_bytes));
  for (const char* key : {"llama.embedding_length", "llama.block_count", "llama.feed_forward_length", "llama.attention.head_count",
                          "llama.attention.head_count_kv", "llama.context_length", "llama.rope.dimension_count"})
    EXPECT_EQ(a.meta.get_uint(key), b.meta.get_uint(key)) << key;
  // The same vocabulary once tokenizer.bin's decoded pieces are respelled as SPM pieces.
  const auto ta = a.meta.get_string_array("tokenizer.ggml.tokens");
  const auto tb = b.meta.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t k = 0; k < ta.size(); ++k) EXPECT_EQ(ta[k], tb[k]) << "token " << k;
  EXPECT_EQ(a.meta.get_float_array("tokenizer.ggml.scores"), b.meta.get_float_array("tokenizer.ggml.scores"));
  EXPECT_EQ(a.meta.get_int_array("tokenizer.ggml.token_type"), b.meta.get_int_array("tokenizer.ggml.token_type"));
}

TEST(Llama2cImport, SeparateClassifierAndExplicitTokenizer) {
  const std::string model = test::write_temp("unshared.bin", test::tiny_llama2c(false));
  const std::string tok = test::write_temp("tiny-tokenizer.bin", test::tiny_llama2c_tokenizer());
  const ModelFile mf = load_llama2c(model, tok);
  const TensorInfo* out = mf.find("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->ne, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(out->file_offset + out->n_bytes, mf.mappings[0]->size());  // the classifier is last
  EXPECT_EQ(mf.meta.get_string_array("tokenizer.ggml.tokens")[5], "t5");
  EXPECT_EQ(mf.meta.get_float_array("tokenizer.ggml.scores")[5], -5.0f);
  // A tokenizer for another vocabulary size is refused, naming the file.
  const std::string small = test::write_temp("small-tokenizer.bin", test::tiny_llama2c_tokenizer(32));
  try {
    load_llama2c(model, small);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(small), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace plm
