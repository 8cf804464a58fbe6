#include "plan/lower.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include "bundle.h"
#include "error.h"

namespace plm {
namespace {

using bundle::ArgKind;
using bundle::KvCacheType;
using bundle::WeightFormat;

const char* format_param(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::F16: return "f16";
    case WeightFormat::Q8_0: return "q8_0";
    case WeightFormat::Q4_0: return "q4_0";
    case WeightFormat::Q4_K: return "q4_k";
    case WeightFormat::Q5_K: return "q5_k";
    case WeightFormat::Q6_K: return "q6_k";
  }
  return "?";
}

bool is_float(WeightFormat f) { return f == WeightFormat::F32 || f == WeightFormat::F16; }
bool is_kquant(WeightFormat f) { return f == WeightFormat::Q4_K || f == WeightFormat::Q5_K || f == WeightFormat::Q6_K; }
// Q8_0 and Q4_0 keep GGUF's f16 block scales (schedules/generator_support.h, f16_block_scales).
bool has_f16_block_scales(WeightFormat f) { return f == WeightFormat::Q8_0 || f == WeightFormat::Q4_0; }

}  // namespace

void require_kv_cache_fits(const Graph& g, KvCacheType kv_cache_type) {
  if (kv_cache_type == KvCacheType::Q8_0 && g.hp.head_dim % 32 != 0)
    fail("a q8_0 KV cache stores blocks of 32 values within a head, and this model's head_dim is ", g.hp.head_dim,
         ": use the f16 KV cache (--kv-cache f16)");
}

namespace {

class Lowering {
 public:
  Lowering(const Graph& g, const std::map<std::string, StoredTensor>& t, ScheduleClass cls, KvCacheType kv, int decode_streams)
      : g_(g), tensors_(t), cls_(cls), decode_streams_(decode_streams) {
    plan_.kv_cache_type = kv;
  }

  LoweredPlan run() {
    require_kv_cache_fits(g_, plan_.kv_cache_type);
    for (size_t i = 0; i < g_.ops.size(); ++i) lower(g_.ops[i]);
    plan_.logits_slot = slot_of(g_.logits, 4 * uint64_t(g_.hp.n_vocab));
    plan_.kv_width = g_.hp.n_head_kv * g_.hp.head_dim;
    plan_memory();
    return std::move(plan_);
  }

 private:
  // --- kernels ---
  uint32_t kernel(const std::string& gen, const std::string& fn, std::vector<std::string> params, const std::string& spec) {
    params.push_back(std::string("schedule_class=") + schedule_class_name(cls_));
    std::string key = gen + " " + fn;
    for (const auto& p : params) key += " " + p;
    for (size_t i = 0; i < plan_.kernels.size(); ++i)
      if (plan_.kernels[i].key == key) return uint32_t(i);
    // Prefill forms take whole blocks of the class's tokens (schedules/schedule_class.h).
    const bool prefill = std::find(params.begin(), params.end(), "form=prefill") != params.end();
    plan_.kernels.push_back({gen, fn, params, spec, key, prefill ? uint32_t(prefill_token_block(cls_)) : 1u});
    return uint32_t(plan_.kernels.size() - 1);
  }
  static std::string n(int64_t v) { return std::to_string(v); }

  // The spec of a weight's parts and the matching args.
  std::string weight_spec(const StoredTensor& t, std::vector<PlanArg>* args) {
    const int64_t R = t.tile_rows, tiles = (t.n + R - 1) / R;
    if (is_float(t.format)) {
      args->push_back({ArgKind::Weight, t.index, 0});
      return std::string("i:") + (t.format == WeightFormat::F16 ? "u16" : "f32") + ":" + n(R) + "," + n(t.k) + "," + n(tiles);
    }
    args->push_back({ArgKind::Weight, t.index, 0});
    TensorSpanSizes bytes;
    if (!expected_span_sizes(t.format, t.k, t.n, int32_t(R), &bytes))
      fail("internal: weight tensor #", t.index, " (", t.k, " x ", t.n, ") has a shape its format cannot hold");
    const std::string quants = "i:u8:" + n(int64_t(bytes.quants) / tiles) + "," + n(tiles);
    if (has_f16_block_scales(t.format)) return quants;  // Q8_0, Q4_0: the scales are inside
    args->push_back({ArgKind::Weight, t.index, 1});     // k-quants: scale bytes per tile
    return quants + " i:u8:" + n(int64_t(bytes.scales) / tiles) + "," + n(tiles);
  }

  const StoredTensor& stored(int value) {
    const std::string& name = g_.values[size_t(value)].name;
    auto it = tensors_.find(name);
    if (it == tensors_.end()) fail("internal: tensor '", name, "' is not in the bundle");
    return it->second;
  }

  // --- memory ---
  uint32_t slot_of(int value, uint64_t bytes_per_token) {
    auto it = value_slot_.find(value);
    if (it != value_slot_.end()) return it->second;
    plan_.slot_bytes_per_token.push_back(bytes_per_token);
    first_use_.push_back(plan_.steps.size());
    last_use_.push_back(plan_.steps.size());
    const uint32_t s = uint32_t(plan_.slot_bytes_per_token.size() - 1);
    value_slot_[value] = s;
    return s;
  }
  uint32_t scratch(uint64_t bytes_per_token) {
    plan_.slot_bytes_per_token.push_back(bytes_per_token);
    first_use_.push_back(plan_.steps.size());
    last_use_.push_back(plan_.steps.size() + 1);  // written by quantize, read by the matmul after it
    return uint32_t(plan_.slot_bytes_per_token.size() - 1);
  }
  PlanArg act(int value) {
    const uint32_t s = slot_of(value, 4 * uint64_t(g_.values[size_t(value)].shape.back()));
    last_use_[s] = std::max<uint64_t>(last_use_[s], plan_.steps.size());
    return {ArgKind::Activation, s, 0};
  }
  void step(uint32_t k, std::vector<PlanArg> args, const std::string& op, int32_t prefill = -1) {
    plan_.steps.push_back({k, prefill, std::move(args), op});
  }

  // Liveness-based reuse: slots whose lifetimes do not overlap share arena bytes
  // (first fit over the steps, in bytes per token of batch capacity, 64-aligned).
  void plan_memory() {
    const size_t S = plan_.slot_bytes_per_token.size();
    last_use_[plan_.logits_slot] = plan_.steps.size() + 1;  // read after the last step
    std::vector<size_t> order(S);
    for (size_t i = 0; i < S; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return plan_.slot_bytes_per_token[a] > plan_.slot_bytes_per_token[b]; });
    plan_.slot_offsets.assign(S, 0);
    std::vector<size_t> placed;
    for (size_t s : order) {
      const uint64_t size = (plan_.slot_bytes_per_token[s] + 63) / 64 * 64;
      std::vector<std::pair<uint64_t, uint64_t>> busy;
      for (size_t p : placed)
        if (!(last_use_[p] < first_use_[s] || last_use_[s] < first_use_[p]))
          busy.push_back({plan_.slot_offsets[p], (plan_.slot_bytes_per_token[p] + 63) / 64 * 64});
      std::sort(busy.begin(), busy.end());
      uint64_t off = 0;
      for (auto [o, sz] : busy) {
        if (off + size <= o) break;
        off = std::max(off, o + sz);
      }
      plan_.slot_offsets[s] = off;
      plan_.arena_bytes_per_token = std::max(plan_.arena_bytes_per_token, off + size);
      placed.push_back(s);
    }
  }

  // --- ops ---
  void lower(const Op& op) {
    const Value& out = g_.values[size_t(op.output)];
    const int64_t W = out.shape.back();
    const std::string name = std::string(op_kind_name(op.kind)) + " " + out.name;
    switch (op.kind) {
      case OpKind::Embedding: {
        const StoredTensor& t = stored(op.inputs[1]);
        std::vector<PlanArg> args = {{ArgKind::Tokens, 0, 0}};
        const std::string ws = weight_spec(t, &args);
        const uint32_t k = kernel("plm_gen_matmul", "embedding", {"weight_type=" + std::string(format_param(t.format)), "k=" + n(t.k),
                                                                  "n=" + n(t.n)},
                                  "i:i32:T " + ws + " o:f32:" + n(t.k) + ",T");
        args.push_back(act(op.output));
        step(k, args, name);
        break;
      }
      case OpKind::RmsNorm: {
        std::ostringstream eps;
        eps.precision(9);
        eps << g_.hp.rms_eps;
        const uint32_t k = kernel("plm_gen_ops", "rms_norm", {"n=" + n(W), "eps=" + eps.str()},
                                  "i:f32:" + n(W) + ",T i:f32:" + n(W) + " o:f32:" + n(W) + ",T");
        step(k, {act(op.inputs[0]), {ArgKind::Weight, stored(op.inputs[1]).index, 0}, act(op.output)}, name);
        break;
      }
      case OpKind::MatMul: lower_matmul(op, name); break;
      case OpKind::Rope: {
        std::ostringstream base, scale;
        base.precision(17);
        scale.precision(17);
        base << double(g_.hp.rope_base);
        scale << double(g_.hp.rope_freq_scale);
        const bool factors = op.inputs.size() > 1;  // rope_freqs.weight (Llama 3.1+ scaling)
        const std::string v = "i:f32:" + n(W) + ",T";
        const uint32_t k = kernel("plm_gen_ops", factors ? "rope_factors" : "rope",
                                  {"heads=" + n(op.n_head), "head_dim=" + n(g_.hp.head_dim), "n_rot=" + n(g_.hp.n_rot),
                                   std::string("neox=") + (g_.hp.rope_type == RopeType::Neox ? "true" : "false"), "base=" + base.str(),
                                   "freq_scale=" + scale.str()},
                                  v + " s" + (factors ? " i:f32:" + n(g_.hp.n_rot / 2) : std::string()) + " o:f32:" + n(W) + ",T");
        std::vector<PlanArg> args = {act(op.inputs[0]), {ArgKind::Pos0, 0, 0}};
        if (factors) args.push_back({ArgKind::Weight, stored(op.inputs[1]).index, 0});
        args.push_back(act(op.output));
        step(k, args, name);
        break;
      }
      case OpKind::Attention: {
        // The cache's parts (runtime/src/kv_cache.h): f16 values, or Q8_0 quants + f16 scales.
        const int64_t KW = g_.hp.n_head_kv * g_.hp.head_dim;
        const bool q8 = plan_.kv_cache_type == KvCacheType::Q8_0;
        auto parts = [&](const char* role, const char* rows) {
          const std::string r = std::string(" ") + role + ":";
          return q8 ? r + "i8:" + n(KW) + "," + rows + r + "u16:" + n(KW / 32) + "," + rows : r + "u16:" + n(KW) + "," + rows;
        };
        auto views = [&](ArgKind kind, uint32_t layer) {
          std::vector<PlanArg> v = {{kind, layer, 0}};
          if (q8) v.push_back({kind, layer, 1});
          return v;
        };
        std::vector<std::string> store_params = {"width=" + n(KW)};
        if (q8) store_params.push_back("kv_type=q8_0");
        const uint32_t store = kernel("plm_gen_attention", "kv_store", store_params, "i:f32:" + n(KW) + ",T" + parts("o", "T"));
        const uint32_t L = uint32_t(op.layer);
        for (const auto& [input, kind, what] : {std::tuple{1, ArgKind::KCacheAppend, "kv_store k "}, std::tuple{2, ArgKind::VCacheAppend, "kv_store v "}}) {
          std::vector<PlanArg> args = {act(op.inputs[size_t(input)])};
          for (const PlanArg& a : views(kind, L)) args.push_back(a);
          step(store, args, what + out.name);
        }
        std::vector<std::string> params = {"heads=" + n(g_.hp.n_head), "kv_heads=" + n(g_.hp.n_head_kv), "head_dim=" + n(g_.hp.head_dim)};
        if (q8) params.push_back("kv_type=q8_0");
        auto form = [&](const char* f) {
          auto p = params;
          p.push_back(std::string("form=") + f);
          return kernel("plm_gen_attention", "attention", p,
                        "i:f32:" + n(W) + ",T" + parts("i", "P") + parts("i", "P") + " s o:f32:" + n(W) + ",T");
        };
        std::vector<PlanArg> args = {act(op.inputs[0])};
        for (ArgKind kind : {ArgKind::KCache, ArgKind::VCache})
          for (const PlanArg& a : views(kind, L)) args.push_back(a);
        args.push_back({ArgKind::Pos0, 0, 0});
        args.push_back(act(op.output));
        step(form("decode"), args, name, int32_t(form("prefill")));
        break;
      }
      case OpKind::SwiGLU:
      case OpKind::Add: {
        const char* fn = op.kind == OpKind::SwiGLU ? "swiglu" : "add";
        const std::string v = "i:f32:" + n(W) + ",T";
        const uint32_t k = kernel("plm_gen_ops", fn, {"n=" + n(W)}, v + " " + v + " o:f32:" + n(W) + ",T");
        step(k, {act(op.inputs[0]), act(op.inputs[1]), act(op.output)}, name);
        break;
      }
    }
  }

  void lower_matmul(const Op& op, const std::string& name) {
    const StoredTensor& t = stored(op.inputs[1]);
    const bool bias = op.inputs.size() > 2;
    const std::string N = n(t.n), K = n(t.k);
    std::vector<std::string> common = {"weight_type=" + std::string(format_param(t.format)), "k=" + K, "n=" + N,
                                       std::string("has_bias=") + (bias ? "true" : "false")};
    if (is_float(t.format)) {
      std::vector<PlanArg> args;
      std::string spec = weight_spec(t, &args) + " i:f32:" + K + ",T";
      args.push_back(act(op.inputs[0]));
      if (bias) {
        spec += " i:f32:" + N;
        args.push_back({ArgKind::Weight, stored(op.inputs[2]).index, 0});
      }
      spec += " o:f32:" + N + ",T";
      args.push_back(act(op.output));
      common.push_back(std::string("w.type=") + (t.format == WeightFormat::F16 ? "uint16" : "float32"));
      auto form = [&](const char* f) {
        auto p = common;
        p.push_back(std::string("form=") + f);
        return kernel("plm_gen_matmul", "matmul_float", p, spec);
      };
      step(form("decode"), args, name, int32_t(form("prefill")));
      return;
    }
    // Integer weights: quantise the activations, then the integer matmul.
    const int64_t nb = t.k / 32;
    const uint32_t xq = scratch(uint64_t(t.k)), xd = scratch(uint64_t(nb) * 4), xs = scratch(uint64_t(nb) * 4);
    // K-quant weights: activations scaled per 256 values, as llama.cpp's Q8_K.
    std::vector<std::string> qparams = {"k=" + K};
    if (is_kquant(t.format) && t.k % 256 == 0) qparams.push_back("block=256");
    const uint32_t qk = kernel("plm_gen_matmul", "quantize_q8", qparams,
                               "i:f32:" + K + ",T o:i8:" + K + ",T o:f32:" + n(nb) + ",T o:i32:" + n(nb) + ",T");
    step(qk, {act(op.inputs[0]), {ArgKind::Scratch, xq, 0}, {ArgKind::Scratch, xd, 0}, {ArgKind::Scratch, xs, 0}}, "quantize " + name);
    std::vector<PlanArg> args;
    std::string spec = weight_spec(t, &args);
    spec += " i:i8:" + K + ",T i:f32:" + n(nb) + ",T i:i32:" + n(nb) + ",T";
    args.push_back({ArgKind::Scratch, xq, 0});
    args.push_back({ArgKind::Scratch, xd, 0});
    args.push_back({ArgKind::Scratch, xs, 0});
    if (bias) {
      spec += " i:f32:" + N;
      args.push_back({ArgKind::Weight, stored(op.inputs[2]).index, 0});
    }
    spec += " o:f32:" + N + ",T";
    args.push_back(act(op.output));
    auto form = [&](const char* f) {
      auto p = common;
      p.push_back(std::string("form=") + f);
      if (has_f16_block_scales(t.format) && std::string(f) == "decode") p.push_back("decode_streams=" + n(decode_streams_));
      return kernel("plm_gen_matmul", "matmul", p, spec);
    };
    step(form("decode"), args, name, int32_t(form("prefill")));
  }

  const Graph& g_;
  const std::map<std::string, StoredTensor>& tensors_;
  ScheduleClass cls_;
  int decode_streams_;
  LoweredPlan plan_;
  std::map<int, uint32_t> value_slot_;
  std::vector<uint64_t> first_use_, last_use_;
};

}  // namespace

LoweredPlan lower_graph(const Graph& g, const std::map<std::string, StoredTensor>& tensors, ScheduleClass cls, KvCacheType kv_cache_type,
                        int decode_streams) {
  return Lowering(g, tensors, cls, kv_cache_type, decode_streams).run();
}

}  // namespace plm
