// NVFP4 (NVIDIA Blackwell 4-bit floating point): nvfp4, options block=2..1024 (default 16)
// and round=even|away (default even).
//
// Definition, exactly as specs/formats.md states it (NVIDIA, "Introducing NVFP4 for Efficient
// and Accurate Low-Precision Inference", 2025: E2M1 elements, one E4M3 scale per 16 elements,
// one FP32 scale per tensor), every step an FP32 operation in the order written:
//   amax   = max |x| over the tensor (finite elements)
//   S_enc  = (448 * 6) / amax, 1 if amax = 0          (FP32; stored in fp32[0])
//   s_b    = E4M3((amax_b * S_enc) / 6)               (per block; stored as an E4M3 byte)
//   q_i    = E2M1((x_i * S_enc) / s_b)                (per element)
//   x'_i   = (e2m1(q_i) * s_b) / S_enc                (decode)
// E4M3() and E2M1() round to nearest - ties to even (round=even, the definition) or away from
// zero (round=away; applied to both the scale and the elements) - and saturate to 448 / 6.
// Our definitions where the recipe is silent:
//   * s_b rounds to 0 (the block's amax_b * S_enc / 6 is below 2^-10, half E4M3's smallest
//     subnormal, i.e. amax_b < 2^-10 / 448 * amax): x_i * S_enc / 0 is undefined, so every
//     element of that block is stored as code 0 and decodes to (0 * 0) / S_enc = 0. (Its true
//     values are below 2.2e-6 of the tensor's amax. NVIDIA's TensorRT-LLM FP4 quantizer,
//     cvt_warp_fp16_to_fp4 in its quantization.cuh, likewise uses an output scale of 0 when the
//     E4M3 block scale is 0; it multiplies by approximate reciprocals where formats.md divides,
//     so its rounding of x * S_enc / s_b can differ in the last bit from this definition.)
//   * amax so small that 2688 / amax overflows FP32 (amax < 2688 / FLT_MAX, about 7.9e-36):
//     S_enc is clamped to FLT_MAX so that it stays finite and invertible.
//   * NaN / Inf inputs (same choice as the MX family, see mx_formats.cpp): amax and S_enc are
//     taken over the finite elements only; a block holding a NaN or Inf gets the E4M3 NaN scale
//     code 0x7F and zero element codes, so exactly that block decodes to NaN.
//
// Layout (cols = K; a partial last block is shorter):
//   elements: E2M1 codes, two per byte, element 2k in the low nibble (pack_codes layout),
//             rows byte-aligned; sign in bit 3.
//   scales:   one E4M3 byte per (row, block), row-major [rows][ceil(cols / block)].
//   fp32:     { S_enc }.  Storage: 4 + 8 / 16 = 4.5 bits per element plus 32 bits per tensor.
// A scale byte is decoded as its E4M3 value whatever it holds (a negative scale from a file
// decodes to negated values; 0x7F / 0xFF give a NaN block); S_enc as stored (0, NaN, Inf give
// Inf / NaN values by the decode formula). Zero element codes decode to +0.
//
// DecodedTensor: scale groups 1 x block, element <shift, mant> of the E2M1 code, scale_exp =
// E2M1's ulp exponent (-1), scale_mul = s_b, tensor_divisor = S_enc; decoded_value() then
// evaluates ldexp(mant, shift - 1) * s_b / S_enc, the same FP32 operations as decode().
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "intbfp_kernels.h"
#include "mx_kernels.h"
#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {
namespace {

using detail::f2u;
using detail::u2f;

constexpr uint32_t kFiniteLimit = 0x7f800000u;
constexpr uint8_t kE4M3Nan = 0x7f;
const float kNan = std::numeric_limits<float>::quiet_NaN();

// E4M3 value of every byte (NaN codes as NaN).
struct E4M3Table {
  float v[256];
  E4M3Table() {
    for (uint32_t c = 0; c < 256; ++c) v[c] = fp_decode(kE4M3, c);
  }
};
const E4M3Table kE4M3Values;

// For every positive finite E4M3 scale code (1..126), the thresholds on w = |x| * S_enc that
// give E2M1(w / s_b) without the division (mx_kernels.h, e2m1_quotient_thresholds): the
// quotient is rounded by the FP32 division exactly as the definition says, the thresholds just
// precompute where its E2M1 code steps. Row 0 (s_b = 0) is unused.
template <bool kAway>
struct QuotientThresholds {
  float w[127][7];
  QuotientThresholds() {
    for (int k = 0; k < 7; ++k) w[0][k] = 0.0f;
    for (int c = 1; c < 127; ++c) detail::e2m1_quotient_thresholds<kAway>(kE4M3Values.v[c], w[c]);
  }
};
const QuotientThresholds<false>& thresholds_even() {
  static const QuotientThresholds<false> t;
  return t;
}
const QuotientThresholds<true>& thresholds_away() {
  static const QuotientThresholds<true> t;
  return t;
}

/// S_enc = 2688 / amax (1 for amax = 0; clamped to FLT_MAX), from the FP32 bits of amax.
float tensor_scale(uint32_t amax_bits) {
  if (amax_bits == 0) return 1.0f;
  const float s = (448.0f * 6.0f) / u2f(amax_bits);
  return s <= FLT_MAX ? s : FLT_MAX;
}

// Decoded value of every (scale byte, element code) pair for one S_enc: (e2m1 * s_b) / S_enc,
// the decode formula's FP32 operations, so a table lookup is bit-identical to evaluating it.
struct DecodeTable {
  float v[256][16];
  explicit DecodeTable(float s_enc) {
    for (int sc = 0; sc < 256; ++sc) {
      for (int c = 0; c < 16; ++c)
        v[sc][c] = (detail::e2m1_values()[c] * kE4M3Values.v[sc]) / s_enc;
    }
  }
};

// One block of the fused loop (kN > 0: a full block of that compile-time size).
template <bool kAway, int kN>
inline void nvfp4_block(const float* v, int64_t n_rt, float s_enc, const float (*thr)[7],
                        const DecodeTable* dec, uint8_t* cb, uint8_t* sc, float* o) {
  const int64_t n = kN > 0 ? kN : n_rt;
  uint32_t amax = 0;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, f2u(v[i]) & 0x7fffffffu);
  if (amax >= kFiniteLimit) {
    if (sc) *sc = kE4M3Nan;
    std::fill(cb, cb + n, uint8_t{0});
    if (o) std::fill(o, o + n, kNan);
    return;
  }
  const float sb_raw = (u2f(amax) * s_enc) / 6.0f;
  const uint32_t sb_code = detail::fp_mag_code<detail::ElemE4M3, kAway>(f2u(sb_raw));
  if (sc) *sc = static_cast<uint8_t>(sb_code);
  if (sb_code == 0) {  // s_b = 0: the block is stored as zeros (file comment)
    std::fill(cb, cb + n, uint8_t{0});
  } else {
    // q = E2M1((x * S_enc) / s_b): |fl(x * S_enc)| = fl(|x| * S_enc) against the thresholds of
    // s_b; the sign is x's (S_enc, s_b > 0).
    const float* w = thr[sb_code];
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t u = f2u(v[i]);
      const float a = u2f(u & 0x7fffffffu) * s_enc;
      cb[i] = static_cast<uint8_t>(((u >> 28) & 8u) | detail::e2m1_count_ge(a, w));
    }
  }
  if (o) {
    const float* d = dec->v[sb_code];
    for (int64_t i = 0; i < n; ++i) o[i] = d[cb[i]];
  }
}

// The fused block loop of encode() and quantize(), after S_enc is known.
template <bool kAway, int kN>
void nvfp4_run(const float* x, int64_t rows, int64_t cols, int64_t block, float s_enc,
               const float (*thr)[7], uint8_t* elems, uint8_t* scales, float* out) {
  if (rows == 0 || cols == 0) return;
  const int64_t rb = packed_row_bytes(cols, 4);
  const int64_t nb = (cols + block - 1) / block;
  std::vector<uint8_t> codes(static_cast<size_t>(cols));
  std::unique_ptr<DecodeTable> dec;
  if (out) dec = std::make_unique<DecodeTable>(s_enc);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t c0 = b * block;
      const int64_t n = std::min(block, cols - c0);
      uint8_t* sc = scales ? scales + r * nb + b : nullptr;
      float* o = out ? out + r * cols + c0 : nullptr;
      if (kN > 0 && n == kN) {
        nvfp4_block<kAway, kN>(xr + c0, n, s_enc, thr, dec.get(), codes.data() + c0, sc, o);
      } else {
        nvfp4_block<kAway, 0>(xr + c0, n, s_enc, thr, dec.get(), codes.data() + c0, sc, o);
      }
    }
    if (elems) detail::pack_row(codes.data(), cols, 4, elems + r * rb);
  }
}

class Nvfp4Format final : public Format {
 public:
  Nvfp4Format(int64_t block, Rounding rounding) : block_(block), rounding_(rounding) {
    FormatSpec s;
    s.name = "nvfp4";
    s.options = {{"block", std::to_string(block)}, {"round", rounding_name(rounding)}};
    name_ = s.str();
  }

  std::string name() const override { return name_; }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "nvfp4";
    t.element = "e2m1";
    t.element_bits = 4;
    t.decoder = "nvfp4";
    t.encode_scope = EncodeScope::kTensor;  // the FP32 tensor scale S_enc comes from the amax
    t.group_cols = block_;
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    checked_numel({rows, cols}, "format '" + name_ + "' input");
    EncodedTensor e;
    e.format = name_;
    e.rows = rows;
    e.cols = cols;
    e.elements.assign(static_cast<size_t>(rows * packed_row_bytes(cols, 4)), 0);
    e.scales.assign(static_cast<size_t>(rows * blocks_per_row(cols)), 0);
    const float s_enc = tensor_scale(finite_amax(x, rows * cols));
    e.fp32 = {s_enc};
    run(x, rows, cols, s_enc, e.elements.data(), e.scales.data(), nullptr);
    return e;
  }

  void quantize(const float* x, int64_t rows, int64_t cols, float* out) const override {
    checked_numel({rows, cols}, "format '" + name_ + "' input");
    run(x, rows, cols, tensor_scale(finite_amax(x, rows * cols)), nullptr, nullptr, out);
  }

  void decode(const EncodedTensor& e, float* out) const override {
    check(e);
    if (e.rows == 0 || e.cols == 0) return;
    const auto dec = std::make_unique<DecodeTable>(e.fp32[0]);
    const int64_t rb = packed_row_bytes(e.cols, 4);
    const int64_t nb = blocks_per_row(e.cols);
    std::vector<uint8_t> codes(static_cast<size_t>(e.cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, e.cols, 4, codes.data());
      float* o = out + r * e.cols;
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t c0 = b * block_;
        const int64_t n = std::min(block_, e.cols - c0);
        const float* d = dec->v[e.scales[r * nb + b]];
        for (int64_t i = c0; i < c0 + n; ++i) o[i] = d[codes[i]];
      }
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check(e);
    DecodedTensor d;
    d.resize(e.rows, e.cols, 1, block_);
    d.tensor_divisor = e.fp32[0];
    if (e.rows == 0 || e.cols == 0) return d;
    const int64_t rb = packed_row_bytes(e.cols, 4);
    const int64_t nb = blocks_per_row(e.cols);
    std::vector<uint8_t> codes(static_cast<size_t>(e.cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, e.cols, 4, codes.data());
      for (int64_t c = 0; c < e.cols; ++c) {
        const ExpIntPair p = fp_decode_pair(kE2M1, codes[c]);
        d.mant[r * e.cols + c] = p.mant;
        d.shift[r * e.cols + c] = static_cast<uint8_t>(p.shift);
      }
      for (int64_t b = 0; b < nb; ++b) {
        d.scale_exp[r * nb + b] = kE2M1.ulp_exp();
        d.scale_mul[r * nb + b] = kE4M3Values.v[e.scales[r * nb + b]];
      }
    }
    return d;
  }

 private:
  int64_t blocks_per_row(int64_t cols) const { return (cols + block_ - 1) / block_; }

  // FP32 bits of the largest finite |x| (0 if none).
  // (A mask instead of a select and a signed max reduction, so the loop vectorizes.)
  static uint32_t finite_amax(const float* x, int64_t n) {
    int32_t amax = 0;
    for (int64_t i = 0; i < n; ++i) {
      int32_t a = static_cast<int32_t>(f2u(x[i]) & 0x7fffffffu);
      a &= (a - static_cast<int32_t>(kFiniteLimit)) >> 31;  // NaN / Inf -> 0
      amax = std::max(amax, a);
    }
    return static_cast<uint32_t>(amax);
  }

  void run(const float* x, int64_t rows, int64_t cols, float s_enc, uint8_t* elems, uint8_t* scales,
           float* out) const {
    if (rounding_ == Rounding::kNearestAway) {
      run_sized<true>(x, rows, cols, s_enc, thresholds_away().w, elems, scales, out);
    } else {
      run_sized<false>(x, rows, cols, s_enc, thresholds_even().w, elems, scales, out);
    }
  }

  template <bool kAway>
  void run_sized(const float* x, int64_t rows, int64_t cols, float s_enc, const float (*thr)[7],
                 uint8_t* elems, uint8_t* scales, float* out) const {
    if (block_ == 16) {
      nvfp4_run<kAway, 16>(x, rows, cols, block_, s_enc, thr, elems, scales, out);
    } else if (block_ == 32) {
      nvfp4_run<kAway, 32>(x, rows, cols, block_, s_enc, thr, elems, scales, out);
    } else {
      nvfp4_run<kAway, 0>(x, rows, cols, block_, s_enc, thr, elems, scales, out);
    }
  }

  void check(const EncodedTensor& e) const {
    check_encoded(e);
    checked_numel({e.rows, e.cols}, "encoded '" + name_ + "'");
    const auto want_e = static_cast<size_t>(e.rows * packed_row_bytes(e.cols, 4));
    const auto want_s = static_cast<size_t>(e.rows * blocks_per_row(e.cols));
    if (e.elements.size() != want_e) {
      throw Error("encoded '" + name_ + "': expected " + std::to_string(want_e) +
                  " element bytes for " + std::to_string(e.rows) + " x " + std::to_string(e.cols) +
                  ", got " + std::to_string(e.elements.size()));
    }
    if (e.scales.size() != want_s) {
      throw Error("encoded '" + name_ + "': expected " + std::to_string(want_s) +
                  " E4M3 block scale bytes, got " + std::to_string(e.scales.size()));
    }
    if (e.fp32.size() != 1) {
      throw Error("encoded '" + name_ + "': expected 1 FP32 tensor scale, got " +
                  std::to_string(e.fp32.size()));
    }
    if (!e.indices.empty()) throw Error("encoded '" + name_ + "': unexpected indices");
  }

  int64_t block_;
  Rounding rounding_;
  std::string name_;
};

}  // namespace

namespace detail {
void register_nvfp4_formats(Registry& r) {
  FormatFactory f;
  f.info = {"nvfp4", "block=16 (2..1024) round=even|away",
            "NVIDIA NVFP4: E2M1 elements, E4M3 scale per block, FP32 tensor scale (4.5 b/elem)"};
  f.make = [](FormatOptions& o) -> std::unique_ptr<Format> {
    const int64_t block = o.get_int("block", 16, 2, 1024);
    const Rounding rnd = o.get_rounding();
    o.finish();
    return std::make_unique<Nvfp4Format>(block, rnd);
  };
  r.push_back(std::move(f));
}
}  // namespace detail

}  // namespace qarch::quant
