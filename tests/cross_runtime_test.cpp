// Bundles compiled on this x86 machine for other SoC classes and executed by the
// runtime built for them: arm64 (i8mm, dotprod and baseline NEON) under qemu-aarch64
// with a CPU model that has those features (qemu's `max` for i8mm; cortex-a76 has
// dotprod but no i8mm), and x86 AVX2 natively. Logits against
// llama.cpp's reference dumps with the foundation's tolerances.
#include <cmath>

#include "kernel_test_support.h"
#include "test_support.h"

namespace plm {
namespace {

struct Target {
  const char* soc;
  const char* qemu_cpu;  // nullptr: native, through `pocketlm logits`
};
struct Case {
  Target target;
  const char* model;
  const char* reference;
  double min_cosine, min_top1;
  const char* kv_cache = "f16";  // or q8_0: the compile --kv-cache option
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.target.soc << " " << c.model << " kv " << c.kv_cache; }

class CrossRuntime : public ::testing::TestWithParam<Case> {};

TEST_P(CrossRuntime, LogitsMatchLlamaCpp) {
  const Case& c = GetParam();
  const std::string model = test::testdata(std::string("models/") + c.model);
  const std::string ref = test::testdata(std::string("reference/") + c.reference + ".logits.f32");
  const std::string greedy = test::testdata(std::string("reference/") + c.reference + ".greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  PLM_REQUIRE_TESTDATA(ref);
  const std::string bundle = test::cached_bundle(model, c.target.soc, c.kv_cache);
  const auto prompt = test::read_id_lines(greedy).at(0);
  std::string ids;
  for (int32_t id : prompt) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const std::string out = test::temp_dir() + "/cross-" + c.target.soc + "-" + c.model + "-" + c.kv_cache + ".f32";
  std::vector<std::string> argv;
  if (c.target.qemu_cpu)
    argv = {PLM_QEMU_AARCH64, "-cpu", c.target.qemu_cpu, "-L", "/usr/aarch64-linux-gnu", std::string(PLM_RUNNER_DIR) + "/plm_runtime_logits_arm64",
            bundle, ids, out};
  else
    argv = {test::pocketlm_binary(), "logits", bundle, "--tokens", ids, "-o", out, "--force", "-t", "2"};
  const test::RunResult r = test::run_command(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = test::read_f32(out), want = test::read_f32(ref);
  ASSERT_EQ(got.size(), want.size());
  const size_t V = want.size() / prompt.size();
  int top1 = 0;
  for (size_t p = 0; p < prompt.size(); ++p) {
    double ab = 0, aa = 0, bb = 0;
    size_t ga = 0, wa = 0;
    for (size_t i = 0; i < V; ++i) {
      const double a = got[p * V + i], b = want[p * V + i];
      ab += a * b, aa += a * a, bb += b * b;
      if (got[p * V + i] > got[p * V + ga]) ga = i;
      if (want[p * V + i] > want[p * V + wa]) wa = i;
    }
    EXPECT_GE(ab / std::sqrt(aa * bb), c.min_cosine) << "position " << p;
    top1 += ga == wa;
  }
  EXPECT_GE(top1, int(std::ceil(c.min_top1 * double(prompt.size())))) << "top-1 " << top1 << "/" << prompt.size();
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (Target t : {Target{"linux-arm64-i8mm", "max"}, Target{"linux-arm64-dotprod", "cortex-a76"}, Target{"linux-arm64-neon", "cortex-a53"},
                   Target{"x86-64-avx2", nullptr}}) {
    v.push_back({t, "aidreams260K-F32.gguf", "aidreams260K-F32", 0.9999, 0.9});
    v.push_back({t, "synth-llama-F16.gguf", "synth-llama-F16", 0.999, 0.9});
    v.push_back({t, "synth-llama-Q8_0.gguf", "synth-llama-Q8_0", 0.999, 0.9});
    v.push_back({t, "synth-llama-Q4_0.gguf", "synth-llama-Q4_0", 0.995, 0.9});
    v.push_back({t, "synth-llama-Q4_K_M.gguf", "synth-llama-Q4_K_M", 0.995, 0.9});
    v.push_back({t, "synth-llama-Q8_0.gguf", "synth-llama-Q8_0", 0.999, 0.9, "q8_0"});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Socs, CrossRuntime, ::testing::ValuesIn(cases()), [](const auto& i) {
  std::string n = std::string(i.param.target.soc) + "_" + i.param.model + (std::string(i.param.kv_cache) == "f16" ? "" : "_kv_q8_0");
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
});

}  // namespace
}  // namespace plm
