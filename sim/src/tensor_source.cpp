#include "qarch/sim/tensor_source.h"

#include "qarch/common/error.h"
#include "qarch/quant/tensor_io.h"

namespace qarch::sim {

quant::Tensor load_tensor(const std::string& arg, const TensorReadOptions& opts) {
  if (arg.empty()) throw Error("empty tensor file name");
  // "file.safetensors:name": the name follows the first ':' after the extension (tensor names
  // may contain ':' and '.'; paths ending in .safetensors may not be followed by anything else).
  std::string path = arg, name;
  const std::string ext = ".safetensors";
  const auto pos = arg.find(ext + ":");
  if (pos != std::string::npos) {
    path = arg.substr(0, pos + ext.size());
    name = arg.substr(pos + ext.size() + 1);
    if (name.empty()) throw Error(arg + ": empty tensor name after ':'");
  }
  quant::NpyReadOptions npy;
  npy.int16_as_bf16 = opts.int16_as_bf16;
  return quant::read_tensor_file(path, name, npy);
}

namespace {
// [outer, A, B] -> [outer, B, A]: the one transposition both axis moves need.
std::vector<float> swap_inner_axes(const std::vector<float>& in, int64_t outer, int64_t A,
                                   int64_t B) {
  std::vector<float> out(in.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < A; ++a)
      for (int64_t b = 0; b < B; ++b) out[(o * B + b) * A + a] = in[(o * A + a) * B + b];
  return out;
}
}  // namespace

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
  std::vector<float> out = swap_inner_axes(t.data, outer, n, inner);
  std::vector<int64_t> shape;
  for (int i = 0; i < rank; ++i)
    if (i != a) shape.push_back(t.shape[i]);
  shape.push_back(n);
  return quant::Tensor(std::move(shape), std::move(out));
}

quant::Tensor move_last_axis_back(const quant::Tensor& t, const std::vector<int64_t>& shape,
                                  int axis) {
  const int rank = static_cast<int>(shape.size());
  const int a = axis < 0 ? axis + rank : axis;
  quant::Tensor r = t;
  r.shape = shape;
  if (rank == 0 || a == rank - 1) return r;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < a; ++i) outer *= shape[static_cast<size_t>(i)];
  for (int i = a + 1; i < rank; ++i) inner *= shape[static_cast<size_t>(i)];
  r.data = swap_inner_axes(t.data, outer, inner, shape[static_cast<size_t>(a)]);
  return r;
}

}  // namespace qarch::sim
