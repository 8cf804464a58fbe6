// The quantiser `pocketlm synth` writes with, checked through the independent
// dequantiser (itself checked against hand-worked blocks in dequant_test.cpp):
// error bounds per format, exact round trips of representable values, and the
// bytes of hand-worked blocks.
#include <cmath>
#include <cstring>
#include <random>

#include "error.h"
#include "fp16.h"
#include "quant/quantize.h"
#include "test_support.h"

namespace plm {
namespace {

std::vector<float> round_trip(GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, int64_t(x.size())));
  quantize_row(t, x.data(), q.data(), int64_t(x.size()));
  std::vector<float> y(x.size());
  dequantize_row(t, q.data(), y.data(), int64_t(x.size()));
  return y;
}

double relative_rms_error(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0, s = 0;
  for (size_t i = 0; i < x.size(); ++i) e += (x[i] - y[i]) * double(x[i] - y[i]), s += double(x[i]) * x[i];
  return std::sqrt(e / s);
}

TEST(Quantize, ErrorWithinEachFormatsResolution) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> x(4096);
  for (float& v : x) v = nd(rng);
  x[7] = 0.3f;  // an outlier in one block
  // Bounds: a uniform quantiser's RMS error is step/sqrt(12); Gaussian blocks of
  // 16-32 values span about +-2.5 sigma, so 4 bits land near 0.1, 5 near 0.05, 6 near
  // 0.025, 8 near 0.006 of the signal's RMS.
  const std::pair<GgmlType, double> bounds[] = {{GgmlType::Q8_0, 0.01}, {GgmlType::Q6_K, 0.04}, {GgmlType::Q5_0, 0.07},
                                                {GgmlType::Q4_K, 0.13},  {GgmlType::Q4_0, 0.15}, {GgmlType::F16, 0.001}};
  for (const auto& [t, bound] : bounds) {
    const double err = relative_rms_error(x, round_trip(t, x));
    EXPECT_LT(err, bound) << traits(t).name;
    EXPECT_GT(err, 0.0) << traits(t).name;
  }
  EXPECT_EQ(round_trip(GgmlType::F32, x), x);
}

TEST(Quantize, ZerosAndRepresentableValuesAreExact) {
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    const std::vector<float> zeros(256, 0.0f);
    EXPECT_EQ(round_trip(t, zeros), zeros) << traits(t).name;
  }
  // Q8_0: q * 0.25 for q in -127..127 with the block's max at 127 * 0.25.
  std::vector<float> q8(32);
  for (int i = 0; i < 32; ++i) q8[size_t(i)] = 0.25f * float(i * 8 - 127 + (i == 31 ? 6 : 0));
  EXPECT_EQ(round_trip(GgmlType::Q8_0, q8), q8);
  // Q4_0: d = max / -8 with max = -2 -> d = 0.25, levels -8..7 times 0.25.
  std::vector<float> q4(32);
  for (int i = 0; i < 32; ++i) q4[size_t(i)] = 0.25f * float(i % 16 - 8);
  EXPECT_EQ(round_trip(GgmlType::Q4_0, q4), q4);
}

TEST(Quantize, HandWorkedQ4_0Block) {
  // max |x| is -4 (x[0]) -> d = -4 / -8 = 0.5; q = x / 0.5 + 8.5 truncated: x[0] -> 0,
  // x[1] = 3.5 -> 15, x[16] = 1 -> 10, the rest 0 -> 8.
  std::vector<float> x(32, 0.0f);
  x[0] = -4.0f;
  x[1] = 3.5f;
  x[16] = 1.0f;
  Q4_0Block b;
  quantize_row(GgmlType::Q4_0, x.data(), &b, 32);
  EXPECT_EQ(b.d, f32_to_fp16(0.5f));
  EXPECT_EQ(b.qs[0], uint8_t(0x0 | (10 << 4)));  // element 0 low, element 16 high
  EXPECT_EQ(b.qs[1], uint8_t(15 | (8 << 4)));
  EXPECT_EQ(b.qs[2], uint8_t(0x88));
}

TEST(Quantize, RejectsPartialBlocksAndUnwritableTypes) {
  std::vector<float> x(48, 1.0f);
  std::vector<uint8_t> out(1024);
  EXPECT_THROW(quantize_row(GgmlType::Q8_0, x.data(), out.data(), 48), Error);
  EXPECT_THROW(quantize_row(GgmlType::Q4_K, x.data(), out.data(), 32), Error);
  EXPECT_THROW(quantize_row(GgmlType::Q2_K, x.data(), out.data(), 256), Error);
  EXPECT_FALSE(can_quantize(GgmlType::Q3_K));
  EXPECT_TRUE(can_quantize(GgmlType::Q6_K));
}

}  // namespace
}  // namespace plm
