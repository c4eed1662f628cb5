// ANT adaptive numeric types (Guo et al., MICRO 2022): the grids and the per-tensor type and
// scale search of the formats "ant", "ant4", "ant8" (quant/src/ant_format.cpp documents the
// facts, the bit layout and the exact arithmetic). Exposed for tests, models and the RTL checks.
#pragma once

#include <cstdint>
#include <vector>

#include "qarch/quant/format.h"
#include "qarch/quant/fp_element.h"

namespace qarch::quant {

/// One of ANT's element types.
enum class AntType { kInt = 0, kFlint = 1, kPot = 2 };

/// "int", "flint", "pot".
const char* ant_type_name(AntType t);

/// The 2^B non-negative magnitudes of a type with B magnitude bits, ascending, as integers
/// (flint scaled by 2^(B-1)): int 0 .. 2^B-1; flint B=3 {0,1,2,3,4,6,8,16}; pot 0, 1, 2, 4, ...
std::vector<int32_t> ant_magnitudes(AntType type, int magnitude_bits);

/// Decodes one element code of a bits-wide (4 or 8) ANT type to its exponent-integer pair
/// <shift, mant>: int -> <0, g>; flint / pot -> <ctz(g), g >> ctz(g)> (0 -> <0, 0>).
ExpIntPair ant_decode_pair(AntType type, bool is_signed, int bits, uint32_t code);

/// The result of ANT's search for one tensor.
struct AntChoice {
  AntType type;
  bool is_signed;
  float scale;
};

/// The (type, signedness, scale) the per-tensor encoder of ANT format `f` picks for x[n] (the
/// fast search), and the same from pricing every candidate exactly (the reference the fast one
/// must equal). Throw qarch::Error if f is not an ANT format.
AntChoice ant_search(const Format& f, const float* x, int64_t n);
AntChoice ant_search_exhaustive(const Format& f, const float* x, int64_t n);

}  // namespace qarch::quant
