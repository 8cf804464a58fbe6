// Each sampling method's effect on a known distribution, seed reproducibility, stop
// strings across token boundaries and UTF-8-safe streaming.
#include <cmath>

#include "error.h"
#include "sampler.h"
#include "test_support.h"

namespace plm {
namespace {

// Probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1.
const std::vector<float> kLogits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};

SamplerParams plain(float temp, uint64_t seed = 1) {
  SamplerParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1;
  p.min_p = 0;
  p.seed = seed;
  return p;
}

std::vector<double> histogram(const SamplerParams& p, int draws = 20000) {
  Sampler s(p, 4);
  std::vector<double> h(4);
  for (int i = 0; i < draws; ++i) h[size_t(s.sample(kLogits.data()))] += 1.0 / draws;
  return h;
}

TEST(Sampler, GreedyPicksTheArgmax) {
  Sampler s(plain(0), 4);
  EXPECT_EQ(s.sample(kLogits.data()), 0);
  const std::vector<float> l = {0, 3, 1, 2};
  EXPECT_EQ(s.sample(l.data()), 1);
}

TEST(Sampler, TemperatureOneFollowsTheDistribution) {
  const auto h = histogram(plain(1));
  const double want[4] = {0.5, 0.3, 0.15, 0.05};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(h[size_t(i)], want[i], 0.015) << i;
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  // At T = 0.5 probabilities go as p^2: 0.25, 0.09, 0.0225, 0.0025 over their sum 0.365.
  const auto cold = histogram(plain(0.5f));
  EXPECT_NEAR(cold[0], 0.25 / 0.365, 0.015);
  EXPECT_NEAR(cold[3], 0.0025 / 0.365, 0.005);
  // At T = 2 as sqrt(p): 0.707, 0.548, 0.387, 0.224 over 1.866.
  const auto hot = histogram(plain(2.0f));
  EXPECT_NEAR(hot[0], 0.707 / 1.866, 0.015);
  EXPECT_NEAR(hot[3], 0.224 / 1.866, 0.015);
}

TEST(Sampler, TopKKeepsTheKBest) {
  SamplerParams p = plain(1);
  p.top_k = 2;
  const auto h = histogram(p);
  EXPECT_EQ(h[2] + h[3], 0.0);
  EXPECT_NEAR(h[0], 0.5 / 0.8, 0.015);  // renormalised over the two kept
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
  SamplerParams p = plain(1);
  p.top_p = 0.7f;  // 0.5 < 0.7 <= 0.8: tokens 0 and 1
  const auto h = histogram(p);
  EXPECT_EQ(h[2] + h[3], 0.0);
  EXPECT_GT(h[1], 0.3);
  p.top_p = 0.85f;  // 0.8 < 0.85 <= 0.95: three tokens
  const auto h3 = histogram(p);
  EXPECT_GT(h3[2], 0.1);
  EXPECT_EQ(h3[3], 0.0);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheBest) {
  SamplerParams p = plain(1);
  p.min_p = 0.4f;  // keeps p >= 0.2: tokens 0 (0.5) and 1 (0.3)
  const auto h = histogram(p);
  EXPECT_EQ(h[2] + h[3], 0.0);
  EXPECT_GT(h[1], 0.3);
}

TEST(Sampler, PenaltiesDiscourageRecentTokens) {
  SamplerParams p = plain(0);
  p.repeat_penalty = 2.0f;  // logit(0) = -0.69 -> -1.39 < logit(1) = -1.20
  Sampler s(p, 4);
  s.accept(0);
  EXPECT_EQ(s.sample(kLogits.data()), 1);
  SamplerParams q = plain(0);
  q.presence_penalty = 1.0f;
  Sampler t(q, 4);
  t.accept(0);
  EXPECT_EQ(t.sample(kLogits.data()), 1);
  SamplerParams f = plain(0);
  f.frequency_penalty = 0.3f;  // one occurrence: -0.69 - 0.3 = -0.99 > -1.20; two: -1.29 < -1.20
  Sampler u(f, 4);
  u.accept(0);
  EXPECT_EQ(u.sample(kLogits.data()), 0);  // (and that sample counts as a second occurrence)
  EXPECT_EQ(u.sample(kLogits.data()), 1);
  SamplerParams w = plain(0);
  w.repeat_penalty = 2.0f;
  w.repeat_last_n = 1;  // only the last token is penalised
  Sampler v(w, 4);
  v.accept(0);
  v.accept(3);
  EXPECT_EQ(v.sample(kLogits.data()), 0);
}

TEST(Sampler, SeedMakesRunsReproducible) {
  auto run = [](uint64_t seed) {
    Sampler s(plain(1, seed), 4);
    std::vector<int32_t> v;
    for (int i = 0; i < 64; ++i) v.push_back(s.sample(kLogits.data()));
    return v;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  Sampler s(plain(1, 7), 4);
  const int32_t first = s.sample(kLogits.data());
  s.reset();
  EXPECT_EQ(s.sample(kLogits.data()), first);
}

TEST(Sampler, RejectsAbsurdParameters) {
  SamplerParams p;
  p.temperature = -1;
  EXPECT_NE(validate(p), "");
  EXPECT_THROW(Sampler(p, 4), Error);
  p = SamplerParams();
  p.top_p = 0;
  EXPECT_NE(validate(p).find("top-p"), std::string::npos);
  p = SamplerParams();
  p.top_k = -3;
  EXPECT_NE(validate(p).find("top-k"), std::string::npos);
  EXPECT_EQ(validate(SamplerParams()), "");
}

TEST(TextStream, NeverSplitsUtf8) {
  TextStream ts;
  EXPECT_EQ(ts.push("a\xE2\x96"), "a");  // "▁" is E2 96 81: hold the first two bytes
  EXPECT_EQ(ts.push("\x81" "b"), "\xE2\x96\x81" "b");
  EXPECT_EQ(ts.push("\xF0\x9F"), "");
  EXPECT_EQ(ts.push("\xA6\x99"), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(ts.push("\xC3"), "");
  EXPECT_EQ(ts.finish(), "");  // an incomplete character at the end is dropped
}

TEST(TextStream, StopStringsAcrossTokenBoundaries) {
  TextStream ts({"</stop>", "\n\n"});
  EXPECT_EQ(ts.push("Hello <"), "Hello ");  // "<" may start "</stop>"
  EXPECT_EQ(ts.push("b>"), "<b>");          // it did not
  EXPECT_EQ(ts.push(" x</st"), " x");
  EXPECT_FALSE(ts.stopped());
  EXPECT_EQ(ts.push("op> more"), "");
  EXPECT_TRUE(ts.stopped());
  EXPECT_EQ(ts.push("ignored"), "");
  TextStream nl({"\n\n"});
  EXPECT_EQ(nl.push("line\n"), "line");
  EXPECT_EQ(nl.push("\nnext"), "");
  EXPECT_TRUE(nl.stopped());
  TextStream tail({"END"});
  EXPECT_EQ(tail.push("xE"), "x");
  EXPECT_EQ(tail.finish(), "E");
}

}  // namespace
}  // namespace plm
