// Outlier-suppressing transforms (see transforms.h for the definitions and sources).
//
// The FWHT is written for speed but stays bit-identical to the textbook radix-2 loop: every
// butterfly is the same IEEE addition or subtraction in the same stage order; passes only fuse
// consecutive stages (radix 8/4) so each element is loaded once per three stages, and the first
// three stages (h = 1, 2, 4) of each 8-element chunk run in two SSE registers with shuffles,
// where the auto-vectorizer can do nothing. a - b is computed as a + (-b) there, which IEEE
// defines to be the same value (including signed zeros).
#include "qarch/quant/transforms.h"
#include "qarch/common/number_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define QARCH_FWHT_SSE 1
#endif

namespace qarch::quant {

namespace {

std::string element_name(const Tensor& t, int64_t i) {
  std::ostringstream os;
  const int64_t c = t.cols();
  os << "element " << i << " (row " << i / c << ", col " << i % c << ")";
  return os.str();
}

// Index of the first NaN/Inf in x[0, n), or -1. A branch-free counting pass first (it
// vectorizes: an exponent field of all ones marks NaN/Inf), the scalar search only on failure.
int64_t first_non_finite(const float* x, int64_t n) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, x + i, sizeof b);
    bad += (b & 0x7f800000u) == 0x7f800000u;
  }
  if (bad == 0) return -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return i;
  }
  return -1;
}

bool is_pow2(int64_t n) {
  return n > 0 && (n & (n - 1)) == 0;
}

// ---- FWHT kernels ------------------------------------------------------------------------------

// Three radix-2 stages (half-lengths h, 2h, 4h) on the eight streams p + t*h, t = 0..7, fused
// so each value is loaded and stored once. Stage H pairs t with t + H/h for (t & H/h) == 0.
template <bool kScale>
inline void pass8(float* __restrict p0, float* __restrict p1, float* __restrict p2,
                  float* __restrict p3, float* __restrict p4, float* __restrict p5,
                  float* __restrict p6, float* __restrict p7, int64_t h, float scale) {
  for (int64_t j = 0; j < h; ++j) {
    const float x0 = p0[j], x1 = p1[j], x2 = p2[j], x3 = p3[j];
    const float x4 = p4[j], x5 = p5[j], x6 = p6[j], x7 = p7[j];
    const float y0 = x0 + x1, y1 = x0 - x1, y2 = x2 + x3, y3 = x2 - x3;
    const float y4 = x4 + x5, y5 = x4 - x5, y6 = x6 + x7, y7 = x6 - x7;
    const float z0 = y0 + y2, z2 = y0 - y2, z1 = y1 + y3, z3 = y1 - y3;
    const float z4 = y4 + y6, z6 = y4 - y6, z5 = y5 + y7, z7 = y5 - y7;
    float o0 = z0 + z4, o4 = z0 - z4, o1 = z1 + z5, o5 = z1 - z5;
    float o2 = z2 + z6, o6 = z2 - z6, o3 = z3 + z7, o7 = z3 - z7;
    if (kScale) {
      o0 *= scale, o1 *= scale, o2 *= scale, o3 *= scale;
      o4 *= scale, o5 *= scale, o6 *= scale, o7 *= scale;
    }
    p0[j] = o0, p1[j] = o1, p2[j] = o2, p3[j] = o3;
    p4[j] = o4, p5[j] = o5, p6[j] = o6, p7[j] = o7;
  }
}

template <bool kScale>
inline void pass4(float* __restrict p0, float* __restrict p1, float* __restrict p2,
                  float* __restrict p3, int64_t h, float scale) {
  for (int64_t j = 0; j < h; ++j) {
    const float x0 = p0[j], x1 = p1[j], x2 = p2[j], x3 = p3[j];
    const float y0 = x0 + x1, y1 = x0 - x1, y2 = x2 + x3, y3 = x2 - x3;
    float o0 = y0 + y2, o2 = y0 - y2, o1 = y1 + y3, o3 = y1 - y3;
    if (kScale) o0 *= scale, o1 *= scale, o2 *= scale, o3 *= scale;
    p0[j] = o0, p1[j] = o1, p2[j] = o2, p3[j] = o3;
  }
}

template <bool kScale>
inline void pass2(float* __restrict p0, float* __restrict p1, int64_t h, float scale) {
  for (int64_t j = 0; j < h; ++j) {
    const float x0 = p0[j], x1 = p1[j];
    float o0 = x0 + x1, o1 = x0 - x1;
    if (kScale) o0 *= scale, o1 *= scale;
    p0[j] = o0, p1[j] = o1;
  }
}

// Stages h = 1, 2, 4 on every 8-element chunk of v[0, n), n a multiple of 8, after multiplying
// by signs[0, n) if given (exact: +-1).
template <bool kScale>
void first_pass8(float* v, int64_t n, const float* signs, float scale) {
#if QARCH_FWHT_SSE
  // One shuffle per stage and register: with t = the partner lanes and x' = x with the lanes
  // that take the difference negated, t + x' = [x0 + x1, x0 - x1, ...] (IEEE addition is
  // commutative and a + (-b) == a - b exactly).
  const __m128 neg_odd = _mm_castsi128_ps(_mm_set_epi32(INT32_MIN, 0, INT32_MIN, 0));  // lanes 1,3
  const __m128 neg_hi = _mm_castsi128_ps(_mm_set_epi32(INT32_MIN, INT32_MIN, 0, 0));   // lanes 2,3
  const __m128 vs = _mm_set1_ps(scale);
  for (int64_t i = 0; i < n; i += 8) {
    __m128 a = _mm_loadu_ps(v + i), b = _mm_loadu_ps(v + i + 4);
    if (signs) {
      a = _mm_mul_ps(a, _mm_loadu_ps(signs + i));
      b = _mm_mul_ps(b, _mm_loadu_ps(signs + i + 4));
    }
    // h = 1: [x1, x0, x3, x2] + [x0, -x1, x2, -x3].
    a = _mm_add_ps(_mm_shuffle_ps(a, a, _MM_SHUFFLE(2, 3, 0, 1)), _mm_xor_ps(a, neg_odd));
    b = _mm_add_ps(_mm_shuffle_ps(b, b, _MM_SHUFFLE(2, 3, 0, 1)), _mm_xor_ps(b, neg_odd));
    // h = 2: [y2, y3, y0, y1] + [y0, y1, -y2, -y3].
    a = _mm_add_ps(_mm_shuffle_ps(a, a, _MM_SHUFFLE(1, 0, 3, 2)), _mm_xor_ps(a, neg_hi));
    b = _mm_add_ps(_mm_shuffle_ps(b, b, _MM_SHUFFLE(1, 0, 3, 2)), _mm_xor_ps(b, neg_hi));
    // h = 4: between the two registers.
    __m128 lo = _mm_add_ps(a, b), hi = _mm_sub_ps(a, b);
    if (kScale) lo = _mm_mul_ps(lo, vs), hi = _mm_mul_ps(hi, vs);
    _mm_storeu_ps(v + i, lo);
    _mm_storeu_ps(v + i + 4, hi);
  }
#else
  if (signs) {
    for (int64_t i = 0; i < n; ++i) v[i] *= signs[i];
  }
  for (int64_t i = 0; i < n; i += 8) {
    float* p = v + i;
    pass8<kScale>(p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, 1, scale);
  }
#endif
}

// Stages h = h0, 2 h0, ..., n/2 on v[0, n) in passes of up to three; the last pass scales.
void later_passes(float* v, int64_t n, int64_t h0, float scale) {
  int64_t h = h0;
  while (h < n) {
    const int64_t stages_left = [&] {
      int64_t s = 0;
      for (int64_t x = h; x < n; x <<= 1) ++s;
      return s;
    }();
    const bool last = stages_left <= 3;
    if (stages_left >= 3) {
      for (int64_t i = 0; i < n; i += 8 * h) {
        float* p = v + i;
        if (last && stages_left == 3) {
          pass8<true>(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h, p + 6 * h, p + 7 * h, h,
                      scale);
        } else {
          pass8<false>(p, p + h, p + 2 * h, p + 3 * h, p + 4 * h, p + 5 * h, p + 6 * h, p + 7 * h,
                       h, 1.0f);
        }
      }
      h <<= 3;
    } else if (stages_left == 2) {
      for (int64_t i = 0; i < n; i += 4 * h) {
        float* p = v + i;
        pass4<true>(p, p + h, p + 2 * h, p + 3 * h, h, scale);
      }
      h <<= 2;
    } else {
      for (int64_t i = 0; i < n; i += 2 * h) pass2<true>(v + i, v + i + h, h, scale);
      h <<= 1;
    }
  }
}

// The orthonormal scale of H_n: FP32 1/sqrt(n) (exact for n = 4^k).
float fwht_scale(int64_t n) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
}

// Unchecked FWHT of v[0, n) after multiplying by signs[0, n) (if not null); n a power of two,
// scale = fwht_scale(n) (hoisted out: rotations call this once per block).
void fwht_kernel(float* v, int64_t n, const float* signs, float scale) {
  if (n < 8) {
    if (signs) {
      for (int64_t i = 0; i < n; ++i) v[i] *= signs[i];
    }
    // n = 2 or 4: the fused passes handle them (the last pass scales); n = 1: nothing to do.
    if (n > 1) later_passes(v, n, 1, scale);
    return;
  }
  if (n == 8) {
    first_pass8<true>(v, n, signs, scale);
    return;
  }
  first_pass8<false>(v, n, signs, 1.0f);
  later_passes(v, n, 8, scale);
}

// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): the j-th output for `seed`. Fully specified
// integer arithmetic, so the signs are the same on every platform and compiler.
uint64_t splitmix64(uint64_t seed, uint64_t j) {
  uint64_t z = seed + (j + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// ---- smoothing helpers -------------------------------------------------------------------------

// s rounded to the nearest power of two in log2: s = m 2^e, m in [1, 2); up iff m > sqrt(2),
// i.e. m^2 > 2 (exact in double: m has 24 significant bits).
float round_pow2(float s) {
  int e = 0;
  const double m = 2.0 * std::frexp(static_cast<double>(s), &e);  // m in [1, 2), s = m 2^(e-1)
  return static_cast<float>(std::ldexp(1.0, m * m > 2.0 ? e : e - 1));
}

void check_scales(const std::vector<float>& s, int64_t k, const std::string& what) {
  if (static_cast<int64_t>(s.size()) != k) {
    throw Error(what + ": " + std::to_string(s.size()) +
                " smoothing factors for K = " + std::to_string(k));
  }
  for (size_t j = 0; j < s.size(); ++j) {
    if (!(std::isfinite(s[j]) && s[j] > 0.0f)) {
      std::ostringstream os;
      os << what << ": smoothing factor s[" << j << "] = " << s[j] << " is not finite and > 0";
      throw Error(os.str());
    }
  }
}

// t[:, j] <- t[:, j] / s_j (divide) or * s_j, then checks the result is finite.
void scale_columns(Tensor& t, const std::vector<float>& s, bool divide, const std::string& what,
                   const std::string& operand) {
  const int64_t rows = t.rows(), k = t.cols();
  const float* sp = s.data();
  for (int64_t r = 0; r < rows; ++r) {
    float* p = t.row(r);
    if (divide) {
      for (int64_t j = 0; j < k; ++j) p[j] = p[j] / sp[j];
    } else {
      for (int64_t j = 0; j < k; ++j) p[j] = p[j] * sp[j];
    }
  }
  const int64_t i = first_non_finite(t.data.data(), t.numel());
  if (i >= 0) {
    throw Error(what + ": " + operand + " " + element_name(t, i) +
                " overflows FP32 after smoothing (s[" + std::to_string(i % k) + "] too " +
                (divide ? "small" : "large") + ")");
  }
}

void check_smooth_options(const SmoothOptions& o) {
  if (!(o.alpha >= 0.0 && o.alpha <= 1.0)) {
    throw Error("smooth: alpha = " + std::to_string(o.alpha) + " is not in [0, 1]");
  }
  if (!(std::isfinite(o.floor) && o.floor > 0.0)) {
    throw Error("smooth: floor = " + std::to_string(o.floor) + " is not finite and > 0");
  }
}

}  // namespace

// ---- validation --------------------------------------------------------------------------------

void check_operand(const Tensor& t, const std::string& what, const std::string& operand) {
  if (t.numel() == 0) {
    throw Error(what + ": " + operand + " is empty (shape " + t.shape_string() + ")");
  }
  const int64_t i = first_non_finite(t.data.data(), t.numel());
  if (i >= 0) {
    throw Error(what + ": " + operand + " " + element_name(t, i) + " is " +
                (std::isnan(t.data[i]) ? "NaN" : "Inf"));
  }
}

void check_linear_pair(const Tensor& x, const Tensor& w, const std::string& what) {
  if (x.cols() != w.cols()) {
    throw Error(what + ": X " + x.shape_string() + " has K = " + std::to_string(x.cols()) +
                " but W " + w.shape_string() + " has K = " + std::to_string(w.cols()));
  }
  check_operand(x, what, "X");
  check_operand(w, what, "W");
}

// ---- 1. smoothing ------------------------------------------------------------------------------

namespace {
// Largest |value| of a tensor.
float absmax_all(const Tensor& t) {
  float m = 0.0f;
  for (float v : t.data) m = std::max(m, std::fabs(v));
  return m;
}

// column_absmax without the validation (callers validated already).
std::vector<float> absmax_unchecked(const Tensor& t) {
  const int64_t k = t.cols();
  std::vector<float> m(static_cast<size_t>(k), 0.0f);
  for (int64_t r = 0; r < t.rows(); ++r) {
    const float* p = t.row(r);
    for (int64_t j = 0; j < k; ++j) m[j] = std::max(m[j], std::fabs(p[j]));
  }
  return m;
}
}  // namespace

std::vector<float> column_absmax(const Tensor& t, const std::string& operand) {
  check_operand(t, "column_absmax", operand);
  return absmax_unchecked(t);
}

std::vector<float> smoothing_scales(const std::vector<float>& x_absmax,
                                    const std::vector<float>& w_absmax, const SmoothOptions& opts) {
  check_smooth_options(opts);
  if (x_absmax.size() != w_absmax.size() || x_absmax.empty()) {
    throw Error("smooth: " + std::to_string(x_absmax.size()) + " activation maxima but " +
                std::to_string(w_absmax.size()) + " weight maxima (need the same K > 0)");
  }
  std::vector<float> s(x_absmax.size());
  for (size_t j = 0; j < s.size(); ++j) {
    const float ax = x_absmax[j], aw = w_absmax[j];
    if (!(ax >= 0.0f && aw >= 0.0f && std::isfinite(ax) && std::isfinite(aw))) {
      std::ostringstream os;
      os << "smooth: channel " << j << " maxima (X " << ax << ", W " << aw
         << ") must be finite and >= 0";
      throw Error(os.str());
    }
    const double fx = std::max(static_cast<double>(ax), opts.floor);
    const double fw = std::max(static_cast<double>(aw), opts.floor);
    const double v = std::pow(fx, opts.alpha) / std::pow(fw, 1.0 - opts.alpha);
    const float sf = static_cast<float>(v);
    if (!(std::isfinite(sf) && sf > 0.0f && std::isnormal(sf))) {
      std::ostringstream os;
      os << "smooth: channel " << j << ": s = " << v << " does not fit FP32 (X max " << ax
         << ", W max " << aw << ", alpha " << opts.alpha << ")";
      throw Error(os.str());
    }
    s[j] = opts.pow2 ? round_pow2(sf) : sf;
  }
  return s;
}

void apply_smoothing(Tensor& x, Tensor& w, const std::vector<float>& s) {
  check_linear_pair(x, w, "apply_smoothing");
  check_scales(s, x.cols(), "apply_smoothing");
  scale_columns(x, s, true, "apply_smoothing", "X");
  scale_columns(w, s, false, "apply_smoothing", "W");
}

SmoothResult smooth(const Tensor& x, const Tensor& w, const SmoothOptions& opts) {
  check_linear_pair(x, w, "smooth");
  check_smooth_options(opts);
  SmoothResult r{x, w, smoothing_scales(absmax_unchecked(x), absmax_unchecked(w), opts)};
  scale_columns(r.x, r.s, true, "smooth", "X");
  scale_columns(r.w, r.s, false, "smooth", "W");
  return r;
}

// ---- 2. Hadamard -------------------------------------------------------------------------------

int64_t hadamard_block_size(int64_t k, int64_t max_block) {
  if (k < 1) throw Error("hadamard: K = " + std::to_string(k) + " (need K >= 1)");
  if (max_block < 0 || (max_block > 0 && !is_pow2(max_block))) {
    throw Error("hadamard: max_block = " + std::to_string(max_block) +
                " is not a power of two (or 0 for no limit)");
  }
  int64_t b = k & -k;  // largest power of two dividing k
  if (max_block > 0) b = std::min(b, max_block);
  return b;
}

void fwht(float* v, int64_t n) {
  if (!is_pow2(n)) {
    throw Error("fwht: length " + std::to_string(n) + " is not a power of two");
  }
  fwht_kernel(v, n, nullptr, fwht_scale(n));
}

HadamardRotation::HadamardRotation(int64_t k, const HadamardOptions& opts)
    : k_(k), block_(hadamard_block_size(k, opts.max_block)), opts_(opts) {
  if (opts.random_signs) {
    signs_.resize(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) {
      signs_[j] = (splitmix64(opts.seed, static_cast<uint64_t>(j)) >> 63) ? -1.0f : 1.0f;
    }
  }
}

void HadamardRotation::rotate_rows(float* data, int64_t rows) const {
  const float* sg = signs_.empty() ? nullptr : signs_.data();
  const float scale = fwht_scale(block_);
  for (int64_t r = 0; r < rows; ++r) {
    float* p = data + r * k_;
    for (int64_t b = 0; b < k_; b += block_) {
      fwht_kernel(p + b, block_, sg ? sg + b : nullptr, scale);
    }
  }
}

void HadamardRotation::unrotate_rows(float* data, int64_t rows) const {
  const float* sg = signs_.empty() ? nullptr : signs_.data();
  const float scale = fwht_scale(block_);
  for (int64_t r = 0; r < rows; ++r) {
    float* p = data + r * k_;
    for (int64_t b = 0; b < k_; b += block_) fwht_kernel(p + b, block_, nullptr, scale);
    if (sg) {
      for (int64_t j = 0; j < k_; ++j) p[j] *= sg[j];
    }
  }
}

void HadamardRotation::check(const Tensor& t) const {
  if (t.cols() != k_) {
    throw Error("hadamard: tensor " + t.shape_string() + " has K = " + std::to_string(t.cols()) +
                ", the rotation was built for K = " + std::to_string(k_));
  }
  check_operand(t, "hadamard", "tensor");
}

void HadamardRotation::rotate(Tensor& t) const {
  check(t);
  rotate_rows(t.data.data(), t.rows());
}

void HadamardRotation::unrotate(Tensor& t) const {
  check(t);
  unrotate_rows(t.data.data(), t.rows());
}

Tensor HadamardRotation::matrix() const {
  Tensor m = Tensor::zeros({k_, k_});
  for (int64_t i = 0; i < k_; ++i) m.data[i * k_ + i] = 1.0f;
  rotate_rows(m.data.data(), k_);
  return m;
}

RotateResult hadamard_rotate(const Tensor& x, const Tensor& w, const HadamardOptions& opts) {
  check_linear_pair(x, w, "hadamard");
  RotateResult r{x, w, HadamardRotation(x.cols(), opts)};
  r.rotation.rotate(r.x);
  r.rotation.rotate(r.w);
  return r;
}

// ---- 3. composition ----------------------------------------------------------------------------

void AxisTransform::add_smoothing(std::vector<float> s) {
  const int64_t k = static_cast<int64_t>(s.size());
  if (!steps_.empty() && k != k_) {
    throw Error("transform: smoothing step of length " + std::to_string(k) +
                " after steps of K = " + std::to_string(k_));
  }
  check_scales(s, k, "transform");
  Step st;
  st.kind = Step::Kind::kSmooth;
  st.s = std::move(s);
  steps_.push_back(std::move(st));
  k_ = k;
}

void AxisTransform::add_rotation(HadamardRotation rotation) {
  if (!steps_.empty() && rotation.k() != k_) {
    throw Error("transform: rotation of K = " + std::to_string(rotation.k()) +
                " after steps of K = " + std::to_string(k_));
  }
  Step st;
  st.kind = Step::Kind::kRotate;
  k_ = rotation.k();
  st.rotation = std::move(rotation);
  steps_.push_back(std::move(st));
}

void AxisTransform::check(const Tensor& t, const char* what) const {
  if (!steps_.empty() && t.cols() != k_) {
    throw Error(std::string("transform: ") + what + " " + t.shape_string() +
                " has K = " + std::to_string(t.cols()) +
                ", the transform was fitted for K = " + std::to_string(k_));
  }
}

void AxisTransform::apply_x(Tensor& x) const {
  check(x, "X");
  for (const Step& st : steps_) {
    if (st.kind == Step::Kind::kSmooth) {
      scale_columns(x, st.s, true, "transform", "X");
    } else {
      st.rotation.rotate(x);
    }
  }
}

void AxisTransform::apply_w(Tensor& w) const {
  check(w, "W");
  for (const Step& st : steps_) {
    if (st.kind == Step::Kind::kSmooth) {
      scale_columns(w, st.s, false, "transform", "W");
    } else {
      st.rotation.rotate(w);
    }
  }
}

void AxisTransform::undo_x(Tensor& x) const {
  check(x, "X");
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    if (it->kind == Step::Kind::kSmooth) {
      scale_columns(x, it->s, false, "transform (undo)", "X");
    } else {
      it->rotation.unrotate(x);
    }
  }
}

void AxisTransform::undo_w(Tensor& w) const {
  check(w, "W");
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    if (it->kind == Step::Kind::kSmooth) {
      scale_columns(w, it->s, true, "transform (undo)", "W");
    } else {
      it->rotation.unrotate(w);
    }
  }
}

TransformedPair smooth_rotate(const Tensor& x, const Tensor& w, const SmoothOptions& smooth_opts,
                              const HadamardOptions& rotate) {
  check_linear_pair(x, w, "smooth_rotate");
  SmoothResult s = smooth(x, w, smooth_opts);
  TransformedPair r{std::move(s.x), std::move(s.w), {}};
  r.transform.add_smoothing(std::move(s.s));
  HadamardRotation rot(x.cols(), rotate);
  rot.rotate(r.x);
  rot.rotate(r.w);
  r.transform.add_rotation(std::move(rot));
  return r;
}

// ---- 4. K-sort ---------------------------------------------------------------------------------

std::vector<int64_t> ksort_permutation(const std::vector<double>& norms, const KSortOptions& opts) {
  const int64_t c = static_cast<int64_t>(norms.size()), d = opts.head_dim;
  if (d < 1) throw Error("ksort: head_dim = " + std::to_string(d) + " (need >= 1)");
  if (c == 0 || c % d != 0) {
    throw Error("ksort: " + std::to_string(c) +
                " channels is not a positive multiple of head_dim " + std::to_string(d));
  }
  if (opts.rope != RopeLayout::kNone && d % 2 != 0) {
    throw Error("ksort: RoPE pairs need an even head_dim, got " + std::to_string(d));
  }
  for (int64_t i = 0; i < c; ++i) {
    if (!(norms[i] >= 0.0) || !std::isfinite(norms[i])) {
      throw Error("ksort: channel " + std::to_string(i) + " norm is not finite and >= 0");
    }
  }
  // Units that move together: channels, or RoPE pairs (a, b).
  const bool pairs = opts.rope != RopeLayout::kNone;
  const int64_t units = pairs ? d / 2 : d;
  auto member = [&](int64_t u, int64_t which) -> int64_t {
    if (!pairs) return u;
    if (opts.rope == RopeLayout::kInterleaved) return 2 * u + which;
    return u + which * (d / 2);
  };
  std::vector<int64_t> perm(static_cast<size_t>(c));
  std::vector<double> key(static_cast<size_t>(units));
  std::vector<int64_t> order(static_cast<size_t>(units));
  for (int64_t h = 0; h < c / d; ++h) {
    const int64_t base = h * d;
    for (int64_t u = 0; u < units; ++u) {
      double s = 0;  // squared norm of the unit (monotone in the norm, no sqrt needed)
      for (int64_t m = 0; m < (pairs ? 2 : 1); ++m) {
        const double n = norms[base + member(u, m)];
        s += n * n;
      }
      key[u] = s;
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return opts.descending ? key[a] > key[b] : key[a] < key[b];
    });
    for (int64_t u = 0; u < units; ++u) {
      for (int64_t m = 0; m < (pairs ? 2 : 1); ++m) {
        perm[base + member(u, m)] = base + member(order[u], m);
      }
    }
  }
  return perm;
}

std::vector<double> row_norms(const Tensor& t) {
  std::vector<double> n(static_cast<size_t>(t.rows()), 0.0);
  for (size_t r = 0; r < n.size(); ++r) {
    const float* p = t.row(static_cast<int64_t>(r));
    double s = 0;
    for (int64_t j = 0; j < t.cols(); ++j) s += static_cast<double>(p[j]) * p[j];
    n[r] = std::sqrt(s);
  }
  return n;
}

std::vector<double> column_norms(const Tensor& t) {
  std::vector<double> n(static_cast<size_t>(t.cols()), 0.0);
  for (int64_t r = 0; r < t.rows(); ++r) {
    const float* p = t.row(r);
    for (int64_t j = 0; j < t.cols(); ++j) n[j] += static_cast<double>(p[j]) * p[j];
  }
  for (double& v : n) v = std::sqrt(v);
  return n;
}

Tensor permute_rows(const Tensor& t, const std::vector<int64_t>& perm) {
  const int64_t rows = t.rows();
  if (static_cast<int64_t>(perm.size()) != rows) {
    throw Error("permute_rows: permutation of length " + std::to_string(perm.size()) +
                " for a tensor with " + std::to_string(rows) + " rows");
  }
  std::vector<char> seen(perm.size(), 0);
  for (int64_t p : perm) {
    if (p < 0 || p >= rows || seen[p]) {
      throw Error("permute_rows: not a permutation of 0.." + std::to_string(rows - 1) + " (entry " +
                  std::to_string(p) + ")");
    }
    seen[p] = 1;
  }
  Tensor out = t;
  const int64_t k = t.cols();
  for (int64_t i = 0; i < rows; ++i) std::copy_n(t.row(perm[i]), k, out.row(i));
  return out;
}

KSortResult ksort(const Tensor& wq, const Tensor& wk, const KSortOptions& opts,
                  const Tensor* calib_x) {
  check_operand(wq, "ksort", "W_q");
  check_operand(wk, "ksort", "W_k");
  const int64_t d = opts.head_dim;
  if (d < 1) throw Error("ksort: head_dim = " + std::to_string(d) + " (need >= 1)");
  if (wq.cols() != wk.cols()) {
    throw Error("ksort: W_q " + wq.shape_string() + " and W_k " + wk.shape_string() +
                " differ in hidden size (columns)");
  }
  if (wk.rows() % d != 0 || wq.rows() % d != 0) {
    throw Error("ksort: W_q rows " + std::to_string(wq.rows()) + " and W_k rows " +
                std::to_string(wk.rows()) + " must be multiples of head_dim " + std::to_string(d));
  }
  const int64_t nkv = wk.rows() / d, nq = wq.rows() / d;
  if (nq % nkv != 0) {
    throw Error("ksort: " + std::to_string(nq) + " query heads is not a multiple of " +
                std::to_string(nkv) + " KV heads");
  }
  std::vector<double> norms;
  if (calib_x) {
    check_operand(*calib_x, "ksort", "calibration X");
    if (calib_x->cols() != wk.cols()) {
      throw Error("ksort: calibration X " + calib_x->shape_string() + " has " +
                  std::to_string(calib_x->cols()) + " columns, W_k has " +
                  std::to_string(wk.cols()));
    }
    const std::vector<float> keys =
        matmul_xwt(calib_x->data.data(), wk.data.data(), calib_x->rows(), wk.rows(), wk.cols());
    norms = column_norms(Tensor::matrix(calib_x->rows(), wk.rows(), keys));
  } else {
    norms = row_norms(wk);
  }
  KSortResult r;
  r.perm = ksort_permutation(norms, opts);
  const int64_t group = nq / nkv;
  r.perm_q.resize(static_cast<size_t>(nq * d));
  for (int64_t i = 0; i < nq; ++i) {
    const int64_t g = i / group;
    for (int64_t c = 0; c < d; ++c) r.perm_q[i * d + c] = i * d + (r.perm[g * d + c] - g * d);
  }
  r.wk = permute_rows(wk, r.perm);
  r.wq = permute_rows(wq, r.perm_q);
  return r;
}

// ---- 5. pipelines ------------------------------------------------------------------------------

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

std::vector<TransformInfo> list_transforms() {
  return {
      {"none", "", "identity (the empty pipeline; only on its own)"},
      {"smooth", "alpha=0.5 floor=1e-05 pow2=false",
       "SmoothQuant smoothing X diag(s)^-1, W diag(s) (Xiao et al., ICML 2023, eq. 4)"},
      {"hadamard", "signs=true seed=0 max_block=0",
       "randomized Walsh-Hadamard rotation X D H, W D H, block-diagonal for non-power-of-two K "
       "(QuaRot, QuIP#)"},
  };
}

TransformPipeline TransformPipeline::parse(const std::string& text) {
  TransformPipeline p;
  std::vector<std::string> parts;
  {
    std::string item;
    for (size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == ',') {
        parts.push_back(trim(item));
        item.clear();
      } else {
        item += text[i];
      }
    }
  }
  for (const std::string& part : parts) {
    if (part.empty()) throw Error("transform pipeline '" + text + "': empty step");
    const FormatSpec spec = FormatSpec::parse(part, "transform");
    FormatOptions o(spec, "transform");
    StepSpec st{};
    if (spec.name == "none") {
      o.finish();
      if (parts.size() != 1) {
        throw Error("transform pipeline '" + text + "': 'none' must be the only step");
      }
      return p;
    } else if (spec.name == "smooth") {
      st.kind = AxisTransform::Step::Kind::kSmooth;
      st.smooth.alpha = o.get_double("alpha", 0.5, 0.0, 1.0);
      st.smooth.floor = o.get_double("floor", 1e-5, 1e-30, 1e30);
      st.smooth.pow2 = o.get_bool("pow2", false);
    } else if (spec.name == "hadamard") {
      st.kind = AxisTransform::Step::Kind::kRotate;
      st.hadamard.random_signs = o.get_bool("signs", true);
      st.hadamard.seed =
          static_cast<uint64_t>(o.get_int("seed", 0, 0, std::numeric_limits<int64_t>::max()));
      st.hadamard.max_block = o.get_int("max_block", 0, 0, int64_t{1} << 40);
      if (st.hadamard.max_block > 0 && !is_pow2(st.hadamard.max_block)) {
        throw Error("transform '" + spec.str() +
                    "': option 'max_block': " + std::to_string(st.hadamard.max_block) +
                    " is not a power of two (or 0 for no limit)");
      }
    } else {
      std::string known;
      for (const auto& t : list_transforms()) known += (known.empty() ? "" : ", ") + t.name;
      throw Error("transform pipeline '" + text + "': unknown transform '" + spec.name +
                  "' (known: " + known + ")");
    }
    o.finish();
    p.steps_.push_back(st);
  }
  return p;
}

std::string TransformPipeline::str() const {
  if (steps_.empty()) return "none";
  std::string out;
  for (const StepSpec& st : steps_) {
    FormatSpec f;
    if (st.kind == AxisTransform::Step::Kind::kSmooth) {
      f.name = "smooth";
      f.options["alpha"] = format_g(st.smooth.alpha);
      f.options["floor"] = format_g(st.smooth.floor);
      f.options["pow2"] = st.smooth.pow2 ? "true" : "false";
    } else {
      f.name = "hadamard";
      f.options["signs"] = st.hadamard.random_signs ? "true" : "false";
      f.options["seed"] = std::to_string(st.hadamard.seed);
      f.options["max_block"] = std::to_string(st.hadamard.max_block);
    }
    out += (out.empty() ? "" : ",") + f.str();
  }
  return out;
}

TransformedPair TransformPipeline::run(const Tensor& x, const Tensor& w) const {
  check_linear_pair(x, w, "transform pipeline '" + str() + "'");
  TransformedPair r{x, w, {}};
  for (const StepSpec& st : steps_) {
    if (st.kind == AxisTransform::Step::Kind::kSmooth) {
      std::vector<float> s =
          smoothing_scales(absmax_unchecked(r.x), absmax_unchecked(r.w), st.smooth);
      scale_columns(r.x, s, true, "transform pipeline", "X");
      scale_columns(r.w, s, false, "transform pipeline", "W");
      r.transform.add_smoothing(std::move(s));
    } else {
      HadamardRotation rot(x.cols(), st.hadamard);
      // The inputs are finite (checked above), so a NaN or Inf after the rotation is the
      // rotation's own FP32 overflow: say so, instead of letting a format report it as a bad
      // input element.
      for (Tensor* t : {&r.x, &r.w}) {
        const float before = absmax_all(*t);
        rot.rotate(*t);
        int64_t bad = 0;
        for (float v : t->data) bad += !std::isfinite(v);
        if (bad > 0) {
          char largest[32];
          std::snprintf(largest, sizeof largest, "%.3g", static_cast<double>(before));
          throw Error("transform pipeline '" + str() +
                      "': the Hadamard rotation overflowed FP32 in " + (t == &r.x ? "X" : "W") +
                      ": " + std::to_string(bad) +
                      " values became Inf/NaN (largest |value| before it " + largest +
                      "); scale the tensor down");
        }
      }
      r.transform.add_rotation(std::move(rot));
    }
  }
  return r;
}

}  // namespace qarch::quant
