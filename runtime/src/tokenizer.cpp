#include "tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "error.h"
#include "pretokenizer.h"
#include "unicode.h"

namespace plm {
namespace {

const std::string kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the
// others (controls, space, ...) for U+0100 onwards in byte order, so that every
// byte string is a string of visible characters.
uint32_t byte_char(unsigned b) {
  auto printable = [](unsigned c) { return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF); };
  if (printable(b)) return b;
  uint32_t n = 0;
  for (unsigned c = 0; c < b; ++c) n += !printable(c);
  return 0x100 + n;
}

// Byte-pair merging shared by both tokenizers: start from single UTF-8 characters and
// repeatedly merge the adjacent pair with the best score (leftmost on ties) until no
// pair scores. `score(left, right, s)` says whether the pair may merge, and how well.
struct Symbol {
  size_t off, len;
  int prev, next;
};

template <typename PairScore>
std::vector<Symbol> merge_pairs(std::string_view text, PairScore score) {
  std::vector<Symbol> sym;
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(utf8_sequence_length(static_cast<unsigned char>(text[off])), text.size() - off);
    sym.push_back({off, len, int(sym.size()) - 1, int(sym.size()) + 1});
    off += len;
  }
  if (sym.empty()) return sym;
  sym.back().next = -1;

  struct Bigram {
    float score;
    int left;
    size_t len;  // merged length when queued: stale entries no longer match
    bool operator<(const Bigram& o) const { return score < o.score || (score == o.score && left > o.left); }
  };
  std::priority_queue<Bigram> queue;
  auto try_pair = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const Symbol& a = sym[size_t(l)];
    const Symbol& b = sym[size_t(r)];
    float s = 0;
    if (score(text.substr(a.off, a.len), text.substr(b.off, b.len), s)) queue.push({s, l, a.len + b.len});
  };
  for (size_t k = 0; k + 1 < sym.size(); ++k) try_pair(int(k), int(k + 1));
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[size_t(b.left)];
    if (l.len == 0 || l.next < 0) continue;
    Symbol& r = sym[size_t(l.next)];
    if (l.len + r.len != b.len) continue;  // one side changed since this pair was queued
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[size_t(r.next)].prev = b.left;
    try_pair(l.prev, b.left);
    try_pair(b.left, l.next);
  }
  std::vector<Symbol> out;
  for (int k = 0; k >= 0; k = sym[size_t(k)].next) out.push_back(sym[size_t(k)]);
  return out;
}

}  // namespace

std::string byte_level_char(uint8_t b) {
  std::string s;
  utf8_append(byte_char(b), s);
  return s;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;

Tokenizer::Tokenizer(Vocab v) : v_(std::move(v)) {
  const size_t n = v_.pieces.size();
  if (n == 0) fail("tokenizer: empty vocabulary");
  if (v_.scores.empty()) v_.scores.assign(n, 0.0f);
  if (v_.types.empty()) v_.types.assign(n, TokenType::Normal);
  if (v_.scores.size() != n || v_.types.size() != n)
    fail("tokenizer: ", n, " pieces but ", v_.scores.size(), " scores and ", v_.types.size(), " types");
  for (int32_t* id : {&v_.bos, &v_.eos, &v_.unk})
    if (*id >= int32_t(n)) fail("tokenizer: special token id ", *id, " is outside the vocabulary of ", n);
  ids_.reserve(n);
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = v_.pieces[i];
    ids_.emplace(p, int32_t(i));  // the first of duplicate pieces wins
    if (v_.types[i] == TokenType::Byte) {
      unsigned b = 0;
      if (p.size() == 6 && std::sscanf(p.c_str(), "<0x%2X>", &b) == 1) byte_ids_[b] = int32_t(i);
    }
    if ((v_.types[i] == TokenType::Control || v_.types[i] == TokenType::UserDefined) && !p.empty())
      specials_[static_cast<unsigned char>(p[0])].push_back(int32_t(i));
  }
  for (auto& list : specials_)
    std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) { return v_.pieces[size_t(a)].size() > v_.pieces[size_t(b)].size(); });
  if (v_.kind == TokenizerKind::ByteBpe) {
    pre_ = std::make_unique<PreTokenizer>(v_.pre);
    merge_ranks_.reserve(v_.merges.size());
    for (size_t r = 0; r < v_.merges.size(); ++r) {
      const std::string& m = v_.merges[r];
      const size_t sp = m.find(' ', 1);  // pieces never hold a plain space: it is mapped to U+0120
      if (sp == std::string::npos || sp + 1 >= m.size() || m.find(' ', sp + 1) != std::string::npos)
        fail("tokenizer: merge ", r, " ('", m, "') is not two pieces separated by one space");
      merge_ranks_.emplace(m, int32_t(r));  // the first of duplicate merges wins
    }
    for (unsigned b = 0; b < 256; ++b) {
      const uint32_t c = byte_char(b);
      utf8_append(c, byte_chars_[b]);
      char_bytes_[c] = uint8_t(b);
    }
  } else if (!v_.merges.empty()) {
    fail("tokenizer: SentencePiece vocabularies carry scores, not merges");
  }
}

int32_t Tokenizer::find(std::string_view piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && v_.bos >= 0) out.push_back(v_.bos);
  // Split the text at special tokens: user-defined ones always, control ones only
  // when asked (so that user text cannot inject "</s>" by accident).
  bool after_special = true;  // SentencePiece adds its space at the start of each text run
  size_t start = 0, i = 0;
  auto flush_text = [&](size_t end) {
    if (end > start) {
      std::string run;
      if (v_.add_space_prefix && after_special) run = " ";
      run.append(text.substr(start, end - start));
      if (v_.kind == TokenizerKind::ByteBpe) encode_bpe(run, out);
      else encode_spm(run, out);
      after_special = false;
    }
  };
  while (i < text.size()) {
    int32_t hit = -1;
    for (int32_t s : specials_[static_cast<unsigned char>(text[i])]) {
      if (v_.types[size_t(s)] == TokenType::Control && !parse_special) continue;
      const std::string& p = v_.pieces[size_t(s)];
      if (text.compare(i, p.size(), p) == 0) {
        hit = s;
        break;
      }
    }
    if (hit < 0) {
      ++i;
      continue;
    }
    flush_text(i);
    out.push_back(hit);
    after_special = true;
    i += v_.pieces[size_t(hit)].size();
    start = i;
  }
  flush_text(text.size());
  return out;
}

// SentencePiece BPE: a pair merges when its concatenation is a piece, best score first.
void Tokenizer::encode_spm(std::string_view raw, std::vector<int32_t>& out) const {
  std::string text;
  text.reserve(raw.size() + raw.size() / 2);
  for (char c : raw) {
    if (c == ' ') text += kSpace;
    else text += c;
  }
  std::string merged;
  const auto symbols = merge_pairs(text, [&](std::string_view l, std::string_view r, float& score) {
    merged.assign(l).append(r);
    const int32_t id = find(merged);
    if (id >= 0) score = v_.scores[size_t(id)];
    return id >= 0;
  });
  for (const Symbol& s : symbols) {
    const std::string_view piece(text.data() + s.off, s.len);
    const int32_t id = find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (unsigned char c : piece) {  // byte fallback, else the unknown token
      if (byte_ids_[c] >= 0) out.push_back(byte_ids_[c]);
      else if (v_.unk >= 0) out.push_back(v_.unk);
    }
  }
}

// Byte-level BPE: the pre-tokenizer cuts words, each word's bytes become GPT-2's
// stand-in characters, and pairs merge in the order of the merge list.
void Tokenizer::encode_bpe(std::string_view raw, std::vector<int32_t>& out) const {
  std::string word, key;
  for (std::string_view w : pre_->split(raw)) {
    word.clear();
    for (unsigned char c : w) word += byte_chars_[c];
    if (pre_->whole_words_first()) {
      const int32_t id = find(word);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
    }
    const auto symbols = merge_pairs(word, [&](std::string_view l, std::string_view r, float& score) {
      key.assign(l).append(1, ' ').append(r);
      const auto it = merge_ranks_.find(key);
      if (it == merge_ranks_.end()) return false;
      score = -float(it->second);
      return true;
    });
    for (const Symbol& s : symbols) {
      const std::string_view piece(word.data() + s.off, s.len);
      const int32_t id = find(piece);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      // A piece the vocabulary lacks (only in vocabularies without all 256 byte
      // characters): its single-byte pieces where they exist, as llama.cpp does.
      for (char c : piece) {
        const int32_t b = find(std::string_view(&c, 1));
        if (b >= 0) out.push_back(b);
      }
    }
  }
}

std::string Tokenizer::piece_bytes(int32_t id) const {
  if (id < 0 || id >= n_tokens()) fail("token id ", id, " is outside the vocabulary of ", n_tokens());
  const std::string& p = v_.pieces[size_t(id)];
  switch (v_.types[size_t(id)]) {
    case TokenType::Control:
    case TokenType::Unused: return {};
    case TokenType::Byte: {
      unsigned b = 0;
      if (p.size() == 6 && std::sscanf(p.c_str(), "<0x%2X>", &b) == 1) return std::string(1, char(b));
      return p;
    }
    case TokenType::UserDefined: return p;
    default: {
      if (v_.kind == TokenizerKind::ByteBpe) {
        std::string bytes;
        for (size_t i = 0; i < p.size();) {
          const size_t at = i;
          const uint32_t c = utf8_next(p, i);
          const auto it = char_bytes_.find(c);
          if (it != char_bytes_.end()) bytes += char(it->second);
          else bytes.append(p, at, i - at);  // not a stand-in: the character itself
        }
        return bytes;
      }
      std::string s;
      for (size_t i = 0; i < p.size();) {
        if (p.compare(i, kSpace.size(), kSpace) == 0) {
          s += ' ';
          i += kSpace.size();
        } else {
          s += p[i++];
        }
      }
      return s;
    }
  }
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string s;
  bool first_text = true;
  for (int32_t id : ids) {
    std::string piece = piece_bytes(id);
    if (first_text && !piece.empty()) {  // only the very first text piece carries the added space
      if (v_.add_space_prefix && v_.types[size_t(id)] == TokenType::Normal && piece[0] == ' ') piece.erase(0, 1);
      first_text = false;
    }
    s += piece;
  }
  return s;
}

}  // namespace plm
