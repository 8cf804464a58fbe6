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

// Rows per interleaved tile of the quantised matmul weight layout: the lanes of the
// accumulators. Several vector registers' worth gives independent dot-product chains
// (vpdpbusd and sdot have a latency of several cycles).
int matmul_tile_rows(ScheduleClass c);
// Tokens per block of the prefill (GEMM) form: each weight load feeds this many dots.
constexpr int kPrefillTokenBlock = 4;
// Bytes per row per 256-value super-block of the Q6_K matmul layout: the quants (6 bits
// a value) and the scales (f16 d + 16 int8 sub-scales), GGUF's 210 in all
// (docs/weight-layouts.md).
constexpr int kQ6KQuantBytesPerRow = 192;
constexpr int kQ6KScaleBytesPerRow = 18;
// Per row per super-block of Q4_K and Q5_K: f16 d and dmin, 8 sub-scales and 8 sub-mins
// of 6 bits in a byte each (GGUF packs those 16 into 12 bytes).
constexpr int kKQuantScaleBytesPerRow = 20;

}  // namespace plm
