// Agreement with SCALE-Sim's analytical runtime (Samajdar et al., ISPASS 2020, section IV):
// with DRAM and buffers idealized, the simulated compute cycles of a GEMM must equal
//   ceil(S_R / R) * ceil(S_C / C) * (2R + C + T - 2)
// with SCALE-Sim's operand mapping of a GEMM "M, N, K" (M output pixels, window K, N filters):
//   OS: S_R = M, S_C = N, T = K;  WS: S_R = K, S_C = N, T = M;  IS: S_R = K, S_C = M, T = N.
// The expected numbers are worked out here from those equations, not by the model's code.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/models/simulator.h"
#include "test_util.h"

namespace qarch::models {
namespace {

struct Shape {
  int64_t m, n, k;
};

// 24 GEMMs: tiny, non-multiples of every array size, GEMV, and LLaMA-2-7B's prefill/decode
// shapes (hidden 4096, FFN 11008, head dim 128, vocab 32000, seq 2048).
const Shape kShapes[] = {
    {1, 1, 1},           {7, 5, 3},           {32, 32, 32},      {33, 31, 65},
    {100, 100, 100},     {128, 64, 256},      {1, 4096, 4096},   {2048, 4096, 4096},
    {2048, 11008, 4096}, {2048, 4096, 11008}, {2048, 2048, 128}, {2048, 128, 2048},
    {1, 32000, 4096},    {17, 1000, 3},       {500, 3, 700},     {64, 64, 1},
    {1, 1, 5000},        {999, 777, 555},     {31, 33, 32},      {32, 1, 32},
    {257, 129, 65},      {4096, 32, 32},      {3, 3, 4096},      {2048, 12288, 4096},
};

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// SCALE-Sim's runtime, worked independently of models/.
uint64_t scalesim_cycles(Dataflow df, const Shape& s, int64_t R, int64_t C) {
  int64_t sr, sc, t;
  if (df == Dataflow::kOutputStationary) {
    sr = s.m, sc = s.n, t = s.k;
  } else if (df == Dataflow::kWeightStationary) {
    sr = s.k, sc = s.n, t = s.m;
  } else {
    sr = s.k, sc = s.m, t = s.n;
  }
  return static_cast<uint64_t>(ceil_div(sr, R) * ceil_div(sc, C) * (2 * R + C + t - 2));
}

struct ArrayShape {
  int rows, cols;
};

class ScaleSimAgreement : public ::testing::TestWithParam<Dataflow> {};

TEST_P(ScaleSimAgreement, ComputeCyclesEqualTheAnalyticalRuntime) {
  const Dataflow df = GetParam();
  for (const ArrayShape a :
       {ArrayShape{32, 32}, ArrayShape{16, 16}, ArrayShape{8, 32}, ArrayShape{128, 8}}) {
    for (const Shape& s : kShapes) {
      ArchConfig arch;
      arch.array.rows = a.rows;
      arch.array.cols = a.cols;
      arch.array.dataflow = df;
      arch.array.pipelined_folds = false;  // SCALE-Sim's per-fold equation
      arch = arch.idealized();
      GemmJob job;
      job.name = "g";
      job.m = s.m, job.n = s.n, job.k = s.k;
      job.x_format = job.w_format = "int8";
      const SimResult r = simulate(arch, {job});
      const uint64_t want = scalesim_cycles(df, s, a.rows, a.cols);
      SCOPED_TRACE(dataflow_name(df) + " " + std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                   " M=" + std::to_string(s.m) + " N=" + std::to_string(s.n) +
                   " K=" + std::to_string(s.k));
      EXPECT_EQ(r.stats.array.compute_cycles, want);
      // Idealized memory: nothing else takes time, so the whole run is the compute.
      EXPECT_EQ(r.stats.cycles, want);
      EXPECT_EQ(r.stats.array.stall_input_cycles + r.stats.array.stall_weight_cycles +
                    r.stats.array.stall_output_cycles,
                0u);
      EXPECT_EQ(r.stats.array.macs, static_cast<uint64_t>(s.m * s.n * s.k));
    }
  }
}

// Pipelined folds (the default): the whole GEMM as one tile takes the first fold's
// 2R + C + T - 2 and then, per further fold, max(T, R + C) (WS, IS: the next stationary operand
// shifts into the shadow registers once the last column has taken the current one) or
// max(T, 2R + C - 2) (OS: a fold's results drain from the shadow registers before the next
// fold's overwrite them). The mapper's own choice is never slower than that tile.
TEST_P(ScaleSimAgreement, PipelinedFoldsOnOneTile) {
  const Dataflow df = GetParam();
  for (const Shape& s : kShapes) {
    if (s.m * s.n * s.k > (int64_t{1} << 32)) continue;
    ArchConfig arch;
    arch.array.rows = 16;
    arch.array.cols = 8;
    arch.array.dataflow = df;
    arch.objective = Objective::kLatency;
    arch = arch.idealized();
    GemmJob job;
    job.name = "g";
    job.m = s.m, job.n = s.n, job.k = s.k;
    job.x_format = job.w_format = "int8";
    int64_t sr = s.m, sc = s.n, t = s.k;
    if (df == Dataflow::kWeightStationary) sr = s.k, sc = s.n, t = s.m;
    if (df == Dataflow::kInputStationary) sr = s.k, sc = s.m, t = s.n;
    const int64_t R = 16, C = 8, folds = ceil_div(sr, R) * ceil_div(sc, C);
    const int64_t period =
        df == Dataflow::kOutputStationary ? std::max(t, 2 * R + C - 2) : std::max(t, R + C);
    const uint64_t want = static_cast<uint64_t>(2 * R + C + t - 2 + (folds - 1) * period);
    SimOptions one;
    Mapping mp;
    mp.dataflow = df;
    mp.tile = {s.m, s.n, s.k};
    one.mappings = {mp};
    SCOPED_TRACE(dataflow_name(df) + " M=" + std::to_string(s.m) + " N=" + std::to_string(s.n) +
                 " K=" + std::to_string(s.k));
    EXPECT_EQ(simulate(arch, {job}, one).stats.array.compute_cycles, want);
    EXPECT_LE(simulate(arch, {job}).stats.cycles, want);
  }
}

// The same agreement holds for a batched GEMM (attention heads) and for PE fusion: OliVe 8-bit
// runs on 2 x 2 groups of 4-bit PEs, so a 32 x 32 physical array is a 16 x 16 logical one.
TEST_P(ScaleSimAgreement, BatchAndFusedPes) {
  const Dataflow df = GetParam();
  ArchConfig arch;
  arch.array.rows = arch.array.cols = 32;
  arch.array.dataflow = df;
  arch.array.pipelined_folds = false;
  arch = arch.idealized();
  GemmJob job;
  job.name = "scores";
  job.m = 2048, job.n = 2048, job.k = 128, job.batch = 32;
  job.x_format = job.w_format = "int8";
  EXPECT_EQ(simulate(arch, {job}).stats.cycles,
            32 * scalesim_cycles(df, {2048, 2048, 128}, 32, 32));
  arch.array.pe = "olive8";
  job.batch = 1;
  job.x_format = job.w_format = "olive8";
  EXPECT_EQ(simulate(arch, {job}).stats.cycles, scalesim_cycles(df, {2048, 2048, 128}, 16, 16));
}

// Per-cycle mode: operands really move PE to PE; the folds must still take exactly the
// analytical number of cycles (small arrays, shapes with partial folds).
TEST_P(ScaleSimAgreement, PerCycleArrayTakesTheAnalyticalCycles) {
  const Dataflow df = GetParam();
  const Shape shapes[] = {{1, 1, 1}, {7, 5, 3}, {33, 31, 65}, {16, 16, 16}, {5, 40, 17}};
  for (const ArrayShape a :
       {ArrayShape{4, 4}, ArrayShape{16, 16}, ArrayShape{8, 4}, ArrayShape{1, 1}}) {
    for (const Shape& s : shapes) {
      ArchConfig arch;
      arch.array.rows = a.rows;
      arch.array.cols = a.cols;
      arch.array.dataflow = df;
      arch.array.pipelined_folds = false;
      arch = arch.idealized();
      GemmJob job;
      job.name = "g";
      job.m = s.m, job.n = s.n, job.k = s.k;
      job.x_format = job.w_format = "int8";
      SimOptions o;
      o.mode = SimMode::kCycle;
      const SimResult r = simulate(arch, {job}, o);
      SCOPED_TRACE(std::to_string(a.rows) + "x" + std::to_string(a.cols) + " " +
                   std::to_string(s.m) + "," + std::to_string(s.n) + "," + std::to_string(s.k));
      EXPECT_EQ(r.stats.cycles, scalesim_cycles(df, s, a.rows, a.cols));
      EXPECT_EQ(r.stats.array.pe_cycles, r.stats.cycles * a.rows * a.cols);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dataflows, ScaleSimAgreement,
                         ::testing::Values(Dataflow::kOutputStationary, Dataflow::kWeightStationary,
                                           Dataflow::kInputStationary),
                         [](const auto& info) { return dataflow_name(info.param); });

}  // namespace
}  // namespace qarch::models
