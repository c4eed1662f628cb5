// SqueezeLLM (Kim, Hooper, Gholami, Dong, Li, Shen, Mahoney, Keutzer, "SqueezeLLM: Dense-and-
// Sparse Quantization", arXiv 2306.07629, 2023; ICML 2024): weight-only, non-uniform
// quantization with one codebook (lookup table) of 2^bits values per output channel, plus a
// dense-and-sparse decomposition that keeps a small fraction of the weights in FP16 beside the
// codes.
//
// What we follow (from memory of the paper's sections 4.1 / 4.2 and summaries of it; neither the
// PDF nor the authors' code, SqueezeAILab/SqueezeLLM, could be re-read while writing this, so
// treat these as our reading):
// - per output channel (a row of the [out, in] weight matrix) the 2^bits centroids of a 1-D
//   k-means. The paper weights each value by its Fisher information (sensitivity-based
//   k-means); qarch has no gradients or calibration data for weights, so the k-means here is
//   unweighted (plain 1-D k-means, Lloyd's algorithm), the paper's sensitivity-agnostic
//   non-uniform baseline. Weighting by a user-given sensitivity is not implemented.
// - the LUT entries are FP16; the sparse part holds FP16 values with their positions (the
//   authors store it as CSR; qarch as a flat position list, costed at 32 bits each).
// - sparse share: the paper's headline dense-and-sparse setting keeps 0.45% of the weights
//   (0.05% sensitive values + 0.40% outliers). Without sensitivities every sparse value here is a
//   magnitude outlier: the sparse_count(sparse, n) largest |w| of the tensor (ties: the lower
//   flat index first). The paper picks outliers by a magnitude threshold, which is the same set.
//
// Our choices where the source is silent or unusable (documented so results reproduce):
// - sparse_count = ceil(sparse * n) (1e-9 tolerance on the product), per tensor, not per row.
// - k-means per row on the row's non-sparse values g (sorted; n_g of them): initial centroid
//   j = g[floor((j + 1/2) n_g / k)] (the (j + 1/2)/k quantile; deterministic, no seed needed);
//   then Lloyd iterations { bins by the midpoints of neighbouring centroids (a value exactly on
//   a midpoint goes to the lower bin); each centroid := mean of its bin (an empty bin keeps its
//   centroid); sort } until the bins stop changing (a fixed point) or `iters` iterations
//   (default 50). Arithmetic in double; bins and sums from prefix sums over the sorted row, so
//   an iteration costs O(k log n_g). A row with no dense value gets centroids 0.
// - centroids rounded to FP16 (RNE, saturating at +-65504), stored sorted (rounding is
//   monotone); every dense weight then takes the nearest stored centroid (midpoints in double,
//   ties to the lower one). Sparse values are rounded to FP16 the same way.
// - NaN/Inf inputs raise qarch::Error; so do tensors of 2^32 or more elements (positions are
//   32-bit).
//
// Layout: elements = bits-wide codebook indices for every element, pack_codes (0 at sparse
// positions); scales = rows x 2^bits FP16 codebook codes (row-major), then one FP16 code per
// sparse value, each 2 bytes little-endian; indices = sparse positions, row-major flat index,
// ascending; fp32 empty. Storage: bits + 16 * 2^bits / cols + 48 * sparse bits per element.
//
// decode_operand: every stored value is FP16, so each element is its FP16 code's <shift, mant>
// (fp_decode_pair) with one scale group, scale_exp = -24 (FP16's unit), as GOBO store=fp16:
// the PE receives FP16 weights (the authors' kernels look the LUT up and multiply in FP16).
#include "qarch/quant/squeezellm.h"

#include <algorithm>
#include <cmath>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "registry.h"

namespace qarch::quant {

namespace {

// 1-D k-means on the sorted values g (see file comment); returns k centroids, sorted.
std::vector<double> kmeans_sorted(const float* g, int64_t n, int k, int max_iterations,
                                  std::vector<double>& prefix, int64_t* iterations) {
  std::vector<double> c(static_cast<size_t>(k), 0.0);
  if (n == 0) return c;
  prefix.resize(static_cast<size_t>(n) + 1);
  prefix[0] = 0;
  for (int64_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + g[i];
  for (int j = 0; j < k; ++j) c[j] = g[static_cast<int64_t>((j + 0.5) * n / k)];
  std::vector<int64_t> edge(static_cast<size_t>(k) + 1), prev(static_cast<size_t>(k) + 1, -1);
  for (int it = 0; it < max_iterations; ++it) {
    edge[0] = 0;
    edge[k] = n;
    for (int j = 0; j + 1 < k; ++j) {
      const double mid = (c[j] + c[j + 1]) * 0.5;
      edge[j + 1] =
          std::upper_bound(g + edge[j], g + n, mid, [](double m, float w) { return m < w; }) - g;
    }
    if (edge == prev) break;
    for (int j = 0; j < k; ++j) {
      const int64_t a = edge[j], b = edge[j + 1];
      if (b > a) c[j] = (prefix[b] - prefix[a]) / static_cast<double>(b - a);
    }
    std::sort(c.begin(), c.end());
    prev = edge;
    ++*iterations;
  }
  return c;
}

class SqueezeLlmFormat final : public Format {
 public:
  SqueezeLlmFormat(int bits, double sparse, int iters)
      : bits_(bits), sparse_(sparse), iters_(iters) {}

  std::string name() const override {
    return FormatSpec{"squeezellm",
                      {{"bits", std::to_string(bits_)},
                       {"iters", std::to_string(iters_)},
                       {"sparse", format_g(sparse_)}}}
        .str();
  }

  FormatTraits traits() const override {
    FormatTraits t;
    t.family = "squeezellm";
    t.element = "index";
    t.element_bits = bits_;
    t.decoder = "lut";
    t.weight_only = true;
    t.outlier_fraction = sparse_;
    t.encode_scope = EncodeScope::kTensor;  // sparse outliers chosen over the tensor
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    require_finite(x, rows * cols, cols, name());
    if (rows * cols >= (int64_t{1} << 32)) {
      throw Error("format '" + name() + "': " + std::to_string(rows * cols) +
                  " elements do not fit 32-bit sparse positions");
    }
    return squeezellm_encode(squeezellm_setup(x, rows, cols, bits_, sparse_, iters_), x, name());
  }

  void decode(const EncodedTensor& e, float* out) const override {
    const Parts p = parts(e);
    const size_t k = size_t{1} << bits_;
    std::vector<float> table(k);
    for (int64_t r = 0; r < e.rows; ++r) {
      for (size_t j = 0; j < k; ++j) table[j] = fp_decode(kFP16, p.fp16[r * k + j]);
      const uint32_t* c = p.codes.data() + r * e.cols;
      float* o = out + r * e.cols;
      for (int64_t i = 0; i < e.cols; ++i) o[i] = table[c[i]];
    }
    for (size_t j = 0; j < e.indices.size(); ++j)
      out[e.indices[j]] = fp_decode(kFP16, p.fp16[e.rows * k + j]);
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    const Parts p = parts(e);
    const size_t k = size_t{1} << bits_;
    DecodedTensor d;
    d.resize(e.rows, e.cols, e.rows, e.cols);
    if (!d.scale_exp.empty()) d.scale_exp[0] = kFP16.ulp_exp();
    auto put = [&d](int64_t i, uint16_t code) {
      const ExpIntPair q = fp_decode_pair(kFP16, code);
      d.mant[i] = q.mant;
      d.shift[i] = static_cast<uint8_t>(q.shift);
    };
    for (int64_t r = 0; r < e.rows; ++r)
      for (int64_t i = 0; i < e.cols; ++i)
        put(r * e.cols + i, p.fp16[r * k + p.codes[r * e.cols + i]]);
    for (size_t j = 0; j < e.indices.size(); ++j) put(e.indices[j], p.fp16[e.rows * k + j]);
    return d;
  }

 private:
  struct Parts {
    std::vector<uint32_t> codes;
    std::vector<uint16_t> fp16;  // codebooks, then sparse values
  };

  Parts parts(const EncodedTensor& e) const {
    check_encoded(e);
    const uint64_t n = static_cast<uint64_t>(e.rows) * static_cast<uint64_t>(e.cols);
    const int64_t want = squeezellm_sparse_count(sparse_, static_cast<int64_t>(n));
    if (static_cast<int64_t>(e.indices.size()) != want) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(want) +
                  " sparse positions, got " + std::to_string(e.indices.size()));
    }
    for (size_t j = 0; j < e.indices.size(); ++j) {
      if (e.indices[j] >= n || (j && e.indices[j] <= e.indices[j - 1])) {
        throw Error("encoded '" + name() + "': sparse position " + std::to_string(j) + " (" +
                    std::to_string(e.indices[j]) + ") is out of range or not ascending");
      }
    }
    const size_t nvals = static_cast<size_t>(e.rows << bits_) + e.indices.size();
    if (e.scales.size() != 2 * nvals || !e.fp32.empty()) {
      throw Error("encoded '" + name() + "': expected " + std::to_string(2 * nvals) +
                  " FP16 bytes (codebooks and sparse values), got " +
                  std::to_string(e.scales.size()));
    }
    Parts p;
    p.fp16.resize(nvals);
    for (size_t j = 0; j < nvals; ++j) {
      p.fp16[j] = static_cast<uint16_t>(e.scales[2 * j] | (e.scales[2 * j + 1] << 8));
      if (fp_is_special(kFP16, p.fp16[j])) {
        throw Error("encoded '" + name() + "': stored FP16 value " + std::to_string(j) +
                    " is not finite");
      }
    }
    p.codes = unpack_codes(e.elements, e.rows, e.cols, bits_);
    return p;
  }

  int bits_;
  double sparse_;
  int iters_;
};

std::unique_ptr<Format> make_squeezellm(int alias_bits, FormatOptions& o) {
  const int bits = detail::width_option(o, alias_bits, "squeezellm", 4, 2, 4);
  const int iters = static_cast<int>(o.get_int("iters", 50, 1, 1000));
  const double sparse = o.get_double("sparse", 0.0045, 0.0, 0.5);
  o.finish();
  return std::make_unique<SqueezeLlmFormat>(bits, sparse, iters);
}

}  // namespace

int64_t squeezellm_sparse_count(double fraction, int64_t n) {
  return detail::share_count(fraction, n);
}

SqueezeLlmCodebook squeezellm_setup(const float* x, int64_t rows, int64_t cols, int bits,
                                    double sparse, int max_iterations) {
  const int64_t n = rows * cols;
  SqueezeLlmCodebook cb;
  cb.bits = bits;
  cb.rows = rows;
  cb.cols = cols;
  const int k = 1 << bits;

  // Sparse part: the `count` largest |x|, ties to the lower index.
  cb.sparse = detail::largest_magnitudes(x, n, squeezellm_sparse_count(sparse, n));

  // Per-row k-means on the dense values.
  cb.centroids.resize(static_cast<size_t>(rows * k));
  std::vector<float> g(static_cast<size_t>(cols));
  std::vector<double> prefix;
  size_t next = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t m = 0;
    for (int64_t i = 0; i < cols; ++i) {
      const int64_t flat = r * cols + i;
      if (next < cb.sparse.size() && cb.sparse[next] == flat) {
        ++next;
        continue;
      }
      g[m++] = x[flat];
    }
    std::sort(g.begin(), g.begin() + m);
    const std::vector<double> c =
        kmeans_sorted(g.data(), m, k, max_iterations, prefix, &cb.kmeans_iterations);
    for (int j = 0; j < k; ++j)
      cb.centroids[r * k + j] = static_cast<uint16_t>(fp_encode(kFP16, static_cast<float>(c[j])));
  }
  return cb;
}

EncodedTensor squeezellm_encode(const SqueezeLlmCodebook& cb, const float* x,
                                const std::string& format) {
  EncodedTensor e;
  e.format = format;
  e.rows = cb.rows;
  e.cols = cb.cols;
  const int k = 1 << cb.bits;
  e.indices = cb.sparse;
  std::vector<uint32_t> codes(static_cast<size_t>(cb.rows * cb.cols), 0);
  std::vector<double> mids(static_cast<size_t>(k - 1));
  size_t next = 0;
  for (int64_t r = 0; r < cb.rows; ++r) {
    const uint16_t* c = cb.centroids.data() + r * k;
    for (int j = 0; j + 1 < k; ++j)
      mids[j] = (static_cast<double>(fp_decode(kFP16, c[j])) + fp_decode(kFP16, c[j + 1])) * 0.5;
    const float* xr = x + r * cb.cols;
    uint32_t* out = codes.data() + r * cb.cols;
    for (int64_t i = 0; i < cb.cols; ++i) {
      const double w = xr[i];
      uint32_t q = 0;
      for (int j = 0; j + 1 < k; ++j) q += w > mids[j];
      out[i] = q;
    }
    // Sparse positions of this row keep code 0.
    const uint64_t row_end = static_cast<uint64_t>((r + 1) * cb.cols);
    while (next < cb.sparse.size() && cb.sparse[next] < row_end) codes[cb.sparse[next++]] = 0;
  }
  e.elements = pack_codes(codes, cb.rows, cb.cols, cb.bits);
  auto put = [&e](uint16_t c) {
    e.scales.push_back(static_cast<uint8_t>(c & 0xFF));
    e.scales.push_back(static_cast<uint8_t>(c >> 8));
  };
  e.scales.reserve(2 * (cb.centroids.size() + cb.sparse.size()));
  for (uint16_t c : cb.centroids) put(c);
  for (uint32_t i : cb.sparse) put(static_cast<uint16_t>(fp_encode(kFP16, x[i])));
  return e;
}

namespace detail {
void register_squeezellm_formats(Registry& r) {
  r.push_back({{"squeezellm", "bits=4 (2..4) sparse=0.0045 (fraction kept in FP16) iters=50",
                "SqueezeLLM weights: per-row k-means FP16 codebooks of 2^bits entries (LUT) and "
                "the largest-magnitude fraction kept as sparse FP16 (Kim et al., ICML 2024); "
                "unweighted k-means"},
               [](FormatOptions& o) { return make_squeezellm(0, o); }});
  r.push_back({{"squeezellm3", "sparse=0.0045 iters=50",
                "SqueezeLLM at 3 bits (alias of "
                "squeezellm:bits=3)"},
               [](FormatOptions& o) { return make_squeezellm(3, o); }});
  r.push_back({{"squeezellm4", "sparse=0.0045 iters=50",
                "SqueezeLLM at 4 bits (alias of "
                "squeezellm:bits=4)"},
               [](FormatOptions& o) { return make_squeezellm(4, o); }});
}
}  // namespace detail

}  // namespace qarch::quant
