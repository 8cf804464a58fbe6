// Chat prompts: the model's GGUF `tokenizer.chat_template` (Jinja) is recognised as
// one of the common families and rendered by a hand-written formatter that produces
// the same text (as llama.cpp does: no Jinja interpreter in the runtime).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace plm {

enum class ChatFormat {
  ChatMl,           // <|im_start|>role\n...<|im_end|>\n (Qwen, SmolLM, many fine-tunes)
  Llama2,           // [INST] ... [/INST] with <<SYS>> (Llama 2 chat)
  Llama3,           // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
  Phi3,             // <|user|>\n...<|end|>\n
  Gemma,            // <start_of_turn>user\n...<end_of_turn>\n
  Mistral,          // [INST] user [/INST]answer</s> (Mistral 7B v0.1/v0.2, Mixtral)
  MistralV3,        // [INST] user[/INST] answer</s>, system in the last user turn (v0.3)
};

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// The family a Jinja template belongs to; throws an Error when it matches none
// (the message lists the families and says how to choose one).
ChatFormat detect_chat_format(std::string_view jinja);
// By name: chatml, llama2, llama3, phi3, gemma, mistral, mistral-v3.
ChatFormat chat_format_from_name(std::string_view name);
const char* chat_format_name(ChatFormat f);
std::string chat_format_names();  // comma-separated

// The conversation as the model was trained to see it, ending with the assistant's
// turn header when add_assistant_prefix (Phi-3's template always adds it after a user
// turn). BOS is left to the tokenizer. Where a family's template has no system role
// (Gemma, Mistral v0.1) the system prompt opens the first user turn, as the
// families' later templates do; Phi-3 gets its <|system|> turn.
std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, bool add_assistant_prefix);

// The text that ends an assistant turn in this format (its token, when the
// vocabulary has one, ends generation as well as EOS does).
const char* chat_turn_end(ChatFormat f);

}  // namespace plm
