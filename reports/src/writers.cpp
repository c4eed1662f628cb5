// The report's JSON and CSV files, parse_report_json() and write_report(). The HTML page is in
// html.cpp. Every number is written with the shortest text that round-trips (std::to_chars), so
// a CSV or JSON value read back is the double that was computed, and the bytes do not depend on
// the locale.
#include "qarch/reports/writers.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "writers_detail.h"

namespace qarch::reports {

namespace detail {

std::vector<std::string> energy_columns(const Report& r) {
  std::vector<std::string> cols(std::begin(kEnergyComponents), std::end(kEnergyComponents));
  std::set<std::string> extra;
  auto add = [&](const Breakdown& b) {
    for (const auto& [k, v] : b)
      if (std::find(cols.begin(), cols.end(), k) == cols.end()) extra.insert(k);
  };
  for (const PointResult& p : r.points) {
    add(p.energy_pj);
    for (const GemmRow& g : p.gemms) add(g.energy_pj);
  }
  cols.insert(cols.end(), extra.begin(), extra.end());
  return cols;
}

std::vector<std::string> area_columns(const Report& r) {
  static const char* const kOrder[] = {"pe_array", "decoders", "sram_input", "sram_weight",
                                       "sram_output"};
  std::set<std::string> present;
  for (const PointResult& p : r.points)
    for (const auto& [k, v] : p.area_mm2) present.insert(k);
  std::vector<std::string> cols;
  for (const char* c : kOrder)
    if (present.erase(c) > 0) cols.push_back(c);
  cols.insert(cols.end(), present.begin(), present.end());
  return cols;
}

std::string dump_json(const nlohmann::json& j, int indent, const std::string& what) {
  try {
    return j.dump(indent);
  } catch (const nlohmann::json::type_error& e) {
    // dump() rejects strings that are not UTF-8 (error 316); say which output it was.
    throw Error(what + ": a string is not valid UTF-8 (" + e.what() + ")");
  }
}

}  // namespace detail

namespace {

using detail::shortest;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// JSON parsing with errors that name the JSON path.

// The shape every input is checked against: the to_json() output of default objects, with one
// element in each array and one "" key in each map to give the element types. Deriving it
// from to_json keeps the field list in result.cpp only.
const json& report_shape() {
  static const json shape = [] {
    GemmRow g;
    g.energy_pj[""] = 0;
    PointResult p;
    p.params[""] = "";
    p.energy_pj[""] = 0;
    p.area_mm2[""] = 0;
    p.gemms = {g};
    Report r;
    r.points = {p};
    r.pareto = {0};
    r.notes = {""};
    return json(r);
  }();
  return shape;
}

std::string type_of(const json& v) {
  std::string t = v.type_name();
  if (v.is_primitive() && !v.is_null()) {
    std::string text = v.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    t += " " + text;
  }
  return t;
}

// JSON Pointer escaping (RFC 6901) for keys in paths.
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// Checks `v` against `shape` recursively; throws qarch::Error naming file, JSON path and problem.
void check_shape(const json& shape, const json& v, const std::string& path,
                 const std::string& file) {
  auto fail = [&](const std::string& what) {
    throw Error(file + ": " + (path.empty() ? "/" : path) + ": " + what);
  };
  if (shape.is_object()) {
    if (!v.is_object()) fail("expected an object, got " + type_of(v));
    const bool is_map = shape.size() == 1 && shape.contains("");
    for (const auto& [k, item] : v.items()) {
      if (is_map) {
        check_shape(shape.at(""), item, path + "/" + pointer_token(k), file);
      } else if (!shape.contains(k)) {
        std::string known;
        for (const auto& [sk, sv] : shape.items()) known += (known.empty() ? "" : ", ") + sk;
        fail("unknown key \"" + k + "\" (known: " + known + ")");
      } else {
        check_shape(shape.at(k), item, path + "/" + pointer_token(k), file);
      }
    }
  } else if (shape.is_array()) {
    if (!v.is_array()) fail("expected an array, got " + type_of(v));
    for (size_t i = 0; i < v.size(); ++i)
      check_shape(shape.at(0), v[i], path + "/" + std::to_string(i), file);
  } else if (shape.is_string()) {
    if (!v.is_string()) fail("expected a string, got " + type_of(v));
  } else if (shape.is_boolean()) {
    if (!v.is_boolean()) fail("expected true or false, got " + type_of(v));
  } else if (shape.is_number_unsigned()) {
    if (!v.is_number_unsigned()) fail("expected a non-negative integer, got " + type_of(v));
  } else if (shape.is_number_integer()) {
    if (!v.is_number_integer()) fail("expected an integer, got " + type_of(v));
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("integer " + v.dump() + " is out of range");
  } else if (shape.is_number_float()) {
    if (!v.is_number()) fail("expected a number, got " + type_of(v));
  }
}

bool has_any(const json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (j.contains(k)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// CSV

// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/// Builds one CSV row field by field; every row of a file gets the header's column count.
class Row {
 public:
  Row& s(const std::string& v) { return add(csv_field(v)); }
  Row& u(uint64_t v) { return add(std::to_string(v)); }
  Row& i(int64_t v) { return add(std::to_string(v)); }
  Row& d(double v) { return add(shortest(v)); }
  Row& blank() { return add(""); }
  std::string str() const { return text_ + "\n"; }

 private:
  Row& add(const std::string& field) {
    if (!first_) text_ += ',';
    first_ = false;
    text_ += field;
    return *this;
  }
  std::string text_;
  bool first_ = true;
};

double value_or_zero(const Breakdown& b, const std::string& key) {
  const auto it = b.find(key);
  return it == b.end() ? 0.0 : it->second;
}

}  // namespace

std::string report_json(const Report& r) {
  // nlohmann::json objects are std::map-backed, so keys come out sorted: deterministic.
  return detail::dump_json(json(r), 2, "report JSON") + "\n";
}

Report parse_report_json(const std::string& text, const std::string& file) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() says "syntax error while parsing ... at line L, column C".
    throw Error(file + ": invalid JSON: " + e.what());
  }
  if (!j.is_object())
    throw Error(file + ": expected a JSON object (a report or a point result), got " + type_of(j));
  const json& shape = report_shape();
  // A point file (one sweep point) has "id" or "gemms"; a report has "points".
  const bool is_point =
      !j.contains("points") && has_any(j, {"id", "gemms", "arch", "cycles", "energy_pj"});
  Report r;
  try {
    if (is_point) {
      check_shape(shape.at("points").at(0), j, "", file);
      r.points.push_back(j.get<PointResult>());
      r.pareto = pareto_front(r.points);
    } else {
      check_shape(shape, j, "", file);
      r = j.get<Report>();
    }
  } catch (const json::exception& e) {
    // check_shape should leave nothing for from_json to reject; this is the safety net.
    throw Error(file + ": " + e.what());
  }
  for (size_t i = 0; i < r.pareto.size(); ++i)
    if (r.pareto[i] >= r.points.size())
      throw Error(file + ": /pareto/" + std::to_string(i) + ": index " +
                  std::to_string(r.pareto[i]) + " is out of range (" +
                  std::to_string(r.points.size()) + " points)");
  return r;
}

std::string summary_csv(const Report& r) {
  const std::vector<std::string> energy = detail::energy_columns(r);
  const std::vector<std::string> area = detail::area_columns(r);
  std::set<std::string> param_keys;
  for (const PointResult& p : r.points)
    for (const auto& [k, v] : p.params) param_keys.insert(k);

  Row h;
  for (const char* c : {"id", "arch", "arch_file", "pe", "act_format", "weight_format", "dataflow",
                        "rows", "cols", "clock_ghz", "tech_node", "workload", "model", "phase",
                        "batch", "seq", "context", "layers", "tokens"})
    h.s(c);
  for (const std::string& k : param_keys) h.s("param:" + k);
  for (const char* c : {"cycles", "compute_cycles", "stall_cycles", "seconds", "utilization",
                        "macs", "dram_read_bytes", "dram_write_bytes"})
    h.s(c);
  for (const std::string& c : energy) h.s("energy_" + c + "_pj");
  h.s("energy_total_pj");
  for (const std::string& c : area) h.s("area_" + c + "_mm2");
  h.s("area_total_mm2");
  for (const char* c : {"mean_qsnr_db", "min_qsnr_db", "peak_gops", "attained_gops", "op_intensity",
                        "dram_gbps", "dram_peak_gbps", "pareto"})
    h.s(c);
  std::string out = h.str();

  for (size_t i = 0; i < r.points.size(); ++i) {
    const PointResult& p = r.points[i];
    const WorkloadDesc& w = p.workload;
    Row row;
    row.s(p.id).s(p.arch).s(p.arch_file).s(p.pe).s(p.act_format).s(p.weight_format);
    row.s(p.dataflow).i(p.rows).i(p.cols).d(p.clock_ghz).s(p.tech_node);
    row.s(w.name).s(w.model).s(w.phase).i(w.batch).i(w.seq).i(w.context).s(w.layers).i(w.tokens);
    for (const std::string& k : param_keys) {
      const auto it = p.params.find(k);
      it == p.params.end() ? row.blank() : row.s(it->second);
    }
    row.u(p.cycles).u(p.compute_cycles).u(p.stall_cycles).d(p.seconds).d(p.utilization);
    row.u(p.macs).u(p.dram_read_bytes).u(p.dram_write_bytes);
    for (const std::string& c : energy) row.d(value_or_zero(p.energy_pj, c));
    row.d(p.energy_total_pj());
    for (const std::string& c : area) row.d(value_or_zero(p.area_mm2, c));
    row.d(p.area_total_mm2());
    // No accuracy measured: empty cells, not 0 dB (which would read as a measurement).
    if (p.has_accuracy)
      row.d(p.mean_qsnr_db).d(p.min_qsnr_db);
    else
      row.blank().blank();
    row.d(p.peak_gops).d(p.attained_gops).d(p.op_intensity).d(p.dram_gbps).d(p.dram_peak_gbps);
    const bool on_front = std::find(r.pareto.begin(), r.pareto.end(), i) != r.pareto.end();
    row.i(on_front ? 1 : 0);
    out += row.str();
  }
  return out;
}

std::string gemms_csv(const Report& r) {
  const std::vector<std::string> energy = detail::energy_columns(r);
  Row h;
  for (const char* c :
       {"point_id", "layer", "gemm", "kind", "m", "n", "k", "batch", "cycles", "compute_cycles",
        "stall_cycles", "utilization", "macs", "dram_read_bytes", "dram_write_bytes"})
    h.s(c);
  for (const std::string& c : energy) h.s("energy_" + c + "_pj");
  h.s("energy_total_pj").s("output_qsnr_db").s("output_rel_fro");
  for (const char* c : {"dataflow", "mapping", "dram_x_bytes", "dram_w_bytes", "dram_y_bytes",
                        "psum_bytes", "compulsory_bytes", "traffic_ratio", "traffic_lower_bound"})
    h.s(c);
  std::string out = h.str();
  for (const PointResult& p : r.points) {
    for (const GemmRow& g : p.gemms) {
      Row row;
      row.s(p.id).s(g.layer).s(g.gemm).s(g.kind).i(g.m).i(g.n).i(g.k).i(g.batch);
      row.u(g.cycles).u(g.compute_cycles).u(g.stall_cycles).d(g.utilization).u(g.macs);
      row.u(g.dram_read_bytes).u(g.dram_write_bytes);
      for (const std::string& c : energy) row.d(value_or_zero(g.energy_pj, c));
      row.d(g.energy_total_pj());
      if (g.has_error)
        row.d(g.output_qsnr_db).d(g.output_rel_fro);
      else
        row.blank().blank();
      row.s(g.dataflow).s(g.mapping).u(g.dram_x_bytes).u(g.dram_w_bytes).u(g.dram_y_bytes);
      row.u(g.psum_bytes).u(g.compulsory_bytes).d(g.traffic_ratio()).u(g.traffic_lower_bound);
      out += row.str();
    }
  }
  return out;
}

void write_report(const std::string& dir, const Report& r) {
  if (dir.empty()) throw Error("write_report: empty output directory");
  // Render everything first: a failure (e.g. invalid UTF-8) then leaves the directory untouched.
  const std::string files[4][2] = {{"report.json", report_json(r)},
                                   {"summary.csv", summary_csv(r)},
                                   {"gemms.csv", gemms_csv(r)},
                                   {"index.html", render_html(r)}};
  make_directories(dir, "the report directory");
  for (const auto& f : files) write_file_atomic(dir + "/" + f[0], f[1]);
}

}  // namespace qarch::reports
