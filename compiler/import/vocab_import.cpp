#include "import/vocab_import.h"

#include "error.h"
#include "pretokenizer.h"

namespace plm {

Vocab vocab_from_metadata(const Metadata& m, const std::string& path) {
  if (!m.has("tokenizer.ggml.model")) fail(path, ": has no tokenizer (no tokenizer.ggml.model); for llama2.c checkpoints pass --tokenizer tokenizer.bin");
  const std::string model = m.get_string("tokenizer.ggml.model");
  Vocab v;
  if (model == "llama") {
    v.kind = TokenizerKind::Spm;
  } else if (model == "gpt2") {
    v.kind = TokenizerKind::ByteBpe;
    if (!m.has("tokenizer.ggml.merges")) fail(path, ": byte-level BPE tokenizer without tokenizer.ggml.merges");
    v.merges = m.get_string_array("tokenizer.ggml.merges");
    // GGUF files written before pre-tokenizers were recorded mean llama.cpp's "default".
    v.pre = m.has("tokenizer.ggml.pre") ? m.get_string("tokenizer.ggml.pre") : "default";
    if (!PreTokenizer::known(v.pre))
      fail(path, ": tokenizer.ggml.pre '", v.pre, "' is not a pre-tokenizer pocketlm knows (supported: ", PreTokenizer::supported_families(), ")");
  } else {
    fail(path, ": tokenizer model '", model, "' is not supported (supported: llama = SentencePiece BPE, gpt2 = byte-level BPE)");
  }
  v.pieces = m.get_string_array("tokenizer.ggml.tokens");
  if (m.has("tokenizer.chat_template")) v.chat_template = m.get_string("tokenizer.chat_template");
  if (m.has("tokenizer.ggml.scores")) v.scores = m.get_float_array("tokenizer.ggml.scores");
  if (m.has("tokenizer.ggml.token_type")) {
    for (int64_t t : m.get_int_array("tokenizer.ggml.token_type")) {
      if (t < 0 || t > 6) fail(path, ": tokenizer.ggml.token_type holds unknown type ", t);
      v.types.push_back(TokenType(t));
    }
  }
  auto id = [&](const char* key) -> int32_t {
    auto x = m.opt_uint(key);
    if (!x || *x >= v.pieces.size()) return -1;  // absent, or 0xFFFFFFFF meaning "none"
    return int32_t(*x);
  };
  v.bos = id("tokenizer.ggml.bos_token_id");
  v.eos = id("tokenizer.ggml.eos_token_id");
  v.unk = id("tokenizer.ggml.unknown_token_id");
  // Defaults as llama.cpp's: SentencePiece adds BOS and a space prefix, byte-level BPE
  // neither unless the file says so.
  const bool spm = v.kind == TokenizerKind::Spm;
  v.add_bos = m.opt_bool("tokenizer.ggml.add_bos_token").value_or(spm);
  v.add_space_prefix = m.opt_bool("tokenizer.ggml.add_space_prefix").value_or(spm);
  try {
    Tokenizer check(v);  // validates table sizes and ids
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  return v;
}

}  // namespace plm
