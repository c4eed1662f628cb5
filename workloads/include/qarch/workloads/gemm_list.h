// Explicit GEMM lists: a workload given as shapes rather than a model (what
// `qarch import-scalesim` writes from a SCALE-Sim topology, or what a user writes by hand).
//
//   name: resnet18-conv (from SCALE-Sim topology resnet18.csv)
//   gemms:
//     - {name: conv1, m: 12544, n: 64, k: 147}      # Y[M, N] = X[M, K] W[N, K]^T
//     - {name: fc, m: 1, n: 1000, k: 512, batch: 1}
// Errors name file:line:col and the key (unknown key, missing m/n/k, non-positive sizes,
// duplicate names, MACs beyond 2^62).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qarch::workloads {

/// One GEMM of a list.
struct GemmListEntry {
  std::string name;
  int64_t m = 0, n = 0, k = 0, batch = 1;
};

/// A named list of GEMMs.
struct GemmList {
  std::string name;
  std::string source;  ///< where it came from (free text, e.g. the SCALE-Sim files)
  std::vector<GemmListEntry> gemms;
};

/// Reads a GEMM list YAML file; throws qarch::Error naming file:line:col and key.
GemmList load_gemm_list(const std::string& file);
/// The same from text; `file` names it in errors.
GemmList parse_gemm_list(const std::string& yaml, const std::string& file);
/// Canonical YAML (parse_gemm_list(gemm_list_yaml(l)) == l).
std::string gemm_list_yaml(const GemmList& l);

}  // namespace qarch::workloads
