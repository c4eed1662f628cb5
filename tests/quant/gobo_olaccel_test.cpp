// GOBO and OLAccel: hand-worked vectors (planted outliers, the centroid iteration, outlier
// selection, ties, saturation), storage accounting and the documented error cases.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "qarch/quant/decoded.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"

namespace qarch::quant {
namespace {

// ------------------------------------------------------------------------------------- GOBO
// 1000 weights ((37 i mod 201) - 100) / 100 in [-1, 1] plus planted 50, -40, 30 at flat
// positions 123, 777, 999. mu = 0.0404, population sigma = 2.309 (the three plants dominate:
// sqrt((50^2 + 40^2 + 30^2 + ~340) / 1000)), so the plants sit 21.6, 17.3 and 13.0 sigma from
// the mean and every other weight within 0.46 sigma.
std::vector<float> planted() {
  std::vector<float> x(1000);
  for (int i = 0; i < 1000; ++i) x[i] = static_cast<float>((i * 37) % 201 - 100) / 100.0f;
  x[123] = 50.0f;
  x[777] = -40.0f;
  x[999] = 30.0f;
  return x;
}

TEST(Gobo, PlantedOutliersAreExactlyThePositions) {
  const auto x = planted();
  for (const char* store : {"fp16", "fp32"}) {
    const auto f = make_format(std::string("gobo:store=") + store);
    EXPECT_EQ(f->name(), std::string("gobo:bits=3:store=") + store + ":threshold=3.5");
    const auto e = f->encode(x.data(), 20, 50);
    EXPECT_EQ(e.indices, (std::vector<uint32_t>{123, 777, 999}));
    std::vector<float> out(1000);
    f->decode(e, out.data());
    EXPECT_EQ(out[123], 50.0f);  // exact in FP16 and FP32
    EXPECT_EQ(out[777], -40.0f);
    EXPECT_EQ(out[999], 30.0f);
    // Every other weight decodes to one of the 8 centroids, within the group's range.
    for (int i = 0; i < 1000; ++i) {
      if (i == 123 || i == 777 || i == 999) continue;
      EXPECT_LE(std::fabs(out[i]), 1.0f);
      EXPECT_LT(std::fabs(out[i] - x[i]), 0.2f) << i;  // 8 levels over [-1, 1]
    }
  }
  // threshold = 15 sigma (34.6): 30 (13.0 sigma) is no longer an outlier.
  const auto e = make_format("gobo:threshold=15")->encode(x.data(), 20, 50);
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{123, 777}));
}

// The centroid iteration on G = [0, 18, 24, 59, 120], bits = 2 (4 centroids), worked by hand:
// start evenly spaced over [0, 120]: {0, 40, 80, 120}, boundaries 20, 60, 100:
//   {0, 18} -> 0, {24, 59} -> 40, {} -> 80, {120} -> 120; L1 = 0 + 18 + 16 + 19 + 0 = 53.
// 1: means {9, 41.5, 80 (empty, kept), 120}, boundaries 25.25, 60.75, 100: 24 moves to 9;
//   L1 = 9 + 9 + 15 + 17.5 + 0 = 50.5 < 53: accept.
// 2: means {14, 59, 80, 120}, boundaries 36.5, 69.5, 100: no move; L1 = 14 + 4 + 10 = 28: accept.
// 3: means unchanged, L1 = 28, not < 28: stop. Centroids {14, 59, 80, 120}, all exact in FP16.
TEST(Gobo, CentroidIterationWorkedByHand) {
  const std::vector<float> g = {0.0f, 18.0f, 24.0f, 59.0f, 120.0f};
  for (const char* store : {"fp32", "fp16"}) {
    const auto f = make_format(std::string("gobo:bits=2:threshold=100:store=") + store);
    const auto e = f->encode(g.data(), 1, 5);
    EXPECT_TRUE(e.indices.empty());
    std::vector<float> out(5);
    f->decode(e, out.data());
    EXPECT_EQ(out, (std::vector<float>{14.0f, 14.0f, 14.0f, 59.0f, 120.0f})) << store;
    // Indices 0, 0, 0, 1, 3 in 2-bit codes, LSB first: 0b01000000, 0b11.
    EXPECT_EQ(e.elements, (std::vector<uint8_t>{0x40, 0x03}));
    if (std::string(store) == "fp32") {
      EXPECT_EQ(e.fp32, (std::vector<float>{14.0f, 59.0f, 80.0f, 120.0f}));
    } else {
      // FP16 codes: 14 = 0x4B00, 59 = 0x5360, 80 = 0x5500, 120 = 0x5780, little-endian.
      EXPECT_EQ(e.scales, (std::vector<uint8_t>{0x00, 0x4B, 0x60, 0x53, 0x00, 0x55, 0x80, 0x57}));
    }
  }
}

TEST(Gobo, Fp16StorageRoundsCentroidsAndOutliers) {
  // Outlier 1000.3 is stored as FP16 1000.5 (quantum 0.5 in [512, 1024): 1000.3 -> 1000.5).
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[i] = 0.001f * static_cast<float>(i % 8 - 4);
  x[10] = 1000.3f;
  const auto e16 = make_format("gobo")->encode(x.data(), 8, 8);
  const auto e32 = make_format("gobo:store=fp32")->encode(x.data(), 8, 8);
  ASSERT_EQ(e16.indices, std::vector<uint32_t>{10});
  std::vector<float> o16(64), o32(64);
  make_format("gobo")->decode(e16, o16.data());
  make_format("gobo:store=fp32")->decode(e32, o32.data());
  EXPECT_EQ(o16[10], 1000.5f);
  EXPECT_EQ(o32[10], 1000.3f);
  // The FP16 operand: unit 2^-24; 1000.5 = 1.9541015625 * 2^9 = exponent field 24, mantissa
  // 977: mant 1024 + 977 = 2001, shift 24 - 1 = 23 (2001 * 2^23 * 2^-24 = 1000.5).
  const DecodedTensor d = make_format("gobo")->decode_operand(e16);
  EXPECT_EQ(d.scale_exp[0], -24);
  EXPECT_EQ(d.mant[10], 2001);
  EXPECT_EQ(d.shift[10], 23);
  EXPECT_EQ(decoded_value(d, 1, 2), 1000.5f);
}

TEST(Gobo, StorageBits) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> x(256 * 256);
  for (auto& v : x) v = nd(rng);
  for (int i = 0; i < 40; ++i) x[i * 1601] = 0.5f * ((i & 1) ? 1.0f : -1.0f);
  for (const char* spec : {"gobo", "gobo:store=fp32", "gobo:bits=4"}) {
    const auto e = make_format(spec)->encode(x.data(), 256, 256);
    const bool fp32 = std::string(spec).find("fp32") != std::string::npos;
    const int bits = std::string(spec).find("bits=4") != std::string::npos ? 4 : 3;
    const double value_bits = fp32 ? 32 : 16;
    const double want =
        (256.0 * 256 * bits + (1 << bits) * value_bits + e.indices.size() * (value_bits + 32)) /
        (256.0 * 256);
    EXPECT_DOUBLE_EQ(e.bits_per_element(), want) << spec;
    // ~0.1% outliers (40 planted + the Gaussian tail beyond 3.5 sigma, ~0.05%).
    EXPECT_GE(e.indices.size(), 40u);
    EXPECT_LE(e.indices.size(), 120u);
    if (bits == 3 && !fp32) {
      EXPECT_LT(e.bits_per_element(), 3.1);
    }
  }
}

TEST(Gobo, Fp32OperandRangeLimit) {
  std::vector<float> x(100, 0.0f);
  for (int i = 0; i < 100; ++i) x[i] = 0.01f * static_cast<float>(i % 10);
  x[50] = 1e15f;  // 2^49.8: the stored values span more than 2^39
  const auto f32 = make_format("gobo:store=fp32");
  const auto e = f32->encode(x.data(), 10, 10);
  std::vector<float> out(100);
  f32->decode(e, out.data());
  EXPECT_EQ(out[50], 1e15f);
  EXPECT_THROW(f32->decode_operand(e), qarch::Error);
  // FP16 storage saturates it to 65504 and has a bounded operand.
  const auto f16 = make_format("gobo");
  const auto e16 = f16->encode(x.data(), 10, 10);
  f16->decode(e16, out.data());
  EXPECT_EQ(out[50], 65504.0f);
  EXPECT_NO_THROW(f16->decode_operand(e16));
}

TEST(Gobo, Options) {
  EXPECT_THROW(make_format("gobo:bits=1"), qarch::Error);
  EXPECT_THROW(make_format("gobo:bits=5"), qarch::Error);
  EXPECT_THROW(make_format("gobo:store=fp8"), qarch::Error);
  EXPECT_THROW(make_format("gobo:threshold=-1"), qarch::Error);
  EXPECT_EQ(make_format("gobo:threshold=4.25:bits=2")->name(),
            "gobo:bits=2:store=fp16:threshold=4.25");
}

// ---------------------------------------------------------------------------------- OLAccel
// x = [0.1, -0.2, 0.3, 7, -0.7, 0.35, 0, 100, -50, 0.6], frac = 0.2: k = 2 outliers, the two
// largest |x| (100 at 7, -50 at 8); T = 7 (largest remaining) -> s = 7 / 7 = 1.
// Dense codes: round(x) = [0, 0, 0, 7, -1, 0, 0, (0), (0), 1]; outliers 100, -50 on step 1.
TEST(Olaccel, HandExampleLayout) {
  const std::vector<float> x = {0.1f, -0.2f, 0.3f, 7.0f, -0.7f, 0.35f, 0.0f, 100.0f, -50.0f, 0.6f};
  const auto f = make_format("olaccel:frac=0.2");
  EXPECT_EQ(f->name(), "olaccel:bits=4:frac=0.2:outlier_bits=16");
  const auto e = f->encode(x.data(), 1, 10);
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{7, 8}));
  EXPECT_EQ(e.fp32, std::vector<float>{1.0f});
  // Nibbles (low first): (0,0) (0,7) (-1=F,0) (0,0) (0,1); then 100 = 0x0064, -50 = 0xFFCE.
  EXPECT_EQ(e.elements,
            (std::vector<uint8_t>{0x00, 0x70, 0x0F, 0x00, 0x10, 0x64, 0x00, 0xCE, 0xFF}));
  std::vector<float> out(10);
  f->decode(e, out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 7, -1, 0, 0, 100, -50, 1}));
  const DecodedTensor d = f->decode_operand(e);
  EXPECT_EQ(d.mant, (std::vector<int32_t>{0, 0, 0, 7, -1, 0, 0, 100, -50, 1}));
  EXPECT_EQ(d.scale_mul, std::vector<float>{1.0f});
  EXPECT_EQ(e.scales, std::vector<uint8_t>{0});  // outlier shift p = 0
  // Storage: 40 dense bits + 2 x 16 outlier bits + 2 x 32 index bits + 32 (s) + 8 (p) bits.
  EXPECT_EQ(e.storage_bits(), 40u + 32u + 64u + 32u + 8u);
}

TEST(Olaccel, TiesOutlierShiftAndSelection) {
  // frac = 0: no outliers, s = amax / 7 = 1; -3.5 and 2.5 are ties -> away from zero.
  const std::vector<float> a = {7.0f, -3.5f, 2.5f, 0.49f};
  std::vector<float> out(4);
  const auto f0 = make_format("olaccel:frac=0");
  f0->decode(f0->encode(a.data(), 1, 4), out.data());
  EXPECT_EQ(out, (std::vector<float>{7.0f, -4.0f, 3.0f, 0.0f}));
  // Equal magnitudes: the lower flat index becomes the outlier. [5, -5, 5, 1], frac = 0.5:
  // k = 2 -> positions 0, 1; T = 5 (position 2) -> s = 5/7; 5 / (5/7) = 7, 1 / (5/7) = 1.4 -> 1.
  const std::vector<float> b = {5.0f, -5.0f, 5.0f, 1.0f};
  const auto f1 = make_format("olaccel:frac=0.5");
  const auto e1 = f1->encode(b.data(), 2, 2);
  EXPECT_EQ(e1.indices, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(e1.fp32[0], 5.0f / 7.0f);
  // Outlier step: [201, 7, -7, 0.5] with frac = 0.25: k = 1 (201), T = 7 -> s = 1; 0.5 -> 1 (tie).
  // 16-bit: 201 fits, p = 0. 8-bit: 201 > 127, p = 1: 201 / 2 = 100.5 -> 101 (tie, away), so
  // the outlier decodes to <1, 101> = 202.
  const std::vector<float> c = {201.0f, 7.0f, -7.0f, 0.5f};
  const auto f8 = make_format("olaccel:frac=0.25:outlier_bits=8");
  const auto f16 = make_format("olaccel:frac=0.25");
  const auto e8 = f8->encode(c.data(), 1, 4);
  const auto e16 = f16->encode(c.data(), 1, 4);
  EXPECT_EQ(e8.scales, std::vector<uint8_t>{1});
  EXPECT_EQ(e16.scales, std::vector<uint8_t>{0});
  const auto d8 = f8->decode_operand(e8);
  const auto d16 = f16->decode_operand(e16);
  EXPECT_EQ(d8.mant, (std::vector<int32_t>{101, 7, -7, 1}));
  EXPECT_EQ(d8.shift, (std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_EQ(d16.mant, (std::vector<int32_t>{201, 7, -7, 1}));
  EXPECT_EQ(d16.shift, (std::vector<uint8_t>{0, 0, 0, 0}));
  f8->decode(e8, out.data());
  EXPECT_EQ(out, (std::vector<float>{202.0f, 7.0f, -7.0f, 1.0f}));
  // s = float(1/7) = 0.142857149...: 0.5 / s = 3.4999998 in FP32 -> 3, not a tie.
  const std::vector<float> c2 = {200.0f, 1.0f, -1.0f, 0.5f};
  EXPECT_EQ(f16->decode_operand(f16->encode(c2.data(), 1, 4)).mant,
            (std::vector<int32_t>{1400, 7, -7, 3}));
  // ~3% outliers at 16 bits with 32-bit positions: 4 + 0.03 * 48 = 5.44 bits per element.
  std::vector<float> x(100 * 100);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  const auto e = make_format("olaccel")->encode(x.data(), 100, 100);
  EXPECT_EQ(e.indices.size(), 300u);
  EXPECT_DOUBLE_EQ(e.bits_per_element(), (10000.0 * 4 + 300 * 48 + 32 + 8) / 10000.0);
}

TEST(Olaccel, OutliersNeverSaturateWhenTheTailUnderflows) {
  // A softmax row whose tail underflows (found by `qarch run` on OPT-6.7B decode, layer 0):
  // largest 0.8, the (k+1)-th largest 4e-29. The dense step would be 4e-29 / 7 and the outlier
  // 0.8 would need p ~ 82 > 40: the step is raised to 0.8 / (32767 * 2^40) instead, so the
  // outliers keep 15 bits and the tiny normals round to zero.
  std::vector<float> x(64, 4e-29f);
  x[0] = 0.8f;
  x[5] = 0.15f;
  x[9] = -0.05f;
  const auto f = make_format("olaccel:frac=0.05");  // k = 3: positions 0, 5, 9
  const auto e = f->encode(x.data(), 1, 64);
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{0, 5, 9}));
  EXPECT_EQ(e.scales, std::vector<uint8_t>{40});
  std::vector<float> out(64);
  f->decode(e, out.data());
  EXPECT_NEAR(out[0], 0.8f, 0.8f * 1e-4f);  // was 1.9e-13 (saturated at 32767 * 2^40 * s)
  EXPECT_NEAR(out[5], 0.15f, 0.8f * 1e-4f);
  EXPECT_NEAR(out[9], -0.05f, 0.8f * 1e-4f);
  EXPECT_EQ(out[1], 0.0f);
  // The decoded view is the same numbers.
  const auto d = f->decode_operand(e);
  for (int c = 0; c < 64; ++c) EXPECT_EQ(decoded_value(d, 0, c), out[c]) << c;
}

TEST(Olaccel, Options) {
  EXPECT_THROW(make_format("olaccel:outlier_bits=12"), qarch::Error);
  EXPECT_THROW(make_format("olaccel:bits=8"), qarch::Error);
  EXPECT_THROW(make_format("olaccel:frac=1.5"), qarch::Error);
  EXPECT_EQ(make_format("olaccel:outlier_bits=8:bits=3")->name(),
            "olaccel:bits=3:frac=0.03:outlier_bits=8");
}

}  // namespace
}  // namespace qarch::quant
