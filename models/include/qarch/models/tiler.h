// Mapping a GEMM onto the array: SCALE-Sim's operand mapping and fold equations, the per-fold
// cost with decoder and SRAM-port limits, and the tiler that picks tile sizes and loop order so
// that the tiles fit the buffers.
//
// SCALE-Sim (Samajdar et al., "A Systematic Methodology for Characterizing Scalability of DNN
// Accelerators using SCALE-Sim", ISPASS 2020, section IV, and scalesim-project/scale-sim-v2,
// scalesim/compute/systolic_compute_{os,ws,is}.py): a GEMM is an operand matrix S_R x S_C mapped
// onto the R x C array with a temporal dimension T. A GEMM "M, N, K" enters SCALE-Sim as a
// convolution with M output pixels, window K and N filters (topology_utils load_arrays_gemm), so
//   OS: S_R = M (output rows),  S_C = N, T = K
//   WS: S_R = K (window),       S_C = N, T = M
//   IS: S_R = K (window),       S_C = M, T = N
// and the compute time is ceil(S_R / R) * ceil(S_C / C) folds of 2R + C + T - 2 cycles each: R
// cycles to load the stationary operand (WS/IS) or drain the outputs (OS), T cycles to stream,
// R + C - 2 cycles of systolic skew. (scale-sim-v2's WS and IS demand matrices give exactly this
// per fold; its OS demand matrix omits the R-cycle output drain. We follow the paper's equation
// for all three.)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "qarch/models/arch.h"
#include "qarch/models/job.h"
#include "qarch/models/mapper.h"
#include "qarch/models/operand_format.h"
#include "qarch/models/pe.h"

namespace qarch::models {

/// A GEMM (or a tile of one) as the array sees it.
struct ArrayDims {
  int64_t sr = 0;  ///< S_R: spread over array rows
  int64_t sc = 0;  ///< S_C: spread over array columns
  int64_t t = 0;   ///< T: streamed through time
};
/// SCALE-Sim's mapping of Y[M,N] = X[M,K] W[N,K]^T (file comment).
ArrayDims map_gemm(Dataflow d, int64_t m, int64_t n, int64_t k);

/// The per-fold cost model of one job on one architecture (decoder rates, buffer ports).
struct FoldModel {
  Dataflow dataflow = Dataflow::kWeightStationary;
  int64_t rows = 0, cols = 0;  ///< logical array (physical / PE fusion)
  int64_t decoder_latency = 0;
  double decoder_rate = 1.0;               ///< elements per cycle per decoder
  double in_bw = 0, w_bw = 0, out_bw = 0;  ///< buffer bytes per cycle; 0 = unlimited
  double x_bits = 0, w_bits = 0;           ///< packed storage bits per element
  int64_t acc_bytes = 4;
  /// Consecutive folds of a tile overlap (ArrayConfig::pipelined_folds, see tile_cost).
  bool pipelined = true;

  /// Cost of one fold that uses r x c logical PEs and streams t steps; `accumulate` is true
  /// when the fold adds onto partial sums already in the output buffer (psum read).
  struct Cost {
    int64_t compute = 0;  ///< 2R + C + T - 2 + decoder latency (SCALE-Sim)
    int64_t busy = 0;     ///< compute + slowdowns
    int64_t decoder_stall = 0;
    int64_t port_stall[3] = {0, 0, 0};  ///< input, weight, output buffer
  };
  Cost fold(int64_t r, int64_t c, int64_t t, bool accumulate) const;

  /// Cycles between the starts of two consecutive folds of a tile that stream t steps each,
  /// when pipelined: WS / IS shift the next fold's stationary operand down through shadow
  /// registers while the current fold streams; a shadow may be overwritten once the current
  /// operand has been taken from it, which the last column does C cycles after the stream
  /// began, and the shift takes R cycles: max(t, R + C). OS hands each finished accumulator to a
  /// shadow register that drains down the columns in R cycles after the fold's last product; the
  /// next fold's first result may not overwrite it before: max(t, 2R + C - 2).
  int64_t fold_period(int64_t t) const;
  /// Compute cycles of a tile of `folds` folds streaming t steps each: the first fold's
  /// 2R + C + t - 2 (SCALE-Sim), then fold_period(t) for each further fold when pipelined
  /// (else 2R + C + t - 2 each), plus the decoder latency once per tile when pipelined (once per
  /// fold otherwise).
  int64_t tile_compute(int64_t folds, int64_t t) const;
};

/// The fold model of a job on `arch` in dataflow `df`: the logical array (physical / PE
/// fusion), decoder and SRAM-port limits, the operands' packed widths. The one builder the
/// mapper and the simulator's plan share.
FoldModel make_fold_model(const ArchConfig& arch, Dataflow df, int fuse, const OperandFormat& x,
                          const OperandFormat& w);

/// Rows [r0, r1) x cols [c0, c1) of an operand (X: m x k, W: n x k, Y: m x n).
struct BlockRect {
  int64_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
  int64_t rows() const { return r1 - r0; }
  int64_t cols() const { return c1 - c0; }
  bool operator==(const BlockRect& o) const {
    return r0 == o.r0 && r1 == o.r1 && c0 == o.c0 && c1 == o.c1;
  }
};

/// One tile of one GEMM instance: X rows [m0, m1), W rows [n0, n1), k in [k0, k1), and the
/// buffer blocks (mapper.h: residency) it lies in.
struct Tile {
  int64_t m0 = 0, m1 = 0, n0 = 0, n1 = 0, k0 = 0, k1 = 0;
  bool new_x = true;       ///< X block differs from the previous tile's (DMA loads it)
  bool new_w = true;       ///< W block differs from the previous tile's
  bool new_y = true;       ///< Y block starts here (an output slot is taken)
  bool y_psum_in = false;  ///< ... and its partial sums are read back from DRAM first
  bool end_y = true;       ///< Y block ends after this tile and is written back
  bool y_final = true;     ///< ... as finished outputs (else partial sums, accumulator width)
  bool first_k = true;     ///< first K block of its output tile (no psum to read)
  bool last_k = true;      ///< last K block
  BlockRect xb, wb, yb;    ///< the X, W and Y blocks this tile lies in
};
/// Folds of a tile, in array order, grouped: `count` folds using r x c PEs streaming t.
struct FoldClass {
  int64_t r = 0, c = 0, t = 0, count = 0;
  bool accumulate = false;
};
/// The fold classes of a tile of m x n x k (dataflow mapping), first_k as in Tile.
std::vector<FoldClass> fold_classes(const FoldModel& fm, int64_t m, int64_t n, int64_t k,
                                    bool first_k);

/// What `count` = 1 fold of class f moves and does (simulator.h's counting conventions): elements
/// read from the input / weight buffers and streamed in from the left / top edge, partial sums
/// written to / read from the output buffer, PE register bits written and read, MACs.
struct FoldEvents {
  double x_elems = 0, w_elems = 0, left = 0, top = 0, psum_w = 0, psum_r = 0;
  double reg_w_bits = 0, reg_r_bits = 0, macs = 0;
};
FoldEvents fold_events(Dataflow df, int64_t R, const FoldClass& f, double x_element_bits,
                       double w_element_bits, double acc_bytes);

/// The mapping of one GEMM as the simulator walks it (mapper.h chooses it): tile sizes, the
/// order of the tile loops and the residency level of each operand's buffer block.
struct TilePlan {
  int64_t m = 0, n = 0, k = 0, batch = 1;
  int64_t tm = 0, tn = 0, tk = 0;     ///< tile sizes (the last tile of a dimension may be smaller)
  std::array<int, 3> order{0, 1, 2};  ///< dims (0 m, 1 n, 2 k) of the tile loops, outermost first
  std::array<int, 3> level{3, 3, 3};  ///< X, W, Y: tile loops outside the operand's block
  int64_t nm = 0, nn = 0, nk = 0;     ///< blocks per dimension
  int64_t x_tile_bytes = 0, w_tile_bytes = 0, y_tile_bytes = 0;  ///< largest block footprints
  double est_cycles = 0;            ///< mapper's estimate (the simulation decides)
  uint64_t est_dram_bytes = 0;      ///< DRAM traffic of this plan (all instances)
  uint64_t est_compute_cycles = 0;  ///< folds x fold cycles at full rate (all instances)

  int64_t tiles_per_instance() const { return nm * nn * nk; }
  /// Tile idx (0 <= idx < tiles_per_instance()) of one instance, in loop order.
  Tile tile(int64_t idx) const;
  /// The tile at block coordinates c (m, n, k block indices); tile(idx) without the divisions.
  Tile tile_at(const int64_t c[3]) const;
  /// "mnk"-style loop order, outermost first.
  std::string loop_order() const;
};

/// Everything fixed about one job before simulation: formats, PE, fold model, plan.
struct JobPlan {
  const OperandFormat* x_format = nullptr;
  const OperandFormat* w_format = nullptr;
  const PeType* pe = nullptr;
  FoldModel fold_model;
  TilePlan plan;
  MapResult map;  ///< the mapper's answer (mapping, cost, runners-up, compulsory traffic)
};

/// Validates the job against the architecture and chooses its tiles. Throws qarch::Error,
/// naming the field, for a format the PE cannot run ("job 'q': x_format 'mxfp4' is not
/// supported by arch.array.pe 'int8' (accepts int2..int8)"), negative sizes, or buffers too small
/// for the smallest tile ("arch.input_buffer.size_bytes: ...").
JobPlan plan_job(const ArchConfig& arch, const GemmJob& job, const MapperOptions& options = {});
/// The plan of a given mapping (tests, `qarch map --mapping`): no search.
JobPlan plan_mapping(const ArchConfig& arch, const GemmJob& job, const Mapping& mapping,
                     const MapperOptions& options = {});

}  // namespace qarch::models
