// The per-cycle systolic array: every clock, every PE of an R x C (logical) array updates its
// registers from its neighbours', so operands move PE to PE as in hardware. It exists to check
// the tile equations (a fold must take exactly 2R + C + T - 2 cycles, SCALE-Sim) and the
// functional model (same outputs as the tile mode and quant::reference_matmul).
//
// Schedules (cycle 0 = the fold's first cycle):
// - WS / IS: cycles 0..R-1 shift the stationary operand down from the top edge, the element for
//   the bottom row first, so after R cycles row r holds reduction index k0 + r. Then streamed
//   element (t, k0 + r) enters row r at the left edge in cycle R + t + r and moves one column
//   right per cycle; a partial sum is born in row 0 with its stream element, moves one row down
//   per cycle adding the PE's product, and leaves the bottom of column c in cycle
//   R + t + (R - 1) + c. The fold ends with the last partial sum (t = T - 1, c = C - 1): cycle
//   2R + C + T - 3, i.e. 2R + C + T - 2 cycles. Partial sums of all C columns travel (the unused
//   columns carry no products), as a hardware array's do.
// - OS: X element (r, k) enters row r in cycle k + r and moves right; W element (c, k) enters
//   column c in cycle k + c and moves down; PE (r, c) multiplies the pair it holds (same k by
//   construction - checked) into its accumulator. Unused rows / columns carry padding through
//   the array, so the last pair leaves PE (R-1, C-1) in cycle T + R + C - 3; then the R rows of
//   accumulators drain down the columns in R cycles: 2R + C + T - 2 in all.
// A partial sum crossing a scale-segment boundary inside a fold (e.g. 16-element blocks on a
// 32-row array) carries one exact integer sum per segment ("lanes") down the column; the
// accumulator closes them in order.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "functional.h"
#include "qarch/models/arch.h"

namespace qarch::models::detail {

/// One fold in GEMM coordinates: X rows [i0, i0 + ni), W rows [j0, j0 + nj), k in [k0, k0 + nk).
/// WS: rows <- k (nk <= R), cols <- j (nj <= C), stream <- i. IS: rows <- k, cols <- i,
/// stream <- j. OS: rows <- i, cols <- j, stream <- k.
struct CycleFold {
  int64_t i0 = 0, ni = 0, j0 = 0, nj = 0, k0 = 0, nk = 0;
};

/// The per-cycle array (see file comment).
class CycleArray {
 public:
  CycleArray(Dataflow d, int64_t rows, int64_t cols);

  /// Runs one fold; fn (may be null: timing only) receives the products. tick() is called once
  /// per cycle after the registers have updated (the SystemC clock wait). Returns the cycles.
  int64_t run(const CycleFold& f, FunctionalGemm* fn, const std::function<void()>& tick);

  /// Runs the folds of one tile pipelined (FoldModel::fold_period): the next fold's stream
  /// enters right behind the current one's as soon as the shadow registers allow. WS / IS: the
  /// stationary operand of fold g shifts down through the shadow registers in the R cycles
  /// before its stream starts, beginning C cycles after fold g - 1's stream began (by then
  /// every PE has taken fold g - 1's operand from its shadow); a PE swaps shadow and active
  /// register when fold g's first element reaches it. OS: each PE hands its finished
  /// accumulator to a shadow register; fold g's shadows drain down the columns in the R cycles
  /// after its last product; the next fold's results may not overwrite a shadow before. Every
  /// such rule is asserted as the registers move (std::logic_error). All folds stream the same
  /// number of steps. pauses[g] cycles where nothing moves precede fold g's first injection
  /// (slowdowns). Returns the cycles without the pauses.
  int64_t run_tile(const std::vector<CycleFold>& folds, const std::vector<int64_t>& pauses,
                   FunctionalGemm* fn, const std::function<void()>& tick);

  /// PE updates performed (cycles x R x C).
  uint64_t pe_cycles() const { return pe_cycles_; }

 private:
  int64_t run_stationary(const CycleFold& f, FunctionalGemm* fn, const std::function<void()>& tick);
  int64_t run_os(const CycleFold& f, FunctionalGemm* fn, const std::function<void()>& tick);
  int64_t run_tile_stationary(const std::vector<CycleFold>& folds,
                              const std::vector<int64_t>& pauses, FunctionalGemm* fn,
                              const std::function<void()>& tick);
  int64_t run_tile_os(const std::vector<CycleFold>& folds, const std::vector<int64_t>& pauses,
                      FunctionalGemm* fn, const std::function<void()>& tick);

  Dataflow dataflow_;
  int64_t R_, C_;
  uint64_t pe_cycles_ = 0;
};

}  // namespace qarch::models::detail
