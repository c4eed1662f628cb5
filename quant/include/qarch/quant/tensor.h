// Tensor: a dense FP32 array with a shape, row-major (C order). The quantization
// library views any tensor as a 2-D matrix [rows, cols] whose last axis (cols) is the
// reduction (K) dimension of a GEMM Y = X W^T: X is [M, K], W is [N, K]. Blocks of block
// formats run along cols.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qarch::quant {

/// Dense FP32 tensor, row-major. rows() is the product of all but the last axis.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  Tensor(std::vector<int64_t> shape_, std::vector<float> data_);
  /// A zero-filled tensor of the given shape.
  static Tensor zeros(std::vector<int64_t> shape_);
  /// A 2-D tensor [rows, cols] from data (size must match).
  static Tensor matrix(int64_t rows, int64_t cols, std::vector<float> data_);

  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// Last axis length (1 for a scalar).
  int64_t cols() const;
  /// Product of all but the last axis (1 for rank <= 1).
  int64_t rows() const;

  float* row(int64_t r) { return data.data() + r * cols(); }
  const float* row(int64_t r) const { return data.data() + r * cols(); }

  /// The same data viewed as 2-D [rows(), cols()].
  Tensor as_matrix() const;
  /// Transpose of the 2-D view: [cols(), rows()].
  Tensor transposed() const;
  /// "[2, 3, 4]"
  std::string shape_string() const;
};

/// Number of elements of a shape; throws qarch::Error on negative extents or on overflow
/// past `limit` elements (what: names the source for the message).
int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what,
                      int64_t limit = (int64_t{1} << 40));

}  // namespace qarch::quant
