// OLAccel-style dense + sparse split (Park, Kim, Yoo, "Energy-efficient Neural Network
// Accelerator Based on Outlier-aware Low-precision Computation", ISCA 2018).
//
// Facts from the paper (abstract, sections II-III): the accelerator runs dense low-precision
// (4-bit) MACs on the majority of weights and activations and keeps a small fraction of large
// values - the outliers, e.g. 3% of the data - sparse and in high precision, with their
// positions; outlier weights go to one extra MAC unit per SIMD lane group, outlier activations
// to dedicated high-precision MAC units, and both kinds of unit update the same partial sums.
// The paper evaluates 16-bit outliers (against a 16-bit zero-aware baseline) and 8-bit ones
// (against an 8-bit baseline); ANT's reproduction of OLAccel (clevercool/ANT-Quantization,
// conf_olaccel.ini) uses 8. Default here: outlier_bits=16.
//
// qarch's definition (per tensor), chosen so the decoded view is an integer operand:
// - Outliers: the k = llround(frac * n) elements of largest |x| (equal magnitudes: lower flat
//   index first).
// - Step s = T / N in FP32, T = the largest |x| among the other elements, N = 2^(bits-1) - 1
//   (7 for bits=4); if T = 0, s = (k-th largest |x|) / O with O = 2^(outlier_bits-1) - 1; if
//   that is 0 too, s = 1.
// - Normal codes: q = round(x / s) (FP32 division, ties away from zero), clamped to [-N, N],
//   two's complement `bits` wide.
// - Outlier codes: integers on the step s * 2^p, O = 2^(outlier_bits-1) - 1:
//   q = round(ldexp(x / s, -p)) clamped to [-O, O], two's complement outlier_bits wide, where
//   p >= 0 is the smallest shift (per tensor, at most 40) with round(max |x / s| / 2^p) <= O
//   over the outliers. If even p = 40 cannot hold the largest outlier, s is raised to
//   max|outlier| / (O * 2^40) (normals then lose their smallest values, outliers never
//   saturate). p = 0 - the dense step itself - whenever the largest outlier fits:
//   always in practice with 16-bit outliers (up to 32767 s, 4681x the normal range); with
//   8-bit outliers (127 s, 18x) LLM outlier channels need p > 0.
// Why a power-of-two multiple of one step: the dense and the sparse units accumulate into the
// same partial sums (OLAccel section III). With outliers <p, q> and normals <0, q> on one scale
// s every product is an integer, (q_x q_w) << (p_x + p_w), and the dot product is exact integer
// arithmetic with a single multiply by s_x * s_w at the end; an unrelated outlier scale would
// need a second scaled accumulator per output.
//
// Layout: elements = the dense codes of every element (pack_codes, `bits` wide; 0 at outlier
// positions), followed by one outlier code per outlier (outlier_bits / 8 bytes, little-endian
// two's complement) in position order; indices = outlier positions (row-major flat index,
// ascending); fp32 = {s}; scales = {p} (one byte). decode: float(q * 2^shift) * s;
// decode_operand: <0, q> per normal, <p, q> per outlier, one group with scale_mul = s.
// NaN/Inf inputs raise qarch::Error; tensors of 2^32 or more elements too.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "registry.h"

namespace qarch::quant {
namespace {

constexpr int kMaxOutlierShift = 40;  // 15-bit outlier << 40 stays inside an int64

// round(v) half away from zero, clamped to [-lim, lim] (v finite or +-inf).
inline int32_t round_clamp(float v, int32_t lim) {
  const float r = std::round(v);
  const float l = static_cast<float>(lim);
  return static_cast<int32_t>(r > l ? l : (r < -l ? -l : r));
}

class OlaccelFormat final : public Format {
 public:
  OlaccelFormat(int bits, int obits, double frac) : bits_(bits), obits_(obits), frac_(frac) {}

  std::string name() const override {
    return "olaccel:bits=" + std::to_string(bits_) + ":frac=" + format_g(frac_) +
           ":outlier_bits=" + std::to_string(obits_);
  }

  int32_t nmax() const { return (1 << (bits_ - 1)) - 1; }
  int32_t omax() const { return (1 << (obits_ - 1)) - 1; }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "olaccel";
    t.element = "int";
    t.element_bits = bits_;
    t.decoder = "olaccel";
    t.outlier_fraction = frac_;
    t.encode_scope = EncodeScope::kTensor;  // the outlier threshold is a tensor quantile
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name());
    if (n >= (int64_t{1} << 32)) {
      throw Error("format '" + name() + "': " + std::to_string(n) +
                  " elements do not fit 32-bit outlier positions");
    }
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    const int64_t k = std::min<int64_t>(n, std::llround(frac_ * static_cast<double>(n)));

    // k-th and (k+1)-th largest magnitudes.
    float t_k = 0, t_next = 0;
    if (n > 0) {
      std::vector<float> mag(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) mag[i] = std::fabs(x[i]);
      if (k < n) {
        std::nth_element(mag.begin(), mag.begin() + k, mag.end(), std::greater<float>());
        t_next = mag[k];
        if (k > 0) t_k = *std::min_element(mag.begin(), mag.begin() + k);
      } else {
        t_k = *std::min_element(mag.begin(), mag.end());
      }
    }
    float s = t_next / static_cast<float>(nmax());
    if (!(s > 0.0f)) s = t_k / static_cast<float>(omax());
    if (!(s > 0.0f) || !std::isfinite(s)) s = 1.0f;

    // Outliers: |x| > t_k, then |x| == t_k in index order until k are taken.
    if (k > 0) {
      int64_t greater = 0;
      for (int64_t i = 0; i < n; ++i) greater += std::fabs(x[i]) > t_k;
      int64_t ties = k - greater;
      for (int64_t i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a > t_k || (a == t_k && ties > 0)) {
          if (a == t_k) --ties;
          e.indices.push_back(static_cast<uint32_t>(i));
        }
      }
    }

    // The outliers must fit in omax * 2^kMaxOutlierShift steps. A tensor whose normals are far
    // smaller than its outliers (a softmax row whose tail underflows: largest 0.8, the
    // (k+1)-th 4e-29) would otherwise saturate every outlier silently; it gets a coarser step
    // instead, so its smallest normals round to zero and the outliers keep 15 bits. The margin
    // (1 + 2^-20) covers the rounding of x / s.
    float amax = 0;
    for (uint32_t i : e.indices) amax = std::max(amax, std::fabs(x[i]));
    const double s_min = static_cast<double>(amax) /
                         (static_cast<double>(omax()) * std::ldexp(1.0, kMaxOutlierShift));
    if (static_cast<double>(s) < s_min)
      s = static_cast<float>(s_min * (1.0 + std::ldexp(1.0, -20)));
    e.fp32 = {s};

    const uint32_t mask = (1u << bits_) - 1u;
    const int64_t row_bytes = packed_row_bytes(cols, bits_);
    std::vector<uint32_t> codes;
    if (bits_ == 4) {
      e.elements.assign(static_cast<size_t>(row_bytes * rows), 0);
    } else {
      codes.assign(static_cast<size_t>(n), 0);
    }
    size_t next_out = 0;
    for (int64_t r = 0; r < rows; ++r) {
      uint8_t* out = bits_ == 4 ? e.elements.data() + r * row_bytes : nullptr;
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t i = r * cols + c;
        if (next_out < e.indices.size() && e.indices[next_out] == i) {
          ++next_out;
          continue;
        }
        const uint32_t q = static_cast<uint32_t>(round_clamp(x[i] / s, nmax())) & mask;
        if (out) {
          out[c >> 1] |= static_cast<uint8_t>(q << ((c & 1) * 4));
        } else {
          codes[i] = q;
        }
      }
    }
    if (bits_ != 4) e.elements = pack_codes(codes, rows, cols, bits_);
    float vmax = 0;
    for (uint32_t i : e.indices) vmax = std::max(vmax, std::fabs(x[i] / s));
    int p = 0;
    while (p < kMaxOutlierShift && std::round(std::ldexp(vmax, -p)) > static_cast<float>(omax())) {
      ++p;
    }
    e.scales = {static_cast<uint8_t>(p)};
    for (uint32_t i : e.indices) {
      const uint32_t q = static_cast<uint32_t>(round_clamp(std::ldexp(x[i] / s, -p), omax()));
      for (int b = 0; b < obits_; b += 8) e.elements.push_back(static_cast<uint8_t>(q >> b));
    }
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    const float s = check(e);
    const int64_t n = e.rows * e.cols;
    if (bits_ == 4) {
      const int64_t row_bytes = packed_row_bytes(e.cols, 4);
      float tab[16];
      for (int c = 0; c < 16; ++c) tab[c] = static_cast<float>(c >= 8 ? c - 16 : c) * s;
      for (int64_t r = 0; r < e.rows; ++r) {
        const uint8_t* in = e.elements.data() + r * row_bytes;
        float* o = out + r * e.cols;
        for (int64_t c = 0; c < e.cols; ++c) o[c] = tab[(in[c >> 1] >> ((c & 1) * 4)) & 0xF];
      }
    } else {
      const auto q = dense_codes(e);
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(q[i]) * s;
    }
    const int64_t mul = int64_t{1} << e.scales[0];
    for (size_t j = 0; j < e.indices.size(); ++j) {
      out[e.indices[j]] = static_cast<float>(outlier_code(e, j) * mul) * s;
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    const float s = check(e);
    DecodedTensor d;
    d.resize(e.rows, e.cols, e.rows, e.cols);
    if (!d.scale_mul.empty()) d.scale_mul[0] = s;
    const auto q = dense_codes(e);
    for (int64_t i = 0; i < e.rows * e.cols; ++i) d.mant[i] = q[i];
    for (size_t j = 0; j < e.indices.size(); ++j) {
      d.mant[e.indices[j]] = outlier_code(e, j);
      d.shift[e.indices[j]] = e.scales[0];
    }
    return d;
  }

 private:
  int64_t dense_bytes(const EncodedTensor& e) const {
    return packed_row_bytes(e.cols, bits_) * e.rows;
  }

  // Validates e; returns its step s.
  float check(const EncodedTensor& e) const {
    check_encoded(e);
    if (e.fp32.size() != 1 || !std::isfinite(e.fp32[0])) {
      throw Error("encoded '" + name() + "': expected one finite step in fp32");
    }
    if (e.scales.size() != 1 || e.scales[0] > kMaxOutlierShift) {
      throw Error("encoded '" + name() + "': expected one outlier shift byte <= " +
                  std::to_string(kMaxOutlierShift) + " in scales");
    }
    const int64_t want = dense_bytes(e) + static_cast<int64_t>(e.indices.size()) * (obits_ / 8);
    if (static_cast<int64_t>(e.elements.size()) != want) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(want) +
                  " element bytes (dense codes and " + std::to_string(e.indices.size()) +
                  " outliers), got " + std::to_string(e.elements.size()));
    }
    const uint64_t n = static_cast<uint64_t>(e.rows) * static_cast<uint64_t>(e.cols);
    for (size_t j = 0; j < e.indices.size(); ++j) {
      if (e.indices[j] >= n || (j && e.indices[j] <= e.indices[j - 1])) {
        throw Error("encoded '" + name() + "': outlier position " + std::to_string(j) + " (" +
                    std::to_string(e.indices[j]) + ") is out of range or not ascending");
      }
    }
    return e.fp32[0];
  }

  // Signed dense codes of every element (outlier positions hold their dense code, 0).
  std::vector<int32_t> dense_codes(const EncodedTensor& e) const {
    const std::vector<uint8_t> dense(e.elements.begin(), e.elements.begin() + dense_bytes(e));
    const auto u = unpack_codes(dense, e.rows, e.cols, bits_);
    std::vector<int32_t> q(u.size());
    for (size_t i = 0; i < u.size(); ++i) {
      q[i] = u[i] >= (1u << (bits_ - 1)) ? static_cast<int32_t>(u[i]) - (1 << bits_)
                                         : static_cast<int32_t>(u[i]);
    }
    return q;
  }

  int32_t outlier_code(const EncodedTensor& e, size_t j) const {
    const uint8_t* p = e.elements.data() + dense_bytes(e) + j * (obits_ / 8);
    return obits_ == 8 ? static_cast<int8_t>(p[0])
                       : static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
  }

  int bits_;
  int obits_;
  double frac_;
};

}  // namespace

namespace detail {
void register_olaccel_formats(Registry& r) {
  r.push_back({{"olaccel", "bits=4 (2..7) frac=0.03 outlier_bits=16|8",
                "OLAccel dense+sparse split: dense int `bits` codes, the largest frac of values "
                "as sparse wider integers on the step s * 2^p (Park et al., ISCA 2018)"},
               [](FormatOptions& o) -> std::unique_ptr<Format> {
                 const int bits = static_cast<int>(o.get_int("bits", 4, 2, 7));
                 const double frac = o.get_double("frac", 0.03, 0.0, 1.0);
                 const int obits = static_cast<int>(o.get_int("outlier_bits", 16, 8, 16));
                 if (obits != 8 && obits != 16) {
                   throw Error("format '" + o.spec().str() +
                               "': option 'outlier_bits': must be 8 or 16");
                 }
                 o.finish();
                 return std::make_unique<OlaccelFormat>(bits, obits, frac);
               }});
}
}  // namespace detail

}  // namespace qarch::quant
