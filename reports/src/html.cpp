// render_html(): the report as ONE self-contained HTML file. Text (header, summary table, notes)
// is rendered here, so the page is useful without JavaScript; the six SVG charts are drawn in
// the browser by reports/html/report.js from the report JSON embedded in the page. Script and
// style sheet are compiled in (reports/cmake/embed_files.cmake): no external resource at all.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
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

std::string num(uint64_t v) {
  return num(static_cast<double>(v));
}

// A table cell whose sort key (data-v) is the exact number.
std::string cell(double v, const std::string& shown) {
  return "<td class=\"n\" data-v=\"" + detail::shortest(v) + "\">" + shown + "</td>";
}
std::string cell(double v) {
  return cell(v, num(v));
}

std::string summary_table(const Report& r) {
  std::string h =
      "<table id=\"summary\" class=\"summary\">\n<thead><tr>"
      "<th>#</th><th>point</th><th>arch</th><th>PE</th><th>formats (act / weight)</th>"
      "<th>dataflow</th><th>array</th><th>workload</th><th class=\"n\">cycles</th>"
      "<th class=\"n\">latency (ms)</th><th class=\"n\">stall (%)</th>"
      "<th class=\"n\">util. (%)</th><th class=\"n\">energy (&micro;J)</th>"
      "<th class=\"n\">area (mm&sup2;)</th><th class=\"n\">mean QSNR (dB)</th>"
      "<th class=\"n\">min QSNR (dB)</th><th class=\"n\">attained (GOP/s)</th>"
      "<th class=\"n\">intensity (OP/B)</th></tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < r.points.size(); ++i) {
    const PointResult& p = r.points[i];
    const bool front = std::find(r.pareto.begin(), r.pareto.end(), i) != r.pareto.end();
    h += front ? "<tr class=\"front\">" : "<tr>";
    h += cell(static_cast<double>(i), std::to_string(i));
    h += "<td data-v=\"" + esc(p.id) + "\">" + esc(p.id) +
         (front ? " <span class=\"star\" title=\"on the Pareto front\">&#9733;</span>" : "") +
         "</td>";
    h += "<td>" + esc(p.arch) + "</td><td>" + esc(p.pe) + "</td>";
    h += "<td>" + esc(p.act_format) + " / " + esc(p.weight_format) + "</td>";
    h += "<td>" + esc(p.dataflow) + "</td>";
    h += "<td data-v=\"" + std::to_string(static_cast<int64_t>(p.rows) * p.cols) + "\">" +
         std::to_string(p.rows) + "&times;" + std::to_string(p.cols) + "</td>";
    h += "<td>" + esc(p.workload.name) + "</td>";
    h += cell(static_cast<double>(p.cycles), num(p.cycles));
    h += cell(p.seconds * 1e3);
    h += cell(p.cycles > 0
                  ? 100.0 * static_cast<double>(p.stall_cycles) / static_cast<double>(p.cycles)
                  : 0.0);
    h += cell(100.0 * p.utilization);
    h += cell(p.energy_total_pj() * 1e-6);
    h += cell(p.area_total_mm2());
    if (p.has_accuracy) {
      h += cell(p.mean_qsnr_db) + cell(p.min_qsnr_db);
    } else {
      // Sorts below every measured value.
      h += "<td class=\"n na\" data-v=\"-1e308\">&ndash;</td>";
      h += "<td class=\"n na\" data-v=\"-1e308\">&ndash;</td>";
    }
    h += cell(p.attained_gops) + cell(p.op_intensity);
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
    {"layers", "Per-layer latency",
     "Cycles of every simulated GEMM, one series per point, in execution order."},
    {"roofline", "Roofline",
     "Attained throughput vs operational intensity (2 &times; MACs per DRAM byte), log&ndash;log. "
     "Dashed lines: each array's peak (2 &times; PEs &times; clock); slope: DRAM bandwidth."},
    {"pareto", "Accuracy vs energy",
     "Mean output QSNR (higher is better) vs total energy (lower is better). Highlighted: the "
     "report's Pareto front over accuracy, energy and area; the line joins the points no other "
     "point beats in both accuracy and energy."},
    {"area", "Area breakdown", "Area of each point by component."},
};

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
    h += "<section class=\"card\">\n<h2>Summary</h2>\n<div class=\"table-wrap\">\n";
    h += summary_table(r);
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
