// Hugging Face `tokenizer.json` (byte-level BPE models: GPT-2, Llama 3, Qwen2,
// StarCoder, SmolLM, ...) as GGUF-style tokenizer.* metadata, so that a model's
// vocabulary can come from the file its authors published. The pre-tokenizer's
// patterns are matched to the family pocketlm implements for them (as llama.cpp's
// converter names `tokenizer.ggml.pre`); `tokenizer_config.json` beside it, when
// present, gives BOS/EOS and add_bos.
#pragma once
#include <string>

#include "import/metadata.h"

namespace plm {

// Sets tokenizer.ggml.{model,pre,tokens,token_type,merges} (and bos/eos/add_bos when
// known) in `meta`, replacing what was there. Throws an Error naming the file and
// the JSON field at fault.
void import_hf_tokenizer(const std::string& json_path, Metadata& meta);

// Whether a path names a Hugging Face tokenizer file (by its .json extension).
bool is_hf_tokenizer_path(const std::string& path);

}  // namespace plm
