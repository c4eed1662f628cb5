#include "qarch/models/quantizer_unit.h"

#include <cmath>

namespace qarch::models {

std::string quantizer_unit_name(QuantizerUnitKind k) {
  switch (k) {
    case QuantizerUnitKind::kNone:
      return "none";
    case QuantizerUnitKind::kInt:
      return "int";
    case QuantizerUnitKind::kBlock:
      return "block";
    case QuantizerUnitKind::kOvp:
      return "ovp";
    case QuantizerUnitKind::kPerTensor:
      return "pertensor";
  }
  return "none";
}

QuantizerUnitKind quantizer_unit_kind(const quant::FormatTraits& t) {
  // Weight-only formats keep activations in FP16; 16-bit FP elements are the FP16 datapath.
  if (t.weight_only) return QuantizerUnitKind::kNone;
  if (t.decoder == "fp" && t.element_bits >= 16) return QuantizerUnitKind::kNone;
  if (t.decoder == "ovp4" || t.decoder == "ovp8") return QuantizerUnitKind::kOvp;
  if (t.decoder == "mx" || t.decoder == "nvfp4" || t.decoder == "amxfp4" || t.decoder == "bfp")
    return QuantizerUnitKind::kBlock;
  if (t.decoder == "int") {
    return t.group_cols > 0 ? QuantizerUnitKind::kBlock : QuantizerUnitKind::kInt;
  }
  return QuantizerUnitKind::kPerTensor;
}

QuantizerCost quantizer_cost(const QuantizerConfig& q, const quant::FormatTraits& t,
                             double bits_per_element, int64_t elements) {
  QuantizerCost c;
  c.kind = quantizer_unit_kind(t);
  if (c.kind == QuantizerUnitKind::kNone || elements <= 0) return c;
  const uint64_t n = static_cast<uint64_t>(elements);
  c.elements = n;
  c.passes = 1;
  switch (c.kind) {
    case QuantizerUnitKind::kInt:
      c.compare_ops = q.static_int_scale ? 0 : n;
      c.passes = q.static_int_scale ? 1 : 2;
      break;
    case QuantizerUnitKind::kBlock:
      c.compare_ops = n;
      // NVFP4's FP32 tensor scale comes from the tensor's amax (encode_scope kTensor without a
      // calibration hook): a max pass over the tile before the block pass, unless calibrated
      // offline like a static INT scale (online_quantizer.h runs the same two passes).
      if (t.encode_scope == quant::EncodeScope::kTensor && !q.static_int_scale) {
        c.compare_ops += n;
        c.passes = 2;
      }
      break;
    case QuantizerUnitKind::kOvp:
      c.compare_ops = n;
      break;  // threshold compare per element
    default:
      break;
  }
  const double per_pass = std::ceil(static_cast<double>(n) / q.elements_per_cycle);
  c.cycles = static_cast<uint64_t>(per_pass) * c.passes +
             c.passes * static_cast<uint64_t>(q.latency_cycles);
  c.sram_read_bytes = 2 * n * c.passes;  // FP16 in
  c.sram_write_bytes =
      static_cast<uint64_t>(std::ceil(static_cast<double>(n) * bits_per_element / 8.0));
  return c;
}

}  // namespace qarch::models
