#include "layout/matmul_layout.h"

#include <cstring>

#include "error.h"
#include "fp16.h"

namespace plm {

MatmulWeightFormat matmul_format_for(GgmlType source) {
  switch (source) {
    case GgmlType::Q8_0: return MatmulWeightFormat::Q8_0;
    case GgmlType::Q4_0: return MatmulWeightFormat::Q4_0;
    default: fail("no integer matmul layout for ", traits(source).name, " weights (supported: Q8_0, Q4_0)");
  }
}

PackedMatmulWeights pack_matmul_weights(GgmlType type, const uint8_t* rows, int64_t k, int64_t n, ScheduleClass cls) {
  if (k <= 0 || k % kQK != 0 || n <= 0) fail("matmul weights: k ", k, " must be a positive multiple of 32, n ", n, " positive");
  PackedMatmulWeights p;
  p.format = matmul_format_for(type);
  p.k = k;
  p.n = n;
  const int64_t R = matmul_tile_rows(cls);
  p.tile_rows = R;
  p.tiles = (n + R - 1) / R;
  const int64_t nb = k / kQK;
  const bool q4 = p.format == MatmulWeightFormat::Q4_0;
  const int64_t quads = q4 ? nb * 4 : nb * 8;  // groups of 4 bytes per row per tile
  const size_t row_size = row_bytes(type, k);
  // x86's vpdpbusd multiplies u8 by i8, so Q8_0 weights are stored as q + 128 there.
  const uint8_t q8_bias = is_arm64(cls) ? 0 : 128;
  p.quants.assign(size_t(p.tiles * quads * R * 4), q4 ? 0x88 : q8_bias);  // padding rows: zero weights
  p.scales.assign(size_t(p.tiles * nb * R), 0.0f);
  for (int64_t row = 0; row < n; ++row) {
    const int64_t tile = row / R, lane = row % R;
    const uint8_t* src = rows + size_t(row) * row_size;
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* dst = p.quants.data() + size_t(tile * quads * R * 4) + size_t(lane * 4);
      float& scale = p.scales[size_t((tile * nb + b) * R + lane)];
      if (q4) {
        Q4_0Block blk;
        std::memcpy(&blk, src + b * sizeof(Q4_0Block), sizeof blk);
        scale = fp16_to_f32(blk.d);
        // GGUF already pairs element j (low nibble) with j + 16 (high nibble) in byte j:
        // quad c takes bytes 4c..4c+3 of the block.
        for (int c = 0; c < 4; ++c)
          for (int j = 0; j < 4; ++j) dst[size_t((b * 4 + c) * R * 4 + j)] = blk.qs[c * 4 + j];
      } else {
        Q8_0Block blk;
        std::memcpy(&blk, src + b * sizeof(Q8_0Block), sizeof blk);
        scale = fp16_to_f32(blk.d);
        for (int c = 0; c < 8; ++c)
          for (int j = 0; j < 4; ++j) dst[size_t((b * 8 + c) * R * 4 + j)] = uint8_t(uint8_t(blk.qs[c * 4 + j]) + q8_bias);
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
