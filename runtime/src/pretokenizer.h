// Byte-level BPE pre-tokenizers: each `tokenizer.ggml.pre` family cuts text into
// words with its own list of patterns, applied in turn (each pattern splits the
// pieces the previous one left), as the model's Hugging Face tokenizer does.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "split_pattern.h"

namespace plm {

class PreTokenizer {
 public:
  // Throws an Error listing the supported families when `family` is unknown.
  explicit PreTokenizer(std::string_view family);

  // The words of `text`, in order, covering every byte exactly once.
  std::vector<std::string_view> split(std::string_view text) const;

  // Llama 3 style: a word that is itself a vocabulary piece is emitted whole
  // instead of being rebuilt from merges.
  bool whole_words_first() const { return whole_words_first_; }

  static bool known(std::string_view family);
  // The family whose patterns are `patterns` (in Hugging Face's spelling or ours:
  // (?i:'s|...) and GPT-2's trailing |\s+ are accepted), or "" if none is.
  static std::string family_of(std::vector<std::string> patterns);
  static std::string supported_families();  // comma-separated, for messages and --help

 private:
  std::vector<SplitPattern> patterns_;
  bool whole_words_first_ = false;
};

}  // namespace plm
