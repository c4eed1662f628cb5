// The vector unit (models/vector_unit.h) and the online quantizer (models/quantizer_unit.h):
// operation counts and cycles worked out by hand, and the vector unit's softmax and norms
// against an FP64 reference within stated ULP bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/models/quantizer_unit.h"
#include "qarch/models/vector_unit.h"
#include "qarch/quant/format.h"

namespace qarch::models {
namespace {

TEST(VectorUnit, CountsAndCyclesByHand) {
  VectorUnitConfig v;  // 64 lanes, exp and div 4 cycles, latency 8
  // Softmax over 4 rows of 256: per element 2 add, 1 mul, 1 cmp, 1 exp; one reciprocal a row.
  const VectorOpCost s = vector_op_cost(v, "softmax", 1024, 4);
  EXPECT_EQ(s.ops.add, 2048u);
  EXPECT_EQ(s.ops.mul, 1024u);
  EXPECT_EQ(s.ops.cmp, 1024u);
  EXPECT_EQ(s.ops.exp, 1024u);
  EXPECT_EQ(s.ops.div, 4u);
  // Lane cycles 2048 + 1024 + 1024 + 4 x 1024 + 4 x 4 = 8208 -> / 64 = 128.25 -> 129; three
  // passes of latency 8; two reductions a row, log2(64) = 6 each: 4 x 2 x 6 = 48.
  EXPECT_EQ(s.cycles, 129u + 24u + 48u);
  // FP16: each pass reads the operand, and the result is written once: 2 x 1024 x (3 + 1).
  EXPECT_EQ(s.sram_bytes, 2u * 1024u * 4u);
  const VectorOpCost r = vector_op_cost(v, "residual_add", 6400, 100);
  EXPECT_EQ(r.ops.add, 6400u);
  EXPECT_EQ(r.cycles, 100u + 8u);
  EXPECT_EQ(vector_op_cost(v, "embedding", 4096, 1).ops.total(), 0u);
  EXPECT_THROW(vector_op_cost(v, "fft", 10, 1), Error);
  // Twice the lanes: the lane-limited part halves.
  VectorUnitConfig w = v;
  w.lanes = 128;
  EXPECT_EQ(vector_op_cost(w, "residual_add", 6400, 100).cycles, 50u + 8u);
}

// ULP distance of two finite floats.
int64_t ulps(float a, float b) {
  auto key = [](float x) {
    int32_t i;
    std::memcpy(&i, &x, 4);
    return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
  };
  return std::llabs(key(a) - key(b));
}

// FP32 lanes: softmax and RMSNorm within the recursive-summation bound (n + 8) x 2^-24 of FP64
// (8 ULP for short rows); FP16 lanes: within 2 FP16 ULP (relative 2^-9) of FP64 for the norms,
// each element step rounding once to FP16 (the row sums stay FP32), and softmax also within
// the exponent's argument rounding, (|x - max| + 2) x 2^-11 relative (FP16 subnormals: 6e-8).
TEST(VectorUnit, SoftmaxAndNormsMatchAReference) {
  std::mt19937 g(7);
  std::normal_distribution<float> n(0, 1);
  for (const int bits : {32, 16}) {
    VectorUnitConfig v;
    v.precision_bits = bits;
    for (const int len : {1, 7, 128, 4096}) {
      std::vector<float> x(static_cast<size_t>(len)), gamma(x.size()), beta(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        x[i] = n(g) * (i % 97 == 3 ? 50.0f : 3.0f);  // a few outlier channels
        gamma[i] = 1 + 0.1f * n(g);
        beta[i] = 0.1f * n(g);
      }
      // References in FP64.
      double mx = x[0], sum = 0, ss = 0, mean = 0;
      for (float e : x) mx = std::max(mx, static_cast<double>(e));
      for (float e : x) sum += std::exp(e - mx), ss += static_cast<double>(e) * e, mean += e;
      mean /= len;
      double var = 0;
      for (float e : x) var += (e - mean) * (e - mean);
      var /= len;
      std::vector<float> sm = x, rms(x.size()), ln(x.size());
      vector_softmax(v, sm.data(), len);
      vector_rmsnorm(v, x.data(), gamma.data(), rms.data(), len);
      vector_layernorm(v, x.data(), gamma.data(), beta.data(), ln.data(), len);
      for (size_t i = 0; i < x.size(); ++i) {
        const double ref_sm = std::exp(x[i] - mx) / sum;
        const double ref_rms = x[i] / std::sqrt(ss / len + 1e-5) * gamma[i];
        const double ref_ln = (x[i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i];
        if (bits == 32) {
          // The row sums accumulate in order: the classical bound for recursive summation,
          // relative (n + 8) x 2^-24 (n - 1 additions plus the few roundings after them); below
          // FP32's subnormals a probability flushes to 0 (absolute 2e-45).
          const double gamma_n = (len + 8) * std::ldexp(1.0, -24);
          EXPECT_NEAR(sm[i], ref_sm, gamma_n * ref_sm + 2e-45) << len << " " << i;
          EXPECT_NEAR(rms[i], ref_rms, gamma_n * std::fabs(ref_rms)) << len << " " << i;
          if (len <= 7) {
            EXPECT_LE(ulps(sm[i], static_cast<float>(ref_sm)), 8) << len << " " << i;
          }
          // LayerNorm subtracts the mean: bound the error by the row's scale instead.
          EXPECT_NEAR(ln[i], ref_ln, 1e-5 * (std::fabs(ref_ln) + 1)) << len << " " << i;
        } else {
          const double tol = std::ldexp(1.0, -9) + (len + 8) * std::ldexp(1.0, -24);
          // x - max is rounded to FP16 before exp: its error (|x - max| x 2^-11) multiplies.
          const double sm_tol = tol + (std::fabs(x[i] - mx) + 2) * std::ldexp(1.0, -11);
          EXPECT_NEAR(sm[i], ref_sm, sm_tol * ref_sm + 6e-8) << len << " " << i;
          EXPECT_NEAR(rms[i], ref_rms, 2 * tol * std::fabs(ref_rms) + 1e-4) << len << " " << i;
          EXPECT_NEAR(ln[i], ref_ln, 4 * tol * (std::fabs(ref_ln) + 1)) << len << " " << i;
        }
      }
    }
  }
}

TEST(QuantizerUnit, KindsAndCostsFromTraits) {
  QuantizerConfig q;  // 32 elements a cycle, latency 4, dynamic int scales
  auto traits = [](const char* f) { return quant::make_format(f)->traits(); };
  EXPECT_EQ(quantizer_unit_kind(traits("fp16")), QuantizerUnitKind::kNone);
  EXPECT_EQ(quantizer_unit_kind(traits("int8")), QuantizerUnitKind::kInt);
  EXPECT_EQ(quantizer_unit_kind(traits("int4:group=128")), QuantizerUnitKind::kBlock);
  EXPECT_EQ(quantizer_unit_kind(traits("mxfp4")), QuantizerUnitKind::kBlock);
  EXPECT_EQ(quantizer_unit_kind(traits("nvfp4")), QuantizerUnitKind::kBlock);
  EXPECT_EQ(quantizer_unit_kind(traits("olive4")), QuantizerUnitKind::kOvp);
  EXPECT_EQ(quantizer_unit_kind(traits("e4m3")), QuantizerUnitKind::kPerTensor);
  // Dynamic per-tensor int8: a max pass and an encode pass over 4096 values.
  const QuantizerCost d = quantizer_cost(q, traits("int8"), 8, 4096);
  EXPECT_EQ(d.passes, 2u);
  EXPECT_EQ(d.compare_ops, 4096u);
  EXPECT_EQ(d.cycles, 2u * 128u + 2u * 4u);
  EXPECT_EQ(d.sram_read_bytes, 2u * 2u * 4096u);
  EXPECT_EQ(d.sram_write_bytes, 4096u);
  q.static_int_scale = true;
  const QuantizerCost s = quantizer_cost(q, traits("int8"), 8, 4096);
  EXPECT_EQ(s.passes, 1u);
  EXPECT_EQ(s.cycles, 128u + 4u);
  // MXFP4: 4.25 bits per element stored, one pass.
  const QuantizerCost m = quantizer_cost(q, traits("mxfp4"), 4.25, 4096);
  EXPECT_EQ(m.passes, 1u);
  EXPECT_EQ(m.sram_write_bytes, 2176u);
  EXPECT_EQ(quantizer_cost(q, traits("fp16"), 16, 4096).cycles, 0u);
}

}  // namespace
}  // namespace qarch::models
