// pocketlm-footprint: the runtime's footprint figures (issue #4), measured as an app
// sees them, through the C API of libpocketlm.so:
//   - the stripped size of that library (the runtime without any kernels),
//   - open + verify time of a bundle with a warm page cache (every check the loader
//     makes: header, metadata, flatbuffer, bounds, every section's CRC-32C, kernels
//     bound), mean and sd over repetitions after one warm-up open,
//   - resident memory the open adds, measured after open and before any decode,
//     and the peak during open (VmHWM, reset before each open),
//   - the first one-token decode, which checks the weights' CRC-32C before reading
//     them, against the second (the weights' pages are mapped by then).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "pocketlm/pocketlm.h"

namespace {

long status_kb(const char* field) {  // VmRSS / VmHWM of this process, KiB
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, n, field) == 0) return std::atol(line.c_str() + n + 1);
  return -1;
}

void reset_peak() {  // "5" resets VmHWM to the current RSS (Linux 4.0+)
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: pocketlm-footprint BUNDLE [-r N] [--json]\n"
      "  the runtime library's stripped size, open + verify time (warm page cache,\n"
      "  mean +- sd of N opens, default 10), the memory an open makes resident, and\n"
      "  the first decode (which verifies the weights) against the second\n";
  std::string bundle;
  int reps = 10;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(usage, stdout);
      return 0;
    } else if (a == "-r" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
      if (reps < 1 || reps > 1000) {
        std::fprintf(stderr, "pocketlm-footprint: -r %s: give 1 to 1000 repetitions\n", argv[i]);
        return 1;
      }
    } else if (a == "--json") {
      json = true;
    } else if (bundle.empty() && a[0] != '-') {
      bundle = a;
    } else {
      std::fprintf(stderr, "pocketlm-footprint: unknown argument '%s'\n%s", a.c_str(), usage);
      return 1;
    }
  }
  if (bundle.empty()) {
    std::fputs(usage, stderr);
    return 1;
  }
  struct stat lib {}, bst {};
  if (::stat(PLM_RUNTIME_STRIPPED, &lib) != 0) {
    std::fprintf(stderr, "pocketlm-footprint: %s: missing (build the pocketlm_runtime target)\n", PLM_RUNTIME_STRIPPED);
    return 1;
  }
  if (::stat(bundle.c_str(), &bst) != 0) {
    std::fprintf(stderr, "pocketlm-footprint: %s: %s\n", bundle.c_str(), std::strerror(errno));
    return 1;
  }
  plm_model* m = nullptr;
  if (plm_model_open(bundle.c_str(), &m) != PLM_OK) {  // warm-up: the page cache holds the file after this
    std::fprintf(stderr, "pocketlm-footprint: %s\n", plm_last_error());
    return 1;
  }
  plm_model_close(m);
  std::vector<double> ms;
  long rss_added = 0, peak_added = 0;
  for (int r = 0; r < reps; ++r) {
    const long before = status_kb("VmRSS:");
    reset_peak();
    const auto t0 = std::chrono::steady_clock::now();
    if (plm_model_open(bundle.c_str(), &m) != PLM_OK) {
      std::fprintf(stderr, "pocketlm-footprint: %s\n", plm_last_error());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    rss_added = std::max(rss_added, status_kb("VmRSS:") - before);
    peak_added = std::max(peak_added, status_kb("VmHWM:") - before);
    plm_model_close(m);
  }
  // First decode (weights verified, pages mapped from the page cache) and the next.
  double first_ms = 0, next_ms = 0;
  {
    plm_session* s = nullptr;
    if (plm_model_open(bundle.c_str(), &m) != PLM_OK || plm_session_create(m, 64, 0, &s) != PLM_OK) {
      std::fprintf(stderr, "pocketlm-footprint: %s\n", plm_last_error());
      return 1;
    }
    const int32_t id = 1;
    for (double* ms_out : {&first_ms, &next_ms}) {
      const auto t0 = std::chrono::steady_clock::now();
      if (plm_decode(s, &id, 1, nullptr) != PLM_OK) {
        std::fprintf(stderr, "pocketlm-footprint: %s\n", plm_last_error());
        return 1;
      }
      *ms_out = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    plm_session_free(s);
    plm_model_close(m);
  }
  double mean = 0, sd = 0;
  for (double v : ms) mean += v / double(ms.size());
  for (double v : ms) sd += (v - mean) * (v - mean) / double(ms.size());
  sd = std::sqrt(sd);
  const double lib_kb = double(lib.st_size) / 1024, bundle_mib = double(bst.st_size) / (1 << 20);
  if (json) {
    std::printf("{\"runtime_stripped_kb\": %.1f, \"bundle_mib\": %.1f, \"open_ms_mean\": %.2f, \"open_ms_sd\": %.2f, "
                "\"rss_after_open_mib\": %.2f, \"rss_peak_during_open_mib\": %.2f, \"first_decode_ms\": %.2f, "
                "\"second_decode_ms\": %.2f, \"repetitions\": %d}\n",
                lib_kb, bundle_mib, mean, sd, double(rss_added) / 1024, double(peak_added) / 1024, first_ms, next_ms, reps);
  } else {
    std::printf("runtime library (stripped, no kernels): %s  %.1f KiB\n", PLM_RUNTIME_STRIPPED, lib_kb);
    std::printf("bundle: %s  %.1f MiB\n", bundle.c_str(), bundle_mib);
    std::printf("open + verify (warm page cache): %.2f +- %.2f ms over %d opens\n", mean, sd, reps);
    std::printf("resident memory added by open, before the first decode: %.2f MiB (peak during open %.2f MiB)\n",
                double(rss_added) / 1024, double(peak_added) / 1024);
    std::printf("first one-token decode (verifies the weights' checksum first): %.2f ms; the next: %.2f ms\n", first_ms, next_ms);
  }
  return 0;
}
