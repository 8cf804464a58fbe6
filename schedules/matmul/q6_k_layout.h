// Reads of the Q6_K weight layout, shared by the matmul and embedding kernels. The
// packer is compiler/layout/matmul_layout.cpp; docs/weight-layouts.md draws the bytes.
// Per tile of R rows:
//   quants: groups of 32 values, 24 * R bytes each: 4 quads of low nibbles (byte j of
//     quad c holds value 4c+j of the group's first 16-block low, of its second high),
//     then 2 quads of high bit pairs (byte j of quad c/2: value 4c+j of 16-block h in
//     bits 4(c%2)+2h and up; so a byte's address does not depend on the block, which
//     keeps the box Halide prefetches per group exact).
//   scales: per super-block of 256, 18 * R bytes: the low bytes of the rows' f16 d,
//     then their high bytes (two dense loads; interleaved halves became byte inserts),
//     then per 16-block the rows' int8 sub-scales.
// The value is q in 0..63 (zero point 32) and its scale d * sc, as dequantize_row has it.
#pragma once
#include "generator_support.h"

namespace plm::q6_k {

// q (u8, 0..63) of value 4 * quad + byte of 16-block `block` of row `lane` of `tile`.
inline Halide::Expr quant(const Halide::Func& w, const Halide::Expr& block, const Halide::Expr& quad, const Halide::Expr& byte,
                          const Halide::Expr& lane, const Halide::Expr& tile, int R) {
  using namespace Halide;
  Expr group = block / 2, half = block % 2;
  Expr nibbles = w(group * (24 * R) + (quad * R + lane) * 4 + byte, tile);
  Expr high_bits = w(group * (24 * R) + 16 * R + ((quad / 2) * R + lane) * 4 + byte, tile);
  Expr low = (nibbles >> cast<uint8_t>(4 * half)) & cast<uint8_t>(15);
  Expr high = ((high_bits >> cast<uint8_t>(4 * (quad % 2) + 2 * half)) & cast<uint8_t>(3)) << cast<uint8_t>(4);
  return low | high;
}

// The f32 scale d * sc of 16-block `block` of row `lane` of `tile`.
inline Halide::Expr scale(const Halide::Func& wd, const Halide::Expr& block, const Halide::Expr& lane, const Halide::Expr& tile, int R) {
  using namespace Halide;
  Expr base = (block / 16) * (18 * R);
  Expr sc = cast<int8_t>(wd(base + 2 * R + (block % 16) * R + lane, tile));
  return widen_f16_bytes(wd(base + lane, tile), wd(base + R + lane, tile)) * cast<float>(sc);
}

// Bytes per tile of a k-long matrix: its quants, its scales.
inline int quant_bytes(int k, int R) { return R * (k / 256) * kQ6KQuantBytesPerRow; }
inline int scale_bytes(int k, int R) { return R * (k / 256) * kQ6KScaleBytesPerRow; }

}  // namespace plm::q6_k
