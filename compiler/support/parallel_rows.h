// Runs work(r0, r1) over [0, rows) split evenly across the machine's cores: for
// compile-time jobs (quantising, synthesising weights) whose rows are independent.
#pragma once
#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace plm {

template <typename Work>
void parallel_rows(int64_t rows, Work&& work) {
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(std::max(1u, std::thread::hardware_concurrency()), rows));
  std::vector<std::thread> pool;
  for (int64_t k = 1; k < threads; ++k) pool.emplace_back([&work, rows, threads, k] { work(rows * k / threads, rows * (k + 1) / threads); });
  work(int64_t(0), rows / threads);
  for (auto& th : pool) th.join();
}

}  // namespace plm
