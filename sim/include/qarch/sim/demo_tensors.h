// Built-in demo tensors with LLM-like outliers, for `qarch quant` without --input. A seeded
// stand-in until workloads/ provides the calibrated outlier generator; the parameters follow
// published measurements (cited in demo_tensors.cpp).
#pragma once

#include <cstdint>

#include "qarch/quant/tensor.h"

namespace qarch::sim {

/// Activations [tokens, channels]: N(0,1) with systematic outlier channels and massive
/// activations on the first token.
quant::Tensor demo_activations(int64_t tokens, int64_t channels, uint64_t seed);
/// Weights [out_channels, in_channels]: N(0, 0.02) with a few "super weights".
quant::Tensor demo_weights(int64_t out_channels, int64_t in_channels, uint64_t seed);

}  // namespace qarch::sim
