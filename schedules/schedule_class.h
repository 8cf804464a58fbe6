// The schedule classes: each op's algorithm is written once, and each class gets
// its own small schedule function next to it. A SoC in the catalog names one class.
#pragma once
#include <optional>
#include <string>

#include "matmul/weight_bytes.h"

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
// Tokens per block of the prefill (GEMM) forms: each weight load feeds this many
// dots. Every prefill kernel takes a multiple of it (the bundle records it per kernel;
// the runtime sends the remainder to the decode form).
int prefill_token_block(ScheduleClass c);

}  // namespace plm
