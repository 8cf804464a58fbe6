// `pocketlm compile --quant`: requantising the F16 testdata model gives the mixture
// llama.cpp's quantiser wrote into the Q8_0, Q4_0 and Q4_K_M files made from the same
// F16 weights: the same type per tensor, the same bytes where the format's reference
// quantiser is deterministic (Q8_0, Q4_0), and no more rounding error than llama.cpp's
// search-based K-quants; a bundle compiled with --quant meets llama.cpp's logits.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "error.h"
#include "import/model_file.h"
#include "models/model_graph.h"
#include "quant/requantize.h"
#include "reference/reference_executor.h"
#include "session.h"
#include "test_support.h"

namespace plm {
namespace {

double rms_error(const TensorInfo& q, const TensorInfo& src) {
  std::vector<float> a(size_t(q.row_len())), b(size_t(q.row_len()));
  double e = 0;
  for (int64_t r = 0; r < q.n_rows(); ++r) {
    dequantize_row(q.type, q.data + size_t(r) * row_bytes(q.type, q.row_len()), a.data(), q.row_len());
    dequantize_row(src.type, src.data + size_t(r) * row_bytes(src.type, src.row_len()), b.data(), src.row_len());
    for (size_t i = 0; i < a.size(); ++i) e += double(a[i] - b[i]) * double(a[i] - b[i]);
  }
  return std::sqrt(e / double(q.n_elements));
}

double cosine(const float* a, const float* b, size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

struct MixCase {
  QuantMix mix;
  const char* llama_cpp_file;
};

class RequantizeMix : public ::testing::TestWithParam<MixCase> {};

TEST_P(RequantizeMix, MatchesLlamaCppQuantiser) {
  const std::string f16 = test::testdata("models/synth-llama-F16.gguf"), ref = test::testdata(std::string("models/") + GetParam().llama_cpp_file);
  PLM_REQUIRE_TESTDATA(f16);
  PLM_REQUIRE_TESTDATA(ref);
  const ModelFile source = open_model_file(f16), theirs = open_model_file(ref);
  ModelFile ours = open_model_file(f16);
  requantize(ours, GetParam().mix);
  ASSERT_EQ(ours.tensors.size(), theirs.tensors.size());
  for (const TensorInfo& t : theirs.tensors) {
    const TensorInfo* o = ours.find(t.name);
    ASSERT_NE(o, nullptr) << t.name;
    EXPECT_EQ(traits(o->type).name, std::string(traits(t.type).name)) << t.name;
    if (o->type != t.type) continue;
    if (t.type == GgmlType::Q4_K || t.type == GgmlType::Q6_K) {
      // GGML searches K-quant scales with importance weights; we minimise the plain
      // squared error (measured: Q4_K 0.995-1.003x, Q6_K 0.97x llama.cpp's RMS error).
      const double ours_e = rms_error(*o, *source.find(t.name)), theirs_e = rms_error(t, *source.find(t.name));
      EXPECT_LE(ours_e, 1.01 * theirs_e) << t.name << " " << traits(t.type).name;
    } else {
      ASSERT_EQ(o->n_bytes, t.n_bytes) << t.name;
      EXPECT_EQ(0, std::memcmp(o->data, t.data, t.n_bytes)) << t.name << " " << traits(t.type).name << " differs from llama.cpp's";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SynthLlama, RequantizeMix,
                         ::testing::Values(MixCase{QuantMix::Q8_0, "synth-llama-Q8_0.gguf"}, MixCase{QuantMix::Q4_0, "synth-llama-Q4_0.gguf"},
                                           MixCase{QuantMix::Q4_K_M, "synth-llama-Q4_K_M.gguf"}),
                         [](const auto& i) { return std::string(quant_mix_name(i.param.mix)); });

TEST(Requantize, KeepsMatchingTypesAndRefusesQuantisedSources) {
  const std::string q4 = test::testdata("models/synth-llama-Q4_0.gguf");
  PLM_REQUIRE_TESTDATA(q4);
  ModelFile mf = open_model_file(q4);
  const RequantStats same = requantize(mf, QuantMix::Q4_0);
  EXPECT_EQ(same.requantised, 0);
  EXPECT_EQ(same.kept, 30);  // 4 layers x 7 matrices, token_embd, output
  EXPECT_EQ(same.bytes_before, same.bytes_after);
  try {
    requantize(mf, QuantMix::Q8_0);
    ADD_FAILURE() << "requantised Q4_0 weights to Q8_0";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("synth-llama-Q4_0.gguf"), std::string::npos) << m;
    EXPECT_NE(m.find("tensor '"), std::string::npos) << m;
    EXPECT_NE(m.find("--quant keep"), std::string::npos) << m;
  }
}

TEST(Requantize, AidreamsRowsFallBackWhereBlocksDoNotFit) {
  // dim 64 and ffn 172: K-quant rows of 64 fall back to Q5_0, rows of 172 (not whole
  // 32-blocks) to F16, as llama.cpp's quantiser does.
  const std::string f32 = test::testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(f32);
  ModelFile mf = open_model_file(f32);
  requantize(mf, QuantMix::Q4_K_M);
  EXPECT_EQ(mf.find("blk.0.attn_q.weight")->type, GgmlType::Q5_0);
  EXPECT_EQ(mf.find("blk.0.ffn_down.weight")->type, GgmlType::F16);
  EXPECT_EQ(mf.find("token_embd.weight")->type, GgmlType::Q5_0);
  EXPECT_EQ(mf.find("output.weight")->type, GgmlType::Q8_0);  // Q6_K's fallback
  EXPECT_EQ(mf.find("blk.0.attn_norm.weight")->type, GgmlType::F32);
  // The bundle's kernels for these fallback types agree with the reference executor
  // running the same requantised weights.
  const std::string out = test::temp_dir() + "/aidreams-q4_k_m.plm";
  const auto r = test::run_command({test::pocketlm_binary(), "compile", f32, "--soc", "host", "--quant", "q4_k", "-o", out, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 425, 270, 302};
  const std::vector<float> exact = ReferenceExecutor(build_graph(mf)).eval(prompt);
  Session s(Model::open(out), 0, 64, 2);
  const std::vector<float> got = s.decode(prompt);
  ASSERT_EQ(got.size(), exact.size());
  const size_t V = size_t(s.n_vocab());
  for (size_t p = 0; p < prompt.size(); ++p) EXPECT_GE(cosine(got.data() + p * V, exact.data() + p * V, V), 0.999) << "position " << p;
}

// The CLI path: `compile F16 --quant q4_0` gives a bundle whose logits meet llama.cpp's
// on the Q4_0 file it quantised from the same F16 weights.
TEST(Requantize, CompiledBundleMeetsLlamaCppLogits) {
  const std::string f16 = test::testdata("models/synth-llama-F16.gguf");
  const std::string ref = test::testdata("reference/synth-llama-Q4_0.logits.f32");
  PLM_REQUIRE_TESTDATA(f16);
  PLM_REQUIRE_TESTDATA(ref);
  const std::string out = test::temp_dir() + "/requant-q4_0.plm";
  const auto r = test::run_command({test::pocketlm_binary(), "compile", f16, "--soc", "host", "--quant", "q4_0", "-o", out, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--quant q4_0: 30 matrices requantised, 0 kept"), std::string::npos) << r.err;
  const auto prompt = test::read_id_lines(test::testdata("reference/synth-llama-Q4_0.greedy.txt")).at(0);
  const auto want = test::read_f32(ref);
  Session s(Model::open(out), 0, 64, 2);
  const std::vector<float> got = s.decode(prompt);
  ASSERT_EQ(got.size(), want.size());
  const size_t V = size_t(s.n_vocab());
  int top1 = 0;
  for (size_t p = 0; p < prompt.size(); ++p) {
    const float* a = got.data() + p * V;
    const float* b = want.data() + p * V;
    EXPECT_GE(cosine(a, b, V), 0.995) << "position " << p;
    top1 += std::max_element(a, a + V) - a == std::max_element(b, b + V) - b;
  }
  EXPECT_GE(top1, int(std::ceil(0.9 * double(prompt.size()))));
}

TEST(Requantize, CliRefusesUnknownQuantisation) {
  const std::string f16 = test::testdata("models/synth-llama-F16.gguf");
  PLM_REQUIRE_TESTDATA(f16);
  const auto r = test::run_command({test::pocketlm_binary(), "compile", f16, "--soc", "host", "--quant", "q3_k_s", "-o", test::temp_dir() + "/x.plm"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown quantisation 'q3_k_s'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(test::temp_dir() + "/x.plm"));
}

}  // namespace
}  // namespace plm
