#include "qarch/quant/decoded.h"

#include <algorithm>
#include <cmath>

#include "qarch/common/error.h"

namespace qarch::quant {

void DecodedTensor::resize(int64_t rows_, int64_t cols_, int64_t group_rows_, int64_t group_cols_,
                           bool sign_split_) {
  rows = rows_;
  cols = cols_;
  group_rows = std::max<int64_t>(1, group_rows_);
  group_cols = std::max<int64_t>(1, group_cols_);
  mant.assign(static_cast<size_t>(rows * cols), 0);
  shift.assign(static_cast<size_t>(rows * cols), 0);
  const int64_t groups = ((rows + group_rows - 1) / group_rows) * group_grid_cols();
  scale_exp.assign(static_cast<size_t>(groups), 0);
  scale_mul.assign(static_cast<size_t>(groups), 1.0f);
  sign_split = sign_split_;
  neg_scale_exp.assign(sign_split ? static_cast<size_t>(groups) : 0, 0);
  neg_scale_mul.assign(sign_split ? static_cast<size_t>(groups) : 0, 1.0f);
}

float decoded_value(const DecodedTensor& d, int64_t r, int64_t c) {
  const int64_t i = r * d.cols + c;
  if (!d.sparse_index.empty()) {
    const auto it = std::lower_bound(d.sparse_index.begin(), d.sparse_index.end(), i);
    if (it != d.sparse_index.end() && *it == i) return d.sparse_value[it - d.sparse_index.begin()];
  }
  const int64_t g = d.group_index(r, c);
  const bool neg = d.sign_split && d.mant[i] < 0;
  const int32_t e = neg ? d.neg_scale_exp[g] : d.scale_exp[g];
  const float mul = neg ? d.neg_scale_mul[g] : d.scale_mul[g];
  // mant (|mant| < 2^24, exact in FP32) scaled once by 2^(shift + e): a single rounding.
  const float v = std::ldexp(static_cast<float>(d.mant[i]), d.shift[i] + e);
  return v * mul / d.tensor_divisor;
}

namespace {

using i128 = __int128;

// Exact integer sums over k in [k0, k1) of row pointers xm/xs, wm/ws; sum[sx][sw] as IntDot.
inline void int_dot(const int32_t* xm, const uint8_t* xs, const int32_t* wm, const uint8_t* ws,
                    int64_t k0, int64_t k1, bool x_split, bool w_split, IntDot& d) {
  if (!x_split && !w_split) {
    i128 sum = 0;
    for (int64_t t = k0; t < k1; ++t) {
      sum += static_cast<i128>(static_cast<int64_t>(xm[t]) * wm[t]) * (i128{1} << (xs[t] + ws[t]));
    }
    d.sum[0][0] += sum;
    return;
  }
  for (int64_t t = k0; t < k1; ++t) {
    const int sx = x_split && xm[t] < 0;
    const int sw = w_split && wm[t] < 0;
    d.sum[sx][sw] +=
        static_cast<i128>(static_cast<int64_t>(xm[t]) * wm[t]) * (i128{1} << (xs[t] + ws[t]));
  }
}

// The FP32 step of one segment (see accumulate_segment in decoded.h).
inline float accumulate(float acc, const DecodedTensor& x, const DecodedTensor& w, int64_t gx,
                        int64_t gw, const IntDot& d) {
  for (int sx = 0; sx < 2; ++sx) {
    for (int sw = 0; sw < 2; ++sw) {
      if ((sx && !x.sign_split) || (sw && !w.sign_split)) continue;
      const int32_t ex = sx ? x.neg_scale_exp[gx] : x.scale_exp[gx];
      const float mx = sx ? x.neg_scale_mul[gx] : x.scale_mul[gx];
      const int32_t ew = sw ? w.neg_scale_exp[gw] : w.scale_exp[gw];
      const float mw = sw ? w.neg_scale_mul[gw] : w.scale_mul[gw];
      const float p = std::ldexp(static_cast<float>(d.sum[sx][sw]), ex + ew);
      acc += p * mx * mw;
    }
  }
  return acc;
}

// End (exclusive) of the segment that starts at k.
inline int64_t segment_end(const DecodedTensor& x, const DecodedTensor& w, int64_t k) {
  return std::min(
      {x.cols, (k / x.group_cols + 1) * x.group_cols, (k / w.group_cols + 1) * w.group_cols});
}

// Per-output-element dot with segmenting by both operands' scale groups.
float dot_row(const DecodedTensor& x, int64_t i, const DecodedTensor& w, int64_t j) {
  const int64_t K = x.cols;
  const int32_t* xm = x.mant.data() + i * K;
  const uint8_t* xs = x.shift.data() + i * K;
  const int32_t* wm = w.mant.data() + j * K;
  const uint8_t* ws = w.shift.data() + j * K;
  float acc = 0.0f;
  for (int64_t k = 0; k < K;) {
    const int64_t end = segment_end(x, w, k);
    IntDot d;
    int_dot(xm, xs, wm, ws, k, end, x.sign_split, w.sign_split, d);
    acc = accumulate(acc, x, w, x.group_index(i, k), w.group_index(j, k), d);
    k = end;
  }
  return finish_output(acc, x, i, w, j);
}

// Bits of the widest magnitude mant << shift in rows [r0, r1) of d (0 if all zero).
int operand_bits(const DecodedTensor& d, int64_t r0, int64_t r1) {
  int32_t max_mant = 0;
  int max_shift = 0;
  for (int64_t i = r0 * d.cols; i < r1 * d.cols; ++i) {
    const int32_t m = d.mant[i] < 0 ? -d.mant[i] : d.mant[i];
    max_mant = std::max(max_mant, m);
    if (m) max_shift = std::max<int>(max_shift, d.shift[i]);
  }
  return max_mant ? 32 - __builtin_clz(static_cast<uint32_t>(max_mant)) + max_shift : 0;
}

// Throws unless K matches and an exact 128-bit accumulator cannot overflow for rows
// [xr0, xr1) of x against rows [wr0, wr1) of w.
void check_operands(const DecodedTensor& x, int64_t xr0, int64_t xr1, const DecodedTensor& w,
                    int64_t wr0, int64_t wr1, const char* who) {
  if (x.cols != w.cols) {
    throw Error(std::string(who) + ": operands have different K (" + std::to_string(x.cols) +
                " vs " + std::to_string(w.cols) + ")");
  }
  int kbits = 0;
  while ((int64_t{1} << kbits) < std::max<int64_t>(1, x.cols)) ++kbits;
  const int need = operand_bits(x, xr0, xr1) + operand_bits(w, wr0, wr1) + kbits + 1;
  if (need > 126) {
    throw Error(std::string(who) + ": an exact accumulator would need " + std::to_string(need) +
                " bits (more than 126): the operands' exponent range is too wide (bf16?)");
  }
}

}  // namespace

float sparse_dot(const DecodedTensor& x, int64_t i, const DecodedTensor& w, int64_t j) {
  const int64_t K = x.cols;
  // The sparse positions of row i of x and row j of w, as k, merged in increasing k.
  auto row_range = [](const DecodedTensor& d, int64_t r) {
    const auto b = std::lower_bound(d.sparse_index.begin(), d.sparse_index.end(), r * d.cols);
    const auto e = std::lower_bound(b, d.sparse_index.end(), (r + 1) * d.cols);
    return std::make_pair(b, e);
  };
  auto [xb, xe] = row_range(x, i);
  auto [wb, we] = row_range(w, j);
  double sum = 0;
  while (xb != xe || wb != we) {
    const int64_t kx = xb != xe ? *xb - i * K : K;
    const int64_t kw = wb != we ? *wb - j * w.cols : K;
    const int64_t k = std::min(kx, kw);
    sum += static_cast<double>(decoded_value(x, i, k)) * decoded_value(w, j, k);
    if (kx == k) ++xb;
    if (kw == k) ++wb;
  }
  return static_cast<float>(sum);
}

IntDot reference_int_dot(const DecodedTensor& x, int64_t i, const DecodedTensor& w, int64_t j,
                         int64_t k0, int64_t k1) {
  IntDot d;
  int_dot(x.mant.data() + i * x.cols, x.shift.data() + i * x.cols, w.mant.data() + j * w.cols,
          w.shift.data() + j * w.cols, k0, k1, x.sign_split, w.sign_split, d);
  return d;
}

std::vector<DotSegment> reference_dot_segments(const DecodedTensor& x, int64_t i,
                                               const DecodedTensor& w, int64_t j) {
  if (i < 0 || i >= x.rows || j < 0 || j >= w.rows) {
    throw Error("reference_dot_segments: row " + std::to_string(i) + " / " + std::to_string(j) +
                " out of range");
  }
  check_operands(x, i, i + 1, w, j, j + 1, "reference_dot_segments");
  std::vector<DotSegment> out;
  for (int64_t k = 0; k < x.cols;) {
    DotSegment s;
    s.k0 = k;
    s.k1 = segment_end(x, w, k);
    s.gx = x.group_index(i, k);
    s.gw = w.group_index(j, k);
    s.dot = reference_int_dot(x, i, w, j, s.k0, s.k1);
    out.push_back(s);
    k = s.k1;
  }
  return out;
}

float accumulate_segment(float acc, const DecodedTensor& x, const DecodedTensor& w,
                         const DotSegment& s) {
  return accumulate(acc, x, w, s.gx, s.gw, s.dot);
}

float reference_dot(const DecodedTensor& x, int64_t i, const DecodedTensor& w, int64_t j) {
  if (i < 0 || i >= x.rows || j < 0 || j >= w.rows) {
    throw Error("reference_dot: row " + std::to_string(i) + " / " + std::to_string(j) +
                " out of range");
  }
  check_operands(x, i, i + 1, w, j, j + 1, "reference_dot");
  return dot_row(x, i, w, j);
}

std::vector<float> reference_matmul(const DecodedTensor& x, const DecodedTensor& w) {
  check_operands(x, 0, x.rows, w, 0, w.rows, "reference_matmul");
  std::vector<float> y(static_cast<size_t>(x.rows * w.rows));
  for (int64_t i = 0; i < x.rows; ++i)
    for (int64_t j = 0; j < w.rows; ++j) y[i * w.rows + j] = dot_row(x, i, w, j);
  return y;
}

}  // namespace qarch::quant
