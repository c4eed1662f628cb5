// The mapper: for one GEMM on one architecture, the loop nest (dataflow, tile sizes, order of
// the tile loops, and which operand blocks stay resident across which loops) that minimises an
// objective, found exactly within its mapspace.
//
// Mapspace (docs/MAPPER.md has the worked example):
//   - spatial: the array's dataflow, or any of ArrayConfig::dataflows;
//   - tiles Tm x Tn x Tk: on an array dimension, multiples of the (logical) array size; along
//     time, multiples of the scale-segment granule; for both, every size u * ceil(U / q) that
//     gives a distinct number of blocks (all divisors and near-divisors), plus the powers of two;
//   - the order of the three tile loops (all 6 permutations, outermost first);
//   - residency: per operand a level L in 0..3, the number of tile loops outside its buffer
//     block. The block spans, along each dimension the operand is indexed by, one tile when that
//     dimension's loop is outside L and the whole dimension when it is inside. A block is
//     loaded when its index changes, so loops between the outermost index loop and L that do not
//     index the operand refetch it; loops right above L that do not index it reuse it for free
//     (Timeloop's stationarity rule). For Y, a K loop outside an m/n loop outside L spills the
//     partial sums to DRAM at accumulator width and reads them back on the next K block;
//   - buffers: X, W, Y blocks in their own buffers (half of each when double-buffered), or all
//     three in one shared global buffer (ArchConfig::shared_buffer);
//   - per-tensor side data (a tensor scale) is stored once beside the data, not per tile.
// Cost model (MappingCost): exact DRAM bytes per operand of the loop nest (the simulator moves
// exactly these), the array's busy cycles from the fold equations (tiler.h) with decoder and
// SRAM-port limits, a pipelined latency estimate (max of compute and DRAM time plus the first
// loads and the last store; serial when a buffer is single), and energy from MapperCosts.
// Search: for each dataflow and tile triple a lower bound (compute cycles, compulsory traffic)
// prunes before the orders and residencies are tried; ties break deterministically on the
// mapping's text. The result is memoized per (shape, formats, arch, costs, objective).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "qarch/models/arch.h"
#include "qarch/models/job.h"

namespace qarch::models {

/// Energy per event the mapper weighs mappings with (pJ). reports/ fills it from the technology
/// table (reports::mapper_costs); a default-constructed one counts DRAM bytes at
/// ArchConfig::dram.energy_pj_per_byte (or 1 pJ/B when that is 0) and nothing else.
struct MapperCosts {
  bool given = false;  ///< false: the default above
  double dram_pj_per_byte = 0;
  double sram_pj_per_byte[3] = {0, 0, 0};  ///< input, weight, output buffer (DMA and array side)
  double register_pj_per_byte = 0;
  double decoder_pj_per_op[2] = {0, 0};  ///< X decoder op, W decoder op
  double static_pj_per_cycle = 0;        ///< leakage of the whole accelerator per cycle
};

/// Operand indices used throughout the mapper.
enum Operand3 { kOpX = 0, kOpW = 1, kOpY = 2 };
/// Loop dimensions.
enum Dim3 { kDimM = 0, kDimN = 1, kDimK = 2 };

/// One point of the mapspace.
struct Mapping {
  Dataflow dataflow = Dataflow::kOutputStationary;
  std::array<int64_t, 3> tile{0, 0, 0};  ///< Tm, Tn, Tk
  std::array<int, 3> order{0, 1, 2};     ///< dims of the tile loops, outermost first
  std::array<int, 3> level{3, 3, 3};     ///< X, W, Y: tile loops outside the operand's block

  /// Whether operand `op` is indexed by dimension `d` (X: m,k; W: n,k; Y: m,n).
  static bool indexes(int op, int d) {
    return op == kOpX ? d != kDimN : op == kOpW ? d != kDimM : d != kDimK;
  }
  /// Position (0 = outermost) of dimension d's loop.
  int pos(int d) const { return order[0] == d ? 0 : order[1] == d ? 1 : 2; }
  /// Compact text: "os 128x128x256 nkm X@1 W@3 Y@2".
  std::string key() const;
};

/// The cost of one mapping of one GEMM (all batch instances).
struct MappingCost {
  double cycles = 0;       ///< latency estimate
  double energy_pj = 0;    ///< mapping-dependent energy estimate (MapperCosts)
  double objective = 0;    ///< the value minimised
  double busy_cycles = 0;  ///< the array's fold cycles with decoder / port slowdowns
  double compute_cycles = 0;
  /// DRAM bytes by operand: X read, W read, Y written (+ partial sums read back).
  std::array<uint64_t, 3> dram_bytes{0, 0, 0};
  uint64_t psum_bytes = 0;  ///< of dram_bytes[Y]: partial sums spilled and read back
  std::array<int64_t, 3> block_bytes{0, 0, 0};  ///< largest buffer block per operand
  uint64_t dram_total() const { return dram_bytes[0] + dram_bytes[1] + dram_bytes[2]; }
};

/// A mapping with its cost.
struct MappedGemm {
  Mapping mapping;
  MappingCost cost;
};

/// The mapper's answer for one GEMM.
struct MapResult {
  Objective objective = Objective::kEdp;
  MappedGemm best;
  std::vector<MappedGemm> runners_up;  ///< the next best (up to 3), best first
  /// Each operand moved once: X and W read once, Y written once (all instances).
  std::array<uint64_t, 3> compulsory_bytes{0, 0, 0};
  /// A lower bound on DRAM traffic for these buffer sizes (Hong & Kung style, see mapper.cpp).
  uint64_t traffic_lower_bound = 0;
  uint64_t mappings_evaluated = 0;  ///< full cost evaluations (after pruning)
  uint64_t tile_triples = 0;        ///< tile triples considered (all dataflows)
  uint64_t compulsory_total() const {
    return compulsory_bytes[0] + compulsory_bytes[1] + compulsory_bytes[2];
  }
};

/// Options of one mapping search.
struct MapperOptions {
  Objective objective = Objective::kEdp;
  MapperCosts costs;
  size_t runners_up = 3;
};

/// Throws qarch::Error naming the job for negative m, n, k or a batch below 1.
void check_job_shape(const GemmJob& job);

/// The best mapping of `job` (shape, batch and formats; operands are ignored) on `arch`.
/// Throws qarch::Error when nothing fits, naming the buffer and the smallest block.
/// Memoized (thread-safe).
MapResult map_gemm(const ArchConfig& arch, const GemmJob& job, const MapperOptions& options);

/// A MapResult for a given mapping (no search): its cost and the traffic bounds.
MapResult map_fixed(const ArchConfig& arch, const GemmJob& job, const Mapping& mapping,
                    const MapperOptions& options);

/// Every legal mapping of the mapspace with its cost, in a deterministic order (for tests that
/// check the search against brute force, and for `qarch map`'s trade-off table).
std::vector<MappedGemm> enumerate_mappings(const ArchConfig& arch, const GemmJob& job,
                                           const MapperOptions& options);

/// The cost of one given mapping (no legality check beyond the buffers: throws if it does not
/// fit).
MappingCost evaluate_mapping(const ArchConfig& arch, const GemmJob& job, const Mapping& mapping,
                             const MapperOptions& options);

/// The loop nest as text, like Timeloop's mapping printout, outermost first, one line a loop:
///   for n in [0:32)   (Tn=128)   W@ here ...
///   spatial 32 x 32 (os: m x n), for k in [0:256)
std::string loop_nest_text(const Mapping& m, int64_t M, int64_t N, int64_t K, int64_t batch,
                           int64_t array_rows, int64_t array_cols);

}  // namespace qarch::models
