// The online quantizer of whole-model runs: the unit that turns FP16 values (accumulator
// outputs after the epilogue, or K/V) into a stored format as they leave the array, priced per
// element from the format's traits (quant::FormatTraits, so no format is recognised by name).
// Its arithmetic is quant's encoder: in a whole-model run the trace builder encodes with
// quant::Format::encode, and rtl/ checks the hardware units against the same encoders.
//
// Unit kinds (QuantizerUnitKind), from the traits' decoder and scale layout:
//   none     FP16/BF16/FP32 "formats" and weight-only formats' FP16 activations: no work.
//   int      scaled integers. Per-tensor or per-token scales need the max |x| first: dynamic
//            (QuantizerConfig::static_int_scale false) reads the tile twice (a max pass, then
//            the encode pass); static uses a calibrated scale (one pass). Group scales (group
//            columns > 0) are found in a group buffer in one pass, like a block.
//   block    shared-exponent / block-scale formats (MX, NVFP4, AMXFP4, BFP, DGQ-like groups):
//            a max reduction per block in a block buffer, the scale, then the element rounding:
//            one pass, one compare per element plus one scale per block. NVFP4's FP32 tensor
//            scale needs the tensor's amax first: a second pass unless static_int_scale.
//   ovp      OliVe's outlier-victim pair encoder: a calibrated per-tensor scale (OliVe
//            calibrates offline), threshold compare, pair decision; two elements per step.
//   pertensor   other per-tensor formats with an offline-calibrated parameter (ANT's type and
//            clip, AdaptivFloat's exponent bias, OLAccel's threshold, FP8 with a scale): one pass.
#pragma once

#include <cstdint>
#include <string>

#include "qarch/models/arch.h"
#include "qarch/quant/format.h"

namespace qarch::models {

/// What kind of online quantizer a format needs (file comment).
enum class QuantizerUnitKind { kNone, kInt, kBlock, kOvp, kPerTensor };

/// "none" / "int" / "block" / "ovp" / "pertensor" (the technology table's quantizer rows).
std::string quantizer_unit_name(QuantizerUnitKind k);

/// The unit a format needs, from its traits.
QuantizerUnitKind quantizer_unit_kind(const quant::FormatTraits& t);

/// The cost of quantizing one tensor of `elements` values online.
struct QuantizerCost {
  QuantizerUnitKind kind = QuantizerUnitKind::kNone;
  uint64_t elements = 0;          ///< values encoded
  uint64_t passes = 0;            ///< reads of the FP16 tile (dynamic int: 2)
  uint64_t compare_ops = 0;       ///< max-reduction compares
  uint64_t cycles = 0;            ///< passes x elements / throughput + latency per pass
  uint64_t sram_read_bytes = 0;   ///< FP16 values read (per pass)
  uint64_t sram_write_bytes = 0;  ///< packed codes and scales written
};

/// Cost of encoding `elements` FP16 values into a format with traits `t` and `bits_per_element`
/// storage bits (codes plus scales and side data).
QuantizerCost quantizer_cost(const QuantizerConfig& q, const quant::FormatTraits& t,
                             double bits_per_element, int64_t elements);

}  // namespace qarch::models
