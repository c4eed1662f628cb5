#include "qarch/sim/demo_tensors.h"

#include <random>

namespace qarch::sim {

quant::Tensor demo_activations(int64_t tokens, int64_t channels, uint64_t seed) {
  quant::Tensor t = quant::Tensor::zeros({tokens, channels});
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (auto& v : t.data) v = nd(rng);
  // Systematic outlier channels: LLM.int8() (Dettmers et al. 2022, section 4) reports outlier
  // features of magnitude up to ~60 in a handful of hidden dimensions, present in most tokens.
  // Six channels at 20x..60x the typical magnitude.
  const int64_t outlier_channels[] = {13, 200, 511, 777, 900, 1010};
  const float gains[] = {20.0f, 60.0f, 30.0f, 45.0f, 25.0f, 35.0f};
  for (int i = 0; i < 6; ++i) {
    const int64_t c = outlier_channels[i] % channels;
    for (int64_t r = 0; r < tokens; ++r) t.data[r * channels + c] *= gains[i];
  }
  // Massive activations: Sun et al. 2024 ("Massive Activations in LLMs", figure 1) find values
  // in the thousands on two fixed channels of the first token in LLaMA-2-7B.
  if (tokens > 0) {
    t.data[outlier_channels[1] % channels] = 1500.0f;
    t.data[outlier_channels[3] % channels] = -2200.0f;
  }
  return t;
}

quant::Tensor demo_weights(int64_t out_channels, int64_t in_channels, uint64_t seed) {
  quant::Tensor t = quant::Tensor::zeros({out_channels, in_channels});
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  for (auto& v : t.data) v = nd(rng);
  // "Super weights" (Yu et al. 2024): a handful of scalars orders of magnitude above the rest.
  if (!t.data.empty()) {
    t.data[(7 * in_channels + 3) % t.data.size()] = 1.2f;
    t.data[(in_channels / 2) % t.data.size()] = -0.9f;
  }
  return t;
}

}  // namespace qarch::sim
