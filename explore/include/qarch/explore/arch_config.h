// Architecture files: the YAML an architect writes (configs/*.yaml) -> models::ArchConfig plus
// what a run needs around the simulator (operand formats, technology table and node).
//
// Schema (every key optional unless marked; units in the key names):
//   name: olive-4bit                       # required
//   clock_ghz: 0.5
//   technology: {table: default, node: 22nm}   # or a table file, found beside this file first
//   formats: {act: olive4, weight: olive4, # format specs (`qarch formats`); act, weight required
//             kv: int8}                    # K/V cache format (serve/decode); default: act
//   array: {rows: 32, cols: 32, dataflow: os|ws|is, pe: olive4,
//           dataflows: [os, ws],        # the mapper picks one per GEMM (default: dataflow)
//           pipelined_folds: true}      # consecutive folds overlap fill and drain (tiler.h)
//   decoder: {latency_cycles: 0, elements_per_cycle: 1}
//   dram: {bandwidth_gb_per_s: 64 | bandwidth_bytes_per_cycle: 128, latency_cycles: 100,
//          burst_bytes: 65536, energy_pj_per_byte: 0, ideal: false,
//          capacity_gib: 32}              # weights + KV cache must fit (--phase serve)
//   buffers:
//     input:  {size_kib: 128, banks: 32, ports: 1, bank_width_bytes: 16, double_buffered: true,
//              ideal: false}
//     weight: {...}
//     output: {...}
//     shared: false                      # true: one global buffer of the three sizes summed
//   mapper: {objective: edp}             # latency | energy | edp (docs/MAPPER.md)
//   vector: {lanes: 64, precision_bits: 16, exp_cycles: 4, div_cycles: 4, latency_cycles: 8}
//   quantizer: {elements_per_cycle: 32, latency_cycles: 4, int_scale: dynamic|static}
//                                        # the vector unit and online quantizer (--phase serve;
//                                        # models/vector_unit.h, models/quantizer_unit.h)
//   accumulator_bytes: 4
//   output_bytes: 2
// Errors (unknown key, wrong type, out-of-range value, missing file, unparsable YAML) are
// qarch::Error with "FILE:LINE:COL: KEY: problem".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "qarch/models/arch.h"

namespace qarch::explore {

/// One architecture as a run uses it.
struct ArchSpec {
  models::ArchConfig arch;    ///< validated
  std::string act_format;     ///< canonical format spec of activations
  std::string weight_format;  ///< canonical format spec of weights
  std::string kv_format;      ///< canonical format of the K/V cache; "" = act_format
  /// The K/V cache format in effect.
  const std::string& kv() const { return kv_format.empty() ? act_format : kv_format; }
  std::string tech_table = "default";  ///< technology YAML path, or "default" (built-in)
  std::string tech_node = "22nm";
  std::string file;  ///< the YAML it was read from ("" if built in code)

  /// Whether tech_table names a user file (as opposed to the built-in table).
  bool tech_table_is_file() const { return !tech_table.empty() && tech_table != "default"; }
};

/// A sweep override: dotted key path ("array.rows", "buffers.input.size_kib", "formats.act")
/// -> YAML scalar text ("32", "olive4"). Setting one of two alternative keys
/// (dram.bandwidth_gb_per_s / dram.bandwidth_bytes_per_cycle) removes the other.
using Override = std::pair<std::string, std::string>;

/// Reads and validates an architecture file, applying `overrides` first. A relative
/// technology.table is taken from beside the file when it exists there, else from the working
/// directory. Throws qarch::Error naming file, line, column and key.
ArchSpec load_arch(const std::string& file, const std::vector<Override>& overrides = {});
/// The same from YAML text; `file` names it in errors (and is stored in ArchSpec::file).
ArchSpec parse_arch(const std::string& yaml, const std::string& file,
                    const std::vector<Override>& overrides = {});
/// Canonical YAML of an ArchSpec (every key, fixed order); parse_arch(arch_yaml(a)) == a.
std::string arch_yaml(const ArchSpec& a);

}  // namespace qarch::explore
