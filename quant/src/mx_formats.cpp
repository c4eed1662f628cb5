// OCP Microscaling formats: mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4 (E2M1
// elements) and mxint8, options block=2..1024 (default 32, the spec's k) and round=even|away.
//
// Definition (OCP Microscaling Formats (MX) Specification v1.0, sections 5.3, 5.4.1, 6.3; the
// numbers in specs/formats.md): a block of `block` consecutive elements along cols shares one
// E8M0 scale X = 2^shared_exp with
//   shared_exp = floor_log2(max_i |V_i|) - emax_elem, clamped to [-127, 127]
// (floor_log2 from the FP32 exponent bits; emax_elem = 8 / 15 / 4 / 2 / 2 for E4M3 / E5M2 /
// E3M2 / E2M3 / E2M1 and 0 for MXINT8), and each element stores P_i = round(V_i / X) in the
// element type: round to nearest, ties to even (round=even, the spec's default) or ties away
// from zero (round=away, the microxcaling emulator's "nearest"), values beyond the largest
// normal saturate to it, values below half the smallest subnormal become 0. MXINT8 elements are
// two's complement bytes with an implicit scale 2^-6, P_i = clamp(round(V_i / X * 64), -127,
// 127) (the code -128 is never produced). The value of element i is P_i * X.
// An all-zero block gets scale code 0 (X = 2^-127, as microxcaling does) and zero elements.
//
// NaN / Inf inputs: a block that contains any NaN or +-Inf is stored with the E8M0 NaN scale
// 0xFF and all element codes 0, so EVERY element of that block decodes to NaN - Inf included.
// This is the reference library's behaviour, which specs/formats.md records and which we
// confirmed in its source: microsoft/microxcaling mx/mx_ops.py (_quantize_mx) takes
// floor(log2(max|A|)) = Inf or NaN and turns a shared exponent above the scale range into NaN,
// its C++ path (mx/cpp/shared_exp.cuh, mx_get_shared_scale) maps the FP32 exponent field 255 of
// an Inf/NaN block maximum to the NaN scale, and its test mx/tests/test_corners_mx.py
// (test_mx_nans) expects [NaN|Inf|-Inf, 0, 2^127, 0] to come back as four NaNs ("NaNs/Infs may
// be converted to each other"). It is also the only choice the storage allows for Inf: E8M0
// has no Inf encoding (OCP MX v1.0 section 5.4.1: bias 127, exponents -127..127, 0xFF = NaN),
// and a NaN scale makes the whole block NaN. (An E5M2/E4M3 element could hold Inf/NaN itself,
// but the shared exponent of such a block is undefined.) Other blocks are unaffected. A decoder
// given the scale code 0xFF (e.g. from a file) likewise returns NaN for the whole block.
//
// Layout (rows = tokens or output channels, cols = K; a partial last block is shorter):
//   elements: codes packed per row exactly as pack_codes() (8 bits: one byte each; 6 bits: an
//             LSB-first bit stream, four codes per three bytes; 4 bits: element 2k in the low
//             nibble, 2k+1 in the high nibble), rows byte-aligned. FP codes are sign-magnitude
//             with the sign in the top bit; a negative value that rounds to zero keeps its sign
//             (code 0x80 / 0x20 / 0x8), as fp_encode() produces.
//   scales:   one E8M0 byte per (row, block), row-major [rows][ceil(cols / block)].
//   Storage at block 32: 8.25 (MXFP8, MXINT8), 6.25 (MXFP6), 4.25 (MXFP4) bits per element.
// Decoding gives P_i * X in FP32, exact for everything encode() produces (a forged scale code
// with a large element can overflow to Inf).
// A zero element decodes to +0 whatever its sign bit (the PE sees the integer 0). Element codes
// that are NaN/Inf in their type (E4M3 S.1111.111, E5M2 S.11111.xx; never produced by encode)
// decode to NaN/Inf times X, and decode_operand() rejects them (no exponent-integer pair).
//
// DecodedTensor: scale groups 1 x block. FP elements: <shift, mant> of the element code
// (fp_decode_pair) and scale_exp = shared_exp + ulp_exp(element type), scale_mul = 1; MXINT8:
// mant = the signed byte, shift 0, scale_exp = shared_exp - 6. A NaN block has scale_mul = NaN.
// So a block dot product is X_A * X_B * sum_i P_A,i * P_B,i, an exact integer sum per block.
#include <algorithm>
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

int mx_shared_exp(float amax, int emax_elem) {
  if (!(amax >= 0.0f) || !std::isfinite(amax)) {
    throw Error("mx_shared_exp: block maximum must be finite and >= 0");
  }
  return detail::shared_exp_bits(detail::f2u(amax), emax_elem);
}

float e8m0_decode(uint8_t code) {
  if (code == kE8M0Nan) return std::numeric_limits<float>::quiet_NaN();
  return detail::pow2f(static_cast<int>(code) - 127);
}

namespace {

using detail::f2u;
using detail::pow2f;
using detail::u2f;

constexpr uint32_t kFiniteLimit = 0x7f800000u;  // |x| bits >= this: Inf or NaN
const float kNan = std::numeric_limits<float>::quiet_NaN();

// Element policies: how one block turns V_i into codes given its shared exponent. Each has
// kBits, kEmax (emax_elem) and a per-block state built by prepare(shared_exp).

// E2M1: compare |V| against the decision thresholds scaled by X (exact, see mx_kernels.h), so
// no per-element multiply; |V| / X would be exact too except when it underflows FP32, and then
// it is far below the first threshold either way.
struct E2M1Policy {
  static constexpr int kBits = 4;
  static constexpr int kEmax = detail::ElemE2M1::kEmax;
  struct Block {
    float t[7];
  };
  static Block prepare(int shared) {
    const float x = pow2f(shared);
    Block b;
    for (int k = 0; k < 7; ++k) b.t[k] = detail::kE2M1Thresholds[k] * x;
    return b;
  }
  template <bool kAway>
  static uint32_t encode(const Block& b, float v) {
    const uint32_t u = f2u(v);
    return ((u >> 28) & 8u) | detail::e2m1_mag_code<kAway>(u2f(u & 0x7fffffffu), b.t);
  }
};

// FP8 / FP6: y = V * 2^-shared_exp (exact unless it underflows FP32, and then it rounds to 0
// in every element type either way; |y| < 2^(emax_elem + 1)), then the element rounding in
// FP32 arithmetic (fp_code_fast, identical to fp_encode).
template <class T>
struct FpPolicy {
  static constexpr int kBits = T::kBits;
  static constexpr int kEmax = T::kEmax;
  struct Block {
    float inv;
  };
  static Block prepare(int shared) { return {pow2f(-shared)}; }
  template <bool kAway>
  static uint32_t encode(const Block& b, float v) {
    return detail::fp_code_fast<T, kAway>(v * b.inv);
  }
};

// MXINT8: y = V * 2^(6 - shared_exp), |y| < 128. 2^(6 - shared) exceeds FP32's largest power
// of two (2^127) for shared < -121, so the multiply is split in two exact steps there.
struct Int8Policy {
  static constexpr int kBits = 8;
  static constexpr int kEmax = 0;
  struct Block {
    float a, b;
  };
  static Block prepare(int shared) {
    const int k = 6 - shared;
    if (k <= 127) return {pow2f(k), 1.0f};
    return {pow2f(64), pow2f(k - 64)};
  }
  template <bool kAway>
  static uint32_t encode(const Block& b, float v) {
    return detail::int8_code<kAway>((v * b.a) * b.b);
  }
};

enum class MxKind { kE4M3, kE5M2, kE3M2, kE2M3, kE2M1, kInt8 };

// One catalogue entry of the family.
struct MxType {
  const char* name;
  MxKind kind;
  const FpElementSpec* spec;  // nullptr for MXINT8
  const char* description;
};

int element_bits(const MxType& t) {
  return t.spec ? t.spec->bits() : 8;
}

// Per element type: the FP32 value of every code (zeros as +0, specials as NaN/Inf), and the
// exponent-integer pair the PE receives (special codes flagged).
struct CodeTables {
  float value[256];
  int32_t mant[256];
  uint8_t shift[256];
  bool special[256];
  int ulp_exp;
};

CodeTables make_tables(const MxType& t) {
  CodeTables c{};
  const int n = 1 << element_bits(t);
  if (!t.spec) {
    c.ulp_exp = -6;
    for (int code = 0; code < n; ++code) {
      const int32_t v = static_cast<int8_t>(static_cast<uint8_t>(code));
      c.value[code] = static_cast<float>(v) * 0.015625f;
      c.mant[code] = v;
      c.shift[code] = 0;
      c.special[code] = false;
    }
    return c;
  }
  const FpElementSpec& s = *t.spec;
  c.ulp_exp = s.ulp_exp();
  for (int code = 0; code < n; ++code) {
    c.special[code] = fp_is_special(s, static_cast<uint32_t>(code));
    const float v = fp_decode(s, static_cast<uint32_t>(code));
    c.value[code] = v == 0.0f ? 0.0f : v;  // -0 -> +0: the PE's integer 0 has no sign
    if (!c.special[code]) {
      const ExpIntPair p = fp_decode_pair(s, static_cast<uint32_t>(code));
      c.mant[code] = p.mant;
      c.shift[code] = static_cast<uint8_t>(p.shift);
    }
  }
  return c;
}

// One block of the fused loop: n elements at v -> codes cb, scale byte *sc (if sc), values o
// (if o). kN > 0 fixes n at compile time (the full blocks of the common sizes 16 and 32), so the
// element loops unroll and vectorize without remainder handling.
template <class P, bool kAway, int kN>
inline void mx_block(const float* v, int64_t n_rt, uint8_t* cb, uint8_t* sc, float* o,
                     const float* value_table) {
  const int64_t n = kN > 0 ? kN : n_rt;
  uint32_t amax = 0;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, f2u(v[i]) & 0x7fffffffu);
  if (amax >= kFiniteLimit) {  // NaN / Inf in the block: the NaN scale (file comment)
    if (sc) *sc = kE8M0Nan;
    std::fill(cb, cb + n, uint8_t{0});
    if (o) std::fill(o, o + n, kNan);
    return;
  }
  const int shared = detail::shared_exp_bits(amax, P::kEmax);
  if (sc) *sc = e8m0_encode(shared);
  const typename P::Block blk = P::prepare(shared);
  for (int64_t i = 0; i < n; ++i)
    cb[i] = static_cast<uint8_t>(P::template encode<kAway>(blk, v[i]));
  if (o) {
    const float xs = pow2f(shared);
    for (int64_t i = 0; i < n; ++i) o[i] = value_table[cb[i]] * xs;
  }
}

// The fused block loop of encode() and quantize(). Writes packed element codes and scale bytes
// when `elems` / `scales` are given, and the dequantized values P_i * X when `out` is given.
template <class P, bool kAway, int kN>
void mx_run(const float* x, int64_t rows, int64_t cols, int64_t block, uint8_t* elems,
            uint8_t* scales, float* out, const float* value_table) {
  if (rows == 0 || cols == 0) return;
  const int64_t rb = packed_row_bytes(cols, P::kBits);
  const int64_t nb = (cols + block - 1) / block;
  std::vector<uint8_t> codes(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t c0 = b * block;
      const int64_t n = std::min(block, cols - c0);
      uint8_t* sc = scales ? scales + r * nb + b : nullptr;
      float* o = out ? out + r * cols + c0 : nullptr;
      if (kN > 0 && n == kN) {
        mx_block<P, kAway, kN>(xr + c0, n, codes.data() + c0, sc, o, value_table);
      } else {
        mx_block<P, kAway, 0>(xr + c0, n, codes.data() + c0, sc, o, value_table);
      }
    }
    if (elems) detail::pack_row(codes.data(), cols, P::kBits, elems + r * rb);
  }
}

class MxFormat final : public Format {
 public:
  MxFormat(const MxType& type, int64_t block, Rounding rounding)
      : type_(type), block_(block), rounding_(rounding), tables_(make_tables(type)) {
    FormatSpec s;
    s.name = type.name;
    s.options = {{"block", std::to_string(block)}, {"round", rounding_name(rounding)}};
    name_ = s.str();
  }

  std::string name() const override { return name_; }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = type_.name;
    t.element = type_.spec ? type_.spec->name : "int";
    t.element_bits = element_bits(type_);
    t.decoder = "mx";
    t.group_cols = block_;
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    checked_numel({rows, cols}, "format '" + name_ + "' input");
    EncodedTensor e;
    e.format = name_;
    e.rows = rows;
    e.cols = cols;
    e.elements.assign(static_cast<size_t>(rows * packed_row_bytes(cols, bits())), 0);
    e.scales.assign(static_cast<size_t>(rows * blocks_per_row(cols)), 0);
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
    const int bits = this->bits();
    const int64_t rb = packed_row_bytes(e.cols, bits);
    const int64_t nb = blocks_per_row(e.cols);
    std::vector<uint8_t> codes(static_cast<size_t>(e.cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, e.cols, bits, codes.data());
      float* o = out + r * e.cols;
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t c0 = b * block_;
        const int64_t n = std::min(block_, e.cols - c0);
        const uint8_t sc = e.scales[r * nb + b];
        if (sc == kE8M0Nan) {
          std::fill(o + c0, o + c0 + n, kNan);
          continue;
        }
        const float xs = pow2f(static_cast<int>(sc) - 127);
        const uint8_t* cb = codes.data() + c0;
        for (int64_t i = 0; i < n; ++i) o[c0 + i] = tables_.value[cb[i]] * xs;
      }
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check(e);
    DecodedTensor d;
    d.resize(e.rows, e.cols, 1, block_);
    if (e.rows == 0 || e.cols == 0) return d;
    const int bits = this->bits();
    const int64_t rb = packed_row_bytes(e.cols, bits);
    const int64_t nb = blocks_per_row(e.cols);
    std::vector<uint8_t> codes(static_cast<size_t>(e.cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, e.cols, bits, codes.data());
      for (int64_t c = 0; c < e.cols; ++c) {
        const uint8_t code = codes[c];
        if (tables_.special[code]) {
          throw Error("encoded '" + name_ + "': element (row " + std::to_string(r) + ", col " +
                      std::to_string(c) + ") has the NaN/Inf code " + std::to_string(code) +
                      ", which has no exponent-integer pair");
        }
        d.mant[r * e.cols + c] = tables_.mant[code];
        d.shift[r * e.cols + c] = tables_.shift[code];
      }
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t sc = e.scales[r * nb + b];
        const int64_t g = r * nb + b;
        if (sc == kE8M0Nan) {
          d.scale_exp[g] = tables_.ulp_exp;
          d.scale_mul[g] = kNan;
        } else {
          d.scale_exp[g] = static_cast<int>(sc) - 127 + tables_.ulp_exp;
        }
      }
    }
    return d;
  }

 private:
  int bits() const { return element_bits(type_); }
  int64_t blocks_per_row(int64_t cols) const { return (cols + block_ - 1) / block_; }

  // Throws unless e is this format's encoding with consistent buffer sizes.
  void check(const EncodedTensor& e) const {
    check_encoded(e);
    checked_numel({e.rows, e.cols}, "encoded '" + name_ + "'");
    const auto want_e = static_cast<size_t>(e.rows * packed_row_bytes(e.cols, bits()));
    const auto want_s = static_cast<size_t>(e.rows * blocks_per_row(e.cols));
    if (e.elements.size() != want_e) {
      throw Error("encoded '" + name_ + "': expected " + std::to_string(want_e) +
                  " element bytes for " + std::to_string(e.rows) + " x " + std::to_string(e.cols) +
                  ", got " + std::to_string(e.elements.size()));
    }
    if (e.scales.size() != want_s) {
      throw Error("encoded '" + name_ + "': expected " + std::to_string(want_s) +
                  " E8M0 scale bytes (one per row and block), got " +
                  std::to_string(e.scales.size()));
    }
    if (!e.fp32.empty() || !e.indices.empty()) {
      throw Error("encoded '" + name_ + "': unexpected fp32/indices side data");
    }
  }

  template <class P>
  void run_policy(const float* x, int64_t rows, int64_t cols, uint8_t* elems, uint8_t* scales,
                  float* out) const {
    if (rounding_ == Rounding::kNearestAway) {
      run_sized<P, true>(x, rows, cols, elems, scales, out);
    } else {
      run_sized<P, false>(x, rows, cols, elems, scales, out);
    }
  }

  template <class P, bool kAway>
  void run_sized(const float* x, int64_t rows, int64_t cols, uint8_t* elems, uint8_t* scales,
                 float* out) const {
    if (block_ == 32) {
      mx_run<P, kAway, 32>(x, rows, cols, block_, elems, scales, out, tables_.value);
    } else if (block_ == 16) {
      mx_run<P, kAway, 16>(x, rows, cols, block_, elems, scales, out, tables_.value);
    } else {
      mx_run<P, kAway, 0>(x, rows, cols, block_, elems, scales, out, tables_.value);
    }
  }

  void run(const float* x, int64_t rows, int64_t cols, uint8_t* elems, uint8_t* scales,
           float* out) const {
    switch (type_.kind) {
      case MxKind::kE4M3:
        return run_policy<FpPolicy<detail::ElemE4M3>>(x, rows, cols, elems, scales, out);
      case MxKind::kE5M2:
        return run_policy<FpPolicy<detail::ElemE5M2>>(x, rows, cols, elems, scales, out);
      case MxKind::kE3M2:
        return run_policy<FpPolicy<detail::ElemE3M2>>(x, rows, cols, elems, scales, out);
      case MxKind::kE2M3:
        return run_policy<FpPolicy<detail::ElemE2M3>>(x, rows, cols, elems, scales, out);
      case MxKind::kE2M1:
        return run_policy<E2M1Policy>(x, rows, cols, elems, scales, out);
      case MxKind::kInt8:
        return run_policy<Int8Policy>(x, rows, cols, elems, scales, out);
    }
  }

  const MxType& type_;
  int64_t block_;
  Rounding rounding_;
  CodeTables tables_;
  std::string name_;
};

const MxType kMxTypes[] = {
    {"mxfp8_e4m3", MxKind::kE4M3, &kE4M3,
     "OCP MX v1.0 MXFP8: E4M3 elements, E8M0 scale per block (8.25 b/elem at block 32)"},
    {"mxfp8_e5m2", MxKind::kE5M2, &kE5M2,
     "OCP MX v1.0 MXFP8: E5M2 elements, E8M0 scale per block (8.25 b/elem at block 32)"},
    {"mxfp6_e3m2", MxKind::kE3M2, &kE3M2,
     "OCP MX v1.0 MXFP6: E3M2 elements, E8M0 scale per block (6.25 b/elem at block 32)"},
    {"mxfp6_e2m3", MxKind::kE2M3, &kE2M3,
     "OCP MX v1.0 MXFP6: E2M3 elements, E8M0 scale per block (6.25 b/elem at block 32)"},
    {"mxfp4", MxKind::kE2M1, &kE2M1,
     "OCP MX v1.0 MXFP4: E2M1 elements, E8M0 scale per block (4.25 b/elem at block 32)"},
    {"mxint8", MxKind::kInt8, nullptr,
     "OCP MX v1.0 MXINT8: int8 elements x 2^-6, E8M0 scale per block (8.25 b/elem at block 32)"},
};

}  // namespace

namespace detail {
void register_mx_formats(Registry& r) {
  for (const MxType& t : kMxTypes) {
    FormatFactory f;
    f.info = {t.name, "block=32 (2..1024) round=even|away", t.description};
    f.make = [&t](FormatOptions& o) -> std::unique_ptr<Format> {
      const int64_t block = o.get_int("block", 32, 2, 1024);
      const Rounding rnd = o.get_rounding();
      o.finish();
      return std::make_unique<MxFormat>(t, block, rnd);
    };
    r.push_back(std::move(f));
  }
}
}  // namespace detail

}  // namespace qarch::quant
