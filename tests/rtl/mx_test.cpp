// The MX-family PEs and decoders (rtl/harness/mac_unit.v: mxfp4_pe, mxint8_pe, amxfp4_pe,
// nvfp4_decoder, amxfp4_decoder) through quant's mxfp4 / mxint8 / nvfp4 / amxfp4 formats
// (decode_operand, reference_dot_segments, accumulate_segment): every element code pair in
// blocks with random E8M0 scales (NaN scale included), random streams, and synthetic layer
// traces whose FP32 outputs, converted from the PE's integers by quant, equal
// reference_matmul's bit for bit.
// NVFP4 runs on the MXFP4 PE (E2M1 products, integer block sums; its E4M3 block scales and the
// FP32 tensor scale are FP multiplies after the block, checked through quant's conversion).
#include <gtest/gtest.h>

#include <cmath>

#include "Vmac_unit.h"
#include "block_check.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/fp_element.h"

namespace qarch::rtltest {
namespace {

using quant::DecodedTensor;
using quant::EncodedTensor;

// The format, or nullptr while quant/ does not have it yet (the test then skips).
std::unique_ptr<quant::Format> format_or_null(const std::string& spec) {
  try {
    return quant::make_format(spec);
  } catch (const Error&) {
    return nullptr;
  }
}

#define QARCH_REQUIRE_FORMAT(var, spec)        \
  const std::string var##_spec = (spec);       \
  const auto var = format_or_null(var##_spec); \
  if (!var) GTEST_SKIP() << "quant/ has no format '" << var##_spec << "' yet"

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

// Row i of X against row j of W through the MXFP4 PE (elem_bits 4) or the MXINT8 PE (8):
// codes from the encodings, E8M0 scale codes per block (`scale_codes` false: NVFP4, whose
// block scales are not E8M0: the PE gets code 127 = 2^0 so its exponent is the elements' ulp
// exponents, quant's scale_exp).
MaybeMismatch mx_dot(Sim<Vmac_unit>& sim, int elem_bits, bool scale_codes, const EncodedTensor& ex,
                     const DecodedTensor& dx, int64_t i, const EncodedTensor& ew,
                     const DecodedTensor& dw, int64_t j, std::vector<int64_t>& sums) {
  const int64_t K = dx.cols, block = dx.group_cols, nblk = (K + block - 1) / block;
  const auto ca = quant::unpack_codes(ex.elements, ex.rows, K, elem_bits);
  const auto cw = quant::unpack_codes(ew.elements, ew.rows, K, elem_bits);
  auto scale = [&](const EncodedTensor& e, int64_t r, int64_t k) -> uint32_t {
    return scale_codes ? e.scales[r * nblk + k / block] : 127u;
  };
  const bool fp4 = elem_bits == 4;
  BlockPort port;
  port.acc_bits = fp4 ? 16 : 24;
  port.drive = [&](int64_t k, bool first, bool last) {
    if (fp4) {
      sim->mxfp4_a = ca[i * K + k];
      sim->mxfp4_w = cw[j * K + k];
      sim->mxfp4_a_scale = scale(ex, i, k);
      sim->mxfp4_w_scale = scale(ew, j, k);
      sim->mxfp4_valid = 1;
      sim->mxfp4_first = first;
      sim->mxfp4_last = last;
    } else {
      sim->mxint8_a = ca[i * K + k];
      sim->mxint8_w = cw[j * K + k];
      sim->mxint8_a_scale = scale(ex, i, k);
      sim->mxint8_w_scale = scale(ew, j, k);
      sim->mxint8_valid = 1;
      sim->mxint8_first = first;
      sim->mxint8_last = last;
    }
  };
  port.clock = [&] { sim.posedge([&](int v) { (fp4 ? sim->mxfp4_clk : sim->mxint8_clk) = v; }); };
  port.read_acc = [&] { return fp4 ? sext(sim->mxfp4_acc, 16) : sext(sim->mxint8_acc, 24); };
  port.describe = [&](int64_t k) {
    return "A code " + std::to_string(ca[i * K + k]) + " <" + std::to_string(dx.shift[i * K + k]) +
           "," + std::to_string(dx.mant[i * K + k]) + "> scale " + std::to_string(scale(ex, i, k)) +
           ", W code " + std::to_string(cw[j * K + k]) + " <" +
           std::to_string(dw.shift[j * K + k]) + "," + std::to_string(dw.mant[j * K + k]) +
           "> scale " + std::to_string(scale(ew, j, k));
  };
  port.check_block = [&](const quant::DotSegment& s) -> std::string {
    const int valid = fp4 ? sim->mxfp4_blk_valid : sim->mxint8_blk_valid;
    const int nan = fp4 ? sim->mxfp4_blk_nan : sim->mxint8_blk_nan;
    const bool want_nan = std::isnan(dx.scale_mul[s.gx]) || std::isnan(dw.scale_mul[s.gw]);
    if (!valid || nan != (want_nan ? 1 : 0)) {
      return "block valid " + std::to_string(valid) + ", NaN flag " + std::to_string(nan) +
             " (quant: NaN block " + std::to_string(want_nan) + ")";
    }
    if (want_nan) return "";  // the exponent of a NaN block is meaningless
    const int64_t got = sext(fp4 ? sim->mxfp4_blk_exp : sim->mxint8_blk_exp, 10);
    const int64_t want = int64_t{dx.scale_exp[s.gx]} + dw.scale_exp[s.gw];
    if (got != want) {
      return "block exponent: RTL " + std::to_string(got) + ", quant scale_exp sum " +
             std::to_string(want);
    }
    return "";
  };
  return block_dot(sim, dx, i, dw, j, port, sums);
}

std::vector<uint8_t> random_scales(size_t n, std::mt19937& rng, bool with_nan) {
  std::vector<uint8_t> s(n);
  for (auto& v : s) v = static_cast<uint8_t>(rng() % 255);
  if (with_nan && n > 3) s[n / 3] = 0xff;
  return s;
}

// Every pair of E2M1 codes (256, each pair once per block of 16), random E8M0 scales with one
// NaN block; every pair of MXINT8 codes (65536) in blocks of 32.
TEST(MxPe, EveryCodePairEveryCycle) {
  std::mt19937 rng(21);
  for (int bits : {4, 8}) {
    QARCH_REQUIRE_FORMAT(fmt, bits == 4 ? "mxfp4:block=16" : "mxint8");
    const int n = 1 << bits;
    std::vector<uint32_t> a, w;
    for (int x = 0; x < n; ++x) {
      for (int y = 0; y < n; ++y) {
        a.push_back(static_cast<uint32_t>(x));
        w.push_back(static_cast<uint32_t>(y));
      }
    }
    const int64_t K = static_cast<int64_t>(a.size()), block = bits == 4 ? 16 : 32;
    const size_t nblk = static_cast<size_t>(K / block);
    const auto ex =
        encoded(*fmt, 1, K, quant::pack_codes(a, 1, K, bits), random_scales(nblk, rng, true), {});
    const auto ew =
        encoded(*fmt, 1, K, quant::pack_codes(w, 1, K, bits), random_scales(nblk, rng, false), {});
    const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
    std::vector<int64_t> sums;
    QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>(
        "mx" + std::to_string(bits) + "_exhaustive",
        [&](Sim<Vmac_unit>& sim) { return mx_dot(sim, bits, true, ex, dx, 0, ew, dw, 0, sums); }));
    const float ref = quant::reference_dot(dx, 0, dw, 0);
    EXPECT_TRUE(std::isnan(ref));  // the NaN block makes the dot NaN
    EXPECT_TRUE(std::isnan(fp32_from_sums(dx, 0, dw, 0, sums)));
  }
}

TEST(MxPe, RandomStreams) {
  const int64_t K = stream_count(int64_t{1} << 20, int64_t{1} << 24);
  std::mt19937 rng(22);
  for (int bits : {4, 8}) {
    QARCH_REQUIRE_FORMAT(fmt, bits == 4 ? "mxfp4" : "mxint8");
    std::vector<uint32_t> a(static_cast<size_t>(K)), w(a.size());
    for (auto& v : a) v = rng() & ((1u << bits) - 1u);
    for (auto& v : w) v = rng() & ((1u << bits) - 1u);
    const size_t nblk = static_cast<size_t>((K + 31) / 32);
    const auto ex =
        encoded(*fmt, 1, K, quant::pack_codes(a, 1, K, bits), random_scales(nblk, rng, false), {});
    const auto ew =
        encoded(*fmt, 1, K, quant::pack_codes(w, 1, K, bits), random_scales(nblk, rng, false), {});
    const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
    std::vector<int64_t> sums;
    QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>(
        "mx" + std::to_string(bits) + "_random",
        [&](Sim<Vmac_unit>& sim) { return mx_dot(sim, bits, true, ex, dx, 0, ew, dw, 0, sums); }));
    EXPECT_TRUE(same_bits(fp32_from_sums(dx, 0, dw, 0, sums), quant::reference_dot(dx, 0, dw, 0)));
  }
}

// Synthetic layers through mxfp4 / mxint8 / nvfp4; every output's block sums and exponents
// exact, FP32 through quant's conversion equal to reference_matmul.
TEST(MxPe, LayerTraces) {
  const int64_t M = 4, N = 4, K = 512;
  const auto xf = outlier_activations(M, K, 61), wf = outlier_weights(N, K, 62);
  for (const char* spec : {"mxfp4", "mxfp4:block=16", "mxint8", "nvfp4", "nvfp4:block=32"}) {
    QARCH_REQUIRE_FORMAT(fmt, spec);
    const bool nv = std::string(spec).rfind("nvfp4", 0) == 0;
    const int bits = std::string(spec) == "mxint8" ? 8 : 4;
    const auto ex = fmt->encode(xf.data(), M, K), ew = fmt->encode(wf.data(), N, K);
    const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
    const auto ref = quant::reference_matmul(dx, dw);
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        std::vector<int64_t> sums;
        QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>("mx_trace", [&](Sim<Vmac_unit>& sim) {
          return mx_dot(sim, bits, !nv, ex, dx, i, ew, dw, j, sums);
        }));
        EXPECT_TRUE(same_bits(fp32_from_sums(dx, i, dw, j, sums), ref[i * N + j]))
            << spec << " output (" << i << ", " << j << ")";
      }
    }
  }
}

// The NVFP4 decoder on every block of an nvfp4 encoding: element pairs equal decode_operand's,
// the decoded E4M3 block scale equals its scale_mul.
TEST(Nvfp4Decoder, MatchesTheFormatOnATrace) {
  QARCH_REQUIRE_FORMAT(fmt, "nvfp4");
  const int64_t R = 8, K = 256;
  const auto xf = outlier_activations(R, K, 63);
  const auto e = fmt->encode(xf.data(), R, K);
  const DecodedTensor d = fmt->decode_operand(e);
  const auto codes = quant::unpack_codes(e.elements, R, K, 4);
  const int64_t nblk = d.group_grid_cols();
  Sim<Vmac_unit> sim;
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t k = 0; k < K; ++k) {
      const int64_t g = d.group_index(r, k);
      sim->nv_elem = codes[r * K + k];
      sim->nv_scale = e.scales[r * nblk + k / d.group_cols];
      sim.eval();
      ASSERT_EQ(sext(sim->nv_elem_mant, 3), d.mant[r * K + k]) << r << "," << k;
      ASSERT_EQ(sim->nv_elem_shift, d.shift[r * K + k]) << r << "," << k;
      ASSERT_EQ(sim->nv_scale_nan, 0);
      const float s = std::ldexp(static_cast<float>(sext(sim->nv_scale_mant, 5)),
                                 sim->nv_scale_shift + quant::kE4M3.ulp_exp());
      ASSERT_EQ(s, d.scale_mul[g]) << "block scale of row " << r << " block " << k / d.group_cols;
    }
  }
}

// ---- AMXFP4: four partial sums per block through amxfp4_pe; the scale pairs (E5M2, E4M3 or
// E8M0 "pot") multiply them in quant's conversion.

MaybeMismatch amx_dot(Sim<Vmac_unit>& sim, const EncodedTensor& ex, const DecodedTensor& dx,
                      int64_t i, const EncodedTensor& ew, const DecodedTensor& dw, int64_t j,
                      std::vector<quant::IntDot>& sums) {
  const int64_t K = dx.cols;
  const auto ca = quant::unpack_codes(ex.elements, ex.rows, K, 4);
  const auto cw = quant::unpack_codes(ew.elements, ew.rows, K, 4);
  const auto segs = quant::reference_dot_segments(dx, i, dw, j);
  sums.assign(segs.size(), quant::IntDot{});
  for (size_t s = 0; s < segs.size(); ++s) {
    for (int64_t k = segs[s].k0; k < segs[s].k1; ++k) {
      const bool first = k == segs[s].k0, last = k + 1 == segs[s].k1;
      sim->amx_a = ca[i * K + k];
      sim->amx_w = cw[j * K + k];
      sim->amx_valid = 1;
      sim->amx_first = first;
      sim->amx_last = last;
      sim.posedge([&](int v) { sim->amx_clk = v; });
      const quant::IntDot want = quant::reference_int_dot(dx, i, dw, j, segs[s].k0, k + 1);
      const int64_t got[2][2] = {{sext(sim->amx_sum_pp, 16), sext(sim->amx_sum_pn, 16)},
                                 {sext(sim->amx_sum_np, 16), sext(sim->amx_sum_nn, 16)}};
      for (int a = 0; a < 2; ++a) {
        for (int b = 0; b < 2; ++b) {
          if (got[a][b] != static_cast<int64_t>(want.sum[a][b])) {
            return Mismatch{sim.cycle(),
                            "k " + std::to_string(k) + " codes " + std::to_string(ca[i * K + k]) +
                                " x " + std::to_string(cw[j * K + k]) + ": partial sum [" +
                                std::to_string(a) + "][" + std::to_string(b) + "] RTL " +
                                std::to_string(got[a][b]) + ", quant " + to_string(want.sum[a][b])};
          }
          if (last) sums[s].sum[a][b] = got[a][b];
        }
      }
      if (last && segs[s].dot.sum[0][0] != want.sum[0][0]) {
        return Mismatch{sim.cycle(), "segment sum differs from the running sums"};
      }
    }
  }
  return std::nullopt;
}

TEST(Amxfp4Pe, LayerTraces) {
  const int64_t M = 4, N = 4, K = 512;
  const auto xf = outlier_activations(M, K, 71), wf = outlier_weights(N, K, 72);
  for (const char* spec : {"amxfp4", "amxfp4:scale=e4m3", "amxfp4:scale=pot", "amxfp4:block=16"}) {
    QARCH_REQUIRE_FORMAT(fmt, spec);
    const auto ex = fmt->encode(xf.data(), M, K), ew = fmt->encode(wf.data(), N, K);
    const DecodedTensor dx = fmt->decode_operand(ex), dw = fmt->decode_operand(ew);
    ASSERT_TRUE(dx.sign_split && dw.sign_split);
    const auto ref = quant::reference_matmul(dx, dw);
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        std::vector<quant::IntDot> sums;
        QARCH_EXPECT_NO_MISMATCH(run_check<Vmac_unit>("amx_trace", [&](Sim<Vmac_unit>& sim) {
          return amx_dot(sim, ex, dx, i, ew, dw, j, sums);
        }));
        auto segs = quant::reference_dot_segments(dx, i, dw, j);
        ASSERT_EQ(segs.size(), sums.size());
        float acc = 0.0f;
        for (size_t s = 0; s < segs.size(); ++s) {
          segs[s].dot = sums[s];
          acc = quant::accumulate_segment(acc, dx, dw, segs[s]);
        }
        EXPECT_TRUE(same_bits(quant::finish_dot(acc, dx, dw), ref[i * N + j]))
            << spec << " output (" << i << ", " << j << ")";
      }
    }
  }
}

// The AMXFP4 decoder on amxfp4 encodings with E5M2 and E4M3 scales: element pairs and sign
// equal decode_operand's, the selected decoded scale equals scale_mul / neg_scale_mul.
TEST(Amxfp4Decoder, MatchesTheFormatOnATrace) {
  for (const char* spec : {"amxfp4", "amxfp4:scale=e4m3"}) {
    QARCH_REQUIRE_FORMAT(fmt, spec);
    const bool e5 = std::string(spec) == "amxfp4";
    const int64_t R = 8, K = 256;
    const auto xf = outlier_activations(R, K, 73);
    const auto e = fmt->encode(xf.data(), R, K);
    const DecodedTensor d = fmt->decode_operand(e);
    const auto codes = quant::unpack_codes(e.elements, R, K, 4);
    const int64_t nblk = d.group_grid_cols();
    Sim<Vmac_unit> sim;
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t k = 0; k < K; ++k) {
        const int64_t g = d.group_index(r, k), b = r * nblk + k / d.group_cols;
        sim->ad_elem = codes[r * K + k];
        sim->ad_scale_pos = e.scales[2 * b];
        sim->ad_scale_neg = e.scales[2 * b + 1];
        sim.eval();
        const int32_t mant = d.mant[r * K + k];
        ASSERT_EQ(sext(sim->ad_elem_mant, 3), mant);
        ASSERT_EQ(sim->ad_elem_shift, d.shift[r * K + k]);
        ASSERT_EQ(sim->ad_neg, mant < 0 ? 1 : 0);
        const float got = e5 ? std::ldexp(static_cast<float>(sext(sim->ad5_scale_mant, 4)),
                                          sim->ad5_scale_shift + quant::kE5M2.ulp_exp())
                             : std::ldexp(static_cast<float>(sext(sim->ad4_scale_mant, 5)),
                                          sim->ad4_scale_shift + quant::kE4M3.ulp_exp());
        const float want = mant < 0 ? d.neg_scale_mul[g] : d.scale_mul[g];
        ASSERT_EQ(got, want) << spec << " row " << r << " k " << k;
      }
    }
  }
}

}  // namespace
}  // namespace qarch::rtltest
