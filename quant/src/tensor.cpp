#include "qarch/quant/tensor.h"

#include <sstream>
#include <utility>

#include "qarch/common/error.h"

namespace qarch::quant {

int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(what + ": negative dimension " + std::to_string(d));
    if (d != 0 && n > limit / d) {
      std::ostringstream os;
      os << what << ": shape too large (more than " << limit << " elements)";
      throw Error(os.str());
    }
    n *= d;
  }
  return n;
}

Tensor::Tensor(std::vector<int64_t> shape_, std::vector<float> data_)
    : shape(std::move(shape_)), data(std::move(data_)) {
  const int64_t n = checked_numel(shape, "tensor");
  if (n != static_cast<int64_t>(data.size())) {
    throw Error("tensor: shape " + shape_string() + " needs " + std::to_string(n) +
                " elements, got " + std::to_string(data.size()));
  }
}

Tensor Tensor::zeros(std::vector<int64_t> shape_) {
  const int64_t n = checked_numel(shape_, "tensor");
  return Tensor(std::move(shape_), std::vector<float>(static_cast<size_t>(n), 0.0f));
}

Tensor Tensor::matrix(int64_t rows, int64_t cols, std::vector<float> data_) {
  return Tensor({rows, cols}, std::move(data_));
}

int64_t Tensor::cols() const {
  return shape.empty() ? 1 : shape.back();
}

int64_t Tensor::rows() const {
  int64_t r = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) r *= shape[i];
  return r;
}

Tensor Tensor::as_matrix() const {
  return Tensor({rows(), cols()}, data);
}

Tensor Tensor::transposed() const {
  const int64_t r = rows(), c = cols();
  std::vector<float> out(data.size());
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) out[j * r + i] = data[i * c + j];
  return Tensor({c, r}, std::move(out));
}

std::string Tensor::shape_string() const {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

}  // namespace qarch::quant
