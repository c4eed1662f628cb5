// Number text that does not depend on the C locale (std::to_chars), for everything qarch writes
// that is read back: canonical format and transform specs, architecture YAML, report files.
#pragma once

#include <string>

namespace qarch {

/// The "%g" text with the fewest significant digits (1..17) that reads back as exactly `v`:
/// 0.03, 1e-05, 448, 0.0001. "nan", "inf", "-inf" for non-finite values.
std::string format_g(double v);
/// The same for a float: 1..9 digits reading back (as a float) exactly.
std::string format_g(float v);
/// std::to_chars's shortest round-trip text (fixed or scientific, whichever is shorter: 1e-04),
/// "nan", "inf", "-inf": the report files' number format.
std::string shortest(double v);
/// Python's repr() of a float (the shortest round-trip digits; fixed notation with at least one
/// decimal, "90.0", when the decimal exponent is in [-4, 16), else "1e-05" / "1.5e+16"):
/// how SCALE-Sim writes its report numbers, so `qarch scalesim` can write the same bytes.
std::string python_repr(double v);

}  // namespace qarch
