// Small IEEE-like floating-point element formats: the OCP MX element types (E5M2, E4M3,
// E3M2, E2M3, E2M1) and FP16 / BF16, with bit-exact encode (round to nearest, even or
// half-away; saturate or OCP overflow) and decode. Every FP-based format in quant/ (MX,
// NVFP4, AMXFP4, scale codes) goes through these functions: one truth per element type.
//
// Facts: OCP Microscaling Formats (MX) v1.0, section 5.3 (element types), and the OCP
// 8-bit Floating Point Specification (OFP8) rev 1.0 (E4M3 has no Inf and one NaN
// mantissa, S.1111.111; E5M2 is IEEE-like).
#pragma once

#include <cstdint>
#include <string>

namespace qarch::quant {

/// How a value between two representable points is rounded.
enum class Rounding {
  kNearestEven,  ///< round to nearest, ties to even (IEEE RNE; the OCP MX default)
  kNearestAway,  ///< round to nearest, ties away from zero (microxcaling's "nearest")
};

/// What an encoder does with a finite value beyond the largest normal.
enum class Overflow {
  kSaturate,  ///< clamp to +-max normal (OCP "SAT"; the default everywhere)
  kOcp,       ///< OCP "OVF" mode: Inf where the format has one, else NaN (FP8 only)
};

/// Which codes of the top exponent are special.
enum class FpSpecials {
  kNone,     ///< every code is a finite number (E3M2, E2M3, E2M1)
  kNanOnly,  ///< only S.1..1.1..1 is NaN, no Inf (E4M3)
  kIeee,     ///< top exponent reserved: mantissa 0 = Inf, else NaN (E5M2, FP16, BF16)
};

/// A sign-exponent-mantissa element type. Codes are sign-magnitude, sign in bit
/// (ebits + mbits); value of a normal code = 2^(exp - bias) * (1 + mant / 2^mbits),
/// of a subnormal code (exp field 0) = 2^(1 - bias) * mant / 2^mbits.
struct FpElementSpec {
  const char* name;
  int ebits;
  int mbits;
  int bias;
  FpSpecials specials;

  int bits() const { return 1 + ebits + mbits; }
  uint32_t sign_bit() const { return 1u << (ebits + mbits); }
  /// Exponent of the smallest normal, 1 - bias.
  int emin() const { return 1 - bias; }
  /// Exponent of the largest normal (OCP's emax_elem: 8 for E4M3, 15 for E5M2, 2 for E2M1).
  int emax() const;
  /// Magnitude code (no sign) of the largest finite value.
  uint32_t max_code() const;
  float max_normal() const;
  float min_normal() const;
  float min_subnormal() const;
  /// Exponent of one unit of the decoded integer significand: value = mant_int * 2^ulp_exp()
  /// * 2^shift (see decode_pair).
  int ulp_exp() const { return emin() - mbits; }
};

extern const FpElementSpec kE5M2;
extern const FpElementSpec kE4M3;
extern const FpElementSpec kE3M2;
extern const FpElementSpec kE2M3;
extern const FpElementSpec kE2M1;
extern const FpElementSpec kFP16;
extern const FpElementSpec kBF16;

/// Looks an element type up by name ("e4m3", "E2M1", "fp16", "bf16"); throws qarch::Error.
const FpElementSpec& fp_element_by_name(const std::string& name);

/// Encodes x (any float) to a code of `spec`. NaN -> the canonical NaN code (all ones) where
/// the type has NaN; for kNone types NaN has no code: callers must handle NaN first (this
/// returns code 0 for it). +-Inf -> Inf in kOcp mode with kIeee, else +-max normal.
uint32_t fp_encode(const FpElementSpec& spec, float x, Rounding rounding = Rounding::kNearestEven,
                   Overflow overflow = Overflow::kSaturate);

/// Decodes a code (bits above bits() ignored) to its exact float value (NaN/Inf as such).
float fp_decode(const FpElementSpec& spec, uint32_t code);

/// True if the code is NaN or Inf.
bool fp_is_special(const FpElementSpec& spec, uint32_t code);

/// The exponent-integer pair a PE receives for a finite code: value = mant * 2^shift *
/// 2^spec.ulp_exp(). Normal codes: mant = +-(2^mbits + m), shift = exp - 1; subnormal:
/// mant = +-m, shift = 0.
struct ExpIntPair {
  int32_t mant;
  int32_t shift;
};
ExpIntPair fp_decode_pair(const FpElementSpec& spec, uint32_t code);

/// Rounds an FP32 value to the grid of `spec` and returns it as a float (encode+decode fused;
/// for the fast paths of block formats). Same semantics as fp_decode(fp_encode(x)).
float fp_round(const FpElementSpec& spec, float x, Rounding rounding = Rounding::kNearestEven,
               Overflow overflow = Overflow::kSaturate);

/// floor(log2(|x|)) from the float's exponent bits (exact; subnormals handled); x must be
/// finite and non-zero. OCP MX requires this rather than a floating log2 (which misrounds just
/// below powers of two).
int floor_log2(float x);

}  // namespace qarch::quant
