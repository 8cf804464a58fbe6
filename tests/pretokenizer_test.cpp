// The byte-level BPE pre-tokenizers: the pattern engine's semantics and errors, each
// family's cuts on a mixed-script text, and the Unicode classes underneath. The
// expected cuts were produced by Python's `regex` module running the same patterns in
// turn (an independent engine); the families with llama.cpp vectors are covered
// end to end in tokenizer_test.cpp.
#include <gtest/gtest.h>

#include "error.h"
#include "pretokenizer.h"
#include "split_pattern.h"
#include "unicode.h"

namespace plm {
namespace {

std::vector<std::string> cut(const SplitPattern& p, std::string_view text) {
  const CodepointText t(text);
  std::vector<uint32_t> cuts;
  p.split(t, 0, uint32_t(t.cps.size()), cuts);
  std::vector<std::string> out;
  uint32_t begin = 0;
  for (uint32_t end : cuts) {
    out.emplace_back(text.substr(t.offsets[begin], t.offsets[end] - t.offsets[begin]));
    begin = end;
  }
  return out;
}

using Pieces = std::vector<std::string>;

TEST(SplitPattern, EcmaScriptSemantics) {
  // Alternatives in order, not longest: "a" wins over "ab".
  EXPECT_EQ(cut(SplitPattern("a|ab"), "abab"), (Pieces{"a", "b", "a", "b"}));
  // Greedy run that backtracks so the lookahead holds: the last space joins the word.
  EXPECT_EQ(cut(SplitPattern("\\s+(?!\\S)| ?\\p{L}+"), "x   yz"), (Pieces{"x", "  ", " yz"}));
  // A group's alternatives are retried when what follows the group fails.
  EXPECT_EQ(cut(SplitPattern("(?:a|ab)c"), "abc"), (Pieces{"abc"}));
  // Counted repeats, classes with ranges and escapes, anchors.
  EXPECT_EQ(cut(SplitPattern("\\p{N}{1,3}"), "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(cut(SplitPattern("[a-c\\-]+"), "ab-cd"), (Pieces{"ab-c", "d"}));
  EXPECT_EQ(cut(SplitPattern("\\s+$"), "a  b  "), (Pieces{"a  b", "  "}));
  EXPECT_EQ(cut(SplitPattern("^."), "abc"), (Pieces{"a", "bc"}));
  EXPECT_EQ(cut(SplitPattern("(?=b)."), "abab"), (Pieces{"a", "b", "a", "b"}));
  // Invalid UTF-8 bytes are kept, each on its own, in place.
  EXPECT_EQ(cut(SplitPattern("\\p{L}+"), "ab\xff" "cd\xc3"), (Pieces{"ab", "\xff", "cd", "\xc3"}));
}

TEST(SplitPattern, RefusesWhatItDoesNotImplement) {
  for (const char* bad : {"(?<=a)b", "(ab)+", "[z-a]", "\\p{Lu}", "a{3,2}", "a+?", "(a", "a)", "*a", "\\q", "[\\S]"}) {
    try {
      SplitPattern p(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(PreTokenizer, FamiliesCutMixedScriptText) {
  const std::string text = "Hello, y'all! I'VE 12345 apples\n\n  \u00fcn\u00efc\u00f6d\u00e9\t3.14 \u0663\u0664 \u4f60\u597d\u4e16\u754c \uc548\ub155 $x+=1;  ";
  const std::vector<std::pair<const char*, Pieces>> cases = {
    {"llama-bpe",
     {"Hello", ",", " y", "'all", "!", " I", "'VE", " ", "123", "45", " apples", "\n\n", " ", " ünïcödé", "\t", "3", ".", "14", " ", "٣٤", " 你好世界", " 안녕", " $", "x", "+=", "1", ";", "  "}},
    {"qwen2",
     {"Hello", ",", " y", "'all", "!", " I", "'VE", " ", "1", "2", "3", "4", "5", " apples", "\n\n", " ", " ünïcödé", "\t", "3", ".", "1", "4", " ", "٣", "٤", " 你好世界", " 안녕", " $", "x", "+=", "1", ";", "  "}},
    {"starcoder",
     {"Hello", ",", " y", "'", "all", "!", " I", "'", "VE", " ", "1", "2", "3", "4", "5", " apples", "\n\n ", " ünïcödé", "\t", "3", ".", "1", "4", " ", "٣", "٤", " 你好世界", " 안녕", " $", "x", "+=", "1", ";", "  "}},
    {"falcon",
     {"Hello", ",", " y", "'", "all", "!", " I", "'", "VE", " ", "123", "45", " apples", "\n\n ", " ünïcödé", "\t", "3", ".", "14", " ٣٤", " 你好世界", " 안녕", " ", "$", "x", "+=", "1", ";", "  "}},
    {"deepseek-coder",
     {"Hello", ",", " y", "'", "all", "!", " I", "'", "VE", " ", "1", "2", "3", "4", "5", " apples", "\n", "\n", " ", " ünïcödé", "\t", "3", ".", "1", "4", " ", "٣", "٤", " ", "你好世界", " ", "안녕", " $", "x", "+=", "1", ";", "  "}},
    {"default",
     {"Hello", ",", " y", "'", "all", "!", " I", "'", "VE", " ", "123", "45", " apples", "\n\n ", " ünïcödé", "\t", "3", ".", "14", " ", "٣٤", " 你好世界", " 안녕", " ", "$", "x", "+=", "1", ";", "  "}},
    {"bloom",
     {"Hello", ",", " y'all", "!", " I'VE", " 12345", " apples", "\n\n ", " ünïcödé", "\t", "3", ".", "14", " ٣٤", " 你好世界", " 안녕", " $x+=1;", "  "}},
  };
  for (const auto& [family, want] : cases) {
    const auto words = PreTokenizer(family).split(text);
    EXPECT_EQ(Pieces(words.begin(), words.end()), want) << family;
  }
}

TEST(PreTokenizer, AliasesAndUnknownFamilies) {
  EXPECT_TRUE(PreTokenizer::known("llama3"));
  EXPECT_TRUE(PreTokenizer::known("smollm"));
  EXPECT_TRUE(PreTokenizer::known("deepseek-llm"));
  EXPECT_FALSE(PreTokenizer::known("no-such-family"));
  try {
    PreTokenizer p("no-such-family");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-family"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("qwen2"), std::string::npos) << "lists what is supported";
  }
  // Every listed family builds (its patterns parse).
  std::string all = PreTokenizer::supported_families() + ",";
  for (size_t at = 0, next; (next = all.find(',', at)) != std::string::npos; at = next + 2) EXPECT_NO_THROW(PreTokenizer(all.substr(at, next - at)));
}

// Long runs (whitespace, digits, newlines, letters without spaces) are where a
// backtracking matcher turns quadratic; every family must stay linear here (a
// regression shows up as this test running for minutes, not as a timing assert).
TEST(PreTokenizer, LongRunsOfOneClass) {
  std::string text = "x";
  text.append(200000, ' ');
  text += "y";
  text.append(200000, '7');
  text.append(100000, '\n');
  text.append(100000, 'z');
  text.append(50000, '\t');
  std::string all = PreTokenizer::supported_families() + ",";
  for (size_t at = 0, next; (next = all.find(',', at)) != std::string::npos; at = next + 2) {
    const std::string family = all.substr(at, next - at);
    size_t covered = 0;
    for (std::string_view w : PreTokenizer(family).split(text)) covered += w.size();
    EXPECT_EQ(covered, text.size()) << family;
  }
}

TEST(Unicode, ClassesFromTheUnicodeTables) {
  EXPECT_EQ(char_classes('A'), kClassLetter);
  EXPECT_EQ(char_classes(0x00E9), kClassLetter);   // é
  EXPECT_EQ(char_classes(0x4E16), kClassLetter);   // 世 (Lo)
  EXPECT_EQ(char_classes(0x0663), kClassNumber);   // Arabic-Indic three
  EXPECT_EQ(char_classes(0x2167), kClassNumber);   // Roman numeral eight (Nl)
  EXPECT_EQ(char_classes(0x17B6), kClassMark);     // Khmer vowel sign (Mc)
  EXPECT_EQ(char_classes(0x00BF), kClassPunctuation);
  EXPECT_EQ(char_classes(0x1F999), kClassSymbol);  // 🦙
  EXPECT_EQ(char_classes(0x3000), kClassWhiteSpace);
  EXPECT_EQ(char_classes(0x0085), kClassWhiteSpace);
  EXPECT_EQ(char_classes(0x200B), 0);              // zero-width space is Cf, not White_Space
  EXPECT_EQ(char_classes(0x110000), 0);
  size_t pos = 0;
  EXPECT_EQ(utf8_next("\xc0\xaf", pos), kInvalidCodepoint);  // overlong '/'
  EXPECT_EQ(pos, 1u);
  pos = 0;
  EXPECT_EQ(utf8_next("\xed\xa0\x80", pos), kInvalidCodepoint);  // a surrogate
  pos = 0;
  EXPECT_EQ(utf8_next("\xf0\x9f\xa6\x99", pos), 0x1F999u);
  EXPECT_EQ(pos, 4u);
}

}  // namespace
}  // namespace plm
