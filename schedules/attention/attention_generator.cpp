// Causal attention with grouped-query heads over an f16 KV cache.
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
  Input<Buffer<float, 2>> q{"q"};           // [heads * head_dim][tokens]
  Input<Buffer<uint16_t, 2>> k{"k"};        // [kv_heads * head_dim][positions >= pos0 + tokens]
  Input<Buffer<uint16_t, 2>> v{"v"};
  Input<int32_t> pos0{"pos0"};
  Output<Buffer<float, 2>> out{"out"};      // [heads * head_dim][tokens]

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    const int H = heads, KVH = kv_heads, D = head_dim;
    plm::require(H % KVH == 0, "heads must be a multiple of kv_heads");
    const int group = H / KVH;
    Var i("i"), d("d"), h("h"), j("j"), t("t"), u("u");
    Func kf("kf"), vf("vf"), score("score"), mx("mx"), e("e"), den("den"), num("num");
    kf(i, j) = plm::widen_f16(k(i, j));
    vf(i, j) = plm::widen_f16(v(i, j));
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
    // head_dim through rfactor. (Keys transposed to vectorise scores along positions
    // measured no better: the kernel is then near the FMA peak.)
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

// Stores the batch's keys or values into the f16 cache (the runtime passes the
// cache rows pos0 .. pos0 + tokens - 1 as the output), rounding to nearest even.
class KvStore : public Generator<KvStore> {
 public:
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> width{"width", 64};  // kv_heads * head_dim
  Input<Buffer<float, 2>> x{"x"};          // [width][tokens]
  Output<Buffer<uint16_t, 2>> cache{"cache"};

  void generate() {
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    Var i("i"), t("t");
    cache(i, t) = reinterpret<uint16_t>(cast<float16_t>(x(i, t)));
    cache.vectorize(i, plm::f32_lanes(cls), TailStrategy::GuardWithIf);
    x.dim(0).set_bounds(0, width).dim(1).set_stride(width);
    cache.dim(0).set_bounds(0, width).dim(1).set_stride(width);
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(Attention, attention)
HALIDE_REGISTER_GENERATOR(KvStore, kv_store)
