// The exploration pipeline behind `qarch run | compare | sweep | demo`: one architecture on one
// workload -> one reports::PointResult. Data flows one way:
//   workloads (model expansion, or an explicit GEMM list)
//     -> quant (accuracy: TraceBuilder quantizes generated/real operands of sampled layers and
//        measures every GEMM's output error against FP32 with the hardware's arithmetic)
//     -> models (timing: models::simulate, tile mode, one simulation per distinct GEMM shape)
//     -> reports (energy = events x technology table; area = components x area table).
//
// Two caches make compare/sweep cheap, both keyed by everything the result depends on:
//   accuracy  depends on (model, workload, layer, GEMM, formats, sampling, seed), not on the
//             array: computed once per key and shared by every architecture (DESIGN.md);
//   timing    depends on (architecture, GEMM shape, formats): the layers of a transformer share
//             their shapes, so a 32-layer model simulates ~10 distinct GEMMs, not 224.
// Simplifications (stated in every report's notes): each GEMM is simulated alone (no overlap of
// one GEMM's write-back with the next one's loads), element-wise operations and KV-cache writes
// are not timed, and attention GEMMs run every (sequence, head) instance back to back.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "qarch/explore/arch_config.h"
#include "qarch/models/job.h"
#include "qarch/models/stats.h"
#include "qarch/reports/result.h"
#include "qarch/workloads/gemm_list.h"
#include "qarch/workloads/workload.h"

namespace qarch::explore {

/// A served request on the whole model (serve.h): prompt prefill, then `gen` decode steps.
struct ServeSpec {
  int64_t prompt = 2048;  ///< prompt tokens per sequence
  int64_t gen = 256;      ///< generated tokens per sequence (decode steps)
  bool overlap = true;    ///< pipelined schedule (serve.h), else serialized
  bool causal_skip = true;
  int samples = 17;  ///< decode steps simulated, the others interpolated (0: all)
};

/// What to run: a zoo model (or model YAML) expanded for a phase, or an explicit GEMM list.
struct WorkloadSpec {
  std::string model;  ///< zoo name or model YAML path ("" when gemm_list is used)
  workloads::WorkloadParams params;
  std::string layers = "all";  ///< layer selection (workloads::parse_layers)
  std::string gemm_list;       ///< GEMM-list YAML path (workloads/gemm_list.h), else ""
  /// A quantized layer trace directory (`qarch trace`), else "": its GEMMs are timed and its
  /// recorded layer-output errors are the accuracy (the architecture's formats must be the
  /// trace's).
  std::string trace;
  std::string outliers;  ///< outlier profile (built-in name or YAML), "" = model default
  std::string tensors;   ///< tensor bindings YAML, "" = generated operands
  /// --phase serve: params is the prompt's prefill (all_logits false) and serve_spec the rest;
  /// the point's totals are the whole request's (serve.h).
  bool serve = false;
  ServeSpec serve_spec;

  /// "llama2-7b prefill 2048" / "llama2-7b decode ctx 2047" / the GEMM list's name.
  std::string describe() const;
};

/// A model workload with `qarch trace`'s defaults: prefill seq = min(2048, max_positions),
/// decode context = that minus one (seq / context < 0: default; giving the other phase's
/// length is an error). Loads the model (zoo name or YAML) to check the lengths.
WorkloadSpec model_workload(const std::string& model, const std::string& phase, int64_t seq,
                            int64_t context, int64_t batch, const std::string& layers);

/// A served request (--phase serve): the prompt's prefill plus `s`; prompt < 0 takes
/// min(2048, max_positions - gen). Checks the lengths.
WorkloadSpec serve_workload(const std::string& model, int64_t prompt, int64_t batch,
                            const ServeSpec& s);

/// How accuracy is measured.
struct AccuracyOptions {
  bool enabled = true;
  /// Layers whose GEMMs are quantized and measured: "auto" (the first, middle and last
  /// selected layer, and the LM head if selected), "all", or a layer list ("0,15,head").
  /// Unmeasured GEMMs have has_error = false; the point's accuracy is over measured ones.
  std::string layers = "auto";
  int64_t sample_rows = 256;   ///< activation rows quantized per operand (0: all)
  int64_t weight_rows = 1024;  ///< weight rows quantized per weight (0: all)
  int64_t error_rows = 32;     ///< rows x cols of Y compared against FP32
  int64_t error_cols = 256;
  uint64_t seed = 1;
};

/// Caches shared by the points of one process (thread-safe).
class ExploreCache {
 public:
  ExploreCache();
  ~ExploreCache();
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// Resolves an --arch argument: an existing file, else a built-in configuration name
/// (builtin_arch_names(): "int8", "olive", ...). Throws qarch::Error listing both if neither.
ArchSpec resolve_arch(const std::string& arg, const std::vector<Override>& overrides = {});
/// Names of the configurations compiled into qarch (configs/*.yaml).
std::vector<std::string> builtin_arch_names();
/// YAML text of a built-in configuration, or "" if there is none of that name.
std::string builtin_arch_yaml(const std::string& name);

/// Timing and energy of one GEMM job alone on an architecture, cached in `cache` by the
/// architecture, the shape and the formats (what run_point uses for every GEMM).
struct GemmTiming {
  models::Stats stats;
  reports::Breakdown energy;  ///< by reports::kEnergyComponents
};
GemmTiming time_gemm(const ArchSpec& arch, const models::GemmJob& job, ExploreCache& cache);
/// The same with the architecture's cache key given (arch_yaml(arch), computed once by callers
/// that time many GEMMs).
GemmTiming time_gemm(const ArchSpec& arch, const std::string& arch_key, const models::GemmJob& job,
                     ExploreCache& cache);

/// Runs one architecture on one workload. `id` names the point; `arch_file` is recorded as
/// given. Throws qarch::Error for impossible requests (before simulating anything).
reports::PointResult run_point(const std::string& id, const ArchSpec& arch,
                               const WorkloadSpec& workload, const AccuracyOptions& accuracy,
                               ExploreCache& cache);

/// The notes every report carries about what the pipeline models and what it does not.
std::vector<std::string> pipeline_notes();

}  // namespace qarch::explore
