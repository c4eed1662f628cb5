// Dual-grained quantization (dgq): golden vectors worked out by hand, storage, and the cost of
// 8-bit group scales against FP32 ones (int4:group=G) on N(0, 1).
#include <gtest/gtest.h>

#include <random>

#include "qarch/quant/decoded.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"

namespace qarch::quant {
namespace {

TEST(Dgq, GoldenVectors) {
  // One row, group 4, 4 bits (qmax 7). Group maxima 6.97265625 = 7 * 255/256 and
  // 0.08203125 = 7 * 3/256, so t = {255/256, 3/256}, the channel scale is 255/256 / 255 = 2^-8
  // exactly and the group scales are 255 and 3: s = {0.99609375, 0.01171875}.
  //   group 0: 6.97265625 -> 7; -2 -> -2.008 -> -2; 1.5 -> 1.506 -> 2; 0.498046875 -> 0.5, a tie
  //            -> even 0
  //   group 1: 0.08203125 -> 7; -0.0234375 -> -2; 0.017578125 -> 1.5, a tie -> even 2;
  //            -0.0400390625 -> -3.417 -> -3
  const std::vector<float> x = {6.97265625f, -2.0f,       1.5f,         0.498046875f,
                                0.08203125f, -0.0234375f, 0.017578125f, -0.0400390625f};
  const auto f = make_format("dgq:group=4");
  EXPECT_EQ(f->name(), "dgq:bits=4:group=4");
  const EncodedTensor e = f->encode(x.data(), 1, 8);
  EXPECT_EQ(unpack_codes(e.elements, 1, 8, 4),
            (std::vector<uint32_t>{0x7, 0xE, 0x2, 0x0, 0x7, 0xE, 0x2, 0xD}));
  EXPECT_EQ(e.scales, (std::vector<uint8_t>{255, 3}));
  EXPECT_EQ(e.fp32, (std::vector<float>{0.00390625f}));
  std::vector<float> out(8);
  f->decode(e, out.data());
  EXPECT_EQ(out[0], 7 * 0.99609375f);
  EXPECT_EQ(out[7], -3 * 0.01171875f);
  const DecodedTensor d = f->decode_operand(e);
  EXPECT_EQ(d.group_cols, 4);
  EXPECT_EQ(d.scale_mul, (std::vector<float>{0.99609375f, 0.01171875f}));
  // Storage: 4 bits per element + one byte per group + one FP32 per row.
  EXPECT_EQ(e.storage_bits(), 8u * 4 + 2 * 8 + 32);
}

TEST(Dgq, EightBitGroupScalesCostLittleAgainstFp32Ones) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t rows = 64, cols = 1024;
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (auto& v : x) v = nd(rng);
  auto qsnr = [&](const std::string& spec) {
    const auto f = make_format(spec);
    std::vector<float> q(x.size());
    f->quantize(x.data(), rows, cols, q.data());
    return compare(x.data(), q.data(), rows * cols).qsnr_db;
  };
  const double dgq = qsnr("dgq:group=128"), fp = qsnr("int4:group=128");
  EXPECT_GT(dgq, fp - 0.3) << dgq << " vs " << fp;  // ceil-rounded 8-bit scales: slightly coarser
  EXPECT_LT(dgq, fp + 0.05) << dgq << " vs " << fp;
  EXPECT_THROW(make_format("dgq4:bits=3"), Error);
  EXPECT_THROW(make_format("dgq:group=0"), Error);
}

}  // namespace
}  // namespace qarch::quant
