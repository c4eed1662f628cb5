// AMXFP4, asymmetric microscaling FP4 (Lee et al., "AMXFP4: Taming Activation Outliers with
// Asymmetric Microscaling Floating-Point for 4-bit LLM Inference", arXiv 2411.09909 / Findings
// of ACL 2025; official code aiha-lab/MX-QLLM): amxfp4, options scale=e5m2|e4m3|pot (default
// e5m2, the published "AMXFP4-FP8"), block=2..1024 (default 32), round=even|away (default even).
//
// Definition (specs/formats.md), pinned down against code: the official repository
// aiha-lab/MX-QLLM is not in the code index we could search; a microxcaling copy carrying the
// asymmetric ("asym") kernels that repository describes is, in alvinshao0313/MXFP4-LLM
// (microxcaling/mx/cpp/mx.cuh: quantize_mx_cuda_kernel / quantize_mx_innermost_cuda_kernel,
// branch asym == 1 for FP scales with scale_mode 152 = E5M2 / 143 = E4M3, asym == 2 for
// power-of-two scales). We follow that kernel ("the authors' code" below) and the paper. A
// block of E2M1 elements has TWO scales, s+ for its elements > 0 and s- for its elements <= 0
// (zeros and -0 included):
//   scale=e5m2 / e4m3:  s+ = Q(max_i x_i / 6), s- = Q(|min_i x_i| / 6), the division in FP32
//       and Q the scale type's rounding (round=even|away, the same mode as the elements, as the
//       authors' code passes one rounding mode to both), saturating at the largest finite value.
//       A zero scale - a block without positive (resp. negative) elements, or one whose extreme
//       rounds to 0 in the scale type - becomes 1.0.
//   scale=pot:  s+ = 2^(floor_log2(max_i x_i) - 2), s- = 2^(floor_log2|min_i x_i| - 2), the OCP
//       MX shared-exponent rule (emax(E2M1) = 2) per sign, clamped to [-127, 127] and stored as
//       E8M0; no extreme of that sign -> 2^-127, as the MX rule gives an all-zero block.
//   q_i = E2M1((x_i > 0 ? x_i / s+ : x_i / s-)) (FP32 division, round=even|away, saturating at
//       6); the value is e2m1(q_i) * (scale of its sign).
// Where we deviate from the authors' code (values only differ in corner cases it mishandles):
//   * Their asym branch takes max/min over the block's signed values, so an all-negative block
//     computes a negative "s+" (and an all-positive block a positive "s-") that no element
//     uses; we store 1.0 (pot: 2^-127) for such an unused scale. Element values are identical.
//   * With E5M2 scales their kernel has no zero-scale check, so a block with max / 6 below
//     2^-17 (E5M2's half smallest subnormal) divides by 0 and produces NaN; we apply the
//     zero -> 1 rule above (as their E4M3 branch and specs/formats.md do), giving zeros.
//   * Their E4M3 scale quantizer saturates at 480 (an E4M3 without a NaN code); we use the OCP
//     E4M3 (max 448, S.1111.111 = NaN) so the stored byte is a standard E4M3. Only blocks
//     whose extreme exceeds 6 * 448 = 2688 see a difference.
// NaN / Inf inputs (same choice as the MX family, see mx_formats.cpp): a block holding a NaN or
// Inf stores the NaN code of the scale type in both scales (0x7F for E5M2 and E4M3, 0xFF for
// E8M0) and zero elements, so the whole block decodes to NaN.
//
// Layout (cols = K; a partial last block is shorter):
//   elements: E2M1 codes, two per byte, element 2k in the low nibble (pack_codes layout), rows
//             byte-aligned; sign in bit 3 (a negative value rounding to 0 keeps its sign bit).
//   scales:   two bytes per (row, block), s+ then s-, row-major [rows][blocks][2]; E5M2 / E4M3
//             codes, or E8M0 (shared_exp + 127) for scale=pot.
//   Storage: 4 + 16 / 32 = 4.5 bits per element at block 32.
// Decoding selects s- for codes with the sign bit AND a non-zero magnitude (a negative-zero code
// is the integer 0, which the PE treats as non-negative; its value is +0 either way). Scale bytes
// are decoded as their type's value whatever they hold (NaN / Inf codes give NaN / Inf).
//
// DecodedTensor: sign_split = true, scale groups 1 x block. scale=e5m2 / e4m3: scale_exp = -1
// (E2M1 ulp), scale_mul = s+ and neg_scale_mul = s-; scale=pot: scale_exp = shared+ - 1,
// neg_scale_exp = shared- - 1, multipliers 1. A block dot product therefore keeps one exact
// integer partial sum per sign combination of the two operands, each multiplied by its scale
// pair at the end (the paper's MAC engine; reference_dot does exactly this).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "intbfp_kernels.h"
#include "mx_kernels.h"
#include "qarch/common/error.h"
#include "qarch/quant/mx.h"
#include "registry.h"

namespace qarch::quant {
namespace {

using detail::f2u;
using detail::pow2f;
using detail::u2f;

constexpr uint32_t kFiniteLimit = 0x7f800000u;
const float kNan = std::numeric_limits<float>::quiet_NaN();

enum class ScaleType { kE5M2, kE4M3, kPot };

const char* scale_type_name(ScaleType t) {
  return t == ScaleType::kE5M2 ? "e5m2" : t == ScaleType::kE4M3 ? "e4m3" : "pot";
}

// True if an E2M1 code selects s-: sign bit set and magnitude non-zero (mant < 0).
inline bool uses_neg_scale(uint32_t code) {
  return (code & 8u) != 0 && (code & 7u) != 0;
}

// One block's two scales: their stored codes and FP32 values.
struct ScalePair {
  uint8_t pos_code, neg_code;
  float pos, neg;
};

// Scale code and value for one sign's extreme magnitude `m` (>= 0, finite; 0 = no element of
// that sign, or none away from zero).
template <class T, bool kAway>
inline void fp_scale(float m, const float* values, uint8_t one_code, uint8_t* code, float* val) {
  uint32_t c = detail::fp_mag_code<T, kAway>(f2u(m / 6.0f));
  if (c == 0) c = one_code;  // zero scale -> 1
  *code = static_cast<uint8_t>(c);
  *val = values[c];
}

template <ScaleType kScale, bool kAway>
inline ScalePair block_scales(float mx, float mn, const float* values) {
  const float pm = mx > 0.0f ? mx : 0.0f;   // largest positive element, or 0
  const float nm = mn < 0.0f ? -mn : 0.0f;  // largest |negative element|, or 0
  ScalePair s;
  if (kScale == ScaleType::kPot) {
    const int ep = detail::shared_exp_bits(f2u(pm), 2);
    const int en = detail::shared_exp_bits(f2u(nm), 2);
    s.pos_code = e8m0_encode(ep);
    s.neg_code = e8m0_encode(en);
    s.pos = pow2f(ep);
    s.neg = pow2f(en);
  } else if (kScale == ScaleType::kE5M2) {
    fp_scale<detail::ElemE5M2, kAway>(pm, values, 0x3c, &s.pos_code, &s.pos);
    fp_scale<detail::ElemE5M2, kAway>(nm, values, 0x3c, &s.neg_code, &s.neg);
  } else {
    fp_scale<detail::ElemE4M3, kAway>(pm, values, 0x38, &s.pos_code, &s.pos);
    fp_scale<detail::ElemE4M3, kAway>(nm, values, 0x38, &s.neg_code, &s.neg);
  }
  return s;
}

// The fused block loop of encode() and quantize().
// Per block: the decoded value of each of the 16 element codes, e2m1 * (scale of its sign).
inline void block_values(float sp, float sn, float* vals) {
  for (uint32_t c = 0; c < 16; ++c)
    vals[c] = detail::e2m1_values()[c] * (uses_neg_scale(c) ? sn : sp);
}

// One block of the fused loop (kN > 0: a full block of that compile-time size). thr[code]
// holds the thresholds on |x| that give E2M1(x / s) for the scale of that code
// (e2m1_quotient_thresholds): the FP32 quotient's code without the division, bit-identical to
// dividing.
template <ScaleType kScale, bool kAway, int kN>
inline void amx_block(const float* v, int64_t n_rt, const float* scale_values,
                      const float (*thr)[7], uint8_t nan_code, uint8_t* cb, uint8_t* sc, float* o) {
  const int64_t n = kN > 0 ? kN : n_rt;
  uint32_t amax = 0;
  float mx = v[0], mn = v[0];
  for (int64_t i = 0; i < n; ++i) {
    amax = std::max(amax, f2u(v[i]) & 0x7fffffffu);
    mx = std::max(mx, v[i]);
    mn = std::min(mn, v[i]);
  }
  if (amax >= kFiniteLimit) {
    if (sc) sc[0] = sc[1] = nan_code;
    std::fill(cb, cb + n, uint8_t{0});
    if (o) std::fill(o, o + n, kNan);
    return;
  }
  const ScalePair s = block_scales<kScale, kAway>(mx, mn, scale_values);
  if (sc) {
    sc[0] = s.pos_code;
    sc[1] = s.neg_code;
  }
  // q = E2M1(x > 0 ? x / s+ : x / s-); the sign of the quotient is x's. Thresholds and |x| are
  // compared as FP32 bit patterns (non-negative floats order like their bits) and each element
  // picks its sign's thresholds with a mask, so the loop has no branches and vectorizes.
  int32_t wp[7], wn[7];
  for (int k = 0; k < 7; ++k) {
    wp[k] = static_cast<int32_t>(f2u(thr[s.pos_code][k]));
    wn[k] = static_cast<int32_t>(f2u(thr[s.neg_code][k]));
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = f2u(v[i]);
    const int32_t neg = -static_cast<int32_t>(!(v[i] > 0.0f));  // all ones: x <= 0 uses s-
    const auto a = static_cast<int32_t>(u & 0x7fffffffu);
    uint32_t m = 0;
    for (int k = 0; k < 7; ++k) m += a >= ((wp[k] & ~neg) | (wn[k] & neg));
    cb[i] = static_cast<uint8_t>(((u >> 28) & 8u) | m);
  }
  if (o) {
    float vals[16];
    block_values(s.pos, s.neg, vals);
    for (int64_t i = 0; i < n; ++i) o[i] = vals[cb[i]];
  }
}

// The fused block loop of encode() and quantize().
template <ScaleType kScale, bool kAway, int kN>
void amx_run(const float* x, int64_t rows, int64_t cols, int64_t block, const float* scale_values,
             const float (*thr)[7], uint8_t nan_code, uint8_t* elems, uint8_t* scales, float* out) {
  if (rows == 0 || cols == 0) return;
  const int64_t rb = packed_row_bytes(cols, 4);
  const int64_t nb = (cols + block - 1) / block;
  std::vector<uint8_t> codes(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t c0 = b * block;
      const int64_t n = std::min(block, cols - c0);
      uint8_t* sc = scales ? scales + 2 * (r * nb + b) : nullptr;
      float* o = out ? out + r * cols + c0 : nullptr;
      if (kN > 0 && n == kN) {
        amx_block<kScale, kAway, kN>(xr + c0, n, scale_values, thr, nan_code, codes.data() + c0, sc,
                                     o);
      } else {
        amx_block<kScale, kAway, 0>(xr + c0, n, scale_values, thr, nan_code, codes.data() + c0, sc,
                                    o);
      }
    }
    if (elems) detail::pack_row(codes.data(), cols, 4, elems + r * rb);
  }
}

class Amxfp4Format final : public Format {
 public:
  Amxfp4Format(ScaleType scale, int64_t block, Rounding rounding)
      : scale_(scale), block_(block), rounding_(rounding) {
    FormatSpec s;
    s.name = "amxfp4";
    s.options = {{"block", std::to_string(block)},
                 {"round", rounding_name(rounding)},
                 {"scale", scale_type_name(scale)}};
    name_ = s.str();
    for (int c = 0; c < 256; ++c) {
      const auto code = static_cast<uint32_t>(c);
      scale_values_[c] = scale == ScaleType::kE5M2   ? fp_decode(kE5M2, code)
                         : scale == ScaleType::kE4M3 ? fp_decode(kE4M3, code)
                                                     : e8m0_decode(static_cast<uint8_t>(c));
    }
    nan_code_ = scale == ScaleType::kPot ? kE8M0Nan : uint8_t{0x7f};
    for (int c = 0; c < 256; ++c) {
      const float sv = scale_values_[c];
      if (sv > 0.0f && sv <= FLT_MAX) {  // the scales encode can produce
        if (rounding == Rounding::kNearestAway) {
          detail::e2m1_quotient_thresholds<true>(sv, thr_[c]);
        } else {
          detail::e2m1_quotient_thresholds<false>(sv, thr_[c]);
        }
      } else {
        std::fill(thr_[c], thr_[c] + 7, 0.0f);
      }
    }
  }

  std::string name() const override { return name_; }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "amxfp4";
    t.element = "e2m1";
    t.element_bits = 4;
    t.decoder = "amxfp4";
    t.group_cols = block_;
    t.sign_split = true;
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    checked_numel({rows, cols}, "format '" + name_ + "' input");
    EncodedTensor e;
    e.format = name_;
    e.rows = rows;
    e.cols = cols;
    e.elements.assign(static_cast<size_t>(rows * packed_row_bytes(cols, 4)), 0);
    e.scales.assign(static_cast<size_t>(2 * rows * blocks_per_row(cols)), 0);
    run(x, rows, cols, e.elements.data(), e.scales.data(), nullptr);
    return e;
  }

  void quantize(const float* x, int64_t rows, int64_t cols, float* out) const override {
    checked_numel({rows, cols}, "format '" + name_ + "' input");
    run(x, rows, cols, nullptr, nullptr, out);
  }

  void decode(const EncodedTensor& e, float* out) const override {
    check(e);
    if (e.rows == 0 || e.cols == 0) return;
    const int64_t rb = packed_row_bytes(e.cols, 4);
    const int64_t nb = blocks_per_row(e.cols);
    std::vector<uint8_t> codes(static_cast<size_t>(e.cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, e.cols, 4, codes.data());
      float* o = out + r * e.cols;
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t c0 = b * block_;
        const int64_t n = std::min(block_, e.cols - c0);
        float vals[16];
        block_values(scale_values_[e.scales[2 * (r * nb + b)]],
                     scale_values_[e.scales[2 * (r * nb + b) + 1]], vals);
        for (int64_t i = c0; i < c0 + n; ++i) o[i] = vals[codes[i]];
      }
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check(e);
    DecodedTensor d;
    d.resize(e.rows, e.cols, 1, block_, /*sign_split=*/true);
    if (e.rows == 0 || e.cols == 0) return d;
    const int64_t rb = packed_row_bytes(e.cols, 4);
    const int64_t nb = blocks_per_row(e.cols);
    const int ulp = kE2M1.ulp_exp();
    std::vector<uint8_t> codes(static_cast<size_t>(e.cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, e.cols, 4, codes.data());
      for (int64_t c = 0; c < e.cols; ++c) {
        const ExpIntPair p = fp_decode_pair(kE2M1, codes[c]);
        d.mant[r * e.cols + c] = p.mant;
        d.shift[r * e.cols + c] = static_cast<uint8_t>(p.shift);
      }
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t g = r * nb + b;
        const uint8_t pc = e.scales[2 * g], nc = e.scales[2 * g + 1];
        if (scale_ == ScaleType::kPot) {
          // The PE adds the E8M0 exponent; a NaN code keeps a neutral exponent and marks NaN.
          d.scale_exp[g] = (pc == kE8M0Nan ? 0 : pc - 127) + ulp;
          d.scale_mul[g] = pc == kE8M0Nan ? kNan : 1.0f;
          d.neg_scale_exp[g] = (nc == kE8M0Nan ? 0 : nc - 127) + ulp;
          d.neg_scale_mul[g] = nc == kE8M0Nan ? kNan : 1.0f;
        } else {
          d.scale_exp[g] = ulp;
          d.scale_mul[g] = scale_values_[pc];
          d.neg_scale_exp[g] = ulp;
          d.neg_scale_mul[g] = scale_values_[nc];
        }
      }
    }
    return d;
  }

 private:
  int64_t blocks_per_row(int64_t cols) const { return (cols + block_ - 1) / block_; }

  template <ScaleType kScale>
  void run_scale(const float* x, int64_t rows, int64_t cols, uint8_t* elems, uint8_t* scales,
                 float* out) const {
    if (rounding_ == Rounding::kNearestAway) {
      run_sized<kScale, true>(x, rows, cols, elems, scales, out);
    } else {
      run_sized<kScale, false>(x, rows, cols, elems, scales, out);
    }
  }

  template <ScaleType kScale, bool kAway>
  void run_sized(const float* x, int64_t rows, int64_t cols, uint8_t* elems, uint8_t* scales,
                 float* out) const {
    if (block_ == 32) {
      amx_run<kScale, kAway, 32>(x, rows, cols, block_, scale_values_, thr_, nan_code_, elems,
                                 scales, out);
    } else {
      amx_run<kScale, kAway, 0>(x, rows, cols, block_, scale_values_, thr_, nan_code_, elems,
                                scales, out);
    }
  }

  void run(const float* x, int64_t rows, int64_t cols, uint8_t* elems, uint8_t* scales,
           float* out) const {
    switch (scale_) {
      case ScaleType::kE5M2:
        return run_scale<ScaleType::kE5M2>(x, rows, cols, elems, scales, out);
      case ScaleType::kE4M3:
        return run_scale<ScaleType::kE4M3>(x, rows, cols, elems, scales, out);
      case ScaleType::kPot:
        return run_scale<ScaleType::kPot>(x, rows, cols, elems, scales, out);
    }
  }

  void check(const EncodedTensor& e) const {
    check_encoded(e);
    checked_numel({e.rows, e.cols}, "encoded '" + name_ + "'");
    const auto want_e = static_cast<size_t>(e.rows * packed_row_bytes(e.cols, 4));
    const auto want_s = static_cast<size_t>(2 * e.rows * blocks_per_row(e.cols));
    if (e.elements.size() != want_e) {
      throw Error("encoded '" + name_ + "': expected " + std::to_string(want_e) +
                  " element bytes for " + std::to_string(e.rows) + " x " + std::to_string(e.cols) +
                  ", got " + std::to_string(e.elements.size()));
    }
    if (e.scales.size() != want_s) {
      throw Error("encoded '" + name_ + "': expected " + std::to_string(want_s) +
                  " scale bytes (s+ and s- per row and block), got " +
                  std::to_string(e.scales.size()));
    }
    if (!e.fp32.empty() || !e.indices.empty()) {
      throw Error("encoded '" + name_ + "': unexpected fp32/indices side data");
    }
  }

  ScaleType scale_;
  int64_t block_;
  Rounding rounding_;
  std::string name_;
  float scale_values_[256];
  float thr_[256][7];  // E2M1 quotient thresholds per scale code (for this rounding mode)
  uint8_t nan_code_;
};

}  // namespace

namespace detail {
void register_amxfp4_formats(Registry& r) {
  FormatFactory f;
  f.info = {"amxfp4", "scale=e5m2|e4m3|pot block=32 (2..1024) round=even|away",
            "AMXFP4 (Lee et al., arXiv 2411.09909): E2M1 elements, separate scales for elements "
            ">0 and <=0 per block (4.5 b/elem)"};
  f.make = [](FormatOptions& o) -> std::unique_ptr<Format> {
    const std::string sc = o.get_choice("scale", "e5m2", {"e5m2", "e4m3", "pot"});
    const int64_t block = o.get_int("block", 32, 2, 1024);
    const Rounding rnd = o.get_rounding();
    o.finish();
    const ScaleType t = sc == "e5m2"   ? ScaleType::kE5M2
                        : sc == "e4m3" ? ScaleType::kE4M3
                                       : ScaleType::kPot;
    return std::make_unique<Amxfp4Format>(t, block, rnd);
  };
  r.push_back(std::move(f));
}
}  // namespace detail

}  // namespace qarch::quant
