// Causal attention with grouped-query heads over the KV cache, stored as f16 or, with
// kv_type=q8_0, as GGUF's Q8_0 (int8 values with one f16 scale per 32 along the row:
// 34 bytes per 32 values instead of 64; quants and scales in separate arrays).
// Token t of the batch sits at position pos0 + t and attends to cache positions
// 0 .. pos0 + t (the batch's own keys are already stored by kv_store):
//   score(j) = q . k(j) / sqrt(head_dim),  out = sum_j softmax(score)(j) * v(j).
// Query head h reads kv head h / (heads / kv_heads).
// The cache holds IEEE halves as u16; they widen exactly with the bit trick
// f = reinterpret<f32>((h & 0x7fff) << 13) * 2^112 with the sign put back (Halide 14
// emulates f16 -> f32 conversions at great cost). Cache values are finite.
#include "generator_support.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;


class Attention : public Generator<Attention> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> heads{"heads", 8};
  GeneratorParam<int> kv_heads{"kv_heads", 2};
  GeneratorParam<int> head_dim{"head_dim", 32};
  GeneratorParam<std::string> kv_type{"kv_type", "f16"};  // f16 | q8_0
  Input<Buffer<float, 2>> q{"q"};           // [heads * head_dim][tokens]
  // Added in configure (their number depends on kv_type), in this order:
  //   f16:  k, v      u16 [kv_heads * head_dim][positions >= pos0 + tokens]
  //   q8_0: k, k_scales, v, v_scales: i8 [kv_heads * head_dim][positions] and
  //         u16 (f16 bits) [kv_heads * head_dim / 32][positions]
  std::vector<Input<Buffer<void>>*> kv_;
  Input<int32_t>* pos0_ = nullptr;
  Output<Buffer<float, 2>> out{"out"};  // [heads * head_dim][tokens]

  void configure() {
    const bool q8 = plm::kv_cache_is_q8_0(kv_type);
    for (const char* name : {"k", "k_scales", "v", "v_scales"}) {
      const bool scales = std::string(name).find("scales") != std::string::npos;
      if (scales && !q8) continue;
      kv_.push_back(add_input<Buffer<void>>(name, scales || !q8 ? UInt(16) : Int(8), 2));
    }
    pos0_ = add_input<int32_t>("pos0");
  }

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    const int H = heads, KVH = kv_heads, D = head_dim;
    plm::require(H % KVH == 0, "heads must be a multiple of kv_heads");
    const bool q8 = kv_.size() == 4;
    plm::require(!q8 || D % 32 == 0, "a q8_0 KV cache needs head_dim to be a multiple of 32");
    const int group = H / KVH;
    auto& k = *kv_[0];
    auto& v = *kv_[q8 ? 2 : 1];
    auto& pos0 = *pos0_;
    Var i("i"), d("d"), h("h"), j("j"), t("t"), u("u");
    Func kf("kf"), vf("vf"), score("score"), mx("mx"), e("e"), den("den"), num("num");
    if (q8) {
      auto& ks = *kv_[1];
      auto& vs = *kv_[3];
      kf(i, j) = f32(k(i, j)) * plm::widen_f16(ks(i / 32, j));
      vf(i, j) = f32(v(i, j)) * plm::widen_f16(vs(i / 32, j));
      for (auto* sc : {&ks, &vs}) (*sc).dim(0).set_bounds(0, KVH * D / 32).dim(1).set_stride(KVH * D / 32).dim(1).set_min(0);
    } else {
      kf(i, j) = plm::widen_f16(k(i, j));
      vf(i, j) = plm::widen_f16(v(i, j));
    }
    RDom rd(0, D, "rd");
    score(j, h, t) = 0.0f;
    score(j, h, t) += q(h * D + rd, t) * kf((h / group) * D + rd, j);
    Expr scaled = score(j, h, t) * (1.0f / std::sqrt(float(D)));
    RDom rj(0, k.dim(1).extent(), "rj");
    rj.where(rj <= pos0 + t);
    mx(h, t) = scaled.type().min();
    mx(h, t) = max(mx(h, t), score(rj, h, t) * (1.0f / std::sqrt(float(D))));
    e(j, h, t) = exp(scaled - mx(h, t));
    den(h, t) = 0.0f;
    den(h, t) += e(rj, h, t);
    num(d, h, t) = 0.0f;
    num(d, h, t) += e(rj, h, t) * vf((h / group) * D + d, rj);
    out(i, t) = num(i % D, i / D, t) / den(i / D, t);

    // Schedule: a task is one kv head for a block of 4 tokens. The task widens that kv
    // head's keys and values from f16 once, into scratch shared by its `group` query
    // heads and 4 tokens (widening per (token, head) cost more than the dots: prefill
    // attention of tinyllama went from 3.9 to 3.0 ms per layer for 64 tokens). Per
    // (token, head): scores and exponentials in a scratch line, dots vectorised along
    // head_dim through rfactor, so every score ends in a horizontal sum. This runs at
    // ~10% of the f32 FMA peak (pocketlm-kernel-bench attention_*: 20-25 GFLOP/s per
    // thread against 227; docs/kernels.md): the next step is scores vectorised along
    // positions over a transposed key scratch, and the value sum kept in registers.
    // (An earlier transposed-keys attempt measured no better; it was not profiled.)
    const int V = plm::f32_lanes(cls);
    const int TB = 4;
    Var io("io"), ii("ii"), g("g"), kvh("kvh"), to("to"), ti("ti"), tile("tile");
    out.split(i, io, ii, D)
        .split(io, kvh, g, group)
        .split(t, to, ti, TB, TailStrategy::GuardWithIf)
        .reorder(ii, g, ti, kvh, to)
        .fuse(kvh, to, tile)
        .parallel(tile);
    if (D % V == 0) out.vectorize(ii, V);
    kf.compute_at(out, tile).vectorize(i, V, TailStrategy::GuardWithIf);
    vf.compute_at(out, tile).vectorize(i, V, TailStrategy::GuardWithIf);
    for (Func f : {mx, den}) f.compute_at(out, g);
    e.compute_at(out, g).vectorize(j, V, TailStrategy::GuardWithIf);
    score.compute_at(out, g);
    if (D % V == 0) {
      RVar ro("ro"), ri("ri");
      Func partial = score.update().split(rd.x, ro, ri, V).rfactor(ri, u);
      partial.compute_at(score, j).vectorize(u);
      partial.update().vectorize(u);
    }
    num.compute_at(out, g);
    if (D % V == 0) {
      num.vectorize(d, V);
      num.update().vectorize(d, V);
    }
    q.dim(0).set_bounds(0, H * D).dim(1).set_stride(H * D);
    k.dim(0).set_bounds(0, KVH * D).dim(1).set_stride(KVH * D);
    v.dim(0).set_bounds(0, KVH * D).dim(1).set_stride(KVH * D);
    out.dim(0).set_bounds(0, H * D).dim(1).set_stride(H * D);
    k.dim(1).set_min(0);
    v.dim(1).set_min(0);
    q.dim(1).set_min(0);
    out.dim(1).set_min(0);
  }
};

// Stores the batch's keys or values into the cache (the runtime passes the cache rows
// pos0 .. pos0 + tokens - 1 as the outputs). f16: rounding to nearest even. q8_0:
// GGUF's Q8_0 blocks of 32 along the row, exactly as quantize_row (the reference
// quantiser, which matches llama.cpp's) makes them: d = absmax / 127,
// q = roundf(x / d) (halves away from zero), d stored as f16.
class KvStore : public Generator<KvStore> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> width{"width", 64};  // kv_heads * head_dim
  GeneratorParam<std::string> kv_type{"kv_type", "f16"};  // f16 | q8_0
  Input<Buffer<float, 2>> x{"x"};          // [width][tokens]
  // f16: cache u16 [width][tokens]. q8_0: cache i8 [width][tokens], scales u16 [width/32][tokens].
  Output<Buffer<void>>* cache_ = nullptr;
  Output<Buffer<uint16_t, 2>>* scales_ = nullptr;

  void configure() {
    const bool q8 = plm::kv_cache_is_q8_0(kv_type);
    cache_ = add_output<Buffer<void>>("cache", q8 ? Int(8) : UInt(16), 2);
    if (q8) scales_ = add_output<Buffer<uint16_t, 2>>("scales");
  }

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    auto& cache = *cache_;
    Var i("i"), t("t"), b("b");
    x.dim(0).set_bounds(0, width).dim(1).set_stride(width);
    if (!scales_) {
      cache(i, t) = reinterpret<uint16_t>(cast<float16_t>(x(i, t)));
    } else {
      plm::require(int(width) % 32 == 0, "a q8_0 KV cache needs width to be a multiple of 32");
      auto& scales = *scales_;
      RDom r(0, 32, "r");
      Func d("d"), id("id");
      d(b, t) = maximum(abs(x(b * 32 + r, t))) / 127.0f;
      id(b, t) = select(d(b, t) != 0.0f, 1.0f / d(b, t), 0.0f);
      Expr y = x(i, t) * id(i / 32, t);
      Expr whole = trunc(y);  // roundf: y - trunc(y) is exact
      Expr rounded = whole + select(abs(y - whole) >= 0.5f, select(y < 0.0f, -1.0f, 1.0f), 0.0f);
      cache(i, t) = i8(rounded);
      scales(b, t) = reinterpret<uint16_t>(cast<float16_t>(d(b, t)));
      d.compute_root();  // shared by both outputs
      id.compute_at(cache, t);
      scales.dim(0).set_bounds(0, int(width) / 32).dim(1).set_stride(int(width) / 32);
    }
    cache.vectorize(i, plm::f32_lanes(cls), TailStrategy::GuardWithIf);
    cache.dim(0).set_bounds(0, width).dim(1).set_stride(width);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Attention, attention)
HALIDE_REGISTER_GENERATOR(KvStore, kv_store)
