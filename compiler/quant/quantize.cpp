#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.h"
#include "fp16.h"

namespace plm {
namespace {

// Halves round away from zero, as GGML's reference quantisers do (roundf), so our
// Q8_0 blocks are byte-identical to llama.cpp's.
int nearest(float x) { return int(std::roundf(x)); }

// The element of largest magnitude, with its sign: Q4_0 and Q5_0 map it to the most
// negative level (-8 or -16), which has no positive twin, so no precision is lost
// on the value that sets the scale.
float signed_absmax(const float* x, int n) {
  float best = 0, mag = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > mag) mag = std::fabs(x[i]), best = x[i];
  return best;
}

void q8_0(const float* x, Q8_0Block* b) {
  float amax = 0;
  for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
  b->d = f32_to_fp16(d);
  for (int i = 0; i < kQK; ++i) b->qs[i] = int8_t(nearest(x[i] * id));
}

void q4_0(const float* x, Q4_0Block* b) {
  const float d = signed_absmax(x, kQK) / -8.0f, id = d ? 1.0f / d : 0.0f;
  b->d = f32_to_fp16(d);
  for (int i = 0; i < kQK / 2; ++i) {
    const int lo = std::min(15, int(x[i] * id + 8.5f)), hi = std::min(15, int(x[i + kQK / 2] * id + 8.5f));
    b->qs[i] = uint8_t(lo | (hi << 4));
  }
}

void q5_0(const float* x, Q5_0Block* b) {
  const float d = signed_absmax(x, kQK) / -16.0f, id = d ? 1.0f / d : 0.0f;
  b->d = f32_to_fp16(d);
  uint32_t qh = 0;
  for (int i = 0; i < kQK / 2; ++i) {
    const int lo = std::min(31, int(x[i] * id + 16.5f)), hi = std::min(31, int(x[i + kQK / 2] * id + 16.5f));
    b->qs[i] = uint8_t((lo & 15) | ((hi & 15) << 4));
    qh |= uint32_t(lo >> 4) << i;
    qh |= uint32_t(hi >> 4) << (i + kQK / 2);
  }
  std::memcpy(b->qh, &qh, 4);
}

// The scale s and offset m (m >= 0) of x ~ s*q - m, q in 0..nmax, that minimise the
// squared error: for each of a sweep of trial grids over [min(x,0), max(x)], round x
// to the grid, then fit s and m to those levels by least squares (GGML's K-quant
// quantisers search the same way, with importance weights; we weight equally, which
// is what the squared error asks for).
void fit_scale_min(const float* x, int n, int nmax, float* scale, float* min) {
  float lo = std::min(0.0f, *std::min_element(x, x + n)), hi = *std::max_element(x, x + n);
  if (hi <= lo) {
    *scale = 0, *min = -lo;
    return;
  }
  float best_s = (hi - lo) / float(nmax), best_m = -lo, best_err = 0;
  for (int i = 0; i < n; ++i) {
    const float q = std::clamp(float(nearest((x[i] - lo) / best_s)), 0.0f, float(nmax));
    best_err += (best_s * q + lo - x[i]) * (best_s * q + lo - x[i]);
  }
  for (int step = -10; step <= 10; ++step) {
    const float is = (float(nmax) + 0.1f * float(step)) / (hi - lo);
    float sq = 0, sq2 = 0, sx = 0, sqx = 0;
    int q[kQK_K];
    for (int i = 0; i < n; ++i) {
      q[i] = std::clamp(nearest(is * (x[i] - lo)), 0, nmax);
      sq += float(q[i]), sq2 += float(q[i] * q[i]), sx += x[i], sqx += float(q[i]) * x[i];
    }
    const float det = float(n) * sq2 - sq * sq;
    if (det <= 0) continue;
    float s = (float(n) * sqx - sq * sx) / det, off = (sq2 * sx - sq * sqx) / det;  // x ~ s*q + off
    if (off > 0) off = 0, s = sqx / sq2;  // the format's offset only subtracts
    if (s <= 0) continue;
    float err = 0;
    for (int i = 0; i < n; ++i) err += (s * float(q[i]) + off - x[i]) * (s * float(q[i]) + off - x[i]);
    if (err < best_err) best_err = err, best_s = s, best_m = -off;
  }
  *scale = best_s, *min = best_m;
}

// The scale of x ~ s*q, q in -nmax..nmax-1, that minimises the squared error: trial
// grids around the one mapping the largest magnitude to -nmax, each refitted by least
// squares (sum q*x / sum q*q); the best fit wins.
float fit_scale(const float* x, int n, int nmax) {
  const float amax = signed_absmax(x, n);
  if (amax == 0) return 0;
  float best_s = amax / float(-nmax), best_fit = -1;
  for (int step = -10; step <= 10; ++step) {
    const float is = -(float(nmax) + 0.1f * float(step)) / amax;
    float sqx = 0, sq2 = 0;
    for (int i = 0; i < n; ++i) {
      const float q = float(std::clamp(nearest(is * x[i]), -nmax, nmax - 1));
      sqx += q * x[i], sq2 += q * q;
    }
    // With the least-squares scale the error is sum x^2 - sqx^2/sq2: largest sqx^2/sq2 wins.
    if (sq2 > 0 && sqx * sqx / sq2 > best_fit) best_fit = sqx * sqx / sq2, best_s = sqx / sq2;
  }
  return best_s;
}

// Q4_K: 8 sub-blocks of 32, x ~ d*sc*q - dmin*m with q in 0..15 and 6-bit sc, m.
void q4_k(const float* x, Q4_KBlock* b) {
  float scale[8], min[8];  // per sub-block: x ~ scale*q - min
  for (int j = 0; j < 8; ++j) fit_scale_min(x + 32 * j, 32, 15, &scale[j], &min[j]);
  const float max_scale = *std::max_element(scale, scale + 8), max_min = *std::max_element(min, min + 8);
  const float d = max_scale / 63.0f, dmin = max_min / 63.0f;
  b->d = f32_to_fp16(d);
  b->dmin = f32_to_fp16(dmin);
  // Quantise against the scales as the file will hold them (f16 d times 6-bit sc).
  const float dq = fp16_to_f32(b->d), dminq = fp16_to_f32(b->dmin);
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = uint8_t(std::clamp(dq ? nearest(scale[j] / dq) : 0, 0, 63));
    m[j] = uint8_t(std::clamp(dminq ? nearest(min[j] / dminq) : 0, 0, 63));
  }
  for (int j = 0; j < 4; ++j) {
    b->scales[j] = uint8_t(sc[j] | ((sc[j + 4] >> 4) << 6));
    b->scales[j + 4] = uint8_t(m[j] | ((m[j + 4] >> 4) << 6));
    b->scales[j + 8] = uint8_t((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
  uint8_t q[kQK_K];
  for (int j = 0; j < 8; ++j) {
    const float s = dq * sc[j], mn = dminq * m[j];
    for (int i = 0; i < 32; ++i) q[32 * j + i] = uint8_t(std::clamp(s ? nearest((x[32 * j + i] + mn) / s) : 0, 0, 15));
  }
  for (int c = 0; c < 4; ++c)  // each 64 elements: low nibbles the first 32, high the next
    for (int l = 0; l < 32; ++l) b->qs[32 * c + l] = uint8_t(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
}

// Q6_K: 16 sub-blocks of 16, x ~ d*sc*(q-32) with q in 0..63 and int8 sc.
void q6_k(const float* x, Q6_KBlock* b) {
  float scale[16];
  float max_scale = 0, max_abs_scale = 0;
  for (int j = 0; j < 16; ++j) {
    scale[j] = fit_scale(x + 16 * j, 16, 32);
    if (std::fabs(scale[j]) > max_abs_scale) max_abs_scale = std::fabs(scale[j]), max_scale = scale[j];
  }
  const float d = max_scale / -128.0f;
  b->d = f32_to_fp16(d);
  const float dq = fp16_to_f32(b->d);
  uint8_t q[kQK_K];
  for (int j = 0; j < 16; ++j) {
    const int sc = std::clamp(dq ? nearest(scale[j] / dq) : 0, -128, 127);
    b->scales[j] = int8_t(sc);
    const float s = dq * float(sc);
    for (int i = 0; i < 16; ++i) q[16 * j + i] = uint8_t(std::clamp(s ? nearest(x[16 * j + i] / s) : 0, -32, 31) + 32);
  }
  for (int h = 0; h < 2; ++h) {  // each 128 elements: four 32-element quarters interleaved
    const uint8_t* e = q + 128 * h;
    uint8_t* ql = b->ql + 64 * h;
    uint8_t* qh = b->qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      ql[l] = uint8_t((e[l] & 15) | ((e[l + 64] & 15) << 4));
      ql[l + 32] = uint8_t((e[l + 32] & 15) | ((e[l + 96] & 15) << 4));
      qh[l] = uint8_t((e[l] >> 4) | ((e[l + 32] >> 4) << 2) | ((e[l + 64] >> 4) << 4) | ((e[l + 96] >> 4) << 6));
    }
  }
}

template <typename Block, void (*Encode)(const float*, Block*)>
void blocks(const float* src, void* dst, int64_t n, int per_block) {
  auto* b = static_cast<Block*>(dst);
  for (int64_t i = 0; i < n / per_block; ++i) Encode(src + i * per_block, b + i);
}

}  // namespace

bool can_quantize(GgmlType t) {
  switch (t) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q4_K:
    case GgmlType::Q6_K: return true;
    default: return false;
  }
}

void quantize_row(GgmlType t, const float* src, void* dst, int64_t n) {
  const GgmlTypeTraits& tr = traits(t);
  if (n % tr.block_elems) fail("quantize_row: ", n, " elements are not whole ", tr.name, " blocks of ", tr.block_elems);
  switch (t) {
    case GgmlType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case GgmlType::F16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = f32_to_fp16(src[i]);
      return;
    }
    case GgmlType::Q8_0: return blocks<Q8_0Block, q8_0>(src, dst, n, kQK);
    case GgmlType::Q4_0: return blocks<Q4_0Block, q4_0>(src, dst, n, kQK);
    case GgmlType::Q5_0: return blocks<Q5_0Block, q5_0>(src, dst, n, kQK);
    case GgmlType::Q4_K: return blocks<Q4_KBlock, q4_k>(src, dst, n, kQK_K);
    case GgmlType::Q6_K: return blocks<Q6_KBlock, q6_k>(src, dst, n, kQK_K);
    default: fail("quantize_row: pocketlm does not write ", tr.name);
  }
}

}  // namespace plm
