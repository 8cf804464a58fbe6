// UTF-8 decoding and the Unicode character classes the tokenizers' pre-tokenizer
// patterns test (\p{L}, \p{N}, \p{P}, \p{M}, \p{S}, \s). Tables: unicode_tables.inc.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace plm {

enum CharClass : uint8_t {
  kClassLetter = 1,
  kClassNumber = 2,
  kClassPunctuation = 4,
  kClassMark = 8,
  kClassSymbol = 16,
  kClassWhiteSpace = 32,
};

// The CharClass bits of a code point (0 for others and for values past U+10FFFF).
uint8_t char_classes(uint32_t cp);

// Decodes the code point at text[pos] and advances pos. A byte that does not start a
// well-formed sequence stands for itself as one "code point" 0xFFFFFFFF (no class), so
// that splitting never loses or reorders bytes.
constexpr uint32_t kInvalidCodepoint = 0xFFFFFFFFu;
uint32_t utf8_next(std::string_view text, size_t& pos);

// The length of the UTF-8 sequence a lead byte announces (1 for stray bytes).
size_t utf8_sequence_length(unsigned char lead);

void utf8_append(uint32_t cp, std::string& out);

}  // namespace plm
