#include "qarch/sim/tensor_source.h"

#include <cmath>

#include "qarch/quant/error.h"

namespace qarch::sim {

quant::Tensor load_tensor(const std::string& arg, const TensorReadOptions& opts) {
  (void)opts;
  throw Error(arg + ": tensor files are not readable yet");
}

quant::Tensor move_axis_last(const quant::Tensor& t, int axis, const std::string& what) {
  const int rank = static_cast<int>(t.shape.size());
  if (rank == 0) throw Error(what + ": the tensor is a scalar; it has no axis to reduce over");
  const int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw Error(what + ": axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                std::to_string(rank) + " " + t.shape_string());
  }
  if (a == rank - 1) return t;
  // View as [outer, n, inner] and produce [outer, inner, n].
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < a; ++i) outer *= t.shape[i];
  for (int i = a + 1; i < rank; ++i) inner *= t.shape[i];
  const int64_t n = t.shape[a];
  std::vector<float> out(t.data.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i)
        out[(o * inner + i) * n + k] = t.data[(o * n + k) * inner + i];
  std::vector<int64_t> shape;
  for (int i = 0; i < rank; ++i)
    if (i != a) shape.push_back(t.shape[i]);
  shape.push_back(n);
  return quant::Tensor(std::move(shape), std::move(out));
}

int64_t count_nonfinite(const quant::Tensor& t) {
  int64_t n = 0;
  for (float v : t.data) n += std::isfinite(v) ? 0 : 1;
  return n;
}

}  // namespace qarch::sim
