// What this CPU can execute, read from the hardware (cpuid on x86, the kernel's
// hwcaps on arm64). Halide 14's arm64 runtime detects nothing, so kernel variant
// selection and bundle compatibility checks are based on this instead.
#pragma once
#include <string>
#include <vector>

namespace plm {

struct CpuFeatures {
  std::string arch;  // "x86_64", "arm64", or the build's architecture name
  std::string vendor;  // x86: cpuid's vendor string ("GenuineIntel", "AuthenticAMD"); else empty
  // x86
  bool avx2 = false, fma = false, f16c = false, avx512f = false, avx512bw = false, avx512vl = false, avx512_vnni = false;
  // arm64
  bool neon = false, dotprod = false, i8mm = false, fp16 = false, sve = false, sve2 = false;
  int n_cpus = 1;

  bool has(const std::string& feature) const;  // by catalog name: "avx512_vnni", "dotprod", ...
  std::vector<std::string> names() const;      // the features present
};

const CpuFeatures& host_cpu_features();

}  // namespace plm
