#include "qarch/quant/fp_element.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

#include "qarch/common/error.h"

namespace qarch::quant {

const FpElementSpec kE5M2{"e5m2", 5, 2, 15, FpSpecials::kIeee};
const FpElementSpec kE4M3{"e4m3", 4, 3, 7, FpSpecials::kNanOnly};
const FpElementSpec kE3M2{"e3m2", 3, 2, 3, FpSpecials::kNone};
const FpElementSpec kE2M3{"e2m3", 2, 3, 1, FpSpecials::kNone};
const FpElementSpec kE2M1{"e2m1", 2, 1, 1, FpSpecials::kNone};
const FpElementSpec kFP16{"fp16", 5, 10, 15, FpSpecials::kIeee};
const FpElementSpec kBF16{"bf16", 8, 7, 127, FpSpecials::kIeee};

namespace {

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

uint32_t all_ones(int n) {
  return (1u << n) - 1u;
}

}  // namespace

uint32_t FpElementSpec::max_code() const {
  switch (specials) {
    case FpSpecials::kNone:
      return all_ones(ebits + mbits);
    case FpSpecials::kNanOnly:
      return all_ones(ebits + mbits) - 1u;
    case FpSpecials::kIeee:
      return ((all_ones(ebits) - 1u) << mbits) | all_ones(mbits);
  }
  return 0;
}

int FpElementSpec::emax() const {
  return static_cast<int>(max_code() >> mbits) - bias;
}

float FpElementSpec::max_normal() const {
  return fp_decode(*this, max_code());
}
float FpElementSpec::min_normal() const {
  return std::ldexp(1.0f, emin());
}
float FpElementSpec::min_subnormal() const {
  return std::ldexp(1.0f, ulp_exp());
}

const FpElementSpec& fp_element_by_name(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const FpElementSpec* s : {&kE5M2, &kE4M3, &kE3M2, &kE2M3, &kE2M1, &kFP16, &kBF16}) {
    if (n == s->name) return *s;
  }
  throw Error("unknown FP element type '" + name +
              "' (known: e5m2, e4m3, e3m2, e2m3, e2m1, fp16, bf16)");
}

int floor_log2(float x) {
  const uint32_t a = float_bits(x) & 0x7fffffffu;
  const int fexp = static_cast<int>(a >> 23);
  if (fexp != 0) return fexp - 127;
  // FP32 subnormal: value = m * 2^-149 with m < 2^23.
  const uint32_t m = a & 0x7fffffu;
  int msb = 31 - __builtin_clz(m);
  return msb - 149;
}

bool fp_is_special(const FpElementSpec& spec, uint32_t code) {
  const uint32_t mag = code & all_ones(spec.ebits + spec.mbits);
  switch (spec.specials) {
    case FpSpecials::kNone:
      return false;
    case FpSpecials::kNanOnly:
      return mag == all_ones(spec.ebits + spec.mbits);
    case FpSpecials::kIeee:
      return (mag >> spec.mbits) == all_ones(spec.ebits);
  }
  return false;
}

uint32_t fp_encode(const FpElementSpec& spec, float x, Rounding rounding, Overflow overflow) {
  const uint32_t bits = float_bits(x);
  const uint32_t sign = (bits >> 31) ? spec.sign_bit() : 0u;
  const uint32_t abs_bits = bits & 0x7fffffffu;
  const uint32_t nan_code = all_ones(spec.ebits + spec.mbits);
  const uint32_t inf_code = all_ones(spec.ebits) << spec.mbits;

  if (abs_bits >= 0x7f800000u) {  // Inf or NaN
    if (abs_bits > 0x7f800000u) return spec.specials == FpSpecials::kNone ? 0u : (sign | nan_code);
    if (overflow == Overflow::kOcp && spec.specials == FpSpecials::kIeee) return sign | inf_code;
    if (overflow == Overflow::kOcp && spec.specials == FpSpecials::kNanOnly) return sign | nan_code;
    return sign | spec.max_code();
  }
  const int fexp = static_cast<int>(abs_bits >> 23);
  // 24-bit significand s and exponent e with |x| = s * 2^(e - 23).
  const uint32_t s = (abs_bits & 0x7fffffu) | (fexp ? 0x800000u : 0u);
  const int e = fexp ? fexp - 127 : -126;
  const int emin = spec.emin();
  // Bits of s below the target quantum 2^(max(e, emin) - mbits).
  int r = 23 - spec.mbits + std::max(0, emin - e);
  r = std::min(r, 30);
  uint32_t m = s >> r;
  const uint32_t rem = s & all_ones(r);
  const uint32_t half = 1u << (r - 1);
  if (rounding == Rounding::kNearestEven) {
    m += (rem > half || (rem == half && (m & 1u))) ? 1u : 0u;
  } else {
    m += (rem >= half) ? 1u : 0u;
  }
  // Normal: code = (e - emin) << mbits + m with m in [2^mbits, 2^(mbits+1)] (the carry of a
  // round-up into the next binade falls out of the addition); subnormal: code = m.
  const uint64_t code = (static_cast<uint64_t>(std::max(0, e - emin)) << spec.mbits) + m;
  if (code > spec.max_code()) {
    if (overflow == Overflow::kOcp && spec.specials == FpSpecials::kIeee) return sign | inf_code;
    if (overflow == Overflow::kOcp && spec.specials == FpSpecials::kNanOnly) return sign | nan_code;
    return sign | spec.max_code();
  }
  return sign | static_cast<uint32_t>(code);
}

float fp_decode(const FpElementSpec& spec, uint32_t code) {
  const bool neg = (code & spec.sign_bit()) != 0;
  const uint32_t mag = code & all_ones(spec.ebits + spec.mbits);
  if (fp_is_special(spec, code)) {
    const bool inf = spec.specials == FpSpecials::kIeee && (mag & all_ones(spec.mbits)) == 0;
    const float v =
        inf ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
    return neg ? -v : v;
  }
  const ExpIntPair p = fp_decode_pair(spec, mag);  // magnitude: keeps the sign of -0
  const float v = std::ldexp(static_cast<float>(p.mant), p.shift + spec.ulp_exp());
  return neg ? -v : v;
}

ExpIntPair fp_decode_pair(const FpElementSpec& spec, uint32_t code) {
  const bool neg = (code & spec.sign_bit()) != 0;
  const uint32_t mag = code & all_ones(spec.ebits + spec.mbits);
  const uint32_t ef = mag >> spec.mbits;
  const uint32_t mf = mag & all_ones(spec.mbits);
  int32_t mant = static_cast<int32_t>(ef ? ((1u << spec.mbits) | mf) : mf);
  const int32_t shift = ef ? static_cast<int32_t>(ef) - 1 : 0;
  return {neg ? -mant : mant, shift};
}

float fp_round(const FpElementSpec& spec, float x, Rounding rounding, Overflow overflow) {
  return fp_decode(spec, fp_encode(spec, x, rounding, overflow));
}

}  // namespace qarch::quant
