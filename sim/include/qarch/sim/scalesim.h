// SCALE-Sim (v2) input files, so its users can bring their experiments to qarch
// (`qarch import-scalesim`). Both readers follow SCALE-Sim's own parsing
// (scalesim-project/scale-sim-v2: scalesim/scale_config.py, scalesim/topology_utils.py) and
// are stricter where SCALE-Sim would crash or silently misread; every error names
// "FILE:LINE: [section] key" or "FILE:LINE: column": the problem.
//
// Config (.cfg): an INI file as Python's configparser reads it: "[section]" headers,
// "key = value" or "key: value", keys case-insensitive, full-line comments with # or ;.
//   [general]              run_name
//   [architecture_presets] ArrayHeight, ArrayWidth, IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB
//                          (SCALE-Sim v1: IfmapSramSz ...), IfmapOffset, FilterOffset,
//                          OfmapOffset, Dataflow (os|ws|is), Bandwidth (words/cycle, a list per
//                          bank; required when InterfaceBandwidth is USER), MemoryBanks
//   [run_presets]          InterfaceBandwidth (CALC|USER)
// Other keys and sections (layout, sparsity, Ramulator, Accelergy ...) do not change SCALE-Sim's
// compute cycles; they are accepted and listed in ScaleSimConfig::ignored.
//
// Topology (.csv): a header line, then one layer per line, fields separated by commas (SCALE-Sim
// files end every line with a comma; a line without it is read the same).
//   conv: Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
//         Num Filter, Strides[, Stride width]
//   GEMM: Layer name, M, N, K        (detected from the header's M, N, K columns)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/explore/arch_config.h"
#include "qarch/models/arch.h"
#include "qarch/workloads/gemm_list.h"

namespace qarch::sim {

/// The parts of a SCALE-Sim config that define its compute (see file comment).
struct ScaleSimConfig {
  std::string file;
  std::string run_name;
  int64_t array_height = 0, array_width = 0;
  int64_t ifmap_sram_kb = 0, filter_sram_kb = 0, ofmap_sram_kb = 0;
  int64_t ifmap_offset = 0, filter_offset = 0, ofmap_offset = 0;
  models::Dataflow dataflow = models::Dataflow::kOutputStationary;
  bool user_bandwidth = false;     ///< InterfaceBandwidth: USER (else CALC)
  std::vector<int64_t> bandwidth;  ///< words per cycle, one per memory bank (USER mode)
  int64_t memory_banks = 1;
  std::vector<std::string> ignored;  ///< "FILE:LINE: [section] key" of keys qarch does not use
};

/// Parses a SCALE-Sim .cfg text; `file` names it in errors.
ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& file);
/// Reads a SCALE-Sim .cfg file.
ScaleSimConfig load_scalesim_config(const std::string& file);

/// Topology flavour.
enum class TopologyKind { kAuto, kConv, kGemm };

/// One topology line.
struct ScaleSimLayer {
  std::string name;
  int line = 0;
  // Conv view (GEMM lines are stored as SCALE-Sim does: ifmap M x K, filter 1 x K, 1 channel).
  int64_t ifmap_h = 0, ifmap_w = 0, filter_h = 0, filter_w = 0, channels = 0, num_filter = 0;
  int64_t stride_h = 1, stride_w = 1;
  bool depthwise = false;  ///< name contains "DP": SCALE-Sim runs one 1-channel layer per channel
  /// The GEMM SCALE-Sim runs for it (see scalesim_gemms), computed and range-checked on reading.
  int64_t m = 0, n = 0, k = 0, batch = 1;
};

/// A parsed topology file.
struct ScaleSimTopology {
  std::string file;
  TopologyKind kind = TopologyKind::kConv;  ///< kConv or kGemm after parsing
  std::vector<ScaleSimLayer> layers;
};

/// Parses a SCALE-Sim topology CSV text; kAuto detects GEMM files from the header.
ScaleSimTopology parse_scalesim_topology(const std::string& text, const std::string& file,
                                         TopologyKind kind = TopologyKind::kAuto);
/// Reads a SCALE-Sim topology CSV file.
ScaleSimTopology load_scalesim_topology(const std::string& file,
                                        TopologyKind kind = TopologyKind::kAuto);

/// The GEMMs SCALE-Sim runs for a topology (scalesim/compute/operand_matrix.py): per layer
/// ofmap = ceil((ifmap - filter + stride) / stride) per axis (SCALE-Sim rounds a partial last
/// window up, unlike an unpadded convolution), M = ofmap_h * ofmap_w,
/// K = filter_h * filter_w * channels, N = num_filter; a depthwise ("DP") layer is `channels`
/// instances of the 1-channel GEMM (batch = channels). Repeated layer names get "#2", "#3" ...
workloads::GemmList scalesim_gemms(const ScaleSimTopology& t, const std::string& list_name);

/// The qarch architecture of a SCALE-Sim config (see `qarch import-scalesim --help`):
/// array rows x cols = ArrayHeight x ArrayWidth, the dataflow, SRAM sizes in bytes (1-byte
/// words), decoder latency 0, and DRAM plus buffers idealized unless `real_memory`; idealized,
/// each GEMM takes the analytical runtime of SCALE-Sim's paper (folds x (2R + C + T - 2)), which
/// SCALE-Sim v2's reports do not print (scalesim_engine.h reproduces those). `format` (a spec)
/// picks the operand formats (resolve_formats) and the first PE type that accepts them.
explore::ArchSpec scalesim_arch(const ScaleSimConfig& c, const std::string& format,
                                const std::string& name, bool real_memory = false);

}  // namespace qarch::sim
