// Internal: the FP16 operand of the KV-cache formats whose decoder reconstructs values that are
// not on one integer grid (GEAR: dequantized + low-rank + sparse; RotateKV: dequantized and
// rotated back). Their decoders write the reconstructed K/V in FP16, as the GPU kernels of both
// papers do before the attention GEMM, so decode() rounds the FP32 reconstruction once to FP16
// (RNE, saturating at +-65504) and the PE receives FP16 values as exponent-integer pairs, like
// GOBO's store=fp16: one scale group, scale_exp = FP16's unit 2^-24.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "qarch/quant/decoded.h"
#include "qarch/quant/fp_element.h"

namespace qarch::quant::detail {

/// fp_round(kFP16, x): for results in FP16's normal range by rounding the FP32 bits to 10
/// mantissa bits (ties to even) directly; subnormal, saturating and non-finite cases go through
/// fp_round.
inline float fp16_round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x38800000u && a < 0x477fe000u) {  // [2^-14, 65504): the result is a normal FP16
    const uint32_t r = (u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu;
    float y;
    std::memcpy(&y, &r, 4);
    return y;
  }
  return fp_round(kFP16, x);
}

/// out[i] = fp16(v[i]) (RNE, saturating), as a float; a negative zero becomes +0 (the
/// exponent-integer operand has no -0).
inline void fp16_values(const std::vector<float>& v, float* out) {
  for (size_t i = 0; i < v.size(); ++i) {
    const float h = fp16_round(v[i]);
    out[i] = h == 0.0f ? 0.0f : h;
  }
}

/// v[i] = fp16(v[i]) as fp16_values does (RNE, saturating, -0 -> +0), in place. Four values at
/// a time in SSE2 when all four lie in FP16's normal range (fp16_round's fast case, the same
/// integer rounding per lane; such values are non-zero, so no -0 to fix), else one by one.
inline void fp16_round_inplace(float* v, int64_t n) {
  int64_t i = 0;
#ifdef __SSE2__
  const __m128i abs_mask = _mm_set1_epi32(0x7fffffff), lo = _mm_set1_epi32(0x387fffff),
                hi = _mm_set1_epi32(0x477fe000), half = _mm_set1_epi32(0xfff),
                one = _mm_set1_epi32(1), keep = _mm_set1_epi32(~0x1fff);
  for (; i + 4 <= n; i += 4) {
    const __m128i u = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v + i));
    const __m128i a = _mm_and_si128(u, abs_mask);
    const __m128i ok = _mm_and_si128(_mm_cmpgt_epi32(a, lo), _mm_cmpgt_epi32(hi, a));
    if (_mm_movemask_ps(_mm_castsi128_ps(ok)) != 0xf) {
      for (int64_t k = i; k < i + 4; ++k) {
        const float h = fp16_round(v[k]);
        v[k] = h == 0.0f ? 0.0f : h;
      }
      continue;
    }
    const __m128i odd = _mm_and_si128(_mm_srli_epi32(u, 13), one);
    const __m128i r = _mm_and_si128(_mm_add_epi32(_mm_add_epi32(u, half), odd), keep);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(v + i), r);
  }
#endif
  for (; i < n; ++i) {
    const float h = fp16_round(v[i]);
    v[i] = h == 0.0f ? 0.0f : h;
  }
}

/// The FP16 operand of v [rows, cols]: decoded_value(d, r, c) == fp16_values(v)[r * cols + c].
inline DecodedTensor fp16_operand(const std::vector<float>& v, int64_t rows, int64_t cols) {
  DecodedTensor d;
  d.resize(rows, cols, rows, cols);
  if (!d.scale_exp.empty()) d.scale_exp[0] = kFP16.ulp_exp();
  for (size_t i = 0; i < v.size(); ++i) {
    const ExpIntPair p = fp_decode_pair(kFP16, fp_encode(kFP16, v[i]));
    d.mant[i] = p.mant;
    d.shift[i] = static_cast<uint8_t>(p.shift);
  }
  return d;
}

}  // namespace qarch::quant::detail
