#include "qarch/models/online_quantizer.h"

#include <algorithm>
#include <string>

#include "qarch/common/error.h"
#include "qarch/quant/fp_element.h"

namespace qarch::models {

OnlineQuantizer::OnlineQuantizer(const quant::Format& format, int64_t rows, int64_t cols,
                                 int output_bytes, const quant::Format* calibrated)
    : encoder_(&format), rows_(rows), cols_(cols), output_bytes_(output_bytes) {
  if (rows <= 0 || cols <= 0)
    throw Error("online quantizer: tensor shape must be positive, got " + std::to_string(rows) +
                " x " + std::to_string(cols));
  if (output_bytes != 2 && output_bytes != 4)
    throw Error("online quantizer: output_bytes must be 2 (FP16) or 4 (FP32), got " +
                std::to_string(output_bytes));
  quant::FormatTraits t = format.traits();
  if (t.encode_scope == quant::EncodeScope::kTensor && calibrated) {
    encoder_ = calibrated;
    t = calibrated->traits();
    if (t.encode_scope == quant::EncodeScope::kTensor)
      throw Error("online quantizer: the calibrated format '" + calibrated->name() +
                  "' still depends on the whole tensor");
  }
  if (t.encode_scope == quant::EncodeScope::kTensor) {
    whole_tensor_ = true;
    stats_.unit_cols = 0;
    stats_.passes = 2;
  } else {
    stats_.unit_cols = t.encode_scope == quant::EncodeScope::kSegment && t.group_cols > 0
                           ? std::min(t.group_cols, cols)
                           : cols;
  }
  const size_t n = static_cast<size_t>(rows * cols);
  staged_.assign(n, 0.0f);
  out_.assign(n, 0.0f);
  arrived_.assign(n, 0);
  const int64_t units = whole_tensor_ ? 1 : (cols + stats_.unit_cols - 1) / stats_.unit_cols;
  unit_count_.assign(static_cast<size_t>(whole_tensor_ ? 1 : rows * units), 0);
}

void OnlineQuantizer::push(const BlockRect& b, const float* values) {
  if (b.r0 < 0 || b.c0 < 0 || b.r1 > rows_ || b.c1 > cols_ || b.r0 >= b.r1 || b.c0 >= b.c1)
    throw Error("online quantizer: block rows [" + std::to_string(b.r0) + ", " +
                std::to_string(b.r1) + ") cols [" + std::to_string(b.c0) + ", " +
                std::to_string(b.c1) + ") is outside the " + std::to_string(rows_) + " x " +
                std::to_string(cols_) + " tensor");
  const int64_t unit = stats_.unit_cols;
  const int64_t units = whole_tensor_ ? 1 : (cols_ + unit - 1) / unit;
  for (int64_t r = b.r0; r < b.r1; ++r)  // checked first: a refused block changes nothing
    for (int64_t c = b.c0; c < b.c1; ++c)
      if (arrived_[static_cast<size_t>(r * cols_ + c)])
        throw Error("online quantizer: output (" + std::to_string(r) + ", " + std::to_string(c) +
                    ") arrived twice");
  for (int64_t r = b.r0; r < b.r1; ++r) {
    for (int64_t c = b.c0; c < b.c1; ++c) {
      const size_t i = static_cast<size_t>(r * cols_ + c);
      arrived_[i] = 1;
      float v = values[(r - b.r0) * b.cols() + (c - b.c0)];
      // The epilogue: accumulator (FP32) -> output type, round to nearest even.
      if (output_bytes_ == 2) v = quant::fp_round(quant::kFP16, v);
      staged_[i] = v;
    }
  }
  held_ += b.rows() * b.cols();
  stats_.peak_held = std::max(stats_.peak_held, held_);
  if (whole_tensor_) {
    unit_count_[0] += b.rows() * b.cols();
    if (unit_count_[0] == rows_ * cols_) encode_unit(0, 0, cols_);
    return;
  }
  for (int64_t r = b.r0; r < b.r1; ++r) {
    for (int64_t u = b.c0 / unit; u * unit < b.c1; ++u) {
      const int64_t c0 = u * unit, c1 = std::min(c0 + unit, cols_);
      int64_t& got = unit_count_[static_cast<size_t>(r * units + u)];
      got += std::min(c1, b.c1) - std::max(c0, b.c0);
      if (got == c1 - c0) encode_unit(r, c0, c1 - c0);
    }
  }
}

void OnlineQuantizer::encode_unit(int64_t r, int64_t c0, int64_t n) {
  if (whole_tensor_) {
    // Second pass: the max is known, the stored tile is read again and encoded.
    encoder_->decode(encoder_->encode(staged_.data(), rows_, cols_), out_.data());
    encoded_ = rows_ * cols_;
    held_ = 0;
    ++stats_.units_encoded;
    return;
  }
  const size_t at = static_cast<size_t>(r * cols_ + c0);
  encoder_->decode(encoder_->encode(staged_.data() + at, 1, n), out_.data() + at);
  encoded_ += n;
  held_ -= n;
  ++stats_.units_encoded;
}

const std::vector<float>& OnlineQuantizer::output() const {
  if (!complete())
    throw Error("online quantizer: output read before all " + std::to_string(rows_ * cols_) +
                " values arrived (" + std::to_string(encoded_) + " encoded)");
  return out_;
}

}  // namespace qarch::models
