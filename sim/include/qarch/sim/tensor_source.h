// Command-line tensor arguments: "file.npy" or "file.safetensors[:tensor-name]", read through
// quant/'s tensor I/O, and axis handling.
#pragma once

#include <string>

#include "qarch/quant/tensor.h"

namespace qarch::sim {

/// Reader switches exposed on the command line.
struct TensorReadOptions {
  bool int16_as_bf16 = false;  ///< 16-bit integer .npy holds bfloat16 bit patterns
};

/// Loads "path.npy" or "path.safetensors[:name]" (the name may be omitted when the file holds
/// one tensor). Throws qarch::Error naming the file and the problem.
quant::Tensor load_tensor(const std::string& arg, const TensorReadOptions& opts);

/// Moves `axis` (negative counts from the end) to the last position, so that it becomes the
/// reduction axis of the 2-D view. Throws qarch::Error (naming `what`) if out of range.
quant::Tensor move_axis_last(const quant::Tensor& t, int axis, const std::string& what);
/// The inverse: `t` holds a tensor of `shape` whose `axis` was moved last (same data count);
/// returns it in `shape`'s axis order.
quant::Tensor move_last_axis_back(const quant::Tensor& t, const std::vector<int64_t>& shape,
                                  int axis);

}  // namespace qarch::sim
