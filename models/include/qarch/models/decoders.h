// Border decoders: R on the left edge and C on the top edge of the array (OliVe's "n + m
// decoders", section 4) turn packed operands from the SRAM into the exponent-integer pairs the
// PEs multiply. One decoder kind per format family; the values always come from quant/'s own
// decode (quant::Format::decode_operand, which for OliVe runs the OVP pair decoder of
// quant/olive.h), so a decoder never re-implements a format. What differs between kinds, and
// what the timing model and reports/ need, is the work unit: an OVP decoder turns one byte (a
// pair) into two elements per operation, the others one element.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"

namespace qarch::models {

/// One decoder kind.
struct DecoderInfo {
  std::string kind;         ///< "int", "ovp4", "ovp8", "mx", "nvfp4", "amxfp4", "bfp", "gobo", ...
  int elements_per_op = 1;  ///< elements one decoder operation delivers
  std::string description;  ///< what it does, one line
};

/// Every decoder kind, in catalogue order.
const std::vector<DecoderInfo>& list_decoders();
/// The decoder of kind `kind` (quant::FormatTraits::decoder). Throws qarch::Error naming
/// `format` when no decoder of that kind exists: a format that states a decoder models/ does
/// not know cannot be priced as some other decoder.
const DecoderInfo& decoder_kind(const std::string& kind, const std::string& format);

/// The decoders' functional step: a packed operand as the PEs receive it (quant's decoded view).
/// Throws qarch::Error (prefixed with `who`) if the encoding's format is not `expected_spec`
/// (canonical) or its shape is not rows x cols.
std::shared_ptr<const quant::DecodedTensor> border_decode(const quant::EncodedTensor& e,
                                                          const std::string& expected_spec,
                                                          int64_t rows, int64_t cols,
                                                          const std::string& who);

}  // namespace qarch::models
