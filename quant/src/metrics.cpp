#include "qarch/quant/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "qarch/common/error.h"
#include "qarch/quant/decoded.h"

namespace qarch::quant {

ErrorMetrics compare(const float* x, const float* q, int64_t n) {
  double sx = 0, se = 0, sxq = 0, sq = 0, mx = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = x[i], b = q[i], d = a - b;
    sx += a * a;
    sq += b * b;
    sxq += a * b;
    se += d * d;
    mx = std::max(mx, std::fabs(d));
  }
  ErrorMetrics m;
  m.mse = n ? se / static_cast<double>(n) : 0.0;
  m.max_abs_err = mx;
  m.qsnr_db = se > 0 ? 10.0 * std::log10(sx / se) : std::numeric_limits<double>::infinity();
  m.cosine = (sx > 0 && sq > 0) ? sxq / std::sqrt(sx * sq) : (sx == 0 && sq == 0 ? 1.0 : 0.0);
  m.rel_fro =
      sx > 0 ? std::sqrt(se / sx) : (se > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  return m;
}

ErrorMetrics compare(const Tensor& x, const Tensor& q) {
  if (x.numel() != q.numel()) {
    throw Error("compare: tensors differ in size (" + x.shape_string() + " vs " + q.shape_string() +
                ")");
  }
  return compare(x.data.data(), q.data.data(), x.numel());
}

TensorStats tensor_stats(const float* x, int64_t rows, int64_t cols, double outlier_sigma) {
  TensorStats s;
  s.rows = rows;
  s.cols = cols;
  s.outlier_sigma = outlier_sigma;
  const int64_t n = rows * cols;
  if (n == 0) return s;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  s.mean = sum / static_cast<double>(n);
  double m2 = 0, m4 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = x[i] - s.mean, d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= static_cast<double>(n);
  m4 /= static_cast<double>(n);
  s.stddev = std::sqrt(m2);
  s.excess_kurtosis = m2 > 0 ? m4 / (m2 * m2) - 3.0 : 0.0;

  std::vector<float> a(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) a[i] = std::fabs(x[i]);
  s.abs_max = *std::max_element(a.begin(), a.end());
  std::nth_element(a.begin(), a.begin() + n / 2, a.end());
  s.abs_median = a[n / 2];

  const double thr = outlier_sigma * s.stddev;
  int64_t outliers = 0;
  for (int64_t i = 0; i < n; ++i) outliers += std::fabs(x[i] - s.mean) > thr ? 1 : 0;
  s.outlier_fraction = static_cast<double>(outliers) / static_cast<double>(n);

  std::vector<float> chmax(static_cast<size_t>(cols), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) chmax[c] = std::max(chmax[c], std::fabs(x[r * cols + c]));
  std::vector<int64_t> order(static_cast<size_t>(cols));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t p, int64_t q) { return chmax[p] > chmax[q]; });
  for (int64_t c : order) {
    if (chmax[c] <= thr || s.outlier_channels.size() >= 32) break;
    s.outlier_channels.push_back(c);
  }
  std::vector<float> sorted = chmax;
  std::nth_element(sorted.begin(), sorted.begin() + cols / 2, sorted.end());
  const double med = sorted[cols / 2];
  s.max_over_median_channel = med > 0 ? chmax[order[0]] / med : 0.0;
  return s;
}

TensorStats tensor_stats(const Tensor& t, double outlier_sigma) {
  return tensor_stats(t.data.data(), t.rows(), t.cols(), outlier_sigma);
}

std::vector<float> matmul_xwt(const float* x, const float* w, int64_t m, int64_t n, int64_t k) {
  std::vector<float> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * k;
    for (int64_t j = 0; j < n; ++j) {
      const float* wj = w + j * k;
      double acc = 0;
      for (int64_t t = 0; t < k; ++t) acc += static_cast<double>(xi[t]) * wj[t];
      y[i * n + j] = static_cast<float>(acc);
    }
  }
  return y;
}

ErrorMetrics layer_output_error(const Tensor& x, const Format& fx, const Tensor& w,
                                const Format& fw, bool exact_hw, int64_t max_rows) {
  if (x.cols() != w.cols()) {
    throw Error("layer_output_error: X has K = " + std::to_string(x.cols()) +
                ", W has K = " + std::to_string(w.cols()));
  }
  const int64_t k = x.cols(), n = w.rows();
  // Quantize the whole of X (its scales may be per-tensor), then sample rows.
  const EncodedTensor ex = fx.encode(x);
  const EncodedTensor ew = fw.encode(w);
  std::vector<int64_t> rows;
  const int64_t m_all = x.rows();
  const int64_t m = (max_rows > 0 && max_rows < m_all) ? max_rows : m_all;
  for (int64_t i = 0; i < m; ++i) rows.push_back(m == m_all ? i : i * m_all / m);

  std::vector<float> xs(static_cast<size_t>(m * k));
  for (int64_t i = 0; i < m; ++i) std::copy_n(x.row(rows[i]), k, xs.data() + i * k);
  const std::vector<float> y_ref = matmul_xwt(xs.data(), w.data.data(), m, n, k);

  std::vector<float> y_q(static_cast<size_t>(m * n));
  if (exact_hw) {
    const DecodedTensor dx = fx.decode_operand(ex);
    const DecodedTensor dw = fw.decode_operand(ew);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) y_q[i * n + j] = reference_dot(dx, rows[i], dw, j);
  } else {
    const Tensor qx = fx.decode(ex);
    const Tensor qw = fw.decode(ew);
    std::vector<float> qxs(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m; ++i) std::copy_n(qx.row(rows[i]), k, qxs.data() + i * k);
    y_q = matmul_xwt(qxs.data(), qw.data.data(), m, n, k);
  }
  return compare(y_ref.data(), y_q.data(), m * n);
}

}  // namespace qarch::quant
