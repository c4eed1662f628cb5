// The 4 x 4 systolic cores (rtl/src/systolic.v via rtl/harness/array_unit.v) cycle by cycle
// against the output-stationary systolic schedule applied to quant's exact integer dots:
// element n of a tile, presented at the array edge before edge e_n, is consumed by PE(i, j)
// at edge e_n + 1 + i + j (one border register, skew i + j); so after edge c, PE(i, j) must
// hold quant's reference_int_dot of its tile over every element consumed so far. Tiles follow
// each other without a gap, with random stall cycles, and come from random codes and from
// synthetic layers encoded by the olive4 / int8 formats (whose FP32 outputs, through quant's
// conversion of the array's integers, must equal reference_matmul's bit for bit).
//
// cosim_test.cpp runs the same cores against the SystemC per-cycle mode of models/ (when
// models/ is part of the build).
#include <gtest/gtest.h>

#include "array_check.h"
#include "qarch/quant/format.h"

namespace qarch::rtltest {
namespace {

using quant::EncodedTensor;

TEST(Ovp4Array, TilesCycleByCycle) {
  std::mt19937 rng(3);
  std::vector<Tile> tiles;
  for (int t = 0; t < 6; ++t) tiles.push_back(random_ovp_tile(64, rng));
  tiles.push_back(format_tile("olive4", "olive4:per=row", 64, 50));
  tiles.push_back(format_tile("olive4", "olive4:per=row", 64, 60));
  for (uint32_t stalls : {0u, 1u}) {
    RunInfo info;
    // stall seed 0 still stalls randomly (1 in 8); a second seed varies the pattern
    QARCH_EXPECT_NO_MISMATCH(
        run_check<Varray_unit>("ovp4_array_" + std::to_string(stalls), [&](Sim<Varray_unit>& sim) {
          return run_tiles(sim, tiles, ovp_core(sim, tiles), 17 + stalls, 8, &info);
        }));
    check_fp32(tiles, info.finals);
  }
}

TEST(Ovp4Array, LongOlive4Tiles) {
  std::vector<Tile> tiles;
  for (int t = 0; t < 3; ++t)
    tiles.push_back(format_tile("olive4", "olive4:per=row", 1024, 70 + 2 * t));
  RunInfo info;
  QARCH_EXPECT_NO_MISMATCH(run_check<Varray_unit>("ovp4_array_long", [&](Sim<Varray_unit>& sim) {
    return run_tiles(sim, tiles, ovp_core(sim, tiles), 5, 8, &info);
  }));
  check_fp32(tiles, info.finals);
}

TEST(Int8Array, TilesCycleByCycle) {
  std::vector<Tile> tiles;
  const auto fmt = quant::make_format("int8");
  std::mt19937 rng(8);
  for (int t = 0; t < 4; ++t) {
    Tile tl;
    for (auto* v : {&tl.xcodes, &tl.wcodes}) {
      v->resize(4 * 96);
      for (auto& b : *v) b = static_cast<uint8_t>(rng());
    }
    EncodedTensor ex, ew;
    for (auto [e, codes] : {std::pair{&ex, &tl.xcodes}, std::pair{&ew, &tl.wcodes}}) {
      e->format = fmt->name();
      e->rows = 4;
      e->cols = 96;
      e->elements = *codes;
      e->fp32 = {1.0f};
    }
    tl.x = fmt->decode_operand(ex);
    tl.w = fmt->decode_operand(ew);
    tiles.push_back(tl);
  }
  tiles.push_back(format_tile("int8", "int8:per=row", 96, 80));
  tiles.push_back(format_tile("int8:per=row", "int8:per=row", 96, 90));
  RunInfo info;
  QARCH_EXPECT_NO_MISMATCH(run_check<Varray_unit>("int8_array", [&](Sim<Varray_unit>& sim) {
    return run_tiles(sim, tiles, int8_core(sim, tiles), 23, 8, &info);
  }));
  check_fp32(tiles, info.finals);
}

}  // namespace
}  // namespace qarch::rtltest
