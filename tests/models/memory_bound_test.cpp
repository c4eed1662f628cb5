// Memory-bound and compute-bound limits: with realistic DRAM and buffers the simulation must
// reach the bandwidth bound for a GEMV (LLM decode, batch 1) and the compute bound for a large
// square GEMM, each within 5%; single buffering must cost what double buffering hides. The
// bounds are worked out here from the operand sizes and SCALE-Sim's equations.
#include <gtest/gtest.h>

#include <cstdint>

#include "qarch/models/simulator.h"
#include "qarch/models/tiler.h"

namespace qarch::models {
namespace {

ArchConfig llm_arch(Dataflow df, double dram_bw) {
  ArchConfig a;
  a.array.rows = a.array.cols = 32;
  a.array.dataflow = df;
  a.dram.bandwidth_bytes_per_cycle = dram_bw;
  a.dram.latency_cycles = 100;
  a.input_buffer.size_bytes = 256 * 1024;
  a.weight_buffer.size_bytes = 512 * 1024;
  a.output_buffer.size_bytes = 256 * 1024;
  return a;
}

GemmJob gemm(int64_t m, int64_t n, int64_t k, const char* fmt) {
  GemmJob j;
  j.name = "g";
  j.m = m, j.n = n, j.k = k;
  j.x_format = j.w_format = fmt;
  return j;
}

class Bounds : public ::testing::TestWithParam<Dataflow> {};

// LLaMA-2-7B decode: one token through a 4096 x 4096 projection. INT8 with per-tensor FP32
// scales stores rows * cols bytes + 4; the output is written as FP16. At 8 bytes per cycle the
// 16 MiB of weights take 2.1 M cycles, more than the array needs in any dataflow (WS, the
// slowest, needs 128 * 128 folds * (64 + 32 + 1 - 2) = 1.56 M), so the run is memory-bound.
TEST_P(Bounds, GemvRunsAtTheDramBandwidthBound) {
  const double bw = 8.0;
  const SimResult r = simulate(llm_arch(GetParam(), bw), {gemm(1, 4096, 4096, "int8")});
  const double bytes = (1.0 * 4096 + 4) + (4096.0 * 4096 + 4) + 4096.0 * 2;
  const double bound = bytes / bw;
  EXPECT_GE(static_cast<double>(r.stats.cycles), bound);
  EXPECT_LE(static_cast<double>(r.stats.cycles), 1.05 * bound)
      << "tile " << r.stats.jobs[0].tile_m << "x" << r.stats.jobs[0].tile_n << "x"
      << r.stats.jobs[0].tile_k;
  // Every weight byte is read once (tiles repeat only the 4-byte scale).
  EXPECT_LE(static_cast<double>(r.stats.dram.read_bytes + r.stats.dram.write_bytes), 1.01 * bytes);
  // Halving the bandwidth doubles the time.
  const SimResult half = simulate(llm_arch(GetParam(), bw / 2), {gemm(1, 4096, 4096, "int8")});
  EXPECT_NEAR(static_cast<double>(half.stats.cycles) / static_cast<double>(r.stats.cycles), 2.0,
              0.1);
}

// A 4-bit format halves the weight traffic: olive4 stores two elements per byte plus one FP32
// scale per tensor. Output-stationary: 128 folds * (64 + 32 + 4096 - 2) = 0.54 M compute cycles
// against 1.05 M cycles of DRAM at 8 bytes per cycle.
TEST(BoundsFourBit, Olive4GemvRunsAtTheDramBound) {
  ArchConfig a = llm_arch(Dataflow::kOutputStationary, 8.0);
  a.array.pe = "olive4";
  const SimResult r = simulate(a, {gemm(1, 4096, 4096, "olive4")});
  const double bytes = (4096.0 / 2 + 4) + (4096.0 * 4096 / 2 + 4) + 4096.0 * 2;
  const double bound = bytes / 8.0;
  EXPECT_GE(static_cast<double>(r.stats.cycles), bound);
  EXPECT_LE(static_cast<double>(r.stats.cycles), 1.05 * bound);
}

// A 2048^3 GEMM with ample bandwidth: the array is the bottleneck, and the simulated time is
// SCALE-Sim's compute time 64 * 64 folds * (2*32 + 32 + 2048 - 2) = 8,773,632 cycles (the same
// for OS, WS and IS since M = N = K) plus at most 5% for the first load and last write-back.
TEST_P(Bounds, LargeSquareGemmRunsAtTheComputeBound) {
  ArchConfig a = llm_arch(GetParam(), 256.0);
  a.input_buffer.size_bytes = a.weight_buffer.size_bytes = a.output_buffer.size_bytes = 1 << 20;
  // The latency objective: the mapper must find the tiling that reaches the bound (the default,
  // EDP, may trade a few percent of time for less traffic).
  a.objective = Objective::kLatency;
  const SimResult r = simulate(a, {gemm(2048, 2048, 2048, "int8")});
  // 64 x 64 folds streaming 2048 steps: with pipelined folds each costs its 2048 stream steps,
  // plus one fill and drain (2R + C - 2 = 94) per tile; SCALE-Sim's per-fold equation is the
  // upper bound (every fold pays the 94).
  const double folds = 64.0 * 64, stream = folds * 2048;
  const double per_fold_fill = folds * (2 * 32 + 32 + 2048 - 2);
  EXPECT_GE(static_cast<double>(r.stats.array.compute_cycles), stream);
  EXPECT_LT(static_cast<double>(r.stats.array.compute_cycles), per_fold_fill);
  EXPECT_LE(static_cast<double>(r.stats.array.compute_cycles), 1.01 * stream);
  EXPECT_GE(static_cast<double>(r.stats.cycles), stream);
  EXPECT_LE(static_cast<double>(r.stats.cycles), 1.05 * stream);
  EXPECT_GT(r.stats.array.utilization, 0.95);
}

// Single buffering serializes every load with the compute it feeds; double buffering overlaps
// them. With the DRAM time per tile close to the compute time the difference is large (over
// 15% on the loop nest the mapper picks for this shape in every dataflow).
TEST_P(Bounds, SingleBufferingCostsWhatDoubleBufferingHides) {
  ArchConfig a = llm_arch(GetParam(), 16.0);
  const GemmJob j = gemm(512, 1024, 1024, "int8");
  const SimResult dbl = simulate(a, {j});
  for (BufferConfig* b : {&a.input_buffer, &a.weight_buffer, &a.output_buffer}) {
    b->double_buffered = false;
  }
  // The same loop nest single-buffered (the mapper would pick larger tiles for the larger
  // halves; the point here is what the second slot hides).
  SimOptions same;
  same.mappings = {plan_job(llm_arch(GetParam(), 16.0), j).map.best.mapping};
  const SimResult single = simulate(a, {j}, same);
  const uint64_t stalls_single = single.stats.array.stall_input_cycles +
                                 single.stats.array.stall_weight_cycles +
                                 single.stats.array.stall_output_cycles;
  const uint64_t stalls_double = dbl.stats.array.stall_input_cycles +
                                 dbl.stats.array.stall_weight_cycles +
                                 dbl.stats.array.stall_output_cycles;
  EXPECT_GT(single.stats.cycles, dbl.stats.cycles * 23 / 20)
      << "single " << single.stats.cycles << " double " << dbl.stats.cycles;
  EXPECT_GT(stalls_single, stalls_double);
  // The array's busy and stalled cycles never exceed the run.
  EXPECT_LE(single.stats.array.busy_cycles + stalls_single, single.stats.cycles + 1);
  EXPECT_LE(dbl.stats.array.busy_cycles + stalls_double, dbl.stats.cycles + 1);
}

INSTANTIATE_TEST_SUITE_P(Dataflows, Bounds,
                         ::testing::Values(Dataflow::kOutputStationary, Dataflow::kWeightStationary,
                                           Dataflow::kInputStationary),
                         [](const auto& info) { return dataflow_name(info.param); });

}  // namespace
}  // namespace qarch::models
