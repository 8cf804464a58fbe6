#include "schedule_class.h"

namespace plm {

namespace {
constexpr struct {
  ScheduleClass c;
  const char* name;
} kNames[] = {
    {ScheduleClass::Arm64Neon, "arm64-neon"},       {ScheduleClass::Arm64Dotprod, "arm64-dotprod"},
    {ScheduleClass::Arm64I8mm, "arm64-i8mm"},       {ScheduleClass::X86Avx2, "x86-avx2"},
    {ScheduleClass::X86Avx512Vnni, "x86-avx512-vnni"},
};
}  // namespace

const char* schedule_class_name(ScheduleClass c) {
  for (const auto& n : kNames)
    if (n.c == c) return n.name;
  return "?";
}

std::optional<ScheduleClass> schedule_class_from_name(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.name) return n.c;
  return std::nullopt;
}

bool is_arm64(ScheduleClass c) {
  return c == ScheduleClass::Arm64Neon || c == ScheduleClass::Arm64Dotprod || c == ScheduleClass::Arm64I8mm;
}

int matmul_tile_rows(ScheduleClass c) {
  switch (c) {
    case ScheduleClass::X86Avx512Vnni: return 64;  // 4 zmm accumulators
    case ScheduleClass::X86Avx2: return 16;        // 2 ymm
    default: return 16;                            // 4 NEON q registers
  }
}

}  // namespace plm
