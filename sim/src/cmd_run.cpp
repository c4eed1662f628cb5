// `qarch run` (one architecture), `qarch compare` (several on the same workload) and
// `qarch demo` (the built-in comparison): explore.h's pipeline, a terminal table, and a report
// directory (report.json, summary.csv, gemms.csv, index.html).
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "qarch/common/error.h"
#include "qarch/explore/explore.h"
#include "qarch/reports/clock_check.h"
#include "qarch/reports/writers.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "run_common.h"

namespace po = boost::program_options;

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, ','))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs `archs` on every workload and writes the report; the shared body of run/compare/demo.
// Points are computed on `jobs` threads (the cache makes a shared accuracy or timing result
// single-flight); the report lists them in the order given, whatever order they finish in.
int run_and_report(const std::string& command, const std::vector<ArchSpec>& archs,
                   const std::vector<WorkloadSpec>& workloads, const AccuracyOptions& accuracy,
                   const std::string& out_dir, const std::string& title, std::ostream& out,
                   std::ostream& err, int jobs) {
  if (jobs < 1 || jobs > 256) throw Error("--jobs: 1..256, got " + std::to_string(jobs));
  // A clock the PE's logic cannot reach (RTL critical path on ASAP7; 7 nm archs only): a warning,
  // the run goes on.
  for (const ArchSpec& a : archs) {
    const std::string w =
        reports::clock_warning(a.arch, a.tech_node, a.act_format, a.weight_format);
    if (!w.empty()) err << command << ": " << w << "\n";
  }
  ExploreCache cache;
  struct Todo {
    std::string id;
    const ArchSpec* arch;
    const WorkloadSpec* workload;
  };
  std::vector<Todo> todo;
  std::set<std::string> ids;
  const auto t0 = std::chrono::steady_clock::now();
  for (const WorkloadSpec& w : workloads) {
    for (const ArchSpec& a : archs) {
      std::string id = a.arch.name;
      if (workloads.size() > 1) id += " | " + w.describe();
      if (!ids.insert(id).second) {
        int k = 2;
        while (!ids.insert(id + " #" + std::to_string(k)).second) ++k;
        id += " #" + std::to_string(k);
      }
      todo.push_back({id, &a, &w});
    }
  }
  std::vector<reports::PointResult> points(todo.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr failure;
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (failure) return;
      }
      const auto tp = std::chrono::steady_clock::now();
      try {
        points[i] = run_point(todo[i].id, *todo[i].arch, *todo[i].workload, accuracy, cache);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = std::current_exception();
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      err << command << ": " << todo[i].id << " ... " << fixed(seconds_since(tp), 1) << " s\n"
          << std::flush;
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min<int>(jobs, static_cast<int>(todo.size())); ++j)
    threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  const reports::Report r = make_report(title, std::move(points));
  out << "\n";
  print_points(out, r.points, r.pareto);
  print_serve(out, r.points);
  if (!out_dir.empty()) {
    reports::write_report(out_dir, r);
    out << "\nwrote " << out_dir << "/{report.json,summary.csv,gemms.csv,index.html} in "
        << fixed(seconds_since(t0), 1) << " s\n";
  }
  return 0;
}

}  // namespace

int cmd_run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc(
      "qarch run: one accelerator on one workload: latency, energy, area and accuracy\n\n"
      "usage: qarch run --arch ARCH [--model NAME --phase prefill|decode --seq N | --ctx N]\n"
      "                 [--workload GEMMS.yaml] --out DIR\n\n"
      "ARCH is an architecture YAML (configs/*.yaml) or a built-in name (int8, olive, mxfp4,\n"
      "amxfp4, bfp, gobo, olaccel). Writes DIR/report.json, DIR/summary.csv, DIR/gemms.csv\n"
      "(one row per GEMM: layer, shape, cycles, stalls, utilization, energy by component, DRAM\n"
      "bytes, output error) and DIR/index.html.\n\noptions");
  std::string arch_arg, out_dir = "qarch-run";
  RunArgs ra;
  desc.add_options()("help,h", "print this help")("arch,a", po::value(&arch_arg),
                                                  "architecture YAML file or built-in name")(
      "out,o", po::value(&out_dir)->default_value(out_dir), "report directory");
  ra.add_options(desc);
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  if (arch_arg.empty()) throw Error("--arch is required (a YAML file or one of the built-ins)");
  ArchSpec arch = resolve_arch(arch_arg);
  ra.apply_tech(arch);
  AccuracyOptions acc = ra.accuracy;
  acc.enabled = !ra.accuracy_off();
  const WorkloadSpec w = ra.workload();
  return run_and_report("qarch run", {arch}, {w}, acc, out_dir,
                        arch.arch.name + " on " + w.describe(), out, err, ra.jobs);
}

int cmd_compare(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc(
      "qarch compare: the same workload on several accelerators, one table and one report\n\n"
      "usage: qarch compare --archs A,B,... [--model NAME --phase ... ] --out DIR\n\n"
      "Each of A, B, ... is an architecture YAML or a built-in name. Accuracy is measured once\n"
      "per format pair and shared by the architectures that use it.\n\noptions");
  std::string archs_arg, out_dir = "qarch-compare";
  RunArgs ra;
  desc.add_options()("help,h", "print this help")(
      "archs,a", po::value(&archs_arg), "comma-separated architecture files or built-in names")(
      "out,o", po::value(&out_dir)->default_value(out_dir), "report directory");
  ra.add_options(desc);
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  const std::vector<std::string> names = split_commas(archs_arg);
  if (names.empty()) throw Error("--archs is required: a comma-separated list (e.g. int8,olive)");
  std::vector<ArchSpec> archs;
  for (const auto& n : names) {
    archs.push_back(resolve_arch(n));
    ra.apply_tech(archs.back());
  }
  AccuracyOptions acc = ra.accuracy;
  acc.enabled = !ra.accuracy_off();
  const WorkloadSpec w = ra.workload();
  return run_and_report("qarch compare", archs, {w}, acc, out_dir, "Comparison on " + w.describe(),
                        out, err, ra.jobs);
}

int cmd_demo(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc(
      "qarch demo: the built-in comparison\n\n"
      "INT8, OliVe-4, MXFP4, AMXFP4, BFP12, GOBO and OLAccel (configs/*.yaml, compiled in) on\n"
      "one LLaMA-2-7B decoder layer, prefill of 2048 tokens and decode with 2047 tokens in the\n"
      "KV cache, and the whole model serving one request (prompt 512, 64 generated tokens:\n"
      "online quantizers, vector unit, KV cache; TTFT, TPOT, J/token). Writes\n"
      "reports/demo/index.html (and the JSON/CSV beside it).\n\noptions");
  std::string out_dir = "reports/demo", model = "llama2-7b", layers = "0";
  int64_t seq = 2048, ctx = 2047, serve_prompt = 512, serve_gen = 64;
  std::string objective;
  int jobs = default_jobs();
  AccuracyOptions acc;
  desc.add_options()("help,h", "print this help")(
      "out,o", po::value(&out_dir)->default_value(out_dir), "report directory")(
      "model,m", po::value(&model)->default_value(model), "zoo model")(
      "layers,l", po::value(&layers)->default_value(layers), "layers")(
      "seq,s", po::value(&seq)->default_value(seq), "prefill tokens")(
      "ctx", po::value(&ctx)->default_value(ctx), "decode: tokens in the KV cache")(
      "serve-prompt", po::value(&serve_prompt)->default_value(serve_prompt),
      "serving: prompt tokens (the whole model)")(
      "serve-gen", po::value(&serve_gen)->default_value(serve_gen),
      "serving: generated tokens (0: no serving point)")(
      "sample", po::value(&acc.sample_rows)->default_value(acc.sample_rows),
      "activation rows quantized per operand for accuracy")(
      "weight-rows", po::value(&acc.weight_rows)->default_value(acc.weight_rows),
      "weight rows quantized per weight for accuracy")(
      "objective", po::value(&objective),
      "mapper objective: latency, energy or edp (default: each architecture's, edp)")(
      "jobs,j", po::value(&jobs)->default_value(jobs), "points computed concurrently");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  const std::vector<std::string> names = {"int8", "olive", "mxfp4",  "amxfp4",
                                          "bfp",  "gobo",  "olaccel"};
  std::vector<ArchSpec> archs;
  for (const auto& n : names) {
    archs.push_back(resolve_arch(n));
    if (!objective.empty())
      archs.back().arch.objective = models::parse_objective(objective, "--objective");
  }
  std::vector<WorkloadSpec> workloads = {model_workload(model, "prefill", seq, -1, 1, layers),
                                         model_workload(model, "decode", -1, ctx, 1, layers)};
  if (serve_gen < 0) throw Error("--serve-gen: must be >= 0, got " + std::to_string(serve_gen));
  if (serve_gen > 0) {
    ServeSpec s;
    s.prompt = serve_prompt;
    s.gen = serve_gen;
    workloads.push_back(serve_workload(model, serve_prompt, 1, s));
  }
  out << "qarch demo: " << names.size() << " accelerators x " << workloads.size() << " workloads (";
  for (size_t i = 0; i < workloads.size(); ++i) out << (i ? "; " : "") << workloads[i].describe();
  out << ")\n";
  return run_and_report("qarch demo", archs, workloads, acc, out_dir,
                        "qarch demo: " + model + " layer " + layers + ", prefill and decode" +
                            (serve_gen > 0 ? "; the whole model serving a request" : ""),
                        out, err, jobs);
}

}  // namespace qarch::sim
