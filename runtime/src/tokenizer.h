// Tokenizers the runtime carries in a bundle: SentencePiece-style BPE over scored
// pieces with byte fallback (llama, phi-3). Special tokens are matched before the
// model's own algorithm when asked to.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plm {

// Token types as GGUF numbers them.
enum class TokenType : int32_t { Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

enum class TokenizerKind { Spm };

struct Vocab {
  TokenizerKind kind = TokenizerKind::Spm;
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<TokenType> types;
  int32_t bos = -1, eos = -1, unk = -1;
  bool add_bos = true;
  bool add_space_prefix = true;  // SPM: a leading "▁" as SentencePiece adds
};

class Tokenizer {
 public:
  explicit Tokenizer(Vocab v);  // validates the tables; throws Error

  // text -> ids. add_bos prepends BOS when the vocabulary has one; parse_special
  // turns the text of control tokens (e.g. "<s>") into those tokens instead of text.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special = false) const;
  // The bytes a token stands for (control tokens give nothing). Throws for bad ids.
  std::string piece_bytes(int32_t id) const;
  // ids -> text; the space SentencePiece adds in front of the first word is removed.
  std::string decode(const std::vector<int32_t>& ids) const;

  const Vocab& vocab() const { return v_; }
  int32_t n_tokens() const { return int32_t(v_.pieces.size()); }
  int32_t find(std::string_view piece) const;  // -1 if absent

 private:
  void encode_spm(std::string_view text, std::vector<int32_t>& out) const;
  Vocab v_;
  std::unordered_map<std::string, int32_t> ids_;
  int32_t byte_ids_[256];
  std::vector<int32_t> specials_;  // control and user-defined tokens, longest first
};

}  // namespace plm
