// OliVe outlier-victim pair formats: olive4 (int4 + E2M1 abfloat) and olive8 (int8 + E4M3 or
// E2M5 abfloat). The codec itself is documented in qarch/quant/olive.h.
//
// Options:
//   per=tensor|row        one scale for the tensor (activations, default) or one per row
//                         (per output channel: weights)
//   victim=larger|even    which outlier survives in an outlier-outlier pair (paper | authors' code)
//   scale=<float>         fixed scale s (no search); otherwise the OliVe MSE search
//                         (olive_search_scale) runs per tensor or per row
//   outlier=e4m3|e2m5     (olive8 only) abfloat type of the outliers (paper | authors' code)
//   ties=away|up          ties away from zero (default, symmetric), or as the authors' kernel
//                         (quant_forward_cuda_kernel keeps the last of equally near points of
//                         the list "sorted normals, then sorted outliers"): toward +inf within
//                         the normal and within the outlier grid, to the outlier at the
//                         normal/outlier boundary. Same code space: the ovp4/ovp8 decoders.
//   sign=signed|unsigned|auto
//                         signed grid (default), the unsigned grid, or the authors' rule
//                         (update_signed: unsigned iff no element < 0). Default signed: it keeps
//                         every existing result, and the unsigned grid is another code space
//                         (below) that no decoder of models/ or rtl/ reads.
//   types=int|flint|int+flint
//                         (olive4 only; needs sign=signed) the normal type: int (default), ANT's
//                         flint, or both with the lower squared error kept per tensor (the
//                         authors' search_adaptive_numeric_type; int on equal error; with
//                         per=row the summed per-row errors decide). The authors' code uses int
//                         above 6 bits, hence olive4 only. scale= needs a single type.
//   Non-default sign or types store one grid byte in `scales` (bit 0 flint, bit 2 unsigned) and
//   state the decoder kind "ovp4-<types>-<sign>" (e.g. "ovp4-unsigned", "ovp4-flint"), which
//   models/ refuses by name: their codes do not decode on the OVP decoder (flint normals are
//   sign-magnitude indices, unsigned normals run to 14 and the identifier is 1111b). Their scale
//   search prices every candidate with a full pass (the fast search covers the plain grids),
//   except that a signed int candidate grid uses the fast search.
//   name() lists sign, ties and types only when they differ from their defaults, so the names of
//   the formats that existed before them are unchanged.
//
// Layout: elements = per row ceil(cols/2) pair units, rows byte-aligned; a unit is one byte
// (olive4: element 2k in the low nibble) or two bytes (olive8: element 2k first). With odd cols
// the last element pairs with an implicit zero whose slot is stored (0, or the identifier if
// the last element is an outlier); so olive8 rows occupy 2 * ceil(cols/2) bytes, one more than
// pack_codes would give for odd cols. fp32 = the scales (1 for per=tensor, rows for per=row).
// Quantization: v = |x| / s in FP32 (one correctly rounded division), rounded on the combined
// grid (ovp_round); decode: float(mant << shift) * s. NaN/Inf inputs raise qarch::Error.
#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/quant/ant.h"
#include "qarch/quant/olive.h"
#include "registry.h"

namespace qarch::quant {

const OvpType kOvp4{"olive4", 4, 2, 1};
const OvpType kOvp8E4M3{"olive8-e4m3", 8, 4, 3};
const OvpType kOvp8E2M5{"olive8-e2m5", 8, 2, 5};

namespace {

// The rounding grid of one OvpType in units of s: v < normal_limit rounds to an integer,
// [normal_limit, outlier_start) to N, above that to the nearest outlier magnitude.
struct OvpGrid {
  const OvpType& t;
  float normal_limit;          // N + 0.5
  float outlier_start;         // (N + outlier_min) / 2
  std::vector<float> mids;     // mids[k]: between outlier magnitude codes k+1 and k+2
  std::vector<int32_t> value;  // value[c]: magnitude of abfloat magnitude code c (c >= 1)

  explicit OvpGrid(const OvpType& type) : t(type) {
    const int32_t n = t.normal_max();
    normal_limit = static_cast<float>(n) + 0.5f;
    // All midpoints are exact in FP32: the grid points are integers below 2^23 and neighbours
    // >= 2^22 are multiples of 2^19, so their half-sums are integers.
    outlier_start = static_cast<float>(n + t.outlier_min()) * 0.5f;
    value.assign(t.identifier(), 0);
    for (uint32_t c = 1; c < t.identifier(); ++c) value[c] = t.abfloat_magnitude(c);
    for (uint32_t c = 1; c + 1 < t.identifier(); ++c) {
      mids.push_back((static_cast<float>(value[c]) + static_cast<float>(value[c + 1])) * 0.5f);
    }
  }

  // Rounds |v| (>= 0, not NaN). Returns the normal magnitude (>= 0), or -(abfloat magnitude
  // code) for an outlier. Ties go away from zero (a tie at a midpoint rounds up), or with
  // tie_down (ties=up on a negative value: toward +inf) to the smaller magnitude, except the tie
  // between the largest normal and the smallest outlier, which goes to the outlier either way
  // (the authors' kernel scans the normal grid first and the outlier grid second, keeping the
  // last of equally near points).
  int32_t round_mag(float v, bool tie_down = false) const {
    if (v < normal_limit) {
      const int32_t i = static_cast<int32_t>(v);  // v - i is exact (Sterbenz / v < 1)
      const float f = v - static_cast<float>(i);
      return i + (tie_down ? f > 0.5f : f >= 0.5f);
    }
    if (v < outlier_start) return t.normal_max();
    // Number of midpoints <= v (< v with tie_down), +1: the code of the nearest outlier.
    const auto it = tie_down ? std::lower_bound(mids.begin(), mids.end(), v)
                             : std::upper_bound(mids.begin(), mids.end(), v);
    return -static_cast<int32_t>(1 + (it - mids.begin()));
  }
};

const OvpGrid& grid_of(const OvpType& t) {
  static const OvpGrid g4(kOvp4), g8a(kOvp8E4M3), g8b(kOvp8E2M5);
  if (&t == &kOvp4) return g4;
  if (&t == &kOvp8E4M3) return g8a;
  if (&t == &kOvp8E2M5) return g8b;
  throw Error(std::string("OVP type '") + t.name + "' is not one of the built-in types");
}

// Encodes a pair from |v| magnitudes and signs; the core of every encode path.
inline void encode_pair_core(const OvpGrid& g, float v0, bool neg0, float v1, bool neg1,
                             OvpVictim victim, bool ties_up, uint32_t& c0, uint32_t& c1,
                             OvpPairClass& cls) {
  const OvpType& t = g.t;
  const int32_t r0 = g.round_mag(v0, ties_up && neg0), r1 = g.round_mag(v1, ties_up && neg1);
  const uint32_t mask = t.code_mask();
  if (r0 >= 0 && r1 >= 0) {
    c0 = static_cast<uint32_t>(neg0 ? -r0 : r0) & mask;
    c1 = static_cast<uint32_t>(neg1 ? -r1 : r1) & mask;
    cls = OvpPairClass::kNormalNormal;
    return;
  }
  bool keep_even;
  if (r0 < 0 && r1 < 0) {
    cls = OvpPairClass::kOutlierOutlier;
    keep_even = victim == OvpVictim::kEven || !(v1 > v0);
  } else {
    cls = OvpPairClass::kOutlierNormal;
    keep_even = r0 < 0;
  }
  const uint32_t sign = t.identifier();  // the abfloat sign bit is the top bit
  if (keep_even) {
    c0 = static_cast<uint32_t>(-r0) | (neg0 ? sign : 0u);
    c1 = t.identifier();
  } else {
    c0 = t.identifier();
    c1 = static_cast<uint32_t>(-r1) | (neg1 ? sign : 0u);
  }
}

inline ExpIntPair abfloat_pair(const OvpType& t, uint32_t code) {
  const uint32_t mag = code & (t.identifier() - 1u);
  const int32_t m = static_cast<int32_t>((1u << t.mbits) + (mag & ((1u << t.mbits) - 1u)));
  const int32_t e = static_cast<int32_t>(mag >> t.mbits) + t.bias();
  return {(code & t.identifier()) ? -m : m, e};
}

inline int32_t sign_extend(const OvpType& t, uint32_t code) {
  const int32_t v = static_cast<int32_t>(code & t.code_mask());
  return v >= static_cast<int32_t>(t.identifier()) ? v - (1 << t.bits) : v;
}

// Decoded values (mant << shift) of every 4-bit OVP byte: one table for decode().
struct Olive4Table {
  float value[256][2];
  Olive4Table() {
    for (int b = 0; b < 256; ++b) {
      const auto p = olive4_decode_byte(static_cast<uint8_t>(b));
      for (int k = 0; k < 2; ++k) value[b][k] = static_cast<float>(p[k].mant * (1 << p[k].shift));
    }
  }
};
const Olive4Table& olive4_table() {
  static const Olive4Table t;
  return t;
}

int64_t pair_units(int64_t cols) {
  return (cols + 1) / 2;
}

// Sum of squared errors of OVP quantization of the rows [r0, r1) of x with scale s (the MSE
// search objective); the arithmetic is exactly encode() followed by decode().
// The errors q - x of a pair quantized with scale s, given v = |x| / s as fl32 divisions: the
// arithmetic of ovp_sse, shared with the fast search so that both price a pair identically.
inline void pair_errors(const OvpGrid& g, OvpVictim victim, bool ties_up, float x0, float x1,
                        float v0, float v1, float s, double& e0, double& e1) {
  float q0, q1;
  const bool d0 = ties_up && std::signbit(x0), d1 = ties_up && std::signbit(x1);
  if (v0 < g.normal_limit && v1 < g.normal_limit) {  // two normals: the common case
    q0 = static_cast<float>(g.round_mag(v0, d0)) * s;
    q1 = static_cast<float>(g.round_mag(v1, d1)) * s;
  } else {
    uint32_t k0, k1;
    OvpPairClass cls;
    encode_pair_core(g, v0, d0, v1, d1, victim, ties_up, k0, k1, cls);
    const auto p = ovp_decode_pair(g.t, k0, k1);
    q0 = static_cast<float>(p[0].mant * (int64_t{1} << p[0].shift)) * s;
    q1 = static_cast<float>(p[1].mant * (int64_t{1} << p[1].shift)) * s;
  }
  // decode() multiplies the signed integer by s: the same as negating the product (a victim's
  // zero may come out as -0 here, which squares the same). Branch-free.
  q0 = std::copysign(q0, x0);
  q1 = std::copysign(q1, x1);
  e0 = static_cast<double>(q0) - static_cast<double>(x0);
  e1 = static_cast<double>(q1) - static_cast<double>(x1);
}

double ovp_sse(const OvpGrid& g, OvpVictim victim, bool ties_up, const float* x, int64_t rows,
               int64_t cols, float s) {
  // Chunks of an even length keep pairs whole; the divisions run as one vectorizable loop.
  constexpr int64_t kChunk = 512;
  float v[kChunk];
  double sse = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (int64_t c0 = 0; c0 < cols; c0 += kChunk) {
      const int64_t len = std::min(kChunk, cols - c0);
      const float* xc = xr + c0;
      if (len == kChunk) {  // constant trip count: GCC -O2 vectorizes it
        for (int64_t i = 0; i < kChunk; ++i) v[i] = std::fabs(xc[i]) / s;
      } else {
        for (int64_t i = 0; i < len; ++i) v[i] = std::fabs(xc[i]) / s;
      }
      for (int64_t i = 0; i < len; i += 2) {
        const bool has1 = i + 1 < len;
        const float x0 = xc[i], x1 = has1 ? xc[i + 1] : 0.0f;
        double e0, e1;
        pair_errors(g, victim, ties_up, x0, x1, v[i], has1 ? v[i + 1] : 0.0f, s, e0, e1);
        sse += e0 * e0;
        if (has1) sse += e1 * e1;
      }
    }
  }
  return sse;
}

// The candidate scales of the search, in the order the search tries them.
// top: the largest normal magnitude (alpha maps to it: s = alpha / top).
// The search's statistics: mu = (sum in element order) / n, then ss = sum of (x - mu)^2 in element
// order (two passes, as torch.std); the fast search computes ss in its histogram pass with the
// same expression (sq_dev) in the same order.
inline double sq_dev(float x, double mu) {
  const double d = x - mu;
  return d * d;
}
double mean_of(const float* x, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}
std::vector<float> candidates_from(int32_t top, double mu, double ss, int64_t n) {
  const double sigma = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;
  const double alpha0 = std::max(std::fabs(mu + 3 * sigma), std::fabs(mu - 3 * sigma));
  std::vector<float> c;
  for (int i = 75; i <= 249; i += 2) {
    const double alpha = alpha0 * i / 100.0;
    const float s = static_cast<float>(alpha / top);
    if (!(s > 0.0f) || !std::isfinite(s)) continue;
    c.push_back(s);
  }
  return c;
}
std::vector<float> search_candidates(int32_t top, const float* x, int64_t n) {
  const double mu = mean_of(x, n);
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += sq_dev(x[i], mu);
  return candidates_from(top, mu, ss, n);
}

// ---- Variants whose code space differs from the OVP decoders' (sign=unsigned|auto,
// types=flint|int+flint): a table-driven codec. Its grid is a list of magnitudes, the normals
// (level 0 .. nn-1) followed by the outliers (abfloat magnitude codes 1, 2, ...); a value goes to
// the nearest level (midpoints exact in FP32), ties as round_mag.
//   signed int     normals 0..2^(b-1)-1 as two's complement, identifier 2^(b-1); outliers
//                  sign-magnitude abfloat (the plain olive4/olive8 grid, so types=int+flint
//                  choosing int stores plain olive4 bytes);
//   signed flint   (4-bit) normals ANT's flint {0,1,2,3,4,6,8,16} as sign + index (the code
//                  "-0" = 1000b is the identifier); outliers E2M1 with bias 3, i.e. the authors'
//                  outlier grid 2^5 (1 + j/2), j > 0, in units where the top flint is 2^5:
//                  {24, 32, 48, 64, 96, 128, 192};
//   unsigned int   normals 0..2^b-2 as unsigned integers, identifier 2^b-1 (all ones); outliers
//                  unsigned abfloat with mbits = b - ebits (E2M2 at 4 bits, E4M4 / E2M6 at 8)
//                  and the first code (exp 0, mant 0) worth 2^b: olive4 {20, 24, ..., 224}, the
//                  authors' unsigned outlier grid. The outlier slot stores its magnitude code
//                  minus 1, so it never equals the identifier. The authors' unsigned grid keeps
//                  normals 0..2^b-1, which uses every code and leaves none for the identifier
//                  (their code fake-quantizes and never stores bits); qarch gives up the top
//                  normal instead. Negative inputs round to 0 (the grid has no negative value).
struct VarGrid {
  int bits = 4;
  bool is_signed = true, flint = false;
  int mbits = 1, bias = 2;
  uint32_t id = 8, sign_bit = 8, mask = 15;
  std::vector<int32_t> mag;  // normals then outliers, ascending
  size_t nn = 0;             // number of normal levels
  std::vector<float> mids;   // mids[j] between mag[j] and mag[j + 1]
  int32_t top() const { return mag[nn - 1]; }

  VarGrid(int b, bool sg, bool fl, int ebits) : bits(b), is_signed(sg), flint(fl) {
    mask = (1u << b) - 1u;
    int32_t first;  // the value of abfloat code 0 (exp 0, mant 0), never emitted
    if (sg) {
      id = sign_bit = 1u << (b - 1);
      mbits = b - 1 - ebits;
      if (fl) {
        mag = ant_magnitudes(AntType::kFlint, b - 1);
        first = mag.back();
      } else {
        for (int32_t i = 0; i < (1 << (b - 1)); ++i) mag.push_back(i);
        first = 1 << (b - 1);
      }
    } else {
      id = mask;
      sign_bit = 0;
      mbits = b - ebits;
      for (int32_t i = 0; i + 1 < (1 << b); ++i) mag.push_back(i);
      first = 1 << b;
    }
    int lg = 0;
    while ((1 << (lg + 1)) <= first) ++lg;
    bias = lg - mbits;
    nn = mag.size();
    const uint32_t ncodes = sg ? sign_bit : (1u << b);
    for (uint32_t c = 1; c < ncodes; ++c) mag.push_back(outlier_magnitude(c));
    for (size_t j = 0; j + 1 < mag.size(); ++j) {
      const double m = 0.5 * (static_cast<double>(mag[j]) + static_cast<double>(mag[j + 1]));
      if (static_cast<double>(static_cast<float>(m)) != m || !(mag[j] < mag[j + 1]))
        throw Error("OVP variant grid: a midpoint is not exact in FP32");
      mids.push_back(static_cast<float>(m));
    }
  }
  int32_t outlier_magnitude(uint32_t c) const {
    const uint32_t mm = (1u << mbits) - 1u;
    return static_cast<int32_t>(((1u << mbits) + (c & mm)) << ((c >> mbits) + bias));
  }
  // Level of v = |x| / s (>= 0, not NaN).
  size_t level(float v, bool tie_down) const {
    size_t j = static_cast<size_t>(std::upper_bound(mids.begin(), mids.end(), v) - mids.begin());
    if (tie_down && j > 0 && j != nn && mids[j - 1] == v) --j;  // not the normal/outlier tie
    return j;
  }
  uint32_t normal_code(size_t j, bool neg) const {
    if (!is_signed) return static_cast<uint32_t>(j);
    if (flint) return static_cast<uint32_t>(j) | (neg && j > 0 ? sign_bit : 0u);
    const int32_t g = neg ? -mag[j] : mag[j];
    return static_cast<uint32_t>(g) & mask;
  }
  uint32_t outlier_code(size_t j, bool neg) const {
    const uint32_t c = static_cast<uint32_t>(j - nn + 1);
    return is_signed ? c | (neg ? sign_bit : 0u) : c - 1u;
  }
  ExpIntPair outlier_pair(uint32_t code) const {
    const uint32_t c = is_signed ? code & (sign_bit - 1u) : code + 1u;
    const uint32_t mm = (1u << mbits) - 1u;
    const int32_t m = static_cast<int32_t>((1u << mbits) + (c & mm));
    const int32_t e = static_cast<int32_t>(c >> mbits) + bias;
    return {is_signed && (code & sign_bit) ? -m : m, e};
  }
  ExpIntPair normal_pair(uint32_t code) const {
    if (!is_signed) return {static_cast<int32_t>(code), 0};
    if (!flint) {
      const int32_t v = static_cast<int32_t>(code);
      return {v >= static_cast<int32_t>(sign_bit) ? v - (1 << bits) : v, 0};
    }
    const int32_t g = mag[code & (sign_bit - 1u)];
    if (g == 0) return {0, 0};
    int32_t sh = 0;
    while (((g >> sh) & 1) == 0) ++sh;  // ANT's flint-to-int conversion: <ctz(g), g >> ctz(g)>
    const int32_t m = g / (1 << sh);
    return {(code & sign_bit) ? -m : m, sh};
  }
  std::array<ExpIntPair, 2> decode_pair(uint32_t c0, uint32_t c1) const {
    c0 &= mask;
    c1 &= mask;
    if (c0 == id && c1 == id) return {ExpIntPair{0, 0}, ExpIntPair{0, 0}};
    if (c1 == id) return {outlier_pair(c0), ExpIntPair{0, 0}};
    if (c0 == id) return {ExpIntPair{0, 0}, outlier_pair(c1)};
    return {normal_pair(c0), normal_pair(c1)};
  }
  // Codes of a pair (x0, x1) under scale s: the same rules as encode_pair_core.
  void encode_pair(float x0, float x1, float s, OvpVictim victim, bool ties_up, uint32_t& c0,
                   uint32_t& c1, OvpPairClass& cls) const {
    const bool n0 = std::signbit(x0), n1 = std::signbit(x1);
    const float v0 = std::fabs(x0) / s, v1 = std::fabs(x1) / s;
    // An unsigned grid has no negative point: a negative value's nearest point is 0.
    const size_t l0 = (!is_signed && n0) ? 0 : level(v0, ties_up && n0);
    const size_t l1 = (!is_signed && n1) ? 0 : level(v1, ties_up && n1);
    const bool o0 = l0 >= nn, o1 = l1 >= nn;
    if (!o0 && !o1) {
      c0 = normal_code(l0, n0);
      c1 = normal_code(l1, n1);
      cls = OvpPairClass::kNormalNormal;
      return;
    }
    bool keep_even;
    if (o0 && o1) {
      cls = OvpPairClass::kOutlierOutlier;
      keep_even = victim == OvpVictim::kEven || !(v1 > v0);
    } else {
      cls = OvpPairClass::kOutlierNormal;
      keep_even = o0;
    }
    if (keep_even) {
      c0 = outlier_code(l0, n0);
      c1 = id;
    } else {
      c0 = id;
      c1 = outlier_code(l1, n1);
    }
  }
};

// The variant grids: [bits 4 | 8][signed flint, signed int, unsigned int][outlier type].
const VarGrid& var_grid(const OvpType& t, bool is_signed, bool flint) {
  static const VarGrid g4f(4, true, true, 2), g4i(4, true, false, 2), g4u(4, false, false, 2),
      g8ai(8, true, false, 4), g8au(8, false, false, 4), g8bi(8, true, false, 2),
      g8bu(8, false, false, 2);
  if (t.bits == 4) return flint ? g4f : is_signed ? g4i : g4u;
  if (flint) throw Error("OVP variant: flint normals exist at 4 bits only");
  if (&t == &kOvp8E2M5) return is_signed ? g8bi : g8bu;
  return is_signed ? g8ai : g8au;
}

// Squared error of the variant quantization of x [rows, cols] with scale s: decode(encode(x)).
double var_sse(const VarGrid& vg, OvpVictim victim, bool ties_up, const float* x, int64_t rows,
               int64_t cols, float s) {
  double sse = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (int64_t c = 0; c < cols; c += 2) {
      const bool has1 = c + 1 < cols;
      const float x0 = xr[c], x1 = has1 ? xr[c + 1] : 0.0f;
      uint32_t k0, k1;
      OvpPairClass cls;
      vg.encode_pair(x0, x1, s, victim, ties_up, k0, k1, cls);
      const auto p = vg.decode_pair(k0, k1);
      const double e0 =
          static_cast<double>(static_cast<float>(p[0].mant * (int64_t{1} << p[0].shift)) * s) -
          static_cast<double>(x0);
      sse += e0 * e0;
      if (has1) {
        const double e1 =
            static_cast<double>(static_cast<float>(p[1].mant * (int64_t{1} << p[1].shift)) * s) -
            static_cast<double>(x1);
        sse += e1 * e1;
      }
    }
  }
  return sse;
}

class OliveFormat final : public Format {
 public:
  // types: the candidate normal types in order of preference (false int, true flint).
  OliveFormat(const OvpType& type, bool per_row, OvpVictim victim, bool ties_up, std::string sign,
              std::vector<bool> types, bool fixed, float scale)
      : t_(type),
        g_(grid_of(type)),
        per_row_(per_row),
        victim_(victim),
        ties_up_(ties_up),
        sign_(std::move(sign)),
        types_(std::move(types)),
        fixed_(fixed),
        scale_(scale) {}

  const OvpType& type() const { return t_; }
  // The plain OVP code space (signed int normals) that the ovp4 / ovp8 decoders read.
  bool plain() const { return sign_ == "signed" && types_.size() == 1 && !types_[0]; }

  static std::string types_text(const std::vector<bool>& types) {
    std::string t;
    for (bool f : types) t += (t.empty() ? "" : "+") + std::string(f ? "flint" : "int");
    return t;
  }

  // Canonical: every option, except that sign, ties and types appear only when they differ
  // from their defaults, so that the names (and every report and sweep key holding them) of
  // the formats that existed before these options stay as they were.
  std::string name() const override {
    FormatSpec n{t_.bits == 4 ? "olive4" : "olive8", {}};
    if (t_.bits == 8) n.options["outlier"] = &t_ == &kOvp8E2M5 ? "e2m5" : "e4m3";
    n.options["per"] = per_row_ ? "row" : "tensor";
    if (fixed_) n.options["scale"] = format_g(scale_);
    n.options["victim"] = victim_ == OvpVictim::kLarger ? "larger" : "even";
    if (sign_ != "signed") n.options["sign"] = sign_;
    if (ties_up_) n.options["ties"] = "up";
    if (types_text(types_) != "int") n.options["types"] = types_text(types_);
    return n.str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = t_.bits == 4 ? "olive4" : "olive8";
    t.element = t_.bits == 4 ? "ovp4" : "ovp8";
    if (!plain()) {
      // Another code space: no decoder of models/ or rtl/ reads it (models/ refuses a decoder
      // kind it does not have, naming it).
      if (types_text(types_) != "int") t.element += "-" + types_text(types_);
      if (sign_ != "signed") t.element += "-" + sign_;
    }
    t.element_bits = t_.bits;
    t.decoder = t.element;
    t.elements_per_decode_op = 2;  // one pair unit decodes two elements
    t.encode_scope = !per_row_ && !fixed_ ? EncodeScope::kTensor
                                          : EncodeScope::kSegment;  // the MSE scale search
    return t;
  }

  // OliVe's per-tensor MSE scale search, run on a sample (per-row scales are searched row by
  // row, and a given scale is fixed already). A variant also fixes its sign and normal type.
  std::unique_ptr<Format> calibrated(const float* x, int64_t rows, int64_t cols) const override {
    if (per_row_ || fixed_ || rows <= 0 || cols <= 0) return nullptr;
    FormatSpec spec = FormatSpec::parse(name());
    if (plain()) {
      spec.options["scale"] = format_g(olive_search_scale(t_, victim_, x, rows, cols, ties_up_));
    } else {
      const VarChoice c = var_choose(x, rows, cols);
      spec.options["scale"] = format_g(c.s[0]);
      spec.options["sign"] = c.g->is_signed ? "signed" : "unsigned";
      spec.options["types"] = c.g->flint ? "flint" : "int";
    }
    FormatSpec canon = FormatSpec::parse(make_format(spec.str())->name());
    return make_format(canon.str());
  }

  // A variant's choice for x: its grid (sign from the data under sign=auto; the normal type
  // with the lowest summed squared error, the first on equal error) and scales (one, or one
  // per row). Candidates whose grid is the plain one use the fast search.
  struct VarChoice {
    const VarGrid* g;
    std::vector<float> s;
  };
  VarChoice var_choose(const float* x, int64_t rows, int64_t cols) const {
    bool sg = sign_ == "signed";
    if (sign_ == "auto") {
      for (int64_t i = 0; i < rows * cols && !sg; ++i) sg = x[i] < 0.0f;
    }
    const int64_t groups = per_row_ ? rows : 1;
    VarChoice best{nullptr, {}};
    double best_total = std::numeric_limits<double>::infinity();
    for (bool flint : types_) {
      const VarGrid& vg = var_grid(t_, sg, flint);
      std::vector<float> s(static_cast<size_t>(groups), scale_);
      double total = 0;
      for (int64_t gi = 0; gi < groups; ++gi) {
        const float* xg = per_row_ ? x + gi * cols : x;
        const int64_t gr = per_row_ ? 1 : rows;
        if (fixed_) {  // one type (make_olive): nothing to compare
          continue;
        }
        if (sg && !flint) {
          s[gi] = olive_search_scale(t_, victim_, xg, gr, cols, ties_up_);
          if (types_.size() > 1) total += ovp_sse(g_, victim_, ties_up_, xg, gr, cols, s[gi]);
          continue;
        }
        double b = std::numeric_limits<double>::infinity();
        float bs = 1.0f;
        for (const float c : search_candidates(vg.top(), xg, gr * cols)) {
          const double e = var_sse(vg, victim_, ties_up_, xg, gr, cols, c);
          if (e < b) b = e, bs = c;
        }
        if (!(b < std::numeric_limits<double>::infinity()))
          b = var_sse(vg, victim_, ties_up_, xg, gr, cols, bs);  // no candidate: s = 1
        s[gi] = bs;
        total += b;
      }
      if (!best.g || total < best_total) {
        best_total = total;
        best = {&vg, s};
      }
    }
    return best;
  }

  const VarGrid& var_grid_of(const EncodedTensor& e) const {
    return var_grid(t_, (e.scales[0] & 4) == 0, (e.scales[0] & 1) != 0);
  }
  // The identifier code of e's grid (e checked).
  uint32_t identifier(const EncodedTensor& e) const {
    return plain() ? t_.identifier() : var_grid_of(e).id;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    return encode_impl(x, rows, cols, nullptr);
  }

  EncodedTensor encode_impl(const float* x, int64_t rows, int64_t cols, OvpPairStats* stats) const {
    require_finite(x, rows * cols, cols, name());
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    const int64_t groups = per_row_ ? rows : 1;
    e.fp32.assign(static_cast<size_t>(groups), scale_);
    const VarGrid* vg = nullptr;
    if (!plain()) {
      const VarChoice c = var_choose(x, rows, cols);
      vg = c.g;
      e.fp32 = c.s;
      // scales: one byte naming the grid: bit 0 flint, bit 2 unsigned.
      e.scales = {static_cast<uint8_t>((vg->flint ? 1 : 0) | (vg->is_signed ? 0 : 4))};
    } else if (!fixed_) {
      for (int64_t gi = 0; gi < groups; ++gi) {
        e.fp32[gi] = per_row_ ? olive_search_scale(t_, victim_, x + gi * cols, 1, cols, ties_up_)
                              : olive_search_scale(t_, victim_, x, rows, cols, ties_up_);
      }
    }
    const int64_t unit = t_.bits / 4;  // bytes per pair unit
    const int64_t row_bytes = pair_units(cols) * unit;
    e.elements.assign(static_cast<size_t>(row_bytes * rows), 0);
    int64_t counts[3] = {0, 0, 0};
    auto store = [&](uint8_t* out, int64_t u, uint32_t c0, uint32_t c1) {
      if (t_.bits == 4) {
        out[u] = static_cast<uint8_t>(c0 | (c1 << 4));
      } else {
        out[2 * u] = static_cast<uint8_t>(c0);
        out[2 * u + 1] = static_cast<uint8_t>(c1);
      }
    };
    constexpr int64_t kChunk = 512;  // even: pairs stay whole
    alignas(64) float v[kChunk + 1];
    alignas(64) int32_t q[kChunk + 1];
    const uint32_t mask = t_.code_mask();
    const float lim = g_.normal_limit;
    const int32_t up = ties_up_ ? 1 : 0;
    for (int64_t r = 0; r < rows; ++r) {
      const float s = e.fp32[per_row_ ? r : 0];
      const float* xr = x + r * cols;
      uint8_t* out = e.elements.data() + r * row_bytes;
      if (vg) {
        for (int64_t c = 0, u = 0; c < cols; c += 2, ++u) {
          const float x0 = xr[c], x1 = c + 1 < cols ? xr[c + 1] : 0.0f;
          uint32_t c0, c1;
          OvpPairClass cls;
          vg->encode_pair(x0, x1, s, victim_, ties_up_, c0, c1, cls);
          ++counts[static_cast<int>(cls)];
          store(out, u, c0, c1);
        }
        continue;
      }
      // The plain grid, a chunk at a time: v = |x| / s and every element's normal code in one
      // vectorizable loop (round_mag's normal branch, sign by two's complement), the bytes in
      // another; pairs with an element at or above N + 1/2 are then redone by encode_pair_core.
      for (int64_t c0i = 0; c0i < cols; c0i += kChunk) {
        const int64_t len = std::min(kChunk, cols - c0i);
        const float* xc = xr + c0i;
        int32_t special = 0;
        for (int64_t i = 0; i < len; ++i) {
          const float a = std::fabs(xc[i]) / s;
          v[i] = a;
          special |= a >= lim ? 1 : 0;
          const float ac = std::min(a, lim);
          const int32_t ii = static_cast<int32_t>(ac);
          const float f = ac - static_cast<float>(ii);
          uint32_t bits;
          std::memcpy(&bits, xc + i, 4);
          const int32_t neg = static_cast<int32_t>(bits >> 31);
          const int32_t r = ii + ((f > 0.5f ? 1 : 0) | ((f == 0.5f ? 1 : 0) & (1 - (up & neg))));
          q[i] = static_cast<int32_t>(static_cast<uint32_t>((r ^ -neg) + neg) & mask);
        }
        if (len & 1) q[len] = 0, v[len] = 0.0f;  // the implicit zero partner
        const int64_t npairs = (len + 1) / 2, u0 = c0i / 2;
        if (t_.bits == 4) {
          for (int64_t k = 0; k < npairs; ++k)
            out[u0 + k] = static_cast<uint8_t>(q[2 * k] | (q[2 * k + 1] << 4));
        } else {
          for (int64_t k = 0; k < 2 * npairs; ++k) out[2 * u0 + k] = static_cast<uint8_t>(q[k]);
        }
        int64_t redone = 0;
        if (special) {
          for (int64_t k = 0; k < npairs; ++k) {
            const float v0 = v[2 * k], v1 = v[2 * k + 1];
            if (v0 < lim && v1 < lim) continue;
            const bool has1 = 2 * k + 1 < len;
            const float x0 = xc[2 * k], x1 = has1 ? xc[2 * k + 1] : 0.0f;
            uint32_t c0, c1;
            OvpPairClass cls;
            encode_pair_core(g_, v0, std::signbit(x0), v1, std::signbit(x1), victim_, ties_up_, c0,
                             c1, cls);
            ++counts[static_cast<int>(cls)];
            ++redone;
            store(out, u0 + k, c0, c1);
          }
        }
        counts[0] += npairs - redone;
      }
    }
    if (stats) {
      stats->pairs = rows * pair_units(cols);
      stats->normal_normal = counts[0];
      stats->outlier_normal = counts[1];
      stats->outlier_outlier = counts[2];
      stats->pruning_known = true;
    }
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    check(e);
    const int64_t cols = e.cols, units = pair_units(cols);
    if (!plain()) {
      const VarGrid& vg = var_grid_of(e);
      const int64_t unit = t_.bits / 4;
      for (int64_t r = 0; r < e.rows; ++r) {
        const float s = e.fp32[per_row_ ? r : 0];
        const uint8_t* in = e.elements.data() + r * units * unit;
        for (int64_t c = 0, u = 0; c < cols; c += 2, ++u) {
          const auto p = unit == 1 ? vg.decode_pair(in[u] & 0xFu, in[u] >> 4)
                                   : vg.decode_pair(in[2 * u], in[2 * u + 1]);
          out[r * cols + c] = static_cast<float>(p[0].mant * (1 << p[0].shift)) * s;
          if (c + 1 < cols)
            out[r * cols + c + 1] = static_cast<float>(p[1].mant * (1 << p[1].shift)) * s;
        }
      }
      return;
    }
    if (t_.bits == 4) {
      const auto& tab = olive4_table().value;
      for (int64_t r = 0; r < e.rows; ++r) {
        const float s = e.fp32[per_row_ ? r : 0];
        const uint8_t* in = e.elements.data() + r * units;
        float* o = out + r * cols;
        const int64_t full = cols / 2;
        for (int64_t u = 0; u < full; ++u) {
          o[2 * u] = tab[in[u]][0] * s;
          o[2 * u + 1] = tab[in[u]][1] * s;
        }
        if (cols & 1) o[cols - 1] = tab[in[full]][0] * s;
      }
      return;
    }
    const uint8_t id = static_cast<uint8_t>(t_.identifier());
    for (int64_t r = 0; r < e.rows; ++r) {
      const float s = e.fp32[per_row_ ? r : 0];
      const uint8_t* in = e.elements.data() + r * units * 2;
      float* o = out + r * cols;
      for (int64_t c = 0; c < cols; c += 2) {
        if (in[c] != id && in[c + 1] != id) {  // two normals: two's complement bytes
          o[c] = static_cast<float>(static_cast<int8_t>(in[c])) * s;
          if (c + 1 < cols) o[c + 1] = static_cast<float>(static_cast<int8_t>(in[c + 1])) * s;
          continue;
        }
        const auto p = ovp_decode_pair(t_, in[c], in[c + 1]);
        o[c] = static_cast<float>(p[0].mant * (1 << p[0].shift)) * s;
        if (c + 1 < cols) o[c + 1] = static_cast<float>(p[1].mant * (1 << p[1].shift)) * s;
      }
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check(e);
    DecodedTensor d;
    d.resize(e.rows, e.cols, per_row_ ? 1 : e.rows, e.cols);
    for (size_t g = 0; g < d.scale_mul.size(); ++g) d.scale_mul[g] = e.fp32[per_row_ ? g : 0];
    const int64_t cols = e.cols, unit = t_.bits / 4, row_bytes = pair_units(cols) * unit;
    const VarGrid* vg = plain() ? nullptr : &var_grid_of(e);
    for (int64_t r = 0; r < e.rows; ++r) {
      const uint8_t* in = e.elements.data() + r * row_bytes;
      for (int64_t c = 0, u = 0; c < cols; c += 2, ++u) {
        const auto p = vg             ? (unit == 1 ? vg->decode_pair(in[u] & 0xFu, in[u] >> 4)
                                                   : vg->decode_pair(in[2 * u], in[2 * u + 1]))
                       : t_.bits == 4 ? olive4_decode_byte(in[u])
                                      : ovp_decode_pair(t_, in[2 * u], in[2 * u + 1]);
        for (int k = 0; k < 2 && c + k < cols; ++k) {
          d.mant[r * cols + c + k] = p[k].mant;
          d.shift[r * cols + c + k] = static_cast<uint8_t>(p[k].shift);
        }
      }
    }
    return d;
  }

  void check(const EncodedTensor& e) const {
    check_encoded(e);
    const size_t want_scales = per_row_ ? static_cast<size_t>(e.rows) : 1;
    if (e.fp32.size() != want_scales) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(want_scales) +
                  " scales, got " + std::to_string(e.fp32.size()));
    }
    if (plain() ? !e.scales.empty() : e.scales.size() != 1) {
      throw Error("encoded '" + name() + "': expected " + (plain() ? "no" : "one") +
                  " grid byte, got " + std::to_string(e.scales.size()));
    }
    if (!plain()) {
      const uint8_t b = e.scales[0];
      const bool flint = b & 1, uns = b & 4;
      bool ok = (b & ~5) == 0 && !(flint && uns) && (!flint || t_.bits == 4);
      ok = ok && std::find(types_.begin(), types_.end(), flint) != types_.end();
      ok = ok && (sign_ == "auto" || uns == (sign_ == "unsigned"));
      if (!ok) {
        throw Error("encoded '" + name() + "': grid byte " + std::to_string(b) +
                    " names no grid of this format");
      }
    }
    const int64_t want = pair_units(e.cols) * (t_.bits / 4) * e.rows;
    if (static_cast<int64_t>(e.elements.size()) != want) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(want) +
                  " element bytes for " + std::to_string(e.rows) + " x " + std::to_string(e.cols) +
                  ", got " + std::to_string(e.elements.size()));
    }
  }

 private:
  const OvpType& t_;
  const OvpGrid& g_;
  bool per_row_;
  OvpVictim victim_;
  bool ties_up_;
  std::string sign_;
  std::vector<bool> types_;
  bool fixed_;
  float scale_;
};

std::unique_ptr<Format> make_olive(const OvpType& four_or_default, FormatOptions& o) {
  const OvpType* t = &four_or_default;
  if (t->bits == 8) {
    t = o.get_choice("outlier", "e4m3", {"e4m3", "e2m5"}) == "e2m5" ? &kOvp8E2M5 : &kOvp8E4M3;
  }
  const bool per_row = o.get_choice("per", "tensor", {"tensor", "row"}) == "row";
  const OvpVictim victim = o.get_choice("victim", "larger", {"larger", "even"}) == "even"
                               ? OvpVictim::kEven
                               : OvpVictim::kLarger;
  const bool ties_up = o.get_choice("ties", "away", {"away", "up"}) == "up";
  const std::string sign = o.get_choice("sign", "signed", {"signed", "unsigned", "auto"});
  const std::string tt = o.get_choice("types", "int", {"int", "flint", "int+flint", "flint+int"});
  std::vector<bool> types;
  if (tt == "int") types = {false};
  if (tt == "flint") types = {true};
  if (tt == "int+flint") types = {false, true};
  if (tt == "flint+int") types = {true, false};
  const std::string& fname = o.spec().name;
  if (tt != "int" && t->bits != 4) {
    throw Error("format '" + fname +
                "': option 'types': flint normals need olive4 (the authors' "
                "code uses int above 6 bits)");
  }
  if (tt != "int" && sign != "signed") {
    throw Error("format '" + fname + "': option 'types=" + tt + "' needs sign=signed (an " +
                "unsigned flint grid is not implemented)");
  }
  bool fixed = false;
  float scale = 1.0f;
  if (o.spec().options.count("scale")) {
    const double d =
        o.get_double("scale", 1.0, static_cast<double>(FLT_MIN), static_cast<double>(FLT_MAX));
    scale = static_cast<float>(d);
    fixed = true;
    if (types.size() > 1) {
      throw Error("format '" + fname +
                  "': option 'scale' needs a single normal type (types=int "
                  "or types=flint)");
    }
  }
  o.finish();
  return std::make_unique<OliveFormat>(*t, per_row, victim, ties_up, sign, types, fixed, scale);
}

}  // namespace

std::array<ExpIntPair, 2> ovp_decode_pair(const OvpType& t, uint32_t even, uint32_t odd) {
  even &= t.code_mask();
  odd &= t.code_mask();
  const uint32_t id = t.identifier();
  if (even == id && odd == id) return {ExpIntPair{0, 0}, ExpIntPair{0, 0}};
  if (odd == id) return {abfloat_pair(t, even), ExpIntPair{0, 0}};
  if (even == id) return {ExpIntPair{0, 0}, abfloat_pair(t, odd)};
  return {ExpIntPair{sign_extend(t, even), 0}, ExpIntPair{sign_extend(t, odd), 0}};
}

std::array<uint32_t, 2> ovp_encode_pair(const OvpType& t, float v_even, float v_odd,
                                        OvpVictim victim, OvpPairClass* cls, bool ties_up) {
  const OvpGrid& g = grid_of(t);
  uint32_t c0 = 0, c1 = 0;
  OvpPairClass k;
  const float a0 = std::isnan(v_even) ? 0.0f : std::fabs(v_even);
  const float a1 = std::isnan(v_odd) ? 0.0f : std::fabs(v_odd);
  encode_pair_core(g, a0, std::signbit(v_even), a1, std::signbit(v_odd), victim, ties_up, c0, c1,
                   k);
  if (cls) *cls = k;
  return {c0, c1};
}

int32_t ovp_round(const OvpType& t, float v) {
  const OvpGrid& g = grid_of(t);
  const int32_t r = g.round_mag(std::fabs(v));
  const int32_t mag = r >= 0 ? r : g.value[static_cast<uint32_t>(-r)];
  return std::signbit(v) ? -mag : mag;
}

OvpSplit ovp8_split(ExpIntPair e) {
  const int32_t hi = e.mant >> 4;  // arithmetic shift: floor(mant / 16)
  const int32_t lo = e.mant - hi * 16;
  return {ExpIntPair{hi, e.shift + 4}, ExpIntPair{lo, e.shift}};
}

namespace {

// Squared error of one pair quantized with scale s, exactly as ovp_sse computes it.
inline double pair_sse(const OvpGrid& g, OvpVictim victim, bool ties_up, float x0, float x1,
                       bool has1, float s) {
  double e0, e1;
  pair_errors(g, victim, ties_up, x0, x1, std::fabs(x0) / s, has1 ? std::fabs(x1) / s : 0.0f, s, e0,
              e1);
  return e0 * e0 + (has1 ? e1 * e1 : 0.0);
}

// One pair that may hold an outlier under some candidate scale.
struct WidePair {
  float x0, x1, m;  // m = max(|x0|, |x1|)
  bool has1;
};

}  // namespace

float olive_search_scale_exhaustive(const OvpType& t, OvpVictim victim, const float* x,
                                    int64_t rows, int64_t cols, bool ties_up) {
  const OvpGrid& g = grid_of(t);
  float best_s = 1.0f;
  double best = std::numeric_limits<double>::infinity();
  for (const float s : search_candidates(t.normal_max(), x, rows * cols)) {
    const double sse = ovp_sse(g, victim, ties_up, x, rows, cols, s);
    if (sse < best) {
      best = sse;
      best_s = s;
    }
  }
  return best_s;
}

// The same search, fast and with the same answer. Every pair whose larger magnitude could be an
// outlier under the smallest candidate (a few percent of pairs) is kept aside and priced
// exactly, with the same arithmetic as ovp_sse, for each candidate under which it holds an
// outlier. All other elements are normals under every candidate: a fine histogram of |x| holds,
// per bin b with centre c_b, the count and the sums of d = |x| - c_b and d^2 (centred sums: no
// cancellation), so the squared error of the bin's elements at level k is
//   sum (|x| - k s)^2 = sum d^2 + 2 D sum d + D^2 count,   D = c_b - k s,
// the level being the one of the bin's centre. Pairs that stop holding an outlier as s grows
// move into the histogram. The estimate differs from the exhaustive search's sum S~ (ovp_sse)
// by at most the bound below, which adds, each rigorous:
// - straddling bins: a rounding boundary t within the bin (with relative margins for the bin
//   index of a double product and the fl32 division x / s, so ties count too): an element of
//   the bin that belongs to the neighbouring level changes the error by 2 s |x - t| <= 2 s w;
// - q = fl32(k s) instead of k s (relative 2^-24) against errors of at most
//   max(1/2, outlier_start - N) s;
// - the double rounding of the histogram sums (gamma_m = m u / (1 - m u), u = 2^-53, for m
//   terms), of each bin's expression, and of the sum over bins;
// - the rounding of S~ itself: its n squared errors summed in double, relative (n + 4) u.
// Candidates whose interval reaches the lowest upper end are priced exactly by ovp_sse and the
// first lowest wins, which is the exhaustive rule; with one such candidate, it is the exhaustive
// choice. So the result equals olive_search_scale_exhaustive (tests check it on many tensors).
float olive_search_scale(const OvpType& t, OvpVictim victim, const float* x, int64_t rows,
                         int64_t cols, bool ties_up) {
  const int64_t n = rows * cols;
  if (n < 4096 || cols < 2) return olive_search_scale_exhaustive(t, victim, x, rows, cols, ties_up);
  const OvpGrid& g = grid_of(t);
  const int32_t N = t.normal_max();
  const double ostart = g.outlier_start;
  constexpr double u = 0x1p-53;
  const int nb = N <= 7 ? 8192 : 65536;
  struct Bin {
    double cnt, sd, sdd, pad;  // one 32-byte line per bin
  };
  std::vector<Bin> bins;
  std::vector<WidePair> pairs;
  int64_t hist_n = 0;
  double w = 0, inv_w = 0;
  // The centre of bin b, computed the same way wherever it is used (the sums are centred on it).
  auto centre = [&w](int64_t b) { return (static_cast<double>(b) + 0.5) * w; };
  auto add = [&](float v) {
    const double a = std::fabs(static_cast<double>(v));
    const int64_t b = std::min<int64_t>(nb - 1, static_cast<int64_t>(a * inv_w));
    Bin& h = bins[static_cast<size_t>(b)];
    const double d = a - centre(b);
    h.cnt += 1;
    h.sd += d;
    h.sdd += d * d;
  };
  // One pass: the histogram of the elements of pairs below `wide` over [0, top), the pairs at
  // or above it aside, and (when mu is given) the search's ss in element order.
  auto build = [&](double wide, double top, const double* mu, double* ss) {
    w = top / nb;
    inv_w = nb / top;
    bins.assign(static_cast<size_t>(nb), Bin{0, 0, 0, 0});
    pairs.clear();
    hist_n = 0;
    double acc = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      const int64_t even = cols & ~int64_t{1};
      for (int64_t c = 0; c < even; c += 2) {
        const float x0 = xr[c], x1 = xr[c + 1];
        if (mu) {
          acc += sq_dev(x0, *mu);
          acc += sq_dev(x1, *mu);
        }
        const float m = std::max(std::fabs(x0), std::fabs(x1));
        if (m >= wide) {
          pairs.push_back({x0, x1, m, true});
        } else {
          add(x0);
          add(x1);
          hist_n += 2;
        }
      }
      if (even < cols) {  // odd cols: the last element pairs with an implicit zero
        const float x0 = xr[even];
        if (mu) acc += sq_dev(x0, *mu);
        if (std::fabs(x0) >= wide) {
          pairs.push_back({x0, 0.0f, std::fabs(x0), false});
        } else {
          add(x0);
          hist_n += 1;
        }
      }
    }
    if (ss) *ss = acc;
  };
  // The candidates need ss, a second pass after the mean. The histogram pass computes it on the
  // way, with its range and outlier threshold taken from an approximate sigma (sum of squares
  // from the mean's pass) with 0.1% margins; if the exact candidates fall outside what that
  // histogram covers, it is rebuilt with the exact range.
  double mu, sq = 0, sum = 0;
  {
    for (int64_t i = 0; i < n; ++i) {
      sum += x[i];
      sq += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    }
    mu = sum / static_cast<double>(n);  // mean_of's arithmetic
  }
  const double var_p =
      std::max(0.0, (sq - static_cast<double>(n) * mu * mu) / static_cast<double>(n - 1));
  const double sig_p = std::sqrt(var_p);
  const double alpha_p = std::max(std::fabs(mu + 3 * sig_p), std::fabs(mu - 3 * sig_p));
  const double wide_p = ostart * alpha_p * 0.75 / N * (1.0 - 1e-3);
  const double top_p = ostart * alpha_p * 2.49 / N * (1.0 + 1e-3);
  double ss = 0;
  bool built = false;
  if (alpha_p > 0 && std::isfinite(top_p) && wide_p > 0) {
    build(wide_p, top_p, &mu, &ss);
    built = true;
  } else {
    for (int64_t i = 0; i < n; ++i) ss += sq_dev(x[i], mu);
  }
  const std::vector<float> cand = candidates_from(N, mu, ss, n);
  if (cand.empty()) return 1.0f;
  // What the bound below needs: every pair that may hold an outlier under the smallest candidate
  // aside (wide <= the exact threshold), every element ever added below the histogram's top,
  // and bins much narrower than the smallest scale.
  const double wide = ostart * static_cast<double>(cand.front()) * (1.0 - 1e-6);
  const double top = ostart * static_cast<double>(cand.back()) * (1.0 + 1e-6);
  if (!built || wide_p > wide || top_p < top || top_p / nb > 0.01 * cand.front()) {
    build(wide, top, nullptr, nullptr);
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const WidePair& a, const WidePair& b) { return a.m < b.m; });
  std::vector<int32_t> live;  // the non-empty bins, ascending
  for (int32_t b = 0; b < nb; ++b)
    if (bins[static_cast<size_t>(b)].cnt > 0) live.push_back(b);
  double max_cnt = 0;
  for (int32_t b : live) max_cnt = std::max(max_cnt, bins[static_cast<size_t>(b)].cnt);
  // The pairs aside, priced exactly per candidate. A pair whose smaller element is below `wide`
  // (a normal under every candidate) holds exactly one outlier, the larger element, while it is
  // not moved: its squared error is (q - m)^2 + x_small^2 (the victim decodes to 0), with q the
  // outlier grid value of fl32(m / s) times s in FP32, as pair_errors computes it; the other
  // pairs go through pair_sse.
  const size_t np_all = pairs.size();
  std::vector<float> pm(np_all), pv(np_all);
  std::vector<double> pxs2(np_all);
  std::vector<uint8_t> pkind(np_all);  // 0: simple, kept element >= 0; 1: simple, < 0; 2: other
  for (size_t i = 0; i < np_all; ++i) {
    const WidePair& q = pairs[i];
    const float a0 = std::fabs(q.x0), a1 = q.has1 ? std::fabs(q.x1) : 0.0f;
    const float small = std::min(a0, a1);
    pm[i] = q.m;
    pxs2[i] = static_cast<double>(small) * static_cast<double>(small);
    const bool neg = a0 > a1 ? std::signbit(q.x0) : std::signbit(q.x1);
    pkind[i] = small < wide ? (neg ? 1 : 0) : 2;
  }
  std::vector<int32_t> fresh;  // bins a moved pair made non-empty
  size_t moved = 0;  // pairs[0, moved) are normal under the current and every larger candidate
  const size_t nc = cand.size();
  std::vector<double> est(nc), bound(nc);
  for (size_t ci = 0; ci < nc; ++ci) {
    const float s = cand[ci];
    const double sd = s;
    while (moved < pairs.size() && pairs[moved].m / s < g.outlier_start) {
      for (int k = 0; k < (pairs[moved].has1 ? 2 : 1); ++k) {
        const float v = k ? pairs[moved].x1 : pairs[moved].x0;
        const int64_t b = std::min<int64_t>(
            nb - 1, static_cast<int64_t>(std::fabs(static_cast<double>(v)) * inv_w));
        if (bins[static_cast<size_t>(b)].cnt == 0) fresh.push_back(static_cast<int32_t>(b));
        add(v);
        max_cnt = std::max(max_cnt, bins[static_cast<size_t>(b)].cnt);
      }
      hist_n += pairs[moved].has1 ? 2 : 1;
      ++moved;
    }
    if (!fresh.empty()) {
      std::sort(fresh.begin(), fresh.end());
      fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
      const size_t old = live.size();
      live.insert(live.end(), fresh.begin(), fresh.end());
      std::inplace_merge(live.begin(), live.begin() + static_cast<std::ptrdiff_t>(old), live.end());
      fresh.clear();
    }
    // Per-element rounding of the accumulated sums: |delta sum d| <= gamma * cnt * w and
    // |delta sum d^2| <= gamma * cnt * w^2 (|d| <= w), gamma for the largest bin (+ 4).
    const double gb = (max_cnt + 4) * u / (1 - (max_cnt + 4) * u);
    double h = 0, habs = 0, b = 0;
    int k = 0;
    for (const int32_t bi : live) {
      const Bin& hb = bins[static_cast<size_t>(bi)];
      const double lo = bi * w, hi = lo + w, mid = centre(bi);
      while (k < N && mid >= (k + 0.5) * sd) ++k;  // level of the bin's centre
      // A rounding boundary inside the bin (relative margins: an element's bin comes from a
      // double product, its level from the fl32 division x / s; a tie on a boundary counts).
      const bool straddles = (k < N && hi * (1 + 1e-6) >= (k + 0.5) * sd) ||
                             (k > 0 && lo * (1 - 1e-6) <= (k - 0.5) * sd);
      const double D = mid - k * sd;
      const double term = hb.sdd + 2 * D * hb.sd + D * D * hb.cnt;
      h += term;
      const double mag = hb.sdd + 2 * std::fabs(D) * std::fabs(hb.sd) + D * D * hb.cnt;
      habs += mag;
      // The sums' rounding, the expression's (4 operations, and D's own rounding: |delta D|
      // <= 2 u (mid + k s), which moves the term by at most 2 |delta D| (|sum d| + |D| cnt)).
      b += gb * hb.cnt * (2 * std::fabs(D) * w + w * w) + 4 * u * mag +
           4 * u * (mid + k * sd) * (std::fabs(hb.sd) + std::fabs(D) * hb.cnt) * 2;
      // (|x - t| <= w plus the margins: 2e-6 hi.)
      if (straddles) b += hb.cnt * 2 * sd * (w + 2e-6 * hi);
    }
    b += (static_cast<double>(live.size()) + 2) * u * habs;  // the sum over bins
    double p = 0;
    for (size_t i = moved; i < np_all; ++i) pv[i] = pm[i] / s;  // vectorizes
    for (size_t i = moved; i < np_all; ++i) {
      if (pkind[i] == 2) {
        p += pair_sse(g, victim, ties_up, pairs[i].x0, pairs[i].x1, pairs[i].has1, s);
        continue;
      }
      // v >= outlier_start here (the pair is not moved): round_mag returns -(code).
      const int32_t code = -g.round_mag(pv[i], ties_up && pkind[i] == 1);
      const float q = static_cast<float>(g.value[static_cast<size_t>(code)]) * s;
      const double e = static_cast<double>(q) - static_cast<double>(pm[i]);
      p += e * e + pxs2[i];
    }
    const double np = 2 * static_cast<double>(pairs.size() - moved) + 2;
    b += np * u * p;  // the exact pairs' own sum
    // Float rounding of q = float(k) * s (relative 2^-24) against errors of at most
    // max(1/2, outlier_start - N) s, and each squared error's own rounding (e and e^2: 3u).
    const double q_max = N * sd, e_max = std::max(0.5, ostart - N) * sd + w;
    b += static_cast<double>(hist_n) * (2 * e_max + q_max * 0x1p-23) * q_max * 0x1p-23;
    b += 4 * u * (std::fabs(h) + p);
    // S~, the exhaustive sum of n terms in double: relative (n + 4) u of the true sum.
    const double gn = (static_cast<double>(n) + 4) * u * 1.01;
    b += gn * (std::fabs(h) + p + b) + 1e-300;
    est[ci] = h + p;
    bound[ci] = b;
  }
  double best_hi = std::numeric_limits<double>::infinity();
  for (size_t ci = 0; ci < nc; ++ci) best_hi = std::min(best_hi, est[ci] + bound[ci]);
  size_t contenders = 0, only = 0;
  for (size_t ci = 0; ci < nc; ++ci) {
    if (est[ci] - bound[ci] <= best_hi) ++contenders, only = ci;
  }
  if (contenders == 1) return cand[only];  // no other candidate can be as low
  float best_s = 1.0f;
  double best = std::numeric_limits<double>::infinity();
  for (size_t ci = 0; ci < nc; ++ci) {
    if (est[ci] - bound[ci] > best_hi) continue;  // cannot be the lowest
    const double sse = ovp_sse(g, victim, ties_up, x, rows, cols, cand[ci]);
    if (sse < best) {
      best = sse;
      best_s = cand[ci];
    }
  }
  return best_s;
}

OvpPairStats olive_pair_stats(const EncodedTensor& e) {
  const auto fmt = make_format(e.format);
  const auto* of = dynamic_cast<const OliveFormat*>(fmt.get());
  if (!of) throw Error("olive_pair_stats: '" + e.format + "' is not an OVP format");
  of->check(e);
  const OvpType& t = of->type();
  OvpPairStats st;
  st.pruning_known = false;
  const int64_t units = pair_units(e.cols);
  st.pairs = e.rows * units;
  const uint32_t id = of->identifier(e);
  for (int64_t u = 0; u < st.pairs; ++u) {
    uint32_t a, b;
    if (t.bits == 4) {
      a = e.elements[u] & 0xFu;
      b = e.elements[u] >> 4;
    } else {
      a = e.elements[2 * u];
      b = e.elements[2 * u + 1];
    }
    // A pair holds an outlier iff exactly one slot is the identifier (0x88 is two victims).
    if ((a == id) != (b == id)) {
      ++st.outlier_normal;
    } else {
      ++st.normal_normal;
    }
  }
  return st;
}

OvpPairStats olive_pair_stats(const std::string& spec, const float* x, int64_t rows, int64_t cols) {
  const auto fmt = make_format(spec);
  const auto* of = dynamic_cast<const OliveFormat*>(fmt.get());
  if (!of) throw Error("olive_pair_stats: '" + spec + "' is not an OVP format");
  OvpPairStats st;
  of->encode_impl(x, rows, cols, &st);
  return st;
}

namespace detail {
void register_olive_formats(Registry& r) {
  r.push_back({{"olive4",
                "per=tensor|row victim=larger|even scale=<float> ties=away|up "
                "sign=signed|unsigned|auto types=int|flint|int+flint",
                "OliVe 4-bit outlier-victim pairs: int4 normals, E2M1 abfloat (bias 2) outliers "
                "(Guo et al., ISCA 2023)"},
               [](FormatOptions& o) { return make_olive(kOvp4, o); }});
  r.push_back({{"olive8",
                "outlier=e4m3|e2m5 per=tensor|row victim=larger|even scale=<float> ties=away|up "
                "sign=signed|unsigned|auto",
                "OliVe 8-bit outlier-victim pairs: int8 normals, E4M3 abfloat (bias 4; paper) or "
                "E2M5 (bias 2; authors' code) outliers (Guo et al., ISCA 2023)"},
               [](FormatOptions& o) { return make_olive(kOvp8E4M3, o); }});
}
}  // namespace detail

}  // namespace qarch::quant
