// The 4 x 4 systolic cores (rtl/harness/array_unit.v) driven tile by tile and checked after
// every edge against the output-stationary schedule applied to quant's exact dots (see
// array_test.cpp). Shared by array_test.cpp and the co-simulation with models/.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Varray_unit.h"
#include "block_check.h"
#include "qarch/quant/format.h"

namespace qarch::rtltest {

template <>
struct SimInit<Varray_unit> {
  static void apply(Varray_unit& m) {
    m.ovp_clk = m.int8_clk = 0;
    m.ovp_pair_valid = m.int8_valid = 0;
    m.ovp_rst = m.int8_rst = 1;
  }
};

constexpr int kRows = 4, kCols = 4;

/// One tile: X [4, K] and W [4, K] (decoded), their element codes as the edges receive them
/// (olive4: one byte per pair, row-major; int8: one byte per element), and
/// reference_matmul(x, w) when the tile comes from a format (else empty).
struct Tile {
  quant::DecodedTensor x, w;
  std::vector<uint8_t> xcodes, wcodes;
  std::vector<float> ref;
  std::shared_ptr<const quant::EncodedTensor> ex, ew;  ///< the encodings (format tiles only)
};

/// How run_tiles drives one core: elements per edge code (2: OVP bytes, one byte per two
/// cycles; 1: int8), present(tile, code index, first, valid), clock(), reset(on), acc(i, j).
struct Core {
  int elems_per_code;
  std::function<void(int64_t t, int64_t u, bool first, bool valid)> present;
  std::function<void()> clock;
  std::function<void(bool)> reset;
  std::function<int64_t(int, int)> acc;
};

/// What a run observed besides mismatches.
struct RunInfo {
  /// finals[t][i * kCols + j]: PE(i, j)'s accumulator after its last element of tile t.
  std::vector<std::vector<int64_t>> finals;
  /// The schedule edge (0 = the first edge after reset) at which PE(i, j) consumed its last
  /// element of the last tile, and at which the first element of tile 0 was presented.
  std::vector<int64_t> last_mac_edge;
  int64_t first_present_edge = -1;
};

/// Drives the tiles back to back (a random 1-in-`stall_one_in` idle cycle between codes;
/// 0 = never) and checks every accumulator after every edge.
MaybeMismatch run_tiles(Sim<Varray_unit>& sim, const std::vector<Tile>& tiles, const Core& core,
                        uint32_t stall_seed, int stall_one_in, RunInfo* info);

Core ovp_core(Sim<Varray_unit>& sim, const std::vector<Tile>& tiles);
Core int8_core(Sim<Varray_unit>& sim, const std::vector<Tile>& tiles);
/// A tile of random OVP bytes, decoded by quant's olive4_decode_byte.
Tile random_ovp_tile(int64_t K, std::mt19937& rng);
/// A tile from a synthetic layer through formats fx (activations) and fw (weights).
Tile format_tile(const std::string& fx, const std::string& fw, int64_t K, uint32_t seed);
/// Each format tile's FP32 outputs from the array's integers (quant's conversion) equal
/// reference_matmul's bit for bit (gtest expectations).
void check_fp32(const std::vector<Tile>& tiles, const std::vector<std::vector<int64_t>>& finals);

}  // namespace qarch::rtltest
