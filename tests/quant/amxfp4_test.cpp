// AMXFP4 (quant/src/amxfp4_format.cpp, Lee et al. arXiv 2411.09909): every E2M1 code through
// known s+ / s- for each scale type; golden vectors worked out by hand (elements > 0 use s+,
// elements <= 0 use s-; E5M2 / E4M3 / power-of-two scale rounding; ties under both roundings;
// the zero-scale rule; saturation; NaN/Inf blocks; partial blocks; zero-size tensors; packed
// bytes); a dot product with the four sign-combination partial sums done by hand; storage;
// malformed encodings; the invariants.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "intbfp_test_util.h"
#include "mx_family_test_util.h"
#include "qarch/quant/decoded.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"

namespace qarch::quant {
namespace {

using mxtest::run;
using mxtest::Trip;
using testing::bits_of;
using testing::error_of;
using testing::same_bits;

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(Amxfp4Format, CanonicalNamesAndOptions) {
  EXPECT_EQ(make_format("amxfp4")->name(), "amxfp4:block=32:round=even:scale=e5m2");
  EXPECT_EQ(make_format("amxfp4:scale=pot:round=away:block=16")->name(),
            "amxfp4:block=16:round=away:scale=pot");
  EXPECT_EQ(make_format("amxfp4:scale=E4M3")->name(), "amxfp4:block=32:round=even:scale=e4m3");
  EXPECT_THROW(make_format("amxfp4:scale=e8m0"), Error);
  EXPECT_THROW(make_format("amxfp4:block=1"), Error);
  EXPECT_THROW(make_format("amxfp4:round=nearest"), Error);
  EXPECT_THROW(make_format("amxfp4:p=4"), Error);
}

TEST(Amxfp4Exhaustive, EveryE2M1CodeThroughKnownScales) {
  // Codes with the sign bit and a non-zero magnitude use s-, the rest s+ (the -0 code is the
  // integer 0 and decodes to +0). value = e2m1 * s, exact.
  struct Case {
    const char* scale;
    uint8_t pos_code, neg_code;
    float pos, neg;
  };
  const Case cases[] = {
      {"e5m2", 0x3D, 0x42, 1.25f, 3.0f},         // 1.01b * 2^0, 1.10b * 2^1
      {"e5m2", 0x01, 0x7B, 0x1p-16f, 57344.0f},  // smallest subnormal, largest normal
      {"e4m3", 0x38, 0x7E, 1.0f, 448.0f},       {"e4m3", 0x01, 0x69, 0x1p-9f, 72.0f},
      {"pot", 129, 124, 4.0f, 0.125f},          {"pot", 0, 254, 0x1p-127f, 0x1p127f},
  };
  std::vector<uint32_t> all(16);
  for (uint32_t c = 0; c < 16; ++c) all[c] = c;
  for (const Case& k : cases) {
    SCOPED_TRACE(std::string(k.scale) + " " + std::to_string(k.pos_code) + "/" +
                 std::to_string(k.neg_code));
    const auto f = make_format(std::string("amxfp4:block=16:scale=") + k.scale);
    EncodedTensor e;
    e.format = f->name();
    e.rows = 1;
    e.cols = 16;
    e.elements = pack_codes(all, 1, 16, 4);
    e.scales = {k.pos_code, k.neg_code};
    std::vector<float> out(16);
    f->decode(e, out.data());
    const DecodedTensor d = f->decode_operand(e);
    EXPECT_TRUE(d.sign_split);
    for (uint32_t c = 0; c < 16; ++c) {
      const double mag = mxtest::kE2M1Mag[c & 7];
      const double want = (c & 8) && mag != 0 ? -mag * k.neg : mag * k.pos;
      EXPECT_EQ(bits_of(out[c]), bits_of(mxtest::to_float(want))) << "code " << c;
      EXPECT_EQ(bits_of(decoded_value(d, 0, c)), bits_of(out[c])) << "code " << c;
    }
  }
  // NaN scale codes make their sign's elements NaN.
  const auto f = make_format("amxfp4:block=16");
  EncodedTensor e;
  e.format = f->name();
  e.rows = 1;
  e.cols = 16;
  e.elements = pack_codes(all, 1, 16, 4);
  e.scales = {0x3C, 0x7F};  // s+ = 1, s- = NaN
  std::vector<float> out(16);
  f->decode(e, out.data());
  EXPECT_EQ(out[7], 6.0f);
  EXPECT_EQ(bits_of(out[8]), 0u);  // -0 code: uses s+
  mxtest::expect_nan_range(out, 9, 16);
}

TEST(Amxfp4Golden, SignSplitScalesE5M2) {
  // Block of 8: max 6 -> s+ = E5M2(6/6 = 1) = 1 (0x3C); min -1.5 -> s- = E5M2(1.5/6 = .25) =
  // .25 (0x34). x > 0 divide by s+: 6 -> 6 (c7), 3 -> 3 (c5), 1 -> 1 (c2), 2.5 -> tie 2|3 (RNE
  // c4, away c5). x <= 0 divide by s-: -1.5 -> -6 (cF), -.75 -> -3 (cD), 0 -> 0 (c0),
  // -.375 -> -1.5 (cB). Values = e2m1 * scale of its sign.
  const std::vector<float> x = {6, 3, -1.5f, -0.75f, 0, 1, 2.5f, -0.375f};
  const Trip e = run("amxfp4:block=8", x, 1, 8);
  EXPECT_EQ(e.e.scales, (std::vector<uint8_t>{0x3C, 0x34}));
  EXPECT_EQ(e.e.elements, (std::vector<uint8_t>{0x57, 0xDF, 0x20, 0xB4}));
  EXPECT_EQ(e.dec, (std::vector<float>{6, 3, -1.5f, -0.75f, 0, 1, 2, -0.375f}));
  const Trip a = run("amxfp4:block=8:round=away", x, 1, 8);
  EXPECT_EQ(a.e.elements, (std::vector<uint8_t>{0x57, 0xDF, 0x20, 0xB5}));
  EXPECT_EQ(a.dec, (std::vector<float>{6, 3, -1.5f, -0.75f, 0, 1, 3, -0.375f}));
  // Hardware view: s+ and s- as multipliers on the E2M1 integer (ulp 2^-1).
  EXPECT_EQ(e.d.scale_exp, std::vector<int32_t>{-1});
  EXPECT_EQ(e.d.scale_mul, std::vector<float>{1.0f});
  EXPECT_EQ(e.d.neg_scale_exp, std::vector<int32_t>{-1});
  EXPECT_EQ(e.d.neg_scale_mul, std::vector<float>{0.25f});
}

TEST(Amxfp4Golden, InexactScalesForEachScaleType) {
  // Block [5 1 2.2 -.4]: max 5, min -.4.
  // e5m2: s+ = E5M2(5/6 = .8333): step .125 in [.5, 1) -> .875 (0x3B); 5/.875 = 5.71 -> 6 ->
  //   5.25; 1/.875 = 1.14 -> 1 -> .875; 2.2/.875 = 2.51 -> 3 -> 2.625.
  //   s- = E5M2(.4/6 = .0667): step 2^-6 in [2^-4, 2^-3) -> .0625 (0x2C); -.4/.0625 = -6.4 ->
  //   -6 -> -.375.
  // e4m3: s+ = E4M3(.8333): step 2^-4 -> .8125 (0x35); 5/.8125 = 6.15 -> 6 -> 4.875; 1/.8125 =
  //   1.23 -> 1 -> .8125; 2.2/.8125 = 2.71 -> 3 -> 2.4375. s- = E4M3(.0667): step 2^-7 ->
  //   .0703125 (0x19); -.4/.0703125 = -5.69 -> -6 -> -.421875.
  // pot: s+ = 2^(floor_log2 5 - 2) = 1 (E8M0 127): 5 is a tie 4|6 -> RNE 4, away 6; 1 -> 1;
  //   2.2 -> 2. s- = 2^(floor_log2 .4 - 2) = 2^-4 (123): -.4/.0625 = -6.4 -> -6 -> -.375.
  const std::vector<float> x = {5, 1, 2.2f, -0.4f};
  const Trip e5 = run("amxfp4:block=4", x, 1, 4);
  EXPECT_EQ(e5.e.scales, (std::vector<uint8_t>{0x3B, 0x2C}));
  EXPECT_EQ(e5.dec, (std::vector<float>{5.25f, 0.875f, 2.625f, -0.375f}));
  const Trip e4 = run("amxfp4:block=4:scale=e4m3", x, 1, 4);
  EXPECT_EQ(e4.e.scales, (std::vector<uint8_t>{0x35, 0x19}));
  EXPECT_EQ(e4.dec, (std::vector<float>{4.875f, 0.8125f, 2.4375f, -0.421875f}));
  const Trip p = run("amxfp4:block=4:scale=pot", x, 1, 4);
  EXPECT_EQ(p.e.scales, (std::vector<uint8_t>{127, 123}));
  EXPECT_EQ(p.dec, (std::vector<float>{4, 1, 2, -0.375f}));
  EXPECT_EQ(p.d.scale_exp, std::vector<int32_t>{-1});      // 2^0 * E2M1 ulp
  EXPECT_EQ(p.d.neg_scale_exp, std::vector<int32_t>{-5});  // 2^-4 * E2M1 ulp
  EXPECT_EQ(p.d.scale_mul, std::vector<float>{1.0f});
  const Trip pa = run("amxfp4:block=4:scale=pot:round=away", x, 1, 4);
  EXPECT_EQ(pa.dec, (std::vector<float>{6, 1, 2, -0.375f}));
}

TEST(Amxfp4Golden, ScaleTieFollowsTheRoundingOption) {
  // max 1.21875: 1.21875 / 6 = .203125 (exact), halfway between the E5M2 values .1875 (1.10b *
  // 2^-3, 0x32) and .21875 (1.11b * 2^-3, 0x33): RNE -> .1875 (even mantissa), away -> .21875.
  // Elements: 1.21875 / .1875 = 6.5 -> saturates to 6 -> 1.125; away: 1.21875 / .21875 = 5.57
  // -> 6 -> 1.3125. The block has no element < 0, so s- = 1.0 (0x3C).
  const Trip e = run("amxfp4:block=2", {1.21875f, 0}, 1, 2);
  EXPECT_EQ(e.e.scales, (std::vector<uint8_t>{0x32, 0x3C}));  // s- unused -> 1.0
  EXPECT_EQ(e.dec, (std::vector<float>{1.125f, 0}));
  const Trip a = run("amxfp4:block=2:round=away", {1.21875f, 0}, 1, 2);
  EXPECT_EQ(a.e.scales, (std::vector<uint8_t>{0x33, 0x3C}));
  EXPECT_EQ(a.dec, (std::vector<float>{1.3125f, 0}));
}

TEST(Amxfp4Golden, ZeroScaleRuleAndSaturation) {
  // All-positive block: no element <= 0 away from zero -> s- = 1.0 (0x3C). All-zero block:
  // both 1.0. Tiny block [1e-6, -2e-6]: 1e-6/6 and 2e-6/6 are below 2^-17 (half E5M2's smallest
  // subnormal) -> both round to 0 -> 1.0; the elements round to 0 (-2e-6 keeps its sign bit:
  // code 8) and decode to +0.
  const Trip r = run("amxfp4:block=2", {1, 6, 0, 0, 1e-6f, -2e-6f}, 1, 6);
  EXPECT_EQ(r.e.scales, std::vector<uint8_t>(6, 0x3C));
  EXPECT_EQ(mxtest::codes4(r.e), (std::vector<uint32_t>{2, 7, 0, 0, 0, 8}));
  EXPECT_TRUE(same_bits(r.dec, {1, 6, 0, 0, 0, 0}));
  // All-negative block [-1 -2]: s+ unused -> 1.0; s- = E5M2(2/6 = .333) -> .3125 (0x35):
  // -1/.3125 = -3.2 -> -3 -> -.9375; -2/.3125 = -6.4 -> -6 -> -1.875.
  const Trip n = run("amxfp4:block=2", {-1, -2}, 1, 2);
  EXPECT_EQ(n.e.scales, (std::vector<uint8_t>{0x3C, 0x35}));
  EXPECT_EQ(n.dec, (std::vector<float>{-0.9375f, -1.875f}));
  // Saturation: [1e6, -1]: 1e6/6 saturates E5M2 at 57344 (0x7B); 1e6/57344 = 17.4 -> 6 ->
  // 344064. s- = E5M2(1/6) -> .15625 (0x31): -1/.15625 = -6.4 -> -6 -> -.9375.
  const Trip s = run("amxfp4:block=2", {1e6f, -1}, 1, 2);
  EXPECT_EQ(s.e.scales, (std::vector<uint8_t>{0x7B, 0x31}));
  EXPECT_EQ(s.dec, (std::vector<float>{344064.0f, -0.9375f}));
  // pot: zero extremes give 2^-127 (code 0), like an all-zero MX block.
  const Trip p = run("amxfp4:block=2:scale=pot", {0, 0, 3, 1}, 1, 4);
  EXPECT_EQ(p.e.scales, (std::vector<uint8_t>{0, 0, 126, 0}));  // 3: floor 1 - 2 = -1
  EXPECT_EQ(p.dec, (std::vector<float>{0, 0, 3, 1}));
  // e4m3 saturates at 448: [3000]: 500 -> 448 (0x7E); 3000/448 = 6.7 -> 6 -> 2688.
  const Trip e4 = run("amxfp4:block=2:scale=e4m3", {3000, 1}, 1, 2);
  EXPECT_EQ(e4.e.scales, (std::vector<uint8_t>{0x7E, 0x38}));
  EXPECT_EQ(e4.dec, (std::vector<float>{2688.0f, 0}));  // 1/448 -> 0
}

TEST(Amxfp4Golden, NanAndInfBlocksPartialBlockAndZeroShapes) {
  // Block 0 holds NaN / Inf: both scales get the scale type's NaN code (0x7F, or 0xFF for
  // E8M0) and the elements 0: the whole block decodes to NaN. Block 1 [3 -1.5 .75]: s+ =
  // E5M2(.5) = .5 (0x38), s- = E5M2(.25) (0x34): 3/.5 = 6, .75/.5 = 1.5, -1.5/.25 = -6, exact.
  for (float bad : {kNaN, kInf, -kInf}) {
    const Trip r = run("amxfp4:block=4", {1, bad, -2, 0, 3, -1.5f, 0.75f}, 1, 7);
    EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{0x7F, 0x7F, 0x38, 0x34}));
    EXPECT_EQ(r.e.elements, (std::vector<uint8_t>{0x00, 0x00, 0xF7, 0x03}));
    mxtest::expect_nan_range(r.dec, 0, 4);
    EXPECT_EQ(std::vector<float>(r.dec.begin() + 4, r.dec.end()),
              (std::vector<float>{3, -1.5f, 0.75f}));
    const Trip p = run("amxfp4:block=4:scale=pot", {1, bad, -2, 0, 3, -1.5f, 0.75f}, 1, 7);
    EXPECT_EQ(p.e.scales[0], 0xFF);
    EXPECT_EQ(p.e.scales[1], 0xFF);
    mxtest::expect_nan_range(p.dec, 0, 4);
    EXPECT_TRUE(std::isnan(decoded_value(p.d, 0, 2)));
  }
  const auto f = make_format("amxfp4");
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{0, 9}, {2, 0}}) {
    std::vector<float> x;
    const EncodedTensor e = f->encode(x.data(), rows, cols);
    EXPECT_TRUE(e.elements.empty());
    EXPECT_TRUE(e.scales.empty());
    f->decode(e, x.data());
    EXPECT_EQ(f->decode_operand(e).cols, cols);
  }
}

TEST(Amxfp4Dot, FourSignCombinationsByHand) {
  // Block of 4 (E5M2 scales).
  // A = [3 -2 1.5 -.5]: s+ = E5M2(3/6 = .5) = .5; s- = E5M2(2/6 = .333) -> .3125 (step 2^-4
  //   in [.25, .5)); P (E2M1) = [3/.5 = 6, -2/.3125 = -6.4 -> -6, 1.5/.5 = 3,
  //   -.5/.3125 = -1.6 -> -1.5] -> A' = [3, -1.875, 1.5, -.46875].
  // B = [1 1 -4 -1]: s+ = E5M2(1/6 = .1667) -> .15625 (step 2^-5 in [.125, .25)); s- =
  //   E5M2(4/6 = .667) -> .625 (step 2^-3 in [.5, 1)); P = [6.4 -> 6, 6, -6.4 -> -6,
  //   -1.6 -> -1.5] -> B' = [.9375, .9375, -3.75, -.9375].
  // The MAC keeps one integer sum per sign pair, in E2M1 units (2 P, ulp 2^-1):
  //   (+,+) k=0: 12 * 12 = 144     -> 144 * 2^-2 * .5 * .15625     =  2.8125
  //   (-,+) k=1: -12 * 12 = -144   -> -144 * 2^-2 * .3125 * .15625 = -1.7578125
  //   (+,-) k=2: 6 * -12 = -72     -> -72 * 2^-2 * .5 * .625       = -5.625
  //   (-,-) k=3: -3 * -3 = 9       -> 9 * 2^-2 * .3125 * .625      =  .439453125
  //   total -4.130859375 (= sum of A'_k B'_k; every step exact in FP32).
  const Trip a = run("amxfp4:block=4", {3, -2, 1.5f, -0.5f}, 1, 4);
  const Trip b = run("amxfp4:block=4", {1, 1, -4, -1}, 1, 4);
  EXPECT_EQ(a.e.scales, (std::vector<uint8_t>{0x38, 0x35}));
  EXPECT_EQ(b.e.scales, (std::vector<uint8_t>{0x31, 0x39}));
  EXPECT_EQ(a.dec, (std::vector<float>{3, -1.875f, 1.5f, -0.46875f}));
  EXPECT_EQ(b.dec, (std::vector<float>{0.9375f, 0.9375f, -3.75f, -0.9375f}));
  int64_t sums[2][2] = {{0, 0}, {0, 0}};
  for (int k = 0; k < 4; ++k) {
    const int64_t pa = static_cast<int64_t>(a.d.mant[k]) * (int64_t{1} << a.d.shift[k]);
    const int64_t pb = static_cast<int64_t>(b.d.mant[k]) * (int64_t{1} << b.d.shift[k]);
    sums[pa < 0][pb < 0] += pa * pb;
  }
  EXPECT_EQ(sums[0][0], 144);
  EXPECT_EQ(sums[1][0], -144);
  EXPECT_EQ(sums[0][1], -72);
  EXPECT_EQ(sums[1][1], 9);
  EXPECT_EQ(reference_dot(a.d, 0, b.d, 0), -4.130859375f);
  EXPECT_EQ(reference_matmul(a.d, b.d), std::vector<float>{-4.130859375f});
}

TEST(Amxfp4Storage, FourAndAHalfBitsAtBlock32) {
  const auto x = testing::outlier_matrix(4, 64, 8);
  for (const char* s : {"amxfp4", "amxfp4:scale=e4m3", "amxfp4:scale=pot"}) {
    const Trip r = run(s, x, 4, 64);
    EXPECT_EQ(r.e.bits_per_element(), 4.5) << s;
    EXPECT_EQ(r.e.scales.size(), 16u);
  }
}

TEST(Amxfp4Edge, MalformedEncodings) {
  const auto f = make_format("amxfp4:block=8");
  const auto x = testing::outlier_matrix(2, 20, 9);
  const EncodedTensor good = f->encode(x.data(), 2, 20);
  std::vector<float> out(40);
  EncodedTensor e = good;
  e.format = "amxfp4:block=8:round=even:scale=pot";
  EXPECT_THROW(f->decode(e, out.data()), Error);
  e = good;
  e.scales.pop_back();
  EXPECT_NE(error_of([&] { f->decode(e, out.data()); }).find("s+ and s-"), std::string::npos);
  e = good;
  e.elements.pop_back();
  EXPECT_THROW(f->decode_operand(e), Error);
  e = good;
  e.fp32 = {1};
  EXPECT_THROW(f->decode(e, out.data()), Error);
  // E5M2 Inf as a scale (never produced): Inf values, NaN for zeros, and the hardware view
  // agrees bit for bit.
  e = good;
  e.scales[0] = 0x7C;
  f->decode(e, out.data());
  const DecodedTensor d = f->decode_operand(e);
  for (int64_t i = 0; i < 40; ++i) {
    EXPECT_EQ(bits_of(decoded_value(d, i / 20, i % 20)), bits_of(out[i])) << i;
  }
}

TEST(Amxfp4Invariants, EveryScaleBlockAndRounding) {
  for (const char* scale : {"e5m2", "e4m3", "pot"}) {
    for (int block : {32, 16, 7, 2}) {
      for (const char* round : {"even", "away"}) {
        const auto f = make_format(std::string("amxfp4:scale=") + scale +
                                   ":block=" + std::to_string(block) + ":round=" + round);
        const auto x = testing::outlier_matrix(5, 70, 41);
        testing::check_codec_invariants(*f, x, 5, 70);
        testing::check_codec_invariants(*f, testing::extreme_matrix(70, 42), 4, 70);
        auto xn = x;
        xn[1] = kNaN;
        xn[99] = -kInf;
        testing::check_codec_invariants(*f, xn, 5, 70);
        const auto w = testing::outlier_matrix(4, 70, 43);
        testing::check_matmul_invariant(*f, x, 5, w, 4, 70);
      }
    }
  }
}

}  // namespace
}  // namespace qarch::quant
