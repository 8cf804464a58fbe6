// See i8mm_microkernel.h. Built for aarch64 with +i8mm; smmla takes two 2x8 int8
// matrices A (two tokens' 8 activations) and B (two rows' 8 weights) and adds A*B^T
// to a 2x2 int32 accumulator: lanes [t0 r0, t0 r1, t1 r0, t1 r1].
#include "i8mm_microkernel.h"

#include <arm_neon.h>

enum { kRows = 16, kQuadBytes = 4 * kRows };

// Quant bytes of one 32-block of the tile (weight_bytes.h has the same for C++; this
// file is C): 4 quads (Q4_0) or 8 (Q8_0) of 16 rows, the scales after them.
static int f16_block_quant_bytes(int nibbles) { return (nibbles ? 4 : 8) * kQuadBytes; }

static int is_query(const halide_buffer_t* b) { return b->host == 0 && b->device == 0; }

// Bounds query: every input region this output region reads.
static void require(halide_buffer_t* b, int d, int32_t min, int32_t extent) {
  b->dim[d].min = min;
  b->dim[d].extent = extent;
}

// Two token pairs' activations for octet o of block b.
static inline int8x16_t acts(const int8_t* x0, const int8_t* x1, int off) { return vcombine_s8(vld1_s8(x0 + off), vld1_s8(x1 + off)); }

// The 2x8 weight operands of rows 4g..4g+1 (lo) and 4g+2..4g+3 (hi) for k = 8 values
// whose first four bytes are in quad `qa` and last four in quad `qb`.
static inline void weights(int8x16_t qa, int8x16_t qb, int8x16_t* lo, int8x16_t* hi) {
  const int32x4_t a = vreinterpretq_s32_s8(qa), b = vreinterpretq_s32_s8(qb);
  *lo = vreinterpretq_s8_s32(vzip1q_s32(a, b));
  *hi = vreinterpretq_s8_s32(vzip2q_s32(a, b));
}

// Row r's f16 scale of a block whose scale bytes start at s (low bytes, then high).
static inline float block_scale(const uint8_t* s, int r) {
  const uint16_t bits = (uint16_t)(s[r] | (s[kRows + r] << 8));
  __fp16 h;
  __builtin_memcpy(&h, &bits, 2);
  return (float)h;
}

// Rows 8h..8h+7 of one tile for 4 tokens: 8 smmla accumulators (2 token pairs x 4
// row pairs), folded into f32 with the block scales after each 32-block.
static void half_tile(const uint8_t* wt, const int8_t* x[4], const float* xd[4], const int32_t* xs[4],
                      int nb, int nibbles, int h, float out[4][8]) {
  float32x4_t facc[2][4];
  for (int tp = 0; tp < 2; ++tp)
    for (int p = 0; p < 4; ++p) facc[tp][p] = vdupq_n_f32(0.0f);
  const int zero = nibbles ? 8 : 0;
  const int quant_bytes = f16_block_quant_bytes(nibbles), block_bytes = quant_bytes + 2 * kRows;
  const uint8x16_t low = vdupq_n_u8(15);
  for (int b = 0; b < nb; ++b) {
    int32x4_t iacc[2][4];
    for (int tp = 0; tp < 2; ++tp)
      for (int p = 0; p < 4; ++p) iacc[tp][p] = vdupq_n_s32(0);
    const uint8_t* wb = wt + (size_t)b * block_bytes;
    for (int o = 0; o < 4; ++o) {
      // Q8_0: octet o is quads 2o, 2o+1. Q4_0: low nibbles of quads 0,1 (o = 0) and
      // 2,3 (o = 1), then the high nibbles of the same (o = 2, 3).
      const int qa = nibbles ? 2 * (o & 1) : 2 * o;
      const int8x16_t a0 = acts(x[0], x[1], b * 32 + 8 * o), a1 = acts(x[2], x[3], b * 32 + 8 * o);
      for (int g = 0; g < 2; ++g) {
        const int row_group = 2 * h + g;
        uint8x16_t ua = vld1q_u8(wb + qa * kQuadBytes + 16 * row_group), ub = vld1q_u8(wb + (qa + 1) * kQuadBytes + 16 * row_group);
        if (nibbles) {
          ua = o < 2 ? vandq_u8(ua, low) : vshrq_n_u8(ua, 4);
          ub = o < 2 ? vandq_u8(ub, low) : vshrq_n_u8(ub, 4);
        }
        int8x16_t lo, hi;
        weights(vreinterpretq_s8_u8(ua), vreinterpretq_s8_u8(ub), &lo, &hi);
        iacc[0][2 * g] = vmmlaq_s32(iacc[0][2 * g], a0, lo);
        iacc[0][2 * g + 1] = vmmlaq_s32(iacc[0][2 * g + 1], a0, hi);
        iacc[1][2 * g] = vmmlaq_s32(iacc[1][2 * g], a1, lo);
        iacc[1][2 * g + 1] = vmmlaq_s32(iacc[1][2 * g + 1], a1, hi);
      }
    }
    for (int tp = 0; tp < 2; ++tp) {
      const float d0 = xd[2 * tp][b], d1 = xd[2 * tp + 1][b];
      const int32_t s0 = zero * xs[2 * tp][b], s1 = zero * xs[2 * tp + 1][b];
      const float32x4_t xdv = {d0, d0, d1, d1};
      const int32x4_t zs = {s0, s0, s1, s1};
      for (int p = 0; p < 4; ++p) {
        const int r = 8 * h + 2 * p;
        const float w0 = block_scale(wb + quant_bytes, r), w1 = block_scale(wb + quant_bytes, r + 1);
        const float32x4_t wdv = {w0, w1, w0, w1};
        facc[tp][p] = vfmaq_f32(facc[tp][p], vcvtq_f32_s32(vsubq_s32(iacc[tp][p], zs)), vmulq_f32(xdv, wdv));
      }
    }
  }
  for (int tp = 0; tp < 2; ++tp)
    for (int p = 0; p < 4; ++p) {
      float v[4];
      vst1q_f32(v, facc[tp][p]);
      out[2 * tp][2 * p] = v[0];
      out[2 * tp][2 * p + 1] = v[1];
      out[2 * tp + 1][2 * p] = v[2];
      out[2 * tp + 1][2 * p + 1] = v[3];
    }
}

int plm_i8mm_prefill_tile(halide_buffer_t* w, halide_buffer_t* xq, halide_buffer_t* xd, halide_buffer_t* xs, int32_t k, int32_t nibbles,
                          halide_buffer_t* out) {
  const int nb = k / 32;
  const int32_t tile0 = out->dim[1].min, tiles = out->dim[1].extent, t0 = out->dim[2].min, tn = out->dim[2].extent;
  if (is_query(w) || is_query(xq) || is_query(xd) || is_query(xs)) {
    require(w, 0, 0, nb * (f16_block_quant_bytes(nibbles) + 2 * kRows)), require(w, 1, tile0, tiles);
    require(xq, 0, 0, k), require(xq, 1, t0, tn);
    require(xd, 0, 0, nb), require(xd, 1, t0, tn);
    require(xs, 0, 0, nb), require(xs, 1, t0, tn);
    return 0;
  }
  if (is_query(out)) return 0;
  if (out->dim[0].min != 0 || out->dim[0].extent != kRows || tn % 4 != 0 || k % 32 != 0) return -1;
  for (int32_t tile = tile0; tile < tile0 + tiles; ++tile) {
    const uint8_t* wt = (const uint8_t*)w->host + (int64_t)(tile - w->dim[1].min) * w->dim[1].stride;
    for (int32_t t = t0; t < t0 + tn; t += 4) {
      const int8_t* x[4];
      const float* d[4];
      const int32_t* s[4];
      for (int i = 0; i < 4; ++i) {
        x[i] = (const int8_t*)xq->host + (int64_t)(t + i - xq->dim[1].min) * xq->dim[1].stride;
        d[i] = (const float*)xd->host + (int64_t)(t + i - xd->dim[1].min) * xd->dim[1].stride;
        s[i] = (const int32_t*)xs->host + (int64_t)(t + i - xs->dim[1].min) * xs->dim[1].stride;
      }
      float acc[4][8];
      float* o = (float*)out->host;
      for (int h = 0; h < 2; ++h) {
        half_tile(wt, x, d, s, nb, nibbles, h, acc);
        for (int i = 0; i < 4; ++i)
          for (int r = 0; r < 8; ++r)
            o[(int64_t)(8 * h + r) * out->dim[0].stride + (int64_t)(tile - tile0) * out->dim[1].stride +
              (int64_t)(t + i - t0) * out->dim[2].stride] = acc[i][r];
      }
    }
  }
  return 0;
}
