// SqueezeLLM (per-row k-means FP16 codebooks + sparse FP16 values, Kim et al. 2023): golden
// vectors worked out by hand, every codebook entry decoded and re-encoded, storage, and QSNR
// against the INT group formats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "qarch/common/error.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"
#include "qarch/quant/fp_element.h"
#include "qarch/quant/metrics.h"
#include "qarch/quant/squeezellm.h"

namespace qarch::quant {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

std::vector<uint16_t> fp16_codes(const std::vector<uint8_t>& b) {
  std::vector<uint16_t> v(b.size() / 2);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<uint16_t>(b[2 * i] | (b[2 * i + 1] << 8));
  return v;
}

double qsnr_of(const std::string& spec, const std::vector<float>& x, int64_t rows, int64_t cols) {
  std::vector<float> q(x.size());
  make_format(spec)->quantize(x.data(), rows, cols, q.data());
  return compare(x.data(), q.data(), rows * cols).qsnr_db;
}

TEST(SqueezeLlm, GoldenVectors) {
  // 2 x 8, bits=2 (k = 4), sparse = 1/16: ceil(16/16) = 1 sparse value, the largest |x| = 100
  // at flat position 15.
  // Row 0, sorted: g = {-3, -2.5, -1, -0.5, 0.5, 1, 2, 4} (n_g = 8). Initial centroids at
  //   g[floor((j + 1/2) 8/4)] = g[1], g[3], g[5], g[7] = -2.5, -0.5, 1, 4. Midpoints -1.5, 0.25,
  //   2.5: bins {-3, -2.5} {-1, -0.5} {0.5, 1, 2} {4}; means -2.75, -0.75, 7/6, 4. Midpoints
  //   -1.75, 0.2083, 2.5833 give the same bins: converged after 1 update.
  //   FP16: -2.75 = -1.375 * 2 -> 0xC180; -0.75 -> 0xBA00; 7/6 = 1.1666.. -> 1 + 171/1024 =
  //   1.1669921875 (0x3CAB; 0.1666 * 1024 = 170.67 rounds to 171); 4 -> 0x4400.
  //   Codes for x = {1, -3, 0.5, 4, -0.5, 2, -2.5, -1}: {2, 0, 2, 3, 1, 2, 0, 1}.
  // Row 1 without the sparse 100: g = {0, .25, .5, .75, 1, 1.25, 1.5} (n_g = 7). Initial
  //   g[floor(0.875)], g[floor(2.625)], g[floor(4.375)], g[floor(6.125)] = 0, .5, 1, 1.5;
  //   midpoints .25, .75, 1.25 (a value on a midpoint goes to the lower bin): bins {0, .25}
  //   {.5, .75} {1, 1.25} {1.5}; means .125, .625, 1.125, 1.5; the next bins are the same.
  //   FP16 0x3000, 0x3900, 0x3C80, 0x3E00 (all exact). Codes {0, 0, 1, 1, 2, 2, 3} and 0 at
  //   the sparse position; 100 = 1.5625 * 2^6 -> FP16 0x5640.
  const std::vector<float> x = {1, -3,    0.5f, 4,     -0.5f, 2,     -2.5f, -1,
                                0, 0.25f, 0.5f, 0.75f, 1,     1.25f, 1.5f,  100};
  const auto f = make_format("squeezellm:bits=2:sparse=0.0625");
  EXPECT_EQ(f->name(), "squeezellm:bits=2:iters=50:sparse=0.0625");
  const EncodedTensor e = f->encode(x.data(), 2, 8);
  EXPECT_EQ(unpack_codes(e.elements, 2, 8, 2),
            (std::vector<uint32_t>{2, 0, 2, 3, 1, 2, 0, 1, 0, 0, 1, 1, 2, 2, 3, 0}));
  EXPECT_EQ(fp16_codes(e.scales), (std::vector<uint16_t>{0xC180, 0xBA00, 0x3CAB, 0x4400, 0x3000,
                                                         0x3900, 0x3C80, 0x3E00, 0x5640}));
  EXPECT_EQ(e.indices, (std::vector<uint32_t>{15}));
  EXPECT_TRUE(e.fp32.empty());
  std::vector<float> out(16);
  f->decode(e, out.data());
  EXPECT_EQ(out, (std::vector<float>{1.1669921875f, -2.75f, 1.1669921875f, 4, -0.75f, 1.1669921875f,
                                     -2.75f, -0.75f, 0.125f, 0.125f, 0.625f, 0.625f, 1.125f, 1.125f,
                                     1.5f, 100}));
  // Storage: 2 rows x 2 bytes of codes, 8 + 1 FP16 values, one 32-bit position.
  EXPECT_EQ(e.storage_bits(), 32u + 9 * 16 + 32);
  const SqueezeLlmCodebook cb = squeezellm_setup(x.data(), 2, 8, 2, 0.0625, 50);
  EXPECT_EQ(cb.kmeans_iterations, 2);  // one update per row
  // One scale group of FP16 units: 100 = 1600 * 2^-4 ... as <shift, mant> * 2^-24.
  const DecodedTensor d = f->decode_operand(e);
  EXPECT_EQ(d.scale_exp, (std::vector<int32_t>{-24}));
  EXPECT_EQ(decoded_value(d, 1, 7), 100.0f);
  // Ties in magnitude: the lower index is the sparse one.
  const std::vector<float> t = {5, -5, 1, 2};
  EXPECT_EQ(make_format("squeezellm:bits=2:sparse=0.25")->encode(t.data(), 1, 4).indices,
            (std::vector<uint32_t>{0}));
}

TEST(SqueezeLlm, EveryCodebookEntryDecodesAndReencodes) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  for (int bits : {2, 3, 4}) {
    const int64_t rows = 6, cols = 300, k = int64_t{1} << bits;
    std::vector<float> w(rows * cols);
    for (auto& v : w) v = nd(rng);
    const SqueezeLlmCodebook cb = squeezellm_setup(w.data(), rows, cols, bits, 0.0, 50);
    // Every code of every row's codebook, as a tensor; encoded with the same codebooks.
    std::vector<float> x(rows * cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        x[r * cols + c] = fp_decode(kFP16, cb.centroids[r * k + c % k]);
    const std::string name = "squeezellm:bits=" + std::to_string(bits) + ":iters=50:sparse=0";
    const EncodedTensor e = squeezellm_encode(cb, x.data(), name);
    const auto codes = unpack_codes(e.elements, rows, cols, bits);
    const auto f = make_format(name);
    std::vector<float> dec(x.size());
    f->decode(e, dec.data());
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const uint16_t* row = cb.centroids.data() + r * k;
        // Distinct, sorted entries: the code is the entry's index (equal neighbours: the first).
        int64_t want = c % k;
        while (want > 0 && row[want - 1] == row[want]) --want;
        ASSERT_EQ(codes[r * cols + c], static_cast<uint32_t>(want)) << bits << " " << r << " " << c;
        ASSERT_EQ(bits_of(dec[r * cols + c]), bits_of(x[r * cols + c]));
      }
      for (int64_t j = 1; j < k; ++j)
        EXPECT_LE(fp_decode(kFP16, cb.centroids[r * k + j - 1]),
                  fp_decode(kFP16, cb.centroids[r * k + j]));
    }
    // The format's own encoder gives the same as setup + encode.
    EXPECT_EQ(f->encode(w.data(), rows, cols).elements,
              squeezellm_encode(cb, w.data(), name).elements);
  }
}

TEST(SqueezeLlm, OptionsAndQsnr) {
  EXPECT_EQ(make_format("squeezellm3")->name(), "squeezellm:bits=3:iters=50:sparse=0.0045");
  EXPECT_EQ(make_format("squeezellm4:sparse=0")->name(), "squeezellm:bits=4:iters=50:sparse=0");
  EXPECT_THROW(make_format("squeezellm3:bits=4"), Error);
  EXPECT_THROW(make_format("squeezellm:bits=5"), Error);
  EXPECT_THROW(make_format("squeezellm:sparse=0.6"), Error);
  const FormatTraits t = make_format("squeezellm3")->traits();
  EXPECT_EQ(t.decoder, "lut");
  EXPECT_TRUE(t.weight_only);
  EXPECT_EQ(t.element_bits, 3);
  EXPECT_EQ(t.outlier_fraction, 0.0045);
  // N(0, 1): a per-row 16-entry k-means codebook beats INT4 with FP32 scales per 128.
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t rows = 64, cols = 1024;
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = nd(rng);
  const double s4 = qsnr_of("squeezellm4", x, rows, cols);
  const double s3 = qsnr_of("squeezellm3", x, rows, cols);
  EXPECT_GT(s4, qsnr_of("int4:group=128", x, rows, cols)) << s4;
  EXPECT_GT(s3, qsnr_of("int3:group=128", x, rows, cols)) << s3;
  EXPECT_GT(s4, s3 + 4.0);
  // The sparse part helps on data with outliers.
  for (int64_t i = 0; i < rows * cols; i += 997) x[i] *= 40.0f;
  EXPECT_GT(qsnr_of("squeezellm3", x, rows, cols),
            qsnr_of("squeezellm3:sparse=0", x, rows, cols) + 1.0);
  // Storage: 3 + 16 * 8 / 1024 + 48 * ceil(0.0045 n) / n bits per element.
  const EncodedTensor e = make_format("squeezellm3")->encode(x.data(), rows, cols);
  const double n = double(rows * cols);
  EXPECT_DOUBLE_EQ(e.bits_per_element(), 3.0 + 16.0 * 8 / 1024 + 48.0 * std::ceil(0.0045 * n) / n);
}

}  // namespace
}  // namespace qarch::quant
