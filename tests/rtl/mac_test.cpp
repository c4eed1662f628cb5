// RTL of the INT8 MAC, the FP element decoders, the E2M1 product, the BFP PE and decoder, the
// AMXFP4 PE and the NVFP4 / AMXFP4 decoders (rtl/harness/mac_unit.v) against quant/: the
// formats' decode_operand (int8, bfp), fp_decode_pair / fp_decode / fp_is_special, and
// reference_int_dot / reference_dot_segments / accumulate_segment. Exhaustive over every code
// (decoders) and every code pair (products), random streams, synthetic layer traces.
#include <gtest/gtest.h>

#include <cmath>

#include "Vmac_unit.h"
#include "block_check.h"
#include "qarch/quant/format.h"
#include "qarch/quant/fp_element.h"

namespace qarch::rtltest {

template <>
struct SimInit<Vmac_unit> {
  static void apply(Vmac_unit& m) {
    m.int8_clk = m.mxfp4_clk = m.mxint8_clk = m.bfp4_clk = m.bfp8_clk = m.amx_clk = 0;
    m.int8_valid = m.mxfp4_valid = m.mxint8_valid = m.bfp4_valid = m.bfp8_valid = m.amx_valid = 0;
  }
};

namespace {

using quant::DecodedTensor;
using quant::EncodedTensor;
using quant::ExpIntPair;
using quant::FpElementSpec;

std::string pair_text(ExpIntPair p) {
  return "<" + std::to_string(p.shift) + "," + std::to_string(p.mant) + ">";
}

// An EncodedTensor of `fmt` holding the given element bytes / scale bytes / FP32 side values
// as a memory would: the test's codes go through the format's own decode_operand.
EncodedTensor encoded(const quant::Format& fmt, int64_t rows, int64_t cols,
                      std::vector<uint8_t> elements, std::vector<uint8_t> scales,
                      std::vector<float> fp32) {
  EncodedTensor e;
  e.format = fmt.name();
  e.rows = rows;
  e.cols = cols;
  e.elements = std::move(elements);
  e.scales = std::move(scales);
  e.fp32 = std::move(fp32);
  return e;
}

// ---- INT8 MAC

// Row i of X against row j of W (int8 codes ex / ew of the decoded dx / dw) through the MAC.
MaybeMismatch int8_dot(Sim<Vmac_unit>& sim, const EncodedTensor& ex, const DecodedTensor& dx,
                       int64_t i, const EncodedTensor& ew, const DecodedTensor& dw, int64_t j,
                       std::vector<int64_t>& sums) {
  const int64_t K = dx.cols;
  BlockPort p;
  p.acc_bits = 32;
  p.drive = [&](int64_t k, bool first, bool) {
    sim->int8_a = ex.elements[i * K + k];
    sim->int8_w = ew.elements[j * K + k];
    sim->int8_valid = 1;
    sim->int8_first = first;
  };
  p.clock = [&] { sim.posedge([&](int v) { sim->int8_clk = v; }); };
  p.read_acc = [&] { return sext(sim->int8_acc, 32); };
  p.describe = [&](int64_t k) {
    return "A code " + std::to_string(ex.elements[i * K + k]) + " (" +
           std::to_string(dx.mant[i * K + k]) + "), W code " +
           std::to_string(ew.elements[j * K + k]) + " (" + std::to_string(dw.mant[j * K + k]) + ")";
  };
  return block_dot(sim, dx, i, dw, j, p, sums);
}

// Every (a, w) pair of int8 codes, -128 included (which the symmetric encoder never emits but
// the decoder reads as two's complement), one 65536-element dot with a per-tensor scale.
TEST(Int8Mac, EveryCodePairEveryCycle) {
  const auto fmt = quant::make_format("int8");
  std::vector<uint8_t> a, w;
  for (int x = 0; x < 256; ++x) {
    for (int y = 0; y < 256; ++y) {
      a.push_back(static_cast<uint8_t>(x));
      w.push_back(static_cast<uint8_t>(y));
    }
  }
  const int64_t K = static_cast<int64_t>(a.size());
  const auto ex = encoded(*fmt, 1, K, a, {}, {0.5f}), ew = encoded(*fmt, 1, K, w, {}, {0.25f});
  const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
  std::vector<int64_t> sums;
  QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>("int8_exhaustive", [&](Sim<Vmac_unit>& sim) {
    return int8_dot(sim, ex, dx, 0, ew, dw, 0, sums);
  }));
  EXPECT_TRUE(same_bits(fp32_from_sums(dx, 0, dw, 0, sums), quant::reference_dot(dx, 0, dw, 0)));
}

// Random codes, one long row in groups of 4096 (int8:group=4096: one segment per group).
TEST(Int8Mac, RandomStreams) {
  const int64_t K = stream_count(int64_t{1} << 22, int64_t{1} << 25);
  const auto fmt = quant::make_format("int8:group=4096");
  std::mt19937 rng(5);
  std::vector<uint8_t> a(static_cast<size_t>(K)), w(a.size());
  for (auto& v : a) v = static_cast<uint8_t>(rng());
  for (auto& v : w) v = static_cast<uint8_t>(rng());
  const int64_t groups = (K + 4095) / 4096;
  const auto ex = encoded(*fmt, 1, K, a, {}, std::vector<float>(groups, 1.0f));
  const auto ew = encoded(*fmt, 1, K, w, {}, std::vector<float>(groups, 1.0f));
  const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
  std::vector<int64_t> sums;
  QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>("int8_random", [&](Sim<Vmac_unit>& sim) {
    return int8_dot(sim, ex, dx, 0, ew, dw, 0, sums);
  }));
  EXPECT_TRUE(same_bits(fp32_from_sums(dx, 0, dw, 0, sums), quant::reference_dot(dx, 0, dw, 0)));
}

TEST(Int8Mac, LayerTrace) {
  const int64_t M = 6, N = 6, K = 768;
  const auto xf = outlier_activations(M, K, 31), wf = outlier_weights(N, K, 32);
  for (const char* spec : {"int8", "int8:per=row", "int8:group=128"}) {
    const auto fx = quant::make_format(spec), fw = quant::make_format("int8:per=row");
    const auto ex = fx->encode(xf.data(), M, K), ew = fw->encode(wf.data(), N, K);
    const DecodedTensor dx = fx->decode_operand(ex), dw = fw->decode_operand(ew);
    const auto ref = quant::reference_matmul(dx, dw);
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        std::vector<int64_t> sums;
        QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>(
            std::string("int8_trace"),
            [&](Sim<Vmac_unit>& sim) { return int8_dot(sim, ex, dx, i, ew, dw, j, sums); }));
        EXPECT_TRUE(same_bits(fp32_from_sums(dx, i, dw, j, sums), ref[i * N + j]))
            << spec << " output (" << i << ", " << j << ")";
      }
    }
  }
}

// ---- FP element decoders and the E2M1 product

TEST(FpElemDecoder, EveryCodeOfEveryElementType) {
  Sim<Vmac_unit> sim;
  struct Row {
    const FpElementSpec* spec;
    std::function<ExpIntPair()> got;
    std::function<int()> special;
  };
  const Row rows[] = {
      {&quant::kE2M1,
       [&] {
         return ExpIntPair{int32_t(sext(sim->e2m1_mant, 3)), sim->e2m1_shift};
       },
       [] { return 0; }},
      {&quant::kE2M3,
       [&] {
         return ExpIntPair{int32_t(sext(sim->e2m3_mant, 5)), sim->e2m3_shift};
       },
       [] { return 0; }},
      {&quant::kE3M2,
       [&] {
         return ExpIntPair{int32_t(sext(sim->e3m2_mant, 4)), sim->e3m2_shift};
       },
       [] { return 0; }},
      {&quant::kE4M3,
       [&] {
         return ExpIntPair{int32_t(sext(sim->e4m3_mant, 5)), sim->e4m3_shift};
       },
       [&] { return int(sim->e4m3_special); }},
      {&quant::kE5M2,
       [&] {
         return ExpIntPair{int32_t(sext(sim->e5m2_mant, 4)), sim->e5m2_shift};
       },
       [&] { return int(sim->e5m2_special); }},
  };
  int checked = 0;
  for (const Row& r : rows) {
    for (uint32_t c = 0; c < (1u << r.spec->bits()); ++c) {
      sim->fp_code = c;
      sim.eval();
      const bool special = quant::fp_is_special(*r.spec, c);
      EXPECT_EQ(r.special(), special ? 1 : 0) << r.spec->name << " code " << c;
      if (special) continue;
      const ExpIntPair want = quant::fp_decode_pair(*r.spec, c);
      const ExpIntPair got = r.got();
      EXPECT_TRUE(got.mant == want.mant && got.shift == want.shift)
          << r.spec->name << " code " << c << ": RTL " << pair_text(got) << ", quant "
          << pair_text(want);
      ++checked;
    }
  }
  // E2M1 16, E2M3 64, E3M2 64 codes; E4M3 256 less its two NaNs; E5M2 256 less the 8 codes
  // of exponent 11111 (Inf, NaN).
  EXPECT_EQ(checked, 16 + 64 + 64 + 254 + 248);
}

// Every E2M1 x E2M1 product: the RTL integer (units of 2^(2 ulp_exp) = 1/4) equals quant's
// exponent-integer product of fp_decode_pair, and times 1/4 the product of the decoded values.
TEST(E2M1Mul, EveryCodePair) {
  Sim<Vmac_unit> sim;
  const int ulp2 = 2 * quant::kE2M1.ulp_exp();
  for (uint32_t a = 0; a < 16; ++a) {
    for (uint32_t b = 0; b < 16; ++b) {
      sim->mul_a = a;
      sim->mul_b = b;
      sim.eval();
      const ExpIntPair pa = quant::fp_decode_pair(quant::kE2M1, a);
      const ExpIntPair pb = quant::fp_decode_pair(quant::kE2M1, b);
      const DecodedTensor x = decoded_row({pa.mant}, {static_cast<uint8_t>(pa.shift)});
      const DecodedTensor w = decoded_row({pb.mant}, {static_cast<uint8_t>(pb.shift)});
      const int64_t want =
          static_cast<int64_t>(quant::reference_int_dot(x, 0, w, 0, 0, 1).sum[0][0]);
      const int64_t got = sext(sim->mul_prod, 9);
      EXPECT_EQ(got, want) << "E2M1 " << a << " x " << b;
      EXPECT_EQ(std::ldexp(static_cast<double>(got), ulp2),
                double(quant::fp_decode(quant::kE2M1, a)) * quant::fp_decode(quant::kE2M1, b))
          << "E2M1 " << a << " x " << b;
    }
  }
}

// ---- BFP PE (P = 4: BFP12 / MSFP12, P = 8: BFP16 / MSFP16) and its element decoder

struct BfpLane {
  int p;
  int acc_bits;
};

MaybeMismatch bfp_dot(Sim<Vmac_unit>& sim, int p, const EncodedTensor& ex, const DecodedTensor& dx,
                      int64_t i, const EncodedTensor& ew, const DecodedTensor& dw, int64_t j,
                      std::vector<int64_t>& sums) {
  const int64_t K = dx.cols, block = dx.group_cols, nblk = (K + block - 1) / block;
  const auto ca = quant::unpack_codes(ex.elements, ex.rows, K, p);
  const auto cw = quant::unpack_codes(ew.elements, ew.rows, K, p);
  BlockPort port;
  port.acc_bits = p == 4 ? 16 : 24;
  port.drive = [&, p](int64_t k, bool first, bool last) {
    const uint8_t sa = ex.scales[i * nblk + k / block], sw = ew.scales[j * nblk + k / block];
    if (p == 4) {
      sim->bfp4_a = ca[i * K + k];
      sim->bfp4_w = cw[j * K + k];
      sim->bfp4_a_scale = sa;
      sim->bfp4_w_scale = sw;
      sim->bfp4_valid = 1;
      sim->bfp4_first = first;
      sim->bfp4_last = last;
    } else {
      sim->bfp8_a = ca[i * K + k];
      sim->bfp8_w = cw[j * K + k];
      sim->bfp8_a_scale = sa;
      sim->bfp8_w_scale = sw;
      sim->bfp8_valid = 1;
      sim->bfp8_first = first;
      sim->bfp8_last = last;
    }
  };
  port.clock = [&, p] {
    sim.posedge([&](int v) { (p == 4 ? sim->bfp4_clk : sim->bfp8_clk) = v; });
  };
  port.read_acc = [&, p] { return p == 4 ? sext(sim->bfp4_acc, 16) : sext(sim->bfp8_acc, 24); };
  port.describe = [&](int64_t k) {
    return "A code " + std::to_string(ca[i * K + k]) + " (" + std::to_string(dx.mant[i * K + k]) +
           "), W code " + std::to_string(cw[j * K + k]) + " (" +
           std::to_string(dw.mant[j * K + k]) + ")";
  };
  port.check_block = [&, p](const quant::DotSegment& s) -> std::string {
    const int64_t got = sext(p == 4 ? sim->bfp4_blk_exp : sim->bfp8_blk_exp, 10);
    const int64_t want = int64_t{dx.scale_exp[s.gx]} + dw.scale_exp[s.gw];
    const int valid = p == 4 ? sim->bfp4_blk_valid : sim->bfp8_blk_valid;
    if (got != want || !valid) {
      return "block exponent: RTL " + std::to_string(got) + " (valid " + std::to_string(valid) +
             "), quant scale_exp sum " + std::to_string(want);
    }
    return "";
  };
  return block_dot(sim, dx, i, dw, j, port, sums);
}

// Every element code through the border decoder equals the format's decoded mantissa.
TEST(BfpElemDecoder, EveryCode) {
  Sim<Vmac_unit> sim;
  for (int p : {4, 8}) {
    const auto fmt = quant::make_format(p == 4 ? "bfp12" : "bfp16");
    const int n = 1 << p;
    std::vector<uint32_t> codes(static_cast<size_t>(n));
    for (int c = 0; c < n; ++c) codes[c] = static_cast<uint32_t>(c);
    const auto e = encoded(*fmt, 1, n, quant::pack_codes(codes, 1, n, p),
                           std::vector<uint8_t>(static_cast<size_t>(n / 16), 127), {});
    const DecodedTensor d = fmt->decode_operand(e);
    for (int c = 0; c < n; ++c) {
      int64_t got;
      if (p == 4) {
        sim->bfp4_a = c;
        sim.eval();
        got = sext(sim->bfp4_a_dec, 4);
      } else {
        sim->bfp8_a = c;
        sim.eval();
        got = sext(sim->bfp8_a_dec, 8);
      }
      EXPECT_EQ(got, d.mant[c]) << "P = " << p << " code " << c;
      EXPECT_EQ(d.shift[c], 0);
    }
  }
}

// Every pair of element codes (P = 4: 256, P = 8: 65536) in blocks of 16 with random shared
// exponents, the block sums and exponents after every edge.
TEST(BfpPe, EveryCodePairEveryCycle) {
  std::mt19937 rng(9);
  for (int p : {4, 8}) {
    const auto fmt = quant::make_format(p == 4 ? "bfp12" : "bfp16");
    const int n = 1 << p;
    std::vector<uint32_t> a, w;
    for (int x = 0; x < n; ++x) {
      for (int y = 0; y < n; ++y) {
        a.push_back(static_cast<uint32_t>(x));
        w.push_back(static_cast<uint32_t>(y));
      }
    }
    const int64_t K = static_cast<int64_t>(a.size());
    std::vector<uint8_t> sa(static_cast<size_t>(K / 16)), sw(sa.size());
    for (auto& s : sa) s = static_cast<uint8_t>(rng() % 255);  // 0xFF is invalid
    for (auto& s : sw) s = static_cast<uint8_t>(rng() % 255);
    const auto ex = encoded(*fmt, 1, K, quant::pack_codes(a, 1, K, p), sa, {});
    const auto ew = encoded(*fmt, 1, K, quant::pack_codes(w, 1, K, p), sw, {});
    const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
    std::vector<int64_t> sums;
    QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>(
        "bfp" + std::to_string(p) + "_exhaustive",
        [&](Sim<Vmac_unit>& sim) { return bfp_dot(sim, p, ex, dx, 0, ew, dw, 0, sums); }));
    EXPECT_TRUE(same_bits(fp32_from_sums(dx, 0, dw, 0, sums), quant::reference_dot(dx, 0, dw, 0)));
  }
}

// Synthetic layers encoded by the BFP formats (blocks 16 / 32 / 64 / 128); each output's
// block sums exact, block exponents equal, FP32 through quant's conversion equal to
// reference_matmul's.
TEST(BfpPe, LayerTrace) {
  const int64_t M = 4, N = 4, K = 512;
  const auto xf = outlier_activations(M, K, 41), wf = outlier_weights(N, K, 42);
  for (const char* spec :
       {"bfp12", "bfp16", "bfp12:block=32", "bfp16:block=64", "bfp12:block=128"}) {
    const auto fmt = quant::make_format(spec);
    const int p = std::string(spec).rfind("bfp12", 0) == 0 ? 4 : 8;
    const auto ex = fmt->encode(xf.data(), M, K), ew = fmt->encode(wf.data(), N, K);
    const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
    const auto ref = quant::reference_matmul(dx, dw);
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        std::vector<int64_t> sums;
        QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>("bfp_trace", [&](Sim<Vmac_unit>& sim) {
          return bfp_dot(sim, p, ex, dx, i, ew, dw, j, sums);
        }));
        EXPECT_TRUE(same_bits(fp32_from_sums(dx, i, dw, j, sums), ref[i * N + j]))
            << spec << " output (" << i << ", " << j << ")";
      }
    }
  }
}

// ---- AMXFP4 PE: four sign-pair partial sums per block.

// E2M1 codes as a sign-split decoded row (quant's fp_decode_pair; scales 1): reference_int_dot
// then sums per sign pair exactly as the AMXFP4 reference does.
DecodedTensor e2m1_split_row(const std::vector<uint8_t>& codes) {
  std::vector<int32_t> m;
  std::vector<uint8_t> s;
  for (uint8_t c : codes) {
    const ExpIntPair p = quant::fp_decode_pair(quant::kE2M1, c);
    m.push_back(p.mant);
    s.push_back(static_cast<uint8_t>(p.shift));
  }
  DecodedTensor d;
  const auto n = static_cast<int64_t>(codes.size());
  d.resize(1, n, 1, std::max<int64_t>(1, n), true);
  d.mant = m;
  d.shift = s;
  return d;
}

// Streams E2M1 code pairs through the AMXFP4 PE in blocks of `block`; after every edge the
// four partial sums equal quant's per-sign-pair sums of the block so far.
MaybeMismatch amx_stream(Sim<Vmac_unit>& sim, const std::vector<uint8_t>& a,
                         const std::vector<uint8_t>& w, int64_t block) {
  const DecodedTensor x = e2m1_split_row(a), y = e2m1_split_row(w);
  const auto count = static_cast<int64_t>(a.size());
  for (int64_t k = 0; k < count; ++k) {
    const bool first = k % block == 0, last = (k + 1) % block == 0 || k + 1 == count;
    sim->amx_a = a[k];
    sim->amx_w = w[k];
    sim->amx_valid = 1;
    sim->amx_first = first;
    sim->amx_last = last;
    sim.posedge([&](int v) { sim->amx_clk = v; });
    const quant::IntDot want = quant::reference_int_dot(x, 0, y, 0, k - k % block, k + 1);
    const int64_t got[2][2] = {{sext(sim->amx_sum_pp, 16), sext(sim->amx_sum_pn, 16)},
                               {sext(sim->amx_sum_np, 16), sext(sim->amx_sum_nn, 16)}};
    for (int sx = 0; sx < 2; ++sx) {
      for (int sw = 0; sw < 2; ++sw) {
        if (got[sx][sw] != static_cast<int64_t>(want.sum[sx][sw]) ||
            sim->amx_blk_valid != (last ? 1 : 0)) {
          return Mismatch{sim.cycle(), "element " + std::to_string(k) + ": A code " +
                                           std::to_string(a[k]) + " W code " +
                                           std::to_string(w[k]) + ", partial sum [" +
                                           std::to_string(sx) + "][" + std::to_string(sw) +
                                           "]: RTL " + std::to_string(got[sx][sw]) + ", quant " +
                                           to_string(want.sum[sx][sw]) + " (blk_valid " +
                                           std::to_string(sim->amx_blk_valid) + ")"};
        }
      }
    }
  }
  return std::nullopt;
}

TEST(Amxfp4Pe, EveryCodePairAndRandomBlocks) {
  std::vector<uint8_t> a, w;
  for (int x = 0; x < 16; ++x) {
    for (int y = 0; y < 16; ++y) {
      a.push_back(static_cast<uint8_t>(x));
      w.push_back(static_cast<uint8_t>(y));
    }
  }
  // Every pair alone in a block, then all 256 pairs as blocks of 16 and of 32.
  for (int64_t block : {1, 16, 32}) {
    QARCH_EXPECT_NO_MISMATCH(
        run_check<Vmac_unit>("amx_exhaustive_" + std::to_string(block),
                             [&](Sim<Vmac_unit>& sim) { return amx_stream(sim, a, w, block); }));
  }
  const int64_t n = stream_count(int64_t{1} << 20, int64_t{1} << 24);
  std::mt19937 rng(77);
  std::vector<uint8_t> ra(static_cast<size_t>(n)), rw(ra.size());
  for (auto& v : ra) v = static_cast<uint8_t>(rng() & 15u);
  for (auto& v : rw) v = static_cast<uint8_t>(rng() & 15u);
  QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>(
      "amx_random", [&](Sim<Vmac_unit>& sim) { return amx_stream(sim, ra, rw, 32); }));
}

// ---- NVFP4 and AMXFP4 decoders

TEST(Nvfp4Decoder, EveryElementAndScaleCode) {
  Sim<Vmac_unit> sim;
  for (uint32_t e = 0; e < 16; ++e) {
    for (uint32_t s = 0; s < 256; ++s) {
      sim->nv_elem = e;
      sim->nv_scale = s;
      sim.eval();
      const ExpIntPair we = quant::fp_decode_pair(quant::kE2M1, e);
      ASSERT_EQ(sext(sim->nv_elem_mant, 3), we.mant) << e;
      ASSERT_EQ(sim->nv_elem_shift, we.shift) << e;
      const bool nan = quant::fp_is_special(quant::kE4M3, s);
      ASSERT_EQ(sim->nv_scale_nan, nan ? 1 : 0) << s;
      if (nan) continue;
      const ExpIntPair ws = quant::fp_decode_pair(quant::kE4M3, s);
      ASSERT_EQ(sext(sim->nv_scale_mant, 5), ws.mant) << s;
      ASSERT_EQ(sim->nv_scale_shift, ws.shift) << s;
    }
  }
}

// The element, its sign (quant's sign_split rule: mant < 0 uses the negative scale) and the
// selected scale, for E5M2 scales (AMXFP4-FP8) and E4M3 scales.
TEST(Amxfp4Decoder, EveryElementWithEveryScaleCode) {
  Sim<Vmac_unit> sim;
  for (uint32_t e = 0; e < 16; ++e) {
    for (uint32_t s = 0; s < 256; ++s) {
      const uint32_t spos = s, sneg = 255 - s;
      sim->ad_elem = e;
      sim->ad_scale_pos = spos;
      sim->ad_scale_neg = sneg;
      sim.eval();
      const ExpIntPair we = quant::fp_decode_pair(quant::kE2M1, e);
      ASSERT_EQ(sext(sim->ad_elem_mant, 3), we.mant);
      ASSERT_EQ(sim->ad_elem_shift, we.shift);
      ASSERT_EQ(sim->ad_neg, we.mant < 0 ? 1 : 0) << e;
      const uint32_t sc = we.mant < 0 ? sneg : spos;
      const bool sp5 = quant::fp_is_special(quant::kE5M2, sc);
      const bool sp4 = quant::fp_is_special(quant::kE4M3, sc);
      ASSERT_EQ(sim->ad5_scale_special, sp5 ? 1 : 0) << sc;
      ASSERT_EQ(sim->ad4_scale_special, sp4 ? 1 : 0) << sc;
      if (!sp5) {
        const ExpIntPair w5 = quant::fp_decode_pair(quant::kE5M2, sc);
        ASSERT_EQ(sext(sim->ad5_scale_mant, 4), w5.mant) << sc;
        ASSERT_EQ(sim->ad5_scale_shift, w5.shift) << sc;
      }
      if (!sp4) {
        const ExpIntPair w4 = quant::fp_decode_pair(quant::kE4M3, sc);
        ASSERT_EQ(sext(sim->ad4_scale_mant, 5), w4.mant) << sc;
        ASSERT_EQ(sim->ad4_scale_shift, w4.shift) << sc;
      }
    }
  }
}

}  // namespace
}  // namespace qarch::rtltest
