// Runs one AOT kernel on inputs from a file and writes its outputs: the kernel tests
// drive this binary natively (x86 classes) and under qemu-aarch64 (arm64 classes),
// so every class is checked by the same test code against the same oracles.
//   kernel_runner list
//   kernel_runner NAME IN OUT     IN: int32 n_tokens, then the inputs' bytes in order
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_buffer.h"
#include "kernel_registry.h"  // generated: kMatmulKernels[], kQuantizeKernels[]
#include "schedule_class.h"

namespace {

std::vector<uint8_t> read_file(const char* path) {
  std::vector<uint8_t> v;
  FILE* f = std::fopen(path, "rb");
  if (!f) return v;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + n);
  std::fclose(f);
  return v;
}

struct Reader {
  const std::vector<uint8_t>& in;
  size_t pos = 4;
  template <typename T>
  const T* take(size_t count) {
    const size_t bytes = count * sizeof(T);
    if (pos + bytes > in.size()) {
      std::fprintf(stderr, "kernel_runner: input too short\n");
      std::exit(2);
    }
    const T* p = reinterpret_cast<const T*>(in.data() + pos);
    pos += bytes;
    return p;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "list") {
    for (const auto& k : kMatmulKernels) std::printf("%s\n", k.name);
    for (const auto& k : kQuantizeKernels) std::printf("%s\n", k.name);
    return 0;
  }
  if (argc != 4) {
    std::fprintf(stderr, "usage: kernel_runner list | NAME IN OUT\n");
    return 2;
  }
  const std::string name = argv[1];
  const std::vector<uint8_t> in = read_file(argv[2]);
  if (in.size() < 4) {
    std::fprintf(stderr, "kernel_runner: cannot read %s\n", argv[2]);
    return 2;
  }
  int32_t T;
  std::memcpy(&T, in.data(), 4);
  Reader rd{in};
  std::vector<uint8_t> out;
  int rc = -1;
  for (const auto& k : kMatmulKernels) {
    if (name != k.name) continue;
    const int32_t R = plm::matmul_tile_rows(*plm::schedule_class_from_name(k.cls));
    const int32_t nb = k.k / 32, tiles = (k.n + R - 1) / R, quads = k.q4 ? nb * 4 : nb * 8;
    const uint8_t* w = rd.take<uint8_t>(size_t(tiles) * quads * R * 4);
    const float* wd = rd.take<float>(size_t(tiles) * nb * R);
    const int8_t* xq = rd.take<int8_t>(size_t(k.k) * T);
    const float* xd = rd.take<float>(size_t(nb) * T);
    const int32_t* xs = rd.take<int32_t>(size_t(nb) * T);
    out.resize(size_t(k.n) * T * 4);
    plm::KernelBuffer bw(w, {4, R, quads, tiles}), bwd(wd, {R, nb, tiles}), bxq(xq, {k.k, T}), bxd(xd, {nb, T}),
        bxs(xs, {nb, T}), bout(reinterpret_cast<float*>(out.data()), {k.n, T});
    rc = k.fn(bw.get(), bwd.get(), bxq.get(), bxd.get(), bxs.get(), bout.get());
  }
  for (const auto& k : kQuantizeKernels) {
    if (name != k.name) continue;
    const int32_t nb = k.k / 32;
    const float* x = rd.take<float>(size_t(k.k) * T);
    out.resize(size_t(k.k) * T + size_t(nb) * T * 8);
    int8_t* xq = reinterpret_cast<int8_t*>(out.data());
    float* xd = reinterpret_cast<float*>(out.data() + size_t(k.k) * T);
    int32_t* xs = reinterpret_cast<int32_t*>(out.data() + size_t(k.k) * T + size_t(nb) * T * 4);
    plm::KernelBuffer bx(x, {k.k, T}), bxq(xq, {k.k, T}), bxd(xd, {nb, T}), bxs(xs, {nb, T});
    rc = k.fn(bx.get(), bxq.get(), bxd.get(), bxs.get());
  }
  if (rc == -1) {
    std::fprintf(stderr, "kernel_runner: no kernel named %s\n", name.c_str());
    return 2;
  }
  if (rc != 0) {
    std::fprintf(stderr, "kernel_runner: %s returned %d\n", name.c_str(), rc);
    return 3;
  }
  FILE* f = std::fopen(argv[3], "wb");
  if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size()) return 4;
  std::fclose(f);
  return 0;
}
