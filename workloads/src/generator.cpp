#include "qarch/workloads/generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "qarch/common/error.h"
#include "qarch/workloads/rng.h"

namespace qarch::workloads {

std::string TensorKey::str() const {
  std::string s = "layer " + std::to_string(layer) + " role " + role;
  if (expert >= 0) s += " expert " + std::to_string(expert);
  if (head >= 0) s += " head " + std::to_string(head);
  return s;
}

namespace {

// Median |z| of N(0, 1): the 0.75 quantile, Phi^-1(0.75).
constexpr double kMedianAbsNormal = 0.6744897501960817;

// Channel positions are shared by the roles that read the same hidden state (LLM.int8: the
// outlier dimensions are the same across layers and sublayers); q and k share theirs.
std::string channel_group(const std::string& role) {
  if (role == "qkv_in" || role == "ffn_in" || role == "lm_head_in") return "hidden";
  if (role == "q" || role == "k") return "qk";
  return role;
}

// `count` distinct values of [0, n), seeded partial Fisher-Yates (in draw order).
std::vector<int64_t> choose(uint64_t seed, int64_t n, int64_t count) {
  count = std::min(count, n);
  std::vector<int64_t> out;
  if (count <= 0) return out;
  // Sparse Fisher-Yates over a virtual identity permutation: O(count) memory.
  std::vector<std::pair<int64_t, int64_t>> swapped;  // (index, value) overrides
  auto value_at = [&](int64_t i) {
    for (const auto& p : swapped)
      if (p.first == i) return p.second;
    return i;
  };
  Xoshiro256pp g(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = i + static_cast<int64_t>(g.uniform() * static_cast<double>(n - i));
    const int64_t vi = value_at(i), vj = value_at(j);
    out.push_back(vj);
    bool found = false;
    for (auto& p : swapped)
      if (p.first == j) p.second = vi, found = true;
    if (!found) swapped.push_back({j, vi});
  }
  return out;
}

// n values log-evenly spaced over [r.first, r.second] (both ends included), in a seeded order.
std::vector<double> spread_shuffled(std::pair<double, double> r, size_t n, uint64_t seed) {
  std::vector<double> v(n, r.first);
  for (size_t i = 0; n > 1 && i < n; ++i) {
    v[i] = r.first * std::pow(r.second / r.first, static_cast<double>(i) / (n - 1));
  }
  Xoshiro256pp g(seed);
  for (size_t i = n; i > 1; --i) {
    std::swap(v[i - 1], v[static_cast<size_t>(g.uniform() * static_cast<double>(i))]);
  }
  return v;
}

uint64_t key_hash(uint64_t seed, const TensorKey& k) {
  uint64_t h = hash_combine(seed, hash_string(k.role));
  h = hash_combine(h, static_cast<uint64_t>(k.layer));
  h = hash_combine(h, static_cast<uint64_t>(k.expert + 1));
  return hash_combine(h, static_cast<uint64_t>(k.head + 1));
}

// E[m^2] and E[m^4] of the scale mixture.
void mixture_moments(const TailMixture& t, double* m2, double* m4) {
  const double s2 = t.scale * t.scale;
  *m2 = (1.0 - t.p) + t.p * s2;
  *m4 = (1.0 - t.p) + t.p * s2 * s2;
}

// Fills one row: out[c] = rs * col[c] * m * z.
void fill_row(Xoshiro256pp& g, float rs, const std::vector<float>& col, const TailMixture& tail,
              float* out, int64_t cols) {
  fill_normal(g, out, cols);
  for (int64_t c = 0; c < cols; ++c) out[c] *= rs * col[c];
  if (tail.p > 0) {
    // Bernoulli(p) per element from 16-bit slices of 64-bit draws (resolution 2^-16 is finer
    // than any tail probability the profiles use; p is rounded to it).
    const uint32_t thr = static_cast<uint32_t>(std::lround(tail.p * 65536.0));
    const float sc = static_cast<float>(tail.scale);
    for (int64_t c = 0; c < cols; c += 4) {
      const uint64_t r = g.next();
      for (int64_t j = 0; j < 4 && c + j < cols; ++j) {
        if (((r >> (16 * j)) & 0xffffu) < thr) out[c + j] *= sc;
      }
    }
  }
}

void check_index(int64_t idx, int64_t n, const TensorKey& key, const std::string& what) {
  if (idx >= n) {
    throw Error("outlier profile of " + key.str() + ": " + what + " " + std::to_string(idx) +
                " is beyond the tensor's " + std::to_string(n) + " " +
                (what.find("row") != std::string::npos ? "rows" : "columns"));
  }
}

}  // namespace

double profile_kurtosis(const ActivationProfile& p, const std::vector<float>& col_scale) {
  if (col_scale.empty()) return 0.0;
  double s2 = 0, s4 = 0;
  for (float c : col_scale) {
    const double c2 = static_cast<double>(c) * c;
    s2 += c2;
    s4 += c2 * c2;
  }
  double m2, m4;
  mixture_moments(p.tail, &m2, &m4);
  const double k = static_cast<double>(col_scale.size());
  // Token factor exp(sigma n): E[t^2] = e^{2 s^2}, E[t^4] = e^{8 s^2}; ratio e^{4 s^2}.
  const double tok = std::exp(4.0 * p.token_sigma * p.token_sigma);
  return 3.0 * (m4 / (m2 * m2)) * tok * k * s4 / (s2 * s2) - 3.0;
}

TensorGenerator::TensorGenerator(OutlierParams params, uint64_t seed)
    : params_(std::move(params)), seed_(seed) {}

GeneratedTensor TensorGenerator::activation(const TensorKey& key, int64_t cols,
                                            const std::vector<TokenRef>& rows) const {
  const auto it = params_.activations.find(key.role);
  if (it == params_.activations.end())
    throw Error("generator: unknown activation role '" + key.role + "'");
  const ActivationProfile& p = it->second;
  const int64_t n_rows = static_cast<int64_t>(rows.size());
  GeneratedTensor t;
  t.tail = p.tail;
  t.data = quant::Tensor::zeros({n_rows, cols});
  const uint64_t kh = key_hash(seed_, key);

  // Per-channel factors (this tensor's) and the systematic outlier channels (the group's).
  t.col_scale.assign(static_cast<size_t>(cols), 1.0f);
  {
    Xoshiro256pp g(hash_combine(kh, 0xc01));
    if (p.channel_sigma > 0) {
      for (auto& c : t.col_scale) c = static_cast<float>(std::exp(p.channel_sigma * normal(g)));
    }
  }
  const uint64_t group_seed = hash_combine(
      hash_combine(seed_, hash_string(channel_group(key.role))), static_cast<uint64_t>(cols));
  t.outlier_channels =
      p.outlier_channels.empty() ? choose(group_seed, cols, p.outlier_count) : p.outlier_channels;
  for (int64_t c : t.outlier_channels) {
    check_index(c, cols, key, "outlier channel");
    // An outlier channel's magnitude is its gain alone (no lognormal spread on top), so the
    // tensor's kurtosis is set by the configured gains, not by chance.
    t.col_scale[c] = 1.0f;
  }
  // Gains: log-evenly spaced over outlier_gain, assigned to the channels in a per-layer seeded
  // order (which channel is the largest varies by layer; the set of magnitudes does not).
  t.outlier_gains =
      spread_shuffled(p.outlier_gain, t.outlier_channels.size(), hash_combine(kh, 0x9a1));
  if (p.target_kurtosis > 0 && !t.outlier_channels.empty()) {
    // Rescale all gains by lambda so that profile_kurtosis() hits the target. As a function of
    // lambda the kurtosis first dips then rises monotonically to its supremum (all mass on the
    // outlier channels); bisect on the rising branch, in log lambda.
    auto kurt = [&](double lambda) {
      std::vector<float> cs = t.col_scale;
      for (size_t i = 0; i < t.outlier_channels.size(); ++i)
        cs[t.outlier_channels[i]] *= static_cast<float>(lambda * t.outlier_gains[i]);
      return profile_kurtosis(p, cs);
    };
    double lo = 1e-3, hi = 1e6;
    // Find the minimum of the dip on a coarse grid, then bisect above it.
    double best = lo, best_k = kurt(lo);
    for (double l = lo; l < hi; l *= 1.5) {
      const double k = kurt(l);
      if (k < best_k) best = l, best_k = k;
    }
    const double sup = kurt(hi);
    if (p.target_kurtosis <= best_k || p.target_kurtosis >= sup) {
      throw Error("outlier profile of " + key.str() + ": target_kurtosis " +
                  std::to_string(p.target_kurtosis) + " is not reachable with " +
                  std::to_string(t.outlier_channels.size()) + " outlier channels in " +
                  std::to_string(cols) + " (reachable: " + std::to_string(best_k) + " .. " +
                  std::to_string(sup) + "; more channels lower the maximum)");
    }
    lo = best;
    for (int i = 0; i < 200; ++i) {
      const double mid = std::sqrt(lo * hi);
      (kurt(mid) < p.target_kurtosis ? lo : hi) = mid;
    }
    for (auto& gain : t.outlier_gains) gain *= std::sqrt(lo * hi);
  }
  for (size_t i = 0; i < t.outlier_channels.size(); ++i) {
    t.col_scale[t.outlier_channels[i]] *= static_cast<float>(t.outlier_gains[i]);
  }

  // Rows: one stream per token.
  t.row_scale.resize(static_cast<size_t>(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    Xoshiro256pp g(hash_combine(hash_combine(kh, static_cast<uint64_t>(rows[r].seq)),
                                static_cast<uint64_t>(rows[r].pos)));
    const double tok = p.token_sigma > 0 ? std::exp(p.token_sigma * normal(g)) : 1.0;
    t.row_scale[r] = static_cast<float>(p.std * tok);
    fill_row(g, t.row_scale[r], t.col_scale, p.tail, t.data.row(r), cols);
  }

  // Massive activations.
  if (key.layer >= p.massive_from_layer && (p.massive_count > 0 || !p.massive_channels.empty())) {
    t.massive_channels = p.massive_channels.empty()
                             ? choose(hash_combine(group_seed, 0x3a55), cols, p.massive_count)
                             : p.massive_channels;
    std::vector<float> value;
    const std::vector<double> gains =
        spread_shuffled(p.massive_gain, t.massive_channels.size(), hash_combine(kh, 0x3a56));
    Xoshiro256pp sign(hash_combine(group_seed, 0x3a57));  // signs fixed across layers
    for (size_t i = 0; i < t.massive_channels.size(); ++i) {
      check_index(t.massive_channels[i], cols, key, "massive channel");
      const double s = (sign.next() >> 63) ? -1.0 : 1.0;
      value.push_back(static_cast<float>(s * gains[i] * kMedianAbsNormal * p.std));
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      if (std::find(p.massive_tokens.begin(), p.massive_tokens.end(), rows[r].pos) ==
          p.massive_tokens.end())
        continue;
      for (size_t i = 0; i < t.massive_channels.size(); ++i) {
        const int64_t c = t.massive_channels[i];
        t.data.row(r)[c] = value[i];
        t.planted.push_back({r, c, value[i]});
      }
    }
  }
  std::vector<size_t> order(t.outlier_channels.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return t.outlier_channels[a] < t.outlier_channels[b]; });
  std::vector<int64_t> ch;
  std::vector<double> gains;
  for (size_t i : order) ch.push_back(t.outlier_channels[i]), gains.push_back(t.outlier_gains[i]);
  t.outlier_channels = ch;
  t.outlier_gains = gains;
  return t;
}

GeneratedTensor TensorGenerator::weight(const TensorKey& key, int64_t total_rows, int64_t cols,
                                        const std::vector<int64_t>& rows) const {
  const auto it = params_.weights.find(key.role);
  if (it == params_.weights.end()) throw Error("generator: unknown weight role '" + key.role + "'");
  const WeightProfile& p = it->second;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= total_rows || (i > 0 && rows[i] <= rows[i - 1])) {
      throw Error("generator: weight rows must be ascending and within [0, " +
                  std::to_string(total_rows) + ")");
    }
  }
  const int64_t n_rows = static_cast<int64_t>(rows.size());
  GeneratedTensor t;
  t.tail = p.tail;
  t.data = quant::Tensor::zeros({n_rows, cols});
  const uint64_t kh = key_hash(seed_, key);
  t.col_scale.assign(static_cast<size_t>(cols), 1.0f);
  if (p.col_sigma > 0) {
    Xoshiro256pp g(hash_combine(kh, 0xc01));
    for (auto& c : t.col_scale) c = static_cast<float>(std::exp(p.col_sigma * normal(g)));
  }
  t.row_scale.resize(static_cast<size_t>(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    Xoshiro256pp g(hash_combine(kh, static_cast<uint64_t>(rows[r]) + 0x100000000ull));
    const double f = p.row_sigma > 0 ? std::exp(p.row_sigma * normal(g)) : 1.0;
    t.row_scale[r] = static_cast<float>(p.std * f);
    fill_row(g, t.row_scale[r], t.col_scale, p.tail, t.data.row(r), cols);
  }
  const bool layer_ok =
      p.super_layers.empty() ||
      std::find(p.super_layers.begin(), p.super_layers.end(), key.layer) != p.super_layers.end();
  if (layer_ok && (p.super_count > 0 || !p.super_positions.empty())) {
    std::vector<std::array<int64_t, 2>> pos = p.super_positions;
    if (pos.empty()) {
      const std::vector<int64_t> flat =
          choose(hash_combine(kh, 0x5e1), total_rows * cols, p.super_count);
      for (int64_t f : flat) pos.push_back({f / cols, f % cols});
    }
    Xoshiro256pp sign(hash_combine(kh, 0x5e2));
    for (const auto& rc : pos) {
      check_index(rc[0], total_rows, key, "super weight row");
      check_index(rc[1], cols, key, "super weight column");
      const float v = static_cast<float>(((sign.next() >> 63) ? -1.0 : 1.0) * p.super_gain * p.std);
      const auto at = std::lower_bound(rows.begin(), rows.end(), rc[0]);
      if (at == rows.end() || *at != rc[0]) continue;  // not among the generated rows
      const int64_t r = at - rows.begin();
      t.data.row(r)[rc[1]] = v;
      t.planted.push_back({r, rc[1], v});
    }
  }
  return t;
}

ExpectedStats expected_stats(const GeneratedTensor& t, double outlier_sigma) {
  ExpectedStats e;
  const int64_t rows = t.data.rows(), cols = t.data.cols();
  const double n = static_cast<double>(rows * cols);
  if (rows == 0 || cols == 0) return e;
  double m2w, m4w;
  mixture_moments(t.tail, &m2w, &m4w);
  double r2 = 0, r4 = 0, c2 = 0, c4 = 0;
  for (float r : t.row_scale) r2 += double(r) * r, r4 += double(r) * r * r * r;
  for (float c : t.col_scale) c2 += double(c) * c, c4 += double(c) * c * c * c;
  // Raw moments of the random part over all positions, minus the planted positions, plus the
  // planted values.
  double s1 = 0, s2 = r2 * c2 * m2w, s3 = 0, s4 = 3.0 * r4 * c4 * m4w;
  for (const auto& pe : t.planted) {
    const double rc = double(t.row_scale[pe.row]) * t.col_scale[pe.col];
    s2 -= rc * rc * m2w;
    s4 -= 3.0 * rc * rc * rc * rc * m4w;
    const double v = pe.value;
    s1 += v, s2 += v * v, s3 += v * v * v, s4 += v * v * v * v;
  }
  const double mu = s1 / n, e2 = s2 / n, e3 = s3 / n, e4 = s4 / n;
  const double var = e2 - mu * mu;
  const double cm4 = e4 - 4 * mu * e3 + 6 * mu * mu * e2 - 3 * mu * mu * mu * mu;
  e.mean = mu;
  e.stddev = std::sqrt(std::max(var, 0.0));
  e.excess_kurtosis = var > 0 ? cm4 / (var * var) - 3.0 : 0.0;

  // Outlier fraction and channels: P(|x - mu| > a) ~ P(|x| > a) for the (zero-mean) random part.
  const double a = outlier_sigma * e.stddev;
  const double rmax = *std::max_element(t.row_scale.begin(), t.row_scale.end());
  const double smax = std::max(1.0, t.tail.scale);
  std::vector<char> planted_col(static_cast<size_t>(cols), 0);
  std::vector<std::vector<int64_t>> planted_rows(static_cast<size_t>(cols));
  double count = 0;
  for (const auto& pe : t.planted) {
    planted_rows[pe.col].push_back(pe.row);
    if (std::fabs(pe.value - mu) > a) {
      count += 1;
      planted_col[pe.col] = 1;
    }
  }
  for (int64_t c = 0; c < cols; ++c) {
    const double cs = t.col_scale[c];
    double log_none = 0;                 // log P(no element of the column exceeds a)
    if (a / (cs * rmax * smax) < 9.0) {  // else every tail probability is < 1e-19
      for (int64_t r = 0; r < rows; ++r) {
        if (!planted_rows[c].empty() &&
            std::find(planted_rows[c].begin(), planted_rows[c].end(), r) != planted_rows[c].end())
          continue;
        const double sd = t.row_scale[r] * cs;
        const double z = a / (sd * std::sqrt(2.0));
        const double prob =
            (1.0 - t.tail.p) * std::erfc(z) + t.tail.p * std::erfc(z / t.tail.scale);
        count += prob;
        log_none += std::log1p(-std::min(prob, 1.0 - 1e-300));
      }
    }
    const double p_any = planted_col[c] ? 1.0 : 1.0 - std::exp(log_none);
    if (p_any > 1.0 - 1e-4) {
      e.outlier_channels.push_back(c);
    } else if (p_any >= 1e-4) {
      e.uncertain_channels.push_back(c);
    }
  }
  e.outlier_fraction = count / n;
  return e;
}

}  // namespace qarch::workloads
