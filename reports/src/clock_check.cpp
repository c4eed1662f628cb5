// The PE clock check against the RTL critical paths on ASAP7 (clock_check.h).
#include "qarch/reports/clock_check.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/models/operand_format.h"

namespace qarch::reports {
namespace detail {
extern const char* const kRtlAreaJson;  // rtl/synth/results/area.json (reports_assets.cpp)
}

namespace {

// The snapshot's blocks with a standard-cell mapping: name -> timing.
const std::map<std::string, PeTiming>& snapshot() {
  static const std::map<std::string, PeTiming> blocks = [] {
    std::map<std::string, PeTiming> m;
    const nlohmann::json j = nlohmann::json::parse(detail::kRtlAreaJson);
    const std::string lib =
        j.contains("liberty") ? j.at("liberty").value("dir", std::string("liberty")) : "";
    for (const auto& b : j.at("blocks")) {
      if (!b.contains("liberty")) continue;
      const auto& l = b.at("liberty");
      m[b.at("name").get<std::string>()] = {b.at("name").get<std::string>(), lib,
                                            l.at("period_ps").get<double>(),
                                            l.at("fmax_ghz").get<double>()};
    }
    return m;
  }();
  return blocks;
}

// PE type (and widest element) -> RTL block, as the technology table's pe_um2 rows cite them.
std::string rtl_block(const std::string& pe, int bits) {
  if (pe == "int8") return "int8_mac";
  if (pe == "olive4") return "ovp4_pe";
  if (pe == "olive8") return "ovp8_pe";
  if (pe == "amxfp4") return "amxfp4_pe";
  if (pe == "mx") return bits > 0 && bits <= 4 ? "mxfp4_pe" : "mxint8_pe";
  if (pe == "bfp") return bits > 0 && bits <= 4 ? "bfp12_pe" : "bfp16_pe";
  return "";  // int4, nvfp4, gobo, olaccel: no RTL PE
}

int bits_of(const std::string& spec, const char* field) {
  if (spec.empty()) return 0;
  return static_cast<int>(std::ceil(models::operand_format(spec, field).element_bits - 1e-9));
}

}  // namespace

std::optional<PeTiming> pe_timing(const std::string& pe, int element_bits) {
  const std::string block = rtl_block(pe, element_bits);
  if (block.empty()) return std::nullopt;
  const auto& m = snapshot();
  const auto it = m.find(block);
  if (it == m.end()) {
    throw Error("rtl/synth/results/area.json (compiled in) has no standard-cell timing for " +
                block + " (the PE of type " + pe + "): refresh it with rtl_area_update");
  }
  return it->second;
}

std::string clock_warning(const models::ArchConfig& arch, const std::string& node,
                          const std::string& act_format, const std::string& weight_format) {
  if (node != kPeTimingNode) return "";
  const int bits =
      std::max(bits_of(act_format, "act_format"), bits_of(weight_format, "weight_format"));
  const auto t = pe_timing(arch.array.pe, bits);
  if (!t || arch.clock_ghz <= t->fmax_ghz) return "";
  return "warning: " + arch.name + ": clock_ghz " + format_g(arch.clock_ghz) +
         " is not reachable by its " + arch.array.pe + " PE at " + node + ": the RTL PE " +
         t->block + " mapped on " + t->library + " has a critical path of " +
         format_g(std::round(t->period_ps)) + " ps, a maximum clock of " + format_g(t->fmax_ghz) +
         " GHz (rtl/synth/results/area.json); the cycle counts assume a PE that finishes a MAC "
         "per cycle (pipeline it, or lower the clock)";
}

}  // namespace qarch::reports
