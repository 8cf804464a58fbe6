// Causal attention with grouped-query heads over the KV cache, stored as f16 or, with
// kv_type=q8_0, as GGUF's Q8_0 (int8 values with one f16 scale per 32 along the row:
// 34 bytes per 32 values instead of 64; quants and scales in separate arrays).
// Token t of the batch sits at position pos0 + t and attends to cache positions
// 0 .. pos0 + t (the batch's own keys are already stored by kv_store):
//   score(j) = q . k(j) / sqrt(head_dim),  out = sum_j softmax(score)(j) * v(j).
// Query head h reads kv head h / (heads / kv_heads).
// The cache holds IEEE halves as u16; they widen exactly in integer bits (widen_f16 in
// generator_support.h: Halide 14 emulates f16 -> f32 conversions at great cost, and
// no subnormal f32 is ever an operand). Cache values are finite.
//
// Two forms, as for the matmuls: `prefill` (the runtime sends it whole blocks of 4
// tokens; any count works) and `decode` (the rest, usually one token). Two ways to
// lay the work on vector lanes, chosen per form and shape (see generate()):
//   rows: the lanes are query rows (the heads of one kv head x a few tokens). A score
//     is an FMA of a row vector of queries with one broadcast key element, softmax
//     runs lane by lane, the value sum broadcasts one value element per FMA: no
//     horizontal sums, keys read in their cache layout.
//   dots: the lanes run along head_dim; every score ends in a horizontal sum. Better
//     only when a kv head has too few query rows to fill half a vector (decode with
//     GQA 4 on AVX-512, say), where `rows` would compute mostly padding.
#include <algorithm>
#include <cmath>

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
  GeneratorParam<std::string> form{"form", "decode"};    // decode | prefill
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
    const std::string f = form;
    plm::require(f == "decode" || f == "prefill", "form must be decode or prefill");
    const int G = H / KVH, V = plm::f32_lanes(cls);
    // Keys and values as f32, read at clamped positions: a rounded-up block of scores
    // past the cache reads the last key, and the causal mask drops it.
    Var d("d"), j("j"), kvh("kvh");
    const Expr P = kv_[0]->dim(1).extent();
    const Expr jc = clamp(j, 0, P - 1);
    auto& k = *kv_[0];
    auto& v = *kv_[q8 ? 2 : 1];
    if (q8) {
      auto& ks = *kv_[1];
      auto& vs = *kv_[3];
      kf(d, j, kvh) = f32(k(kvh * D + d, jc)) * plm::widen_f16(ks((kvh * D + d) / 32, jc));
      vf(d, j, kvh) = f32(v(kvh * D + d, jc)) * plm::widen_f16(vs((kvh * D + d) / 32, jc));
      for (auto* sc : {&ks, &vs}) (*sc).dim(0).set_bounds(0, KVH * D / 32).dim(1).set_stride(KVH * D / 32).dim(1).set_min(0);
    } else {
      kf(d, j, kvh) = plm::widen_f16(k(kvh * D + d, jc));
      vf(d, j, kvh) = plm::widen_f16(v(kvh * D + d, jc));
    }
    const bool rows = f == "prefill" || 2 * G >= V;
    if (rows) rows_attention(V, G, f == "prefill" ? tokens_per_task(G, V) : 1);
    else dots_attention(V, G);
    q.dim(0).set_bounds(0, H * D).dim(1).set_stride(H * D);
    k.dim(0).set_bounds(0, KVH * D).dim(1).set_stride(KVH * D);
    v.dim(0).set_bounds(0, KVH * D).dim(1).set_stride(KVH * D);
    out.dim(0).set_bounds(0, H * D).dim(1).set_stride(H * D);
    k.dim(1).set_min(0);
    v.dim(1).set_min(0);
    q.dim(1).set_min(0);
    out.dim(1).set_min(0);
  }

 private:
  Func kf{"kf"}, vf{"vf"};  // [head_dim][position][kv head], f32

  // Query rows as lanes. A task is one kv head `kvh` and a block `to` of TB tokens;
  // its rows are r = ti * G + g (token to*TB + ti, head kvh*G + g), padded to whole
  // vectors. Rows past the batch (a tail block, or padding) repeat the last token:
  // computed, never stored.
  void rows_attention(int V, int G, int TB) {
    const int D = head_dim;
    const int RP = (G * TB + V - 1) / V * V;
    auto& pos0 = *pos0_;
    const Expr T = q.dim(1).extent(), P = kv_[0]->dim(1).extent();
    Var r("r"), d("d"), j("j"), kvh("kvh"), to("to");
    Expr token = min(to * TB + r / G, T - 1);
    Expr tpos = pos0 + token;  // the row's position: it sees keys 0 .. tpos
    Func qT("qT"), sacc("sacc"), score("score"), mx("mx"), e("e"), den("den"), nacc("nacc"), num("num");
    qT(r, d, kvh, to) = q((kvh * G + r % G) * D + d, token) * (1.0f / std::sqrt(float(D)));
    RDom rd(0, D, "rd");
    sacc(r, j, kvh, to) = 0.0f;
    sacc(r, j, kvh, to) += qT(r, rd, kvh, to) * kf(rd, j, kvh);
    score(r, j, kvh, to) = sacc(r, j, kvh, to);
    // Causal: the task's last row sees keys up to pos0 + to*TB + TB - 1, so the
    // reductions stop there; earlier rows mask the keys they may not see.
    RDom rj(0, P, "rj");
    rj.where(rj <= pos0 + to * TB + (TB - 1));
    const Expr lowest = Float(32).min();
    mx(r, kvh, to) = lowest;
    mx(r, kvh, to) = max(mx(r, kvh, to), select(rj <= tpos, score(r, rj, kvh, to), lowest));
    e(r, j, kvh, to) = select(j <= tpos, exp(score(r, j, kvh, to) - mx(r, kvh, to)), 0.0f);
    den(r, kvh, to) = 0.0f;
    den(r, kvh, to) += e(r, rj, kvh, to);
    nacc(r, d, kvh, to) = 0.0f;
    nacc(r, d, kvh, to) += e(r, rj, kvh, to) * vf(d, rj, kvh);
    num(r, d, kvh, to) = nacc(r, d, kvh, to);
    Var i("i"), t("t");
    Expr h = i / D, row = (t % TB) * G + h % G;
    out(i, t) = num(row, i % D, h / G, t / TB) / den(row, h / G, t / TB);

    // Tasks (kvh, to) in parallel; everything else per task, in register blocks of
    // ~8 accumulators: nv row vectors x (JB keys | DB value dimensions).
    const int nv = RP / V, JB = std::max(1, 8 / nv), DB = std::max(1, std::min(D, 8 / nv));
    const TaskLoops loops = split_tasks(G, TB);
    for (Func f : {qT, kf, vf, score, mx, e, den, num}) f.compute_at(out, loops.tile);
    for (Func f : {qT, score, mx, e, den, num}) f.bound(r, 0, RP);
    Var ro("ro"), ri("ri"), jo("jo"), ji("ji"), dO("dO"), di("di");
    qT.vectorize(r, V);
    for (Func f : {kf, vf}) f.vectorize(d, V, TailStrategy::GuardWithIf);
    score.split(j, jo, ji, JB, TailStrategy::RoundUp).reorder(r, ji, jo).vectorize(r, V).unroll(ji);
    sacc.compute_at(score, jo).bound_extent(j, JB).split(r, ro, ri, V).vectorize(ri).unroll(ro).unroll(j);
    sacc.update().split(r, ro, ri, V).reorder(ri, ro, j, rd).vectorize(ri).unroll(ro).unroll(j);
    for (Func f : {mx, den}) {
      f.vectorize(r, V);
      f.update().split(r, ro, ri, V).reorder(ri, ro, rj).vectorize(ri).unroll(ro);
    }
    e.vectorize(r, V);
    num.split(d, dO, di, DB, TailStrategy::GuardWithIf).reorder(r, di, dO).vectorize(r, V);
    nacc.compute_at(num, dO).bound_extent(d, DB).split(r, ro, ri, V).vectorize(ri).unroll(ro).unroll(d);
    nacc.update().split(r, ro, ri, V).reorder(ri, ro, d, rj).vectorize(ri).unroll(ro).unroll(d);
  }

  // Lanes along head_dim. A task is one kv head for a block of 4 tokens; per (token,
  // head) the scores and exponentials fill a scratch line, each score a vector dot
  // through rfactor ending in a horizontal sum; the value sum keeps one accumulator
  // per vector of head_dim, all advanced by each key.
  void dots_attention(int V, int G) {
    const int D = head_dim;
    auto& pos0 = *pos0_;
    Var i("i"), d("d"), h("h"), j("j"), t("t"), u("u");
    Func score("score"), mx("mx"), e("e"), den("den"), num("num");
    RDom rd(0, D, "rd");
    score(j, h, t) = 0.0f;
    score(j, h, t) += q(h * D + rd, t) * kf(rd, j, h / G);
    Expr scaled = score(j, h, t) * (1.0f / std::sqrt(float(D)));
    RDom rj(0, kv_[0]->dim(1).extent(), "rj");
    rj.where(rj <= pos0 + t);
    mx(h, t) = scaled.type().min();
    mx(h, t) = max(mx(h, t), score(rj, h, t) * (1.0f / std::sqrt(float(D))));
    e(j, h, t) = exp(scaled - mx(h, t));
    den(h, t) = 0.0f;
    den(h, t) += e(rj, h, t);
    num(d, h, t) = 0.0f;
    num(d, h, t) += e(rj, h, t) * vf(d, rj, h / G);
    out(i, t) = num(i % D, i / D, t) / den(i / D, t);

    const TaskLoops loops = split_tasks(G, 4);
    if (D % V == 0) out.vectorize(loops.dim, V);
    kf.compute_at(out, loops.tile).vectorize(d, V, TailStrategy::GuardWithIf);
    vf.compute_at(out, loops.tile).vectorize(d, V, TailStrategy::GuardWithIf);
    for (Func f : {mx, den}) f.compute_at(out, loops.head);
    e.compute_at(out, loops.head).vectorize(j, V, TailStrategy::GuardWithIf);
    score.compute_at(out, loops.head);
    num.compute_at(out, loops.head);
    if (D % V == 0) {
      RVar ro("ro"), ri("ri");
      Func partial = score.update().split(rd.x, ro, ri, V).rfactor(ri, u);
      partial.compute_at(score, j).vectorize(u);
      partial.update().vectorize(u);
      Var dO("dO"), di("di");
      num.vectorize(d, V);
      num.update().split(d, dO, di, V).reorder(di, dO, rj).vectorize(di).unroll(dO);
    }
  }

  // The task loop of both layouts: one kv head x a block of TB tokens per task, in
  // parallel; inside, the block's tokens, the kv head's query heads, head_dim.
  struct TaskLoops {
    Var tile{"tile"}, head{"head"}, dim{"dim"};
  };
  TaskLoops split_tasks(int G, int TB) {
    TaskLoops l;
    Var i("i"), t("t"), io("io"), kvh("kvh"), to("to"), ti("ti");  // out's own i, t
    out.split(i, io, l.dim, head_dim)
        .split(io, kvh, l.head, G)
        .split(t, to, ti, TB, TailStrategy::GuardWithIf)
        .reorder(l.dim, l.head, ti, kvh, to)
        .fuse(kvh, to, l.tile)
        .parallel(l.tile);
    return l;
  }

  // Tokens per prefill task: enough that the task's G * TB query rows fill whole
  // vectors with at most ~15% padding, preferring fewer (more tasks, less scratch).
  static int tokens_per_task(int G, int V) {
    int best = 1;
    double best_waste = 1e9;
    for (int tb = 1; G * tb <= std::max(4 * V, G); ++tb) {
      const int rows = G * tb, padded = (rows + V - 1) / V * V;
      const double waste = double(padded - rows) / rows;
      if (rows >= V && waste <= 0.15) return tb;
      if (waste < best_waste) best = tb, best_waste = waste;
    }
    return best;
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
