#include "layout/matmul_layout.h"

#include <cstring>

#include "error.h"
#include "fp16.h"

namespace plm {

MatmulWeightFormat matmul_format_for(GgmlType source) {
  switch (source) {
    case GgmlType::Q8_0:
    case GgmlType::Q5_0: return MatmulWeightFormat::Q8_0;  // -16..15 in 8 bits: exact
    case GgmlType::Q4_0: return MatmulWeightFormat::Q4_0;
    case GgmlType::Q4_K: return MatmulWeightFormat::Q4_K;
    case GgmlType::Q5_K: return MatmulWeightFormat::Q5_K;
    case GgmlType::Q6_K: return MatmulWeightFormat::Q6_K;
    default: fail("no integer matmul layout for ", traits(source).name, " weights (supported: Q8_0, Q5_0, Q4_0, Q4_K, Q5_K, Q6_K)");
  }
}

namespace {

// GGUF's scale fields of one Q4_K/Q5_K super-block, which the layout keeps as they are.
struct KScaleFields {
  uint16_t d, dmin;  // f16 bits
  uint8_t sc[8], m[8];  // 6 bits each
};

// One row in integer form: q[k] (the value stored in the layout, before the zero
// point); per weight block of Q8_0 and Q4_0 its scale, per super-block of Q4_K and
// Q5_K its scale fields.
struct RowInts {
  std::vector<uint8_t> q;
  std::vector<float> scale;
  std::vector<KScaleFields> k_fields;
};

RowInts unpack_row(GgmlType type, const uint8_t* src, int64_t k, bool arm) {
  RowInts r;
  r.q.resize(size_t(k));
  if (type == GgmlType::Q8_0 || type == GgmlType::Q5_0 || type == GgmlType::Q4_0) {
    for (int64_t b = 0; b < k / kQK; ++b) {
      if (type == GgmlType::Q5_0) {  // into the Q8_0 layout: same scale, q - 16 as i8
        Q5_0Block blk;
        std::memcpy(&blk, src + b * sizeof blk, sizeof blk);
        r.scale.push_back(fp16_to_f32(blk.d));
        uint8_t q[kQK];
        unpack_q5_values(blk.qs, blk.qh, q);
        for (int j = 0; j < kQK; ++j) r.q[size_t(b * kQK + j)] = uint8_t(int8_t(q[j] - 16) + (arm ? 0 : 128));
      } else if (type == GgmlType::Q8_0) {
        Q8_0Block blk;
        std::memcpy(&blk, src + b * sizeof blk, sizeof blk);
        r.scale.push_back(fp16_to_f32(blk.d));
        // x86's vpdpbusd multiplies u8 by i8, so Q8_0 weights are stored as q + 128 there.
        for (int j = 0; j < kQK; ++j) r.q[size_t(b * kQK + j)] = uint8_t(uint8_t(blk.qs[j]) + (arm ? 0 : 128));
      } else {
        Q4_0Block blk;
        std::memcpy(&blk, src + b * sizeof blk, sizeof blk);
        r.scale.push_back(fp16_to_f32(blk.d));
        for (int j = 0; j < 16; ++j) {
          r.q[size_t(b * kQK + j)] = blk.qs[j] & 0x0f;
          r.q[size_t(b * kQK + j + 16)] = blk.qs[j] >> 4;
        }
      }
    }
    return r;
  }
  KBlockInts kb;
  const size_t bytes = traits(type).block_bytes;
  for (int64_t s = 0; s < k / kQK_K; ++s) {
    unpack_k_block(type, src + size_t(s) * bytes, &kb);
    for (int e = 0; e < kQK_K; ++e) r.q[size_t(s * kQK_K + e)] = kb.q[e];
    KScaleFields f{kb.d, kb.dmin, {}, {}};
    std::memcpy(f.sc, kb.sc, sizeof f.sc);
    std::memcpy(f.m, kb.m, sizeof f.m);
    r.k_fields.push_back(f);
  }
  return r;
}

// Q6_K keeps GGUF's bits: per tile and super-block of 256, quants in 8 groups of 32
// (24 bytes per row: 4 quads of low nibbles as Q4_0 pairs them, then 2 quads of the
// high 2-bit pairs) and scales as the rows' f16 d (low bytes, then high bytes), then
// their 16 int8 sub-scales.
void pack_q6_k_rows(const uint8_t* rows, int64_t n, PackedMatmulWeights* p) {
  const int64_t R = p->tile_rows, supers = p->k / kQK_K;
  const int64_t quant_tile = supers * kQ6KQuantBytesPerRow * R, scale_tile = supers * kQ6KScaleBytesPerRow * R;
  p->quants.assign(size_t(p->tiles * quant_tile), 0);  // padding rows: q = 0 with d = 0
  p->scales.assign(size_t(p->tiles * scale_tile), 0);
  const size_t row_size = row_bytes(GgmlType::Q6_K, p->k);
  KBlockInts kb;
  for (int64_t row = 0; row < n; ++row) {
    const int64_t tile = row / R, lane = row % R;
    for (int64_t s = 0; s < supers; ++s) {
      const uint8_t* src = rows + size_t(row) * row_size + size_t(s) * sizeof(Q6_KBlock);
      Q6_KBlock blk;
      std::memcpy(&blk, src, sizeof blk);
      unpack_k_block(GgmlType::Q6_K, src, &kb);  // q in 0..63, as dequantize_row reads it
      uint8_t* sc = p->scales.data() + size_t(tile * scale_tile + s * kQ6KScaleBytesPerRow * R);
      sc[lane] = uint8_t(blk.d & 0xff);
      sc[R + lane] = uint8_t(blk.d >> 8);
      for (int b = 0; b < 16; ++b) sc[size_t(2 * R + b * R + lane)] = uint8_t(blk.scales[b]);
      uint8_t* q = p->quants.data() + size_t(tile * quant_tile + s * kQ6KQuantBytesPerRow * R);
      for (int e = 0; e < kQK_K; ++e) {
        const int g = e / 32, h = (e % 32) / 16, c = (e % 16) / 4, j = e % 4;
        uint8_t* group = q + size_t(g * 24 * R);
        group[size_t((c * R + lane) * 4 + j)] |= uint8_t((kb.q[e] & 15) << (4 * h));
        group[size_t(16 * R + ((c / 2) * R + lane) * 4 + j)] |= uint8_t((kb.q[e] >> 4) << (4 * (c % 2) + 2 * h));
      }
    }
  }
}

uint16_t f16_bits(float v) {
  const uint16_t h = f32_to_fp16(v);
  if (fp16_to_f32(h) != v) fail("matmul weights: a block scale ", v, " is not an f16 value");
  return h;
}

}  // namespace

PackedMatmulWeights pack_matmul_weights(GgmlType type, const uint8_t* rows, int64_t k, int64_t n, ScheduleClass cls) {
  PackedMatmulWeights p;
  p.format = matmul_format_for(type);
  const bool kquant = type == GgmlType::Q4_K || type == GgmlType::Q5_K || type == GgmlType::Q6_K;
  const int64_t align = kquant ? kQK_K : kQK;
  if (k <= 0 || k % align != 0 || n <= 0)
    fail("matmul weights: k ", k, " must be a positive multiple of ", align, " for ", traits(type).name, ", n ", n, " positive");
  const bool arm = is_arm64(cls);
  const bool nibbles = type == GgmlType::Q4_0 || type == GgmlType::Q4_K;
  const bool k_scales = type == GgmlType::Q4_K || type == GgmlType::Q5_K;
  const int64_t R = matmul_tile_rows(cls);
  p.k = k;
  p.n = n;
  p.tile_rows = R;
  p.tiles = (n + R - 1) / R;
  p.block = type == GgmlType::Q6_K ? 16 : 32;
  if (type == GgmlType::Q6_K) {
    pack_q6_k_rows(rows, n, &p);
    return p;
  }
  const int64_t nwb = k / p.block;
  // Q4_0 and Q8_0: each block's quads then its scales (weight_bytes.h); the K-quants:
  // the quads one after the other, the scales apart.
  const int64_t block_quads = nibbles ? 4 : 8;
  const int64_t block_stride = k_scales ? block_quads * R * 4 : f16_block_bytes(nibbles, int(R));
  const int64_t quant_tile = nwb * block_stride;
  // Padding rows hold zero weights: the zero point (or 0) and zero scales.
  uint8_t pad = 0;
  if (type == GgmlType::Q4_0) pad = 0x88;
  else if (p.format == MatmulWeightFormat::Q8_0 && !arm) pad = 128;
  p.quants.assign(size_t(p.tiles * quant_tile), pad);
  if (!k_scales)  // the scale bytes of the padding rows: 0
    for (int64_t tile = 0; tile < p.tiles; ++tile)
      for (int64_t b = 0; b < nwb; ++b)
        std::memset(p.quants.data() + size_t(tile * quant_tile + b * block_stride + block_quads * R * 4), 0, size_t(2 * R));
  const int64_t supers = k / kQK_K, k_scale_tile = supers * kKQuantScaleBytesPerRow * R;
  if (k_scales) p.scales.assign(size_t(p.tiles * k_scale_tile), 0);  // padding rows: d = dmin = 0
  const size_t row_size = row_bytes(type, k);
  for (int64_t row = 0; row < n; ++row) {
    const int64_t tile = row / R, lane = row % R;
    const RowInts ri = unpack_row(type, rows + size_t(row) * row_size, k, arm);
    uint8_t* dst = p.quants.data() + size_t(tile * quant_tile) + size_t(lane * 4);
    if (nibbles) {
      // A 32-block is 4 quads; byte j of quad c: element 4c+j (low), 16+4c+j (high).
      for (int64_t b = 0; b < nwb; ++b)
        for (int c = 0; c < 4; ++c)
          for (int j = 0; j < 4; ++j) {
            const int64_t e = b * 32 + c * 4 + j;
            dst[size_t(b * block_stride + c * R * 4 + j)] = uint8_t(ri.q[size_t(e)] | (ri.q[size_t(e + 16)] << 4));
          }
    } else {
      for (int64_t e = 0; e < k; ++e) dst[size_t((e / 32) * block_stride + ((e % 32) / 4) * R * 4 + e % 4)] = ri.q[size_t(e)];
    }
    if (k_scales) {
      // Per super-block: d low bytes, d high bytes, dmin low, dmin high, 8 sub-scale
      // planes, 8 sub-min planes; a byte per row in each (k_quant_scales.h).
      for (int64_t sb = 0; sb < supers; ++sb) {
        const KScaleFields& kb = ri.k_fields[size_t(sb)];
        uint8_t* sc = p.scales.data() + size_t(tile * k_scale_tile + sb * kKQuantScaleBytesPerRow * R + lane);
        sc[0] = uint8_t(kb.d & 0xff);
        sc[R] = uint8_t(kb.d >> 8);
        sc[2 * R] = uint8_t(kb.dmin & 0xff);
        sc[3 * R] = uint8_t(kb.dmin >> 8);
        for (int j = 0; j < 8; ++j) {
          sc[size_t((4 + j) * R)] = kb.sc[j];
          sc[size_t((12 + j) * R)] = kb.m[j];
        }
      }
    } else {
      // After block b's quads: the rows' scale low bytes, then their high bytes.
      for (int64_t b = 0; b < nwb; ++b) {
        const uint16_t h = f16_bits(ri.scale[size_t(b)]);
        uint8_t* sc = p.quants.data() + size_t(tile * quant_tile + b * block_stride + block_quads * R * 4 + lane);
        sc[0] = uint8_t(h & 0xff);
        sc[R] = uint8_t(h >> 8);
      }
    }
  }
  return p;
}

PackedFloatWeights pack_float_matmul_weights(GgmlType type, const uint8_t* rows, int64_t k, int64_t n, ScheduleClass cls) {
  if (type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16)
    fail("no float matmul layout for ", traits(type).name, " weights (supported: F32, F16, BF16)");
  if (k <= 0 || n <= 0) fail("matmul weights: k ", k, " and n ", n, " must be positive");
  PackedFloatWeights p;
  p.f16 = type == GgmlType::F16;
  p.k = k;
  p.n = n;
  p.tile_rows = matmul_tile_rows(cls);
  p.tiles = (n + p.tile_rows - 1) / p.tile_rows;
  const size_t elem = p.f16 ? 2 : 4;
  p.data.assign(size_t(p.tiles * k * p.tile_rows) * elem, 0);  // padding rows: zeros
  const size_t row_size = row_bytes(type, k);
  std::vector<float> tmp(static_cast<size_t>(k));
  for (int64_t row = 0; row < n; ++row) {
    const int64_t tile = row / p.tile_rows, lane = row % p.tile_rows;
    const uint8_t* src = rows + size_t(row) * row_size;
    uint8_t* dst = p.data.data() + size_t(tile * k * p.tile_rows + lane) * elem;
    if (p.f16) {
      for (int64_t i = 0; i < k; ++i) std::memcpy(dst + size_t(i * p.tile_rows) * 2, src + i * 2, 2);
    } else {
      dequantize_row(type, src, tmp.data(), k);  // exact for F32 and BF16
      for (int64_t i = 0; i < k; ++i) std::memcpy(dst + size_t(i * p.tile_rows) * 4, &tmp[size_t(i)], 4);
    }
  }
  return p;
}

}  // namespace plm
