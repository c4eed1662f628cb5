// SqueezeLLM (Kim et al., "SqueezeLLM: Dense-and-Sparse Quantization", ICML 2024, arXiv
// 2306.07629): the two halves of its encoder, exposed so that the codebook search (sparse
// selection and per-row k-means, the "setup") can be timed apart from the encoding proper
// (assigning every element its nearest codebook entry and packing). Format::encode runs both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/quant/format.h"

namespace qarch::quant {

/// What the setup finds: the sparse positions and one sorted FP16 codebook per row.
struct SqueezeLlmCodebook {
  int bits = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint32_t> sparse;     ///< flat positions of the FP16 sparse values, ascending
  std::vector<uint16_t> centroids;  ///< rows x 2^bits FP16 codes, non-decreasing per row
  int64_t kmeans_iterations = 0;    ///< Lloyd iterations summed over the rows
};

/// Number of sparse values of an n-element tensor: ceil(fraction * n) (a tolerance of 1e-9
/// absorbs the product's rounding), at most n.
int64_t squeezellm_sparse_count(double fraction, int64_t n);

/// The setup: the sparse_count(sparse, n) largest |x| (ties: lower flat index first), then per
/// row a k-means of the remaining values into 2^bits centroids (see squeezellm_format.cpp),
/// rounded to FP16. x must be finite (Format::encode checks it) with n < 2^32 elements.
SqueezeLlmCodebook squeezellm_setup(const float* x, int64_t rows, int64_t cols, int bits,
                                    double sparse, int max_iterations);

/// The encoding proper with a given codebook (the layout of squeezellm_format.cpp); `format`
/// is the canonical name written into the result.
EncodedTensor squeezellm_encode(const SqueezeLlmCodebook& cb, const float* x,
                                const std::string& format);

}  // namespace qarch::quant
