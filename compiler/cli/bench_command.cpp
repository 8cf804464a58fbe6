// `pocketlm bench BUNDLE.plm [-p 512] [-n 128] [-t THREADS] [-r REPS] [--json]`:
// prompt processing and generation speed of a compiled bundle, like llama-bench.
#include <algorithm>
#include <chrono>
#include <map>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "bundle.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "error.h"
#include "session.h"

namespace plm {

const char kBenchHelp[] =
    "usage: pocketlm bench BUNDLE.plm [-p N] [-n N] [-t THREADS] [-r REPS] [--json]\n"
    "\n"
    "Measures prompt processing (one batch of -p random tokens, in chunks of 64) and\n"
    "generation (-n tokens one at a time after a 1-token prompt) on a fresh session,\n"
    "-r times each, and prints tokens per second as mean +- standard deviation.\n"
    "  -p N          prompt tokens (default 512; 0 skips)\n"
    "  -n N          generated tokens (default 128; 0 skips)\n"
    "  -t THREADS    threads (default: all CPUs)\n"
    "  -r REPS       repetitions (default 3)\n"
    "  --json        one JSON object on stdout instead of the table\n"
    "  --profile     also print where prompt processing's and generation's time goes,\n"
    "                per kernel: share, calls, ms per call, GB/s of matmul weights read\n"
    "\n"
    "example: pocketlm bench model.plm -p 128 -n 64 -t 2\n";

int run_bench(const std::vector<std::string>& argv) {
  Args a("bench", argv, {"-p", "-n", "-t", "-r"}, {"--json", "--profile"});
  a.expect_positionals(1, "pocketlm bench BUNDLE.plm");
  const std::string path = a.positional(0, "BUNDLE");
  if (!looks_like_bundle(path)) fail("pocketlm bench: ", path, " is not a bundle (compile the model first: pocketlm compile)");
  const int64_t pp = a.integer("-p", 512, 0, 1 << 16), tg = a.integer("-n", 128, 0, 1 << 16);
  const int threads = int(a.integer("-t", int(std::max(1u, std::thread::hardware_concurrency())), 1, 256));
  const int reps = int(a.integer("-r", 3, 1, 100));
  if (pp == 0 && tg == 0) fail("pocketlm bench: -p and -n are both 0: nothing to measure");
  const auto model = Model::open(path);
  // The weights' checksum is checked before their first use; do it before timing (its
  // cost is reported by pocketlm-footprint), so that every repetition measures the same.
  model->bundle().verify_weights(threads);
  const int64_t n_vocab = model->bundle().meta().hparams()->n_vocab();
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> token(3, int32_t(n_vocab - 1));
  using clock = std::chrono::steady_clock;
  auto stats = [](const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return std::pair{m, v.size() > 1 ? std::sqrt(s / double(v.size() - 1)) : 0.0};
  };
  std::vector<double> pp_rates, tg_rates;
  std::map<std::string, Session::KernelProfile> pp_profile, tg_profile;
  auto merge_profile = [](std::map<std::string, Session::KernelProfile>& into, const std::map<std::string, Session::KernelProfile>& from) {
    for (const auto& [key, p] : from) {
      auto& q = into[key];
      q.op = p.op;
      q.calls += p.calls;
      q.seconds += p.seconds;
      q.weight_bytes += p.weight_bytes;
    }
  };
  for (int r = 0; r < reps; ++r) {
    if (pp > 0) {
      Session s(model, pp, 64, threads);
      std::vector<int32_t> ids(static_cast<size_t>(pp));
      for (auto& id : ids) id = token(rng);
      s.set_profiling(a.has("--profile"));
      const auto t0 = clock::now();
      s.decode(ids, /*last_only=*/true);
      pp_rates.push_back(double(pp) / std::chrono::duration<double>(clock::now() - t0).count());
      merge_profile(pp_profile, s.profile());
    }
    if (tg > 0) {
      Session s(model, tg + 1, 64, threads);
      s.decode({token(rng)}, true);
      s.set_profiling(a.has("--profile"));
      const auto t0 = clock::now();
      for (int64_t i = 0; i < tg; ++i) s.decode({token(rng)}, true);
      tg_rates.push_back(double(tg) / std::chrono::duration<double>(clock::now() - t0).count());
      merge_profile(tg_profile, s.profile());
    }
  }
  const auto [ppm, pps] = pp_rates.empty() ? std::pair{0.0, 0.0} : stats(pp_rates);
  const auto [tgm, tgs] = tg_rates.empty() ? std::pair{0.0, 0.0} : stats(tg_rates);
  const auto& req = *model->bundle().meta().requirements();
  if (a.has("--json")) {
    std::printf("{\"bundle\": \"%s\", \"soc\": \"%s\", \"threads\": %d, \"reps\": %d, \"pp\": %lld, \"pp_tok_s\": %.3f, \"pp_sd\": %.3f, "
                "\"tg\": %lld, \"tg_tok_s\": %.3f, \"tg_sd\": %.3f}\n",
                path.c_str(), req.soc()->c_str(), threads, reps, (long long)pp, ppm, pps, (long long)tg, tgm, tgs);
  } else {
    std::printf("%-40s %-20s %7s %14s %20s\n", "bundle", "soc", "threads", "test", "tokens/s");
    if (pp) std::printf("%-40s %-20s %7d %14s %12.1f +- %.1f\n", path.c_str(), req.soc()->c_str(), threads, ("pp" + std::to_string(pp)).c_str(), ppm, pps);
    if (tg) std::printf("%-40s %-20s %7d %14s %12.1f +- %.1f\n", path.c_str(), req.soc()->c_str(), threads, ("tg" + std::to_string(tg)).c_str(), tgm, tgs);
  }
  // Where the time goes, per kernel: the phase's kernel time per token, then each
  // kernel's share, calls, ms per call and the GB/s of weights its matmul calls stream.
  auto report = [&](const char* phase, const std::map<std::string, Session::KernelProfile>& prof, int64_t tokens) {
    if (prof.empty()) return;
    std::vector<std::pair<std::string, Session::KernelProfile>> rows(prof.begin(), prof.end());
    std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.second.seconds > y.second.seconds; });
    double total = 0;
    for (const auto& r : rows) total += r.second.seconds;
    std::FILE* out = a.has("--json") ? stderr : stdout;
    std::fprintf(out, "\n%s profile (%d threads, %lld tokens x %d reps; kernel time %.2f ms per token):\n", phase, threads, (long long)tokens,
                 reps, 1e3 * total / double(tokens * reps));
    std::fprintf(out, "%6s %8s %10s %8s  %-28s %s\n", "share", "calls", "ms/call", "GB/s", "first op", "kernel");
    for (const auto& [key, p] : rows)
      std::fprintf(out, "%5.1f%% %8lld %10.4f %8.1f  %-28.28s %s\n", 100 * p.seconds / total, (long long)p.calls, 1e3 * p.seconds / double(p.calls),
                   p.weight_bytes ? double(p.weight_bytes) / p.seconds / 1e9 : 0.0, p.op.c_str(), key.c_str());
  };
  report("prompt processing", pp_profile, pp);
  report("generation", tg_profile, tg);
  return 0;
}

}  // namespace plm
