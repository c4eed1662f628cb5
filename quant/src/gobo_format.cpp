// GOBO (Zadeh, Edo, Awad, Moshovos, "GOBO: Quantizing Attention-Based NLP Models for Low
// Latency and Energy Efficient Inference", MICRO 2020): weight-only dictionary quantization.
//
// Per tensor (one "layer"):
// 1. Outliers: fit a Gaussian (mean mu, population standard deviation sigma: the maximum-
//    likelihood fit) to all weights; a weight is an outlier if |w - mu| > threshold * sigma.
//    GOBO (section III) decides by the weight's log-probability under the fitted Gaussian (we
//    recall a threshold of -4, which keeps ~0.1% of BERT's weights as outliers); a log-density
//    threshold depends on the tensor's absolute scale (for sigma = 0.04, typical of BERT-base,
//    log N(w) < -4 is |w - mu| > 3.55 sigma), so qarch states the threshold in sigmas,
//    default 3.5. The paper's text could not be re-read while writing this: treat the default
//    as our reading, not a quotation.
// 2. The other weights (the "Gaussian group") become bits-wide indices into 2^bits centroids
//    chosen by GOBO's iteration (section III, as we read it): start from 2^bits centroids
//    evenly spaced over [min, max] of the group; repeat { each centroid := mean of the weights
//    assigned to it (an empty bin keeps its centroid); reassign every weight to its nearest
//    centroid } while the L1 norm sum |w - centroid(w)| decreases; stop at the first iteration
//    that does not decrease it and keep the centroids before it (at most 1000 iterations).
//    GOBO uses the L1 norm rather than K-means' L2 as the convergence test, which stops after
//    fewer iterations. "Nearest": the boundary between sorted neighbours a < b is their
//    midpoint (a + b) / 2 computed in double; a weight exactly on it goes to a. Centroid
//    arithmetic is in double, bin sums and L1 norms from prefix sums over the sorted group
//    (so an iteration costs O(2^bits log n); N(0,1) data takes ~90 iterations).
// 3. Storage: the centroids and outliers are rounded to the storage type (RNE; FP16 saturates
//    at +-65504): store=fp16
//    (default; GOBO's hardware computes in FP16, so decode() equals the FP16 operand the PEs
//    see) or store=fp32 (the paper's storage). Every weight is then assigned to its nearest
//    stored centroid.
//
// Layout: elements = bits-wide centroid indices for every element (pack_codes; 0 at outlier
// positions, where the index is unused); indices = outlier positions, row-major flat index,
// ascending; store=fp16: scales = 2^bits centroid FP16 codes then one FP16 code per outlier,
// each 2 bytes little-endian, fp32 empty; store=fp32: fp32 = 2^bits centroids then the outlier
// values, scales empty. Storage ~ bits + (16 + 32) * outlier fraction bits per element.
//
// decode_operand: store=fp16: each element is its FP16 value's <shift, mant> (fp_decode_pair),
// scale_exp = -24 (FP16's unit), one group. store=fp32: each stored value is M * 2^E with
// |M| in [2^23, 2^24) (frexp); scale_exp = the smallest E over the stored non-zero values and
// shift = E - scale_exp, which must stay <= 39 so that M << shift fits an int64: otherwise
// decode_operand raises qarch::Error (values spanning more than 2^39 cannot be one integer
// operand). NaN/Inf inputs raise qarch::Error; tensors of 2^32 or more elements too.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "registry.h"

namespace qarch::quant {
namespace {

constexpr int kMaxIterations = 1000;
constexpr int kMaxFp32Shift = 39;

// Index of the nearest centroid: number of midpoints strictly below w.
inline uint32_t nearest(const std::vector<double>& mids, double w) {
  uint32_t k = 0;
  for (double m : mids) k += w > m;
  return k;
}

std::vector<double> midpoints(const std::vector<double>& c) {
  std::vector<double> m(c.size() - 1);
  for (size_t j = 0; j + 1 < c.size(); ++j) m[j] = (c[j] + c[j + 1]) * 0.5;
  return m;
}

// GOBO centroid selection on the Gaussian group g (see file comment). g is sorted first so that
// each iteration costs O(k log n): a bin is a contiguous range of the sorted group (a weight on
// a boundary belongs to the lower bin), its sum comes from prefix sums, and its L1 norm
// sum |w - c| from the prefix sums on either side of c.
std::vector<double> select_centroids(std::vector<float> g, int k, int* iterations = nullptr) {
  std::vector<double> c(static_cast<size_t>(k), 0.0);
  if (iterations) *iterations = 0;
  if (g.empty()) return c;
  std::sort(g.begin(), g.end());
  const int64_t n = static_cast<int64_t>(g.size());
  std::vector<double> prefix(static_cast<size_t>(n) + 1, 0.0);
  for (int64_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + g[i];
  const double lo = g.front(), hi = g.back();
  for (int j = 0; j < k; ++j) c[j] = lo + (hi - lo) * j / (k - 1);
  c.front() = lo;
  c.back() = hi;
  // Bin j of centroids `cent` is [edge[j], edge[j+1]); returns the assignment's L1 norm.
  std::vector<int64_t> edge(static_cast<size_t>(k) + 1);
  auto assign = [&](const std::vector<double>& cent) {
    edge[0] = 0;
    edge[k] = n;
    for (int j = 0; j + 1 < k; ++j) {
      const double mid = (cent[j] + cent[j + 1]) * 0.5;
      edge[j + 1] =
          std::upper_bound(g.begin(), g.end(), mid, [](double m, float w) { return m < w; }) -
          g.begin();
    }
    double l1 = 0;
    for (int j = 0; j < k; ++j) {
      const int64_t a = edge[j], b = edge[j + 1];
      const int64_t p =
          std::clamp<int64_t>(std::upper_bound(g.begin() + a, g.begin() + b, cent[j],
                                               [](double m, float w) { return m < w; }) -
                                  g.begin(),
                              a, b);
      l1 += cent[j] * static_cast<double>(p - a) - (prefix[p] - prefix[a]) +
            (prefix[b] - prefix[p]) - cent[j] * static_cast<double>(b - p);
    }
    return l1;
  };
  double l1 = assign(c);
  for (int it = 0; it < kMaxIterations; ++it) {
    std::vector<double> next = c;
    for (int j = 0; j < k; ++j) {
      const int64_t a = edge[j], b = edge[j + 1];
      if (b > a) next[j] = (prefix[b] - prefix[a]) / static_cast<double>(b - a);
    }
    std::sort(next.begin(), next.end());
    const double l1_next = assign(next);
    if (!(l1_next < l1)) break;
    c = next;
    l1 = l1_next;
    if (iterations) *iterations = it + 1;
  }
  return c;
}

class GoboFormat final : public Format {
 public:
  GoboFormat(int bits, bool fp16, double threshold)
      : bits_(bits), fp16_(fp16), threshold_(threshold) {}

  std::string name() const override {
    return "gobo:bits=" + std::to_string(bits_) + ":store=" + (fp16_ ? "fp16" : "fp32") +
           ":threshold=" + format_g(threshold_);
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "gobo";
    t.element = "index";
    t.element_bits = bits_;
    t.decoder = "gobo";
    t.weight_only = true;
    t.encode_scope = EncodeScope::kTensor;  // outlier threshold and centroids from the whole tensor
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name());
    if (n >= (int64_t{1} << 32)) {
      throw Error("format '" + name() + "': " + std::to_string(n) +
                  " elements do not fit 32-bit outlier positions");
    }
    EncodedTensor e;
    e.format = name();
    e.rows = rows;
    e.cols = cols;
    const int k = 1 << bits_;

    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const double mu = n ? sum / static_cast<double>(n) : 0.0;
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += (x[i] - mu) * (x[i] - mu);
    const double sigma = n ? std::sqrt(ss / static_cast<double>(n)) : 0.0;
    const double limit = threshold_ * sigma;

    std::vector<float> group;
    group.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      if (std::fabs(x[i] - mu) > limit) {
        e.indices.push_back(static_cast<uint32_t>(i));
      } else {
        group.push_back(x[i]);
      }
    }
    const std::vector<double> cent = select_centroids(group, k);

    // Stored centroids (rounded to the storage type) and the final assignment to them.
    std::vector<double> stored(static_cast<size_t>(k));
    std::vector<uint16_t> cent_codes(static_cast<size_t>(k));
    for (int j = 0; j < k; ++j) {
      const float f = static_cast<float>(cent[j]);
      if (fp16_) {
        cent_codes[j] = static_cast<uint16_t>(fp_encode(kFP16, f));
        stored[j] = fp_decode(kFP16, cent_codes[j]);
      } else {
        stored[j] = f;
        e.fp32.push_back(f);
      }
    }
    const auto mids = midpoints(stored);  // sorted: rounding is monotone
    std::vector<uint32_t> codes(static_cast<size_t>(n), 0);
    size_t next_out = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (next_out < e.indices.size() && e.indices[next_out] == i) {
        ++next_out;
        continue;
      }
      codes[i] = nearest(mids, x[i]);
    }
    e.elements = pack_codes(codes, rows, cols, bits_);
    if (fp16_) {
      auto put = [&e](uint16_t c) {
        e.scales.push_back(static_cast<uint8_t>(c & 0xFF));
        e.scales.push_back(static_cast<uint8_t>(c >> 8));
      };
      for (uint16_t c : cent_codes) put(c);
      for (uint32_t i : e.indices) put(static_cast<uint16_t>(fp_encode(kFP16, x[i])));
    } else {
      for (uint32_t i : e.indices) e.fp32.push_back(x[i]);
    }
    return e;
  }

  void decode(const EncodedTensor& e, float* out) const override {
    const Parts p = parts(e);
    const int64_t n = e.rows * e.cols;
    for (int64_t i = 0; i < n; ++i) out[i] = p.value[p.codes[i]];
    for (size_t j = 0; j < e.indices.size(); ++j) out[e.indices[j]] = p.value[p.k + j];
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    const Parts p = parts(e);
    DecodedTensor d;
    d.resize(e.rows, e.cols, e.rows, e.cols);
    // <shift, mant> of every stored value (centroids, then outliers).
    std::vector<ExpIntPair> pair(p.value.size());
    int32_t scale_exp = 0;
    if (fp16_) {
      scale_exp = kFP16.ulp_exp();
      for (size_t j = 0; j < pair.size(); ++j) pair[j] = fp_decode_pair(kFP16, p.fp16[j]);
    } else {
      std::vector<int> ex(pair.size(), 0);
      bool any = false;
      int emin = 0, emax = 0;
      for (size_t j = 0; j < pair.size(); ++j) {
        if (p.value[j] == 0.0f) continue;
        int e2;
        const float fr = std::frexp(p.value[j], &e2);
        pair[j].mant = static_cast<int32_t>(std::ldexp(fr, 24));
        ex[j] = e2 - 24;
        emin = any ? std::min(emin, ex[j]) : ex[j];
        emax = any ? std::max(emax, ex[j]) : ex[j];
        any = true;
      }
      if (emax - emin > kMaxFp32Shift) {
        throw Error("format '" + name() + "': stored values span 2^" + std::to_string(emin + 24) +
                    " .. 2^" + std::to_string(emax + 24) + ", wider than the 2^" +
                    std::to_string(kMaxFp32Shift) +
                    " an exponent-integer operand can hold; use store=fp16");
      }
      scale_exp = emin;
      for (size_t j = 0; j < pair.size(); ++j) {
        pair[j].shift = p.value[j] == 0.0f ? 0 : ex[j] - emin;
        if (p.value[j] == 0.0f) pair[j].mant = 0;
      }
    }
    if (!d.scale_exp.empty()) d.scale_exp[0] = scale_exp;
    const int64_t n = e.rows * e.cols;
    for (int64_t i = 0; i < n; ++i) {
      d.mant[i] = pair[p.codes[i]].mant;
      d.shift[i] = static_cast<uint8_t>(pair[p.codes[i]].shift);
    }
    for (size_t j = 0; j < e.indices.size(); ++j) {
      d.mant[e.indices[j]] = pair[p.k + j].mant;
      d.shift[e.indices[j]] = static_cast<uint8_t>(pair[p.k + j].shift);
    }
    return d;
  }

 private:
  // The checked contents of an encoding: codes, stored values (centroids then outliers) as
  // floats, and (fp16) their codes.
  struct Parts {
    size_t k = 0;
    std::vector<uint32_t> codes;
    std::vector<float> value;
    std::vector<uint16_t> fp16;
  };

  Parts parts(const EncodedTensor& e) const {
    check_encoded(e);
    Parts p;
    p.k = size_t{1} << bits_;
    const size_t nvals = p.k + e.indices.size();
    const uint64_t n = static_cast<uint64_t>(e.rows) * static_cast<uint64_t>(e.cols);
    for (size_t j = 0; j < e.indices.size(); ++j) {
      if (e.indices[j] >= n || (j && e.indices[j] <= e.indices[j - 1])) {
        throw Error("encoded '" + name() + "': outlier position " + std::to_string(j) + " (" +
                    std::to_string(e.indices[j]) + ") is out of range or not ascending");
      }
    }
    if (fp16_) {
      if (e.scales.size() != 2 * nvals || !e.fp32.empty()) {
        throw Error("encoded '" + name() + "': expected " + std::to_string(2 * nvals) +
                    " FP16 bytes (centroids and outliers), got " + std::to_string(e.scales.size()));
      }
      p.fp16.resize(nvals);
      p.value.resize(nvals);
      for (size_t j = 0; j < nvals; ++j) {
        p.fp16[j] = static_cast<uint16_t>(e.scales[2 * j] | (e.scales[2 * j + 1] << 8));
        p.value[j] = fp_decode(kFP16, p.fp16[j]);
      }
    } else {
      if (e.fp32.size() != nvals || !e.scales.empty()) {
        throw Error("encoded '" + name() + "': expected " + std::to_string(nvals) +
                    " FP32 values (centroids and outliers), got " + std::to_string(e.fp32.size()));
      }
      p.value = e.fp32;
    }
    for (size_t j = 0; j < nvals; ++j) {
      if (!std::isfinite(p.value[j])) {
        throw Error("encoded '" + name() + "': stored value " + std::to_string(j) +
                    " is not finite");
      }
    }
    p.codes = unpack_codes(e.elements, e.rows, e.cols, bits_);
    return p;
  }

  int bits_;
  bool fp16_;
  double threshold_;
};

}  // namespace

namespace detail {
void register_gobo_formats(Registry& r) {
  r.push_back({{"gobo", "bits=3 (2..4) store=fp16|fp32 threshold=3.5 (sigmas)",
                "GOBO weight dictionary: Gaussian-fit outliers kept with positions, the rest as "
                "indices into 2^bits L1-iterated centroids (Zadeh et al., MICRO 2020)"},
               [](FormatOptions& o) -> std::unique_ptr<Format> {
                 const int bits = static_cast<int>(o.get_int("bits", 3, 2, 4));
                 const bool fp16 = o.get_choice("store", "fp16", {"fp16", "fp32"}) == "fp16";
                 const double th = o.get_double("threshold", 3.5, 0.0, 1e6);
                 o.finish();
                 return std::make_unique<GoboFormat>(bits, fp16, th);
               }});
}
}  // namespace detail

}  // namespace qarch::quant
