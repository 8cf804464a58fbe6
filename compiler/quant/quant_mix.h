// The quantisation mixtures of llama.cpp's file types (its LLAMA_FTYPE_MOSTLY_*):
// which GGML type each weight matrix of a model gets. `pocketlm synth` writes its
// model files with them and `pocketlm compile --quant` requantises F32/F16/BF16
// sources with them, so both produce what llama.cpp's quantiser would.
#pragma once
#include <cstdint>
#include <string>

#include "quant/ggml_types.h"

namespace plm {

enum class QuantMix { F32, F16, Q8_0, Q4_0, Q4_K_M };

// f32, f16, q8_0, q4_0, q4_k_m (q4_k is accepted for q4_k_m, as llama-quantize does).
QuantMix quant_mix_from_name(const std::string& name);
const char* quant_mix_name(QuantMix q);
const char* quant_mix_names();     // "f32, f16, q8_0, q4_0 or q4_k_m" for messages
int32_t llama_file_type(QuantMix q);  // general.file_type

// The type of one weight matrix. role is the GGUF name without "blk.N." and
// ".weight" ("attn_v", "ffn_down", "token_embd", "output"; a tied embedding table is
// "output"), layer its block index (0 outside blocks), row_len its ne[0]: K-quants
// need whole 256-element super-blocks and fall back as llama.cpp does.
GgmlType mix_matrix_type(QuantMix q, const std::string& role, int64_t layer, int64_t n_layer, int64_t row_len);

}  // namespace plm
