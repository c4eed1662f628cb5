#include "qarch/models/vector_unit.h"

#include <algorithm>
#include <cmath>

#include "qarch/common/error.h"
#include "qarch/quant/fp_element.h"

namespace qarch::models {
namespace {

struct OpShape {
  const char* kind;
  VectorOpCounts per_element;  // lane operations per output element
  int row_divs;                // reciprocals / rsqrts per row
  int reductions;              // adder-tree reductions per row
  int passes;                  // reads of the operand
  int inputs;                  // operands read per element
};

// See the file comment of vector_unit.h for where each count comes from.
const OpShape kOps[] = {
    {"softmax", {2, 1, 1, 1, 0}, 1, 2, 3, 1},      {"rmsnorm", {1, 3, 0, 0, 0}, 1, 1, 2, 1},
    {"layernorm", {3, 3, 0, 0, 0}, 1, 2, 3, 1},    {"rotary", {1, 2, 0, 0, 0}, 0, 0, 1, 1},
    {"silu", {1, 0, 0, 1, 1}, 0, 0, 1, 1},         {"silu_mul", {1, 1, 0, 1, 1}, 0, 0, 1, 2},
    {"gelu", {3, 5, 0, 1, 1}, 0, 0, 1, 1},         {"gelu_mul", {3, 6, 0, 1, 1}, 0, 0, 1, 2},
    {"gelu_new", {3, 5, 0, 1, 1}, 0, 0, 1, 1},     {"gelu_new_mul", {3, 6, 0, 1, 1}, 0, 0, 1, 2},
    {"relu", {0, 0, 1, 0, 0}, 0, 0, 1, 1},         {"relu_mul", {0, 1, 1, 0, 0}, 0, 0, 1, 2},
    {"residual_add", {1, 0, 0, 0, 0}, 0, 0, 1, 2}, {"moe_combine", {1, 1, 0, 0, 0}, 0, 0, 1, 2},
    {"moe_topk", {0, 0, 1, 0, 0}, 0, 0, 1, 1},     {"embedding", {0, 0, 0, 0, 0}, 0, 0, 1, 1},
    {"moe_dispatch", {0, 0, 0, 0, 0}, 0, 0, 1, 1}, {"kv_cache_write", {0, 0, 0, 0, 0}, 0, 0, 1, 1},
};

const OpShape& find_op(const std::string& kind) {
  for (const OpShape& o : kOps)
    if (kind == o.kind) return o;
  std::string known;
  for (const OpShape& o : kOps) known += (known.empty() ? "" : ", ") + std::string(o.kind);
  throw Error("vector unit: unknown operation '" + kind + "' (known: " + known + ")");
}

int ceil_log2(int64_t n) {
  int b = 0;
  while ((int64_t{1} << b) < n) ++b;
  return b;
}

// Rounds to the unit's precision: FP16 (round to nearest even, saturating) or FP32 (as is).
float rnd(const VectorUnitConfig& v, float x) {
  return v.precision_bits == 16 ? quant::fp_round(quant::kFP16, x) : x;
}

}  // namespace

const std::vector<std::string>& vector_op_kinds() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> out;
    for (const OpShape& o : kOps) out.push_back(o.kind);
    return out;
  }();
  return k;
}

VectorOpCost vector_op_cost(const VectorUnitConfig& v, const std::string& kind, int64_t elements,
                            int64_t rows, int64_t elem_bytes) {
  const OpShape& o = find_op(kind);
  if (elements < 0 || rows < 0) throw Error("vector unit: negative size for " + kind);
  VectorOpCost c;
  c.kind = kind;
  c.passes = o.passes;
  const uint64_t e = static_cast<uint64_t>(elements), r = static_cast<uint64_t>(rows);
  c.ops.add = o.per_element.add * e;
  c.ops.mul = o.per_element.mul * e;
  c.ops.cmp = o.per_element.cmp * e;
  c.ops.exp = o.per_element.exp * e;
  c.ops.div = o.per_element.div * e + static_cast<uint64_t>(o.row_divs) * r;
  if (elements == 0) return c;
  // Lane cycles: simple ops one per lane per cycle, exp and div occupy a lane longer.
  const uint64_t lane_cycles = c.ops.add + c.ops.mul + c.ops.cmp +
                               c.ops.exp * static_cast<uint64_t>(v.exp_cycles) +
                               c.ops.div * static_cast<uint64_t>(v.div_cycles);
  const uint64_t lanes = static_cast<uint64_t>(v.lanes);
  uint64_t cycles = (lane_cycles + lanes - 1) / lanes;
  // Each pass fills the pipeline once; each row reduction ends in a log2(lanes) adder tree
  // (rows reduce in sequence: a row's result is needed before its next pass).
  cycles += static_cast<uint64_t>(o.passes) * static_cast<uint64_t>(v.latency_cycles);
  cycles += static_cast<uint64_t>(o.reductions) * r * static_cast<uint64_t>(ceil_log2(v.lanes));
  c.cycles = cycles;
  c.sram_bytes = e * static_cast<uint64_t>(elem_bytes) *
                 (static_cast<uint64_t>(o.passes) * static_cast<uint64_t>(o.inputs) + 1);
  return c;
}

void vector_softmax(const VectorUnitConfig& v, float* x, int64_t n) {
  if (n <= 0) return;
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = std::max(m, x[i]);
  // Reductions accumulate in FP32 (as FP16 vector units do); each element result is rounded.
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = rnd(v, std::exp(rnd(v, x[i] - m)));
    sum += x[i];
  }
  const float inv = rnd(v, 1.0f / sum);
  for (int64_t i = 0; i < n; ++i) x[i] = rnd(v, x[i] * inv);
}

void vector_rmsnorm(const VectorUnitConfig& v, const float* x, const float* gamma, float* out,
                    int64_t n, float eps) {
  if (n <= 0) return;
  float ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float r = rnd(v, 1.0f / std::sqrt(ss / static_cast<float>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = rnd(v, rnd(v, x[i] * r) * gamma[i]);
}

void vector_layernorm(const VectorUnitConfig& v, const float* x, const float* gamma,
                      const float* beta, float* out, int64_t n, float eps) {
  if (n <= 0) return;
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  const float mean = s / static_cast<float>(n);
  float ss = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float d = x[i] - mean;
    ss += d * d;
  }
  const float r = rnd(v, 1.0f / std::sqrt(ss / static_cast<float>(n) + eps));
  for (int64_t i = 0; i < n; ++i) {
    out[i] = rnd(v, rnd(v, rnd(v, rnd(v, x[i] - mean) * r) * gamma[i]) + beta[i]);
  }
}

}  // namespace qarch::models
