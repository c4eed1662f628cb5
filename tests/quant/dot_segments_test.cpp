// The integer stage of reference_dot (reference_int_dot, reference_dot_segments,
// accumulate_segment, finish_dot): the RTL checks compare a PE's integer block sums with these
// and convert them to FP32 through them, so they must be exactly reference_dot's arithmetic.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "qarch/quant/decoded.h"
#include "qarch/common/error.h"

namespace qarch::quant {
namespace {

int64_t as_i64(__int128 v) {
  return static_cast<int64_t>(v);
}

// Hand example, two scale segments. X: K = 3, groups of 2 columns -> segments [0, 2), [2, 3).
//   X = <0,3> <1,-2> <2,5>, W = <0,1> <0,4> <0,-1> (pairs <shift, mant>).
//   segment 0: 3*1 + (-2*4) << 1 = 3 - 16 = -13; segment 1: (5 * -1) << 2 = -20.
//   X scale_exp {1, -1}, scale_mul {1, 0.75}; W scale_exp {2}, scale_mul {1.5}.
//   acc = -13 * 2^3 * 1 * 1.5 = -156; acc += -20 * 2^1 * 0.75 * 1.5 = -45 -> -201.
//   W.tensor_divisor 2 -> -100.5.
TEST(DotSegments, TwoSegmentsByHand) {
  DecodedTensor x, w;
  x.resize(1, 3, 1, 2);
  w.resize(1, 3, 1, 3);
  x.mant = {3, -2, 5};
  x.shift = {0, 1, 2};
  w.mant = {1, 4, -1};
  w.shift = {0, 0, 0};
  x.scale_exp = {1, -1};
  x.scale_mul = {1.0f, 0.75f};
  w.scale_exp = {2};
  w.scale_mul = {1.5f};
  w.tensor_divisor = 2.0f;
  const auto segs = reference_dot_segments(x, 0, w, 0);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].k0, 0);
  EXPECT_EQ(segs[0].k1, 2);
  EXPECT_EQ(segs[1].k0, 2);
  EXPECT_EQ(segs[1].k1, 3);
  EXPECT_EQ(segs[0].gx, 0);
  EXPECT_EQ(segs[1].gx, 1);
  EXPECT_EQ(as_i64(segs[0].dot.sum[0][0]), -13);
  EXPECT_EQ(as_i64(segs[1].dot.sum[0][0]), -20);
  float acc = accumulate_segment(0.0f, x, w, segs[0]);
  EXPECT_EQ(acc, -156.0f);
  acc = accumulate_segment(acc, x, w, segs[1]);
  EXPECT_EQ(acc, -201.0f);
  EXPECT_EQ(finish_dot(acc, x, w), -100.5f);
  EXPECT_EQ(reference_dot(x, 0, w, 0), -100.5f);
  EXPECT_EQ(as_i64(reference_int_dot(x, 0, w, 0, 1, 3).sum[0][0]), -16 - 20);
}

// Hand example, both operands sign-split (AMXFP4), one group of 4.
//   X = 2, -3, 1, -1 (shift 0); W = -1, -2, 3 (shift 1), 1.
//   k0: 2 * -1 = -2 -> [0][1]; k1: -3 * -2 = 6 -> [1][1]; k2: (1 * 3) << 1 = 6 -> [0][0];
//   k3: -1 * 1 = -1 -> [1][0].
//   Scales: X pos 2^0 * 1, neg 2^1 * 1; W pos 2^0 * 2, neg 2^0 * 0.5.
//   acc = 6*2 = 12; + -2*1*0.5 = -1 -> 11; + -1*2*2 = -4 -> 7; + 6*2*0.5 = 6 -> 13.
TEST(DotSegments, SignSplitByHand) {
  DecodedTensor x, w;
  x.resize(1, 4, 1, 4, true);
  w.resize(1, 4, 1, 4, true);
  x.mant = {2, -3, 1, -1};
  w.mant = {-1, -2, 3, 1};
  w.shift = {0, 0, 1, 0};
  x.neg_scale_exp = {1};
  w.scale_mul = {2.0f};
  w.neg_scale_mul = {0.5f};
  const auto segs = reference_dot_segments(x, 0, w, 0);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(as_i64(segs[0].dot.sum[0][0]), 6);
  EXPECT_EQ(as_i64(segs[0].dot.sum[0][1]), -2);
  EXPECT_EQ(as_i64(segs[0].dot.sum[1][0]), -1);
  EXPECT_EQ(as_i64(segs[0].dot.sum[1][1]), 6);
  EXPECT_EQ(accumulate_segment(0.0f, x, w, segs[0]), 13.0f);
  EXPECT_EQ(reference_dot(x, 0, w, 0), 13.0f);
}

// Random operands with random group shapes, sign splitting and FP multipliers: the segment
// pipeline reproduces reference_dot bit for bit, and the segments tile [0, K).
TEST(DotSegments, MatchesReferenceDotOnRandomOperands) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t K = 1 + rng() % 70;
    const bool xs = rng() % 2, ws = rng() % 2;
    DecodedTensor x, w;
    x.resize(3, K, 1 + rng() % 3, 1 + rng() % 40, xs);
    w.resize(2, K, 1 + rng() % 2, 1 + rng() % 40, ws);
    for (DecodedTensor* d : {&x, &w}) {
      for (auto& m : d->mant) m = static_cast<int32_t>(rng() % 255) - 127;
      for (auto& s : d->shift) s = static_cast<uint8_t>(rng() % 12);
      for (auto& e : d->scale_exp) e = static_cast<int32_t>(rng() % 20) - 10;
      for (auto& e : d->neg_scale_exp) e = static_cast<int32_t>(rng() % 20) - 10;
      for (auto& f : d->scale_mul) f = 0.25f + static_cast<float>(rng() % 1000) / 300.0f;
      for (auto& f : d->neg_scale_mul) f = 0.25f + static_cast<float>(rng() % 1000) / 300.0f;
    }
    w.tensor_divisor = 3.0f;
    for (int64_t i = 0; i < x.rows; ++i) {
      for (int64_t j = 0; j < w.rows; ++j) {
        const auto segs = reference_dot_segments(x, i, w, j);
        float acc = 0.0f;
        int64_t k = 0;
        for (const auto& s : segs) {
          EXPECT_EQ(s.k0, k);
          EXPECT_GT(s.k1, s.k0);
          k = s.k1;
          acc = accumulate_segment(acc, x, w, s);
        }
        EXPECT_EQ(k, K);
        const float ref = reference_dot(x, i, w, j);
        const float got = finish_dot(acc, x, w);
        EXPECT_EQ(std::memcmp(&ref, &got, sizeof ref), 0) << ref << " vs " << got;
      }
    }
  }
}

TEST(DotSegments, RangeErrors) {
  DecodedTensor x, w;
  x.resize(1, 4, 1, 4);
  w.resize(1, 5, 1, 5);
  EXPECT_THROW(reference_dot_segments(x, 0, w, 0), Error);
  EXPECT_THROW(reference_dot_segments(x, 1, x, 0), Error);
  DecodedTensor e;
  e.resize(1, 0, 1, 1);
  EXPECT_TRUE(reference_dot_segments(e, 0, e, 0).empty());
}

}  // namespace
}  // namespace qarch::quant
