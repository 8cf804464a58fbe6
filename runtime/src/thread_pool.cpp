#include "thread_pool.h"

#include <chrono>

namespace plm {

namespace {
// How long a thread spins for work (or for a loop's end) before it sleeps.
constexpr std::chrono::microseconds kSpin{200};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spins until done() or kSpin has passed; returns done().
template <typename Done>
bool spin_until(Done done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return done();
  }
}

std::atomic<ThreadPool*> g_halide_pool{nullptr};
thread_local bool t_in_pool_loop = false;

// Kernels built with Halide's user_context feature (bundle kernels) pass their
// session's pool; others (tests, benches) use the installed one.
int halide_par_for(void* user_context, halide_task_t task, int min, int size, uint8_t* closure) {
  ThreadPool* pool = user_context ? static_cast<ThreadPool*>(user_context) : g_halide_pool.load(std::memory_order_acquire);
  if (!pool || t_in_pool_loop || size <= 1) {
    for (int i = min; i < min + size; ++i)
      if (int r = task(user_context, i, closure)) return r;
    return 0;
  }
  return pool->parallel_for(min, size, task, user_context, closure);
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  ThreadPool* self = this;
  g_halide_pool.compare_exchange_strong(self, nullptr);
}

void ThreadPool::install_for_halide(ThreadPool* pool) {
  activate(pool);
  halide_set_custom_do_par_for(halide_par_for);
}

void ThreadPool::activate(ThreadPool* pool) { g_halide_pool.store(pool, std::memory_order_release); }

ThreadPool::HalideParFor ThreadPool::halide_handler() { return halide_par_for; }

void ThreadPool::run_items(Job& job) {
  const bool was = t_in_pool_loop;
  t_in_pool_loop = true;
  int done = 0;
  for (int i; (i = job.next.fetch_add(1, std::memory_order_relaxed)) < job.end; ++done) {
    if (int r = job.task(job.user_context, i, job.closure)) {
      int expected = 0;
      job.result.compare_exchange_strong(expected, r);
    }
  }
  t_in_pool_loop = was;
  if (done) job.finished.fetch_add(done);  // seq_cst: see worker_loop
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    std::shared_ptr<Job> job;
    spin_until([&] { return stop_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_acquire) != seen; });
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!stop_ && generation_ == seen) {
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        sleepers_.fetch_sub(1);
      }
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    run_items(*job);
    // The caller spins for the loop's end and sleeps only after saying so. Both
    // sides use sequentially consistent atomics (finished, caller_sleeps), so at least
    // one of them sees the other: the caller its loop finished, or this its flag.
    if (job->caller_sleeps.load()) {
      { std::lock_guard<std::mutex> lock(mu_); }  // order the notify after the caller's wait check
      done_.notify_all();
    }
  }
}

int ThreadPool::parallel_for(int begin, int count, halide_task_t task, void* user_context, uint8_t* closure) {
  if (workers_.empty() || count <= 1) {
    for (int i = begin; i < begin + count; ++i)
      if (int r = task(user_context, i, closure)) return r;
    return 0;
  }
  std::lock_guard<std::mutex> one_loop(run_mu_);
  auto job = std::make_shared<Job>();
  job->task = task;
  job->user_context = user_context;
  job->closure = closure;
  job->end = begin + count;
  job->next.store(begin, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = job;
    generation_.fetch_add(1);
  }
  // A sleeper counted after this check saw the new generation under mu_ before
  // waiting, so it does not need the notify.
  if (sleepers_.load() > 0) wake_.notify_all();
  run_items(*job);
  auto finished = [&] { return job->finished.load() == count; };
  if (!spin_until(finished)) {
    job->caller_sleeps.store(true);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, finished);
  }
  return job->result.load();
}

}  // namespace plm
