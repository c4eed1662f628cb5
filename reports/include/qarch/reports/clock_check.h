// The clock of an architecture against the logic depth of its PE: the critical path of the RTL
// PE mapped onto the ASAP7 7 nm standard cells (rtl/synth/results/area.json, compiled in; its
// "liberty" entries: clock-to-Q + ABC's delay of the logic between flip-flops + setup, see
// rtl/README.md "Timing").
//
// Only 7 nm architectures are checked: the technology table scales energy and area between
// nodes (reports/tech/README.md) but has no rule for delay, so a 22 nm or 45 nm clock has
// nothing to be checked against. PE types without an RTL PE (int4, nvfp4, gobo, olaccel) are not
// checked either.
#pragma once

#include <optional>
#include <string>

#include "qarch/models/arch.h"

namespace qarch::reports {

/// One RTL PE's timing on the standard cells of the committed snapshot.
struct PeTiming {
  std::string block;     ///< the RTL block (rtl/synth/blocks.txt), e.g. "int8_mac"
  std::string library;   ///< the library it was mapped on ("asap7")
  double period_ps = 0;  ///< critical path: clock-to-Q + logic + setup
  double fmax_ghz = 0;   ///< 1 / period_ps
};

/// The node the timing of pe_timing() is valid at ("7nm": ASAP7).
inline constexpr const char* kPeTimingNode = "7nm";

/// The RTL PE that implements PE type `pe` for operands of at most `element_bits` bits (the
/// technology table's choice: mx and bfp have 4-bit variants, mxfp4_pe and bfp12_pe), and its
/// timing; nullopt when the type has no RTL PE. Throws qarch::Error if the compiled-in snapshot
/// lacks the block's standard-cell entry (a stale rtl/synth/results/area.json).
std::optional<PeTiming> pe_timing(const std::string& pe, int element_bits);

/// A warning when `arch` runs its PEs faster than their RTL critical path allows at `node`
/// (only "7nm" is checked, see above), naming the architecture, the PE, the RTL block, its
/// critical path and maximum clock; "" when the clock is reachable or nothing can be checked.
/// `act_format` and `weight_format` pick the PE variant (their wider element width).
std::string clock_warning(const models::ArchConfig& arch, const std::string& node,
                          const std::string& act_format, const std::string& weight_format);

}  // namespace qarch::reports
