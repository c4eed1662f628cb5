// AdaptivFloat (Tambe et al., "Algorithm-Hardware Co-design of Adaptive Floating-Point
// Encodings for Resilient Deep Learning Inference", DAC 2020): an n-bit float (1 sign, e
// exponent, m = n - 1 - e mantissa bits, no subnormals, no Inf/NaN) whose exponent range is
// shifted per tensor so that its top binade holds the tensor's largest magnitude. The shift (the
// exponent bias) is the only per-tensor parameter: a power of two, so the PE needs no scale
// multiplier.
//
// Facts from the paper (Algorithm 1 and the hardware section):
// - exp_max = floor(log2(max |x|)); the 2^e exponent codes cover the binades exp_min = exp_max -
//   2^e + 1 .. exp_max;
// - no subnormals; the smallest code (exponent code 0, mantissa 0) is given up to represent 0,
//   so the smallest nonzero magnitude is 2^exp_min (1 + 2^-m) and the largest
//   2^exp_max (2 - 2^-m);
// - magnitudes above the largest saturate; the mantissa is rounded to nearest.
// Our choices where the paper is silent (documented so results can be reproduced):
// - mantissa ties go to even (numpy's round, which the authors' Python model uses);
// - a magnitude at or below half the smallest nonzero value becomes 0 (a tie goes to 0, the
//   even code); above it, up to the smallest nonzero value, it becomes that value. (One public
//   re-implementation lets the exact half-way value through as 2^(exp_min - 1), a value the
//   format cannot hold; we do not.)
// - exp_max is clamped to [-100, 127], so a tensor of tiny values (max below 2^-100) keeps a
//   grid FP32 can still hold; such values round to 0 or the smallest magnitudes.
// - The default exponent width is min(3, n - 2): 8 bits = E3M4, 6 bits = E3M2, 4 bits = E2M1.
//   The paper sweeps the exponent width per model; e= selects it.
//
// Options: bits=4..8 (aliases adaptivfloat4/6/8 fix it), e=1..5 (exponent bits, e <= bits - 1;
// 5 at most so that a decoded shift stays below 32), per=tensor|row (one bias per tensor, the
// paper's, or per row).
//
// Exact arithmetic: a = |x| clamped to the largest magnitude; a <= v_min / 2 -> 0; otherwise
// E = floor(log2 a) (exact, from frexp), j = round_even(a * 2^(m - E)) - 2^m, carried into the
// next binade at 2^(m+1), and a result at or below the given-up value 2^exp_min becomes v_min.
// decode = ldexp(float(+-(2^m + j)), (E - exp_min) + exp_min - m): exactly decoded_value().
//
// Layout: elements = one n-bit code per element, pack_codes layout: sign (MSB) | exponent code
// E - exp_min (e bits) | j (m bits); 0 is code 0 (a negative value that rounds to 0 is +0; the
// code with only the sign set also decodes to 0). scales = exp_max as a signed byte per tensor
// (or per row).
//
// DecodedTensor: element <E - exp_min, +-(2^m + j)> (0 -> <0, 0>); one scale group per tensor
// or row with scale_exp = exp_min - m and scale_mul 1.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {
namespace {

class AdaptivFloatFormat final : public Format {
 public:
  AdaptivFloatFormat(int bits, int ebits, bool per_row)
      : bits_(bits), e_(ebits), m_(bits - 1 - ebits), per_row_(per_row) {}

  std::string name() const override {
    return FormatSpec{"adaptivfloat",
                      {{"bits", std::to_string(bits_)},
                       {"e", std::to_string(e_)},
                       {"per", per_row_ ? "row" : "tensor"}}}
        .str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "adaptivfloat";
    t.element = "e" + std::to_string(e_) + "m" + std::to_string(m_);
    t.element_bits = bits_;
    t.decoder = "adaptivfloat";
    t.encode_scope = !per_row_ ? EncodeScope::kTensor : EncodeScope::kSegment;  // the exponent bias
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name());
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    const int64_t groups = per_row_ ? rows : (n > 0 ? 1 : 0);
    e.scales.resize(static_cast<size_t>(groups));
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t i0 = per_row_ ? g * cols : 0, i1 = per_row_ ? i0 + cols : n;
      float amax = 0;
      for (int64_t i = i0; i < i1; ++i) amax = std::max(amax, std::fabs(x[i]));
      int ex = 0;
      std::frexp(amax, &ex);  // amax = f 2^ex, f in [0.5, 1): floor(log2 amax) = ex - 1
      const int exp_max = amax > 0 ? std::clamp(ex - 1, kExpMaxLo, 127) : kExpMaxLo;
      e.scales[static_cast<size_t>(g)] = static_cast<uint8_t>(static_cast<int8_t>(exp_max));
    }
    // Row by row: codes into a row buffer, packed straight into e.elements.
    const int64_t rb = packed_row_bytes(cols, bits_);
    e.elements.resize(static_cast<size_t>(rows * rb));
    std::vector<uint32_t> codes(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows && n > 0; ++r) {
      const int exp_max = static_cast<int8_t>(e.scales[per_row_ ? static_cast<size_t>(r) : 0]);
      const Range rg = range(exp_max);
      const float* xr = x + r * cols;
      if (rg.pow_min < FLT_MIN) {  // the grid reaches FP32 subnormals: the careful path
        for (int64_t c = 0; c < cols; ++c)
          codes[static_cast<size_t>(c)] = encode_exact(xr[c], exp_max);
      } else {
        encode_run(xr, cols, rg, codes.data());
      }
      detail::pack_row(codes.data(), cols, bits_, e.elements.data() + r * rb);
    }
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    check(e);
    const int64_t rb = packed_row_bytes(e.cols, bits_);
    std::vector<uint32_t> codes(static_cast<size_t>(e.cols));
    std::vector<float> table;
    for (int64_t r = 0; r < e.rows && !e.scales.empty(); ++r) {
      if (r == 0 || per_row_)
        table = value_table(static_cast<int8_t>(e.scales[per_row_ ? static_cast<size_t>(r) : 0]));
      detail::unpack_row(e.elements.data() + r * rb, e.cols, bits_, codes.data());
      float* o = out + r * e.cols;
      for (int64_t c = 0; c < e.cols; ++c) o[c] = table[codes[static_cast<size_t>(c)]];
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check(e);
    const auto codes = unpack_codes(e.elements, e.rows, e.cols, bits_);
    DecodedTensor d;
    d.resize(e.rows, e.cols, per_row_ ? 1 : std::max<int64_t>(1, e.rows),
             std::max<int64_t>(1, e.cols));
    for (size_t g = 0; g < d.scale_exp.size(); ++g) {  // no groups when cols == 0
      const int exp_max = static_cast<int8_t>(e.scales[g]);
      d.scale_exp[g] = exp_max - (1 << e_) + 1 - m_;
    }
    for (size_t i = 0; i < codes.size(); ++i) {
      const ExpIntPair p = pair(codes[i]);
      d.mant[i] = p.mant;
      d.shift[i] = static_cast<uint8_t>(p.shift);
    }
    return d;
  }

 private:
  static constexpr int kExpMaxLo = -100;

  // The constants of one exp_max.
  struct Range {
    int exp_min;
    float vmax;       // 2^exp_max (2 - 2^-m), the largest magnitude
    float half_vmin;  // half the smallest nonzero magnitude 2^exp_min (1 + 2^-m)
    float pow_min;    // 2^exp_min, the value given up for 0
  };
  Range range(int exp_max) const {
    const int exp_min = exp_max - (1 << e_) + 1;
    return {exp_min, std::ldexp(2.0f - std::ldexp(1.0f, -m_), exp_max),
            std::ldexp(1.0f + std::ldexp(1.0f, -m_), exp_min - 1), std::ldexp(1.0f, exp_min)};
  }

  // encode_exact for a grid whose smallest magnitude is a normal float, in FP32 bit arithmetic
  // and without branches (its selections as conditional moves): the encoder's hot loop.
  void encode_run(const float* x, int64_t n, const Range& rg, uint32_t* out) const {
    const int drop = 23 - m_;
    const uint32_t half = (1u << (drop - 1)) - 1u, mmask = (1u << m_) - 1u;
    for (int64_t i = 0; i < n; ++i) {
      uint32_t u;
      std::memcpy(&u, x + i, 4);
      const float a = std::min(std::fabs(x[i]), rg.vmax);
      uint32_t ua;
      std::memcpy(&ua, &a, 4);
      const uint32_t r = (ua + half + ((ua >> drop) & 1u)) >> drop;
      const int32_t ecode = static_cast<int32_t>(r >> m_) - 127 - rg.exp_min;
      uint32_t c = (static_cast<uint32_t>(std::max(ecode, 0)) << m_) | (r & mmask);
      c = c == 0 ? 1u : c;            // the given-up value 2^exp_min: v_min
      c = a < rg.pow_min ? 1u : c;    // between v_min / 2 and 2^exp_min: v_min
      c |= (u >> 31) << (bits_ - 1);  // the sign bit
      out[i] = a <= rg.half_vmin ? 0u : c;
    }
  }

  // One element in double arithmetic, for grids that reach FP32 subnormals (the rule of the
  // file comment, step by step; encode_run is the fast equivalent for all other grids).
  uint32_t encode_exact(float x, int exp_max) const {
    const int exp_min = exp_max - (1 << e_) + 1;
    const double vmin = std::ldexp(1.0 + std::ldexp(1.0, -m_), exp_min);
    const double vmax = std::ldexp(2.0 - std::ldexp(1.0, -m_), exp_max);
    const double a = std::min(std::fabs(static_cast<double>(x)), vmax);
    const uint32_t sign = std::signbit(x) ? 1u << (bits_ - 1) : 0u;
    if (a <= 0.5 * vmin) return 0;
    if (a < std::ldexp(1.0, exp_min)) return sign | 1u;
    int E;
    std::frexp(a, &E);
    E -= 1;                                            // a in [2^E, 2^(E+1))
    double q = std::nearbyint(std::ldexp(a, m_ - E));  // in [2^m, 2^(m+1)], ties to even
    if (q >= std::ldexp(1.0, m_ + 1)) q = std::ldexp(1.0, m_), ++E;
    const uint32_t ecode = static_cast<uint32_t>(E - exp_min);
    uint32_t j = static_cast<uint32_t>(q) - (1u << m_);
    if (ecode == 0 && j == 0) j = 1;
    return sign | (ecode << m_) | j;
  }

  // code -> value for one exp_max (decode's table).
  std::vector<float> value_table(int exp_max) const {
    std::vector<float> t(size_t{1} << bits_);
    for (uint32_t c = 0; c < t.size(); ++c) {
      const ExpIntPair p = pair(c);
      t[c] = std::ldexp(static_cast<float>(p.mant), p.shift + exp_max - (1 << e_) + 1 - m_);
    }
    return t;
  }

  ExpIntPair pair(uint32_t code) const {
    const uint32_t j = code & ((1u << m_) - 1u), ecode = (code >> m_) & ((1u << e_) - 1u);
    if (ecode == 0 && j == 0) return {0, 0};
    const int32_t mag = static_cast<int32_t>((1u << m_) + j);
    return {(code >> (bits_ - 1)) & 1u ? -mag : mag, static_cast<int32_t>(ecode)};
  }

  // Checks e's exponent biases and element bytes.
  void check(const EncodedTensor& e) const {
    check_encoded(e);
    const int64_t n = e.rows * e.cols;
    const size_t want = per_row_ ? static_cast<size_t>(e.rows) : (n > 0 ? 1u : 0u);
    if (e.scales.size() != want) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(want) +
                  " exponent biases, got " + std::to_string(e.scales.size()));
    }
    for (uint8_t b : e.scales) {
      const int v = static_cast<int8_t>(b);
      if (v < kExpMaxLo) {
        throw Error("encoded '" + name() + "': exponent bias " + std::to_string(v) +
                    " is below the format's range (" + std::to_string(kExpMaxLo) + " .. 127)");
      }
    }
    detail::check_packed_size(e.elements, e.rows, e.cols, bits_);
  }

  int bits_, e_, m_;
  bool per_row_;
};

std::unique_ptr<Format> make_adaptivfloat(int alias_bits, FormatOptions& o) {
  const int bits = detail::width_option(o, alias_bits, "adaptivfloat", 8, 4, 8);
  const int e = static_cast<int>(o.get_int("e", std::min(3, bits - 2), 1, std::min(5, bits - 1)));
  const bool per_row = o.get_choice("per", "tensor", {"tensor", "row"}) == "row";
  o.finish();
  return std::make_unique<AdaptivFloatFormat>(bits, e, per_row);
}

}  // namespace

namespace detail {
void register_adaptivfloat_formats(Registry& r) {
  const char* desc =
      "AdaptivFloat: n-bit float, exponent bias per tensor from its max, no subnormals, 0 in "
      "the smallest code (Tambe et al., DAC 2020)";
  r.push_back({{"adaptivfloat", "bits=4..8 e=1..5 per=tensor|row", desc},
               [](FormatOptions& o) { return make_adaptivfloat(0, o); }});
  for (int b : {8, 6, 4}) {
    r.push_back({{"adaptivfloat" + std::to_string(b), "e=1..5 per=tensor|row",
                  "AdaptivFloat at " + std::to_string(b) +
                      " bits (alias of adaptivfloat:bits=" + std::to_string(b) + ")"},
                 [b](FormatOptions& o) { return make_adaptivfloat(b, o); }});
  }
}
}  // namespace detail

}  // namespace qarch::quant
