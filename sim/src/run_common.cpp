#include "run_common.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <thread>

#include "qarch/common/error.h"

namespace po = boost::program_options;

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)

void RunArgs::add_options(po::options_description& desc) {
  desc.add_options()("model,m", po::value(&model)->default_value(model),
                     "zoo model (qarch trace --list-models) or a model YAML file")(
      "phase,p", po::value(&phase)->default_value(phase),
      "prefill, decode, or serve (the whole model serving a request: --prompt, --gen)")(
      "prompt", po::value(&prompt), "serve: prompt tokens per sequence (default 2048)")(
      "gen", po::value(&serve.gen)->default_value(serve.gen),
      "serve: tokens generated per sequence (decode steps)")(
      "serve-samples", po::value(&serve.samples)->default_value(serve.samples),
      "serve: decode steps simulated, the others interpolated (0 = every step)")(
      "no-overlap", po::bool_switch(&no_overlap),
      "serve: run every operation after the previous one (no pipelining)")(
      "no-causal-skip", po::bool_switch(&no_causal_skip),
      "serve: compute the masked score/context tiles of causal prefill too")(
      "seq,s", po::value(&seq), "prefill: tokens per sequence (default 2048)")(
      "ctx", po::value(&ctx), "decode: tokens already in the KV cache (default 2047)")(
      "batch,b", po::value(&batch)->default_value(batch), "sequences")(
      "layers,l", po::value(&layers)->default_value(layers),
      "layers: all, or a list like 0,2-5,head (head = LM head)")(
      "workload,w", po::value(&gemms),
      "a GEMM-list YAML instead of --model (e.g. from qarch import-scalesim)")(
      "trace,t", po::value(&trace),
      "a quantized layer trace (qarch trace --out DIR) instead of --model: its GEMMs are "
      "timed and its recorded output errors are the accuracy")(
      "outliers", po::value(&outliers), "outlier profile (built-in name or YAML file)")(
      "tensors", po::value(&tensors), "YAML binding GEMM operands to .npy/.safetensors files")(
      "no-accuracy", po::bool_switch(&no_accuracy), "timing, energy and area only")(
      "shape-only", po::bool_switch(&shape_only), "the same as --no-accuracy")(
      "accuracy-layers", po::value(&accuracy.layers)->default_value(accuracy.layers),
      "layers whose GEMMs are quantized and measured: auto (first, middle, last selected "
      "layer and the LM head), all, or a list")(
      "sample", po::value(&accuracy.sample_rows)->default_value(accuracy.sample_rows),
      "activation rows quantized per operand for accuracy (0 = all)")(
      "weight-rows", po::value(&accuracy.weight_rows)->default_value(accuracy.weight_rows),
      "weight rows quantized per weight for accuracy (0 = all)")(
      "seed", po::value(&accuracy.seed)->default_value(accuracy.seed), "seed of generated tensors")(
      "tech", po::value(&tech), "technology table YAML (default: the architecture's)")(
      "node", po::value(&node), "process node, e.g. 45nm, 22nm (default: the architecture's)")(
      "jobs,j", po::value(&jobs)->default_value(jobs), "points computed concurrently")(
      "objective", po::value(&objective),
      "mapper objective per GEMM: latency, energy or edp (default: the architecture's "
      "mapper.objective, edp)");
}

WorkloadSpec RunArgs::workload() const {
  WorkloadSpec w;
  if (!gemms.empty() && !trace.empty()) throw Error("--workload and --trace exclude each other");
  if (!trace.empty()) {
    w.trace = trace;
  } else if (!gemms.empty()) {
    w.gemm_list = gemms;
  } else if (phase == "serve") {
    if (seq >= 0 || ctx >= 0)
      throw Error("--phase serve takes --prompt and --gen, not --seq/--ctx");
    if (layers != "all") {
      throw Error("--phase serve runs the whole model: --layers must be all (got '" + layers +
                  "')");
    }
    ServeSpec s = serve;
    s.overlap = !no_overlap;
    s.causal_skip = !no_causal_skip;
    w = serve_workload(model, prompt, batch, s);
    w.outliers = outliers;
    w.tensors = tensors;
  } else {
    if (prompt >= 0) throw Error("--prompt is for --phase serve");
    w = model_workload(model, phase, seq, ctx, batch, layers);
    w.outliers = outliers;
    w.tensors = tensors;
  }
  return w;
}

int default_jobs() {
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::max(1u, std::min(2u, hw)));
}

void RunArgs::apply_tech(ArchSpec& arch) const {
  if (!tech.empty()) arch.tech_table = tech;
  if (!node.empty()) arch.tech_node = node;
  if (!objective.empty()) arch.arch.objective = models::parse_objective(objective, "--objective");
}

std::string fixed(double v, int prec) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  std::ostringstream os;
  os << std::fixed << std::setprecision(prec) << v;
  return os.str();
}

std::string human_seconds(double s) {
  if (s >= 1) return fixed(s, 3) + " s";
  if (s >= 1e-3) return fixed(s * 1e3, 3) + " ms";
  return fixed(s * 1e6, 3) + " us";
}

namespace {
// "olive4:per=tensor:victim=larger" -> "olive4"; "fp16/gobo"; one name when both are equal.
std::string short_formats(const reports::PointResult& p) {
  const std::string a = p.act_format.substr(0, p.act_format.find(':'));
  const std::string w = p.weight_format.substr(0, p.weight_format.find(':'));
  return a == w ? a : a + "/" + w;
}
}  // namespace

void print_points(std::ostream& out, const std::vector<reports::PointResult>& points,
                  const std::vector<size_t>& pareto) {
  // Every cell as text first, so that each column is as wide as its widest value (a
  // 70B model's cycle and energy counts must not run into the next column).
  const std::vector<std::string> header = {"point",    "formats", "workload", "array",
                                           "cycles",   "latency", "util",     "energy uJ",
                                           "area mm2", "QSNR dB", "pareto"};
  const size_t left = 3;  // the first three columns are text, left-aligned
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const bool front = std::find(pareto.begin(), pareto.end(), i) != pareto.end();
    rows.push_back({p.id, short_formats(p), p.workload.name,
                    std::to_string(p.rows) + "x" + std::to_string(p.cols), std::to_string(p.cycles),
                    human_seconds(p.seconds), fixed(p.utilization, 3),
                    fixed(p.energy_total_pj() * 1e-6, 2), fixed(p.area_total_mm2(), 3),
                    p.has_accuracy ? fixed(p.mean_qsnr_db, 2) : "-", front ? "*" : ""});
  }
  std::vector<size_t> w(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    w[c] = header[c].size();
    for (const auto& r : rows) w[c] = std::max(w[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(w[c] - cells[c].size(), ' ');
      if (c > 0) text += "  ";
      text += c < left ? cells[c] + pad : pad + cells[c];
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void print_serve(std::ostream& out, const std::vector<reports::PointResult>& points) {
  for (const auto& p : points) {
    if (!p.has_serve) continue;
    const reports::ServeResult& s = p.serve;
    out << "\n"
        << p.id << " serving " << p.workload.name << " ("
        << (s.overlap ? "overlapped" : "serialized") << ", KV " << s.kv_format << "):\n"
        << "  TTFT " << human_seconds(s.ttft_s) << ", TPOT " << human_seconds(s.tpot_mean_s)
        << " (mean of " << s.gen << " steps, " << s.decode_samples << " simulated), "
        << fixed(s.tokens_per_s, 2) << " tokens/s, " << fixed(s.j_per_token, 4) << " J/token\n"
        << "  KV cache " << fixed(s.kv_bytes_per_token / 1024, 1) << " KiB/token, peak "
        << fixed(s.kv_peak_bytes / double(1ull << 30), 2) << " GiB; weights "
        << fixed(s.weight_bytes / double(1ull << 30), 2) << " GiB\n  busy time:";
    for (const auto& [k, v] : s.by_component) {
      if (v.seconds > 0) out << " " << k << " " << human_seconds(v.seconds);
    }
    out << "\n  energy:";
    for (const auto& [k, v] : s.by_component)
      out << " " << k << " " << fixed(v.energy_pj * 1e-12, 3) << " J";
    out << "\n";
  }
}

reports::Report make_report(const std::string& title, std::vector<reports::PointResult> points,
                            std::vector<std::string> extra_notes) {
  reports::Report r;
  r.title = title;
  r.generator = std::string("qarch ") + QARCH_VERSION;
  r.points = std::move(points);
  r.pareto = reports::pareto_front(r.points);
  r.notes = std::move(extra_notes);
  for (auto& n : pipeline_notes()) r.notes.push_back(n);
  return r;
}

}  // namespace qarch::sim
