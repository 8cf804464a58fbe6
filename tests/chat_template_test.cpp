// Chat templates: each family's Jinja template (as models ship it) is recognised, and
// the rendering of a three-turn conversation equals what the template renders. The
// expected strings were rendered from these templates by Python's jinja2 (BOS left
// to the tokenizer). Where a template refuses or ignores a system message (Gemma,
// Mistral v0.1, Phi-3), the "with system" string is pocketlm's documented policy.
#include <gtest/gtest.h>

#include "chat_template.h"
#include "error.h"
#include "import/model_file.h"
#include "test_support.h"

namespace plm {
namespace {

struct TemplateCase {
  ChatFormat format;
  const char* jinja;
  const char* plain;        // user, assistant, user + assistant prefix
  const char* with_system;  // the same after a system message
};

const TemplateCase kCases[] = {
    {ChatFormat::ChatMl,
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
     "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n Hi there! <|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n",
     "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n Hi there! <|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n"},
    {ChatFormat::Llama2,
     "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
     "[INST] Hello [/INST] Hi there! </s><s>[INST] How are you? [/INST]",
     "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHello [/INST] Hi there! </s><s>[INST] How are you? [/INST]"},
    {ChatFormat::Llama3,
     "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
     "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {ChatFormat::Phi3,
     "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\\n'}}{% endif %}{% endfor %}",
     "<|user|>\nHello<|end|>\n<|assistant|>\n Hi there! <|end|>\n<|user|>\nHow are you?<|end|>\n<|assistant|>\n",
     "<|system|>\nBe brief.<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\n Hi there! <|end|>\n<|user|>\nHow are you?<|end|>\n<|assistant|>\n"},
    {ChatFormat::Gemma,
     "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
     "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there!<end_of_turn>\n<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n",
     "<start_of_turn>user\nBe brief.\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there!<end_of_turn>\n<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n"},
    {ChatFormat::Mistral,
     "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
     "[INST] Hello [/INST] Hi there! </s>[INST] How are you? [/INST]",
     "[INST] Be brief.\n\nHello [/INST] Hi there! </s>[INST] How are you? [/INST]"},
    {ChatFormat::MistralV3,
     "{%- if messages[0][\"role\"] == \"system\" %}{%- set system_message = messages[0][\"content\"] %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}{%- for message in loop_messages %}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}{%- if message['role'] == 'user' %}{%- if loop.last and system_message is defined %}{{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}{%- else %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- endif %}{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token}}{%- else %}{{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}{%- endif %}{%- endfor %}",
     "[INST] Hello[/INST]  Hi there! </s>[INST] How are you?[/INST]",
     "[INST] Hello[/INST]  Hi there! </s>[INST] Be brief.\n\nHow are you?[/INST]"},
};

const std::vector<ChatMessage> kConversation = {{"user", "Hello"}, {"assistant", " Hi there! "}, {"user", "How are you?"}};

TEST(ChatTemplate, EveryFamilyIsRecognisedAndRendersLikeItsTemplate) {
  for (const TemplateCase& c : kCases) {
    SCOPED_TRACE(chat_format_name(c.format));
    EXPECT_EQ(detect_chat_format(c.jinja), c.format);
    EXPECT_EQ(chat_format_from_name(chat_format_name(c.format)), c.format);
    EXPECT_EQ(render_chat(c.format, kConversation, true), c.plain);
    std::vector<ChatMessage> sys = kConversation;
    sys.insert(sys.begin(), {"system", "Be brief."});
    EXPECT_EQ(render_chat(c.format, sys, true), c.with_system);
  }
}

TEST(ChatTemplate, AssistantPrefixOnlyWhenAsked) {
  const std::vector<ChatMessage> one = {{"user", "Hi"}};
  EXPECT_EQ(render_chat(ChatFormat::ChatMl, one, false), "<|im_start|>user\nHi<|im_end|>\n");
  EXPECT_EQ(render_chat(ChatFormat::Llama3, one, false), "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
  EXPECT_EQ(render_chat(ChatFormat::Gemma, one, false), "<start_of_turn>user\nHi<end_of_turn>\n");
  EXPECT_STREQ(chat_turn_end(ChatFormat::ChatMl), "<|im_end|>");
  EXPECT_STREQ(chat_turn_end(ChatFormat::Llama3), "<|eot_id|>");
  EXPECT_STREQ(chat_turn_end(ChatFormat::Gemma), "<end_of_turn>");
}

TEST(ChatTemplate, TheTemplateAShippedModelCarries) {
  const std::string path = test::testdata("tokenizers/ggml-vocab-phi-3.gguf");
  PLM_REQUIRE_TESTDATA(path);
  EXPECT_EQ(detect_chat_format(open_model_file(path).meta.get_string("tokenizer.chat_template")), ChatFormat::Phi3);
}

TEST(ChatTemplate, ClearErrors) {
  try {
    detect_chat_format("{% for m in messages %}{{ m.content }}{% endfor %}");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--chat-template"), std::string::npos) << e.what();
  }
  EXPECT_THROW(chat_format_from_name("vicuna"), Error);
  EXPECT_THROW(render_chat(ChatFormat::ChatMl, {{"tool", "x"}}, true), Error);
}

}  // namespace
}  // namespace plm
