// Every matmul-family kernel x every schedule class against two oracles: an exact
// scalar emulation of its integer algorithm (checks the weight layout and the
// arithmetic), and the reference executor's f32 MatMul (checks the maths end to end,
// within what 8-bit activations allow). x86 classes run natively; arm64 classes run
// under qemu-aarch64 with a CPU model that has exactly their features.
#include <cmath>
#include <random>

#include "cpu_features.h"
#include "fp16.h"
#include "import/model_file.h"
#include "ir/graph.h"
#include "layout/matmul_layout.h"
#include "reference/reference_executor.h"
#include "kernel_test_support.h"
#include "test_support.h"

namespace plm {
namespace {

using test::ClassInfo;
using test::append;
using test::cannot_run;
using test::id_of;
using test::kClasses;
using test::run_kernel;

// Random GGUF rows: scales are fp16 values around 0.01, quants uniform.
std::vector<uint8_t> random_rows(GgmlType type, int64_t k, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> rows(row_bytes(type, k) * size_t(n));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  const size_t bs = traits(type).block_bytes;
  for (size_t off = 0; off < rows.size(); off += bs) {
    const uint16_t d = f32_to_fp16(scale(rng) * (byte(rng) & 1 ? 1.0f : -1.0f));
    std::memcpy(&rows[off], &d, 2);
    for (size_t j = 2; j < bs; ++j) rows[off + j] = uint8_t(byte(rng));
  }
  return rows;
}

// The quantisation the kernels implement, in scalar C++ (round half to even).
struct QuantizedActs {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> s;
};
QuantizedActs quantize_emulated(const std::vector<float>& x, int64_t k, int64_t T) {
  QuantizedActs a;
  const int64_t nb = k / 32;
  a.q.resize(size_t(k * T));
  a.d.resize(size_t(nb * T));
  a.s.resize(size_t(nb * T));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < nb; ++b) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[size_t(t * k + b * 32 + j)]));
      const float d = amax * (1.0f / 127.0f), inv = amax > 0 ? 1.0f / d : 0.0f;
      int32_t sum = 0;
      for (int j = 0; j < 32; ++j) {
        const float v = std::nearbyint(x[size_t(t * k + b * 32 + j)] * inv);
        const int8_t q = int8_t(std::max(-127.0f, std::min(127.0f, v)));
        a.q[size_t(t * k + b * 32 + j)] = q;
        sum += q;
      }
      a.d[size_t(t * nb + b)] = d;
      a.s[size_t(t * nb + b)] = sum;
    }
  return a;
}

struct MatmulCase {
  ClassInfo cls;
  int k, n;
  GgmlType type;
};

void PrintTo(const MatmulCase& c, std::ostream* os) { *os << c.cls.name << " " << traits(c.type).name << " k" << c.k << " n" << c.n; }

class MatmulKernel : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(MatmulKernel, MatchesExactEmulationAndReferenceExecutor) {
  const MatmulCase& c = GetParam();
  if (const std::string why = cannot_run(c.cls); !why.empty()) GTEST_SKIP() << why;
  const ScheduleClass cls = *schedule_class_from_name(c.cls.name);
  const std::string wt = c.type == GgmlType::Q8_0 ? "q8_0" : "q4_0";
  const std::string qz = "quantize_q8_" + id_of(c.cls.name) + "_k" + std::to_string(c.k);
  std::mt19937 rng(uint32_t(c.k * 131 + c.n * 7 + int(c.type)));
  const std::vector<uint8_t> rows = random_rows(c.type, c.k, c.n, rng);
  const PackedMatmulWeights packed = pack_matmul_weights(c.type, rows.data(), c.k, c.n, cls);
  const int64_t nb = c.k / 32;

  for (int32_t T : {1, 7, 64, 333}) {
    SCOPED_TRACE("tokens " + std::to_string(T));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(size_t(c.k) * T);
    for (auto& v : x) v = normal(rng);

    // 1. Activation quantisation: bit-exact against the emulation.
    std::vector<uint8_t> qin;
    append(qin, x.data(), x.size());
    const std::vector<uint8_t> qout = run_kernel(c.cls, qz, T, qin);
    const QuantizedActs want = quantize_emulated(x, c.k, T);
    ASSERT_EQ(qout.size(), want.q.size() + want.d.size() * 8);
    EXPECT_EQ(0, std::memcmp(qout.data(), want.q.data(), want.q.size())) << "quantized values differ";
    EXPECT_EQ(0, std::memcmp(qout.data() + want.q.size(), want.d.data(), want.d.size() * 4)) << "block scales differ";
    EXPECT_EQ(0, std::memcmp(qout.data() + want.q.size() + want.d.size() * 4, want.s.data(), want.s.size() * 4)) << "block sums differ";

    // 2. The matmul on those activations, as the runtime calls it: the prefill form
    // for whole blocks of 4 tokens, the decode form for the rest.
    const std::string mm = "matmul_" + wt + "_%s_" + id_of(c.cls.name) + "_k" + std::to_string(c.k) + "_n" + std::to_string(c.n);
    auto kernel_name = [&](const char* form) {
      std::string s = mm;
      s.replace(s.find("%s"), 2, form);
      return s;
    };
    std::vector<float> got(size_t(c.n) * T);
    const int32_t T4 = T / kPrefillTokenBlock * kPrefillTokenBlock;
    for (auto [form, t0, tn] : {std::tuple{"prefill", 0, T4}, std::tuple{"decode", T4, T - T4}}) {
      if (tn == 0) continue;
      std::vector<uint8_t> in;
      append(in, packed.quants.data(), packed.quants.size());
      append(in, packed.scales.data(), packed.scales.size());
      append(in, want.q.data() + size_t(t0) * c.k, size_t(tn) * c.k);
      append(in, want.d.data() + size_t(t0) * nb, size_t(tn) * nb);
      append(in, want.s.data() + size_t(t0) * nb, size_t(tn) * nb);
      const std::vector<uint8_t> ob = run_kernel(c.cls, kernel_name(form), tn, in);
      ASSERT_EQ(ob.size(), size_t(c.n) * tn * 4) << form;
      std::memcpy(got.data() + size_t(t0) * c.n, ob.data(), ob.size());
    }

    // Oracle A: exact integer dots from the original GGUF blocks, f64 scaling.
    std::vector<float> wrow(size_t(c.k));
    for (int64_t n = 0; n < c.n; ++n) {
      const uint8_t* row = rows.data() + size_t(n) * row_bytes(c.type, c.k);
      for (int64_t t = 0; t < T; ++t) {
        double sum = 0, mag = 0;
        for (int64_t b = 0; b < nb; ++b) {
          dequantize_row(c.type, row + b * traits(c.type).block_bytes, wrow.data(), 32);
          // dequantize gives d * q exactly (both representable), so d * q * xq is exact in double.
          double dot = 0;
          for (int j = 0; j < 32; ++j) dot += double(wrow[size_t(j)]) * want.q[size_t(t * c.k + b * 32 + j)];
          sum += dot * want.d[size_t(t * nb + b)];
          mag += std::fabs(dot * want.d[size_t(t * nb + b)]);
        }
        ASSERT_NEAR(got[size_t(t * c.n + n)], sum, 1e-5 * mag + 1e-6) << "row " << n << " token " << t;
      }
    }

    // Oracle B: the reference executor's MatMul on the f32 activations.
    TensorInfo wt_info;
    wt_info.name = "w";
    wt_info.type = c.type;
    wt_info.ne = {c.k, c.n};
    wt_info.n_elements = int64_t(c.k) * c.n;
    wt_info.n_bytes = rows.size();
    wt_info.data = rows.data();
    TensorInfo x_info;
    x_info.name = "x";
    x_info.ne = {c.k, T};
    x_info.n_elements = int64_t(c.k) * T;
    x_info.n_bytes = x.size() * 4;
    x_info.data = reinterpret_cast<const uint8_t*>(x.data());
    Graph g;
    g.hp.n_vocab = T;
    g.hp.n_ctx_train = T;
    Value ids;
    ids.kind = ValueKind::TokenIds;
    g.token_ids = g.add_value(ids);
    const int xv = g.add_op(OpKind::Embedding, {g.token_ids, g.add_weight(x_info, {T, c.k})}, {kTokens, c.k}, "x");
    g.logits = g.add_op(OpKind::MatMul, {xv, g.add_weight(wt_info, {c.n, c.k})}, {kTokens, c.n}, "y");
    ReferenceExecutor ref(g);
    std::vector<int32_t> tokens(static_cast<size_t>(T));
    for (int32_t t = 0; t < T; ++t) tokens[size_t(t)] = t;
    const std::vector<float> y = ref.eval(tokens);
    for (int32_t t = 0; t < T; ++t) {
      double ab = 0, aa = 0, bb = 0;
      for (int64_t n = 0; n < c.n; ++n) {
        const double a = got[size_t(t * c.n + n)], b = y[size_t(t * c.n + n)];
        ab += a * b;
        aa += a * a;
        bb += b * b;
      }
      EXPECT_GE(ab / std::sqrt(aa * bb), 0.9995) << "token " << t << ": 8-bit activations should cost less than this";
    }
  }
}

std::vector<MatmulCase> matmul_cases() {
  std::vector<MatmulCase> v;
  for (const auto& c : kClasses)
    for (auto kn : {std::pair{256, 96}, std::pair{64, 40}, std::pair{128, 16}})
      for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0}) v.push_back({c, kn.first, kn.second, t});
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllClasses, MatmulKernel, ::testing::ValuesIn(matmul_cases()), [](const auto& i) {
  return id_of(i.param.cls.name) + "_" + (i.param.type == GgmlType::Q8_0 ? "q8_0" : "q4_0") + "_k" + std::to_string(i.param.k) +
         "_n" + std::to_string(i.param.n);
});

// The instruction check: the integer dot products use the instruction each class is for.
TEST(KernelInstructions, EachClassUsesItsDotProductInstruction) {
  struct Want {
    const char* cls;
    const char* arch;
    const char* objdump;
    std::vector<const char*> must;  // every listed mnemonic appears in every matmul
  };
  const Want wants[] = {
      {"x86-avx512-vnni", "x86_64", "objdump", {"vpdpbusd", "zmm"}},
      {"x86-avx2", "x86_64", "objdump", {"vpmaddwd", "ymm"}},
      {"arm64-neon", "arm64", "aarch64-linux-gnu-objdump", {"smull", "saddlp"}},  // widening multiply, pairwise add
      {"arm64-dotprod", "arm64", "aarch64-linux-gnu-objdump", {"sdot"}},
  };
  for (const Want& w : wants)
    for (const char* wt : {"q8_0", "q4_0"}) {
      for (const char* form : {"decode", "prefill"}) {
      const std::string lib = std::string(PLM_KERNEL_BUILD_DIR) + "/" + w.arch + "/matmul_" + wt + "_" + form + "_" + id_of(w.cls) + "_k256_n96.a";
      const test::RunResult r = test::run_command({"/usr/bin/" + std::string(w.objdump), "-d", lib});
      ASSERT_EQ(r.exit_code, 0) << lib << ": " << r.err;
      for (const char* m : w.must) EXPECT_NE(r.out.find(m), std::string::npos) << lib << " has no " << m;
      if (std::string(w.cls) == "arm64-neon") EXPECT_EQ(r.out.find("sdot"), std::string::npos) << "ARMv8.0 code must not use sdot";
      }
    }
}

}  // namespace
}  // namespace plm
