// A session: one conversation's state on a Model (KV cache, position, activation
// arena) and the executor that runs the bundle's plan over it. Sessions of one
// Model are independent and may decode concurrently from different threads: each
// kernel call carries its session's thread pool (Halide's user context). One
// session must not be used from two threads at once.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "thread_pool.h"

namespace plm {

class Session {
 public:
  // n_ctx: KV cache capacity (0 = the model's training context, at most 4096);
  // n_batch: tokens per plan run (longer inputs run in chunks); threads: 0 = all CPUs.
  Session(std::shared_ptr<const Model> model, int64_t n_ctx = 0, int64_t n_batch = 64, int threads = 0);

  // Evaluates ids at the next positions; returns the logits of every id
  // ([ids][n_vocab]) or, with last_only, of the last one. Throws Error on bad ids or
  // a full context (the session is unchanged then).
  std::vector<float> decode(const std::vector<int32_t>& ids, bool last_only = false);

  // Per-kernel time, for finding where a token's time goes (pocketlm bench --profile).
  struct KernelProfile {
    std::string op;            // the op of the kernel's first step, e.g. "matmul attn_q.0"
    int64_t calls = 0;
    double seconds = 0;
    uint64_t weight_bytes = 0;  // weight bytes matmul calls stream (not an embedding's table)
  };
  void set_profiling(bool on) { profiling_ = on; }
  const std::map<std::string, KernelProfile>& profile() const { return profile_; }  // by kernel key
  void clear_profile() { profile_.clear(); }

  int64_t position() const { return pos_; }
  int64_t context_size() const { return n_ctx_; }
  int64_t n_vocab() const { return n_vocab_; }
  void reset() { pos_ = 0; }

 private:
  void run_chunk(const int32_t* ids, int64_t T, float* logits_out, bool last_only);
  std::shared_ptr<const Model> model_;
  int64_t n_ctx_, n_batch_, n_vocab_, kv_width_;
  int64_t pos_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<uint8_t> arena_;  // 64-byte aligned start below
  uint8_t* arena_base_ = nullptr;
  bundle::KvCacheType kv_type_ = bundle::KvCacheType::F16;
  std::vector<std::vector<uint8_t>> k_cache_, v_cache_;  // per layer, laid out as kv_cache.h says
  bool profiling_ = false;
  std::map<std::string, KernelProfile> profile_;
};

}  // namespace plm
