// Whole-model serving: see serve.h for the model and the schedule.
#include "qarch/explore/serve.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/models/quantizer_unit.h"
#include "qarch/models/vector_unit.h"
#include "qarch/quant/format.h"
#include "qarch/reports/tech.h"
#include "qarch/workloads/workload.h"

namespace qarch::explore {
namespace {

// Storage bits per element of a format (codes, scales and side data) on a 64 x 256 sample of a
// fixed pseudo-random normal-like tensor: what one stored value costs in DRAM.
double storage_bits(const std::string& spec) {
  static std::mutex m;
  static std::map<std::string, double> cache;
  std::lock_guard<std::mutex> lock(m);
  auto it = cache.find(spec);
  if (it != cache.end()) return it->second;
  const int64_t rows = 64, cols = 256;
  std::vector<float> x(static_cast<size_t>(rows * cols));
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (float& v : x) {
    double acc = 0;  // sum of 4 uniforms: roughly normal
    for (int i = 0; i < 4; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      acc += static_cast<double>(s >> 11) / 9007199254740992.0;
    }
    v = static_cast<float>((acc - 2.0) * 1.7);
  }
  const double b = quant::make_format(spec)->encode(x.data(), rows, cols).bits_per_element();
  cache[spec] = b;
  return b;
}

struct Op {
  std::string name, kind, resource, group;  // group: gemm | vector | quantizer | kv
  int64_t layer = -1;
  double cycles = 0;
};

struct Phase {
  double cycles = 0;
  double busy = 0;                        // sum of the operations' times (serialized length)
  std::map<std::string, double> per_res;  // busy time per resource
  double macs = 0, dram_read = 0, dram_write = 0;  // GEMMs + vector/KV traffic
  reports::Breakdown energy;                       // dynamic, by component (no static)
  std::map<std::string, reports::ServeShare> by_component, by_operator;  // seconds as cycles
  std::vector<reports::ScheduleEntry> timeline;                          // layer 0, in cycles
  void add(const Op& op, double pj) {
    by_component[op.group].seconds += op.cycles;
    by_component[op.group].energy_pj += pj;
    by_operator[op.kind].seconds += op.cycles;
    by_operator[op.kind].energy_pj += pj;
  }
};

// Share of the score / context tiles a causal prefill needs: query tiles of `tq` rows against
// key tiles of `tk` columns, key tile j needed by query tile i when it starts at or before the
// tile's last query (j * tk <= (i + 1) * tq - 1).
double causal_fraction(int64_t q, int64_t kv, int64_t tq, int64_t tk) {
  const int64_t nq = (q + tq - 1) / tq, nk = (kv + tk - 1) / tk;
  int64_t needed = 0;
  for (int64_t i = 0; i < nq; ++i) {
    const int64_t last_q = std::min(q, (i + 1) * tq) - 1;
    needed += std::min(nk, last_q / tk + 1);
  }
  return static_cast<double>(needed) / static_cast<double>(nq * nk);
}

class PhaseRunner {
 public:
  PhaseRunner(const ArchSpec& arch, const reports::Technology& tech, const ServeSpec& s,
              ExploreCache& cache)
      : arch_(arch), tech_(tech), s_(s), cache_(cache), arch_key_(arch_yaml(arch)) {
    act_traits_ = quant::make_format(arch.act_format)->traits();
    kv_traits_ = quant::make_format(arch.kv())->traits();
    act_bits_ = storage_bits(arch.act_format);
    kv_bits_ = storage_bits(arch.kv());
    const auto& d = arch.arch.dram;
    bw_ = d.ideal ? 0 : d.bandwidth_bytes_per_cycle;
    dram_pj_ = d.energy_pj_per_byte > 0 ? d.energy_pj_per_byte : tech.dram_pj_per_byte;
  }

  Phase run(const workloads::ModelConfig& model, const workloads::WorkloadParams& params,
            bool want_timeline) {
    const workloads::Workload w = workloads::expand(model, params);
    // The pass in execution order.
    struct Ref {
      int64_t order;
      bool gemm;
      size_t i;
    };
    std::vector<Ref> refs;
    for (size_t i = 0; i < w.gemms.size(); ++i) refs.push_back({w.gemms[i].order, true, i});
    for (size_t i = 0; i < w.elementwise.size(); ++i)
      refs.push_back({w.elementwise[i].order, false, i});
    std::sort(refs.begin(), refs.end(),
              [](const Ref& a, const Ref& b) { return a.order < b.order; });

    Phase ph;
    for (const char* c : reports::kEnergyComponents) ph.energy[c] = 0;
    ph.energy["vector"] = ph.energy["quantizer"] = 0;
    const double chunks =
        std::max(1.0, std::ceil(static_cast<double>(w.tokens) / arch_.arch.array.rows));
    std::map<std::string, double> free;  // resource -> cycle it is free
    double prev_start = 0, prev_end = 0, prev_t = 0;
    bool first = true;
    auto schedule = [&](const Op& op) {
      double start, end;
      if (!s_.overlap || first) {
        start = prev_end;
        end = start + op.cycles;
      } else {
        start = std::max(prev_start + prev_t / chunks, free[op.resource]);
        end = std::max(start + op.cycles, prev_end + op.cycles / chunks);
      }
      free[op.resource] = end;
      ph.busy += op.cycles;
      ph.per_res[op.resource] += op.cycles;
      prev_start = start, prev_end = end, prev_t = op.cycles;
      first = false;
      ph.cycles = std::max(ph.cycles, end);
      if (want_timeline && op.layer == 0)
        ph.timeline.push_back({op.name, op.kind, op.resource, start, end});
    };

    for (const Ref& r : refs) {
      if (r.gemm) {
        const workloads::GemmOp& g = w.gemms[r.i];
        // The activation operand is quantized as it leaves the previous operation.
        const int64_t x_elems = g.x_distinct * g.m * g.k;
        quantize(ph, schedule, "q(" + g.name + ")", g.layer, act_traits_, act_bits_, x_elems,
                 "quantize", "quantizer", "quantizer");
        models::GemmJob job;
        job.name = g.name;
        job.m = g.m, job.n = g.n, job.k = g.k, job.batch = g.batch;
        job.x_format = arch_.act_format;
        job.w_format = g.is_attention() ? arch_.kv() : arch_.weight_format;
        const GemmTiming t = time_gemm(arch_, arch_key_, job, cache_);
        double f = 1.0;
        if (g.causal && s_.causal_skip) {
          const int64_t kv = g.kind == "scores" ? g.n : g.k;
          f = causal_fraction(g.m, kv, arch_.arch.array.rows, arch_.arch.array.cols);
        }
        ph.macs += static_cast<double>(t.stats.array.macs) * f;
        ph.dram_read += static_cast<double>(t.stats.dram.read_bytes) * f;
        ph.dram_write += static_cast<double>(t.stats.dram.write_bytes) * f;
        Op op{g.name, g.kind, "array", "gemm", g.layer, static_cast<double>(t.stats.cycles) * f};
        double pj = 0;
        for (const auto& [k, v] : t.energy) {
          if (k == "static") continue;  // added for the whole phase below
          ph.energy[k] += v * f;
          pj += v * f;
        }
        ph.add(op, pj);
        schedule(op);
      } else {
        const workloads::ElementwiseOp& e = w.elementwise[r.i];
        if (e.kind == "kv_cache_write") {
          const double bytes = static_cast<double>(e.elements) * kv_bits_ / 8.0;
          quantize(ph, schedule, e.name, e.layer, kv_traits_, kv_bits_, e.elements, "kv_write",
                   "quantizer", "kv", bytes);
          continue;
        }
        const models::VectorOpCost c =
            models::vector_op_cost(arch_.arch.vector, e.kind, e.elements, e.rows);
        // Tensors larger than the output buffer stream through DRAM; smaller ones stay on chip.
        const double bytes = static_cast<double>(e.bytes_read + e.bytes_written);
        const double dram =
            bytes > static_cast<double>(arch_.arch.output_buffer.size_bytes) ? bytes : 0.0;
        const double cycles = std::max(static_cast<double>(c.cycles), bw_ > 0 ? dram / bw_ : 0.0);
        const double lanes_pj = reports::vector_op_energy_pj(c, arch_.arch, tech_);
        ph.energy["vector"] += lanes_pj;
        ph.energy["dram"] += dram * dram_pj_;
        ph.dram_read += dram > 0 ? static_cast<double>(e.bytes_read) : 0.0;
        ph.dram_write += dram > 0 ? static_cast<double>(e.bytes_written) : 0.0;
        Op op{e.name, e.kind, "vector", "vector", e.layer, cycles};
        ph.add(op, lanes_pj + dram * dram_pj_);
        schedule(op);
      }
    }
    return ph;
  }

 private:
  template <typename Schedule>
  void quantize(Phase& ph, Schedule& schedule, const std::string& name, int64_t layer,
                const quant::FormatTraits& traits, double bits, int64_t elements, const char* kind,
                const char* resource, const char* group, double dram_write_bytes = 0) {
    const models::QuantizerCost q =
        models::quantizer_cost(arch_.arch.quantizer, traits, bits, elements);
    double cycles = static_cast<double>(q.cycles);
    if (bw_ > 0) cycles = std::max(cycles, dram_write_bytes / bw_);
    if (cycles <= 0 && dram_write_bytes <= 0) return;  // FP16 activations: nothing to do
    const double q_pj = reports::quantizer_energy_pj(q, arch_.arch, tech_);
    ph.energy["quantizer"] += q_pj;
    ph.energy["dram"] += dram_write_bytes * dram_pj_;
    ph.dram_write += dram_write_bytes;
    Op op{name, kind, resource, group, layer, cycles};
    ph.add(op, q_pj + dram_write_bytes * dram_pj_);
    schedule(op);
  }

  const ArchSpec& arch_;
  const reports::Technology& tech_;
  const ServeSpec& s_;
  ExploreCache& cache_;
  std::string arch_key_;
  quant::FormatTraits act_traits_, kv_traits_;
  double act_bits_ = 16, kv_bits_ = 16, bw_ = 0, dram_pj_ = 0;
};

std::string gib(double bytes) {
  return format_g(std::round(bytes / double(1ull << 30) * 100) / 100) + " GiB";
}

}  // namespace

ServeFootprint serve_footprint(const ArchSpec& arch, const workloads::ModelConfig& model,
                               int64_t batch, const ServeSpec& s) {
  ServeFootprint f;
  f.weight_bytes =
      static_cast<double>(model.linear_params()) * storage_bits(arch.weight_format) / 8.0;
  f.kv_bytes_per_token = static_cast<double>(model.layers) * 2.0 *
                         static_cast<double>(model.kv_dim()) * storage_bits(arch.kv()) / 8.0;
  // A sliding-window model keeps only the window's tokens.
  const int64_t tokens = s.prompt + s.gen;
  f.kv_peak_bytes = f.kv_bytes_per_token * static_cast<double>(batch) *
                    static_cast<double>(
                        model.sliding_window > 0 ? std::min(tokens, model.sliding_window) : tokens);
  return f;
}

void check_serve(const ArchSpec& arch, const workloads::ModelConfig& model, int64_t batch,
                 const ServeSpec& s) {
  if (model.kind == workloads::ModelKind::kEncoder) {
    throw Error(model.name +
                " is an encoder: it generates no tokens (--phase serve needs a "
                "decoder model; use --phase prefill)");
  }
  const ServeFootprint f = serve_footprint(arch, model, batch, s);
  const double cap = arch.arch.dram.capacity_bytes;
  if (f.weight_bytes + f.kv_peak_bytes > cap) {
    throw Error("the KV cache does not fit in DRAM: " + model.name + " weights " +
                gib(f.weight_bytes) + " (" + arch.weight_format + ") + KV cache " +
                gib(f.kv_peak_bytes) + " (batch " + std::to_string(batch) + " x " +
                std::to_string(s.prompt + s.gen) + " tokens x " +
                format_g(f.kv_bytes_per_token / 1024) + " KiB, " + arch.kv() +
                ") > dram.capacity_gib " + gib(cap) + " of architecture '" + arch.arch.name + "'");
  }
}

void serve_point(reports::PointResult& p, const ArchSpec& arch, const workloads::ModelConfig& model,
                 int64_t batch, const ServeSpec& s, const reports::Technology& tech,
                 ExploreCache& cache) {
  const double hz = arch.arch.clock_ghz * 1e9;
  PhaseRunner runner(arch, tech, s, cache);

  workloads::WorkloadParams pre;
  pre.phase = workloads::Phase::kPrefill;
  pre.batch = batch;
  pre.seq = s.prompt;
  pre.all_logits = false;  // generation: the LM head runs on each sequence's last token
  const Phase prefill = runner.run(model, pre, true);

  // Decode steps t = 0 .. gen-1 attend to prompt + t cached tokens. Simulate the samples and
  // weigh each by the linear interpolation's hat functions.
  std::vector<int64_t> steps;
  if (s.samples == 0 || s.samples >= s.gen) {
    for (int64_t t = 0; t < s.gen; ++t) steps.push_back(t);
  } else {
    for (int i = 0; i < s.samples; ++i) {
      const int64_t t = s.samples == 1 ? 0 : (s.gen - 1) * i / (s.samples - 1);
      if (steps.empty() || steps.back() != t) steps.push_back(t);
    }
  }
  std::vector<Phase> at;
  for (int64_t t : steps) {
    workloads::WorkloadParams d;
    d.phase = workloads::Phase::kDecode;
    d.batch = batch;
    d.context = s.prompt + t;
    at.push_back(runner.run(model, d, false));
  }
  std::vector<double> weight(steps.size(), 0.0), tpot_cycles(static_cast<size_t>(s.gen), 0.0);
  for (int64_t t = 0; t < s.gen; ++t) {
    size_t b = 0;
    while (b + 1 < steps.size() && steps[b] < t) ++b;
    if (steps[b] == t || b == 0) {
      weight[b] += 1;
      tpot_cycles[static_cast<size_t>(t)] = at[b].cycles;
      continue;
    }
    const size_t a = b - 1;
    const double alpha =
        static_cast<double>(t - steps[a]) / static_cast<double>(steps[b] - steps[a]);
    weight[a] += 1 - alpha;
    weight[b] += alpha;
    tpot_cycles[static_cast<size_t>(t)] = (1 - alpha) * at[a].cycles + alpha * at[b].cycles;
  }

  reports::ServeResult& r = p.serve;
  r = reports::ServeResult{};
  r.prompt = s.prompt, r.gen = s.gen, r.batch = batch;
  r.overlap = s.overlap, r.causal_skip = s.causal_skip;
  r.kv_format = arch.kv();
  r.decode_samples = static_cast<int>(steps.size());
  r.area_vector_mm2 = reports::vector_area_mm2(arch.arch, tech);
  r.area_quantizer_mm2 = std::max(
      reports::quantizer_area_mm2(
          arch.arch, models::quantizer_unit_kind(quant::make_format(arch.act_format)->traits()),
          tech),
      reports::quantizer_area_mm2(
          arch.arch, models::quantizer_unit_kind(quant::make_format(arch.kv())->traits()), tech));
  p.area_mm2["vector"] = r.area_vector_mm2;
  p.area_mm2["quantizer"] = r.area_quantizer_mm2;
  const double static_pj_per_cycle =
      tech.static_mw_per_mm2 * p.area_total_mm2() / arch.arch.clock_ghz;  // mW / GHz = pJ/cycle

  double decode_cycles = 0, macs = prefill.macs, dram_read = prefill.dram_read,
         dram_write = prefill.dram_write;
  reports::Breakdown energy = prefill.energy;
  auto shares = [&](const Phase& ph, double w) {
    for (const auto& [k, v] : ph.by_component) {
      r.by_component[k].seconds += w * v.seconds / hz;
      r.by_component[k].energy_pj += w * v.energy_pj;
    }
    for (const auto& [k, v] : ph.by_operator) {
      r.by_operator[k].seconds += w * v.seconds / hz;
      r.by_operator[k].energy_pj += w * v.energy_pj;
    }
  };
  shares(prefill, 1.0);
  double decode_dyn = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    decode_cycles += weight[i] * at[i].cycles;
    macs += weight[i] * at[i].macs;
    dram_read += weight[i] * at[i].dram_read;
    dram_write += weight[i] * at[i].dram_write;
    for (const auto& [k, v] : at[i].energy) {
      energy[k] += weight[i] * v;
      decode_dyn += weight[i] * v;
    }
    shares(at[i], weight[i]);
  }
  double prefill_dyn = 0;
  for (const auto& [k, v] : prefill.energy) prefill_dyn += v;
  energy["static"] = static_pj_per_cycle * (prefill.cycles + decode_cycles);
  r.by_component["static"].energy_pj = energy["static"];

  r.ttft_s = prefill.cycles / hz;
  r.prefill_serial_s = prefill.busy / hz;
  for (const auto& [res, c] : prefill.per_res)
    r.prefill_busiest_s = std::max(r.prefill_busiest_s, c / hz);
  for (double c : tpot_cycles) r.tpot_s.push_back(c / hz);
  r.tpot_mean_s = decode_cycles / static_cast<double>(s.gen) / hz;
  r.total_s = (prefill.cycles + decode_cycles) / hz;
  const double generated = static_cast<double>(batch * s.gen);
  r.tokens_per_s = generated / r.total_s;
  r.prefill_energy_pj = prefill_dyn + static_pj_per_cycle * prefill.cycles;
  r.decode_energy_pj = decode_dyn + static_pj_per_cycle * decode_cycles;
  r.energy_pj = reports::total(energy);
  r.j_per_token = r.energy_pj * 1e-12 / generated;
  const ServeFootprint footprint = serve_footprint(arch, model, batch, s);
  r.weight_bytes = footprint.weight_bytes;
  r.kv_bytes_per_token = footprint.kv_bytes_per_token;
  r.kv_peak_bytes = footprint.kv_peak_bytes;
  const double t0 = prefill.timeline.empty() ? 0 : prefill.timeline.front().start_s;
  for (reports::ScheduleEntry e : prefill.timeline) {
    e.start_s = (e.start_s - t0) / hz;
    e.end_s = (e.end_s - t0) / hz;
    r.timeline.push_back(e);
  }

  p.has_serve = true;
  p.cycles = static_cast<uint64_t>(std::llround(prefill.cycles + decode_cycles));
  p.seconds = r.total_s;
  p.energy_pj = energy;
  // The request's totals and roofline (finish_totals gave the prefill GEMMs').
  p.macs = static_cast<uint64_t>(std::llround(macs));
  p.dram_read_bytes = static_cast<uint64_t>(std::llround(dram_read));
  p.dram_write_bytes = static_cast<uint64_t>(std::llround(dram_write));
  const double logical_pes = p.peak_gops / (2.0 * p.clock_ghz);
  p.utilization = p.cycles > 0 ? macs / (logical_pes * static_cast<double>(p.cycles)) : 0;
  p.attained_gops = 2.0 * macs / r.total_s * 1e-9;
  const double bytes = dram_read + dram_write;
  p.op_intensity = bytes > 0 ? 2.0 * macs / bytes : 0;
  p.dram_gbps = bytes / r.total_s * 1e-9;
  p.stall_cycles = 0;  // per GEMM in gemms.csv (prefill); not summed over the schedule
  p.compute_cycles = 0;
}

}  // namespace qarch::explore
