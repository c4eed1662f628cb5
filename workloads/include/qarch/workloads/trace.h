// Quantized layer traces: what `qarch trace` writes and the SystemC models read. A trace is a
// directory:
//
//   DIR/trace.json                      index: model, phase, formats, selection, every GEMM's
//                                       files with their sizes and checksums, element-wise ops
//   DIR/gemms/NNNN-<gemm name>.json     per-GEMM manifest: shape, batch, operand sources and
//                                       formats, scale layout, statistics, errors vs FP32
//   DIR/gemms/NNNN-<gemm name>.bin      the packed operands exactly as EncodedTensor holds them
//                                       (absent in shape-only traces)
//
// JSON files are a checksummed envelope, valid JSON that any viewer opens:
//   {"content":<the JSON body>,
//   "fnv1a64":"<16 hex digits: FNV-1a 64 of the body's bytes>"}
// Binary files:
//   [0, 64)   header: magic "QARCHTRB", u32 version, u32 header bytes (64), u64 payload bytes,
//             u32 section count, zero padding (all little-endian)
//   [64, ..)  sections, each starting on a 64-byte boundary: for operand X then W, the
//             EncodedTensor buffers elements (u8), scales (u8), fp32 (f32 LE), indices (u32 LE);
//             their offsets and lengths are in the manifest
//   last 16   u64 FNV-1a 64 of every byte before it, then the magic "QTRBEND\0"
// Every file is written atomically (temporary file + rename, quant/atomic_file.h) and the
// index last: a directory without trace.json is an incomplete trace. The reader checks the
// version, sizes and checksums of everything it opens: a truncated or corrupted file is a
// qarch::Error naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"
#include "qarch/workloads/workload.h"

namespace qarch::workloads {

/// Trace format version written by this code; readers reject other versions.
constexpr int kTraceVersion = 1;

/// Rows of a full operand that a trace stores: all of them, or `count` evenly spaced ones
/// (stored row i is full row floor(i * total / count); row 0 is always included, so the first
/// token and its massive activations are kept).
struct RowSample {
  int64_t total = 0;
  int64_t count = 0;
  bool all() const { return count == total; }
  int64_t row(int64_t i) const { return all() ? i : i * total / count; }
  std::vector<int64_t> rows() const;
};
/// All rows if max_rows <= 0 or >= total, else max_rows evenly spaced ones.
RowSample sample_rows(int64_t total, int64_t max_rows);

/// How an operand's scales are grouped (from its DecodedTensor view; 0 = the whole extent).
struct ScaleLayout {
  int64_t group_rows = 0;       ///< rows sharing a scale (0: all rows, e.g. a per-tensor scale)
  int64_t group_cols = 0;       ///< columns (along K) sharing a scale (0: the whole row)
  bool sign_split = false;      ///< separate scales for negative elements (AMXFP4)
  bool tensor_divisor = false;  ///< a per-tensor FP32 divisor (NVFP4)
};

/// One operand of a traced GEMM.
struct TraceOperand {
  std::string format;  ///< canonical spec of the format that encoded it (decode with this)
  /// The spec asked for, when it differs from `format`: OliVe per-tensor formats run their MSE
  /// scale search on `scale_search_rows` evenly spaced rows of the stored operand and encode
  /// with the resulting fixed scale (format = "...:scale=<s>:...").
  std::string requested_format;
  int64_t scale_search_rows = 0;
  OperandSource source = OperandSource::kActivation;
  /// "generated" (outlier generator), "softmax" (attention probabilities computed from the
  /// generated Q and K), or the file(s) it was read from.
  std::string origin;
  int64_t rows = 0;  ///< full operand rows (per GEMM instance)
  int64_t cols = 0;  ///< K
  RowSample sample;  ///< which rows are stored
  bool has_values = false;
  /// Bits per stored element of the encoding (for shape-only traces: measured on a probe
  /// encoding of up to 64 generated rows).
  double bits_per_element = 0;
  ScaleLayout layout;
  bool has_stats = false;
  quant::TensorStats stats;               ///< FP32 statistics of the stored rows
  quant::ErrorMetrics quant_error;        ///< decode(encode(x)) against x over the stored rows
  std::vector<int64_t> planted_channels;  ///< generator ground truth: outlier/massive channels
};

/// One traced GEMM: its shape and role (GemmOp), its operands and the layer-output error.
struct TraceGemm {
  GemmOp op;
  /// For batched (attention) GEMMs, the instance whose operands are stored:
  /// sequence * heads + head.
  int64_t instance = 0;
  TraceOperand x, w;
  bool has_output_error = false;
  /// Y = Q(X) Q(W)^T against the FP32 product, over error_rows stored rows of X and
  /// error_cols stored rows of W.
  quant::ErrorMetrics output_error;
  int64_t error_rows = 0, error_cols = 0;
  std::string error_method;  ///< "dequantized-double" or "hardware-reference-dot"
  std::string manifest;      ///< manifest path relative to the trace directory
  std::string data_file;     ///< binary path relative to the trace directory ("" shape-only)
  uint64_t data_bytes = 0;
  uint64_t data_fnv1a64 = 0;
};

/// What a trace is of.
struct TraceHeader {
  int version = kTraceVersion;
  std::string tool;  ///< "qarch 0.1.0"
  ModelConfig model;
  WorkloadParams params;
  int64_t tokens = 0;
  int64_t kv_tokens = 0;
  std::string act_format;     ///< canonical spec for activations (and attention operands)
  std::string weight_format;  ///< canonical spec for weights
  bool shape_only = false;
  uint64_t seed = 0;
  std::string outlier_profile;  ///< "model default" or the --outliers argument
  std::string bindings;         ///< tensor bindings file ("" if none)
  std::string layers;           ///< the layer selection as given ("all", "0-3,head")
  int64_t sample_rows = 0;      ///< --sample (0: all rows)
  int64_t weight_rows = 0;      ///< --weight-rows (0: all rows)
  int64_t attention_head = 0;
  int64_t model_gemms = 0;  ///< GEMMs in the whole forward pass
  int64_t model_flops = 0;  ///< FLOPs of the whole forward pass
};

/// Writes a trace directory (see file comment). Usage: construct, add() each GEMM, finish().
/// If finish() is not reached the directory has no trace.json and readers refuse it.
class TraceWriter {
 public:
  /// Writes a trace that appears at `dir` only when finish() completes: the files go to the
  /// sibling staging folder `dir`.partial, which finish() renames into place (an earlier trace
  /// at `dir` is swapped out then). An interrupted trace therefore leaves the previous one
  /// intact. Throws qarch::Error if `dir` holds a trace and `replace` is false, or holds
  /// anything else (it is not ours to delete).
  TraceWriter(std::string dir, TraceHeader header, bool replace = false);
  /// Writes the manifest (and, if x and w are given, the binary) of one GEMM. `gemm`'s
  /// manifest/data fields are filled in.
  void add(TraceGemm gemm, const quant::EncodedTensor* x, const quant::EncodedTensor* w);
  /// Writes trace.json and moves the trace into place. Returns the total bytes of its files.
  uint64_t finish(const std::vector<ElementwiseOp>& elementwise);
  const std::vector<TraceGemm>& gemms() const { return gemms_; }

 private:
  std::string dir_;      // where the finished trace goes
  std::string staging_;  // where it is written until then
  TraceHeader header_;
  std::vector<TraceGemm> gemms_;
  std::vector<std::pair<uint64_t, uint64_t>> manifest_sums_;  // (bytes, fnv) per manifest
  uint64_t total_bytes_ = 0;
};

/// Reads and verifies a trace directory. The constructor reads trace.json and every manifest
/// (small); load_operands() reads one GEMM's binary on demand.
class TraceReader {
 public:
  explicit TraceReader(std::string dir);
  const TraceHeader& header() const { return header_; }
  const std::vector<TraceGemm>& gemms() const { return gemms_; }
  const std::vector<ElementwiseOp>& elementwise() const { return elementwise_; }
  /// Index of the GEMM named `name`; throws qarch::Error if absent.
  size_t find(const std::string& name) const;
  /// Reads every GEMM's operand file and checks its size, markers and checksum against
  /// trace.json (a flipped byte, a truncated or a deleted file throws qarch::Error naming it).
  void verify_data() const;
  /// The stored operands (X, W) of GEMM i, verified (size, checksum, section bounds). Throws
  /// qarch::Error for a shape-only trace.
  std::pair<quant::EncodedTensor, quant::EncodedTensor> load_operands(size_t i) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string verified_bytes(size_t i) const;  // file of GEMM i after the integrity checks
  std::string dir_;
  TraceHeader header_;
  std::vector<TraceGemm> gemms_;
  std::vector<ElementwiseOp> elementwise_;
  std::vector<std::string> sections_;  // per GEMM: the manifest's section table (JSON text)
};

/// Wraps a JSON body into the checksummed envelope (see file comment).
std::string json_envelope(const std::string& body);
/// Verifies an envelope and returns its body; `file` names it in errors.
std::string open_json_envelope(const std::string& text, const std::string& file);

}  // namespace qarch::workloads
