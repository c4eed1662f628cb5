// Co-simulation of the 4 x 4 RTL cores (rtl/harness/array_unit.v) with the SystemC per-cycle
// mode of models/ (SimMode::kCycle, output stationary, idealized memories so the array alone
// sets the pace), on the same encoded operands:
// - same outputs: the FP32 outputs the RTL's integers give through quant's conversion equal the
//   model's, bit for bit (and reference_matmul's);
// - same cycles: models/ multiplies element k in PE(r, c) at fold cycle k + r + c and drains the
//   R rows of accumulators in R more cycles (2R + C + T - 2 per fold, SCALE-Sim); the RTL
//   registers its edge inputs once (border decoder / input register) and exposes the
//   accumulators in parallel (no drain), so for every PE its last MAC happens at
//   (first input edge) + 1 + (T - 1) + r + c, and the model's compute_cycles equal the RTL's
//   compute span (last MAC edge - first input edge) plus the R drain cycles.
// Meanwhile run_tiles checks every RTL accumulator after every edge against quant.
// Built only when models/ is part of the build (tests/rtl/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>

#include "array_check.h"
#include "qarch/models/simulator.h"

namespace qarch::rtltest {
namespace {

struct Case {
  const char* pe;
  const char* x;
  const char* w;
  int64_t k;
  uint32_t seed;
};

TEST(Cosim, SameOutputsSameCyclesAsTheSystemCPerCycleMode) {
  const Case cases[] = {{"olive4", "olive4", "olive4:per=row", 64, 101},
                        {"olive4", "olive4", "olive4:per=row", 512, 102},
                        {"int8", "int8", "int8:per=row", 96, 103},
                        {"int8", "int8:per=row", "int8:per=row", 300, 104}};
  for (const Case& cs : cases) {
    SCOPED_TRACE(std::string(cs.pe) + " " + cs.x + " x " + cs.w + " K=" + std::to_string(cs.k));
    const std::vector<Tile> tiles = {format_tile(cs.x, cs.w, cs.k, cs.seed)};
    const bool ovp = std::string(cs.pe) == "olive4";

    // RTL, no stall cycles (the model's idealized array never waits).
    RunInfo info;
    QARCH_EXPECT_NO_MISMATCH(
        run_check<Varray_unit>(std::string("cosim_") + cs.pe, [&](Sim<Varray_unit>& sim) {
          return run_tiles(sim, tiles, ovp ? ovp_core(sim, tiles) : int8_core(sim, tiles), 0, 0,
                           &info);
        }));

    // The SystemC model, per-cycle mode.
    models::ArchConfig arch;
    arch.array.rows = kRows;
    arch.array.cols = kCols;
    arch.array.dataflow = models::Dataflow::kOutputStationary;
    arch.array.pe = cs.pe;
    arch = arch.idealized();
    models::GemmJob job;
    job.name = "cosim";
    job.m = kRows;
    job.n = kCols;
    job.k = cs.k;
    job.x_format = cs.x;
    job.w_format = cs.w;
    job.x = {models::Operand{tiles[0].ex, nullptr}};
    job.w = {models::Operand{tiles[0].ew, nullptr}};
    models::SimOptions opt;
    opt.mode = models::SimMode::kCycle;
    const models::SimResult res = models::simulate(arch, {job}, opt);
    ASSERT_EQ(res.stats.array.folds, 1u);

    // Same outputs.
    const std::vector<float>& y = res.outputs.at(0).at(0);
    ASSERT_EQ(y.size(), static_cast<size_t>(kRows * kCols));
    for (int i = 0; i < kRows; ++i) {
      for (int j = 0; j < kCols; ++j) {
        const float rtl =
            fp32_from_sums(tiles[0].x, i, tiles[0].w, j, {info.finals[0][i * kCols + j]});
        EXPECT_TRUE(same_bits(rtl, y[i * kCols + j]))
            << "output (" << i << ", " << j << "): RTL " << rtl << ", model " << y[i * kCols + j];
        EXPECT_TRUE(same_bits(y[i * kCols + j], tiles[0].ref[i * kCols + j]));
      }
    }

    // Same cycles.
    const int64_t T = cs.k;
    int64_t span = 0;
    for (int r = 0; r < kRows; ++r) {
      for (int c = 0; c < kCols; ++c) {
        const int64_t last = info.last_mac_edge[r * kCols + c] - info.first_present_edge;
        EXPECT_EQ(last, 1 + (T - 1) + r + c) << "PE(" << r << ", " << c << ")";
        span = std::max(span, last);
      }
    }
    EXPECT_EQ(static_cast<uint64_t>(span + kRows), res.stats.array.compute_cycles)
        << "RTL compute span " << span << " + drain " << kRows << " vs model";
    EXPECT_EQ(res.stats.array.compute_cycles,
              static_cast<uint64_t>(2 * kRows + kCols + T - 2));  // SCALE-Sim's fold
    EXPECT_EQ(res.stats.array.macs, static_cast<uint64_t>(kRows * kCols * T));
  }
}

}  // namespace
}  // namespace qarch::rtltest
