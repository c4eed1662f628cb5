// The universal Format invariants (PREAMBLE) for every option combination of the outlier-aware
// formats (olive4, olive8, gobo, olaccel, ant, adaptivfloat, dgq, squeezellm, gear, rotatekv,
// ksort), on random data with outlier channels and spikes: (1) decoded_value(decode_operand(e))
// == decode(e) bit for bit; (2) quantize == decode(encode) bit for bit; (3) make_format(name())
// reproduces the name and the encoding; (4) reference_matmul on decoded operands agrees with a
// double GEMM of the decoded values; plus zero-size shapes, NaN/Inf rejection and corrupted
// encodings.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <random>

#include "qarch/common/error.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"

namespace qarch::quant {
namespace {

std::vector<std::string> all_specs() {
  std::vector<std::string> v;
  for (const char* per : {"tensor", "row"}) {
    for (const char* vic : {"larger", "even"}) {
      for (const char* sc : {"", ":scale=1"}) {
        v.push_back(std::string("olive4:per=") + per + ":victim=" + vic + sc);
        for (const char* ot : {"e4m3", "e2m5"}) {
          v.push_back(std::string("olive8:outlier=") + ot + ":per=" + per + ":victim=" + vic +
                      (*sc ? ":scale=0.05" : ""));
        }
      }
    }
  }
  // The options from the authors' code (ties, sign, normal types), alone and combined.
  for (const char* a :
       {"olive4:ties=up", "olive4:per=row:ties=up:victim=even", "olive8:ties=up:scale=0.05",
        "olive8:outlier=e2m5:ties=up", "olive4:sign=unsigned", "olive4:sign=auto:per=row",
        "olive4:scale=0.5:sign=unsigned:ties=up", "olive8:sign=unsigned",
        "olive8:outlier=e2m5:per=row:sign=unsigned:victim=even", "olive8:sign=auto",
        "olive4:types=flint", "olive4:types=int+flint", "olive4:per=row:scale=0.3:types=flint",
        "olive4:per=row:ties=up:types=int+flint", "olive4:types=flint+int:victim=even"}) {
    v.push_back(a);
  }
  for (int bits : {2, 3, 4}) {
    for (const char* st : {"fp16", "fp32"}) {
      for (const char* th : {"", ":threshold=3"}) {
        v.push_back("gobo:bits=" + std::to_string(bits) + ":store=" + st + th);
      }
    }
  }
  for (int bits : {3, 4, 7}) {
    for (int ob : {8, 16}) {
      for (const char* fr : {"", ":frac=0.1", ":frac=0"}) {
        v.push_back("olaccel:bits=" + std::to_string(bits) + ":outlier_bits=" + std::to_string(ob) +
                    fr);
      }
    }
  }
  for (const char* a : {"ant4", "ant8", "ant4:per=row", "ant4:ties=up:sign=signed",
                        "ant4:types=pot:scale=0.01", "ant8:types=flint:sign=unsigned"}) {
    v.push_back(a);
  }
  for (const char* a :
       {"adaptivfloat8", "adaptivfloat6", "adaptivfloat4:per=row", "adaptivfloat:bits=7:e=5",
        "dgq4", "dgq:bits=3:group=5", "dgq:group=1000"}) {
    v.push_back(a);
  }
  for (const char* a : {"squeezellm3", "squeezellm4", "squeezellm:bits=2:sparse=0",
                        "squeezellm:bits=4:iters=1:sparse=0.05"}) {
    v.push_back(a);
  }
  // keep= (any format): the kept values ride on the decoded operand's sparse list.
  for (const char* a : {"int4:keep=3", "int8:per=row:keep=0.02", "mxfp4:keep=2", "olive4:keep=1",
                        "olive8:keep=2:per=row", "olaccel:keep=2", "gobo:keep=1",
                        "squeezellm3:keep=0.01", "ant4:keep=2", "nvfp4:keep=1", "amxfp4:keep=2",
                        "bfp:keep=1", "dgq4:keep=2", "adaptivfloat8:keep=1"}) {
    v.push_back(a);
  }
  // KV-cache formats (kv_methods_test.cpp has their golden vectors).
  for (const char* a :
       {"gear4", "gear2", "gear:bits=3:group=8:rank=2:outliers=0.1:iters=1:seed=7", "gear4:rank=0",
        "gear:rank=40:outliers=0", "rotatekv4", "rotatekv2:group=8:signs=false",
        "rotatekv:per=channel:sym=true", "rotatekv:per=channel:group=3:seed=5", "ksort_mxfp4",
        "ksort_bfp", "ksort_bfp:block=8:p=6", "ksort:base=mxfp8_e4m3:block=4",
        "ksort:base=mxint8:block=16", "ksort:base=mxfp6_e2m3:block=5"}) {
    v.push_back(a);
  }
  return v;
}

// N(0, 1) with two outlier channels (x30, x-45), a few large spikes, a zero row and exact
// zeros, [rows, cols] with odd cols.
std::vector<float> test_data(int64_t rows, int64_t cols, unsigned seed, float unit) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, unit);
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = nd(rng);
  for (int64_t r = 0; r < rows; ++r) {
    x[r * cols + 3] *= 30.0f;
    x[r * cols + cols / 2] *= -45.0f;
  }
  x[5] = 300.0f * unit;
  x[cols + 7] = -250.0f * unit;
  x[2 * cols + 8] = 0.0f;
  if (rows > 4) std::fill(x.begin() + 4 * cols, x.begin() + 5 * cols, 0.0f);
  return x;
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

class OutlierFormatInvariants : public ::testing::TestWithParam<std::string> {};

TEST_P(OutlierFormatInvariants, HoldOnDataWithOutliers) {
  const std::string spec = GetParam();
  const auto f = make_format(spec);
  // GOBO is a weight format; weights are small. Activations for the others: unit 1.
  const float unit = spec.rfind("gobo", 0) == 0 || spec.rfind("squeezellm", 0) == 0 ? 0.02f : 1.0f;
  const int64_t m = 7, n = 5, k = 37;
  const auto xa = test_data(m, k, 11, unit);
  const auto wa = test_data(n, k, 12, unit);

  for (const auto* data : {&xa, &wa}) {
    const int64_t rows = data == &xa ? m : n;
    const EncodedTensor e = f->encode(data->data(), rows, k);
    // (3) the name round-trips and reproduces the encoding.
    const auto f2 = make_format(f->name());
    ASSERT_EQ(f2->name(), f->name());
    const EncodedTensor e2 = f2->encode(data->data(), rows, k);
    EXPECT_EQ(e2.elements, e.elements);
    EXPECT_EQ(e2.scales, e.scales);
    EXPECT_EQ(e2.indices, e.indices);
    ASSERT_EQ(e2.fp32.size(), e.fp32.size());
    for (size_t i = 0; i < e.fp32.size(); ++i) EXPECT_EQ(bits_of(e2.fp32[i]), bits_of(e.fp32[i]));

    std::vector<float> dec(rows * k), q(rows * k);
    f->decode(e, dec.data());
    // (1) decode_operand reproduces decode bit for bit.
    const DecodedTensor d = f->decode_operand(e);
    ASSERT_EQ(d.rows, rows);
    ASSERT_EQ(d.cols, k);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < k; ++c) {
        ASSERT_EQ(bits_of(decoded_value(d, r, c)), bits_of(dec[r * k + c]))
            << spec << " (" << r << ", " << c << ") " << decoded_value(d, r, c) << " vs "
            << dec[r * k + c];
      }
    }
    // (2) quantize == decode(encode).
    f->quantize(data->data(), rows, k, q.data());
    for (int64_t i = 0; i < rows * k; ++i) ASSERT_EQ(bits_of(q[i]), bits_of(dec[i])) << spec;
    // Not garbage (a sign or position bug): closer to x than the all-zero tensor. (Fixed scales
    // and 8-bit OLAccel outliers saturate the spikes by design, so no tighter bound here.)
    double sx = 0, se = 0;
    for (int64_t i = 0; i < rows * k; ++i) {
      sx += double((*data)[i]) * (*data)[i];
      se += (double(dec[i]) - (*data)[i]) * (double(dec[i]) - (*data)[i]);
    }
    EXPECT_LT(se, sx) << spec;
  }

  // (4) reference_matmul on the decoded operands vs a double GEMM of the decoded values.
  const EncodedTensor ex = f->encode(xa.data(), m, k), ew = f->encode(wa.data(), n, k);
  std::vector<float> dx(m * k), dw(n * k);
  f->decode(ex, dx.data());
  f->decode(ew, dw.data());
  const auto y = reference_matmul(f->decode_operand(ex), f->decode_operand(ew));
  ASSERT_EQ(y.size(), static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0, mag = 0;
      for (int64_t t = 0; t < k; ++t) {
        ref += double(dx[i * k + t]) * dw[j * k + t];
        mag += std::fabs(double(dx[i * k + t]) * dw[j * k + t]);
      }
      EXPECT_NEAR(y[i * n + j], ref, 1e-6 * mag + 1e-30) << spec << " y(" << i << ", " << j << ")";
    }
  }
}

TEST_P(OutlierFormatInvariants, ZeroSizeShapes) {
  const auto f = make_format(GetParam());
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{0, 0}, {0, 5}, {3, 0}}) {
    const EncodedTensor e = f->encode(nullptr, rows, cols);
    EXPECT_EQ(e.rows, rows);
    EXPECT_EQ(e.cols, cols);
    f->decode(e, nullptr);
    const DecodedTensor d = f->decode_operand(e);
    EXPECT_EQ(d.mant.size(), 0u);
  }
  // One element, and a single odd column.
  const float one = -2.5f;
  const EncodedTensor e = f->encode(&one, 1, 1);
  float out = 0;
  f->decode(e, &out);
  EXPECT_EQ(bits_of(decoded_value(f->decode_operand(e), 0, 0)), bits_of(out));
}

TEST_P(OutlierFormatInvariants, RejectsNonFiniteAndCorruptEncodings) {
  const auto f = make_format(GetParam());
  std::vector<float> x = {0.5f, -1.0f, 2.0f, 0.25f, 3.0f, -0.75f};
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    x[4] = bad;
    try {
      f->encode(x.data(), 2, 3);
      ADD_FAILURE() << GetParam() << " accepted " << bad;
    } catch (const qarch::Error& err) {
      EXPECT_NE(std::string(err.what()).find("element 4"), std::string::npos) << err.what();
    }
  }
  x[4] = 3.0f;
  const EncodedTensor good = f->encode(x.data(), 2, 3);
  std::vector<float> out(6);
  EncodedTensor bad = good;
  bad.format = "e4m3:round=even:scale=none:overflow=sat";
  EXPECT_THROW(f->decode(bad, out.data()), qarch::Error);
  bad = good;
  bad.elements.push_back(0);
  EXPECT_THROW(f->decode(bad, out.data()), qarch::Error);
  EXPECT_THROW(f->decode_operand(bad), qarch::Error);
}

INSTANTIATE_TEST_SUITE_P(AllOptions, OutlierFormatInvariants, ::testing::ValuesIn(all_specs()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (auto& ch : s) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return s;
                         });

}  // namespace
}  // namespace qarch::quant
