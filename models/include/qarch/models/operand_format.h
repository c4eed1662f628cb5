// What the timing model needs to know about an operand format: its storage size, its scale-group
// length along K and which border decoder reads it. Nothing here re-implements a format or
// recognises one by name: the structure is the format's quant::FormatTraits, and the storage
// size is measured from quant/'s own encoder (Format::encode on fixed sample matrices), once
// per spec, and cached.
#pragma once

#include <cstdint>
#include <string>

namespace qarch::models {

/// Storage and structure of one operand format (see file comment). The structure (decoder,
/// element code, scale groups, sign split, weight-only, outliers) is the format's own
/// quant::FormatTraits; only the storage size is measured.
struct OperandFormat {
  std::string spec;    ///< canonical spec string (quant::Format::name())
  std::string family;  ///< spec name: "int8", "olive4", "mxfp4", ... (for messages only)
  /// Element code (quant::FormatTraits::element): "int", "e2m1", "e4m3", "fp16", "ovp4", ...
  std::string element;
  int code_bits = 0;              ///< bits of one element code (FormatTraits::element_bits)
  bool weight_only = false;       ///< activations stay FP16 (GOBO)
  double outlier_fraction = 0.0;  ///< expected share of sparse outliers (OLAccel)
  /// Bits of a plain INT format's codes (decoder "int"), else 0: what integer PEs accept.
  int int_bits() const { return decoder == "int" ? code_bits : 0; }
  /// Storage bits of a rows x cols matrix: a*rows*cols + b*rows + c*cols + d, fitted exactly on
  /// four sample sizes (element codes and per-block scales give a, per-row side data b,
  /// per-column side data c, per-tensor side data d). Data-dependent side storage (GOBO and
  /// OLAccel outliers) is the value on a Gaussian sample with 0.1% planted outliers.
  double bits_a = 0, bits_b = 0, bits_c = 0, bits_d = 0;
  /// Bits of the element codes alone (no scales or side data), per element.
  double element_bits = 0;
  /// Scale-group length along the reduction axis K: a new scale segment starts every group_cols
  /// elements; 0 means one segment for the whole row (per-tensor / per-row scales).
  int64_t group_cols = 0;
  /// AMXFP4: separate scales for negative elements (sign-split partial sums).
  bool sign_split = false;
  /// Border decoder kind: int, ovp4, ovp8, mx, nvfp4, amxfp4, bfp, gobo, olaccel, fp, ant,
  /// adaptivfloat, lut.
  std::string decoder;
  /// Elements one decoder operation produces (an OVP byte decodes two elements; 1 otherwise).
  int elements_per_decode_op = 1;

  /// Storage bits of a rows x cols matrix in this format (>= 0).
  double storage_bits(int64_t rows, int64_t cols) const;
  /// storage_bits / 8, rounded up to whole bytes.
  int64_t storage_bytes(int64_t rows, int64_t cols) const;
  /// Bytes of a block of a larger tensor as a buffer holds it: the elements with their block,
  /// row and column side data, without the per-tensor side data (bits_d), which hardware keeps
  /// once beside the tensor (side_bytes) rather than in every tile.
  int64_t block_bytes(int64_t rows, int64_t cols) const;
  /// The per-tensor side data (a tensor scale), in whole bytes.
  int64_t side_bytes() const;
};

/// The cached OperandFormat of a spec string (canonicalized through quant::make_format, so
/// "int8" and "int8:per=tensor:..." share one entry). Throws qarch::Error for an unknown or
/// malformed spec, naming `field`.
const OperandFormat& operand_format(const std::string& spec, const std::string& field = "format");

/// Number of scale segments a K-long reduction splits into when X has scale groups of gx and W
/// of gw along K (0 = whole row): the count of distinct segment starts, as reference_dot cuts them.
int64_t segment_count(int64_t k, int64_t gx, int64_t gw);

}  // namespace qarch::models
