// Strict reading of YAML mappings: the model zoo, the outlier profiles, the tensor bindings and
// sim/'s sweep files. Every problem is a qarch::Error that names the file, the line and column
// (yaml-cpp's Mark, printed 1-based) and the key path: "llama2-7b.yaml:7:14: key
// 'num_heads': expected an integer, got 'thirty-two'". Unknown keys are errors (typos must not
// be silently ignored), listing the keys that are known.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace qarch::workloads::detail {

/// Parses YAML text; `file` names it in messages. Syntax errors become qarch::Error with the
/// line and column.
YAML::Node parse_yaml(const std::string& text, const std::string& file);
/// Reads and parses a file (qarch::Error if it cannot be read).
YAML::Node load_yaml_file(const std::string& path);

/// A YAML double-quoted scalar of `s`: '"', '\\' and every control byte escaped, so any string
/// (a fuzzer's too) reads back unchanged. For the canonical writers (arch and GEMM-list YAML).
std::string yaml_quoted(const std::string& s);

/// "file:line:col" of a node (line/column 1-based; just "file" if the node has no mark).
std::string where(const std::string& file, const YAML::Node& node);

/// A YAML mapping read key by key with types, ranges and defaults. The accessors remember the
/// keys they were asked for; finish() rejects the rest.
class YamlMap {
 public:
  /// `prefix` is the key path of this map inside the file ("" for the top level, "moe.").
  YamlMap(YAML::Node node, std::string file, std::string prefix = "");

  bool has(const std::string& key) const;
  /// Required values: a missing key is an error.
  int64_t get_int(const std::string& key, int64_t lo, int64_t hi);
  double get_double(const std::string& key, double lo, double hi);
  std::string get_string(const std::string& key);
  bool get_bool(const std::string& key);
  /// Optional values.
  int64_t get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi);
  double get_double(const std::string& key, double def, double lo, double hi);
  std::string get_string(const std::string& key, const std::string& def);
  bool get_bool(const std::string& key, bool def);
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& allowed);
  /// A sequence of integers in [lo, hi] (a missing key gives `def`).
  std::vector<int64_t> get_int_list(const std::string& key, const std::vector<int64_t>& def,
                                    int64_t lo, int64_t hi);
  /// [min, max] with lo <= min <= max <= hi.
  std::pair<double, double> get_range(const std::string& key, std::pair<double, double> def,
                                      double lo, double hi);
  /// A nested mapping (must be a map if present).
  YamlMap get_map(const std::string& key);
  /// The raw node of a key (marks it used); undefined node if absent.
  YAML::Node node(const std::string& key);

  /// Throws naming the first key no accessor asked for, with the known keys.
  void finish() const;
  /// Marks every key as used (for maps whose keys are data, e.g. role names checked elsewhere).
  void accept_all();
  /// Names keys this map may hold even when they are absent or read later, so that an
  /// unknown-key error lists every known key, not only those read so far.
  void declare(std::initializer_list<const char*> keys);

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  [[noreturn]] void fail_at(const YAML::Node& at, const std::string& key,
                            const std::string& problem) const;
  const std::string& file() const { return file_; }
  const std::string& prefix() const { return prefix_; }
  const YAML::Node& yaml() const { return node_; }
  /// Keys of the map in file order.
  std::vector<std::string> keys() const;

 private:
  YAML::Node require(const std::string& key);
  // Lookups go through a const node: yaml-cpp's non-const operator[] may insert the key.
  const YAML::Node& cnode() const { return node_; }
  YAML::Node node_;
  std::string file_;
  std::string prefix_;
  std::set<std::string> used_;
};

}  // namespace qarch::workloads::detail
