// Fast seeded random numbers for the tensor generator.
//
// Choice (documented because generation speed matters: a LLaMA-2-7B layer is ~200 M weights):
// - Streams: xoshiro256++ (Blackman & Vigna, "Scrambled linear pseudorandom number
//   generators", 2021): 256-bit state, all 64 output bits usable, ~1 ns per draw. Every row of a
//   generated tensor gets its own stream whose state is derived by SplitMix64 from a hash of
//   (seed, tensor key, row), so a row's values never depend on which other rows were generated:
//   sampling rows (--sample) or generating an MoE expert's tokens gives the same numbers as
//   generating everything.
// - Normals: the ziggurat method (Marsaglia & Tsang, "The Ziggurat Method for Generating
//   Random Variables", J. Stat. Software 5(8), 2000) with 256 layers, r = 3.6541528853610088,
//   v = 4.92867323399e-3. Each sample uses 32 random bits (8 select the layer, 1 the sign, 23
//   the position inside the layer), so one 64-bit draw yields two normals; ~99% of samples take
//   the fast path (one table compare and one multiply). std::normal_distribution (Box-Muller /
//   Marsaglia polar with log and sqrt per pair) is several times slower. The 23-bit position
//   quantizes each layer into 2^23 steps, finer than a float's resolution around the value.
#pragma once

#include <cstdint>
#include <string>

namespace qarch::workloads {

/// SplitMix64 step (Steele, Lea, Flood 2014): advances x and returns a well-mixed 64-bit value.
uint64_t splitmix64(uint64_t& x);
/// A 64-bit hash combining a and b (order matters).
uint64_t hash_combine(uint64_t a, uint64_t b);
/// 64-bit hash of a string (FNV-1a 64 followed by a SplitMix64 finalizer).
uint64_t hash_string(const std::string& s);

/// xoshiro256++ pseudorandom generator (see file comment).
class Xoshiro256pp {
 public:
  /// State from four SplitMix64 outputs of `seed` (never all zero).
  explicit Xoshiro256pp(uint64_t seed);
  uint64_t next() {
    const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform double in (0, 1] (safe for log()).
  double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

/// Fills out[0..n) with independent standard normal samples (ziggurat, see file comment).
void fill_normal(Xoshiro256pp& g, float* out, int64_t n);
/// One standard normal sample (ziggurat, double precision; for per-row/per-channel draws).
double normal(Xoshiro256pp& g);

}  // namespace qarch::workloads
