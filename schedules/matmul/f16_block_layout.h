// Reads of the Q4_0 / Q8_0 layout, shared by the matmul and embedding kernels. The
// packer is compiler/layout/matmul_layout.cpp; docs/weight-layouts.md draws the bytes.
// Per tile of R rows, the 32-blocks one after the other (f16_block_bytes each): the
// rows' 4-byte quads of the block (Q4_0 4, Q8_0 8), then the low bytes of the rows' f16
// scales, then their high bytes. GGUF's own scales, widened exactly in the kernel.
#pragma once
#include "generator_support.h"

namespace plm::f16_blocks {

// Byte `byte` of quad `quad` (within 32-block `block`) of row `lane` of `tile`.
inline Halide::Expr quant(const Halide::Func& w, const Halide::Expr& block, const Halide::Expr& quad, const Halide::Expr& byte,
                          const Halide::Expr& lane, const Halide::Expr& tile, bool nibbles, int R) {
  return w(byte + 4 * lane + 4 * R * quad + block * f16_block_bytes(nibbles, R), tile);
}

// The f32 scale of 32-block `block` of row `lane` of `tile`.
inline Halide::Expr scale(const Halide::Func& w, const Halide::Expr& block, const Halide::Expr& lane, const Halide::Expr& tile,
                          bool nibbles, int R) {
  Halide::Expr base = block * f16_block_bytes(nibbles, R) + f16_block_quant_bytes(nibbles, R);
  return widen_f16_bytes(w(base + lane, tile), w(base + R + lane, tile));
}

// Bytes per tile of a k-long matrix.
inline int tile_bytes(int k, bool nibbles, int R) { return (k / 32) * f16_block_bytes(nibbles, R); }

}  // namespace plm::f16_blocks
