// Tokenizers the runtime carries in a bundle: SentencePiece-style BPE over scored
// pieces with byte fallback (llama, phi-3), and byte-level BPE over ranked merges
// after a family's pre-tokenizer (GPT-2, Llama 3, Qwen2, DeepSeek, StarCoder, ...).
// Special tokens are matched before the model's own algorithm.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plm {

// Token types as GGUF numbers them.
enum class TokenType : int32_t { Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

enum class TokenizerKind : int8_t {
  Spm = 0,      // GGUF tokenizer.ggml.model "llama"
  ByteBpe = 1,  // GGUF tokenizer.ggml.model "gpt2"
};

class PreTokenizer;

struct Vocab {
  TokenizerKind kind = TokenizerKind::Spm;
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<TokenType> types;
  int32_t bos = -1, eos = -1, unk = -1;
  bool add_bos = true;
  bool add_space_prefix = true;  // SPM: a leading "▁" as SentencePiece adds
  std::vector<std::string> merges;  // ByteBpe: "left right", best first
  std::string pre;                  // ByteBpe: the pre-tokenizer family (tokenizer.ggml.pre)
  std::string chat_template;        // the model's Jinja chat template, if it has one
};

// GPT-2's printable stand-in for a byte, as byte-level BPE vocabularies spell them.
std::string byte_level_char(uint8_t b);

class Tokenizer {
 public:
  explicit Tokenizer(Vocab v);  // validates the tables; throws Error
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;

  // text -> ids. add_bos prepends BOS when the vocabulary has one; parse_special
  // turns the text of control tokens (e.g. "<s>") into those tokens instead of text.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special = false) const;
  // The bytes a token stands for (control tokens give nothing). Throws for bad ids.
  std::string piece_bytes(int32_t id) const;
  // ids -> text; the space SentencePiece adds in front of the first word is removed.
  // Lossless: decode(encode(s)) == s for every byte string byte-level BPE encodes and
  // for SPM text the vocabulary covers.
  std::string decode(const std::vector<int32_t>& ids) const;

  const Vocab& vocab() const { return v_; }
  int32_t n_tokens() const { return int32_t(v_.pieces.size()); }
  int32_t find(std::string_view piece) const;  // -1 if absent

 private:
  void encode_spm(std::string_view text, std::vector<int32_t>& out) const;
  void encode_bpe(std::string_view text, std::vector<int32_t>& out) const;
  Vocab v_;
  // Keys view the strings in v_ (their heap storage survives moves of the Tokenizer),
  // so lookups during merging need no allocation.
  std::unordered_map<std::string_view, int32_t> ids_;
  int32_t byte_ids_[256];
  // ByteBpe: merge ranks, the pre-tokenizer, and GPT-2's printable stand-in for each byte.
  std::unordered_map<std::string_view, int32_t> merge_ranks_;
  std::unique_ptr<PreTokenizer> pre_;
  std::string byte_chars_[256];
  std::unordered_map<uint32_t, uint8_t> char_bytes_;
  // Control and user-defined tokens by first byte, longest first: the text scan for
  // them then compares only the candidates that can start at each position.
  std::vector<int32_t> specials_[256];
};

}  // namespace plm
