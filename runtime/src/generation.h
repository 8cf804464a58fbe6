// The generation loop shared by every executor: prefill the prompt, then sample,
// stream text and decode one token at a time until a stop condition.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sampler.h"
#include "tokenizer.h"

namespace plm {

struct GenerateOptions {
  int32_t max_tokens = 128;
  SamplerParams sampling;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_tokens;  // end generation like EOS does (e.g. a chat turn's end)
  bool stop_at_eos = true;
};

enum class StopReason { MaxTokens, EndOfSequence, StopString, ContextFull, Cancelled };
const char* stop_reason_name(StopReason r);

struct GenerateStats {
  int32_t n_prompt = 0, n_generated = 0;
  double prompt_seconds = 0, generate_seconds = 0;
  StopReason reason = StopReason::MaxTokens;
  std::vector<int32_t> tokens;  // the generated ids
};

// decode(ids) evaluates ids at the next positions and returns the logits of the last
// one (n_vocab floats). on_text receives UTF-8-safe text; returning false cancels.
// n_past: tokens already in the context before `prompt` (a conversation's history).
using DecodeFn = std::function<const float*(const std::vector<int32_t>& ids)>;
using TextFn = std::function<bool(const std::string& text)>;

GenerateStats generate(const Tokenizer& tok, const DecodeFn& decode, int64_t n_ctx, const std::vector<int32_t>& prompt,
                       const GenerateOptions& opt, const TextFn& on_text, int64_t n_past = 0);

}  // namespace plm
