// Internal to quant/: the pointer-based QLLM steps the `qllm` format runs on a raw [rows, K]
// matrix (quant/src/qllm_format.cpp) and the public Tensor functions of transforms.h section 6
// share (quant/src/qllm.cpp). Each gives the bits its Tensor counterpart gives.
#pragma once

#include <cstdint>
#include <vector>

#include "qarch/quant/transforms.h"

namespace qarch::quant::detail {

/// Column maxima |x| of a row-major [rows, cols] matrix (column_absmax's values) in one pass
/// that also screens every element: returns false if one is NaN/Inf (absmax then unspecified).
bool qllm_column_absmax(const float* x, int64_t rows, int64_t cols, std::vector<float>* absmax);

/// qllm_plan's plan for X [rows, cols] from its column maxima (qllm_column_absmax), without a
/// weight. X must be finite and non-empty (the caller checked).
ChannelPlan qllm_plan_rows(const float* x, int64_t rows, int64_t cols,
                           const std::vector<float>& absmax, const QllmOptions& opts);

/// A channel plan compiled to runs, for the row loops of qllm_apply_x and qllm_fold_x: output
/// columns that copy consecutive input channels, the sub-channels of one split channel (one
/// division per row, its value written T times), merged pairs. The plan's indices must be in
/// range (a, b < k_in; parts.size() == k_in).
class QllmRows {
 public:
  explicit QllmRows(const ChannelPlan& plan);
  /// One row of X' = qllm_apply_x(X): x is K wide, xp K' wide. Any plan.
  void apply(const float* x, float* xp) const;
  /// Whether fold() reproduces qllm_fold_x: every input channel is reached by nothing, by one
  /// merged pair and nothing else, or by sub-channels on consecutive output columns only
  /// (every plan qllm_plan makes).
  bool foldable() const { return foldable_; }
  int64_t k_in() const { return k_in_; }
  /// One row of qllm_fold_x(X'): xp is K' wide, x K wide. Only if foldable().
  void fold(const float* xp, float* x) const;
  /// qllm_fold_x's own loop for one row (any plan): x zeroed, then the output columns in order.
  void fold_any(const float* xp, float* x) const;

 private:
  enum Kind : uint8_t { kCopy, kSplit, kPair, kZero, kSum };
  struct Run {
    Kind kind;
    int64_t out, in, n, in2;  // kPair: apply reads in, in2; fold writes out and in2
    float t;                  // kSplit: T_j as FP32
  };
  std::vector<Run> apply_, fold_;
  std::vector<int64_t> a_, b_;
  int64_t k_in_;
  bool foldable_ = true;
};

}  // namespace qarch::quant::detail
