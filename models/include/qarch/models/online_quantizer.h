// The online quantizer's data path, functionally (its cost model is quantizer_unit.h). In a
// whole-model run a GEMM's finished outputs leave the array tile by tile, in the order of the
// mapping's tile walk (tiler.h TilePlan); the epilogue rounds them to the output type (FP16 when
// arch.output_bytes is 2) and the quantizer encodes them into the next operator's format. The
// unit can encode a value once everything its encoding depends on has arrived: the format says
// how much that is (quant::FormatTraits::encode_scope):
//   segment  a scale group of its row (MX, BFP, AMXFP4, INT groups), or the row (per-token INT)
//   row      the whole row (DGQ: a row scale above the group scales)
//   tensor   a calibrated copy of the format (Format::calibrated, OliVe's offline scale search)
//            makes it per segment; without one (per-tensor INT, NVFP4's tensor scale) the unit
//            must see the whole tensor: a max pass, then an encode pass over the stored tile.
// The arithmetic is quant's encoder on each unit, so the values the next operator reads equal
// quant's encode of the whole tensor bit for bit; tests/sim/online_quantizer_test.cpp checks
// that on a traced zoo-model layer, fed the simulator's outputs in tile order. The unit also
// reports how many values it had to hold (the block / row buffer the hardware needs).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "qarch/models/tiler.h"
#include "qarch/quant/format.h"

namespace qarch::models {

/// Streams a GEMM's output tiles through an online quantizer of one format (file comment).
class OnlineQuantizer {
 public:
  /// Encodes a rows x cols tensor in `format`. `calibrated` (may be null; must outlive this)
  /// is the offline-calibrated copy a tensor-scope format encodes with segment by segment.
  /// `output_bytes` is the epilogue's output type: 2 rounds to FP16 first, 4 keeps FP32.
  OnlineQuantizer(const quant::Format& format, int64_t rows, int64_t cols, int output_bytes,
                  const quant::Format* calibrated = nullptr);

  /// Finished outputs of the block `rect` of the tensor (rows r0..r1, cols c0..c1), row-major.
  /// Throws qarch::Error for a block outside the tensor or a value that arrives twice.
  void push(const BlockRect& rect, const float* values);

  /// True once every value has arrived and been encoded.
  bool complete() const { return encoded_ == rows_ * cols_; }

  /// What the next operator reads: the decoded values of the codes written (rows x cols).
  /// Throws qarch::Error before complete().
  const std::vector<float>& output() const;

  /// Counters of the data path.
  struct Stats {
    int64_t unit_cols = 0;      ///< columns of one encode unit (0: the whole tensor)
    int64_t units_encoded = 0;  ///< encoder calls
    int64_t passes = 1;         ///< reads of the tile (2: a max pass first)
    int64_t peak_held = 0;      ///< most values held at once waiting for their unit
  };
  const Stats& stats() const { return stats_; }

 private:
  void encode_unit(int64_t r, int64_t c0, int64_t n);

  const quant::Format* encoder_;
  int64_t rows_, cols_;
  int output_bytes_;
  bool whole_tensor_ = false;
  std::vector<float> staged_, out_;
  std::vector<uint8_t> arrived_;
  std::vector<int64_t> unit_count_;  ///< values arrived per (row, unit)
  int64_t held_ = 0, encoded_ = 0;
  Stats stats_;
};

}  // namespace qarch::models
