// OliVe outlier-victim pair (OVP) codec: the one definition of the OVP bit layout that the
// formats "olive4"/"olive8" (quant/src/olive_formats.cpp), the SystemC PE models and the RTL
// decoder checks all call.
//
// Facts (Guo et al., "OliVe: Accelerating Large Language Models via Hardware-friendly
// Outlier-Victim Pair Quantization", ISCA 2023, sections 3-4; specs/formats.md "OliVe"):
// - Elements pair up as (2k, 2k+1) along the reduction axis (cols). A pair is one memory unit:
//   one byte for 4-bit OVP (element 2k in the low nibble), two bytes for 8-bit OVP (element 2k
//   in the first byte).
// - Normal values are two's-complement integers in [-(2^(b-1)-1), 2^(b-1)-1] in units of the
//   scale s; the code 2^(b-1) (1000b, 10000000b) is the outlier identifier and never a normal.
// - A pair holding an outlier stores the identifier in the other slot (the victim, decoded 0)
//   and the outlier as "abfloat" (adaptive biased float): sign-magnitude, value
//   sign * (2^mbits + mant) << (exp + bias) in units of s.
// - The bias: the paper chooses it so the abfloat range starts just above the normal range
//   (the "adaptive" bias adapts to the normal type). We use the rule that reproduces every
//   published instance: bias = (b - 1) - mbits, i.e. the smallest abfloat code (exp 0, mant 0)
//   is worth exactly 2^(b-1), one above the largest normal. That code with sign 1 would be the
//   identifier pattern, so encoders never emit exp 0 / mant 0 and the grid starts one mantissa
//   step higher. Instances:
//     olive4        int4 + E2M1, bias 2: {12, 16, 24, 32, 48, 64, 96}      (paper, formats.md)
//     olive8 e4m3   int8 + E4M3, bias 4: (8+m) << (e+4) = {144, 160, ..., 240, 256, 288, ...,
//                   15 << 19 = 7864320}  (the paper's 8-bit outlier type)
//     olive8 e2m5   int8 + E2M5, bias 2: (32+m) << (e+2) = {132, 136, ..., 2016}  (the authors'
//                   public code, clevercool/ANT-Quantization olive_quantization: its outlier
//                   grid 2^i (1 + j/32), i = 5..8, in units of 1/4 of the int8 step)
//   The paper's text on the 8-bit bias could not be re-read while writing this; the rule above
//   is our reading, checked against the 4-bit instance and the authors' code.
// - Rounding: to the nearest point of the combined grid {0..N} U {outlier magnitudes}, ties away
//   from zero (so |x/s| >= 9.5 becomes an outlier in olive4); beyond the largest outlier
//   magnitude the value saturates. (The authors' code breaks ties toward +infinity; the paper
//   does not say; we pick the symmetric rule; the formats' ties=up reproduces the authors'.)
// - The formats' options sign=unsigned|auto and types=flint|int+flint (olive_formats.cpp) use
//   other code spaces, which this codec and the OVP decoders do not read.
// - Decoded element <shift, mant> (value mant << shift in units of s): normal -> <0, x>,
//   outlier -> <exp + bias, +-(2^mbits + mant)>, victim -> <0, 0>.
// Reserved bit patterns the encoder never produces, and what the decoder returns for them:
// - both slots hold the identifier (0x88 in olive4, 0x80 0x80 in olive8): both elements are
//   victims, <0, 0> and <0, 0>;
// - the abfloat code exp 0 / mant 0 / sign 0 in the outlier slot: the abfloat formula,
//   <bias, 2^mbits> (8 in olive4, 128 in olive8 e4m3/e2m5): the decoder has no special case.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "qarch/quant/format.h"
#include "qarch/quant/fp_element.h"

namespace qarch::quant {

/// One OVP variant: element width and the abfloat outlier type (see file comment).
struct OvpType {
  const char* name;  ///< "olive4", "olive8-e4m3", "olive8-e2m5"
  int bits;          ///< element width: 4 or 8
  int ebits;         ///< abfloat exponent bits
  int mbits;         ///< abfloat mantissa bits (1 + ebits + mbits == bits)

  /// Abfloat exponent bias, (bits - 1) - mbits.
  int bias() const { return bits - 1 - mbits; }
  /// Largest normal magnitude N = 2^(bits-1) - 1 (7, 127).
  int32_t normal_max() const { return (1 << (bits - 1)) - 1; }
  /// The outlier identifier code 2^(bits-1) (0x8, 0x80).
  uint32_t identifier() const { return 1u << (bits - 1); }
  uint32_t code_mask() const { return (1u << bits) - 1u; }
  /// Magnitude of abfloat magnitude code c (no sign bit): (2^mbits + mant) << (exp + bias).
  int32_t abfloat_magnitude(uint32_t c) const {
    const uint32_t m = c & ((1u << mbits) - 1u), e = (c >> mbits) & ((1u << ebits) - 1u);
    return static_cast<int32_t>(((1u << mbits) + m) << (e + static_cast<uint32_t>(bias())));
  }
  /// Smallest magnitude the encoder uses for an outlier (code 1: exp 0, mant 1).
  int32_t outlier_min() const { return abfloat_magnitude(1); }
  /// Largest outlier magnitude (saturation point): 96, 7864320, 2016.
  int32_t outlier_max() const { return abfloat_magnitude(identifier() - 1u); }
};

extern const OvpType kOvp4;      ///< int4 + E2M1 abfloat, bias 2 (olive4)
extern const OvpType kOvp8E4M3;  ///< int8 + E4M3 abfloat, bias 4 (olive8, the paper's, default)
extern const OvpType kOvp8E2M5;  ///< int8 + E2M5 abfloat, bias 2 (olive8:outlier=e2m5)

/// Which element survives when both elements of a pair are outliers.
enum class OvpVictim {
  kLarger,  ///< keep the larger |x| / s (paper; equal values keep the even element)
  kEven,    ///< keep the even element 2k (the authors' public code)
};

/// Decodes one pair of element codes (code of element 2k, code of element 2k+1; bits above
/// t.bits ignored) into two <shift, mant> pairs (ExpIntPair::shift, ExpIntPair::mant).
std::array<ExpIntPair, 2> ovp_decode_pair(const OvpType& t, uint32_t even, uint32_t odd);

/// olive4: decodes one OVP byte (element 2k in the low nibble) into two <shift, mant> pairs.
/// This is the function the RTL decoder is checked against.
inline std::array<ExpIntPair, 2> olive4_decode_byte(uint8_t byte) {
  return ovp_decode_pair(kOvp4, byte & 0xFu, byte >> 4);
}

/// How a pair was classified before victim pruning.
enum class OvpPairClass { kNormalNormal, kOutlierNormal, kOutlierOutlier };

/// Encodes one pair from values already divided by the scale (v = x / s): returns the codes of
/// element 2k and 2k+1. NaN inputs are the caller's problem (they encode as 0).
/// ties_up: ties on negative values go toward +inf (the smaller magnitude), as the authors'
/// kernel rounds, except the tie between the largest normal and the smallest outlier, which goes
/// to the outlier (see olive_formats.cpp, option ties=up).
std::array<uint32_t, 2> ovp_encode_pair(const OvpType& t, float v_even, float v_odd,
                                        OvpVictim victim, OvpPairClass* cls = nullptr,
                                        bool ties_up = false);

/// olive4: one OVP byte from two scaled values (element 2k in the low nibble).
inline uint8_t olive4_encode_pair(float v_even, float v_odd, OvpVictim victim) {
  const auto c = ovp_encode_pair(kOvp4, v_even, v_odd, victim);
  return static_cast<uint8_t>(c[0] | (c[1] << 4));
}

/// The value of x / s on the combined OVP grid, in units of s, before victim pruning (exposed
/// for tests and for models that reason about the grid).
int32_t ovp_round(const OvpType& t, float v);

/// 8-bit OVP operands on 4-bit PEs (OliVe section 4, formats.md): a decoded 8-bit element
/// <s, m> is split into a high part <s + 4, m >> 4> (arithmetic shift, in [-8, 7]) and a low part
/// <s, m & 15> (unsigned, in [0, 15]), so that m << s = (hi << (s + 4)) + (lo << s) and
///   x * y = <4,hx><4,hy> + <4,hx><0,ly> + <0,lx><4,hy> + <0,lx><0,ly>   (shifts added to s).
/// Outlier mantissas (+-(8..15) for e4m3, +-(32..63) for e2m5) split the same way.
struct OvpSplit {
  ExpIntPair hi;
  ExpIntPair lo;
};
OvpSplit ovp8_split(ExpIntPair e);

/// Pair statistics of an OVP tensor. Pairs run along cols; an odd last element counts as a pair
/// with its implicit zero partner.
struct OvpPairStats {
  int64_t pairs = 0;
  int64_t normal_normal = 0;
  int64_t outlier_normal = 0;   ///< exactly one outlier (its partner became the victim)
  int64_t outlier_outlier = 0;  ///< two outliers: one kept, one pruned to a victim
  /// False for statistics read from an encoding: the bits cannot tell a pruned outlier from a
  /// normal victim, so every pair holding an outlier is counted in outlier_normal.
  bool pruning_known = true;

  double frac_normal_normal() const { return pairs ? double(normal_normal) / pairs : 0.0; }
  double frac_outlier_normal() const { return pairs ? double(outlier_normal) / pairs : 0.0; }
  double frac_outlier_outlier() const { return pairs ? double(outlier_outlier) / pairs : 0.0; }
};

/// Statistics from an encoded olive4/olive8 tensor (pruning_known = false). Throws qarch::Error
/// if `e` is not an OVP encoding.
OvpPairStats olive_pair_stats(const EncodedTensor& e);

/// Statistics of the pairs of x [rows, cols] as the format `spec` (an olive4/olive8 spec)
/// classifies them, before pruning: normal-normal, outlier-normal, outlier-outlier. (The
/// published OliVe numbers - outlier-outlier 0.03-0.06%, outlier-normal 0.64-1.14% of pairs -
/// are of this kind.) Throws qarch::Error for a non-OVP spec.
OvpPairStats olive_pair_stats(const std::string& spec, const float* x, int64_t rows, int64_t cols);

/// The OliVe MSE scale search over the matrix x [rows, cols] (pairs along cols): with
/// alpha0 = max(|mu + 3 sigma|, |mu - 3 sigma|) (sigma the sample standard deviation, n - 1, as
/// the authors' code uses torch.std), try alpha = alpha0 * i / 100 for i = 75, 77, ..., 249,
/// s = float(alpha / N) (N = t.normal_max()), and return the s whose OVP quantization has the
/// lowest squared error (the first on ties). Returns 1 if no candidate is a positive finite
/// float (e.g. all-zero input).
float olive_search_scale(const OvpType& t, OvpVictim victim, const float* x, int64_t rows,
                         int64_t cols, bool ties_up = false);
/// The same search pricing every candidate with a full pass (the definition; the fast search
/// above returns the same scale, checked by tests).
float olive_search_scale_exhaustive(const OvpType& t, OvpVictim victim, const float* x,
                                    int64_t rows, int64_t cols, bool ties_up = false);

}  // namespace qarch::quant
