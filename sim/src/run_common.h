// Internal: what `qarch run`, `compare`, `sweep`, `report` and `demo` share: the workload and
// accuracy options, the technology override, the terminal table, and writing a report.
#pragma once

#include <boost/program_options.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "qarch/explore/explore.h"
#include "qarch/reports/result.h"

namespace qarch::sim {

/// Workload + accuracy + technology options of run and compare.
/// Points computed concurrently by default: the machine's cores, at most 2 (accuracy runs hold
/// a layer's tensors each).
int default_jobs();

struct RunArgs {
  std::string model = "llama2-7b", phase = "prefill", layers = "all", gemms, trace, outliers,
              tensors;
  int64_t seq = -1, ctx = -1, batch = 1;
  explore::ServeSpec serve;  ///< --phase serve: --prompt, --gen, --serve-samples, --no-overlap, ...
  int64_t prompt = -1;
  bool no_overlap = false, no_causal_skip = false;
  bool no_accuracy = false;
  /// --shape-only: its own variable (two bool_switch options on one variable let the second's
  /// default overwrite the first's true when notified).
  bool shape_only = false;
  bool accuracy_off() const { return no_accuracy || shape_only; }
  explore::AccuracyOptions accuracy;
  std::string tech, node;
  std::string objective;      ///< --objective: overrides the architectures' mapper.objective
  int jobs = default_jobs();  ///< --jobs: points computed concurrently

  void add_options(boost::program_options::options_description& desc);
  explore::WorkloadSpec workload() const;
  /// Applies --tech / --node / --objective to an architecture.
  void apply_tech(explore::ArchSpec& arch) const;
};

/// The points as a terminal table (one row each).
void print_points(std::ostream& out, const std::vector<reports::PointResult>& points,
                  const std::vector<size_t>& pareto);

/// Serving metrics of the points run with --phase serve (TTFT, TPOT, tokens/s, J/token, KV).
void print_serve(std::ostream& out, const std::vector<reports::PointResult>& points);

/// A report of `points` with the Pareto front and the pipeline notes, written to `dir`
/// (report.json, summary.csv, gemms.csv, index.html). Returns it.
reports::Report make_report(const std::string& title, std::vector<reports::PointResult> points,
                            std::vector<std::string> extra_notes = {});

/// "1.23 ms", "4.56 s"...; fixed(v, prec): v with prec decimals ("inf", "nan" spelled out).
std::string human_seconds(double s);
std::string fixed(double v, int prec);

}  // namespace qarch::sim
