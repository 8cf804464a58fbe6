// The schedule classes: each op's algorithm is written once, and each class gets
// its own small schedule function next to it. A SoC in the catalog names one class.
#pragma once
#include <optional>
#include <string>

namespace plm {

enum class ScheduleClass {
  Arm64Neon,       // ARMv8.0 NEON: smull/sadalp integer dots
  Arm64Dotprod,    // ARMv8.2 dotprod: sdot
  Arm64I8mm,       // ARMv8.6 i8mm: smmla (through a hand-written micro-kernel)
  X86Avx2,         // AVX2 + FMA: vpmaddwd
  X86Avx512Vnni,   // AVX-512 VNNI: vpdpbusd on zmm
};

const char* schedule_class_name(ScheduleClass c);
std::optional<ScheduleClass> schedule_class_from_name(const std::string& name);
bool is_arm64(ScheduleClass c);

}  // namespace plm
