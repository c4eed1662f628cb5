// GEMM list files (gemm_list.h), read with the strict YAML helpers every workloads/ file uses
// (yaml_reader.h), so messages look the same: "FILE:LINE:COL: key 'gemms[2].m': ...".
#include "qarch/workloads/gemm_list.h"

#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/workloads/yaml_reader.h"

namespace qarch::workloads {
namespace {

using detail::where;
using detail::YamlMap;

constexpr int64_t kMaxDim = int64_t{1} << 40;
constexpr uint64_t kMaxMacs = uint64_t{1} << 62;

// yaml-cpp keeps both entries of a repeated key (and looks up the first): reject repeats.
void reject_duplicate_keys(const YAML::Node& map, const std::string& file,
                           const std::string& prefix) {
  if (!map.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      throw Error(where(file, kv.first) + ": key in '" + (prefix.empty() ? "(document)" : prefix) +
                  "': keys must be plain names");
    }
    if (!seen.insert(kv.first.Scalar()).second) {
      throw Error(where(file, kv.first) + ": key '" + prefix + kv.first.Scalar() +
                  "': duplicate key (given twice in this mapping)");
    }
  }
}

GemmList convert(const YAML::Node& root, const std::string& file) {
  if (!root.IsDefined() || root.IsNull()) {
    throw Error(file + ":1:1: the file is empty; a GEMM list needs 'name' and 'gemms'");
  }
  reject_duplicate_keys(root, file, "");
  YamlMap top(root, file);
  GemmList l;
  l.name = top.get_string("name");
  if (l.name.empty()) top.fail("name", "must not be empty");
  l.source = top.get_string("source", "");
  const YAML::Node gemms = top.node("gemms");
  if (!gemms.IsDefined() || gemms.IsNull()) {
    throw Error(where(file, root) + ": missing required key 'gemms'");
  }
  if (!gemms.IsSequence()) {
    top.fail_at(gemms, "gemms", "expected a list of {name, m, n, k[, batch]}");
  }
  if (gemms.size() == 0) top.fail_at(gemms, "gemms", "the list is empty");
  top.finish();
  std::map<std::string, std::string> names;  // name -> where first given
  for (size_t i = 0; i < gemms.size(); ++i) {
    const YAML::Node g = gemms[i];
    const std::string prefix = "gemms[" + std::to_string(i) + "].";
    if (!g.IsMap()) {
      throw Error(where(file, g) + ": key 'gemms[" + std::to_string(i) +
                  "]': expected a mapping {name, m, n, k[, batch]}");
    }
    reject_duplicate_keys(g, file, prefix);
    YamlMap m(g, file, prefix);
    GemmListEntry e;
    e.name = m.get_string("name");
    if (e.name.empty()) m.fail("name", "must not be empty");
    e.m = m.get_int("m", 1, kMaxDim);
    e.n = m.get_int("n", 1, kMaxDim);
    e.k = m.get_int("k", 1, kMaxDim);
    e.batch = m.get_int("batch", 1, 1, kMaxDim);
    m.finish();
    const std::string at = where(file, g["name"]);
    const auto [it, fresh] = names.emplace(e.name, at);
    if (!fresh) {
      m.fail("name", "duplicate GEMM name '" + e.name + "' (first given at " + it->second + ")");
    }
    // MACs = m * n * k * batch without overflow: each factor is below 2^41.
    const long double macs = static_cast<long double>(e.m) * e.n * e.k * e.batch;
    if (macs > static_cast<long double>(kMaxMacs)) {
      m.fail("m", "m * n * k * batch = " + std::to_string(e.m) + " * " + std::to_string(e.n) +
                      " * " + std::to_string(e.k) + " * " + std::to_string(e.batch) +
                      " MACs is beyond 2^62");
    }
    l.gemms.push_back(e);
  }
  return l;
}

}  // namespace

GemmList parse_gemm_list(const std::string& yaml, const std::string& file) {
  try {
    return convert(detail::parse_yaml(yaml, file), file);
  } catch (const YAML::Exception& e) {
    // Every access above is checked; this keeps the contract (qarch::Error only) regardless.
    throw Error(file + ": YAML error: " + e.what());
  }
}

GemmList load_gemm_list(const std::string& file) {
  try {
    return convert(detail::load_yaml_file(file), file);
  } catch (const YAML::Exception& e) {
    throw Error(file + ": YAML error: " + e.what());
  }
}

std::string gemm_list_yaml(const GemmList& l) {
  std::ostringstream os;
  os << "name: " << detail::yaml_quoted(l.name) << "\n";
  if (!l.source.empty()) os << "source: " << detail::yaml_quoted(l.source) << "\n";
  os << "gemms:  # Y[M, N] = X[M, K] W[N, K]^T, `batch` independent instances\n";
  for (const auto& g : l.gemms) {
    os << "  - {name: " << detail::yaml_quoted(g.name) << ", m: " << g.m << ", n: " << g.n
       << ", k: " << g.k << ", batch: " << g.batch << "}\n";
  }
  return os.str();
}

}  // namespace qarch::workloads
