// DecodedTensor: what a hardware PE receives for one GEMM operand, and the reference dot
// product that uses exactly the hardware's arithmetic. The SystemC models (models/) and the
// RTL checks (rtl/) call these; nothing else re-implements a format's arithmetic.
//
// Element i of row r is an exponent-integer pair <shift, mant>, value mant * 2^shift (OliVe's
// <e, m> pair; a PE computes <a,b> x <c,d> = (b*d) << (a+c)). Elements are grouped into scale
// groups of group_rows x group_cols; each group has a power-of-two exponent and an FP32
// multiplier (1 for MX/BFP, the INT/OVP scale, the NVFP4 E4M3 block scale). So
//   value(r, c) = mant * 2^shift * 2^scale_exp[g] * scale_mul[g] / tensor_divisor.
// AMXFP4 is sign-split: elements with mant < 0 use the neg_* scales instead.
// A format with the generic keep= option (super weights, massive activations) also carries a
// short sparse list: at those positions the dense element is 0 and the value is the listed FP16
// value, which the hardware multiplies on a side path (sparse_dot).
#pragma once

#include <cstdint>
#include <vector>

namespace qarch::quant {

/// Hardware view of an encoded operand (see file comment).
struct DecodedTensor {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<int32_t> mant;   ///< signed integer significand, |mant| < 2^24, row-major
  std::vector<uint8_t> shift;  ///< left shift of each element (its exponent), rows * cols

  int64_t group_rows = 1;          ///< scale group extent along rows
  int64_t group_cols = 1;          ///< scale group extent along cols (the reduction axis)
  std::vector<int32_t> scale_exp;  ///< per group, row-major over the group grid
  std::vector<float> scale_mul;    ///< per group; NaN marks a NaN block (MX scale 0xFF)

  bool sign_split = false;             ///< AMXFP4: mant < 0 selects the neg_* scales
  std::vector<int32_t> neg_scale_exp;  ///< per group, if sign_split
  std::vector<float> neg_scale_mul;    ///< per group, if sign_split

  float tensor_divisor = 1.0f;  ///< applied last, as a division (NVFP4's S_enc)

  /// Sparse values beside the dense operand (keep=): flat positions, ascending, where the
  /// element's value is sparse_value (FP32 holding an FP16 value) and mant/shift are 0.
  std::vector<int64_t> sparse_index;
  std::vector<float> sparse_value;

  int64_t group_grid_cols() const { return (cols + group_cols - 1) / group_cols; }
  int64_t group_index(int64_t r, int64_t c) const {
    return (r / group_rows) * group_grid_cols() + c / group_cols;
  }
  /// Allocates mant/shift and the group vectors (scale_exp 0, scale_mul 1).
  void resize(int64_t rows_, int64_t cols_, int64_t group_rows_, int64_t group_cols_,
              bool sign_split_ = false);
};

/// The FP32 value of element (r, c): ldexp(mant << shift, scale_exp) * scale_mul / divisor,
/// each step rounded to FP32 in that order (all exact for power-of-two scales); a sparse
/// position's sparse_value instead.
float decoded_value(const DecodedTensor& d, int64_t r, int64_t c);

/// Reference GEMM with the hardware's arithmetic: Y[i][j] = sum_k X[i][k] * W[j][k], i.e.
/// Y = X W^T, for X [M, K] and W [N, K] (both decoded, same K). The reduction axis is cut into
/// segments where neither operand's scale group changes; within a segment the products
/// (mx*mw) << (sx+sw) are summed exactly in a 128-bit integer (one sum per sign combination
/// when an operand is sign-split); at each segment's end every sum is rounded once to FP32,
/// scaled by 2^(ex+ew) (ldexp), times mul_x, times mul_w, and added to an FP32 accumulator.
/// After the last segment the accumulator is divided by X's then W's tensor_divisor
/// (finish_dot), and the side path of sparse values is added (finish_output).
/// Returns Y row-major [M, N]. Throws qarch::Error if K differs.
std::vector<float> reference_matmul(const DecodedTensor& x, const DecodedTensor& w);

/// reference_matmul for one output element (row i of X with row j of W).
float reference_dot(const DecodedTensor& x, int64_t i, const DecodedTensor& w, int64_t j);

// ---- The integer stage of reference_dot, exposed for the RTL checks (rtl/, tests/rtl): a
// block-MAC PE produces the exact integer sum of a scale segment (per sign pair for AMXFP4) and
// the combined scale; the harness compares those integers with these, then converts them to
// FP32 with accumulate_segment / finish_dot, the very code reference_dot runs.

/// Exact integer sums of (mx*mw) << (sx+sw) over a range of k, one per sign combination:
/// sum[sx][sw], where sx = 1 selects X's elements with mant < 0 if X is sign-split (else all of
/// X's elements count as sx = 0), likewise sw for W. Not sign-split: only sum[0][0] is used.
struct IntDot {
  __int128 sum[2][2] = {{0, 0}, {0, 0}};
};

/// The IntDot of row i of X and row j of W over k in [k0, k1) (no range or K checks: callers
/// pass valid indices; reference_dot_segments checks).
IntDot reference_int_dot(const DecodedTensor& x, int64_t i, const DecodedTensor& w, int64_t j,
                         int64_t k0, int64_t k1);

/// One scale segment of reference_dot: k in [k0, k1), where neither operand's scale group
/// changes; gx, gw are the groups; dot is its exact integer sums.
struct DotSegment {
  int64_t k0 = 0, k1 = 0;
  int64_t gx = 0, gw = 0;
  IntDot dot;
};

/// The segments of reference_dot(x, i, w, j), in order of k. Same checks as reference_dot.
std::vector<DotSegment> reference_dot_segments(const DecodedTensor& x, int64_t i,
                                               const DecodedTensor& w, int64_t j);

/// reference_dot's FP32 step for one segment: each used sum rounded once to FP32, ldexp by the
/// two scale exponents, times the two multipliers, added to acc (sign pairs in the order
/// [0][0], [0][1], [1][0], [1][1]). Returns the new acc.
float accumulate_segment(float acc, const DecodedTensor& x, const DecodedTensor& w,
                         const DotSegment& s);

/// reference_dot's last step: acc divided by X's, then W's tensor_divisor.
inline float finish_dot(float acc, const DecodedTensor& x, const DecodedTensor& w) {
  return acc / x.tensor_divisor / w.tensor_divisor;
}

/// The side path of sparse values (keep=) for output (i, j): the sum over k of
/// decoded_value(x, i, k) * decoded_value(w, j, k) where at least one of the two is a sparse
/// value (the dense sum saw 0 there), products and sum in double, rounded once to FP32.
float sparse_dot(const DecodedTensor& x, int64_t i, const DecodedTensor& w, int64_t j);

/// finish_dot, plus sparse_dot when either operand has sparse values (otherwise exactly
/// finish_dot). The end of every reference_dot.
inline float finish_output(float acc, const DecodedTensor& x, int64_t i, const DecodedTensor& w,
                           int64_t j) {
  const float y = finish_dot(acc, x, w);
  if (x.sparse_index.empty() && w.sparse_index.empty()) return y;
  return y + sparse_dot(x, i, w, j);
}

}  // namespace qarch::quant
