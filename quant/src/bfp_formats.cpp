// Block floating point (BFP / MSFP) and shared-microexponent formats (MX4 / MX6 / MX9).
//
// BFP[p] (specs/formats.md, "Block floating point", the d-Matrix definition): a block of
// `block` consecutive elements along cols shares e = floor(log2(amax)) (from the FP32 exponent
// bits, never a floating log2); each element stores m_i = round(x_i / 2^(e - (p-2))) clamped to
// +-(2^(p-1) - 1) as a p-bit sign-magnitude integer (p includes the sign). So the largest
// element keeps its leading one in the top magnitude bit and the value is m_i * 2^(e-(p-2)).
//   bfp      options p=3..16 (default 8), block=2..1024 (default 16; 16..128 is the usual range
//            in the literature: MSFP uses 16, K-sort BFP12 K-caches use 32/64), round=even|away
//   bfp12    = bfp:p=4:block=16, bfp16 = bfp:p=8:block=16 (block= may be overridden)
//   msfp12   = bfp12, msfp16 = bfp16 (round= only). Microsoft Floating Point (Darvish Rouhani
//            et al., "Pushing the Limits of Narrow Precision Inferencing at Cloud Scale with
//            Microsoft Floating Point", NeurIPS 2020): 8-bit shared exponent, sign + 3 / 7
//            mantissa bits, 16 elements. Same arithmetic as BFP[4] / BFP[8]: the public MSFP
//            emulation in Meta's fbgemm_gpu (float_to_msfp) takes the shared exponent as the
//            largest FP32 exponent field of the block and rounds each element RNE onto the grid
//            2^(shared - explicit mantissa bits) aligned to it - the BFP[p] grid. It clips to a
//            global max instead of +-(2^(p-1)-1) per block, which lets a block maximum that
//            rounds up to 2^(e+1) escape the p-bit field; we clamp (formats.md), since a 3-bit
//            magnitude cannot hold 8. So msfp12/msfp16 are aliases: make_format("msfp12")
//            ->name() is "bfp:block=16:p=4:round=even".
//   mx4 / mx6 / mx9: shared microexponents (Rouhani et al., "With Shared Microexponents, A
//            Little Shifting Goes a Long Way", ISCA 2023, section "Block Data Representations"
//            and its MX table): 16 elements share an 8-bit exponent (d1 = 8, k1 = 16), each pair
//            shares a 1-bit microexponent (d2 = 1, k2 = 2), each element is sign + 2 / 4 / 7
//            magnitude bits (p = 3 / 5 / 8). Quantization rule (not spelled out as code in the
//            paper; taken from AMD Quark's documented MX6/MX9 emulation, "Two level
//            quantization formats", and its fake_quantize_mx6_mx9): e = floor(log2(block
//            amax)); a pair's microexponent u = 1 iff BOTH its elements have floor(log2|x|) < e
//            (zero counts as below), else 0; element grid 2^(e - u - (p-2)); round; clamp.
//            Our reading where Quark is loose: Quark clamps a shifted pair to 2^(e+1) - step,
//            i.e. up to 2^p - 1 units, which a (p-1)-bit magnitude cannot hold (an element just
//            below 2^e rounds to 2^(p-1) units); we clamp every element to 2^(p-1) - 1, as the
//            stored width demands. The memory layout (8-bit exponent, one byte of pair shift
//            bits, 16 mantissas per block) follows AMD's AIE-ML v2 MX9/MX6/MX4 description.
//            round=even|away, default even (Quark uses torch.round, half to even).
//
// Layouts (all row-major; blocks along cols; a partial last block in a row is shorter):
//   elements: p-bit codes per row via the pack_codes layout (p = 8: one byte each; p = 4: two
//             per byte, element 2k in the low nibble). Code = sign << (p-1) | magnitude
//             (sign-magnitude, like MSFP; the encoder never emits -0, the decoder reads it as 0).
//   scales:   BFP: one byte per block, E = e + 127 with e clamped to [-127, 127] (blocks whose
//             amax is below 2^-127, and all-zero blocks, use E = 0); E = 255 is invalid.
//             MX: two bytes per block: E, then the microexponent bits (bit j = pair j).
//   Storage: bfp12 4.5, bfp16 8.5 bits/element (block 16); mx4 4, mx6 6, mx9 9 exactly.
// NaN/Inf inputs have no encoding: qarch::Error naming the first such element.
//
// DecodedTensor: scale groups 1 x block; BFP: mant = m_i, shift 0, scale_exp = e - (p-2) (the
// "aligned-mantissa integer MAC + one exponent add" datapath). MX: mant = +-m, shift = 1 - u,
// scale_exp = e - (p-1), so value = m * 2^shift * 2^scale_exp and the PE needs only a 1-bit
// shift. Every decoded value is exact in FP32 (|m| < 2^15, exponents >= -149).
#include <algorithm>
#include <cmath>
#include <vector>

#include "intbfp_kernels.h"
#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {
namespace {

using detail::f2u;
using detail::pow2f;

constexpr int kMinExp = -127;  // shared exponent range stored in the 8-bit code E = e + 127
constexpr int kMxBlock = 16;   // k1 of MX4/6/9
constexpr uint32_t kFiniteLimit = 0x7f800000u;  // |x| bits >= this: Inf or NaN

// Multiplier pair with (x * a) * b == x * 2^k, for k up to 142: one FP32 power of two reaches
// only 2^127, so blocks with e - (p-2) < -127 need two steps. The products are exact except
// when x * 2^k underflows FP32, and then |x * 2^k| < 2^-126 rounds to m = 0 either way.
struct Pow2Mul {
  float a, b;
};
inline Pow2Mul pow2_mul(int k) {
  if (k <= 127) return {pow2f(k), 1.0f};
  return {pow2f(64), pow2f(k - 64)};
}

// Shared exponent of a block from the largest |x| bit pattern (0 for an all-zero block):
// floor(log2(amax)) from the exponent field, clamped below at -127 (FP32 subnormal maxima).
inline int block_exponent(uint32_t amax_bits) {
  const int f = static_cast<int>(amax_bits >> 23);
  return f ? f - 127 : kMinExp;
}

// ---- Block kernels: no exceptions, no member access, so the element loops vectorize. N > 0
// is a compile-time block length (full blocks of the common sizes), N = 0 a runtime one.

// Largest |x| bit pattern of a block (>= kFiniteLimit if it holds NaN/Inf).
template <int N>
inline uint32_t block_amax_bits(const float* __restrict x, int64_t n_rt) {
  const int64_t n = N ? N : n_rt;
  int32_t amax = 0;
  for (int64_t j = 0; j < n; ++j) {
    const int32_t a = static_cast<int32_t>(f2u(x[j]) & 0x7fffffffu);
    amax = a > amax ? a : amax;
  }
  return static_cast<uint32_t>(amax);
}

// Microexponent bits of an MX block with shared exponent ex: bit j set iff both elements of
// pair j are below 2^ex in magnitude (a lone last element forms its own pair).
inline uint32_t micro_bits(const float* x, int64_t n, int ex) {
  const uint32_t thresh = f2u(pow2f(ex));  // |x| < 2^e  <=>  floor(log2|x|) < e
  uint32_t ubits = 0;
  for (int64_t j = 0; j < n; j += 2) {
    uint32_t pm = f2u(x[j]) & 0x7fffffffu;
    if (j + 1 < n) pm = std::max(pm, f2u(x[j + 1]) & 0x7fffffffu);
    ubits |= static_cast<uint32_t>(pm < thresh) << (j >> 1);
  }
  return ubits;
}

// Per-element factors of an MX block from its microexponent bits: for each nibble of pair bits
// (pairs 4k..4k+3, elements 8k..8k+7), up[nibble][j] = 2 where the pair is shifted (grid
// halved: x * 2^-(s0-1) = (x * 2^-s0) * 2) and down[nibble][j] = 0.5 for decoding
// (m * 2^(s0-1) = (m * 2^s0) * 0.5, exact since that value is representable). constexpr, so
// the table is ready even for encodes run during static initialization.
struct MicroTables {
  float up[16][8]{}, down[16][8]{};
  constexpr MicroTables() {
    for (int nib = 0; nib < 16; ++nib) {
      for (int j = 0; j < 8; ++j) {
        const bool u = (nib >> (j >> 1)) & 1;
        up[nib][j] = u ? 2.0f : 1.0f;
        down[nib][j] = u ? 0.5f : 1.0f;
      }
    }
  }
};
constexpr MicroTables kMicroTables{};

// Fills f[0..n) with the per-element factor of table t (kMicroTables.up or kMicroTables.down).
inline void micro_factors(const float (&t)[16][8], uint32_t ubits, int64_t n, float* f) {
  for (int64_t j0 = 0, k = 0; j0 < n; j0 += 8, ++k) {
    const float* row = t[(ubits >> (4 * k)) & 15u];
    for (int64_t j = j0; j < std::min<int64_t>(n, j0 + 8); ++j) f[j] = row[j - j0];
  }
}

// Quantizes one block to m_i = clamp(round(x_i * 2^-s_i), +-mmax) where the element's grid
// exponent s_i is s0, or s0 - 1 in MX pairs whose microexponent bit is set; writes p-bit
// sign-magnitude codes (kFused = false) or the decoded values m_i * 2^s_i (kFused = true).
template <int N, bool kAway, bool kMicro, bool kFused>
inline void encode_block(const float* __restrict x, int64_t n_rt, int s0, uint32_t ubits, int p,
                         uint16_t* __restrict codes, float* __restrict vals) {
  const int64_t n = N ? N : n_rt;
  const float mmax = static_cast<float>((1 << (p - 1)) - 1);
  const int32_t sign_bit = 1 << (p - 1);
  const Pow2Mul m0 = pow2_mul(-s0);
  const float d0 = pow2f(s0);
  constexpr int kMax = N ? N : kMxBlock;
  float up[kMax], down[kMax];  // MX only: per-element grid factors
  if (kMicro) {
    micro_factors(kMicroTables.up, ubits, n, up);
    if (kFused) micro_factors(kMicroTables.down, ubits, n, down);
  }
  for (int64_t j = 0; j < n; ++j) {
    float y = (x[j] * m0.a) * m0.b;
    if (kMicro) y *= up[j];
    const float q = std::min(std::max(detail::round_to_int<kAway>(y), -mmax), mmax);
    const int32_t m = static_cast<int32_t>(q);
    if (kFused) {
      vals[j] = kMicro ? (static_cast<float>(m) * d0) * down[j] : static_cast<float>(m) * d0;
    } else {
      const int32_t neg = m >> 31;  // 0 or -1
      codes[j] = static_cast<uint16_t>(((m ^ neg) - neg) | (neg & sign_bit));
    }
  }
}

// Decodes one block of p-bit sign-magnitude codes: value = m * 2^s_i (see encode_block).
template <int N, bool kMicro>
inline void decode_block(const uint16_t* __restrict codes, int64_t n_rt, int s0, uint32_t ubits,
                         int p, float* __restrict out) {
  const int64_t n = N ? N : n_rt;
  const int32_t mag_mask = (1 << (p - 1)) - 1;
  const int sh = p - 1;
  const float d0 = pow2f(s0);
  constexpr int kMax = N ? N : kMxBlock;
  float down[kMax];
  if (kMicro) micro_factors(kMicroTables.down, ubits, n, down);
  for (int64_t j = 0; j < n; ++j) {
    const int32_t c = codes[j];
    const int32_t neg = -((c >> sh) & 1);
    const int32_t m = ((c & mag_mask) ^ neg) - neg;
    out[j] = kMicro ? (static_cast<float>(m) * d0) * down[j] : static_cast<float>(m) * d0;
  }
}

class BlockFpFormat final : public Format {
 public:
  // micro = false: BFP[p] with `block`; micro = true: MX with block 16 and pair microexponents.
  BlockFpFormat(std::string name, int p, int block, bool micro, Rounding rounding)
      : name_(std::move(name)), p_(p), block_(block), micro_(micro), rounding_(rounding) {}

  std::string name() const override { return name_; }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = FormatSpec::parse(name_).name;
    t.element = "bfp";
    t.element_bits = p_;
    t.decoder = "bfp";
    t.group_cols = block_;
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    EncodedTensor e = empty_encoded(rows, cols);
    if (rounding_ == Rounding::kNearestAway) {
      run<true, false>(x, rows, cols, &e, nullptr);
    } else {
      run<false, false>(x, rows, cols, &e, nullptr);
    }
    return e;
  }

  void quantize(const float* x, int64_t rows, int64_t cols, float* out) const override {
    check_shape(rows, cols);
    if (rounding_ == Rounding::kNearestAway) {
      run<true, true>(x, rows, cols, nullptr, out);
    } else {
      run<false, true>(x, rows, cols, nullptr, out);
    }
  }

  void decode(const EncodedTensor& e, float* out) const override {
    check_buffers(e);
    if (micro_) return decode_n<kMxBlock, true>(e, out);
    switch (block_) {
      case 16:
        return decode_n<16, false>(e, out);
      case 32:
        return decode_n<32, false>(e, out);
      case 64:
        return decode_n<64, false>(e, out);
      case 128:
        return decode_n<128, false>(e, out);
      default:
        return decode_n<0, false>(e, out);
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check_buffers(e);
    const int64_t cols = e.cols;
    const int64_t rb = packed_row_bytes(cols, p_);
    const int64_t nblk = blocks_per_row(cols);
    const int sb = scale_bytes();
    const uint32_t mag_mask = (1u << (p_ - 1)) - 1u;
    DecodedTensor d;
    d.resize(e.rows, cols, 1, block_);
    std::vector<uint16_t> codes(static_cast<size_t>(cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, cols, p_, codes.data());
      const uint8_t* sc = e.scales.data() + r * nblk * sb;
      for (int64_t b = 0; b < nblk; ++b) {
        const int64_t c0 = b * block_, n = std::min<int64_t>(block_, cols - c0);
        const int ex = exponent_of(sc[b * sb], r, b);
        d.scale_exp[r * nblk + b] = micro_ ? ex - (p_ - 1) : ex - (p_ - 2);
        const uint32_t ubits = micro_ ? sc[b * sb + 1] : 0u;
        for (int64_t j = 0; j < n; ++j) {
          const uint16_t c = codes[c0 + j];
          const int32_t mag = static_cast<int32_t>(c & mag_mask);
          d.mant[r * cols + c0 + j] = (c >> (p_ - 1)) ? -mag : mag;
          d.shift[r * cols + c0 + j] =
              micro_ ? static_cast<uint8_t>(1u - ((ubits >> (j >> 1)) & 1u)) : uint8_t{0};
        }
      }
    }
    return d;
  }

 private:
  int scale_bytes() const { return micro_ ? 2 : 1; }
  int64_t blocks_per_row(int64_t cols) const { return (cols + block_ - 1) / block_; }

  void check_shape(int64_t rows, int64_t cols) const {
    if (rows < 0 || cols < 0) {
      throw Error("format '" + name_ + "': negative shape " + std::to_string(rows) + " x " +
                  std::to_string(cols));
    }
  }

  EncodedTensor empty_encoded(int64_t rows, int64_t cols) const {
    check_shape(rows, cols);
    EncodedTensor e;
    e.format = name_;
    e.rows = rows;
    e.cols = cols;
    e.elements.assign(static_cast<size_t>(rows * packed_row_bytes(cols, p_)), 0);
    e.scales.assign(static_cast<size_t>(rows * blocks_per_row(cols) * scale_bytes()), 0);
    return e;
  }

  void check_buffers(const EncodedTensor& e) const {
    check_encoded(e);
    const size_t want_el = static_cast<size_t>(e.rows * packed_row_bytes(e.cols, p_));
    const size_t want_sc = static_cast<size_t>(e.rows * blocks_per_row(e.cols) * scale_bytes());
    if (e.elements.size() != want_el || e.scales.size() != want_sc || !e.fp32.empty() ||
        !e.indices.empty()) {
      throw Error("encoded '" + name_ + "' [" + std::to_string(e.rows) + ", " +
                  std::to_string(e.cols) + "]: expected " + std::to_string(want_el) +
                  " element bytes and " + std::to_string(want_sc) + " scale bytes, got " +
                  std::to_string(e.elements.size()) + " and " + std::to_string(e.scales.size()) +
                  (e.fp32.empty() && e.indices.empty() ? "" : " (plus unexpected side buffers)"));
    }
  }

  int exponent_of(uint8_t code, int64_t r, int64_t b) const {
    if (code == 0xff) {
      throw Error("encoded '" + name_ + "': row " + std::to_string(r) + " block " +
                  std::to_string(b) + " has the invalid shared exponent code 0xFF");
    }
    return static_cast<int>(code) - 127;
  }

  // Dispatches to a compile-time block length for the common sizes.
  template <bool kAway, bool kFused>
  void run(const float* x, int64_t rows, int64_t cols, EncodedTensor* enc, float* out) const {
    if (micro_) return run_n<kMxBlock, kAway, kFused, true>(x, rows, cols, enc, out);
    switch (block_) {
      case 16:
        return run_n<16, kAway, kFused, false>(x, rows, cols, enc, out);
      case 32:
        return run_n<32, kAway, kFused, false>(x, rows, cols, enc, out);
      case 64:
        return run_n<64, kAway, kFused, false>(x, rows, cols, enc, out);
      case 128:
        return run_n<128, kAway, kFused, false>(x, rows, cols, enc, out);
      default:
        return run_n<0, kAway, kFused, false>(x, rows, cols, enc, out);
    }
  }

  // The one encoder: writes codes + scales into *enc, or (kFused) decoded values into out.
  template <int N, bool kAway, bool kFused, bool kMicro>
  void run_n(const float* x, int64_t rows, int64_t cols, EncodedTensor* enc, float* out) const {
    const int64_t rb = packed_row_bytes(cols, p_);
    const int64_t nblk = blocks_per_row(cols);
    const int sb = scale_bytes();
    std::vector<uint16_t> codes(kFused ? 0 : static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      uint8_t* sc = kFused ? nullptr : enc->scales.data() + r * nblk * sb;
      for (int64_t b = 0; b < nblk; ++b) {
        const int64_t c0 = b * block_, n = std::min<int64_t>(block_, cols - c0);
        const float* xb = xr + c0;
        const bool full = N > 0 && n == N;
        const uint32_t amax = full ? block_amax_bits<N>(xb, n) : block_amax_bits<0>(xb, n);
        if (amax >= kFiniteLimit) require_finite(x, rows * cols, cols, name_);
        const int ex = block_exponent(amax);
        const uint32_t ubits = kMicro ? micro_bits(xb, n, ex) : 0u;
        if (!kFused) {
          sc[b * sb] = static_cast<uint8_t>(ex + 127);
          if (kMicro) sc[b * sb + 1] = static_cast<uint8_t>(ubits);
        }
        uint16_t* cb = kFused ? nullptr : codes.data() + c0;
        float* ob = kFused ? out + r * cols + c0 : nullptr;
        if (full) {
          encode_block<N, kAway, kMicro, kFused>(xb, n, ex - (p_ - 2), ubits, p_, cb, ob);
        } else {
          encode_block<0, kAway, kMicro, kFused>(xb, n, ex - (p_ - 2), ubits, p_, cb, ob);
        }
      }
      if (!kFused) detail::pack_row(codes.data(), cols, p_, enc->elements.data() + r * rb);
    }
  }

  template <int N, bool kMicro>
  void decode_n(const EncodedTensor& e, float* out) const {
    const int64_t cols = e.cols;
    const int64_t rb = packed_row_bytes(cols, p_);
    const int64_t nblk = blocks_per_row(cols);
    const int sb = scale_bytes();
    std::vector<uint16_t> codes(static_cast<size_t>(cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, cols, p_, codes.data());
      const uint8_t* sc = e.scales.data() + r * nblk * sb;
      for (int64_t b = 0; b < nblk; ++b) {
        const int64_t c0 = b * block_, n = std::min<int64_t>(block_, cols - c0);
        const int ex = exponent_of(sc[b * sb], r, b);
        const uint32_t ubits = kMicro ? sc[b * sb + 1] : 0u;
        float* o = out + r * cols + c0;
        if (N > 0 && n == N) {
          decode_block<N, kMicro>(codes.data() + c0, n, ex - (p_ - 2), ubits, p_, o);
        } else {
          decode_block<0, kMicro>(codes.data() + c0, n, ex - (p_ - 2), ubits, p_, o);
        }
      }
    }
  }

  std::string name_;
  int p_;
  int block_;
  bool micro_;
  Rounding rounding_;
};

std::string bfp_name(int p, int block, Rounding rnd) {
  return "bfp:block=" + std::to_string(block) + ":p=" + std::to_string(p) +
         ":round=" + rounding_name(rnd);
}

// bfp and its aliases: fixed p (or the p= option when fixed_p == 0), block option if allowed.
void add_bfp(detail::Registry& reg, const std::string& name, int fixed_p, bool block_option,
             const std::string& options, const std::string& what) {
  detail::FormatFactory f;
  f.info = {name, options, what};
  f.make = [fixed_p, block_option](FormatOptions& o) -> std::unique_ptr<Format> {
    const int p = fixed_p ? fixed_p : static_cast<int>(o.get_int("p", 8, 3, 16));
    const int block = block_option ? static_cast<int>(o.get_int("block", 16, 2, 1024)) : 16;
    const Rounding rnd = o.get_rounding();
    o.finish();
    return std::make_unique<BlockFpFormat>(bfp_name(p, block, rnd), p, block, false, rnd);
  };
  reg.push_back(std::move(f));
}

void add_mx(detail::Registry& reg, const std::string& name, int p, const std::string& what) {
  detail::FormatFactory f;
  f.info = {name, "round=even|away", what};
  f.make = [name, p](FormatOptions& o) -> std::unique_ptr<Format> {
    const Rounding rnd = o.get_rounding();
    o.finish();
    return std::make_unique<BlockFpFormat>(name + ":round=" + rounding_name(rnd), p, kMxBlock, true,
                                           rnd);
  };
  reg.push_back(std::move(f));
}

}  // namespace

namespace detail {
void register_bfp_formats(Registry& r) {
  add_bfp(r, "bfp", 0, true, "p=3..16 (8) block=2..1024 (16) round=even|away",
          "block floating point BFP[p] (d-Matrix definition): shared 8-bit exponent per block, "
          "p-bit sign-magnitude mantissas aligned to it");
  add_bfp(r, "bfp12", 4, true, "block=2..1024 (16) round=even|away",
          "BFP12 = bfp:p=4:block=16 (4.5 bits/element)");
  add_bfp(r, "bfp16", 8, true, "block=2..1024 (16) round=even|away",
          "BFP16 = bfp:p=8:block=16 (8.5 bits/element)");
  add_bfp(r, "msfp12", 4, false, "round=even|away",
          "MSFP12 (Microsoft, NeurIPS 2020): sign + 3 bits, 16 elements; same as bfp12");
  add_bfp(r, "msfp16", 8, false, "round=even|away",
          "MSFP16 (Microsoft, NeurIPS 2020): sign + 7 bits, 16 elements; same as bfp16");
  add_mx(r, "mx4", 3,
         "MX4 shared microexponents (Rouhani et al., ISCA 2023): 8-bit exponent / 16, 1-bit "
         "microexponent / 2, sign + 2 bits (4 bits/element)");
  add_mx(r, "mx6", 5, "MX6 shared microexponents (ISCA 2023): sign + 4 bits (6 bits/element)");
  add_mx(r, "mx9", 8, "MX9 shared microexponents (ISCA 2023): sign + 7 bits (9 bits/element)");
}
}  // namespace detail

}  // namespace qarch::quant
