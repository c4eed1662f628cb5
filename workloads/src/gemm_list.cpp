// GEMM list files (gemm_list.h), read with the strict YAML reader (qarch/common/yaml.h), so
// messages look like every other file's: "FILE:LINE:COL: key 'gemms[2].m': ...".
#include "qarch/workloads/gemm_list.h"

#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/common/yaml.h"

namespace qarch::workloads {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 40;
constexpr uint64_t kMaxMacs = uint64_t{1} << 62;

GemmList convert(const YAML::Node& root, const std::string& file) {
  if (!root.IsDefined() || root.IsNull()) {
    throw Error(file + ":1:1: the file is empty; a GEMM list needs 'name' and 'gemms'");
  }
  yaml::Map top(root, file);
  GemmList l;
  l.name = top.get_string("name");
  if (l.name.empty()) top.fail("name", "must not be empty");
  l.source = top.get_string("source", "");
  const YAML::Node gemms = top.node("gemms");
  if (!gemms.IsDefined() || gemms.IsNull()) top.fail_missing("gemms");
  if (!gemms.IsSequence()) {
    top.fail_at(gemms, "gemms", "expected a list of {name, m, n, k[, batch]}");
  }
  if (gemms.size() == 0) top.fail_at(gemms, "gemms", "the list is empty");
  top.finish();
  std::map<std::string, std::string> names;  // name -> where first given
  for (size_t i = 0; i < gemms.size(); ++i) {
    const YAML::Node g = gemms[i];
    const std::string path = "gemms[" + std::to_string(i) + "]";
    if (!g.IsMap()) top.fail_at(g, path, "expected a mapping {name, m, n, k[, batch]}");
    yaml::Map m(g, top.source_ptr(), path);
    GemmListEntry e;
    e.name = m.get_string("name");
    if (e.name.empty()) m.fail("name", "must not be empty");
    e.m = m.get_int("m", 1, kMaxDim);
    e.n = m.get_int("n", 1, kMaxDim);
    e.k = m.get_int("k", 1, kMaxDim);
    e.batch = m.get_int("batch", 1, 1, kMaxDim);
    m.finish();
    const std::string at = top.source().where(m.node("name"));
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
    return convert(qarch::yaml::parse(yaml, file), file);
  } catch (const YAML::Exception& e) {
    // Every access above is checked; this keeps the contract (qarch::Error only) regardless.
    throw Error(file + ": YAML error: " + e.what());
  }
}

GemmList load_gemm_list(const std::string& file) {
  try {
    return convert(yaml::load_file(file), file);
  } catch (const YAML::Exception& e) {
    throw Error(file + ": YAML error: " + e.what());
  }
}

std::string gemm_list_yaml(const GemmList& l) {
  std::ostringstream os;
  os << "name: " << yaml::quoted(l.name) << "\n";
  if (!l.source.empty()) os << "source: " << yaml::quoted(l.source) << "\n";
  os << "gemms:  # Y[M, N] = X[M, K] W[N, K]^T, `batch` independent instances\n";
  for (const auto& g : l.gemms) {
    os << "  - {name: " << yaml::quoted(g.name) << ", m: " << g.m << ", n: " << g.n
       << ", k: " << g.k << ", batch: " << g.batch << "}\n";
  }
  return os.str();
}

}  // namespace qarch::workloads
