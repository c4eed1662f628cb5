// Event counters of one simulation, per component. Energy and area are reports/' business: this
// is only what happened - MACs by type, decoder operations, register / SRAM / DRAM bytes, busy
// and stall cycles - in a plain struct (and JSON through nlohmann::json's to_json).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "qarch/models/mapper.h"
#include "qarch/models/pe.h"

namespace qarch::models {

/// The off-chip channel.
struct DramStats {
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  uint64_t requests = 0;     ///< burst requests served
  uint64_t busy_cycles = 0;  ///< cycles the channel was transferring (rounded up)
};

/// One SRAM buffer.
struct BufferStats {
  std::string name;                ///< "input", "weight", "output"
  int64_t capacity_bytes = 0;      ///< configured size (0 when idealized)
  int64_t peak_bytes = 0;          ///< largest occupancy (tiles resident at once)
  uint64_t fill_bytes = 0;         ///< written by DMA from DRAM (input/weight buffers)
  uint64_t drain_bytes = 0;        ///< read by DMA towards DRAM (output buffer)
  uint64_t read_bytes = 0;         ///< read by the array side (operands, or partial sums)
  uint64_t write_bytes = 0;        ///< written by the array side (partial sums)
  uint64_t tiles = 0;              ///< tiles that passed through
  uint64_t port_stall_cycles = 0;  ///< cycles the array was slowed by this buffer's ports
};

/// The border decoders of one edge.
struct DecoderStats {
  std::string edge;  ///< "left" (R decoders) or "top" (C decoders)
  std::string kind;  ///< decoder kind of the last job's operand on this edge ("ovp4", ...)
  int units = 0;     ///< decoders on this edge
  uint64_t elements =
      0;             ///< elements decoded (an element re-streamed into a new fold counts again)
  uint64_t ops = 0;  ///< decoder operations (an OVP pair decode yields two elements)
  uint64_t stall_cycles = 0;  ///< cycles the array waited because decoders were slower than it
  /// Decoder operations by kind: a job list that mixes formats, or dataflows that swap which
  /// operand enters on this edge, uses several kinds on one edge (each priced as its own).
  Counters ops_by_kind;
};

/// The PE array and its accumulators.
struct ArrayStats {
  int rows = 0, cols = 0;                  ///< physical PEs
  int logical_rows = 0, logical_cols = 0;  ///< MAC units after PE fusion (OliVe 8-bit: halves)
  uint64_t folds = 0;                      ///< array passes (SCALE-Sim folds, per tile)
  uint64_t compute_cycles = 0;  ///< fill + stream + drain cycles at full rate (SCALE-Sim's runtime)
  uint64_t busy_cycles = 0;     ///< compute_cycles plus decoder/buffer-port slowdowns
  uint64_t stall_input_cycles = 0;    ///< idle, waiting for an X tile from DRAM
  uint64_t stall_weight_cycles = 0;   ///< idle, waiting for a W tile from DRAM
  uint64_t stall_output_cycles = 0;   ///< idle, waiting for output-buffer space (write-back)
  uint64_t macs = 0;                  ///< useful logical MACs
  Counters macs_by_type;              ///< by PE-specific kind ("int8", "ovp4", "olaccel_outlier")
  uint64_t register_read_bytes = 0;   ///< PE operand + psum register reads (see simulator.h)
  uint64_t register_write_bytes = 0;  ///< PE operand + psum register writes
  uint64_t segment_closes = 0;      ///< accumulator scale steps: one per output, scale segment and
                                    ///< sign combination (round, scale, FP32 add)
  double utilization = 0.0;         ///< macs / (logical PEs x total cycles)
  double mapping_efficiency = 0.0;  ///< mean share of logical PEs mapped per fold
  uint64_t pe_cycles = 0;           ///< cycle mode: PE updates simulated (cycles x PEs)
};

/// Per job (one GEMM, all batch instances).
struct JobStats {
  std::string name;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  int64_t tile_m = 0, tile_n = 0, tile_k = 0;  ///< tile sizes the planner chose
  std::string loop_order;                      ///< tile loops outermost first ("nkm")
  std::string dataflow;                        ///< the dataflow the mapper chose
  std::string mapping;                         ///< Mapping::key()
  std::string loop_nest;                       ///< loop_nest_text (Timeloop-style printout)
  std::string objective;                       ///< what the mapper minimised
  MappingCost estimate;                        ///< the mapper's estimate of its choice
  std::vector<MappedGemm> runners_up;          ///< the next best mappings (up to 3)
  uint64_t compulsory_bytes = 0;               ///< each operand moved once (X, W read, Y written)
  uint64_t traffic_lower_bound = 0;            ///< communication lower bound for the buffer sizes
  uint64_t dram_x_bytes = 0;                   ///< simulated DRAM bytes of X (reads)
  uint64_t dram_w_bytes = 0;                   ///< ... of W (reads)
  uint64_t dram_y_bytes = 0;                   ///< ... of Y (writes, partial sums out and back in)
  uint64_t psum_bytes = 0;  ///< of dram_y_bytes: partial sums spilled and read back
  uint64_t tiles = 0;
  uint64_t folds = 0;
  uint64_t start_cycle = 0;  ///< first cycle the array worked on this job
  uint64_t end_cycle = 0;    ///< cycle its last output tile reached DRAM
  uint64_t compute_cycles = 0;
  uint64_t busy_cycles = 0;
  uint64_t macs = 0;
  uint64_t dram_read_bytes = 0;
  uint64_t dram_write_bytes = 0;
};

/// Everything counted in one simulation.
struct Stats {
  std::string mode;     ///< "tile" or "cycle"
  uint64_t cycles = 0;  ///< total simulated cycles (last write-back complete)
  DramStats dram;
  BufferStats input_buffer, weight_buffer, output_buffer;
  DecoderStats left_decoders, top_decoders;
  ArrayStats array;
  std::vector<JobStats> jobs;
  double host_seconds = 0.0;  ///< wall time of the simulation (planning + SystemC)
};

void to_json(nlohmann::json& j, const Stats& s);
void to_json(nlohmann::json& j, const JobStats& s);

}  // namespace qarch::models
