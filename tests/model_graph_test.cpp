// Model families and the graph IR: hparams, tensor checks, and the maths of each op
// checked against values worked out by hand or against an equivalent model.
#include <cmath>

#include "gguf_builder.h"
#include "import/model_file.h"
#include "models/model_graph.h"
#include "reference/reference_executor.h"
#include "error.h"
#include "test_support.h"

namespace plm {
namespace {

using test::GgufBuilder;

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float scale) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = (float((seed >> 8) & 0xffff) / 65535.0f - 0.5f) * scale;
  }
  return v;
}

// A 2-layer model with GQA (4 heads, 2 kv heads, head_dim 8), written either as qwen2
// (NEOX rope, q/k/v biases) or as the equivalent llama: NEOX rotates (i, i + D/2), the
// normal layout rotates (2i, 2i+1), so moving q/k row h*D + i to h*D + 2i and row
// h*D + i + D/2 to h*D + 2i + 1 (biases alike) must give the same logits.
std::string write_qwen2_or_llama(bool as_llama) {
  constexpr int E = 32, H = 4, KVH = 2, D = 8, F = 48, V = 40, L = 2;
  GgufBuilder g;
  const std::string a = as_llama ? "llama" : "qwen2";
  g.kv_str("general.architecture", a);
  g.kv_u32(a + ".context_length", 64);
  g.kv_u32(a + ".embedding_length", E);
  g.kv_u32(a + ".block_count", L);
  g.kv_u32(a + ".feed_forward_length", F);
  g.kv_u32(a + ".attention.head_count", H);
  g.kv_u32(a + ".attention.head_count_kv", KVH);
  g.kv_f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  g.kv_f32(a + ".rope.freq_base", 1000.0f);
  uint32_t seed = 11;
  auto permute_rows = [&](std::vector<float> w, int rows, int cols) {
    if (!as_llama) return w;
    std::vector<float> out(w.size());
    for (int r = 0; r < rows; ++r) {
      const int h = r / D, i = r % D;
      const int dst = h * D + (i < D / 2 ? 2 * i : 2 * (i - D / 2) + 1);
      std::copy(w.begin() + r * cols, w.begin() + (r + 1) * cols, out.begin() + dst * cols);
    }
    return out;
  };
  auto t = [&](const std::string& name, std::vector<uint64_t> ne, bool rope_rows = false) {
    const size_t n = ne.size() == 1 ? ne[0] : ne[0] * ne[1];
    std::vector<float> w = random_floats(n, seed++, name.find("norm") != std::string::npos ? 0.5f : 0.6f);
    if (name.find("norm") != std::string::npos)
      for (auto& x : w) x += 1.0f;
    if (rope_rows) w = permute_rows(w, int(ne.size() == 1 ? ne[0] : ne[1]), int(ne.size() == 1 ? 1 : ne[0]));
    g.tensor({name, ne, 0, f32_bytes(w)});
  };
  t("token_embd.weight", {E, V});
  for (int l = 0; l < L; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    t(p + "attn_norm.weight", {E});
    t(p + "attn_q.weight", {E, H * D}, true);
    t(p + "attn_q.bias", {H * D}, true);
    t(p + "attn_k.weight", {E, KVH * D}, true);
    t(p + "attn_k.bias", {KVH * D}, true);
    t(p + "attn_v.weight", {E, KVH * D});
    t(p + "attn_v.bias", {KVH * D});
    t(p + "attn_output.weight", {H * D, E});
    t(p + "ffn_norm.weight", {E});
    t(p + "ffn_gate.weight", {E, F});
    t(p + "ffn_up.weight", {E, F});
    t(p + "ffn_down.weight", {F, E});
  }
  t("output_norm.weight", {E});
  return test::write_temp(a + "-equiv.gguf", g.build());
}

TEST(ModelGraph, Qwen2EqualsPermutedLlama) {
  const ModelFile qf = load_gguf(write_qwen2_or_llama(false));
  const ModelFile lf = load_gguf(write_qwen2_or_llama(true));
  const Graph qg = build_graph(qf), lg = build_graph(lf);
  EXPECT_EQ(qg.hp.rope_type, RopeType::Neox);
  EXPECT_EQ(lg.hp.rope_type, RopeType::Normal);
  EXPECT_TRUE(qg.hp.qkv_bias && lg.hp.qkv_bias && qg.hp.tied_output);
  EXPECT_EQ(qg.hp.rope_base, 1000.0f);
  ReferenceExecutor qe(qg), le(lg);
  const std::vector<int32_t> ids = {1, 7, 30, 2, 39, 12};
  const auto a = qe.eval(ids), b = le.eval(ids);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4f) << i;
  // Decode a few more one at a time (positions 6..8) and stay equal.
  for (int32_t id : {5, 6, 9}) {
    const auto c = qe.eval({id}), d = le.eval({id});
    for (size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], d[i], 1e-4f);
  }
}

// A hand-built graph: embedding -> rms_norm -> matmul + bias -> swiglu with itself -> add.
TEST(ModelGraph, OpsMatchHandWorkedValues) {
  // Embedding table [3 tokens, 2]: token 1 = (3, 4). rms = sqrt((9 + 16) / 2) = sqrt(12.5).
  std::vector<float> embd = {0, 0, 3, 4, 1, 1};
  std::vector<float> norm = {2, 1};
  std::vector<float> w = {1, 0, 0, 1, 1, 1};  // [3 out, 2 in]
  std::vector<float> bias = {0.5f, -0.5f, 0};
  auto tensor = [](const char* name, std::vector<int64_t> ne, const std::vector<float>& v) {
    TensorInfo t;
    t.name = name;
    t.ne = std::move(ne);
    t.n_elements = int64_t(v.size());
    t.n_bytes = v.size() * 4;
    t.data = reinterpret_cast<const uint8_t*>(v.data());
    return t;
  };
  TensorInfo te = tensor("e", {2, 3}, embd), tn = tensor("n", {2}, norm), tw = tensor("w", {2, 3}, w), tb = tensor("b", {3}, bias);
  Graph g;
  g.hp.n_vocab = 3;
  g.hp.n_ctx_train = 4;
  g.hp.rms_eps = 0;
  Value ids;
  ids.kind = ValueKind::TokenIds;
  g.token_ids = g.add_value(ids);
  int x = g.add_op(OpKind::Embedding, {g.token_ids, g.add_weight(te, {3, 2})}, {kTokens, 2}, "x");
  int n = g.add_op(OpKind::RmsNorm, {x, g.add_weight(tn, {2})}, {kTokens, 2}, "n");
  int m = g.add_op(OpKind::MatMul, {n, g.add_weight(tw, {3, 2}), g.add_weight(tb, {3})}, {kTokens, 3}, "m");
  int s = g.add_op(OpKind::SwiGLU, {m, m}, {kTokens, 3}, "s");
  g.logits = g.add_op(OpKind::Add, {s, m}, {kTokens, 3}, "out");
  ReferenceExecutor ex(g);
  const auto out = ex.eval({1});
  const double r = std::sqrt(12.5);
  const double n0 = 3 / r * 2, n1 = 4 / r * 1;           // (1.697, 1.131)
  const double m0 = n0 + 0.5, m1 = n1 - 0.5, m2 = n0 + n1;  // matmul rows + bias
  auto silu = [](double v) { return v / (1 + std::exp(-v)); };
  EXPECT_NEAR(out[0], silu(m0) * m0 + m0, 1e-5);
  EXPECT_NEAR(out[1], silu(m1) * m1 + m1, 1e-5);
  EXPECT_NEAR(out[2], silu(m2) * m2 + m2, 1e-5);
}

TEST(ModelGraph, MissingAndMisshapenTensorsAreAllListed) {
  GgufBuilder g = test::tiny_llama_gguf();
  g.tensor({"output.weight", {32, 63}, 0, std::vector<uint8_t>(32 * 63 * 4)});
  const auto bytes = g.build();
  const ModelFile ok_but_bad_output = load_gguf(test::write_temp("bad-output.gguf", bytes));
  try {
    build_graph(ok_but_bad_output);
    FAIL() << "misshapen output.weight accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'output.weight' has shape [32, 63], expected [32, 64]"), std::string::npos) << e.what();
  }

  GgufBuilder h;
  h.kv_str("general.architecture", "llama");
  h.kv_u32("llama.embedding_length", 32);
  h.kv_u32("llama.block_count", 2);
  h.kv_u32("llama.feed_forward_length", 64);
  h.kv_u32("llama.attention.head_count", 2);
  h.kv_u32("llama.vocab_size", 64);
  h.tensor({"token_embd.weight", {32, 64}, 0, std::vector<uint8_t>(32 * 64 * 4)});
  const ModelFile mf = load_gguf(test::write_temp("missing.gguf", h.build()));
  try {
    build_graph(mf);
    FAIL() << "missing tensors accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("missing tensor 'output_norm.weight', expected shape [32]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing tensor 'blk.1.ffn_down.weight', expected shape [64, 32]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing tensor 'blk.0.attn_q.weight'"), std::string::npos) << msg;
  }
}

TEST(ModelGraph, HparamErrorsNameTheKey) {
  auto expect_error = [](GgufBuilder g, const std::string& needle) {
    const ModelFile mf = load_gguf(test::write_temp("hp.gguf", g.build()));
    try {
      build_graph(mf);
      ADD_FAILURE() << "accepted; wanted error containing: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  GgufBuilder g;
  g.kv_str("general.architecture", "gpt2");
  expect_error(g, "architecture 'gpt2' is not supported (supported: llama, qwen2)");
  GgufBuilder h;
  h.kv_str("general.architecture", "llama");
  h.kv_u32("llama.embedding_length", 32);
  expect_error(h, "llama.block_count");
  GgufBuilder k = test::tiny_llama_gguf();
  k.kv_u32("llama.attention.head_count_kv", 3);  // duplicate key is refused by the importer
  EXPECT_THROW(load_gguf(test::write_temp("dup.gguf", k.build())), Error);
  GgufBuilder r = test::tiny_llama_gguf();
  r.kv_str("llama.rope.scaling.type", "yarn");
  expect_error(r, "rope.scaling.type 'yarn' is not supported");
}

TEST(ModelGraph, LinearRopeScalingAndTiedOutput) {
  GgufBuilder g = test::tiny_llama_gguf();
  g.kv_str("llama.rope.scaling.type", "linear");
  g.kv_f32("llama.rope.scaling.factor", 4.0f);
  const ModelFile mf = load_gguf(test::write_temp("scaled.gguf", g.build()));
  const Graph gr = build_graph(mf);
  EXPECT_EQ(gr.hp.rope_freq_scale, 0.25f);
  EXPECT_TRUE(gr.hp.tied_output);
  EXPECT_EQ(gr.values[size_t(gr.ops.back().inputs[1])].name, "token_embd.weight");
  // Position 0 is not rotated, so scaling cannot change it; position 1 must change.
  const ModelFile plain = load_gguf(test::write_temp("plain.gguf", test::tiny_llama_gguf().build()));
  const Graph pg = build_graph(plain);
  ReferenceExecutor a(gr), b(pg);
  const auto la = a.eval({3, 4}), lb = b.eval({3, 4});
  EXPECT_EQ(la[0], lb[0]);
  EXPECT_NE(la[64], lb[64]);
  EXPECT_NE(gr.to_string().find("%logits [T, 64] = matmul(%final_norm, @token_embd.weight:F32)"), std::string::npos) << gr.to_string();
}

}  // namespace
}  // namespace plm
