// Block floating point (bfp, bfp12/16, msfp12/16) and shared-microexponent MX4/MX6/MX9
// (quant/src/bfp_formats.cpp): hand-derived golden vectors (ties, saturation, all-zero,
// subnormal and huge blocks, partial blocks), exhaustive decode and re-encode of every element
// code, the QSNR reference checks of specs/formats.md, storage sizes, errors, and the universal
// invariants for every option combination. Also the internal row packers and the exact FP32
// round-to-integer they all rely on.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../../quant/src/intbfp_kernels.h"  // internal helpers under test
#include "intbfp_test_util.h"
#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"

namespace qarch::quant {
namespace {

using testing::bits_of;
using testing::error_of;
using testing::Result;
using testing::run;
using testing::same_bits;

// p-bit sign-magnitude code of a signed integer m.
uint32_t sm(int m, int p) {
  return m < 0 ? (1u << (p - 1)) | static_cast<uint32_t>(-m) : static_cast<uint32_t>(m);
}

std::vector<uint8_t> packed_sm(const std::vector<int>& m, int p) {
  std::vector<uint32_t> codes;
  for (int v : m) codes.push_back(sm(v, p));
  return pack_codes(codes, 1, static_cast<int64_t>(codes.size()), p);
}

// ---------------------------------------------------------------------------------------------
// Names, aliases, options.

TEST(BfpFormat, NamesAndAliases) {
  EXPECT_EQ(make_format("bfp")->name(), "bfp:block=16:p=8:round=even");
  EXPECT_EQ(make_format("bfp12")->name(), "bfp:block=16:p=4:round=even");
  EXPECT_EQ(make_format("bfp16")->name(), "bfp:block=16:p=8:round=even");
  // MSFP12/16 are the same arithmetic as BFP12/16 (see bfp_formats.cpp): same canonical name.
  EXPECT_EQ(make_format("msfp12")->name(), "bfp:block=16:p=4:round=even");
  EXPECT_EQ(make_format("msfp16:round=away")->name(), "bfp:block=16:p=8:round=away");
  EXPECT_EQ(make_format("bfp12:block=64")->name(), "bfp:block=64:p=4:round=even");
  EXPECT_EQ(make_format("bfp:p=16:block=1024")->name(), "bfp:block=1024:p=16:round=even");
  EXPECT_EQ(make_format("mx4")->name(), "mx4:round=even");
  EXPECT_EQ(make_format("mx9:round=away")->name(), "mx9:round=away");
}

TEST(BfpFormat, RejectsBadOptions) {
  EXPECT_NE(error_of([] { make_format("bfp:p=2"); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([] { make_format("bfp:p=17"); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([] { make_format("bfp:block=1"); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([] { make_format("bfp:block=1025"); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_format("bfp12:p=8"); }).find("unknown option 'p'"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_format("msfp12:block=32"); }).find("unknown option 'block'"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_format("mx6:block=32"); }).find("unknown option"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_format("mx9:round=down"); }).find("round"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// BFP golden vectors (formats.md: e = floor(log2 amax), m = round(x / 2^(e-(p-2))) clamped to
// +-(2^(p-1)-1)).

TEST(BfpGolden, Bfp12FourBlocks) {
  // cols = 53: three full blocks of 16 and a partial block of 5.
  std::vector<float> x(53, 0.0f);
  // Block A: amax |-1.99| -> e = 0, step 2^(0-2) = 0.25, clamp 7.
  //   1.9 -> 7.6 -> 8 -> clamp 7 (1.75)     0.3 -> 1.2 -> 1     -0.2 -> -0.8 -> -1
  //   0.0625 -> 0.25 -> 0                   0.625 -> 2.5: RNE 2, away 3
  //   -0.375 -> -1.5 -> -2 (both)           -1.99 -> -7.96 -> -8 -> clamp -7 (-1.75)
  //   1.125 -> 4.5: RNE 4, away 5           0.125 -> 0.5: RNE 0, away 1
  const float a[9] = {1.9f, 0.3f, -0.2f, 0.0625f, 0.625f, -0.375f, -1.99f, 1.125f, 0.125f};
  std::copy(a, a + 9, x.begin());
  // Block B: amax 7.9 -> e = 2, step 1, clamp 7: -6 -> -6; 0.75 -> 1; 2.5: RNE 2, away 3;
  //   7.9 -> 8 -> clamp 7.
  const float b[4] = {-6, 0.75f, 2.5f, 7.9f};
  std::copy(b, b + 4, x.begin() + 16);
  // Block C (32..47): all zero -> E = 0, codes 0.
  // Block D (48..52, partial): amax 3 * 2^-130 < 2^-127 (FP32 subnormal) -> e clamped to -127,
  //   step 2^-129: 2^-130 -> 0.5: RNE 0, away 1; 3 * 2^-130 -> 1.5 -> 2; -2^-129 -> -1;
  //   2^-135 -> 1/64 -> 0; 0.
  const float d[5] = {std::ldexp(1.0f, -130), std::ldexp(3.0f, -130), -std::ldexp(1.0f, -129),
                      std::ldexp(1.0f, -135), 0.0f};
  std::copy(d, d + 5, x.begin() + 48);
  for (const bool away : {false, true}) {
    SCOPED_TRACE(away ? "away" : "even");
    const Result r = run(away ? "bfp12:round=away" : "bfp12", x, 1, 53);
    std::vector<int> m(53, 0);
    const int ma[9] = {7, 1, -1, 0, away ? 3 : 2, -2, -7, away ? 5 : 4, away ? 1 : 0};
    const int mb[4] = {-6, 1, away ? 3 : 2, 7};
    const int md[5] = {away ? 1 : 0, 2, -1, 0, 0};
    std::copy(ma, ma + 9, m.begin());
    std::copy(mb, mb + 4, m.begin() + 16);
    std::copy(md, md + 5, m.begin() + 48);
    EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{127, 129, 0, 0}));
    EXPECT_EQ(r.e.elements, packed_sm(m, 4));
    EXPECT_TRUE(r.e.fp32.empty());
    const int e_of_block[4] = {0, 2, -127, -127};
    std::vector<float> want(53);
    for (int i = 0; i < 53; ++i)
      want[i] = std::ldexp(static_cast<float>(m[i]), e_of_block[i / 16] - 2);
    EXPECT_TRUE(same_bits(r.dec, want));
    // Hardware view: mant = m, shift 0, scale_exp = e - (p-2) per block of 16.
    EXPECT_EQ(r.d.group_rows, 1);
    EXPECT_EQ(r.d.group_cols, 16);
    EXPECT_EQ(r.d.scale_exp, (std::vector<int32_t>{-2, 0, -129, -129}));
    EXPECT_EQ(r.d.mant, std::vector<int32_t>(m.begin(), m.end()));
    EXPECT_EQ(r.d.shift, std::vector<uint8_t>(53, 0));
  }
}

TEST(BfpGolden, Bfp16TiesSaturationAndHugeBlock) {
  // Block 0: amax 3.99 -> e = 1, step 2^(1-6) = 1/32, clamp 127.
  //   3.0 -> 96; 3.99 -> 127.68 -> 128 -> clamp 127 (3.96875); 1/64 -> 0.5: RNE 0, away 1;
  //   3/64 -> 1.5 -> 2; -0.1 -> -3.2 -> -3; -5/64 -> -2.5: RNE -2, away -3.
  // Block 1: amax 1.5 * 2^127 -> e = 127 (E = 254), step 2^121: 1.5 * 2^127 -> 96,
  //   -2^126 -> -32, 2^100 -> 2^-21 -> 0.
  std::vector<float> x(32, 0.0f);
  const float b0[6] = {3.0f, 3.99f, 1.0f / 64, 3.0f / 64, -0.1f, -5.0f / 64};
  std::copy(b0, b0 + 6, x.begin());
  x[16] = std::ldexp(1.5f, 127);
  x[17] = -std::ldexp(1.0f, 126);
  x[18] = std::ldexp(1.0f, 100);
  for (const bool away : {false, true}) {
    SCOPED_TRACE(away ? "away" : "even");
    const Result r = run(away ? "bfp16:round=away" : "bfp16", x, 1, 32);
    std::vector<int> m(32, 0);
    const int m0[6] = {96, 127, away ? 1 : 0, 2, -3, away ? -3 : -2};
    std::copy(m0, m0 + 6, m.begin());
    m[16] = 96;
    m[17] = -32;
    EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{128, 254}));
    EXPECT_EQ(r.e.elements, packed_sm(m, 8));  // e.g. -3 -> 0x83
    std::vector<float> want(32);
    for (int i = 0; i < 32; ++i) want[i] = std::ldexp(static_cast<float>(m[i]), i < 16 ? -5 : 121);
    EXPECT_TRUE(same_bits(r.dec, want));
    EXPECT_EQ(r.dec[1], 3.96875f);
  }
}

TEST(BfpGolden, MsfpEqualsBfpAndBlockSizes) {
  const auto x = testing::outlier_matrix(8, 160, 11);
  const Result a = run("msfp12", x, 8, 160), b = run("bfp:p=4", x, 8, 160);
  EXPECT_TRUE(testing::same_encoding(a.e, b.e));
  // block=32: one exponent per 32 elements; the 2nd element's step follows the 32-block max.
  std::vector<float> y(32, 0.0f);
  y[0] = 0.3f;   // alone in its 16-block: e = -2, step 1/16 -> 4.8 -> 5 (0.3125)
  y[20] = 1.0f;  // 32-block: e = 0, step 0.25: 0.3 -> 1.2 -> 1 (0.25)
  EXPECT_EQ(run("bfp12", y, 1, 32).dec[0], 0.3125f);
  EXPECT_EQ(run("bfp12:block=32", y, 1, 32).dec[0], 0.25f);
}

// ---------------------------------------------------------------------------------------------
// MX golden vectors. Rule: e = floor(log2 amax) of 16; pair microexponent u = 1 iff both
// |x| < 2^e; grid 2^(e - u - (p-2)); round; clamp to +-(2^(p-1)-1). Codes sign-magnitude.
// Hardware view: shift = 1 - u, scale_exp = e - (p-1).

TEST(MxGolden, Mx4) {
  // e = 0 (amax 1.5). Unshifted step 2^(0-1) = 0.5, shifted 0.25, clamp 3.
  //  pair0 (1.5, 0.3)   u=0: 3, 0.6 -> 1          pair1 (0.7, 0.2)  u=1: 2.8 -> 3, 0.8 -> 1
  //  pair2 (0.9, 0.95)  u=1: 3.6, 3.8 -> 4 -> clamp 3, 3
  //  pair3 (0.625,-0.1) u=1: 2.5 -> RNE 2 / away 3, -0.4 -> 0
  //  pair4 (-1.25, 0.5) u=0: -2.5 -> RNE -2 / away -3, 1
  //  pair5 (0, 0)       u=1 (zero is below 2^e)   pair6 (0.375, 0) u=1: 1.5 -> 2, 0
  //  pair7 (1.0, -0.49) u=0 (1.0 = 2^e is not below): 2, -0.98 -> -1
  // u bits = pairs 1,2,3,5,6 = 0x6E.
  const std::vector<float> x = {1.5f,   0.3f, 0.7f, 0.2f, 0.9f,   0.95f, 0.625f, -0.1f,
                                -1.25f, 0.5f, 0,    0,    0.375f, 0,     1.0f,   -0.49f};
  for (const bool away : {false, true}) {
    SCOPED_TRACE(away ? "away" : "even");
    const Result r = run(away ? "mx4:round=away" : "mx4", x, 1, 16);
    const std::vector<int> m = {3, 1, 3, 1, 3, 3, away ? 3 : 2, 0, away ? -3 : -2, 1,
                                0, 0, 2, 0, 2, -1};
    const std::vector<int> u = {0, 1, 1, 1, 0, 1, 1, 0};
    EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{127, 0x6E}));
    EXPECT_EQ(r.e.elements, packed_sm(m, 3));
    std::vector<float> want(16);
    for (int i = 0; i < 16; ++i) want[i] = m[i] * (u[i / 2] ? 0.25f : 0.5f);
    EXPECT_TRUE(same_bits(r.dec, want));
    EXPECT_EQ(r.d.scale_exp, std::vector<int32_t>{-2});
    for (int i = 0; i < 16; ++i) {
      EXPECT_EQ(r.d.mant[i], m[i]) << i;
      EXPECT_EQ(r.d.shift[i], 1 - u[i / 2]) << i;
    }
  }
}

TEST(MxGolden, Mx9) {
  // e = 1 (amax 3). Unshifted step 2^(1-6) = 1/32, shifted 1/64, clamp 127.
  //  pair0 (3, 1)          u=0: 96, 32
  //  pair1 (1.99, 0.5)     u=1: 127.36 -> 127, 32
  //  pair2 (1.999, 0)      u=1: 127.94 -> 128 -> clamp 127 (the p-bit field; Quark's looser
  //                              clamp would give 128 = 2.0), 0
  //  pair3 (2, -0.01)      u=0: 64, -0.32 -> 0
  //  pair4 (0.1, 0.2)      u=1: 6.4 -> 6, 12.8 -> 13
  //  pair5 (-1/128, 3/128) u=1: -0.5 -> RNE 0 / away -1, 1.5 -> 2
  //  pair6 (-3, 1/32)      u=0: -96, 1
  //  pair7 (0, 0)          u=1
  // u bits = pairs 1,2,4,5,7 = 0xB6.
  const std::vector<float> x = {3,    1,    1.99f,       0.5f,       1.999f, 0,         2, -0.01f,
                                0.1f, 0.2f, -1.0f / 128, 3.0f / 128, -3,     1.0f / 32, 0, 0};
  for (const bool away : {false, true}) {
    SCOPED_TRACE(away ? "away" : "even");
    const Result r = run(away ? "mx9:round=away" : "mx9", x, 1, 16);
    const std::vector<int> m = {96, 32, 127,           32, 127, 0, 64, 0,
                                6,  13, away ? -1 : 0, 2,  -96, 1, 0,  0};
    const std::vector<int> u = {0, 1, 1, 0, 1, 1, 0, 1};
    EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{128, 0xB6}));
    EXPECT_EQ(r.e.elements, packed_sm(m, 8));
    std::vector<float> want(16);
    for (int i = 0; i < 16; ++i) want[i] = m[i] * (u[i / 2] ? 1.0f / 64 : 1.0f / 32);
    EXPECT_TRUE(same_bits(r.dec, want));
    EXPECT_EQ(r.dec[4], 1.984375f);
    EXPECT_EQ(r.d.scale_exp, std::vector<int32_t>{1 - 7});
  }
}

TEST(MxGolden, Mx6WithPartialBlock) {
  // Block 0: e = -1 (amax 0.75). Unshifted step 2^(-1-3) = 1/16, shifted 1/32, clamp 15.
  //  pair0 (0.75, 0.1)   u=0: 12, 1.6 -> 2
  //  pair1 (0.49, 0.3)   u=1: 15.68 -> 16 -> clamp 15, 9.6 -> 10
  //  pair2 (-0.5, 0.25)  u=0 (0.5 = 2^e): -8, 4
  //  pair3 (1/64, -3/64) u=1: 0.5 -> RNE 0 / away 1, -1.5 -> -2
  //  pairs 4..7 zero     u=1
  // u bits = pairs 1,3,4,5,6,7 = 0xFA.
  // Block 1 (3 elements, partial): amax 0.3 -> e = -2; unshifted step 1/32, shifted 1/64.
  //  pair0 (0.3, -0.2)   u=0: 9.6 -> 10, -6.4 -> -6
  //  lone  (0.1)         u=1: 6.4 -> 6
  // u bits = 0x02.
  std::vector<float> x(19, 0.0f);
  const float b0[8] = {0.75f, 0.1f, 0.49f, 0.3f, -0.5f, 0.25f, 1.0f / 64, -3.0f / 64};
  std::copy(b0, b0 + 8, x.begin());
  x[16] = 0.3f, x[17] = -0.2f, x[18] = 0.1f;
  for (const bool away : {false, true}) {
    SCOPED_TRACE(away ? "away" : "even");
    const Result r = run(away ? "mx6:round=away" : "mx6", x, 1, 19);
    std::vector<int> m(19, 0);
    const int m0[8] = {12, 2, 15, 10, -8, 4, away ? 1 : 0, -2};
    std::copy(m0, m0 + 8, m.begin());
    m[16] = 10, m[17] = -6, m[18] = 6;
    EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{126, 0xFA, 125, 0x02}));
    EXPECT_EQ(r.e.elements, packed_sm(m, 5));
    const float step[19] = {1.0f / 16, 1.0f / 16, 1.0f / 32, 1.0f / 32, 1.0f / 16,
                            1.0f / 16, 1.0f / 32, 1.0f / 32, 1.0f / 32, 1.0f / 32,
                            1.0f / 32, 1.0f / 32, 1.0f / 32, 1.0f / 32, 1.0f / 32,
                            1.0f / 32, 1.0f / 32, 1.0f / 32, 1.0f / 64};
    std::vector<float> want(19);
    for (int i = 0; i < 19; ++i) want[i] = m[i] * step[i];
    EXPECT_TRUE(same_bits(r.dec, want));
    EXPECT_EQ(r.d.scale_exp, (std::vector<int32_t>{-1 - 4, -2 - 4}));
  }
}

// ---------------------------------------------------------------------------------------------
// Exhaustive: every element code under several shared exponents.

TEST(BfpExhaustive, EveryCodeDecodesAndReencodes) {
  for (const int p : {3, 4, 5, 8, 12, 16}) {
    const auto f = make_format("bfp:block=16:p=" + std::to_string(p));
    const int64_t n = int64_t{1} << p, nblk = (n + 15) / 16;
    std::vector<uint32_t> codes(static_cast<size_t>(n));
    for (int64_t c = 0; c < n; ++c) codes[c] = static_cast<uint32_t>(c);
    const int64_t half = n / 2;
    for (const int E : {0, 1, 60, 127, 200, 254}) {
      const int e = E - 127;
      EncodedTensor enc;
      enc.format = f->name();
      enc.rows = 1;
      enc.cols = n;
      enc.elements = pack_codes(codes, 1, n, p);
      enc.scales.assign(static_cast<size_t>(nblk), static_cast<uint8_t>(E));
      std::vector<float> out(static_cast<size_t>(n));
      f->decode(enc, out.data());
      const DecodedTensor d = f->decode_operand(enc);
      // Decode: sign-magnitude m times 2^(e-(p-2)), from the definition in double.
      for (int64_t c = 0; c < n; ++c) {
        const int64_t m = c >= half ? -(c - half) : c;
        const float want = static_cast<float>(std::ldexp(static_cast<double>(m), e - (p - 2)));
        ASSERT_EQ(bits_of(out[c]), bits_of(want)) << "p " << p << " E " << E << " code " << c;
        ASSERT_EQ(d.mant[c], m);
        ASSERT_EQ(bits_of(decoded_value(d, 0, c)), bits_of(want));
      }
      // Re-encode: row c = {2^e, value(c)} pins the shared exponent to e (2^e <= amax <
      // 2^(e+1)), so every code except the unused "-0" comes back.
      std::vector<float> x(static_cast<size_t>(2 * n));
      for (int64_t c = 0; c < n; ++c) {
        x[2 * c] = static_cast<float>(std::ldexp(1.0, e));
        x[2 * c + 1] = out[c];
      }
      for (const char* rnd : {"even", "away"}) {
        const auto g = make_format("bfp:block=16:p=" + std::to_string(p) + ":round=" + rnd);
        const EncodedTensor back = g->encode(x.data(), n, 2);
        const auto bc = unpack_codes(back.elements, n, 2, p);
        for (int64_t c = 0; c < n; ++c) {
          ASSERT_EQ(back.scales[c], E) << "p " << p << " code " << c;
          ASSERT_EQ(bc[2 * c + 1], c == half ? 0u : static_cast<uint32_t>(c))
              << "p " << p << " E " << E << " code " << c;
        }
      }
    }
  }
}

TEST(MxExhaustive, EveryCodeAndMicroexponentDecodes) {
  for (const auto& [name, p] : {std::pair{"mx4", 3}, std::pair{"mx6", 5}, std::pair{"mx9", 8}}) {
    const auto f = make_format(name);
    const int64_t n = int64_t{1} << p, nblk = (n + 15) / 16, half = n / 2;
    std::vector<uint32_t> codes(static_cast<size_t>(n));
    for (int64_t c = 0; c < n; ++c) codes[c] = static_cast<uint32_t>(c);
    for (const int E : {0, 5, 127, 254}) {
      for (const uint8_t ubits : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t{0x5A}}) {
        EncodedTensor enc;
        enc.format = f->name();
        enc.rows = 1;
        enc.cols = n;
        enc.elements = pack_codes(codes, 1, n, p);
        for (int64_t b = 0; b < nblk; ++b) {
          enc.scales.push_back(static_cast<uint8_t>(E));
          enc.scales.push_back(ubits);
        }
        std::vector<float> out(static_cast<size_t>(n));
        f->decode(enc, out.data());
        const DecodedTensor d = f->decode_operand(enc);
        for (int64_t c = 0; c < n; ++c) {
          const int64_t m = c >= half ? -(c - half) : c;
          const int u = (ubits >> ((c % 16) / 2)) & 1;
          const float want =
              static_cast<float>(std::ldexp(static_cast<double>(m), E - 127 - u - (p - 2)));
          ASSERT_EQ(bits_of(out[c]), bits_of(want)) << name << " E " << E << " code " << c;
          ASSERT_EQ(d.shift[c], 1 - u);
          ASSERT_EQ(bits_of(decoded_value(d, 0, c)), bits_of(want));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// QSNR reference checks (specs/formats.md: N(0,1), 131,072 samples, QSNR = 10 log10(sum x^2 /
// sum (x-q)^2), within 0.1 dB of an independent implementation).

double qsnr_of(const std::string& spec, uint32_t seed, int64_t n = 131072) {
  testing::Gauss g(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = g();
  std::vector<float> q(x.size());
  make_format(spec)->quantize(x.data(), n / 128, 128, q.data());
  return compare(x.data(), q.data(), n).qsnr_db;
}

// One draw of 131,072 samples scatters by about +-0.03 dB between seeds (BFP12: 18.59 .. 18.66
// over seeds 0..11), so besides the formats.md protocol at a fixed seed we check the expected
// value with 2^22 samples: BFP12 18.64, BFP16 42.79, BFP[8]/32 41.66 dB. Our BFP12 sits 0.06 dB
// below the reference 18.7; a variant that does not clamp the block maximum when it rounds up
// to 2^(p-1) gives 18.71, so the independent implementation probably leaves that value
// unclamped (it needs one more bit than the field has). We follow formats.md and clamp.
TEST(BfpQsnr, ReferenceNumbers) {
  EXPECT_NEAR(qsnr_of("bfp12", 1), 18.7, 0.1);
  EXPECT_NEAR(qsnr_of("bfp16", 1), 42.8, 0.1);
  EXPECT_NEAR(qsnr_of("msfp12", 1), 18.7, 0.1);
  EXPECT_NEAR(qsnr_of("msfp16", 1), 42.8, 0.1);
  // BFP[8] with block 32 is MXINT8's arithmetic (emax_elem 0, 127/64 max): formats.md 41.7.
  EXPECT_NEAR(qsnr_of("bfp:p=8:block=32", 1), 41.7, 0.1);
  const int64_t big = int64_t{1} << 22;
  EXPECT_NEAR(qsnr_of("bfp12", 7, big), 18.7, 0.1);
  EXPECT_NEAR(qsnr_of("bfp16", 7, big), 42.8, 0.1);
  EXPECT_NEAR(qsnr_of("bfp:p=8:block=32", 7, big), 41.7, 0.1);
}

TEST(BfpQsnr, MxRegressionNumbers) {
  // No published N(0,1) QSNR for MX4/6/9: these are our own measurements (2^22 samples), kept
  // as a regression guard, plus the expected ordering against BFP at the same element width.
  const int64_t big = int64_t{1} << 22;
  const double mx4 = qsnr_of("mx4", 7, big), mx6 = qsnr_of("mx6", 7, big);
  const double mx9 = qsnr_of("mx9", 7, big);
  EXPECT_NEAR(mx4, 15.7, 0.1);
  EXPECT_NEAR(mx6, 28.3, 0.1);
  EXPECT_NEAR(mx9, 46.5, 0.1);
  // The microexponent buys about 3.7 dB over BFP at the same element width (mx9 vs bfp16).
  EXPECT_GT(mx9, qsnr_of("bfp:p=8", 7, big) + 3.0);
  EXPECT_GT(mx6, qsnr_of("bfp:p=5", 7, big) + 3.0);
}

// ---------------------------------------------------------------------------------------------
// Storage, errors, edge shapes.

TEST(BfpStorage, BitsPerElement) {
  const auto x = testing::outlier_matrix(16, 256, 3);
  const std::pair<const char*, double> cases[] = {
      {"bfp12", 4.5}, {"bfp16", 8.5}, {"msfp12", 4.5}, {"msfp16", 8.5},
      {"mx4", 4.0},   {"mx6", 6.0},   {"mx9", 9.0},    {"bfp:p=8:block=128", 8.0625}};
  for (const auto& [spec, bits] : cases) {
    EXPECT_EQ(make_format(spec)->encode(x.data(), 16, 256).bits_per_element(), bits) << spec;
  }
}

TEST(BfpEdge, NanAndInfNameTheElement) {
  for (const char* spec : {"bfp12", "bfp:p=8:block=3", "mx9", "mx4:round=away"}) {
    const auto f = make_format(spec);
    std::vector<float> x(40, 1.0f);
    x[23] = std::numeric_limits<float>::quiet_NaN();
    const std::string m = error_of([&] { f->encode(x.data(), 2, 20); });
    EXPECT_NE(m.find("element 23 (row 1, col 3) is NaN"), std::string::npos) << m;
    x[23] = 1.0f;
    x[5] = std::numeric_limits<float>::infinity();
    std::vector<float> out(40);
    const std::string m2 = error_of([&] { f->quantize(x.data(), 2, 20, out.data()); });
    EXPECT_NE(m2.find("element 5 (row 0, col 5) is Inf"), std::string::npos) << m2;
  }
}

TEST(BfpEdge, RejectsMalformedEncodings) {
  for (const char* spec : {"bfp12", "mx6"}) {
    const auto f = make_format(spec);
    const auto x = testing::outlier_matrix(2, 40, 1);
    const EncodedTensor good = f->encode(x.data(), 2, 40);
    std::vector<float> out(80);
    EncodedTensor e = good;
    e.scales[2] = 0xFF;  // reserved exponent code (row 0 block 2 for bfp12, row 0 block 1 mx6)
    EXPECT_NE(error_of([&] { f->decode(e, out.data()); }).find("0xFF"), std::string::npos);
    EXPECT_NE(error_of([&] { f->decode_operand(e); }).find("0xFF"), std::string::npos);
    e = good;
    e.scales.pop_back();
    EXPECT_NE(error_of([&] { f->decode(e, out.data()); }).find("scale bytes"), std::string::npos);
    e = good;
    e.fp32.push_back(1.0f);
    EXPECT_NE(error_of([&] { f->decode(e, out.data()); }).find("unexpected"), std::string::npos);
    e = good;
    e.format = "bfp:block=16:p=5:round=even";
    EXPECT_NE(error_of([&] { f->decode(e, out.data()); }).find("not '"), std::string::npos);
  }
}

TEST(BfpEdge, ZeroSizeAndTinyShapes) {
  for (const char* spec : {"bfp12", "bfp:p=5:block=7", "mx4", "mx9"}) {
    const auto f = make_format(spec);
    for (const auto& [r, c] : {std::pair<int64_t, int64_t>{0, 0}, {0, 9}, {4, 0}}) {
      const EncodedTensor e = f->encode(nullptr, r, c);
      EXPECT_TRUE(e.elements.empty() && e.scales.empty()) << spec;
      f->decode(e, nullptr);
      EXPECT_TRUE(f->decode_operand(e).mant.empty());
      f->quantize(nullptr, r, c, nullptr);
    }
    // One column: every element is its own block (and its own MX pair).
    const std::vector<float> x = {0.3f, -5.0f, 0.0f, 1e-39f};
    testing::check_codec_invariants(*f, x, 4, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Universal invariants and the documented layout for every option combination.

// Independent decoder from the documented layout: generic unpack_codes, sign-magnitude codes,
// exponent byte per block (+ microexponent byte for MX).
std::vector<float> reference_decode(const EncodedTensor& e, int p, int block, bool micro) {
  const auto codes = unpack_codes(e.elements, e.rows, e.cols, p);
  const int64_t nblk = (e.cols + block - 1) / block, sb = micro ? 2 : 1;
  std::vector<float> out(codes.size());
  for (int64_t r = 0; r < e.rows; ++r) {
    for (int64_t c = 0; c < e.cols; ++c) {
      const int64_t b = c / block;
      const int ex = e.scales.at((r * nblk + b) * sb) - 127;
      const int u = micro ? (e.scales.at((r * nblk + b) * sb + 1) >> ((c % block) / 2)) & 1 : 0;
      const uint32_t code = codes[r * e.cols + c];
      const int64_t mag = code & ((1u << (p - 1)) - 1u);
      const double m = (code >> (p - 1)) & 1 ? -static_cast<double>(mag) : mag;
      out[r * e.cols + c] = static_cast<float>(std::ldexp(m, ex - u - (p - 2)));
    }
  }
  return out;
}

struct Variant {
  std::string spec;
  int p, block;
  bool micro;
};

std::vector<Variant> all_variants() {
  std::vector<Variant> v;
  for (const int p : {3, 4, 5, 8, 12, 16}) {
    for (const int block : {2, 16, 17, 32, 64, 128, 1024}) {
      for (const char* rnd : {"even", "away"}) {
        v.push_back(
            {"bfp:p=" + std::to_string(p) + ":block=" + std::to_string(block) + ":round=" + rnd, p,
             block, false});
      }
    }
  }
  for (const char* rnd : {"even", "away"}) {
    const std::string r = std::string(":round=") + rnd;
    v.push_back({"bfp12" + r, 4, 16, false});
    v.push_back({"bfp16:block=64" + r, 8, 64, false});
    v.push_back({"msfp12" + r, 4, 16, false});
    v.push_back({"msfp16" + r, 8, 16, false});
    v.push_back({"mx4" + r, 3, 16, true});
    v.push_back({"mx6" + r, 5, 16, true});
    v.push_back({"mx9" + r, 8, 16, true});
  }
  return v;
}

TEST(BfpInvariants, AllVariants) {
  const int64_t rows = 9, cols = 150, wrows = 5;  // 150 = 9 * 16 + 6: partial last blocks
  const auto x = testing::outlier_matrix(rows, cols, 41);
  const auto w = testing::outlier_matrix(wrows, cols, 42);
  const auto big = testing::extreme_matrix(cols, 43);
  for (const Variant& v : all_variants()) {
    SCOPED_TRACE(v.spec);
    const auto f = make_format(v.spec);
    testing::check_codec_invariants(*f, x, rows, cols);
    testing::check_codec_invariants(*f, big, 4, cols);
    testing::check_matmul_invariant(*f, x, rows, w, wrows, cols);
    for (const auto* data : {&x, &big}) {
      const int64_t r = data == &x ? rows : 4;
      const EncodedTensor e = f->encode(data->data(), r, cols);
      std::vector<float> dec(data->size());
      f->decode(e, dec.data());
      EXPECT_TRUE(same_bits(reference_decode(e, v.p, v.block, v.micro), dec));
      const DecodedTensor d = f->decode_operand(e);
      EXPECT_EQ(d.group_rows, 1);
      EXPECT_EQ(d.group_cols, v.block);
      for (size_t i = 0; i < d.mant.size(); ++i) {
        ASSERT_LE(std::abs(d.mant[i]), (1 << (v.p - 1)) - 1);
        ASSERT_LE(d.shift[i], v.micro ? 1 : 0);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Internal kernels: exact rounding and the row packers.

TEST(IntBfpKernels, RoundToIntMatchesLibm) {
  std::vector<float> ys = {
      0.0f,        -0.0f,        0.5f,        -0.5f,      1.5f,        -1.5f,      2.5f,   -2.5f,
      0.49999997f, -0.49999997f, 0.50000006f, 4194303.5f, -4194303.5f, 4194303.0f, 1e-30f, -1e-45f};
  testing::Gauss g(9);
  for (int i = 0; i < 200000; ++i) {
    const float scale = std::ldexp(1.0f, static_cast<int>(g.uniform() * 44) - 22);
    ys.push_back(g() * scale);
    ys.push_back(std::round(g() * 1000.0f) + 0.5f);  // ties
  }
  for (const float y : ys) {
    if (!(std::fabs(y) < 4194304.0f)) continue;
    const float even = detail::round_to_int<false>(y), away = detail::round_to_int<true>(y);
    ASSERT_EQ(even, std::nearbyint(y)) << y;  // default FP environment: ties to even
    ASSERT_EQ(away, std::round(y)) << y;      // C round(): ties away from zero
  }
}

TEST(IntBfpKernels, PackersMatchPackCodes) {
  std::mt19937 rng(5);
  for (int bits = 1; bits <= 16; ++bits) {
    for (const int64_t n : {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 200, 1001}) {
      std::vector<uint32_t> codes(static_cast<size_t>(n));
      for (auto& c : codes) c = rng() & ((1u << bits) - 1u);
      const auto ref = pack_codes(codes, 1, n, bits);
      std::vector<uint16_t> c16(codes.begin(), codes.end());
      std::vector<uint8_t> got(ref.size(), 0xAA);
      detail::pack_row(c16.data(), n, bits, got.data());
      ASSERT_EQ(got, ref) << "bits " << bits << " n " << n;
      std::vector<uint16_t> back(static_cast<size_t>(n));
      detail::unpack_row(ref.data(), n, bits, back.data());
      ASSERT_EQ(std::vector<uint32_t>(back.begin(), back.end()), codes)
          << "bits " << bits << " n " << n;
    }
  }
}

}  // namespace
}  // namespace qarch::quant
