// Sizes in the quantised matmul layouts (docs/weight-layouts.md). The generators lay
// weights out by them, the compiler packs by them and the runtime checks a bundle's
// spans against them: one definition for all.
#pragma once

namespace plm {

// Q6_K: the quants (6 bits a value: nibbles + bit pairs) and the scales (f16 d + 16
// int8 sub-scales), GGUF's 210 in all.
constexpr int kQ6KQuantBytesPerRow = 192;
constexpr int kQ6KScaleBytesPerRow = 18;
// Q4_K and Q5_K scales: f16 d and dmin, 8 sub-scales and 8 sub-mins of 6 bits in a
// byte each (GGUF packs those 16 into 12 bytes).
constexpr int kKQuantScaleBytesPerRow = 20;

// Q4_0 and Q8_0: a tile of R rows is its 32-blocks one after the other, each the R
// rows' quants (4-byte quads: 4 a row for Q4_0's nibbles, 8 for Q8_0), then their f16
// scales as R low bytes and R high bytes. Scales ride in the weights' own stream: on a
// Zen 5 core a GEMV mimic streamed 15-18% more (1 thread) than with the scales in an
// array of their own, the second stream the hardware prefetcher must keep up with.
constexpr int f16_block_quant_bytes(bool nibbles, int R) { return R * (nibbles ? 16 : 32); }
constexpr int f16_block_bytes(bool nibbles, int R) { return f16_block_quant_bytes(nibbles, R) + 2 * R; }

}  // namespace plm
