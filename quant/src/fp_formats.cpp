// Plain FP element casts: e5m2, e4m3, e3m2, e2m3, e2m1, fp16, bf16, each optionally with an
// FP32 scale per tensor or per row (scale = amax / max_normal, as FP8 inference recipes do).
//
// Layout: elements = codes packed per row (pack_codes, bits = 1 + ebits + mbits);
// fp32 = the scales (none, 1, or rows). NaN/Inf inputs are encoded as the type's NaN/Inf where
// it has them (e4m3, e5m2, fp16, bf16, with scale=none) and rejected otherwise.
#include <algorithm>
#include <cmath>

#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {
namespace {

class FpCastFormat final : public Format {
 public:
  FpCastFormat(const FpElementSpec& spec, std::string scale, Rounding rounding, Overflow overflow)
      : spec_(spec), scale_(std::move(scale)), rounding_(rounding), overflow_(overflow) {}

  std::string name() const override {
    FormatSpec s{spec_.name, {{"round", rounding_name(rounding_)}, {"scale", scale_}}};
    if (spec_.specials != FpSpecials::kNone) {
      s.options["overflow"] = overflow_ == Overflow::kOcp ? "ocp" : "sat";
    }
    return s.str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = spec_.name;
    t.element = spec_.name;
    t.element_bits = spec_.bits();
    t.decoder = "fp";
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    if (spec_.specials == FpSpecials::kNone || scale_ != "none") require_finite(x, n, cols, name());
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    const int64_t groups = scale_ == "none" ? 0 : scale_ == "tensor" ? 1 : rows;
    e.fp32.assign(static_cast<size_t>(groups), 1.0f);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t r0 = scale_ == "tensor" ? 0 : g, r1 = scale_ == "tensor" ? rows : g + 1;
      float amax = 0;
      for (int64_t i = r0 * cols; i < r1 * cols; ++i) amax = std::max(amax, std::fabs(x[i]));
      e.fp32[g] = amax > 0 ? amax / spec_.max_normal() : 1.0f;
    }
    std::vector<uint32_t> codes(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const float s = groups == 0 ? 1.0f : e.fp32[groups == 1 ? 0 : i / cols];
      codes[i] = fp_encode(spec_, x[i] / s, rounding_, overflow_);
    }
    e.elements = pack_codes(codes, rows, cols, spec_.bits());
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    const auto codes = checked_codes(e);
    const int64_t groups = static_cast<int64_t>(e.fp32.size());
    for (int64_t i = 0; i < e.rows * e.cols; ++i) {
      const float v = fp_decode(spec_, codes[i]);
      out[i] = groups == 0 ? v : v * e.fp32[groups == 1 ? 0 : i / e.cols];
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    const auto codes = checked_codes(e);
    DecodedTensor d;
    const bool per_row = e.fp32.size() > 1;
    d.resize(e.rows, e.cols, per_row ? 1 : std::max<int64_t>(1, e.rows),
             std::max<int64_t>(1, e.cols));
    for (size_t g = 0; g < d.scale_exp.size(); ++g) {
      d.scale_exp[g] = spec_.ulp_exp();
      d.scale_mul[g] = e.fp32.empty() ? 1.0f : e.fp32[per_row ? g : 0];
    }
    for (int64_t i = 0; i < e.rows * e.cols; ++i) {
      if (fp_is_special(spec_, codes[i])) {
        throw Error("format '" + name() + "': element " + std::to_string(i) +
                    " is NaN/Inf, which has no exponent-integer pair");
      }
      const ExpIntPair p = fp_decode_pair(spec_, codes[i]);
      d.mant[i] = p.mant;
      d.shift[i] = static_cast<uint8_t>(p.shift);
    }
    return d;
  }

 private:
  std::vector<uint32_t> checked_codes(const EncodedTensor& e) const {
    check_encoded(e);
    const size_t want = scale_ == "none" ? 0 : scale_ == "tensor" ? 1 : static_cast<size_t>(e.rows);
    if (e.fp32.size() != want) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(want) + " scales, got " +
                  std::to_string(e.fp32.size()));
    }
    return unpack_codes(e.elements, e.rows, e.cols, spec_.bits());
  }

  const FpElementSpec& spec_;
  std::string scale_;
  Rounding rounding_;
  Overflow overflow_;
};

void add_cast(detail::Registry& r, const FpElementSpec& spec, const std::string& what) {
  const bool has_specials = spec.specials != FpSpecials::kNone;
  detail::FormatFactory f;
  f.info = {spec.name,
            std::string("round=even|away scale=none|tensor|row") +
                (has_specials ? " overflow=sat|ocp" : ""),
            what};
  f.make = [&spec, has_specials](FormatOptions& o) -> std::unique_ptr<Format> {
    const Rounding rnd = o.get_rounding();
    const std::string scale = o.get_choice("scale", "none", {"none", "tensor", "row"});
    Overflow ovf = Overflow::kSaturate;
    if (has_specials) {
      ovf = o.get_choice("overflow", "sat", {"sat", "ocp"}) == "ocp" ? Overflow::kOcp
                                                                     : Overflow::kSaturate;
    }
    o.finish();
    return std::make_unique<FpCastFormat>(spec, scale, rnd, ovf);
  };
  r.push_back(std::move(f));
}

}  // namespace

namespace detail {
void register_fp_formats(Registry& r) {
  add_cast(r, kE4M3, "FP8 E4M3 cast (OCP OFP8: max 448, NaN S.1111.111, no Inf)");
  add_cast(r, kE5M2, "FP8 E5M2 cast (OCP OFP8: max 57344, IEEE-style Inf/NaN)");
  add_cast(r, kE3M2, "FP6 E3M2 cast (OCP MX element: max 28)");
  add_cast(r, kE2M3, "FP6 E2M3 cast (OCP MX element: max 7.5)");
  add_cast(r, kE2M1, "FP4 E2M1 cast (OCP MX element: max 6)");
  add_cast(r, kFP16, "IEEE binary16 cast");
  add_cast(r, kBF16, "bfloat16 cast");
}
}  // namespace detail

}  // namespace qarch::quant
