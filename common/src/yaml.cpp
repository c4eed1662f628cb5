#include "qarch/common/yaml.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"

namespace qarch::yaml {

// ---------------------------------------------------------------------------------------------
// Source

void Source::add_override(const YAML::Node& node, std::string text) {
  overrides_.emplace_back(node, std::move(text));
}

std::string Source::where(const YAML::Node& n) const {
  if (n.IsDefined()) {
    for (const auto& [node, text] : overrides_)
      if (node.IsDefined() && node.is(n)) return file_ + ": override '" + text + "'";
    const YAML::Mark m = n.Mark();
    if (!m.is_null())
      return file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }
  return file_;
}

std::string Source::key_text(const std::string& path) const {
  if (style_ == KeyStyle::kBare) return path.empty() ? "(document)" : path;
  return path.empty() ? "the document" : "key '" + path + "'";
}

void Source::fail(const YAML::Node& at, const std::string& path, const std::string& problem) const {
  throw Error(where(at) + ": " + key_text(path) + ": " + problem);
}

void Source::fail_key(const YAML::Node& at, const std::string& path, const std::string& what,
                      const std::string& rest) const {
  if (style_ == KeyStyle::kBare) fail(at, path, what + rest);
  throw Error(where(at) + ": " + what + " '" + path + "'" + rest);
}

// ---------------------------------------------------------------------------------------------
// Files and text

YAML::Node parse(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    std::string at = file;
    if (!e.mark.is_null())
      at += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    throw Error(at + ": YAML syntax error: " + e.msg);
  }
}

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open " + what + " for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return ss.str();
}

YAML::Node load_file(const std::string& path, const std::string& what) {
  return parse(read_text_file(path, what), path);
}

std::string quoted(const std::string& s) {
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

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) {
    std::string s = n.Scalar();
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return "'" + s + "'";
  }
  if (n.IsSequence()) return "a list";
  return "a mapping";
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      // A swap of two neighbours ("rwos") is one typo, not two.
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(const std::string& key, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const auto& k : known) {
    const size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  if (best.empty()) return "";
  const size_t limit = std::max<size_t>(1, std::min(key.size(), best.size()) / 3);
  return best_d <= limit ? best : "";
}

// ---------------------------------------------------------------------------------------------
// Values

namespace {
// A scalar converted by yaml-cpp, or false (not a scalar, or not of type T).
template <typename T>
bool scalar_as(const YAML::Node& n, T* v) {
  if (!n.IsDefined() || !n.IsScalar()) return false;
  try {
    *v = n.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}
}  // namespace

int64_t read_int(const Source& src, const YAML::Node& n, const std::string& path, int64_t lo,
                 int64_t hi) {
  // yaml-cpp's as<int64_t> accepts "0x10" and rejects "1.0" and booleans.
  int64_t v = 0;
  if (!scalar_as(n, &v)) src.fail(n, path, "expected an integer, got " + describe(n));
  if (v < lo && hi == kNoLimit)
    src.fail(n, path, "must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
  if (v < lo || v > hi) {
    src.fail(n, path,
             "value " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                 std::to_string(hi) + "]");
  }
  return v;
}

double read_double(const Source& src, const YAML::Node& n, const std::string& path, double lo,
                   double hi, bool lo_open) {
  double v = 0;
  if (!scalar_as(n, &v) || !std::isfinite(v))
    src.fail(n, path, "expected a finite number, got " + describe(n));
  const bool low = v < lo || (lo_open && !(v > lo));
  if (low && std::isinf(hi)) {
    src.fail(
        n, path,
        std::string("must be ") + (lo_open ? "> " : ">= ") + format_g(lo) + ", got " + format_g(v));
  }
  if (low || v > hi) {
    src.fail(n, path,
             "value " + format_g(v) + " is out of range " + (lo_open ? "(" : "[") + format_g(lo) +
                 ", " + format_g(hi) + "]");
  }
  return v;
}

bool read_bool(const Source& src, const YAML::Node& n, const std::string& path) {
  bool v = false;
  if (!scalar_as(n, &v)) src.fail(n, path, "expected true or false, got " + describe(n));
  return v;
}

std::string read_string(const Source& src, const YAML::Node& n, const std::string& path) {
  if (!n.IsDefined() || !n.IsScalar() || n.IsNull())
    src.fail(n, path, "expected a string, got " + describe(n));
  return n.Scalar();
}

// ---------------------------------------------------------------------------------------------
// Map

Map::Map(YAML::Node node, std::shared_ptr<const Source> src, std::string path)
    : node_(std::move(node)), src_(std::move(src)), path_(std::move(path)) {
  if (!node_.IsDefined() || node_.IsNull()) {
    node_ = YAML::Node(YAML::NodeType::Map);
    return;
  }
  if (!node_.IsMap()) fail_here("expected a mapping (key: value lines), got " + describe(node_));
  // yaml-cpp keeps both entries of a repeated key and looks up the first: reject repeats.
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar())
      src_->fail(kv.first, path_, "keys must be plain names, got " + describe(kv.first));
    if (!seen.insert(kv.first.Scalar()).second)
      src_->fail(kv.first, key_path(kv.first.Scalar()),
                 "duplicate key (given twice in this mapping)");
  }
}

Map::Map(YAML::Node node, const std::string& file, std::string path)
    : Map(std::move(node), std::make_shared<const Source>(file), std::move(path)) {}

std::string Map::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void Map::mark(const std::string& key) {
  if (used_.insert(key).second && std::find(known_.begin(), known_.end(), key) == known_.end())
    known_.push_back(key);
}

YAML::Node Map::lookup(const std::string& key) const {
  // Iterating instead of operator[]: yaml-cpp's non-const operator[] may insert the key.
  for (const auto& kv : node_)
    if (kv.first.Scalar() == key) return kv.second;
  return YAML::Node(YAML::NodeType::Undefined);
}

bool Map::present(const std::string& key) const {
  return lookup(key).IsDefined();
}

bool Map::has(const std::string& key) const {
  const YAML::Node n = lookup(key);
  return n.IsDefined() && !n.IsNull();
}

std::vector<std::string> Map::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

YAML::Node Map::node(const std::string& key) {
  mark(key);
  return lookup(key);
}

YAML::Node Map::require(const std::string& key) {
  mark(key);
  const YAML::Node n = lookup(key);
  if (!n.IsDefined()) fail_missing(key);
  return n;
}

void Map::fail(const std::string& key, const std::string& problem) const {
  const YAML::Node at = lookup(key);
  src_->fail(at.IsDefined() ? at : node_, key_path(key), problem);
}

void Map::fail_at(const YAML::Node& at, const std::string& key, const std::string& problem) const {
  src_->fail(at, key_path(key), problem);
}

void Map::fail_missing(const std::string& key) const {
  src_->fail_key(node_, key_path(key), "missing required key");
}

void Map::fail_here(const std::string& problem) const {
  src_->fail(node_, path_, problem);
}

int64_t Map::get_int(const std::string& key, int64_t lo, int64_t hi) {
  return read_int(*src_, require(key), key_path(key), lo, hi);
}

int64_t Map::get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
  mark(key);
  return present(key) ? get_int(key, lo, hi) : def;
}

double Map::get_double(const std::string& key, double lo, double hi) {
  return read_double(*src_, require(key), key_path(key), lo, hi);
}

double Map::get_double(const std::string& key, double def, double lo, double hi) {
  mark(key);
  return present(key) ? read_double(*src_, lookup(key), key_path(key), lo, hi) : def;
}

double Map::get_positive(const std::string& key, double def, double hi) {
  mark(key);
  return present(key) ? read_double(*src_, lookup(key), key_path(key), 0, hi, true) : def;
}

std::string Map::get_string(const std::string& key) {
  return read_string(*src_, require(key), key_path(key));
}

std::string Map::get_string(const std::string& key, const std::string& def) {
  mark(key);
  return present(key) ? get_string(key) : def;
}

bool Map::get_bool(const std::string& key) {
  return read_bool(*src_, require(key), key_path(key));
}

bool Map::get_bool(const std::string& key, bool def) {
  mark(key);
  return present(key) ? get_bool(key) : def;
}

std::string Map::get_choice(const std::string& key, const std::string& def,
                            const std::vector<std::string>& allowed) {
  const std::string v = get_string(key, def);
  for (const auto& a : allowed)
    if (a == v) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail(key, "unknown value '" + v + "' (allowed: " + list + ")");
}

std::vector<int64_t> Map::get_int_list(const std::string& key, const std::vector<int64_t>& def,
                                       int64_t lo, int64_t hi) {
  mark(key);
  if (!present(key)) return def;
  const YAML::Node n = lookup(key);
  if (!n.IsSequence()) fail_at(n, key, "expected a list of integers, got " + describe(n));
  std::vector<int64_t> out;
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(read_int(*src_, n[i], key_path(key) + "[" + std::to_string(i) + "]", lo, hi));
  return out;
}

std::pair<double, double> Map::get_range(const std::string& key, std::pair<double, double> def,
                                         double lo, double hi) {
  mark(key);
  if (!present(key)) return def;
  const YAML::Node n = lookup(key);
  double a = 0, b = 0;
  const bool ok = n.IsSequence() && n.size() == 2 && scalar_as(n[0], &a) && scalar_as(n[1], &b) &&
                  std::isfinite(a) && std::isfinite(b);
  if (!ok) fail_at(n, key, "expected [min, max], got " + describe(n));
  if (a < lo || b > hi || a > b) {
    fail_at(n, key,
            "[" + format_g(a) + ", " + format_g(b) + "] must satisfy " + format_g(lo) +
                " <= min <= max <= " + format_g(hi));
  }
  return {a, b};
}

Map Map::get_map(const std::string& key) {
  mark(key);
  return Map(lookup(key), src_, key_path(key));
}

void Map::declare(std::initializer_list<const char*> keys) {
  for (const char* k : keys) mark(k);
}

void Map::declare(const std::vector<std::string>& keys) {
  for (const auto& k : keys) mark(k);
}

void Map::accept_all() {
  for (const auto& k : keys()) mark(k);
}

void Map::finish() const {
  for (const auto& kv : node_) {
    const std::string k = kv.first.Scalar();
    if (used_.count(k)) continue;
    std::string list;
    for (const auto& u : known_) list += (list.empty() ? "" : ", ") + u;
    const std::string s = closest_match(k, known_);
    src_->fail_key(kv.first, key_path(k), "unknown key",
                   (s.empty() ? std::string() : " (did you mean '" + s + "'?)") +
                       (list.empty() ? std::string() : "; known keys here: " + list));
  }
}

}  // namespace qarch::yaml
