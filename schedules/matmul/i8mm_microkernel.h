// The arm64-i8mm class's prefill micro-kernel: the one place pocketlm steps outside
// Halide, because Halide 14 cannot emit smmla. The matmul generator calls it through
// define_extern for Q8_0 and Q4_0 weights in the prefill form (docs/kernels.md); the
// decode form and the other formats use the Halide sdot schedules. It reads the same
// weight layout as the arm64-dotprod class (docs/weight-layouts.md, f16_block_layout.h):
// the 4-byte quads of rows r..r+3 at k and at k+4 are zipped into the 2x8 operands
// smmla takes; each block's f16 scales follow its quads.
#pragma once
#include <stdint.h>

#include "HalideRuntime.h"

#ifdef __cplusplus
extern "C" {
#endif

// A Halide extern stage producing acc(lane, tile, t) for the region of `out`:
// lanes 0..15 of the row tiles asked for, token counts a multiple of 4.
//   w   u8 [tiles][k/32][quads][16][4] + [16][2]   per block its quads (Q8_0: i8 q; Q4_0:
//                                  nibbles, zero point 8), then the rows' f16 scales (low
//                                  bytes, high bytes); a 2-D buffer: (byte within the tile, tile)
//   xq  i8 [tokens][k], xd f32 [tokens][k/32], xs i32 [tokens][k/32]: activations
// Returns 0, or -1 for a region it cannot compute.
int plm_i8mm_prefill_tile(halide_buffer_t* w, halide_buffer_t* xq, halide_buffer_t* xd, halide_buffer_t* xs, int32_t k, int32_t nibbles,
                          halide_buffer_t* out);

#ifdef __cplusplus
}
#endif
