// Internal helpers shared by the integer (int_formats.cpp) and block-floating-point
// (bfp_formats.cpp) families: exact round-to-integer in FP32, power-of-two construction from
// bits, and row packers that produce exactly the pack_codes() layout (LSB-first bit stream per
// row, rows byte-aligned) without its generic per-bit loop. All inline so the hot loops vectorize.
#pragma once

#include <cstdint>
#include <cstring>

namespace qarch::quant::detail {

inline uint32_t f2u(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float u2f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// 2^k as a float for k in [-149, 127] (subnormal powers included), exact.
inline float pow2f(int k) {
  return k >= -126 ? u2f(static_cast<uint32_t>(k + 127) << 23) : u2f(1u << (k + 149));
}

/// Rounds y to an integer-valued float, |y| < 2^22. Adding and subtracting 1.5 * 2^23 lands
/// the sum in [2^23, 2^24), where the FP32 ulp is 1, so the hardware's round-to-nearest-even
/// does the rounding (exact RNE; this needs the default FP environment, no -ffast-math).
/// kAway: a tie (|y - r| == 0.5, exact since r is within 0.5 of y) becomes y +- 0.5 with the
/// sign of y (exact: y is a half-integer below 2^22).
template <bool kAway>
inline float round_to_int(float y) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  float r = (y + kMagic) - kMagic;
  if (kAway) {
    const float t = y - r;
    const float away = y + (y < 0.0f ? -0.5f : 0.5f);
    r = (t == 0.5f || t == -0.5f) ? away : r;
  }
  return r;
}

/// Packs n codes of `bits` (1..16) into dst (packed_row_bytes(n, bits) bytes, every byte
/// written), LSB-first, exactly as pack_codes() lays out one row. Codes must already fit.
template <typename Code>
inline void pack_row(const Code* codes, int64_t n, int bits, uint8_t* dst) {
  if (bits == 8) {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(codes[i]);
    return;
  }
  if (bits == 4) {
    const int64_t pairs = n / 2;
    for (int64_t i = 0; i < pairs; ++i) {
      dst[i] = static_cast<uint8_t>((codes[2 * i] & 15u) | ((codes[2 * i + 1] & 15u) << 4));
    }
    if (n & 1) dst[pairs] = static_cast<uint8_t>(codes[n - 1] & 15u);
    return;
  }
  int64_t i = 0;
  if (bits < 8) {
    // Eight codes fill exactly `bits` bytes: compose them in a 64-bit word and store all 8
    // bytes (the upper ones are zero and get overwritten by the next group) while the store
    // stays inside the row; a fixed-size memcpy compiles to one store.
    const uint8_t* end = dst + (n * bits + 7) / 8;
    for (; i + 8 <= n && dst + 8 <= end; i += 8) {
      uint64_t w = 0;
      for (int k = 0; k < 8; ++k) w |= static_cast<uint64_t>(codes[i + k]) << (k * bits);
      std::memcpy(dst, &w, 8);  // little-endian hosts only
      dst += bits;
    }
  }
  uint64_t acc = 0;
  int nacc = 0;
  for (; i < n; ++i) {
    acc |= static_cast<uint64_t>(codes[i]) << nacc;
    nacc += bits;
    if (nacc >= 32) {
      std::memcpy(dst, &acc, 4);  // little-endian hosts only (x86-64, AArch64)
      dst += 4;
      acc >>= 32;
      nacc -= 32;
    }
  }
  while (nacc > 0) {
    *dst++ = static_cast<uint8_t>(acc);
    acc >>= 8;
    nacc -= 8;
  }
}

/// Inverse of pack_row: n codes of `bits` (1..16) from src.
template <typename Code>
inline void unpack_row(const uint8_t* src, int64_t n, int bits, Code* codes) {
  if (bits == 8) {
    for (int64_t i = 0; i < n; ++i) codes[i] = static_cast<Code>(src[i]);
    return;
  }
  if (bits == 4) {
    const int64_t pairs = n / 2;
    for (int64_t i = 0; i < pairs; ++i) {
      codes[2 * i] = static_cast<Code>(src[i] & 15u);
      codes[2 * i + 1] = static_cast<Code>(src[i] >> 4);
    }
    if (n & 1) codes[n - 1] = static_cast<Code>(src[pairs] & 15u);
    return;
  }
  const uint32_t mask = (1u << bits) - 1u;
  const int64_t nbytes = (n * bits + 7) / 8;
  int64_t i = 0, pos = 0;
  if (bits < 8) {
    for (; i + 8 <= n && pos + 8 <= nbytes; i += 8, pos += bits) {
      uint64_t w;
      std::memcpy(&w, src + pos, 8);
      for (int k = 0; k < 8; ++k) codes[i + k] = static_cast<Code>((w >> (k * bits)) & mask);
    }
  }
  uint64_t acc = 0;
  int nacc = 0;
  for (; i < n; ++i) {
    if (nacc < bits) {
      if (pos + 4 <= nbytes) {
        uint32_t w;
        std::memcpy(&w, src + pos, 4);
        acc |= static_cast<uint64_t>(w) << nacc;
        pos += 4;
        nacc += 32;
      } else {
        while (nacc < bits) {
          acc |= static_cast<uint64_t>(src[pos++]) << nacc;
          nacc += 8;
        }
      }
    }
    codes[i] = static_cast<Code>(acc & mask);
    acc >>= bits;
    nacc -= bits;
  }
}

}  // namespace qarch::quant::detail
