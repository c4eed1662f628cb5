// `qarch scalesim`: SCALE-Sim v2's command line (-c -t -p -i) and report files, reproduced
// (scalesim_engine.h). Exact mode is the default; --corrected removes SCALE-Sim's quirks.
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "qarch/sim/scalesim.h"
#include "qarch/sim/scalesim_engine.h"

namespace po = boost::program_options;

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

// A layer simulates one operand request at a time (about 10-30 ns each); beyond this many the
// run would take many minutes, so it is refused with the layer named.
constexpr double kMaxRequestsPerLayer = 2e10;

double requests_estimate(const ScaleSimConfig& c, const ScaleSimLayerShape& l) {
  const double oh = static_cast<double>((l.ifmap_h - l.filter_h + l.stride_h - 1) / l.stride_h + 1);
  const double ow = static_cast<double>((l.ifmap_w - l.filter_w + l.stride_w - 1) / l.stride_w + 1);
  const double m = oh * ow, n = static_cast<double>(l.num_filter);
  const double k = static_cast<double>(l.filter_h * l.filter_w * l.channels);
  const double R = static_cast<double>(c.array_height), C = static_cast<double>(c.array_width);
  auto folds = [](double s, double a) { return std::ceil(s / a); };
  switch (c.dataflow) {
    case models::Dataflow::kOutputStationary:
      return folds(n, C) * m * k + folds(m, R) * k * n;
    case models::Dataflow::kWeightStationary:
      return folds(n, C) * m * k + folds(k, R) * m * n;
    case models::Dataflow::kInputStationary:
      return folds(m, C) * k * n + folds(k, R) * m * n;
  }
  return 0;
}

}  // namespace

int cmd_scalesim(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc(
      "qarch scalesim: run a SCALE-Sim (v2) experiment and write SCALE-Sim's report files\n\n"
      "usage: qarch scalesim -c X.cfg -t Y.csv -p OUTDIR [-i conv|gemm] [--corrected]\n\n"
      "Takes SCALE-Sim's own flags and writes what `python3 scalesim/scale.py` writes:\n"
      "OUTDIR/<run_name>/COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and\n"
      "DETAILED_ACCESS_REPORT.csv, with the same columns and, in the default --scalesim-exact\n"
      "mode, the same numbers as SCALE-Sim v2.0.2 (cycles, stalls, utilization, SRAM and DRAM\n"
      "accesses with their start/stop cycles, bandwidths; CALC and USER bandwidth; depthwise\n"
      "\"DP\" layers one row per channel). SCALE-Sim's quirks are kept in that mode: \"Total\n"
      "Cycles\" is the 0-based index of the last cycle, OS folds overlap the output drain with\n"
      "the next fold, and OS \"SRAM OFMAP Writes\" counts R + C extra words per fold.\n"
      "--corrected removes them (cycles counted, OS outputs drained before the next fold as in\n"
      "`qarch run`, exact OFMAP write counts); docs/SCALESIM.md lists every difference.\n\n"
      "options");
  std::string cfg, topology, out_dir = "../test_runs", type = "auto";
  bool corrected = false, exact = false, quiet = false;
  desc.add_options()("help,h", "print this help")(
      "config,c", po::value(&cfg), "SCALE-Sim config (.cfg)")("topology,t", po::value(&topology),
                                                              "SCALE-Sim topology (.csv)")(
      "path,p", po::value(&out_dir)->default_value(out_dir),
      "log directory; reports go to PATH/<run_name>/ (SCALE-Sim's default)")(
      "input-type,i", po::value(&type)->default_value(type),
      "conv, gemm (SCALE-Sim's -i; M, N, K lines) or auto (GEMM if the header names M, N, K)")(
      "scalesim-exact", po::bool_switch(&exact),
      "SCALE-Sim v2's numbers, quirks included "
      "(the default)")("corrected", po::bool_switch(&corrected),
                       "the same model with SCALE-Sim's quirks removed")(
      "quiet,q", po::bool_switch(&quiet), "no per-layer summary");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  (void)err;
  if (cfg.empty()) throw Error("-c: missing (the SCALE-Sim config file)");
  if (topology.empty()) throw Error("-t: missing (the SCALE-Sim topology CSV)");
  if (exact && corrected) throw Error("--scalesim-exact and --corrected: choose one");
  TopologyKind kind = TopologyKind::kAuto;
  if (type == "conv") {
    kind = TopologyKind::kConv;
  } else if (type == "gemm") {
    kind = TopologyKind::kGemm;
  } else if (type != "auto") {
    throw Error("-i: expected conv, gemm or auto, got '" + type + "'");
  }
  const ScaleSimMode mode = corrected ? ScaleSimMode::kCorrected : ScaleSimMode::kExact;

  const ScaleSimConfig c = load_scalesim_config(cfg);
  const ScaleSimTopology t = load_scalesim_topology(topology, kind);
  const std::vector<ScaleSimLayerShape> layers = scalesim_layer_shapes(t);
  for (const ScaleSimLayerShape& l : layers) {
    const double n = requests_estimate(c, l);
    if (n > kMaxRequestsPerLayer) {
      throw Error(topology + ": layer " + l.name + ": about " + format_g(n) +
                  " operand requests to simulate one by one, beyond the limit of " +
                  format_g(kMaxRequestsPerLayer) +
                  "; `qarch import-scalesim` + `qarch run` times it with qarch's tile model");
    }
  }
  if (!quiet) {
    out << "qarch scalesim (" << (corrected ? "corrected" : "SCALE-Sim v2 exact")
        << "): " << c.array_height << "x" << c.array_width << " "
        << models::dataflow_name(c.dataflow) << ", SRAM " << c.ifmap_sram_kb << "/"
        << c.filter_sram_kb << "/" << c.ofmap_sram_kb << " kB, "
        << (c.user_bandwidth ? "USER bandwidth " + std::to_string(c.bandwidth.at(0))
                             : std::string("CALC bandwidth"))
        << ", " << layers.size() << " layers\n";
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<ScaleSimLayerReport> reports;
  reports.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    // Depthwise channels are identical layers: simulate the first, repeat its row.
    const bool same = i > 0 && layers[i].channels == layers[i - 1].channels &&
                      layers[i].ifmap_h == layers[i - 1].ifmap_h &&
                      layers[i].ifmap_w == layers[i - 1].ifmap_w &&
                      layers[i].filter_h == layers[i - 1].filter_h &&
                      layers[i].filter_w == layers[i - 1].filter_w &&
                      layers[i].num_filter == layers[i - 1].num_filter &&
                      layers[i].stride_h == layers[i - 1].stride_h &&
                      layers[i].stride_w == layers[i - 1].stride_w;
    reports.push_back(same ? reports.back() : simulate_scalesim_layer(c, layers[i], mode));
    if (quiet) continue;
    const ScaleSimLayerReport& r = reports.back();
    out << "layer " << i << " (" << layers[i].name << "): " << r.total_cycles << " cycles, "
        << r.stall_cycles << " stalls, util " << std::fixed << std::setprecision(2)
        << r.overall_util << "%, mapping " << r.mapping_efficiency << "%, DRAM BW "
        << std::setprecision(3) << r.dram_ifmap_bw << "/" << r.dram_filter_bw << "/"
        << r.dram_ofmap_bw << " words/cycle\n"
        << std::defaultfloat;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const ScaleSimReportFiles files = scalesim_report_files(reports);
  const std::filesystem::path dir = std::filesystem::path(out_dir) / c.run_name;
  make_directories(dir.string(), "the report directory");
  write_file_atomic((dir / "COMPUTE_REPORT.csv").string(), files.compute);
  write_file_atomic((dir / "BANDWIDTH_REPORT.csv").string(), files.bandwidth);
  write_file_atomic((dir / "DETAILED_ACCESS_REPORT.csv").string(), files.detail);
  if (!quiet) {
    out << "wrote " << (dir / "COMPUTE_REPORT.csv").string() << ", BANDWIDTH_REPORT.csv, "
        << "DETAILED_ACCESS_REPORT.csv (" << format_g(seconds) << " s)\n";
  }
  return 0;
}

}  // namespace qarch::sim
