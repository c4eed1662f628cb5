// The results of an exploration, as every report writer, `qarch report` and the sweep shards see
// them: one PointResult per (accelerator, workload) pair, each holding one GemmRow per simulated
// GEMM. Everything here is plain data with a JSON round trip (to_json / from_json), so a shard's
// point files can be merged by another process and the merge is byte-identical to an unsharded
// run (no host times, no absolute paths, maps with sorted keys).
//
// Units: cycles are accelerator clock cycles; seconds derive from ArchConfig::clock_ghz; energy
// in pJ; area in mm^2; accuracy as the QSNR in dB of each GEMM's output Y = Q(X) Q(W)^T against
// the FP32 product (higher is better; +inf, written as 999, when exact).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace qarch::reports {

/// Component -> value (pJ for energy, mm^2 for area). Sorted by name; writers present them in
/// the order of kEnergyComponents / the area list.
using Breakdown = std::map<std::string, double>;

/// The energy components every energy model fills (missing ones are 0), in display order:
///   mac          MAC operations by PE type (ArrayStats::macs_by_type)
///   accumulator  scale-segment closes: scale, round, FP32 add (ArrayStats::segment_closes)
///   register     PE operand and partial-sum register reads and writes
///   decoder      border decoder operations
///   sram_input, sram_weight, sram_output   SRAM bytes (DMA side and array side)
///   dram         DRAM bytes read and written
///   static       leakage power x time (area-proportional)
extern const char* const kEnergyComponents[9];

/// Sum of a breakdown's values.
double total(const Breakdown& b);

/// One simulated GEMM (one row of the per-layer CSV).
struct GemmRow {
  std::string
      layer;  ///< decoder layer index as text ("0", "31"), "head" (LM head), or "" (imported)
  std::string gemm;  ///< unique name ("layers.3.attn.qkv", "lm_head", SCALE-Sim layer name)
  std::string
      kind;  ///< qkv | attn_out | gate | up | down | router | scores | context | lm_head | gemm
  int64_t m = 0, n = 0, k = 0, batch = 1;
  uint64_t cycles = 0;          ///< simulated cycles of this GEMM alone, first load to last store
  uint64_t compute_cycles = 0;  ///< the array's fold cycles at full rate
  uint64_t stall_cycles = 0;    ///< cycles - busy cycles: the array idle, waiting for memory
  double utilization = 0;       ///< useful MACs / (logical PEs x cycles)
  uint64_t macs = 0;
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  Breakdown energy_pj;        ///< by kEnergyComponents
  bool has_error = false;     ///< accuracy measured for this GEMM
  double output_qsnr_db = 0;  ///< layer-output QSNR vs FP32 (dB)
  double output_rel_fro = 0;  ///< |Y - Y_fp32|_F / |Y_fp32|_F

  // The mapper's choice (models/mapper.h) and its traffic.
  std::string dataflow;   ///< "os" | "ws" | "is" chosen for this GEMM
  std::string mapping;    ///< compact mapping key ("os 128x128x256 nkm X@1 W@3 Y@3")
  std::string loop_nest;  ///< the loop nest, one loop a line (Timeloop-style)
  std::string objective;  ///< latency | energy | edp
  uint64_t dram_x_bytes = 0, dram_w_bytes = 0, dram_y_bytes = 0;  ///< DRAM bytes by operand
  uint64_t psum_bytes = 0;           ///< of dram_y_bytes: partial sums spilled and read back
  uint64_t compulsory_bytes = 0;     ///< each operand moved once
  uint64_t traffic_lower_bound = 0;  ///< communication lower bound for the buffer sizes
  /// The next best mappings for the objective: key, estimated cycles, energy (pJ), DRAM bytes.
  struct Alternative {
    std::string mapping;
    double cycles = 0, energy_pj = 0;
    uint64_t dram_bytes = 0;
  };
  std::vector<Alternative> runners_up;

  double energy_total_pj() const { return total(energy_pj); }
  /// DRAM bytes over the compulsory bytes (1 = each operand moved once); 0 when unknown.
  double traffic_ratio() const {
    return compulsory_bytes ? static_cast<double>(dram_read_bytes + dram_write_bytes) /
                                  static_cast<double>(compulsory_bytes)
                            : 0.0;
  }
};

/// What was run: a zoo model expansion or an explicit GEMM list (SCALE-Sim import).
struct WorkloadDesc {
  std::string name;   ///< "llama2-7b prefill 2048" (display)
  std::string model;  ///< zoo name or model file stem; "" for an explicit GEMM list
  std::string phase;  ///< "prefill" | "decode" | "" (GEMM list)
  int64_t batch = 1, seq = 0, context = 0;
  std::string layers;  ///< layer selection ("all", "0", "0-3,head")
  int64_t tokens = 0;
};

/// One operation of a layer's schedule (a whole-model run's timeline).
struct ScheduleEntry {
  std::string op;        ///< "layers.0.attn.qkv", "layers.0.attn.softmax", ...
  std::string kind;      ///< GEMM kind, vector op kind, "quantize" or "kv_write"
  std::string resource;  ///< array | vector | quantizer
  double start_s = 0, end_s = 0;
};

/// Time and energy of one group of operations (a component or an operator type).
struct ServeShare {
  double seconds = 0;  ///< busy time (serialized; overlapped runs hide part of it)
  double energy_pj = 0;
};

/// A served request on the whole model (--phase serve): prefill of the prompt, then one decode
/// step per generated token, every layer and the LM head.
struct ServeResult {
  int64_t prompt = 0, gen = 0, batch = 1;
  bool overlap = true, causal_skip = true;
  std::string kv_format;
  double ttft_s = 0;             ///< prefill of the prompt (the first token's latency)
  double prefill_serial_s = 0;   ///< the prefill's operations back to back (no overlap)
  double prefill_busiest_s = 0;  ///< the prefill's busiest resource (array, vector, quantizer)
  std::vector<double> tpot_s;    ///< per decode step
  double tpot_mean_s = 0;
  double total_s = 0;       ///< ttft + the decode steps
  double tokens_per_s = 0;  ///< generated tokens (batch x gen) / total_s
  double energy_pj = 0;     ///< the whole request
  double j_per_token = 0;   ///< energy / generated tokens
  double prefill_energy_pj = 0, decode_energy_pj = 0;
  double weight_bytes = 0;        ///< stored weights (all linear layers, their format)
  double kv_bytes_per_token = 0;  ///< K and V of one token, all layers, in kv_format
  double kv_peak_bytes = 0;       ///< batch x (prompt + gen) tokens
  int decode_samples = 0;         ///< decode steps simulated; the others interpolated
  std::map<std::string, ServeShare> by_component;  ///< gemm | vector | quantizer | kv
  std::map<std::string, ServeShare> by_operator;   ///< qkv, softmax, rmsnorm, quantize, ...
  std::vector<ScheduleEntry> timeline;             ///< prefill, layer 0
  double area_vector_mm2 = 0, area_quantizer_mm2 = 0;
};

/// One accelerator on one workload.
struct PointResult {
  std::string id;         ///< unique within a report: sweep point id, or the architecture name
  std::string arch;       ///< architecture name (the YAML's `name`)
  std::string arch_file;  ///< as given on the command line / in the sweep file (relative)
  std::map<std::string, std::string> params;  ///< sweep parameters of this point (path -> value)
  std::string pe;                             ///< PE type
  std::string act_format, weight_format;      ///< canonical specs
  std::string dataflow;                       ///< "os" | "ws" | "is"
  int rows = 0, cols = 0;
  double clock_ghz = 1;
  std::string tech_node;  ///< "45nm", "22nm", ...
  WorkloadDesc workload;

  // Totals over the GEMMs.
  uint64_t cycles = 0, stall_cycles = 0, compute_cycles = 0, macs = 0;
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  double seconds = 0;
  double utilization = 0;
  Breakdown energy_pj;  ///< by component
  Breakdown area_mm2;   ///< by component ("pe_array", "decoders", "sram_input", ...)
  /// Accuracy over GEMMs with has_error: the mean and the worst output QSNR (dB); has_accuracy
  /// false when nothing was measured (shape-only runs, imported GEMM lists).
  bool has_accuracy = false;
  double mean_qsnr_db = 0, min_qsnr_db = 0;
  /// Roofline: peak = 2 x logical PEs x clock; attained = 2 x MACs / seconds;
  /// intensity = 2 x MACs / DRAM bytes.
  double peak_gops = 0, attained_gops = 0, op_intensity = 0, dram_gbps = 0;
  /// The architecture's DRAM bandwidth in GB/s (the roofline's slope); 0 when idealized.
  double dram_peak_gbps = 0;

  std::vector<GemmRow> gemms;
  /// Whole-model serving (--phase serve): then cycles, seconds and energy_pj above are the
  /// whole request's and `gemms` are the prefill's GEMMs.
  bool has_serve = false;
  ServeResult serve;

  double energy_total_pj() const { return total(energy_pj); }
  double area_total_mm2() const { return total(area_mm2); }
  uint64_t dram_bytes() const { return dram_read_bytes + dram_write_bytes; }
  /// Recomputes the totals above from `gemms` (energy, cycles, bytes, accuracy, roofline) and
  /// area_mm2 as given; `logical_pes` is the MAC units of the array.
  void finish_totals(int64_t logical_pes);
};

/// A set of points shown together.
struct Report {
  std::string title;
  std::string generator;            ///< "qarch 0.1.0"
  std::vector<PointResult> points;  ///< sorted by id by the merge
  /// Indices into points on the Pareto front (pareto_front()).
  std::vector<size_t> pareto;
  std::vector<std::string> notes;  ///< free text shown on the page (configuration, caveats)
};

/// Points not dominated in (higher mean QSNR, lower energy, lower area) by a point of the same
/// workload (WorkloadDesc::name), ascending index. A point without accuracy counts as the least
/// accurate, so it stays on the front only if nothing of its workload is as cheap in both energy
/// and area.
std::vector<size_t> pareto_front(const std::vector<PointResult>& points);

void to_json(nlohmann::json& j, const GemmRow& r);
void from_json(const nlohmann::json& j, GemmRow& r);
void to_json(nlohmann::json& j, const ServeResult& s);
void from_json(const nlohmann::json& j, ServeResult& s);
void to_json(nlohmann::json& j, const WorkloadDesc& w);
void from_json(const nlohmann::json& j, WorkloadDesc& w);
void to_json(nlohmann::json& j, const PointResult& p);
void from_json(const nlohmann::json& j, PointResult& p);
void to_json(nlohmann::json& j, const Report& r);
void from_json(const nlohmann::json& j, Report& r);

}  // namespace qarch::reports
