// Integer PEs: the baseline INT8 and INT4 systolic arrays. An element is <0, q> (q the integer
// code, minus the zero point for asymmetric INT); a MAC is one integer multiply-add; the
// per-tensor / per-row / per-group FP32 scales are applied by the accumulator at the end of each
// scale segment (quant::accumulate_segment), as an integer array with a dequantizing epilogue does.
#include "pe_common.h"

namespace qarch::models::detail {
namespace {

class IntPe final : public PeType {
 public:
  explicit IntPe(int bits) : bits_(bits) {}
  std::string name() const override { return "int" + std::to_string(bits_); }
  std::string description() const override {
    return "INT" + std::to_string(bits_) +
           " MAC (integer products, FP32 scale per segment in the accumulator)";
  }
  std::string accepted(bool) const override { return "int2..int" + std::to_string(bits_); }
  bool accepts(const OperandFormat& f, bool) const override { return is_int_up_to(f, bits_); }
  std::string mac_kind() const override { return name(); }

 private:
  int bits_;
};

}  // namespace

const PeType& int8_pe() {
  static const IntPe p(8);
  return p;
}
const PeType& int4_pe() {
  static const IntPe p(4);
  return p;
}

}  // namespace qarch::models::detail
