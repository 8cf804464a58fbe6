// The hostile-file corpus: GGUF and llama2.c files truncated at every section
// boundary, with bad magic/version, huge counts, lengths past the end, misaligned or
// out-of-range tensor data, overflowing shapes and unknown types. Each must give an
// Error naming the file (in-process) and a clear message with exit code 1 from the CLI.
// Built twice: optimised, and under ASan + UBSan (the asan.* tests).
#include "gguf_builder.h"
#include "import/model_file.h"
#include "models/model_graph.h"
#include "error.h"
#include "test_support.h"

namespace plm {
namespace {

using test::GgufBuilder;

struct BadFile {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string expect;  // a substring of the error message
  std::vector<uint8_t> tokenizer = {};  // llama2.c only: tokenizer.bin bytes
};

template <typename T>
void patch(std::vector<uint8_t>& f, size_t at, T v) {
  std::memcpy(f.data() + at, &v, sizeof(T));
}

std::vector<uint8_t> head(const std::vector<uint8_t>& f, size_t n) { return {f.begin(), f.begin() + long(n)}; }

// Offset of tensor k's type field: name (u64 len + bytes), n_dims, dims.
size_t type_field(const GgufBuilder::Sections& s, size_t k, const std::string& name, size_t n_dims) {
  return s.info_starts[k] + 8 + name.size() + 4 + 8 * n_dims;
}

std::vector<BadFile> gguf_corpus() {
  std::vector<BadFile> c;
  GgufBuilder::Sections s;
  const std::vector<uint8_t> good = test::tiny_llama_gguf().build(&s);

  // Truncation at every section boundary, and inside each section.
  std::vector<std::pair<std::string, size_t>> cuts = {
      {"empty", 0}, {"mid_magic", 3}, {"after_magic", 4}, {"after_version", 8}, {"mid_counts", 16},
      {"after_header", s.header_end}, {"kv_end", s.kv_end}, {"infos_end", s.infos_end}, {"data_start", s.data_start},
      {"mid_data", s.data_start + 100}, {"last_byte", s.file_size - 1}};
  for (size_t k = 0; k < s.kv_starts.size(); ++k) {
    cuts.push_back({"kv" + std::to_string(k) + "_start", s.kv_starts[k]});
    cuts.push_back({"kv" + std::to_string(k) + "_mid", s.kv_starts[k] + 11});
  }
  for (size_t k = 0; k < s.info_starts.size(); ++k) {
    cuts.push_back({"info" + std::to_string(k) + "_start", s.info_starts[k]});
    cuts.push_back({"info" + std::to_string(k) + "_mid", s.info_starts[k] + 13});
  }
  for (const auto& [name, at] : cuts) {
    std::string expect = at < 4 ? "too short to be a GGUF file" : (at > s.infos_end ? "runs past the end" : "truncated");
    c.push_back({"gguf_truncated_" + name, head(good, at), expect});
  }

  auto with = [&](const std::string& name, const std::string& expect, auto mutate) {
    std::vector<uint8_t> f = good;
    mutate(f);
    c.push_back({"gguf_" + name, f, expect});
  };
  with("bad_magic", "not a GGUF file (no 'GGUF' magic) nor a llama2.c checkpoint", [](auto& f) { f[3] = 'X'; });
  with("version1", "version 1 is obsolete", [](auto& f) { patch<uint32_t>(f, 4, 1); });
  with("version4", "unsupported GGUF version 4", [](auto& f) { patch<uint32_t>(f, 4, 4); });
  with("version_byteswapped", "byte-swapped", [](auto& f) { patch<uint32_t>(f, 4, 0x03000000u); });
  with("huge_tensor_count", "tensor count", [](auto& f) { patch<uint64_t>(f, 8, 1ull << 62); });
  with("huge_kv_count", "metadata count", [](auto& f) { patch<uint64_t>(f, 16, ~0ull); });
  with("key_length_past_end", "truncated", [&](auto& f) { patch<uint64_t>(f, s.kv_starts[0], 1ull << 20); });
  with("key_length_huge", "claims", [&](auto& f) { patch<uint64_t>(f, s.kv_starts[0], 1ull << 62); });
  // The first key is general.architecture (string): its value length follows key + type.
  const size_t arch_value = s.kv_starts[0] + 8 + std::string("general.architecture").size() + 4;
  with("string_value_past_end", "truncated", [&](auto& f) { patch<uint64_t>(f, arch_value, uint64_t(f.size())); });
  with("bad_value_type", "unknown value type 13", [&](auto& f) { patch<uint32_t>(f, arch_value - 4, 13); });
  const std::string first = "token_embd.weight";
  with("unknown_tensor_type", "has type type 99", [&](auto& f) { patch<uint32_t>(f, type_field(s, 0, first, 2), 99); });
  with("unsupported_tensor_type", "has type IQ2_XXS, which pocketlm does not support",
       [&](auto& f) { patch<uint32_t>(f, type_field(s, 0, first, 2), 16); });
  with("misaligned_offset", "is not aligned", [&](auto& f) { patch<uint64_t>(f, type_field(s, 1, "blk.0.attn_norm.weight", 1) + 4, 4); });
  with("offset_past_end", "runs past the end", [&](auto& f) {
    patch<uint64_t>(f, type_field(s, 1, "blk.0.attn_norm.weight", 1) + 4, 1ull << 40);
  });
  with("offset_wraps", "runs past the end", [&](auto& f) {
    patch<uint64_t>(f, type_field(s, 1, "blk.0.attn_norm.weight", 1) + 4, ~0ull - 31);
  });
  with("zero_dims", "has 0 dimensions", [&](auto& f) { patch<uint32_t>(f, s.info_starts[0] + 8 + first.size(), 0); });
  with("five_dims", "has 5 dimensions", [&](auto& f) { patch<uint32_t>(f, s.info_starts[0] + 8 + first.size(), 5); });
  with("zero_dimension", "dimension 1 is 0", [&](auto& f) { patch<uint64_t>(f, s.info_starts[0] + 12 + first.size() + 8, 0); });
  with("dims_overflow", "element count overflows", [&](auto& f) {
    patch<uint64_t>(f, s.info_starts[0] + 12 + first.size(), 1ull << 40);
    patch<uint64_t>(f, s.info_starts[0] + 12 + first.size() + 8, 1ull << 40);
  });
  with("bytes_overflow", "past the end", [&](auto& f) {  // 2^61 elements * 4 bytes overflows u64 math? no: 2^63 bytes
    patch<uint64_t>(f, s.info_starts[0] + 12 + first.size(), 1ull << 31);
    patch<uint64_t>(f, s.info_starts[0] + 12 + first.size() + 8, 1ull << 30);
  });

  // Built with hostile metadata or tensor infos.
  auto built = [&](const std::string& name, const std::string& expect, auto fill) {
    GgufBuilder g;
    fill(g);
    c.push_back({"gguf_" + name, g.build(), expect});
  };
  built("array_count_past_end", "runs past the end", [](GgufBuilder& g) { g.kv("a", 9, GgufBuilder::array(4, 1ull << 40, {})); });
  built("array_count_huge", "runs past the end", [](GgufBuilder& g) { g.kv("a", 9, GgufBuilder::array(8, 1ull << 62, {})); });
  built("array_bad_elem_type", "unknown array element type", [](GgufBuilder& g) { g.kv("a", 9, GgufBuilder::array(77, 1, {})); });
  built("array_nesting", "nested deeper", [](GgufBuilder& g) {
    std::vector<uint8_t> v = GgufBuilder::array(4, 0, {});
    for (int d = 0; d < 5; ++d) v = GgufBuilder::array(9, 1, v);
    g.kv("deep", 9, v);
  });
  built("bool_value_2", "neither 0 nor 1", [](GgufBuilder& g) { g.kv("b", 7, {2}); });
  built("alignment_zero", "not a power of two", [](GgufBuilder& g) { g.alignment = 0; g.kv_u32("x", 1); });
  built("duplicate_key", "appears twice", [](GgufBuilder& g) { g.kv_u32("x", 1); g.kv_u32("x", 2); });
  built("duplicate_tensor", "appears twice", [](GgufBuilder& g) {
    g.tensor({"t", {32}, 0, std::vector<uint8_t>(128)});
    g.tensor({"t", {32}, 0, std::vector<uint8_t>(128)});
  });
  built("row_not_block_multiple", "not a multiple of the Q4_0 block size 32", [](GgufBuilder& g) {
    g.tensor({"q", {30, 2}, 2, std::vector<uint8_t>(64)});
  });
  built("tensor_data_short", "runs past the end", [](GgufBuilder& g) { g.tensor({"t", {64}, 0, std::vector<uint8_t>(100)}); });
  built("long_tensor_name", "longer than 64 bytes", [](GgufBuilder& g) { g.tensor({std::string(65, 'n'), {1}, 0, {0, 0, 0, 0}}); });
  built("no_architecture", "general.architecture", [](GgufBuilder& g) { g.kv_u32("x", 1); });
  return c;
}

std::vector<BadFile> llama2c_corpus() {
  std::vector<BadFile> c;
  const std::vector<uint8_t> good = test::tiny_llama2c();
  const std::vector<uint8_t> tok = test::tiny_llama2c_tokenizer();
  for (size_t at : {size_t(0), size_t(5), size_t(27), size_t(28), size_t(28 + 32 * 64 * 4), good.size() / 2, good.size() - 1})
    c.push_back({"llama2c_truncated_" + std::to_string(at), head(good, at), at < 28 ? "too short" : "takes"});
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  c.push_back({"llama2c_trailing_byte", longer, "takes"});
  auto header = [&](const std::string& name, int field, int32_t v, const std::string& expect) {
    std::vector<uint8_t> f = good;
    patch<int32_t>(f, size_t(field) * 4, v);
    c.push_back({"llama2c_" + name, f, expect});
  };
  header("negative_dim", 0, -32, "header dim = -32");
  header("huge_dim", 0, 1 << 30, "header dim");
  header("zero_heads", 3, 0, "header n_heads = 0");
  header("kv_heads_above_heads", 4, 3, "header n_kv_heads = 3");
  header("huge_vocab", 5, INT32_MAX, "header vocab_size");
  header("min_vocab", 5, INT32_MIN, "header vocab_size");
  header("huge_seq_len", 6, INT32_MAX, "header seq_len");
  header("huge_layers", 2, 1 << 20, "header n_layers");
  c.push_back({"llama2c_ak42_magic", [&] { auto f = good; std::memcpy(f.data(), "ak42", 4); return f; }(), "ak42"});
  // Tokenizer files: truncated, negative or oversized lengths, bad header.
  auto bad_tok = [&](const std::string& name, std::vector<uint8_t> t, const std::string& expect) {
    c.push_back({"llama2c_tok_" + name, good, expect, std::move(t)});
  };
  bad_tok("empty", {}, "truncated");
  bad_tok("truncated", head(tok, tok.size() - 3), "truncated");
  bad_tok("zero_max_len", [&] { auto t = tok; patch<int32_t>(t, 0, 0); return t; }(), "max_token_length 0");
  bad_tok("negative_len", [&] { auto t = tok; patch<int32_t>(t, 8, -5); return t; }(), "has length -5");
  bad_tok("len_past_end", [&] { auto t = tok; patch<int32_t>(t, 8, 8); t.resize(14); return t; }(), "truncated");
  return c;
}

class MalformedFile : public ::testing::TestWithParam<BadFile> {};

void PrintTo(const BadFile& b, std::ostream* os) { *os << b.name; }

TEST_P(MalformedFile, ClearErrorNotACrash) {
  const BadFile& b = GetParam();
  const std::string path = test::write_temp(b.name + ".bin", b.bytes);
  std::string tok_path;
  if (!b.tokenizer.empty() || b.name.rfind("llama2c_tok_", 0) == 0) tok_path = test::write_temp(b.name + ".tokenizer", b.tokenizer);
  try {
    const ModelFile mf = open_model_file(path, tok_path);
    const Graph g = build_graph(mf);
    FAIL() << b.name << " was accepted (" << g.ops.size() << " ops)";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(b.expect), std::string::npos) << b.name << ": message lacks '" << b.expect << "': " << msg;
    const std::string& named = tok_path.empty() ? path : tok_path;
    EXPECT_TRUE(msg.find(named) != std::string::npos || msg.find(path) != std::string::npos) << "message does not name the file: " << msg;
  }
  // The CLI reports it and exits 1 (not a signal, not 0).
  std::vector<std::string> argv = {test::pocketlm_binary(), "inspect", path};
  if (!tok_path.empty()) argv.insert(argv.end(), {"--tokenizer", tok_path});
  const test::RunResult r = test::run_command(argv);
  EXPECT_EQ(r.exit_code, 1) << b.name << " stderr: " << r.err;
  EXPECT_EQ(r.err.rfind("pocketlm: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(b.expect), std::string::npos) << r.err;
}

std::string case_name(const ::testing::TestParamInfo<BadFile>& i) { return i.param.name; }

INSTANTIATE_TEST_SUITE_P(Gguf, MalformedFile, ::testing::ValuesIn(gguf_corpus()), case_name);
INSTANTIATE_TEST_SUITE_P(Llama2c, MalformedFile, ::testing::ValuesIn(llama2c_corpus()), case_name);

// The valid base files of the corpus do load: the failures above come from the damage.
TEST(MalformedFileBase, UndamagedFilesLoad) {
  const ModelFile g = open_model_file(test::write_temp("good.gguf", test::tiny_llama_gguf().build()));
  EXPECT_EQ(build_graph(g).hp.n_layer, 1);
  const std::string tok = test::write_temp("good.tokenizer", test::tiny_llama2c_tokenizer());
  const ModelFile l = open_model_file(test::write_temp("good.bin", test::tiny_llama2c()), tok);
  EXPECT_EQ(build_graph(l).hp.n_vocab, 64);
}

}  // namespace
}  // namespace plm
