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

int prefill_token_block(ScheduleClass c) {
  // AVX-512: 16 rows x 8 tokens is 8 independent vpdpbusd chains (4 left the two
  // vector ports waiting on the instruction's latency) and still fits the 32 zmm, and
  // each unpacked weight vector feeds 8 dots. Xeon (Sapphire Rapids class),
  // pocketlm-kernel-bench gemm128 at 10 model shapes, two alternating runs against 4
  // tokens, 1 thread: Q4_0 1.10-1.28x, Q8_0 1.05-1.49x, Q6_K 1.07-1.22x. AVX2 (16 ymm)
  // and NEON keep 4; arm64 is unmeasured (qemu only), and the i8mm micro-kernel is
  // written for 4.
  return c == ScheduleClass::X86Avx512Vnni ? 8 : 4;
}

}  // namespace plm
