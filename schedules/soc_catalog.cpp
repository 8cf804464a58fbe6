#include "soc_catalog.h"

#include <sstream>

#include "cpu_features.h"
#include "error.h"

namespace plm {

namespace {

const std::string kArmDot = "-arm_dot_prod-arm_fp16";
// Halide 14 emits vpdpbusd only with every implied x86 feature spelled out.
const std::string kX86Vnni = "x86-64-linux-sse41-avx-avx2-fma-f16c-avx512-avx512_skylake-avx512_cannonlake-avx512_sapphirerapids";
const std::string kX86Avx2 = "x86-64-linux-sse41-avx-avx2-fma-f16c";
const std::vector<std::string> kX86VnniFeatures = {"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"};

std::vector<SocProfile> build_catalog() {
  using S = ScheduleClass;
  return {
      {"generic-armv8", "any ARMv8.0-A phone (Cortex-A53/A55 class)", "android", "arm-64-android", {"neon"}, S::Arm64Neon,
       4, 4, 32, 256, 1024, 12.8, ""},
      {"armv8.2-dotprod", "any ARMv8.2-A phone with dot product (Cortex-A76 class)", "android", "arm-64-android" + kArmDot,
       {"neon", "dotprod", "fp16"}, S::Arm64Dotprod, 4, 4, 64, 512, 2048, 25.6, ""},
      {"snapdragon-8-gen-2", "Qualcomm SM8550: 1x X3 + 4x A715/A710 + 3x A510, LPDDR5X-4200", "android",
       "arm-64-android" + kArmDot, {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 5, 3, 64, 1024, 8192, 67.0, ""},
      {"snapdragon-8-gen-3", "Qualcomm SM8650: 1x X4 + 5x A720 + 2x A520, LPDDR5X-4800", "android", "arm-64-android" + kArmDot,
       {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 6, 2, 64, 2048, 12288, 76.8, ""},
      {"snapdragon-8-elite", "Qualcomm SM8750: 2x Oryon prime + 6x Oryon performance, LPDDR5X-5300", "android",
       "arm-64-android" + kArmDot, {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 8, 0, 96, 12288, 8192, 84.8, ""},
      {"dimensity-9300", "MediaTek MT6989: 4x X4 + 4x A720, LPDDR5T-9600", "android", "arm-64-android" + kArmDot,
       {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 8, 0, 64, 1024, 8192, 76.8, ""},
      {"tensor-g3", "Google Tensor G3: 1x X3 + 4x A715 + 4x A510, LPDDR5X", "android", "arm-64-android" + kArmDot,
       {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 5, 4, 64, 1024, 4096, 68.2, ""},
      {"apple-a17", "Apple A17 Pro: 2 performance + 4 efficiency cores, LPDDR5-6400 (iOS: static kernels)", "ios",
       "arm-64-ios" + kArmDot, {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 2, 4, 128, 16384, 24576, 51.2, ""},
      {"apple-m2", "Apple M2: 4 performance + 4 efficiency cores, LPDDR5-6400", "macos", "arm-64-osx" + kArmDot,
       {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 4, 4, 128, 16384, 8192, 100.0, ""},
      {"kirin-9000s", "HiSilicon Kirin 9000S: 1+3x TaiShan V120 + 4x A510, LPDDR5 (HarmonyOS)", "harmonyos",
       "arm-64-linux" + kArmDot, {"neon", "dotprod", "fp16"}, S::Arm64Dotprod, 4, 4, 64, 512, 4096, 44.0,
       "HarmonyOS NEXT runs ELF arm64 code; Halide has no HarmonyOS OS, the linux target's code is the same"},
      {"linux-arm64-neon", "Linux arm64 board without dot product (Raspberry Pi 4: 4x Cortex-A72, LPDDR4-3200)", "linux",
       "arm-64-linux", {"neon"}, S::Arm64Neon, 4, 0, 32, 1024, 0, 12.8, ""},
      {"linux-arm64-dotprod", "Linux arm64 board with dot product (Raspberry Pi 5: 4x Cortex-A76, LPDDR4X-4267)", "linux",
       "arm-64-linux" + kArmDot, {"neon", "dotprod", "fp16"}, S::Arm64Dotprod, 4, 0, 64, 512, 2048, 17.1, ""},
      {"linux-arm64-i8mm", "Linux arm64 board with i8mm (Radxa Orion O6: 4x Cortex-A720 + 4x A720 + 4x A520, LPDDR5-6000)",
       "linux", "arm-64-linux" + kArmDot, {"neon", "dotprod", "fp16", "i8mm"}, S::Arm64I8mm, 8, 4, 64, 512, 12288, 96.0, ""},
      {"x86-64-avx2", "x86-64 with AVX2 + FMA (Haswell and later, Zen 1-3)", "linux", kX86Avx2,
       {"avx2", "fma", "f16c"}, S::X86Avx2, 4, 0, 32, 512, 8192, 40.0, ""},
      {"x86-64-avx512-vnni", "Intel x86-64 with AVX-512 VNNI (Ice Lake, Sapphire Rapids)", "linux", kX86Vnni, kX86VnniFeatures,
       S::X86Avx512Vnni, 4, 0, 48, 2048, 32768, 60.0, "", 4},
      {"x86-64-zen4", "AMD x86-64 with AVX-512 VNNI (Zen 4, Zen 5: Ryzen 7000/9000, EPYC 9004/9005), DDR5-5200",
       "linux", kX86Vnni, kX86VnniFeatures, S::X86Avx512Vnni, 8, 0, 32, 1024, 32768, 83.2, "", 1},
  };
}

}  // namespace

const std::vector<SocProfile>& soc_catalog() {
  static const std::vector<SocProfile> c = build_catalog();
  return c;
}

SocProfile host_soc() {
  const CpuFeatures& f = host_cpu_features();
  std::string base;
  const bool vnni = f.avx512_vnni && f.avx512bw && f.avx512vl;
  if (f.arch == "x86_64") base = vnni ? (f.vendor == "AuthenticAMD" ? "x86-64-zen4" : "x86-64-avx512-vnni") : f.avx2 && f.fma ? "x86-64-avx2" : "";
  else if (f.arch == "arm64") base = f.i8mm && f.dotprod ? "linux-arm64-i8mm" : f.dotprod ? "linux-arm64-dotprod" : "linux-arm64-neon";
  if (base.empty()) fail("host: this CPU (", f.arch, ", features: ", [&] {
    std::string s;
    for (const auto& n : f.names()) s += n + " ";
    return s;
  }(), ") matches no schedule class pocketlm ships (x86 needs AVX2+FMA)");
  SocProfile p;
  for (const auto& s : soc_catalog())
    if (s.name == base) p = s;
  p.name = "host";
  p.description = "this machine (" + std::to_string(f.n_cpus) + " CPUs), as " + base;
  p.big_cores = f.n_cpus;
  p.little_cores = 0;
  return p;
}

SocProfile find_soc(const std::string& name) {
  if (name == "host") return host_soc();
  for (const auto& s : soc_catalog())
    if (s.name == name) return s;
  std::ostringstream os;
  for (const auto& s : soc_catalog()) os << " " << s.name;
  fail("unknown SoC '", name, "' (known: host", os.str(), "; see pocketlm socs)");
}

}  // namespace plm
