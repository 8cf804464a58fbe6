// Reads of the Q4_K / Q5_K scale layout, shared by the matmul and embedding kernels.
// The packer is compiler/layout/matmul_layout.cpp; docs/weight-layouts.md draws the bytes.
// Per tile of R rows and super-block of 256 values, 20 * R bytes: the low bytes of the
// rows' f16 d, their high bytes, the same for dmin, then per 32-block the rows' 6-bit
// sub-scales (a byte each), then per 32-block their 6-bit sub-mins. GGUF's own fields:
// d * sc and dmin * m are formed in f32 in the kernel, exactly as dequantize_row forms
// them (an f16 times a 6-bit integer fits f32's 24 bits), for 2.5 bytes per 32 values
// where precomputed f32 scales and mins took 8.
#pragma once
#include "generator_support.h"

namespace plm::k_quant_scales {

// The f32 scale d * sc (part 0) or min dmin * m (part 1) of 32-block `block` of row
// `lane` of `tile`.
inline Halide::Expr scale_or_min(const Halide::Func& wd, const Halide::Expr& part, const Halide::Expr& block, const Halide::Expr& lane,
                                 const Halide::Expr& tile, int R) {
  using namespace Halide;
  Expr base = (block / 8) * (kKQuantScaleBytesPerRow * R);
  Expr f16 = widen_f16_bytes(wd(base + (2 * part) * R + lane, tile), wd(base + (2 * part + 1) * R + lane, tile));
  Expr six_bits = wd(base + (4 + 8 * part) * R + (block % 8) * R + lane, tile);
  return f16 * cast<float>(six_bits);
}
inline Halide::Expr scale(const Halide::Func& wd, const Halide::Expr& block, const Halide::Expr& lane, const Halide::Expr& tile, int R) {
  return scale_or_min(wd, 0, block, lane, tile, R);
}
inline Halide::Expr min(const Halide::Func& wd, const Halide::Expr& block, const Halide::Expr& lane, const Halide::Expr& tile, int R) {
  return scale_or_min(wd, 1, block, lane, tile, R);
}

// Scale bytes per tile of a k-long matrix.
inline int bytes(int k, int R) { return R * (k / 256) * kKQuantScaleBytesPerRow; }

}  // namespace plm::k_quant_scales
