// f32 -> GGML block formats, as GGUF defines them (the inverse of dequantize_row):
// what `pocketlm synth` writes its model files with. Round-to-nearest with the
// scale choices of the reference quantisers (Q8_0, Q4_0, Q5_0: the block's absmax;
// Q4_K: per-sub-block min/max with 6-bit scales and mins; Q6_K: per-16 absmax with
// 8-bit scales), no importance weighting.
#pragma once
#include <cstdint>

#include "quant/ggml_types.h"

namespace plm {

// Encodes n elements (a multiple of the type's block size) of src into dst
// (row_bytes(t, n) bytes). Supported: F32, F16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K.
void quantize_row(GgmlType t, const float* src, void* dst, int64_t n);

bool can_quantize(GgmlType t);

}  // namespace plm
