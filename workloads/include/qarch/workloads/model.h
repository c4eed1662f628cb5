// The transformer model zoo: architecture hyper-parameters read from YAML files
// (workloads/models/*.yaml, compiled into the library, each citing the published config it
// was taken from). `--model NAME` finds a zoo entry; `--model path/to/file.yaml` reads a user's
// file with the same schema:
//
//   name: llama2-7b                 # required
//   source: <URL of the published config.json>   # required: where the numbers come from
//   kind: decoder                   # decoder (causal LM) | encoder (bidirectional, BERT)
//   hidden_size: 4096
//   num_layers: 32
//   num_heads: 32
//   num_kv_heads: 32                # optional (default num_heads); < num_heads is GQA
//   head_dim: 128                   # optional (default hidden_size / num_heads)
//   intermediate_size: 11008
//   ffn: gated                      # gated (gate, up, down: SwiGLU/GeGLU) | mlp (up, down)
//   activation: silu                # silu | gelu | gelu_new | relu
//   norm: rmsnorm                   # rmsnorm | layernorm
//   norm_placement: pre             # pre (GPT-2, LLaMA) | post (BERT)
//   position: rotary                # rotary | learned | none
//   vocab_size: 32000
//   max_positions: 4096
//   lm_head: true                   # a vocab projection at the end (false: BERT encoder)
//   tied_embeddings: false          # the LM head reuses the token embedding matrix
//   bias: false                     # linear layers have biases (fused into GEMM epilogues)
//   sliding_window: 4096            # optional: attention sees at most this many keys (Mistral)
//   moe: {num_experts: 8, top_k: 2} # optional: the FFN is a mixture of experts
//   outliers: {...}                 # optional: generator overrides (outlier_params.h)
// Unknown keys, wrong types and missing fields are qarch::Error naming file:line:col and key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/workloads/outlier_params.h"

namespace qarch::workloads {

/// Decoder-only causal LM or bidirectional encoder.
enum class ModelKind { kDecoder, kEncoder };
/// Plain two-GEMM MLP or gated (three GEMMs: gate, up, down).
enum class FfnKind { kMlp, kGated };

/// Mixture-of-experts FFN: every token goes to top_k of num_experts expert FFNs.
struct MoeConfig {
  int64_t num_experts = 0;  ///< 0: dense FFN
  int64_t top_k = 0;
  bool enabled() const { return num_experts > 0; }
};

/// A model's architecture (see the file comment for the YAML keys).
struct ModelConfig {
  std::string name;
  std::string source;  ///< citation of the config the numbers come from
  std::string file;    ///< where it was read from ("zoo:llama2-7b.yaml" or a path)
  ModelKind kind = ModelKind::kDecoder;
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t intermediate = 0;
  FfnKind ffn = FfnKind::kGated;
  std::string activation = "silu";
  std::string norm = "rmsnorm";
  bool pre_norm = true;
  std::string position = "rotary";
  int64_t vocab = 0;
  int64_t max_positions = 0;
  bool lm_head = true;
  bool tied_embeddings = false;
  bool bias = false;
  int64_t sliding_window = 0;  ///< 0: full attention
  MoeConfig moe;
  /// Generator parameters: the built-in defaults with this model's `outliers:` applied.
  OutlierParams outliers;

  int64_t q_dim() const { return heads * head_dim; }
  int64_t kv_dim() const { return kv_heads * head_dim; }
  /// Parameters of the linear layers (weights only, as in the GEMMs): QKV, output projection,
  /// FFN (all experts), router, and the LM head. Biases, norms and embeddings excluded.
  int64_t linear_params() const;
  /// linear_params() counting only top_k experts per layer (the weights a token touches).
  int64_t active_linear_params() const;
};

/// Parses a model YAML document; `file` names it in errors.
ModelConfig parse_model_yaml(const std::string& text, const std::string& file);
/// A zoo name ("llama2-7b") or a path to a .yaml/.yml file.
ModelConfig load_model(const std::string& name_or_path);
/// Names of the zoo models, sorted.
std::vector<std::string> zoo_models();

}  // namespace qarch::workloads
