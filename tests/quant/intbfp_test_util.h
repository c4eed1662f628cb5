// Test helpers for the INT / BFP / MX format tests: portable seeded data (mt19937 is fully
// specified; the normal deviates use our own Box-Muller, since std::normal_distribution differs
// between standard libraries) and the universal Format invariants of the working agreement:
//   (1) decoded_value(decode_operand(e), r, c) == decode(e)[r * cols + c] bit for bit;
//   (2) quantize() == decode(encode()) bit for bit;
//   (3) make_format(name()) is the same format (same name, same encoding);
//   (4) reference_matmul on decoded operands agrees with a double GEMM of the decoded values
//       within the rounding bound of its FP32 segment accumulation.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qarch/quant/decoded.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"

namespace qarch::quant::testing {

/// One format applied to x: the encoding, its decode and its decoded operand.
struct Result {
  EncodedTensor e;
  std::vector<float> dec;
  DecodedTensor d;
};

inline Result run(const std::string& spec, const std::vector<float>& x, int64_t rows,
                  int64_t cols) {
  const auto f = make_format(spec);
  Result out;
  out.e = f->encode(x.data(), rows, cols);
  out.dec.resize(x.size());
  f->decode(out.e, out.dec.data());
  out.d = f->decode_operand(out.e);
  return out;
}

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// Seeded N(0, 1) deviates (Box-Muller on mt19937, computed in double).
class Gauss {
  static constexpr double kTwoPi = 6.283185307179586476925286766559;

 public:
  explicit Gauss(uint32_t seed) : rng_(seed) {}
  float operator()() {
    if (have_) {
      have_ = false;
      return static_cast<float>(spare_);
    }
    double u1;
    do {
      u1 = uniform();
    } while (u1 <= 0.0);
    const double u2 = uniform();
    const double rad = std::sqrt(-2.0 * std::log(u1));
    spare_ = rad * std::sin(kTwoPi * u2);
    have_ = true;
    return static_cast<float>(rad * std::cos(kTwoPi * u2));
  }
  double uniform() { return (rng_() >> 5) * (1.0 / 134217728.0); }  // 27 bits in [0, 1)
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
  bool have_ = false;
  double spare_ = 0;
};

/// N(0,1) matrix with LLM-like outlier columns (x30..x80), a few exact zeros and one all-zero
/// run of 40 elements (whole blocks / groups of zeros).
inline std::vector<float> outlier_matrix(int64_t rows, int64_t cols, uint32_t seed) {
  Gauss g(seed);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (auto& v : x) v = g();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (c % 11 == 3) x[r * cols + c] *= 30.0f + static_cast<float>((c * 7) % 50);
      if ((r * cols + c) % 29 == 0) x[r * cols + c] = 0.0f;
    }
  }
  for (int64_t i = 0; i < std::min<int64_t>(40, rows * cols); ++i)
    x[(x.size() / 2 + i) % x.size()] = 0;
  return x;
}

/// Extreme magnitudes in separate rows: huge (near FLT_MAX), tiny normal, FP32 subnormal, mixed.
inline std::vector<float> extreme_matrix(int64_t cols, uint32_t seed) {
  Gauss g(seed);
  const int64_t rows = 4;
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (int64_t c = 0; c < cols; ++c) {
    x[c] = g() * 1e37f;
    x[cols + c] = g() * 1e-36f;
    x[2 * cols + c] = g() * 1e-41f;  // subnormal
    x[3 * cols + c] = c % 3 == 0 ? g() * 1e20f : g() * 1e-20f;
  }
  return x;
}

inline ::testing::AssertionResult same_bits(const std::vector<float>& a,
                                            const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "size differs";
  for (size_t i = 0; i < a.size(); ++i) {
    if (bits_of(a[i]) != bits_of(b[i])) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a[i] << " vs " << b[i] << " (bits " << std::hex
             << bits_of(a[i]) << " vs " << bits_of(b[i]) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

inline bool same_encoding(const EncodedTensor& a, const EncodedTensor& b) {
  return a.format == b.format && a.rows == b.rows && a.cols == b.cols && a.elements == b.elements &&
         a.scales == b.scales && a.indices == b.indices && a.fp32.size() == b.fp32.size() &&
         (a.fp32.empty() || std::memcmp(a.fp32.data(), b.fp32.data(), 4 * a.fp32.size()) == 0);
}

/// Invariants (1)-(3) for one tensor.
inline void check_codec_invariants(const Format& f, const std::vector<float>& x, int64_t rows,
                                   int64_t cols) {
  SCOPED_TRACE(f.name() + " on " + std::to_string(rows) + " x " + std::to_string(cols));
  const EncodedTensor e = f.encode(x.data(), rows, cols);
  ASSERT_EQ(e.format, f.name());
  std::vector<float> dec(x.size()), q(x.size());
  f.decode(e, dec.data());
  // (2) fused quantize equals decode(encode).
  f.quantize(x.data(), rows, cols, q.data());
  EXPECT_TRUE(same_bits(q, dec));
  // (1) the hardware view reproduces every value bit for bit.
  const DecodedTensor d = f.decode_operand(e);
  ASSERT_EQ(d.rows, rows);
  ASSERT_EQ(d.cols, cols);
  std::vector<float> hw(x.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) hw[r * cols + c] = decoded_value(d, r, c);
  EXPECT_TRUE(same_bits(hw, dec));
  // (3) the canonical name rebuilds the same format.
  const auto again = make_format(f.name());
  EXPECT_EQ(again->name(), f.name());
  EXPECT_TRUE(same_encoding(again->encode(x.data(), rows, cols), e));
  // Deterministic.
  EXPECT_TRUE(same_encoding(f.encode(x.data(), rows, cols), e));
}

/// Invariant (4): reference_matmul(X, W) against a double GEMM of the decoded values. Within a
/// segment the hardware sum is exact; each segment contributes <= 3 FP32 roundings (sum, two
/// scale multiplies) and one accumulation rounding, so |err| <= (segments + 3) * 2^-24 *
/// sum_k |x_k w_k| to first order; we allow twice that.
inline void check_matmul_invariant(const Format& f, const std::vector<float>& x, int64_t m,
                                   const std::vector<float>& w, int64_t n, int64_t k) {
  SCOPED_TRACE(f.name() + " matmul");
  const EncodedTensor ex = f.encode(x.data(), m, k), ew = f.encode(w.data(), n, k);
  std::vector<float> xd(x.size()), wd(w.size());
  f.decode(ex, xd.data());
  f.decode(ew, wd.data());
  const DecodedTensor dx = f.decode_operand(ex), dw = f.decode_operand(ew);
  const std::vector<float> y = reference_matmul(dx, dw);
  ASSERT_EQ(static_cast<int64_t>(y.size()), m * n);
  // Segments: boundaries where either operand's scale group changes along K.
  int64_t segments = 0;
  for (int64_t t = 0; t < k; ++t) {
    if (t == 0 || t % dx.group_cols == 0 || t % dw.group_cols == 0) ++segments;
  }
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0, mag = 0;
      for (int64_t t = 0; t < k; ++t) {
        const double p = static_cast<double>(xd[i * k + t]) * wd[j * k + t];
        ref += p;
        mag += std::fabs(p);
      }
      const double tol = 2.0 * (segments + 3) * std::ldexp(mag, -24) + 1e-300;
      ASSERT_LE(std::fabs(y[i * n + j] - ref), tol) << "Y[" << i << "][" << j << "]";
    }
  }
}

/// Runs `fn` and returns the qarch::Error message ("" and a test failure if nothing throws).
template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected qarch::Error";
  return "";
}

}  // namespace qarch::quant::testing
