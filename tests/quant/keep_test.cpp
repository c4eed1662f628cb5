// keep= on every format (super weights, Yu et al. 2024; massive activations, Sun et al. 2024):
// the N largest magnitudes kept in FP16 beside the quantized tensor. On a planted super weight
// the option improves QSNR and keeps the values exactly (decode and the decoded operand's
// sparse list), the side path of reference_matmul agrees with a double GEMM, the storage grows
// by 48 bits per kept value, and a format without the option is unchanged.
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

double qsnr_of(const std::string& spec, const std::vector<float>& x, int64_t rows, int64_t cols) {
  std::vector<float> q(x.size());
  make_format(spec)->quantize(x.data(), rows, cols, q.data());
  return compare(x.data(), q.data(), rows * cols).qsnr_db;
}

// ---- keep=: the N largest magnitudes in FP16 beside any format.

std::vector<float> with_super_weight(int64_t rows, int64_t cols) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = nd(rng);
  x[3 * cols + 17] = -2000.0f;  // a planted super weight (~600 sigma)
  x[5 * cols + 2] = 700.0f;
  return x;
}

TEST(Keep, ImprovesQsnrWithASuperWeightAndKeepsItExactly) {
  const int64_t rows = 16, cols = 256;
  const auto x = with_super_weight(rows, cols);
  for (const char* base : {"int4", "int8:per=row", "int4:group=128", "mxfp4", "olive4", "nvfp4",
                           "squeezellm3", "ant4"}) {
    SCOPED_TRACE(base);
    const std::string spec = std::string(base) + ":keep=2";
    const auto f = make_format(spec);
    EXPECT_EQ(make_format(f->name())->name(), f->name());
    const EncodedTensor e = f->encode(x.data(), rows, cols);
    std::vector<float> dec(x.size());
    f->decode(e, dec.data());
    EXPECT_EQ(dec[3 * cols + 17], -2000.0f);
    EXPECT_EQ(dec[5 * cols + 2], 700.0f);
    // decode_operand: the same values, the kept ones on the sparse list.
    const DecodedTensor d = f->decode_operand(e);
    EXPECT_EQ(d.sparse_index, (std::vector<int64_t>{3 * cols + 17, 5 * cols + 2}));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        ASSERT_EQ(bits_of(decoded_value(d, r, c)), bits_of(dec[r * cols + c])) << r << " " << c;
    // reference_matmul with the side path against a double GEMM of the decoded values.
    const DecodedTensor dx =
        make_format("int8:per=row")
            ->decode_operand(make_format("int8:per=row")->encode(x.data(), rows, cols));
    std::vector<float> xd(x.size());
    make_format("int8:per=row")->quantize(x.data(), rows, cols, xd.data());
    const std::vector<float> y = reference_matmul(dx, d);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < rows; ++j) {
        double ref = 0, mag = 0;
        for (int64_t k = 0; k < cols; ++k) {
          ref += double(xd[i * cols + k]) * dec[j * cols + k];
          mag += std::fabs(double(xd[i * cols + k]) * dec[j * cols + k]);
        }
        EXPECT_NEAR(y[i * rows + j], ref, 1e-5 * mag + 1e-6);
      }
    }
    // QSNR improves over the format without the option: most with one scale per tensor (int4:
    // 41 -> 51 dB), least for squeezellm3, whose own sparse part already holds the two.
    const double with = qsnr_of(spec, x, rows, cols), without = qsnr_of(base, x, rows, cols);
    const std::string b = base;
    EXPECT_GT(with, without + (b == "int4"          ? 8.0
                               : b == "squeezellm3" ? 0.0
                                                    : 0.5))
        << with << " vs " << without;
    // Storage: 48 bits per kept value beside the inner encoding of the zeroed tensor.
    std::vector<float> z = x;
    z[3 * cols + 17] = z[5 * cols + 2] = 0.0f;
    const EncodedTensor inner = make_format(base)->encode(z.data(), rows, cols);
    EXPECT_EQ(e.storage_bits(), inner.storage_bits() + 2 * 48);
    EXPECT_EQ(f->traits().keep_count, 2);
  }
}

TEST(Keep, WithoutTheOptionAFormatIsUnchanged) {
  const int64_t rows = 8, cols = 64;
  const auto x = with_super_weight(rows, cols);
  for (const char* base : {"int4", "mxfp4:block=16", "olive4", "gobo", "squeezellm4"}) {
    SCOPED_TRACE(base);
    const auto plain = make_format(base);
    // keep=0 is the format itself: same name, same bits.
    const auto zero = make_format(std::string(base) + ":keep=0");
    EXPECT_EQ(zero->name(), plain->name());
    EXPECT_EQ(plain->name().find("keep"), std::string::npos);
    const EncodedTensor a = plain->encode(x.data(), rows, cols),
                        b = zero->encode(x.data(), rows, cols);
    EXPECT_EQ(a.elements, b.elements);
    EXPECT_EQ(a.scales, b.scales);
    EXPECT_EQ(a.indices, b.indices);
    EXPECT_EQ(a.fp32, b.fp32);
    EXPECT_EQ(plain->traits().keep_count, 0);
    EXPECT_EQ(plain->traits().keep_fraction, 0.0);
    EXPECT_TRUE(plain->decode_operand(a).sparse_index.empty());
    // The dense part of a keep= encoding is the format's own encoding of the zeroed tensor.
    const EncodedTensor k =
        make_format(std::string(base) + ":keep=1")->encode(x.data(), rows, cols);
    std::vector<float> z = x;
    z[3 * cols + 17] = 0.0f;
    const EncodedTensor inner = plain->encode(z.data(), rows, cols);
    EXPECT_EQ(k.elements, inner.elements);
    EXPECT_EQ(std::vector<uint8_t>(k.scales.begin(), k.scales.end() - 2), inner.scales);
  }
}

TEST(Keep, CountsFractionsAndErrors) {
  EXPECT_EQ(make_format("int4:keep=0.001")->name(),
            "int4:clip=max:keep=0.001:per=tensor:round=even:sym=true");
  EXPECT_EQ(make_format("int4:keep=0.001")->traits().keep_fraction, 0.001);
  EXPECT_THROW(make_format("int4:keep=1.5"), Error);
  EXPECT_THROW(make_format("int4:keep=-1"), Error);
  EXPECT_THROW(make_format("int4:keep=x"), Error);
  // A share: ceil(0.001 * 2048) = 3 values; a count larger than the tensor keeps everything.
  const auto x = with_super_weight(8, 256);
  EXPECT_EQ(make_format("int4:keep=0.001")->encode(x.data(), 8, 256).indices.size(), 3u);
  const auto all = make_format("mxfp4:keep=5000");
  const EncodedTensor e = all->encode(x.data(), 8, 256);
  std::vector<float> dec(x.size());
  all->decode(e, dec.data());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(dec[i], fp_round(kFP16, x[i]));
  // A corrupted kept position is refused.
  EncodedTensor bad = make_format("int4:keep=2")->encode(x.data(), 8, 256);
  std::swap(bad.indices[0], bad.indices[1]);
  EXPECT_THROW(make_format("int4:keep=2")->decode_operand(bad), Error);
}

}  // namespace
}  // namespace qarch::quant
