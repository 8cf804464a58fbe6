#include "generation.h"

#include <algorithm>
#include <chrono>

#include "error.h"

namespace plm {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::MaxTokens: return "token limit";
    case StopReason::EndOfSequence: return "end of sequence";
    case StopReason::StopString: return "stop string";
    case StopReason::ContextFull: return "context full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "?";
}

GenerateStats generate(const Tokenizer& tok, const DecodeFn& decode, int64_t n_ctx, const std::vector<int32_t>& prompt,
                       const GenerateOptions& opt, const TextFn& on_text, int64_t n_past) {
  using clock = std::chrono::steady_clock;
  if (prompt.empty()) fail("generate: empty prompt (nothing to condition on)");
  if (n_past + int64_t(prompt.size()) >= n_ctx)
    fail("prompt of ", prompt.size(), " tokens", n_past ? " after " + std::to_string(n_past) + " tokens of history" : std::string(),
         " does not fit the context of ", n_ctx, " tokens (leave room for at least one new token)");
  GenerateStats st;
  st.n_prompt = int32_t(prompt.size());
  Sampler sampler(opt.sampling, tok.n_tokens());
  for (int32_t t : prompt) sampler.accept(t);
  TextStream stream(opt.stop_strings);

  auto t0 = clock::now();
  const float* logits = decode(prompt);
  st.prompt_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  int64_t pos = n_past + int64_t(prompt.size());
  t0 = clock::now();
  for (;;) {
    if (st.n_generated >= opt.max_tokens) {
      st.reason = StopReason::MaxTokens;
      break;
    }
    const int32_t next = sampler.sample(logits);
    if (opt.stop_at_eos && (next == tok.vocab().eos || std::find(opt.stop_tokens.begin(), opt.stop_tokens.end(), next) != opt.stop_tokens.end())) {
      st.reason = StopReason::EndOfSequence;
      break;
    }
    st.tokens.push_back(next);
    ++st.n_generated;
    const std::string text = stream.push(tok.piece_bytes(next));
    if (!text.empty() && !on_text(text)) {
      st.reason = StopReason::Cancelled;
      break;
    }
    if (stream.stopped()) {
      st.reason = StopReason::StopString;
      break;
    }
    if (pos >= n_ctx) {
      st.reason = StopReason::ContextFull;
      break;
    }
    logits = decode({next});
    ++pos;
  }
  st.generate_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  if (st.reason != StopReason::Cancelled && st.reason != StopReason::StopString) {
    const std::string rest = stream.finish();
    if (!rest.empty()) on_text(rest);
  }
  return st;
}

}  // namespace plm
