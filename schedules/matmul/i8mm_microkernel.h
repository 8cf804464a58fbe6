// The arm64-i8mm class's prefill micro-kernel: the one place pocketlm steps outside
// Halide, because Halide 14 cannot emit smmla. The matmul generator calls it through
// define_extern for Q8_0 and Q4_0 weights in the prefill form (docs/kernels.md); the
// decode form and the other formats use the Halide sdot schedules. It reads the same
// weight layout as the arm64-dotprod class (docs/weight-layouts.md): the 4-byte
// quads of rows r..r+3 at k and at k+4 are zipped into the 2x8 operands smmla takes.
#pragma once
#include <stdint.h>

#include "HalideRuntime.h"

#ifdef __cplusplus
extern "C" {
#endif

// A Halide extern stage producing acc(lane, tile, t) for the region of `out`:
// lanes 0..15 of the row tiles asked for, token counts a multiple of 4.
//   w   u8 [tiles][quads][16][4]   weights (Q8_0: i8 q; Q4_0: nibbles, zero point 8),
//                                  a 2-D buffer: (byte within the tile, tile)
//   wd  [tiles][k/32][16]          block scales: f32 (Q8_0) or f16 bits (Q4_0)
//   xq  i8 [tokens][k], xd f32 [tokens][k/32], xs i32 [tokens][k/32]: activations
// Returns 0, or -1 for a region it cannot compute.
int plm_i8mm_prefill_tile(halide_buffer_t* w, halide_buffer_t* wd, halide_buffer_t* xq, halide_buffer_t* xd, halide_buffer_t* xs,
                          int32_t k, int32_t nibbles, halide_buffer_t* out);

#ifdef __cplusplus
}
#endif
