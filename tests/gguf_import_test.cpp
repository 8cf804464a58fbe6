// GGUF v2/v3 import: every metadata value type (including nested arrays), alignment,
// tensor infos and zero-copy data, on built files and the shared test models.
#include "gguf_builder.h"
#include "import/model_file.h"
#include "error.h"
#include "test_support.h"

namespace plm {
namespace {

using test::GgufBuilder;

TEST(GgufImport, EveryMetadataTypeAndNestedArrays) {
  for (uint32_t version : {2u, 3u}) {
    GgufBuilder g;
    g.version = version;
    g.kv("u8", 0, GgufBuilder::pod<uint8_t>(200));
    g.kv("i8", 1, GgufBuilder::pod<int8_t>(-100));
    g.kv("u16", 2, GgufBuilder::pod<uint16_t>(60000));
    g.kv("i16", 3, GgufBuilder::pod<int16_t>(-30000));
    g.kv("u32", 4, GgufBuilder::pod<uint32_t>(4000000000u));
    g.kv("i32", 5, GgufBuilder::pod<int32_t>(-2000000000));
    g.kv("f32", 6, GgufBuilder::pod<float>(1.5f));
    g.kv("bool", 7, GgufBuilder::pod<uint8_t>(1));
    g.kv("string", 8, GgufBuilder::str("héllo"));
    g.kv("u64", 10, GgufBuilder::pod<uint64_t>(1ull << 40));
    g.kv("i64", 11, GgufBuilder::pod<int64_t>(-(1ll << 40)));
    g.kv("f64", 12, GgufBuilder::pod<double>(0.125));
    std::vector<uint8_t> strs = GgufBuilder::str("a");
    for (auto b : GgufBuilder::str("bc")) strs.push_back(b);
    g.kv("strings", 9, GgufBuilder::array(8, 2, strs));
    // [[1, 2], [3]] as an array of arrays of i32.
    std::vector<uint8_t> inner1 = GgufBuilder::array(5, 2, [] {
      auto v = GgufBuilder::pod<int32_t>(1);
      auto w = GgufBuilder::pod<int32_t>(2);
      v.insert(v.end(), w.begin(), w.end());
      return v;
    }());
    std::vector<uint8_t> inner2 = GgufBuilder::array(5, 1, GgufBuilder::pod<int32_t>(3));
    std::vector<uint8_t> both = inner1;
    both.insert(both.end(), inner2.begin(), inner2.end());
    g.kv("nested", 9, GgufBuilder::array(9, 2, both));
    g.tensor({"t", {4, 2}, 0, std::vector<uint8_t>(32, 0)});
    const std::string path = test::write_temp("types_v" + std::to_string(version) + ".gguf", g.build());

    const ModelFile mf = load_gguf(path);
    EXPECT_EQ(mf.format, "GGUF v" + std::to_string(version));
    const Metadata& m = mf.meta;
    EXPECT_EQ(m.get_uint("u8"), 200u);
    EXPECT_EQ(m.find("i8")->i, -100);
    EXPECT_EQ(m.get_uint("u16"), 60000u);
    EXPECT_EQ(m.find("i16")->i, -30000);
    EXPECT_EQ(m.get_uint("u32"), 4000000000u);
    EXPECT_EQ(m.find("i32")->i, -2000000000);
    EXPECT_EQ(m.get_float("f32"), 1.5);
    EXPECT_EQ(m.opt_bool("bool"), true);
    EXPECT_EQ(m.get_string("string"), "héllo");
    EXPECT_EQ(m.get_uint("u64"), 1ull << 40);
    EXPECT_EQ(m.find("i64")->i, -(1ll << 40));
    EXPECT_EQ(m.get_float("f64"), 0.125);
    EXPECT_EQ(m.get_string_array("strings"), (std::vector<std::string>{"a", "bc"}));
    const MetaValue* nested = m.find("nested");
    ASSERT_NE(nested, nullptr);
    ASSERT_EQ(nested->array.size(), 2u);
    EXPECT_EQ(nested->array[0].array.size(), 2u);
    EXPECT_EQ(nested->array[0].array[1].i, 2);
    EXPECT_EQ(nested->array[1].array[0].i, 3);
    EXPECT_EQ(nested->to_string(), "[array x 2] [i32 x 2] 1, 2, [i32 x 1] 3");
    EXPECT_EQ(m.get_uint("general.alignment"), 32u);
    // Mistyped access names the key and the file.
    try {
      m.get_string("u8");
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("u8"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    }
  }
}

TEST(GgufImport, AlignmentAndZeroCopyTensorData) {
  GgufBuilder g = test::tiny_llama_gguf();
  g.alignment = 64;
  test::GgufBuilder::Sections s;
  const auto bytes = g.build(&s);
  const std::string path = test::write_temp("aligned64.gguf", bytes);
  const ModelFile mf = load_gguf(path);
  EXPECT_EQ(s.data_start % 64, 0u);
  ASSERT_EQ(mf.tensors.size(), 11u);
  for (const auto& t : mf.tensors) {
    EXPECT_EQ((t.file_offset - s.data_start) % 64, 0u) << t.name;
    EXPECT_EQ(t.data, mf.mappings[0]->data() + t.file_offset) << t.name << " is not read in place";
    EXPECT_EQ(0, std::memcmp(t.data, bytes.data() + t.file_offset, t.n_bytes));
  }
  const TensorInfo* ffn_down = mf.find("blk.0.ffn_down.weight");
  ASSERT_NE(ffn_down, nullptr);
  EXPECT_EQ(ffn_down->ne, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(ffn_down->n_bytes, 64u * 32 * 4);
  EXPECT_EQ(ffn_down->shape_string(), "[64, 32]");
}

TEST(GgufImport, SharedTestModels) {
  struct Want {
    const char* file;
    const char* embd_type;
    const char* output_type;
  };
  for (const Want& w : {Want{"synth-llama-F16.gguf", "F16", "F16"}, Want{"synth-llama-Q8_0.gguf", "Q8_0", "Q8_0"},
                        Want{"synth-llama-Q4_0.gguf", "Q4_0", "Q6_K"}, Want{"synth-llama-Q4_K_M.gguf", "Q4_K", "Q6_K"}}) {
    const std::string path = test::testdata(std::string("models/") + w.file);
    PLM_REQUIRE_TESTDATA(path);
    const ModelFile mf = open_model_file(path);
    EXPECT_EQ(mf.format, "GGUF v3");
    EXPECT_EQ(mf.meta.get_string("general.architecture"), "llama");
    EXPECT_EQ(mf.meta.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
    const TensorInfo* out = mf.find("output.weight");
    ASSERT_NE(out, nullptr) << w.file;
    EXPECT_STREQ(traits(out->type).name, w.output_type) << w.file;
    EXPECT_EQ(out->ne, (std::vector<int64_t>{256, 32000}));
    EXPECT_STREQ(traits(mf.find("blk.0.attn_q.weight")->type).name, w.embd_type) << w.file;
  }
}

}  // namespace
}  // namespace plm
