// Functional state of one GEMM instance in the simulated hardware: the PE-view operands and
// the output accumulators. An accumulator follows reference_dot's rule exactly: products of one
// scale segment are summed as exact integers (quant::IntDot, per sign combination), and when the
// segment ends its sums are rounded, scaled and added in FP32 by quant::accumulate_segment; the
// end result goes through quant::finish_output. Segments must arrive in increasing k for each
// output (every loop order and fold order of the simulator guarantees it), and a segment may be
// split over several folds or tiles: its integer sum stays open until a later segment starts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "qarch/models/pe.h"
#include "qarch/quant/decoded.h"

namespace qarch::models::detail {

/// One output's accumulator.
struct AccState {
  float acc = 0.0f;
  quant::IntDot open;
  int64_t seg = -1;  ///< first k of the open segment, -1 if none
};

/// Operands and accumulators of one GEMM instance.
class FunctionalGemm {
 public:
  FunctionalGemm(const PeType& pe, PeOperand x, PeOperand w)
      : pe_(&pe), x_(std::move(x)), w_(std::move(w)) {
    m_ = x_.full->rows;
    n_ = w_.full->rows;
    k_ = x_.full->cols;
    gx_ = std::max<int64_t>(1, x_.full->group_cols);
    gw_ = std::max<int64_t>(1, w_.full->group_cols);
    acc_.resize(static_cast<size_t>(m_ * n_));
  }

  const PeType& pe() const { return *pe_; }
  const PeOperand& x() const { return x_; }
  const PeOperand& w() const { return w_; }
  int64_t k() const { return k_; }

  /// First k of the scale segment holding k (the largest group boundary of X or W <= k).
  int64_t segment_start(int64_t k) const { return std::max((k / gx_) * gx_, (k / gw_) * gw_); }
  /// One past the last k of the segment holding k.
  int64_t segment_end(int64_t k) const {
    return std::min({k_, (k / gx_ + 1) * gx_, (k / gw_ + 1) * gw_});
  }

  /// The PE product of X row i and W row j over [k0, k1) (within one segment).
  quant::IntDot dot(int64_t i, int64_t j, int64_t k0, int64_t k1) const {
    return pe_->dot(x_, i, w_, j, k0, k1);
  }

  /// Adds the exact sums d of segment `seg` (its first k) to output (i, j).
  void add(int64_t i, int64_t j, int64_t seg, const quant::IntDot& d) {
    AccState& a = acc_[static_cast<size_t>(i * n_ + j)];
    if (a.seg != seg) {
      close(a, i, j);
      a.seg = seg;
    }
    add_into(a.open, d);
  }

  /// Tile-mode arithmetic: output (i, j) over k in [k0, k1), segment by segment.
  void accumulate(int64_t i, int64_t j, int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1;) {
      const int64_t end = std::min(k1, segment_end(k));
      add(i, j, segment_start(k), dot(i, j, k, end));
      k = end;
    }
  }

  /// Closes every open segment and returns Y [m, n] row-major.
  std::vector<float> finish() {
    std::vector<float> y(acc_.size());
    for (int64_t i = 0; i < m_; ++i) {
      for (int64_t j = 0; j < n_; ++j) {
        AccState& a = acc_[static_cast<size_t>(i * n_ + j)];
        close(a, i, j);
        y[static_cast<size_t>(i * n_ + j)] = quant::finish_output(a.acc, *x_.full, i, *w_.full, j);
      }
    }
    return y;
  }

 private:
  void close(AccState& a, int64_t i, int64_t j) {
    if (a.seg < 0) return;
    quant::DotSegment s;
    s.k0 = a.seg;
    s.k1 = segment_end(a.seg);
    s.gx = x_.full->group_index(i, a.seg);
    s.gw = w_.full->group_index(j, a.seg);
    s.dot = a.open;
    a.acc = quant::accumulate_segment(a.acc, *x_.full, *w_.full, s);
    a.open = quant::IntDot{};
    a.seg = -1;
  }

  const PeType* pe_;
  PeOperand x_, w_;
  int64_t m_ = 0, n_ = 0, k_ = 0, gx_ = 1, gw_ = 1;
  std::vector<AccState> acc_;
};

}  // namespace qarch::models::detail
