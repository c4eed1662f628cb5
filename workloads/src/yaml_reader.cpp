#include "qarch/workloads/yaml_reader.h"
#include "qarch/common/number_text.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "qarch/common/error.h"

namespace qarch::workloads::detail {

std::string yaml_quoted(const std::string& s) {
  // YAML double-quoted scalar: escapes for '"', '\' and every control byte, so any string
  // (including what a fuzzer writes into `name`) reads back unchanged.
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
}

YAML::Node load_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the file for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return parse_yaml(ss.str(), path);
}

std::string where(const std::string& file, const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null()) return file;
  return file + ":" + std::to_string(node.Mark().line + 1) + ":" +
         std::to_string(node.Mark().column + 1);
}

namespace {
std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  return "a mapping";
}
}  // namespace

YamlMap::YamlMap(YAML::Node node, std::string file, std::string prefix)
    : node_(std::move(node)), file_(std::move(file)), prefix_(std::move(prefix)) {
  if (!node_.IsDefined() || node_.IsNull()) {
    node_ = YAML::Node(YAML::NodeType::Map);
  } else if (!node_.IsMap()) {
    const std::string what =
        prefix_.empty() ? "the document" : "key '" + prefix_.substr(0, prefix_.size() - 1) + "'";
    throw Error(where(file_, node_) + ": " + what +
                ": expected a mapping (key: value lines), got " + describe(node_));
  }
}

void YamlMap::fail(const std::string& key, const std::string& problem) const {
  const YAML::Node at = cnode()[key];
  fail_at(at.IsDefined() ? at : node_, key, problem);
}

void YamlMap::fail_at(const YAML::Node& at, const std::string& key,
                      const std::string& problem) const {
  throw Error(where(file_, at) + ": key '" + prefix_ + key + "': " + problem);
}

bool YamlMap::has(const std::string& key) const {
  const YAML::Node n = cnode()[key];
  return n.IsDefined() && !n.IsNull();
}

std::vector<std::string> YamlMap::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

YAML::Node YamlMap::require(const std::string& key) {
  used_.insert(key);
  const YAML::Node n = cnode()[key];
  if (!n.IsDefined() || n.IsNull()) {
    throw Error(where(file_, node_) + ": missing required key '" + prefix_ + key + "'");
  }
  return n;
}

YAML::Node YamlMap::node(const std::string& key) {
  used_.insert(key);
  return cnode()[key];
}

namespace {
// Integers: yaml-cpp's as<int64_t> accepts "0x10" and rejects "1.0"; we also reject booleans.
bool scalar_int(const YAML::Node& n, int64_t* v) {
  if (!n.IsScalar()) return false;
  try {
    *v = n.as<int64_t>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}
bool scalar_double(const YAML::Node& n, double* v) {
  if (!n.IsScalar()) return false;
  try {
    *v = n.as<double>();
    return std::isfinite(*v);
  } catch (const YAML::Exception&) {
    return false;
  }
}
}  // namespace

int64_t YamlMap::get_int(const std::string& key, int64_t lo, int64_t hi) {
  const YAML::Node n = require(key);
  int64_t v = 0;
  if (!scalar_int(n, &v)) fail_at(n, key, "expected an integer, got " + describe(n));
  if (v < lo || v > hi) {
    fail_at(
        n, key,
        "value " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
            (hi == std::numeric_limits<int64_t>::max() ? std::string("inf") : std::to_string(hi)) +
            "]");
  }
  return v;
}

int64_t YamlMap::get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
  used_.insert(key);
  return has(key) ? get_int(key, lo, hi) : def;
}

double YamlMap::get_double(const std::string& key, double lo, double hi) {
  const YAML::Node n = require(key);
  double v = 0;
  if (!scalar_double(n, &v)) fail_at(n, key, "expected a finite number, got " + describe(n));
  if (v < lo || v > hi) {
    fail_at(
        n, key,
        "value " + format_g(v) + " is out of range [" + format_g(lo) + ", " + format_g(hi) + "]");
  }
  return v;
}

double YamlMap::get_double(const std::string& key, double def, double lo, double hi) {
  used_.insert(key);
  return has(key) ? get_double(key, lo, hi) : def;
}

std::string YamlMap::get_string(const std::string& key) {
  const YAML::Node n = require(key);
  if (!n.IsScalar()) fail_at(n, key, "expected a string, got " + describe(n));
  return n.Scalar();
}

std::string YamlMap::get_string(const std::string& key, const std::string& def) {
  used_.insert(key);
  return has(key) ? get_string(key) : def;
}

bool YamlMap::get_bool(const std::string& key) {
  const YAML::Node n = require(key);
  bool v = false;
  try {
    if (!n.IsScalar()) throw YAML::Exception(YAML::Mark::null_mark(), "");
    v = n.as<bool>();
  } catch (const YAML::Exception&) {
    fail_at(n, key, "expected true or false, got " + describe(n));
  }
  return v;
}

bool YamlMap::get_bool(const std::string& key, bool def) {
  used_.insert(key);
  return has(key) ? get_bool(key) : def;
}

std::string YamlMap::get_choice(const std::string& key, const std::string& def,
                                const std::vector<std::string>& allowed) {
  const std::string v = get_string(key, def);
  for (const auto& a : allowed)
    if (a == v) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail(key, "unknown value '" + v + "' (allowed: " + list + ")");
}

std::vector<int64_t> YamlMap::get_int_list(const std::string& key, const std::vector<int64_t>& def,
                                           int64_t lo, int64_t hi) {
  used_.insert(key);
  if (!has(key)) return def;
  const YAML::Node n = cnode()[key];
  if (!n.IsSequence()) fail_at(n, key, "expected a list of integers, got " + describe(n));
  std::vector<int64_t> out;
  for (size_t i = 0; i < n.size(); ++i) {
    int64_t v = 0;
    if (!scalar_int(n[i], &v)) {
      fail_at(n[i], key,
              "element " + std::to_string(i) + ": expected an integer, got " + describe(n[i]));
    }
    if (v < lo || v > hi) {
      fail_at(n[i], key,
              "element " + std::to_string(i) + ": value " + std::to_string(v) +
                  " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    out.push_back(v);
  }
  return out;
}

std::pair<double, double> YamlMap::get_range(const std::string& key, std::pair<double, double> def,
                                             double lo, double hi) {
  used_.insert(key);
  if (!has(key)) return def;
  const YAML::Node n = cnode()[key];
  double a = 0, b = 0;
  if (!n.IsSequence() || n.size() != 2 || !scalar_double(n[0], &a) || !scalar_double(n[1], &b)) {
    fail_at(n, key, "expected [min, max], got " + describe(n));
  }
  if (a < lo || b > hi || a > b) {
    fail_at(n, key,
            "[" + format_g(a) + ", " + format_g(b) + "] must satisfy " + format_g(lo) +
                " <= min <= max <= " + format_g(hi));
  }
  return {a, b};
}

YamlMap YamlMap::get_map(const std::string& key) {
  used_.insert(key);
  return YamlMap(cnode()[key], file_, prefix_ + key + ".");
}

void YamlMap::declare(std::initializer_list<const char*> keys) {
  for (const char* k : keys) used_.insert(k);
}

void YamlMap::accept_all() {
  for (const auto& k : keys()) used_.insert(k);
}

void YamlMap::finish() const {
  for (const auto& kv : node_) {
    const std::string k = kv.first.Scalar();
    if (used_.count(k)) continue;
    std::string known;
    for (const auto& u : used_) known += (known.empty() ? "" : ", ") + u;
    throw Error(where(file_, kv.first) + ": unknown key '" + prefix_ + k + "'" +
                (known.empty() ? std::string() : " (known keys: " + known + ")"));
  }
}

}  // namespace qarch::workloads::detail
