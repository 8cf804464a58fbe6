// Shared by the generators: parameter checks that stop the build with a message.
#pragma once
#include <cstdlib>
#include <iostream>
#include <string>

#include "Halide.h"
#include "schedule_class.h"

namespace plm {

// IEEE half bits (u16) to f32, exactly, for finite values (Halide 14 emulates f16 ->
// f32 casts at great cost). Normal halves: the exponent rebiased in the integer bits.
// Subnormal halves (real Q6_K d fields are): 2^-14 * (1 + m/1024) built the same way,
// minus 2^-14. No f32 operand is ever subnormal: multiplying one (the 2^112 trick this
// replaced) takes a microcode assist on Intel cores, which made the Q6_K prefill of a
// real tinyllama 2.7x slower on a Sapphire Rapids Xeon (34.1 -> 12.7 ms a call with
// DAZ set).
inline Halide::Expr widen_f16(Halide::Expr h) {
  using namespace Halide;
  Expr bits = cast<uint32_t>(h & 0x7fff) << 13;
  Expr normal = reinterpret<float>(bits + cast<uint32_t>(112 << 23));
  Expr subnormal = reinterpret<float>(bits + cast<uint32_t>(113 << 23)) - Expr(6.103515625e-05f);  // 2^-14
  Expr mag = select(bits < cast<uint32_t>(1 << 23), subnormal, normal);
  return select((h & 0x8000) != 0, -mag, mag);
}

// An f16 kept as two bytes apart (the K-quant scale layouts store a tile's low bytes,
// then its high bytes: two dense loads), to f32 exactly.
inline Halide::Expr widen_f16_bytes(const Halide::Expr& low, const Halide::Expr& high) {
  using namespace Halide;
  return widen_f16(cast<uint16_t>(low) | (cast<uint16_t>(high) << cast<uint16_t>(8)));
}

// Weight formats whose block scales the layouts keep as f16 bits
// (compiler/layout/matmul_layout.h, matmul_scales_are_f16, says why only these).
inline bool f16_block_scales(const std::string& weight_type) { return weight_type == "q4_0" || weight_type == "q8_0"; }

inline void require(bool ok, const std::string& msg) {
  if (!ok) {
    std::cerr << "pocketlm generator: " << msg << "\n";
    std::exit(1);
  }
}

// The kv_type generator parameter of the attention family: true for q8_0, false for f16.
inline bool kv_cache_is_q8_0(const std::string& kv_type) {
  require(kv_type == "q8_0" || kv_type == "f16", "kv_type must be f16 or q8_0");
  return kv_type == "q8_0";
}

inline ScheduleClass parse_schedule_class(const std::string& name) {
  const auto c = schedule_class_from_name(name);
  require(c.has_value(), "unknown schedule_class '" + name + "'");
  return *c;
}

// f32 lanes of one vector register; schedules use 2 registers' worth per step.
inline int f32_lanes(ScheduleClass c) {
  switch (c) {
    case ScheduleClass::X86Avx512Vnni: return 16;
    case ScheduleClass::X86Avx2: return 8;
    default: return 4;
  }
}

// Element-wise ops over [features][tokens]: vectors along features, blocks of tokens
// in parallel when the batch is large (prefill); decode is a single token. Returns
// the per-token loop, where per-token producers (a norm's scale) are computed.
inline Halide::Var schedule_token_map(Halide::Func out, Halide::Var i, Halide::Var t, ScheduleClass c) {
  Halide::Var to("to"), ti("ti");
  out.vectorize(i, 2 * f32_lanes(c), Halide::TailStrategy::GuardWithIf);
  out.split(t, to, ti, 16, Halide::TailStrategy::GuardWithIf).parallel(to);
  return ti;
}

}  // namespace plm
