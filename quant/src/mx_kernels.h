// Internal element kernels of the MX / NVFP4 / AMXFP4 families (mx_formats.cpp,
// nvfp4_format.cpp, amxfp4_format.cpp). fp_encode() in fp_element.cpp is the one truth for the
// element types, but it is generic (runtime spec, special-value branches) and so slow; these are
// compile-time specializations of the same rounding, inline so the block loops vectorize. The
// tests (tests/quant/mx_test.cpp) check every kernel bit-identical to fp_encode() over sweeps of
// FP32 bit patterns that include every tie, subnormals and saturation.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "intbfp_kernels.h"
#include "qarch/quant/fp_element.h"

namespace qarch::quant::detail {

/// E2M1 value of every code with both zeros as +0: the PE's integer 0 has no sign, and decode()
/// must equal the decoded operand bit for bit. Shared by nvfp4 and amxfp4.
inline const std::array<float, 16>& e2m1_values() {
  static const std::array<float, 16> v = [] {
    std::array<float, 16> t{};
    for (uint32_t c = 0; c < 16; ++c) {
      const float x = fp_decode(kE2M1, c);
      t[c] = x == 0.0f ? 0.0f : x;
    }
    return t;
  }();
  return v;
}

/// A sign-magnitude FP element type at compile time (same meaning as FpElementSpec).
template <int kEbits, int kMbitsT, int kBias, uint32_t kMaxCodeT>
struct FpElem {
  static constexpr int kBits = 1 + kEbits + kMbitsT;
  static constexpr int kMbits = kMbitsT;
  static constexpr int kEmin = 1 - kBias;  // smallest normal exponent
  static constexpr int kEmax = static_cast<int>(kMaxCodeT >> kMbitsT) - kBias;  // largest
  static constexpr uint32_t kMaxCode = kMaxCodeT;  // magnitude code of the largest finite value
  static constexpr uint32_t kSign = 1u << (kEbits + kMbitsT);
};
using ElemE4M3 = FpElem<4, 3, 7, 0x7e>;   // max 448 (S.1111.111 is NaN)
using ElemE5M2 = FpElem<5, 2, 15, 0x7b>;  // max 57344 (exponent 11111 is Inf/NaN)
using ElemE3M2 = FpElem<3, 2, 3, 0x1f>;   // max 28
using ElemE2M3 = FpElem<2, 3, 1, 0x1f>;   // max 7.5
using ElemE2M1 = FpElem<2, 1, 1, 0x07>;   // max 6

/// Saturating magnitude code of T for a = FP32 bits of |y| (finite, or Inf -> max code):
/// round to nearest, ties to even (or away from zero with kAway), exactly as fp_encode() with
/// Overflow::kSaturate. One formula covers normal and subnormal targets: keep the bits of the
/// 24-bit significand above the target quantum 2^(max(e, emin) - mbits), round on the rest; a
/// round-up into the next binade carries into the exponent field by the addition.
template <class T, bool kAway>
inline uint32_t fp_mag_code(uint32_t a) {
  const uint32_t fexp = a >> 23;
  const uint32_t sig = (a & 0x7fffffu) | (fexp != 0 ? 0x800000u : 0u);
  const int e = fexp != 0 ? static_cast<int>(fexp) - 127 : -126;
  int r = 23 - T::kMbits + (e < T::kEmin ? T::kEmin - e : 0);
  r = r < 30 ? r : 30;  // beyond 25 every bit is below half a quantum anyway
  const uint32_t m = sig >> r;
  const uint32_t rem = sig & ((1u << r) - 1u);
  const uint32_t half = 1u << (r - 1);
  const uint32_t up = kAway ? (rem >= half) : (rem > half || (rem == half && (m & 1u)));
  const uint32_t code =
      (static_cast<uint32_t>(e > T::kEmin ? e - T::kEmin : 0) << T::kMbits) + m + up;
  return code < T::kMaxCode ? code : T::kMaxCode;
}

/// Full code (sign included) of T for any non-NaN y; -0 and negative values that round to
/// zero keep their sign bit, as fp_encode() does.
template <class T, bool kAway>
inline uint32_t fp_code(float y) {
  const uint32_t u = f2u(y);
  return ((u >> 31) ? T::kSign : 0u) | fp_mag_code<T, kAway>(u & 0x7fffffffu);
}

/// The same code as fp_code<T, kAway>(y) for |y| < 2^64 (not NaN), computed with FP32
/// arithmetic only (no variable shifts), so a block loop of it vectorizes with SSE2:
///   q = 2^(max(floor_log2|y|, emin) - mbits)        the target quantum (from exponent bits)
///   r = (|y| + 2^23 q) - 2^23 q                      |y| rounded to a multiple of q: the sum
///       lies in [2^23 q, 2^24 q) where the FP32 ulp is q, so the hardware's RNE rounds it
///       (default FP environment; ties go to an even multiple of q = an even element code);
///   kAway: a tie rounded down (|y| - r == q / 2, exact) moves up by q;
///   saturation: |y| is clamped to the largest normal first (on the grid, so r stays <= it);
///   code = r's FP32 exponent/mantissa bits rebased to the
///   element bias (normal r), or r / 2^(emin - mbits) (subnormal r, an exact small integer;
///   no FP32 subnormal is ever produced, which would be slow on some CPUs).
template <class T, bool kAway>
inline uint32_t fp_code_fast(float y) {
  // Every select below is bit arithmetic on non-negative FP32 bit patterns (which order like
  // the values): written as compare-and-select, GCC turns them into data-dependent branches for
  // types whose subnormal range or saturation is hit often (E2M3), and the loop then neither
  // vectorizes nor predicts well (3x slower).
  constexpr int kM = T::kMbits;
  constexpr int32_t kMinBits = (T::kEmin + 127) << 23;  // 2^emin, smallest normal
  constexpr int32_t kMaxBits = ((T::kEmax + 127) << 23) |
                               static_cast<int32_t>((T::kMaxCode & ((1u << kM) - 1u)) << (23 - kM));
  const float sub_scale = u2f(static_cast<uint32_t>(kM - T::kEmin + 127) << 23);
  const uint32_t u = f2u(y);
  // Saturate first: the largest normal is on the grid, so nothing below it rounds above it.
  const int32_t over = static_cast<int32_t>(u & 0x7fffffffu) - kMaxBits;
  const int32_t ai = kMaxBits + (over & (over >> 31));  // min(|y|, max) on the bits
  const float a = u2f(static_cast<uint32_t>(ai));
  const int32_t ediff = (ai & 0x7f800000) - kMinBits;
  const uint32_t ebits = static_cast<uint32_t>(kMinBits + (ediff & ~(ediff >> 31)));  // max
  const float c = u2f(ebits + (static_cast<uint32_t>(23 - kM) << 23));
  float r = (a + c) - c;
  if (kAway) {
    const float half_q = u2f(ebits - (static_cast<uint32_t>(kM + 1) << 23));
    const uint32_t tie = 0u - static_cast<uint32_t>(a - r == half_q);
    r = r + u2f(f2u(2.0f * half_q) & tie);
  }
  const int32_t rb = static_cast<int32_t>(f2u(r));
  const uint32_t normal = static_cast<uint32_t>((rb >> (23 - kM)) - ((126 + T::kEmin) << kM));
  // Subnormal r: r / 2^(emin - mbits) is a small integer; adding 2^23 puts it in the low
  // mantissa bits (no float-to-int conversion; garbage in lanes where r is normal).
  const uint32_t sub = f2u(r * sub_scale + 8388608.0f) - 0x4b000000u;
  const uint32_t is_normal = ~static_cast<uint32_t>((rb - kMinBits) >> 31);
  return ((u >> 31) << (T::kBits - 1)) | (normal & is_normal) | (sub & ~is_normal);
}

/// E2M1 decision thresholds: the midpoints between consecutive magnitudes {0, 0.5, 1, 1.5, 2,
/// 3, 4, 6}. Under RNE a tie goes to the even code: down at 0.25, 1.25, 2.5, 5 (the lower code
/// 0, 2, 4, 6 is even), up at 0.75, 1.75, 3.5 (lower code odd). Under half-away every tie goes
/// up. Scaling all seven by the same power of two gives the thresholds of |V| against X * t_k
/// (exact: each t_k has at most 3 significant bits and X >= 2^-127).
constexpr float kE2M1Thresholds[7] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};

/// E2M1 magnitude code of |y| = a (non-negative, not NaN) against thresholds t (kE2M1Thresholds
/// times a power of two): seven compares, no branches, so the block loops vectorize.
template <bool kAway>
inline uint32_t e2m1_mag_code(float a, const float* t) {
  if (kAway) {
    return static_cast<uint32_t>(a >= t[0]) + (a >= t[1]) + (a >= t[2]) + (a >= t[3]) +
           (a >= t[4]) + (a >= t[5]) + (a >= t[6]);
  }
  return static_cast<uint32_t>(a > t[0]) + (a >= t[1]) + (a > t[2]) + (a >= t[3]) + (a > t[4]) +
         (a >= t[5]) + (a > t[6]);
}

/// Full E2M1 code of y (sign in bit 3) against the unscaled thresholds; equals fp_encode(kE2M1,
/// y) for every non-NaN y.
template <bool kAway>
inline uint32_t e2m1_code(float y) {
  const uint32_t u = f2u(y);
  return ((u >> 28) & 8u) | e2m1_mag_code<kAway>(u2f(u & 0x7fffffffu), kE2M1Thresholds);
}

/// Smallest w >= 0 such that the FP32 quotient fl(w / s) is > t (kStrict) or >= t (s > 0
/// finite, t > 0). fl(w / s) is non-decreasing in w, so [fl(w / s) > t] <=> [w >= threshold]:
/// comparing w against these per-divisor thresholds gives exactly the E2M1 code of fl(w / s)
/// without dividing. Starts at t * s (exact for E2M1 thresholds, which have <= 3 significant
/// bits, times 8-bit scales) and walks to the boundary one float at a time (a few steps).
inline float quotient_threshold(float t, float s, bool strict) {
  auto holds = [&](float w) {
    const float y = w / s;
    return strict ? y > t : y >= t;
  };
  float w = t * s;
  if (holds(w)) {
    while (w > 0.0f) {
      const float below = u2f(f2u(w) - 1u);  // next float toward 0 (w > 0)
      if (!holds(below)) break;
      w = below;
    }
  } else {
    do {
      w = u2f(f2u(w) + 1u);  // next float away from 0
    } while (!holds(w));
  }
  return w;
}

/// The seven thresholds on |w| that give e2m1_mag_code(fl(|w| / s)) as a count of |w| >= W[k].
template <bool kAway>
inline void e2m1_quotient_thresholds(float s, float* out) {
  for (int k = 0; k < 7; ++k) {
    // RNE: strict at the ties that go down (lower code even: k = 0, 2, 4, 6); away: never.
    const bool strict = !kAway && (k % 2 == 0);
    out[k] = quotient_threshold(kE2M1Thresholds[k], s, strict);
  }
}

/// E2M1 magnitude code as a count of a >= w[k] (thresholds from e2m1_quotient_thresholds).
inline uint32_t e2m1_count_ge(float a, const float* w) {
  return static_cast<uint32_t>(a >= w[0]) + (a >= w[1]) + (a >= w[2]) + (a >= w[3]) + (a >= w[4]) +
         (a >= w[5]) + (a >= w[6]);
}

/// MXINT8 element code for y = V / X * 64 (|y| < 2^22): round to an integer, clamp to
/// [-127, 127] (specs/formats.md: the code -128 is unused), two's complement byte.
template <bool kAway>
inline uint32_t int8_code(float y) {
  float r = round_to_int<kAway>(y);
  r = r < -127.0f ? -127.0f : (r > 127.0f ? 127.0f : r);
  return static_cast<uint32_t>(static_cast<int32_t>(r)) & 0xffu;
}

/// floor(log2) of a non-zero finite magnitude given its FP32 bits (a = bits & 0x7fffffff).
inline int floor_log2_bits(uint32_t a) {
  const int fexp = static_cast<int>(a >> 23);
  return fexp != 0 ? fexp - 127 : (31 - __builtin_clz(a)) - 149;
}

/// OCP MX shared exponent from the FP32 bits of the block's largest magnitude (finite):
/// floor_log2 - emax_elem, clamped to [-127, 127]; 0 -> -127.
inline int shared_exp_bits(uint32_t amax_bits, int emax_elem) {
  if (amax_bits == 0) return -127;
  const int s = floor_log2_bits(amax_bits) - emax_elem;
  return s < -127 ? -127 : (s > 127 ? 127 : s);
}

}  // namespace qarch::quant::detail
