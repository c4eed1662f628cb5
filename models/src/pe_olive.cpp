// OliVe PEs (Guo et al., ISCA 2023, section 4; specs/formats.md "OliVe"). The border decoders
// turn each OVP byte into two exponent-integer pairs <e, m>; a PE multiplies <a, b> x <c, d> =
// (b * d) << (a + c) with a 4-bit multiplier and a shifter, and accumulates in integer.
// - olive4: one 4-bit exponent-integer PE per MAC.
// - olive8: 8-bit OVP operands on four 4-bit PEs (a 2 x 2 group of the physical array forms one
//   logical PE): each element is split by quant::ovp8_split into hi <s + 4, m >> 4> and
//   lo <s, m & 15>, and x * y = hx*hy + hx*ly + lx*hy + lx*ly, each a 4-bit exponent-integer
//   product. The four partial products are quant::reference_int_dot on the split halves, so
//   their sum is exactly the 8-bit product.
#include "pe_common.h"
#include "qarch/quant/olive.h"

namespace qarch::models::detail {
namespace {

class Olive4Pe final : public PeType {
 public:
  std::string name() const override { return "olive4"; }
  std::string description() const override {
    return "OliVe 4-bit exponent-integer PE: (b*d) << (a+c) shift-add (Guo et al., ISCA 2023)";
  }
  std::string accepted(bool) const override { return "olive4, ant4, int2..int4"; }
  // ANT's datapath is this PE without the OVP decoder (OliVe section 4): its border decoder
  // turns int / flint / pot codes into the same exponent-integer pairs.
  bool accepts(const OperandFormat& f, bool) const override {
    return f.decoder == "ovp4" || (f.decoder == "ant" && f.code_bits <= 4) || is_int_up_to(f, 4);
  }
  std::string mac_kind() const override { return "ovp4"; }
};

// The hi or lo halves of every element of d (quant::ovp8_split), same scales.
std::shared_ptr<const quant::DecodedTensor> split_half(const quant::DecodedTensor& d, bool hi) {
  auto h = std::make_shared<quant::DecodedTensor>(d);
  for (size_t i = 0; i < d.mant.size(); ++i) {
    const quant::OvpSplit s =
        quant::ovp8_split(quant::ExpIntPair{d.mant[i], static_cast<int32_t>(d.shift[i])});
    const quant::ExpIntPair& p = hi ? s.hi : s.lo;
    h->mant[i] = p.mant;
    h->shift[i] = static_cast<uint8_t>(p.shift);
  }
  return h;
}

class Olive8Pe final : public PeType {
 public:
  std::string name() const override { return "olive8"; }
  std::string description() const override {
    return "OliVe 8-bit OVP on four 4-bit exponent-integer PEs (hi/lo split, Guo et al., ISCA "
           "2023)";
  }
  std::string accepted(bool) const override { return "olive8, ant4, ant8, int2..int8"; }
  bool accepts(const OperandFormat& f, bool) const override {
    return f.decoder == "ovp8" || f.decoder == "ant" || is_int_up_to(f, 8);
  }
  int fuse() const override { return 2; }
  std::string mac_kind() const override { return "ovp8"; }

  PeOperand prepare(std::shared_ptr<const quant::DecodedTensor> d,
                    const quant::EncodedTensor*) const override {
    PeOperand p;
    p.hi = split_half(*d, true);
    p.lo = split_half(*d, false);
    p.full = std::move(d);
    return p;
  }

  quant::IntDot dot(const PeOperand& x, int64_t i, const PeOperand& w, int64_t j, int64_t k0,
                    int64_t k1) const override {
    quant::IntDot sum;
    for (const auto* xh : {&x.hi, &x.lo}) {
      for (const auto* wh : {&w.hi, &w.lo}) {
        add_into(sum, quant::reference_int_dot(**xh, i, **wh, j, k0, k1));
      }
    }
    return sum;
  }

  void count_macs(const MacBlock& b, Counters& c) const override {
    c["ovp8"] += b.macs();
    c["ovp4_partial_products"] += 4 * b.macs();
  }
};

}  // namespace

const PeType& olive4_pe() {
  static const Olive4Pe p;
  return p;
}
const PeType& olive8_pe() {
  static const Olive8Pe p;
  return p;
}

}  // namespace qarch::models::detail
