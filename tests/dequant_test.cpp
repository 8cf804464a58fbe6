// Dequantisation of every supported type against blocks whose values are worked out
// by hand here (the comments show the arithmetic), independent of ggml's code.
#include <cmath>
#include <cstring>

#include "quant/ggml_types.h"
#include "fp16.h"
#include "test_support.h"

namespace plm {
namespace {

// fp16 bit patterns used below.
constexpr uint16_t kHalf = 0x3800, kQuarter = 0x3400, kOne = 0x3C00, kTwo = 0x4000, kMinusOne = 0xBC00, kEighth = 0x3000;

template <typename Block>
std::vector<float> decode(GgmlType t, const Block& b, int n) {
  std::vector<float> y(size_t(n), -999.0f);
  dequantize_row(t, &b, y.data(), n);
  return y;
}

TEST(Dequant, HalfAndBfloat16) {
  EXPECT_EQ(fp16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(fp16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(fp16_to_f32(0x0001), 5.9604644775390625e-08f);  // smallest subnormal 2^-24
  EXPECT_EQ(fp16_to_f32(0x7BFF), 65504.0f);                  // largest finite
  EXPECT_TRUE(std::isinf(fp16_to_f32(0xFC00)) && fp16_to_f32(0xFC00) < 0);
  EXPECT_TRUE(std::isnan(fp16_to_f32(0x7E00)));
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC0A0), -5.0f);
  // Round to nearest even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 -> even (1).
  EXPECT_EQ(f32_to_fp16(1.0f + 1.0f / 2048), 0x3C00);
  EXPECT_EQ(f32_to_fp16(1.0f + 3.0f / 2048), 0x3C02);  // halfway, odd below -> rounds up
  EXPECT_EQ(f32_to_fp16(65520.0f), 0x7C00);            // overflows to inf
  EXPECT_EQ(f32_to_fp16(5.9604644775390625e-08f), 0x0001);

  const uint16_t h[4] = {0x3C00, 0xC000, 0x0001, 0x7BFF};
  float y[4];
  dequantize_row(GgmlType::F16, h, y, 4);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -2.0f);
  EXPECT_EQ(y[3], 65504.0f);
  const uint16_t b[2] = {0x3F80, 0xC0A0};
  dequantize_row(GgmlType::BF16, b, y, 2);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -5.0f);
  const float f[2] = {3.25f, -0.5f};
  dequantize_row(GgmlType::F32, f, y, 2);
  EXPECT_EQ(y[0], 3.25f);
  EXPECT_EQ(y[1], -0.5f);
}

TEST(Dequant, Q4_0) {
  // d = 0.5; byte j holds element j (low nibble) and element j+16 (high nibble);
  // value = (q - 8) * d. Low nibbles 0..15, high nibbles 15..0.
  Q4_0Block b;
  b.d = kHalf;
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  const auto y = decode(GgmlType::Q4_0, b, 32);
  const float want[32] = {-4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5,
                          3.5, 3, 2.5, 2, 1.5, 1, 0.5, 0, -0.5, -1, -1.5, -2, -2.5, -3, -3.5, -4};
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[size_t(i)], want[i]) << i;
}

TEST(Dequant, Q4_1) {
  // value = q * d + m with d = 0.25, m = -1. Low nibbles j, high nibbles 15.
  Q4_1Block b;
  b.d = kQuarter;
  b.m = kMinusOne;
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(0xF0 | j);
  const auto y = decode(GgmlType::Q4_1, b, 32);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(y[size_t(j)], -1.0f + 0.25f * float(j)) << j;  // -1, -0.75, ..., 2.75
  for (int j = 16; j < 32; ++j) EXPECT_EQ(y[size_t(j)], 2.75f) << j;                  // 15 * 0.25 - 1
}

TEST(Dequant, Q5_0) {
  // 5-bit q = nibble | (bit j of qh) << 4, value = (q - 16) * d with d = 1.
  // Nibbles: element j and j+16 both j. qh = bits 0 and 16 set -> elements 0 and 16 get +16.
  Q5_0Block b;
  b.d = kOne;
  const uint32_t qh = (1u << 0) | (1u << 16);
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | (j << 4));
  const auto y = decode(GgmlType::Q5_0, b, 32);
  EXPECT_EQ(y[0], 0.0f);   // (0 + 16) - 16
  EXPECT_EQ(y[16], 0.0f);  // (0 + 16) - 16
  for (int j = 1; j < 16; ++j) {
    EXPECT_EQ(y[size_t(j)], float(j - 16)) << j;       // -15 .. -1
    EXPECT_EQ(y[size_t(j + 16)], float(j - 16)) << j;
  }
}

TEST(Dequant, Q5_1) {
  // qh all ones, nibbles 0 -> q = 16 everywhere; value = 16 * 0.5 + 2 = 10. Then bit 5 off
  // and nibble 3 for element 5: q = 3 -> 3.5.
  Q5_1Block b;
  b.d = kHalf;
  b.m = kTwo;
  uint32_t qh = 0xFFFFFFFFu & ~(1u << 5);
  std::memcpy(b.qh, &qh, 4);
  std::memset(b.qs, 0, sizeof b.qs);
  b.qs[5] = 0x03;
  const auto y = decode(GgmlType::Q5_1, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[size_t(i)], i == 5 ? 3.5f : 10.0f) << i;
}

TEST(Dequant, Q8_0) {
  // value = q * d with d = 1/8, q = j - 16.
  Q8_0Block b;
  b.d = kEighth;
  for (int j = 0; j < 32; ++j) b.qs[j] = int8_t(j - 16);
  const auto y = decode(GgmlType::Q8_0, b, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[size_t(j)], float(j - 16) / 8.0f) << j;  // -2, -1.875, ..., 1.875
}

TEST(Dequant, Q2_K) {
  // 16 sub-blocks of 16; scale byte = (min << 4) | scale. d = 1, dmin = 0.5, every scale
  // byte 0x21 -> scale 1, min 2 -> value = q - 1. qs bytes 0xE4 = 0b11'10'01'00 hold
  // q = 0, 1, 2, 3 at shifts 0, 2, 4, 6; each shift covers 32 consecutive elements
  // of a 128-element half, so element i has q = (i % 128) / 32.
  Q2_KBlock b;
  std::memset(b.scales, 0x21, sizeof b.scales);
  std::memset(b.qs, 0xE4, sizeof b.qs);
  b.d = kOne;
  b.dmin = kHalf;
  auto y = decode(GgmlType::Q2_K, b, 256);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[size_t(i)], float((i % 128) / 32) - 1.0f) << i;
  // Sub-blocks alternate first/second 16 of each 32-element group: sub-block 5 is the
  // second 16 of group 2 (elements 80..95, q = 2). Scale 3, min 1: 3 * 2 - 0.5 = 5.5.
  b.scales[5] = 0x13;
  y = decode(GgmlType::Q2_K, b, 256);
  for (int i = 80; i < 96; ++i) EXPECT_EQ(y[size_t(i)], 5.5f) << i;
  EXPECT_EQ(y[79], 1.0f);  // first 16 of group 2 keep scale 1, min 2: 2 - 1
}

TEST(Dequant, Q3_K) {
  // 16 6-bit scales stored biased by 32: low 4 bits in bytes 0..7 (scale k < 8 in the low
  // nibble of byte k, k >= 8 in the high nibble of byte k-8), high 2 bits in bytes 8..11.
  // Every scale = 33 (low4 = 1, high2 = 2) -> effective scale 1; d = 2.
  // q = 2-bit value - (hmask bit set ? 0 : 4). hmask bit b covers the b-th group of 32
  // elements; 0x0F: first 128 elements keep q, the second 128 subtract 4.
  Q3_KBlock b;
  std::memset(b.scales, 0x11, 8);
  std::memset(b.scales + 8, 0xAA, 4);
  std::memset(b.qs, 0xE4, sizeof b.qs);
  std::memset(b.hmask, 0x0F, sizeof b.hmask);
  b.d = kTwo;
  const auto y = decode(GgmlType::Q3_K, b, 256);
  for (int i = 0; i < 128; ++i) EXPECT_EQ(y[size_t(i)], 2.0f * float(i / 32)) << i;                // 0, 2, 4, 6
  for (int i = 128; i < 256; ++i) EXPECT_EQ(y[size_t(i)], 2.0f * float((i - 128) / 32 - 4)) << i;  // -8, -6, -4, -2
}

// Q4_K / Q5_K share the 12-byte packing of eight 6-bit (scale, min) pairs:
// j < 4: scale = b[j] & 63, min = b[j+4] & 63; j >= 4: scale = (b[j+4] & 15) | (b[j-4] >> 6) << 4,
// min = (b[j+4] >> 4) | (b[j] >> 6) << 4. Bytes 0..3 = 2, 4..7 = 1, 8..11 = 0x13 give
// (scale, min) = (2, 1) for j < 4 and (3, 1) for j >= 4.
void fill_k_scales(uint8_t* s) {
  std::memset(s, 2, 4);
  std::memset(s + 4, 1, 4);
  std::memset(s + 8, 0x13, 4);
}

TEST(Dequant, KScaleMinUnpacking) {
  uint8_t s[12];
  fill_k_scales(s);
  uint8_t sc, m;
  k4_scale_min(0, s, &sc, &m);
  EXPECT_EQ(sc, 2);
  EXPECT_EQ(m, 1);
  k4_scale_min(6, s, &sc, &m);
  EXPECT_EQ(sc, 3);
  EXPECT_EQ(m, 1);
  s[2] |= 0xC0;  // high bits of scale 2 feed the top of scale 6: 3 | (3 << 4) = 51
  k4_scale_min(6, s, &sc, &m);
  EXPECT_EQ(sc, 51);
}

TEST(Dequant, Q4_K) {
  // Each 64-element chunk c uses pairs 2c (low nibbles, 32 elements) and 2c+1 (high
  // nibbles). d = dmin = 1, qs = 0x52 (low 2, high 5): value = scale * q - min.
  // c = 0, 1: 2*2-1 = 3 then 2*5-1 = 9;  c = 2, 3: 3*2-1 = 5 then 3*5-1 = 14.
  Q4_KBlock b;
  b.d = kOne;
  b.dmin = kOne;
  fill_k_scales(b.scales);
  std::memset(b.qs, 0x52, sizeof b.qs);
  const auto y = decode(GgmlType::Q4_K, b, 256);
  const float want[8] = {3, 9, 3, 9, 5, 14, 5, 14};
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[size_t(i)], want[i / 32]) << i;
}

TEST(Dequant, Q5_K) {
  // As Q4_K plus a fifth bit: qh[l] bit (2c) for the low half of chunk c, bit (2c+1) for
  // the high half. qh = 0x01: only the first 32 elements get +16: 2*(2+16)-1 = 35.
  Q5_KBlock b;
  b.d = kOne;
  b.dmin = kOne;
  fill_k_scales(b.scales);
  std::memset(b.qs, 0x52, sizeof b.qs);
  std::memset(b.qh, 0x01, sizeof b.qh);
  const auto y = decode(GgmlType::Q5_K, b, 256);
  const float want[8] = {35, 9, 3, 9, 5, 14, 5, 14};
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[size_t(i)], want[i / 32]) << i;
}

TEST(Dequant, Q6_K) {
  // q = (4 bits from ql | 2 bits from qh << 4) - 32, value = d * scale * q, d = 0.5.
  // Per 128 elements: [0,32) low nibble of ql[l] + qh bits 0-1, [32,64) low nibble of
  // ql[l+32] + bits 2-3, [64,96) high nibble of ql[l] + bits 4-5, [96,128) high nibble
  // of ql[l+32] + bits 6-7. ql = 0x21, qh = 0xE4 -> q = 1-32, 1+16-32, 2+32-32, 2+48-32
  // = -31, -15, 2, 18 -> values -15.5, -7.5, 1, 9. Scale 0 (elements 0..15) is -2: 31.
  Q6_KBlock b;
  b.d = kHalf;
  std::memset(b.ql, 0x21, sizeof b.ql);
  std::memset(b.qh, 0xE4, sizeof b.qh);
  for (auto& s : b.scales) s = 1;
  b.scales[0] = -2;
  const auto y = decode(GgmlType::Q6_K, b, 256);
  const float want[4] = {-15.5f, -7.5f, 1.0f, 9.0f};
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[size_t(i)], i < 16 ? 31.0f : want[(i % 128) / 32]) << i;
}

TEST(Dequant, MultipleBlocksAdvanceAndRowBytes) {
  Q8_0Block b[2];
  b[0].d = kOne;
  b[1].d = kTwo;
  for (int j = 0; j < 32; ++j) b[0].qs[j] = b[1].qs[j] = 3;
  std::vector<float> y(64);
  dequantize_row(GgmlType::Q8_0, b, y.data(), 64);
  EXPECT_EQ(y[31], 3.0f);
  EXPECT_EQ(y[32], 6.0f);
  EXPECT_EQ(row_bytes(GgmlType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(GgmlType::Q4_0, 64), 36u);
  EXPECT_EQ(row_bytes(GgmlType::BF16, 3), 6u);
}

TEST(GgmlTypes, NamesAndSupport) {
  EXPECT_EQ(ggml_type_name(12), "Q4_K");
  EXPECT_EQ(ggml_type_name(16), "IQ2_XXS");
  EXPECT_EQ(ggml_type_name(999), "type 999");
  EXPECT_FALSE(ggml_type_traits(16).has_value());   // IQ2_XXS: refused
  EXPECT_FALSE(ggml_type_traits(15).has_value());   // Q8_K: not a storage type for weights
  EXPECT_TRUE(ggml_type_traits(30).has_value());    // BF16
  EXPECT_EQ(ggml_type_from_name("q4_0"), GgmlType::Q4_0);
  EXPECT_FALSE(ggml_type_from_name("q4_2").has_value());
}

}  // namespace
}  // namespace plm
