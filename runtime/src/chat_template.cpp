#include "chat_template.h"

#include "error.h"

namespace plm {
namespace {

struct FormatName {
  ChatFormat format;
  const char* name;
};
constexpr FormatName kNames[] = {
    {ChatFormat::ChatMl, "chatml"},        {ChatFormat::Llama2, "llama2"},        {ChatFormat::Llama3, "llama3"},
    {ChatFormat::Phi3, "phi3"},            {ChatFormat::Gemma, "gemma"},          {ChatFormat::Mistral, "mistral"},
    {ChatFormat::MistralV3, "mistral-v3"},
};

std::string trim(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

bool has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Llama 2 (Meta's template): the system prompt opens the first [INST] between <<SYS>>
// markers; each later user turn opens "<s>[INST] " after the previous "</s>".
std::string render_llama2(const std::vector<ChatMessage>& msgs) {
  std::string s, system;
  bool first_user = true;
  for (const ChatMessage& m : msgs) {
    if (m.role == "system") {
      system = "<<SYS>>\n" + m.content + "\n<</SYS>>\n\n";
    } else if (m.role == "user") {
      s += (first_user ? "[INST] " : "<s>[INST] ") + trim(system + m.content) + " [/INST]";
      system.clear();
      first_user = false;
    } else {
      s += " " + trim(m.content) + " </s>";
    }
  }
  return s;
}

std::string render_mistral(ChatFormat f, const std::vector<ChatMessage>& msgs) {
  std::string s, system;
  size_t last_user = 0;
  for (size_t k = 0; k < msgs.size(); ++k)
    if (msgs[k].role == "user") last_user = k;
  for (size_t k = 0; k < msgs.size(); ++k) {
    const ChatMessage& m = msgs[k];
    if (m.role == "system") {
      system = m.content + "\n\n";
    } else if (m.role == "user") {
      if (f == ChatFormat::Mistral) {
        s += "[INST] " + system + m.content + " [/INST]";
        system.clear();
      } else {
        s += "[INST] " + (k == last_user ? system : std::string()) + m.content + "[/INST]";
      }
    } else {
      s += (f == ChatFormat::Mistral ? "" : " ") + m.content + "</s>";
    }
  }
  return s;
}

}  // namespace

const char* chat_format_name(ChatFormat f) {
  for (const FormatName& n : kNames)
    if (n.format == f) return n.name;
  return "?";
}

std::string chat_format_names() {
  std::string s;
  for (const FormatName& n : kNames) s += (s.empty() ? "" : ", ") + std::string(n.name);
  return s;
}

ChatFormat chat_format_from_name(std::string_view name) {
  for (const FormatName& n : kNames)
    if (name == n.name) return n.format;
  fail("unknown chat template '", name, "' (known: ", chat_format_names(), ")");
}

// The markers each family's template cannot do without, checked in an order where
// no earlier test matches a later family's template.
ChatFormat detect_chat_format(std::string_view t) {
  if (has(t, "<|im_start|>")) return ChatFormat::ChatMl;
  if (has(t, "[INST]")) {
    if (has(t, "<<SYS>>")) return ChatFormat::Llama2;
    if (has(t, " [/INST]")) return ChatFormat::Mistral;  // v0.3 closes the turn without the space
    return ChatFormat::MistralV3;
  }
  if (has(t, "<|assistant|>") && has(t, "<|end|>")) return ChatFormat::Phi3;
  if (has(t, "<start_of_turn>")) return ChatFormat::Gemma;
  if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>")) return ChatFormat::Llama3;
  fail("the model's chat template is not one pocketlm recognises (known families: ", chat_format_names(),
       "); choose one with --chat-template NAME");
}

const char* chat_turn_end(ChatFormat f) {
  switch (f) {
    case ChatFormat::ChatMl: return "<|im_end|>";
    case ChatFormat::Llama3: return "<|eot_id|>";
    case ChatFormat::Phi3: return "<|end|>";
    case ChatFormat::Gemma: return "<end_of_turn>";
    case ChatFormat::Llama2:
    case ChatFormat::Mistral:
    case ChatFormat::MistralV3: return "</s>";
  }
  return "";
}

std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& msgs, bool add_assistant_prefix) {
  for (const ChatMessage& m : msgs)
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
      fail("chat message role '", m.role, "' is not one of system, user, assistant");
  std::string s;
  switch (f) {
    case ChatFormat::ChatMl:
      for (const ChatMessage& m : msgs) s += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_assistant_prefix) s += "<|im_start|>assistant\n";
      return s;
    case ChatFormat::Llama3:
      for (const ChatMessage& m : msgs) s += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
      if (add_assistant_prefix) s += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return s;
    case ChatFormat::Phi3:
      for (const ChatMessage& m : msgs) {  // the user turn already opened the assistant's
        if (m.role == "assistant") s += m.content + "<|end|>\n";
        else s += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
        if (m.role == "user") s += "<|assistant|>\n";
      }
      return s;
    case ChatFormat::Gemma: {
      std::string system;
      for (const ChatMessage& m : msgs) {
        if (m.role == "system") {
          system += trim(m.content);
          continue;
        }
        const bool model = m.role == "assistant";
        s += std::string("<start_of_turn>") + (model ? "model" : "user") + "\n";
        if (!system.empty() && !model) {
          s += system + "\n\n";
          system.clear();
        }
        s += trim(m.content) + "<end_of_turn>\n";
      }
      if (add_assistant_prefix) s += "<start_of_turn>model\n";
      return s;
    }
    case ChatFormat::Llama2: return render_llama2(msgs);
    case ChatFormat::Mistral:
    case ChatFormat::MistralV3: return render_mistral(f, msgs);
  }
  return s;
}

}  // namespace plm
