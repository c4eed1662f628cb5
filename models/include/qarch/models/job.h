// The simulator's input: a list of GEMMs Y[M, N] = X[M, K] W[N, K]^T (quant/'s convention: K is
// the reduction axis and the axis blocks run along), each with its operand formats and, for
// functional runs, its packed operands. workloads/ traces convert to this (models/ knows no
// file formats).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"

namespace qarch::models {

/// One operand instance for functional mode: the packed encoding as stored in DRAM (decoded by
/// the border decoders through quant::Format::decode_operand), or an already decoded view
/// (tests of the PE arithmetic; the decoders are then bypassed but still counted).
struct Operand {
  std::shared_ptr<const quant::EncodedTensor> encoded;
  std::shared_ptr<const quant::DecodedTensor> decoded;
  bool empty() const { return !encoded && !decoded; }
};

/// One (possibly batched) GEMM.
struct GemmJob {
  std::string name;      ///< for messages and per-job statistics
  int64_t m = 0;         ///< rows of X and Y (tokens)
  int64_t n = 0;         ///< rows of W, columns of Y (output channels)
  int64_t k = 0;         ///< reduction length
  int64_t batch = 1;     ///< independent instances run back to back (heads x sequences)
  std::string x_format;  ///< quant format spec of X ("int8", "olive4:per=tensor", ...)
  std::string w_format;  ///< quant format spec of W
  /// Functional operands: empty (timing only), one entry shared by every instance, or `batch`
  /// entries. X is [m, k], W is [n, k].
  std::vector<Operand> x, w;

  uint64_t macs() const {
    return static_cast<uint64_t>(batch) * static_cast<uint64_t>(m) * static_cast<uint64_t>(n) *
           static_cast<uint64_t>(k);
  }
};

}  // namespace qarch::models
