// Parameters of the calibrated outlier generator (generator.h): one profile per activation
// tensor role and per weight role. The numbers and their sources live in YAML
// (workloads/outliers/default.yaml, compiled in); a model's YAML may override them under
// `outliers:`, and `qarch trace --outliers FILE` overlays another file.
//
// Activation roles (the GEMM inputs of a transformer layer):
//   qkv_in      input of the QKV projection (normalized hidden state)       [tokens, hidden]
//   q, k, v     query / key / value of one attention head                    [tokens, head_dim]
//   o_in        attention context, input of the output projection            [tokens, heads*d]
//   ffn_in      input of the FFN up/gate projections and of the MoE router   [tokens, hidden]
//   down_in     input of the FFN down projection (after the activation fn)   [tokens, inter]
//   lm_head_in  final normalized hidden state, input of the LM head          [tokens, hidden]
// Weight roles: qkv, o, gate, up, down, router, lm_head (MoE experts use gate/up/down).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qarch::workloads {

/// Gaussian scale mixture for heavy tails: with probability p an element's standard deviation
/// is multiplied by `scale`. Excess kurtosis of the mixture: 3 E[m^4] / E[m^2]^2 - 3.
struct TailMixture {
  double p = 0.0;
  double scale = 1.0;
};

/// How one activation tensor is generated (see generator.h for the model).
struct ActivationProfile {
  double std = 1.0;            ///< base standard deviation
  double channel_sigma = 0.0;  ///< lognormal spread of per-channel scales
  double token_sigma = 0.0;    ///< lognormal spread of per-token scales
  TailMixture tail;
  /// Systematic outlier channels: `outlier_count` channel indices (the same in every layer) or
  /// the explicit indices; their gains are log-evenly spaced over outlier_gain (min and max
  /// included) and assigned to the channels in a per-layer seeded order. channel_sigma does not
  /// apply to them: their scale is the gain alone.
  int64_t outlier_count = 0;
  std::pair<double, double> outlier_gain{1.0, 1.0};
  std::vector<int64_t> outlier_channels;
  /// > 0: rescale the outlier gains (keeping their ratios) so that the expected excess kurtosis
  /// of the tensor without its massive activations equals this value.
  double target_kurtosis = 0.0;
  /// Massive activations: at the token positions `massive_tokens` (0 = the first token of each
  /// sequence), `massive_count` fixed channels (or the explicit ones) take the value
  /// +-gain * median|x| (gains log-evenly spaced over massive_gain, seeded order, signs fixed
  /// across layers), from layer massive_from_layer on.
  std::vector<int64_t> massive_tokens{0};
  int64_t massive_count = 0;
  std::pair<double, double> massive_gain{1.0, 1.0};
  std::vector<int64_t> massive_channels;
  int64_t massive_from_layer = 0;
};

/// How one weight tensor [out_channels, in_channels] is generated.
struct WeightProfile {
  double std = 0.02;       ///< base standard deviation
  double row_sigma = 0.0;  ///< lognormal spread of per-output-channel scales
  double col_sigma = 0.0;  ///< lognormal spread of per-input-channel scales
  TailMixture tail;
  /// "Super weights": `super_count` single elements of value +-super_gain * std, at seeded
  /// positions or the explicit [row, col] ones, in the layers listed (empty: every layer).
  int64_t super_count = 0;
  double super_gain = 1.0;
  std::vector<int64_t> super_layers;
  std::vector<std::array<int64_t, 2>> super_positions;
};

/// The generator's parameters; every role of activation_roles() / weight_roles() is present.
struct OutlierParams {
  std::map<std::string, ActivationProfile> activations;
  std::map<std::string, WeightProfile> weights;

  /// The built-in defaults: workloads/outliers/default.yaml (compiled in).
  static OutlierParams defaults();
  /// Neutral profiles (no outliers, N(0,1) activations, N(0,0.02) weights): the base that
  /// default.yaml is applied to.
  static OutlierParams neutral();
  static const std::vector<std::string>& activation_roles();
  static const std::vector<std::string>& weight_roles();
};

/// Overlays an outlier-profile YAML document onto `params`. Format:
///   activations:
///     default: {std: 1.0, outlier_channels: {count: 6, gain: [20, 60]}, ...}
///     down_in: {massive: {gain: [500, 2000]}}
///   weights:
///     default: {std: 0.02, tail: {p: 0.005, scale: 5}}
///     down: {super_weights: {count: 1, gain: 100, layers: [1]}}
/// Keys under `default` apply to every role, then the role's own keys. `file` names the
/// source in errors (unknown keys and bad values are qarch::Error with file:line:col).
void apply_outlier_yaml(OutlierParams& params, const std::string& text, const std::string& file);
/// Reads a profile: a built-in name ("default", "outlier-free") or a YAML file path, applied
/// on top of `base`.
OutlierParams load_outlier_profile(const std::string& name_or_path, const OutlierParams& base);
/// Names of the built-in profiles (workloads/outliers/*.yaml).
std::vector<std::string> builtin_outlier_profiles();

}  // namespace qarch::workloads
