// The GGML tensor element types that GGUF files carry, their block layouts, and
// exact dequantisation to f32. Block layouts follow the GGUF specification; each
// struct's size is asserted so a layout error cannot go unnoticed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace plm {

// Numeric ids are the ones written in GGUF tensor infos.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, BF16 = 30,
};

struct GgmlTypeTraits {
  const char* name;
  uint32_t block_elems;  // elements per block (1 for plain floats)
  uint32_t block_bytes;  // bytes per block
};

constexpr int kQK = 32;    // elements per Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 block
constexpr int kQK_K = 256; // elements per k-quant super-block

struct Q4_0Block { uint16_t d; uint8_t qs[kQK / 2]; };
struct Q4_1Block { uint16_t d, m; uint8_t qs[kQK / 2]; };
struct Q5_0Block { uint16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct Q5_1Block { uint16_t d, m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct Q8_0Block { uint16_t d; int8_t qs[kQK]; };
struct Q2_KBlock { uint8_t scales[kQK_K / 16]; uint8_t qs[kQK_K / 4]; uint16_t d, dmin; };
struct Q3_KBlock { uint8_t hmask[kQK_K / 8]; uint8_t qs[kQK_K / 4]; uint8_t scales[12]; uint16_t d; };
struct Q4_KBlock { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[kQK_K / 2]; };
struct Q5_KBlock { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2]; };
struct Q6_KBlock { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; uint16_t d; };

static_assert(sizeof(Q4_0Block) == 18 && sizeof(Q4_1Block) == 20 && sizeof(Q5_0Block) == 22 &&
              sizeof(Q5_1Block) == 24 && sizeof(Q8_0Block) == 34);
static_assert(sizeof(Q2_KBlock) == 84 && sizeof(Q3_KBlock) == 110 && sizeof(Q4_KBlock) == 144 &&
              sizeof(Q5_KBlock) == 176 && sizeof(Q6_KBlock) == 210);

// Traits of a type we can decode, or nullopt for ids we refuse (unknown or unsupported).
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t type_id);
const GgmlTypeTraits& traits(GgmlType t);
// A printable name for any id, including ones we do not support ("IQ2_XXS", "type 99").
std::string ggml_type_name(uint32_t type_id);
std::optional<GgmlType> ggml_type_from_name(const std::string& name);

// Bytes taken by a row of n elements; n must be a multiple of the block size.
size_t row_bytes(GgmlType t, int64_t n);

// Decodes n elements (a multiple of the type's block size) from src into dst.
void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n);

// A Q4_K, Q5_K or Q6_K super-block in integer form: element e has the value
// scale[e / sub] * (q[e] - zero_point) - min[e / sub]. (Q4_K/Q5_K: 8 sub-blocks of
// 32, zero point 0, q < 16 or 32; Q6_K: 16 sub-blocks of 16, zero point 32, no min.)
// dequantize_row decodes these types through this, and the matmul weight layouts
// repack from it, so the two cannot disagree.
struct KBlockInts {
  uint8_t q[kQK_K];
  float scale[16];
  float min[16];
  int sub;         // elements per sub-block
  int zero_point;
  // Q4_K, Q5_K: GGUF's own fields, scale[j] = d * sc[j] and min[j] = dmin * m[j].
  uint16_t d = 0, dmin = 0;  // f16 bits
  uint8_t sc[8] = {}, m[8] = {};  // 6 bits each
};
void unpack_k_block(GgmlType t, const void* block, KBlockInts* out);

// The 32 five-bit values (0..31) of a Q5_0/Q5_1 block: low nibbles of qs are
// elements 0..15, high nibbles 16..31, bit j of qh the fifth bit of element j.
// dequantize_row and the Q8_0 repacking of Q5_0 weights both read blocks through this.
void unpack_q5_values(const uint8_t qs[kQK / 2], const uint8_t qh[4], uint8_t out[kQK]);

// Unpacks the 6-bit (scale, min) pair j of a Q4_K/Q5_K 12-byte scale array.
void k4_scale_min(int j, const uint8_t* scales, uint8_t* scale, uint8_t* min);

}  // namespace plm
