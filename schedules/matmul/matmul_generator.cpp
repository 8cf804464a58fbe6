// The quantised matmul family: out[t][n] = sum_k W[n][k] * x[t][k] (+ bias[n]) with
// W in Q8_0, Q4_0, Q4_K, Q5_K or Q6_K and x quantised per 32-block to int8 by
// `quantize_q8`. Integer dot products per weight block, then
//   block value = xd * (scale * (dot - z * sum x) - min * sum x)
// with the weight block's scale, its min (Q4_K, Q5_K) and zero point z.
//
// Weight layout (written by compiler/layout/, described in docs/weight-layouts.md):
// rows interleaved in tiles of R (matmul_tile_rows: 64 for AVX-512, else 16); within
// a tile, for each group of 4 consecutive k the R rows' 4 bytes are adjacent, so each
// 64-byte load feeds one vpdpbusd (16 int32 lanes = 16 rows) or four sdot (arm64):
// byte j of row `lane`'s quad c is w(j + 4 * lane + 4 * R * c, tile). (One dimension
// per tile rather than (j, lane, quad): a block's bytes are then one interval, which
// is what Halide's prefetch needs to emit one prefetch per cache line.)
//   byte formats (Q8_0, Q5_K): quad c covers k = 4c..4c+3 of the block.
//     Q8_0: x86 stores q+128 as u8 (vpdpbusd is u8 x i8, z = 128), arm64 the i8 q.
//     Q5_K: q in 0..31.
//   nibble formats (Q4_0, Q4_K): a 32-block is 4 quads of bytes; byte j of quad c
//     holds element 4c+j in its low nibble and 16+4c+j in its high nibble. Q4_0 z = 8.
//   Q6_K: GGUF's 6 bits a value, q in 0..63 (z = 32) from a nibble and a bit pair
//     (q6_k_layout.h); blocks of 16, read a 32-group (two blocks) per step.
// Scales: Q4_0 and Q8_0 keep GGUF's f16 scales inside the weights, after each block's
// quads (f16_block_layout.h: one stream; byte j of quad c of block b is then at
// j + 4 * lane + 4 * R * c + b * f16_block_bytes), widened exactly by widen_f16. The
// K-quants keep GGUF's fields as bytes per tile in a buffer of their own, wd(byte,
// tile): Q4_K and Q5_K f16 d and dmin with 6-bit sub-scales and sub-mins
// (k_quant_scales.h), Q6_K f16 d and int8 sub-scales (q6_k_layout.h). The zero point
// comes off exactly in integers with the activation block sums.
//
// Two forms, as DESIGN.md asks: `decode` (any token count, one token at a time: the
// GEMV that streams weights) and `prefill` (token count a multiple of the class's
// prefill_token_block, 8 or 4: each weight load feeds that many tokens' dots; the
// runtime sends the remainder to the decode form).
#include <algorithm>

#include "generator_support.h"
#include "f16_block_layout.h"
#include "k_quant_scales.h"
#include "q6_k_layout.h"

namespace {

using namespace Halide;
using namespace Halide::ConciseCasts;

class MatMul : public Generator<MatMul> {
 public:
  GeneratorParam<std::string> weight_type{"weight_type", "q8_0"};  // q8_0 | q4_0 | q4_k | q5_k | q6_k
  GeneratorParam<std::string> schedule_class{"schedule_class", "x86-avx512-vnni"};
  GeneratorParam<int> k{"k", 256};  // input features, a multiple of 32
  GeneratorParam<int> n{"n", 256};  // output features
  GeneratorParam<std::string> form{"form", "decode"};  // decode | prefill
  GeneratorParam<bool> has_bias{"has_bias", false};     // qwen2's q/k/v projections
  // Decode, Q4_0 and Q8_0: at most this many consecutive row tiles read in turns (the
  // SoC's SocProfile::decode_streams; 1 reads one tile after the other).
  GeneratorParam<int> decode_streams{"decode_streams", 1};

  Output<Buffer<float, 2>> out{"out"};  // [n][tokens]
  // Inputs, in this order (added in configure: Q4_0 and Q8_0 have no wd, their scales are in w):
  Input<Buffer<uint8_t, 2>>* w_ = nullptr;   // [bytes per tile][tiles]
  Input<Buffer<uint8_t, 2>>* wd_ = nullptr;  // K-quants: scale bytes [bytes per tile][tiles]
  Input<Buffer<int8_t, 2>>* xq_ = nullptr;  // [k][tokens]
  Input<Buffer<float, 2>>* xd_ = nullptr;   // [k/32][tokens] activation block scales
  Input<Buffer<int32_t, 2>>* xs_ = nullptr; // [k/32][tokens] activation block sums
  Input<Buffer<float, 1>>* bias = nullptr;  // [n], only with has_bias (last input)

  void configure() {
    const std::string wt = weight_type;
    w_ = add_input<Buffer<uint8_t, 2>>("w");
    if (!plm::f16_block_scales(wt)) wd_ = add_input<Buffer<uint8_t, 2>>("wd");
    xq_ = add_input<Buffer<int8_t, 2>>("xq");
    xd_ = add_input<Buffer<float, 2>>("xd");
    xs_ = add_input<Buffer<int32_t, 2>>("xs");
    if (has_bias) bias = add_input<Buffer<float, 1>>("bias");
  }

  void generate() {
    auto& w = *w_;
    auto& xq = *xq_;
    auto& xd = *xd_;
    auto& xs = *xs_;
    const plm::ScheduleClass cls = plm::parse_schedule_class(schedule_class);
    const std::string wt = weight_type;
    plm::require(wt == "q8_0" || wt == "q4_0" || wt == "q4_k" || wt == "q5_k" || wt == "q6_k",
                 "weight_type must be q8_0, q4_0, q4_k, q5_k or q6_k");
    plm::require(int(k) % 32 == 0 && int(k) > 0, "k must be a positive multiple of 32");
    const bool u8_weights = !plm::is_arm64(cls);
    const bool prefill = std::string(form) == "prefill";
    plm::require(prefill || std::string(form) == "decode", "form must be decode or prefill");
    const bool nibbles = wt == "q4_0" || wt == "q4_k";
    const bool q6 = wt == "q6_k", f16_scales = plm::f16_block_scales(wt);
    plm::require(int(decode_streams) >= 1 && int(decode_streams) <= 16, "decode_streams must be 1..16");
    plm::require(int(decode_streams) == 1 || (!prefill && f16_scales), "decode_streams > 1 is for the decode form of q4_0 and q8_0");
    const int B = q6 ? 16 : 32;  // weight block
    const int zero_point = wt == "q4_0" ? 8 : (wt == "q8_0" && u8_weights) ? 128 : q6 ? 32 : 0;
    const int R = plm::matmul_tile_rows(cls);
    const int nb = int(k) / 32, nwb = int(k) / B, tiles = (int(n) + R - 1) / R;
    // Bytes per row tile: 4-byte quads of R rows (Q4_0, Q8_0: and the block scales; Q6_K:
    // 24 R bytes per 32 values).
    const int tile_bytes = q6           ? plm::q6_k::quant_bytes(int(k), R)
                           : f16_scales ? plm::f16_blocks::tile_bytes(int(k), nibbles, R)
                                        : 4 * R * (nibbles ? nwb * 4 : nwb * (B / 4));

    // --- the algorithm ---
    r = RDom(0, 4, 0, B / 4, "r");  // r.x: byte within a quad, r.y: quad within the block
    Expr wv;
    if (q6) {
      Expr q = plm::q6_k::quant(w, b, r.y, r.x, lane, tile, R);
      wv = u8_weights ? i32(q) : i32(cast<int8_t>(q));
    } else if (nibbles) {
      // Low nibbles for quads 0-3, high nibbles for 4-7. u8 arithmetic throughout, so
      // that the widening-multiply pattern (vpdpbusd u8 x i8, sdot i8 x i8) survives.
      Expr byte = f16_scales ? plm::f16_blocks::quant(w, b, r.y % 4, r.x, lane, tile, true, R)
                             : w(r.x + 4 * lane + 4 * R * (b * 4 + r.y % 4), tile);
      Expr nib = select(r.y < 4, byte & cast<uint8_t>(15), byte >> cast<uint8_t>(4));
      wv = u8_weights ? i32(nib) : i32(cast<int8_t>(nib));
    } else {
      Expr byte = f16_scales ? plm::f16_blocks::quant(w, b, r.y, r.x, lane, tile, false, R)
                             : w(r.x + 4 * lane + 4 * R * (b * (B / 4) + r.y), tile);
      wv = u8_weights ? i32(byte) : i32(cast<int8_t>(byte));
    }
    dot(lane, tile, b, t) = 0;
    dot(lane, tile, b, t) += wv * i32(xq(b * B + r.y * 4 + r.x, t));
    // Activation sums per weight block: the 32-block sums, or for 16-blocks computed here.
    Func xsum("xsum");
    if (B == 32) {
      xsum(b, t) = xs(b, t);
    } else {
      RDom r16(0, 16, "r16");
      xsum(b, t) = sum(i32(xq(b * 16 + r16, t)));
      xsum.compute_root();
    }
    // rb: the activation blocks of 32 (Q6_K: its two 16-blocks in one step, so that a
    // step reads one interval of weights: what the prefetch asks for).
    rb = RDom(0, nb, "rb");
    Expr xdv = xd(rb, t);
    // The K-quants' f32 block scales (part 0) and mins (part 1, Q4_K and Q5_K) of
    // weight block b of super-block `super`: a Func, so that the decode can form a
    // super-block's at once (schedule_matmul; the prefill reads them inline).
    const int blocks_per_super = 256 / B;
    auto k_scale = [&](const Expr& blk, int part) {
      return k_scales(lane, tile, blk % blocks_per_super, part, blk / blocks_per_super);
    };
    if (q6) k_scales(lane, tile, b, part, super) = plm::q6_k::scale(*wd_, super * blocks_per_super + b, lane, tile, R);
    else if (!f16_scales) k_scales(lane, tile, b, part, super) = plm::k_quant_scales::scale_or_min(*wd_, part, super * blocks_per_super + b, lane, tile, R);
    Expr block;
    if (q6) {
      for (int h = 0; h < 2; ++h) {
        Expr b16 = 2 * rb + h;
        Expr part = f32(dot(lane, tile, b16, t) - zero_point * xsum(b16, t)) * k_scale(b16, 0);
        block = h == 0 ? part : block + part;
      }
    } else if (f16_scales) {
      block = f32(dot(lane, tile, rb, t) - zero_point * xsum(rb, t)) * plm::f16_blocks::scale(w, rb, lane, tile, nibbles, R);
    } else {
      block = f32(dot(lane, tile, rb, t) - zero_point * xsum(rb, t)) * k_scale(rb, 0) - f32(xsum(rb, t)) * k_scale(rb, 1);
    }
    acc(lane, tile, t) = 0.0f;
    acc(lane, tile, t) += xdv * block;
    // arm64-i8mm prefill of Q8_0/Q4_0: the same values from the smmla micro-kernel
    // (schedules/matmul/i8mm_microkernel.h), which Halide 14 cannot emit itself.
    const bool i8mm = cls == plm::ScheduleClass::Arm64I8mm && prefill && (wt == "q8_0" || wt == "q4_0");
    Func tiles_acc = acc;
    if (i8mm) {
      tiles_acc = Func("i8mm_acc");
      tiles_acc.define_extern("plm_i8mm_prefill_tile", {w, xq, xd, xs, Expr(int(k)), Expr(nibbles ? 1 : 0)}, Float(32),
                              {lane, tile, t}, NameMangling::C);
    }
    Expr y = tiles_acc(o % R, o / R, t);
    out(o, t) = bias ? y + (*bias)(o) : y;

    // --- the schedule for this class ---
    if (i8mm) schedule_i8mm(tiles_acc, R);
    else schedule_matmul(cls, R, prefill, tile_bytes / nb, f16_scales);
    if (q6 && !i8mm) {
      // A step's two 16-blocks unrolled: each one's nibble half and bit pairs are then
      // constant shifts, and the second block reuses the first one's nibble loads.
      dot.unroll(b);
      dot.update().unroll(b);
    }

    // Static shapes: strides fold into constants and the entry check validates buffers.
    w.dim(0).set_bounds(0, tile_bytes).dim(1).set_bounds(0, tiles).set_stride(tile_bytes);
    if (!f16_scales) {
      const int sb = q6 ? plm::q6_k::scale_bytes(int(k), R) : plm::k_quant_scales::bytes(int(k), R);
      wd_->dim(0).set_bounds(0, sb).dim(1).set_bounds(0, tiles).set_stride(sb);
    }
    xq.dim(0).set_bounds(0, k).dim(1).set_stride(k);
    xd.dim(0).set_bounds(0, nb).dim(1).set_stride(nb);
    xs.dim(0).set_bounds(0, nb).dim(1).set_stride(nb);
    out.dim(0).set_bounds(0, n).dim(1).set_stride(n);
    if (bias) bias->dim(0).set_bounds(0, n);
    xq.dim(1).set_min(0);
    xd.dim(1).set_min(0);
    xs.dim(1).set_min(0);
    out.dim(1).set_min(0);
    if (prefill) {
      const int TB = plm::prefill_token_block(cls);
      out.dim(1).set_extent((out.dim(1).extent() / TB) * TB);  // asserts a whole number of blocks
    }
  }

 private:
  Var lane{"lane"}, tile{"tile"}, b{"b"}, part{"part"}, super{"super"}, t{"t"}, o{"o"}, oo{"oo"}, oi{"oi"};
  Func dot{"dot"}, acc{"acc"}, k_scales{"k_scales"};
  RDom r, rb;

  // The micro-kernel computes one row tile for each block of 4 tokens.
  void schedule_i8mm(Func tiles_acc, int R) {
    Var to("to"), ti("ti");
    const int TB = plm::prefill_token_block(plm::ScheduleClass::Arm64I8mm);
    plm::require(TB == 4, "the i8mm micro-kernel computes blocks of 4 tokens");
    const TailStrategy tail = int(n) % R == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    out.split(o, oo, oi, R, tail).split(t, to, ti, TB, TailStrategy::RoundUp).reorder(oi, ti, to, oo);
    out.vectorize(oi, 4).unroll(ti);
    // A fixed 16 x 1 x 4 block: stack storage, not a heap allocation per call.
    tiles_acc.compute_at(out, to).bound_storage(lane, R).bound_storage(tile, 1).bound_storage(t, TB);
    parallel_tiles((int(n) + R - 1) / R);
  }

  // Tasks of 4 consecutive tiles: long sequential streams for the prefetcher.
  void parallel_tiles(int tiles) {
    if (tiles >= 16) {
      Var ooo("ooo"), ooi("ooi");
      out.split(oo, ooo, ooi, 4, TailStrategy::GuardWithIf).parallel(ooo);
    } else if (tiles >= 4) {
      out.parallel(oo);
    }
  }

  // Tiles a decode GEMV reads in turns: at most `wanted` (halving), a divisor of the tile
  // count so no group reads past the last tile, leaving at least 4 groups (the groups
  // are the parallel tasks). Formats with f16 block scales (Q4_0, Q8_0) only: Q6_K lost
  // 15-25% with turns on the Xeon. Whether turns pay is the CPU's matter (the SoC
  // catalog's decode_streams): on a Sapphire Rapids Xeon (pocketlm-kernel-bench gemv,
  // 1 thread) Q8_0 gained 5-14% and Q4_0 0-10% with 4; on a Zen 5 the same kernels cost
  // a quarter to a third of generation speed (docs/kernels.md, "Several tiles in turns"
  // and "Turns are the SoC's choice").
  static int decode_tile_streams(int wanted, bool f16_scales, int tiles) {
    if (!f16_scales) return 1;
    for (int g = wanted; g >= 2; g /= 2)
      if (tiles % g == 0 && tiles / g >= 4) return g;
    return 1;
  }
  // Blocks per turn of a tile: the most within 2 KiB that divide the row's block count
  // (so every turn is whole). Finer turns keep more streams moving: a read-only loop
  // on one Xeon core streamed 14 GB/s from 4 streams in 512-byte turns, 11.3 in 4 KiB
  // turns, 10.6-11.8 from one stream.
  static int decode_chunk_blocks(int nb, int block_bytes) {
    for (int c = std::max(1, 2048 / block_bytes); c > 1; --c)
      if (nb % c == 0) return c;
    return 1;
  }

  // Rows of the prefill register block (see schedule_matmul). AVX-512: one zmm of int32
  // lanes; the whole 64-row tile x 4 tokens (16 + 16 zmm of dots and sums) spilled every
  // block, and Q4_0 prefill got 1.3-1.6x faster with 16 rows (Q8_0 the same). AVX2 keeps
  // its 16-row tile: one ymm of rows measured 0.60-0.77x (its vpmaddwd path widens a
  // block's weights to 16 bits first; `pocketlm-kernel-bench --class=x86-avx2`). arm64:
  // unmeasured (qemu only), so unchanged.
  static int prefill_block_rows(plm::ScheduleClass cls, int R) { return cls == plm::ScheduleClass::X86Avx512Vnni ? 16 : R; }

  // One row tile per iteration of the parallel loop. Decode: one token at a time, the
  // R lanes give R/16 (x86) or R/4 (arm64) independent dot chains. Prefill: blocks of
  // TB tokens, so every weight vector loaded feeds TB dots; every token of the batch
  // reuses the tile's weights while they are in cache.
  void schedule_matmul(plm::ScheduleClass cls, int R, bool prefill, int block_bytes, bool f16_scales) {
    using plm::ScheduleClass;
    const TailStrategy tail = int(n) % R == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    const int tiles = (int(n) + R - 1) / R;
    Var to("to"), ti("ti");
    out.split(o, oo, oi, R, tail);
    if (prefill) {
      // The register block: `sub` rows x TB tokens of int32 dots and f32 sums, plus the
      // unpacked weights. Every weight vector loaded still feeds TB tokens' dots; the
      // tile's other rows read the next vectors. The split is of the update's own lanes,
      // with the reduction over the row's blocks inside each part: bounds stay exact (a
      // split of the consumer's rows made Halide compute the whole tile per part, as it
      // cannot see that o % R stays within one).
      const int sub = prefill_block_rows(cls, R);
      Var lh("lh"), ll("ll");
      const int TB = plm::prefill_token_block(cls);
      out.split(t, to, ti, TB, TailStrategy::RoundUp).reorder(oi, ti, to, oo).vectorize(oi).unroll(ti);
      acc.compute_at(out, to).vectorize(lane).unroll(t);
      acc.update().split(lane, lh, ll, sub).reorder(ll, t, rb.x, lh).vectorize(ll).unroll(t);
    } else {
      out.reorder(oi, t, oo).vectorize(oi);
      acc.compute_at(out, t).vectorize(lane);
      const int G = decode_tile_streams(decode_streams, f16_scales, tiles);
      RVar rbo("rbo"), rbi("rbi"), rbs("rbs"), rbj("rbj");
      // Both schedules keep the row lanes inside the block loop: Halide computes a
      // prefetch's box from the loop body it is placed in, and with the (vectorised)
      // lanes outside it that box was one row's bytes of a block, 13 of Q4_0's 16 lines
      // (R = 64).
      if (G > 1) {
        // G consecutive tiles take turns of C blocks each: G streams of weights (and of
        // scales) for the hardware prefetcher to run ahead on at once. The tiles' sums
        // wait in acc between turns; a turn is one loop, so its registers are one
        // tile's (the tiles side by side in one loop body spilled the weights).
        Var og("og"), os("os");
        out.split(oo, og, os, G, TailStrategy::RoundUp).reorder(oi, os, t, og);
        acc.update().split(rb.x, rbo, rbi, decode_chunk_blocks(int(k) / 32, block_bytes)).reorder(lane, rbi, tile, rbo).vectorize(lane);
        dot.compute_at(acc, rbi);
        out.parallel(og);
      } else if (f16_scales) {
        acc.update().reorder(lane, rb.x).vectorize(lane);
        dot.compute_at(acc, rb.x);
        parallel_tiles(tiles);
      } else {
        // The K-quants: a super-block's scales (and mins) formed at once, before its 8
        // steps of 32 values, so d and dmin are widened once per super-block rather than
        // in every step. The per-step widening had kept the Q4_K GEMV compute-bound at
        // ~21 GB/s on a Zen 5 core; with it hoisted it reads ~27 (docs/kernels.md,
        // "K-quant scales per super-block").
        acc.update().split(rb.x, rbs, rbj, 8).reorder(lane, rbj, rbs).vectorize(lane);
        dot.compute_at(acc, rbj);
        k_scales.compute_at(acc, rbs).vectorize(lane);
        parallel_tiles(tiles);
      }
      if (!plm::is_arm64(cls)) {
        // The hardware prefetcher alone leaves the x86 GEMV at 62-72% of the read
        // bandwidth (Q4_0: its loop spends more instructions per byte, so the
        // out-of-order window reaches less far ahead). Asking for the block ~3 KiB
        // ahead (Q4_0, Q8_0: its scales with it) lifted it to 75-89% (docs/kernels.md). NonFaulting: past
        // a tile's end are the next tile's bytes; past the last tile a prefetch is
        // only a hint and cannot fault. Not on arm64: unmeasured there (qemu only).
        const int ahead = std::max(1, (3072 + block_bytes / 2) / block_bytes);
        const VarOrRVar step = G > 1 ? VarOrRVar(rbi) : f16_scales ? VarOrRVar(rb.x) : VarOrRVar(rbj);
        acc.update().prefetch(*w_, step, step, ahead, PrefetchBoundStrategy::NonFaulting);
      }
    }
    if (prefill) {
      parallel_tiles(tiles);
      dot.compute_at(acc, rb.x).unroll(t);
    }
    dot.vectorize(lane);

    switch (cls) {
      case ScheduleClass::X86Avx512Vnni:
      case ScheduleClass::Arm64Dotprod:
      case ScheduleClass::Arm64I8mm:
      case ScheduleClass::Arm64Neon:
        // A 4-wide widening reduction: vpdpbusd (zmm), sdot, or smull+saddlp on ARMv8.0.
        if (prefill) dot.update().reorder(r.x, lane, t, r.y).atomic().vectorize(r.x).vectorize(lane).unroll(t).unroll(r.y);
        else dot.update().reorder(r.x, lane, r.y).atomic().vectorize(r.x).vectorize(lane).unroll(r.y);
        break;
      case ScheduleClass::X86Avx2: {
        // Pairs of i16 products -> vpmaddwd; a 4-wide reduction would add shuffles.
        RVar rxo("rxo"), rxi("rxi");
        Stage s = dot.update().split(r.x, rxo, rxi, 2);
        if (prefill) s.reorder(rxi, lane, t, rxo, r.y).atomic().vectorize(rxi).vectorize(lane).unroll(t).unroll(rxo).unroll(r.y);
        else s.reorder(rxi, lane, rxo, r.y).atomic().vectorize(rxi).vectorize(lane).unroll(rxo).unroll(r.y);
        break;
      }
    }
  }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(MatMul, matmul)
