// Dual-grained quantization (Zhang et al., "Dual Grained Quantization: Efficient Fine-Grained
// Quantization for LLM", arXiv 2310.04836, 2023): INT4 weights in groups along K whose scales
// are themselves integers, 8-bit, under one FP scale per output channel. The fine-grained group
// scale then costs 8 bits instead of 16/32, and the hardware applies it as an integer multiply;
// only the per-channel scale is floating point.
//
// Our arithmetic (the paper's search for the scales is not reproduced; this is the plain
// round-to-nearest form, documented so results can be reproduced):
// - per row r and group g of `group` consecutive elements along K: the ideal scale
//   t_g = max|x| over the group / qmax (qmax = 2^(bits-1) - 1, symmetric, -2^(bits-1) unused);
// - channel scale s_r = fl32(max_g t_g / 255) (the largest group gets group scale 255);
// - group scale q_g = ceil(t_g / s_r) in [1, 255] (ceil: the group's largest element is never
//   clipped), computed in double;
// - element q = round-half-even(clamp(fl32(x / fl32(q_g * s_r)), -qmax, qmax));
// - decode = fl32(q * fl32(q_g * s_r)).
// A row of zeros gets s_r = 1, q_g = 1.
//
// Layout: elements = bits-wide two's-complement codes per row (pack_codes); scales = one byte
// q_g per group, row-major; fp32 = s_r per row.
//
// DecodedTensor: mant = q, shift 0; scale groups 1 x group with scale_mul = fl32(q_g * s_r), so
// the PE sees an INT4 operand with group scales like int4:group=G (it runs on the int PEs; the
// 8-bit group scale is what the storage counts).
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {
namespace {

class DgqFormat final : public Format {
 public:
  DgqFormat(int bits, int64_t group) : bits_(bits), group_(group), qmax_((1 << (bits - 1)) - 1) {}

  std::string name() const override {
    return FormatSpec{"dgq", {{"bits", std::to_string(bits_)}, {"group", std::to_string(group_)}}}
        .str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "dgq";
    t.element = "int";
    t.element_bits = bits_;
    t.decoder = "int";
    t.group_cols = group_;
    t.encode_scope = EncodeScope::kRow;  // the FP32 row scale sits above the group scales
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    require_finite(x, rows * cols, cols, name());
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    const int64_t ng = groups_per_row(cols);
    e.fp32.assign(static_cast<size_t>(rows), 1.0f);
    e.scales.assign(static_cast<size_t>(rows * ng), 1);
    // Row by row: codes into a row buffer, packed straight into e.elements.
    const int64_t rb = packed_row_bytes(cols, bits_);
    e.elements.resize(static_cast<size_t>(rows * rb));
    std::vector<uint32_t> codes(static_cast<size_t>(cols));
    std::vector<double> t(static_cast<size_t>(ng));
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      double tmax = 0;
      for (int64_t g = 0; g < ng; ++g) {
        float amax = 0;
        for (int64_t c = g * group_; c < std::min(cols, (g + 1) * group_); ++c)
          amax = std::max(amax, std::fabs(xr[c]));
        t[static_cast<size_t>(g)] = static_cast<double>(amax) / qmax_;
        tmax = std::max(tmax, t[static_cast<size_t>(g)]);
      }
      float sr = static_cast<float>(tmax / 255.0);
      if (!(sr > 0.0f) || !std::isfinite(sr)) sr = 1.0f;
      e.fp32[static_cast<size_t>(r)] = sr;
      for (int64_t g = 0; g < ng; ++g) {
        const double qg = std::ceil(t[static_cast<size_t>(g)] / static_cast<double>(sr));
        const uint8_t q8 = static_cast<uint8_t>(std::clamp(qg, 1.0, 255.0));
        e.scales[static_cast<size_t>(r * ng + g)] = q8;
        const float s = group_scale(q8, sr);
        const float lim = static_cast<float>(qmax_);
        const uint32_t mask = (1u << bits_) - 1u;
        for (int64_t c = g * group_; c < std::min(cols, (g + 1) * group_); ++c) {
          const float v = std::clamp(xr[c] / s, -lim, lim);
          // Round half to even, as nearbyint in the default mode: |v| <= 127 < 2^22, so
          // adding and subtracting 1.5 * 2^23 rounds it to an integer once, exactly.
          const float rv = (v + 0x1.8p23f) - 0x1.8p23f;
          codes[static_cast<size_t>(c)] = static_cast<uint32_t>(static_cast<int32_t>(rv)) & mask;
        }
      }
      detail::pack_row(codes.data(), cols, bits_, e.elements.data() + r * rb);
    }
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    check(e);
    const int64_t ng = groups_per_row(e.cols), rb = packed_row_bytes(e.cols, bits_);
    std::vector<uint32_t> codes(static_cast<size_t>(e.cols));
    std::vector<float> table(size_t{1} << bits_);  // code -> value under the group's scale
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, e.cols, bits_, codes.data());
      for (int64_t g = 0; g < ng; ++g) {
        const float s =
            group_scale(e.scales[static_cast<size_t>(r * ng + g)], e.fp32[static_cast<size_t>(r)]);
        for (uint32_t c = 0; c < table.size(); ++c) table[c] = static_cast<float>(value(c)) * s;
        for (int64_t c = g * group_; c < std::min(e.cols, (g + 1) * group_); ++c)
          out[r * e.cols + c] = table[codes[static_cast<size_t>(c)]];
      }
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check(e);
    const auto codes = unpack_codes(e.elements, e.rows, e.cols, bits_);
    DecodedTensor d;
    d.resize(e.rows, e.cols, 1, group_);
    const int64_t ng = groups_per_row(e.cols);
    for (int64_t r = 0; r < e.rows; ++r)
      for (int64_t g = 0; g < ng; ++g)
        d.scale_mul[static_cast<size_t>(r * ng + g)] =
            group_scale(e.scales[static_cast<size_t>(r * ng + g)], e.fp32[static_cast<size_t>(r)]);
    for (size_t i = 0; i < codes.size(); ++i) d.mant[i] = value(codes[i]);
    return d;
  }

 private:
  int64_t groups_per_row(int64_t cols) const { return (cols + group_ - 1) / group_; }
  static float group_scale(uint8_t qg, float sr) { return static_cast<float>(qg) * sr; }
  int32_t value(uint32_t code) const {
    const int32_t h = 1 << (bits_ - 1);
    return (static_cast<int32_t>(code) ^ h) - h;
  }

  // Checks e's scale counts and element bytes.
  void check(const EncodedTensor& e) const {
    check_encoded(e);
    const int64_t ng = groups_per_row(e.cols);
    if (e.fp32.size() != static_cast<size_t>(e.rows) ||
        e.scales.size() != static_cast<size_t>(e.rows * ng)) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(e.rows) +
                  " channel scales and " + std::to_string(e.rows * ng) + " group scales, got " +
                  std::to_string(e.fp32.size()) + " and " + std::to_string(e.scales.size()));
    }
    detail::check_packed_size(e.elements, e.rows, e.cols, bits_);
  }

  int bits_;
  int64_t group_;
  int32_t qmax_;
};

std::unique_ptr<Format> make_dgq(int alias_bits, FormatOptions& o) {
  const int bits = detail::width_option(o, alias_bits, "dgq", 4, 2, 8);
  const int64_t group = o.get_int("group", 128, 1, int64_t{1} << 20);
  o.finish();
  return std::make_unique<DgqFormat>(bits, group);
}

}  // namespace

namespace detail {
void register_dgq_formats(Registry& r) {
  r.push_back({{"dgq", "bits=2..8 group=128",
                "dual-grained quantization: INT4 groups with 8-bit integer group scales under "
                "an FP32 scale per row (Zhang et al., arXiv 2310.04836)"},
               [](FormatOptions& o) { return make_dgq(0, o); }});
  r.push_back({{"dgq4", "group=128", "dual-grained quantization at 4 bits (alias of dgq:bits=4)"},
               [](FormatOptions& o) { return make_dgq(4, o); }});
}
}  // namespace detail

}  // namespace qarch::quant
