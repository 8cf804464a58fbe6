#include "pretokenizer.h"

#include <algorithm>
#include <initializer_list>

#include "error.h"

namespace plm {
namespace {

// The GPT-2 pattern (contractions, letters, numbers, other, trailing space) that many
// families reuse, alone or after a pattern of their own.
constexpr const char* kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
// Llama 3: case-insensitive contractions, a letter run with one leading non-letter,
// numbers in groups of three, newlines kept together.
constexpr const char* kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen2: as Llama 3 but every digit alone.
constexpr const char* kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kCjk = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";
constexpr const char* kBloom = " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+";

struct Family {
  std::initializer_list<const char*> names;
  std::initializer_list<const char*> patterns;
  bool whole_words_first;
};

const Family kFamilies[] = {
    {{"default"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}, false},
    {{"gpt-2", "phi-2", "mpt", "olmo", "jais", "roberta-bpe", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de",
      "jina-v2-code", "gigachat"},
     {kGpt2},
     false},
    {{"llama-bpe", "llama3", "llama-v3", "falcon3", "pixtral", "dbrx", "smaug-bpe"}, {kLlama3}, true},
    {{"chatglm-bpe"}, {kLlama3}, false},
    {{"qwen2", "stablelm2", "deepseek-r1-qwen", "megrez"}, {kQwen2}, false},
    {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}, {"\\p{N}", kGpt2}, false},
    {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}, false},
    {{"deepseek-llm"},
     {"[\r\n]",
      "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377"
      "\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556"
      "\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a"
      "\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4"
      "\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc"
      "\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f"
      "\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b"
      "\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a"
      "\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2"
      "\U000118a0-\U000118df\U0001e900-\U0001e943]+",
      "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+", "\\s+$", kCjk, "\\p{N}+"},
     false},
    {{"deepseek-coder"}, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kCjk, "\\p{N}"}, false},
    {{"poro-chat", "bloom", "gpt3-finnish"}, {kBloom}, false},
    {{"viking"}, {kBloom, "\\p{N}"}, false},
};

const Family* find_family(std::string_view name) {
  for (const Family& f : kFamilies)
    for (const char* n : f.names)
      if (name == n) return &f;
  return nullptr;
}

}  // namespace

bool PreTokenizer::known(std::string_view family) { return find_family(family) != nullptr; }

std::string PreTokenizer::family_of(std::vector<std::string> patterns) {
  const std::string hf_contractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  const std::string contractions = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
  for (std::string& p : patterns) {
    if (p.rfind(hf_contractions, 0) == 0) p = contractions + p.substr(hf_contractions.size());
    if (p == std::string(kGpt2) + "|\\s+") p = kGpt2;  // ByteLevel's own regex ends in |\s+: same cuts
  }
  for (const Family& f : kFamilies) {
    if (f.patterns.size() != patterns.size()) continue;
    if (std::equal(f.patterns.begin(), f.patterns.end(), patterns.begin())) return *f.names.begin();
  }
  return "";
}

std::string PreTokenizer::supported_families() {
  std::string s;
  for (const Family& f : kFamilies)
    for (const char* n : f.names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

PreTokenizer::PreTokenizer(std::string_view family) {
  const Family* f = find_family(family);
  if (!f) fail("byte-level BPE pre-tokenizer '", family, "' is not supported (supported: ", supported_families(), ")");
  for (const char* p : f->patterns) patterns_.emplace_back(p);
  whole_words_first_ = f->whole_words_first;
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> words;
  if (text.empty()) return words;
  const CodepointText t(text);
  std::vector<uint32_t> cuts{uint32_t(t.cps.size())}, next;
  for (const SplitPattern& p : patterns_) {
    next.clear();
    uint32_t begin = 0;
    for (uint32_t end : cuts) {
      p.split(t, begin, end, next);
      begin = end;
    }
    cuts.swap(next);
  }
  uint32_t begin = 0;
  for (uint32_t end : cuts) {
    words.push_back(text.substr(t.offsets[begin], t.offsets[end] - t.offsets[begin]));
    begin = end;
  }
  return words;
}

}  // namespace plm
