// The one thread pool of the runtime: it runs Halide's parallel loops (installed as
// halide_do_par_for) and anything else that needs workers. The caller's thread
// takes part in every loop, so n threads means n - 1 workers.
//
// Decode runs ~155 short parallel loops per token (a 2048x5632 Q4_0 GEMV takes
// ~0.23 ms on 2 threads), so waking a sleeping worker through the kernel for each one
// (tens of microseconds on a VM or a phone) costs a large share of the token. Workers
// and the caller therefore spin for a short while (kSpin) for the next loop or for
// the loop's end before they sleep on a condition variable, as llama.cpp's and
// OpenMP's pools do: back-to-back kernels never sleep, an idle pool sleeps within
// a fraction of a millisecond.
#pragma once
#include <HalideRuntime.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace plm {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Runs task(i) for i in [begin, begin + count) on all threads; returns the first
  // non-zero result (Halide's error convention), else 0.
  int parallel_for(int begin, int count, halide_task_t task, void* user_context, uint8_t* closure);

  // Makes Halide's parallel loops run on `pool` (nullptr: back to serial execution),
  // for kernels linked into this program.
  static void install_for_halide(ThreadPool* pool);
  // The same for kernels in a loaded library: make `pool` the active one, and give
  // the library's Halide runtime `halide_handler()`.
  static void activate(ThreadPool* pool);
  using HalideParFor = int (*)(void*, halide_task_t, int, int, uint8_t*);
  static HalideParFor halide_handler();

 private:
  void worker_loop();
  // One parallel loop. Shared with the workers, so a worker that wakes late holds
  // the loop it was woken for and finds no items left, never a later loop's.
  struct Job {
    halide_task_t task;
    void* user_context;
    uint8_t* closure;
    int end;
    std::atomic<int> next;
    std::atomic<int> finished{0};
    std::atomic<int> result{0};
    std::atomic<bool> caller_sleeps{false};  // the caller gave up spinning: notify done_
  };
  void run_items(Job& job);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::mutex run_mu_;  // one loop at a time (nested loops run serially on the caller)
  std::condition_variable wake_, done_;
  std::shared_ptr<Job> job_;              // guarded by mu_
  std::atomic<uint64_t> generation_{0};   // bumped (under mu_) for each new job_
  std::atomic<int> sleepers_{0};          // workers waiting on wake_
  std::atomic<bool> stop_{false};
};

}  // namespace plm
