// The llama family graph, also used for qwen2 (which adds q/k/v biases and NEOX rope).
// GGUF tensor names: token_embd, blk.N.{attn_norm, attn_q, attn_k, attn_v,
// attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}, output_norm, output, rope_freqs.
#include <cmath>
#include <sstream>

#include "models/model_graph.h"
#include "error.h"

namespace plm {
namespace {

struct FamilyTraits {
  const char* arch;
  RopeType rope_type;
  bool qkv_bias;
  float default_rope_base;
};

const FamilyTraits kFamilies[] = {
    {"llama", RopeType::Normal, false, 10000.0f},
    {"qwen2", RopeType::Neox, true, 1000000.0f},
};

const FamilyTraits* find_family(const std::string& arch) {
  for (const auto& f : kFamilies)
    if (arch == f.arch) return &f;
  return nullptr;
}

int64_t positive(const ModelFile& mf, const std::string& key, uint64_t v, uint64_t max) {
  if (v == 0 || v > max) fail(mf.path, ": metadata '", key, "' = ", v, " is out of range (1..", max, ")");
  return int64_t(v);
}

// Collects every tensor problem so the user sees the whole list at once.
class TensorChecker {
 public:
  explicit TensorChecker(const ModelFile& mf) : mf_(mf) {}

  const TensorInfo* require(const std::string& name, std::vector<int64_t> ne) { return check(name, ne, true); }
  const TensorInfo* optional(const std::string& name, std::vector<int64_t> ne) { return check(name, ne, false); }

  void throw_if_problems(const ModelHParams& hp) const {
    if (problems_.empty()) return;
    std::ostringstream os;
    os << mf_.path << ": not a valid " << hp.arch << " model (n_embd " << hp.n_embd << ", " << hp.n_layer << " layers, "
       << hp.n_head << " heads, " << hp.n_head_kv << " kv heads, head_dim " << hp.head_dim << ", n_ff " << hp.n_ff
       << ", vocab " << hp.n_vocab << "):";
    for (const auto& p : problems_) os << "\n  " << p;
    throw Error(os.str());
  }

 private:
  const TensorInfo* check(const std::string& name, const std::vector<int64_t>& ne, bool required) {
    const TensorInfo* t = mf_.find(name);
    std::ostringstream want;
    want << "[";
    for (size_t k = 0; k < ne.size(); ++k) want << (k ? ", " : "") << ne[k];
    want << "]";
    if (!t) {
      if (required) problems_.push_back("missing tensor '" + name + "', expected shape " + want.str());
      return nullptr;
    }
    if (t->ne != ne) {
      problems_.push_back("tensor '" + name + "' has shape " + t->shape_string() + ", expected " + want.str());
      return nullptr;
    }
    return t;
  }
  const ModelFile& mf_;
  std::vector<std::string> problems_;
};

}  // namespace

std::vector<std::string> supported_architectures() {
  std::vector<std::string> v;
  for (const auto& f : kFamilies) v.push_back(f.arch);
  return v;
}

ModelHParams read_hparams(const ModelFile& mf) {
  const Metadata& m = mf.meta;
  ModelHParams hp;
  hp.arch = m.get_string("general.architecture");
  const FamilyTraits* fam = find_family(hp.arch);
  if (!fam) {
    std::string list;
    for (const auto& a : supported_architectures()) list += (list.empty() ? "" : ", ") + a;
    fail(mf.path, ": architecture '", hp.arch, "' is not supported (supported: ", list, ")");
  }
  const std::string a = hp.arch + ".";
  hp.name = m.opt_string("general.name").value_or("");
  constexpr uint64_t kMaxDim = 1u << 20;
  hp.n_embd = positive(mf, a + "embedding_length", m.get_uint(a + "embedding_length"), kMaxDim);
  hp.n_layer = positive(mf, a + "block_count", m.get_uint(a + "block_count"), 4096);
  hp.n_ff = positive(mf, a + "feed_forward_length", m.get_uint(a + "feed_forward_length"), kMaxDim * 8);
  hp.n_head = positive(mf, a + "attention.head_count", m.get_uint(a + "attention.head_count"), 4096);
  hp.n_head_kv = positive(mf, a + "attention.head_count_kv",
                          m.opt_uint(a + "attention.head_count_kv").value_or(uint64_t(hp.n_head)), 4096);
  hp.n_ctx_train = positive(mf, a + "context_length", m.opt_uint(a + "context_length").value_or(4096), 1u << 24);
  if (hp.n_head % hp.n_head_kv != 0)
    fail(mf.path, ": attention.head_count ", hp.n_head, " is not a multiple of head_count_kv ", hp.n_head_kv);
  if (auto kl = m.opt_uint(a + "attention.key_length")) hp.head_dim = positive(mf, a + "attention.key_length", *kl, 4096);
  else {
    if (hp.n_embd % hp.n_head != 0) fail(mf.path, ": embedding_length ", hp.n_embd, " is not a multiple of head_count ", hp.n_head);
    hp.head_dim = hp.n_embd / hp.n_head;
  }
  if (auto vl = m.opt_uint(a + "attention.value_length"); vl && int64_t(*vl) != hp.head_dim)
    fail(mf.path, ": attention.value_length ", *vl, " differs from key_length ", hp.head_dim, " (not supported)");
  hp.n_rot = positive(mf, a + "rope.dimension_count", m.opt_uint(a + "rope.dimension_count").value_or(uint64_t(hp.head_dim)), uint64_t(hp.head_dim));
  if (hp.n_rot % 2) fail(mf.path, ": rope.dimension_count ", hp.n_rot, " is odd");
  hp.rms_eps = float(m.opt_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
  if (!(hp.rms_eps > 0 && hp.rms_eps < 1)) fail(mf.path, ": attention.layer_norm_rms_epsilon ", hp.rms_eps, " is out of range");
  hp.rope_base = float(m.opt_float(a + "rope.freq_base").value_or(fam->default_rope_base));
  if (!(hp.rope_base > 1 && std::isfinite(hp.rope_base))) fail(mf.path, ": rope.freq_base ", hp.rope_base, " is out of range");
  const std::string scaling = m.opt_string(a + "rope.scaling.type").value_or("none");
  double factor = m.opt_float(a + "rope.scaling.factor").value_or(m.opt_float(a + "rope.scale_linear").value_or(1.0));
  if (scaling == "linear" || (scaling == "none" && m.has(a + "rope.scale_linear"))) {
    if (!(factor >= 1 && factor <= 1024)) fail(mf.path, ": rope scaling factor ", factor, " is out of range");
    hp.rope_freq_scale = float(1.0 / factor);
  } else if (scaling != "none") {
    fail(mf.path, ": rope.scaling.type '", scaling, "' is not supported (supported: none, linear)");
  }
  hp.rope_type = fam->rope_type;
  hp.qkv_bias = fam->qkv_bias;
  if (mf.find("blk.0.ffn_gate_exps.weight") || m.has(a + "expert_count"))
    fail(mf.path, ": mixture-of-experts ", hp.arch, " models are not supported");

  // The vocabulary size: metadata if present, else the embedding table.
  if (auto v = m.opt_uint(a + "vocab_size")) hp.n_vocab = positive(mf, a + "vocab_size", *v, 1u << 24);
  else if (const TensorInfo* e = mf.find("token_embd.weight"); e && e->ne.size() == 2) hp.n_vocab = e->ne[1];
  else fail(mf.path, ": cannot tell the vocabulary size (no ", a, "vocab_size and no 2-D token_embd.weight)");
  return hp;
}

Graph build_graph(const ModelFile& mf) {
  Graph g;
  g.hp = read_hparams(mf);
  ModelHParams& hp = g.hp;
  const int64_t E = hp.n_embd, V = hp.n_vocab, F = hp.n_ff;
  const int64_t QD = hp.n_head * hp.head_dim, KVD = hp.n_head_kv * hp.head_dim;

  TensorChecker tc(mf);
  const TensorInfo* tok_embd = tc.require("token_embd.weight", {E, V});
  const TensorInfo* out_norm = tc.require("output_norm.weight", {E});
  const TensorInfo* output = tc.optional("output.weight", {E, V});
  hp.tied_output = mf.find("output.weight") == nullptr;
  const TensorInfo* rope_freqs = tc.optional("rope_freqs.weight", {hp.n_rot / 2});
  hp.rope_freq_factors = rope_freqs != nullptr;
  struct Layer {
    const TensorInfo *attn_norm, *wq, *wk, *wv, *wo, *bq = nullptr, *bk = nullptr, *bv = nullptr, *ffn_norm, *gate, *up, *down;
  };
  std::vector<Layer> layers(size_t(hp.n_layer));
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    Layer& L = layers[size_t(l)];
    L.attn_norm = tc.require(p + "attn_norm.weight", {E});
    L.wq = tc.require(p + "attn_q.weight", {E, QD});
    L.wk = tc.require(p + "attn_k.weight", {E, KVD});
    L.wv = tc.require(p + "attn_v.weight", {E, KVD});
    L.wo = tc.require(p + "attn_output.weight", {QD, E});
    // qwen2 requires q/k/v biases; llama takes them when a file has them (as llama.cpp does).
    if (hp.qkv_bias) {
      L.bq = tc.require(p + "attn_q.bias", {QD});
      L.bk = tc.require(p + "attn_k.bias", {KVD});
      L.bv = tc.require(p + "attn_v.bias", {KVD});
    } else if (mf.find(p + "attn_q.bias") || mf.find(p + "attn_k.bias") || mf.find(p + "attn_v.bias")) {
      L.bq = tc.require(p + "attn_q.bias", {QD});
      L.bk = tc.require(p + "attn_k.bias", {KVD});
      L.bv = tc.require(p + "attn_v.bias", {KVD});
      hp.qkv_bias = true;
    }
    L.ffn_norm = tc.require(p + "ffn_norm.weight", {E});
    L.gate = tc.require(p + "ffn_gate.weight", {E, F});
    L.up = tc.require(p + "ffn_up.weight", {E, F});
    L.down = tc.require(p + "ffn_down.weight", {F, E});
  }
  tc.throw_if_problems(hp);

  Value ids;
  ids.kind = ValueKind::TokenIds;
  ids.name = "tokens";
  ids.shape = {kTokens};
  g.token_ids = g.add_value(ids);
  const int w_embd = g.add_weight(*tok_embd, {V, E});
  int x = g.add_op(OpKind::Embedding, {g.token_ids, w_embd}, {kTokens, E}, "embd");
  const int w_freqs = rope_freqs ? g.add_weight(*rope_freqs, {hp.n_rot / 2}) : -1;
  auto matmul = [&](int in, const TensorInfo* w, const TensorInfo* b, int64_t n, int64_t k, const std::string& name) {
    std::vector<int> inputs{in, g.add_weight(*w, {n, k})};
    if (b) inputs.push_back(g.add_weight(*b, {n}));
    return g.add_op(OpKind::MatMul, inputs, {kTokens, n}, name);
  };
  auto rope = [&](int in, int64_t heads, int64_t width, const std::string& name) {
    std::vector<int> inputs{in};
    if (w_freqs >= 0) inputs.push_back(w_freqs);
    return g.add_op(OpKind::Rope, inputs, {kTokens, width}, name, -1, heads);
  };
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const Layer& L = layers[size_t(l)];
    const std::string s = "." + std::to_string(l);
    int h = g.add_op(OpKind::RmsNorm, {x, g.add_weight(*L.attn_norm, {E})}, {kTokens, E}, "attn_in" + s);
    int q = matmul(h, L.wq, L.bq, QD, E, "q" + s);
    int k = matmul(h, L.wk, L.bk, KVD, E, "k" + s);
    int v = matmul(h, L.wv, L.bv, KVD, E, "v" + s);
    q = rope(q, hp.n_head, QD, "q_rope" + s);
    k = rope(k, hp.n_head_kv, KVD, "k_rope" + s);
    int att = g.add_op(OpKind::Attention, {q, k, v}, {kTokens, QD}, "attn" + s, int(l), hp.n_head);
    int o = matmul(att, L.wo, nullptr, E, QD, "attn_out" + s);
    x = g.add_op(OpKind::Add, {x, o}, {kTokens, E}, "resid_attn" + s);
    h = g.add_op(OpKind::RmsNorm, {x, g.add_weight(*L.ffn_norm, {E})}, {kTokens, E}, "ffn_in" + s);
    int gt = matmul(h, L.gate, nullptr, F, E, "gate" + s);
    int up = matmul(h, L.up, nullptr, F, E, "up" + s);
    int act = g.add_op(OpKind::SwiGLU, {gt, up}, {kTokens, F}, "swiglu" + s);
    int dn = matmul(act, L.down, nullptr, E, F, "ffn_out" + s);
    x = g.add_op(OpKind::Add, {x, dn}, {kTokens, E}, "resid_ffn" + s);
  }
  x = g.add_op(OpKind::RmsNorm, {x, g.add_weight(*out_norm, {E})}, {kTokens, E}, "final_norm");
  g.logits = matmul(x, output ? output : tok_embd, nullptr, V, E, "logits");
  return g;
}

}  // namespace plm
