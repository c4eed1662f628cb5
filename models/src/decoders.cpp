#include "qarch/models/decoders.h"

#include "qarch/common/error.h"

namespace qarch::models {

const std::vector<DecoderInfo>& list_decoders() {
  static const std::vector<DecoderInfo> kinds = {
      {"int", 1, "INT code -> <0, q> (sign extension, zero point subtracted)"},
      {"ovp4", 2,
       "OliVe 4-bit OVP byte -> two <e, m> pairs: int4 normal, E2M1 abfloat outlier, victim 0"},
      {"ovp8", 2, "OliVe 8-bit OVP pair (two bytes) -> two <e, m> pairs, E4M3/E2M5 abfloat"},
      {"mx", 1, "OCP MX element (FP8/FP6/FP4/INT8) -> <e, m>; the block's E8M0 scale to the sum"},
      {"nvfp4", 1, "NVFP4 E2M1 element -> <e, m>; E4M3 block scale and FP32 tensor scale"},
      {"amxfp4", 1, "AMXFP4 E2M1 element -> <e, m>; the sign selects the block's +/- scale"},
      {"bfp", 1, "BFP / MSFP / MX4-9 mantissa -> <microexponent, m> aligned to the block exponent"},
      {"gobo", 1, "GOBO 3-bit index -> FP16 centroid, or the FP32 outlier at its position"},
      {"olaccel", 1, "OLAccel dense 4-bit code, or the sparse outlier at its position"},
      {"fp", 1, "FP element (FP16/BF16/FP8 cast) -> <e, m>"},
      {"ant", 1,
       "ANT element -> <e, m>: int passes through, flint by its first-one code, pot as a shift"},
      {"adaptivfloat", 1, "AdaptivFloat element -> <e, m>; the tensor's exponent bias to the sum"},
      {"lut", 1,
       "SqueezeLLM index -> the row's FP16 codebook entry (per-channel LUT), or the sparse FP16 "
       "value at its position"},
      {"gear", 1,
       "GEAR int code -> q*s + m, plus the rank-r FP16 product and the sparse FP16 outlier -> "
       "FP16 <e, m>"},
      {"rotatekv", 1,
       "RotateKV-style int code -> dequantized, inverse Hadamard along head_dim -> FP16 <e, m>"},
  };
  return kinds;
}

const DecoderInfo& decoder_kind(const std::string& kind, const std::string& format) {
  for (const DecoderInfo& d : list_decoders())
    if (d.kind == kind) return d;
  std::string known;
  for (const DecoderInfo& d : list_decoders()) known += (known.empty() ? "" : ", ") + d.kind;
  throw Error("format '" + format + "' names decoder kind '" + kind +
              "', which models/ does not have (known: " + known + ")");
}

std::shared_ptr<const quant::DecodedTensor> border_decode(const quant::EncodedTensor& e,
                                                          const std::string& expected_spec,
                                                          int64_t rows, int64_t cols,
                                                          const std::string& who) {
  const std::unique_ptr<quant::Format> fmt = quant::make_format(e.format);
  if (fmt->name() != expected_spec) {
    throw Error(who + ": operand is encoded as '" + fmt->name() + "' but the job's format is '" +
                expected_spec + "'");
  }
  if (e.rows != rows || e.cols != cols) {
    throw Error(who + ": operand is " + std::to_string(e.rows) + " x " + std::to_string(e.cols) +
                ", the job needs " + std::to_string(rows) + " x " + std::to_string(cols));
  }
  return std::make_shared<quant::DecodedTensor>(fmt->decode_operand(e));
}

}  // namespace qarch::models
