// Shared helpers of the PE type implementations (pe_*.cpp); not a public header.
#pragma once

#include <memory>
#include <string>

#include "qarch/models/pe.h"

namespace qarch::models::detail {

/// True if f is a plain INT format (decoder "int") of N bits, 2 <= N <= max_bits.
inline bool is_int_up_to(const OperandFormat& f, int max_bits) {
  const int b = f.int_bits();
  return b >= 2 && b <= max_bits;
}

// Each PE family file defines its types; pe.cpp collects them in catalogue order.
const PeType& int8_pe();
const PeType& int4_pe();
const PeType& olive4_pe();
const PeType& olive8_pe();
const PeType& mx_pe();
const PeType& amxfp4_pe();
const PeType& nvfp4_pe();
const PeType& bfp_pe();
const PeType& gobo_pe();
const PeType& olaccel_pe();

}  // namespace qarch::models::detail
