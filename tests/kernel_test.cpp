// Every matmul-family kernel x every schedule class against two oracles: an exact
// scalar emulation of its integer algorithm (checks the weight layout and the
// arithmetic), and the reference executor's f32 MatMul (checks the maths end to end,
// within what 8-bit activations allow). x86 classes run natively; arm64 classes run
// under qemu-aarch64 with a CPU model that has exactly their features.
#include <cmath>
#include <filesystem>
#include <random>
#include <regex>

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

// Random GGUF rows: random bytes, with every block's f16 scales set to sane values
// (around 0.01) so that no NaN or infinity appears.
std::vector<uint8_t> random_rows(GgmlType type, int64_t k, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> rows(row_bytes(type, k) * size_t(n));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  for (auto& b : rows) b = uint8_t(byte(rng));
  const size_t bs = traits(type).block_bytes;
  std::vector<size_t> f16_fields;  // offsets of the f16 fields within a block
  switch (type) {
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: f16_fields = {0, 2}; break;  // d, dmin
    case GgmlType::Q6_K: f16_fields = {208}; break;    // d at the end
    default: f16_fields = {0};
  }
  for (size_t off = 0; off < rows.size(); off += bs)
    for (size_t f : f16_fields) {
      const float v = type == GgmlType::Q6_K || f == 0 ? scale(rng) : scale(rng) * 0.1f;
      const uint16_t d = f32_to_fp16(type == GgmlType::Q8_0 || type == GgmlType::Q4_0 ? (byte(rng) & 1 ? v : -v) : v);
      std::memcpy(&rows[off + f], &d, 2);
    }
  return rows;
}

const char* type_id(GgmlType t) {
  switch (t) {
    case GgmlType::Q8_0: return "q8_0";
    case GgmlType::Q4_0: return "q4_0";
    case GgmlType::Q4_K: return "q4_k";
    case GgmlType::Q5_K: return "q5_k";
    case GgmlType::Q6_K: return "q6_k";
    default: return "?";
  }
}

// The quantisation the kernels implement, in scalar C++ (round half to even).
struct QuantizedActs {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> s;
};
// block: values sharing one max (32, or 256 as for K-quant weights).
QuantizedActs quantize_emulated(const std::vector<float>& x, int64_t k, int64_t T, int block = 32) {
  QuantizedActs a;
  const int64_t nb = k / 32;
  a.q.resize(size_t(k * T));
  a.d.resize(size_t(nb * T));
  a.s.resize(size_t(nb * T));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t g0 = b * 32 / block * block;
      float amax = 0;
      for (int j = 0; j < block; ++j) amax = std::max(amax, std::fabs(x[size_t(t * k + g0 + j)]));
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

// Runs the reference executor's MatMul (with optional bias) on f32 activations.
std::vector<float> reference_matmul(GgmlType type, const std::vector<uint8_t>& rows, int64_t k, int64_t n, const std::vector<float>& x,
                                    int64_t T, const std::vector<float>* bias) {
  TensorInfo w, xi, bi;
  w.name = "w";
  w.type = type;
  w.ne = {k, n};
  w.n_elements = k * n;
  w.n_bytes = rows.size();
  w.data = rows.data();
  xi.name = "x";
  xi.ne = {k, T};
  xi.n_elements = k * T;
  xi.n_bytes = x.size() * 4;
  xi.data = reinterpret_cast<const uint8_t*>(x.data());
  Graph g;
  g.hp.n_vocab = T;
  g.hp.n_ctx_train = T;
  Value ids;
  ids.kind = ValueKind::TokenIds;
  g.token_ids = g.add_value(ids);
  const int xv = g.add_op(OpKind::Embedding, {g.token_ids, g.add_weight(xi, {T, k})}, {kTokens, k}, "x");
  std::vector<int> in = {xv, g.add_weight(w, {n, k})};
  if (bias) {
    bi.name = "b";
    bi.ne = {n};
    bi.n_elements = n;
    bi.n_bytes = size_t(n) * 4;
    bi.data = reinterpret_cast<const uint8_t*>(bias->data());
    in.push_back(g.add_weight(bi, {n}));
  }
  g.logits = g.add_op(OpKind::MatMul, in, {kTokens, n}, "y");
  ReferenceExecutor ex(g);
  std::vector<int32_t> tokens(static_cast<size_t>(T));
  for (int32_t t = 0; t < T; ++t) tokens[size_t(t)] = t;
  return ex.eval(tokens);
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
  const std::string wt = type_id(c.type);
  // As the compiler lowers it: K-quant weights take activations scaled per 256 values.
  const bool kquant = c.type == GgmlType::Q4_K || c.type == GgmlType::Q5_K || c.type == GgmlType::Q6_K;
  const std::string qz = std::string(kquant ? "quantize_q8k_" : "quantize_q8_") + id_of(c.cls.name) + "_k" + std::to_string(c.k);
  std::mt19937 rng(uint32_t(c.k * 131 + c.n * 7 + int(c.type)));
  const std::vector<uint8_t> rows = random_rows(c.type, c.k, c.n, rng);
  const PackedMatmulWeights packed = pack_matmul_weights(c.type, rows.data(), c.k, c.n, cls);
  const int64_t nb = c.k / 32;

  for (int32_t T : {1, 7, 12, 64, 333}) {
    SCOPED_TRACE("tokens " + std::to_string(T));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(size_t(c.k) * T);
    for (auto& v : x) v = normal(rng);

    // 1. Activation quantisation: bit-exact against the emulation.
    std::vector<uint8_t> qin;
    append(qin, x.data(), x.size());
    const std::vector<uint8_t> qout = run_kernel(c.cls, qz, T, qin);
    const QuantizedActs want = quantize_emulated(x, c.k, T, kquant ? 256 : 32);
    ASSERT_EQ(qout.size(), want.q.size() + want.d.size() * 8);
    EXPECT_EQ(0, std::memcmp(qout.data(), want.q.data(), want.q.size())) << "quantized values differ";
    EXPECT_EQ(0, std::memcmp(qout.data() + want.q.size(), want.d.data(), want.d.size() * 4)) << "block scales differ";
    EXPECT_EQ(0, std::memcmp(qout.data() + want.q.size() + want.d.size() * 4, want.s.data(), want.s.size() * 4)) << "block sums differ";

    // 2. The matmul on those activations, as the runtime calls it: the prefill form
    // for whole blocks of the class's tokens, the decode form for the rest.
    const std::string mm = "matmul_" + wt + "_%s_" + id_of(c.cls.name) + "_k" + std::to_string(c.k) + "_n" + std::to_string(c.n);
    auto kernel_name = [&](const char* form) {
      std::string s = mm;
      s.replace(s.find("%s"), 2, form);
      return s;
    };
    std::vector<float> got(size_t(c.n) * T);
    const int32_t whole = T / prefill_token_block(cls) * prefill_token_block(cls);  // the prefill form's tokens
    for (auto [form, t0, tn] : {std::tuple{"prefill", 0, whole}, std::tuple{"decode", whole, T - whole}}) {
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

    // Oracle A: the dequantised weights (exact: scale * q - min in f32) against the
    // quantised activations, accumulated in f64.
    std::vector<float> wrow(size_t(c.k));
    for (int64_t n = 0; n < c.n; ++n) {
      dequantize_row(c.type, rows.data() + size_t(n) * row_bytes(c.type, c.k), wrow.data(), c.k);
      for (int64_t t = 0; t < T; ++t) {
        double sum = 0, mag = 0;
        for (int64_t b = 0; b < nb; ++b) {
          double dot = 0;
          for (int j = 0; j < 32; ++j) dot += double(wrow[size_t(b * 32 + j)]) * want.q[size_t(t * c.k + b * 32 + j)];
          sum += dot * want.d[size_t(t * nb + b)];
          for (int j = 0; j < 32; ++j)
            mag += std::fabs(double(wrow[size_t(b * 32 + j)]) * want.q[size_t(t * c.k + b * 32 + j)] * want.d[size_t(t * nb + b)]);
        }
        ASSERT_NEAR(got[size_t(t * c.n + n)], sum, 1e-5 * mag + 1e-6) << "row " << n << " token " << t;
      }
    }

    // Oracle B: the reference executor's MatMul on the f32 activations.
    const std::vector<float> y = reference_matmul(c.type, rows, c.k, c.n, x, T, nullptr);
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
  for (const auto& c : kClasses) {
    // The decode GEMV's tiles in turns (matmul_generator.cpp; these two shapes are built
    // with decode_streams=4, as Intel SoCs ask), the last tile partial: with 64-row tiles
    // (AVX-512) 320 x 1000 is 16 tiles in groups of 4, turns of two blocks (Q4_0) or one
    // (Q8_0), and 64 x 600 is 10 tiles in groups of 2; with 16-row tiles 64 x 600 is 38
    // tiles in groups of 2. The other shapes read one tile at a time.
    for (auto kn : {std::pair{256, 96}, std::pair{64, 40}, std::pair{128, 16}, std::pair{320, 1000}, std::pair{64, 600}})
      for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0}) v.push_back({c, kn.first, kn.second, t});
    for (auto kn : {std::pair{256, 96}, std::pair{512, 40}})
      for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) v.push_back({c, kn.first, kn.second, t});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllClasses, MatmulKernel, ::testing::ValuesIn(matmul_cases()), [](const auto& i) {
  return id_of(i.param.cls.name) + "_" + type_id(i.param.type) + "_k" + std::to_string(i.param.k) +
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
      {"arm64-i8mm", "arm64", "aarch64-linux-gnu-objdump", {}},  // sdot, or the smmla micro-kernel: below
  };
  for (const Want& w : wants)
    for (const char* wt : {"q8_0", "q4_0", "q4_k", "q5_k", "q6_k"}) {
      for (const char* form : {"decode", "prefill"}) {
        const std::string lib = std::string(PLM_KERNEL_BUILD_DIR) + "/" + w.arch + "/matmul_" + wt + "_" + form + "_" + id_of(w.cls) + "_k256_n96.a";
        const test::RunResult r = test::run_command({"/usr/bin/" + std::string(w.objdump), "-d", lib});
        ASSERT_EQ(r.exit_code, 0) << lib << ": " << r.err;
        for (const char* m : w.must) EXPECT_NE(r.out.find(m), std::string::npos) << lib << " has no " << m;
        if (std::string(w.cls) == "arm64-i8mm") {
          // Q8_0/Q4_0 prefill calls the smmla micro-kernel; everything else is sdot code.
          const bool micro = std::string(form) == "prefill" && (std::string(wt) == "q8_0" || std::string(wt) == "q4_0");
          EXPECT_NE(r.out.find(micro ? "plm_i8mm_prefill_tile" : "sdot"), std::string::npos) << lib;
        }
        if (std::string(w.cls) == "arm64-neon") {
          EXPECT_EQ(r.out.find("sdot"), std::string::npos) << "ARMv8.0 code must not use sdot";
        }
        if (std::string(w.arch) == "x86_64") {
          // The x86 GEMV prefetches its weights into L2 (schedules/generator_main.cpp); the
          // non-temporal hint Halide 14 emits would halve its speed.
          EXPECT_EQ(r.out.find("prefetchnta"), std::string::npos) << lib;
          if (std::string(form) == "decode") {
            EXPECT_NE(r.out.find("prefetcht1"), std::string::npos) << lib << " does not prefetch";
          }
        }
      }
    }
}

// x86 kernels use only what the catalog requires of their class (soc_catalog.cpp):
// AVX-512 VNNI kernels the Cascade Lake set, so no AVX512-FP16, AMX, BF16, VBMI or IFMA
// (Halide 14 lets LLVM pick from Sapphire Rapids' set; schedules/generator_main.cpp
// narrows it: the F16 embedding's `vmovw` was an illegal instruction on Zen 4); AVX2
// kernels no AVX-512 at all. Every x86 kernel built for the tests is disassembled.
TEST(KernelInstructions, X86KernelsUseOnlyTheFeaturesTheCatalogRequires) {
  const std::regex beyond_cascade_lake(
      "vmovw|vmovsh|v.*(ph|sh)|vcvt.*(ph|sh).*|.*bf16.*|ldtilecfg|sttilecfg|tile.*|tdp.*|vpermb|vpermt2b|vpermi2b|vpmultishiftqb|vpmadd52.*");
  const std::regex f16c("vcvtph2ps|vcvtps2ph");  // F16C, required by both classes
  const std::regex avx512_operand("%zmm|%k[0-7]|%[xy]mm(1[6-9]|2[0-9]|3[01])\\b|\\{1to");
  size_t archives = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PLM_KERNEL_BUILD_DIR) + "/x86_64")) {
    const std::string lib = entry.path().string(), name = entry.path().filename().string();
    if (entry.path().extension() != ".a") continue;
    const bool vnni = name.find("x86_avx512_vnni") != std::string::npos, avx2 = name.find("x86_avx2") != std::string::npos;
    if (!vnni && !avx2) continue;
    ++archives;
    const test::RunResult r = test::run_command({"/usr/bin/objdump", "-d", "--no-show-raw-insn", lib});
    ASSERT_EQ(r.exit_code, 0) << lib << ": " << r.err;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos || line.find(':') > tab) continue;  // not an instruction line
      std::istringstream insn(line.substr(tab + 1));
      std::string mnemonic, operands;
      insn >> mnemonic;
      std::getline(insn, operands);
      if (!std::regex_match(mnemonic, f16c)) {
        ASSERT_FALSE(std::regex_match(mnemonic, beyond_cascade_lake)) << name << ": " << line;
      }
      if (avx2) {
        ASSERT_FALSE(std::regex_search(operands, avx512_operand)) << name << " (AVX2 class) uses AVX-512: " << line;
      }
    }
  }
  EXPECT_GT(archives, 100u) << "x86 test kernels not found in " << PLM_KERNEL_BUILD_DIR;
}

// The micro-kernel's inner loop is smmla on 2x8 operands, not a scalar loop.
TEST(KernelInstructions, I8mmMicroKernelUsesSmmla) {
  const std::string obj = std::string(PLM_RUNNER_DIR) + "/plm_i8mm_microkernel_arm64.o";
  const test::RunResult r = test::run_command({"/usr/bin/aarch64-linux-gnu-objdump", "-d", obj});
  ASSERT_EQ(r.exit_code, 0) << obj << ": " << r.err;
  size_t n = 0;
  for (size_t at = r.out.find("smmla"); at != std::string::npos; at = r.out.find("smmla", at + 1)) ++n;
  EXPECT_GE(n, 4u) << r.out;
}

}  // namespace
}  // namespace plm

namespace plm {
namespace {

class FloatMatmulKernel : public ::testing::TestWithParam<ClassInfo> {};

TEST_P(FloatMatmulKernel, F32AndF16MatchReferenceExecutor) {
  const ClassInfo& c = GetParam();
  if (const std::string why = cannot_run(c); !why.empty()) GTEST_SKIP() << why;
  const ScheduleClass cls = *schedule_class_from_name(c.name);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto [k, n] : {std::pair{172, 40}, std::pair{256, 96}, std::pair{64, 64}})
    for (GgmlType type : {GgmlType::F32, GgmlType::F16}) {
      const char* wt = type == GgmlType::F32 ? "f32" : "f16";
      std::vector<uint8_t> rows(row_bytes(type, k) * size_t(n));
      for (int64_t i = 0; i < int64_t(k) * n; ++i) {
        const float v = normal(rng) * 0.1f;
        if (type == GgmlType::F32) std::memcpy(&rows[size_t(i) * 4], &v, 4);
        else {
          const uint16_t h = f32_to_fp16(v);
          std::memcpy(&rows[size_t(i) * 2], &h, 2);
        }
      }
      const PackedFloatWeights packed = pack_float_matmul_weights(type, rows.data(), k, n, cls);
      std::vector<float> bias(static_cast<size_t>(n));
      for (auto& b : bias) b = normal(rng);
      for (int32_t T : {1, 7, 12, 64, 333}) {
        std::vector<float> x(size_t(k) * T);
        for (auto& v : x) v = normal(rng);
        const std::string shape = "_" + id_of(c.name) + "_k" + std::to_string(k) + "_n" + std::to_string(n);
        // decode + prefill split as the runtime does it, then the bias variant (decode).
        std::vector<float> got(size_t(n) * T), got_bias(size_t(n) * T);
        const int32_t whole = T / prefill_token_block(cls) * prefill_token_block(cls);  // the prefill form's tokens
        for (auto [form, t0, tn] : {std::tuple{"prefill", 0, whole}, std::tuple{"decode", whole, T - whole}}) {
          if (tn == 0) continue;
          std::vector<uint8_t> in;
          append(in, packed.data.data(), packed.data.size());
          append(in, x.data() + size_t(t0) * k, size_t(tn) * k);
          const auto ob = run_kernel(c, std::string("matmul_") + wt + "_" + form + shape, tn, in);
          ASSERT_EQ(ob.size(), size_t(n) * tn * 4);
          std::memcpy(got.data() + size_t(t0) * n, ob.data(), ob.size());
        }
        std::vector<uint8_t> in;
        append(in, packed.data.data(), packed.data.size());
        append(in, x.data(), x.size());
        append(in, bias.data(), bias.size());
        const auto ob = run_kernel(c, std::string("matmul_") + wt + "_bias" + shape, T, in);
        ASSERT_EQ(ob.size(), got_bias.size() * 4);
        std::memcpy(got_bias.data(), ob.data(), ob.size());
        const auto want = reference_matmul(type, rows, k, n, x, T, nullptr);
        const auto want_bias = reference_matmul(type, rows, k, n, x, T, &bias);
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], 2e-5 * (1 + std::fabs(want[i]))) << wt << shape << " T=" << T << " i=" << i;
          ASSERT_NEAR(got_bias[i], want_bias[i], 2e-5 * (1 + std::fabs(want_bias[i]))) << wt << shape << " bias T=" << T;
        }
      }
    }
}

TEST_P(FloatMatmulKernel, QuantizedMatmulBias) {
  const ClassInfo& c = GetParam();
  if (const std::string why = cannot_run(c); !why.empty()) GTEST_SKIP() << why;
  const ScheduleClass cls = *schedule_class_from_name(c.name);
  std::mt19937 rng(9);
  const std::vector<uint8_t> rows = random_rows(GgmlType::Q8_0, 64, 40, rng);
  const PackedMatmulWeights packed = pack_matmul_weights(GgmlType::Q8_0, rows.data(), 64, 40, cls);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(64 * 5), bias(40);
  for (auto& v : x) v = normal(rng);
  for (auto& v : bias) v = normal(rng);
  const QuantizedActs q = quantize_emulated(x, 64, 5);
  std::vector<uint8_t> in;
  append(in, packed.quants.data(), packed.quants.size());
  append(in, packed.scales.data(), packed.scales.size());
  append(in, q.q.data(), q.q.size());
  append(in, q.d.data(), q.d.size());
  append(in, q.s.data(), q.s.size());
  append(in, bias.data(), bias.size());
  const auto ob = run_kernel(c, "matmul_q8_0_bias_" + id_of(c.name) + "_k64_n40", 5, in);
  // The same product without bias (checked against both oracles above) plus the bias.
  in.resize(in.size() - bias.size() * 4);
  const auto base = run_kernel(c, "matmul_q8_0_decode_" + id_of(c.name) + "_k64_n40", 5, in);
  ASSERT_EQ(ob.size(), 40u * 5 * 4);
  ASSERT_EQ(base.size(), ob.size());
  std::vector<float> got(40 * 5), without(40 * 5);
  std::memcpy(got.data(), ob.data(), ob.size());
  std::memcpy(without.data(), base.data(), base.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], without[i] + bias[i % 40]) << i;
}

INSTANTIATE_TEST_SUITE_P(AllClasses, FloatMatmulKernel, ::testing::ValuesIn(test::kClasses),
                         [](const auto& i) { return id_of(i.param.name); });

}  // namespace
}  // namespace plm

namespace plm {
namespace {

class EmbeddingKernel : public ::testing::TestWithParam<ClassInfo> {};

// Rows come out bit-identical to the reference executor's dequantisation.
TEST_P(EmbeddingKernel, RowsMatchReferenceExactly) {
  const ClassInfo& c = GetParam();
  if (const std::string why = cannot_run(c); !why.empty()) GTEST_SKIP() << why;
  const ScheduleClass cls = *schedule_class_from_name(c.name);
  std::mt19937 rng(3);
  const int64_t k = 256, n = 100;
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::F32, GgmlType::F16}) {
    std::vector<uint8_t> rows;
    std::vector<uint8_t> in;
    const std::vector<int32_t> ids = {0, 99, 17, 17, 42, 63, 64, 31, 32};
    append(in, ids.data(), ids.size());
    std::string wt;
    if (type == GgmlType::F32 || type == GgmlType::F16) {
      wt = type == GgmlType::F32 ? "f32" : "f16";
      rows.resize(row_bytes(type, k) * size_t(n));
      std::normal_distribution<float> normal;
      for (int64_t i = 0; i < k * n; ++i) {
        const float v = normal(rng);
        if (type == GgmlType::F32) std::memcpy(&rows[size_t(i) * 4], &v, 4);
        else {
          const uint16_t h = f32_to_fp16(v);
          std::memcpy(&rows[size_t(i) * 2], &h, 2);
        }
      }
      const PackedFloatWeights p = pack_float_matmul_weights(type, rows.data(), k, n, cls);
      append(in, p.data.data(), p.data.size());
    } else {
      wt = type_id(type);
      rows = random_rows(type, k, n, rng);
      const PackedMatmulWeights p = pack_matmul_weights(type, rows.data(), k, n, cls);
      append(in, p.quants.data(), p.quants.size());
      append(in, p.scales.data(), p.scales.size());
    }
    const auto ob = run_kernel(c, "embedding_" + wt + "_" + id_of(c.name), int32_t(ids.size()), in);
    ASSERT_EQ(ob.size(), ids.size() * size_t(k) * 4) << wt;
    std::vector<float> got(ids.size() * size_t(k)), want(static_cast<size_t>(k));
    std::memcpy(got.data(), ob.data(), ob.size());
    for (size_t t = 0; t < ids.size(); ++t) {
      dequantize_row(type, rows.data() + size_t(ids[t]) * row_bytes(type, k), want.data(), k);
      for (int64_t e = 0; e < k; ++e) ASSERT_EQ(got[t * size_t(k) + size_t(e)], want[size_t(e)]) << wt << " id " << ids[t] << " e " << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllClasses, EmbeddingKernel, ::testing::ValuesIn(test::kClasses),
                         [](const auto& i) { return id_of(i.param.name); });

}  // namespace
}  // namespace plm
