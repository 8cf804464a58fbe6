// Acceptance: the reference executor's logits against llama.cpp's reference dumps
// in ../shared/testdata/reference, per position (cosine, top-1), and the exact
// greedy continuation of the F32 aidreams260K model.
#include <cmath>

#include "import/model_file.h"
#include "models/model_graph.h"
#include "reference/reference_executor.h"
#include "error.h"
#include "test_support.h"

namespace plm {
namespace {

using test::testdata;

struct RefCase {
  const char* model;      // file under models/
  const char* reference;  // stem under reference/
  double min_cosine;
};

void PrintTo(const RefCase& c, std::ostream* os) { *os << c.model; }

double cosine(const float* a, const float* b, int64_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

int64_t argmax(const float* v, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

class ReferenceLogitsTest : public ::testing::TestWithParam<RefCase> {};

TEST_P(ReferenceLogitsTest, MatchesLlamaCppAtEveryPosition) {
  const RefCase& c = GetParam();
  const std::string model = testdata(std::string("models/") + c.model);
  const std::string ref_logits = testdata(std::string("reference/") + c.reference + ".logits.f32");
  const std::string greedy = testdata(std::string("reference/") + c.reference + ".greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  PLM_REQUIRE_TESTDATA(ref_logits);
  PLM_REQUIRE_TESTDATA(greedy);

  const ModelFile mf = open_model_file(model);
  const Graph g = build_graph(mf);
  const std::vector<int32_t> prompt = test::read_id_lines(greedy).at(0);
  const std::vector<float> ref = test::read_f32(ref_logits);
  const int64_t V = g.hp.n_vocab;
  ASSERT_EQ(ref.size(), prompt.size() * size_t(V)) << ref_logits << " does not hold [n_prompt][n_vocab] floats";

  ReferenceExecutor ex(g);
  const std::vector<float> got = ex.eval(prompt);
  ASSERT_EQ(got.size(), ref.size());
  int top1 = 0;
  double worst = 1;
  for (size_t p = 0; p < prompt.size(); ++p) {
    const double cs = cosine(got.data() + p * V, ref.data() + p * V, V);
    worst = std::min(worst, cs);
    EXPECT_GE(cs, c.min_cosine) << c.model << " position " << p;
    top1 += argmax(got.data() + p * V, V) == argmax(ref.data() + p * V, V);
  }
  EXPECT_GE(top1, int(std::ceil(0.9 * double(prompt.size())))) << c.model << ": top-1 agrees at " << top1 << "/" << prompt.size();
  RecordProperty("min_cosine", std::to_string(worst));
  RecordProperty("top1", std::to_string(top1) + "/" + std::to_string(prompt.size()));
}

INSTANTIATE_TEST_SUITE_P(
    Models, ReferenceLogitsTest,
    ::testing::Values(RefCase{"aidreams260K-F32.gguf", "aidreams260K-F32", 0.9999},
                      RefCase{"aidreams260K.bin", "aidreams260K-F32", 0.9999},
                      RefCase{"aidreams260K-F16.gguf", "aidreams260K-F16", 0.999},
                      RefCase{"synth-llama-F16.gguf", "synth-llama-F16", 0.999},
                      RefCase{"synth-llama-Q8_0.gguf", "synth-llama-Q8_0", 0.999},
                      RefCase{"synth-llama-Q4_0.gguf", "synth-llama-Q4_0", 0.995},
                      RefCase{"synth-llama-Q4_K_M.gguf", "synth-llama-Q4_K_M", 0.995}),
    [](const ::testing::TestParamInfo<RefCase>& i) {
      std::string n = i.param.model;
      for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

// Greedy decoding one token at a time through the KV cache must reproduce llama.cpp's
// 64-token continuation exactly, from both the GGUF and the llama2.c checkpoint.
class GreedyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GreedyTest, Aidreams260KContinuationIsIdentical) {
  const std::string model = testdata(std::string("models/") + GetParam());
  const std::string greedy = testdata("reference/aidreams260K-F32.greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  PLM_REQUIRE_TESTDATA(greedy);
  const auto lines = test::read_id_lines(greedy);
  const std::vector<int32_t>& prompt = lines.at(0);
  const std::vector<int32_t>& expected = lines.at(1);
  ASSERT_EQ(expected.size(), 64u);

  const ModelFile mf = open_model_file(model);
  const Graph g = build_graph(mf);
  ReferenceExecutor ex(g);
  std::vector<float> logits = ex.eval(prompt);
  const int64_t V = g.hp.n_vocab;
  std::vector<int32_t> got;
  int32_t next = int32_t(argmax(logits.data() + (prompt.size() - 1) * V, V));
  while (got.size() < expected.size()) {
    got.push_back(next);
    logits = ex.eval({next});
    next = int32_t(argmax(logits.data(), V));
  }
  EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(Models, GreedyTest, ::testing::Values("aidreams260K-F32.gguf", "aidreams260K.bin"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                           return std::string(i.index == 0 ? "gguf" : "llama2c");
                         });

// Prefill of n tokens and n single-token decode steps compute the same thing.
TEST(ReferenceExecutor, PrefillEqualsIncrementalDecode) {
  const std::string model = testdata("models/synth-llama-Q4_0.gguf");
  PLM_REQUIRE_TESTDATA(model);
  const ModelFile mf = open_model_file(model);
  const Graph g = build_graph(mf);
  const std::vector<int32_t> ids = {1, 450, 4996, 17354, 1701};
  ReferenceExecutor batch(g), step(g);
  const std::vector<float> all = batch.eval(ids);
  const int64_t V = g.hp.n_vocab;
  for (size_t p = 0; p < ids.size(); ++p) {
    const std::vector<float> one = step.eval({ids[p]});
    for (int64_t v = 0; v < V; v += 97) ASSERT_NEAR(one[size_t(v)], all[p * V + v], 1e-4f) << "position " << p << " vocab " << v;
  }
  EXPECT_EQ(step.position(), int64_t(ids.size()));
}

TEST(ReferenceExecutor, RefusesContextOverflowAndBadIds) {
  const std::string model = testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(model);
  const ModelFile mf = open_model_file(model);
  const Graph g = build_graph(mf);
  ReferenceExecutor ex(g, 4);
  EXPECT_THROW(ex.eval({1, 2, 3, 4, 5}), Error);
  EXPECT_EQ(ex.position(), 0);
  EXPECT_NO_THROW(ex.eval({1, 2, 3}));
  try {
    ex.eval({1, 2});
    FAIL() << "context overflow not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context overflow"), std::string::npos) << e.what();
  }
  try {
    ex.eval({512});
    FAIL() << "out-of-range id not reported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token id 512"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace plm
