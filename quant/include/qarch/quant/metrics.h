// Error metrics between a reference and its quantized version, tensor statistics that
// characterize outliers, and the layer-output error of Y = X W^T with both operands
// quantized. All accumulate in double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/quant/format.h"
#include "qarch/quant/tensor.h"

namespace qarch::quant {

/// Error of q against the reference x (same length).
struct ErrorMetrics {
  double mse = 0;          ///< mean of (x - q)^2
  double qsnr_db = 0;      ///< 10 log10(sum x^2 / sum (x - q)^2); +inf if exact
  double max_abs_err = 0;  ///< max |x - q|
  double cosine = 0;       ///< <x, q> / (|x| |q|); 1 if both are zero
  double rel_fro = 0;      ///< |x - q|_F / |x|_F
};
ErrorMetrics compare(const float* x, const float* q, int64_t n);
ErrorMetrics compare(const Tensor& x, const Tensor& q);

/// Outlier statistics of a matrix [rows, cols] (channels = cols, tokens = rows).
struct TensorStats {
  int64_t rows = 0, cols = 0;
  double mean = 0, stddev = 0;
  double excess_kurtosis = 0;  ///< E[(x-mu)^4]/sigma^4 - 3 over all elements
  double abs_max = 0;
  double abs_median = 0;
  /// max over channels of max|x| in the channel, over the median of those channel maxima.
  double max_over_median_channel = 0;
  /// Fraction of elements with |x - mu| > outlier_sigma * sigma.
  double outlier_fraction = 0;
  double outlier_sigma = 6.0;
  /// Channels (cols) whose max |x| exceeds outlier_sigma * sigma, largest first (at most 32).
  std::vector<int64_t> outlier_channels;
};
TensorStats tensor_stats(const float* x, int64_t rows, int64_t cols, double outlier_sigma = 6.0);
TensorStats tensor_stats(const Tensor& t, double outlier_sigma = 6.0);

/// FP32 reference GEMM Y = X W^T (X [M, K], W [N, K]) accumulated in double, rounded to FP32.
std::vector<float> matmul_xwt(const float* x, const float* w, int64_t m, int64_t n, int64_t k);

/// Error of Y_q = Q(X) Q(W)^T against the FP32 product, where Q is each operand's format.
/// With exact_hw = true Y_q comes from reference_matmul on the decoded operands (the hardware's
/// arithmetic); else from a double GEMM of the dequantized values. `max_rows` > 0 samples that
/// many evenly spaced rows of X to bound the cost.
ErrorMetrics layer_output_error(const Tensor& x, const Format& fx, const Tensor& w,
                                const Format& fw, bool exact_hw = false, int64_t max_rows = 0);

}  // namespace qarch::quant
