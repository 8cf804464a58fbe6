#include "unicode.h"

#include <algorithm>
#include <array>

namespace plm {
namespace {

struct CodepointRange {
  uint32_t lo, hi;
};

#include "unicode_tables.inc"

template <size_t N>
bool in_table(const CodepointRange (&table)[N], uint32_t cp) {
  const auto* it = std::upper_bound(std::begin(table), std::end(table), cp, [](uint32_t c, const CodepointRange& r) { return c < r.lo; });
  return it != std::begin(table) && cp <= (it - 1)->hi;
}

uint8_t lookup(uint32_t cp) {
  uint8_t f = 0;
  if (in_table(kLetter, cp)) f |= kClassLetter;
  if (in_table(kNumber, cp)) f |= kClassNumber;
  if (in_table(kPunctuation, cp)) f |= kClassPunctuation;
  if (in_table(kMark, cp)) f |= kClassMark;
  if (in_table(kSymbol, cp)) f |= kClassSymbol;
  if (in_table(kWhiteSpace, cp)) f |= kClassWhiteSpace;
  return f;
}

// Most text lives in the Basic Multilingual Plane: one byte per code point there
// (64 KiB, built on first use) turns five binary searches into one load.
const std::array<uint8_t, 0x10000>& bmp_classes() {
  static const auto table = [] {
    std::array<uint8_t, 0x10000> t{};
    for (uint32_t cp = 0; cp < t.size(); ++cp) t[cp] = lookup(cp);
    return t;
  }();
  return table;
}

}  // namespace

uint8_t char_classes(uint32_t cp) {
  if (cp < 0x10000) return bmp_classes()[cp];
  return cp <= 0x10FFFF ? lookup(cp) : 0;
}

size_t utf8_sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

uint32_t utf8_next(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  const size_t n = utf8_sequence_length(b0);
  if (n == 1) {
    ++pos;
    return b0 < 0x80 ? b0 : kInvalidCodepoint;
  }
  if (pos + n > s.size()) {
    ++pos;
    return kInvalidCodepoint;
  }
  uint32_t cp = b0 & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[pos + k]);
    if ((b & 0xC0) != 0x80) {
      ++pos;
      return kInvalidCodepoint;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not code points.
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++pos;
    return kInvalidCodepoint;
  }
  pos += n;
  return cp;
}

void utf8_append(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

}  // namespace plm
