// keep=N|fraction on every format: super weights (Yu et al., "The Super Weight in Large Language
// Models", 2024) and massive activations (Sun et al., "Massive Activations in Large Language
// Models", 2024) are a handful of values orders of magnitude above the rest of a tensor; a
// per-tensor or per-channel scale that covers them leaves no resolution for the bulk, and
// clipping them breaks the model. Both papers keep them exact. keep= does this once for every
// format: the N largest-magnitude values of the tensor (keep >= 1: a count, at most the tensor's
// size; 0 < keep < 1: a share of the tensor, ceil(keep * n) values with a 1e-9 tolerance on the
// product) are kept in FP16 beside the quantized tensor, and the format encodes the tensor with
// them set to 0 (so its scale search never sees them). Ties in magnitude: the lower flat index
// first. keep=0 is the format itself. NaN/Inf inputs raise qarch::Error (they have no magnitude
// rank), also for the formats that would encode them without the option (MX, FP casts).
//
// Layout: the inner format's encoding, then the kept values appended to two of its buffers:
// indices += the kept positions (row-major flat index, ascending), scales += their FP16 codes
// (RNE, saturating at +-65504; 2 bytes little-endian each). The number kept follows from the
// shape, so decode splits them off again. Cost: 48 bits per kept value (32-bit position, FP16),
// counted by storage_bits(); FormatTraits::keep_count / keep_fraction state it.
//
// decode overwrites the kept positions with their FP16 values. decode_operand gives the inner
// format's operand with 0 at the kept positions and the kept values in DecodedTensor's sparse
// list: a PE adds their products on a side path (quant::sparse_dot), as the sparse outlier lanes
// of OLAccel / SqueezeLLM's sparse kernel do.
#include <algorithm>
#include <cmath>
#include <functional>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "registry.h"

namespace qarch::quant {
namespace detail {

std::vector<uint32_t> largest_magnitudes(const float* x, int64_t n, int64_t count) {
  std::vector<uint32_t> out;
  count = std::min(count, n);
  if (count <= 0) return out;
  std::vector<float> mag(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) mag[i] = std::fabs(x[i]);
  std::nth_element(mag.begin(), mag.begin() + (count - 1), mag.end(), std::greater<float>());
  const float t = mag[count - 1];
  int64_t above = 0;
  for (int64_t i = 0; i < n; ++i) above += std::fabs(x[i]) > t;
  int64_t ties = count - above;
  out.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > t || (a == t && ties-- > 0)) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

int64_t share_count(double fraction, int64_t n) {
  if (fraction <= 0 || n <= 0) return 0;
  const double c = std::ceil(fraction * static_cast<double>(n) - 1e-9);
  return std::min<int64_t>(n, static_cast<int64_t>(std::max(0.0, c)));
}

namespace {

class KeepFormat final : public Format {
 public:
  KeepFormat(std::unique_ptr<Format> inner, double keep)
      : inner_(std::move(inner)), keep_(keep), inner_name_(inner_->name()) {
    FormatSpec s = FormatSpec::parse(inner_name_);
    s.options["keep"] = keep_ >= 1 ? std::to_string(static_cast<int64_t>(keep_)) : format_g(keep_);
    name_ = s.str();
  }

  std::string name() const override { return name_; }

  FormatTraits traits() const override {
    FormatTraits t = inner_->traits();
    if (keep_ >= 1) {
      t.keep_count = static_cast<int64_t>(keep_);
    } else {
      t.keep_fraction = keep_;
    }
    t.encode_scope = EncodeScope::kTensor;  // the kept values are the tensor's largest
    return t;
  }

  std::unique_ptr<Format> calibrated(const float* x, int64_t rows, int64_t cols) const override {
    std::vector<float> y(x, x + rows * cols);
    for (uint32_t i : largest_magnitudes(x, rows * cols, count(rows * cols))) y[i] = 0.0f;
    std::unique_ptr<Format> c = inner_->calibrated(y.data(), rows, cols);
    if (!c) return nullptr;
    return std::make_unique<KeepFormat>(std::move(c), keep_);
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name_);
    if (n >= (int64_t{1} << 32)) {
      throw Error("format '" + name_ + "': " + std::to_string(n) +
                  " elements do not fit 32-bit kept positions");
    }
    const std::vector<uint32_t> pos = largest_magnitudes(x, n, count(n));
    EncodedTensor e;
    if (pos.empty()) {
      e = inner_->encode(x, rows, cols);
    } else {
      std::vector<float> y(x, x + n);
      for (uint32_t i : pos) y[i] = 0.0f;
      e = inner_->encode(y.data(), rows, cols);
    }
    e.format = name_;
    for (uint32_t i : pos) {
      const uint32_t c = fp_encode(kFP16, x[i]);
      e.indices.push_back(i);
      e.scales.push_back(static_cast<uint8_t>(c & 0xFF));
      e.scales.push_back(static_cast<uint8_t>(c >> 8));
    }
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    std::vector<uint32_t> pos;
    std::vector<float> val;
    inner_->decode(split(e, pos, val), out);
    for (size_t j = 0; j < pos.size(); ++j) out[pos[j]] = val[j];
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    std::vector<uint32_t> pos;
    std::vector<float> val;
    DecodedTensor d = inner_->decode_operand(split(e, pos, val));
    for (size_t j = 0; j < pos.size(); ++j) {
      d.mant[pos[j]] = 0;
      d.shift[pos[j]] = 0;
      d.sparse_index.push_back(pos[j]);
      d.sparse_value.push_back(val[j]);
    }
    return d;
  }

 private:
  int64_t count(int64_t n) const {
    return keep_ >= 1 ? std::min(n, static_cast<int64_t>(keep_)) : share_count(keep_, n);
  }

  // The inner format's encoding (the kept values split off into pos / val), checked.
  EncodedTensor split(const EncodedTensor& e, std::vector<uint32_t>& pos,
                      std::vector<float>& val) const {
    check_encoded(e);
    const uint64_t n = static_cast<uint64_t>(e.rows) * static_cast<uint64_t>(e.cols);
    const size_t c = static_cast<size_t>(count(static_cast<int64_t>(n)));
    if (e.indices.size() < c || e.scales.size() < 2 * c) {
      throw Error("encoded '" + name_ + "': expected " + std::to_string(c) +
                  " kept positions and FP16 values at the end of indices and scales");
    }
    EncodedTensor in = e;
    in.format = inner_name_;
    pos.assign(e.indices.end() - c, e.indices.end());
    in.indices.resize(e.indices.size() - c);
    val.resize(c);
    const size_t s0 = e.scales.size() - 2 * c;
    for (size_t j = 0; j < c; ++j) {
      if (pos[j] >= n || (j && pos[j] <= pos[j - 1])) {
        throw Error("encoded '" + name_ + "': kept position " + std::to_string(j) + " (" +
                    std::to_string(pos[j]) + ") is out of range or not ascending");
      }
      const uint32_t code = e.scales[s0 + 2 * j] | (e.scales[s0 + 2 * j + 1] << 8);
      if (fp_is_special(kFP16, code)) {
        throw Error("encoded '" + name_ + "': kept value " + std::to_string(j) + " is not finite");
      }
      val[j] = fp_decode(kFP16, code);
    }
    in.scales.resize(s0);
    return in;
  }

  std::unique_ptr<Format> inner_;
  double keep_;
  std::string inner_name_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Format> with_keep(std::unique_ptr<Format> inner, FormatOptions& o) {
  const double keep = o.get_double("keep", 0.0, 0.0, 4294967295.0);
  o.finish();
  if (keep >= 1 && keep != std::floor(keep)) {
    throw Error("format '" + o.spec().str() +
                "': option 'keep': a count (an integer >= 1) or a share below 1, not " +
                format_g(keep));
  }
  if (keep == 0) return inner;
  if (inner->traits().channel_ratio > 0) {
    throw Error("format '" + o.spec().str() + "': keep= does not combine with " + inner->name() +
                " (its operand has other channels than the input the kept positions index)");
  }
  return std::make_unique<KeepFormat>(std::move(inner), keep);
}

}  // namespace detail
}  // namespace qarch::quant
