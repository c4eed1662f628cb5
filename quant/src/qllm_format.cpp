// QLLM channel disassembly / assembly as an activation format (Liu et al., "QLLM: Accurate and
// Efficient Low-Bitwidth Quantization for Large Language Models", ICLR 2024): `qllm`, options
// base=<catalogue name> (default int8, the format that encodes the transformed activations and
// that the PE multiplies), ratio=0.05 (extra-channel budget, share of K, in [0, 0.25]),
// assemble=false (merge similar channels back to K). The transform itself, its facts and the
// rules qarch chose are in transforms.h, section 6.
//
// On one tensor X [rows, K] (rows = tokens, cols = K):
// - plan = qllm_plan(X, {ratio, assemble}) without a weight (so assembly prices a pair by
//   ||x_a - x_b|| alone; workloads' trace builder plans with the weight, the paper's cost);
// - X' = qllm_apply_x(X, plan) [rows, K'] is encoded by the base format; K' = K + floor(ratio K)
//   (or K with assembly) exactly, a function of K only (FormatTraits::gemm_k), so models/ times
//   the grown GEMM without seeing data.
// Layout: the base format's encoding of X' (elements, scales, fp32, indices), then the plan
//   appended to indices: a_0 .. a_{K'-1}, b_0 .. b_{K'-1} (b = 0xFFFFFFFF for a sub-channel),
//   64 bits per output channel, counted by storage_bits(). EncodedTensor rows / cols stay the
//   input's [rows, K].
// decode(): the base format's decode of X', folded to the input's channels (qllm_fold_x: a
//   split channel is the FP32 sum of its sub-channels in order, a merged pair's value s gives
//   s * 0.5 to both members), so decode(X) W^T equals X'_q W'^T in real arithmetic for the
//   weight W' the plan makes (W unquantized).
// decode_operand(): the base format's operand of X', K' wide: what the PE multiplies against
//   W' (the same K'). Its values equal the base decode of X' bit for bit, and decode() is their
//   fold; the generic invariant decoded_value(decode_operand(e)) == decode(e) does not apply
//   (K' != K). keep= is refused (its positions would index the input's channels).
// Traits: the base format's (element, decoder, group_cols, ...), family qllm, channel_ratio and
//   channel_assembly. The PE and decoder are the base format's: disassembly and assembly change
//   which values reach them, not how they are coded. The gather that forms X' (a copy and a
//   division by T_j per sub-channel, an addition per merged pair) is not timed; in a deployment
//   the paper folds it into the preceding layer's output channels.
// Passes (issue 13's speed): encode reads X once for the finiteness check and the column
//   maxima, writes X' once from the plan compiled to runs (detail::QllmRows: copies of unsplit
//   channels, one division per split channel and row, pairs) and encodes it; decode decodes X'
//   into one buffer and folds it straight into `out`; quantize() does the same through the base
//   format's quantize(). Bit for bit the functions of transforms.h section 6
//   (tests/quant/encoder_hash_test.cpp freezes the outputs).
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/quant/transforms.h"
#include "qllm_internal.h"
#include "registry.h"

namespace qarch::quant {

int64_t FormatTraits::gemm_k(int64_t k) const {
  if (channel_ratio <= 0) return k;
  QllmOptions o;
  o.ratio = channel_ratio;
  o.assemble = channel_assembly;
  return qllm_reduction_length(k, o);
}

namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;

class QllmFormat final : public Format {
 public:
  QllmFormat(std::string base, double ratio, bool assemble) {
    opts_.ratio = ratio;
    opts_.assemble = assemble;
    base_ = make_format(base);
    const FormatTraits bt = base_->traits();
    if (bt.channel_ratio > 0) throw Error("format 'qllm': base '" + base + "' is itself qllm");
    if (bt.weight_only) {
      throw Error("format 'qllm': base '" + base +
                  "' quantizes weights only; QLLM transforms activations");
    }
    if (bt.keep_count > 0 || bt.keep_fraction > 0) {
      throw Error("format 'qllm': base '" + base + "' takes no keep= here");
    }
    base_name_ = base_->name();
    FormatSpec s{
        "qllm",
        {{"base", base}, {"ratio", format_g(ratio)}, {"assemble", assemble ? "true" : "false"}}};
    name_ = s.str();
  }

  std::string name() const override { return name_; }
  const QllmOptions& options() const { return opts_; }
  const std::string& base_name() const { return base_name_; }

  FormatTraits traits() const override {
    FormatTraits t = base_->traits();
    t.family = "qllm";
    t.channel_ratio = opts_.ratio;
    t.channel_assembly = opts_.assemble;
    t.encode_scope = EncodeScope::kTensor;  // the channel plan comes from the whole tensor
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    check_shape(rows, cols);
    Transformed t = transform(x, rows, cols);
    EncodedTensor e = base_->encode(t.xp.get(), rows, t.ko);
    t.xp.reset();
    e.format = name_;
    e.rows = rows;
    e.cols = cols;
    e.indices.reserve(e.indices.size() + static_cast<size_t>(2 * t.ko));
    for (int64_t a : t.plan.a) e.indices.push_back(static_cast<uint32_t>(a));
    for (int64_t b : t.plan.b) e.indices.push_back(b < 0 ? kNone : static_cast<uint32_t>(b));
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    ChannelPlan plan;
    const EncodedTensor be = split(e, &plan);
    const detail::QllmRows runs(plan);
    std::unique_ptr<float[]> xp(new float[static_cast<size_t>(be.rows * be.cols)]);
    base_->decode(be, xp.get());
    fold(runs, xp.get(), be.rows, be.cols, out);
  }

  // decode(encode(x)) with the base format's fused quantize() (bit-identical to its decode of
  // its encode) and without building the encoding.
  void quantize(const float* x, int64_t rows, int64_t cols, float* out) const override {
    check_shape(rows, cols);
    Transformed t = transform(x, rows, cols);
    std::unique_ptr<float[]> q(new float[static_cast<size_t>(rows * t.ko)]);
    base_->quantize(t.xp.get(), rows, t.ko, q.get());
    t.xp.reset();
    fold(detail::QllmRows(t.plan), q.get(), rows, t.ko, out);
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    return base_->decode_operand(split(e, nullptr));
  }

 private:
  struct Transformed {
    ChannelPlan plan;
    int64_t ko = 0;
    std::unique_ptr<float[]> xp;  // X' [rows, ko]
  };

  void check_shape(int64_t rows, int64_t cols) const {
    if (rows < 1 || cols < 1) {
      throw Error("format '" + name_ + "': needs a non-empty tensor, got [" + std::to_string(rows) +
                  ", " + std::to_string(cols) + "]");
    }
  }

  // The plan (qllm_plan without a weight) and X' = qllm_apply_x(X, plan), on the raw input:
  // one pass for the finiteness check and the column maxima, one that writes X' (uninitialized
  // before: every element is written).
  Transformed transform(const float* x, int64_t rows, int64_t cols) const {
    std::vector<float> absmax;
    if (!detail::qllm_column_absmax(x, rows, cols, &absmax)) {
      require_finite(x, rows * cols, cols, name_);  // names the element and throws
    }
    Transformed t;
    t.plan = detail::qllm_plan_rows(x, rows, cols, absmax, opts_);
    t.ko = t.plan.k_out();
    const detail::QllmRows runs(t.plan);
    t.xp.reset(new float[static_cast<size_t>(rows * t.ko)]);
    for (int64_t r = 0; r < rows; ++r) runs.apply(x + r * cols, t.xp.get() + r * t.ko);
    return t;
  }

  // out [rows, K] = qllm_fold_x(X' [rows, ko]) straight into out.
  static void fold(const detail::QllmRows& runs, const float* xp, int64_t rows, int64_t ko,
                   float* out) {
    const int64_t k = runs.k_in();
    for (int64_t r = 0; r < rows; ++r) {
      if (runs.foldable()) {
        runs.fold(xp + r * ko, out + r * k);
      } else {
        runs.fold_any(xp + r * ko, out + r * k);
      }
    }
  }

  // The base format's encoding of X' and the plan, from a qllm encoding.
  EncodedTensor split(const EncodedTensor& e, ChannelPlan* plan) const {
    check_encoded(e);
    const int64_t k = e.cols, ko = traits().gemm_k(k);
    const size_t tail = static_cast<size_t>(2 * ko);
    if (e.indices.size() < tail) {
      throw Error("format '" + name_ + "': encoding holds " + std::to_string(e.indices.size()) +
                  " indices, fewer than the " + std::to_string(tail) + " of its channel plan");
    }
    EncodedTensor be;
    be.format = base_name_;
    be.rows = e.rows;
    be.cols = ko;
    be.elements = e.elements;
    be.scales = e.scales;
    be.fp32 = e.fp32;
    be.indices.assign(e.indices.begin(), e.indices.end() - static_cast<std::ptrdiff_t>(tail));
    if (plan) {
      plan->k_in = k;
      plan->parts.assign(static_cast<size_t>(k), 1);
      const uint32_t* pa = e.indices.data() + be.indices.size();
      const uint32_t* pb = pa + ko;
      std::vector<int64_t> subs(static_cast<size_t>(k), 0);
      for (int64_t c = 0; c < ko; ++c) {
        const int64_t a = pa[c], b = pb[c] == kNone ? -1 : static_cast<int64_t>(pb[c]);
        if (a >= k || b >= k || (b >= 0 && b <= a)) {
          throw Error("format '" + name_ + "': channel plan entry " + std::to_string(c) +
                      " names channels outside 0.." + std::to_string(k - 1));
        }
        plan->a.push_back(a);
        plan->b.push_back(b);
        if (b < 0) ++subs[a];
      }
      for (int64_t j = 0; j < k; ++j) plan->parts[j] = std::max<int64_t>(1, subs[j]);
    }
    return be;
  }

  QllmOptions opts_;
  std::unique_ptr<Format> base_;
  std::string base_name_, name_;
};

}  // namespace

bool qllm_format_parts(const Format& f, QllmOptions* opts, std::string* base) {
  const auto* q = dynamic_cast<const QllmFormat*>(&f);
  if (!q) return false;
  if (opts) *opts = q->options();
  if (base) *base = q->base_name();
  return true;
}

namespace detail {

void register_qllm_formats(Registry& r) {
  r.push_back({{"qllm", "base=int8 ratio=0.05 assemble=false",
                "QLLM channel disassembly (outlier channels split into ceil(max/theta) "
                "sub-channels, K grows by floor(ratio K)) and optional assembly, on a base "
                "format (Liu et al., ICLR 2024)"},
               [](FormatOptions& o) -> std::unique_ptr<Format> {
                 const std::string base =
                     o.get_choice("base", "int8",
                                  {"int8", "int4", "int6", "mxint8", "mxfp4", "mxfp8_e4m3",
                                   "olive4", "olive8", "ant4", "ant8", "fp16", "bf16", "e4m3"});
                 const double ratio = o.get_double("ratio", 0.05, 0.0, 0.25);
                 const bool assemble = o.get_bool("assemble", false);
                 o.finish();
                 return std::make_unique<QllmFormat>(base, ratio, assemble);
               }});
}

}  // namespace detail
}  // namespace qarch::quant
