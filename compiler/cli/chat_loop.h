// `pocketlm run --chat`: an interactive multi-turn conversation on stdin/stdout.
#pragma once
#include <functional>
#include <string>

#include "chat_template.h"
#include "generation.h"
#include "tokenizer.h"

namespace plm {

// What the chat needs from an executor (a bundle's Session or the reference executor).
struct ChatEngine {
  const Tokenizer* tok;
  DecodeFn decode;                  // evaluates ids at the next positions
  std::function<void()> reset;      // empties the context
  std::function<int64_t()> position;  // tokens in the context
  int64_t n_ctx;
};

// Reads user turns from stdin (one line each; /reset, /exit), renders the
// conversation in `format`, feeds only the new text to the engine and streams the
// answer to stdout. Returns the process exit code.
int run_chat(const ChatEngine& engine, ChatFormat format, const std::string& system, GenerateOptions opt);

}  // namespace plm
