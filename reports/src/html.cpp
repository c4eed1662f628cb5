// render_html(): the report as ONE self-contained HTML file. Text (header, summary table, notes)
// is rendered here, so the page is useful without JavaScript; the six SVG charts are drawn in
// the browser by reports/html/report.js from the report JSON embedded in the page. Script and
// style sheet are compiled in (common/cmake/embed_files.cmake): no external resource at all.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "qarch/reports/writers.h"
#include "writers_detail.h"

namespace qarch::reports {

namespace detail {
// reports/html/report.js and report.css (generated html_assets.cpp).
extern const char* const kReportJs;
extern const char* const kReportCss;
}  // namespace detail

namespace {

std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The embedded data block. Inside <script> the HTML parser ends the element at "</script" and
// treats "<!--" specially, so every '<' is written as the JSON escape \u003c (JSON.parse reads
// it back unchanged; outside strings JSON has no '<').
std::string script_json(const Report& r) {
  nlohmann::json data;
  data["report"] = r;
  data["energy_components"] = detail::energy_columns(r);
  data["area_components"] = detail::area_columns(r);
  const std::string text = detail::dump_json(data, -1, "HTML report data");
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

// About four significant digits for the table: 0.0123, 12.35, 1,235, 1.23e+07.
std::string num(double v) {
  if (std::isnan(v) || std::isinf(v)) return detail::shortest(v);
  const double a = std::fabs(v);
  char buf[64];
  std::to_chars_result res{};
  if (a == 0) return "0";
  if (a >= 1e7 || a < 1e-3) {
    res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, 2);
  } else {
    const int decimals = std::max(0, 3 - static_cast<int>(std::floor(std::log10(a))));
    res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  }
  std::string s(buf, res.ptr);
  // Thousands separators in the integer part.
  const size_t start = s[0] == '-' ? 1 : 0;
  size_t end = s.find_first_of(".e");
  if (end == std::string::npos) end = s.size();
  if (s.find('e') == std::string::npos)
    for (size_t i = end; i > start + 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

std::string grouped(uint64_t v) {
  std::string s = std::to_string(v);
  for (size_t i = s.size(); i > 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

/// A display unit: value in base units / factor.
struct Unit {
  double factor;
  const char* name;
};

// The largest unit that keeps the biggest value >= 1 (as report.js picks them for the charts).
Unit pick_unit(double max_value, std::initializer_list<Unit> units) {
  Unit u = *units.begin();
  for (const Unit& c : units)
    if (max_value >= c.factor) u = c;
  return u;
}

/// One column of the summary table: header, whether numeric, and per point the sort key
/// (data-v) and the shown HTML.
struct Column {
  std::string header;
  bool numeric;
  std::function<std::pair<std::string, std::string>(const PointResult&, size_t)> value;
};

Column text_col(const std::string& header, std::function<std::string(const PointResult&)> f) {
  return {header, false, [f](const PointResult& p, size_t) {
            const std::string v = esc(f(p));
            return std::make_pair(v, v);
          }};
}

Column num_col(const std::string& header, std::function<double(const PointResult&)> f) {
  return {header, true, [f](const PointResult& p, size_t) {
            const double v = f(p);
            return std::make_pair(detail::shortest(v), num(v));
          }};
}

std::string summary_table(const Report& r, std::string& common) {
  double max_s = 0, max_pj = 0;
  for (const PointResult& p : r.points) {
    max_s = std::max(max_s, p.seconds);
    max_pj = std::max(max_pj, p.energy_total_pj());
  }
  const Unit t = pick_unit(max_s, {{1e-9, "ns"}, {1e-6, "&micro;s"}, {1e-3, "ms"}, {1, "s"}});
  const Unit e =
      pick_unit(max_pj, {{1, "pJ"}, {1e3, "nJ"}, {1e6, "&micro;J"}, {1e9, "mJ"}, {1e12, "J"}});
  auto on_front = [&r](size_t i) {
    return std::find(r.pareto.begin(), r.pareto.end(), i) != r.pareto.end();
  };
  std::vector<Column> text = {
      text_col("arch", [](const PointResult& p) { return p.arch; }),
      text_col("PE", [](const PointResult& p) { return p.pe; }),
      text_col("formats (act / weight)",
               [](const PointResult& p) {
                 return p.act_format == p.weight_format ? p.act_format
                                                        : p.act_format + " / " + p.weight_format;
               }),
      text_col("dataflow", [](const PointResult& p) { return p.dataflow; }),
      text_col("array",
               [](const PointResult& p) {
                 return std::to_string(p.rows) + "\xC3\x97" + std::to_string(p.cols);
               }),
      text_col("clock (GHz)", [](const PointResult& p) { return detail::shortest(p.clock_ghz); }),
      text_col("node", [](const PointResult& p) { return p.tech_node; }),
      text_col("workload", [](const PointResult& p) { return p.workload.name; }),
  };
  // A text column with one value for every point says nothing per row: it goes into the line
  // above the table instead (so the table fits the page). The arch column is dropped when it
  // repeats the point id (compare runs).
  std::vector<Column> cols;
  cols.push_back({"#", true, [](const PointResult&, size_t i) {
                    return std::make_pair(std::to_string(i), std::to_string(i));
                  }});
  cols.push_back({"point", false, [on_front](const PointResult& p, size_t i) {
                    const std::string star =
                        on_front(i)
                            ? " <span class=\"star\" title=\"on the Pareto front\">&#9733;</span>"
                            : "";
                    return std::make_pair(esc(p.id), esc(p.id) + star);
                  }});
  for (const Column& c : text) {
    bool same = true, same_as_id = true;
    const std::string first = c.value(r.points[0], 0).first;
    for (size_t i = 0; i < r.points.size(); ++i) {
      const std::string v = c.value(r.points[i], i).first;
      same = same && v == first;
      same_as_id = same_as_id && v == esc(r.points[i].id);
    }
    if (c.header == "arch" && same_as_id) continue;
    if (same && r.points.size() > 1) {
      if (!first.empty()) common += (common.empty() ? "" : " &middot; ") + c.header + ": " + first;
      continue;
    }
    cols.push_back(c);
  }
  cols.push_back({"cycles", true, [](const PointResult& p, size_t) {
                    return std::make_pair(std::to_string(p.cycles), grouped(p.cycles));
                  }});
  cols.push_back(num_col("latency (" + std::string(t.name) + ")",
                         [t](const PointResult& p) { return p.seconds / t.factor; }));
  cols.push_back(num_col("stall (%)", [](const PointResult& p) {
    return p.cycles > 0
               ? 100.0 * static_cast<double>(p.stall_cycles) / static_cast<double>(p.cycles)
               : 0.0;
  }));
  cols.push_back(num_col("util. (%)", [](const PointResult& p) { return 100.0 * p.utilization; }));
  cols.push_back(num_col("energy (" + std::string(e.name) + ")",
                         [e](const PointResult& p) { return p.energy_total_pj() / e.factor; }));
  cols.push_back(
      num_col("area (mm&sup2;)", [](const PointResult& p) { return p.area_total_mm2(); }));
  // No accuracy: a dash that sorts below every measured value.
  for (int worst = 0; worst < 2; ++worst) {
    cols.push_back(
        {worst ? "min QSNR (dB)" : "mean QSNR (dB)", true, [worst](const PointResult& p, size_t) {
           if (!p.has_accuracy)
             return std::make_pair(std::string("-1e308"), std::string("&ndash;"));
           const double v = worst ? p.min_qsnr_db : p.mean_qsnr_db;
           return std::make_pair(detail::shortest(v), num(v));
         }});
  }
  cols.push_back(num_col("attained (GOP/s)", [](const PointResult& p) { return p.attained_gops; }));
  cols.push_back(num_col("intensity (OP/B)", [](const PointResult& p) { return p.op_intensity; }));

  std::string h = "<table id=\"summary\" class=\"summary\">\n<thead><tr>";
  for (const Column& c : cols) h += (c.numeric ? "<th class=\"n\">" : "<th>") + c.header + "</th>";
  h += "</tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < r.points.size(); ++i) {
    h += on_front(i) ? "<tr class=\"front\">" : "<tr>";
    for (const Column& c : cols) {
      const auto [key, shown] = c.value(r.points[i], i);
      h += std::string(c.numeric ? "<td class=\"n\"" : "<td") + " data-v=\"" + key + "\">" + shown +
           "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</tbody>\n</table>\n";
}

struct ChartSpec {
  const char* kind;
  const char* title;
  const char* caption;
};

// Order on the page; data-chart names are what report.js and the tests look for.
const ChartSpec kCharts[] = {
    {"latency", "Latency breakdown",
     "Simulated latency of each point: cycles the array computes vs cycles it stalls waiting for "
     "memory, converted to time with the point's clock. Hover a bar for cycle counts."},
    {"energy", "Energy breakdown",
     "Total energy of each point by component (event counts &times; technology table)."},
    {"area", "Area breakdown", "Area of each point by component."},
    {"layers", "Per-layer latency",
     "Cycles of every simulated GEMM, one series per point, in execution order."},
    {"roofline", "Roofline",
     "Attained throughput vs operational intensity (2 &times; MACs per DRAM byte), log&ndash;log. "
     "Dashed lines: each array's peak (2 &times; PEs &times; clock); slope: DRAM bandwidth."},
    {"pareto", "Accuracy vs energy",
     "Mean output QSNR (higher is better) vs total energy (lower is better). Highlighted: the "
     "report's Pareto front over accuracy, energy and area; the line joins the points no other "
     "point beats in both accuracy and energy."},
};

// Per point, the mapper's loop nest of every GEMM with its DRAM traffic against the compulsory
// traffic (each operand once): plain HTML, readable without JavaScript.
std::string mappings_section(const Report& r) {
  bool any = false;
  for (const PointResult& p : r.points)
    for (const GemmRow& g : p.gemms) any = any || !g.loop_nest.empty();
  if (!any) return "";
  std::string h =
      "<section class=\"card mappings\">\n<h2>Mappings</h2>\n<p class=\"hint\">The "
      "loop nest the mapper chose for each GEMM (outermost loop first; [buffer: ...] "
      "marks where an operand block is kept), its DRAM bytes by operand and the ratio "
      "to the compulsory traffic (X and W read once, Y written once).</p>\n";
  bool first = true;
  for (const PointResult& p : r.points) {
    h += std::string(first ? "<details open>" : "<details>") + "<summary>" + esc(p.id) +
         " &middot; " + esc(p.workload.name) + "</summary>\n";
    h += "<div class=\"table-wrap\"><table class=\"mapping-table\">\n<thead><tr><th>GEMM</th>"
         "<th>M x N x K (batch)</th><th>loop nest</th><th>DRAM X</th><th>DRAM W</th><th>DRAM Y"
         "</th><th>x compulsory</th></tr></thead>\n<tbody>\n";
    for (const GemmRow& g : p.gemms) {
      h += "<tr><td>" + esc(g.gemm) + "</td><td>" + std::to_string(g.m) + " x " +
           std::to_string(g.n) + " x " + std::to_string(g.k) +
           (g.batch > 1 ? " (" + std::to_string(g.batch) + ")" : "") + "</td><td><pre>" +
           esc(g.loop_nest) + "</pre></td><td>" + grouped(g.dram_x_bytes) + "</td><td>" +
           grouped(g.dram_w_bytes) + "</td><td>" + grouped(g.dram_y_bytes) + "</td><td>" +
           num(g.traffic_ratio()) + "</td></tr>\n";
    }
    h += "</tbody></table></div>\n</details>\n";
    first = false;
  }
  return h + "</section>\n";
}

// Whole-model serving (--phase serve): the request's metrics, the time and energy by component
// and by operator type, and a timeline of one prefill layer (an inline SVG, no script needed).
std::string serve_section(const Report& r) {
  bool any = false;
  for (const PointResult& p : r.points) any = any || p.has_serve;
  if (!any) return "";
  std::string h =
      "<section class=\"card serve\">\n<h2>Serving</h2>\n<p class=\"hint\">The whole model "
      "serving one request: prefill of the prompt (time to first token), then one decode step "
      "per generated token (time per output token). Busy time by component and operator is "
      "serialized time; an overlapped schedule hides part of it. The timeline is layer 0 of "
      "the prefill.</p>\n";
  const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759"};
  for (const PointResult& p : r.points) {
    if (!p.has_serve) continue;
    const ServeResult& s = p.serve;
    h += "<details open><summary>" + esc(p.id) + " &middot; " + esc(p.workload.name) +
         "</summary>\n<table>\n";
    auto row = [&](const std::string& k, const std::string& v) {
      h += "<tr><th>" + k + "</th><td>" + v + "</td></tr>\n";
    };
    row("TTFT", num(s.ttft_s * 1e3) + " ms");
    row("TPOT (mean over " + std::to_string(s.gen) + " steps)", num(s.tpot_mean_s * 1e3) + " ms");
    row("tokens/s", num(s.tokens_per_s));
    row("J/token", num(s.j_per_token));
    row("KV cache", num(s.kv_bytes_per_token / 1024) + " KiB/token (" + esc(s.kv_format) +
                        "), peak " + num(s.kv_peak_bytes / double(1 << 30)) + " GiB");
    row("schedule", std::string(s.overlap ? "overlapped" : "serialized") +
                        (s.causal_skip ? ", causal tiles skipped" : ""));
    h += "</table>\n<div class=\"table-wrap\"><table>\n<thead><tr><th>component</th><th>busy "
         "s</th><th>energy mJ</th></tr></thead><tbody>\n";
    for (const auto& [k, v] : s.by_component) {
      h += "<tr><td>" + esc(k) + "</td><td>" + num(v.seconds) + "</td><td>" +
           num(v.energy_pj * 1e-9) + "</td></tr>\n";
    }
    h += "</tbody></table>\n<table>\n<thead><tr><th>operator</th><th>busy s</th><th>energy "
         "mJ</th></tr></thead><tbody>\n";
    for (const auto& [k, v] : s.by_operator) {
      h += "<tr><td>" + esc(k) + "</td><td>" + num(v.seconds) + "</td><td>" +
           num(v.energy_pj * 1e-9) + "</td></tr>\n";
    }
    h += "</tbody></table></div>\n";
    if (!s.timeline.empty()) {
      double end = 0;
      for (const ScheduleEntry& e : s.timeline) end = std::max(end, e.end_s);
      const double width = 900, lane_h = 22;
      const char* lanes[] = {"array", "vector", "quantizer"};
      h += "<svg class=\"timeline\" viewBox=\"0 0 " + num(width + 90) + " " + num(3 * lane_h + 20) +
           "\" role=\"img\" aria-label=\"layer 0 timeline\">\n";
      for (int l = 0; l < 3; ++l) {
        h += "<text x=\"0\" y=\"" + num(l * lane_h + 15) + "\" font-size=\"11\">" + lanes[l] +
             "</text>\n";
      }
      for (const ScheduleEntry& e : s.timeline) {
        int lane = e.resource == "array" ? 0 : e.resource == "vector" ? 1 : 2;
        const double x = 80 + (end > 0 ? e.start_s / end * width : 0);
        const double w = std::max(0.5, end > 0 ? (e.end_s - e.start_s) / end * width : 0);
        h += "<rect x=\"" + num(x) + "\" y=\"" + num(lane * lane_h + 3) + "\" width=\"" + num(w) +
             "\" height=\"" + num(lane_h - 6) + "\" fill=\"" + colors[lane] + "\"><title>" +
             esc(e.op) + " (" + esc(e.kind) + "): " + num(e.start_s * 1e3) + " - " +
             num(e.end_s * 1e3) + " ms</title></rect>\n";
      }
      h += "<text x=\"80\" y=\"" + num(3 * lane_h + 15) + "\" font-size=\"11\">0</text><text x=\"" +
           num(width + 40) + "\" y=\"" + num(3 * lane_h + 15) + "\" font-size=\"11\">" +
           num(end * 1e3) + " ms</text>\n</svg>\n";
    }
    h += "</details>\n";
  }
  return h + "</section>\n";
}

}  // namespace

std::string render_html(const Report& r) {
  const std::string title = r.title.empty() ? "qarch report" : r.title;
  const std::string data = script_json(r);  // first: throws before any work on bad UTF-8
  size_t gemms = 0;
  std::set<std::string> workloads;
  for (const PointResult& p : r.points) {
    gemms += p.gemms.size();
    if (!p.workload.name.empty()) workloads.insert(p.workload.name);
  }

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  if (!r.generator.empty()) h += "<meta name=\"generator\" content=\"" + esc(r.generator) + "\">\n";
  h += "<title>" + esc(title) + "</title>\n<style>\n" + detail::kReportCss + "</style>\n</head>\n";
  h += "<body>\n<header class=\"page-header\">\n<h1>" + esc(title) + "</h1>\n<p class=\"meta\">";
  h += std::to_string(r.points.size()) + (r.points.size() == 1 ? " point" : " points");
  h += " &middot; " + std::to_string(gemms) + (gemms == 1 ? " GEMM" : " GEMMs");
  if (!workloads.empty()) {
    h += " &middot; workload";
    h += workloads.size() == 1 ? ": " : "s: ";
    bool first = true;
    for (const std::string& w : workloads) h += (first ? "" : "; ") + esc(w), first = false;
  }
  if (!r.generator.empty()) h += " &middot; generated by " + esc(r.generator);
  h += "</p>\n</header>\n<main>\n";
  h += "<div id=\"qarch-errors\" class=\"errors\" hidden></div>\n";

  if (r.points.empty()) {
    h += "<section class=\"card empty\">\n<h2>No results</h2>\n<p>This report has no points: "
         "nothing was simulated, or every point of the sweep is still missing.</p>\n</section>\n";
  } else {
    std::string common;
    const std::string table = summary_table(r, common);
    h += "<section class=\"card\">\n<h2>Summary</h2>\n";
    if (!common.empty()) h += "<p class=\"common\">All points: " + common + "</p>\n";
    h += "<div class=\"table-wrap\">\n" + table;
    h += "</div>\n<p class=\"hint\">&#9733; marks points on the Pareto front (accuracy, energy, "
         "area). Click a column header to sort. Every number is in summary.csv and, per GEMM, in "
         "gemms.csv.</p>\n</section>\n";
    h += "<noscript><p class=\"card noscript\">JavaScript is off, so the charts are not drawn; "
         "the table above and the CSV files hold every number.</p></noscript>\n";
    h += "<section class=\"charts\">\n";
    for (const ChartSpec& c : kCharts) {
      h += "<figure class=\"card chart chart-" + std::string(c.kind) + "\">\n<h2>" + c.title +
           "</h2>\n";
      h += "<svg data-chart=\"" + std::string(c.kind) +
           "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"" + c.title +
           "\"></svg>\n";
      h += "<p class=\"chart-note\"></p>\n<figcaption>" + std::string(c.caption) +
           "</figcaption>\n</figure>\n";
    }
    h += "</section>\n";
    h += serve_section(r);
    h += mappings_section(r);
  }
  if (!r.notes.empty()) {
    h += "<section class=\"card notes\">\n<h2>Notes</h2>\n<ul>\n";
    for (const std::string& n : r.notes) h += "<li>" + esc(n) + "</li>\n";
    h += "</ul>\n</section>\n";
  }
  h += "</main>\n<footer>";
  h += r.generator.empty() ? "qarch" : esc(r.generator);
  h += " &middot; this page is self-contained; its data are also in report.json, summary.csv "
       "and gemms.csv</footer>\n";
  h += "<script type=\"application/json\" id=\"qarch-data\">" + data + "</script>\n";
  h += "<script>\n" + std::string(detail::kReportJs) + "</script>\n</body>\n</html>\n";
  return h;
}

}  // namespace qarch::reports
