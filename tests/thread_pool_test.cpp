// The runtime's thread pool: every item runs exactly once, errors propagate, nested
// loops run serially, and back-to-back loops never mix (a late worker must not run
// a later loop's items with an earlier loop's task).
#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_support.h"
#include "thread_pool.h"

namespace plm {
namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(size_t n) : hits(n) {}
};

int count_task(void* ctx, int i, uint8_t* closure) {
  reinterpret_cast<Counts*>(closure)->hits[size_t(i)].fetch_add(1);
  return 0;
}

TEST(ThreadPool, EveryItemOnceAcrossManyLoops) {
  ThreadPool pool(4);
  for (int round = 0; round < 2000; ++round) {
    const int n = 1 + round % 37;
    Counts c(size_t(n) + 5);
    ASSERT_EQ(pool.parallel_for(5, n, count_task, nullptr, reinterpret_cast<uint8_t*>(&c)), 0);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(c.hits[size_t(i)].load(), 0);
    for (int i = 5; i < 5 + n; ++i) ASSERT_EQ(c.hits[size_t(i)].load(), 1) << "round " << round << " item " << i;
  }
}

// Threads spin briefly for the next loop and for a loop's end, then sleep: both the
// sleeping paths (loops spaced wider than the spin, items that outlast it) must lose
// no wake-up.
int slow_count_task(void* ctx, int i, uint8_t* closure) {
  if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return count_task(ctx, i, closure);
}

TEST(ThreadPool, LoopsThatSleepBetweenAndWithinLoseNoWakeUp) {
  ThreadPool pool(3);
  for (int round = 0; round < 40; ++round) {
    Counts c(9);
    ASSERT_EQ(pool.parallel_for(0, 9, round % 2 ? slow_count_task : count_task, nullptr, reinterpret_cast<uint8_t*>(&c)), 0);
    for (int i = 0; i < 9; ++i) ASSERT_EQ(c.hits[size_t(i)].load(), 1) << "round " << round << " item " << i;
    if (round % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
}

double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// An idle pool does not keep burning the phone's battery: after the short spin its
// workers sleep.
TEST(ThreadPool, IdleWorkersSleep) {
  ThreadPool pool(3);
  Counts c(8);
  ASSERT_EQ(pool.parallel_for(0, 8, count_task, nullptr, reinterpret_cast<uint8_t*>(&c)), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // well past the spin
  const double cpu0 = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Two spinning workers would use ~400 ms of CPU time here.
  EXPECT_LT(process_cpu_seconds() - cpu0, 0.04);
}

int failing_task(void*, int i, uint8_t*) { return i == 13 ? -7 : 0; }

TEST(ThreadPool, ErrorsPropagate) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.parallel_for(0, 64, failing_task, nullptr, nullptr), -7);
  EXPECT_EQ(pool.parallel_for(0, 12, failing_task, nullptr, nullptr), 0);
}

struct Nested {
  ThreadPool* pool;
  std::atomic<int> inner{0};
};
int inner_task(void*, int, uint8_t* c) {
  reinterpret_cast<Nested*>(c)->inner.fetch_add(1);
  return 0;
}
int outer_task(void* ctx, int, uint8_t* c) {
  // Halide's nested parallel loops go through halide_do_par_for; with the pool
  // installed they run serially on the calling worker instead of deadlocking.
  return halide_do_par_for(ctx, inner_task, 0, 10, c);
}

TEST(ThreadPool, NestedHalideLoopsRunSerially) {
  ThreadPool pool(2);
  ThreadPool::install_for_halide(&pool);
  Nested n{&pool};
  EXPECT_EQ(halide_do_par_for(nullptr, outer_task, 0, 8, reinterpret_cast<uint8_t*>(&n)), 0);
  EXPECT_EQ(n.inner.load(), 80);
  ThreadPool::install_for_halide(nullptr);
}

TEST(ThreadPool, SingleThreadRunsInline) {
  ThreadPool pool(1);
  Counts c(3);
  EXPECT_EQ(pool.parallel_for(0, 3, count_task, nullptr, reinterpret_cast<uint8_t*>(&c)), 0);
  EXPECT_EQ(c.hits[2].load(), 1);
  EXPECT_EQ(pool.size(), 1);
}

}  // namespace
}  // namespace plm
