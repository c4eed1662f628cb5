#include "qarch/workloads/rng.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qarch::workloads {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t hash_combine(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
  splitmix64(x);
  return splitmix64(x);
}

uint64_t hash_string(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return splitmix64(h);
}

Xoshiro256pp::Xoshiro256pp(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

namespace {

// Ziggurat tables for f(x) = exp(-x^2 / 2) with 256 layers of equal area v. Layer i (0..255)
// is the rectangle [0, x[i]] x [f(x[i]), f(x[i+1])] with x decreasing in i: x[1] = r,
// x[i+1] = f^-1(f(x[i]) + v / x[i]), x[256] = 0; the base layer 0 is the strip under f(r) of
// width x[0] = v / f(r) (area v), whose part beyond r is the tail.
struct Ziggurat {
  static constexpr double kR = 3.6541528853610088;
  static constexpr double kV = 4.92867323399e-3;
  double x[257];
  double fx[257];
  uint32_t accept[256];  // fast path: u23 < accept[i]  <=>  u23 * x[i] / 2^23 < x[i+1]
  float width[256];      // x[i] / 2^23

  Ziggurat() {
    x[0] = kV / std::exp(-0.5 * kR * kR);
    x[1] = kR;
    for (int i = 1; i < 255; ++i) {
      const double y = std::exp(-0.5 * x[i] * x[i]) + kV / x[i];
      x[i + 1] = std::sqrt(-2.0 * std::log(y));
    }
    x[256] = 0.0;
    for (int i = 0; i <= 256; ++i) fx[i] = std::exp(-0.5 * x[i] * x[i]);
    for (int i = 0; i < 256; ++i) {
      accept[i] = static_cast<uint32_t>(std::floor(x[i + 1] / x[i] * 0x1.0p23));
      width[i] = static_cast<float>(x[i] * 0x1.0p-23);
    }
  }
};

const Ziggurat& zig() {
  static const Ziggurat z;
  return z;
}

// Slow path for a 32-bit draw that missed the fast test: returns a sample (drawing more random
// numbers as needed).
double slow_path(Xoshiro256pp& g, const Ziggurat& z, uint32_t bits) {
  for (;;) {
    const int i = static_cast<int>(bits & 0xff);
    const bool neg = (bits >> 8) & 1u;
    const uint32_t u = bits >> 9;
    if (u < z.accept[i]) {
      const double v = u * (z.x[i] * 0x1.0p-23);
      return neg ? -v : v;
    }
    if (i == 0) {
      // Tail beyond r (Marsaglia 1964): a = -ln(U1)/r, b = -ln(U2) until 2b > a^2; r + a.
      double a, b;
      do {
        a = -std::log(g.uniform_pos()) / Ziggurat::kR;
        b = -std::log(g.uniform_pos());
      } while (2.0 * b <= a * a);
      return neg ? -(Ziggurat::kR + a) : Ziggurat::kR + a;
    }
    // Wedge: a uniform height inside the layer accepts if it lies under the curve.
    const double v = u * (z.x[i] * 0x1.0p-23);
    const double y = z.fx[i] + g.uniform() * (z.fx[i + 1] - z.fx[i]);
    if (y < std::exp(-0.5 * v * v)) return neg ? -v : v;
    bits = static_cast<uint32_t>(g.next() >> 32);
  }
}

}  // namespace

void fill_normal(Xoshiro256pp& g, float* out, int64_t n) {
  const Ziggurat& z = zig();
  // Fast path for every sample without branches (value = u * x[i] / 2^23 with the sign bit
  // from bit 8); the ~1% that fail the layer test are remembered and redone by the slow path
  // afterwards, which draws further numbers from the same stream (still deterministic).
  uint32_t slow_bits[64];
  int64_t slow_at[64];
  for (int64_t base = 0; base < n; base += 512) {
    const int64_t end = std::min<int64_t>(n, base + 512);
    int nslow = 0;
    for (int64_t i = base; i < end; i += 2) {
      const uint64_t r = g.next();
      for (int h = 0; h < 2 && i + h < end; ++h) {
        const uint32_t bits = static_cast<uint32_t>(r >> (32 * h));
        const uint32_t layer = bits & 0xffu, u = bits >> 9;
        const float v = static_cast<float>(u) * z.width[layer];
        uint32_t vb;
        std::memcpy(&vb, &v, 4);
        vb |= (bits & 0x100u) << 23;  // bit 8 -> the sign bit
        std::memcpy(&out[i + h], &vb, 4);
        if (u >= z.accept[layer]) {
          if (nslow == 64) {
            for (int k = 0; k < nslow; ++k) out[slow_at[k]] = float(slow_path(g, z, slow_bits[k]));
            nslow = 0;
          }
          slow_bits[nslow] = bits;
          slow_at[nslow++] = i + h;
        }
      }
    }
    for (int k = 0; k < nslow; ++k)
      out[slow_at[k]] = static_cast<float>(slow_path(g, z, slow_bits[k]));
  }
}

double normal(Xoshiro256pp& g) {
  const Ziggurat& z = zig();
  return slow_path(g, z, static_cast<uint32_t>(g.next() >> 32));
}

}  // namespace qarch::workloads
