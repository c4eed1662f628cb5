// Block-scaled PEs. The decoders hand each PE integer element significands <shift, mant> of a
// block; the PE forms integer element products and the column/accumulator keeps one exact sum
// per block (per scale segment), adding the two shared scale exponents (and multiplying the
// FP8 block scales for NVFP4, the per-sign scales for AMXFP4) once at the block's end.
// - mx: OCP MX v1.0 MXFP8/MXFP6/MXFP4/MXINT8, and AdaptivFloat (element integer products per
// 32-block, E8M0
//   scale add at block end: "X_A * X_B * sum P_A,i P_B,i", OCP MX spec section 6.1).
// - amxfp4: AMXFP4 (Lee et al., arXiv 2411.09909): E2M1 elements with separate scales for
//   positive and negative elements, so the PE keeps one partial sum per sign combination of the
//   two operands (quant::IntDot's sum[sx][sw]); it also runs plain MXFP4.
// - nvfp4: NVIDIA NVFP4: E2M1 elements, E4M3 scale per 16 elements, FP32 tensor scale applied
//   after the reduction (quant's tensor_divisor).
// - bfp: block floating point (MSFP / d-Matrix BFP, MX4/MX6/MX9 shared microexponents):
//   mantissas aligned to the block exponent, an integer MAC per block and one exponent add.
#include "pe_common.h"

namespace qarch::models::detail {
namespace {

class MxPe final : public PeType {
 public:
  std::string name() const override { return "mx"; }
  std::string description() const override {
    return "OCP MX block MAC: integer element products per block, E8M0 scale add at block end";
  }
  std::string accepted(bool) const override {
    return "mxfp8_*, mxfp6_*, mxfp4, mxint8, adaptivfloat*";
  }
  // AdaptivFloat's per-tensor exponent bias is a power-of-two scale over the whole row: the
  // same block MAC with one block per row (the paper's HFINT PE also multiplies FP significands
  // and accumulates integers).
  bool accepts(const OperandFormat& f, bool) const override {
    return f.decoder == "mx" || f.decoder == "adaptivfloat";
  }
  std::string mac_kind() const override { return "mx_element"; }
};

class Amxfp4Pe final : public PeType {
 public:
  std::string name() const override { return "amxfp4"; }
  std::string description() const override {
    return "AMXFP4 block MAC with sign-split partial sums (Lee et al., arXiv 2411.09909)";
  }
  std::string accepted(bool) const override { return "amxfp4, mxfp4"; }
  bool accepts(const OperandFormat& f, bool) const override {
    return f.decoder == "amxfp4" || (f.decoder == "mx" && f.element == "e2m1");
  }
  std::string mac_kind() const override { return "fp4_element"; }
};

class Nvfp4Pe final : public PeType {
 public:
  std::string name() const override { return "nvfp4"; }
  std::string description() const override {
    return "NVFP4 block MAC: E2M1 products per 16-block, E4M3 block scales, FP32 tensor scale";
  }
  std::string accepted(bool) const override { return "nvfp4"; }
  bool accepts(const OperandFormat& f, bool) const override { return f.decoder == "nvfp4"; }
  std::string mac_kind() const override { return "fp4_element"; }
};

class BfpPe final : public PeType {
 public:
  std::string name() const override { return "bfp"; }
  std::string description() const override {
    return "BFP block MAC: aligned integer mantissas, one exponent add per block (MSFP, MX4-9)";
  }
  std::string accepted(bool) const override {
    return "bfp, bfp12, bfp16, msfp12, msfp16, mx4, mx6, mx9";
  }
  bool accepts(const OperandFormat& f, bool) const override { return f.decoder == "bfp"; }
  std::string mac_kind() const override { return "bfp_mantissa"; }
};

}  // namespace

const PeType& mx_pe() {
  static const MxPe p;
  return p;
}
const PeType& amxfp4_pe() {
  static const Amxfp4Pe p;
  return p;
}
const PeType& nvfp4_pe() {
  static const Nvfp4Pe p;
  return p;
}
const PeType& bfp_pe() {
  static const BfpPe p;
  return p;
}

}  // namespace qarch::models::detail
