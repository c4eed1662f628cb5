// Event counters: every number is worked out here from the GEMM shape, the array size and the
// formats' storage, following the counting conventions in simulator.h.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "qarch/models/simulator.h"
#include "test_util.h"

namespace qarch::models {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Weight-stationary 8 x 8, everything idealized so the whole GEMM is one tile.
TEST(Counters, WeightStationaryOneTile) {
  ArchConfig a;
  a.array.rows = a.array.cols = 8;
  a.array.dataflow = Dataflow::kWeightStationary;
  a = a.idealized();
  const int64_t M = 40, N = 24, K = 50, R = 8, C = 8;
  GemmJob j;
  j.name = "g";
  j.m = M, j.n = N, j.k = K;
  j.x_format = j.w_format = "int8";
  const Stats s = simulate(a, {j}).stats;
  // int8 per tensor: one byte per element plus the FP32 scale.
  EXPECT_EQ(s.dram.read_bytes, static_cast<uint64_t>(M * K + 4 + N * K + 4));
  EXPECT_EQ(s.dram.write_bytes, static_cast<uint64_t>(M * N * 2));  // FP16 outputs
  EXPECT_EQ(s.array.macs, static_cast<uint64_t>(M * N * K));
  EXPECT_EQ(s.array.macs_by_type.at("int8"), static_cast<uint64_t>(M * N * K));
  const int64_t folds = ceil_div(K, R) * ceil_div(N, C);
  EXPECT_EQ(s.array.folds, static_cast<uint64_t>(folds));
  // X streams into every column fold; W is loaded once.
  EXPECT_EQ(s.left_decoders.elements, static_cast<uint64_t>(M * K * ceil_div(N, C)));
  EXPECT_EQ(s.top_decoders.elements, static_cast<uint64_t>(K * N));
  EXPECT_EQ(s.left_decoders.units, 8);
  EXPECT_EQ(s.left_decoders.kind, "int");
  EXPECT_EQ(s.input_buffer.read_bytes, static_cast<uint64_t>(M * K * ceil_div(N, C)));
  EXPECT_EQ(s.weight_buffer.read_bytes, static_cast<uint64_t>(K * N));
  // Every K fold writes its partial sums; all but the first read the previous ones back.
  EXPECT_EQ(s.output_buffer.write_bytes, static_cast<uint64_t>(M * N * ceil_div(K, R) * 4));
  EXPECT_EQ(s.output_buffer.read_bytes, static_cast<uint64_t>(M * N * (ceil_div(K, R) - 1) * 4));
  EXPECT_EQ(s.array.segment_closes, static_cast<uint64_t>(M * N));
  // Registers per MAC: read x, w (8 bits) and the 32-bit psum; write x and psum. Stationary load:
  // a W element for row r passes r + 1 registers.
  EXPECT_EQ(s.array.register_read_bytes, static_cast<uint64_t>(M * N * K * (1 + 1 + 4)));
  int64_t load_writes = 0;
  for (int64_t k0 = 0; k0 < K; k0 += R) {
    const int64_t r = std::min(R, K - k0);
    load_writes += N * r * (r + 1) / 2;  // summed over the N columns of all column folds
  }
  EXPECT_EQ(s.array.register_write_bytes, static_cast<uint64_t>(M * N * K * (1 + 4) + load_writes));
  // Mapping efficiency: used PEs per fold over 64, averaged.
  double used = 0;
  for (int64_t k0 = 0; k0 < K; k0 += R)
    for (int64_t n0 = 0; n0 < N; n0 += C) used += std::min(R, K - k0) * std::min(C, N - n0);
  EXPECT_DOUBLE_EQ(s.array.mapping_efficiency, used / (folds * 64.0));
  EXPECT_DOUBLE_EQ(s.array.utilization,
                   static_cast<double>(M * N * K) / (static_cast<double>(s.cycles) * 64));
}

TEST(Counters, ScaleSegmentsDecoderOpsAndFusedMacs) {
  ArchConfig a;
  a.array.rows = a.array.cols = 8;
  a = a.idealized();
  GemmJob j;
  j.name = "g";
  j.m = 10, j.n = 12, j.k = 50;
  // Groups of 16 along K: segments start at 0, 16, 32, 48.
  j.x_format = j.w_format = "int8:per=group:group=16";
  EXPECT_EQ(simulate(a, {j}).stats.array.segment_closes, 10u * 12u * 4u);
  // Groups of 16 (X) and 24 (W): starts 0, 16, 24, 32, 48.
  j.w_format = "int8:per=group:group=24";
  EXPECT_EQ(simulate(a, {j}).stats.array.segment_closes, 10u * 12u * 5u);
  // AMXFP4: blocks of 32 (segments at 0 and 32), four sign combinations of the two operands'
  // scales per segment; with one AMXFP4 operand and one MXFP4, two.
  a.array.pe = "amxfp4";
  j.x_format = j.w_format = "amxfp4";
  EXPECT_EQ(simulate(a, {j}).stats.array.segment_closes, 10u * 12u * 2u * 4u);
  j.w_format = "mxfp4";
  EXPECT_EQ(simulate(a, {j}).stats.array.segment_closes, 10u * 12u * 2u * 2u);
  // OVP: one decoder operation per byte = two elements.
  a.array.pe = "olive4";
  a.array.dataflow = Dataflow::kOutputStationary;
  j.x_format = j.w_format = "olive4";
  Stats s = simulate(a, {j}).stats;
  // OS: X streams into every column fold, W into every row fold.
  EXPECT_EQ(s.left_decoders.elements, static_cast<uint64_t>(10 * 50 * ceil_div(12, 8)));
  EXPECT_EQ(s.top_decoders.elements, static_cast<uint64_t>(12 * 50 * ceil_div(10, 8)));
  EXPECT_EQ(s.left_decoders.ops, s.left_decoders.elements / 2);
  EXPECT_EQ(s.left_decoders.kind, "ovp4");
  EXPECT_EQ(s.array.macs_by_type.at("ovp4"), 10u * 12u * 50u);
  // OliVe 8-bit: each logical MAC is four 4-bit partial products.
  a.array.pe = "olive8";
  j.x_format = j.w_format = "olive8";
  s = simulate(a, {j}).stats;
  EXPECT_EQ(s.array.macs_by_type.at("ovp8"), 6000u);
  EXPECT_EQ(s.array.macs_by_type.at("ovp4_partial_products"), 24000u);
  EXPECT_EQ(s.array.logical_rows, 4);
}

// OLAccel: with operands, the MACs that touch an outlier are counted exactly from the outlier
// positions in the encodings; without, from the formats' outlier fraction.
TEST(Counters, OlaccelOutlierMacs) {
  ArchConfig a = test::small_arch("olaccel", Dataflow::kWeightStationary, 8, 8);
  GemmJob j;
  j.name = "g";
  j.m = 17, j.n = 9, j.k = 40;
  j.x_format = j.w_format = "olaccel";
  const auto xe = test::encoded("olaccel", j.m, j.k, 1);
  const auto we = test::encoded("olaccel", j.n, j.k, 2);
  std::vector<uint8_t> xo(static_cast<size_t>(j.m * j.k)), wo(static_cast<size_t>(j.n * j.k));
  for (uint32_t i : xe->indices) xo[i] = 1;
  for (uint32_t i : we->indices) wo[i] = 1;
  uint64_t want = 0;
  for (int64_t i = 0; i < j.m; ++i)
    for (int64_t n = 0; n < j.n; ++n)
      for (int64_t k = 0; k < j.k; ++k) want += xo[i * j.k + k] || wo[n * j.k + k];
  ASSERT_GT(want, 0u);
  j.x = {Operand{xe, nullptr}};
  j.w = {Operand{we, nullptr}};
  Stats s = simulate(a, {j}).stats;
  EXPECT_EQ(s.array.macs_by_type.at("olaccel_outlier"), want);
  EXPECT_EQ(s.array.macs_by_type.at("dense4"), 17u * 9u * 40u - want);
  // Timing only: 3% outliers on each side -> 1 - 0.97^2 of the MACs.
  j.x.clear();
  j.w.clear();
  s = simulate(a, {j}).stats;
  EXPECT_EQ(s.array.macs_by_type.at("olaccel_outlier"),
            static_cast<uint64_t>(std::llround(6120 * (1 - 0.97 * 0.97))));
}

// Buffers never hold more than their capacity; per-job DRAM bytes add up to the channel's.
TEST(Counters, OccupancyAndPerJobTraffic) {
  ArchConfig a = test::small_arch("int8", Dataflow::kWeightStationary, 8, 8);
  a.input_buffer.size_bytes = 1024;
  a.weight_buffer.size_bytes = 1024;
  a.output_buffer.size_bytes = 4096;
  GemmJob j1;
  j1.name = "one";
  j1.m = 50, j1.n = 40, j1.k = 70;
  j1.x_format = j1.w_format = "int8";
  GemmJob j2 = j1;
  j2.name = "two";
  j2.batch = 2;
  const Stats s = simulate(a, {j1, j2}).stats;
  for (const BufferStats* b : {&s.input_buffer, &s.weight_buffer, &s.output_buffer}) {
    EXPECT_GT(b->peak_bytes, 0) << b->name;
    EXPECT_LE(b->peak_bytes, b->capacity_bytes) << b->name;
  }
  ASSERT_EQ(s.jobs.size(), 2u);
  EXPECT_EQ(s.jobs[0].dram_read_bytes + s.jobs[1].dram_read_bytes, s.dram.read_bytes);
  EXPECT_EQ(s.jobs[0].dram_write_bytes + s.jobs[1].dram_write_bytes, s.dram.write_bytes);
  EXPECT_EQ(s.jobs[1].macs, 2 * s.jobs[0].macs);
  EXPECT_LE(s.jobs[0].end_cycle, s.jobs[1].end_cycle);
  EXPECT_LT(s.jobs[1].start_cycle, s.jobs[1].end_cycle);
  EXPECT_EQ(s.jobs[1].end_cycle, s.cycles);
  EXPECT_GE(static_cast<double>(s.cycles),
            static_cast<double>(s.dram.read_bytes + s.dram.write_bytes) /
                a.dram.bandwidth_bytes_per_cycle);
  // JSON export carries the same numbers.
  const nlohmann::json js = s;
  EXPECT_EQ(js["cycles"].get<uint64_t>(), s.cycles);
  EXPECT_EQ(js["array"]["macs"].get<uint64_t>(), s.array.macs);
  EXPECT_EQ(js["jobs"][1]["name"], "two");
  EXPECT_EQ(js["buffers"][0]["peak_bytes"].get<int64_t>(), s.input_buffer.peak_bytes);
}

}  // namespace
}  // namespace qarch::models
