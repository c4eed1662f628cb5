// OliVe RTL (rtl/src/ovp_decoder.v, ovp4_pe.v, ovp8_pe.v) against quant/'s OVP codec
// (olive4_decode_byte, ovp_decode_pair, ovp8_split) and reference_int_dot /
// reference_dot_segments / accumulate_segment:
// - every OVP byte (4-bit) and every OVP byte pair (8-bit, both outlier types) through the
//   decoders;
// - every pair of OVP bytes through decoders + 4-bit PE, every pair of decoded 8-bit elements
//   through the 8-bit mode (four 4-bit PEs), checked after every clock edge;
// - random byte streams with random tile lengths (QARCH_RTL_LONG=1 for the long run);
// - synthetic layer traces encoded by the olive4 / olive8 formats, each output's integer sum
//   exact and its FP32 value, through quant's conversion, equal to reference_matmul's;
// - the mutant PE (no outlier shift) fails the same checks.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "Vovp_unit.h"
#include "Vovp_unit_mutant.h"
#include "qarch/quant/format.h"
#include "qarch/quant/olive.h"
#include "rtl_harness.h"

namespace qarch::rtltest {

template <class M>
void ovp_idle(M& m) {
  m.ovp4_clk = 0;
  m.ovp4_valid = 0;
  m.ovp8_clk = 0;
  m.ovp8_valid = 0;
}
template <>
struct SimInit<Vovp_unit> {
  static void apply(Vovp_unit& m) { ovp_idle(m); }
};
template <>
struct SimInit<Vovp_unit_mutant> {
  static void apply(Vovp_unit_mutant& m) { ovp_idle(m); }
};

namespace {

using quant::DecodedTensor;
using quant::ExpIntPair;

std::string hex(uint32_t v, int digits) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*x", digits, v);
  return b;
}

std::string pair_text(ExpIntPair p) {
  return "<" + std::to_string(p.shift) + "," + std::to_string(p.mant) + ">";
}

// ---- 4-bit: one element per edge from byte pairs a[n/2], w[n/2] (element n % 2 of each).

// Decoded rows of a byte stream through quant's decoder: element 2p, 2p+1 of byte p.
DecodedTensor olive4_row(const std::vector<uint8_t>& bytes) {
  std::vector<int32_t> m;
  std::vector<uint8_t> s;
  for (uint8_t b : bytes) {
    for (const ExpIntPair& p : quant::olive4_decode_byte(b)) {
      m.push_back(p.mant);
      s.push_back(static_cast<uint8_t>(p.shift));
    }
  }
  return decoded_row(m, s);
}

// Streams the bytes through the 4-bit decoders + PE of model M (the real or the mutant one);
// tiles restart where is_first[n] is set (element indices).
template <class M>
MaybeMismatch ovp4_stream(Sim<M>& sim, const std::vector<uint8_t>& a, const std::vector<uint8_t>& w,
                          const std::vector<uint8_t>& is_first) {
  const DecodedTensor x = olive4_row(a), y = olive4_row(w);
  const auto count = static_cast<int64_t>(2 * a.size());
  MacStream s;
  s.count = count;
  s.acc_bits = 32;
  s.first = [&](int64_t n) { return is_first[n] != 0; };
  s.last = [&](int64_t n) { return n + 1 == count || is_first[n + 1] != 0; };
  s.drive = [&](int64_t n, bool first, bool) {
    sim->ovp4_a_pair = a[n / 2];
    sim->ovp4_w_pair = w[n / 2];
    sim->ovp4_sel = n % 2;
    sim->ovp4_valid = 1;
    sim->ovp4_first = first;
  };
  s.clock = [&] { sim.posedge([&](int v) { sim->ovp4_clk = v; }); };
  s.read_acc = [&] { return sext(sim->ovp4_acc, 32); };
  s.product = [&](int64_t n) { return quant::reference_int_dot(x, 0, y, 0, n, n + 1).sum[0][0]; };
  s.tile_sum = [&](int64_t n0, int64_t n1) {
    return quant::reference_int_dot(x, 0, y, 0, n0, n1).sum[0][0];
  };
  s.describe = [&](int64_t n) {
    return "A byte " + hex(a[n / 2], 2) + " element " + std::to_string(n % 2) + " -> " +
           pair_text({x.mant[n], x.shift[n]}) + ", W byte " + hex(w[n / 2], 2) + " -> " +
           pair_text({y.mant[n], y.shift[n]});
  };
  sim->ovp4_valid = 0;
  sim.eval();
  return check_mac_stream(sim, s);
}

std::vector<uint8_t> tiles_every(int64_t count, int64_t len) {
  std::vector<uint8_t> f(static_cast<size_t>(count), 0);
  for (int64_t n = 0; n < count; n += len) f[n] = 1;
  return f;
}

// Random tile starts: lengths uniform in [1, max_len].
std::vector<uint8_t> random_tiles(int64_t count, int64_t max_len, std::mt19937& rng) {
  std::vector<uint8_t> f(static_cast<size_t>(count), 0);
  for (int64_t n = 0; n < count; n += 1 + static_cast<int64_t>(rng() % max_len)) f[n] = 1;
  return f;
}

// Every (A byte, W byte) pair, both elements of each: 131072 products, tiles of 512.
template <class M>
MaybeMismatch ovp4_exhaustive(Sim<M>& sim) {
  std::vector<uint8_t> a, w;
  for (int i = 0; i < 256; ++i) {
    for (int j = 0; j < 256; ++j) {
      a.push_back(static_cast<uint8_t>(i));
      w.push_back(static_cast<uint8_t>(j));
    }
  }
  return ovp4_stream(sim, a, w, tiles_every(2 * static_cast<int64_t>(a.size()), 512));
}

// Random bytes (12% of pairs hold an outlier), random tiles up to 4096 elements (no int32
// overflow: 4096 * 96 * 96 < 2^31).
template <class M>
MaybeMismatch ovp4_random(Sim<M>& sim, int64_t elements, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> a(static_cast<size_t>(elements / 2)), w(a.size());
  for (auto& b : a) b = static_cast<uint8_t>(rng());
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  return ovp4_stream(sim, a, w, random_tiles(2 * static_cast<int64_t>(a.size()), 4096, rng));
}

TEST(OvpDecoder, EveryOlive4Byte) {
  QARCH_EXPECT_NO_MISMATCH(
      run_check<Vovp_unit>("ovp4_decoder", [](Sim<Vovp_unit>& sim) -> MaybeMismatch {
        for (int b = 0; b < 256; ++b) {
          sim->ovp4_a_pair = static_cast<uint8_t>(b);
          sim.eval();
          const auto want = quant::olive4_decode_byte(static_cast<uint8_t>(b));
          const ExpIntPair got[2] = {
              {static_cast<int32_t>(sext(sim->ovp4_dec_mant_even, 4)), sim->ovp4_dec_shift_even},
              {static_cast<int32_t>(sext(sim->ovp4_dec_mant_odd, 4)), sim->ovp4_dec_shift_odd}};
          for (int k = 0; k < 2; ++k) {
            if (got[k].mant != want[k].mant || got[k].shift != want[k].shift) {
              return Mismatch{sim.cycle(), "byte " + hex(b, 2) + " element " + std::to_string(k) +
                                               ": RTL " + pair_text(got[k]) + ", quant " +
                                               pair_text(want[k])};
            }
          }
        }
        return std::nullopt;
      }));
}

TEST(OvpDecoder, EveryOlive8BytePair) {
  for (int type = 0; type < 2; ++type) {
    const quant::OvpType& t = type ? quant::kOvp8E2M5 : quant::kOvp8E4M3;
    QARCH_EXPECT_NO_MISMATCH(run_check<Vovp_unit>(
        std::string("ovp8_decoder_") + t.name, [&](Sim<Vovp_unit>& sim) -> MaybeMismatch {
          sim->ovp8_type = type;
          for (uint32_t v = 0; v < 65536; ++v) {
            sim->ovp8_a_pair = static_cast<uint16_t>(v);
            sim.eval();
            const auto want = quant::ovp_decode_pair(t, v & 0xffu, v >> 8);
            const ExpIntPair got[2] = {
                {static_cast<int32_t>(sext(sim->ovp8_dec_mant_even, 8)), sim->ovp8_dec_shift_even},
                {static_cast<int32_t>(sext(sim->ovp8_dec_mant_odd, 8)), sim->ovp8_dec_shift_odd}};
            for (int k = 0; k < 2; ++k) {
              if (got[k].mant != want[k].mant || got[k].shift != want[k].shift) {
                return Mismatch{sim.cycle(), std::string(t.name) + " pair " + hex(v, 4) +
                                                 " element " + std::to_string(k) + ": RTL " +
                                                 pair_text(got[k]) + ", quant " +
                                                 pair_text(want[k])};
              }
            }
            // The 8-bit mode's split of the even element (PE inputs) against quant's ovp8_split.
            const quant::OvpSplit sp = quant::ovp8_split(want[0]);
            const int hi_m = static_cast<int>(sext(sim->ovp8_a_hi_mant, 4));
            const int lo_m = sim->ovp8_a_lo_mant;
            if (hi_m != sp.hi.mant || sim->ovp8_a_hi_shift != sp.hi.shift || lo_m != sp.lo.mant ||
                sim->ovp8_dec_shift_even != sp.lo.shift) {
              return Mismatch{
                  sim.cycle(),
                  std::string(t.name) + " pair " + hex(v, 4) + ": RTL split hi <" +
                      std::to_string(sim->ovp8_a_hi_shift) + "," + std::to_string(hi_m) + "> lo <" +
                      std::to_string(sim->ovp8_dec_shift_even) + "," + std::to_string(lo_m) +
                      ">, quant hi " + pair_text(sp.hi) + " lo " + pair_text(sp.lo)};
            }
          }
          return std::nullopt;
        }));
  }
}

TEST(Ovp4Pe, EveryBytePairEveryCycle) {
  QARCH_EXPECT_NO_MISMATCH(run_check<Vovp_unit>("ovp4_pe_exhaustive", ovp4_exhaustive<Vovp_unit>));
}

TEST(Ovp4Pe, RandomStreams) {
  const int64_t n = stream_count(int64_t{1} << 22, int64_t{1} << 26);
  QARCH_EXPECT_NO_MISMATCH(run_check<Vovp_unit>(
      "ovp4_pe_random", [&](Sim<Vovp_unit>& sim) { return ovp4_random(sim, n, 1); }));
}

// Holding in_valid low freezes the accumulator; in_first restarts it.
TEST(Ovp4Pe, ValidGatesAndFirstRestarts) {
  Sim<Vovp_unit> sim;
  auto clk = [&] { sim.posedge([&](int v) { sim->ovp4_clk = v; }); };
  sim->ovp4_sel = 0;
  sim->ovp4_a_pair = 0x08;  // even element: abfloat 0 with the odd identifier? no: odd = 0
  sim->ovp4_a_pair = 0x03;  // <0, 3> and <0, 0>
  sim->ovp4_w_pair = 0x8d;  // odd = identifier: even = abfloat 1101b = -(2+1) << (2+2) = -48
  sim->ovp4_valid = 1;
  sim->ovp4_first = 1;
  clk();
  const auto want = quant::reference_int_dot(olive4_row({0x03}), 0, olive4_row({0x8d}), 0, 0, 1);
  EXPECT_EQ(sext(sim->ovp4_acc, 32), static_cast<int64_t>(want.sum[0][0]));
  EXPECT_EQ(sext(sim->ovp4_acc, 32), -144);  // 3 * -48, by hand (formats.md: 48 = 3 << 4)
  sim->ovp4_valid = 0;
  sim->ovp4_first = 0;
  for (int i = 0; i < 5; ++i) clk();
  EXPECT_EQ(sext(sim->ovp4_acc, 32), -144);
  sim->ovp4_valid = 1;
  clk();
  EXPECT_EQ(sext(sim->ovp4_acc, 32), -288);
  sim->ovp4_first = 1;
  clk();
  EXPECT_EQ(sext(sim->ovp4_acc, 32), -144);
}

// ---- Layer traces through the formats: every output element is one tile.

struct TraceResult {
  int64_t dots = 0;
  int64_t elements = 0;
};

// X [rows, K] per=tensor (activations), W [rows, K] per=row (weights), olive4.
TEST(Ovp4Pe, Olive4LayerTrace) {
  const int64_t M = 8, N = 8, K = 512;
  const auto xf = outlier_activations(M, K, 11), wf = outlier_weights(N, K, 12);
  const auto fx = quant::make_format("olive4"), fw = quant::make_format("olive4:per=row");
  const auto ex = fx->encode(xf.data(), M, K), ew = fw->encode(wf.data(), N, K);
  const DecodedTensor dx = fx->decode_operand(ex), dw = fw->decode_operand(ew);
  const std::vector<float> ref = quant::reference_matmul(dx, dw);
  const auto stats = quant::olive_pair_stats(ex);
  EXPECT_GT(stats.outlier_normal, 0) << "the trace must exercise outliers";
  const int64_t rb = K / 2;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      const std::vector<uint8_t> a(ex.elements.begin() + i * rb,
                                   ex.elements.begin() + (i + 1) * rb);
      const std::vector<uint8_t> w(ew.elements.begin() + j * rb,
                                   ew.elements.begin() + (j + 1) * rb);
      int64_t acc = 0;
      QARCH_EXPECT_NO_MISMATCH(
          run_check<Vovp_unit>("ovp4_trace_" + std::to_string(i) + "_" + std::to_string(j),
                               [&](Sim<Vovp_unit>& sim) -> MaybeMismatch {
                                 auto mm = ovp4_stream(sim, a, w, tiles_every(K, K));
                                 acc = sext(sim->ovp4_acc, 32);
                                 return mm;
                               }));
      // The PE's integer against quant's segment, then FP32 through quant's conversion.
      auto segs = quant::reference_dot_segments(dx, i, dw, j);
      ASSERT_EQ(segs.size(), 1u);
      EXPECT_EQ(static_cast<int64_t>(segs[0].dot.sum[0][0]), acc);
      segs[0].dot.sum[0][0] = acc;
      const float y = quant::finish_dot(quant::accumulate_segment(0.0f, dx, dw, segs[0]), dx, dw);
      EXPECT_EQ(y, ref[i * N + j]) << "output (" << i << ", " << j << ")";
    }
  }
}

// ---- 8-bit mode.

// Decoded row of a stream of 16-bit OVP pairs (element 2p = low byte).
DecodedTensor olive8_row(const quant::OvpType& t, const std::vector<uint16_t>& pairs) {
  std::vector<int32_t> m;
  std::vector<uint8_t> s;
  for (uint16_t v : pairs) {
    for (const ExpIntPair& p : quant::ovp_decode_pair(t, v & 0xffu, v >> 8)) {
      m.push_back(p.mant);
      s.push_back(static_cast<uint8_t>(p.shift));
    }
  }
  return decoded_row(m, s);
}

// Streams pairs through the 8-bit decoders and ovp8_pe; element n is element n % 2 of pair n / 2
// unless `even_only`, in which case element n is the even element of pair n.
MaybeMismatch ovp8_stream(Sim<Vovp_unit>& sim, int type, const std::vector<uint16_t>& a,
                          const std::vector<uint16_t>& w, const std::vector<uint8_t>& is_first,
                          bool even_only) {
  const quant::OvpType& t = type ? quant::kOvp8E2M5 : quant::kOvp8E4M3;
  const DecodedTensor x0 = olive8_row(t, a), y0 = olive8_row(t, w);
  // In even_only mode the stream is the even elements: rebuild the rows from them.
  DecodedTensor x = x0, y = y0;
  if (even_only) {
    std::vector<int32_t> xm, ym;
    std::vector<uint8_t> xs, ys;
    for (size_t p = 0; p < a.size(); ++p) {
      xm.push_back(x0.mant[2 * p]);
      xs.push_back(x0.shift[2 * p]);
      ym.push_back(y0.mant[2 * p]);
      ys.push_back(y0.shift[2 * p]);
    }
    x = decoded_row(xm, xs);
    y = decoded_row(ym, ys);
  }
  const int64_t count = x.cols;
  MacStream s;
  s.count = count;
  s.acc_bits = 64;
  s.first = [&](int64_t n) { return is_first[n] != 0; };
  s.last = [&](int64_t n) { return n + 1 == count || is_first[n + 1] != 0; };
  s.drive = [&](int64_t n, bool first, bool) {
    const int64_t p = even_only ? n : n / 2;
    sim->ovp8_a_pair = a[p];
    sim->ovp8_w_pair = w[p];
    sim->ovp8_sel = even_only ? 0 : n % 2;
    sim->ovp8_valid = 1;
    sim->ovp8_first = first;
  };
  s.clock = [&] { sim.posedge([&](int v) { sim->ovp8_clk = v; }); };
  s.read_acc = [&] { return static_cast<int64_t>(sim->ovp8_acc); };
  s.product = [&](int64_t n) { return quant::reference_int_dot(x, 0, y, 0, n, n + 1).sum[0][0]; };
  s.tile_sum = [&](int64_t n0, int64_t n1) {
    return quant::reference_int_dot(x, 0, y, 0, n0, n1).sum[0][0];
  };
  s.describe = [&](int64_t n) {
    const int64_t p = even_only ? n : n / 2;
    return std::string(t.name) + " A pair " + hex(a[p], 4) + " -> " +
           pair_text({x.mant[n], x.shift[n]}) + ", W pair " + hex(w[p], 4) + " -> " +
           pair_text({y.mant[n], y.shift[n]});
  };
  sim->ovp8_type = type;
  sim->ovp8_valid = 0;
  sim.eval();
  return check_mac_stream(sim, s);
}

// Every decoded 8-bit element the even slot can hold: the 256 codes with a normal partner
// (normals, and the victim for 0x80) and the 255 abfloat codes with the identifier partner.
std::vector<uint16_t> all_even_elements() {
  std::vector<uint16_t> v;
  for (uint32_t c = 0; c < 256; ++c) v.push_back(static_cast<uint16_t>(c));
  for (uint32_t c = 0; c < 256; ++c) {
    if (c != 0x80) v.push_back(static_cast<uint16_t>(c | 0x8000u));
  }
  return v;
}

TEST(Ovp8Pe, EveryElementPairEveryCycle) {
  const auto e = all_even_elements();
  std::vector<uint16_t> a, w;
  for (uint16_t i : e) {
    for (uint16_t j : e) {
      a.push_back(i);
      w.push_back(j);
    }
  }
  const auto first = tiles_every(static_cast<int64_t>(a.size()), static_cast<int64_t>(e.size()));
  for (int type = 0; type < 2; ++type) {
    QARCH_EXPECT_NO_MISMATCH(run_check<Vovp_unit>(
        "ovp8_pe_exhaustive_" + std::to_string(type),
        [&](Sim<Vovp_unit>& sim) { return ovp8_stream(sim, type, a, w, first, true); }));
  }
}

TEST(Ovp8Pe, RandomStreams) {
  const int64_t n = stream_count(int64_t{1} << 20, int64_t{1} << 24);
  for (int type = 0; type < 2; ++type) {
    std::mt19937 rng(100 + type);
    // A quarter of the pairs hold an outlier (identifier in a random slot).
    auto pair = [&] {
      uint32_t v = rng() & 0xffffu;
      if (rng() % 4 == 0) v = (rng() % 2) ? ((v & 0x00ffu) | 0x8000u) : ((v & 0xff00u) | 0x80u);
      return static_cast<uint16_t>(v);
    };
    std::vector<uint16_t> a(static_cast<size_t>(n / 2)), w(a.size());
    for (auto& v : a) v = pair();
    for (auto& v : w) v = pair();
    const auto first = random_tiles(n, 1024, rng);
    QARCH_EXPECT_NO_MISMATCH(run_check<Vovp_unit>(
        "ovp8_pe_random_" + std::to_string(type),
        [&](Sim<Vovp_unit>& sim) { return ovp8_stream(sim, type, a, w, first, false); }));
  }
}

TEST(Ovp8Pe, Olive8LayerTrace) {
  const int64_t M = 4, N = 4, K = 256;
  const auto xf = outlier_activations(M, K, 21), wf = outlier_weights(N, K, 22);
  for (int type = 0; type < 2; ++type) {
    const std::string o = type ? ":outlier=e2m5" : "";
    const auto fx = quant::make_format("olive8" + o), fw = quant::make_format("olive8:per=row" + o);
    const auto ex = fx->encode(xf.data(), M, K), ew = fw->encode(wf.data(), N, K);
    const DecodedTensor dx = fx->decode_operand(ex), dw = fw->decode_operand(ew);
    const std::vector<float> ref = quant::reference_matmul(dx, dw);
    auto row_pairs = [&](const quant::EncodedTensor& e, int64_t r) {
      std::vector<uint16_t> p;
      const uint8_t* in = e.elements.data() + r * K;  // K / 2 pairs of 2 bytes
      for (int64_t u = 0; u < K / 2; ++u) {
        p.push_back(static_cast<uint16_t>(in[2 * u] | (in[2 * u + 1] << 8)));
      }
      return p;
    };
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        const auto a = row_pairs(ex, i), w = row_pairs(ew, j);
        int64_t acc = 0;
        QARCH_EXPECT_NO_MISMATCH(run_check<Vovp_unit>(
            "ovp8_trace_" + std::to_string(type), [&](Sim<Vovp_unit>& sim) -> MaybeMismatch {
              auto mm = ovp8_stream(sim, type, a, w, tiles_every(K, K), false);
              acc = static_cast<int64_t>(sim->ovp8_acc);
              return mm;
            }));
        auto segs = quant::reference_dot_segments(dx, i, dw, j);
        ASSERT_EQ(segs.size(), 1u);
        EXPECT_EQ(static_cast<int64_t>(segs[0].dot.sum[0][0]), acc);
        segs[0].dot.sum[0][0] = acc;
        const float y = quant::finish_dot(quant::accumulate_segment(0.0f, dx, dw, segs[0]), dx, dw);
        EXPECT_EQ(y, ref[i * N + j]) << "olive8" << o << " output (" << i << ", " << j << ")";
      }
    }
  }
}

// ---- The regression catches a wrong PE: ovp4_pe without the outlier shift (the mutant model,
// built from the same sources with QARCH_MUTANT_DROP_SHIFT).
TEST(Ovp4Mutant, DroppedOutlierShiftIsCaught) {
  const std::string vcd = vcd_dir() + "/ovp4_mutant_random.vcd";
  std::filesystem::remove(vcd);
  const MaybeMismatch random = run_check<Vovp_unit_mutant>(
      "ovp4_mutant_random",
      [](Sim<Vovp_unit_mutant>& sim) { return ovp4_random(sim, 1 << 16, 1); });
  ASSERT_TRUE(random.has_value()) << "the random-stream check missed the mutant";
  std::printf("mutant caught by the random stream: cycle %llu: %s\n",
              static_cast<unsigned long long>(random->cycle), random->what.c_str());
  EXPECT_TRUE(std::filesystem::exists(vcd));
  EXPECT_GT(std::filesystem::file_size(vcd), 1000u) << "the mismatch waveform is empty";
  const MaybeMismatch exhaustive =
      run_check<Vovp_unit_mutant>("ovp4_mutant_exhaustive", ovp4_exhaustive<Vovp_unit_mutant>);
  EXPECT_TRUE(exhaustive.has_value()) << "the exhaustive check missed the mutant";
  // Normal-only operands never shift, so the mutant agrees there: the checks catch it only
  // because they exercise outliers (a sanity check on the test data, not on the mutant).
  const MaybeMismatch normals =
      run_check<Vovp_unit_mutant>("ovp4_mutant_normals", [](Sim<Vovp_unit_mutant>& sim) {
        std::vector<uint8_t> a, w;
        for (int i = 0; i < 256; ++i) {
          if ((i & 0xf) == 8 || (i >> 4) == 8) continue;
          a.push_back(static_cast<uint8_t>(i));
        }
        w.assign(a.rbegin(), a.rend());
        return ovp4_stream(sim, a, w, tiles_every(2 * static_cast<int64_t>(a.size()), 64));
      });
  EXPECT_FALSE(normals.has_value());
}

}  // namespace
}  // namespace qarch::rtltest
