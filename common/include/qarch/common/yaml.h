// The one strict YAML reader (yaml-cpp underneath): architecture files, technology tables, the
// model zoo, outlier profiles, tensor bindings, GEMM lists and sweep files all read through it.
//
// Every problem is a qarch::Error of the form
//     FILE:LINE:COL: KEY: PROBLEM
// where FILE:LINE:COL is where the offending node stands (yaml-cpp's mark, printed 1-based; a
// node that came from a command-line override says "FILE: override 'k=v'" instead), KEY is the
// key path ("array.rows", "gemms[2].m"; printed as `key 'gemms[2].m'` or bare, see KeyStyle) and
// PROBLEM says what is wrong: "expected an integer, got 'ten'", "value 0 is out of range
// [1, 2147483647]", "duplicate key (given twice in this mapping)". Problems with the key itself
// name it after the problem in the quoted style: "unknown key 'moe.topk' (did you mean
// 'top_k'?); known keys here: num_experts, top_k", "missing required key 'gemms[0].k'"; bare:
// "array.rwos: unknown key (did you mean 'rows'?); known keys here: rows, cols, ...".
//
// Typos must not be silently ignored: a Map remembers the keys it was asked for (and those
// declared), and finish() rejects every other key with the closest known key as a suggestion.
// A key given twice in one mapping is an error (yaml-cpp keeps both and looks up the first).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace qarch::yaml {

/// How a key path is printed in messages: `key 'moe.top_k'` (the zoo, profiles, GEMM lists,
/// sweeps, technology tables) or bare `array.rows` (architecture files).
enum class KeyStyle { kQuoted, kBare };

/// A document being read: its file name, the key style, and the value nodes that came from
/// somewhere else than the file (command-line overrides), so that messages point there.
class Source {
 public:
  explicit Source(std::string file, KeyStyle style = KeyStyle::kQuoted)
      : file_(std::move(file)), style_(style) {}

  const std::string& file() const { return file_; }
  /// Marks `node` as given by an override; where() then names `text` ("array.rows=32").
  void add_override(const YAML::Node& node, std::string text);
  /// "FILE:LINE:COL" of a node (1-based), "FILE: override 'k=v'", or just "FILE" (no mark).
  std::string where(const YAML::Node& node) const;
  /// A key path as messages print it ("" is the document itself).
  std::string key_text(const std::string& path) const;
  /// Throws "WHERE(at): KEY: problem".
  [[noreturn]] void fail(const YAML::Node& at, const std::string& path,
                         const std::string& problem) const;
  /// Throws a problem with the key itself ("unknown key", "missing required key"): the quoted
  /// style reads "WHERE: unknown key 'a.b'REST", the bare one "WHERE: a.b: unknown keyREST".
  [[noreturn]] void fail_key(const YAML::Node& at, const std::string& path, const std::string& what,
                             const std::string& rest = "") const;

 private:
  std::string file_;
  KeyStyle style_;
  std::vector<std::pair<YAML::Node, std::string>> overrides_;
};

/// Parses YAML text; `file` names it in messages. Syntax errors become qarch::Error
/// "FILE:LINE:COL: YAML syntax error: ...".
YAML::Node parse(const std::string& text, const std::string& file);
/// Reads a whole file; "PATH: cannot open WHAT for reading" if it cannot be opened.
std::string read_text_file(const std::string& path, const std::string& what = "the file");
/// read_text_file + parse.
YAML::Node load_file(const std::string& path, const std::string& what = "the file");

/// A YAML double-quoted scalar of `s`: '"', '\\' and every control byte escaped, so any string
/// (a fuzzer's too) reads back unchanged. For the canonical writers (arch and GEMM-list YAML).
std::string quoted(const std::string& s);

/// A short description of a value for messages: 'text' (cut at 40 characters), a list, a
/// mapping, nothing.
std::string describe(const YAML::Node& n);

/// Edit distance with transpositions (optimal string alignment: "rwos" is one typo from "rows").
size_t edit_distance(const std::string& a, const std::string& b);
/// The entry of `known` closest to `key` if it is a plausible misspelling (distance at most a
/// third of the shorter length, at least 1), else "".
std::string closest_match(const std::string& key, const std::vector<std::string>& known);

/// An open-ended upper bound for integers (for doubles: infinity).
constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

/// Typed reading of one value node; `path` is its key path for messages. A null node is
/// "got nothing". Ranges are inclusive; with `lo_open` the lower bound is exclusive (> lo).
/// Out of range: "value 0 is out of range [1, 64]", "(0, 1e+06]"; with no upper bound
/// (kNoLimit, infinity) "must be >= 0, got -3", "must be > 0, got 0".
int64_t read_int(const Source& src, const YAML::Node& n, const std::string& path, int64_t lo,
                 int64_t hi);
double read_double(const Source& src, const YAML::Node& n, const std::string& path, double lo,
                   double hi, bool lo_open = false);
bool read_bool(const Source& src, const YAML::Node& n, const std::string& path);
std::string read_string(const Source& src, const YAML::Node& n, const std::string& path);

/// A YAML mapping read key by key with types, ranges and defaults. The accessors remember the
/// keys they were asked for; finish() rejects the rest.
class Map {
 public:
  /// `path` is the key path of this map inside the file ("" for the document, "moe",
  /// "gemms[2]"). A null or absent node reads as an empty mapping; anything else but a mapping
  /// is an error, as are non-scalar and repeated keys.
  Map(YAML::Node node, std::shared_ptr<const Source> src, std::string path = "");
  /// The same with a new Source for `file` in the quoted key style.
  Map(YAML::Node node, const std::string& file, std::string path = "");

  /// True if the key is given with a value (present and not null).
  bool has(const std::string& key) const;
  /// True if the key is present at all (also as "key:" with nothing).
  bool present(const std::string& key) const;

  /// Required values: a missing key is an error ("missing required key").
  int64_t get_int(const std::string& key, int64_t lo, int64_t hi);
  double get_double(const std::string& key, double lo, double hi);
  std::string get_string(const std::string& key);
  bool get_bool(const std::string& key);
  /// Optional values: `def` when the key is absent; a key given with no value ("rows:") is an
  /// error, not the default.
  int64_t get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi);
  double get_double(const std::string& key, double def, double lo, double hi);
  /// A number in (0, hi]: "value 0 is out of range (0, hi]".
  double get_positive(const std::string& key, double def, double hi);
  std::string get_string(const std::string& key, const std::string& def);
  bool get_bool(const std::string& key, bool def);
  /// A string from `allowed` ("unknown value 'x' (allowed: a, b)").
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& allowed);
  /// A sequence of integers in [lo, hi] (a missing key gives `def`).
  std::vector<int64_t> get_int_list(const std::string& key, const std::vector<int64_t>& def,
                                    int64_t lo, int64_t hi);
  /// [min, max] with lo <= min <= max <= hi.
  std::pair<double, double> get_range(const std::string& key, std::pair<double, double> def,
                                      double lo, double hi);
  /// A nested mapping (absent or null reads as empty; anything else but a mapping is an error).
  Map get_map(const std::string& key);
  /// The raw value node of a key (marks it used); an undefined node if absent.
  YAML::Node node(const std::string& key);

  /// Throws naming the first key no accessor asked for: "unknown key (did you mean 'x'?);
  /// known keys here: ..." (the keys asked for and declared, in that order).
  void finish() const;
  /// Marks every key as used (for maps whose keys are data, checked by the caller).
  void accept_all();
  /// Names keys this map may hold even when they are absent or read later, so that an
  /// unknown-key error lists (and suggests from) every known key, not only those read so far.
  void declare(std::initializer_list<const char*> keys);
  void declare(const std::vector<std::string>& keys);

  /// Throws "WHERE: KEY: problem" at the key's value (or at this map when it is absent).
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  /// Throws at a given node, naming `key` (a key of this map, or a deeper relative path).
  [[noreturn]] void fail_at(const YAML::Node& at, const std::string& key,
                            const std::string& problem) const;
  /// Throws "missing required key" for `key` at this map.
  [[noreturn]] void fail_missing(const std::string& key) const;
  /// Throws at this map itself, naming its own path.
  [[noreturn]] void fail_here(const std::string& problem) const;

  /// The key path of `key` in this map ("array.rows").
  std::string key_path(const std::string& key) const;
  const std::string& path() const { return path_; }
  const std::string& file() const { return src_->file(); }
  const Source& source() const { return *src_; }
  const std::shared_ptr<const Source>& source_ptr() const { return src_; }
  const YAML::Node& yaml() const { return node_; }
  /// Keys of the map in file order.
  std::vector<std::string> keys() const;

 private:
  YAML::Node lookup(const std::string& key) const;
  YAML::Node require(const std::string& key);
  void mark(const std::string& key);
  YAML::Node node_;
  std::shared_ptr<const Source> src_;
  std::string path_;
  std::set<std::string> used_;
  std::vector<std::string> known_;  // used and declared keys, first-seen order
};

}  // namespace qarch::yaml
