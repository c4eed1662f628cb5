// The calibrated outlier generator: seeded synthetic activations and weights with the outlier
// structure LLMs are measured to have (parameters in outlier_params.h, defaults and their
// sources in workloads/outliers/default.yaml).
//
// Activation element (row r = one token, column c = one channel):
//   x[r][c] = row_scale[r] * col_scale[c] * m * z,   z ~ N(0, 1)
//   row_scale[r] = std * exp(token_sigma * n_r)            (per-token spread)
//   col_scale[c] = exp(channel_sigma * n_c)                 (ordinary channels)
//   col_scale[c] = gain_c                                   (the systematic outlier channels)
//   m = tail.scale with probability tail.p, else 1          (Gaussian scale mixture)
// then the massive activations overwrite single elements: at token positions massive_tokens,
// channel c gets sign_c * gain * (0.6745 * std), 0.6745 * std being the median |x| of N(0, std^2).
// Weights [out, in] follow the same form with per-row (output channel) and per-column (input
// channel) spreads and no outlier channels; "super weights" overwrite single elements with
// +-super_gain * std.
//
// Determinism: everything derives from (seed, tensor key, row): a row's values do not depend on
// which other rows are generated (see rng.h), the outlier channel positions depend only on the
// seed, the role group and the width (so they are the same channels in every layer, as
// LLM.int8() observed); which channel gets which gain depends on (seed, layer, role).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/quant/tensor.h"
#include "qarch/workloads/outlier_params.h"

namespace qarch::workloads {

/// Which token a generated activation row is: sequence index and position in the sequence.
struct TokenRef {
  int64_t seq = 0;
  int64_t pos = 0;
};

/// Names a generated tensor: layer, role (outlier_params.h), MoE expert and attention head
/// (-1 when not applicable).
struct TensorKey {
  int64_t layer = 0;
  std::string role;
  int64_t expert = -1;
  int64_t head = -1;
  /// "layer 3 role down_in expert 2"
  std::string str() const;
};

/// A planted single element (massive activation or super weight), in local row coordinates.
struct PlantedElement {
  int64_t row = 0;
  int64_t col = 0;
  float value = 0;
};

/// A generated tensor and its ground truth (what was planted), for tests and trace manifests.
struct GeneratedTensor {
  quant::Tensor data;                     ///< [rows, cols]
  std::vector<float> row_scale;           ///< per row: std times the token / output-channel factor
  std::vector<float> col_scale;           ///< per column: channel factor times the outlier gain
  TailMixture tail;                       ///< the scale mixture m
  std::vector<int64_t> outlier_channels;  ///< systematic outlier channels, ascending
  std::vector<double> outlier_gains;      ///< their gains (same order)
  std::vector<int64_t> massive_channels;  ///< channels of the massive activations
  std::vector<PlantedElement> planted;    ///< massive activations / super weights
};

/// Expected statistics of a generated tensor, computed analytically from its row/column scales,
/// tail mixture and planted elements (the definitions match quant::tensor_stats).
struct ExpectedStats {
  double mean = 0;
  double stddev = 0;
  double excess_kurtosis = 0;
  double outlier_fraction = 0;  ///< expected fraction with |x - mean| > outlier_sigma * stddev
  /// Columns whose max |x| exceeds outlier_sigma * stddev with probability > 1 - 1e-4 (or by a
  /// planted element); `uncertain_channels` are those with probability in [1e-4, 1 - 1e-4]
  /// (tight bounds, so that summed over thousands of columns a surprise stays unlikely).
  std::vector<int64_t> outlier_channels;
  std::vector<int64_t> uncertain_channels;
};
ExpectedStats expected_stats(const GeneratedTensor& t, double outlier_sigma = 6.0);

/// Seeded generator of activations and weights (see file comment). Thread-safe (const).
class TensorGenerator {
 public:
  TensorGenerator(OutlierParams params, uint64_t seed);

  /// Activation rows for the tokens `rows` ([rows.size(), cols]) with the profile of key.role.
  GeneratedTensor activation(const TensorKey& key, int64_t cols,
                             const std::vector<TokenRef>& rows) const;
  /// Rows `rows` (ascending, each < total_rows) of the weight [total_rows, cols] of key.role.
  GeneratedTensor weight(const TensorKey& key, int64_t total_rows, int64_t cols,
                         const std::vector<int64_t>& rows) const;

  const OutlierParams& params() const { return params_; }
  uint64_t seed() const { return seed_; }

 private:
  OutlierParams params_;
  uint64_t seed_;
};

/// The expected excess kurtosis of an activation profile at width `cols` for a given set of
/// per-channel factors (no massive activations, token factors in expectation): used for the
/// target_kurtosis calibration and exposed for documentation and tests.
double profile_kurtosis(const ActivationProfile& p, const std::vector<float>& col_scale);

}  // namespace qarch::workloads
