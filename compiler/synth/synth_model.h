// `pocketlm synth`: GGUF files with the architecture of real models and random
// weights, quantised by pocketlm's own quantiser into the mixtures llama.cpp's
// quantiser writes, for benchmarks and tests without downloading models.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quant/quant_mix.h"

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

SynthResult write_synth_model(const SynthPreset& p, QuantMix q, const std::string& path, const SynthOptions& opt);

}  // namespace plm
