// Whole-model serving (`qarch run --phase serve --prompt P --gen G --batch B`): the prefill of
// the prompt and one decode step per generated token, every layer and the LM head, with the
// operations a GEMM-only timing leaves out:
//   * the online quantizer (models/quantizer_unit.h) in front of every GEMM's activation
//     operand, and on every K/V write into the KV cache's format (formats.kv);
//   * the vector unit (models/vector_unit.h) for softmax, norms, activation functions, RoPE and
//     residual adds; an operation whose tensors exceed the output buffer streams them through
//     DRAM (prefill), a smaller one stays on chip (decode);
//   * the KV cache: written every token in its format, read by every decode step's attention
//     GEMMs (their W operand), its footprint checked against dram.capacity_gib.
// Every GEMM is timed by the SystemC model as in `qarch run` (cached by shape).
//
// Schedule. The pass is a chain of operations, each on one resource (array, vector,
// quantizer). Serialized (--no-overlap), each starts when the previous one ends. Overlapped
// (default), the data flows in P = ceil(tokens / array rows) row chunks: an operation starts
// once the previous one has produced its first chunk and its own resource is free, and ends no
// earlier than one chunk after the previous one ends:
//   start_i = max(start_{i-1} + t_{i-1} / P, free(resource_i)),
//   end_i = max(start_i + t_i, end_{i-1} + t_i / P).
// So a pass is never slower than serialized and never faster than its busiest resource.
// Causal masking (default on, --no-causal-skip) skips the score and context tiles above the
// diagonal in prefill: tiles of array rows (queries) x array cols (keys).
//
// Decode steps are simulated at `samples` evenly spaced contexts (first and last included) and
// linearly interpolated between them (attention cost is linear in the context; the linear
// layers do not change): --serve-samples 0 simulates every step.
#pragma once

#include <cstdint>

#include "qarch/explore/arch_config.h"
#include "qarch/explore/explore.h"
#include "qarch/reports/result.h"
#include "qarch/reports/tech.h"
#include "qarch/workloads/model.h"

namespace qarch::explore {

/// What a served request keeps in DRAM: the weights in their format, and the KV cache in
/// formats.kv (its bytes per token over all layers, and its peak: batch x (prompt + gen) tokens,
/// or the sliding window's).
struct ServeFootprint {
  double weight_bytes = 0;
  double kv_bytes_per_token = 0;
  double kv_peak_bytes = 0;
};
ServeFootprint serve_footprint(const ArchSpec& arch, const workloads::ModelConfig& model,
                               int64_t batch, const ServeSpec& s);

/// Throws qarch::Error for a request this architecture cannot serve: an encoder model, or the
/// weights plus the peak KV cache beyond dram.capacity_gib. The request's own lengths (prompt,
/// gen >= 1, prompt + gen within max_positions) are checked once, by serve_workload().
void check_serve(const ArchSpec& arch, const workloads::ModelConfig& model, int64_t batch,
                 const ServeSpec& s);

/// Serves the request and fills p.serve (has_serve) and the request totals p.cycles,
/// p.seconds, p.energy_pj (by component) and p.area_mm2 (+ vector, quantizer). `tech` is the
/// architecture's technology table (run_point's cached one); run_point has called check_serve.
void serve_point(reports::PointResult& p, const ArchSpec& arch, const workloads::ModelConfig& model,
                 int64_t batch, const ServeSpec& s, const reports::Technology& tech,
                 ExploreCache& cache);

}  // namespace qarch::explore
