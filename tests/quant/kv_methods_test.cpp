// KV-cache formats (issue 13): GEAR (gear, gear4, gear2), RotateKV-style keys (rotatekv,
// rotatekv4, rotatekv2) and K-sorted block formats (ksort, ksort_mxfp4, ksort_bfp). Golden
// vectors worked out by hand (derivations in the comments), storage accounting, and each
// method's gain over its plain counterpart on keys with outlier channels. The universal
// invariants (decode_operand == decode bit for bit, quantize == decode(encode), name round
// trips, reference_matmul) run in outlier_invariants_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "qarch/common/error.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"
#include "qarch/quant/fp_element.h"
#include "qarch/quant/metrics.h"

namespace qarch::quant {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

std::vector<float> decode_all(const Format& f, const EncodedTensor& e) {
  std::vector<float> out(static_cast<size_t>(e.rows * e.cols));
  f.decode(e, out.data());
  const DecodedTensor d = f.decode_operand(e);
  for (int64_t r = 0; r < e.rows; ++r)
    for (int64_t c = 0; c < e.cols; ++c)
      EXPECT_EQ(bits_of(decoded_value(d, r, c)), bits_of(out[static_cast<size_t>(r * e.cols + c)]))
          << e.format << " (" << r << ", " << c << ")";
  return out;
}

// Keys of one head [tokens, head_dim]: N(0, 1) with three outlier channels (x12, x-20, x8) and a
// per-token scale spread, the structure the workload generator's role "k" has.
std::vector<float> keys(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::lognormal_distribution<float> tok(0.0f, 0.3f);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float t = tok(rng);
    for (int64_t c = 0; c < cols; ++c) x[static_cast<size_t>(r * cols + c)] = t * nd(rng);
    x[static_cast<size_t>(r * cols + 5)] *= 12.0f;
    x[static_cast<size_t>(r * cols + 77 % cols)] *= -20.0f;
    x[static_cast<size_t>(r * cols + 100 % cols)] *= 8.0f;
  }
  return x;
}

double qsnr(const std::string& spec, const std::vector<float>& x, int64_t rows, int64_t cols) {
  const auto f = make_format(spec);
  std::vector<float> q(x.size());
  f->quantize(x.data(), rows, cols, q.data());
  return compare(x.data(), q.data(), rows * cols).qsnr_db;
}

// ---- GEAR -------------------------------------------------------------------------------------

TEST(Gear, GoldenQuantizationAndOutliers) {
  // One token of 8, 4 bits (codes 0..15), rank 0, outliers=0.25: k = llround(0.25 * 8 / 2) = 1
  // smallest and 1 largest per row: -20 (col 5) and 10 (col 0), kept as FP16 (exact).
  // X - S = [0, 1.5, -0.5, 0.1, 3.25, 0, 1.0625, 0.625]: lo = -0.5, hi = 3.25, step
  // s = 3.75 / 15 = 0.25 (FP16 exact), offset m = -0.5. q = round((v + 0.5) / 0.25):
  //   col0 (outlier, v = 0) 2; 1.5 -> 8; -0.5 -> 0; 0.1 -> 2.4 -> 2; 3.25 -> 15;
  //   col5 (outlier) 2; 1.0625 -> 6.25 -> 6; 0.625 -> 4.5, a tie -> even 4.
  // D = q * 0.25 - 0.5 = [0, 1.5, -0.5, 0, 3.25, 0, 1, 0.5]; decode = D + S.
  const std::vector<float> x = {10.0f, 1.5f, -0.5f, 0.1f, 3.25f, -20.0f, 1.0625f, 0.625f};
  const auto f = make_format("gear4:rank=0:outliers=0.25");
  EXPECT_EQ(f->name(), "gear:bits=4:group=0:iters=3:outliers=0.25:rank=0:seed=0");
  const EncodedTensor e = f->encode(x.data(), 1, 8);
  EXPECT_EQ(unpack_codes(e.elements, 1, 8, 4), (std::vector<uint32_t>{2, 8, 0, 2, 15, 2, 6, 4}));
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{0, 5}));
  // FP16 little-endian: s = 0x3400, m = 0xB800, outliers 10 = 0x4900, -20 = 0xCD00.
  EXPECT_EQ(e.scales, (std::vector<uint8_t>{0x00, 0x34, 0x00, 0xB8, 0x00, 0x49, 0x00, 0xCD}));
  EXPECT_EQ(decode_all(*f, e),
            (std::vector<float>{10.0f, 1.5f, -0.5f, 0.0f, 3.25f, -20.0f, 1.0f, 0.5f}));
  // Storage: 8 x 4-bit codes + 4 FP16 values + 2 x 32-bit positions.
  EXPECT_EQ(e.storage_bits(), 8u * 4 + 4 * 16 + 2 * 32);
}

TEST(Gear, GoldenRankOneResidual) {
  // One token [0, 3, 1.0625, 2] at 2 bits, no outliers: lo = 0, hi = 3, s = 1, m = 0, q = [0, 3,
  // 1, 2], residual R = [0, 0, 0.0625, 0]. Rank 1 on one row: U = R V0 normalized = +-1, V = R^T U
  // = +-R, |V| = 0.0625, split evenly: a = U sqrt(|V|) = +-0.25, b = V / 0.25 = +-[0, 0, 0.25, 0]
  // (same sign), so L = a b^T = R and decode = x exactly.
  const std::vector<float> x = {0.0f, 3.0f, 1.0625f, 2.0f};
  const auto f = make_format("gear2:rank=1:outliers=0");
  const EncodedTensor e = f->encode(x.data(), 1, 4);
  EXPECT_EQ(unpack_codes(e.elements, 1, 4, 2), (std::vector<uint32_t>{0, 3, 1, 2}));
  ASSERT_EQ(e.scales.size(), 2u * (2 + 1 + 4));  // (s, m), a [1, 1], b [4, 1]
  EXPECT_TRUE(e.indices.empty());
  auto fp16 = [&](size_t i) {
    return uint32_t{e.scales[2 * i]} | uint32_t{e.scales[2 * i + 1]} << 8;
  };
  EXPECT_EQ(fp16(0), 0x3C00u);  // s = 1
  EXPECT_EQ(fp16(1), 0x0000u);  // m = 0
  const uint32_t sign = fp16(2) & 0x8000u;
  EXPECT_EQ(fp16(2), 0x3400u | sign);  // a = +-0.25
  EXPECT_EQ(fp16(3) & 0x7fffu, 0u);
  EXPECT_EQ(fp16(5), 0x3400u | sign);  // b[2] = +-0.25, same sign
  EXPECT_EQ(decode_all(*f, e), x);
}

TEST(Gear, FullRankFactorsRecoverTheResidual) {
  // rank = rows: U spans every column of R, so L = R up to the FP16 rounding of the factors and
  // decode is x up to ~2^-11 relative.
  const auto x = keys(3, 16, 4);
  const auto f = make_format("gear2:rank=3:outliers=0");
  const auto out = decode_all(*f, f->encode(x.data(), 3, 16));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(out[i], x[i], 0.01 * std::fabs(x[i]) + 0.01);
}

TEST(Gear, StorageCountsCodesScalesFactorsAndOutliers) {
  const int64_t rows = 256, cols = 128;
  const auto x = keys(rows, cols, 1);
  const auto f = make_format("gear4");
  const EncodedTensor e = f->encode(x.data(), rows, cols);
  // 4-bit codes, (s, m) FP16 per token, rank 4 x (256 + 128) FP16, outliers: llround(0.02 * 128
  // / 2) = 1 per side per token = 512, each FP16 + a 32-bit position.
  EXPECT_EQ(e.indices.size(), 512u);
  const double want =
      4.0 + 32.0 / cols + 16.0 * 4 * (rows + cols) / (rows * cols) + 48.0 * 2 / cols;
  EXPECT_DOUBLE_EQ(e.bits_per_element(), want);
  EXPECT_EQ(f->traits().decoder, "gear");
  EXPECT_EQ(f->traits().element_bits, 4);
  EXPECT_DOUBLE_EQ(f->traits().outlier_fraction, 0.02);
}

TEST(Gear, BeatsPlainInt4PerTokenOnKeys) {
  const int64_t rows = 512, cols = 128;
  const auto x = keys(rows, cols, 2);
  const double gear = qsnr("gear4", x, rows, cols);
  const double plain = qsnr("int4:per=row:sym=false", x, rows, cols);
  const double no_lr = qsnr("gear4:rank=0", x, rows, cols);
  EXPECT_GT(gear, plain + 3.0) << gear << " vs " << plain;
  EXPECT_GT(gear, no_lr) << gear << " vs " << no_lr;  // the low-rank part helps
  EXPECT_THROW(make_format("gear4:bits=3"), Error);
  EXPECT_THROW(make_format("gear:outliers=1.5"), Error);
  EXPECT_THROW(make_format("gear:iters=0"), Error);
}

// ---- RotateKV-style ---------------------------------------------------------------------------

TEST(RotateKv, GoldenRotateQuantizeRotateBack) {
  // head_dim 4, no random signs: y = x H4 / 2 with H4 = [[1,1,1,1],[1,-1,1,-1],[1,1,-1,-1],
  // [1,-1,-1,1]]. x = [3.125, 5.125, 6.875, -1.125] -> y = [7, 3, 1.25, -5] (all dyadic, exact).
  // int4 symmetric per token: amax 7, s = 1, q = [7, 3, 1 (1.25 rounds down), -5]; decode y' =
  // [7, 3, 1, -5], x' = y' H4 / 2 = [3, 5, 7, -1]. Plain int4 on x has s = 6.875 / 7.
  const std::vector<float> x = {3.125f, 5.125f, 6.875f, -1.125f};
  const auto f = make_format("rotatekv:signs=false:sym=true");
  EXPECT_EQ(f->name(), "rotatekv:bits=4:group=0:per=token:seed=0:signs=false:sym=true");
  const EncodedTensor e = f->encode(x.data(), 1, 4);
  EXPECT_EQ(unpack_codes(e.elements, 1, 4, 4), (std::vector<uint32_t>{7, 3, 1, 0xB}));
  EXPECT_EQ(e.fp32, (std::vector<float>{1.0f}));
  EXPECT_EQ(decode_all(*f, e), (std::vector<float>{3.0f, 5.0f, 7.0f, -1.0f}));
  // Same storage as the inner int format: 4 x 4 bits + one FP32 scale.
  EXPECT_EQ(e.storage_bits(), 16u + 32u);
}

TEST(RotateKv, DecodeIsFp16OfTheRotatedBackValues) {
  // The decoder writes FP16: every decoded value is an FP16 value.
  const auto x = keys(8, 128, 3);
  const auto f = make_format("rotatekv4");
  const auto out = decode_all(*f, f->encode(x.data(), 8, 128));
  for (float v : out) EXPECT_EQ(v, fp_round(kFP16, v));
  EXPECT_EQ(f->traits().decoder, "rotatekv");
}

TEST(RotateKv, BeatsPlainInt4PerTokenOnKeys) {
  const int64_t rows = 512, cols = 128;
  const auto x = keys(rows, cols, 2);
  const double rot = qsnr("rotatekv4", x, rows, cols);
  const double plain = qsnr("int4:per=row:sym=false", x, rows, cols);
  EXPECT_GT(rot, plain + 3.0) << rot << " vs " << plain;
  EXPECT_GT(qsnr("rotatekv:sym=true", x, rows, cols), qsnr("int4:per=row", x, rows, cols) + 3.0);
  EXPECT_THROW(make_format("rotatekv2:bits=4"), Error);
  EXPECT_THROW(make_format("rotatekv:per=head"), Error);
}

// ---- K-sort ----------------------------------------------------------------------------------

TEST(Ksort, GoldenSortedMxfp4Blocks) {
  // Two tokens, head_dim 4, MXFP4 blocks of 2.
  //   row0 [0.5, 8, -0.25, 12], row1 [0.25, -4, 0.5, 6]
  // Channel L2 norms: c0 = c2 = sqrt(0.3125) (a tie: lower channel first), c1 = sqrt(80),
  // c3 = sqrt(180): perm = [3, 1, 0, 2]. Sorted rows: [12, 8, 0.5, -0.25], [6, -4, 0.25, 0.5].
  // Blocks (shared exp = floor(log2 amax) - 2): [12, 8] -> 1 (E8M0 128), elements 6, 4 (codes 7,
  // 6); [0.5, -0.25] -> -3 (124), elements 4, -2 (6, 0xC); [6, -4] -> 0 (127), 6, -4 (7, 0xE);
  // [0.25, 0.5] -> -3 (124), 2, 4 (4, 6). Every value is exact, so decode = x. Unsorted MXFP4 puts
  // 0.5 beside 8 (shared exp 1): 0.5 / 2 = 0.25 ties between 0 and 0.5 and rounds to even 0.
  const std::vector<float> x = {0.5f, 8.0f, -0.25f, 12.0f, 0.25f, -4.0f, 0.5f, 6.0f};
  const auto f = make_format("ksort_mxfp4:block=2");
  EXPECT_EQ(f->name(), "ksort:base=mxfp4:block=2:head_dim=0:rope=none");
  const EncodedTensor e = f->encode(x.data(), 2, 4);
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{3, 1, 0, 2}));
  EXPECT_EQ(unpack_codes(e.elements, 2, 4, 4), (std::vector<uint32_t>{7, 6, 6, 0xC, 7, 0xE, 4, 6}));
  EXPECT_EQ(e.scales, (std::vector<uint8_t>{128, 124, 127, 124}));
  EXPECT_EQ(decode_all(*f, e), x);
  std::vector<float> plain(8);
  make_format("mxfp4:block=2")->quantize(x.data(), 2, 4, plain.data());
  EXPECT_EQ(plain[0], 0.0f);
  // Storage: 8 x 4 bits + 4 E8M0 scales + the permutation, 4 x 32 bits.
  EXPECT_EQ(e.storage_bits(), 32u + 32u + 128u);
  // The decoded operand has scale groups of `block` channels in channel order.
  const DecodedTensor d = f->decode_operand(e);
  EXPECT_EQ(d.group_cols, 2);
  EXPECT_EQ(f->traits().group_cols, 2);
  EXPECT_EQ(f->traits().decoder, "mx");
  EXPECT_EQ(f->traits().element, "e2m1");
}

TEST(Ksort, GoldenBfp) {
  // BFP p=4 (d-Matrix: e = exponent of the block amax, m = RNE(x / 2^(e - 2)) in [-7, 7]),
  // blocks of 2, one token [1, 6, -0.75, 0.5]: perm = [1, 0, 2, 3] (|6| > |1| > |-0.75| > 0.5).
  // Sorted [6, 1, -0.75, 0.5]: block [6, 1] e = 2, unit 1: m = 6, 1; block [-0.75, 0.5] e = -1,
  // unit 2^-3: m = -6, 4. All exact.
  const std::vector<float> x = {1.0f, 6.0f, -0.75f, 0.5f};
  const auto f = make_format("ksort_bfp:block=2");
  EXPECT_EQ(f->name(), "ksort:base=bfp:block=2:head_dim=0:p=4:rope=none");
  const EncodedTensor e = f->encode(x.data(), 1, 4);
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{1, 0, 2, 3}));
  EXPECT_EQ(decode_all(*f, e), x);
  EXPECT_EQ(f->traits().decoder, "bfp");
}

TEST(Ksort, ElementsFarBelowTheirGroupsLargestDecodeToZero) {
  // Row [1e-20, 1, 2e-20, 0.5], MXFP4 blocks of 2: sorted [1, 0.5 | 2e-20, 1e-20] keeps the tiny
  // values in their own block, but back in channel order 1e-20 shares a group with 1 (2^66 apart,
  // beyond the 2^39 window of the exponent-integer operand): it decodes to 0, in decode() and in
  // the decoded operand alike. 2e-20 beside 0.5 likewise.
  const std::vector<float> x = {1e-20f, 1.0f, 2e-20f, 0.5f};
  const auto f = make_format("ksort_mxfp4:block=2");
  const auto out = decode_all(*f, f->encode(x.data(), 1, 4));
  EXPECT_EQ(out, (std::vector<float>{0.0f, 1.0f, 0.0f, 0.5f}));
}

TEST(Ksort, RopePairsAndHeadsAndOptions) {
  // rope=interleaved keeps (2i, 2i+1) together; head_dim=4 sorts each half of 8 channels alone.
  std::vector<float> x = {0.1f, 0.2f, 5.0f, 0.1f, 0.3f, 0.1f, 0.1f, 9.0f};
  const auto f = make_format("ksort_mxfp4:block=2:head_dim=4:rope=interleaved");
  const EncodedTensor e = f->encode(x.data(), 1, 8);
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{2, 3, 0, 1, 6, 7, 4, 5}));
  decode_all(*f, e);
  EXPECT_THROW(make_format("ksort_mxfp4:p=4"), Error);       // p only with base=bfp
  EXPECT_THROW(make_format("ksort_bfp:base=mxfp4"), Error);  // the alias fixes base
  EXPECT_THROW(make_format("ksort:base=nvfp4"), Error);
  EXPECT_THROW(make_format("ksort_mxfp4:head_dim=3")->encode(x.data(), 1, 8), Error);
}

TEST(Ksort, BeatsUnsortedBfpBlocksOnKeys) {
  // BFP12 (integer mantissas) flushes a block's small elements beside an outlier channel: sorting
  // gathers the outlier channels into one block and frees the others. (MXFP4's E2M1 elements
  // keep small values beside an outlier better, and on these keys sorting does not help it:
  // docs/FORMATS.md has the numbers.)
  const int64_t rows = 512, cols = 128;
  const auto x = keys(rows, cols, 2);
  const double kb = qsnr("ksort_bfp", x, rows, cols), b = qsnr("bfp:p=4:block=32", x, rows, cols);
  EXPECT_GT(kb, b + 1.0) << kb << " vs " << b;
}

}  // namespace
}  // namespace qarch::quant
