// ANT adaptive numeric types (Guo et al., "ANT: Exploiting Adaptive Numerical Data Type for
// Low-bit Deep Neural Network Quantization", MICRO 2022): every tensor picks, by mean squared
// error, one of three k-bit types, each a fixed grid of integers times an FP32 scale:
//   int    two's-complement integers (signed: -2^B .. 2^B-1; unsigned: 0 .. 2^(B+1)-1);
//   flint  "float-int": small values are integers, large ones floats whose exponent is the
//          position of the first one in the code (a first-one prefix code), so each binade
//          holds one mantissa bit fewer than the one below;
//   pot    powers of two 0, 2^0, 2^1, ..., 2^(2^B-2).
// B is the magnitude width: bits - 1 when signed, bits when unsigned. Facts from the authors'
// public code (clevercool/ANT-Quantization, ant_quantization/antquant/quant_modules.py):
// - The grids (int_value, flint_value, pot_value): with B magnitude bits, flint holds 0, the
//   values 2^e (1 + j 2^-m) for e = -(B-1) .. B-2 with m = B-2-|e| mantissa bits for e < 0 and
//   m = B-2-e for e >= 0, and the top value 2^(B-1): 2^B magnitudes. Times 2^(B-1) they are
//   integers: flint B = 3 is {0, 1, 2, 3, 4, 6, 8, 16}; B = 4 is {0..8, 10, 12, 14, 16, 24, 32,
//   64}. The sorted index of a flint magnitude is exactly its first-one code (index 1000b..1011b
//   = 8, 10, 12, 14: prefix "10", two mantissa bits), so the code below stores that index.
// - The signedness: a tensor with a negative element uses the signed grid, a non-negative one
//   (ReLU outputs) the unsigned grid with every bit for the magnitude (update_signed).
// - The scale: the grid is normalised so its largest positive value maps to alpha, and alpha
//   is searched as r * max|x| for r = lo/100 .. (hi-1)/100 in steps of 1/100 by the mean squared
//   error of the quantized tensor (search_mse, defaults --a_low 75 --a_up 150; 95 .. 149 above
//   6 bits). The type with the lowest error wins (search_adaptive_numeric_type).
// - Rounding (quant_kernel.cu): to the nearest grid value, ties to the larger value (toward
//   +inf). qarch's default breaks ties away from zero (the symmetric rule it uses for OliVe);
//   ties=up reproduces the authors' kernel.
// - At 8 bits the authors' code uses int only (bit > 6 forces mode int); the paper describes all
//   types at every width. Here bits=8 searches int and flint by default (types=int reproduces the
//   code). pot is offered at 4 bits only: at 8 bits its grid would reach 2^126, beyond FP32 and
//   any PE shifter.
//
// Options: bits=4|8 (ant4, ant8), types=<list of int,flint,pot> (candidates, "+"-separated, in
// the order of preference on equal error), sign=auto|signed|unsigned, per=tensor|row (row: one
// scale per row, the type chosen for the whole tensor by the summed per-row errors, as the
// authors quantize weights per output channel), lo, hi (clip search range in percent, hi
// exclusive), ties=away|up, scale=<float> + type=<int|flint|pot> (a fixed, calibrated per-tensor
// scale and type; Format::calibrated() produces them).
//
// Exact arithmetic: s = fl32(fl32(r * amax) / gmax) with gmax the largest positive grid integer
// and r = i / 100 in double; v = fl32(x / s); the level is the nearest grid integer to |v| on the
// element's sign side (ties as above), saturating at the side's largest; decode = fl32(g * s).
// The search prices every (type, r) by sum (double(x) - double(decode))^2 and keeps the first
// lowest in (type order, r ascending) order; the fast search returns exactly that choice
// (ant_search is checked against ant_search_exhaustive).
//
// Layout: elements = one bits-wide code per element, pack_codes layout. int: two's complement g
// (signed) or g; flint / pot: sign bit (MSB, signed grids only) + magnitude index. scales = one
// byte per tensor: type (0 int, 1 flint, 2 pot) | signed << 2. fp32 = the scale (tensor) or one
// per row.
//
// DecodedTensor: int -> <0, g>; flint / pot -> <ctz(g), g >> ctz(g)> (the flint-to-int
// conversion of ANT's decoder: a 4-bit flint becomes an exponent-integer pair whose integer has
// at most B-1 significant bits); one scale group per tensor or row, scale_mul s.
#include "qarch/common/number_text.h"
#include "qarch/quant/ant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {

const char* ant_type_name(AntType t) {
  switch (t) {
    case AntType::kInt:
      return "int";
    case AntType::kFlint:
      return "flint";
    case AntType::kPot:
      return "pot";
  }
  return "?";
}

std::vector<int32_t> ant_magnitudes(AntType type, int magnitude_bits) {
  const int B = magnitude_bits;
  std::vector<int32_t> m;
  switch (type) {
    case AntType::kInt:
      for (int32_t i = 0; i < (1 << B); ++i) m.push_back(i);
      break;
    case AntType::kFlint:
      // flint_value: exponent e = -(B-1) .. B-2 with B+e-1 mantissa bits below 0, B-2 at 0 and
      // B-e-2 above; the value 2^e (1 + j 2^-m) times 2^(B-1) is (2^m + j) << (e + B - 1 - m).
      m.push_back(0);
      for (int e = -(B - 1); e <= B - 2; ++e) {
        const int mbits = e < 0 ? B + e - 1 : e == 0 ? B - 2 : B - e - 2;
        if (mbits < 0) continue;
        for (int j = 0; j < (1 << mbits); ++j)
          m.push_back(((1 << mbits) + j) << (e + B - 1 - mbits));
      }
      m.push_back(1 << (2 * B - 2));  // the top value 2^(B-1), times 2^(B-1)
      break;
    case AntType::kPot:
      m.push_back(0);
      for (int i = 0; i <= (1 << B) - 2; ++i) m.push_back(1 << i);
      break;
  }
  std::sort(m.begin(), m.end());
  return m;
}

namespace {

constexpr int kTypeCount = 3;

// One sign side of a grid: sorted integer magnitudes and the nearest-level table indexed by
// floor(2 |v|) (every decision threshold (g_j + g_j+1) / 2 is a multiple of 1/2, so it only
// ever falls on the left end of a table interval, which belongs to the upper level: ties away).
struct Side {
  std::vector<int32_t> g;          // magnitudes, ascending
  std::vector<uint16_t> level;     // floor(2|v|) -> index into g, size 2 * g.back() + 1
  std::vector<uint8_t> threshold;  // 1 where k / 2 is a decision threshold (for ties=up)
  std::vector<uint32_t> code;      // level -> element code (make_grid fills it)
  float limit = 0;                 // 2 * top(): the table's last index, as a float
  int32_t top() const { return g.back(); }
  void build() {
    const int32_t n2 = 2 * top();
    limit = static_cast<float>(n2);
    level.assign(static_cast<size_t>(n2) + 1, 0);
    threshold.assign(static_cast<size_t>(n2) + 1, 0);
    size_t j = 0;
    for (int32_t k = 0; k <= n2; ++k) {
      while (j + 1 < g.size() && g[j] + g[j + 1] <= k) ++j;  // (g_j + g_j+1) / 2 <= k / 2
      level[static_cast<size_t>(k)] = static_cast<uint16_t>(j);
      if (j > 0 && g[j - 1] + g[j] == k) threshold[static_cast<size_t>(k)] = 1;
    }
  }
};

// A type's grid for one signedness: the positive and negative sides and the code mapping.
struct Grid {
  AntType type = AntType::kInt;
  bool is_signed = true;
  int bits = 4;
  Side pos, neg;
  // floor(2|v|) -> element code, the positive side's table followed by the negative side's
  // (from nbase): the encoder's inner loop without a branch on the sign.
  std::vector<uint32_t> code_lut;
  uint32_t nbase = 0;
  int32_t gmax() const { return pos.top(); }  // alpha maps to this
};

Grid make_grid(AntType type, bool is_signed, int bits) {
  Grid gr;
  gr.type = type;
  gr.is_signed = is_signed;
  gr.bits = bits;
  const int B = is_signed ? bits - 1 : bits;
  gr.pos.g = ant_magnitudes(type, B);
  if (!is_signed) {
    gr.neg.g = {0};  // negatives clamp to 0 on an unsigned grid
  } else if (type == AntType::kInt) {
    gr.neg.g = gr.pos.g;
    gr.neg.g.push_back(1 << B);  // two's complement reaches -2^B
  } else {
    gr.neg.g = gr.pos.g;
  }
  gr.pos.build();
  gr.neg.build();
  const uint32_t mask = (1u << bits) - 1u;
  for (int side = 0; side < 2; ++side) {
    Side& sd = side ? gr.neg : gr.pos;
    for (size_t l = 0; l < sd.g.size(); ++l) {
      const int32_t g = side ? -sd.g[l] : sd.g[l];
      if (type == AntType::kInt) {
        sd.code.push_back(static_cast<uint32_t>(g) & mask);
      } else {
        sd.code.push_back(static_cast<uint32_t>(l) | (side && g != 0 ? 1u << (bits - 1) : 0u));
      }
    }
  }
  for (uint16_t l : gr.pos.level) gr.code_lut.push_back(gr.pos.code[l]);
  gr.nbase = static_cast<uint32_t>(gr.code_lut.size());
  for (uint16_t l : gr.neg.level) gr.code_lut.push_back(gr.neg.code[l]);
  return gr;
}

const Grid& grid_of(AntType type, bool is_signed, int bits) {
  static const auto all = [] {
    std::vector<Grid> v;
    for (int bits : {4, 8}) {
      for (int t = 0; t < kTypeCount; ++t) {
        for (bool sg : {false, true}) {
          if (t == static_cast<int>(AntType::kPot) && bits != 4) {
            v.emplace_back();  // placeholder, never used
            continue;
          }
          v.push_back(make_grid(static_cast<AntType>(t), sg, bits));
        }
      }
    }
    return v;
  }();
  const size_t i = (bits == 4 ? 0u : 6u) + static_cast<size_t>(type) * 2u + (is_signed ? 1u : 0u);
  return all[i];
}

// Level index of v on its side (v = x / s).
inline uint32_t level_of(const Side& sd, float a, bool negative, bool ties_up) {
  const float t = std::min(2.0f * a, sd.limit);
  const int32_t k = static_cast<int32_t>(t);
  uint32_t l = sd.level[static_cast<size_t>(k)];
  if (ties_up && negative && static_cast<float>(k) == t && sd.threshold[static_cast<size_t>(k)])
    --l;  // the authors' kernel: a tie goes toward +inf, i.e. the smaller magnitude
  return l;
}

// The signed grid integer x rounds to under scale s.
inline int32_t quantize_int(const Grid& gr, float x, float s, bool ties_up) {
  const float v = x / s;
  const bool negative = std::signbit(v) && v != 0.0f;
  const Side& sd = negative ? gr.neg : gr.pos;
  const int32_t g = sd.g[level_of(sd, std::fabs(v), negative, ties_up)];
  return negative ? -g : g;
}

// The element code of v = x / s (the level's code on its sign side).
inline uint32_t encode_scaled(const Grid& gr, float v, bool ties_up) {
  const bool negative = std::signbit(v) && v != 0.0f;
  const Side& sd = negative ? gr.neg : gr.pos;
  return sd.code[level_of(sd, std::fabs(v), negative, ties_up)];
}

inline int32_t value_of(const Grid& gr, uint32_t code) {
  if (gr.type == AntType::kInt) {
    if (!gr.is_signed) return static_cast<int32_t>(code);
    const uint32_t sign = 1u << (gr.bits - 1);
    return (code & sign) ? static_cast<int32_t>(code) - (1 << gr.bits) : static_cast<int32_t>(code);
  }
  if (!gr.is_signed) return gr.pos.g[code];
  const uint32_t sign = 1u << (gr.bits - 1);
  const int32_t a = gr.pos.g[code & (sign - 1u)];
  return (code & sign) ? -a : a;
}

double exact_sse(const Grid& gr, const float* x, int64_t n, float s, bool ties_up) {
  double sse = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float q = static_cast<float>(quantize_int(gr, x[i], s, ties_up)) * s;
    const double e = static_cast<double>(x[i]) - static_cast<double>(q);
    sse += e * e;
  }
  return sse;
}

// One point of the search: a grid and a scale.
struct Cand {
  const Grid* grid;
  float s;
};

// One pass over finite x: max |x|, and whether some x < 0 (-0 is not). The bit patterns of
// non-negative floats order like the floats, so integer max reductions (which the compiler
// vectorizes) find both: a sign bit with a nonzero magnitude is a pattern above 0x80000000.
struct Scan {
  float amax;
  bool negative;
};
Scan scan(const float* x, int64_t n) {
  uint32_t mabs = 0, m = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    mabs = std::max(mabs, u & 0x7fffffffu);
    m = std::max(m, u);
  }
  float f;
  std::memcpy(&f, &mabs, 4);
  return {f, m > 0x80000000u};
}

// Histogram of |x| per sign over [0, amax]: count, sum, sum of squares of the non-empty bins.
struct Hist {
  double w = 0;
  double max_cnt = 0;  // the largest bin count
  struct Bin {
    int32_t index;
    double cnt, sx, sxx;
  };
  std::vector<Bin> bins[2];
  void build(const float* x, int64_t n, float amax, int nb) {
    w = static_cast<double>(amax) / nb;
    const double inv_w = nb / static_cast<double>(amax);
    std::vector<double> acc[2];
    for (int sd = 0; sd < 2; ++sd) acc[sd].assign(3 * static_cast<size_t>(nb), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      const double a = std::fabs(static_cast<double>(x[i]));
      double* h = acc[x[i] < 0 ? 1 : 0].data();
      const size_t b =
          static_cast<size_t>(std::min<int64_t>(nb - 1, static_cast<int64_t>(a * inv_w)));
      h[3 * b] += 1;
      h[3 * b + 1] += a;
      h[3 * b + 2] += a * a;
    }
    max_cnt = 0;
    for (int sd = 0; sd < 2; ++sd) {
      bins[sd].clear();
      for (int b = 0; b < nb; ++b) {
        const double* h = acc[sd].data() + 3 * static_cast<size_t>(b);
        if (h[0] > 0) bins[sd].push_back({b, h[0], h[1], h[2]});
        max_cnt = std::max(max_cnt, h[0]);
      }
    }
  }
};

constexpr double kU = 0x1p-53;  // unit roundoff of double
// gamma_m = m u / (1 - m u) (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.,
// Lemma 3.1): |prod (1 + d_i)^(+-1) - 1| <= gamma_m for m roundings |d_i| <= u.
double gamma_of(double m) {
  return m * kU / (1 - m * kU);
}

// Estimated squared error of one side under scale s, and a bound on its distance from the exact
// sum, both accumulated; `mag` accumulates the magnitudes sxx + 2 q sx + q^2 cnt of the bins'
// terms and `far2` the bins' cnt * (largest |x - fl32(q)|)^2 (for best_of's rounding terms).
// Every term of the bound is an upper bound (see best_of for the whole derivation):
// - the bin's level is the one of its centre; a level boundary within the bin (with relative
//   margins 1e-6 for the fl32 division x / s and the double product that picked the bin, so a
//   tie on a boundary counts too) lets an element of the bin belong to the neighbouring level,
//   which changes its squared error by dq |2 (x - t)| <= 2 w' dq (one boundary, w' the bin
//   widened by the margins) or, with more, by at most far^2 (the true level is then nearer);
// - the exact error uses q rounded to FP32 (relative 2^-24): each element's squared error
//   moves by at most 2 |x - q| q 2^-24 + (q 2^-24)^2;
// - the bin sums sx, sxx were accumulated in double, cnt terms each: |d sx| <= gamma_cnt cnt hi,
//   |d sxx| <= gamma_(cnt+1) cnt hi^2, which move the term by 2 q |d sx| + |d sxx|;
// - the term sxx - 2 q sx + q^2 cnt itself: 4 roundings, |d| <= gamma_4 (its magnitude).
void estimate_side(const Hist& h, int sdi, const Side& sd, double s, double& est, double& bound,
                   double& mag, double& far2) {
  size_t j = 0;
  const size_t L = sd.g.size();
  const double gs = gamma_of(h.max_cnt + 1), g4 = gamma_of(4);
  auto thr = [&](size_t k) { return 0.5 * (sd.g[k] + sd.g[k + 1]) * s; };
  for (const Hist::Bin& bin : h.bins[sdi]) {
    const double c = bin.cnt;
    const double lo = bin.index * h.w, hi = lo + h.w, mid = lo + 0.5 * h.w;
    while (j + 1 < L && mid >= thr(j)) ++j;
    const double q = sd.g[j] * s;
    est += bin.sxx - 2 * q * bin.sx + q * q * c;
    const double m = bin.sxx + 2 * q * bin.sx + q * q * c;
    mag += m;
    // The bin's elements lie in [mlo, mhi] (its edges with the margins).
    const double mlo = lo * (1 - 1e-6), mhi = hi * (1 + 1e-6);
    const double far = std::max(std::fabs(mhi - q), std::fabs(mlo - q));
    const double far32 = far + q * 0x1p-24;  // against fl32(q)
    // (The element's actual level may be the neighbour across a boundary within the margins:
    // its error is then at most far32 + 1e-6 mhi; far2 only scales a gamma_n term.)
    far2 += c * (far32 + 1e-6 * mhi) * (far32 + 1e-6 * mhi);
    bound += c * (2 * far * q * 0x1p-24 + q * q * 0x1p-48);
    bound += gs * c * (2 * q * mhi + mhi * mhi) + g4 * m;
    int inside = 0;
    double dq = 0;
    if (j + 1 < L && thr(j) <= mhi) ++inside, dq = (sd.g[j + 1] - sd.g[j]) * s;
    if (j + 2 < L && thr(j + 1) <= mhi) ++inside;
    if (j > 0 && thr(j - 1) >= mlo) ++inside, dq = (sd.g[j] - sd.g[j - 1]) * s;
    if (j > 1 && thr(j - 2) >= mlo) ++inside;
    if (inside > 0) {
      bound += c * (inside == 1 ? std::min(2 * (mhi - mlo) * dq, far32 * far32) : far32 * far32);
    }
  }
}

// The exhaustive rule: the first candidate with the lowest exact squared error, among those
// `keep` marks (all if null); `sse` receives that error.
size_t first_lowest(const float* x, int64_t n, const std::vector<Cand>& cands, bool ties_up,
                    const std::vector<char>* keep, double* sse) {
  size_t best = 0;
  double b = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < cands.size(); ++i) {
    if (keep && !(*keep)[i]) continue;
    const double e = exact_sse(*cands[i].grid, x, n, cands[i].s, ties_up);
    if (e < b) b = e, best = i;
  }
  if (sse) *sse = b;
  return best;
}

// The fast search: the first candidate with the lowest exact squared error S~ (the double sum
// exact_sse computes), as first_lowest over all candidates finds it. A histogram of |x| per
// sign (count, sum, sum of squares per bin) prices every candidate: est = sum over bins of
// sxx - 2 q sx + q^2 cnt with q the level of the bin's centre. |est - S~| <= bound, where the
// bound adds rigorous upper bounds (no tuned constants; Higham's gamma_m for the double
// roundings, as OliVe's search in olive_formats.cpp does) for:
//   the bins that straddle a level boundary, fl32(q) against q, the rounding of the bin sums
//   and of each bin's expression (estimate_side), the rounding of the sum over bins, the
//   rounding of S~ itself (relative gamma_(n+2), S bounded by the bins' largest errors), and
//   the rounding of the bound and of est +- bound (a relative 2^-40 and 8 u |est| on top).
// Every candidate's S~ then lies in [est - bound, est + bound]. The winner's S~ is at most
// best_hi = min (est + bound), so every candidate whose S~ could equal the lowest has
// est - bound <= best_hi: those are priced exactly, in candidate order, and the first lowest
// wins, which is the exhaustive rule. With one such candidate it is the exhaustive choice.
size_t best_of(const float* x, int64_t n, float amax, const std::vector<Cand>& cands, bool ties_up,
               double* sse) {
  const size_t nc = cands.size();
  if (n < 2048 || amax == 0.0f) return first_lowest(x, n, cands, ties_up, nullptr, sse);
  // Bins: one per 4 elements up to 2^16, so a bin that holds a decision threshold holds few
  // elements (outliers stretch [0, amax] far beyond the bulk; only non-empty bins cost time).
  const int nb = static_cast<int>(std::clamp<int64_t>(n / 4, 64, int64_t{1} << 16));
  Hist h;
  h.build(x, n, amax, nb);
  std::vector<double> est(nc, 0.0), bound(nc, 0.0);
  const double nbins = static_cast<double>(h.bins[0].size() + h.bins[1].size());
  for (size_t i = 0; i < nc; ++i) {
    const Grid& gr = *cands[i].grid;
    const double s = cands[i].s;
    double mag = 0, far2 = 0;
    estimate_side(h, 0, gr.pos, s, est[i], bound[i], mag, far2);
    estimate_side(h, 1, gr.neg, s, est[i], bound[i], mag, far2);
    // est summed nbins terms of magnitude <= (1 + gamma_4) mag: |d| <= gamma_nbins of that.
    // The exhaustive sum S~ (exact_sse) rounds each element's difference and square (relative
    // gamma_3 together) and sums n terms (gamma_(n-1)): |S~ - S| <= gamma_(n+2) S, and
    // S <= far2 (every element's error is at most its bin's far, against fl32(q)).
    bound[i] += gamma_of(nbins) * (1 + gamma_of(4)) * mag + gamma_of(n + 2.0) * far2;
    // The bound itself and est +- bound are computed in double (a few roundings each):
    // widened by 2^-40 relative and by 8 u |est|.
    bound[i] = bound[i] * (1 + 0x1p-40) + 8 * kU * std::fabs(est[i]) + 1e-300;
  }
  double best_hi = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < nc; ++i) best_hi = std::min(best_hi, est[i] + bound[i]);
  // Only candidates whose range reaches the best upper bound can be the lowest.
  std::vector<char> contender(nc, 0);
  size_t contenders = 0, only = 0;
  for (size_t i = 0; i < nc; ++i)
    if (est[i] - bound[i] <= best_hi) contender[i] = 1, ++contenders, only = i;
  if (contenders == 1 && !sse) return only;  // no other candidate can be as low
  return first_lowest(x, n, cands, ties_up, &contender, sse);
}

// The candidate scales for a tensor (or row) with max |x| = amax under grid gr.
void add_candidates(std::vector<Cand>& out, const Grid& gr, float amax, int lo, int hi) {
  for (int i = lo; i < hi; ++i) {
    const float alpha = static_cast<float>(static_cast<double>(amax) * (i / 100.0));
    const float s = alpha / static_cast<float>(gr.gmax());
    if (!(s > 0.0f) || !std::isfinite(s)) continue;
    out.push_back({&gr, s});
  }
  if (out.empty() || out.back().grid != &gr) out.push_back({&gr, 1.0f});  // all-zero input
}

class AntFormat final : public Format {
 public:
  AntFormat(int bits, std::vector<AntType> types, std::string sign, bool per_row, int lo, int hi,
            bool ties_up, bool fixed, float scale)
      : bits_(bits),
        types_(std::move(types)),
        sign_(std::move(sign)),
        per_row_(per_row),
        lo_(lo),
        hi_(hi),
        ties_up_(ties_up),
        fixed_(fixed),
        scale_(scale) {}

  std::string name() const override {
    FormatSpec s{"ant", {}};
    s.options["bits"] = std::to_string(bits_);
    s.options["hi"] = std::to_string(hi_);
    s.options["lo"] = std::to_string(lo_);
    s.options["per"] = per_row_ ? "row" : "tensor";
    s.options["sign"] = sign_;
    s.options["ties"] = ties_up_ ? "up" : "away";
    std::string t;
    for (AntType a : types_) t += (t.empty() ? "" : "+") + std::string(ant_type_name(a));
    s.options["types"] = t;
    if (fixed_) {
      s.options["scale"] = format_g(scale_);
    }
    return s.str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "ant";
    t.element = "ant";
    t.element_bits = bits_;
    t.decoder = "ant";
    // The type is chosen over the whole tensor even with per-row scales.
    t.encode_scope = fixed_ ? EncodeScope::kSegment : EncodeScope::kTensor;
    return t;
  }

  // Fixes the type, the signedness and the scale from a sample (per-tensor only).
  std::unique_ptr<Format> calibrated(const float* x, int64_t rows, int64_t cols) const override {
    if (per_row_ || fixed_ || rows <= 0 || cols <= 0) return nullptr;
    const Choice c = choose(x, rows * cols);
    FormatSpec spec = FormatSpec::parse(name());
    spec.options["types"] = ant_type_name(c.grid->type);
    spec.options["sign"] = c.grid->is_signed ? "signed" : "unsigned";
    spec.options["scale"] = format_g(c.s);
    return make_format(spec.str());
  }

  AntChoice search(const float* x, int64_t n) const {
    const Choice c = choose(x, n);
    return {c.grid->type, c.grid->is_signed, c.s};
  }
  AntChoice search_exhaustive(const float* x, int64_t n) const {
    const Scan sc = scan(x, n);
    std::vector<Cand> cands = candidates(sc.amax, signed_for(sc.negative));
    const size_t best = first_lowest(x, n, cands, ties_up_, nullptr, nullptr);
    return {cands[best].grid->type, cands[best].grid->is_signed, cands[best].s};
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name());
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    const Grid* gr;
    if (!per_row_) {
      const Choice c = choose(x, n);
      gr = c.grid;
      e.fp32 = {c.s};
    } else {
      gr = choose_rows(x, rows, cols, e.fp32);
    }
    e.scales = {static_cast<uint8_t>(static_cast<int>(gr->type) | (gr->is_signed ? 4 : 0))};
    // Row by row: the codes of a row in a row buffer, packed straight into e.elements.
    const int64_t rb = packed_row_bytes(cols, bits_);
    e.elements.resize(static_cast<size_t>(rows * rb));
    std::vector<uint32_t> codes(static_cast<size_t>(cols));
    std::vector<float> v(static_cast<size_t>(cols));
    uint32_t* cr = codes.data();
    for (int64_t r = 0; r < rows; ++r) {
      const float s = e.fp32[per_row_ ? static_cast<size_t>(r) : 0];
      const float* xr = x + r * cols;
      for (int64_t c = 0; c < cols; ++c) v[static_cast<size_t>(c)] = xr[c] / s;  // vectorizes
      if (ties_up_) {
        for (int64_t c = 0; c < cols; ++c)
          cr[c] = encode_scaled(*gr, v[static_cast<size_t>(c)], true);
      } else {
        // encode_scaled with ties away, branch-free on the sign (tested equal by the
        // invariants).
        // The side is picked by indexing (lim, base), not by a branch: signs are random, and
        // a mispredicted branch per element cost as much as the rest of the loop.
        const uint32_t* lut = gr->code_lut.data();
        const float lim[2] = {gr->pos.limit, gr->neg.limit};
        const uint32_t base[2] = {0u, gr->nbase};
        for (int64_t c = 0; c < cols; ++c) {
          const float vc = v[static_cast<size_t>(c)];
          const uint32_t neg = static_cast<uint32_t>(vc < 0.0f);
          const float t = std::min(2.0f * std::fabs(vc), lim[neg]);
          cr[c] = lut[static_cast<uint32_t>(t) + base[neg]];
        }
      }
      detail::pack_row(cr, cols, bits_, e.elements.data() + r * rb);
    }
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    const Grid* gr = checked_grid(e);
    const int64_t rb = packed_row_bytes(e.cols, bits_);
    std::vector<float> table(size_t{1} << bits_);  // code -> value under this row's scale
    std::vector<uint32_t> cr(static_cast<size_t>(e.cols));
    for (int64_t r = 0; r < e.rows; ++r) {
      const float s = e.fp32[per_row_ ? static_cast<size_t>(r) : 0];
      if (r == 0 || per_row_)
        for (uint32_t c = 0; c < table.size(); ++c)
          table[c] = static_cast<float>(value_of(*gr, c)) * s;
      detail::unpack_row(e.elements.data() + r * rb, e.cols, bits_, cr.data());
      float* o = out + r * e.cols;
      for (int64_t c = 0; c < e.cols; ++c) o[c] = table[cr[static_cast<size_t>(c)]];
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    const Grid* gr = checked_grid(e);
    const auto codes = unpack_codes(e.elements, e.rows, e.cols, bits_);
    DecodedTensor d;
    d.resize(e.rows, e.cols, per_row_ ? 1 : std::max<int64_t>(1, e.rows),
             std::max<int64_t>(1, e.cols));
    for (size_t g = 0; g < d.scale_mul.size(); ++g) d.scale_mul[g] = e.fp32[per_row_ ? g : 0];
    for (size_t i = 0; i < codes.size(); ++i) {
      const ExpIntPair p = ant_decode_pair(gr->type, gr->is_signed, bits_, codes[i]);
      d.mant[i] = p.mant;
      d.shift[i] = static_cast<uint8_t>(p.shift);
    }
    return d;
  }

 private:
  struct Choice {
    const Grid* grid;
    float s;
  };

  // The grid's signedness for a tensor with (`negative`) or without a negative element.
  bool signed_for(bool negative) const {
    if (sign_ == "signed") return true;
    if (sign_ == "unsigned") return false;
    return negative;
  }

  std::vector<Cand> candidates(float amax, bool sg) const {
    std::vector<Cand> c;
    for (AntType t : types_) {
      const Grid& gr = grid_of(t, sg, bits_);
      if (fixed_) {
        c.push_back({&gr, scale_});
      } else {
        add_candidates(c, gr, amax, lo_, hi_);
      }
    }
    return c;
  }

  Choice choose(const float* x, int64_t n) const {
    const Scan sc = scan(x, n);
    const std::vector<Cand> c = candidates(sc.amax, signed_for(sc.negative));
    const size_t i = best_of(x, n, sc.amax, c, ties_up_, nullptr);
    return {c[i].grid, c[i].s};
  }

  // per=row: per type, the best scale of every row; the type with the lowest summed error.
  const Grid* choose_rows(const float* x, int64_t rows, int64_t cols,
                          std::vector<float>& scales) const {
    // One scan per row (its max |x|, and the tensor's sign), shared by every type.
    std::vector<float> amax(static_cast<size_t>(rows));
    bool negative = false;
    for (int64_t r = 0; r < rows; ++r) {
      const Scan sc = scan(x + r * cols, cols);
      amax[static_cast<size_t>(r)] = sc.amax;
      negative = negative || sc.negative;
    }
    const bool sg = signed_for(negative);
    const Grid* best_grid = &grid_of(types_.front(), sg, bits_);
    double best = std::numeric_limits<double>::infinity();
    std::vector<float> s(static_cast<size_t>(rows), 1.0f);
    scales.assign(static_cast<size_t>(rows), 1.0f);
    for (AntType t : types_) {
      const Grid& gr = grid_of(t, sg, bits_);
      double total = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        const float amax_r = amax[static_cast<size_t>(r)];
        std::vector<Cand> c;
        if (fixed_) {
          c.push_back({&gr, scale_});
        } else {
          add_candidates(c, gr, amax_r, lo_, hi_);
        }
        double e = 0;
        const size_t i = best_of(xr, cols, amax_r, c, ties_up_, &e);
        s[static_cast<size_t>(r)] = c[i].s;
        total += e;
      }
      if (total < best) {
        best = total;
        best_grid = &gr;
        scales = s;
      }
    }
    return best_grid;
  }

  // Checks e's buffers (scales, type byte, element bytes) and returns its grid.
  const Grid* checked_grid(const EncodedTensor& e) const {
    check_encoded(e);
    const size_t want = per_row_ ? static_cast<size_t>(e.rows) : 1u;
    if (e.fp32.size() != want) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(want) + " scales, got " +
                  std::to_string(e.fp32.size()));
    }
    if (e.scales.size() != 1) {
      throw Error("encoded '" + name() + "': expected one type byte, got " +
                  std::to_string(e.scales.size()));
    }
    const int t = e.scales[0] & 3;
    const bool sg = (e.scales[0] & 4) != 0;
    if (t >= kTypeCount || (e.scales[0] & ~7) != 0 ||
        (t == static_cast<int>(AntType::kPot) && bits_ != 4)) {
      throw Error("encoded '" + name() + "': type byte " + std::to_string(e.scales[0]) +
                  " names no ANT type at " + std::to_string(bits_) + " bits");
    }
    detail::check_packed_size(e.elements, e.rows, e.cols, bits_);
    return &grid_of(static_cast<AntType>(t), sg, bits_);
  }

  int bits_;
  std::vector<AntType> types_;
  std::string sign_;
  bool per_row_;
  int lo_, hi_;
  bool ties_up_;
  bool fixed_;
  float scale_;
};

// ant takes bits=; the aliases ant4 / ant8 fix it (alias_bits 4 or 8).
std::unique_ptr<AntFormat> make_ant(int alias_bits, FormatOptions& o) {
  const int bits = detail::width_option(o, alias_bits, "ant", 4, 4, 8);
  if (bits != 4 && bits != 8) {
    throw Error("format '" + o.spec().name + "': option 'bits' must be 4 or 8, got " +
                std::to_string(bits));
  }
  const std::string def_types = bits == 4 ? "int+flint+pot" : "int+flint";
  std::string text = def_types;
  if (o.spec().options.count("types"))
    text = o.get_choice("types", def_types, {o.spec().options.at("types")});
  std::vector<AntType> types;
  size_t p = 0;
  while (p <= text.size()) {
    const size_t q = std::min(text.find('+', p), text.size());
    const std::string t = text.substr(p, q - p);
    AntType a;
    if (t == "int") {
      a = AntType::kInt;
    } else if (t == "flint") {
      a = AntType::kFlint;
    } else if (t == "pot") {
      a = AntType::kPot;
    } else {
      throw Error("format '" + o.spec().name + "': option 'types': unknown type '" + t +
                  "' (known: int, flint, pot, joined with '+')");
    }
    if (a == AntType::kPot && bits != 4) {
      throw Error("format '" + o.spec().name +
                  "': option 'types': pot needs bits=4 (an 8-bit power-of-two grid reaches 2^126)");
    }
    if (std::find(types.begin(), types.end(), a) != types.end()) {
      throw Error("format '" + o.spec().name + "': option 'types' names '" + t + "' twice");
    }
    types.push_back(a);
    p = q + 1;
  }
  const std::string sign = o.get_choice("sign", "auto", {"auto", "signed", "unsigned"});
  const bool per_row = o.get_choice("per", "tensor", {"tensor", "row"}) == "row";
  const int lo = static_cast<int>(o.get_int("lo", bits > 6 ? 95 : 75, 1, 1000));
  const int hi = static_cast<int>(o.get_int("hi", 150, 2, 1001));
  if (hi <= lo) {
    throw Error("format '" + o.spec().name + "': option 'hi' (" + std::to_string(hi) +
                ") must exceed 'lo' (" + std::to_string(lo) + ")");
  }
  const bool ties_up = o.get_choice("ties", "away", {"away", "up"}) == "up";
  bool fixed = false;
  float scale = 1.0f;
  if (o.spec().options.count("scale")) {
    scale = static_cast<float>(
        o.get_double("scale", 1.0, static_cast<double>(FLT_MIN), static_cast<double>(FLT_MAX)));
    fixed = true;
  }
  o.finish();
  return std::make_unique<AntFormat>(bits, types, sign, per_row, lo, hi, ties_up, fixed, scale);
}

const AntFormat& as_ant(const Format& f) {
  const auto* a = dynamic_cast<const AntFormat*>(&f);
  if (!a) throw Error("'" + f.name() + "' is not an ANT format");
  return *a;
}

}  // namespace

ExpIntPair ant_decode_pair(AntType type, bool is_signed, int bits, uint32_t code) {
  const Grid& gr = grid_of(type, is_signed, bits);
  const int32_t g = value_of(gr, code & ((1u << bits) - 1u));
  if (type == AntType::kInt || g == 0) return {g, 0};
  int32_t sh = 0;
  while (((g >> sh) & 1) == 0) ++sh;
  return {g / (1 << sh), sh};
}

AntChoice ant_search(const Format& f, const float* x, int64_t n) {
  return as_ant(f).search(x, n);
}

AntChoice ant_search_exhaustive(const Format& f, const float* x, int64_t n) {
  return as_ant(f).search_exhaustive(x, n);
}

namespace detail {
void register_ant_formats(Registry& r) {
  const std::string opts =
      "bits=4|8 types=int+flint+pot sign=auto|signed|unsigned per=tensor|row lo=75 hi=150 "
      "ties=away|up scale=<float>";
  r.push_back({{"ant", opts,
                "ANT adaptive types: int, flint or power-of-two grid chosen per tensor by MSE "
                "(Guo et al., MICRO 2022; authors' code clevercool/ANT-Quantization)"},
               [](FormatOptions& o) -> std::unique_ptr<Format> { return make_ant(0, o); }});
  const std::string alias_opts = opts.substr(opts.find(' ') + 1);
  r.push_back({{"ant4", alias_opts, "ANT at 4 bits (alias of ant:bits=4)"},
               [](FormatOptions& o) -> std::unique_ptr<Format> { return make_ant(4, o); }});
  r.push_back({{"ant8", alias_opts, "ANT at 8 bits: int or flint (alias of ant:bits=8)"},
               [](FormatOptions& o) -> std::unique_ptr<Format> { return make_ant(8, o); }});
}
}  // namespace detail

}  // namespace qarch::quant
