#include "tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "error.h"

namespace plm {
namespace {

const std::string kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;  // a stray continuation byte stands alone (and falls back to bytes)
}

}  // namespace

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
    if ((v_.types[i] == TokenType::Control || v_.types[i] == TokenType::UserDefined) && !p.empty()) specials_.push_back(int32_t(i));
  }
  std::stable_sort(specials_.begin(), specials_.end(),
                   [&](int32_t a, int32_t b) { return v_.pieces[size_t(a)].size() > v_.pieces[size_t(b)].size(); });
}

int32_t Tokenizer::find(std::string_view piece) const {
  auto it = ids_.find(std::string(piece));
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
      encode_spm(run, out);
      after_special = false;
    }
  };
  while (i < text.size()) {
    int32_t hit = -1;
    for (int32_t s : specials_) {
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

// SentencePiece BPE: start from single characters and repeatedly merge the adjacent
// pair whose concatenation is the highest-scoring piece (leftmost on ties).
void Tokenizer::encode_spm(std::string_view raw, std::vector<int32_t>& out) const {
  std::string text;
  text.reserve(raw.size() + raw.size() / 2);
  for (char c : raw) {
    if (c == ' ') text += kSpace;
    else text += c;
  }
  struct Symbol {
    size_t off, len;
    int prev, next;
  };
  std::vector<Symbol> sym;
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(utf8_len(static_cast<unsigned char>(text[off])), text.size() - off);
    sym.push_back({off, len, int(sym.size()) - 1, int(sym.size()) + 1});
    off += len;
  }
  if (sym.empty()) return;
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
    const std::string_view merged(text.data() + sym[size_t(l)].off, sym[size_t(l)].len + sym[size_t(r)].len);
    const int32_t id = find(merged);
    if (id < 0) return;
    queue.push({v_.scores[size_t(id)], l, merged.size()});
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
  for (int k = 0; k >= 0; k = sym[size_t(k)].next) {
    const std::string_view piece(text.data() + sym[size_t(k)].off, sym[size_t(k)].len);
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
