// The per-cycle array against the tile equations inside the full system: realistic DRAM with
// contention, decoder latency, decoders slower than the array, SRAM ports too narrow for the
// array's demand, fused PEs and scale segments that start inside a fold. The per-cycle mode
// must give the same cycle count, the same stalls and the same outputs as the tile mode.
#include <gtest/gtest.h>

#include <string>

#include "qarch/models/simulator.h"
#include "test_util.h"

namespace qarch::models {
namespace {

struct Variant {
  const char* name;
  int rows, cols;
  const char* pe;
  const char* x;
  const char* w;
  int decoder_latency;
  double decoder_rate;
  int bank_width;  // bytes per bank port (4 banks): small values throttle the array
};

const Variant kVariants[] = {
    {"plain_16x16", 16, 16, "int8", "int8", "int8", 0, 1.0, 8},
    {"rect_8x4", 8, 4, "int8", "int8", "int8:per=row", 0, 1.0, 8},
    {"decoder_latency", 8, 8, "olive4", "olive4", "olive4", 3, 1.0, 8},
    {"slow_decoders", 8, 8, "olive4", "olive4", "olive4", 1, 0.5, 8},
    {"narrow_sram", 8, 8, "int8", "int8", "int8", 0, 1.0, 1},
    {"fused_olive8", 8, 8, "olive8", "olive8", "olive8", 0, 1.0, 8},
    // Blocks of 4 on a 16-row array: four scale segments inside every WS/IS fold.
    {"segments_in_fold", 16, 16, "bfp", "bfp:block=4:p=8", "bfp:block=4:p=8", 0, 1.0, 8},
    // Sign-split partial sums in blocks of 8 (X) and 4 (W), four sign combinations per segment.
    {"amxfp4_split_segments", 16, 16, "amxfp4", "amxfp4:block=8", "amxfp4:block=4:scale=e4m3", 0,
     1.0, 8},
    {"nvfp4_tensor_scale", 8, 8, "nvfp4", "nvfp4", "nvfp4:block=8", 0, 1.0, 8},
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name;
}

class CycleMode : public ::testing::TestWithParam<Variant> {};

TEST_P(CycleMode, SameCyclesStallsAndOutputsAsTileMode) {
  const Variant v = GetParam();
  const int64_t m = 21, n = 19, k = 45;
  GemmJob a_job;
  a_job.name = "a";
  a_job.m = m, a_job.n = n, a_job.k = k;
  a_job.x_format = v.x;
  a_job.w_format = v.w;
  const auto xe = test::encoded(v.x, m, k, 5), we = test::encoded(v.w, n, k, 6);
  a_job.x = {Operand{xe, nullptr}};
  a_job.w = {Operand{we, nullptr}};
  GemmJob b_job = a_job;  // a second job in the same run: DMA prefetch crosses jobs
  b_job.name = "b";
  const std::vector<float> ref = test::reference(*xe, *we);
  for (Dataflow df :
       {Dataflow::kOutputStationary, Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    ArchConfig arch = test::small_arch(v.pe, df, v.rows, v.cols);
    arch.decoder.latency_cycles = v.decoder_latency;
    arch.decoder.elements_per_cycle = v.decoder_rate;
    for (BufferConfig* b : {&arch.input_buffer, &arch.weight_buffer, &arch.output_buffer}) {
      b->bank_width_bytes = v.bank_width;
      b->size_bytes = 2048;
    }
    arch.output_buffer.size_bytes = 8192;
    SCOPED_TRACE(dataflow_name(df));
    SimOptions cyc;
    cyc.mode = SimMode::kCycle;
    const SimResult t = simulate(arch, {a_job, b_job});
    const SimResult c = simulate(arch, {a_job, b_job}, cyc);
    EXPECT_EQ(t.stats.cycles, c.stats.cycles);
    EXPECT_EQ(t.stats.array.compute_cycles, c.stats.array.compute_cycles);
    EXPECT_EQ(t.stats.array.busy_cycles, c.stats.array.busy_cycles);
    EXPECT_EQ(t.stats.array.stall_input_cycles, c.stats.array.stall_input_cycles);
    EXPECT_EQ(t.stats.array.stall_weight_cycles, c.stats.array.stall_weight_cycles);
    EXPECT_EQ(t.stats.array.stall_output_cycles, c.stats.array.stall_output_cycles);
    EXPECT_EQ(t.stats.dram.read_bytes, c.stats.dram.read_bytes);
    EXPECT_EQ(t.stats.array.folds, c.stats.array.folds);
    for (int j = 0; j < 2; ++j) {
      EXPECT_TRUE(test::same_bits(t.outputs[j][0], ref));
      EXPECT_TRUE(test::same_bits(c.outputs[j][0], ref));
    }
    // The run is not trivially compute-only: memory and the variant's limits show up.
    EXPECT_GT(t.stats.cycles, t.stats.array.compute_cycles);
    if (v.decoder_rate < 1.0) {
      EXPECT_GT(t.stats.left_decoders.stall_cycles + t.stats.top_decoders.stall_cycles, 0u);
    }
    if (v.bank_width == 1) {
      EXPECT_GT(t.stats.input_buffer.port_stall_cycles + t.stats.weight_buffer.port_stall_cycles +
                    t.stats.output_buffer.port_stall_cycles,
                0u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, CycleMode, ::testing::ValuesIn(kVariants),
                         [](const auto& info) { return std::string(info.param.name); });

// Decoder latency adds exactly its cycles to every fold, on top of SCALE-Sim's 2R + C + T - 2.
TEST(CycleModeTiming, DecoderLatencyAddsPerFold) {
  ArchConfig arch;
  arch.array.rows = arch.array.cols = 8;
  arch.array.dataflow = Dataflow::kWeightStationary;
  arch.array.pipelined_folds = false;
  arch = arch.idealized();
  GemmJob job;
  job.name = "g";
  job.m = 20, job.n = 12, job.k = 30;
  job.x_format = job.w_format = "int8";
  const uint64_t base = simulate(arch, {job}).stats.cycles;
  arch.decoder.latency_cycles = 5;
  // WS: ceil(30/8) * ceil(12/8) = 8 folds of 2*8 + 8 + 20 - 2 = 42 cycles.
  EXPECT_EQ(base, 8u * 42u);
  SimOptions cyc;
  cyc.mode = SimMode::kCycle;
  EXPECT_EQ(simulate(arch, {job}).stats.cycles, base + 8 * 5);
  EXPECT_EQ(simulate(arch, {job}, cyc).stats.cycles, base + 8 * 5);
}

// Pipelined folds (the default): the 8 folds of the one tile (idealized memory: the whole GEMM
// is one tile) start max(T, R + C) = max(20, 16) = 20 cycles apart after the first fold's 42,
// and the decoder pipeline fills once per tile.
TEST(CycleModeTiming, PipelinedFoldsOverlapAndDecoderLatencyAddsPerTile) {
  ArchConfig arch;
  arch.array.rows = arch.array.cols = 8;
  arch.array.dataflow = Dataflow::kWeightStationary;
  arch = arch.idealized();
  arch.objective = Objective::kLatency;
  GemmJob job;
  job.name = "g";
  job.m = 20, job.n = 12, job.k = 30;
  job.x_format = job.w_format = "int8";
  SimOptions one_tile;
  Mapping mp;
  mp.dataflow = Dataflow::kWeightStationary;
  mp.tile = {20, 12, 30};
  one_tile.mappings = {mp};
  const uint64_t base = simulate(arch, {job}, one_tile).stats.cycles;
  EXPECT_EQ(base, 42u + 7u * 20u);
  arch.decoder.latency_cycles = 5;
  EXPECT_EQ(simulate(arch, {job}, one_tile).stats.cycles, base + 5);
  one_tile.mode = SimMode::kCycle;
  EXPECT_EQ(simulate(arch, {job}, one_tile).stats.cycles, base + 5);
  // A short stream (T = 4 < R + C): folds are 16 cycles apart, set by the shadow registers.
  job.m = 4;
  mp.tile = {4, 12, 30};
  one_tile.mappings = {mp};
  arch.decoder.latency_cycles = 0;
  EXPECT_EQ(simulate(arch, {job}, one_tile).stats.cycles, 2u * 8 + 8 + 4 - 2 + 7u * 16);
  // OS: folds 2R + C - 2 = 22 apart when T < 22, else T apart.
  arch.array.dataflow = Dataflow::kOutputStationary;
  mp.dataflow = Dataflow::kOutputStationary;
  job.m = 20, job.k = 30;
  mp.tile = {20, 12, 30};  // ceil(20/8) * ceil(12/8) = 6 folds of T = 30
  one_tile.mappings = {mp};
  one_tile.mode = SimMode::kTile;
  const uint64_t os = simulate(arch, {job}, one_tile).stats.cycles;
  EXPECT_EQ(os, 2u * 8 + 8 + 30 - 2 + 5u * 30);
  one_tile.mode = SimMode::kCycle;
  EXPECT_EQ(simulate(arch, {job}, one_tile).stats.cycles, os);
}

}  // namespace
}  // namespace qarch::models
