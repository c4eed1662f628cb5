// RotateKV-style keys: a Hadamard rotation of every key vector along head_dim before low-bit
// integer quantization, undone when the cache is read. The idea is that of RotateKV (Su et al.,
// 2025, "RotateKV: Accurate and Robust 2-Bit KV Cache Quantization for LLMs via Outlier-Aware
// Adaptive Rotations"; the paper was not re-read while writing this, hence "-style") and of
// QuaRot's KV-cache rotation: the keys' outlier channels are spread over all channels of the
// vector, so a per-token integer grid fits them far better.
//
// Taken from RotateKV (as we understand it): rotate each key (row) with a fast Walsh-Hadamard
// transform along head_dim, quantize the rotated vector to a few bits, decode by dequantizing
// and applying the inverse rotation. NOT taken: its outlier-aware channel reordering before the
// rotation, its pre-RoPE grouped-head rotation (rotating across heads), its attention-sink-aware
// quantization, its 2-bit grouping and its kernels. The rotation here is quant's
// HadamardRotation (transforms.h: randomized D H, SplitMix64-seeded signs, block = the largest
// power of two dividing head_dim; an odd head_dim degenerates to the sign flips); the integer
// quantizer is quant's int<bits> format (int_formats.cpp), so its arithmetic and layout are
// exactly those of the inner spec:
//   per=token, group=0 -> int<bits>:per=row        (one scale per key vector)
//   per=token, group=G -> int<bits>:group=G        (G channels of one token share a scale)
//   per=channel, group=0 -> int<bits>:per=col      (one scale per rotated channel)
//   per=channel, group=G -> int<bits>:group=G:group_axis=rows (G tokens share it: KIVI-style)
// with sym= passed on (default asymmetric with a zero point, as KV quantizers usually are).
//
// decode: the inner int decode, then Q^T row by row (HadamardRotation::unrotate_rows, FP32),
// then one rounding to FP16 (fp16_operand.h): the decoder writes the keys back in FP16 for the
// attention GEMM, so decode() and the decoded operand are FP16 values.
// Layout: exactly the inner int format's buffers (codes, FP32 scales, zero points); the rotation
// is fixed by the seed and head_dim, so nothing else is stored.
// Traits: element int<bits>; decoder kind `rotatekv` (dequantize + inverse FWHT + FP16 round);
// FP16 MACs (`gobo` PE type). A deployment would rather rotate the queries and keep the
// integer keys (q . k = qQ . kQ), which needs the other operand rotated: not what a Format sees.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "fp16_operand.h"
#include "qarch/common/error.h"
#include "qarch/quant/transforms.h"
#include "registry.h"

namespace qarch::quant {
namespace {

class RotateKvFormat final : public Format {
 public:
  RotateKvFormat(int bits, bool per_channel, int64_t group, bool sym, bool signs, uint64_t seed)
      : bits_(bits),
        per_channel_(per_channel),
        group_(group),
        sym_(sym),
        signs_(signs),
        seed_(seed) {
    std::string inner = "int" + std::to_string(bits) + ":sym=" + (sym ? "true" : "false");
    if (group == 0) {
      inner += per_channel ? ":per=col" : ":per=row";
    } else {
      inner += ":group=" + std::to_string(group) + (per_channel ? ":group_axis=rows" : "");
    }
    inner_ = make_format(inner);
  }

  std::string name() const override {
    return FormatSpec{"rotatekv",
                      {{"bits", std::to_string(bits_)},
                       {"group", std::to_string(group_)},
                       {"per", per_channel_ ? "channel" : "token"},
                       {"seed", std::to_string(seed_)},
                       {"signs", signs_ ? "true" : "false"},
                       {"sym", sym_ ? "true" : "false"}}}
        .str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "rotatekv";
    t.element = "int";
    t.element_bits = bits_;
    t.decoder = "rotatekv";
    // Per-channel scales run down the tokens; per-token ones and the rotation stay in the row.
    t.encode_scope = per_channel_ ? EncodeScope::kTensor : EncodeScope::kSegment;
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name());
    std::vector<float> y(x, x + n);
    if (n > 0) {
      rotation(cols).rotate_rows(y.data(), rows);
      // Screen by exponent bits (an all-ones exponent is Inf/NaN; the OR vectorizes), then
      // find the first such element for the message.
      uint32_t bad = 0;
      for (int64_t i = 0; i < n; ++i) {
        uint32_t u;
        std::memcpy(&u, y.data() + i, 4);
        bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
      }
      for (int64_t i = 0; bad && i < n; ++i) {
        if (!std::isfinite(y[static_cast<size_t>(i)])) {
          throw Error("format '" + name() + "': the Hadamard rotation of row " +
                      std::to_string(i / cols) + " overflows FP32");
        }
      }
    }
    EncodedTensor e = inner_->encode(y.data(), rows, cols);
    e.format = name();
    return e;
  }

  // reconstruct() in place in `out`, then FP16 as fp16_values (no tensor-sized temporary).
  void decode(const EncodedTensor& e, float* out) const override {
    check_encoded(e);
    EncodedTensor inner = e;
    inner.format = inner_->name();
    inner_->decode(inner, out);
    const int64_t n = e.rows * e.cols;
    if (n > 0) rotation(e.cols).unrotate_rows(out, e.rows);
    detail::fp16_round_inplace(out, n);
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    return detail::fp16_operand(reconstruct(e), e.rows, e.cols);
  }

 private:
  HadamardRotation rotation(int64_t cols) const {
    HadamardOptions o;
    o.random_signs = signs_;
    o.seed = seed_;
    return HadamardRotation(cols, o);
  }

  std::vector<float> reconstruct(const EncodedTensor& e) const {
    check_encoded(e);
    EncodedTensor inner = e;
    inner.format = inner_->name();
    std::vector<float> v(static_cast<size_t>(e.rows * e.cols));
    inner_->decode(inner, v.data());
    if (!v.empty()) rotation(e.cols).unrotate_rows(v.data(), e.rows);
    return v;
  }

  int bits_;
  bool per_channel_;
  int64_t group_;
  bool sym_;
  bool signs_;
  uint64_t seed_;
  std::unique_ptr<Format> inner_;
};

std::unique_ptr<Format> make_rotatekv(int alias_bits, FormatOptions& o) {
  const int bits = detail::width_option(o, alias_bits, "rotatekv", 4, 2, 8);
  const int64_t group = o.get_int("group", 0, 0, int64_t{1} << 20);
  const bool per_channel = o.get_choice("per", "token", {"token", "channel"}) == "channel";
  const bool sym = o.get_bool("sym", false);
  const bool signs = o.get_bool("signs", true);
  const uint64_t seed = static_cast<uint64_t>(o.get_int("seed", 0, 0, INT64_MAX));
  o.finish();
  return std::make_unique<RotateKvFormat>(bits, per_channel, group, sym, signs, seed);
}

}  // namespace

namespace detail {
void register_rotatekv_formats(Registry& r) {
  const std::string opts = "per=token|channel group=0 sym=false signs=true seed=0";
  r.push_back({{"rotatekv", "bits=2..8 (4) " + opts,
                "RotateKV-style keys: randomized Hadamard rotation along head_dim, then int "
                "quantization per token or channel; decode rotates back (after Su et al. 2025)"},
               [](FormatOptions& o) { return make_rotatekv(0, o); }});
  r.push_back({{"rotatekv4", opts, "RotateKV-style keys at 4 bits (rotatekv:bits=4)"},
               [](FormatOptions& o) { return make_rotatekv(4, o); }});
  r.push_back({{"rotatekv2", opts, "RotateKV-style keys at 2 bits (rotatekv:bits=2)"},
               [](FormatOptions& o) { return make_rotatekv(2, o); }});
}
}  // namespace detail

}  // namespace qarch::quant
