// The Format interface: every number format in quant/ encodes an FP32 matrix [rows, cols]
// (cols = the reduction dimension K, along which blocks and OVP pairs run) into packed bits
// and scales exactly as a memory would hold them, decodes them back to FP32, and exposes the
// "decoded operand" view a hardware PE receives (see decoded.h). Formats are made from spec
// strings, "name" or "name:key=value:key=value" (e.g. "mxfp4:block=16:round=away"), by
// make_format(); list_formats() documents them all.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "qarch/quant/decoded.h"
#include "qarch/quant/fp_element.h"
#include "qarch/quant/tensor.h"

namespace qarch::quant {

/// A parsed format spec: "name:key=value:key=value". Names and keys are lower-case.
struct FormatSpec {
  std::string name;
  std::map<std::string, std::string> options;

  /// Parses text; throws qarch::Error on malformed text (empty name, "key" without "=").
  /// `kind` names what is parsed in error messages ("format", "transform"): the same
  /// "name:key=value" syntax also spells the steps of a transform pipeline (transforms.h).
  static FormatSpec parse(const std::string& text, const std::string& kind = "format");
  /// Canonical text: name, then options sorted by key.
  std::string str() const;
};

/// Reads a FormatSpec's options with types and defaults, remembering which keys were used, so
/// that finish() can reject typos ("format 'mxfp4': unknown option 'blok'"). `kind` is the
/// noun messages use for the spec ("format", or "transform" for transforms.h).
class FormatOptions {
 public:
  explicit FormatOptions(const FormatSpec& spec, std::string kind = "format")
      : spec_(spec), kind_(std::move(kind)) {}
  int64_t get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi);
  double get_double(const std::string& key, double def, double lo, double hi);
  bool get_bool(const std::string& key, bool def);
  /// One of `allowed` (first is not implicitly the default: def is).
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& allowed);
  Rounding get_rounding(const std::string& key = "round", Rounding def = Rounding::kNearestEven);
  /// Throws qarch::Error naming every option that no get_* call asked for.
  void finish() const;
  const FormatSpec& spec() const { return spec_; }

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  const std::string* find(const std::string& key);
  const FormatSpec& spec_;
  std::string kind_;
  std::set<std::string> used_;
};

/// Rounding to/from its option text: "even" (RNE) or "away" (half away from zero).
std::string rounding_name(Rounding r);

/// A tensor encoded in some format: element codes and scales exactly as stored in memory.
/// The byte layouts are documented by each format (header comment of its source file); the
/// common rule for element codes is an LSB-first bit stream per row, each row starting on a
/// byte boundary (so 4-bit codes put element 2k in the low nibble, 2k+1 in the high nibble).
struct EncodedTensor {
  std::string format;  ///< canonical spec string of the Format that produced it
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> elements;  ///< packed element codes
  std::vector<uint8_t> scales;    ///< packed scale codes (E8M0, E4M3, E5M2, BFP exponents...)
  std::vector<float> fp32;        ///< FP32 side values: tensor/channel scales, centroids, outliers
  std::vector<uint32_t> indices;  ///< side indices: outlier positions (row-major flat index)

  /// Bits this encoding occupies in memory (all four buffers).
  uint64_t storage_bits() const;
  /// storage_bits() / (rows * cols).
  double bits_per_element() const;
};

/// Packs `bits`-wide codes into an LSB-first stream per row, rows byte-aligned.
std::vector<uint8_t> pack_codes(const std::vector<uint32_t>& codes, int64_t rows, int64_t cols,
                                int bits);
/// Inverse of pack_codes. Throws qarch::Error if `packed` is too short.
std::vector<uint32_t> unpack_codes(const std::vector<uint8_t>& packed, int64_t rows, int64_t cols,
                                   int bits);
/// Bytes one packed row occupies.
inline int64_t packed_row_bytes(int64_t cols, int bits) {
  return (cols * bits + 7) / 8;
}

/// The values a format's encoding of one value depends on (FormatTraits::encode_scope).
enum class EncodeScope {
  kSegment,  ///< its scale segment: group_cols columns of its row (the row if group_cols is 0)
  kRow,      ///< its whole row (DGQ's row scale above its group scales)
  /// other rows too: a per-tensor or per-column scale, NVFP4's tensor scale, a tensor-wide
  /// search (OliVe, ANT, AdaptivFloat, OLAccel's threshold) or selection (keep=, GEAR, K-sorting)
  kTensor,
};

/// A number format. Implementations are immutable and thread-safe after construction.
/// What the rest of qarch needs to know about a format, stated by the format itself so that no
/// code outside quant/ recognises a format by its name (models/ picks PEs and decoders from
/// these, workloads/ keeps weight-only formats' activations in FP16).
struct FormatTraits {
  std::string family;  ///< spec name ("mxfp4"), for display only
  /// The element code: "int" (two's-complement or offset integers), an FP element name
  /// ("e2m1", "e4m3", "fp16", ...), "ovp4" / "ovp8" (OliVe pairs), "bfp" (block mantissas),
  /// "index" (GOBO / SqueezeLLM centroid indices).
  std::string element;
  int element_bits = 0;  ///< bits of one element code, without scales or side data
  /// Border decoder that turns stored codes into PE operands (models/decoders.h lists them):
  /// int, ovp4, ovp8, mx, nvfp4, amxfp4, bfp, gobo, olaccel, fp, ant, adaptivfloat, lut.
  std::string decoder;
  int elements_per_decode_op = 1;  ///< an OVP byte decodes two elements
  /// Scale-group length along the reduction axis (cols); 0 = one scale segment per row.
  int64_t group_cols = 0;
  bool sign_split = false;   ///< separate scales for negative elements (AMXFP4)
  bool weight_only = false;  ///< quantizes weights only; activations stay FP16 (GOBO)
  /// Expected share of elements stored as outliers beside the dense codes (OLAccel's frac);
  /// 0 when the format has none or its count depends on the data only.
  double outlier_fraction = 0.0;
  /// Values kept in FP16 beside the codes by the keep= option every format takes (super
  /// weights, massive activations; keep_format.cpp): a count per tensor (keep_count) or a share
  /// of it (keep_fraction), each value costing 48 bits (32-bit position + FP16). 0: no option.
  int64_t keep_count = 0;
  double keep_fraction = 0.0;
  /// What encoding a value depends on besides the value itself (EncodeScope). An online
  /// quantizer must hold that much before it can encode, or have the parameter calibrated
  /// offline (Format::calibrated), or read the tensor twice (models/online_quantizer.h).
  /// tests/quant/format_traits_test.cpp checks the claim for every registered format: a format
  /// encodes each unit of its scope alone exactly as it encodes it inside the whole tensor.
  EncodeScope encode_scope = EncodeScope::kSegment;
  /// QLLM channel disassembly (qllm_format.cpp, transforms.h section 6): the activation's
  /// outlier channels are split, so a linear GEMM's reduction length K becomes
  /// K + floor(channel_ratio * K), or stays K with channel_assembly (similar channels merged
  /// back). 0: the format keeps K. The weight must be transformed with the same channel plan
  /// (workloads' trace builder does it); decode() is then the original-space view and
  /// decode_operand() the K'-wide operand the PE multiplies.
  double channel_ratio = 0.0;
  bool channel_assembly = false;
  /// The reduction length a linear GEMM of K runs with under this activation format.
  int64_t gemm_k(int64_t k) const;
};

class Format {
 public:
  virtual ~Format() = default;

  /// The format's traits (FormatTraits).
  virtual FormatTraits traits() const = 0;

  /// Calibration hook: a format whose encoder searches a per-tensor parameter from the data
  /// (OliVe's MSE scale search) returns a copy with that parameter fixed from `x` (a sample of
  /// the tensor, rows x cols), so a large tensor can be calibrated on a sample and encoded
  /// with the result. nullptr when the format has nothing to calibrate (or it is fixed).
  virtual std::unique_ptr<Format> calibrated(const float* x, int64_t rows, int64_t cols) const {
    (void)x, (void)rows, (void)cols;
    return nullptr;
  }

  /// Canonical spec string: every option with its value, sorted by key, as FormatSpec::str()
  /// prints it ("mxfp4:block=32:round=even"); make_format(name()) rebuilds the same format.
  virtual std::string name() const = 0;

  /// Encodes x[rows * cols] (row-major). Throws qarch::Error for inputs the format cannot
  /// represent (NaN/Inf where it has no encoding for them, shapes it cannot take).
  virtual EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const = 0;

  /// Decodes to FP32, out[rows * cols]. Throws qarch::Error if `e` is not of this format or
  /// its buffers have the wrong size.
  virtual void decode(const EncodedTensor& e, float* out) const = 0;

  /// The operand as a PE receives it (element exponent-integer pairs + scales). For every
  /// format, decoded_value(decode_operand(e), i) == decode(e)[i] bit for bit, except a format
  /// that changes K (FormatTraits::channel_ratio > 0, QLLM): its operand is K' wide and decode()
  /// folds it back to the input's channels (qllm_fold_x).
  virtual DecodedTensor decode_operand(const EncodedTensor& e) const = 0;

  /// Fake quantization: out = decode(encode(x)). Formats override it with fused fast paths.
  virtual void quantize(const float* x, int64_t rows, int64_t cols, float* out) const;

  // Convenience wrappers on Tensor (2-D view).
  EncodedTensor encode(const Tensor& t) const;
  Tensor decode(const EncodedTensor& e) const;
  Tensor quantize(const Tensor& t) const;

 protected:
  /// Throws qarch::Error unless e.format == name() and its shape is rows x cols >= 0.
  void check_encoded(const EncodedTensor& e) const;
};

/// One entry of the format catalogue.
struct FormatInfo {
  std::string name;         ///< spec name ("mxfp4")
  std::string options;      ///< option summary ("block=32 round=even|away")
  std::string description;  ///< one line, with the source it follows
};

/// Builds a format from a spec string. Throws qarch::Error for an unknown name (listing the
/// known ones) or a bad option.
std::unique_ptr<Format> make_format(const std::string& spec);
/// Every format make_format() knows, in catalogue order.
std::vector<FormatInfo> list_formats();

/// Throws qarch::Error naming the first non-finite element ("format 'int8': input element
/// 12 (row 0, col 12) is NaN; int8 cannot encode NaN/Inf").
void require_finite(const float* x, int64_t n, int64_t cols, const std::string& format);

}  // namespace qarch::quant
