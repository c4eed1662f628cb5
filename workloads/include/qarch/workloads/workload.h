// Expansion of a model + phase into the GEMMs and element-wise operations one forward pass
// executes.
//
// GEMM convention (the same as quant/): Y[M, N] = X[M, K] W[N, K]^T. X is the activation
// operand (rows = tokens), W the weight operand (rows = output channels); K is the reduction
// axis along which every format's blocks and pairs run.
//   linear layers   X = activations [tokens, in], W = weight [out, in]
//   scores          X = Q [q_tokens, head_dim],  W = K [kv_tokens, head_dim]   (Q K^T)
//   context         X = P [q_tokens, kv_tokens], W = V^T [head_dim, kv_tokens] (P V)
// Attention GEMMs run once per (sequence, head): `batch` = sequences * heads. Under GQA
// heads/kv_heads query heads share one K/V matrix: `w_distinct` = sequences * kv_heads.
//
// Phases:
//   prefill  batch sequences of `seq` tokens each: M = batch * seq for the linear layers;
//            causal attention over the `seq` keys (the GEMMs are the full M x N rectangles,
//            `causal` flags that only the lower triangle is needed); K and V are written to the
//            KV cache.
//   decode   one new token per sequence with `context` tokens already in the KV cache:
//            M = batch for the linear layers; attention over context + 1 keys, of which
//            `context` rows of K and V are read from the KV cache (operand source kKvCache,
//            kv_cache_tokens = context) and the new token's K/V are appended.
// Mixture of experts: the router GEMM [tokens, hidden] x [experts, hidden]^T, then per expert
// its FFN GEMMs over the tokens routed to it (top_k experts per token; moe_route()).
// Element-wise operations (norms, rotary, softmax, activation function, residual adds, KV
// cache writes, MoE combine, embeddings) are listed with their elements and byte traffic at
// `elem_bytes` bytes per value (FP16 by default); biases are fused into the GEMM epilogues
// (GemmOp::bias), not listed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/workloads/model.h"

namespace qarch::workloads {

/// Forward-pass phase.
enum class Phase { kPrefill, kDecode };
std::string phase_name(Phase p);
/// "prefill" / "decode"; throws qarch::Error otherwise.
Phase parse_phase(const std::string& s);

/// How tokens are assigned to MoE experts.
enum class Routing {
  kBalanced,  ///< token t goes to experts (t*top_k + j) mod E, j < top_k: perfectly even load
  kRandom,    ///< each token picks top_k distinct experts uniformly (seeded): realistic imbalance
};

/// What to expand.
struct WorkloadParams {
  Phase phase = Phase::kPrefill;
  int64_t batch = 1;       ///< sequences
  int64_t seq = 2048;      ///< prefill: tokens per sequence
  int64_t context = 0;     ///< decode: tokens already in the KV cache
  bool all_logits = true;  ///< LM head over every token (as a training/scoring forward), else
                           ///< only the last token of each sequence (generation)
  int64_t elem_bytes = 2;  ///< bytes per activation value in element-wise traffic (FP16)
  Routing routing = Routing::kBalanced;
  uint64_t routing_seed = 1;
};

/// Where a GEMM operand comes from.
enum class OperandSource {
  kActivation,  ///< produced by a previous operation of this pass
  kWeight,      ///< a model parameter
  kKvCache,     ///< read from the KV cache (decode attention)
};
std::string source_name(OperandSource s);

/// One GEMM (possibly batched): Y[M, N] = X[M, K] W[N, K]^T, `batch` times.
struct GemmOp {
  std::string name;    ///< unique: "layers.3.attn.qkv", "layers.3.moe.expert5.down", "lm_head"
  std::string kind;    ///< qkv | attn_out | gate | up | down | router | scores | context | lm_head
  int64_t layer = -1;  ///< decoder layer, -1 for the LM head
  int64_t expert = -1;
  int64_t m = 0, n = 0, k = 0;
  int64_t batch = 1;       ///< independent instances (sequences x heads for attention)
  int64_t x_distinct = 1;  ///< distinct X matrices among the instances
  int64_t w_distinct = 1;  ///< distinct W matrices (GQA: sequences x kv_heads)
  OperandSource x_source = OperandSource::kActivation;
  OperandSource w_source = OperandSource::kWeight;
  int64_t kv_cache_tokens = 0;  ///< decode attention: tokens of W read from the KV cache
  bool causal = false;          ///< only the lower triangle of the scores is needed
  bool bias = false;            ///< a bias vector [N] is added in the epilogue
  int64_t order = 0;            ///< position in the pass among GEMMs and element-wise ops
  std::string x_role;           ///< generator role of X (outlier_params.h)
  std::string w_role;           ///< generator role of W ("" when W is an activation: k, v)

  int64_t macs() const { return batch * m * n * k; }
  int64_t flops() const { return 2 * macs(); }
  bool is_attention() const { return kind == "scores" || kind == "context"; }
};

/// One element-wise (or memory-bound) operation with its traffic.
struct ElementwiseOp {
  std::string name;  ///< "layers.3.input_norm", "embed", ...
  std::string kind;  ///< rmsnorm | layernorm | rotary | softmax | silu_mul | gelu | relu |
                     ///< residual_add | kv_cache_write | moe_topk | moe_combine | embedding
  int64_t layer = -1;
  int64_t elements = 0;  ///< output elements
  int64_t rows = 0;      ///< independent rows (softmax: query rows x heads; norms: tokens)
  int64_t order = 0;     ///< position in the pass among GEMMs and element-wise ops
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
};

/// A model's forward pass for one phase.
struct Workload {
  std::string model;
  WorkloadParams params;
  int64_t tokens = 0;     ///< new tokens processed (batch * seq, or batch in decode)
  int64_t kv_tokens = 0;  ///< keys each query attends to (seq, or context + 1)
  std::vector<GemmOp> gemms;
  std::vector<ElementwiseOp> elementwise;

  int64_t total_flops() const;
  /// FLOPs of the linear layers only (QKV, out, FFN/experts, router, LM head).
  int64_t linear_flops() const;
  int64_t attention_flops() const;
  /// Bytes read from the KV cache (decode) at `elem_bytes` per value.
  int64_t kv_cache_read_bytes() const;
};

/// Expands the model. Throws qarch::Error for impossible requests (decode on an encoder,
/// sequence longer than max_positions, zero batch).
Workload expand(const ModelConfig& model, const WorkloadParams& params);

/// Tokens (global indices 0..tokens-1) routed to each expert: result[e] ascending.
std::vector<std::vector<int64_t>> moe_route(int64_t tokens, int64_t num_experts, int64_t top_k,
                                            Routing routing, uint64_t seed, int64_t layer);

}  // namespace qarch::workloads
