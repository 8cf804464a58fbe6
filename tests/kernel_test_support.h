// Running AOT kernels of every schedule class from the tests: natively for x86
// classes, under qemu-aarch64 (with a CPU model of exactly the class's features) for
// arm64 classes, through the kernel runners built in tests/kernels/.
#pragma once
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

namespace plm::test {

struct ClassInfo {
  const char* name;      // schedule class
  const char* arch;      // runner
  const char* qemu_cpu;  // nullptr: run natively
};
extern const ClassInfo kClasses[5];
inline void PrintTo(const ClassInfo& c, std::ostream* os) { *os << c.name; }

std::string id_of(const std::string& cls);  // "x86-avx2" -> "x86_avx2"
// "" if this machine can run the class, else why not.
std::string cannot_run(const ClassInfo& c);
// Runs kernel `name` with n_tokens T (and P KV cache positions) on the inputs
// (buffers and int32 scalars in argument order); returns its outputs' bytes.
// Records a test failure on error.
std::vector<uint8_t> run_kernel(const ClassInfo& c, const std::string& name, int32_t T, const std::vector<uint8_t>& inputs,
                                int32_t P = 0);

template <typename T>
void append(std::vector<uint8_t>& v, const T* p, size_t n) {
  const auto* b = reinterpret_cast<const uint8_t*>(p);
  v.insert(v.end(), b, b + n * sizeof(T));
}

}  // namespace plm::test
