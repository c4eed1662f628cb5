// Helpers shared by the report writers (writers.cpp) and the HTML page (html.cpp): number
// formatting, the component column order and JSON text. Private to reports/.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "qarch/common/number_text.h"
#include "qarch/reports/result.h"

namespace qarch::reports::detail {

/// The shortest text that parses back to exactly `v` (std::to_chars), "nan", "inf", "-inf".
/// Locale-independent, so output bytes do not depend on the environment (common/).
using qarch::shortest;

/// Energy components in display order: kEnergyComponents, then any other key found in a
/// point or GEMM of `r`, sorted (an energy model may add one; it must not vanish from a table).
std::vector<std::string> energy_columns(const Report& r);
/// Area components present in any point: the ones area_breakdown() produces in its order
/// (pe_array, decoders, sram_input, sram_weight, sram_output), then any other key, sorted.
std::vector<std::string> area_columns(const Report& r);

/// j.dump(indent); a string that is not valid UTF-8 throws qarch::Error naming `what`.
std::string dump_json(const nlohmann::json& j, int indent, const std::string& what);

}  // namespace qarch::reports::detail
