// Token sampling: repetition/frequency/presence penalties, then top-k, top-p, min-p
// and temperature, then a draw from a seeded generator (so runs are reproducible on
// every platform). Temperature 0 is greedy.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace plm {

struct SamplerParams {
  float temperature = 0.8f;     // 0: greedy (argmax)
  int32_t top_k = 40;           // 0: off
  float top_p = 0.95f;          // 1: off
  float min_p = 0.05f;          // 0: off; drops tokens below min_p * p(best)
  float repeat_penalty = 1.0f;  // 1: off; divides positive / multiplies negative logits
  int32_t repeat_last_n = 64;   // how many recent tokens the penalties look at
  float frequency_penalty = 0;  // subtracted per occurrence
  float presence_penalty = 0;   // subtracted once if present
  uint64_t seed = 0;
};

// Returns an error message for out-of-range parameters, or "" if they are valid.
std::string validate(const SamplerParams& p);

class Sampler {
 public:
  Sampler(const SamplerParams& p, int32_t n_vocab);  // throws Error on bad params
  int32_t sample(const float* logits);  // picks a token and remembers it for the penalties
  void accept(int32_t token);           // prompt tokens count for the penalties too
  void reset();

 private:
  SamplerParams p_;
  int32_t n_vocab_;
  uint64_t rng_state_;
  std::deque<int32_t> recent_;
  struct Cand {
    int32_t id;
    float logit;
  };
  std::vector<Cand> cand_;
  double uniform();  // [0, 1)
};

// Turns token bytes into text safe to show: never splits a UTF-8 character, and
// holds back text that could be the start of a stop string until it is decided.
class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_strings = {}) : stops_(std::move(stop_strings)) {}
  // Appends bytes; returns the text that can be emitted now. After a stop string
  // is seen, stopped() is true and nothing from the stop string on is emitted.
  std::string push(const std::string& bytes);
  std::string finish();  // whatever is left (an incomplete character is dropped)
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace plm
