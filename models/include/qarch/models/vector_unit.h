// The vector unit of whole-model runs: what each element-wise operation of a transformer costs
// on VectorUnitConfig's SIMD lanes (cycles, lane operations by class, SRAM traffic), and the
// unit's arithmetic for softmax and the norms, in its precision, so its outputs can be checked
// against an FP32/FP64 reference.
//
// Operation counts per output element (the standard formulations; the reduction steps are one
// lane op per element plus a log2(lanes) adder tree per row):
//   softmax        max (1 cmp), x - max (1 add), exp (1), sum (1 add), x * (1/sum) (1 mul);
//                  one reciprocal per row. Three passes over the row.
//   rmsnorm        x^2 (1 mul), sum (1 add), x * rsqrt (1 mul), * gamma (1 mul); one rsqrt per
//                  row. Two passes.
//   layernorm      sum (1 add), x - mean (1 add), ^2 (1 mul), sum (1 add), * rsqrt (1 mul),
//                  * gamma (1 mul), + beta (1 add); one rsqrt per row. Three passes.
//   rotary         a pair (x0, x1) -> (x0 c - x1 s, x0 s + x1 c): 2 mul + 1 add per element.
//   silu / silu_mul   x / (1 + exp(-x)): exp, add, div (+ 1 mul for the gate product).
//   gelu / gelu_mul   tanh form 0.5 x (1 + tanh(0.79788 (x + 0.044715 x^3))), tanh via exp:
//                  5 mul + 3 add + exp + div (+ 1 mul for the gate product).
//   relu           1 cmp.  residual_add, moe_combine: 1 add (+ 1 mul for combine weights).
//   moe_topk       one compare per (token, expert) score read (elements = top_k per token).
//   embedding, moe_dispatch, kv_cache_write: data movement only (no lane operations).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/models/arch.h"

namespace qarch::models {

/// Lane operations of one vector operation, by class.
struct VectorOpCounts {
  uint64_t add = 0, mul = 0, cmp = 0, exp = 0, div = 0;
  uint64_t total() const { return add + mul + cmp + exp + div; }
};

/// The cost of one element-wise operation on the vector unit.
struct VectorOpCost {
  std::string kind;
  VectorOpCounts ops;
  int passes = 1;           ///< reads of the operand (softmax: 3)
  uint64_t cycles = 0;      ///< lane-limited cycles plus pipeline and reduction latency
  uint64_t sram_bytes = 0;  ///< bytes the lanes read and write in the on-chip buffer
};

/// The operation kinds vector_op_cost() knows (workloads::ElementwiseOp::kind).
const std::vector<std::string>& vector_op_kinds();

/// Cost of `kind` over `elements` output elements in `rows` independent rows (the reduction
/// axis for softmax and norms: rows = tokens x heads for softmax, tokens for norms), reading
/// `inputs_per_element` operands per element at `elem_bytes` each. Throws qarch::Error for an
/// unknown kind.
VectorOpCost vector_op_cost(const VectorUnitConfig& v, const std::string& kind, int64_t elements,
                            int64_t rows, int64_t elem_bytes = 2);

/// The unit's arithmetic (each operation rounded to precision_bits: FP16 or FP32).
/// Softmax of one row in place.
void vector_softmax(const VectorUnitConfig& v, float* x, int64_t n);
/// RMSNorm of one row: x * rsqrt(mean(x^2) + eps) * gamma.
void vector_rmsnorm(const VectorUnitConfig& v, const float* x, const float* gamma, float* out,
                    int64_t n, float eps = 1e-5f);
/// LayerNorm of one row: (x - mean) * rsqrt(var + eps) * gamma + beta.
void vector_layernorm(const VectorUnitConfig& v, const float* x, const float* gamma,
                      const float* beta, float* out, int64_t n, float eps = 1e-5f);

}  // namespace qarch::models
