// Building a quantized layer trace: for every selected GEMM of a model's forward pass, obtain
// its FP32 operands (the outlier generator, or the user's tensors through TensorBindings),
// quantize them with the activation / weight formats, measure them (statistics, quantization
// error, layer-output error against FP32) and write them with TraceWriter.
//
// Operands:
//   linear GEMMs     X = generated rows of the GEMM's input role for the stored tokens,
//                    W = the weight (all output channels, or --weight-rows of them)
//   scores           one stored instance (sequence 0, head `attention_head`): X = Q rows,
//                    W = K of the head's KV group (all keys)
//   context          X = P = softmax(Q K^T / sqrt(head_dim)) with the causal / sliding-window
//                    mask, computed in FP32 from the generated Q and K (so its rows sum to 1
//                    and carry the real attention pattern, including the attention sink on the
//                    first token), W = V^T [head_dim, keys]
// Attention GEMMs use the activation format for both operands.
//
// OliVe's MSE scale search (per-tensor variants) runs on a row sample of ~2^20 elements and the
// operand is then encoded with that fixed scale (recorded in the manifest; identical to the
// plain format when the sample is the whole operand). Per-row variants search every row (slow:
// ~11 s for a 4096 x 11008 weight).
//
// QLLM (an activation format `qllm:base=B:...`, Liu et al. ICLR 2024): every linear GEMM's
// operands are transformed with one channel plan made from the stored activation rows and the
// stored weight rows (transforms.h section 6: outlier channels split, optionally similar ones
// merged): X' is encoded in the base format B, W' in the weight format, and the GEMM is recorded
// with K' = FormatTraits::gemm_k(K) (op.k and both operands' cols), the shape models/ times.
// The operands' format is B (what encoded the stored bytes; requested_format names the qllm
// spec); X's quantization error is measured in the input's channels (qllm_fold_x of the decoded
// X'), and the layer-output error compares the K'-wide quantized product with the FP32 X W^T of
// the untransformed operands, so the assembly's approximation counts. Attention GEMMs use B for
// both operands (no disassembly).
//
// Costs are bounded by sampling: `sample_rows` keeps that many evenly spaced activation rows
// (tokens; row 0, the first token, always included) and quantizes only them, so per-tensor
// scales are computed on the sample (the manifest says so through `sample`); the
// layer-output error uses error_rows x error_cols outputs of the stored operands.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qarch/quant/format.h"
#include "qarch/quant/transforms.h"
#include "qarch/workloads/bindings.h"
#include "qarch/workloads/generator.h"
#include "qarch/workloads/trace.h"

namespace qarch::workloads {

/// The activation and weight format specs of a trace.
struct FormatChoice {
  std::string act;
  std::string weight;
};
/// True for formats that quantize only weights (GOBO: activations stay FP16).
bool is_weight_only_format(const std::string& spec);
/// `format` applies to both operands; `act` / `weight` (if not empty) override it. A
/// weight-only format given as `format` leaves the activations in FP16. Returns canonical specs
/// (Format::name()); throws qarch::Error for unknown formats or a weight-only activation format.
FormatChoice resolve_formats(const std::string& format, const std::string& act,
                             const std::string& weight);

/// Which layers a trace covers: "all" (every layer and the LM head), or a comma list of layer
/// indices, ranges "a-b" and "head" (the LM head and the model-level element-wise ops).
struct LayerSelection {
  std::vector<bool> layers;
  bool head = false;
  std::string text;
  bool contains(int64_t layer) const {
    return layer < 0 ? head : (layer < static_cast<int64_t>(layers.size()) && layers[layer]);
  }
};
LayerSelection parse_layers(const std::string& text, int64_t num_layers);

/// Everything a trace needs besides the model and the phase.
struct TraceOptions {
  std::string act_format = "fp16";     ///< canonical spec (resolve_formats)
  std::string weight_format = "fp16";  ///< canonical spec
  std::string layers = "all";
  int64_t sample_rows = 0;   ///< activation rows stored per operand (0: all)
  int64_t weight_rows = 0;   ///< weight rows (output channels) stored (0: all)
  bool shape_only = false;   ///< no values: shapes, formats and estimated bits per element only
  int64_t error_rows = 32;   ///< rows of Y for the layer-output error (0: no error)
  int64_t error_cols = 256;  ///< columns of Y for the layer-output error
  bool exact_hw = false;     ///< layer-output error with reference_dot (the hardware arithmetic)
  bool stats = true;         ///< compute tensor_stats of every stored operand
  /// Statistics over evenly spaced stored rows totalling at most this many elements (the
  /// median behind them costs ~25 ns per element); TensorStats::rows says how many were used.
  int64_t stats_elements = int64_t{1} << 22;
  int64_t attention_head = 0;
  /// OliVe per-tensor MSE scale search on a row sample of about this many elements (0: search
  /// the whole operand, as the format alone does). The search costs ~88 quantization passes,
  /// ~11 s for a 4096 x 11008 weight; 2^20 elements keep it near 0.25 s. Measured on LLaMA-2-7B
  /// layer 1 (seq 512, olive4): 2^20 gives every operand's and output's QSNR within 0.1 dB of
  /// the full search (7 s instead of 83 s for the layer); 2^18 loses 1.3 dB on the down
  /// projection's input, 2^16 5 dB.
  int64_t scale_search_elements = int64_t{1} << 20;
  uint64_t seed = 1;
  std::string outlier_profile = "model default";   ///< for the record
  std::shared_ptr<const TensorBindings> bindings;  ///< real tensors (may be null)
  std::string tool = "qarch";
};

/// One GEMM built in memory: its metadata and encoded operands (empty if shape-only).
struct GemmResult {
  TraceGemm meta;
  quant::EncodedTensor x, w;
};

/// Builds the operands of a model's GEMMs (see file comment). build() is const and thread-safe.
class TraceBuilder {
 public:
  TraceBuilder(ModelConfig model, WorkloadParams params, TraceOptions options);
  const Workload& workload() const { return workload_; }
  const ModelConfig& model() const { return model_; }
  const TraceOptions& options() const { return options_; }
  /// Indices into workload().gemms of the selected GEMMs, in forward order.
  const std::vector<size_t>& selected() const { return selected_; }
  /// Element-wise operations of the selected layers.
  std::vector<ElementwiseOp> selected_elementwise() const;
  GemmResult build(const GemmOp& op) const;
  TraceHeader header() const;

 private:
  struct Operand;
  std::vector<TokenRef> tokens_of(const GemmOp& op, const RowSample& s) const;
  Operand make_x(const GemmOp& op, const RowSample& s) const;
  Operand make_w(const GemmOp& op, const RowSample& s) const;
  /// The format that encodes `data` for `f` (a sampled-search OliVe variant, or null for f).
  std::unique_ptr<quant::Format> effective_format(const quant::Format& f, const quant::Tensor& data,
                                                  int64_t* search_rows) const;
  void probe(const GemmOp& op, TraceGemm& g, const quant::Format& fx,
             const quant::Format& fw) const;

  ModelConfig model_;
  WorkloadParams params_;
  TraceOptions options_;
  Workload workload_;
  LayerSelection selection_;
  std::vector<size_t> selected_;
  TensorGenerator generator_;
  std::unique_ptr<quant::Format> act_fmt_, weight_fmt_;
  // QLLM activation format (quant transforms.h section 6): the base format that encodes the
  // transformed activations (and both operands of attention GEMMs), and the plan options.
  std::unique_ptr<quant::Format> qllm_base_;
  quant::QllmOptions qllm_opts_;
  struct ProbeCache;
  std::shared_ptr<ProbeCache> probes_;  // shape-only: probe results per distinct GEMM shape
};

/// Result of write_trace().
struct TraceSummary {
  size_t gemms = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

/// Builds every selected GEMM and writes the trace to `dir`; `threads` GEMMs are built
/// concurrently (written in order). `on_gemm` is called after each GEMM is written. A trace
/// already at `dir` is replaced only if `replace` (TraceWriter), and only once the new one is
/// complete.
TraceSummary write_trace(const TraceBuilder& builder, const std::string& dir, int threads = 1,
                         const std::function<void(const TraceGemm&)>& on_gemm = {},
                         bool replace = false);

}  // namespace qarch::workloads
