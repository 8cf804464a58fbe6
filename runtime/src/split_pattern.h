// The regular expressions byte-level BPE tokenizers cut text with before merging
// (Hugging Face "pre-tokenizers"), matched with ECMAScript semantics (leftmost match,
// alternatives tried in order, greedy backtracking quantifiers) over code points.
//
// Supported: literals and escapes (\r \n \t \\ \. ...), \s \S \d \D \p{L|N|P|M|S}
// \P{..}, classes [...] with ranges and negation, '.', groups (...) (?:...), lookahead
// (?=...) (?!...), ^ $, and ? * + {m} {m,} {m,n} on single-character atoms; anything
// else is refused when the pattern is built, so no pattern is half-understood.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace plm {

// A text prepared for matching: its code points with their classes and byte offsets.
struct CodepointText {
  std::vector<uint32_t> cps;
  std::vector<uint8_t> classes;
  std::vector<uint32_t> offsets;  // byte offset of each code point, plus one past the end
  explicit CodepointText(std::string_view utf8);
};

class SplitPattern {
 public:
  explicit SplitPattern(std::string_view regex);  // throws Error naming the construct

  // Splits the code point range [begin, end) at every match: matches and the text
  // between them become consecutive pieces, appended to `cuts` as end indices.
  void split(const CodepointText& text, uint32_t begin, uint32_t end, std::vector<uint32_t>& cuts) const;

  struct Atom;
  struct Node;
  using Sequence = std::vector<Node>;

 private:
  struct Region;
  struct Continuation;
  bool match(const Region& r, const Sequence& seq, size_t i, uint32_t pos, const Continuation* next, uint32_t& end) const;

  std::vector<Atom> atoms_;
  std::vector<Sequence> alternatives_;  // the top-level alternation
};

struct SplitPattern::Atom {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // sorted by finish()
  uint8_t classes = 0;  // CharClass bits that match
  bool negated = false;
  uint64_t ascii[2] = {0, 0};  // the whole answer for code points below 128
  void finish();               // sorts the ranges and fills `ascii`
  bool test(uint32_t cp, uint8_t cls) const;
};

struct SplitPattern::Node {
  enum Kind { kAtom, kGroup, kLookahead, kNegativeLookahead, kStart, kEnd } kind = kAtom;
  uint32_t atom = 0;
  uint32_t min = 1, max = 1;
  std::vector<Sequence> alternatives;  // groups and lookaheads
};

}  // namespace plm
