// Issue #4 acceptance 5, under ThreadSanitizer: one model, four sessions decoding and
// generating in four threads at once through the C API, each with its own thread
// pool, give exactly what a lone session gives, and TSan reports no race (a report
// fails the test: TSAN_OPTIONS=halt_on_error=1). The runtime is built with
// -fsanitize=thread; the bundle's kernels are Halide code, not instrumented, but every
// hand-off between threads goes through the runtime's pools, which are.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "pocketlm/pocketlm.h"

namespace {

const char* const kBundle = PLM_TSAN_BUNDLE;  // written by the fixture.CompileHostBundle test

struct Outcome {
  std::vector<float> logits;  // after each prompt token, decoded one at a time
  std::string text;           // a sampled continuation
};

Outcome run_one(plm_model* m, int threads) {
  Outcome o;
  plm_session* s = nullptr;
  if (plm_session_create(m, 64, threads, &s) != PLM_OK) {
    ADD_FAILURE() << plm_last_error();
    return o;
  }
  const int32_t n_vocab = plm_model_n_vocab(m);
  const int32_t prompt[] = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278};
  for (int32_t id : prompt) {
    std::vector<float> l(size_t(n_vocab), 0.0f);
    EXPECT_EQ(plm_decode(s, &id, 1, l.data()), PLM_OK) << plm_last_error();
    o.logits.insert(o.logits.end(), l.begin(), l.end());
  }
  plm_session_reset(s);
  plm_sampling sp = plm_sampling_default();
  sp.seed = 7;
  int32_t n = 0;
  EXPECT_EQ(plm_generate(s, "Once upon a time", &sp, 16, nullptr,
                         [](const char* t, size_t len, void* u) {
                           static_cast<std::string*>(u)->append(t, len);
                           return 0;
                         },
                         &o.text, &n),
            PLM_OK)
      << plm_last_error();
  EXPECT_EQ(n, 16);
  plm_session_free(s);
  return o;
}

TEST(ConcurrentSessions, FourThreadsMatchALoneSession) {
  plm_model* m = nullptr;
  ASSERT_EQ(plm_model_open(kBundle, &m), PLM_OK) << plm_last_error();
  const Outcome alone = run_one(m, 2);
  ASSERT_FALSE(alone.logits.empty());
  std::vector<Outcome> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { got[size_t(i)] = run_one(m, 2); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[size_t(i)].logits, alone.logits) << "session " << i;
    EXPECT_EQ(got[size_t(i)].text, alone.text) << "session " << i;
  }
  plm_model_close(m);
}

}  // namespace
