#include "qarch/explore/explore.h"

#include <sys/stat.h>
#include <algorithm>
#include <condition_variable>
#include <map>
#include <set>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/explore/serve.h"
#include "qarch/models/simulator.h"
#include "qarch/quant/format.h"
#include "qarch/quant/transforms.h"
#include "qarch/reports/tech.h"
#include "qarch/workloads/bindings.h"
#include "qarch/workloads/model.h"
#include "qarch/workloads/trace.h"
#include "qarch/workloads/trace_builder.h"

namespace qarch::explore {
namespace detail {
// Generated from configs/*.yaml (explore/CMakeLists.txt): {"configs/int8.yaml", "<text>"}, ...
const std::vector<std::pair<std::string, std::string>>& embedded_yaml();
}  // namespace detail

namespace {

// SystemC keeps global state per process: simulations run one at a time even when points are
// computed on several threads (sweep --jobs). They are fast (milliseconds per GEMM shape); the
// expensive part, accuracy, runs concurrently.
std::mutex g_simulate_mutex;

struct TimingOutcome {
  models::Stats stats;
  reports::Breakdown energy;
};

struct AccuracyOutcome {
  bool has_error = false;
  double qsnr_db = 0, rel_fro = 0;
};

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string builtin_name(const std::string& key) {
  // "configs/olive.yaml" -> "olive"
  std::string n = key.substr(key.find('/') + 1);
  return n.substr(0, n.size() - 5);
}

}  // namespace

struct ExploreCache::Impl {
  std::mutex mutex;
  std::map<std::string, TimingOutcome> timing;
  std::map<std::string, AccuracyOutcome> accuracy;
  std::map<std::string, std::shared_ptr<const reports::Technology>> tech;
  /// Keys being computed by some thread: another thread wanting the same key waits instead of
  /// computing it twice.
  std::set<std::string> pending;
  std::condition_variable done;

  /// The cached value of `key` in `results`, computed by `compute()` if absent. Single flight:
  /// the first thread that wants a key computes it while the others wait for it (the key is in
  /// `pending` meanwhile); an exception frees the key and reaches only the computing thread.
  template <typename T, typename Compute>
  T single_flight(std::map<std::string, T>& results, const std::string& key, Compute compute) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      done.wait(lock, [&] { return pending.count(key) == 0; });
      auto it = results.find(key);
      if (it != results.end()) return it->second;
      pending.insert(key);
    }
    T value;
    try {
      value = compute();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      pending.erase(key);
      done.notify_all();
      throw;
    }
    std::lock_guard<std::mutex> lock(mutex);
    pending.erase(key);
    results[key] = value;
    done.notify_all();
    return value;
  }

  std::shared_ptr<const reports::Technology> technology(const std::string& table,
                                                        const std::string& node) {
    std::lock_guard<std::mutex> lock(mutex);
    auto& t = tech[table + "@" + node];
    if (!t) t = std::make_shared<reports::Technology>(reports::load_technology(table, node));
    return t;
  }
};

ExploreCache::ExploreCache() : impl_(std::make_unique<Impl>()) {}
ExploreCache::~ExploreCache() = default;

std::string WorkloadSpec::describe() const {
  std::ostringstream os;
  if (!trace.empty()) {
    os << "trace " << trace;
    return os.str();
  }
  if (!gemm_list.empty()) {
    os << "GEMM list " << gemm_list;
    return os.str();
  }
  if (serve) {
    os << model << " serve prompt " << serve_spec.prompt << " gen " << serve_spec.gen;
    if (params.batch != 1) os << " batch " << params.batch;
    return os.str();
  }
  os << model << " " << workloads::phase_name(params.phase);
  if (params.phase == workloads::Phase::kPrefill)
    os << " " << params.seq;
  else
    os << " ctx " << params.context;
  if (params.batch != 1) os << " batch " << params.batch;
  if (layers != "all") os << " layers " << layers;
  return os.str();
}

WorkloadSpec model_workload(const std::string& model, const std::string& phase, int64_t seq,
                            int64_t context, int64_t batch, const std::string& layers) {
  const workloads::ModelConfig m = workloads::load_model(model);
  WorkloadSpec w;
  w.model = model;
  w.layers = layers;
  w.params.phase = workloads::parse_phase(phase);
  // The sweep file's limit too (explore/src/sweep.cpp): a typo of a few zeros must be an error, not
  // a run that expands billions of sequences with no output.
  if (batch < 1 || batch > (int64_t{1} << 20)) {
    throw Error("batch: must be in [1, 1048576], got " + std::to_string(batch));
  }
  w.params.batch = batch;
  const int64_t default_len = std::min<int64_t>(2048, m.max_positions);
  if (w.params.phase == workloads::Phase::kPrefill) {
    if (context >= 0) throw Error("context is for the decode phase; prefill takes seq");
    w.params.seq = seq >= 0 ? seq : default_len;
  } else {
    if (seq >= 0) throw Error("seq is for the prefill phase; decode takes context");
    w.params.context = context >= 0 ? context : default_len - 1;
  }
  workloads::parse_layers(layers, m.layers);  // reject a bad selection now
  return w;
}

WorkloadSpec serve_workload(const std::string& model, int64_t prompt, int64_t batch,
                            const ServeSpec& spec) {
  const workloads::ModelConfig m = workloads::load_model(model);
  ServeSpec s = spec;
  if (s.gen < 1) throw Error("gen: must be >= 1, got " + std::to_string(s.gen));
  s.prompt = prompt >= 0 ? prompt : std::min<int64_t>(2048, m.max_positions - s.gen);
  if (s.prompt < 1) {
    throw Error("prompt: must be >= 1, got " + std::to_string(s.prompt) +
                (prompt < 0 ? " (the default: max_positions - gen)" : ""));
  }
  if (s.samples < 0) throw Error("serve samples: must be >= 0, got " + std::to_string(s.samples));
  if (s.prompt + s.gen > m.max_positions) {
    throw Error(m.name + ": prompt " + std::to_string(s.prompt) + " + gen " +
                std::to_string(s.gen) + " = " + std::to_string(s.prompt + s.gen) +
                " tokens exceeds the model's context (max_positions " +
                std::to_string(m.max_positions) + ")");
  }
  WorkloadSpec w = model_workload(model, "prefill", s.prompt, -1, batch, "all");
  w.params.all_logits = false;
  w.serve = true;
  w.serve_spec = s;
  return w;
}

std::vector<std::string> builtin_arch_names() {
  std::vector<std::string> names;
  for (const auto& [key, text] : detail::embedded_yaml()) names.push_back(builtin_name(key));
  std::sort(names.begin(), names.end());
  return names;
}

std::string builtin_arch_yaml(const std::string& name) {
  for (const auto& [key, text] : detail::embedded_yaml())
    if (builtin_name(key) == name) return text;
  return "";
}

ArchSpec resolve_arch(const std::string& arg, const std::vector<Override>& overrides) {
  if (file_exists(arg)) return load_arch(arg, overrides);
  const std::string text = builtin_arch_yaml(arg);
  if (!text.empty()) {
    ArchSpec a = parse_arch(text, "configs/" + arg + ".yaml (built in)", overrides);
    return a;
  }
  std::string names;
  for (const auto& n : builtin_arch_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error("architecture '" + arg + "': no such file, and not a built-in configuration (" +
              names + ")");
}

std::vector<std::string> pipeline_notes() {
  return {
      "Timing: SystemC model in tile mode (SCALE-Sim fold equations per tile, consecutive folds "
      "pipelined unless array.pipelined_folds is false; DMA, buffers and DRAM contend as "
      "threads). Each GEMM is simulated alone; in prefill and decode runs element-wise operations "
      "and KV-cache writes are not timed (--phase serve times the whole model: docs/SERVING.md).",
      "Mapping: every GEMM runs the loop nest the mapper chose for the architecture's objective "
      "(mapper.objective, default EDP): dataflow, tile sizes, loop order, resident operand "
      "blocks and partial-sum spills, exact within its mapspace (docs/MAPPER.md); gemms.csv and "
      "the Mappings section show it with its DRAM bytes against the compulsory traffic.",
      "Accuracy: QSNR of each measured GEMM's output Y = Q(X) Q(W)^T against the FP32 product, "
      "computed with the hardware's integer arithmetic on generated operands with calibrated "
      "outliers (a row sample of each operand; see AccuracyOptions).",
      "Energy: event counts x the technology table (reports/tech/); area: PE and decoder areas "
      "from the Yosys flow of rtl/, SRAM per KiB."};
}

namespace {

// Timing of one GEMM shape on one architecture, cached.
TimingOutcome time_gemm(const ArchSpec& arch, const reports::Technology& tech,
                        const models::GemmJob& job, ExploreCache::Impl& cache,
                        const std::string& arch_key) {
  std::ostringstream key;
  key << arch_key << "|" << job.m << "x" << job.n << "x" << job.k << "x" << job.batch << "|"
      << job.x_format << "|" << job.w_format;
  return cache.single_flight(cache.timing, key.str(), [&] {
    TimingOutcome t;
    models::SimOptions o;
    o.mode = models::SimMode::kTile;
    o.functional = false;
    o.costs = reports::mapper_costs(arch.arch, job.x_format, job.w_format, tech);
    {
      std::lock_guard<std::mutex> sim_lock(g_simulate_mutex);
      t.stats = models::simulate(arch.arch, {job}, o).stats;
    }
    t.stats.host_seconds = 0;  // results must not depend on the host
    t.energy = reports::energy_breakdown(t.stats, arch.arch, job.x_format, job.w_format, tech);
    return t;
  });
}

}  // namespace

GemmTiming time_gemm(const ArchSpec& arch, const std::string& arch_key, const models::GemmJob& job,
                     ExploreCache& cache) {
  ExploreCache::Impl& c = cache.impl();
  const auto tech = c.technology(arch.tech_table, arch.tech_node);
  const TimingOutcome t = time_gemm(arch, *tech, job, c, arch_key);
  return {t.stats, t.energy};
}

GemmTiming time_gemm(const ArchSpec& arch, const models::GemmJob& job, ExploreCache& cache) {
  return time_gemm(arch, arch_yaml(arch), job, cache);
}

namespace {

// The layers whose GEMMs get an accuracy measurement, as a workloads::parse_layers text.
std::string accuracy_layer_text(const AccuracyOptions& a, const workloads::LayerSelection& sel,
                                int64_t num_layers) {
  std::vector<int64_t> selected;
  for (int64_t l = 0; l < num_layers; ++l)
    if (sel.contains(l)) selected.push_back(l);
  std::vector<int64_t> chosen;
  bool head = sel.head;
  if (a.layers == "all") {
    chosen = selected;
  } else if (a.layers == "auto") {
    if (!selected.empty()) {
      chosen = {selected.front(), selected[selected.size() / 2], selected.back()};
      std::sort(chosen.begin(), chosen.end());
      chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    }
  } else {
    const workloads::LayerSelection want = workloads::parse_layers(a.layers, num_layers);
    for (int64_t l : selected)
      if (want.contains(l)) chosen.push_back(l);
    head = head && want.head;
  }
  std::string text;
  for (int64_t l : chosen) text += (text.empty() ? "" : ",") + std::to_string(l);
  if (head) text += std::string(text.empty() ? "" : ",") + "head";
  return text;
}

}  // namespace

namespace {

// run_point in four steps: collect the GEMMs of the workload, time them on the array, measure
// their accuracy (independent of the array), assemble the point's totals.

struct Item {
  reports::GemmRow row;
  bool attention = false;  ///< both operands are activations (scores, context)
};

// The row of a model or trace GEMM, before timing.
Item item_of(const workloads::GemmOp& op) {
  Item it;
  it.attention = op.is_attention();
  it.row.layer = op.layer < 0 ? "head" : std::to_string(op.layer);
  it.row.gemm = op.name;
  it.row.kind = op.kind;
  it.row.m = op.m;
  it.row.n = op.n;
  it.row.k = op.k;
  it.row.batch = op.batch;
  return it;
}

// What collect() found: the GEMM rows, and the model they come from (model workloads only).
struct Collected {
  std::vector<Item> items;
  workloads::ModelConfig model;
};

// The point's header (architecture, workload description) and the GEMMs of the workload: a
// trace's (with its recorded accuracy), a GEMM list's, or the selected layers of an expanded
// model. Throws for impossible requests before anything is simulated.
Collected collect(reports::PointResult& p, const ArchSpec& arch, const WorkloadSpec& workload,
                  const AccuracyOptions& accuracy, const reports::Technology& tech) {
  p.arch = arch.arch.name;
  p.arch_file = arch.file;
  p.pe = arch.arch.array.pe;
  p.act_format = arch.act_format;
  p.weight_format = arch.weight_format;
  p.dataflow = models::dataflow_name(arch.arch.array.dataflow);
  p.rows = arch.arch.array.rows;
  p.cols = arch.arch.array.cols;
  p.clock_ghz = arch.arch.clock_ghz;
  p.tech_node = tech.node;
  p.dram_peak_gbps =
      arch.arch.dram.ideal ? 0 : arch.arch.dram.bandwidth_bytes_per_cycle * arch.arch.clock_ghz;
  p.workload.name = workload.describe();
  p.workload.layers = workload.layers;
  p.area_mm2 = reports::area_breakdown(arch.arch, arch.act_format, arch.weight_format, tech);

  Collected c;
  std::vector<Item>& items = c.items;
  if (!workload.trace.empty()) {
    const workloads::TraceReader trace(workload.trace);
    // The recorded accuracy was measured on these operand files: refuse a damaged trace.
    trace.verify_data();
    const workloads::TraceHeader& h = trace.header();
    // The recorded accuracy belongs to the trace's formats: refuse an architecture that would
    // run other ones.
    if (h.act_format != arch.act_format || h.weight_format != arch.weight_format)
      throw Error("trace " + workload.trace + " was quantized with activations " + h.act_format +
                  " and weights " + h.weight_format + ", but architecture '" + arch.arch.name +
                  "' (" + arch.file + ") runs " + arch.act_format + " / " + arch.weight_format);
    p.workload.name = h.model.name + " " + workloads::phase_name(h.params.phase) +
                      (h.params.phase == workloads::Phase::kPrefill
                           ? " " + std::to_string(h.params.seq)
                           : " ctx " + std::to_string(h.params.context)) +
                      (h.layers != "all" ? " layers " + h.layers : "") + " (trace)";
    p.workload.model = h.model.name;
    p.workload.phase = workloads::phase_name(h.params.phase);
    p.workload.batch = h.params.batch;
    p.workload.seq = h.params.phase == workloads::Phase::kPrefill ? h.params.seq : 0;
    p.workload.context = h.params.context;
    p.workload.layers = h.layers;
    p.workload.tokens = h.tokens;
    for (const workloads::TraceGemm& g : trace.gemms()) {
      Item it = item_of(g.op);
      if (accuracy.enabled && g.has_output_error) {
        it.row.has_error = true;
        it.row.output_qsnr_db = g.output_error.qsnr_db;
        it.row.output_rel_fro = g.output_error.rel_fro;
      }
      items.push_back(it);
    }
    if (items.empty()) throw Error("trace " + workload.trace + " holds no GEMM");
  } else if (!workload.gemm_list.empty()) {
    const workloads::GemmList list = workloads::load_gemm_list(workload.gemm_list);
    p.workload.name = list.name.empty() ? workload.describe() : list.name;
    p.workload.layers = "";
    for (const auto& g : list.gemms) {
      Item it;
      it.row.gemm = g.name;
      it.row.kind = "gemm";
      it.row.m = g.m;
      it.row.n = g.n;
      it.row.k = g.k;
      it.row.batch = g.batch;
      items.push_back(it);
    }
  } else {
    if (workload.model.empty()) throw Error("workload: a model or a GEMM list is required");
    workloads::ModelConfig& model = c.model;
    model = workloads::load_model(workload.model);
    if (!workload.outliers.empty())
      model.outliers = workloads::load_outlier_profile(workload.outliers, model.outliers);
    if (workload.serve) {
      if (workload.layers != "all") {
        throw Error("--phase serve runs the whole model: --layers must be all (got '" +
                    workload.layers + "')");
      }
      check_serve(arch, model, workload.params.batch, workload.serve_spec);
    }
    const workloads::Workload expanded = workloads::expand(model, workload.params);
    const workloads::LayerSelection sel = workloads::parse_layers(workload.layers, model.layers);
    p.workload.model = model.name;
    p.workload.phase = workloads::phase_name(workload.params.phase);
    p.workload.batch = workload.params.batch;
    p.workload.seq = workload.params.phase == workloads::Phase::kPrefill ? workload.params.seq : 0;
    p.workload.context = workload.params.context;
    p.workload.tokens = expanded.tokens;
    for (const auto& op : expanded.gemms) {
      if (!sel.contains(op.layer)) continue;
      items.push_back(item_of(op));
    }
    if (items.empty())
      throw Error("workload " + workload.describe() + ": the layer selection '" + workload.layers +
                  "' selects no GEMM");
  }

  // A QLLM activation format runs every linear GEMM with the grown (or, with assembly, the
  // restored) reduction length K' = gemm_k(K) (quant transforms.h section 6); traces already
  // record K'. Attention GEMMs keep K.
  if (workload.trace.empty()) {
    const quant::FormatTraits act_traits = quant::make_format(arch.act_format)->traits();
    for (Item& it : items)
      if (!it.attention) it.row.k = act_traits.gemm_k(it.row.k);
  }
  return c;
}

// The activation format the PE multiplies: for QLLM its base format's codes of X' (the channel
// plan is folded into the weights offline, so it is not operand storage), as traces record it.
std::string run_act_format(const ArchSpec& arch) {
  std::string act_run = arch.act_format;
  quant::qllm_format_parts(*quant::make_format(arch.act_format), nullptr, &act_run);
  return act_run;
}

// Timing and energy of every GEMM (cached per shape and formats).
void time_items(std::vector<Item>& items, const ArchSpec& arch, const std::string& arch_key,
                const reports::Technology& tech, ExploreCache::Impl& cache) {
  const std::string act_run = run_act_format(arch);
  for (Item& it : items) {
    models::GemmJob job;
    job.name = it.row.gemm;
    job.m = it.row.m;
    job.n = it.row.n;
    job.k = it.row.k;
    job.batch = it.row.batch;
    // Attention GEMMs multiply two activations: both operands in the activation format (the
    // convention of workloads/trace_builder.h); K and V in the KV cache's when it has its own.
    job.x_format = act_run;
    job.w_format =
        it.attention ? (arch.kv() == arch.act_format ? act_run : arch.kv()) : arch.weight_format;
    const TimingOutcome t = time_gemm(arch, tech, job, cache, arch_key);
    it.row.cycles = t.stats.cycles;
    it.row.compute_cycles = t.stats.array.compute_cycles;
    it.row.stall_cycles =
        t.stats.cycles > t.stats.array.busy_cycles ? t.stats.cycles - t.stats.array.busy_cycles : 0;
    it.row.utilization = t.stats.array.utilization;
    it.row.macs = t.stats.array.macs;
    it.row.dram_read_bytes = t.stats.dram.read_bytes;
    it.row.dram_write_bytes = t.stats.dram.write_bytes;
    if (!t.stats.jobs.empty()) {
      const models::JobStats& js = t.stats.jobs.front();
      it.row.dataflow = js.dataflow;
      it.row.mapping = js.mapping;
      it.row.loop_nest = js.loop_nest;
      it.row.objective = js.objective;
      it.row.dram_x_bytes = js.dram_x_bytes;
      it.row.dram_w_bytes = js.dram_w_bytes;
      it.row.dram_y_bytes = js.dram_y_bytes;
      it.row.psum_bytes = js.psum_bytes;
      it.row.compulsory_bytes = js.compulsory_bytes;
      it.row.traffic_lower_bound = js.traffic_lower_bound;
      for (const models::MappedGemm& g : js.runners_up) {
        it.row.runners_up.push_back(
            {g.mapping.key(), g.cost.cycles, g.cost.energy_pj, g.cost.dram_total()});
      }
    }
    it.row.energy_pj = t.energy;
  }
}

// Accuracy: quantize the operands of the measured layers' GEMMs (independent of the array;
// cached per model, workload, formats, sampling and GEMM). Model workloads only.
void measure(std::vector<Item>& items, const workloads::ModelConfig& model, const ArchSpec& arch,
             const WorkloadSpec& workload, const AccuracyOptions& accuracy,
             ExploreCache::Impl& cache) {
  if (!accuracy.enabled || !workload.gemm_list.empty() || !workload.trace.empty()) return;
  const workloads::LayerSelection sel = workloads::parse_layers(workload.layers, model.layers);
  const std::string layers = accuracy_layer_text(accuracy, sel, model.layers);
  if (layers.empty()) return;
  {
    workloads::TraceOptions o;
    o.act_format = arch.act_format;
    o.weight_format = arch.weight_format;
    o.layers = layers;
    o.sample_rows = accuracy.sample_rows;
    o.weight_rows = accuracy.weight_rows;
    o.error_rows = accuracy.error_rows;
    o.error_cols = accuracy.error_cols;
    o.exact_hw = true;
    o.stats = false;
    o.seed = accuracy.seed;
    if (!workload.tensors.empty())
      o.bindings = std::make_shared<workloads::TensorBindings>(
          workloads::TensorBindings::load(workload.tensors));
    const workloads::TraceBuilder builder(model, workload.params, o);
    std::ostringstream prefix;
    prefix << model.name << "|" << workload.outliers << "|" << workload.tensors << "|"
           << workloads::phase_name(workload.params.phase) << "|" << workload.params.batch << "|"
           << workload.params.seq << "|" << workload.params.context << "|" << arch.act_format << "|"
           << arch.weight_format << "|" << accuracy.sample_rows << "|" << accuracy.weight_rows
           << "|" << accuracy.error_rows << "|" << accuracy.error_cols << "|" << accuracy.seed
           << "|";
    std::map<std::string, AccuracyOutcome> measured;
    for (size_t i : builder.selected()) {
      const workloads::GemmOp& op = builder.workload().gemms[i];
      const std::string key = prefix.str() + op.name;
      const AccuracyOutcome a = cache.single_flight(cache.accuracy, key, [&] {
        const workloads::GemmResult r = builder.build(op);
        AccuracyOutcome out;
        out.has_error = r.meta.has_output_error;
        out.qsnr_db = r.meta.output_error.qsnr_db;
        out.rel_fro = r.meta.output_error.rel_fro;
        return out;
      });
      measured[op.name] = a;
    }
    for (Item& it : items) {
      auto f = measured.find(it.row.gemm);
      if (f == measured.end() || !f->second.has_error) continue;
      it.row.has_error = true;
      it.row.output_qsnr_db = f->second.qsnr_db;
      it.row.output_rel_fro = f->second.rel_fro;
    }
  }
}

// The point's totals from its GEMM rows, and the whole request's for --phase serve.
void assemble(reports::PointResult& p, std::vector<Item>& items,
              const workloads::ModelConfig& model, const ArchSpec& arch,
              const std::string& arch_key, const WorkloadSpec& workload,
              const reports::Technology& tech, ExploreCache& cache_handle) {
  ExploreCache::Impl& cache = cache_handle.impl();
  int64_t logical_pes = static_cast<int64_t>(arch.arch.array.rows) * arch.arch.array.cols;
  {
    // Logical MAC units (OliVe's 8-bit mode fuses four 4-bit PEs) from any simulation.
    std::lock_guard<std::mutex> lock(cache.mutex);
    for (const auto& [k, t] : cache.timing) {
      if (k.compare(0, arch_key.size(), arch_key) == 0 && t.stats.array.logical_rows > 0) {
        logical_pes = static_cast<int64_t>(t.stats.array.logical_rows) * t.stats.array.logical_cols;
        break;
      }
    }
  }
  for (Item& it : items) p.gemms.push_back(std::move(it.row));
  p.finish_totals(logical_pes);
  if (workload.serve) {
    serve_point(p, arch, model, workload.params.batch, workload.serve_spec, tech, cache_handle);
    p.workload.phase = "serve";
    p.workload.seq = workload.serve_spec.prompt;
  }
}

}  // namespace

reports::PointResult run_point(const std::string& id, const ArchSpec& arch,
                               const WorkloadSpec& workload, const AccuracyOptions& accuracy,
                               ExploreCache& cache_handle) {
  ExploreCache::Impl& cache = cache_handle.impl();
  arch.arch.validate();
  const auto tech = cache.technology(arch.tech_table, arch.tech_node);
  const std::string arch_key = arch_yaml(arch);
  reports::PointResult p;
  p.id = id;
  Collected c = collect(p, arch, workload, accuracy, *tech);
  time_items(c.items, arch, arch_key, *tech, cache);
  measure(c.items, c.model, arch, workload, accuracy, cache);
  assemble(p, c.items, c.model, arch, arch_key, workload, *tech, cache_handle);
  return p;
}

}  // namespace qarch::explore
