// The runtime alone, built for another architecture (aarch64) and run under qemu by
// tests/cross_runtime_test.cpp: opens a bundle, decodes the given token ids as one
// batch, writes float32 logits [ids][n_vocab].
//   plm_runtime_logits BUNDLE 1,2,3 OUT.f32 [threads]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "error.h"
#include "session.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: plm_runtime_logits BUNDLE IDS OUT.f32 [threads]\n");
    return 2;
  }
  try {
    std::vector<int32_t> ids;
    for (const char* p = argv[2]; *p;) {
      char* end = nullptr;
      ids.push_back(int32_t(std::strtol(p, &end, 10)));
      p = *end == ',' ? end + 1 : end;
      if (end == p && *p) throw plm::Error("bad token list");
    }
    plm::Session s(plm::Model::open(argv[1]), int64_t(ids.size()) + 1, 64, argc > 4 ? std::atoi(argv[4]) : 2);
    const std::vector<float> logits = s.decode(ids);
    std::FILE* f = std::fopen(argv[3], "wb");
    if (!f || std::fwrite(logits.data(), 4, logits.size(), f) != logits.size()) throw plm::Error(std::string(argv[3]) + ": write failed");
    std::fclose(f);
  } catch (const plm::Error& e) {
    std::fprintf(stderr, "plm_runtime_logits: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
