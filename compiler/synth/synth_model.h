// `pocketlm synth`: GGUF files with the architecture of real models and random
// weights, quantised by pocketlm's own quantiser into the mixtures llama.cpp's
// quantiser writes, for benchmarks and tests without downloading models.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace plm {

struct SynthPreset {
  const char* name;
  const char* arch;  // "llama" or "qwen2"
  int64_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
  float rope_base, rms_eps;
  bool tied_output, qkv_bias, llama3_rope;
  const char* tokenizer_model;  // "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  const char* pre;              // byte-level BPE pre-tokenizer family
  const char* chat_format;      // chat_template family name, or "" for none
};

const std::vector<SynthPreset>& synth_presets();
const SynthPreset& find_synth_preset(const std::string& name);  // Error lists the presets

// File types: the quantisation mixtures (llama.cpp's LLAMA_FTYPE_* meaning).
enum class SynthQuant { F32, F16, Q8_0, Q4_0, Q4_K_M };
SynthQuant synth_quant_from_name(const std::string& name);  // f32, f16, q8_0, q4_0, q4_k_m
const char* synth_quant_name(SynthQuant q);

struct SynthOptions {
  uint64_t seed = 1;
  int64_t n_layer = 0;       // 0 = the preset's (fewer layers make small test files)
  std::string vocab_from;    // a GGUF whose tokenizer.* tables to use instead of a synthetic vocabulary
  bool overwrite = false;
  std::function<void(const std::string&)> progress;  // one line per step, may be empty
};

struct SynthResult {
  uint64_t file_bytes = 0;
  int64_t n_params = 0;
  std::vector<std::pair<std::string, int64_t>> type_counts;  // tensors per GGML type name
};

SynthResult write_synth_model(const SynthPreset& p, SynthQuant q, const std::string& path, const SynthOptions& opt);

}  // namespace plm
