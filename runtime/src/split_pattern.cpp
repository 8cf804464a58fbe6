#include "split_pattern.h"

#include <algorithm>
#include <limits>
#include <string>

#include "error.h"
#include "unicode.h"

namespace plm {

CodepointText::CodepointText(std::string_view s) {
  cps.reserve(s.size());
  offsets.reserve(s.size() + 1);
  for (size_t pos = 0; pos < s.size();) {
    offsets.push_back(uint32_t(pos));
    cps.push_back(utf8_next(s, pos));
  }
  offsets.push_back(uint32_t(s.size()));
  classes.resize(cps.size());
  for (size_t k = 0; k < cps.size(); ++k) classes[k] = char_classes(cps[k]);
}

void SplitPattern::Atom::finish() {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;  // disjoint, so one binary search decides
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) merged.back().second = std::max(merged.back().second, r.second);
    else merged.push_back(r);
  }
  ranges.swap(merged);
  ascii[0] = ascii[1] = 0;
  for (uint32_t c = 0; c < 128; ++c) {
    bool hit = (char_classes(c) & classes) != 0;
    for (const auto& r : ranges) hit = hit || (c >= r.first && c <= r.second);
    if (hit != negated) ascii[c >> 6] |= uint64_t(1) << (c & 63);
  }
}

bool SplitPattern::Atom::test(uint32_t cp, uint8_t cls) const {
  if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
  bool hit = (cls & classes) != 0;
  if (!hit && !ranges.empty()) {  // the last range starting at or below cp
    auto it = std::upper_bound(ranges.begin(), ranges.end(), cp, [](uint32_t c, const std::pair<uint32_t, uint32_t>& r) { return c < r.first; });
    hit = it != ranges.begin() && cp <= (it - 1)->second;
  }
  return hit != negated;
}

namespace {

constexpr uint32_t kUnbounded = std::numeric_limits<uint32_t>::max();

class PatternParser {
 public:
  PatternParser(std::string_view src, std::vector<SplitPattern::Atom>& atoms) : src_(src), atoms_(atoms) {
    for (size_t pos = 0; pos < src.size();) {
      const uint32_t cp = utf8_next(src, pos);
      if (cp == kInvalidCodepoint) fail("pre-tokenizer pattern is not valid UTF-8: ", src);
      p_.push_back(cp);
    }
  }

  std::vector<SplitPattern::Sequence> parse() {
    auto alts = alternation();
    if (i_ < p_.size()) bad("unbalanced ')'");
    return alts;
  }

 private:
  using Node = SplitPattern::Node;
  using Atom = SplitPattern::Atom;

  [[noreturn]] void bad(const char* what) const { fail("pre-tokenizer pattern '", src_, "': ", what, " (at code point ", i_, ")"); }
  bool more() const { return i_ < p_.size(); }
  uint32_t next() {
    if (!more()) bad("unexpected end");
    return p_[i_++];
  }
  bool eat(uint32_t c) {
    if (more() && p_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  std::vector<SplitPattern::Sequence> alternation() {
    std::vector<SplitPattern::Sequence> alts(1);
    while (more() && p_[i_] != ')') {
      if (eat('|')) alts.emplace_back();
      else alts.back().push_back(term());
    }
    return alts;
  }

  Node term() {
    Node n;
    const uint32_t c = next();
    switch (c) {
      case '(':
        n.kind = Node::kGroup;
        if (eat('?')) {
          const uint32_t k = next();
          if (k == '=') n.kind = Node::kLookahead;
          else if (k == '!') n.kind = Node::kNegativeLookahead;
          else if (k != ':') bad("only (?:...), (?=...) and (?!...) groups are supported");
        }
        n.alternatives = alternation();
        if (!eat(')')) bad("missing ')'");
        break;
      case '^': n.kind = Node::kStart; break;
      case '$': n.kind = Node::kEnd; break;
      case '[': n.atom = add(char_class()); break;
      case '.': {
        Atom a;
        a.negated = true;
        a.ranges = {{'\n', '\n'}, {'\r', '\r'}};
        n.atom = add(std::move(a));
        break;
      }
      case '\\': {
        Atom a;
        uint32_t literal = 0;
        if (escape(a, /*in_class=*/false, literal)) a.ranges.push_back({literal, literal});
        n.atom = add(std::move(a));
        break;
      }
      case '?':
      case '*':
      case '+':
      case '{': bad("quantifier with nothing to repeat");
      default: {
        Atom a;
        a.ranges.push_back({c, c});
        n.atom = add(std::move(a));
      }
    }
    quantifier(n);
    return n;
  }

  void quantifier(Node& n) {
    if (!more()) return;
    const uint32_t c = p_[i_];
    if (c != '?' && c != '*' && c != '+' && c != '{') return;
    if (n.kind != Node::kAtom) bad("quantifiers apply to single-character atoms only");
    ++i_;
    if (c == '?') n.min = 0, n.max = 1;
    else if (c == '*') n.min = 0, n.max = kUnbounded;
    else if (c == '+') n.min = 1, n.max = kUnbounded;
    else {
      n.min = number();
      n.max = n.min;
      if (eat(',')) n.max = (more() && p_[i_] == '}') ? kUnbounded : number();
      if (!eat('}') || n.max < n.min || n.max == 0) bad("malformed {m,n} quantifier");
    }
    if (more() && (p_[i_] == '?' || p_[i_] == '+')) bad("lazy and possessive quantifiers are not supported");
  }

  uint32_t number() {
    uint32_t v = 0;
    bool any = false;
    while (more() && p_[i_] >= '0' && p_[i_] <= '9') {
      v = v * 10 + (p_[i_++] - '0');
      if (v > 100000) bad("repeat count too large");
      any = true;
    }
    if (!any) bad("expected a number");
    return v;
  }

  // After a backslash: adds a class to `a` (returning false) or yields a literal.
  bool escape(Atom& a, bool in_class, uint32_t& literal) {
    const uint32_t c = next();
    auto negatable = [&](uint8_t cls, bool negate) {
      if (negate && in_class) bad("negated escapes inside [...] are not supported");
      a.classes |= cls;
      a.negated = negate;
      return false;
    };
    switch (c) {
      case 's': return negatable(kClassWhiteSpace, false);
      case 'S': return negatable(kClassWhiteSpace, true);
      case 'd':
      case 'D':
        if (c == 'D' && in_class) bad("negated escapes inside [...] are not supported");
        a.ranges.push_back({'0', '9'});
        a.negated = c == 'D';
        return false;
      case 'p':
      case 'P': {
        if (!eat('{')) bad("expected '{' after \\p");
        const uint32_t k = next();
        uint8_t cls = 0;
        switch (k) {
          case 'L': cls = kClassLetter; break;
          case 'N': cls = kClassNumber; break;
          case 'P': cls = kClassPunctuation; break;
          case 'M': cls = kClassMark; break;
          case 'S': cls = kClassSymbol; break;
          default: bad("supported categories are \\p{L}, \\p{N}, \\p{P}, \\p{M} and \\p{S}");
        }
        if (!eat('}')) bad("only one-letter categories such as \\p{L} are supported");
        return negatable(cls, c == 'P');
      }
      case 'r': literal = '\r'; return true;
      case 'n': literal = '\n'; return true;
      case 't': literal = '\t'; return true;
      case 'f': literal = '\f'; return true;
      case 'v': literal = '\v'; return true;
      default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) bad("unsupported escape");
        literal = c;  // an escaped punctuation character stands for itself
        return true;
    }
  }

  Atom char_class() {
    Atom a;
    bool negated = eat('^');
    bool first = true;
    while (true) {
      uint32_t c = next();
      if (c == ']' && !first) break;
      first = false;
      if (c == '\\') {
        Atom inner;
        if (!escape(inner, /*in_class=*/true, c)) {
          a.classes |= inner.classes;
          a.ranges.insert(a.ranges.end(), inner.ranges.begin(), inner.ranges.end());
          continue;
        }
      }
      uint32_t hi = c;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        hi = next();
        if (hi == '\\') {
          Atom inner;
          if (!escape(inner, true, hi)) bad("a class escape cannot end a range");
        }
        if (hi < c) bad("range out of order in [...]");
      }
      a.ranges.push_back({c, hi});
    }
    a.negated = negated;
    return a;
  }

  uint32_t add(Atom a) {
    a.finish();
    atoms_.push_back(std::move(a));
    return uint32_t(atoms_.size() - 1);
  }

  std::string_view src_;
  std::vector<uint32_t> p_;
  size_t i_ = 0;
  std::vector<SplitPattern::Atom>& atoms_;
};

}  // namespace

// One split() call's region, with each atom's last measured run of matches: the
// run from a later position inside it is known without rescanning, which keeps
// scans over long runs (of spaces, digits, ...) linear instead of quadratic.
struct SplitPattern::Region {
  const CodepointText& text;
  uint32_t begin, end;
  struct Run {
    uint32_t pos = 0, length = 0;
    bool valid = false;
  };
  std::vector<Run>& runs;

  uint32_t run(const Atom& a, uint32_t atom, uint32_t pos, uint32_t max) const {
    Run& c = runs[atom];
    if (!(c.valid && pos >= c.pos && pos - c.pos <= c.length)) {
      uint32_t n = 0;
      while (pos + n < end && a.test(text.cps[pos + n], text.classes[pos + n])) ++n;
      c = {pos, n, true};
    }
    return std::min(c.length - (pos - c.pos), max);
  }
};

struct SplitPattern::Continuation {
  const Sequence* seq;
  size_t i;
  const Continuation* up;
};

SplitPattern::SplitPattern(std::string_view regex) {
  alternatives_ = PatternParser(regex, atoms_).parse();
}

// Backtracking in continuation-passing style: `next` is what must match after `seq`
// ends, so a group's alternatives are retried when something after the group fails.
bool SplitPattern::match(const Region& r, const Sequence& seq, size_t i, uint32_t pos, const Continuation* next, uint32_t& end) const {
  if (i == seq.size()) {
    if (!next) {
      end = pos;
      return true;
    }
    return match(r, *next->seq, next->i, pos, next->up, end);
  }
  const Node& n = seq[i];
  switch (n.kind) {
    case Node::kAtom: {
      const uint32_t run = r.run(atoms_[n.atom], n.atom, pos, n.max);
      if (run < n.min) return false;
      if (i + 1 < seq.size() && seq[i + 1].kind == Node::kEnd) {  // "x+$": only reaching the end can match
        const uint32_t k = r.end - pos;
        return k <= run && match(r, seq, i + 1, pos + k, next, end);
      }
      for (uint32_t k = run + 1; k-- > n.min;)  // greedy: longest first
        if (match(r, seq, i + 1, pos + k, next, end)) return true;
      return false;
    }
    case Node::kGroup: {
      const Continuation after{&seq, i + 1, next};
      for (const Sequence& alt : n.alternatives)
        if (match(r, alt, 0, pos, &after, end)) return true;
      return false;
    }
    case Node::kLookahead:
    case Node::kNegativeLookahead: {
      bool hit = false;
      uint32_t ignored = 0;
      for (size_t k = 0; k < n.alternatives.size() && !hit; ++k) hit = match(r, n.alternatives[k], 0, pos, nullptr, ignored);
      if (hit != (n.kind == Node::kLookahead)) return false;
      return match(r, seq, i + 1, pos, next, end);
    }
    case Node::kStart: return pos == r.begin && match(r, seq, i + 1, pos, next, end);
    case Node::kEnd: return pos == r.end && match(r, seq, i + 1, pos, next, end);
  }
  return false;
}

void SplitPattern::split(const CodepointText& text, uint32_t begin, uint32_t end, std::vector<uint32_t>& cuts) const {
  std::vector<Region::Run> runs(atoms_.size());
  const Region r{text, begin, end, runs};
  uint32_t start = begin;
  for (uint32_t pos = begin; pos < end;) {
    uint32_t stop = pos;
    bool hit = false;
    for (size_t k = 0; k < alternatives_.size() && !hit; ++k) hit = match(r, alternatives_[k], 0, pos, nullptr, stop);
    if (!hit || stop == pos) {
      ++pos;
      continue;
    }
    if (pos > start) cuts.push_back(pos);
    cuts.push_back(stop);
    start = pos = stop;
  }
  if (start < end) cuts.push_back(end);
}

}  // namespace plm
