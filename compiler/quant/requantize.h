// The compiler's quantisation pass (`pocketlm compile --quant`): gives every weight
// matrix of a model the type its llama.cpp file-type mixture names, quantising
// from F32, F16 or BF16 sources with our quantiser (quant/quantize.h).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "import/model_file.h"
#include "quant/quant_mix.h"

namespace plm {

struct RequantStats {
  int64_t requantised = 0, kept = 0;  // weight matrices
  uint64_t bytes_before = 0, bytes_after = 0;  // of all tensors
};

// Rewrites mf's matrices (tensors of two or more dimensions; norms, biases and rope
// factors stay as they are) in place; new bytes are held in mf.made. A matrix that
// already has its target type is kept; one of another quantised type is an Error
// naming it, since requantising quantised weights compounds their rounding error.
// progress(done, total, tensor name) after each matrix, may be empty.
RequantStats requantize(ModelFile& mf, QuantMix mix,
                        const std::function<void(size_t, size_t, const std::string&)>& progress = {});

}  // namespace plm
