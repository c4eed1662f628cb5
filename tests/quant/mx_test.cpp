// OCP MX family (quant/src/mx_formats.cpp: mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3,
// mxfp4, mxint8) and the element kernels of quant/src/mx_kernels.h: the fast kernels are checked
// bit-identical to fp_encode() over structured sweeps (every tie and its neighbours in every
// binade, subnormals, saturation) plus strided and random FP32 patterns; every element code of
// every type decodes through a known scale to code_value * X; golden vectors worked out by hand
// from OCP MX v1.0 / specs/formats.md (ties under both roundings, saturation, shared-exponent
// clamping at both ends, amax just below a power of two, all-zero, NaN/Inf and partial blocks,
// zero-size tensors, packed bytes); a hand-computed two-block dot product; malformed encodings;
// and the universal invariants for every format and option.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>

#include "../../quant/src/mx_kernels.h"  // internal kernels under test
#include "intbfp_test_util.h"
#include "mx_family_test_util.h"
#include "qarch/quant/decoded.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/mx.h"

namespace qarch::quant {
namespace {

using mxtest::element_value;
using mxtest::run;
using mxtest::Trip;
using testing::bits_of;
using testing::error_of;
using testing::same_bits;

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

const char* const kMxNames[] = {"mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2",
                                "mxfp6_e2m3", "mxfp4",      "mxint8"};

// ---------------------------------------------------------------------------------------------
// Kernels against fp_encode().

// FP32 magnitudes (bit patterns) that exercise every rounding decision of an element type with
// `mbits` mantissa bits and normal exponents [emin, emax]: for every FP32 exponent from below the
// subnormal range to above saturation, every combination of the top mbits + 2 mantissa bits
// (element mantissa, half bit, one more) with low parts 0 (exact ties), 1, all ones, half and
// neighbours; then a stride through all patterns below 2^64 and random ones.
std::vector<uint32_t> rounding_patterns(int mbits, int emin, int emax, uint32_t seed) {
  std::vector<uint32_t> p;
  const int hi_bits = mbits + 2;
  const int lo_bits = 23 - hi_bits;
  const uint32_t lo_all = (1u << lo_bits) - 1u;
  const uint32_t lo_set[] = {0u,
                             1u,
                             2u,
                             lo_all,
                             lo_all - 1u,
                             1u << (lo_bits - 1),
                             (1u << (lo_bits - 1)) - 1u,
                             (1u << (lo_bits - 1)) + 1u};
  for (int e = emin - mbits - 4; e <= emax + 3; ++e) {
    for (uint32_t hi = 0; hi < (1u << hi_bits); ++hi) {
      for (uint32_t lo : lo_set) {
        p.push_back((static_cast<uint32_t>(e + 127) << 23) | (hi << lo_bits) | lo);
      }
    }
  }
  for (uint32_t b = 0; b < 0x5f800000u; b += 4099u) p.push_back(b);  // strided, |y| < 2^64
  std::mt19937 rng(seed);
  for (int i = 0; i < 200000; ++i) p.push_back(rng() % 0x5f800000u);
  for (uint32_t b = 0; b < 64; ++b) p.push_back(b);  // FP32 subnormals and zero
  return p;
}

template <class T>
void check_fp_kernels(const FpElementSpec& spec) {
  SCOPED_TRACE(spec.name);
  ASSERT_EQ(T::kBits, spec.bits());
  ASSERT_EQ(T::kEmax, spec.emax());
  ASSERT_EQ(T::kMaxCode, spec.max_code());
  int checked = 0;
  for (uint32_t mag : rounding_patterns(spec.mbits, spec.emin(), spec.emax(), 11)) {
    for (uint32_t sign : {0u, 0x80000000u}) {
      const float y = detail::u2f(mag | sign);
      const uint32_t even = fp_encode(spec, y, Rounding::kNearestEven);
      const uint32_t away = fp_encode(spec, y, Rounding::kNearestAway);
      ASSERT_EQ((detail::fp_code_fast<T, false>(y)), even)
          << "y = " << y << " bits " << std::hex << (mag | sign);
      ASSERT_EQ((detail::fp_code_fast<T, true>(y)), away)
          << "y = " << y << " bits " << std::hex << (mag | sign);
      ASSERT_EQ((detail::fp_code<T, false>(y)), even) << "y = " << y;
      ASSERT_EQ((detail::fp_code<T, true>(y)), away) << "y = " << y;
      ++checked;
    }
  }
  // The integer kernel also saturates huge values and Inf (it rounds the block scales).
  for (uint32_t mag : {0x5f800000u, 0x7f7fffffu, 0x7f800000u}) {
    EXPECT_EQ((detail::fp_mag_code<T, false>(mag)), spec.max_code());
    EXPECT_EQ((detail::fp_mag_code<T, true>(mag)), spec.max_code());
  }
  EXPECT_GT(checked, 1000000);
}

TEST(MxKernels, FpCodeFastMatchesFpEncodeE4M3) {
  check_fp_kernels<detail::ElemE4M3>(kE4M3);
}
TEST(MxKernels, FpCodeFastMatchesFpEncodeE5M2) {
  check_fp_kernels<detail::ElemE5M2>(kE5M2);
}
TEST(MxKernels, FpCodeFastMatchesFpEncodeE3M2) {
  check_fp_kernels<detail::ElemE3M2>(kE3M2);
}
TEST(MxKernels, FpCodeFastMatchesFpEncodeE2M3) {
  check_fp_kernels<detail::ElemE2M3>(kE2M3);
}
TEST(MxKernels, FpCodeFastMatchesFpEncodeE2M1) {
  check_fp_kernels<detail::ElemE2M1>(kE2M1);
}

TEST(MxKernels, E2M1ThresholdCodeMatchesFpEncode) {
  for (uint32_t mag : rounding_patterns(1, 0, 2, 12)) {
    for (uint32_t sign : {0u, 0x80000000u}) {
      const float y = detail::u2f(mag | sign);
      ASSERT_EQ(detail::e2m1_code<false>(y), fp_encode(kE2M1, y, Rounding::kNearestEven)) << y;
      ASSERT_EQ(detail::e2m1_code<true>(y), fp_encode(kE2M1, y, Rounding::kNearestAway)) << y;
    }
  }
  // Beyond 2^64 and Inf saturate too (the threshold form has no range limit).
  for (float y : {1e30f, FLT_MAX, kInf, -kInf}) {
    EXPECT_EQ(detail::e2m1_code<false>(y), fp_encode(kE2M1, y)) << y;
  }
  // The thresholds scaled by a power of two decide |V| against X * t exactly as V / X.
  for (int k : {-127, -100, -3, 0, 5, 125}) {
    const float x = detail::pow2f(k);
    float t[7];
    for (int j = 0; j < 7; ++j) t[j] = detail::kE2M1Thresholds[j] * x;
    for (uint32_t mag : rounding_patterns(1, 0, 2, 13)) {
      const float y = detail::u2f(mag);
      if (!(y < 16.0f)) continue;  // |V| = y * X stays finite
      const float v = y * x;
      if (v / x != y) continue;  // y * X underflowed: not a V this block can hold exactly
      ASSERT_EQ(detail::e2m1_mag_code<false>(v, t), fp_encode(kE2M1, y)) << y << " * 2^" << k;
      ASSERT_EQ(detail::e2m1_mag_code<true>(v, t), fp_encode(kE2M1, y, Rounding::kNearestAway));
    }
  }
}

TEST(MxKernels, Int8CodeMatchesLibmRounding) {
  std::vector<float> ys;
  for (int h = -300; h <= 300; ++h) {  // every half-integer tie in range and beyond
    const float y = 0.5f * static_cast<float>(h);
    ys.push_back(y);
    ys.push_back(std::nextafter(y, kInf));
    ys.push_back(std::nextafter(y, -kInf));
  }
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-140.0f, 140.0f);
  for (int i = 0; i < 100000; ++i) ys.push_back(u(rng));
  for (float y : ys) {
    const auto ref = [&](double r) {
      r = std::min(127.0, std::max(-127.0, r));
      return static_cast<uint32_t>(static_cast<int32_t>(r)) & 0xffu;
    };
    ASSERT_EQ(detail::int8_code<false>(y), ref(std::nearbyint(y))) << y;  // RNE (default mode)
    ASSERT_EQ(detail::int8_code<true>(y), ref(std::round(y))) << y;       // half away
  }
}

TEST(MxKernels, QuotientThresholdsGiveTheCodeOfTheFp32Quotient) {
  // Divisors: every positive finite E4M3 and E5M2 value and powers of two over the E8M0 range.
  std::vector<float> divisors;
  for (uint32_t c = 1; c <= kE4M3.max_code(); ++c) divisors.push_back(fp_decode(kE4M3, c));
  for (uint32_t c = 1; c <= kE5M2.max_code(); ++c) divisors.push_back(fp_decode(kE5M2, c));
  for (int k = -127; k <= 127; k += 7) divisors.push_back(detail::pow2f(k));
  std::mt19937 rng(3);
  for (float s : divisors) {
    for (bool away : {false, true}) {
      const Rounding mode = away ? Rounding::kNearestAway : Rounding::kNearestEven;
      float w[7];
      if (away) {
        detail::e2m1_quotient_thresholds<true>(s, w);
      } else {
        detail::e2m1_quotient_thresholds<false>(s, w);
      }
      for (int k = 0; k < 7; ++k) {
        // At the threshold the quotient's code reaches k + 1; one float below it does not.
        ASSERT_GE(fp_encode(kE2M1, w[k] / s, mode), static_cast<uint32_t>(k + 1)) << s << " " << k;
        const float below = std::nextafter(w[k], 0.0f);
        ASSERT_LE(fp_encode(kE2M1, below / s, mode), static_cast<uint32_t>(k)) << s << " " << k;
      }
      // And random magnitudes around the thresholds agree with dividing.
      for (int i = 0; i < 400; ++i) {
        const float a = std::ldexp(static_cast<float>(rng() % 1000000u), -17) * s;
        ASSERT_EQ(detail::e2m1_count_ge(a, w), fp_encode(kE2M1, a / s, mode)) << a << " / " << s;
      }
    }
  }
}

TEST(MxKernels, SharedExponentAndE8M0) {
  // floor_log2 from the bits, minus emax_elem, clamped to [-127, 127]; zero -> -127.
  EXPECT_EQ(mx_shared_exp(0.0f, 2), -127);
  EXPECT_EQ(mx_shared_exp(6.0f, 2), 0);
  EXPECT_EQ(mx_shared_exp(std::nextafter(8.0f, 0.0f), 2), 0);  // just below 2^3: floor 2
  EXPECT_EQ(mx_shared_exp(8.0f, 2), 1);
  EXPECT_EQ(mx_shared_exp(448.0f, 8), 0);
  EXPECT_EQ(mx_shared_exp(FLT_MAX, 0), 127);
  EXPECT_EQ(mx_shared_exp(FLT_MAX, 15), 112);
  EXPECT_EQ(mx_shared_exp(0x1p-120f, 8), -127);  // -128 clamped
  EXPECT_EQ(mx_shared_exp(0x1p-149f, 2), -127);  // smallest FP32 subnormal
  EXPECT_EQ(mx_shared_exp(0x1p-125f, 2), -127);  // exactly -127, no clamping
  EXPECT_EQ(mx_shared_exp(0x1p-124f, 2), -126);
  EXPECT_THROW(mx_shared_exp(kInf, 2), Error);
  EXPECT_THROW(mx_shared_exp(kNaN, 2), Error);
  EXPECT_EQ(e8m0_encode(-127), 0);
  EXPECT_EQ(e8m0_encode(127), 254);
  EXPECT_EQ(e8m0_decode(0), 0x1p-127f);
  EXPECT_EQ(e8m0_decode(127), 1.0f);
  EXPECT_EQ(e8m0_decode(254), 0x1p127f);
  EXPECT_TRUE(std::isnan(e8m0_decode(kE8M0Nan)));
  // A floating log2 misrounds just below a power of two; the bit rule does not.
  for (int k = -126; k < 127; ++k) {
    const float below = std::nextafter(detail::pow2f(k), 0.0f);
    EXPECT_EQ(mx_shared_exp(below, 0), std::max(-127, k - 1)) << k;
    EXPECT_EQ(mx_shared_exp(detail::pow2f(k), 0), k) << k;
  }
}

// ---------------------------------------------------------------------------------------------
// Names and options.

TEST(OcpMxFormat, CanonicalNamesAndOptions) {
  for (const char* n : kMxNames) {
    EXPECT_EQ(make_format(n)->name(), std::string(n) + ":block=32:round=even");
    EXPECT_EQ(make_format(std::string(n) + ":round=away:block=7")->name(),
              std::string(n) + ":block=7:round=away");
    EXPECT_THROW(make_format(std::string(n) + ":block=1"), Error);
    EXPECT_THROW(make_format(std::string(n) + ":block=1025"), Error);
    EXPECT_THROW(make_format(std::string(n) + ":round=up"), Error);
    EXPECT_THROW(make_format(std::string(n) + ":scale=e5m2"), Error);  // not an MX option
  }
  EXPECT_EQ(make_format("mxfp4:block=1024")->name(), "mxfp4:block=1024:round=even");
  EXPECT_EQ(make_format("MXFP4:block=2")->name(), "mxfp4:block=2:round=even");
}

// ---------------------------------------------------------------------------------------------
// Every element code through a block with a known scale.

struct TypeCase {
  const char* name;
  const FpElementSpec* spec;  // nullptr: MXINT8
};

// Value of `code` in element units from the definition (MXINT8: two's complement / 64).
double code_value(const TypeCase& t, uint32_t code) {
  if (!t.spec) return static_cast<int8_t>(static_cast<uint8_t>(code)) / 64.0;
  return element_value(t.spec->ebits, t.spec->mbits, t.spec->bias, code);
}

TEST(OcpMxExhaustive, EveryCodeDecodesToCodeValueTimesScale) {
  const TypeCase types[] = {{"mxfp8_e4m3", &kE4M3}, {"mxfp8_e5m2", &kE5M2}, {"mxfp6_e3m2", &kE3M2},
                            {"mxfp6_e2m3", &kE2M3}, {"mxfp4", &kE2M1},      {"mxint8", nullptr}};
  for (const TypeCase& t : types) {
    const int bits = t.spec ? t.spec->bits() : 8;
    const int n = 1 << bits;
    const auto f = make_format(std::string(t.name) + ":block=" + std::to_string(n));
    // `finite`: the codes an encoder can produce (no NaN/Inf codes; MXINT8 without -128).
    std::vector<uint32_t> all(static_cast<size_t>(n)), finite;
    for (int c = 0; c < n; ++c) {
      all[c] = static_cast<uint32_t>(c);
      const bool special = t.spec ? fp_is_special(*t.spec, all[c]) : c == 0x80;
      if (!special) finite.push_back(all[c]);
    }
    for (int sc : {0, 1, 100, 120, 127, 131, 200, 254}) {
      SCOPED_TRACE(std::string(t.name) + " scale code " + std::to_string(sc));
      const double x = std::ldexp(1.0, sc - 127);
      EncodedTensor e;
      e.format = f->name();
      e.rows = 1;
      e.cols = n;
      e.elements = pack_codes(all, 1, n, bits);
      e.scales = {static_cast<uint8_t>(sc)};
      std::vector<float> out(static_cast<size_t>(n));
      f->decode(e, out.data());
      for (int c = 0; c < n; ++c) {
        const uint32_t code = all[c];
        if (t.spec && fp_is_special(*t.spec, code)) {
          const float sv = fp_decode(*t.spec, code);  // NaN, or +-Inf (E5M2)
          if (std::isnan(sv)) {
            EXPECT_TRUE(std::isnan(out[c])) << code;
          } else {
            EXPECT_EQ(out[c], sv) << code;
          }
          continue;
        }
        const float want = mxtest::to_float(code_value(t, code) * x);
        EXPECT_EQ(bits_of(out[c]), bits_of(want == 0.0f ? 0.0f : want))
            << "code " << code << ": " << out[c] << " vs " << want;
      }
      // The hardware view of every finite code reproduces decode() bit for bit.
      e.cols = static_cast<int64_t>(finite.size());
      e.elements = pack_codes(finite, 1, e.cols, bits);
      const auto g = make_format(std::string(t.name) + ":block=" + std::to_string(e.cols));
      e.format = g->name();
      std::vector<float> dec(finite.size());
      g->decode(e, dec.data());
      const DecodedTensor d = g->decode_operand(e);
      for (int64_t c = 0; c < e.cols; ++c) {
        EXPECT_EQ(bits_of(decoded_value(d, 0, c)), bits_of(dec[c])) << "code " << finite[c];
        EXPECT_EQ(d.scale_exp[0], sc - 127 + (t.spec ? t.spec->ulp_exp() : -6));
      }
      // Re-encoding the decoded block reproduces every code whose value is not clamped away:
      // all of them when X keeps the block's top code (the block maximum) on its exponent.
      if (sc >= 20 && sc <= 200) {
        const EncodedTensor again = g->encode(dec.data(), 1, e.cols);
        EXPECT_EQ(again.scales, std::vector<uint8_t>{static_cast<uint8_t>(sc)});
        const auto codes = unpack_codes(again.elements, 1, e.cols, bits);
        const std::vector<float> redec = g->decode(again).data;
        for (int64_t c = 0; c < e.cols; ++c) {
          EXPECT_EQ(bits_of(redec[c]), bits_of(dec[c])) << "code " << finite[c];
          const bool zero = code_value(t, finite[c]) == 0.0;
          if (!zero) {
            EXPECT_EQ(codes[c], finite[c]);
          }
        }
      }
    }
    // The NaN scale makes every element NaN.
    EncodedTensor e;
    e.format = f->name();
    e.rows = 1;
    e.cols = n;
    e.elements = pack_codes(all, 1, n, bits);
    e.scales = {kE8M0Nan};
    std::vector<float> out(static_cast<size_t>(n));
    f->decode(e, out.data());
    mxtest::expect_nan_range(out, 0, out.size());
  }
}

// ---------------------------------------------------------------------------------------------
// Golden vectors, derived by hand in the comments.

TEST(OcpMxGolden, FormatsMdHalfAwayVectorE4M3) {
  // specs/formats.md: one block of 8. amax = 485, floor_log2 = 8 (256 <= 485 < 512), emax(E4M3)
  // = 8 -> shared_exp 0, X = 1, scale code 127. E4M3 in [256, 512) has step 32 and tops out at
  // 448 = S.1111.110: 485, 475, -485, -475, -450 saturate to +-448 (0x7E / 0xFE). 400 lies
  // halfway between 384 (1.100b * 2^8, 0x7C) and 416 (1.101b * 2^8, 0x7D): away -> 416, RNE ->
  // the even mantissa 384. 2^-6 is E4M3's smallest normal, 0x08 (exponent field 1).
  const std::vector<float> x = {485, 475, 400, -485, -475, -450, 0x1p-6f, -0x1p-6f};
  const Trip a = run("mxfp8_e4m3:block=8:round=away", x, 1, 8);
  EXPECT_EQ(a.e.scales, std::vector<uint8_t>{127});
  EXPECT_EQ(a.e.elements, (std::vector<uint8_t>{0x7E, 0x7E, 0x7D, 0xFE, 0xFE, 0xFE, 0x08, 0x88}));
  EXPECT_EQ(a.dec, (std::vector<float>{448, 448, 416, -448, -448, -448, 0x1p-6f, -0x1p-6f}));
  const Trip e = run("mxfp8_e4m3:block=8:round=even", x, 1, 8);
  EXPECT_EQ(e.e.elements, (std::vector<uint8_t>{0x7E, 0x7E, 0x7C, 0xFE, 0xFE, 0xFE, 0x08, 0x88}));
  EXPECT_EQ(e.dec, (std::vector<float>{448, 448, 384, -448, -448, -448, 0x1p-6f, -0x1p-6f}));
}

TEST(OcpMxGolden, Mxfp4TiesAndPackedNibbles) {
  // amax 6: floor_log2 = 2 = emax(E2M1) -> X = 1 (code 127). E2M1 magnitudes 0 .5 1 1.5 2 3 4 6.
  // Ties: 5 (4|6), 2.5 (2|3), 0.25 (0|.5), 0.75 (.5|1), 1.25 (1|1.5), 1.75 (1.5|2), 3.5 (3|4).
  // RNE picks the even code: 5->4 (c6), 2.5->2 (c4), 0.25->0 (c0), 0.75->1 (c2), -1.25->-1
  // (cA), 1.75->2 (c4), -3.5->-4 (cE). Away: 5->6 (c7), 2.5->3 (c5), 0.25->.5 (c1), 0.75->1,
  // -1.25->-1.5 (cB), 1.75->2, -3.5->-4. Bytes: element 2k in the low nibble.
  const std::vector<float> x = {6, 5, 2.5f, 0.25f, 0.75f, -1.25f, 1.75f, -3.5f};
  const Trip e = run("mxfp4:block=8", x, 1, 8);
  EXPECT_EQ(e.e.scales, std::vector<uint8_t>{127});
  EXPECT_EQ(e.e.elements, (std::vector<uint8_t>{0x67, 0x04, 0xA2, 0xE4}));
  EXPECT_EQ(e.dec, (std::vector<float>{6, 4, 2, 0, 1, -1, 2, -4}));
  const Trip a = run("mxfp4:block=8:round=away", x, 1, 8);
  EXPECT_EQ(a.e.elements, (std::vector<uint8_t>{0x77, 0x15, 0xB2, 0xE4}));
  EXPECT_EQ(a.dec, (std::vector<float>{6, 6, 3, 0.5f, 1, -1.5f, 2, -4}));
  // The same block scaled by 2^-10: shared_exp -10 (code 117), identical element codes.
  std::vector<float> xs = x;
  for (auto& v : xs) v = std::ldexp(v, -10);
  const Trip s = run("mxfp4:block=8", xs, 1, 8);
  EXPECT_EQ(s.e.scales, std::vector<uint8_t>{117});
  EXPECT_EQ(s.e.elements, e.e.elements);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(s.dec[i], std::ldexp(e.dec[i], -10));
}

TEST(OcpMxGolden, Mxfp6E2M3) {
  // E2M3: subnormal step 0.125 (< 1), [1,2) step .125, [2,4) step .25, [4,7.5] step .5.
  // amax 7.75 -> floor_log2 2 = emax -> X = 1. 7.75 saturates to 7.5 (0x1F); 0.0625 ties 0|.125
  // (RNE 0, away .125 = c1); 0.1875 ties .125 (c1) | .25 (c2) -> c2 both; -3.125 ties 3 (mant
  // 100) | 3.25 (101): RNE 3 = 0b10100 | sign 0x20 = 0x34, away 0x35; 6.5 exact = 0b11101; 4.25
  // ties 4 (0x18) | 4.5 (0x19); -0 keeps its sign bit (0x20) and decodes to +0.
  const std::vector<float> x = {7.75f, 7.5f, 0.0625f, 0.1875f, -3.125f, 6.5f, 4.25f, -0.0f};
  const Trip e = run("mxfp6_e2m3:block=8", x, 1, 8);
  EXPECT_EQ(e.e.scales, std::vector<uint8_t>{127});
  EXPECT_EQ(unpack_codes(e.e.elements, 1, 8, 6),
            (std::vector<uint32_t>{0x1F, 0x1F, 0x00, 0x02, 0x34, 0x1D, 0x18, 0x20}));
  // Six-bit codes LSB-first, four per three bytes: c0 | c1<<6 | c2<<12 | c3<<18.
  // 0x1F | 0x1F<<6 | 0<<12 | 2<<18 = 0x0807DF; 0x34 | 0x1D<<6 | 0x18<<12 | 0x20<<18 = 0x818774.
  EXPECT_EQ(e.e.elements, (std::vector<uint8_t>{0xDF, 0x07, 0x08, 0x74, 0x87, 0x81}));
  EXPECT_TRUE(same_bits(e.dec, {7.5f, 7.5f, 0, 0.25f, -3, 6.5f, 4, 0.0f}));
  const Trip a = run("mxfp6_e2m3:block=8:round=away", x, 1, 8);
  EXPECT_EQ(unpack_codes(a.e.elements, 1, 8, 6),
            (std::vector<uint32_t>{0x1F, 0x1F, 0x01, 0x02, 0x35, 0x1D, 0x19, 0x20}));
  EXPECT_TRUE(same_bits(a.dec, {7.5f, 7.5f, 0.125f, 0.25f, -3.25f, 6.5f, 4.5f, 0.0f}));
}

TEST(OcpMxGolden, Mxfp6E3M2) {
  // E3M2 (bias 3): [16,28] step 4, [8,16) 2, [4,8) 1, ..., subnormals 0.0625 * {0..3}.
  // amax 30 -> floor_log2 4 = emax -> X = 1. 30 saturates to 28 (0x1F); 26 ties 24 (mant 10,
  // 0x1E) | 28 (0x1F); 18 ties 16 (0x1C) | 20 (0x1D); 0.03125 ties 0 | .0625 (c1); 0.09375 ties
  // .0625 (c1) | .125 (c2) -> c2 both; -5.5 ties 5 (mant 01) | 6 (mant 10): 6 either way, code
  // 0b10110 | 0x20 = 0x36; 0.2 -> 0.1875 (subnormal c3); 1 = 0b01100.
  const std::vector<float> x = {30, 26, 18, 0.03125f, 0.09375f, -5.5f, 0.2f, 1};
  const Trip e = run("mxfp6_e3m2:block=8", x, 1, 8);
  EXPECT_EQ(e.e.scales, std::vector<uint8_t>{127});
  EXPECT_EQ(unpack_codes(e.e.elements, 1, 8, 6),
            (std::vector<uint32_t>{0x1F, 0x1E, 0x1C, 0x00, 0x02, 0x36, 0x03, 0x0C}));
  EXPECT_EQ(e.dec, (std::vector<float>{28, 24, 16, 0, 0.125f, -6, 0.1875f, 1}));
  const Trip a = run("mxfp6_e3m2:block=8:round=away", x, 1, 8);
  EXPECT_EQ(unpack_codes(a.e.elements, 1, 8, 6),
            (std::vector<uint32_t>{0x1F, 0x1F, 0x1D, 0x01, 0x02, 0x36, 0x03, 0x0C}));
  EXPECT_EQ(a.dec, (std::vector<float>{28, 28, 20, 0.0625f, 0.125f, -6, 0.1875f, 1}));
}

TEST(OcpMxGolden, Mxfp8E5M2WithSubnormalElements) {
  // amax 1 -> floor_log2 0 - emax 15 -> shared -15 (code 112), V / X = V * 2^15.
  // 1 -> 2^15 = 0x78; 0.875 -> 1.75 * 2^14 = 0x77; 0.8125 -> 26624, halfway between 24576
  // (mant 10, 0x76) and 28672 (0x77): RNE 0x76, away 0x77. Subnormal elements (step 2^-16):
  // 1.5*2^-30 -> 3 * 2^-16 = c3; 2^-32 -> 2^-17, half the smallest subnormal: RNE 0, away c1;
  // 3*2^-32 -> 1.5 * 2^-16: tie c1|c2 -> c2 both. Values = code value * 2^-15.
  const std::vector<float> x = {1, 0.875f, 0.8125f, 1.5f * 0x1p-30f, 0x1p-32f, 3 * 0x1p-32f, -1, 0};
  const Trip e = run("mxfp8_e5m2:block=8", x, 1, 8);
  EXPECT_EQ(e.e.scales, std::vector<uint8_t>{112});
  EXPECT_EQ(e.e.elements, (std::vector<uint8_t>{0x78, 0x77, 0x76, 0x03, 0x00, 0x02, 0xF8, 0x00}));
  EXPECT_EQ(e.dec, (std::vector<float>{1, 0.875f, 0.75f, 1.5f * 0x1p-30f, 0, 0x1p-30f, -1, 0}));
  const Trip a = run("mxfp8_e5m2:block=8:round=away", x, 1, 8);
  EXPECT_EQ(a.e.elements, (std::vector<uint8_t>{0x78, 0x77, 0x77, 0x03, 0x01, 0x02, 0xF8, 0x00}));
  EXPECT_EQ(a.dec,
            (std::vector<float>{1, 0.875f, 0.875f, 1.5f * 0x1p-30f, 0x1p-31f, 0x1p-30f, -1, 0}));
}

TEST(OcpMxGolden, Mxint8TiesAndClamp) {
  // amax 127.5/64 = 1.9921875 -> floor_log2 0 - emax 0 -> X = 1 (code 127); P = round(V * 64):
  // 96, -48, 0.5 (RNE 0 / away 1), 1.5 (2 both), -0.5 (RNE 0 / away -1), 127.5 (RNE 128 /
  // away 128, clamped to 127: the code -128 is never used), -2.5 (RNE -2 / away -3), 0.
  const std::vector<float> x = {1.5f,     -0.75f,     0x1p-7f,      3 * 0x1p-7f,
                                -0x1p-7f, 1.9921875f, -5 * 0x1p-7f, 0};
  const Trip e = run("mxint8:block=8", x, 1, 8);
  EXPECT_EQ(e.e.scales, std::vector<uint8_t>{127});
  EXPECT_EQ(e.e.elements, (std::vector<uint8_t>{0x60, 0xD0, 0x00, 0x02, 0x00, 0x7F, 0xFE, 0x00}));
  EXPECT_EQ(e.dec, (std::vector<float>{1.5f, -0.75f, 0, 2 / 64.0f, 0, 127 / 64.0f, -2 / 64.0f, 0}));
  const Trip a = run("mxint8:block=8:round=away", x, 1, 8);
  EXPECT_EQ(a.e.elements, (std::vector<uint8_t>{0x60, 0xD0, 0x01, 0x02, 0xFF, 0x7F, 0xFD, 0x00}));
  EXPECT_EQ(a.dec, (std::vector<float>{1.5f, -0.75f, 1 / 64.0f, 2 / 64.0f, -1 / 64.0f, 127 / 64.0f,
                                       -3 / 64.0f, 0}));
  // MXINT8 hardware view: mant = the signed byte, shift 0, scale_exp = shared_exp - 6.
  EXPECT_EQ(a.d.mant, (std::vector<int32_t>{96, -48, 1, 2, -1, 127, -3, 0}));
  EXPECT_EQ(a.d.scale_exp, std::vector<int32_t>{-6});
}

TEST(OcpMxGolden, AmaxJustBelowAPowerOfTwo) {
  // 8 - 2^-21 has floor_log2 2 (a float log2 would round to 3): shared_exp 0 for MXFP4, and the
  // element saturates to 6. With amax exactly 8 the shared exponent is 1 and 8 / 2 = 4 is exact.
  const float below8 = std::nextafter(8.0f, 0.0f);
  const Trip b = run("mxfp4:block=4", {below8, 1, 0.5f, -2}, 1, 4);
  EXPECT_EQ(b.e.scales, std::vector<uint8_t>{127});
  EXPECT_EQ(b.dec, (std::vector<float>{6, 1, 0.5f, -2}));
  const Trip p = run("mxfp4:block=4", {8, 1, 0.5f, -2}, 1, 4);
  EXPECT_EQ(p.e.scales, std::vector<uint8_t>{128});
  EXPECT_EQ(p.dec, (std::vector<float>{8, 1, 0, -2}));  // 0.5 / 2 = 0.25: tie -> 0 (RNE)
  // E4M3, one block per row: 512 - 2^-15 has floor_log2 8 -> X = 1 (code 127) -> saturates to
  // 448; 512 -> X = 2 (code 128) -> 256 exact; 1 -> 1 / 0.5 in the two rows.
  const Trip e = run("mxfp8_e4m3:block=2", {std::nextafter(512.0f, 0.0f), 1, 512, 1}, 2, 2);
  EXPECT_EQ(e.e.scales, (std::vector<uint8_t>{127, 128}));
  EXPECT_EQ(e.e.elements, (std::vector<uint8_t>{0x7E, 0x38, 0x78, 0x30}));
  EXPECT_EQ(e.dec, (std::vector<float>{448, 1, 512, 1}));
}

TEST(OcpMxGolden, SharedExponentClampsAtBothEnds) {
  // Low end, MXFP4: amax 2^-130 (FP32 subnormal): floor_log2 -130 - 2 = -132 -> clamped to -127
  // (code 0, X = 2^-127). 2^-130 / X = 0.125 < 0.25 -> 0; -2^-131 -> -0.0625 -> -0 (code 8).
  const Trip lo = run("mxfp4:block=2", {0x1p-130f, -0x1p-131f}, 1, 2);
  EXPECT_EQ(lo.e.scales, std::vector<uint8_t>{0});
  EXPECT_EQ(mxtest::codes4(lo.e), (std::vector<uint32_t>{0, 8}));
  EXPECT_TRUE(same_bits(lo.dec, {0.0f, 0.0f}));
  // amax 2^-125: shared exactly -127; V / X = 4, 3, 0.5 -> codes 6, 5, 1, decoded exactly
  // (2^-128 is an FP32 subnormal).
  const Trip lo2 = run("mxfp4:block=3", {0x1p-125f, 3 * 0x1p-127f, 0x1p-128f}, 1, 3);
  EXPECT_EQ(lo2.e.scales, std::vector<uint8_t>{0});
  EXPECT_EQ(mxtest::codes4(lo2.e), (std::vector<uint32_t>{6, 5, 1}));
  EXPECT_EQ(lo2.dec, (std::vector<float>{0x1p-125f, 3 * 0x1p-127f, 0x1p-128f}));
  // E4M3: amax 2^-120 -> -120 - 8 = -128 -> clamped to -127: 2^-120 / 2^-127 = 128 = 0x70.
  const Trip lo3 = run("mxfp8_e4m3:block=2", {0x1p-120f, 0x1p-127f}, 1, 2);
  EXPECT_EQ(lo3.e.scales, std::vector<uint8_t>{0});
  EXPECT_EQ(lo3.e.elements, (std::vector<uint8_t>{0x70, 0x38}));  // 128 and 1.0
  EXPECT_EQ(lo3.dec, (std::vector<float>{0x1p-120f, 0x1p-127f}));
  // High end, MXFP4: amax FLT_MAX -> floor_log2 127 - 2 = 125 (code 252); FLT_MAX / 2^125 =
  // 8 - 2^-21 saturates to 6 -> 1.5 * 2^127; 2^125 -> 1 (c2); 1.0 / 2^125 -> 0.
  const Trip hi = run("mxfp4:block=4", {FLT_MAX, -FLT_MAX, 0x1p125f, 1}, 1, 4);
  EXPECT_EQ(hi.e.scales, std::vector<uint8_t>{252});
  EXPECT_EQ(mxtest::codes4(hi.e), (std::vector<uint32_t>{7, 15, 2, 0}));
  EXPECT_EQ(hi.dec, (std::vector<float>{0x1.8p127f, -0x1.8p127f, 0x1p125f, 0}));
  // MXINT8: amax FLT_MAX -> shared 127 (code 254); FLT_MAX * 2^-127 * 64 = 128 - 2^-17 -> 128
  // -> clamped to 127; 2^126 -> 32.
  const Trip hi8 = run("mxint8:block=2", {FLT_MAX, 0x1p126f}, 1, 2);
  EXPECT_EQ(hi8.e.scales, std::vector<uint8_t>{254});
  EXPECT_EQ(hi8.e.elements, (std::vector<uint8_t>{0x7F, 0x20}));
  EXPECT_EQ(hi8.dec, (std::vector<float>{127 * 0x1p121f, 0x1p126f}));
  // MXINT8 at the low clamp needs the split multiply 2^(6+127): 2^-130 * 2^133 = 8.
  const Trip lo8 = run("mxint8:block=2", {0x1p-130f, -0x1p-133f}, 1, 2);
  EXPECT_EQ(lo8.e.scales, std::vector<uint8_t>{0});
  EXPECT_EQ(lo8.e.elements, (std::vector<uint8_t>{0x08, 0xFF}));
  EXPECT_EQ(lo8.dec, (std::vector<float>{0x1p-130f, -0x1p-133f}));
}

TEST(OcpMxGolden, AllZeroBlocks) {
  // All-zero block: scale code 0 (2^-127), element codes 0 (or -0, 8, for -0.0 inputs); every
  // value decodes to +0. The second block (amax 1: shared 0 - 2 = -2, code 125, X = 1/4) holds
  // P = 4 (code 6).
  const Trip r = run("mxfp4:block=4", {0, -0.0f, 0, -0.0f, 1, 0, 0, 0}, 1, 8);
  EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{0, 125}));
  EXPECT_EQ(mxtest::codes4(r.e), (std::vector<uint32_t>{0, 8, 0, 8, 6, 0, 0, 0}));
  EXPECT_TRUE(same_bits(r.dec, {0, 0, 0, 0, 1, 0, 0, 0}));
  for (const char* n : kMxNames) {
    const Trip z = run(std::string(n) + ":block=3", std::vector<float>(6, 0.0f), 2, 3);
    EXPECT_EQ(z.e.scales, (std::vector<uint8_t>{0, 0})) << n;
    EXPECT_TRUE(same_bits(z.dec, std::vector<float>(6, 0.0f))) << n;
  }
}

TEST(OcpMxGolden, NanAndInfBlocksDecodeToNan) {
  // Blocks of 4: [1 NaN 2 3] -> NaN scale 0xFF, codes 0; [4 5 6 7] normal (amax 7: floor_log2
  // 2 - 15 = -13, code 114; E5M2 holds 4..7 exactly); [-Inf 0 1 0] -> NaN block.
  const std::vector<float> x = {1, kNaN, 2, 3, 4, 5, 6, 7, -kInf, 0, 1, 0};
  const Trip r = run("mxfp8_e5m2:block=4", x, 1, 12);
  EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{0xFF, 114, 0xFF}));
  // 4..7 * 2^13 = 1, 1.25, 1.5, 1.75 * 2^15: exponent field 30, mantissas 00..11.
  EXPECT_EQ(r.e.elements, (std::vector<uint8_t>{0, 0, 0, 0, 0x78, 0x79, 0x7A, 0x7B, 0, 0, 0, 0}));
  mxtest::expect_nan_range(r.dec, 0, 4);
  EXPECT_EQ(std::vector<float>(r.dec.begin() + 4, r.dec.begin() + 8),
            (std::vector<float>{4, 5, 6, 7}));
  mxtest::expect_nan_range(r.dec, 8, 12);
  EXPECT_TRUE(std::isnan(r.d.scale_mul[0]));
  EXPECT_EQ(r.d.scale_mul[1], 1.0f);
  EXPECT_TRUE(std::isnan(decoded_value(r.d, 0, 9)));
  // Same rule for every element type; +Inf alone in a block also gives NaN (E8M0 has no Inf).
  for (const char* n : kMxNames) {
    const Trip s = run(std::string(n) + ":block=2", {kInf, 1, 1, 2}, 1, 4);
    EXPECT_EQ(s.e.scales[0], kE8M0Nan) << n;
    mxtest::expect_nan_range(s.dec, 0, 2);
    EXPECT_EQ(s.dec[3], 2.0f) << n;
  }
}

TEST(OcpMxGolden, PartialLastBlockAndOddRowBytes) {
  // cols 10, block 4: blocks of 4, 4, 2. Row 0: [1 2 3 4] amax 4 -> X = 1 -> codes 2 4 5 6;
  // [.5 .25 .125 .0625] amax .5 -> floor -1 - 2 = -3 -> X = 1/8 -> P = 4 2 1 .5 -> 6 4 2 1;
  // [12 1] amax 12 -> floor 3 - 2 = 1 -> X = 2 -> P = 6 .5 -> 7 1. All exact.
  // Row 1 = -2 * row 0: X doubles per block (scale codes 128 125 129), codes get the sign bit.
  std::vector<float> x = {1, 2, 3, 4, 0.5f, 0.25f, 0.125f, 0.0625f, 12, 1};
  for (int i = 0; i < 10; ++i) x.push_back(-2 * x[i]);
  const Trip r = run("mxfp4:block=4", x, 2, 10);
  EXPECT_EQ(r.e.scales, (std::vector<uint8_t>{127, 124, 128, 128, 125, 129}));
  EXPECT_EQ(r.e.elements,
            (std::vector<uint8_t>{0x42, 0x65, 0x46, 0x12, 0x17, 0xCA, 0xED, 0xCE, 0x9A, 0x9F}));
  EXPECT_EQ(r.dec, x);
  EXPECT_EQ(r.d.group_cols, 4);
  EXPECT_EQ(r.d.scale_exp.size(), 6u);
  // cols 9: 4.5 bytes per row -> 5, the last high nibble zero; the 1-element last block has its
  // own scale (amax 12).
  std::vector<float> y(x.begin(), x.begin() + 9);
  y[8] = 12;
  const Trip o = run("mxfp4:block=4", y, 1, 9);
  EXPECT_EQ(o.e.elements, (std::vector<uint8_t>{0x42, 0x65, 0x46, 0x12, 0x07}));
  EXPECT_EQ(o.e.scales, (std::vector<uint8_t>{127, 124, 128}));  // 12 alone: floor 3 - 2 = 1
  EXPECT_EQ(o.dec, y);
}

TEST(OcpMxGolden, ZeroRowsAndCols) {
  for (const char* n : kMxNames) {
    const auto f = make_format(n);
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{0, 5}, {3, 0}, {0, 0}}) {
      std::vector<float> x;
      const EncodedTensor e = f->encode(x.data(), rows, cols);
      EXPECT_EQ(e.rows, rows);
      EXPECT_EQ(e.cols, cols);
      EXPECT_TRUE(e.elements.empty()) << n;
      EXPECT_TRUE(e.scales.empty()) << n;
      std::vector<float> out;
      f->decode(e, out.data());
      f->quantize(x.data(), rows, cols, out.data());
      const DecodedTensor d = f->decode_operand(e);
      EXPECT_EQ(d.rows, rows);
      EXPECT_EQ(d.cols, cols);
      EXPECT_TRUE(d.mant.empty());
    }
  }
}

TEST(OcpMxDot, TwoBlocksByHand) {
  // MXFP4, block 4, K = 8. A: block 0 = [6 -3 1 .5] (amax 6 -> X_A0 = 1, P = 6 -3 1 .5);
  // block 1 = [.5 .25 -.125 .0625] (amax .5 -> X_A1 = 2^-3, P = 4 2 -1 .5).
  // B: block 0 = [4 8 12 16] (amax 16 -> floor 4 - 2 -> X_B0 = 4, P = 1 2 3 4);
  // block 1 = [-3 .75 .25 1] (amax 3 -> floor 1 - 2 -> X_B1 = .5, P = -6 1.5 .5 2).
  // Block 0: 1 * 4 * (6*1 - 3*2 + 1*3 + .5*4) = 4 * 5 = 20.
  // Block 1: 2^-3 * .5 * (4*-6 + 2*1.5 - 1*.5 + .5*2) = 2^-4 * -20.5 = -1.28125.
  // Total 18.71875 (every step exact in FP32).
  const std::vector<float> a = {6, -3, 1, 0.5f, 0.5f, 0.25f, -0.125f, 0.0625f};
  const std::vector<float> b = {4, 8, 12, 16, -3, 0.75f, 0.25f, 1};
  const Trip ra = run("mxfp4:block=4", a, 1, 8);
  const Trip rb = run("mxfp4:block=4", b, 1, 8);
  EXPECT_EQ(ra.dec, a);
  EXPECT_EQ(rb.dec, b);
  EXPECT_EQ(ra.e.scales, (std::vector<uint8_t>{127, 124}));
  EXPECT_EQ(rb.e.scales, (std::vector<uint8_t>{129, 126}));
  const std::vector<float> y = reference_matmul(ra.d, rb.d);
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(y[0], 18.71875f);
  EXPECT_EQ(reference_dot(ra.d, 0, rb.d, 0), 18.71875f);
  // The integer stage: P values as <shift, mant> in units of 2^-1 (E2M1 ulp): A block 0 sums
  // (12 * 2) + (-6 * 4) + (2 * 6) + (1 * 8) = 20 units^2 = 5 in P units.
  int64_t s0 = 0;
  for (int k = 0; k < 4; ++k) {
    s0 += static_cast<int64_t>(ra.d.mant[k]) * (1 << ra.d.shift[k]) * rb.d.mant[k] *
          (1 << rb.d.shift[k]);
  }
  EXPECT_EQ(s0, 20);  // = 5 / (2^-1 * 2^-1)
}

// ---------------------------------------------------------------------------------------------
// Storage, malformed encodings.

TEST(OcpMxStorage, BitsPerElementAtBlock32) {
  const std::vector<float> x = testing::outlier_matrix(4, 64, 9);
  const double want[] = {8.25, 8.25, 6.25, 6.25, 4.25, 8.25};
  for (int i = 0; i < 6; ++i) {
    const Trip r = run(kMxNames[i], x, 4, 64);
    EXPECT_EQ(r.e.bits_per_element(), want[i]) << kMxNames[i];
    EXPECT_EQ(r.e.scales.size(), 8u);
    EXPECT_TRUE(r.e.fp32.empty());
  }
  // Block 16: one more scale byte per 16 elements.
  EXPECT_EQ(run("mxfp4:block=16", x, 4, 64).e.bits_per_element(), 4.5);
}

TEST(OcpMxEdge, MalformedEncodingsAreErrorsOrDocumentedNaN) {
  const auto f = make_format("mxfp4:block=4");
  const std::vector<float> x = testing::outlier_matrix(2, 10, 4);
  const EncodedTensor good = f->encode(x.data(), 2, 10);
  std::vector<float> out(20);
  auto decode = [&](const EncodedTensor& e) { f->decode(e, out.data()); };
  auto operand = [&](const EncodedTensor& e) { (void)f->decode_operand(e); };
  {
    EncodedTensor e = good;
    e.format = "mxfp4:block=8:round=even";
    EXPECT_NE(error_of([&] { decode(e); }).find("mxfp4:block=8"), std::string::npos);
    e.format = "nvfp4:block=16:round=even";
    EXPECT_THROW(decode(e), Error);
    EXPECT_THROW(operand(e), Error);
  }
  {
    EncodedTensor e = good;
    e.elements.pop_back();
    EXPECT_NE(error_of([&] { decode(e); }).find("element bytes"), std::string::npos);
    EXPECT_THROW(operand(e), Error);
  }
  {
    EncodedTensor e = good;
    e.scales.push_back(127);
    EXPECT_NE(error_of([&] { decode(e); }).find("scale"), std::string::npos);
    EXPECT_THROW(operand(e), Error);
  }
  {
    EncodedTensor e = good;
    e.fp32 = {1.0f};
    EXPECT_THROW(decode(e), Error);
  }
  {
    EncodedTensor e = good;
    e.rows = -1;
    EXPECT_THROW(decode(e), Error);
    e.rows = int64_t{1} << 40;
    e.cols = int64_t{1} << 40;
    EXPECT_THROW(decode(e), Error);
  }
  {
    // Scale code 0xFF: that block decodes to NaN, the others are untouched.
    EncodedTensor e = good;
    e.scales[1] = kE8M0Nan;
    f->decode(e, out.data());
    std::vector<float> ref(20);
    f->decode(good, ref.data());
    for (int i = 0; i < 20; ++i) {
      if (i >= 4 && i < 8) {
        EXPECT_TRUE(std::isnan(out[i])) << i;
      } else {
        EXPECT_EQ(bits_of(out[i]), bits_of(ref[i])) << i;
      }
    }
    const DecodedTensor d = f->decode_operand(e);
    EXPECT_TRUE(std::isnan(decoded_value(d, 0, 5)));
  }
  {
    // Element codes that are NaN / Inf in their type: decode gives NaN / Inf times X; the
    // hardware view has no pair for them and says so.
    const auto g = make_format("mxfp8_e4m3:block=2");
    EncodedTensor e = g->encode(std::vector<float>{1, 2}.data(), 1, 2);
    e.elements[1] = 0x7F;
    std::vector<float> o(2);
    g->decode(e, o.data());
    EXPECT_EQ(o[0], 1.0f);
    EXPECT_TRUE(std::isnan(o[1]));
    EXPECT_NE(error_of([&] { (void)g->decode_operand(e); }).find("NaN/Inf code"),
              std::string::npos);
    const auto h = make_format("mxfp8_e5m2:block=2");
    EncodedTensor i = h->encode(std::vector<float>{1, 2}.data(), 1, 2);
    i.elements[0] = 0xFC;  // -Inf
    h->decode(i, o.data());
    EXPECT_EQ(o[0], -kInf);
    EXPECT_THROW((void)h->decode_operand(i), Error);
  }
  // encode() rejects shapes beyond the element limit instead of overflowing.
  EXPECT_THROW(f->encode(x.data(), int64_t{1} << 40, int64_t{1} << 40), Error);
  EXPECT_THROW(f->encode(x.data(), -1, 4), Error);
}

// ---------------------------------------------------------------------------------------------
// Universal invariants for every format and option.

TEST(OcpMxInvariants, EveryFormatBlockAndRounding) {
  for (const char* n : kMxNames) {
    for (int block : {32, 16, 7, 2}) {
      for (const char* round : {"even", "away"}) {
        const std::string spec =
            std::string(n) + ":block=" + std::to_string(block) + ":round=" + round;
        const auto f = make_format(spec);
        const auto x = testing::outlier_matrix(5, 70, 21);
        testing::check_codec_invariants(*f, x, 5, 70);
        testing::check_codec_invariants(*f, testing::extreme_matrix(70, 22), 4, 70);
        // NaN / Inf blocks keep the invariants (NaN bit patterns included).
        auto xn = x;
        xn[3] = kNaN;
        xn[75] = -kInf;
        testing::check_codec_invariants(*f, xn, 5, 70);
        const auto w = testing::outlier_matrix(4, 70, 23);
        testing::check_matmul_invariant(*f, x, 5, w, 4, 70);
      }
    }
  }
}

}  // namespace
}  // namespace qarch::quant
