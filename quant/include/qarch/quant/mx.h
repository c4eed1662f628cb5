// OCP Microscaling (MX v1.0) helpers shared by the MX, NVFP4 and AMXFP4 formats and by the
// SystemC / RTL models that decode them: the E8M0 shared-scale rule and codec.
//
// Facts: OCP Microscaling Formats (MX) Specification v1.0 (Sept. 2023), section 5.4.1 (E8M0:
// bias 127, exponents -127..127, code 0xFF = NaN, no zero, no Inf) and section 6.3
// (shared_exp = floor(log2(max_i |V_i|)) - emax_elem, X = 2^shared_exp). specs/formats.md
// requires floor(log2) from the float's exponent bits; floor_log2() (fp_element.h) does that.
#pragma once

#include <cstdint>

namespace qarch::quant {

/// E8M0 code of the NaN scale: every element of its block decodes to NaN.
constexpr uint8_t kE8M0Nan = 0xFF;
/// Smallest and largest shared exponents an E8M0 code can hold (codes 0 and 254).
constexpr int kE8M0MinExp = -127;
constexpr int kE8M0MaxExp = 127;

/// The OCP MX shared exponent of a block whose largest magnitude is `amax` (finite, >= 0):
/// floor_log2(amax) - emax_elem clamped to [-127, 127]. An all-zero block (amax == 0) gets
/// -127, the scale the reference library (microsoft/microxcaling) gives it. emax_elem is the
/// element type's largest normal exponent (FpElementSpec::emax(): 8 for E4M3, 15 for E5M2,
/// 4 for E3M2, 2 for E2M3 and E2M1; 0 for MXINT8).
int mx_shared_exp(float amax, int emax_elem);

/// E8M0 code of a shared exponent in [-127, 127]: shared_exp + 127.
inline uint8_t e8m0_encode(int shared_exp) {
  return static_cast<uint8_t>(shared_exp + 127);
}

/// The scale an E8M0 code stands for: 2^(code - 127) (exact; code 0 is the FP32 subnormal
/// 2^-127), NaN for 0xFF.
float e8m0_decode(uint8_t code);

}  // namespace qarch::quant
