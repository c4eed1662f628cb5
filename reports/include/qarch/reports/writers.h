// Report files: JSON (the full Report), CSV (one row per point; one row per point x GEMM) and a
// self-contained HTML page with charts (html.cpp). Every writer returns the file's text, so
// tests compare strings; write_report() writes them all atomically (quant/atomic_file.h).
// Output is deterministic: the same Report gives the same bytes.
#pragma once

#include <string>

#include "qarch/reports/result.h"

namespace qarch::reports {

/// The Report as JSON text (2-space indent, sorted keys, trailing newline).
std::string report_json(const Report& r);
/// Parses report_json() output (or a single PointResult object); `file` names it in errors.
Report parse_report_json(const std::string& text, const std::string& file);
/// One row per point: id, arch, pe, formats, dataflow, array, workload, cycles, seconds, stall
/// cycles, utilization, MACs, DRAM bytes, energy by component and total, area by component and
/// total, accuracy, roofline numbers, pareto flag.
std::string summary_csv(const Report& r);
/// The per-layer CSV: one row per point x GEMM: point id, layer, gemm, kind, M, N, K, batch,
/// cycles, stall cycles, utilization, MACs, DRAM bytes read/written, energy by component and
/// total, output QSNR and relative Frobenius error.
std::string gemms_csv(const Report& r);
/// The self-contained HTML page (no external resources): summary table, latency and energy
/// breakdown per point, per-layer latency, roofline, accuracy-vs-energy Pareto scatter, area
/// breakdown.
std::string render_html(const Report& r);

/// Writes DIR/report.json, DIR/summary.csv, DIR/gemms.csv and DIR/index.html (creating DIR).
void write_report(const std::string& dir, const Report& r);

}  // namespace qarch::reports
