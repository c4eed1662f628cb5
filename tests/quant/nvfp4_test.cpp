// NVFP4 (quant/src/nvfp4_format.cpp): every E2M1 code through known block / tensor scales;
// golden vectors worked out by hand from the specs/formats.md recipe (ties under both roundings
// in the elements and in the E4M3 block scale, saturation, a block scale that rounds to an E4M3
// subnormal or to 0, amax = 0 tensors, the S_enc clamp for tiny tensors, NaN/Inf blocks, packed
// nibbles, partial blocks, zero-size tensors); storage; malformed encodings; the invariants.
#include <gtest/gtest.h>

#include <cfloat>
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

TEST(Nvfp4Format, CanonicalNamesAndOptions) {
  EXPECT_EQ(make_format("nvfp4")->name(), "nvfp4:block=16:round=even");
  EXPECT_EQ(make_format("nvfp4:round=away:block=32")->name(), "nvfp4:block=32:round=away");
  EXPECT_THROW(make_format("nvfp4:block=1"), Error);
  EXPECT_THROW(make_format("nvfp4:block=2048"), Error);
  EXPECT_THROW(make_format("nvfp4:round=zero"), Error);
  EXPECT_THROW(make_format("nvfp4:scale=e5m2"), Error);
}

TEST(Nvfp4Exhaustive, EveryE2M1CodeThroughKnownScales) {
  // value = (e2m1(code) * s_b) / S_enc: the product is exact, so the FP32 result is the
  // quotient rounded once (computing it in double and rounding to float gives the same, as
  // double carries more than 2 * 24 + 2 bits). Zero codes (0 and -0) decode to +0.
  const auto f = make_format("nvfp4");
  std::vector<uint32_t> all(16);
  for (uint32_t c = 0; c < 16; ++c) all[c] = c;
  for (uint8_t sc : {uint8_t{0x38}, uint8_t{0x76}, uint8_t{0x01}, uint8_t{0x7E}, uint8_t{0x69}}) {
    for (float s_enc : {1.0f, 448.0f, 384.0f, 3.0f, 1e30f, 2688.0f / 7.0f}) {
      SCOPED_TRACE("scale code " + std::to_string(sc) + ", S_enc " + std::to_string(s_enc));
      EncodedTensor e;
      e.format = f->name();
      e.rows = 1;
      e.cols = 16;
      e.elements = pack_codes(all, 1, 16, 4);
      e.scales = {sc};
      e.fp32 = {s_enc};
      std::vector<float> out(16);
      f->decode(e, out.data());
      const double s_b = fp_decode(kE4M3, sc);
      const DecodedTensor d = f->decode_operand(e);
      EXPECT_EQ(d.tensor_divisor, s_enc);
      EXPECT_EQ(d.scale_exp[0], -1);
      EXPECT_EQ(d.scale_mul[0], static_cast<float>(s_b));
      for (uint32_t c = 0; c < 16; ++c) {
        const double mag = mxtest::kE2M1Mag[c & 7];
        const double v = (c & 8) ? -mag : mag;
        const float want = static_cast<float>(v * s_b / s_enc);
        EXPECT_EQ(bits_of(out[c]), bits_of(want == 0.0f ? 0.0f : want)) << "code " << c;
        EXPECT_EQ(bits_of(decoded_value(d, 0, c)), bits_of(out[c])) << "code " << c;
      }
    }
  }
  // E4M3 NaN scale codes give a NaN block.
  EncodedTensor e;
  e.format = f->name();
  e.rows = 1;
  e.cols = 16;
  e.elements = pack_codes(all, 1, 16, 4);
  e.scales = {0x7F};
  e.fp32 = {1.0f};
  std::vector<float> out(16);
  f->decode(e, out.data());
  mxtest::expect_nan_range(out, 0, 16);
}

TEST(Nvfp4Golden, ThreeBlocksTiesAndInexactScale) {
  // Tensor amax 6 -> S_enc = 2688 / 6 = 448 (exact).
  // Block 0, amax 6: s_b = E4M3(6 * 448 / 6) = 448 (0x7E), q = E2M1(x * 448 / 448) = E2M1(x):
  //   ties 5 (4|6), 2.5 (2|3), 0.25 (0|.5), 0.75 (.5|1), -1.25, 1.75, -3.5 as in MXFP4; RNE
  //   codes 7 6 4 0 2 A 4 E, then 0 -> 0, -0 -> 8, 1 -> 2, .5 -> 1, 3 -> 5, -6 -> F, 4 -> 6,
  //   1.5 -> 3; decode (e2m1 * 448) / 448 = e2m1.
  // Block 1, amax 3: s_b = E4M3(3 * 448 / 6 = 224) = 224 = 1.75 * 2^7 (0x76); q = E2M1(2x):
  //   2x = 6 -6 2.5 1.25 .75 .25 5.5 -3.5 .5 -> RNE 6 -6 2 1 1 0 6 -4 .5; decode e2m1 / 2.
  // Block 2, amax 1: s_b = E4M3(448 / 6 = 74.67) -> 72 (0x69; step 8 in [64, 128));
  //   q = E2M1(x * 448 / 72): 1 -> 6.22 -> 6; .5 -> 3.11 -> 3; -.25 -> -1.56 -> -1.5;
  //   .1 -> .62 -> .5; -1 -> -6; decode (e2m1 * 72) / 448.
  std::vector<float> x = {6, 5,     2.5f, 0.25f, 0.75f, -1.25f, 1.75f, -3.5f,
                          0, -0.0f, 1,    0.5f,  3,     -6,     4,     1.5f};
  const std::vector<float> b1 = {3, -3, 1.25f, 0.625f, 0.375f, 0.125f, 2.75f, -1.75f, 0.25f};
  x.insert(x.end(), b1.begin(), b1.end());
  x.resize(32, 0.0f);
  const std::vector<float> b2 = {1, 0.5f, -0.25f, 0.1f, -1};
  x.insert(x.end(), b2.begin(), b2.end());
  x.resize(48, 0.0f);
  const Trip e = run("nvfp4", x, 1, 48);
  ASSERT_EQ(e.e.fp32.size(), 1u);
  EXPECT_EQ(e.e.fp32[0], 448.0f);
  EXPECT_EQ(e.e.scales, (std::vector<uint8_t>{0x7E, 0x76, 0x69}));
  const auto codes = mxtest::codes4(e.e);
  EXPECT_EQ(std::vector<uint32_t>(codes.begin(), codes.begin() + 16),
            (std::vector<uint32_t>{7, 6, 4, 0, 2, 0xA, 4, 0xE, 0, 8, 2, 1, 5, 0xF, 6, 3}));
  EXPECT_EQ(std::vector<uint32_t>(codes.begin() + 16, codes.begin() + 25),
            (std::vector<uint32_t>{7, 0xF, 4, 2, 2, 0, 7, 0xE, 1}));
  EXPECT_EQ(std::vector<uint32_t>(codes.begin() + 32, codes.begin() + 37),
            (std::vector<uint32_t>{7, 5, 0xB, 1, 0xF}));
  // Packed: element 2k in the low nibble.
  EXPECT_EQ(std::vector<uint8_t>(e.e.elements.begin(), e.e.elements.begin() + 8),
            (std::vector<uint8_t>{0x67, 0x04, 0xA2, 0xE4, 0x80, 0x12, 0xF5, 0x36}));
  std::vector<float> want = {6, 4, 2, 0, 1, -1, 2, -4, 0, 0, 1, 0.5f, 3, -6, 4, 1.5f};
  const std::vector<float> w1 = {3, -3, 1, 0.5f, 0.5f, 0, 3, -2, 0.25f};
  want.insert(want.end(), w1.begin(), w1.end());
  want.resize(32, 0.0f);
  const std::vector<float> w2 = {432.0f / 448.0f, 216.0f / 448.0f, -108.0f / 448.0f, 36.0f / 448.0f,
                                 -432.0f / 448.0f};
  want.insert(want.end(), w2.begin(), w2.end());
  want.resize(48, 0.0f);
  EXPECT_TRUE(same_bits(e.dec, want));
  // Half away: block 0 ties 5 -> 6, 2.5 -> 3, .25 -> .5, -1.25 -> -1.5; block 1 2.5 -> 3
  // (1.5), 1.25 -> 1.5 (.75), .25 -> .5 (.25); block 2 has no ties.
  const Trip a = run("nvfp4:round=away", x, 1, 48);
  EXPECT_EQ(a.e.scales, e.e.scales);
  const auto ac = mxtest::codes4(a.e);
  EXPECT_EQ(std::vector<uint32_t>(ac.begin(), ac.begin() + 8),
            (std::vector<uint32_t>{7, 7, 5, 1, 2, 0xB, 4, 0xE}));
  EXPECT_EQ(std::vector<uint32_t>(ac.begin() + 16, ac.begin() + 25),
            (std::vector<uint32_t>{7, 0xF, 5, 3, 2, 1, 7, 0xE, 1}));
  EXPECT_EQ(std::vector<float>(a.dec.begin() + 16, a.dec.begin() + 25),
            (std::vector<float>{3, -3, 1.5f, 0.75f, 0.5f, 0.25f, 3, -2, 0.25f}));
}

TEST(Nvfp4Golden, BlockScaleTieFollowsTheRoundingOption) {
  // Tensor amax 2688 -> S_enc = 1. Block 0 = [2688, 0...]: s_b = E4M3(448) (0x7E), q = 6.
  // Block 1 amax 408: s_b = E4M3(408 / 6 = 68), halfway between 64 (0x68) and 72 (0x69):
  //   RNE -> 64 (even mantissa): 408 / 64 = 6.375 -> 6 -> 384; 96 / 64 = 1.5 -> 96.
  //   away -> 72: 408 / 72 = 5.67 -> 6 -> 432; 96 / 72 = 1.33 -> 1.5 -> 108.
  std::vector<float> x(32, 0.0f);
  x[0] = 2688;
  x[16] = 408;
  x[17] = 96;
  const Trip e = run("nvfp4", x, 1, 32);
  EXPECT_EQ(e.e.fp32[0], 1.0f);
  EXPECT_EQ(e.e.scales, (std::vector<uint8_t>{0x7E, 0x68}));
  EXPECT_EQ(e.dec[0], 2688.0f);
  EXPECT_EQ(e.dec[16], 384.0f);
  EXPECT_EQ(e.dec[17], 96.0f);
  const Trip a = run("nvfp4:round=away", x, 1, 32);
  EXPECT_EQ(a.e.scales, (std::vector<uint8_t>{0x7E, 0x69}));
  EXPECT_EQ(a.dec[16], 432.0f);
  EXPECT_EQ(a.dec[17], 108.0f);
}

TEST(Nvfp4Golden, SubnormalAndZeroBlockScales) {
  // Tensor amax 6 -> S_enc 448. Block 1 amax 2^-14: s_b = E4M3(2^-14 * 448 / 6 = 0.004557),
  //   an E4M3 subnormal (step 2^-9): 2.33 steps -> code 2 = 2^-8; q = E2M1(2^-14 * 448 / 2^-8)
  //   = E2M1(7) -> saturates to 6 (code 7); decode (6 * 2^-8) / 448.
  // Block 2 amax 1e-6: s_b = E4M3(7.5e-5) = 0 (below 2^-10, half the smallest subnormal): the
  //   whole block is stored as code 0 and decodes to 0.
  std::vector<float> x(48, 0.0f);
  x[0] = 6;
  x[16] = 0x1p-14f;
  x[17] = -0x1p-15f;  // 3.5 -> tie 3|4 -> 4 (RNE, even code 6): -(4 * 2^-8) / 448
  x[32] = 1e-6f;
  x[33] = -1e-6f;
  const Trip e = run("nvfp4", x, 1, 48);
  EXPECT_EQ(e.e.fp32[0], 448.0f);
  EXPECT_EQ(e.e.scales, (std::vector<uint8_t>{0x7E, 0x02, 0x00}));
  const auto codes = mxtest::codes4(e.e);
  EXPECT_EQ(codes[16], 7u);
  EXPECT_EQ(codes[17], 0xEu);
  EXPECT_EQ(codes[32], 0u);
  EXPECT_EQ(codes[33], 0u);
  EXPECT_EQ(e.dec[16], (6.0f * 0x1p-8f) / 448.0f);
  EXPECT_EQ(e.dec[17], -(4.0f * 0x1p-8f) / 448.0f);
  EXPECT_EQ(bits_of(e.dec[32]), 0u);
  EXPECT_EQ(bits_of(e.dec[33]), 0u);
  EXPECT_EQ(e.d.scale_mul[2], 0.0f);
}

TEST(Nvfp4Golden, AllZeroTensorAndZeroShapes) {
  // amax = 0 -> S_enc = 1; every block scale E4M3(0) = 0; every element 0; decodes to +0.
  const std::vector<float> z = {0, -0.0f, 0, 0, 0, 0, 0, 0, 0, 0, -0.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const Trip r = run("nvfp4", z, 2, 10);
  EXPECT_EQ(r.e.fp32, std::vector<float>{1.0f});
  EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{0, 0}));
  for (uint8_t b : r.e.elements) EXPECT_EQ(b, 0);
  EXPECT_TRUE(same_bits(r.dec, std::vector<float>(20, 0.0f)));
  const auto f = make_format("nvfp4");
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{0, 7}, {4, 0}, {0, 0}}) {
    std::vector<float> x;
    const EncodedTensor e = f->encode(x.data(), rows, cols);
    EXPECT_TRUE(e.elements.empty());
    EXPECT_TRUE(e.scales.empty());
    EXPECT_EQ(e.fp32, std::vector<float>{1.0f});
    f->decode(e, x.data());
    f->quantize(x.data(), rows, cols, x.data());
    EXPECT_EQ(f->decode_operand(e).rows, rows);
  }
}

TEST(Nvfp4Golden, TinyTensorClampsSencToFltMax) {
  // amax 1e-37: 2688 / 1e-37 overflows FP32, so S_enc = FLT_MAX. Then x * S_enc = 34.03,
  // s_b = E4M3(34.03 / 6 = 5.67) = 5.5, q = E2M1(34.03 / 5.5 = 6.19) = 6, decode
  // (6 * 5.5) / FLT_MAX = 9.70e-38 (3% low); -5e-38 -> -17.01 / 5.5 = -3.09 -> -3.
  // An FP32-subnormal tensor keeps working the same way.
  const Trip r = run("nvfp4", {1e-37f, -5e-38f}, 1, 2);
  EXPECT_EQ(r.e.fp32[0], FLT_MAX);
  EXPECT_EQ(r.e.scales, std::vector<uint8_t>{0x4B});  // 5.5 = 1.375 * 4: exp 9, mant 011
  EXPECT_EQ(r.dec[0], (6.0f * 5.5f) / FLT_MAX);
  EXPECT_EQ(r.dec[1], (-3.0f * 5.5f) / FLT_MAX);
  const Trip s = run("nvfp4", {1e-40f, 3e-41f}, 1, 2);
  EXPECT_EQ(s.e.fp32[0], FLT_MAX);
  EXPECT_NEAR(s.dec[0], 1e-40f, 0.1e-40f);
  EXPECT_GT(s.dec[1], 0.0f);
}

TEST(Nvfp4Golden, NanAndInfBlocks) {
  // Block 0 holds Inf (and NaN in the second tensor): scale code 0x7F (E4M3 NaN), codes 0, all
  // NaN. amax over the finite values is 3 -> S_enc = 896; block 1: s_b = E4M3(3 * 896 / 6 =
  // 448), q = E2M1(2x), decode (e2m1 * 448) / 896 = e2m1 / 2: 3 -> 3, 1.5 -> 1.5, -.75 -> -.75.
  for (float bad : {kInf, -kInf, kNaN}) {
    std::vector<float> x(32, 0.0f);
    x[0] = 1;
    x[1] = bad;
    x[2] = 2;
    x[16] = 3;
    x[17] = 1.5f;
    x[18] = -0.75f;
    const Trip r = run("nvfp4", x, 1, 32);
    EXPECT_EQ(r.e.fp32[0], 896.0f);
    EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{0x7F, 0x7E}));
    for (int i = 0; i < 8; ++i) EXPECT_EQ(r.e.elements[i], 0);
    mxtest::expect_nan_range(r.dec, 0, 16);
    EXPECT_EQ(r.dec[16], 3.0f);
    EXPECT_EQ(r.dec[17], 1.5f);
    EXPECT_EQ(r.dec[18], -0.75f);
    EXPECT_TRUE(std::isnan(decoded_value(r.d, 0, 5)));
  }
}

TEST(Nvfp4Golden, PartialLastBlock) {
  // cols 20, block 16: the last block holds 4 elements with its own scale. Tensor amax 6
  // (S_enc 448): block 0 amax 6 -> 448; block 1 [1.5 -.75 .375 0] amax 1.5 -> E4M3(112) = 112
  // (0x6E), q = E2M1(x * 4): 6 -3 1.5 0, decode (e2m1 * 112) / 448 = e2m1 / 4 -> exact.
  std::vector<float> x(20, 0.0f);
  x[0] = 6;
  x[16] = 1.5f;
  x[17] = -0.75f;
  x[18] = 0.375f;
  const Trip r = run("nvfp4", x, 1, 20);
  EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{0x7E, 0x6E}));
  EXPECT_EQ(r.e.elements.size(), 10u);
  EXPECT_EQ(r.e.elements[8], 0xD7);  // codes 7 (6) and D (-3)
  EXPECT_EQ(r.e.elements[9], 0x03);  // 1.5, 0
  EXPECT_EQ(r.dec, x);
}

TEST(Nvfp4Storage, FourAndAHalfBitsPlusTheTensorScale) {
  const auto x = testing::outlier_matrix(64, 1024, 5);
  const Trip r = run("nvfp4", x, 64, 1024);
  EXPECT_EQ(r.e.elements.size(), 64u * 512u);
  EXPECT_EQ(r.e.scales.size(), 64u * 64u);
  EXPECT_EQ(r.e.fp32.size(), 1u);
  EXPECT_DOUBLE_EQ(r.e.bits_per_element(), 4.5 + 32.0 / (64 * 1024));
}

TEST(Nvfp4Edge, MalformedEncodings) {
  const auto f = make_format("nvfp4");
  const auto x = testing::outlier_matrix(3, 40, 6);
  const EncodedTensor good = f->encode(x.data(), 3, 40);
  std::vector<float> out(120);
  {
    EncodedTensor e = good;
    e.format = "nvfp4:block=32:round=even";
    EXPECT_THROW(f->decode(e, out.data()), Error);
  }
  {
    EncodedTensor e = good;
    e.fp32.clear();
    EXPECT_NE(error_of([&] { f->decode(e, out.data()); }).find("tensor scale"), std::string::npos);
    e.fp32 = {1, 2};
    EXPECT_THROW(f->decode_operand(e), Error);
  }
  {
    EncodedTensor e = good;
    e.scales.pop_back();
    EXPECT_THROW(f->decode(e, out.data()), Error);
    e = good;
    e.elements.push_back(0);
    EXPECT_THROW(f->decode(e, out.data()), Error);
    e = good;
    e.indices = {1};
    EXPECT_THROW(f->decode(e, out.data()), Error);
  }
  {
    // S_enc = 0 from a file: the decode formula gives +-Inf (or NaN for zero codes), and the
    // hardware view agrees bit for bit.
    EncodedTensor e = good;
    e.fp32[0] = 0.0f;
    f->decode(e, out.data());
    const DecodedTensor d = f->decode_operand(e);
    for (int64_t i = 0; i < 120; ++i) {
      EXPECT_FALSE(std::isfinite(out[i])) << i;
      EXPECT_EQ(bits_of(decoded_value(d, i / 40, i % 40)), bits_of(out[i])) << i;
    }
  }
}

TEST(Nvfp4Invariants, EveryBlockAndRounding) {
  for (int block : {16, 32, 7, 2}) {
    for (const char* round : {"even", "away"}) {
      const auto f =
          make_format("nvfp4:block=" + std::to_string(block) + ":round=" + std::string(round));
      const auto x = testing::outlier_matrix(5, 70, 31);
      testing::check_codec_invariants(*f, x, 5, 70);
      testing::check_codec_invariants(*f, testing::extreme_matrix(70, 32), 4, 70);
      // A moderately scaled tensor (no block flushed to zero) and one with NaN / Inf blocks.
      auto xs = x;
      for (auto& v : xs) v *= 1e-3f;
      testing::check_codec_invariants(*f, xs, 5, 70);
      auto xn = x;
      xn[10] = kNaN;
      xn[100] = kInf;
      testing::check_codec_invariants(*f, xn, 5, 70);
      const auto w = testing::outlier_matrix(4, 70, 33);
      testing::check_matmul_invariant(*f, x, 5, w, 4, 70);
    }
  }
}

}  // namespace
}  // namespace qarch::quant
