// Bytes per row per 256-value super-block of the k-quant matmul layouts
// (docs/weight-layouts.md). The generators lay weights out by them, the compiler packs
// by them and the runtime checks a bundle's spans against them: one definition for all.
#pragma once

namespace plm {

// Q6_K: the quants (6 bits a value: nibbles + bit pairs) and the scales (f16 d + 16
// int8 sub-scales), GGUF's 210 in all.
constexpr int kQ6KQuantBytesPerRow = 192;
constexpr int kQ6KScaleBytesPerRow = 18;
// Q4_K and Q5_K scales: f16 d and dmin, 8 sub-scales and 8 sub-mins of 6 bits in a
// byte each (GGUF packs those 16 into 12 bytes).
constexpr int kKQuantScaleBytesPerRow = 20;

}  // namespace plm
