// Runs one AOT kernel on inputs from a file and writes its outputs: the kernel tests
// drive this binary natively (x86 classes) and under qemu-aarch64 (arm64 classes),
// so every class is checked by the same test code against the same oracles.
//   kernel_runner list
//   kernel_runner NAME IN OUT
// IN holds int32 n_tokens and int32 n_positions, then, in argument order, each input
// buffer's bytes and each int32 scalar. OUT receives the output buffers' bytes in
// order. A kernel's arguments are described by its registry spec, e.g.
// "i:f32:256,T i:f32:256 o:f32:256,T" (i = input buffer, o = output buffer,
// s = int32 scalar; T = n_tokens, P = n_positions, the KV cache rows in use).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "error.h"
#include "kernel_buffer.h"
#include "kernel_spec.h"
#include "kernel_registry.h"  // generated: kKernels[] = {name, spec, argv entry point}

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

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "kernel_runner: %s\n", msg.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "list") {
    for (const auto& k : kKernels) std::printf("%s  %s\n", k.name, k.spec);
    return 0;
  }
  if (argc != 4) die("usage: kernel_runner list | NAME IN OUT");
  const KernelEntry* kernel = nullptr;
  for (const auto& k : kKernels)
    if (std::string(argv[1]) == k.name) kernel = &k;
  if (!kernel) die(std::string("no kernel named ") + argv[1]);
  const std::vector<uint8_t> in = read_file(argv[2]);
  if (in.size() < 8) die(std::string("cannot read ") + argv[2]);
  int32_t T, P;
  std::memcpy(&T, in.data(), 4);
  std::memcpy(&P, in.data() + 4, 4);
  std::vector<plm::KernelArgSpec> args;
  try {
    args = plm::parse_kernel_spec(kernel->spec);
  } catch (const plm::Error& e) {
    die(e.what());
  }

  size_t pos = 8;
  std::vector<std::vector<uint8_t>> storage(args.size());
  std::vector<int32_t> scalars(args.size());
  std::vector<std::unique_ptr<plm::KernelBuffer>> bufs(args.size());
  std::vector<void*> argv_ptrs;
  for (size_t i = 0; i < args.size(); ++i) {
    const plm::KernelArgSpec& a = args[i];
    if (a.role == 's') {
      if (pos + 4 > in.size()) die("input too short for scalar " + std::to_string(i));
      std::memcpy(&scalars[i], in.data() + pos, 4);
      pos += 4;
      argv_ptrs.push_back(&scalars[i]);
      continue;
    }
    const std::vector<int32_t> extents = plm::resolve_extents(a, T, P);
    size_t bytes = size_t(a.elem_bytes);
    for (int32_t e : extents) bytes *= size_t(e);
    storage[i].resize(bytes);
    if (a.role == 'i') {
      if (pos + bytes > in.size()) die("input too short for buffer " + std::to_string(i));
      std::memcpy(storage[i].data(), in.data() + pos, bytes);
      pos += bytes;
    }
    bufs[i] = std::make_unique<plm::KernelBuffer>(storage[i].data(), a.type, extents);
    argv_ptrs.push_back(bufs[i]->get());
  }
  if (pos != in.size()) die("input has " + std::to_string(in.size() - pos) + " unexpected trailing bytes");
  if (int rc = kernel->argv_fn(argv_ptrs.data())) die(std::string(kernel->name) + " returned " + std::to_string(rc));
  FILE* f = std::fopen(argv[3], "wb");
  if (!f) die(std::string("cannot write ") + argv[3]);
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].role == 'o' && std::fwrite(storage[i].data(), 1, storage[i].size(), f) != storage[i].size()) die("write failed");
  std::fclose(f);
  return 0;
}
