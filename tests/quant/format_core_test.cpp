// Core format machinery: spec parsing and option checking, bit packing, the DecodedTensor
// value rule, and the exact-accumulation reference GEMM worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "qarch/quant/decoded.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"

namespace qarch::quant {
namespace {

TEST(FormatSpec, ParsesNameAndOptions) {
  const FormatSpec s = FormatSpec::parse(" MXFP4 : block=16 :Round=away");
  EXPECT_EQ(s.name, "mxfp4");
  EXPECT_EQ(s.options.at("block"), "16");
  EXPECT_EQ(s.options.at("round"), "away");
  EXPECT_EQ(s.str(), "mxfp4:block=16:round=away");
}

TEST(FormatSpec, RejectsMalformedText) {
  EXPECT_THROW(FormatSpec::parse(""), Error);
  EXPECT_THROW(FormatSpec::parse(":block=3"), Error);
  EXPECT_THROW(FormatSpec::parse("mxfp4:block"), Error);
  EXPECT_THROW(FormatSpec::parse("mxfp4:=3"), Error);
  EXPECT_THROW(FormatSpec::parse("mxfp4:block=1:block=2"), Error);
}

TEST(FormatOptions, TypedGettersCheckRangesAndUnknownKeys) {
  const FormatSpec s = FormatSpec::parse("x:n=12:f=0.5:b=yes:c=Away:typo=1");
  FormatOptions o(s);
  EXPECT_EQ(o.get_int("n", 0, 1, 100), 12);
  EXPECT_EQ(o.get_double("f", 0, 0, 1), 0.5);
  EXPECT_TRUE(o.get_bool("b", false));
  EXPECT_EQ(o.get_rounding("c"), Rounding::kNearestAway);
  EXPECT_EQ(o.get_int("absent", 7, 0, 10), 7);
  try {
    o.finish();
    FAIL() << "unknown option not rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown option 'typo'"), std::string::npos) << e.what();
  }
  const FormatSpec bad = FormatSpec::parse("x:n=12x:m=500");
  FormatOptions ob(bad);
  EXPECT_THROW(ob.get_int("n", 0, 0, 100), Error);
  EXPECT_THROW(ob.get_int("m", 0, 0, 100), Error);
}

TEST(MakeFormat, UnknownNameListsKnownOnes) {
  try {
    make_format("nosuchformat");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("e4m3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_format("e4m3:scale=bogus"), Error);
}

TEST(MakeFormat, EveryCatalogueNameRoundTripsThroughItsCanonicalName) {
  for (const auto& info : list_formats()) {
    const auto f = make_format(info.name);
    const auto g = make_format(f->name());
    EXPECT_EQ(f->name(), g->name()) << info.name;
    // Canonical names list every option, sorted by key (FormatSpec::str()).
    EXPECT_EQ(f->name(), FormatSpec::parse(f->name()).str()) << info.name;
    // Aliases (bfp12, msfp16) canonicalize to their family's name, which is in the catalogue.
    const std::string base = FormatSpec::parse(f->name()).name;
    const auto all = list_formats();
    EXPECT_TRUE(
        std::any_of(all.begin(), all.end(), [&](const FormatInfo& i) { return i.name == base; }))
        << info.name << " -> " << f->name();
    EXPECT_FALSE(info.description.empty()) << info.name;
  }
}

TEST(Packing, LsbFirstPerRowAndByteAlignedRows) {
  // Two rows of three 4-bit codes: row bytes = 2; element 2k in the low nibble.
  const std::vector<uint32_t> codes = {0x1, 0x2, 0x3, 0xa, 0xb, 0xc};
  const auto p = pack_codes(codes, 2, 3, 4);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], 0x21);
  EXPECT_EQ(p[1], 0x03);
  EXPECT_EQ(p[2], 0xba);
  EXPECT_EQ(p[3], 0x0c);
  EXPECT_EQ(unpack_codes(p, 2, 3, 4), codes);
  // 6-bit codes straddle bytes: 0b111111, 0b000001 -> bits 0..5 = 1s, bit 6 = 1.
  const auto q = pack_codes({0x3f, 0x01}, 1, 2, 6);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0], 0x7f);
  EXPECT_EQ(q[1], 0x00);
  EXPECT_THROW(unpack_codes(q, 1, 3, 6), Error);
}

TEST(Packing, RandomRoundTripAllWidths) {
  std::mt19937 rng(7);
  for (int bits = 1; bits <= 16; ++bits) {
    for (int64_t cols : {1, 2, 3, 7, 32, 33}) {
      std::vector<uint32_t> codes(static_cast<size_t>(3 * cols));
      for (auto& c : codes) c = rng() & ((1u << bits) - 1u);
      EXPECT_EQ(unpack_codes(pack_codes(codes, 3, cols, bits), 3, cols, bits), codes)
          << bits << " bits, " << cols << " cols";
    }
  }
}

// Hand-built decoded operands: K = 4, two scale groups of 2 along K.
DecodedTensor tiny(std::vector<int32_t> mant, std::vector<uint8_t> shift, std::vector<int32_t> exps,
                   std::vector<float> muls) {
  DecodedTensor d;
  d.resize(1, 4, 1, 2);
  d.mant = std::move(mant);
  d.shift = std::move(shift);
  d.scale_exp = std::move(exps);
  d.scale_mul = std::move(muls);
  return d;
}

TEST(ReferenceDot, SegmentsByScaleGroupAndAccumulatesExactly) {
  // x = [3, -1<<2, 5, 1], groups: 2^-1 and 2^1 * 0.5; w = [2, 2, 1<<1, -3], groups 2^0, 2^-2.
  const DecodedTensor x = tiny({3, -1, 5, 1}, {0, 2, 0, 0}, {-1, 1}, {1.0f, 0.5f});
  const DecodedTensor w = tiny({2, 2, 1, -3}, {0, 0, 1, 0}, {0, -2}, {1.0f, 1.0f});
  // Segment 0: (3*2 + (-4)*2) = -2, scaled 2^(-1+0) -> -1.
  // Segment 1: (5*2 + 1*(-3)) = 7, scaled 2^(1-2) * 0.5 -> 1.75.  Total 0.75.
  EXPECT_EQ(reference_dot(x, 0, w, 0), 0.75f);
  EXPECT_EQ(decoded_value(x, 0, 1), -2.0f);
  EXPECT_EQ(decoded_value(x, 0, 2), 5.0f);
  EXPECT_EQ(decoded_value(w, 0, 2), 0.5f);
}

TEST(ReferenceDot, SignSplitUsesOneScalePairPerSignCombination) {
  DecodedTensor x;
  x.resize(1, 2, 1, 2, /*sign_split=*/true);
  x.mant = {3, -2};
  x.scale_mul = {2.0f};      // positive elements
  x.neg_scale_mul = {3.0f};  // negative elements
  DecodedTensor w;
  w.resize(1, 2, 1, 2, true);
  w.mant = {-1, 4};
  w.scale_mul = {5.0f};
  w.neg_scale_mul = {7.0f};
  // (+,-): 3*(-1) * 2*7 = -42; (-,+): (-2)*4 * 3*5 = -120.
  EXPECT_EQ(reference_dot(x, 0, w, 0), -162.0f);
  EXPECT_EQ(decoded_value(x, 0, 1), -6.0f);
}

TEST(ReferenceDot, TensorDivisorAndErrors) {
  DecodedTensor x = tiny({1, 1, 1, 1}, {0, 0, 0, 0}, {0, 0}, {1, 1});
  x.tensor_divisor = 4.0f;
  const DecodedTensor w = tiny({1, 1, 1, 1}, {0, 0, 0, 0}, {0, 0}, {1, 1});
  EXPECT_EQ(reference_dot(x, 0, w, 0), 1.0f);
  DecodedTensor k3;
  k3.resize(1, 3, 1, 3);
  EXPECT_THROW(reference_matmul(x, k3), Error);
  EXPECT_THROW(reference_dot(x, 1, w, 0), Error);
  // An exponent range no 128-bit accumulator can hold is refused, not silently wrapped.
  DecodedTensor wide = tiny({0xffffff, 1, 1, 1}, {250, 0, 0, 0}, {0, 0}, {1, 1});
  EXPECT_THROW(reference_matmul(wide, wide), Error);
}

TEST(ReferenceDot, ExactAccumulationBeatsFloatOnCancellation) {
  // 2^40 + 1 - 2^40: an FP32 running sum loses the 1; the exact segment sum keeps it.
  DecodedTensor x;
  x.resize(1, 3, 1, 3);
  x.mant = {1, 1, -1};
  x.shift = {40, 0, 40};
  DecodedTensor w;
  w.resize(1, 3, 1, 3);
  w.mant = {1, 1, 1};
  EXPECT_EQ(reference_dot(x, 0, w, 0), 1.0f);
}

TEST(FpCast, DecodedViewMatchesDecodeBitForBit) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(64 * 48);
  for (auto& v : x) v = nd(rng) * (rng() % 50 == 0 ? 300.0f : 1.0f);
  for (const char* spec : {"e4m3", "e5m2", "e3m2:scale=tensor", "e2m3:scale=row", "e2m1:scale=row",
                           "fp16", "e4m3:round=away:scale=tensor"}) {
    const auto f = make_format(spec);
    const EncodedTensor e = f->encode(x.data(), 64, 48);
    std::vector<float> dec(x.size());
    f->decode(e, dec.data());
    const DecodedTensor d = f->decode_operand(e);
    for (int64_t r = 0; r < 64; ++r)
      for (int64_t c = 0; c < 48; ++c)
        ASSERT_EQ(decoded_value(d, r, c), dec[r * 48 + c]) << spec << " " << r << "," << c;
    // The exact-arithmetic GEMM agrees with a double GEMM of the decoded values.
    const auto y = reference_matmul(d, d);
    const auto yr = matmul_xwt(dec.data(), dec.data(), 64, 64, 48);
    EXPECT_LT(compare(yr.data(), y.data(), 64 * 64).rel_fro, 1e-6) << spec;
  }
}

TEST(FpCast, RejectsNonFiniteWhereItHasNoEncodingAndKeepsItElsewhere) {
  const float x[4] = {1, NAN, 2, 3};
  EXPECT_THROW(make_format("e2m1")->encode(x, 1, 4), Error);
  EXPECT_THROW(make_format("e4m3:scale=tensor")->encode(x, 1, 4), Error);
  const auto f = make_format("e4m3");
  std::vector<float> out(4);
  f->quantize(x, 1, 4, out.data());
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_EQ(out[3], 3.0f);
}

TEST(FpCast, ZeroSizeTensors) {
  const auto f = make_format("e4m3:scale=row");
  const EncodedTensor e = f->encode(nullptr, 0, 5);
  EXPECT_TRUE(e.elements.empty());
  std::vector<float> out;
  f->decode(e, out.data());
  EXPECT_EQ(f->decode_operand(f->encode(nullptr, 3, 0)).mant.size(), 0u);
}

}  // namespace
}  // namespace qarch::quant
