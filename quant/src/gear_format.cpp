// GEAR (Kang, Zhang, Kundu, Jeong, Liu, Krishna, Zhao, "GEAR: An Efficient KV Cache Compression
// Recipe for Near-Lossless Generative Inference of LLM", arXiv 2403.05527, 2024): a K or V cache
// tensor X [tokens, head_dim] (rows = tokens) is stored as X ~ D + L + S, with
//   S  a sparse matrix of outliers kept in FP16 (the paper: the largest and smallest s/2 of the
//      entries, s = 2% by default),
//   D  uniform asymmetric quantization of X - S to `bits` bits (the paper's 4-bit backbone),
//   L  a rank-r approximation of the residual R = X - D - S, found by power iteration (the
//      paper's SVDSolver_r; its rank is stated as a ratio of min(n, d), a few percent, i.e. 2..6
//      for head_dim 128; our default r = 4 lies in that range) and stored as two FP16 factors.
// Facts we follow: the decomposition, the order (S first, D from X - S, L from what is left),
// s = 2% as the default outlier share, FP16 side storage. Our choices, where we could not re-read
// the paper or its code (HaoKang-Timmy/GEAR) while writing this:
// - outliers are chosen per token (row): the k = min(cols / 2, llround(s * cols / 2)) smallest
//   and the k largest signed values, ordered by (value, column) so ties go by column order (for
//   head_dim 128 and s = 2%: one of each, 1.56% of the entries);
// - the backbone is per token with groups of `group` columns (0 = the whole row), min-max
//   asymmetric: lo = min, hi = max of X - S over the group (an outlier's position holds 0 there),
//   step s_g = fp16((hi - lo) / (2^bits - 1)) (computed in double; a zero step becomes 1, an
//   underflowing one 2^-24), offset m_g = fp16(lo); q = clamp(round_even(fl32(x - m_g) / s_g),
//   0, 2^bits - 1); D = fl32(fl32(q * s_g) + m_g). (GEAR also runs on KIVI/KCVT backbones with
//   per-channel keys; not offered.)
// - power iteration on R (held in FP32: fl32(x - D - S) computed in double): rank r_eff =
//   min(rank, rows, cols); V0 [cols, r] uniform in [-1, 1) from SplitMix64(seed) (value j =
//   (out_j >> 11) * 2^-52 - 1); `iters` times { U = R V, U's columns orthonormalized by
//   modified Gram-Schmidt (a zero column stays zero), V = R^T U }, all in double. Column k is
//   then split evenly: a_k = U_k sqrt(|V_k|), b_k = V_k / sqrt(|V_k|), and both are rounded to
//   FP16 (so the product keeps its value while neither factor strays far from 1 in magnitude).
//   GEAR's solver is described as a single power-iteration step; iters=3 is our default
//   (deterministic and seeded either way).
// - decode: v = fl32(fl32(D + l) + S) with l = sum_k a_ik * b_jk accumulated in FP32 in order of
//   k, S the FP16 outlier at its position (else 0); the decoder writes fp16(v) (fp16_operand.h).
//
// Layout: elements = the bits-wide codes q per row (pack_codes); scales = FP16 codes, 2 bytes
// little-endian each: (s_g, m_g) per row and group, then a [rows, r_eff] and b [cols, r_eff]
// row-major, then the outlier values in position order; indices = the outlier positions
// (row-major flat index, ascending). bits_per_element = bits + 32 * groups / cols + 16 * r_eff *
// (rows + cols) / (rows * cols) + (16 + 32) * outliers per element: everything counts.
//
// DecodedTensor: FP16 values (fp16_operand.h). Traits: the stored element is a bits-wide
// integer code; decoder kind `gear` (dequantize, add the rank-r product and the sparse outlier,
// round to FP16); the attention GEMM then runs on FP16 MACs (the `gobo` PE type).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#ifdef __SSE2__
#include <emmintrin.h>
#include <xmmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "fp16_operand.h"
#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "registry.h"

namespace qarch::quant {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void put16(std::vector<uint8_t>& out, float v) {
  const uint32_t c = fp_encode(kFP16, v);
  out.push_back(static_cast<uint8_t>(c & 0xff));
  out.push_back(static_cast<uint8_t>(c >> 8));
}

float get16(const std::vector<uint8_t>& in, size_t i) {
  return fp_decode(kFP16, static_cast<uint32_t>(in[2 * i]) | (uint32_t{in[2 * i + 1]} << 8));
}

// Subspace (power) iteration for the rank-r part of R [rows, cols] (see file comment), in
// double, every sum in the order of the plain loops (U_ik = sum over j ascending, V_jk = sum
// over i ascending, starting from 0.0): the first product R V0 is taken row by row while the
// encoder produces R; the loops keep a row's r sums (or column j's r sums) in registers for
// the common ranks 1..8 (kernel<R>) and interleave two rows' independent sums.
class PowerIteration {
 public:
  PowerIteration(int64_t rows, int64_t cols, int64_t r, uint64_t seed)
      : rows_(rows), cols_(cols), r_(r) {
    if (rows == 0) return;
    u_.assign(static_cast<size_t>(rows * r), 0.0);
    v_.resize(static_cast<size_t>(cols * r));
    uint64_t state = seed;
    for (auto& w : v_) w = static_cast<double>(splitmix64(state) >> 11) * 0x1p-52 - 1.0;
  }

  // U_i = R_i V for rows i0 .. i0 + count of R (at `ri`, row i0 first), iteration 0.
  void first_product_rows(const float* ri, int64_t i0, int64_t count) {
    product_rows(ri, i0, count);
  }

  // Finishes iteration 0 and runs the rest; a [rows, r] and b [cols, r] as the file says.
  void finish(const float* res, int iters, std::vector<float>* a, std::vector<float>* b) {
    for (int it = 0; it < iters; ++it) {
      if (it > 0) product_rows(res, 0, rows_);
      orthonormalize();
      transpose_product(res);
    }
    const int64_t r = r_, rows = rows_, cols = cols_;
    a->resize(u_.size());
    b->resize(v_.size());
    for (int64_t k = 0; k < r; ++k) {
      double nrm = 0;
      for (int64_t j = 0; j < cols; ++j)
        nrm += v_[static_cast<size_t>(j * r + k)] * v_[static_cast<size_t>(j * r + k)];
      const double f = nrm > 0 ? std::sqrt(std::sqrt(nrm)) : 1.0;
      for (int64_t i = 0; i < rows; ++i)
        (*a)[static_cast<size_t>(i * r + k)] =
            static_cast<float>(u_[static_cast<size_t>(i * r + k)] * f);
      for (int64_t j = 0; j < cols; ++j)
        (*b)[static_cast<size_t>(j * r + k)] =
            static_cast<float>(v_[static_cast<size_t>(j * r + k)] / f);
    }
  }

 private:
  // U_i = R_i V for rows i0 .. i0 + count (R's rows at `res`, row i0 first).
  void product_rows(const float* res, int64_t i0, int64_t count) {
    switch (r_) {
      case 1:
        return product_rows_k<1>(res, i0, count);
      case 2:
        return product_rows_v<2>(res, i0, count);
      case 3:
        return product_rows_k<3>(res, i0, count);
      case 4:
        if (avx()) return product_rows_avx<4>(res, i0, count);
        return product_rows_v<4>(res, i0, count);
      case 5:
        return product_rows_k<5>(res, i0, count);
      case 6:
        return product_rows_v<6>(res, i0, count);
      case 7:
        return product_rows_k<7>(res, i0, count);
      case 8:
        if (avx()) return product_rows_avx<8>(res, i0, count);
        return product_rows_v<8>(res, i0, count);
      default:
        break;
    }
    const int64_t r = r_;
    for (int64_t i = i0; i < i0 + count; ++i) {
      const float* ri = res + (i - i0) * cols_;
      double* ui = u_.data() + i * r;
      for (int64_t k = 0; k < r; ++k) ui[k] = 0.0;
      for (int64_t j = 0; j < cols_; ++j) {
        const double x = ri[j];
        for (int64_t k = 0; k < r; ++k) ui[k] += x * v_[static_cast<size_t>(j * r + k)];
      }
    }
  }
  template <int R>
  void product_rows_k(const float* res, int64_t i0, int64_t count) {
    const double* v = v_.data();
    int64_t i = i0;
    for (; i + 1 < i0 + count; i += 2) {  // two rows: twice the independent sums in flight
      const float* r0 = res + (i - i0) * cols_;
      const float* r1 = r0 + cols_;
      double s0[R] = {}, s1[R] = {};
      for (int64_t j = 0; j < cols_; ++j) {
        const double x0 = r0[j], x1 = r1[j];
        for (int k = 0; k < R; ++k) {
          s0[k] += x0 * v[j * R + k];
          s1[k] += x1 * v[j * R + k];
        }
      }
      for (int k = 0; k < R; ++k) {
        u_[static_cast<size_t>(i * R + k)] = s0[k];
        u_[static_cast<size_t>((i + 1) * R + k)] = s1[k];
      }
    }
    for (; i < i0 + count; ++i) {
      const float* r0 = res + (i - i0) * cols_;
      double s0[R] = {};
      for (int64_t j = 0; j < cols_; ++j) {
        const double x0 = r0[j];
        for (int k = 0; k < R; ++k) s0[k] += x0 * v[j * R + k];
      }
      for (int k = 0; k < R; ++k) u_[static_cast<size_t>(i * R + k)] = s0[k];
    }
  }

  // Modified Gram-Schmidt on U's columns (a zero column stays zero).
  void orthonormalize() {
    const int64_t r = r_, rows = rows_;
    std::vector<double>& u = u_;
    for (int64_t k = 0; k < r; ++k) {
      for (int64_t p = 0; p < k; ++p) {
        double dot = 0;
        for (int64_t i = 0; i < rows; ++i)
          dot += u[static_cast<size_t>(i * r + k)] * u[static_cast<size_t>(i * r + p)];
        for (int64_t i = 0; i < rows; ++i)
          u[static_cast<size_t>(i * r + k)] -= dot * u[static_cast<size_t>(i * r + p)];
      }
      double nrm = 0;
      for (int64_t i = 0; i < rows; ++i)
        nrm += u[static_cast<size_t>(i * r + k)] * u[static_cast<size_t>(i * r + k)];
      nrm = std::sqrt(nrm);
      for (int64_t i = 0; i < rows; ++i) {
        double& w = u[static_cast<size_t>(i * r + k)];
        w = nrm > 0 ? w / nrm : 0.0;
      }
    }
  }

  // V = R^T U (V_jk summed over i ascending from 0.0).
  void transpose_product(const float* res) {
    switch (r_) {
      case 1:
        return transpose_product_k<1>(res);
      case 2:
        return transpose_product_v<2>(res);
      case 3:
        return transpose_product_k<3>(res);
      case 4:
        if (avx()) return transpose_product_avx<4>(res);
        return transpose_product_v<4>(res);
      case 5:
        return transpose_product_k<5>(res);
      case 6:
        return transpose_product_v<6>(res);
      case 7:
        return transpose_product_k<7>(res);
      case 8:
        if (avx()) return transpose_product_avx<8>(res);
        return transpose_product_v<8>(res);
      default:
        break;
    }
    const int64_t r = r_;
    std::fill(v_.begin(), v_.end(), 0.0);
    for (int64_t i = 0; i < rows_; ++i) {
      for (int64_t j = 0; j < cols_; ++j) {
        const double x = res[static_cast<size_t>(i * cols_ + j)];
        for (int64_t k = 0; k < r; ++k)
          v_[static_cast<size_t>(j * r + k)] += x * u_[static_cast<size_t>(i * r + k)];
      }
    }
  }
  template <int R>
  void transpose_product_k(const float* res) {
    std::fill(v_.begin(), v_.end(), 0.0);
    double* v = v_.data();
    for (int64_t i = 0; i < rows_; ++i) {
      double ui[R];
      for (int k = 0; k < R; ++k) ui[k] = u_[static_cast<size_t>(i * R + k)];
      const float* ri = res + i * cols_;
      for (int64_t j = 0; j < cols_; ++j) {
        const double x = ri[j];
        for (int k = 0; k < R; ++k) v[j * R + k] += x * ui[k];
      }
    }
  }

#ifdef __SSE2__
  // Even ranks in SSE2 pairs of doubles: per lane the same multiply and add, in the same order,
  // as the scalar loops (no FMA: the baseline x86-64 build has none, and it would round once).
  template <int R>
  void product_rows_v(const float* res, int64_t i0, int64_t count) {
    constexpr int H = R / 2;
    const double* v = v_.data();
    int64_t i = i0;
    for (; i + 3 < i0 + count; i += 4) {  // four rows: four times the independent sums
      const float* r0 = res + (i - i0) * cols_;
      __m128d acc[4][H];
      for (int t = 0; t < 4; ++t)
        for (int h = 0; h < H; ++h) acc[t][h] = _mm_setzero_pd();
      for (int64_t j = 0; j < cols_; ++j) {
        __m128d vv[H];
        for (int h = 0; h < H; ++h) vv[h] = _mm_loadu_pd(v + j * R + 2 * h);
        for (int t = 0; t < 4; ++t) {
          const __m128d x = _mm_set1_pd(r0[t * cols_ + j]);
          for (int h = 0; h < H; ++h) acc[t][h] = _mm_add_pd(acc[t][h], _mm_mul_pd(x, vv[h]));
        }
      }
      for (int t = 0; t < 4; ++t)
        for (int h = 0; h < H; ++h) _mm_storeu_pd(u_.data() + (i + t) * R + 2 * h, acc[t][h]);
    }
    for (; i < i0 + count; ++i) product_rows_k<R>(res + (i - i0) * cols_, i, 1);
  }
  template <int R>
  void transpose_product_v(const float* res) {
    constexpr int H = R / 2;
    std::fill(v_.begin(), v_.end(), 0.0);
    double* v = v_.data();
    int64_t i = 0;
    // Four rows per sweep: v_j + x0 u0 + x1 u1 + x2 u2 + x3 u3, added in that order (the
    // order of the row loop), held in registers between the four adds.
    for (; i + 3 < rows_; i += 4) {
      __m128d ui[4][H];
      for (int t = 0; t < 4; ++t)
        for (int h = 0; h < H; ++h) ui[t][h] = _mm_loadu_pd(u_.data() + (i + t) * R + 2 * h);
      const float* r0 = res + i * cols_;
      for (int64_t j = 0; j < cols_; ++j) {
        const __m128d x0 = _mm_set1_pd(r0[j]), x1 = _mm_set1_pd(r0[cols_ + j]);
        const __m128d x2 = _mm_set1_pd(r0[2 * cols_ + j]), x3 = _mm_set1_pd(r0[3 * cols_ + j]);
        for (int h = 0; h < H; ++h) {
          double* vj = v + j * R + 2 * h;
          __m128d a = _mm_loadu_pd(vj);
          a = _mm_add_pd(a, _mm_mul_pd(x0, ui[0][h]));
          a = _mm_add_pd(a, _mm_mul_pd(x1, ui[1][h]));
          a = _mm_add_pd(a, _mm_mul_pd(x2, ui[2][h]));
          a = _mm_add_pd(a, _mm_mul_pd(x3, ui[3][h]));
          _mm_storeu_pd(vj, a);
        }
      }
    }
    for (; i < rows_; ++i) {
      __m128d ui[H];
      for (int h = 0; h < H; ++h) ui[h] = _mm_loadu_pd(u_.data() + i * R + 2 * h);
      const float* ri = res + i * cols_;
      for (int64_t j = 0; j < cols_; ++j) {
        const __m128d x = _mm_set1_pd(ri[j]);
        for (int h = 0; h < H; ++h) {
          double* vj = v + j * R + 2 * h;
          _mm_storeu_pd(vj, _mm_add_pd(_mm_loadu_pd(vj), _mm_mul_pd(x, ui[h])));
        }
      }
    }
  }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // Ranks 4 and 8 in AVX quads of doubles where the CPU has AVX (checked at run time; the build
  // targets baseline x86-64): per lane the same multiply and add in the same order as the SSE2
  // and scalar loops. Only "avx" is enabled, not "fma", so no multiply-add can be contracted.
  static bool avx() {
    static const bool has = __builtin_cpu_supports("avx");
    return has;
  }
  template <int R>
  __attribute__((target("avx"))) void product_rows_avx(const float* res, int64_t i0,
                                                       int64_t count) {
    constexpr int H = R / 4;
    const double* v = v_.data();
    int64_t i = i0;
    for (; i + 3 < i0 + count; i += 4) {
      const float* r0 = res + (i - i0) * cols_;
      __m256d acc[4][H];
      for (int t = 0; t < 4; ++t)
        for (int h = 0; h < H; ++h) acc[t][h] = _mm256_setzero_pd();
      for (int64_t j = 0; j < cols_; ++j) {
        __m256d vv[H];
        for (int h = 0; h < H; ++h) vv[h] = _mm256_loadu_pd(v + j * R + 4 * h);
        for (int t = 0; t < 4; ++t) {
          const __m256d x = _mm256_set1_pd(static_cast<double>(r0[t * cols_ + j]));
          for (int h = 0; h < H; ++h) acc[t][h] = _mm256_add_pd(acc[t][h], _mm256_mul_pd(x, vv[h]));
        }
      }
      for (int t = 0; t < 4; ++t)
        for (int h = 0; h < H; ++h) _mm256_storeu_pd(u_.data() + (i + t) * R + 4 * h, acc[t][h]);
    }
    for (; i < i0 + count; ++i) product_rows_k<R>(res + (i - i0) * cols_, i, 1);
  }
  template <int R>
  __attribute__((target("avx"))) void transpose_product_avx(const float* res) {
    constexpr int H = R / 4;
    std::fill(v_.begin(), v_.end(), 0.0);
    double* v = v_.data();
    int64_t i = 0;
    for (; i + 3 < rows_; i += 4) {
      __m256d ui[4][H];
      for (int t = 0; t < 4; ++t)
        for (int h = 0; h < H; ++h) ui[t][h] = _mm256_loadu_pd(u_.data() + (i + t) * R + 4 * h);
      const float* r0 = res + i * cols_;
      for (int64_t j = 0; j < cols_; ++j) {
        const __m256d x0 = _mm256_set1_pd(static_cast<double>(r0[j]));
        const __m256d x1 = _mm256_set1_pd(static_cast<double>(r0[cols_ + j]));
        const __m256d x2 = _mm256_set1_pd(static_cast<double>(r0[2 * cols_ + j]));
        const __m256d x3 = _mm256_set1_pd(static_cast<double>(r0[3 * cols_ + j]));
        for (int h = 0; h < H; ++h) {
          double* vj = v + j * R + 4 * h;
          __m256d a = _mm256_loadu_pd(vj);
          a = _mm256_add_pd(a, _mm256_mul_pd(x0, ui[0][h]));
          a = _mm256_add_pd(a, _mm256_mul_pd(x1, ui[1][h]));
          a = _mm256_add_pd(a, _mm256_mul_pd(x2, ui[2][h]));
          a = _mm256_add_pd(a, _mm256_mul_pd(x3, ui[3][h]));
          _mm256_storeu_pd(vj, a);
        }
      }
    }
    for (; i < rows_; ++i) {
      const float* ri = res + i * cols_;
      const double* ui = u_.data() + i * R;
      for (int64_t j = 0; j < cols_; ++j) {
        const double x = ri[j];
        for (int k = 0; k < R; ++k) v[j * R + k] += x * ui[k];
      }
    }
  }
#else
  static bool avx() {
    return false;
  }
  template <int R>
  void product_rows_avx(const float* res, int64_t i0, int64_t count) {
    product_rows_v<R>(res, i0, count);
  }
  template <int R>
  void transpose_product_avx(const float* res) {
    transpose_product_v<R>(res);
  }
#endif
#else
  template <int R>
  void product_rows_v(const float* res, int64_t i0, int64_t count) {
    product_rows_k<R>(res, i0, count);
  }
  template <int R>
  void transpose_product_v(const float* res) {
    transpose_product_k<R>(res);
  }
#endif

  int64_t rows_, cols_, r_;
  std::vector<double> u_, v_;
};

class GearFormat final : public Format {
 public:
  GearFormat(int bits, int64_t group, int rank, double outliers, int iters, uint64_t seed)
      : bits_(bits),
        group_(group),
        rank_(rank),
        outliers_(outliers),
        iters_(iters),
        seed_(seed),
        qmax_((1 << bits) - 1) {}

  std::string name() const override {
    return FormatSpec{"gear",
                      {{"bits", std::to_string(bits_)},
                       {"group", std::to_string(group_)},
                       {"iters", std::to_string(iters_)},
                       {"outliers", format_g(outliers_)},
                       {"rank", std::to_string(rank_)},
                       {"seed", std::to_string(seed_)}}}
        .str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "gear";
    t.element = "int";
    t.element_bits = bits_;
    t.decoder = "gear";
    t.outlier_fraction = outliers_;
    t.encode_scope =
        EncodeScope::kTensor;  // low-rank residual and outlier selection over the tensor
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name());
    if (n >= (int64_t{1} << 32)) {
      throw Error("format '" + name() + "': " + std::to_string(n) +
                  " elements do not fit 32-bit outlier positions");
    }
    const Shape sh = shape(rows, cols);
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    // One pass, row by row: outliers S, backbone D (codes packed straight into e.elements),
    // the residual R = X - D - S and the first product R V0 of the power iteration.
    const int64_t rb = packed_row_bytes(cols, bits_);
    e.elements.resize(static_cast<size_t>(rows * rb));
    std::vector<float> step_min;
    step_min.reserve(static_cast<size_t>(2 * rows * sh.ng));
    // R, written in full by the row pass (not value-initialized: no extra 4n-byte pass).
    const std::unique_ptr<float[]> res(sh.r > 0 ? new float[static_cast<size_t>(n)] : nullptr);
    PowerIteration pi(sh.r > 0 ? rows : 0, cols, sh.r, seed_);
    std::vector<float> xv(static_cast<size_t>(cols)), dq(static_cast<size_t>(cols));
    std::vector<int64_t> out_cols;
    std::vector<uint32_t> codes(static_cast<size_t>(cols));
    std::vector<uint64_t> low, high;  // candidates for the k smallest / largest keys of a row
    std::vector<float> out_values;    // x at e.indices
    std::vector<float> sample;        // select_extremes' sample of a row
    e.indices.reserve(static_cast<size_t>(rows * 2 * sh.k));
    out_values.reserve(static_cast<size_t>(rows * 2 * sh.k));
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      // 1. Outliers S: the k smallest and the k largest in the total order (value, column).
      // xv = the row with 0 at the outliers (X - S as the backbone sees it).
      std::copy(xr, xr + cols, xv.begin());
      out_cols.clear();
      if (sh.k > 0) {
        select_extremes(xr, cols, sh.k, low, high, sample);
        for (uint64_t key : low) out_cols.push_back(static_cast<int64_t>(key & 0xffffffffu));
        for (uint64_t key : high) out_cols.push_back(static_cast<int64_t>(key & 0xffffffffu));
        std::sort(out_cols.begin(), out_cols.end());
        for (int64_t c : out_cols) {
          e.indices.push_back(static_cast<uint32_t>(r * cols + c));
          out_values.push_back(xr[c]);
          xv[static_cast<size_t>(c)] = 0.0f;
        }
      }
      // 2. Backbone D = Quant(X - S), and R = X - D - S.
      float* rr = sh.r > 0 ? res.get() + r * cols : nullptr;
      for (int64_t g = 0; g < sh.ng; ++g) {
        const int64_t c0 = g * sh.gc, c1 = std::min(cols, c0 + sh.gc);
        float lo, hi;
        min_max(xv.data(), c0, c1, lo, hi);
        float s = fp_round(kFP16, static_cast<float>((double(hi) - double(lo)) / qmax_));
        if (!(hi > lo)) s = 1.0f;
        if (s == 0.0f) s = kFP16.min_subnormal();
        const float m = fp_round(kFP16, lo);
        step_min.push_back(s);
        step_min.push_back(m);
        const float top = static_cast<float>(qmax_);
        const float* v = xv.data();
        uint32_t* q = codes.data();
        for (int64_t c = c0; c < c1; ++c) {  // branch-free: it vectorizes
          const float y = std::min(std::max((v[c] - m) / s, 0.0f), top);
          // Round half to even as nearbyint does in the default mode: y <= 255 < 2^22, so
          // adding and subtracting 1.5 * 2^23 rounds it once, exactly.
          const float qf = (y + 0x1.8p23f) - 0x1.8p23f;
          q[c] = static_cast<uint32_t>(static_cast<int32_t>(qf));
          dq[static_cast<size_t>(c)] = qf * s + m;  // dequant(q, s, m)
        }
      }
      if (rr) {
        // R = fl32(x - D - S) in double; S = 0 off the outliers (x - D - 0.0 is x - D).
        for (int64_t c = 0; c < cols; ++c)
          rr[c] = static_cast<float>(static_cast<double>(xr[c]) -
                                     static_cast<double>(dq[static_cast<size_t>(c)]));
        for (int64_t c : out_cols) {
          const float sp = fp_round(kFP16, xr[c]);
          rr[c] = static_cast<float>(static_cast<double>(xr[c]) - dq[static_cast<size_t>(c)] - sp);
        }
      }
      detail::pack_row(codes.data(), cols, bits_, e.elements.data() + r * rb);
      // R V0 four rows at a time (the four-row kernel), while they are in cache.
      if (rr && (r % 4 == 3 || r == rows - 1)) {
        const int64_t r0 = r - r % 4;
        pi.first_product_rows(res.get() + r0 * cols, r0, r - r0 + 1);
      }
    }
    e.scales.reserve(
        2 * (step_min.size() + static_cast<size_t>(sh.r * (rows + cols)) + e.indices.size()));
    for (float v : step_min) put16(e.scales, v);
    // 3. Low rank L of R.
    if (sh.r > 0) {
      std::vector<float> a, b;
      pi.finish(res.get(), iters_, &a, &b);
      for (float v : a) put16(e.scales, v);
      for (float v : b) put16(e.scales, v);
    }
    for (float v : out_values) put16(e.scales, v);
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override { reconstruct(e, out, true); }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    std::vector<float> v(static_cast<size_t>(e.rows * e.cols));
    reconstruct(e, v.data(), false);
    return detail::fp16_operand(v, e.rows, e.cols);
  }

 private:
  struct Shape {
    int64_t gc = 1, ng = 0;  // group length and groups per row
    int64_t r = 0;           // effective rank
    int64_t k = 0;           // outliers per side per row
  };

  Shape shape(int64_t rows, int64_t cols) const {
    Shape s;
    s.gc = group_ > 0 ? group_ : std::max<int64_t>(1, cols);
    s.ng = (cols + s.gc - 1) / s.gc;
    s.r = std::min<int64_t>({rank_, rows, cols});
    s.k = std::min<int64_t>(cols / 2, std::llround(outliers_ * static_cast<double>(cols) / 2.0));
    return s;
  }

  static float dequant(uint32_t q, float s, float m) { return static_cast<float>(q) * s + m; }

  // FP32 reconstruction D + L + S of an encoding into v[rows * cols] (checks its buffers);
  // with `fp16`, every value rounded to FP16 as fp16_values does (decode()). Row by row.
  void reconstruct(const EncodedTensor& e, float* v, bool fp16) const {
    check_encoded(e);
    const int64_t rows = e.rows, cols = e.cols, n = rows * cols;
    const Shape sh = shape(rows, cols);
    const size_t n_out = static_cast<size_t>(rows * 2 * sh.k);
    const size_t want16 = static_cast<size_t>(2 * rows * sh.ng + sh.r * (rows + cols)) + n_out;
    if (e.indices.size() != n_out || e.scales.size() != 2 * want16 || !e.fp32.empty() ||
        e.elements.size() != static_cast<size_t>(rows * packed_row_bytes(cols, bits_))) {
      throw Error("encoded '" + name() + "' [" + std::to_string(rows) + ", " +
                  std::to_string(cols) + "]: expected " + std::to_string(n_out) +
                  " outlier positions and " + std::to_string(2 * want16) +
                  " bytes of FP16 side values, got " + std::to_string(e.indices.size()) + " and " +
                  std::to_string(e.scales.size()) + " (or wrong element bytes / FP32 values)");
    }
    for (size_t t = 0; t < n_out; ++t) {
      const uint32_t i = e.indices[t];
      if (i >= static_cast<uint64_t>(n) || (t > 0 && i <= e.indices[t - 1])) {
        throw Error("encoded '" + name() + "': outlier positions must be ascending and below " +
                    std::to_string(n));
      }
    }
    std::vector<float> sm(static_cast<size_t>(2 * rows * sh.ng));
    for (size_t i = 0; i < sm.size(); ++i) sm[i] = get16(e.scales, i);
    const size_t a0 = static_cast<size_t>(2 * rows * sh.ng);
    const size_t b0 = a0 + static_cast<size_t>(rows * sh.r);
    const size_t o0 = b0 + static_cast<size_t>(cols * sh.r);
    // a [rows, r] as stored; b transposed to [r, cols] so the sum over k vectorizes along j.
    std::vector<float> a(static_cast<size_t>(rows * sh.r)), bt(static_cast<size_t>(cols * sh.r));
    for (size_t i = 0; i < a.size(); ++i) a[i] = get16(e.scales, a0 + i);
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t k = 0; k < sh.r; ++k)
        bt[static_cast<size_t>(k * cols + j)] =
            get16(e.scales, b0 + static_cast<size_t>(j * sh.r + k));
    std::vector<uint32_t> codes(static_cast<size_t>(cols));
    std::vector<float> l(static_cast<size_t>(cols));
    const int64_t rb = packed_row_bytes(cols, bits_);
    size_t t = 0;  // next outlier
    for (int64_t i = 0; i < rows; ++i) {
      float* vr = v + i * cols;
      detail::unpack_row(e.elements.data() + i * rb, cols, bits_, codes.data());
      for (int64_t g = 0; g < sh.ng; ++g) {
        const float s = sm[2 * static_cast<size_t>(i * sh.ng + g)];
        const float m = sm[2 * static_cast<size_t>(i * sh.ng + g) + 1];
        for (int64_t c = g * sh.gc; c < std::min(cols, (g + 1) * sh.gc); ++c)
          vr[c] = dequant(codes[static_cast<size_t>(c)], s, m);
      }
      if (sh.r > 0) {
        // l = sum_k a_ik b_jk in FP32, in order of k from 0.0f; then v = v + l.
        const float* ai = a.data() + i * sh.r;
        if (sh.r == 4) {  // the default rank in one pass (vectorizes along j)
          const float* b0 = bt.data();
          for (int64_t j = 0; j < cols; ++j) {
            float lj = 0.0f;
            lj = lj + ai[0] * b0[j];
            lj = lj + ai[1] * b0[cols + j];
            lj = lj + ai[2] * b0[2 * cols + j];
            lj = lj + ai[3] * b0[3 * cols + j];
            vr[j] = vr[j] + lj;
          }
        } else {
          low_rank_add(ai, bt.data(), sh.r, cols, l.data(), vr);
        }
      }
      for (; t < n_out && e.indices[t] < static_cast<uint64_t>((i + 1) * cols); ++t) {
        float& o = v[e.indices[t]];
        o = o + get16(e.scales, o0 + t);
      }
      if (fp16) detail::fp16_round_inplace(vr, cols);
    }
  }

  // vr[j] = vr[j] + l_j, l_j = sum over k (in order, from 0.0f) of ai[k] bt[k][j], in FP32,
  // for any rank: k-major passes over the row buffer l.
  static void low_rank_add(const float* ai, const float* bt, int64_t r, int64_t cols, float* l,
                           float* vr) {
    std::fill(l, l + cols, 0.0f);
    for (int64_t k = 0; k < r; ++k) {
      const float aik = ai[k];
      const float* bk = bt + k * cols;
      for (int64_t j = 0; j < cols; ++j) l[j] = l[j] + aik * bk[j];
    }
    for (int64_t j = 0; j < cols; ++j) vr[j] = vr[j] + l[j];
  }

  // lo and hi of v_c (X - S: 0 at the outliers) over c0 .. c1 (c1 > c0) exactly as the fold
  // lo = min(lo, v), hi = max(hi, v) from v_c0 gives them, in four independent chains (one
  // chain's latency per element bounded the old loop). The values are those of the fold; of a
  // zero result its sign also matters (lo becomes the stored FP16 offset, and the fold keeps
  // the first of +0 / -0), so a zero lo is recomputed by the fold itself. (hi's sign of zero
  // never matters: hi only enters hi - lo and hi > lo.)
  static void min_max(const float* v, int64_t c0, int64_t c1, float& lo, float& hi) {
    float l[4], h[4];
    for (int q = 0; q < 4; ++q) l[q] = h[q] = v[c0];
    int64_t c = c0;
#ifdef __SSE2__
    // MINPS(w, l) is (w < l ? w : l) = std::min(l, w); MAXPS(w, h) is std::max(h, w).
    __m128 l4 = _mm_loadu_ps(l), h4 = _mm_loadu_ps(h);
    for (; c + 3 < c1; c += 4) {
      const __m128 w = _mm_loadu_ps(v + c);
      l4 = _mm_min_ps(w, l4);
      h4 = _mm_max_ps(w, h4);
    }
    _mm_storeu_ps(l, l4);
    _mm_storeu_ps(h, h4);
#else
    for (; c + 3 < c1; c += 4) {
      for (int q = 0; q < 4; ++q) {
        l[q] = std::min(l[q], v[c + q]);
        h[q] = std::max(h[q], v[c + q]);
      }
    }
#endif
    for (; c < c1; ++c) {
      l[0] = std::min(l[0], v[c]);
      h[0] = std::max(h[0], v[c]);
    }
    lo = std::min(std::min(l[0], l[1]), std::min(l[2], l[3]));
    hi = std::max(std::max(h[0], h[1]), std::max(h[2], h[3]));
    if (lo == 0.0f) {
      lo = v[c0];
      for (c = c0; c < c1; ++c) lo = std::min(lo, v[c]);
    }
  }

  // The k smallest (low) and the k largest (high) keys of a row (1 <= k <= cols / 2), as
  // (ord(x) << 32 | column): ord maps floats to unsigned integers in the same order (-0 taken
  // as +0, so equal values compare by column), so the keys order exactly as (value, column).
  // A buffer of up to 4k candidate keys per side, cut back to its k extreme ones (nth_element)
  // when full; columns come in ascending order, so after a cut a new element can only be among
  // the k smallest if its value is below the value of the k-th smallest key (an equal value
  // has a later column, a larger key), and among the k largest if its value is at least that
  // of the k-th largest: one float comparison per element and side, a key only for candidates.
  static uint64_t key_of(float x, int64_t c) {
    const float xv = x == 0.0f ? 0.0f : x;
    uint32_t u;
    std::memcpy(&u, &xv, 4);
    const uint32_t ord = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (static_cast<uint64_t>(ord) << 32) | static_cast<uint64_t>(c);
  }
  static float value_of_key(uint64_t key) {
    const uint32_t ord = static_cast<uint32_t>(key >> 32);
    const uint32_t u = (ord & 0x80000000u) ? (ord ^ 0x80000000u) : ~ord;
    float x;
    std::memcpy(&x, &u, 4);
    return x;
  }
  // Long rows first try thresholds from a strided sample of about 512 elements: tlo = the sample's
  // j-th smallest, thi its j-th largest, j = 1.5 times the expected share of k plus 3. If at least
  // k elements lie strictly below tlo, the k smallest keys are among them (the k-th smallest value
  // is below tlo), and likewise above thi; then one vectorized comparison pass collects the few
  // candidates. Otherwise the buffer method below decides.
  static void select_extremes(const float* xr, int64_t cols, int64_t k, std::vector<uint64_t>& low,
                              std::vector<uint64_t>& high, std::vector<float>& sample) {
    if (cols >= 1024) {
      // The j+1 smallest and largest of the sample by insertion into two short sorted lists
      // (an element rarely enters once they are full).
      const int64_t stride = cols / 512;
      const int64_t m = (cols + stride - 1) / stride;
      const int64_t j = std::min<int64_t>(m - 1, (3 * k * m + 2 * cols - 1) / (2 * cols) + 3);
      const size_t J = static_cast<size_t>(j + 1);
      sample.assign(2 * J, 0.0f);
      float* sl = sample.data();      // ascending: sl[J - 1] the largest kept
      float* sh = sample.data() + J;  // descending: sh[J - 1] the smallest kept
      size_t nl = 0;
      for (int64_t c = 0; c < cols; c += stride) {
        const float x = xr[c];
        if (nl < J) {
          size_t p = nl;
          for (; p > 0 && sl[p - 1] > x; --p) sl[p] = sl[p - 1];
          sl[p] = x;
          p = nl;
          for (; p > 0 && sh[p - 1] < x; --p) sh[p] = sh[p - 1];
          sh[p] = x;
          ++nl;
          continue;
        }
        if (x < sl[J - 1]) {
          size_t p = J - 1;
          for (; p > 0 && sl[p - 1] > x; --p) sl[p] = sl[p - 1];
          sl[p] = x;
        }
        if (x > sh[J - 1]) {
          size_t p = J - 1;
          for (; p > 0 && sh[p - 1] < x; --p) sh[p] = sh[p - 1];
          sh[p] = x;
        }
      }
      const float tlo = sl[J - 1], thi = sh[J - 1];
      low.clear();
      high.clear();
      int64_t c = 0;
#ifdef __SSE2__
      const __m128 lo4 = _mm_set1_ps(tlo), hi4 = _mm_set1_ps(thi);
      for (; c + 4 <= cols; c += 4) {
        const __m128 x4 = _mm_loadu_ps(xr + c);
        if (_mm_movemask_ps(_mm_or_ps(_mm_cmplt_ps(x4, lo4), _mm_cmpgt_ps(x4, hi4))) == 0) continue;
        for (int64_t q = c; q < c + 4; ++q) {
          if (xr[q] < tlo) low.push_back(key_of(xr[q], q));
          if (xr[q] > thi) high.push_back(key_of(xr[q], q));
        }
      }
#endif
      for (; c < cols; ++c) {
        if (xr[c] < tlo) low.push_back(key_of(xr[c], c));
        if (xr[c] > thi) high.push_back(key_of(xr[c], c));
      }
      const size_t ks = static_cast<size_t>(k);
      if (low.size() >= ks && high.size() >= ks) {
        std::nth_element(low.begin(), low.begin() + (k - 1), low.end());
        low.resize(ks);
        std::nth_element(high.begin(), high.begin() + (k - 1), high.end(),
                         std::greater<uint64_t>());
        high.resize(ks);
        return;
      }
    }
    select_extremes_buffered(xr, cols, k, low, high);
  }
  static void select_extremes_buffered(const float* xr, int64_t cols, int64_t k,
                                       std::vector<uint64_t>& low, std::vector<uint64_t>& high) {
    const size_t ks = static_cast<size_t>(k), cap = 4 * ks;
    low.clear();
    high.clear();
    const auto greater = std::greater<uint64_t>();
    auto cut_low = [&] {
      std::nth_element(low.begin(), low.begin() + (k - 1), low.end());
      low.resize(ks);
      return value_of_key(low[ks - 1]);
    };
    auto cut_high = [&] {
      std::nth_element(high.begin(), high.begin() + (k - 1), high.end(), greater);
      high.resize(ks);
      return value_of_key(high[ks - 1]);
    };
    float tlo = std::numeric_limits<float>::infinity(), thi = -tlo;
    for (int64_t c = 0; c < cols; ++c) {
#ifdef __SSE2__
      // Four elements at a time while none is a candidate (the common case after a cut).
      if ((c & 3) == 0) {
        const __m128 lo4 = _mm_set1_ps(tlo), hi4 = _mm_set1_ps(thi);
        while (c + 4 <= cols) {
          const __m128 x4 = _mm_loadu_ps(xr + c);
          if (_mm_movemask_ps(_mm_or_ps(_mm_cmplt_ps(x4, lo4), _mm_cmpge_ps(x4, hi4))) != 0) break;
          c += 4;
        }
        if (c == cols) break;
      }
#endif
      const float x = xr[c];
      if (x < tlo) {
        low.push_back(key_of(x, c));
        if (low.size() == cap) tlo = cut_low();
      }
      if (x >= thi) {
        high.push_back(key_of(x, c));
        if (high.size() == cap) thi = cut_high();
      }
    }
    if (low.size() > ks) cut_low();
    if (high.size() > ks) cut_high();
  }

  int bits_;
  int64_t group_;
  int rank_;
  double outliers_;
  int iters_;
  uint64_t seed_;
  int32_t qmax_;
};

std::unique_ptr<Format> make_gear(int alias_bits, FormatOptions& o) {
  const int bits = detail::width_option(o, alias_bits, "gear", 4, 2, 8);
  const int64_t group = o.get_int("group", 0, 0, int64_t{1} << 20);
  const int rank = static_cast<int>(o.get_int("rank", 4, 0, 256));
  const double outliers = o.get_double("outliers", 0.02, 0.0, 1.0);
  const int iters = static_cast<int>(o.get_int("iters", 3, 1, 100));
  const uint64_t seed = static_cast<uint64_t>(o.get_int("seed", 0, 0, INT64_MAX));
  o.finish();
  return std::make_unique<GearFormat>(bits, group, rank, outliers, iters, seed);
}

}  // namespace

namespace detail {
void register_gear_formats(Registry& r) {
  const std::string opts = "bits=2..8 (4) group=0 (per token) rank=4 outliers=0.02 iters=3 seed=0";
  r.push_back({{"gear", opts,
                "GEAR KV cache: asymmetric int per token + rank-r FP16 residual + FP16 sparse "
                "outliers (Kang et al., arXiv 2403.05527)"},
               [](FormatOptions& o) { return make_gear(0, o); }});
  r.push_back({{"gear4", "group rank outliers iters seed", "GEAR at 4 bits (gear:bits=4)"},
               [](FormatOptions& o) { return make_gear(4, o); }});
  r.push_back({{"gear2", "group rank outliers iters seed", "GEAR at 2 bits (gear:bits=2)"},
               [](FormatOptions& o) { return make_gear(2, o); }});
}
}  // namespace detail

}  // namespace qarch::quant
