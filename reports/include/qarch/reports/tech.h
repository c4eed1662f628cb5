// Technology tables: what one event costs in energy and one component in area, at a process
// node. reports/ turns the simulator's event counters (models::Stats) into energy and an
// architecture's component list into area; nothing else in qarch knows a pJ or an um^2.
//
// Tables are YAML files (reports/tech/*.yaml); every default number carries its source (a paper
// and table, the Yosys flow of rtl/, or "estimate: <reasoning>"), and numbers given at one node
// are scaled to the requested node by the rules documented in reports/tech/README.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "qarch/models/arch.h"
#include "qarch/models/quantizer_unit.h"
#include "qarch/models/stats.h"
#include "qarch/models/vector_unit.h"
#include "qarch/reports/result.h"

namespace qarch::reports {

/// A technology table resolved at one node: energies in pJ, areas in um^2 (see tech.cpp for the
/// fields; every value has an entry in `sources`).
struct Technology {
  std::string file;  ///< the YAML it came from ("built-in" for the shipped default)
  std::string node;  ///< node the numbers below are scaled to ("45nm", "22nm", ...)
  std::map<std::string, double> mac_pj;      ///< per MAC, by models' MAC kind (Counters keys)
  std::map<std::string, double> decoder_pj;  ///< per decoder operation, by DecoderInfo::kind
  double register_pj_per_byte = 0;           ///< PE register read or write, per byte
  double accumulator_pj = 0;                 ///< one scale-segment close (scale, round, FP32 add)
  /// SRAM energy per byte accessed by capacity: (capacity bytes, pJ/byte), ascending; looked up
  /// log-log between points, clamped at the ends.
  std::vector<std::pair<double, double>> sram_pj_per_byte;
  double dram_pj_per_byte = 0;
  double static_mw_per_mm2 = 0;               ///< leakage power density
  std::map<std::string, double> pe_um2;       ///< per PE, by PE type
  std::map<std::string, double> decoder_um2;  ///< per decoder unit, by decoder kind
  double sram_um2_per_kib = 0;                ///< SRAM macro area per KiB
  /// Whole-model runs (optional in a user table; a serve run needing a missing row says so):
  /// vector-unit lane operations ("fp16_add", "fp16_mul", "fp16_exp", "fp16_div", fp32_...),
  /// online quantizer energy per element by unit kind (models::quantizer_unit_name), a vector
  /// lane's area by precision ("fp16", "fp32") and a quantizer's area per element per cycle.
  std::map<std::string, double> vector_pj, quantizer_pj, vector_um2, quantizer_um2;
  std::map<std::string, std::string> sources;  ///< "mac_pj.int8" -> citation / derivation

  double sram_pj(double capacity_bytes) const;
};

/// Loads a technology YAML (`file`; "" or "default" = the built-in reports/tech/default.yaml,
/// compiled in) and scales it to `node` ("" = the table's own node). Errors name the file, line
/// and key (unknown keys, wrong types, negative values, unknown node).
Technology load_technology(const std::string& file, const std::string& node);

/// Energy of one simulation by kEnergyComponents, in pJ. DRAM uses arch.dram.energy_pj_per_byte
/// when it is > 0 (an explicit override in the architecture), else the table. Static energy is
/// static_mw_per_mm2 x the area below x stats.cycles / clock.
Breakdown energy_breakdown(const models::Stats& stats, const models::ArchConfig& arch,
                           const std::string& act_format, const std::string& weight_format,
                           const Technology& tech);

/// The energy per event the mapper weighs mappings with, from the same table and rules as
/// energy_breakdown (DRAM, SRAM per buffer size, registers, decoders by kind, leakage per cycle),
/// so that the mapper's energy objective is the energy the reports show.
models::MapperCosts mapper_costs(const models::ArchConfig& arch, const std::string& act_format,
                                 const std::string& weight_format, const Technology& tech);

/// Area by component in mm^2: "pe_array" (R x C PEs of arch.array.pe), "decoders" (R + C border
/// decoders of the formats' kinds), "sram_input", "sram_weight", "sram_output" (capacity).
Breakdown area_breakdown(const models::ArchConfig& arch, const std::string& act_format,
                         const std::string& weight_format, const Technology& tech);

/// Energy in pJ of one vector-unit operation: its lane operations at the unit's precision
/// (compares cost an add) plus its on-chip SRAM traffic at the output buffer's size.
double vector_op_energy_pj(const models::VectorOpCost& c, const models::ArchConfig& arch,
                           const Technology& tech);
/// Energy in pJ of one online quantization: elements x the unit kind's pJ/element plus the
/// SRAM bytes read and written at the output buffer's size.
double quantizer_energy_pj(const models::QuantizerCost& c, const models::ArchConfig& arch,
                           const Technology& tech);
/// Area in mm^2 of the vector unit (lanes x lane area) and of the online quantizer
/// (elements_per_cycle x the kind's area per element per cycle; 0 for kind none).
double vector_area_mm2(const models::ArchConfig& arch, const Technology& tech);
double quantizer_area_mm2(const models::ArchConfig& arch, models::QuantizerUnitKind kind,
                          const Technology& tech);

}  // namespace qarch::reports
