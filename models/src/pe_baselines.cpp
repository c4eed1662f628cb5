// Baseline outlier accelerators.
// - gobo (Zadeh et al., MICRO 2020): weights stored as 3-bit indices into per-layer centroids
//   plus sparse FP32 outliers; the weight decoder looks the centroid up (and merges the
//   outliers) and the array computes in FP16 with FP16 activations. SqueezeLLM (decoder kind
//   lut: a per-row FP16 codebook plus sparse FP16 values) runs on the same PE, and so do the
//   KV-cache formats whose decoders write FP16 (gear, rotatekv: quant/src/fp16_operand.h).
//   quant/ decodes an FP16 value to the exact integer pair <shift, mant>, so an FP16 product is an
//   exponent-integer product.
// - olaccel (Park et al., ISCA 2018): dense 4-bit MACs for the normal values and extra
//   high-precision MAC lanes for the sparse outliers (about 3%), both adding into the same
//   partial sums; the outliers live on a power-of-two multiple of the dense step, so every
//   product is an integer on one scale. Counted separately: dense MACs, and MACs that involve an
//   outlier (exact from the operands' outlier positions when the data is known; otherwise the
//   expected share 1 - (1 - f_x)(1 - f_w) from each format's `frac` option). The outlier lanes
//   are assumed to keep up (the paper sizes them for ~3% outliers), so they add no cycles.
#include <cmath>
#include <cstdlib>

#include "pe_common.h"

namespace qarch::models::detail {
namespace {

class GoboPe final : public PeType {
 public:
  std::string name() const override { return "gobo"; }
  std::string description() const override {
    return "GOBO: centroid-decoded weights, FP16 MACs (Zadeh et al., MICRO 2020)";
  }
  std::string accepted(bool is_x) const override {
    return is_x ? "fp16, gear*, rotatekv*" : "gobo, squeezellm, fp16, gear*, rotatekv*";
  }
  // SqueezeLLM's LUT decoder also hands the array FP16 weights (its kernels look the per-row
  // codebook up and multiply in FP16 with FP16 activations), and the KV-cache formats whose
  // decoders reconstruct FP16 values (GEAR: dequantized + low rank + sparse; RotateKV-style:
  // dequantized and rotated back) feed these FP16 MACs on either side.
  bool accepts(const OperandFormat& f, bool is_x) const override {
    return f.element == "fp16" || (!is_x && (f.decoder == "gobo" || f.decoder == "lut")) ||
           f.decoder == "gear" || f.decoder == "rotatekv";
  }
  std::string mac_kind() const override { return "fp16"; }
};

// Outlier share of an operand format on the OLAccel PE when the data is unknown: the format's
// own expected share (quant::FormatTraits::outlier_fraction).
double expected_outlier_share(const OperandFormat* f) {
  return f ? f->outlier_fraction : 0.0;
}

class OlaccelPe final : public PeType {
 public:
  std::string name() const override { return "olaccel"; }
  std::string description() const override {
    return "OLAccel: dense 4-bit MACs + outlier MAC lanes (Park et al., ISCA 2018)";
  }
  std::string accepted(bool) const override { return "olaccel, int2..int4"; }
  bool accepts(const OperandFormat& f, bool) const override {
    return f.decoder == "olaccel" || is_int_up_to(f, 4);
  }
  std::string mac_kind() const override { return "dense4"; }

  PeOperand prepare(std::shared_ptr<const quant::DecodedTensor> d,
                    const quant::EncodedTensor* enc) const override {
    PeOperand p;
    p.outlier.assign(d->mant.size(), 0);
    if (enc && quant::make_format(enc->format)->traits().decoder == "olaccel") {
      for (uint32_t i : enc->indices) p.outlier.at(i) = 1;
    }
    p.full = std::move(d);
    return p;
  }

  void count_macs(const MacBlock& b, Counters& c) const override {
    const uint64_t total = b.macs();
    uint64_t outlier = 0;
    if (b.x && b.w) {
      // Per k: products with an outlier = ox * nw + ow * nx - ox * ow.
      const int64_t nx = b.i1 - b.i0, nw = b.j1 - b.j0, K = b.x->full->cols;
      for (int64_t k = b.k0; k < b.k1; ++k) {
        int64_t ox = 0, ow = 0;
        for (int64_t i = b.i0; i < b.i1; ++i) ox += b.x->outlier[i * K + k];
        for (int64_t j = b.j0; j < b.j1; ++j) ow += b.w->outlier[j * K + k];
        outlier += static_cast<uint64_t>(ox * nw + ow * nx - ox * ow);
      }
    } else {
      const double fx = expected_outlier_share(b.x_format);
      const double fw = expected_outlier_share(b.w_format);
      outlier = static_cast<uint64_t>(
          std::llround(static_cast<double>(total) * (1.0 - (1.0 - fx) * (1.0 - fw))));
    }
    c["dense4"] += total - outlier;
    c["olaccel_outlier"] += outlier;
  }
};

}  // namespace

const PeType& gobo_pe() {
  static const GoboPe p;
  return p;
}
const PeType& olaccel_pe() {
  static const OlaccelPe p;
  return p;
}

}  // namespace qarch::models::detail
