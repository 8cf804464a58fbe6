// The product path end to end: each shared test model compiled for this machine
// (`--soc host`), run by the runtime's executor over the bundle's kernels, against
// llama.cpp's reference logits with the foundation's tolerances, and the exact
// aidreams260K greedy continuation.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>

#include "bundle/bundle_writer.h"
#include "error.h"
#include "import/model_file.h"
#include "kv_cache.h"
#include "models/model_graph.h"
#include "reference/reference_executor.h"
#include "pocketlm/pocketlm.h"
#include "session.h"
#include "test_support.h"

namespace plm {
namespace {

struct Case {
  const char* model;
  const char* reference;
  double min_cosine;
  // Top-1 agreement with llama.cpp (issue #4: 0.9 everywhere). Q4_K_M reached only
  // 19/22 while K-quant activations were scaled per 32 values: its misses were near-ties
  // (exact margins 0.009-0.02) where our rounding and llama.cpp's went different ways.
  // Scaled per 256 values as llama.cpp's Q8_K does, it agrees at 21/22. Agreement with
  // the exact reference executor is held to 0.9 as well.
  double min_top1_llama = 0.9;
  // Compiled with --kv-cache q8_0: the same tolerances hold against llama.cpp's f16-cache
  // logits (min cosine 0.9997, top-1 22/22 and 21/22 when measured).
  const char* kv_cache = "f16";
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.model << " kv " << c.kv_cache; }

std::string compile_host(const std::string& model, const std::string& kv_cache = "f16") {
  return test::cached_bundle(model, "host", kv_cache);
}

int64_t argmax(const float* v, int64_t n) {
  return int64_t(std::max_element(v, v + n) - v);
}

class BundleLogits : public ::testing::TestWithParam<Case> {};

TEST_P(BundleLogits, MatchLlamaCppAtEveryPosition) {
  const Case& c = GetParam();
  const std::string model = test::testdata(std::string("models/") + c.model);
  const std::string ref = test::testdata(std::string("reference/") + c.reference + ".logits.f32");
  const std::string greedy = test::testdata(std::string("reference/") + c.reference + ".greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  PLM_REQUIRE_TESTDATA(ref);
  const auto prompt = test::read_id_lines(greedy).at(0);
  const auto want = test::read_f32(ref);
  const ModelFile mf = open_model_file(model);
  const Graph g = build_graph(mf);
  const std::vector<float> exact = ReferenceExecutor(g).eval(prompt);
  Session s(Model::open(compile_host(model, c.kv_cache)), 0, 64, 2);
  const int64_t V = s.n_vocab();
  // Prefill in one batch, then again token by token: both must match.
  for (bool stepwise : {false, true}) {
    s.reset();
    std::vector<float> got;
    if (!stepwise) got = s.decode(prompt);
    else
      for (int32_t id : prompt) {
        const auto l = s.decode({id});
        got.insert(got.end(), l.begin(), l.end());
      }
    ASSERT_EQ(got.size(), want.size());
    int top1 = 0, top1_exact = 0;
    for (size_t p = 0; p < prompt.size(); ++p) {
      top1_exact += argmax(got.data() + p * size_t(V), V) == argmax(exact.data() + p * size_t(V), V);
      double ab = 0, aa = 0, bb = 0;
      for (int64_t i = 0; i < V; ++i) {
        const double a = got[p * size_t(V) + size_t(i)], b = want[p * size_t(V) + size_t(i)];
        ab += a * b, aa += a * a, bb += b * b;
      }
      EXPECT_GE(ab / std::sqrt(aa * bb), c.min_cosine) << c.model << " position " << p << (stepwise ? " (stepwise)" : "");
      top1 += argmax(got.data() + p * size_t(V), V) == argmax(want.data() + p * size_t(V), V);
    }
    EXPECT_GE(top1, int(std::ceil(c.min_top1_llama * double(prompt.size())))) << c.model << ": top-1 vs llama.cpp " << top1 << "/"
                                                                                 << prompt.size();
    EXPECT_GE(top1_exact, int(std::ceil(0.9 * double(prompt.size())))) << c.model << ": top-1 vs the reference executor " << top1_exact;
  }
}

INSTANTIATE_TEST_SUITE_P(Host, BundleLogits,
                         ::testing::Values(Case{"aidreams260K-F32.gguf", "aidreams260K-F32", 0.9999},
                                           Case{"aidreams260K.bin", "aidreams260K-F32", 0.9999},
                                           Case{"aidreams260K-F16.gguf", "aidreams260K-F16", 0.999},
                                           Case{"synth-llama-F16.gguf", "synth-llama-F16", 0.999},
                                           Case{"synth-llama-Q8_0.gguf", "synth-llama-Q8_0", 0.999},
                                           Case{"synth-llama-Q4_0.gguf", "synth-llama-Q4_0", 0.995},
                                           Case{"synth-llama-Q4_K_M.gguf", "synth-llama-Q4_K_M", 0.995},
                                           Case{"synth-llama-Q8_0.gguf", "synth-llama-Q8_0", 0.999, 0.9, "q8_0"},
                                           Case{"synth-llama-Q4_0.gguf", "synth-llama-Q4_0", 0.995, 0.9, "q8_0"}),
                         [](const auto& i) {
                           std::string n = i.param.model + std::string(std::string(i.param.kv_cache) == "f16" ? "" : "_kv_q8_0");
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(BundleRuntime, Aidreams260KGreedyContinuationIsIdentical) {
  const std::string model = test::testdata("models/aidreams260K-F32.gguf");
  const std::string greedy = test::testdata("reference/aidreams260K-F32.greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  PLM_REQUIRE_TESTDATA(greedy);
  const auto lines = test::read_id_lines(greedy);
  Session s(Model::open(compile_host(model)), 0, 64, 2);
  std::vector<float> l = s.decode(lines.at(0), /*last_only=*/true);
  std::vector<int32_t> got;
  while (got.size() < lines.at(1).size()) {
    got.push_back(int32_t(argmax(l.data(), s.n_vocab())));
    l = s.decode({got.back()}, true);
  }
  EXPECT_EQ(got, lines.at(1));
}

TEST(BundleRuntime, BadIdsAndContextOverflowLeaveTheSessionUsable) {
  const std::string model = test::testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(model);
  Session s(Model::open(compile_host(model)), 8, 4, 1);
  EXPECT_THROW(s.decode({1, 999}), Error);
  EXPECT_THROW(s.decode(std::vector<int32_t>(9, 1)), Error);
  EXPECT_EQ(s.position(), 0);
  EXPECT_EQ(s.decode(std::vector<int32_t>(7, 5)).size(), 7u * 512);  // two chunks of the 4-token batch
  EXPECT_EQ(s.position(), 7);
  EXPECT_THROW(s.decode({1, 2}), Error);
  EXPECT_NO_THROW(s.decode({1}));
}

// With only the last token's logits wanted, the steps that feed nothing but the logits
// (the last layer after its KV cache writes, the output norm and matmul) run on the
// last token alone and are skipped in earlier chunks. Its logits must be those of the
// full run, and the KV cache the same: the next token's logits are then bit-identical.
TEST(BundleRuntime, LastTokenLogitsSkipOnlyWhatFeedsNothingElse) {
  for (const char* name : {"synth-llama-Q4_K_M.gguf", "synth-llama-Q4_0.gguf"}) {
    SCOPED_TRACE(name);
    const std::string model = test::testdata(std::string("models/") + name);
    PLM_REQUIRE_TESTDATA(model);
    const auto m = Model::open(compile_host(model));
    const auto& steps = *m->bundle().meta().plan()->steps();
    size_t tail = 0;
    for (uint32_t i = 0; i < steps.size(); ++i) {
      if (!m->feeds_only_logits(i)) continue;
      ++tail;
      for (const bundle::Arg* a : *steps.Get(i)->args())
        EXPECT_FALSE(kv_cache_appends(a->kind()) || a->kind() == bundle::ArgKind::Tokens) << "step " << i;
    }
    EXPECT_TRUE(m->feeds_only_logits(steps.size() - 1)) << "the logits matmul";
    EXPECT_GE(tail, 3u);                  // at least the output norm, its quantisation, the logits
    EXPECT_LT(tail, steps.size() / 2);    // never the layers before the last
    std::vector<int32_t> prompt(13);
    for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = int32_t(1 + (i * 37) % 200);
    Session all(m, 64, 8, 2), last(m, 64, 8, 2);  // chunks of 8 and 5 tokens
    const std::vector<float> every = all.decode(prompt), only = last.decode(prompt, /*last_only=*/true);
    const int64_t V = all.n_vocab();
    ASSERT_EQ(only.size(), size_t(V));
    const float* want = every.data() + (prompt.size() - 1) * size_t(V);
    float worst = 0, scale = 0;
    for (int64_t i = 0; i < V; ++i) {
      worst = std::max(worst, std::fabs(only[size_t(i)] - want[i]));
      scale = std::max(scale, std::fabs(want[i]));
    }
    EXPECT_LE(worst, 1e-4f * scale) << "max |difference| " << worst << " of logits up to " << scale;
    EXPECT_EQ(all.decode({7}, true), last.decode({7}, true));
  }
}

}  // namespace
}  // namespace plm

namespace plm {
namespace {

// One model, four sessions decoding in four threads at once (each with its own
// thread pool): every session's logits equal a lone session's.
TEST(BundleRuntime, ConcurrentSessionsMatchALoneSession) {
  const std::string model = test::testdata("models/synth-llama-Q4_0.gguf");
  const std::string greedy = test::testdata("reference/synth-llama-Q4_0.greedy.txt");
  PLM_REQUIRE_TESTDATA(model);
  const auto prompt = test::read_id_lines(greedy).at(0);
  auto m = Model::open(compile_host(model));
  const std::vector<float> alone = Session(m, 64, 8, 2).decode(prompt);
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      Session s(m, 64, 8, 2);
      for (int rep = 0; rep < 3; ++rep) {
        s.reset();
        got[size_t(i)] = s.decode(prompt);
      }
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[size_t(i)], alone) << "session " << i;
}

}  // namespace
}  // namespace plm

namespace plm {
namespace {

// plm_model_open_fd: a bundle stored inside a larger file at an offset that is not
// page-aligned (as in an APK) gives the logits of the bundle opened by path; ranges
// past the end of the file and offsets off the bundle's 64-byte alignment are refused
// naming the fd.
TEST(BundleRuntime, OpensABundleAtAnOffsetOfAnotherFile) {
  const std::string model = test::testdata("models/aidreams260K-F32.gguf");
  PLM_REQUIRE_TESTDATA(model);
  const std::vector<uint8_t> bundle = test::read_bytes(compile_host(model));
  // 12352 = 193 x 64 bytes before the bundle: not page-aligned; 999 bytes after it.
  std::vector<uint8_t> pack(12352 + bundle.size() + 999, 0x5a);
  std::copy(bundle.begin(), bundle.end(), pack.begin() + 12352);
  std::fill(pack.begin() + 12352 + std::ptrdiff_t(bundle.size()), pack.end(), 0xa5);
  const std::string path = test::write_temp("pack.bin", pack);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  plm_model* m = nullptr;
  ASSERT_EQ(plm_model_open_fd(fd, 12352, bundle.size(), &m), PLM_OK) << plm_last_error();
  plm_model* bad = nullptr;
  EXPECT_EQ(plm_model_open_fd(fd, 12352, pack.size(), &bad), PLM_ERROR_BAD_BUNDLE);
  EXPECT_NE(std::string(plm_last_error()).find("fd " + std::to_string(fd) + " at offset 12352"), std::string::npos) << plm_last_error();
  EXPECT_NE(std::string(plm_last_error()).find("past the end"), std::string::npos) << plm_last_error();
  EXPECT_EQ(plm_model_open_fd(fd, 12288, bundle.size(), &bad), PLM_ERROR_BAD_BUNDLE);  // 64 bytes early: bad magic
  EXPECT_NE(std::string(plm_last_error()).find("bad magic"), std::string::npos) << plm_last_error();
  EXPECT_EQ(plm_model_open_fd(fd, 12353, bundle.size(), &bad), PLM_ERROR_BAD_BUNDLE);
  EXPECT_NE(std::string(plm_last_error()).find("multiple of 64"), std::string::npos) << plm_last_error();
  EXPECT_EQ(bad, nullptr);
  plm_model* whole = nullptr;
  ::close(fd);  // the mapping outlives the descriptor
  ASSERT_EQ(plm_model_open(compile_host(model).c_str(), &whole), PLM_OK) << plm_last_error();
  const int32_t ids[] = {1, 403, 407, 261, 378};
  std::vector<float> a(size_t(plm_model_n_vocab(m))), b(a.size());
  for (auto [model_ptr, out] : {std::pair{m, &a}, std::pair{whole, &b}}) {
    plm_session* s = nullptr;
    ASSERT_EQ(plm_session_create(model_ptr, 32, 1, &s), PLM_OK) << plm_last_error();
    ASSERT_EQ(plm_decode(s, ids, 5, out->data()), PLM_OK) << plm_last_error();
    plm_session_free(s);
  }
  EXPECT_EQ(a, b);
  plm_model_close(m);
  plm_model_close(whole);
}

}  // namespace
}  // namespace plm
