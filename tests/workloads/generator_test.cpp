// The seeded RNG (ziggurat normals) and the calibrated outlier generator: distribution checks,
// determinism and row independence, and that generated tensors reproduce the configured
// statistics (kurtosis, outlier fraction, outlier channel positions) as predicted analytically.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "qarch/common/error.h"
#include "qarch/quant/metrics.h"
#include "qarch/workloads/generator.h"
#include "qarch/workloads/model.h"
#include "qarch/workloads/rng.h"

namespace qarch::workloads {
namespace {

std::vector<TokenRef> tokens(int64_t n) {
  std::vector<TokenRef> t;
  for (int64_t i = 0; i < n; ++i) t.push_back({0, i});
  return t;
}

TEST(Rng, ZigguratIsStandardNormal) {
  const int64_t n = 1 << 22;
  std::vector<float> z(n);
  Xoshiro256pp g(12345);
  fill_normal(g, z.data(), n);
  double s1 = 0, s2 = 0, s4 = 0;
  int64_t over3 = 0, over_r = 0, over4 = 0;
  for (float v : z) {
    s1 += v;
    s2 += double(v) * v;
    s4 += double(v) * v * v * v;
    over3 += std::fabs(v) > 3.0f;
    over_r += std::fabs(v) > 3.6541528853610088f;  // the tail beyond the base layer
    over4 += std::fabs(v) > 4.0f;
  }
  const double dn = static_cast<double>(n);
  // Standard errors: mean 1/sqrt(n) = 4.9e-4, variance sqrt(2/n) = 6.9e-4, kurtosis
  // sqrt(24/n) = 2.4e-3. Tolerances are ~5 standard errors.
  EXPECT_NEAR(s1 / dn, 0.0, 2.5e-3);
  EXPECT_NEAR(s2 / dn, 1.0, 3.5e-3);
  EXPECT_NEAR(s4 / dn / ((s2 / dn) * (s2 / dn)) - 3.0, 0.0, 0.012);
  // Tail counts vs 2*Phi(-t) * n: t=3: 11,323; t=r: 1,083; t=4: 266 (Poisson sd 106, 33, 16).
  EXPECT_NEAR(static_cast<double>(over3), std::erfc(3.0 / std::sqrt(2.0)) * dn, 500);
  EXPECT_NEAR(static_cast<double>(over_r), std::erfc(3.6541528853610088 / std::sqrt(2.0)) * dn,
              165);
  EXPECT_NEAR(static_cast<double>(over4), std::erfc(4.0 / std::sqrt(2.0)) * dn, 80);
  // Kolmogorov-Smirnov distance to Phi over a sorted subsample: the 1% critical value is
  // 1.63 / sqrt(m).
  const int64_t m = 1 << 16;
  std::vector<float> sub(z.begin(), z.begin() + m);
  std::sort(sub.begin(), sub.end());
  double d = 0;
  for (int64_t i = 0; i < m; ++i) {
    const double cdf = 0.5 * std::erfc(-sub[i] / std::sqrt(2.0));
    d = std::max({d, std::fabs(cdf - double(i) / m), std::fabs(cdf - double(i + 1) / m)});
  }
  EXPECT_LT(d, 1.63 / std::sqrt(double(m)));
  // Symmetry and the odd count.
  std::vector<float> odd(7);
  fill_normal(g, odd.data(), 7);
  for (float v : odd) EXPECT_TRUE(std::isfinite(v));
}

TEST(Rng, HashesAndStreamsAreDeterministic) {
  Xoshiro256pp a(7), b(7), c(8);
  for (int i = 0; i < 10; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
  EXPECT_NE(hash_combine(1, 2), hash_combine(2, 1));
  EXPECT_NE(hash_string("q"), hash_string("k"));
}

TEST(Generator, RowsAreIndependentOfSampling) {
  const TensorGenerator gen(OutlierParams::defaults(), 42);
  const TensorKey key{3, "down_in"};
  const GeneratedTensor all = gen.activation(key, 256, tokens(64));
  const GeneratedTensor some = gen.activation(key, 256, {{0, 5}, {0, 50}});
  for (int64_t c = 0; c < 256; ++c) {
    EXPECT_EQ(some.data.row(0)[c], all.data.row(5)[c]);
    EXPECT_EQ(some.data.row(1)[c], all.data.row(50)[c]);
  }
  const GeneratedTensor w_all = gen.weight({1, "down"}, 100, 64, [] {
    std::vector<int64_t> r(100);
    for (int i = 0; i < 100; ++i) r[i] = i;
    return r;
  }());
  const GeneratedTensor w_some = gen.weight({1, "down"}, 100, 64, {3, 97});
  for (int64_t c = 0; c < 64; ++c) EXPECT_EQ(w_some.data.row(1)[c], w_all.data.row(97)[c]);
  // Another seed, another tensor; another layer, same outlier channel positions.
  const TensorGenerator gen2(OutlierParams::defaults(), 43);
  EXPECT_NE(gen2.activation(key, 256, tokens(4)).data.data,
            gen.activation(key, 256, tokens(4)).data.data);
  EXPECT_EQ(gen.activation({0, "qkv_in"}, 512, tokens(2)).outlier_channels,
            gen.activation({9, "ffn_in"}, 512, tokens(2)).outlier_channels);
  EXPECT_THROW(gen.weight({0, "down"}, 10, 4, {3, 2}), qarch::Error);
  EXPECT_THROW(gen.activation({0, "nope"}, 4, tokens(1)), qarch::Error);
}

// The measured statistics of a generated tensor agree with the analytic prediction.
void expect_reproduces(const GeneratedTensor& t, double kurt_tol, const char* what,
                       double std_tol = 0.03) {
  const quant::TensorStats s = quant::tensor_stats(t.data);
  const ExpectedStats e = expected_stats(t);
  SCOPED_TRACE(what);
  EXPECT_NEAR(s.stddev / e.stddev, 1.0, std_tol);
  EXPECT_NEAR(s.excess_kurtosis / e.excess_kurtosis, 1.0, kurt_tol)
      << "measured " << s.excess_kurtosis << " expected " << e.excess_kurtosis;
  // Outlier fraction: binomial noise on ~n*f elements; 15% relative or 3e-5 absolute.
  EXPECT_NEAR(s.outlier_fraction, e.outlier_fraction, std::max(0.15 * e.outlier_fraction, 3e-5))
      << "measured " << s.outlier_fraction << " expected " << e.outlier_fraction;
  // Channels: measured == expected, except the ones the prediction calls uncertain.
  // tensor_stats lists at most 32 channels (largest first): then only check inclusion.
  std::set<int64_t> measured(s.outlier_channels.begin(), s.outlier_channels.end());
  std::set<int64_t> uncertain(e.uncertain_channels.begin(), e.uncertain_channels.end());
  if (measured.size() < 32) {
    for (int64_t c : e.outlier_channels) EXPECT_TRUE(measured.count(c)) << "channel " << c;
  }
  for (int64_t c : measured) {
    const bool ok =
        uncertain.count(c) || std::find(e.outlier_channels.begin(), e.outlier_channels.end(), c) !=
                                  e.outlier_channels.end();
    EXPECT_TRUE(ok) << "unexpected outlier channel " << c;
  }
}

TEST(Generator, ReproducesConfiguredOutlierChannelsAndMassiveActivations) {
  OutlierParams p = OutlierParams::neutral();
  ActivationProfile& a = p.activations["qkv_in"];
  a.channel_sigma = 0.1;
  a.token_sigma = 0.1;
  a.outlier_channels = {17, 300, 777};
  a.outlier_gain = {20, 40};
  a.massive_channels = {5, 900};
  a.massive_tokens = {0, 100};
  a.massive_gain = {300, 300};
  a.massive_from_layer = 1;
  const TensorGenerator gen(p, 5);
  const GeneratedTensor t = gen.activation({1, "qkv_in"}, 1024, tokens(512));
  EXPECT_EQ(t.outlier_channels, (std::vector<int64_t>{17, 300, 777}));
  for (double g : t.outlier_gains) EXPECT_TRUE(g >= 20 && g <= 40);
  ASSERT_EQ(t.planted.size(), 4u);  // 2 channels x 2 tokens
  for (const auto& pe : t.planted) {
    EXPECT_TRUE(pe.row == 0 || pe.row == 100);
    EXPECT_NEAR(std::fabs(pe.value), 300 * 0.6744897501960817, 1e-3);
    EXPECT_EQ(t.data.row(pe.row)[pe.col], pe.value);
  }
  // Massive activations are hundreds of times the median |x|.
  const quant::TensorStats s = quant::tensor_stats(t.data);
  EXPECT_GT(s.abs_max / s.abs_median, 250.0);
  // The planted channels are the measured outlier channels (massive ones included).
  const std::set<int64_t> ch(s.outlier_channels.begin(), s.outlier_channels.end());
  EXPECT_EQ(ch, (std::set<int64_t>{5, 17, 300, 777, 900}));
  expect_reproduces(t, 0.10, "planted");
  // Before massive_from_layer there are none.
  EXPECT_TRUE(gen.activation({0, "qkv_in"}, 1024, tokens(8)).planted.empty());
}

TEST(Generator, DefaultProfilesReproduceTheirStatistics) {
  const TensorGenerator gen(OutlierParams::defaults(), 1);
  for (const char* role : {"qkv_in", "o_in", "k", "v"}) {
    // Head-dim tensors get more rows: their kurtosis is set by 4 outlier channels of 128, so
    // its sampling noise shrinks only with the number of tokens.
    const bool head = role[1] == 0;
    const int64_t cols = head ? 128 : 1024;
    const GeneratedTensor t = gen.activation({3, role}, cols, tokens(head ? 8192 : 1024));
    expect_reproduces(t, 0.12, role);
  }
  // down_in: its tail mixture (1% of elements 6x wider) on top of outlier channels of gain 30
  // puts most of the fourth moment in ~10 elements per 1024 tokens: the sample kurtosis of one
  // tensor is then a +-60% estimate that converges only slowly (measured while writing this:
  // 1000, 4597, 3059 at 1k, 8k, 64k tokens vs 3043..3050 predicted). The mixture alone is
  // checked tightly in TailMixtureKurtosis; here the rest of the profile, without the tail.
  {
    OutlierParams p = OutlierParams::defaults();
    p.activations["down_in"].tail = {};
    const GeneratedTensor t = TensorGenerator(p, 1).activation({3, "down_in"}, 2752, tokens(1024));
    EXPECT_EQ(t.planted.size(), 1u);  // the super activation on token 0
    expect_reproduces(t, 0.12, "down_in without its tail");
  }
  const GeneratedTensor w = gen.weight({1, "down"}, 512, 1376, [] {
    std::vector<int64_t> r(512);
    for (int i = 0; i < 512; ++i) r[i] = i;
    return r;
  }());
  EXPECT_EQ(w.planted.size(), 1u);  // the super weight in layer 1
  EXPECT_NEAR(std::fabs(w.planted[0].value), 100 * 0.02, 1e-6);
  expect_reproduces(w, 0.12, "down weight");
  EXPECT_TRUE(gen.weight({2, "down"}, 8, 8, {0, 1}).planted.empty());  // layer 2: none
}

// The published figure the defaults are calibrated to: a standard LLM's activations have excess
// kurtosis ~1800 (OSP), an outlier-free model's ~0; LLM.int8()'s ~6 dimensions up to ~60.
TEST(Generator, DefaultsMatchPublishedKurtosisRange) {
  const TensorGenerator gen(OutlierParams::defaults(), 1);
  for (int64_t layer : {0, 1, 5, 17}) {
    const GeneratedTensor t = gen.activation({layer, "qkv_in"}, 4096, tokens(256));
    const ExpectedStats e = expected_stats(t);
    // Without the massive activations (layers 0 and 1) LLM.int8()'s gains give ~1500 at this
    // width: the order of OSP's ~1800 (target_kurtosis pins an exact value).
    if (layer < 2) {
      EXPECT_GT(e.excess_kurtosis, 1200) << layer;
      EXPECT_LT(e.excess_kurtosis, 2400) << layer;
      EXPECT_TRUE(t.planted.empty());
    } else {
      EXPECT_EQ(t.planted.size(), 2u) << layer;  // two massive channels on token 0
    }
    EXPECT_EQ(t.outlier_channels.size(), 6u);
    const quant::TensorStats s = quant::tensor_stats(t.data);
    EXPECT_GT(s.max_over_median_channel, 20.0) << layer;
  }
  const OutlierParams free = load_outlier_profile("outlier-free", OutlierParams::defaults());
  const GeneratedTensor f = TensorGenerator(free, 1).activation({5, "qkv_in"}, 4096, tokens(256));
  EXPECT_NEAR(quant::tensor_stats(f.data).excess_kurtosis, 0.0, 0.05);
  EXPECT_TRUE(f.planted.empty());
}

TEST(Generator, TailMixtureKurtosis) {
  // p = 0.02, scale 4: E[m^2] = 0.98 + 0.02*16 = 1.3, E[m^4] = 0.98 + 0.02*256 = 6.1,
  // excess kurtosis 3 * 6.1 / 1.69 - 3 = 7.828 (no row/column spread).
  OutlierParams p = OutlierParams::neutral();
  p.weights["up"].tail = {0.02, 4.0};
  const GeneratedTensor w = TensorGenerator(p, 3).weight({0, "up"}, 2048, 1024, [] {
    std::vector<int64_t> r(2048);
    for (int i = 0; i < 2048; ++i) r[i] = i;
    return r;
  }());
  // The 16-bit Bernoulli threshold rounds p to 1311/65536 = 0.020004: negligible here.
  EXPECT_NEAR(expected_stats(w).excess_kurtosis, 7.828, 0.01);
  EXPECT_NEAR(quant::tensor_stats(w.data).excess_kurtosis, 7.828, 0.25);
  EXPECT_NEAR(quant::tensor_stats(w.data).stddev, 0.02 * std::sqrt(1.3), 0.0002);
  expect_reproduces(w, 0.05, "mixture");
}

TEST(Generator, TargetKurtosisCalibratesTheGains) {
  OutlierParams p = OutlierParams::neutral();
  ActivationProfile& a = p.activations["ffn_in"];
  a.outlier_count = 6;
  a.outlier_gain = {10, 30};
  a.target_kurtosis = 400;
  const TensorGenerator gen(p, 9);
  const GeneratedTensor t = gen.activation({0, "ffn_in"}, 2048, tokens(1024));
  EXPECT_NEAR(expected_stats(t).excess_kurtosis, 400, 4);
  EXPECT_NEAR(quant::tensor_stats(t.data).excess_kurtosis, 400, 40);
  // The gains keep their ratios (log-uniform draws in [10, 30] rescaled by one factor).
  const double r = t.outlier_gains.back() / t.outlier_gains.front();
  EXPECT_GT(r, 1.0 / 3.0 - 1e-9);
  EXPECT_LT(r, 3.0 + 1e-9);
  // Unreachable: 6 channels of 2048 cannot exceed ~3 * 2048 / 6.
  p.activations["ffn_in"].target_kurtosis = 5000;
  EXPECT_THROW(TensorGenerator(p, 9).activation({0, "ffn_in"}, 2048, tokens(4)), qarch::Error);
}

TEST(OutlierYaml, DefaultsOverridesAndErrors) {
  const OutlierParams d = OutlierParams::defaults();
  EXPECT_EQ(d.activations.at("qkv_in").outlier_count, 6);
  EXPECT_EQ(d.activations.at("qkv_in").outlier_gain, (std::pair<double, double>{20, 60}));
  EXPECT_EQ(d.activations.at("v").outlier_count, 0);
  EXPECT_EQ(d.activations.at("down_in").massive_from_layer, 1);
  EXPECT_EQ(d.activations.at("q").std, 1.0);  // from `default`
  EXPECT_EQ(d.weights.at("down").super_count, 1);
  EXPECT_EQ(d.weights.at("up").super_count, 0);
  // A model's overrides: LLaMA-2-7B's measured massive dimensions and super weight.
  const ModelConfig m = load_model("llama2-7b");
  EXPECT_EQ(m.outliers.activations.at("qkv_in").massive_channels,
            (std::vector<int64_t>{1415, 2533}));
  EXPECT_EQ(m.outliers.weights.at("down").super_positions.size(), 1u);
  // `default` in an overlay reaches every role.
  OutlierParams p = d;
  apply_outlier_yaml(p, "activations:\n  default: {std: 2.5}\n  k: {std: 0.5}\n", "o.yaml");
  EXPECT_EQ(p.activations.at("down_in").std, 2.5);
  EXPECT_EQ(p.activations.at("k").std, 0.5);
  EXPECT_EQ(p.activations.at("down_in").outlier_count, 4);  // untouched
  auto err = [](const std::string& text) {
    try {
      OutlierParams q = OutlierParams::defaults();
      apply_outlier_yaml(q, text, "o.yaml");
    } catch (const qarch::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string e = err("activations:\n  qkv: {std: 1}\n");
  EXPECT_NE(e.find("o.yaml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown role"), std::string::npos) << e;
  e = err("weights:\n  down:\n    super_weights: {gain: loud}\n");
  EXPECT_NE(e.find("o.yaml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("weights.down.super_weights.gain"), std::string::npos) << e;
  e = err("activations:\n  default:\n    massive: {gain: [10, 5]}\n");
  EXPECT_NE(e.find("activations.default.massive.gain"), std::string::npos) << e;
  e = err("activation: {}\n");
  EXPECT_NE(e.find("unknown key 'activation'"), std::string::npos) << e;
  EXPECT_THROW(load_outlier_profile("/nonexistent/x.yaml", d), qarch::Error);
  // Explicit channels beyond the width are reported.
  OutlierParams bad = OutlierParams::neutral();
  bad.activations["o_in"].outlier_channels = {5000};
  EXPECT_THROW(TensorGenerator(bad, 1).activation({0, "o_in"}, 4096, tokens(1)), qarch::Error);
}

}  // namespace
}  // namespace qarch::workloads
