// Helpers shared by the MX / NVFP4 / AMXFP4 tests (mx_test.cpp, nvfp4_test.cpp,
// amxfp4_test.cpp, qsnr_reference_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "intbfp_test_util.h"
#include "qarch/quant/format.h"

namespace qarch::quant::mxtest {

/// Encode, decode and decode_operand of one tensor in one go.
struct Trip {
  EncodedTensor e;
  std::vector<float> dec;
  DecodedTensor d;
};

inline Trip run(const std::string& spec, const std::vector<float>& x, int64_t rows, int64_t cols) {
  const auto f = make_format(spec);
  Trip out;
  out.e = f->encode(x.data(), rows, cols);
  out.dec.resize(x.size());
  f->decode(out.e, out.dec.data());
  out.d = f->decode_operand(out.e);
  return out;
}

/// Value of a sign-magnitude FP element code straight from the OCP MX v1.0 section 5.3
/// definition, in double (specials are the caller's business).
inline double element_value(int ebits, int mbits, int bias, uint32_t code) {
  const uint32_t e = (code >> mbits) & ((1u << ebits) - 1);
  const uint32_t m = code & ((1u << mbits) - 1);
  const double sign = (code >> (ebits + mbits)) & 1 ? -1.0 : 1.0;
  if (e == 0) return sign * std::ldexp(static_cast<double>(m), 1 - bias - mbits);
  return sign *
         std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -mbits), static_cast<int>(e) - bias);
}

/// A double rounded to FP32, with overflow to +-Inf spelled out (a plain cast of an
/// out-of-range double is undefined behaviour).
inline float to_float(double v) {
  if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
    // Every value we build has <= 8 significant bits, so beyond FLT_MAX means >= 2^128.
    return v > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(v);
}

/// The E2M1 magnitudes by code (specs/formats.md table).
constexpr float kE2M1Mag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

/// Expects out[i] to be NaN for every i in [lo, hi).
inline void expect_nan_range(const std::vector<float>& v, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) EXPECT_TRUE(std::isnan(v[i])) << "element " << i;
}

/// Element codes of a 4-bit encoding, unpacked.
inline std::vector<uint32_t> codes4(const EncodedTensor& e) {
  return unpack_codes(e.elements, e.rows, e.cols, 4);
}

}  // namespace qarch::quant::mxtest
