#include "array_check.h"

#include <gtest/gtest.h>

#include "qarch/quant/format.h"
#include "qarch/quant/olive.h"

namespace qarch::rtltest {

using quant::DecodedTensor;
using quant::EncodedTensor;

MaybeMismatch run_tiles(Sim<Varray_unit>& sim, const std::vector<Tile>& tiles, const Core& core,
                        uint32_t stall_seed, int stall_one_in, RunInfo* info) {
  const int64_t K = tiles.at(0).x.cols;
  const int64_t codes_per_tile = K / core.elems_per_code;
  // enter[t][k]: the edge before which element k of tile t is at the array edge (after the
  // border register), i.e. PE(i, j) consumes it at enter + 1 + i + j.
  std::vector<std::vector<int64_t>> enter(tiles.size(), std::vector<int64_t>(K, -1));
  std::mt19937 rng(stall_seed);
  struct PeState {
    int64_t t = 0, k = 0;  // next element to consume
    int64_t last_t = -1;   // tile of the last consumed element
    bool complete = false;
    i128 run = 0;
  };
  std::vector<PeState> pe(kRows * kCols);
  core.reset(true);
  core.present(0, 0, false, false);
  core.clock();
  core.clock();
  core.reset(false);
  // Issue codes: one per edge for int8; for OVP a byte occupies two edges (its two elements).
  int64_t t = 0, u = 0;
  int64_t busy = 0;  // edges left before the next OVP byte may be presented
  int64_t done_edge = -1;
  info->finals.assign(tiles.size(), std::vector<int64_t>(kRows * kCols, 0));
  info->last_mac_edge.assign(kRows * kCols, -1);
  info->first_present_edge = -1;
  for (int64_t c = 0;; ++c) {
    if (t < static_cast<int64_t>(tiles.size()) && busy == 0 &&
        (stall_one_in <= 0 || rng() % static_cast<uint32_t>(stall_one_in) != 0)) {
      if (info->first_present_edge < 0) info->first_present_edge = c;
      core.present(t, u, u == 0, true);
      for (int e = 0; e < core.elems_per_code; ++e) enter[t][u * core.elems_per_code + e] = c + e;
      busy = core.elems_per_code - 1;
      if (++u == codes_per_tile) {
        u = 0;
        ++t;
        if (t == static_cast<int64_t>(tiles.size())) done_edge = c + core.elems_per_code - 1;
      }
    } else {
      if (busy > 0) --busy;
      core.present(0, 0, false, false);
    }
    core.clock();
    // Check every PE after edge c: advance its consumed-element pointer, add quant's products.
    for (int i = 0; i < kRows; ++i) {
      for (int j = 0; j < kCols; ++j) {
        PeState& st = pe[i * kCols + j];
        while (st.t < static_cast<int64_t>(tiles.size()) && enter[st.t][st.k] >= 0 &&
               enter[st.t][st.k] + 1 + i + j <= c) {
          const Tile& tl = tiles[st.t];
          if (st.k == 0) st.run = 0;
          st.run += quant::reference_int_dot(tl.x, i, tl.w, j, st.k, st.k + 1).sum[0][0];
          st.last_t = st.t;
          if (++st.k == K) {
            const i128 full = quant::reference_int_dot(tl.x, i, tl.w, j, 0, K).sum[0][0];
            if (full != st.run) {
              return Mismatch{sim.cycle(), "quant tile sum " + to_string(full) +
                                               " != running sum " + to_string(st.run)};
            }
            st.k = 0;
            ++st.t;
            st.complete = true;
          } else {
            st.complete = false;
          }
        }
        if (st.last_t < 0) continue;  // nothing consumed yet: the accumulator is undefined
        const int64_t got = core.acc(i, j);
        if (got != wrap(st.run, 32)) {
          return Mismatch{sim.cycle(),
                          "schedule edge " + std::to_string(c) + " after reset (model edge " +
                              std::to_string(sim.cycle() - 1) + "), PE(" + std::to_string(i) + "," +
                              std::to_string(j) + "), tile " + std::to_string(st.last_t) +
                              " after " + std::to_string(st.complete ? K : st.k) + " of " +
                              std::to_string(K) + " elements: RTL acc " + std::to_string(got) +
                              ", quant " + to_string(st.run)};
        }
        if (st.complete) {
          info->finals[st.last_t][i * kCols + j] = got;
          if (st.last_t + 1 == static_cast<int64_t>(tiles.size()) &&
              info->last_mac_edge[i * kCols + j] < 0) {
            info->last_mac_edge[i * kCols + j] = c;
          }
        }
      }
    }
    if (done_edge >= 0 && c >= done_edge + 1 + (kRows - 1) + (kCols - 1) + 2) break;
  }
  return std::nullopt;
}

Core ovp_core(Sim<Varray_unit>& sim, const std::vector<Tile>& tiles) {
  Core core;
  core.elems_per_code = 2;
  core.present = [&sim, &tiles](int64_t t, int64_t u, bool first, bool valid) {
    sim->ovp_pair_valid = valid;
    sim->ovp_pair_first = first;
    if (!valid) return;
    const Tile& tl = tiles[t];
    const int64_t rb = tl.x.cols / 2;
    uint32_t a = 0, w = 0;
    for (int r = 0; r < kRows; ++r) a |= uint32_t{tl.xcodes[r * rb + u]} << (8 * r);
    for (int c = 0; c < kCols; ++c) w |= uint32_t{tl.wcodes[c * rb + u]} << (8 * c);
    sim->ovp_a_pairs = a;
    sim->ovp_w_pairs = w;
  };
  core.clock = [&sim] { sim.posedge([&](int v) { sim->ovp_clk = v; }); };
  core.reset = [&sim](bool r) { sim->ovp_rst = r; };
  core.acc = [&sim](int i, int j) { return sext(sim->ovp_acc[i * kCols + j], 32); };
  return core;
}

Core int8_core(Sim<Varray_unit>& sim, const std::vector<Tile>& tiles) {
  Core core;
  core.elems_per_code = 1;
  core.present = [&sim, &tiles](int64_t t, int64_t u, bool first, bool valid) {
    sim->int8_valid = valid;
    sim->int8_first = first;
    if (!valid) return;
    const Tile& tl = tiles[t];
    const int64_t K = tl.x.cols;
    uint32_t a = 0, w = 0;
    for (int r = 0; r < kRows; ++r) a |= uint32_t{tl.xcodes[r * K + u]} << (8 * r);
    for (int c = 0; c < kCols; ++c) w |= uint32_t{tl.wcodes[c * K + u]} << (8 * c);
    sim->int8_a = a;
    sim->int8_w = w;
  };
  core.clock = [&sim] { sim.posedge([&](int v) { sim->int8_clk = v; }); };
  core.reset = [&sim](bool r) { sim->int8_rst = r; };
  core.acc = [&sim](int i, int j) { return sext(sim->int8_acc[i * kCols + j], 32); };
  return core;
}

// A tile of random OVP bytes, decoded by quant's olive4_decode_byte.
Tile random_ovp_tile(int64_t K, std::mt19937& rng) {
  Tile t;
  for (auto* v : {&t.xcodes, &t.wcodes}) {
    v->resize(static_cast<size_t>(4 * K / 2));
    for (auto& b : *v) b = static_cast<uint8_t>(rng());
  }
  auto decode = [K](const std::vector<uint8_t>& bytes) {
    DecodedTensor d;
    d.resize(4, K, 4, K);
    for (int64_t r = 0; r < 4; ++r) {
      for (int64_t u = 0; u < K / 2; ++u) {
        const auto p = quant::olive4_decode_byte(bytes[r * (K / 2) + u]);
        for (int e = 0; e < 2; ++e) {
          d.mant[r * K + 2 * u + e] = p[e].mant;
          d.shift[r * K + 2 * u + e] = static_cast<uint8_t>(p[e].shift);
        }
      }
    }
    return d;
  };
  t.x = decode(t.xcodes);
  t.w = decode(t.wcodes);
  return t;
}

// A tile from a synthetic layer through formats fx (activations) and fw (weights).
Tile format_tile(const std::string& fx, const std::string& fw, int64_t K, uint32_t seed) {
  const auto f1 = quant::make_format(fx), f2 = quant::make_format(fw);
  const auto xf = outlier_activations(4, K, seed), wf = outlier_weights(4, K, seed + 1);
  const EncodedTensor ex = f1->encode(xf.data(), 4, K), ew = f2->encode(wf.data(), 4, K);
  Tile t;
  t.x = f1->decode_operand(ex);
  t.w = f2->decode_operand(ew);
  t.xcodes = ex.elements;
  t.wcodes = ew.elements;
  t.ref = quant::reference_matmul(t.x, t.w);
  t.ex = std::make_shared<const EncodedTensor>(ex);
  t.ew = std::make_shared<const EncodedTensor>(ew);
  return t;
}

void check_fp32(const std::vector<Tile>& tiles, const std::vector<std::vector<int64_t>>& finals) {
  for (size_t t = 0; t < tiles.size(); ++t) {
    if (tiles[t].ref.empty()) continue;
    for (int i = 0; i < kRows; ++i) {
      for (int j = 0; j < kCols; ++j) {
        const float y = fp32_from_sums(tiles[t].x, i, tiles[t].w, j, {finals[t][i * kCols + j]});
        EXPECT_TRUE(same_bits(y, tiles[t].ref[i * kCols + j]))
            << "tile " << t << " output (" << i << ", " << j << "): " << y << " vs "
            << tiles[t].ref[i * kCols + j];
      }
    }
  }
}

}  // namespace qarch::rtltest
