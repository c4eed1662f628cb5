// FP element codec: exhaustive decode/re-encode of every code of every <= 8-bit element type
// against values computed independently from the format definition, and golden vectors
// hand-derived from OCP MX v1.0 / OFP8 (ties, saturation, OVF mode, subnormals).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "qarch/quant/fp_element.h"

namespace qarch::quant {
namespace {

// Independent reference: the definition in OCP MX v1.0 section 5.3, in double.
double reference_value(int ebits, int mbits, int bias, uint32_t code) {
  const uint32_t e = (code >> mbits) & ((1u << ebits) - 1);
  const uint32_t m = code & ((1u << mbits) - 1);
  const double sign = (code >> (ebits + mbits)) & 1 ? -1.0 : 1.0;
  if (e == 0) return sign * std::ldexp(static_cast<double>(m), 1 - bias - mbits);
  return sign *
         std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -mbits), static_cast<int>(e) - bias);
}

struct Case {
  const FpElementSpec* spec;
  double max_normal;
  double min_normal;
  double min_subnormal;
};

class FpElementExhaustive : public ::testing::TestWithParam<Case> {};

TEST_P(FpElementExhaustive, EveryCodeDecodesToDefinitionAndReencodesToItself) {
  const FpElementSpec& s = *GetParam().spec;
  int finite = 0;
  for (uint32_t code = 0; code < (1u << s.bits()); ++code) {
    const float v = fp_decode(s, code);
    if (fp_is_special(s, code)) {
      EXPECT_TRUE(std::isnan(v) || std::isinf(v)) << s.name << " code " << code;
      continue;
    }
    ++finite;
    EXPECT_EQ(static_cast<double>(v), reference_value(s.ebits, s.mbits, s.bias, code))
        << s.name << " code " << code;
    EXPECT_EQ(fp_encode(s, v), code) << s.name << " code " << code << " value " << v;
    EXPECT_EQ(fp_encode(s, v, Rounding::kNearestAway), code) << s.name << " code " << code;
    // The exponent-integer pair reproduces the value exactly.
    const ExpIntPair p = fp_decode_pair(s, code);
    EXPECT_EQ(std::ldexp(static_cast<double>(p.mant), p.shift + s.ulp_exp()),
              static_cast<double>(v));
  }
  EXPECT_GT(finite, 0);
  EXPECT_EQ(s.max_normal(), GetParam().max_normal);
  EXPECT_EQ(s.min_normal(), GetParam().min_normal);
  EXPECT_EQ(s.min_subnormal(), GetParam().min_subnormal);
}

INSTANTIATE_TEST_SUITE_P(OcpTable, FpElementExhaustive,
                         ::testing::Values(Case{&kE4M3, 448.0, 0x1p-6, 0x1p-9},
                                           Case{&kE5M2, 57344.0, 0x1p-14, 0x1p-16},
                                           Case{&kE3M2, 28.0, 0.25, 0.0625},
                                           Case{&kE2M3, 7.5, 1.0, 0.125},
                                           Case{&kE2M1, 6.0, 1.0, 0.5}),
                         [](const auto& info) { return std::string(info.param.spec->name); });

TEST(FpElement, E2M1CodeTableFromSpec) {
  const float expect[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (uint32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(fp_decode(kE2M1, c), expect[c]);
    EXPECT_EQ(fp_decode(kE2M1, c | 8u), -expect[c]);
  }
}

TEST(FpElement, SpecialCodes) {
  EXPECT_TRUE(std::isnan(fp_decode(kE4M3, 0x7f)));
  EXPECT_TRUE(std::isnan(fp_decode(kE4M3, 0xff)));
  EXPECT_EQ(fp_decode(kE4M3, 0x7e), 448.0f);
  EXPECT_EQ(fp_decode(kE4M3, 0x78), 256.0f);  // S.1111.000 is a number in E4M3
  EXPECT_EQ(fp_decode(kE5M2, 0x7c), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fp_decode(kE5M2, 0xfc), -std::numeric_limits<float>::infinity());
  for (uint32_t c : {0x7du, 0x7eu, 0x7fu}) EXPECT_TRUE(std::isnan(fp_decode(kE5M2, c)));
  EXPECT_EQ(fp_decode(kE5M2, 0x7b), 57344.0f);
  EXPECT_EQ(kE4M3.emax(), 8);
  EXPECT_EQ(kE5M2.emax(), 15);
  EXPECT_EQ(kE3M2.emax(), 4);
  EXPECT_EQ(kE2M3.emax(), 2);
  EXPECT_EQ(kE2M1.emax(), 2);
}

// Golden vectors worked out by hand from the definitions.
TEST(FpElement, E4M3RoundingAndSaturation) {
  // [256, 512) has quantum 32: 400 = 12.5 quanta -> RNE 12 (384), away 13 (416).
  EXPECT_EQ(fp_round(kE4M3, 400.0f), 384.0f);
  EXPECT_EQ(fp_round(kE4M3, 400.0f, Rounding::kNearestAway), 416.0f);
  // 464 lies half-way between 448 (mantissa 110) and 480 (the NaN pattern's place): even -> 448.
  EXPECT_EQ(fp_round(kE4M3, 464.0f), 448.0f);
  EXPECT_EQ(fp_encode(kE4M3, 464.0f, Rounding::kNearestEven, Overflow::kOcp), 0x7eu);
  EXPECT_EQ(fp_encode(kE4M3, 465.0f, Rounding::kNearestEven, Overflow::kOcp), 0x7fu);  // NaN
  EXPECT_EQ(fp_encode(kE4M3, 464.0f, Rounding::kNearestAway, Overflow::kOcp), 0x7fu);
  EXPECT_EQ(fp_round(kE4M3, 1e30f), 448.0f);
  EXPECT_EQ(fp_round(kE4M3, -1e30f), -448.0f);
  EXPECT_EQ(fp_round(kE4M3, std::numeric_limits<float>::infinity()), 448.0f);
  EXPECT_EQ(fp_encode(kE4M3, -std::numeric_limits<float>::infinity(), Rounding::kNearestEven,
                      Overflow::kOcp),
            0xffu);
  // The formats.md vector under half-away: 485, 475 -> 448 (saturated), -450 -> -448.
  EXPECT_EQ(fp_round(kE4M3, 485.0f, Rounding::kNearestAway), 448.0f);
  EXPECT_EQ(fp_round(kE4M3, 475.0f, Rounding::kNearestAway), 448.0f);
  EXPECT_EQ(fp_round(kE4M3, -450.0f, Rounding::kNearestAway), -448.0f);
  // Subnormals: min 2^-9; half of it is a tie between 0 and 2^-9.
  EXPECT_EQ(fp_round(kE4M3, 0x1p-10f), 0.0f);
  EXPECT_EQ(fp_round(kE4M3, 0x1p-10f, Rounding::kNearestAway), 0x1p-9f);
  EXPECT_EQ(fp_round(kE4M3, 0x1.8p-9f), 0x1p-8f);    // 1.5 ulps -> 2 (even)
  EXPECT_EQ(fp_round(kE4M3, 0x1.8p-8f), 0x1.8p-8f);  // 3 ulps, exact
  EXPECT_EQ(fp_round(kE4M3, 0x1p-149f), 0.0f);       // FP32 subnormal input
  // Rounding up out of the subnormal range lands on the min normal: 7.5 ulps -> 8 = 2^-6.
  EXPECT_EQ(fp_round(kE4M3, 7.5f * 0x1p-9f), 0x1p-6f);
  EXPECT_EQ(fp_encode(kE4M3, 7.5f * 0x1p-9f), 0x08u);
  // Negative zero keeps its sign bit.
  EXPECT_EQ(fp_encode(kE4M3, -0.0f), 0x80u);
}

TEST(FpElement, E5M2OverflowModes) {
  // 61440 is half-way between 57344 and 65536 (would be Inf): RNE picks the even, Inf side.
  EXPECT_EQ(fp_encode(kE5M2, 61440.0f), 0x7bu);                                          // saturate
  EXPECT_EQ(fp_encode(kE5M2, 61440.0f, Rounding::kNearestEven, Overflow::kOcp), 0x7cu);  // +Inf
  EXPECT_EQ(fp_encode(kE5M2, 61439.0f, Rounding::kNearestEven, Overflow::kOcp), 0x7bu);
  EXPECT_EQ(fp_encode(kE5M2, -1e9f, Rounding::kNearestEven, Overflow::kOcp), 0xfcu);
  EXPECT_TRUE(std::isnan(fp_decode(kE5M2, fp_encode(kE5M2, std::nanf("")))));
}

TEST(FpElement, E2M1Ties) {
  EXPECT_EQ(fp_round(kE2M1, 0.25f), 0.0f);
  EXPECT_EQ(fp_round(kE2M1, 0.25f, Rounding::kNearestAway), 0.5f);
  EXPECT_EQ(fp_round(kE2M1, 0.75f), 1.0f);
  EXPECT_EQ(fp_round(kE2M1, 1.25f), 1.0f);
  EXPECT_EQ(fp_round(kE2M1, 1.75f), 2.0f);
  EXPECT_EQ(fp_round(kE2M1, 2.5f), 2.0f);
  EXPECT_EQ(fp_round(kE2M1, 2.5f, Rounding::kNearestAway), 3.0f);
  EXPECT_EQ(fp_round(kE2M1, 3.5f), 4.0f);
  EXPECT_EQ(fp_round(kE2M1, 5.0f), 4.0f);
  EXPECT_EQ(fp_round(kE2M1, -5.0f, Rounding::kNearestAway), -6.0f);
  EXPECT_EQ(fp_round(kE2M1, 7.0f), 6.0f);
  EXPECT_EQ(fp_round(kE2M1, 1e38f), 6.0f);
}

TEST(FpElement, Fp16AndBf16MatchKnownBitPatterns) {
  EXPECT_EQ(fp_encode(kFP16, 1.0f), 0x3c00u);
  EXPECT_EQ(fp_encode(kFP16, 65504.0f), 0x7bffu);
  EXPECT_EQ(fp_encode(kFP16, 0x1p-24f), 0x0001u);
  EXPECT_EQ(fp_encode(kFP16, -2.0f), 0xc000u);
  EXPECT_EQ(fp_encode(kBF16, 1.0f), 0x3f80u);
  EXPECT_EQ(fp_encode(kBF16, 3.140625f), 0x4049u);
  EXPECT_EQ(fp_decode(kBF16, 0x4049u), 3.140625f);
  // bf16 RNE on the float's bits: 1 + 2^-8 is a tie -> 1.0; 1 + 3*2^-8 -> 1 + 2^-6.
  EXPECT_EQ(fp_round(kBF16, 1.0f + 0x1p-8f), 1.0f);
  EXPECT_EQ(fp_round(kBF16, 1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);
}

TEST(FpElement, FloorLog2FromExponentBits) {
  EXPECT_EQ(floor_log2(1.0f), 0);
  EXPECT_EQ(floor_log2(std::nextafter(2.0f, 0.0f)), 0);  // just below a power of two
  EXPECT_EQ(floor_log2(2.0f), 1);
  EXPECT_EQ(floor_log2(-0.75f), -1);
  EXPECT_EQ(floor_log2(0x1p-149f), -149);
  EXPECT_EQ(floor_log2(0x1.fp-130f), -130);
  EXPECT_EQ(floor_log2(3.0e38f), 127);
}

}  // namespace
}  // namespace qarch::quant
