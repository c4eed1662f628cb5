// PE types: the processing element of the systolic array and the operand formats it multiplies.
// Every PE type computes with quant/'s decoded-operand arithmetic: an element is an exponent-
// integer pair <shift, mant>, a product is (mx * mw) << (sx + sw), products are summed exactly
// per scale segment (one sum per sign combination for AMXFP4's sign-split scales) and each
// segment is scaled and added in FP32 at its end (quant::reference_int_dot / accumulate_segment).
// A PE type may restructure how a product is formed (OliVe 8-bit: four 4-bit PEs on the
// hi/lo halves from quant::ovp8_split) but never the value: the array's outputs are bit-identical
// to quant::reference_matmul.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "qarch/models/operand_format.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"

namespace qarch::models {

/// A decoded operand as a PE type consumes it.
struct PeOperand {
  std::shared_ptr<const quant::DecodedTensor> full;  ///< quant's decoded view
  /// OliVe 8-bit on four 4-bit PEs: the hi and lo halves of every element (quant::ovp8_split).
  std::shared_ptr<const quant::DecodedTensor> hi, lo;
  /// OLAccel: 1 where the element is a sparse high-precision outlier (from the encoding's
  /// position list), row-major; empty for other PE types.
  std::vector<uint8_t> outlier;
};

/// MAC and PE-internal event counters, by kind ("int8", "ovp4", "olaccel_outlier", ...).
using Counters = std::map<std::string, uint64_t>;

/// A rectangular block of MACs: rows [i0, i1) of X times rows [j0, j1) of W over k in [k0, k1).
/// x / w are null in timing-only runs.
struct MacBlock {
  int64_t i0 = 0, i1 = 0, j0 = 0, j1 = 0, k0 = 0, k1 = 0;
  const PeOperand* x = nullptr;
  const PeOperand* w = nullptr;
  const OperandFormat* x_format = nullptr;
  const OperandFormat* w_format = nullptr;
  uint64_t macs() const { return static_cast<uint64_t>((i1 - i0) * (j1 - j0) * (k1 - k0)); }
};

/// One PE type (see file comment). Implementations are stateless singletons.
class PeType {
 public:
  virtual ~PeType() = default;
  /// Name used in arch.array.pe ("int8", "olive4", ...).
  virtual std::string name() const = 0;
  /// One line: what the PE computes and the paper it follows.
  virtual std::string description() const = 0;
  /// Formats accepted for X (is_x) or W, for messages ("int2..int8").
  virtual std::string accepted(bool is_x) const = 0;
  /// True if this PE multiplies an operand in format f on the X (is_x) or W side.
  virtual bool accepts(const OperandFormat& f, bool is_x) const = 0;
  /// Physical PEs per logical PE along each array side: a logical MAC uses fuse() x fuse()
  /// physical PEs (OliVe 8-bit on four 4-bit PEs: 2). The systolic timing uses the logical array.
  virtual int fuse() const { return 1; }
  /// Counter name of one (logical) MAC.
  virtual std::string mac_kind() const = 0;

  /// The PE view of a decoded operand; `enc` (may be null) is the packed operand it came from.
  virtual PeOperand prepare(std::shared_ptr<const quant::DecodedTensor> d,
                            const quant::EncodedTensor* enc) const;
  /// Exact integer sums of row i of x times row j of w over k in [k0, k1), as this PE's datapath
  /// forms them (quant::IntDot: one sum per sign combination). Default: quant::reference_int_dot.
  virtual quant::IntDot dot(const PeOperand& x, int64_t i, const PeOperand& w, int64_t j,
                            int64_t k0, int64_t k1) const;
  /// Adds the MACs of block b to c by kind. Default: c[mac_kind()] += b.macs().
  virtual void count_macs(const MacBlock& b, Counters& c) const;
};

/// The PE type called `name`; throws qarch::Error naming `field` and listing the known types.
const PeType& pe_type(const std::string& name, const std::string& field = "arch.array.pe");
/// Every PE type, in catalogue order.
std::vector<const PeType*> list_pe_types();

/// Adds b to a (exact 128-bit sums per sign combination).
inline void add_into(quant::IntDot& a, const quant::IntDot& b) {
  for (int s = 0; s < 2; ++s)
    for (int t = 0; t < 2; ++t) a.sum[s][t] += b.sum[s][t];
}

}  // namespace qarch::models
