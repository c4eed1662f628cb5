// Helpers shared by the models tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "qarch/models/simulator.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"

namespace qarch::models::test {

/// N(0, 1) matrix [rows, cols] with outlier columns (x 30 on about 2% of the columns) and a few
/// isolated outliers (x 50), seeded: LLM-like activations/weights that exercise OVP pairs,
/// GOBO/OLAccel outliers and block scales.
inline std::vector<float> outlier_matrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> pct(0, 99);
  std::vector<bool> hot(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) hot[c] = pct(gen) < 2;
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float v = nd(gen);
      if (hot[c]) v *= 30.0f;
      if (pct(gen) == 0 && pct(gen) < 30) v *= 50.0f;
      x[r * cols + c] = v;
    }
  }
  return x;
}

/// True if quant knows the format family of `spec` (formats land on main from other branches).
inline bool format_available(const std::string& spec) {
  const std::string name = quant::FormatSpec::parse(spec).name;
  for (const auto& f : quant::list_formats())
    if (f.name == name) return true;
  return false;
}

/// Encodes a seeded outlier matrix in `spec`.
inline std::shared_ptr<const quant::EncodedTensor> encoded(const std::string& spec, int64_t rows,
                                                           int64_t cols, uint32_t seed) {
  const auto x = outlier_matrix(rows, cols, seed);
  return std::make_shared<quant::EncodedTensor>(
      quant::make_format(spec)->encode(x.data(), rows, cols));
}

/// quant's reference output for packed operands.
inline std::vector<float> reference(const quant::EncodedTensor& x, const quant::EncodedTensor& w) {
  const auto dx = quant::make_format(x.format)->decode_operand(x);
  const auto dw = quant::make_format(w.format)->decode_operand(w);
  return quant::reference_matmul(dx, dw);
}

/// Bitwise equality of two float vectors (NaN payloads included); reports the first mismatch.
inline ::testing::AssertionResult same_bits(const std::vector<float>& a,
                                            const std::vector<float>& b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << b.size();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a[i] << " vs " << b[i] << " (of " << a.size() << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

/// A small accelerator for functional and per-cycle tests.
inline ArchConfig small_arch(const std::string& pe, Dataflow df, int rows, int cols) {
  ArchConfig a;
  a.array.pe = pe;
  a.array.dataflow = df;
  a.array.rows = rows;
  a.array.cols = cols;
  a.dram.bandwidth_bytes_per_cycle = 8;
  a.dram.latency_cycles = 20;
  a.dram.burst_bytes = 256;
  for (BufferConfig* b : {&a.input_buffer, &a.weight_buffer, &a.output_buffer}) {
    b->size_bytes = 64 * 1024;
    b->banks = 4;
    b->bank_width_bytes = 8;
  }
  return a;
}

}  // namespace qarch::models::test
