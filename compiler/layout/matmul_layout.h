// Weight layouts for the quantised matmul kernels (schedules/matmul/): GGUF rows are
// repacked at compile time into row tiles whose 64-byte groups feed one vpdpbusd
// or four sdot directly, with their block scales. docs/weight-layouts.md has the bytes.
#pragma once
#include <cstdint>
#include <vector>

#include "quant/ggml_types.h"
#include "schedule_class.h"

namespace plm {

enum class MatmulWeightFormat { Q8_0, Q4_0, Q4_K, Q5_K, Q6_K };

struct PackedMatmulWeights {
  MatmulWeightFormat format;
  int64_t k = 0, n = 0, tile_rows = 0, tiles = 0;
  int64_t block = 32;           // elements per weight block (16 for Q6_K)
  // Per tile: Q6_K in super-blocks (docs/weight-layouts.md); Q4_0 and Q8_0 per 32-block
  // [quads][tile_rows][4 bytes] then the rows' f16 scale bits (GGUF's own, so exact; 10%
  // and 6% fewer bytes per token than f32) as low bytes, high bytes (weight_bytes.h,
  // f16_block_bytes: one stream); the others [quads][tile_rows][4 bytes].
  std::vector<uint8_t> quants;
  // The K-quants' scales (empty for Q4_0 and Q8_0), GGUF's fields widened at most to
  // bytes, per tile and super-block of 256: for Q4_K and Q5_K the rows' f16 d and dmin,
  // then their 6-bit sub-scales and sub-mins (20 bytes per row where GGUF packs 16; f32
  // scales and mins took 64); for Q6_K the rows' f16 d, then their int8 sub-scales (18
  // bytes, as in GGUF).
  std::vector<uint8_t> scales;
};

// The layout each source type is packed into (each keeps its own format).
MatmulWeightFormat matmul_format_for(GgmlType source);

// Packs n rows of k elements in GGUF block format `type` (Q8_0, Q4_0, Q4_K, Q5_K,
// Q6_K; k a multiple of 256 for the K-quants) for the
// schedule class (tiles of matmul_tile_rows(cls) rows). Rows past n up to a whole
// tile are zero. Throws on other types.
PackedMatmulWeights pack_matmul_weights(GgmlType type, const uint8_t* rows, int64_t k, int64_t n, ScheduleClass cls);

// Float weights for matmul_float: F32 and BF16 sources become f32, F16 stays f16
// (u16 bits). Layout [tiles][k][tile_rows]: the tile's rows for one k are adjacent.
struct PackedFloatWeights {
  bool f16 = false;
  int64_t k = 0, n = 0, tile_rows = 0, tiles = 0;
  std::vector<uint8_t> data;
};
PackedFloatWeights pack_float_matmul_weights(GgmlType type, const uint8_t* rows, int64_t k, int64_t n, ScheduleClass cls);

}  // namespace plm
