// SCALE-Sim v2's three report files (COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv,
// DETAILED_ACCESS_REPORT.csv) for a config and topology: `qarch scalesim`.
//
// Exact mode reproduces scalesim-project/scale-sim-v2 at 22f88b1 (v2.0.2) number for number.
// The rules were read from its scalesim/compute/systolic_compute_{os,ws,is}.py (per-cycle demand
// rows of each operand: fold order, skew, fill and drain gaps), scalesim/compute/operand_matrix.py
// (addresses) and scalesim/memory/ (read_buffer_estimate_bw.py for CALC bandwidth,
// read_buffer.py for USER bandwidth, write_buffer.py, double_buffered_scratchpad_mem.py), and are
// re-derived here as arithmetic on the demand streams instead of materialised matrices:
//   * CALC read buffers: the SRAM is 100 sets of floor(words / 100) distinct addresses, half
//     active; a run of 50 sets of new addresses (an "epoch") triggers a prefetch, so an address
//     hits exactly when it was already requested in the current epoch (one stamp per address);
//     DRAM reads are the distinct addresses per epoch, and the prefetch windows follow the epoch
//     closing cycles.
//   * USER read buffers: the prefetch matrix is cut into lines of ceil(words / 100) addresses;
//     a request outside the active window of lines slides the window (a prefetch of
//     ceil(prefetch words / bandwidth) cycles) and stalls the array until it has arrived.
//   * the write buffer counts words into bandwidth-wide lines and drains half the SRAM at a time,
//     stalling the array when it is full while a drain is in flight.
// The quirks are kept in exact mode (docs/SCALESIM.md lists them): "Total Cycles" is the index of
// the last cycle, OS folds overlap the output drain with the next fold, OS OFMAP SRAM writes
// count R + C extra per fold, a drain counts whole lines except its last, USER prefetches count
// whole lines (padding included), WS/IS "Compute Util" divides by 2R + 2C + T - 3 cycles a fold.
// Corrected mode (`--qarch`) removes the first four and the last; docs/SCALESIM.md has the table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/sim/scalesim.h"

namespace qarch::sim {

/// One layer as SCALE-Sim runs it (a depthwise "DP" layer is one such layer per channel).
struct ScaleSimLayerShape {
  std::string name;
  int64_t ifmap_h = 1, ifmap_w = 1, filter_h = 1, filter_w = 1, channels = 1, num_filter = 1;
  int64_t stride_h = 1, stride_w = 1;
};

/// The layers of a topology in SCALE-Sim's order: "DP" layers expand to one 1-channel layer per
/// channel, named NAME + "Channel_" + i (scalesim/topology_utils.py).
std::vector<ScaleSimLayerShape> scalesim_layer_shapes(const ScaleSimTopology& t);

/// Which numbers to produce (file comment).
enum class ScaleSimMode {
  kExact,      ///< SCALE-Sim v2's numbers, quirks included
  kCorrected,  ///< the same memory model with the quirks corrected
};

/// One layer's row in each of the three report files, in SCALE-Sim's column order.
struct ScaleSimLayerReport {
  // COMPUTE_REPORT.csv
  int64_t total_cycles = 0, stall_cycles = 0;
  double overall_util = 0, mapping_efficiency = 0, compute_util = 0;  ///< percent
  // BANDWIDTH_REPORT.csv (words per cycle)
  double sram_ifmap_bw = 0, sram_filter_bw = 0, sram_ofmap_bw = 0;
  double dram_ifmap_bw = 0, dram_filter_bw = 0, dram_ofmap_bw = 0;
  // DETAILED_ACCESS_REPORT.csv
  int64_t sram_ifmap_start = 0, sram_ifmap_stop = 0, sram_ifmap_reads = 0;
  int64_t sram_filter_start = 0, sram_filter_stop = 0, sram_filter_reads = 0;
  int64_t sram_ofmap_start = 0, sram_ofmap_stop = 0, sram_ofmap_writes = 0;
  int64_t dram_ifmap_start = 0, dram_ifmap_stop = 0, dram_ifmap_reads = 0;
  int64_t dram_filter_start = 0, dram_filter_stop = 0, dram_filter_reads = 0;
  int64_t dram_ofmap_start = 0, dram_ofmap_stop = 0, dram_ofmap_writes = 0;
  // Not in SCALE-Sim's reports.
  int64_t macs = 0;             ///< ofmap pixels x filters x window
  int64_t demand_elements = 0;  ///< operand requests simulated (the work done)
};

/// Simulates one layer on the config's array and memories. Throws qarch::Error naming the layer
/// where SCALE-Sim itself would fail (an SRAM under 100 words, an operand with no requests).
ScaleSimLayerReport simulate_scalesim_layer(const ScaleSimConfig& c, const ScaleSimLayerShape& l,
                                            ScaleSimMode mode);

/// The three report files' text, byte for byte as SCALE-Sim writes them.
struct ScaleSimReportFiles {
  std::string compute, bandwidth, detail;
};
ScaleSimReportFiles scalesim_report_files(const std::vector<ScaleSimLayerReport>& layers);

}  // namespace qarch::sim
