// The per-token op kernels (rms_norm, swiglu, add, rope) x every schedule class,
// against the reference executor's ops on random inputs, for token counts 1, 7, 64
// and 333 and widths that are not multiples of the vector width.
#include <cmath>
#include <random>

#include "fp16.h"
#include "import/model_file.h"
#include "ir/graph.h"
#include "kernel_test_support.h"
#include "quant/ggml_types.h"
#include "quant/quantize.h"
#include "reference/reference_executor.h"
#include "test_support.h"

namespace plm {
namespace {

using test::append;
using test::id_of;

// A graph whose inputs are embedding tables (one row per token), so that the
// reference executor runs exactly its own op code on arbitrary activations.
struct RefGraph {
  Graph g;
  std::vector<TensorInfo> tensors;  // stable storage: reserved up front
  RefGraph() { tensors.reserve(8); }
  int input(const std::vector<float>& rows, int64_t width, int64_t T) {
    TensorInfo t;
    t.name = "in" + std::to_string(tensors.size());
    t.ne = {width, T};
    t.n_elements = width * T;
    t.n_bytes = rows.size() * 4;
    t.data = reinterpret_cast<const uint8_t*>(rows.data());
    tensors.push_back(t);
    if (g.token_ids < 0) {
      Value ids;
      ids.kind = ValueKind::TokenIds;
      g.token_ids = g.add_value(ids);
    }
    return g.add_op(OpKind::Embedding, {g.token_ids, g.add_weight(tensors.back(), {T, width})}, {kTokens, width}, t.name);
  }
  int weight(const std::vector<float>& v) {
    TensorInfo t;
    t.name = "w" + std::to_string(tensors.size());
    t.ne = {int64_t(v.size())};
    t.n_elements = int64_t(v.size());
    t.n_bytes = v.size() * 4;
    t.data = reinterpret_cast<const uint8_t*>(v.data());
    tensors.push_back(t);
    return g.add_weight(tensors.back(), {int64_t(v.size())});
  }
  // Evaluates positions pos0 .. pos0 + T - 1 (after pos0 throwaway tokens).
  std::vector<float> run(int64_t T, int64_t pos0 = 0) {
    g.hp.n_vocab = T;
    g.hp.n_ctx_train = pos0 + T;
    ReferenceExecutor ex(g);
    if (pos0 > 0) ex.eval(std::vector<int32_t>(size_t(pos0), 0));
    std::vector<int32_t> ids(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) ids[size_t(t)] = int32_t(t);
    return ex.eval(ids);
  }
};

std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(double(got[i]) - want[i]) / (1.0 + std::fabs(double(want[i])));
    if (!(err <= worst)) worst = err, at = i;  // also catches NaN
  }
  EXPECT_LE(worst, rel) << what << ": worst relative error at " << at << " (got " << got[at] << ", want " << want[at] << ")";
}

std::vector<float> floats(const std::vector<uint8_t>& b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

const int32_t kTokenCounts[] = {1, 7, 64, 333};

class OpKernels : public ::testing::TestWithParam<test::ClassInfo> {
 protected:
  void SetUp() override {
    if (const std::string why = test::cannot_run(GetParam()); !why.empty()) GTEST_SKIP() << why;
  }
  std::string name(const std::string& op) { return op + "_" + id_of(GetParam().name); }
  std::mt19937 rng{42};
};

TEST_P(OpKernels, RmsNorm) {
  for (int64_t n : {256, 172})
    for (int32_t T : kTokenCounts) {
      const auto x = randn(size_t(n * T), rng, 3.0f), w = randn(size_t(n), rng);
      std::vector<uint8_t> in;
      append(in, x.data(), x.size());
      append(in, w.data(), w.size());
      const auto got = floats(test::run_kernel(GetParam(), name("rms_norm") + "_n" + std::to_string(n), T, in));
      RefGraph r;
      r.g.hp.rms_eps = 1e-5f;
      r.g.logits = r.g.add_op(OpKind::RmsNorm, {r.input(x, n, T), r.weight(w)}, {kTokens, n}, "out");
      expect_close(got, r.run(T), 2e-5, "rms_norm n=" + std::to_string(n) + " T=" + std::to_string(T));
    }
}

TEST_P(OpKernels, SwiGLUAndAdd) {
  for (int64_t n : {256, 172})
    for (int32_t T : kTokenCounts) {
      const auto a = randn(size_t(n * T), rng, 4.0f), b = randn(size_t(n * T), rng);
      std::vector<uint8_t> in;
      append(in, a.data(), a.size());
      append(in, b.data(), b.size());
      for (OpKind op : {OpKind::SwiGLU, OpKind::Add}) {
        const std::string kn = std::string(op == OpKind::SwiGLU ? "swiglu" : "add");
        const auto got = floats(test::run_kernel(GetParam(), name(kn) + "_n" + std::to_string(n), T, in));
        RefGraph r;
        r.g.logits = r.g.add_op(op, {r.input(a, n, T), r.input(b, n, T)}, {kTokens, n}, "out");
        expect_close(got, r.run(T), 1e-5, kn + " n=" + std::to_string(n) + " T=" + std::to_string(T));
      }
    }
}

TEST_P(OpKernels, Rope) {
  struct Shape {
    int heads, head_dim, n_rot;
    bool neox;
  };
  for (const Shape s : {Shape{8, 32, 32, false}, Shape{2, 32, 32, false}, Shape{4, 16, 16, false}, Shape{2, 64, 32, true},
                        Shape{4, 64, 64, true}})
    for (int32_t T : kTokenCounts)
      for (int32_t pos0 : {0, 1000}) {
        const int64_t W = int64_t(s.heads) * s.head_dim;
        const auto x = randn(size_t(W * T), rng);
        std::vector<uint8_t> in;
        append(in, x.data(), x.size());
        append(in, &pos0, 1);
        const std::string kn = name("rope") + "_h" + std::to_string(s.heads) + "_d" + std::to_string(s.head_dim) + "_r" +
                               std::to_string(s.n_rot) + (s.neox ? "_true" : "_false");
        const auto got = floats(test::run_kernel(GetParam(), kn, T, in));
        RefGraph r;
        r.g.hp.head_dim = s.head_dim;
        r.g.hp.n_rot = s.n_rot;
        r.g.hp.rope_base = 10000.0f;
        r.g.hp.rope_type = s.neox ? RopeType::Neox : RopeType::Normal;
        r.g.logits = r.g.add_op(OpKind::Rope, {r.input(x, W, T)}, {kTokens, W}, "out", -1, s.heads);
        expect_close(got, r.run(T, pos0), 1e-5, kn + " T=" + std::to_string(T) + " pos0=" + std::to_string(pos0));
      }
}

TEST_P(OpKernels, RopeWithFrequencyFactors) {
  std::vector<float> factors(32);
  for (size_t i = 0; i < factors.size(); ++i) factors[i] = i < 8 ? 1.0f : i < 24 ? 1.0f + float(i - 8) * 1.9f : 32.0f;
  for (int32_t T : kTokenCounts)
    for (int32_t pos0 : {0, 5000}) {
      const auto x = randn(size_t(256 * T), rng);
      std::vector<uint8_t> in;
      append(in, x.data(), x.size());
      append(in, &pos0, 1);
      append(in, factors.data(), factors.size());
      const auto got = floats(test::run_kernel(GetParam(), name("rope_factors") + "_h4_d64_r64", T, in));
      RefGraph r;
      r.g.hp.head_dim = 64;
      r.g.hp.n_rot = 64;
      r.g.hp.rope_base = 500000.0f;
      r.g.hp.rope_type = RopeType::Normal;
      r.g.logits = r.g.add_op(OpKind::Rope, {r.input(x, 256, T), r.weight(factors)}, {kTokens, 256}, "out", -1, 4);
      expect_close(got, r.run(T, pos0), 1e-5, "rope_factors T=" + std::to_string(T) + " pos0=" + std::to_string(pos0));
    }
}

INSTANTIATE_TEST_SUITE_P(AllClasses, OpKernels, ::testing::ValuesIn(test::kClasses),
                         [](const auto& i) { return id_of(i.param.name); });

}  // namespace
}  // namespace plm

namespace plm {
namespace {

class AttentionKernels : public ::testing::TestWithParam<test::ClassInfo> {
 protected:
  void SetUp() override {
    if (const std::string why = test::cannot_run(GetParam()); !why.empty()) GTEST_SKIP() << why;
  }
  std::mt19937 rng{7};
};

// f16 round trip, as the cache stores keys and values.
std::vector<float> through_f16(const std::vector<float>& x, std::vector<uint16_t>* bits) {
  std::vector<float> y(x.size());
  bits->resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    (*bits)[i] = f32_to_fp16(x[i]);
    y[i] = fp16_to_f32((*bits)[i]);
  }
  return y;
}

TEST_P(AttentionKernels, KvStoreRoundsLikeTheReference) {
  for (int32_t T : {1, 7, 333}) {
    auto x = randn(size_t(64 * T), rng, 10.0f);
    x[0] = 65519.0f;  // rounds to the largest half
    x[1] = 1e-7f;     // subnormal half
    std::vector<uint8_t> in;
    append(in, x.data(), x.size());
    const auto got = test::run_kernel(GetParam(), "kv_store_" + id_of(GetParam().name) + "_w64", T, in);
    std::vector<uint16_t> want;
    through_f16(x, &want);
    ASSERT_EQ(got.size(), want.size() * 2);
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size())) << "T=" << T;
  }
}

// The q8_0 cache as the reference quantiser writes GGUF's Q8_0 blocks, split into the
// kernels' two arrays (quants [P][W], f16 scales [P][W/32]); returns the dequantised values.
std::vector<float> through_q8_0(const std::vector<float>& x, int64_t W, std::vector<int8_t>* qs, std::vector<uint16_t>* ds) {
  const int64_t rows = int64_t(x.size()) / W, nb = W / kQK;
  qs->resize(x.size());
  ds->resize(size_t(rows * nb));
  std::vector<Q8_0Block> blocks(static_cast<size_t>(nb));
  std::vector<float> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    quantize_row(GgmlType::Q8_0, x.data() + r * W, blocks.data(), W);
    for (int64_t b = 0; b < nb; ++b) {
      const Q8_0Block& blk = blocks[size_t(b)];
      (*ds)[size_t(r * nb + b)] = blk.d;
      for (int i = 0; i < kQK; ++i) {
        (*qs)[size_t(r * W + b * kQK + i)] = blk.qs[i];
        y[size_t(r * W + b * kQK + i)] = float(blk.qs[i]) * fp16_to_f32(blk.d);
      }
    }
  }
  return y;
}

TEST_P(AttentionKernels, KvStoreQ8_0MatchesTheReferenceQuantiser) {
  for (int32_t T : {1, 7, 333}) {
    auto x = randn(size_t(64 * T), rng, 10.0f);
    for (int i = 32; i < 64; ++i) x[size_t(i)] = 0.0f;  // an all-zero block: scale 0, quants 0
    if (T > 1) {  // a block with scale exactly 1 and values at halves: roundf rounds them away from zero
      x[64] = 127.0f, x[65] = 2.5f, x[66] = -2.5f, x[67] = 0.5f;
    }
    std::vector<uint8_t> in;
    append(in, x.data(), x.size());
    const auto got = test::run_kernel(GetParam(), "kv_store_q8_0_" + id_of(GetParam().name) + "_w64", T, in);
    std::vector<int8_t> qs;
    std::vector<uint16_t> ds;
    through_q8_0(x, 64, &qs, &ds);
    ASSERT_EQ(got.size(), qs.size() + ds.size() * 2);
    EXPECT_EQ(0, std::memcmp(got.data(), qs.data(), qs.size())) << "quants, T=" << T;
    EXPECT_EQ(0, std::memcmp(got.data() + qs.size(), ds.data(), ds.size() * 2)) << "scales, T=" << T;
  }
}

// One attention kernel against the reference executor's attention over the same
// cache contents (rounded to f16, or quantised to q8_0), in f32.
void check_attention(const test::ClassInfo& c, std::mt19937& rng, bool q8, const char* form) {
  struct Shape {
    int heads, kv_heads, head_dim;
  };
  for (const Shape s : {Shape{8, 2, 32}, Shape{4, 4, 16}, Shape{14, 2, 64}, Shape{16, 2, 32}}) {
    if (q8 && s.head_dim % 32) continue;
    for (auto [pos0, T] : {std::pair{0, 1}, std::pair{0, 7}, std::pair{5, 1}, std::pair{100, 64}, std::pair{0, 333}, std::pair{300, 33}}) {
      const int64_t QW = int64_t(s.heads) * s.head_dim, KW = int64_t(s.kv_heads) * s.head_dim, P = pos0 + T;
      const auto q = randn(size_t(QW * P), rng), k = randn(size_t(KW * P), rng), v = randn(size_t(KW * P), rng);
      std::vector<uint8_t> in;
      append(in, q.data() + size_t(pos0) * QW, size_t(T) * QW);  // the batch's queries
      std::vector<float> kc, vc;
      if (q8) {
        std::vector<int8_t> kq, vq;
        std::vector<uint16_t> kd, vd;
        kc = through_q8_0(k, KW, &kq, &kd);
        vc = through_q8_0(v, KW, &vq, &vd);
        append(in, kq.data(), kq.size());
        append(in, kd.data(), kd.size());
        append(in, vq.data(), vq.size());
        append(in, vd.data(), vd.size());
      } else {
        std::vector<uint16_t> kb, vb;
        kc = through_f16(k, &kb);
        vc = through_f16(v, &vb);
        append(in, kb.data(), kb.size());
        append(in, vb.data(), vb.size());
      }
      append(in, &pos0, 1);
      const std::string kn = std::string("attention_") + (q8 ? "q8_0_" : "") + form + "_" + id_of(c.name) + "_h" + std::to_string(s.heads) + "_kv" +
                             std::to_string(s.kv_heads) + "_d" + std::to_string(s.head_dim);
      const auto got = floats(test::run_kernel(c, kn, T, in, int32_t(P)));
      RefGraph r;
      r.g.hp.n_layer = 1;
      r.g.hp.n_head = s.heads;
      r.g.hp.n_head_kv = s.kv_heads;
      r.g.hp.head_dim = s.head_dim;
      const int qi = r.input(q, QW, P), ki = r.input(kc, KW, P), vi = r.input(vc, KW, P);
      r.g.logits = r.g.add_op(OpKind::Attention, {qi, ki, vi}, {kTokens, QW}, "out", 0, s.heads);
      r.g.hp.n_vocab = P;
      r.g.hp.n_ctx_train = P;
      ReferenceExecutor ex(r.g);
      std::vector<int32_t> first(static_cast<size_t>(pos0)), batch(static_cast<size_t>(T));
      for (int32_t p = 0; p < pos0; ++p) first[size_t(p)] = p;
      for (int32_t t = 0; t < T; ++t) batch[size_t(t)] = pos0 + t;
      if (pos0) ex.eval(first);
      expect_close(got, ex.eval(batch), 2e-5, kn + " pos0=" + std::to_string(pos0) + " T=" + std::to_string(T));
    }
  }
}

// Both forms take any batch (the runtime sends the prefill form whole blocks of 4 and
// the decode form the rest), so both are checked on every case.
TEST_P(AttentionKernels, CausalGqaOverF16CacheMatchesReference) {
  for (const char* form : {"decode", "prefill"}) check_attention(GetParam(), rng, false, form);
}
TEST_P(AttentionKernels, CausalGqaOverQ8_0CacheMatchesReference) {
  for (const char* form : {"decode", "prefill"}) check_attention(GetParam(), rng, true, form);
}

INSTANTIATE_TEST_SUITE_P(AllClasses, AttentionKernels, ::testing::ValuesIn(test::kClasses),
                         [](const auto& i) { return id_of(i.param.name); });

}  // namespace
}  // namespace plm
