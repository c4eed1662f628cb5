#include "qarch/reports/result.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace qarch::reports {

const char* const kEnergyComponents[9] = {"mac",         "accumulator", "register",
                                          "decoder",     "sram_input",  "sram_weight",
                                          "sram_output", "dram",        "static"};

double total(const Breakdown& b) {
  double s = 0;
  for (const auto& [k, v] : b) s += v;
  return s;
}

namespace {

// QSNR is +inf for an exact result; JSON has no infinity, so it is clamped to this value.
constexpr double kExactQsnrDb = 999.0;
double finite_db(double db) {
  if (std::isnan(db)) return 0;
  return std::min(db, kExactQsnrDb);
}

template <typename T>
void get(const nlohmann::json& j, const char* key, T& v) {
  if (j.contains(key)) j.at(key).get_to(v);
}

}  // namespace

void PointResult::finish_totals(int64_t logical_pes) {
  cycles = stall_cycles = compute_cycles = macs = dram_read_bytes = dram_write_bytes = 0;
  energy_pj.clear();
  for (const char* c : kEnergyComponents) energy_pj[c] = 0;
  double qsnr_sum = 0;
  int measured = 0;
  min_qsnr_db = 0;
  for (const GemmRow& g : gemms) {
    cycles += g.cycles;
    stall_cycles += g.stall_cycles;
    compute_cycles += g.compute_cycles;
    macs += g.macs;
    dram_read_bytes += g.dram_read_bytes;
    dram_write_bytes += g.dram_write_bytes;
    for (const auto& [k, v] : g.energy_pj) energy_pj[k] += v;
    if (g.has_error) {
      const double db = finite_db(g.output_qsnr_db);
      qsnr_sum += db;
      min_qsnr_db = measured == 0 ? db : std::min(min_qsnr_db, db);
      ++measured;
    }
  }
  has_accuracy = measured > 0;
  mean_qsnr_db = measured > 0 ? qsnr_sum / measured : 0;
  seconds = clock_ghz > 0 ? static_cast<double>(cycles) / (clock_ghz * 1e9) : 0;
  utilization = cycles > 0 && logical_pes > 0
                    ? static_cast<double>(macs) / (static_cast<double>(logical_pes) * cycles)
                    : 0;
  peak_gops = 2.0 * static_cast<double>(logical_pes) * clock_ghz;
  attained_gops = seconds > 0 ? 2.0 * static_cast<double>(macs) / seconds * 1e-9 : 0;
  const double bytes = static_cast<double>(dram_bytes());
  op_intensity = bytes > 0 ? 2.0 * static_cast<double>(macs) / bytes : 0;
  dram_gbps = seconds > 0 ? bytes / seconds * 1e-9 : 0;
}

std::vector<size_t> pareto_front(const std::vector<PointResult>& points) {
  // Objectives: maximize accuracy (mean QSNR), minimize energy, minimize area. A point without
  // accuracy counts as worst-accuracy, so it stays on the front only if nothing is at least as
  // cheap in both energy and area. Ties (equal in all three) keep both points.
  auto acc = [](const PointResult& p) { return p.has_accuracy ? p.mean_qsnr_db : -1e300; };
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    const PointResult& a = points[i];
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      if (j == i) continue;
      const PointResult& b = points[j];
      // Only alternatives for the same job compete: a decode point is not "better" than a
      // prefill point because it is cheaper.
      if (b.workload.name != a.workload.name) continue;
      const bool no_worse = acc(b) >= acc(a) && b.energy_total_pj() <= a.energy_total_pj() &&
                            b.area_total_mm2() <= a.area_total_mm2();
      const bool better = acc(b) > acc(a) || b.energy_total_pj() < a.energy_total_pj() ||
                          b.area_total_mm2() < a.area_total_mm2();
      dominated = no_worse && better;
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

void to_json(nlohmann::json& j, const GemmRow& r) {
  j = nlohmann::json{{"layer", r.layer},
                     {"gemm", r.gemm},
                     {"kind", r.kind},
                     {"m", r.m},
                     {"n", r.n},
                     {"k", r.k},
                     {"batch", r.batch},
                     {"cycles", r.cycles},
                     {"compute_cycles", r.compute_cycles},
                     {"stall_cycles", r.stall_cycles},
                     {"utilization", r.utilization},
                     {"macs", r.macs},
                     {"dram_read_bytes", r.dram_read_bytes},
                     {"dram_write_bytes", r.dram_write_bytes},
                     {"energy_pj", r.energy_pj},
                     {"has_error", r.has_error},
                     {"output_qsnr_db", finite_db(r.output_qsnr_db)},
                     {"output_rel_fro", r.output_rel_fro},
                     {"dataflow", r.dataflow},
                     {"mapping", r.mapping},
                     {"loop_nest", r.loop_nest},
                     {"objective", r.objective},
                     {"dram_x_bytes", r.dram_x_bytes},
                     {"dram_w_bytes", r.dram_w_bytes},
                     {"dram_y_bytes", r.dram_y_bytes},
                     {"psum_bytes", r.psum_bytes},
                     {"compulsory_bytes", r.compulsory_bytes},
                     {"traffic_lower_bound", r.traffic_lower_bound}};
  nlohmann::json ru = nlohmann::json::array();
  for (const GemmRow::Alternative& a : r.runners_up) {
    ru.push_back({{"mapping", a.mapping},
                  {"cycles", a.cycles},
                  {"energy_pj", a.energy_pj},
                  {"dram_bytes", a.dram_bytes}});
  }
  j["runners_up"] = ru;
}

void from_json(const nlohmann::json& j, GemmRow& r) {
  get(j, "layer", r.layer);
  get(j, "gemm", r.gemm);
  get(j, "kind", r.kind);
  get(j, "m", r.m);
  get(j, "n", r.n);
  get(j, "k", r.k);
  get(j, "batch", r.batch);
  get(j, "cycles", r.cycles);
  get(j, "compute_cycles", r.compute_cycles);
  get(j, "stall_cycles", r.stall_cycles);
  get(j, "utilization", r.utilization);
  get(j, "macs", r.macs);
  get(j, "dram_read_bytes", r.dram_read_bytes);
  get(j, "dram_write_bytes", r.dram_write_bytes);
  get(j, "energy_pj", r.energy_pj);
  get(j, "has_error", r.has_error);
  get(j, "output_qsnr_db", r.output_qsnr_db);
  get(j, "output_rel_fro", r.output_rel_fro);
  get(j, "dataflow", r.dataflow);
  get(j, "mapping", r.mapping);
  get(j, "loop_nest", r.loop_nest);
  get(j, "objective", r.objective);
  get(j, "dram_x_bytes", r.dram_x_bytes);
  get(j, "dram_w_bytes", r.dram_w_bytes);
  get(j, "dram_y_bytes", r.dram_y_bytes);
  get(j, "psum_bytes", r.psum_bytes);
  get(j, "compulsory_bytes", r.compulsory_bytes);
  get(j, "traffic_lower_bound", r.traffic_lower_bound);
  r.runners_up.clear();
  if (j.contains("runners_up") && j.at("runners_up").is_array()) {
    for (const auto& e : j.at("runners_up")) {
      GemmRow::Alternative a;
      get(e, "mapping", a.mapping);
      get(e, "cycles", a.cycles);
      get(e, "energy_pj", a.energy_pj);
      get(e, "dram_bytes", a.dram_bytes);
      r.runners_up.push_back(a);
    }
  }
}

void to_json(nlohmann::json& j, const ServeResult& s) {
  nlohmann::json comp = nlohmann::json::object(), ops = nlohmann::json::object();
  for (const auto& [k, v] : s.by_component)
    comp[k] = {{"seconds", v.seconds}, {"energy_pj", v.energy_pj}};
  for (const auto& [k, v] : s.by_operator)
    ops[k] = {{"seconds", v.seconds}, {"energy_pj", v.energy_pj}};
  nlohmann::json tl = nlohmann::json::array();
  for (const ScheduleEntry& e : s.timeline) {
    tl.push_back({{"op", e.op},
                  {"kind", e.kind},
                  {"resource", e.resource},
                  {"start_s", e.start_s},
                  {"end_s", e.end_s}});
  }
  j = nlohmann::json{{"prompt", s.prompt},
                     {"gen", s.gen},
                     {"batch", s.batch},
                     {"overlap", s.overlap},
                     {"causal_skip", s.causal_skip},
                     {"kv_format", s.kv_format},
                     {"ttft_s", s.ttft_s},
                     {"prefill_serial_s", s.prefill_serial_s},
                     {"prefill_busiest_s", s.prefill_busiest_s},
                     {"tpot_s", s.tpot_s},
                     {"tpot_mean_s", s.tpot_mean_s},
                     {"total_s", s.total_s},
                     {"tokens_per_s", s.tokens_per_s},
                     {"energy_pj", s.energy_pj},
                     {"j_per_token", s.j_per_token},
                     {"prefill_energy_pj", s.prefill_energy_pj},
                     {"decode_energy_pj", s.decode_energy_pj},
                     {"weight_bytes", s.weight_bytes},
                     {"kv_bytes_per_token", s.kv_bytes_per_token},
                     {"kv_peak_bytes", s.kv_peak_bytes},
                     {"decode_samples", s.decode_samples},
                     {"by_component", comp},
                     {"by_operator", ops},
                     {"timeline", tl},
                     {"area_vector_mm2", s.area_vector_mm2},
                     {"area_quantizer_mm2", s.area_quantizer_mm2}};
}

void from_json(const nlohmann::json& j, ServeResult& s) {
  get(j, "prompt", s.prompt);
  get(j, "gen", s.gen);
  get(j, "batch", s.batch);
  get(j, "overlap", s.overlap);
  get(j, "causal_skip", s.causal_skip);
  get(j, "kv_format", s.kv_format);
  get(j, "ttft_s", s.ttft_s);
  get(j, "prefill_serial_s", s.prefill_serial_s);
  get(j, "prefill_busiest_s", s.prefill_busiest_s);
  get(j, "tpot_s", s.tpot_s);
  get(j, "tpot_mean_s", s.tpot_mean_s);
  get(j, "total_s", s.total_s);
  get(j, "tokens_per_s", s.tokens_per_s);
  get(j, "energy_pj", s.energy_pj);
  get(j, "j_per_token", s.j_per_token);
  get(j, "prefill_energy_pj", s.prefill_energy_pj);
  get(j, "decode_energy_pj", s.decode_energy_pj);
  get(j, "weight_bytes", s.weight_bytes);
  get(j, "kv_bytes_per_token", s.kv_bytes_per_token);
  get(j, "kv_peak_bytes", s.kv_peak_bytes);
  get(j, "decode_samples", s.decode_samples);
  get(j, "area_vector_mm2", s.area_vector_mm2);
  get(j, "area_quantizer_mm2", s.area_quantizer_mm2);
  auto shares = [&](const char* key, std::map<std::string, ServeShare>& out) {
    out.clear();
    if (!j.contains(key) || !j.at(key).is_object()) return;
    for (const auto& [k, v] : j.at(key).items()) {
      ServeShare sh;
      get(v, "seconds", sh.seconds);
      get(v, "energy_pj", sh.energy_pj);
      out[k] = sh;
    }
  };
  shares("by_component", s.by_component);
  shares("by_operator", s.by_operator);
  s.timeline.clear();
  if (j.contains("timeline") && j.at("timeline").is_array()) {
    for (const auto& e : j.at("timeline")) {
      ScheduleEntry t;
      get(e, "op", t.op);
      get(e, "kind", t.kind);
      get(e, "resource", t.resource);
      get(e, "start_s", t.start_s);
      get(e, "end_s", t.end_s);
      s.timeline.push_back(t);
    }
  }
}

void to_json(nlohmann::json& j, const WorkloadDesc& w) {
  j = nlohmann::json{{"name", w.name},     {"model", w.model},  {"phase", w.phase},
                     {"batch", w.batch},   {"seq", w.seq},      {"context", w.context},
                     {"layers", w.layers}, {"tokens", w.tokens}};
}

void from_json(const nlohmann::json& j, WorkloadDesc& w) {
  get(j, "name", w.name);
  get(j, "model", w.model);
  get(j, "phase", w.phase);
  get(j, "batch", w.batch);
  get(j, "seq", w.seq);
  get(j, "context", w.context);
  get(j, "layers", w.layers);
  get(j, "tokens", w.tokens);
}

void to_json(nlohmann::json& j, const PointResult& p) {
  j = nlohmann::json{{"id", p.id},
                     {"arch", p.arch},
                     {"arch_file", p.arch_file},
                     {"params", p.params},
                     {"pe", p.pe},
                     {"act_format", p.act_format},
                     {"weight_format", p.weight_format},
                     {"dataflow", p.dataflow},
                     {"rows", p.rows},
                     {"cols", p.cols},
                     {"clock_ghz", p.clock_ghz},
                     {"tech_node", p.tech_node},
                     {"workload", p.workload},
                     {"cycles", p.cycles},
                     {"stall_cycles", p.stall_cycles},
                     {"compute_cycles", p.compute_cycles},
                     {"macs", p.macs},
                     {"dram_read_bytes", p.dram_read_bytes},
                     {"dram_write_bytes", p.dram_write_bytes},
                     {"seconds", p.seconds},
                     {"utilization", p.utilization},
                     {"energy_pj", p.energy_pj},
                     {"area_mm2", p.area_mm2},
                     {"has_accuracy", p.has_accuracy},
                     {"mean_qsnr_db", p.mean_qsnr_db},
                     {"min_qsnr_db", p.min_qsnr_db},
                     {"peak_gops", p.peak_gops},
                     {"attained_gops", p.attained_gops},
                     {"op_intensity", p.op_intensity},
                     {"dram_gbps", p.dram_gbps},
                     {"dram_peak_gbps", p.dram_peak_gbps},
                     {"gemms", p.gemms}};
  if (p.has_serve) j["serve"] = p.serve;
}

void from_json(const nlohmann::json& j, PointResult& p) {
  get(j, "id", p.id);
  get(j, "arch", p.arch);
  get(j, "arch_file", p.arch_file);
  get(j, "params", p.params);
  get(j, "pe", p.pe);
  get(j, "act_format", p.act_format);
  get(j, "weight_format", p.weight_format);
  get(j, "dataflow", p.dataflow);
  get(j, "rows", p.rows);
  get(j, "cols", p.cols);
  get(j, "clock_ghz", p.clock_ghz);
  get(j, "tech_node", p.tech_node);
  get(j, "workload", p.workload);
  get(j, "cycles", p.cycles);
  get(j, "stall_cycles", p.stall_cycles);
  get(j, "compute_cycles", p.compute_cycles);
  get(j, "macs", p.macs);
  get(j, "dram_read_bytes", p.dram_read_bytes);
  get(j, "dram_write_bytes", p.dram_write_bytes);
  get(j, "seconds", p.seconds);
  get(j, "utilization", p.utilization);
  get(j, "energy_pj", p.energy_pj);
  get(j, "area_mm2", p.area_mm2);
  get(j, "has_accuracy", p.has_accuracy);
  get(j, "mean_qsnr_db", p.mean_qsnr_db);
  get(j, "min_qsnr_db", p.min_qsnr_db);
  get(j, "peak_gops", p.peak_gops);
  get(j, "attained_gops", p.attained_gops);
  get(j, "op_intensity", p.op_intensity);
  get(j, "dram_gbps", p.dram_gbps);
  get(j, "dram_peak_gbps", p.dram_peak_gbps);
  get(j, "gemms", p.gemms);
  p.has_serve = j.contains("serve") && j.at("serve").is_object();
  p.serve = ServeResult{};
  if (p.has_serve) from_json(j.at("serve"), p.serve);
}

void to_json(nlohmann::json& j, const Report& r) {
  j = nlohmann::json{{"title", r.title},
                     {"generator", r.generator},
                     {"points", r.points},
                     {"pareto", r.pareto},
                     {"notes", r.notes}};
}

void from_json(const nlohmann::json& j, Report& r) {
  get(j, "title", r.title);
  get(j, "generator", r.generator);
  get(j, "points", r.points);
  get(j, "pareto", r.pareto);
  get(j, "notes", r.notes);
}

}  // namespace qarch::reports
