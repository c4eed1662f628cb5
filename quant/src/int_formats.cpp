// Uniform integer formats INT2 .. INT8 with an FP32 scale per scale group (round-to-nearest
// "RTN" quantization as used by LLM.int8(), SmoothQuant, GPTQ/AWQ baselines).
//
// Registry names int2 .. int8 (the bit width is part of the name, as in the literature and the
// configs; one name per width keeps specs short: "int4:group=128"). Options:
//   sym=true|false   symmetric (default): q in [-(2^(k-1)-1), 2^(k-1)-1], s = amax / qmax, no
//                    zero point; the code -2^(k-1) is never produced (the decoder reads it as
//                    two's complement). Asymmetric: q in [0, 2^k-1], s = (hi - lo) / (2^k-1)
//                    with lo = min(min x, 0), hi = max(max x, 0) (the range always contains 0,
//                    as in GPTQ's quantizer and PyTorch's MinMax observers, so 0 is exact and
//                    the zero point fits), zero point z = round(-lo / s) clamped to [0, 2^k-1].
//   per=tensor|row|col|group  scale granularity (default tensor). row = one scale per row
//                    (per output channel for weights W [N, K], per token for activations);
//                    col = one per column, i.e. per input channel along the reduction axis
//                    (AdaDim-style). group: see group=.
//   group=G          G >= 1 consecutive elements share a scale (implies per=group): along cols
//                    within each row (group_axis=cols, default: GPTQ/AWQ "group size 128"), or
//                    G consecutive rows within each column (group_axis=rows). A partial last
//                    group is shorter.
//   clip=max|mse     max: the range is the group's amax (or lo/hi). mse: grid search of the
//                    clipping ratio r in {1.00, 0.99, ..., 0.30} (71 points; amax -> r * amax,
//                    lo/hi -> r * lo / r * hi), keeping per group the r with the smallest sum
//                    of squared errors of the decoded values (ties keep the larger r, so r = 1,
//                    i.e. clip=max, wins unless something is strictly better). This is the
//                    MSE-optimal clipping of Banner et al. (ACIQ, "Post training 4-bit
//                    quantization of convolutional networks for rapid deployment", NeurIPS
//                    2019) and Sakr et al. (OCTAV, ICML 2022), found by grid search instead of
//                    their analytic / Newton solutions. AWQ (Lin et al., MLSys 2024; llm-awq
//                    auto_clip_layer) also grid-searches a per-group shrink ratio (1 - i/20 down
//                    to 0.55) but scores the layer output error; a Format sees no activations,
//                    so we score the tensor's own squared error on a finer, wider grid.
//   round=even|away  ties of x / s to even (default) or away from zero (also used for z).
//
// Exact arithmetic: sym s = fl32(fl32(r * amax) / qmax). Asym lo' = fl32(r * lo), hi' =
// fl32(r * hi), s = fl32((double(hi') - double(lo')) / (2^k-1)) (the difference in double so it
// cannot overflow), z = round(-lo' / s) in double, clamped to [0, 2^k-1]. s = 0 (all-zero group,
// or underflow) -> s = 1. Then q - z = round(clamp(fl32(x / s), L, H)) with [L, H] = [-qmax,
// qmax] (sym) or [-z, 2^k-1-z] (asym); clamping before rounding equals clamping after since the
// bounds are integers. Decode is exactly fl32((q - z) * s), which is what decoded_value()
// computes (scale_exp 0, scale_mul s).
// A constant group c != 0 decodes to fl(qmax * fl(|c| / qmax)) (sym), within an ulp or two of
// c; an all-zero group decodes to zeros with s = 1, z = 0. A scale whose qmax * s would overflow
// (inputs at FLT_MAX) is stepped down by ulps until qmax * s is finite, so nothing decodes to Inf.
//
// Layout: elements = k-bit codes per row in the pack_codes layout (sym: two's complement q;
// asym: q), 8 and 4 bits without the generic bit loop. fp32 = one scale per scale group,
// row-major over the group grid (the DecodedTensor group order). scales = one zero-point byte
// per group for asym (empty for sym). NaN/Inf inputs: qarch::Error naming the first element.
//
// DecodedTensor: mant = q - z, shift 0, groups of group_rows x group_cols = rows x cols
// (tensor), 1 x cols (row), rows x 1 (col), 1 x G or G x 1 (group), scale_exp 0, scale_mul s.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "intbfp_kernels.h"
#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {
namespace {

using detail::f2u;

enum class Granularity { kTensor, kRow, kCol, kGroup };

const char* granularity_name(Granularity g) {
  switch (g) {
    case Granularity::kTensor:
      return "tensor";
    case Granularity::kRow:
      return "row";
    case Granularity::kCol:
      return "col";
    case Granularity::kGroup:
      return "group";
  }
  return "?";
}

constexpr int kClipSteps = 71;  // ratios (100 - i) / 100, i = 0..70: 1.00 down to 0.30

// Scale-group geometry of one tensor: groups of gr x gc elements, ngr x ngc of them.
struct Geometry {
  int64_t gr = 1, gc = 1, ngr = 0, ngc = 0;
  int64_t groups() const { return ngr * ngc; }
};

// Per-group quantization parameters: scale, zero point, and clamp bounds of q - z.
struct Params {
  std::vector<float> s, lo, hi;
  std::vector<int32_t> z;
  void resize(int64_t n) {
    s.resize(static_cast<size_t>(n));
    lo.resize(static_cast<size_t>(n));
    hi.resize(static_cast<size_t>(n));
    z.resize(static_cast<size_t>(n));
  }
};

enum class Pass { kCodes, kValues, kError };

class IntFormat final : public Format {
 public:
  IntFormat(int bits, bool sym, Granularity gran, int64_t group, bool group_rows, bool mse,
            Rounding rounding)
      : bits_(bits),
        sym_(sym),
        gran_(gran),
        group_(group),
        group_rows_(group_rows),
        mse_(mse),
        rounding_(rounding),
        qmax_(sym ? (1 << (bits - 1)) - 1 : (1 << bits) - 1) {
    FormatSpec spec;
    spec.name = "int" + std::to_string(bits);
    spec.options["sym"] = sym ? "true" : "false";
    spec.options["per"] = granularity_name(gran);
    if (gran == Granularity::kGroup) {
      spec.options["group"] = std::to_string(group);
      spec.options["group_axis"] = group_rows ? "rows" : "cols";
    }
    spec.options["clip"] = mse ? "mse" : "max";
    spec.options["round"] = rounding_name(rounding);
    name_ = spec.str();
  }

  std::string name() const override { return name_; }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "int" + std::to_string(bits_);
    t.element = "int";
    t.element_bits = bits_;
    t.decoder = "int";
    // Scale segments along K: a group of `group_` columns, one column (per-column scales, or
    // groups that run down the rows), or the whole row.
    t.group_cols = gran_ == Granularity::kGroup ? (group_rows_ ? 1 : group_)
                   : gran_ == Granularity::kCol ? 1
                                                : 0;
    // Per-tensor and per-column scales (and groups running down the rows) span rows.
    const bool spans_rows = gran_ == Granularity::kTensor || gran_ == Granularity::kCol ||
                            (gran_ == Granularity::kGroup && group_rows_);
    t.encode_scope = spans_rows ? EncodeScope::kTensor : EncodeScope::kSegment;
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const Geometry g = geometry(rows, cols);
    const Params p = choose_params(x, rows, cols, g);
    EncodedTensor e;
    e.format = name_;
    e.rows = rows;
    e.cols = cols;
    e.fp32 = p.s;
    if (!sym_) {
      e.scales.resize(p.z.size());
      for (size_t i = 0; i < p.z.size(); ++i) e.scales[i] = static_cast<uint8_t>(p.z[i]);
    }
    const int64_t rb = packed_row_bytes(cols, bits_);
    e.elements.assign(static_cast<size_t>(rows * rb), 0);
    std::vector<uint8_t> codes(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      row_pass<Pass::kCodes>(x + r * cols, cols, g, r, p, codes.data(), nullptr, nullptr);
      detail::pack_row(codes.data(), cols, bits_, e.elements.data() + r * rb);
    }
    return e;
  }

  void quantize(const float* x, int64_t rows, int64_t cols, float* out) const override {
    const Geometry g = geometry(rows, cols);
    const Params p = choose_params(x, rows, cols, g);
    for (int64_t r = 0; r < rows; ++r) {
      row_pass<Pass::kValues>(x + r * cols, cols, g, r, p, nullptr, out + r * cols, nullptr);
    }
  }

  void decode(const EncodedTensor& e, float* out) const override {
    const Geometry g = check_buffers(e);
    const int64_t cols = e.cols, rb = packed_row_bytes(cols, bits_);
    const int32_t h = sym_ ? 1 << (bits_ - 1) : 0;  // (c ^ h) - h sign-extends a k-bit code
    std::vector<uint8_t> codes(static_cast<size_t>(cols));
    std::vector<int32_t> zs(static_cast<size_t>(g.groups()));
    for (size_t i = 0; i < zs.size(); ++i) zs[i] = sym_ ? 0 : e.scales[i];
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, cols, bits_, codes.data());
      const int64_t gbase = (r / g.gr) * g.ngc;
      float* o = out + r * cols;
      if (g.gc == 1) {
        const float* s = e.fp32.data() + gbase;
        const int32_t* z = zs.data() + gbase;
        for (int64_t c = 0; c < cols; ++c) {
          o[c] = static_cast<float>((static_cast<int32_t>(codes[c]) ^ h) - h - z[c]) * s[c];
        }
      } else {
        for (int64_t c0 = 0, gi = gbase; c0 < cols; c0 += g.gc, ++gi) {
          const int64_t n = std::min(g.gc, cols - c0);
          const float s = e.fp32[gi];
          const int32_t z = zs[gi];
          for (int64_t j = 0; j < n; ++j) {
            o[c0 + j] = static_cast<float>((static_cast<int32_t>(codes[c0 + j]) ^ h) - h - z) * s;
          }
        }
      }
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    const Geometry g = check_buffers(e);
    const int64_t cols = e.cols, rb = packed_row_bytes(cols, bits_);
    const int32_t h = sym_ ? 1 << (bits_ - 1) : 0;
    DecodedTensor d;
    d.resize(e.rows, cols, g.gr, g.gc);
    for (int64_t i = 0; i < g.groups(); ++i) d.scale_mul[i] = e.fp32[i];
    std::vector<uint8_t> codes(static_cast<size_t>(cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      detail::unpack_row(e.elements.data() + r * rb, cols, bits_, codes.data());
      for (int64_t c = 0; c < cols; ++c) {
        const int32_t z = sym_ ? 0 : e.scales[d.group_index(r, c)];
        d.mant[r * cols + c] = ((static_cast<int32_t>(codes[c]) ^ h) - h) - z;
      }
    }
    return d;
  }

 private:
  Geometry geometry(int64_t rows, int64_t cols) const {
    if (rows < 0 || cols < 0) {
      throw Error("format '" + name_ + "': negative shape " + std::to_string(rows) + " x " +
                  std::to_string(cols));
    }
    Geometry g;
    const int64_t R = std::max<int64_t>(1, rows), C = std::max<int64_t>(1, cols);
    switch (gran_) {
      case Granularity::kTensor:
        g.gr = R, g.gc = C;
        break;
      case Granularity::kRow:
        g.gr = 1, g.gc = C;
        break;
      case Granularity::kCol:
        g.gr = R, g.gc = 1;
        break;
      case Granularity::kGroup:
        g.gr = group_rows_ ? group_ : 1;
        g.gc = group_rows_ ? 1 : group_;
        break;
    }
    g.ngr = (rows + g.gr - 1) / g.gr;
    g.ngc = (cols + g.gc - 1) / g.gc;
    return g;
  }

  Geometry check_buffers(const EncodedTensor& e) const {
    check_encoded(e);
    const Geometry g = geometry(e.rows, e.cols);
    const size_t ng = static_cast<size_t>(g.groups());
    const size_t want_el = static_cast<size_t>(e.rows * packed_row_bytes(e.cols, bits_));
    if (e.elements.size() != want_el || e.fp32.size() != ng || e.scales.size() != (sym_ ? 0 : ng) ||
        !e.indices.empty()) {
      throw Error("encoded '" + name_ + "' [" + std::to_string(e.rows) + ", " +
                  std::to_string(e.cols) + "]: expected " + std::to_string(want_el) +
                  " element bytes, " + std::to_string(ng) + " FP32 scales and " +
                  std::to_string(sym_ ? 0 : ng) + " zero-point bytes; got " +
                  std::to_string(e.elements.size()) + ", " + std::to_string(e.fp32.size()) +
                  " and " + std::to_string(e.scales.size()) +
                  (e.indices.empty() ? "" : " (plus unexpected indices)"));
    }
    for (size_t i = 0; i < ng; ++i) {
      if (!(e.fp32[i] > 0.0f) || !std::isfinite(e.fp32[i])) {
        throw Error("encoded '" + name_ + "': scale " + std::to_string(i) +
                    " is not a finite "
                    "positive number");
      }
      if (!sym_ && e.scales[i] > qmax_) {
        throw Error("encoded '" + name_ + "': zero point " + std::to_string(i) + " = " +
                    std::to_string(e.scales[i]) + " exceeds " + std::to_string(qmax_));
      }
    }
    return g;
  }

  // Range statistics per group: sym -> st_a = amax; asym -> st_a = lo, st_b = hi (both include
  // 0). Throws for NaN/Inf.
  void group_stats(const float* x, int64_t rows, int64_t cols, const Geometry& g,
                   std::vector<float>* st_a, std::vector<float>* st_b) const {
    const size_t ng = static_cast<size_t>(g.groups());
    // Integer keys so the reductions vectorize: |x| bits (sym) order like |x|; for asym the
    // "sortable" key k(x) = bits ^ ((bits >> 31) & 0x7fffffff) orders like x (finite x).
    std::vector<int32_t> ka(ng, 0), kb(sym_ ? 0 : ng, 0);  // key(0.0f) = 0: ranges include 0
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      int32_t amax = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const int32_t a = static_cast<int32_t>(f2u(xr[c]) & 0x7fffffffu);
        amax = a > amax ? a : amax;
      }
      if (amax >= 0x7f800000) require_finite(x, rows * cols, cols, name_);
      const int64_t gbase = (r / g.gr) * g.ngc;
      if (g.gc == 1) {
        int32_t* a = ka.data() + gbase;
        if (sym_) {
          for (int64_t c = 0; c < cols; ++c) {
            const int32_t v = static_cast<int32_t>(f2u(xr[c]) & 0x7fffffffu);
            a[c] = v > a[c] ? v : a[c];
          }
        } else {
          int32_t* b = kb.data() + gbase;
          for (int64_t c = 0; c < cols; ++c) {
            const int32_t v = sort_key(xr[c]);
            a[c] = v < a[c] ? v : a[c];
            b[c] = v > b[c] ? v : b[c];
          }
        }
      } else {
        for (int64_t c0 = 0, gi = gbase; c0 < cols; c0 += g.gc, ++gi) {
          const int64_t n = std::min(g.gc, cols - c0);
          if (sym_) {
            int32_t m = ka[gi];
            for (int64_t j = 0; j < n; ++j) {
              const int32_t v = static_cast<int32_t>(f2u(xr[c0 + j]) & 0x7fffffffu);
              m = v > m ? v : m;
            }
            ka[gi] = m;
          } else {
            int32_t lo = ka[gi], hi = kb[gi];
            for (int64_t j = 0; j < n; ++j) {
              const int32_t v = sort_key(xr[c0 + j]);
              lo = v < lo ? v : lo;
              hi = v > hi ? v : hi;
            }
            ka[gi] = lo, kb[gi] = hi;
          }
        }
      }
    }
    st_a->resize(ng);
    st_b->resize(sym_ ? 0 : ng);
    for (size_t i = 0; i < ng; ++i) {
      (*st_a)[i] = from_key(ka[i]);
      if (!sym_) (*st_b)[i] = from_key(kb[i]);
    }
  }

  static int32_t sort_key(float v) {
    const int32_t b = static_cast<int32_t>(f2u(v));
    return b ^ ((b >> 31) & 0x7fffffff);
  }
  static float from_key(int32_t k) {
    return detail::u2f(static_cast<uint32_t>(k ^ ((k >> 31) & 0x7fffffff)));
  }

  double round_double(double v) const {
    return rounding_ == Rounding::kNearestAway ? std::round(v) : std::nearbyint(v);
  }

  // Near FLT_MAX, qmax * fl(amax / qmax) can round above FLT_MAX and decode to Inf: step the
  // scale down (one ulp at a time; at most a few steps) until the largest code decodes finite.
  // The largest input then clamps to qmax. Inputs below ~FLT_MAX / 2 never take this path.
  float keep_decode_finite(float s) const {
    while (s > 0.0f && !std::isfinite(static_cast<float>(qmax_) * s)) s = std::nextafter(s, 0.0f);
    return s;
  }

  int32_t zero_point(float lo, float s) const {
    const double zd = round_double(-static_cast<double>(lo) / static_cast<double>(s));
    return static_cast<int32_t>(std::min<double>(std::max(zd, 0.0), qmax_));
  }

  // Scale, zero point and clamp bounds of every group for clipping ratio `ratio`.
  void make_params(const std::vector<float>& st_a, const std::vector<float>& st_b, float ratio,
                   Params* p) const {
    const size_t ng = st_a.size();
    p->resize(static_cast<int64_t>(ng));
    for (size_t i = 0; i < ng; ++i) {
      if (sym_) {
        float s = (ratio * st_a[i]) / static_cast<float>(qmax_);
        if (!(s > 0.0f)) s = 1.0f;
        s = keep_decode_finite(s);
        p->s[i] = s;
        p->z[i] = 0;
        p->lo[i] = -static_cast<float>(qmax_);
        p->hi[i] = static_cast<float>(qmax_);
      } else {
        const float lo = std::min(st_a[i], 0.0f) * ratio, hi = std::max(st_b[i], 0.0f) * ratio;
        float s = static_cast<float>((static_cast<double>(hi) - static_cast<double>(lo)) / qmax_);
        if (!(s > 0.0f)) s = 1.0f;
        int32_t z = zero_point(lo, s);
        // Inputs spanning nearly the whole float range: shrink s until the largest code
        // decodes finite (|q - z| <= max(z, qmax - z)); never taken below ~FLT_MAX / 2.
        while (!std::isfinite(static_cast<float>(std::max(z, qmax_ - z)) * s)) {
          s *= 1.0f - 0x1p-12f;
          z = zero_point(lo, s);
        }
        p->s[i] = s;
        p->z[i] = z;
        p->lo[i] = -static_cast<float>(z);
        p->hi[i] = static_cast<float>(qmax_ - z);
      }
    }
  }

  Params choose_params(const float* x, int64_t rows, int64_t cols, const Geometry& g) const {
    std::vector<float> st_a, st_b;
    group_stats(x, rows, cols, g, &st_a, &st_b);
    Params best;
    make_params(st_a, st_b, 1.0f, &best);
    if (!mse_) return best;
    const size_t ng = st_a.size();
    std::vector<double> best_err(ng, std::numeric_limits<double>::infinity()), err(ng);
    Params cand;
    for (int i = 0; i < kClipSteps; ++i) {
      const float ratio = static_cast<float>((100 - i) / 100.0);
      make_params(st_a, st_b, ratio, &cand);
      std::fill(err.begin(), err.end(), 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        row_pass<Pass::kError>(x + r * cols, cols, g, r, cand, nullptr, nullptr, err.data());
      }
      for (size_t k = 0; k < ng; ++k) {
        if (err[k] < best_err[k]) {
          best_err[k] = err[k];
          best.s[k] = cand.s[k], best.z[k] = cand.z[k];
          best.lo[k] = cand.lo[k], best.hi[k] = cand.hi[k];
        }
      }
    }
    return best;
  }

  template <Pass kPass>
  void row_pass(const float* x, int64_t cols, const Geometry& g, int64_t r, const Params& p,
                uint8_t* codes, float* out, double* err) const {
    if (rounding_ == Rounding::kNearestAway) {
      row_pass_impl<kPass, true>(x, cols, g, r, p, codes, out, err);
    } else {
      row_pass_impl<kPass, false>(x, cols, g, r, p, codes, out, err);
    }
  }

  // One row: q - z = round(clamp(x / s, lo, hi)); then codes (q & mask), decoded values
  // fl((q - z) * s), or the per-group squared error of those values.
  template <Pass kPass, bool kAway>
  void row_pass_impl(const float* x, int64_t cols, const Geometry& g, int64_t r, const Params& p,
                     uint8_t* codes, float* out, double* err) const {
    const int64_t gbase = (r / g.gr) * g.ngc;
    const int32_t mask = (1 << bits_) - 1;
    if (g.gc == 1) {
      const float *s = p.s.data() + gbase, *lo = p.lo.data() + gbase, *hi = p.hi.data() + gbase;
      const int32_t* z = p.z.data() + gbase;
      for (int64_t c = 0; c < cols; ++c) {
        const float y = std::min(std::max(x[c] / s[c], lo[c]), hi[c]);
        const int32_t q = static_cast<int32_t>(detail::round_to_int<kAway>(y));
        if (kPass == Pass::kCodes) codes[c] = static_cast<uint8_t>((q + z[c]) & mask);
        if (kPass == Pass::kValues) out[c] = static_cast<float>(q) * s[c];
        if (kPass == Pass::kError) {
          const double d = static_cast<double>(x[c]) - static_cast<float>(q) * s[c];
          err[gbase + c] += d * d;
        }
      }
      return;
    }
    for (int64_t c0 = 0, gi = gbase; c0 < cols; c0 += g.gc, ++gi) {
      const int64_t n = std::min(g.gc, cols - c0);
      const float s = p.s[gi], lo = p.lo[gi], hi = p.hi[gi];
      const int32_t z = p.z[gi];
      const float* xc = x + c0;
      double e = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        const float y = std::min(std::max(xc[j] / s, lo), hi);
        const int32_t q = static_cast<int32_t>(detail::round_to_int<kAway>(y));
        if (kPass == Pass::kCodes) codes[c0 + j] = static_cast<uint8_t>((q + z) & mask);
        if (kPass == Pass::kValues) out[c0 + j] = static_cast<float>(q) * s;
        if (kPass == Pass::kError) {
          const double d = static_cast<double>(xc[j]) - static_cast<float>(q) * s;
          e += d * d;
        }
      }
      if (kPass == Pass::kError) err[gi] += e;
    }
  }

  int bits_;
  bool sym_;
  Granularity gran_;
  int64_t group_;
  bool group_rows_;
  bool mse_;
  Rounding rounding_;
  int32_t qmax_;
  std::string name_;
};

void add_int(detail::Registry& reg, int bits) {
  detail::FormatFactory f;
  const std::string n = "int" + std::to_string(bits);
  f.info = {n,
            "sym=true|false per=tensor|row|col|group group=G group_axis=cols|rows clip=max|mse "
            "round=even|away",
            "INT" + std::to_string(bits) +
                " RTN with FP32 scales (symmetric or asymmetric with zero point; per tensor, "
                "row, column or group; optional MSE-optimal clipping)"};
  f.make = [bits, n](FormatOptions& o) -> std::unique_ptr<Format> {
    const bool sym = o.get_bool("sym", true);
    const bool per_given = o.spec().options.count("per") > 0;
    const int64_t group = o.get_int("group", 0, 0, int64_t{1} << 30);
    std::string per =
        o.get_choice("per", group > 0 ? "group" : "tensor", {"tensor", "row", "col", "group"});
    const bool axis_given = o.spec().options.count("group_axis") > 0;
    const bool group_rows = o.get_choice("group_axis", "cols", {"cols", "rows"}) == "rows";
    const bool mse = o.get_choice("clip", "max", {"max", "mse"}) == "mse";
    const Rounding rnd = o.get_rounding();
    o.finish();
    const std::string where = "format '" + o.spec().str() + "': ";
    if (per == "group" && group == 0) throw Error(where + "per=group needs group=G (G >= 1)");
    if (per != "group" && group > 0 && per_given) {
      throw Error(where + "group=" + std::to_string(group) + " conflicts with per=" + per +
                  " (group=G means per=group)");
    }
    if (axis_given && per != "group") throw Error(where + "group_axis needs group=G");
    const Granularity g = per == "tensor" ? Granularity::kTensor
                          : per == "row"  ? Granularity::kRow
                          : per == "col"  ? Granularity::kCol
                                          : Granularity::kGroup;
    return std::make_unique<IntFormat>(bits, sym, g, group, group_rows, mse, rnd);
  };
  reg.push_back(std::move(f));
}

}  // namespace

namespace detail {
void register_int_formats(Registry& r) {
  for (int bits = 2; bits <= 8; ++bits) add_int(r, bits);
}
}  // namespace detail

}  // namespace qarch::quant
