#include "sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "error.h"

namespace plm {

std::string validate(const SamplerParams& p) {
  auto bad = [](const char* what, double v) { return std::string(what) + " " + std::to_string(v) + " is out of range"; };
  if (!(p.temperature >= 0 && p.temperature <= 100)) return bad("temperature", p.temperature) + " (0..100)";
  if (p.top_k < 0) return bad("top-k", p.top_k) + " (>= 0)";
  if (!(p.top_p > 0 && p.top_p <= 1)) return bad("top-p", p.top_p) + " (0 < p <= 1)";
  if (!(p.min_p >= 0 && p.min_p < 1)) return bad("min-p", p.min_p) + " (0 <= p < 1)";
  if (!(p.repeat_penalty > 0 && p.repeat_penalty <= 10)) return bad("repeat-penalty", p.repeat_penalty) + " (0 < x <= 10)";
  if (p.repeat_last_n < 0) return bad("repeat-last-n", p.repeat_last_n) + " (>= 0)";
  if (!std::isfinite(p.frequency_penalty) || !std::isfinite(p.presence_penalty)) return "penalties must be finite";
  return {};
}

Sampler::Sampler(const SamplerParams& p, int32_t n_vocab) : p_(p), n_vocab_(n_vocab) {
  if (const std::string e = validate(p); !e.empty()) fail("sampler: ", e);
  if (n_vocab <= 0) fail("sampler: vocabulary size ", n_vocab);
  reset();
}

void Sampler::reset() {
  rng_state_ = p_.seed;
  recent_.clear();
}

double Sampler::uniform() {
  // splitmix64: tiny, fast, identical on every platform.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return double(z >> 11) * (1.0 / 9007199254740992.0);
}

void Sampler::accept(int32_t token) {
  if (p_.repeat_last_n == 0) return;
  recent_.push_back(token);
  while (int32_t(recent_.size()) > p_.repeat_last_n) recent_.pop_front();
}

int32_t Sampler::sample(const float* logits) {
  cand_.resize(size_t(n_vocab_));
  for (int32_t i = 0; i < n_vocab_; ++i) cand_[size_t(i)] = {i, logits[i]};

  if (!recent_.empty() && (p_.repeat_penalty != 1.0f || p_.frequency_penalty != 0 || p_.presence_penalty != 0)) {
    std::unordered_map<int32_t, int> count;
    for (int32_t t : recent_) ++count[t];
    for (const auto& [t, n] : count) {
      if (t < 0 || t >= n_vocab_) continue;
      float& l = cand_[size_t(t)].logit;
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= float(n) * p_.frequency_penalty + p_.presence_penalty;
    }
  }

  int32_t chosen;
  if (p_.temperature == 0) {
    chosen = std::max_element(cand_.begin(), cand_.end(), [](const Cand& a, const Cand& b) { return a.logit < b.logit; })->id;
  } else {
    auto by_logit = [](const Cand& a, const Cand& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
    size_t n = cand_.size();
    if (p_.top_k > 0 && size_t(p_.top_k) < n) {
      std::partial_sort(cand_.begin(), cand_.begin() + p_.top_k, cand_.end(), by_logit);
      n = size_t(p_.top_k);
    } else {
      std::sort(cand_.begin(), cand_.end(), by_logit);
    }
    // Probabilities at temperature 1 decide top-p and min-p (as llama.cpp's default chain).
    std::vector<double> prob(n);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += (prob[i] = std::exp(double(cand_[i].logit) - double(cand_[0].logit)));
    size_t keep = n;
    if (p_.top_p < 1) {
      double cum = 0;
      for (size_t i = 0; i < n; ++i) {
        cum += prob[i] / sum;
        if (cum >= p_.top_p) {
          keep = i + 1;
          break;
        }
      }
    }
    if (p_.min_p > 0) {
      size_t k = 1;
      while (k < keep && prob[k] >= p_.min_p * prob[0]) ++k;  // prob[0] is the best (= 1)
      keep = k;
    }
    // Temperature, then draw.
    double total = 0;
    for (size_t i = 0; i < keep; ++i) total += (prob[i] = std::exp((double(cand_[i].logit) - double(cand_[0].logit)) / p_.temperature));
    double r = uniform() * total;
    chosen = cand_[keep - 1].id;
    for (size_t i = 0; i < keep; ++i) {
      if (r < prob[i]) {
        chosen = cand_[i].id;
        break;
      }
      r -= prob[i];
    }
  }
  accept(chosen);
  return chosen;
}

// Length of the longest prefix of s that ends on a UTF-8 character boundary.
static size_t complete_utf8_prefix(const std::string& s) {
  size_t i = s.size();
  size_t back = 0;
  while (i > 0 && back < 4) {
    const unsigned char c = static_cast<unsigned char>(s[i - 1]);
    if ((c & 0xC0) != 0x80) {  // a lead byte (or ASCII): is its character complete?
      const size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
      return back + 1 >= need ? s.size() : i - 1;
    }
    --i;
    ++back;
  }
  return s.size();  // stray continuation bytes: let them through rather than stall
}

std::string TextStream::push(const std::string& bytes) {
  if (stopped_) return {};
  pending_ += bytes;
  for (const auto& stop : stops_) {
    const size_t at = pending_.find(stop);
    if (!stop.empty() && at != std::string::npos) {
      stopped_ = true;
      std::string out = pending_.substr(0, at);
      pending_.clear();
      return out;
    }
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const auto& stop : stops_)
    for (size_t k = std::min(stop.size() - (stop.empty() ? 0 : 1), pending_.size()); k > hold; --k)
      if (pending_.compare(pending_.size() - k, k, stop, 0, k) == 0) {
        hold = k;
        break;
      }
  std::string ready = pending_.substr(0, pending_.size() - hold);
  const size_t ok = complete_utf8_prefix(ready);
  std::string out = ready.substr(0, ok);
  pending_.erase(0, ok);
  return out;
}

std::string TextStream::finish() {
  if (stopped_) return {};
  std::string out = pending_.substr(0, complete_utf8_prefix(pending_));
  pending_.clear();
  return out;
}

}  // namespace plm
