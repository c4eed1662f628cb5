// Functional mode: the simulated hardware computes Y from the packed operands (border decoders
// -> PE products -> per-segment accumulators) and must be bit-identical to quant's
// reference_matmul of the decoded operands, for every PE type and format, every dataflow, tile
// and per-cycle mode, and tilings that cut K (and so the scale segments) across tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "qarch/models/simulator.h"
#include "test_util.h"

namespace qarch::models {
namespace {

struct Case {
  const char* pe;
  const char* x;
  const char* w;
};

const Case kCases[] = {
    {"int8", "int8", "int8"},
    {"int8", "int8:per=row", "int8:per=group:group=16"},
    {"int8", "int8:sym=false", "int8"},
    {"int8", "int4", "int8:per=row"},
    {"int4", "int4", "int4"},
    {"int4", "int4:per=group:group=8", "int4:per=row"},
    {"olive4", "olive4", "olive4"},
    {"olive4", "olive4:per=row", "olive4:victim=even"},
    {"olive4", "int4", "olive4"},
    {"olive8", "olive8", "olive8"},
    {"olive8", "olive8:outlier=e2m5", "olive8:per=row"},
    {"olive8", "int8", "olive8"},
    {"mx", "mxfp4", "mxfp4"},
    {"mx", "mxfp6_e3m2", "mxfp6_e2m3"},
    {"mx", "mxfp8_e4m3", "mxfp8_e5m2"},
    {"mx", "mxint8", "mxint8"},
    {"mx", "mxfp4:block=16", "mxfp8_e4m3"},
    {"amxfp4", "amxfp4", "amxfp4"},
    {"amxfp4", "amxfp4", "mxfp4"},
    {"nvfp4", "nvfp4", "nvfp4"},
    {"bfp", "bfp12", "bfp16"},
    {"bfp", "msfp12", "msfp16"},
    {"bfp", "mx4", "mx6"},
    {"bfp", "mx9", "bfp:block=32:p=6"},
    {"gobo", "fp16", "gobo"},
    {"gobo", "fp16", "gobo:store=fp32"},
    {"gobo", "fp16", "fp16"},
    {"olaccel", "olaccel", "olaccel"},
    {"olaccel", "olaccel:outlier_bits=8", "olaccel:frac=0.05"},
    {"olaccel", "int4", "olaccel"},
    {"gobo", "fp16", "squeezellm3"},
    {"gobo", "fp16", "squeezellm:bits=4:sparse=0.02"},
    // keep=: the kept values reach the accumulators on the sparse side path (finish_output).
    {"int8", "int8:per=row:keep=3", "int4:keep=2"},
    {"olive4", "olive4:keep=2", "olive4:keep=0.01"},
    {"mx", "mxfp4:keep=2", "mxfp4"},
    {"olaccel", "olaccel:keep=2", "olaccel"},
    {"gobo", "fp16:keep=1", "squeezellm3:keep=2"},
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.pe << " " << c.x << " x " << c.w;
}

class Functional : public ::testing::TestWithParam<Case> {};

// M, N, K: not multiples of the 8 x 8 array, K odd (a lone last OVP element, partial MX/NVFP4/BFP
// blocks).
constexpr int64_t kM = 13, kN = 11, kK = 71;

TEST_P(Functional, BitIdenticalToReferenceInEveryDataflowAndMode) {
  const Case c = GetParam();
  if (!test::format_available(c.x) || !test::format_available(c.w)) {
    GTEST_SKIP() << "format not registered in quant/ yet: " << c.x << " / " << c.w;
  }
  const auto xe = test::encoded(c.x, kM, kK, 11);
  const auto we = test::encoded(c.w, kN, kK, 12);
  const std::vector<float> ref = test::reference(*xe, *we);
  GemmJob job;
  job.name = std::string(c.pe) + ":" + c.x + "*" + c.w;
  job.m = kM, job.n = kN, job.k = kK;
  job.x_format = c.x;
  job.w_format = c.w;
  job.x = {Operand{xe, nullptr}};
  job.w = {Operand{we, nullptr}};
  for (Dataflow df :
       {Dataflow::kOutputStationary, Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    for (bool tiny : {false, true}) {
      ArchConfig a = test::small_arch(c.pe, df, 8, 8);
      if (tiny) {
        // Buffers that force K to be cut into several tiles: segments span tiles.
        a.input_buffer.size_bytes = 512;
        a.weight_buffer.size_bytes = 512;
        a.output_buffer.size_bytes = 4096;
      }
      SCOPED_TRACE(dataflow_name(df) + (tiny ? " tiny buffers" : " 64 KiB buffers"));
      SimOptions tile_opts, cycle_opts;
      cycle_opts.mode = SimMode::kCycle;
      const SimResult t = simulate(a, {job}, tile_opts);
      const SimResult cy = simulate(a, {job}, cycle_opts);
      ASSERT_EQ(t.outputs.size(), 1u);
      ASSERT_EQ(t.outputs[0].size(), 1u);
      EXPECT_TRUE(test::same_bits(t.outputs[0][0], ref)) << "tile mode";
      EXPECT_TRUE(test::same_bits(cy.outputs[0][0], ref)) << "cycle mode";
      EXPECT_EQ(t.stats.cycles, cy.stats.cycles);
      EXPECT_EQ(t.stats.array.compute_cycles, cy.stats.array.compute_cycles);
      EXPECT_EQ(t.stats.array.macs, static_cast<uint64_t>(kM * kN * kK));
      if (tiny) {
        EXPECT_LT(t.stats.jobs[0].tile_k, kK) << "K was not split";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PeTypes, Functional, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string s = std::to_string(info.index) + "_" + info.param.pe;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
});

// Random decoded operands with every feature of the decoded view at once: sign-split scales
// (AMXFP4), FP32 block multipliers (NVFP4's E4M3 scales), a tensor divisor, odd scale groups
// (5 along K, so segments start inside folds and tiles), group rows, and one NaN block (an MX
// scale of 0xFF). The PE arithmetic must follow reference_matmul bit for bit.
std::shared_ptr<quant::DecodedTensor> random_decoded(int64_t rows, int64_t cols, int64_t gr,
                                                     int64_t gc, bool split, uint32_t seed,
                                                     bool nan_block) {
  std::mt19937 gen(seed);
  auto d = std::make_shared<quant::DecodedTensor>();
  d->resize(rows, cols, gr, gc, split);
  std::uniform_int_distribution<int> mant(-7, 7), shift(0, 3), ex(-4, 4);
  std::uniform_real_distribution<float> mul(0.3f, 3.0f);
  for (size_t i = 0; i < d->mant.size(); ++i) {
    d->mant[i] = mant(gen);
    d->shift[i] = static_cast<uint8_t>(shift(gen));
  }
  for (size_t g = 0; g < d->scale_exp.size(); ++g) {
    d->scale_exp[g] = ex(gen);
    d->scale_mul[g] = mul(gen);
    if (split) {
      d->neg_scale_exp[g] = ex(gen);
      d->neg_scale_mul[g] = mul(gen);
    }
  }
  if (nan_block) d->scale_mul[1] = std::numeric_limits<float>::quiet_NaN();
  d->tensor_divisor = 3.0f;
  return d;
}

TEST(FunctionalArithmetic, SignSplitScalesDivisorAndNanBlocks) {
  const int64_t m = 9, n = 10, k = 37;
  const auto x = random_decoded(m, k, 2, 5, true, 1, false);
  const auto w = random_decoded(n, k, 1, 7, true, 2, true);
  const std::vector<float> ref = quant::reference_matmul(*x, *w);
  GemmJob job;
  job.name = "synthetic";
  job.m = m, job.n = n, job.k = k;
  job.x_format = job.w_format = "int8";  // timing view only; the arithmetic uses the operands
  job.x = {Operand{nullptr, x}};
  job.w = {Operand{nullptr, w}};
  int nan_outputs = 0;
  for (float v : ref) nan_outputs += std::isnan(v);
  ASSERT_GT(nan_outputs, 0);  // the NaN block reaches the outputs that use it
  ASSERT_LT(nan_outputs, static_cast<int>(ref.size()));
  for (Dataflow df :
       {Dataflow::kOutputStationary, Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    for (int size : {4, 16}) {
      ArchConfig a = test::small_arch("int8", df, size, size);
      a.input_buffer.size_bytes = a.weight_buffer.size_bytes = 1024;
      SCOPED_TRACE(dataflow_name(df) + " " + std::to_string(size));
      SimOptions cyc;
      cyc.mode = SimMode::kCycle;
      EXPECT_TRUE(test::same_bits(simulate(a, {job}).outputs[0][0], ref));
      EXPECT_TRUE(test::same_bits(simulate(a, {job}, cyc).outputs[0][0], ref));
    }
  }
}

// A batched job: per-instance X (three attention heads), one shared W.
TEST(FunctionalArithmetic, BatchWithPerInstanceAndSharedOperands) {
  GemmJob job;
  job.name = "heads";
  job.m = 6, job.n = 5, job.k = 33, job.batch = 3;
  job.x_format = job.w_format = "int8:per=row";
  const auto w = test::encoded(job.w_format, job.n, job.k, 100);
  job.w = {Operand{w, nullptr}};
  for (uint32_t b = 0; b < 3; ++b)
    job.x.push_back({test::encoded(job.x_format, 6, 33, b), nullptr});
  const SimResult r = simulate(test::small_arch("int8", Dataflow::kWeightStationary, 4, 4), {job});
  ASSERT_EQ(r.outputs[0].size(), 3u);
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_TRUE(test::same_bits(r.outputs[0][b], test::reference(*job.x[b].encoded, *w)));
  }
}

// Zero-size GEMMs: no cycles; K = 0 gives zeros, M = 0 or N = 0 an empty output.
TEST(FunctionalArithmetic, ZeroSizeJobs) {
  const ArchConfig a = test::small_arch("int8", Dataflow::kOutputStationary, 4, 4);
  for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{0, 5, 8}, {5, 0, 8}, {3, 4, 0}}) {
    GemmJob job;
    job.name = "empty";
    job.m = m, job.n = n, job.k = k;
    job.x_format = job.w_format = "int8";
    job.x = {Operand{test::encoded("int8", m, k, 1), nullptr}};
    job.w = {Operand{test::encoded("int8", n, k, 2), nullptr}};
    const SimResult r = simulate(a, {job});
    EXPECT_EQ(r.stats.cycles, 0u);
    ASSERT_EQ(r.outputs[0].size(), 1u);
    EXPECT_EQ(r.outputs[0][0], std::vector<float>(static_cast<size_t>(m * n), 0.0f));
  }
}

}  // namespace
}  // namespace qarch::models
