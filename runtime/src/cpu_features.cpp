#include "cpu_features.h"

#include <unistd.h>

#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace plm {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  f.n_cpus = n > 0 ? int(n) : 1;
#if defined(__x86_64__)
  f.arch = "x86_64";
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d)) {
    char v[12];
    std::memcpy(v, &b, 4), std::memcpy(v + 4, &d, 4), std::memcpy(v + 8, &c, 4);
    f.vendor.assign(v, sizeof v);
  }
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  const bool ymm_os = (xcr0 & 0x6) == 0x6;     // the OS saves SSE and AVX state
  const bool zmm_os = (xcr0 & 0xe6) == 0xe6;   // ... and the AVX-512 state
  if (!ymm_os) f.fma = f.f16c = false;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = ymm_os && (b & (1u << 5));
    f.avx512f = zmm_os && (b & (1u << 16));
    f.avx512bw = zmm_os && (b & (1u << 30));
    f.avx512vl = zmm_os && (b & (1u << 31));
    f.avx512_vnni = zmm_os && (c & (1u << 11));
  }
#elif defined(__aarch64__)
  f.arch = "arm64";
  f.neon = true;  // mandatory in AArch64
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  f.fp16 = (hw & (1ul << 10)) != 0;      // HWCAP_ASIMDHP
  f.dotprod = (hw & (1ul << 20)) != 0;   // HWCAP_ASIMDDP
  f.sve = (hw & (1ul << 22)) != 0;       // HWCAP_SVE
  f.sve2 = (hw2 & (1ul << 1)) != 0;      // HWCAP2_SVE2
  f.i8mm = (hw2 & (1ul << 13)) != 0;     // HWCAP2_I8MM
#elif defined(__APPLE__)
  // Apple A14+/M1+ have dotprod and fp16; i8mm from A15/M2 (checked by sysctl in the app).
  f.dotprod = f.fp16 = true;
#endif
#else
  f.arch = "unknown";
#endif
  return f;
}

}  // namespace

bool CpuFeatures::has(const std::string& x) const {
  for (const auto& n : names())
    if (n == x) return true;
  return false;
}

std::vector<std::string> CpuFeatures::names() const {
  std::vector<std::string> v;
  auto add = [&](bool b, const char* n) {
    if (b) v.push_back(n);
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512vl, "avx512vl");
  add(avx512_vnni, "avx512_vnni");
  add(neon, "neon");
  add(dotprod, "dotprod");
  add(i8mm, "i8mm");
  add(fp16, "fp16");
  add(sve, "sve");
  add(sve2, "sve2");
  return v;
}

const CpuFeatures& host_cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace plm
