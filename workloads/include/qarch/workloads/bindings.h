// Real tensors for GEMM operands: a YAML file maps GEMM names to .npy / .safetensors files, and
// the trace pipeline then quantizes those instead of generated data.
//
//   # tensors.yaml (paths are relative to this file's directory)
//   tensors:
//     - gemm: layers.{layer}.attn.qkv            # {layer} / {expert} match any index
//       w: [llama.safetensors:model.layers.{layer}.self_attn.q_proj.weight,
//           llama.safetensors:model.layers.{layer}.self_attn.k_proj.weight,
//           llama.safetensors:model.layers.{layer}.self_attn.v_proj.weight]
//     - gemm: layers.0.mlp.down
//       x: dumps/layers.0.mlp.down_proj.input.npy
//       w: llama.safetensors:model.layers.0.mlp.down_proj.weight
//
// An operand is one file ("path.npy", "path.safetensors:tensor name"; the name may be left out
// if the file holds one tensor) or a list whose tensors are stacked along rows (fused QKV from
// separate q/k/v projections). Shapes follow the GEMM convention Y = X W^T: x is [M, K]
// (leading axes flattened: a [batch, seq, hidden] dump is [batch*seq, hidden]), w is [N, K] -
// exactly PyTorch's nn.Linear.weight layout [out_features, in_features]. For attention GEMMs the
// stored instance's operands: scores x = Q [q_tokens, head_dim], w = K [kv_tokens, head_dim];
// context x = P [q_tokens, kv_tokens], w = V^T [head_dim, kv_tokens]. Operands without a
// binding are generated. See workloads/README.md for dumping them from PyTorch.
#pragma once

#include <string>
#include <vector>

#include "qarch/quant/tensor.h"
#include "qarch/workloads/workload.h"

namespace qarch::workloads {

/// One `tensors:` entry.
struct TensorBinding {
  std::string gemm;            ///< GEMM name pattern with optional {layer} / {expert}
  std::vector<std::string> x;  ///< sources for X (empty: generated)
  std::vector<std::string> w;  ///< sources for W
  std::string where;           ///< "file:line" of the entry, for messages
};

/// A parsed bindings file.
class TensorBindings {
 public:
  TensorBindings() = default;
  /// Reads a bindings YAML file (errors name file:line:col and the key).
  static TensorBindings load(const std::string& path);
  /// Parses YAML text; relative paths resolve against base_dir.
  static TensorBindings parse(const std::string& text, const std::string& file,
                              const std::string& base_dir);

  bool empty() const { return entries_.empty(); }
  const std::string& file() const { return file_; }
  /// Sources bound to operand 'x' or 'w' of `op`, placeholders substituted; empty if none.
  std::vector<std::string> sources(const GemmOp& op, char operand) const;
  /// Throws qarch::Error naming the entry (file:line:col) if a `gemm:` pattern matches none of
  /// `ops` (a typo would otherwise leave the GEMM on generated tensors without a word); the
  /// message lists the workload's GEMM names of layer 0 as a hint.
  void check_matches(const std::vector<GemmOp>& ops) const;
  /// Reads the operand: the files' tensors as 2-D matrices stacked along rows; throws
  /// qarch::Error unless the result is [rows, cols] and finite.
  quant::Tensor load(const GemmOp& op, char operand, int64_t rows, int64_t cols) const;

 private:
  std::string file_;
  std::vector<TensorBinding> entries_;
};

/// Splits "path.safetensors:name" into (path, name); other arguments are (arg, "").
std::pair<std::string, std::string> split_tensor_source(const std::string& arg);

}  // namespace qarch::workloads
