#include "cli/chat_loop.h"

#include <cstdio>
#include <iostream>

namespace plm {

int run_chat(const ChatEngine& e, ChatFormat format, const std::string& system, GenerateOptions opt) {
  const Tokenizer& tok = *e.tok;
  const int32_t turn_end = tok.find(chat_turn_end(format));
  if (turn_end >= 0) opt.stop_tokens.push_back(turn_end);

  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  // The text whose tokens the context holds: a new turn feeds only what the rendered
  // conversation adds after it. When the template rewrites history (trimmed answers,
  // a system prompt that moves), the context is rebuilt from the whole conversation.
  std::string in_context;
  e.reset();
  std::fprintf(stderr, "pocketlm chat (%s template, context %lld tokens): type a message and press Enter; /reset starts over, /exit or end of input quits\n",
               chat_format_name(format), static_cast<long long>(e.n_ctx));
  std::string line;
  for (;;) {
    std::fputs("> ", stderr);
    std::fflush(stderr);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit") break;
    if (line == "/reset") {
      messages.resize(system.empty() ? 0 : 1);
      in_context.clear();
      e.reset();
      std::fputs("(conversation cleared)\n", stderr);
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({"user", line});
    const std::string rendered = render_chat(format, messages, /*add_assistant_prefix=*/true);
    if (rendered.compare(0, in_context.size(), in_context) != 0) {
      e.reset();
      in_context.clear();
    }
    const std::string fresh = rendered.substr(in_context.size());
    const std::vector<int32_t> ids = tok.encode(fresh, in_context.empty() && tok.vocab().add_bos, /*parse_special=*/true);
    const int64_t n_past = e.position();
    if (n_past + int64_t(ids.size()) >= e.n_ctx) {
      std::fprintf(stderr, "pocketlm: context full: this turn needs %zu tokens but only %lld of the context's %lld are free; "
                   "/reset starts a new conversation (or run with a larger --ctx)\n",
                   ids.size(), static_cast<long long>(e.n_ctx - n_past - 1), static_cast<long long>(e.n_ctx));
      messages.pop_back();
      continue;
    }
    const GenerateStats st = generate(tok, e.decode, e.n_ctx, ids, opt, [](const std::string& text) {
      std::fputs(text.c_str(), stdout);
      std::fflush(stdout);
      return true;
    }, n_past);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    in_context += fresh;
    // The answer as the model wrote it, piece by piece, so that the next rendering
    // starts with exactly the text the context holds. The context has every generated
    // token but the last when generation stopped on a stop string or a full context.
    std::string answer;
    const int64_t evaluated = e.position() - n_past - int64_t(ids.size());
    for (size_t k = 0; k < st.tokens.size(); ++k) {
      const std::string piece = tok.piece_bytes(st.tokens[k]);
      answer += piece;
      if (int64_t(k) < evaluated) in_context += piece;
    }
    messages.push_back({"assistant", answer});
    if (st.reason == StopReason::ContextFull)
      std::fprintf(stderr, "pocketlm: context full (%lld tokens): the answer was cut; /reset starts a new conversation (or run with a larger --ctx)\n",
                   static_cast<long long>(e.n_ctx));
  }
  std::fputs("\n", stderr);
  return 0;
}

}  // namespace plm
