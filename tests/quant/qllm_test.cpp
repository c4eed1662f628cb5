// QLLM channel disassembly and assembly (Liu et al., ICLR 2024; quant transforms.h section 6
// and quant/src/qllm_format.cpp): golden plans worked out by hand, X' W'^T = X W^T (exactly for
// power-of-two splits of dyadic data), the assembly's error equal to the sum of its rank-one
// terms, K' = K + floor(ratio K) for every tensor, and the qllm format's decode = the fold of
// its K'-wide decoded operand bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/transforms.h"

namespace qarch::quant {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Seeded LLM-like activations: N(0,1) with a few channels scaled up.
Tensor llm_like(int64_t rows, int64_t cols, uint32_t seed, bool dyadic = false) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Tensor t = Tensor::zeros({rows, cols});
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float v = nd(gen) * (c % 17 == 3 ? 40.0f : c % 29 == 5 ? 9.0f : 1.0f);
      if (dyadic) v = std::round(v * 4.0f);  // small integers: products and sums exact in double
      t.data[r * cols + c] = v;
    }
  }
  return t;
}

// Y = X W^T in double.
std::vector<double> gemm(const Tensor& x, const Tensor& w) {
  std::vector<double> y(static_cast<size_t>(x.rows() * w.rows()), 0.0);
  for (int64_t i = 0; i < x.rows(); ++i)
    for (int64_t j = 0; j < w.rows(); ++j) {
      double s = 0;
      for (int64_t k = 0; k < x.cols(); ++k) s += double(x.row(i)[k]) * w.row(j)[k];
      y[i * w.rows() + j] = s;
    }
  return y;
}

TEST(Qllm, GoldenFixedThreshold) {
  // theta = 2: maxima m = {1, 6, 1, 4.5} -> T = ceil(m / 2) = {1, 3, 1, ceil(2.25) = 3};
  // K' = 4 + 2 + 2 = 8; theta reported = max m_j / T_j = max(1, 2, 1, 1.5) = 2.
  const Tensor x = Tensor::matrix(2, 4, {1, -6, 0.5f, 2, -0.5f, 3, 1, -4.5f});
  const Tensor w = Tensor::matrix(1, 4, {1, 2, 3, 4});
  QllmOptions o;
  o.theta = 2;
  const QllmResult r = qllm(x, w, o);
  EXPECT_EQ(r.plan.a, (std::vector<int64_t>{0, 1, 1, 1, 2, 3, 3, 3}));
  EXPECT_EQ(r.plan.b, std::vector<int64_t>(8, -1));
  EXPECT_EQ(r.plan.parts, (std::vector<int64_t>{1, 3, 1, 3}));
  EXPECT_EQ(r.plan.extra, 4);
  EXPECT_EQ(r.plan.theta, 2.0);
  const float third = 2.0f / 3.0f, neg = -4.5f / 3.0f;  // x_3 / 3 in FP32: 2/3 and -1.5
  EXPECT_EQ(r.x.data, (std::vector<float>{1, -2, -2, -2, 0.5f, third, third, third,  //
                                          -0.5f, 1, 1, 1, 1, neg, neg, neg}));
  EXPECT_EQ(r.w.data, (std::vector<float>{1, 2, 2, 2, 3, 4, 4, 4}));
  // pow2: T_1 = 3 -> 4, T_3 = 3 -> 4: x_1 / 4 = -1.5, every sub-channel exact.
  o.pow2 = true;
  const QllmResult p = qllm(x, w, o);
  EXPECT_EQ(p.plan.parts, (std::vector<int64_t>{1, 4, 1, 4}));
  EXPECT_EQ(p.plan.k_out(), 10);
  EXPECT_EQ(p.x.row(0)[1], -1.5f);
  EXPECT_EQ(qllm_fold_x(p.x, p.plan).data, x.data);  // exact round trip
}

TEST(Qllm, GoldenBudgetRuleAndTies) {
  // K = 8, ratio 0.25: budget floor(2) = 2. Maxima {1, 10, 2, 6, 0, 1, 1, 3}: the largest
  // sub-channel max is channel 1 (10) -> T_1 = 2 (5 each); then channel 3 (6) -> T_3 = 2 (3).
  // theta = max(1, 5, 2, 3, 0, 1, 1, 3) = 5, K' = 10.
  QllmOptions o;
  o.ratio = 0.25;
  const ChannelPlan p = qllm_disassembly_plan({1, 10, 2, 6, 0, 1, 1, 3}, o);
  EXPECT_EQ(p.parts, (std::vector<int64_t>{1, 2, 1, 2, 1, 1, 1, 1}));
  EXPECT_EQ(p.a, (std::vector<int64_t>{0, 1, 1, 2, 3, 3, 4, 5, 6, 7}));
  EXPECT_EQ(p.theta, 5.0);
  // The same channel again when it stays the largest: {12, 1, 1, 1, 1, 1, 1, 1} -> T_0 = 3.
  EXPECT_EQ(qllm_disassembly_plan({12, 1, 1, 1, 1, 1, 1, 1}, o).parts[0], 3);
  // Ties: {4, 4, 1, 1}, budget 1: the lower index is split, theta stays 4 (channel 1).
  const ChannelPlan t = qllm_disassembly_plan({4, 4, 1, 1}, o);
  EXPECT_EQ(t.parts, (std::vector<int64_t>{2, 1, 1, 1}));
  EXPECT_EQ(t.theta, 4.0);
  // All zero: the budget is still used (channel order), K' = K + budget.
  EXPECT_EQ(qllm_disassembly_plan(std::vector<float>(8, 0.0f), o).k_out(), 10);
}

TEST(Qllm, GoldenAssemblyPairing) {
  // K = 4, ratio 0.25: budget 1; channel 3 (max 8) is split in two (4 each).
  // Unsplit candidates 0, 1, 2 with norms sqrt(2), sqrt(4.5), sqrt(0.02): sorted 2, 0, 1.
  // Adjacent pairs: (2, 0) with ||x_2 - x_0|| = 0.9 sqrt 2, (0, 1) with 0.5 sqrt 2.
  const Tensor x = Tensor::matrix(2, 4, {1, 1.5f, 0.1f, 8, 1, 1.5f, 0.1f, -8});
  QllmOptions o;
  o.ratio = 0.25;
  o.assemble = true;
  // Without a weight the cheaper activation distance wins: (0, 1).
  const ChannelPlan pa = qllm_plan(x, o);
  EXPECT_EQ(pa.a, (std::vector<int64_t>{0, 2, 3, 3}));
  EXPECT_EQ(pa.b, (std::vector<int64_t>{1, -1, -1, -1}));
  // With W columns c0 = (1, 2), c1 = (4, -2), c2 = (1, 2): (0, 1) costs 0.5 sqrt2 * 5 / 2,
  // (2, 0) costs 0.9 sqrt2 * 0 / 2 = 0, so channels 0 and 2 merge (at position 0).
  const Tensor w = Tensor::matrix(2, 4, {1, 4, 1, 0.5f, 2, -2, 2, 0.25f});
  const QllmResult r = qllm(x, w, o);
  EXPECT_EQ(r.plan.a, (std::vector<int64_t>{0, 1, 3, 3}));
  EXPECT_EQ(r.plan.b, (std::vector<int64_t>{2, -1, -1, -1}));
  EXPECT_EQ(r.plan.merged, 1);
  EXPECT_EQ(r.plan.k_out(), 4);
  const float s = 1.0f + 0.1f;
  EXPECT_EQ(r.x.data, (std::vector<float>{s, 1.5f, 4, 4, s, 1.5f, -4, -4}));
  EXPECT_EQ(r.w.data, (std::vector<float>{1, 4, 0.5f, 0.5f, 2, -2, 0.25f, 0.25f}));
  // Fold: the merged value goes half to each member.
  const Tensor f = qllm_fold_x(r.x, r.plan);
  EXPECT_EQ(f.data,
            (std::vector<float>{s * 0.5f, 1.5f, s * 0.5f, 8, s * 0.5f, 1.5f, s * 0.5f, -8}));
}

TEST(Qllm, DisassemblyKeepsTheProductAndPow2IsExact) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Tensor x = llm_like(24, 96, seed);
    const Tensor w = llm_like(16, 96, seed + 10);
    QllmOptions o;
    o.ratio = 0.2;
    const QllmResult r = qllm(x, w, o);
    ASSERT_EQ(r.plan.k_out(), 96 + 19);
    const std::vector<double> y = gemm(x, w), yp = gemm(r.x, r.w);
    double ref = 0;
    for (double v : y) ref = std::max(ref, std::fabs(v));
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(yp[i], y[i], 1e-6 * ref) << i;
    // Power-of-two splits of small-integer data: every x / T is exact and the double sums are
    // exact, so X' W'^T equals X W^T bit for bit, and the fold gives X back exactly.
    const Tensor xd = llm_like(24, 96, seed, true), wd = llm_like(16, 96, seed + 10, true);
    QllmOptions q;
    q.theta = 7;
    q.pow2 = true;
    const QllmResult e = qllm(xd, wd, q);
    EXPECT_GT(e.plan.extra, 0);
    EXPECT_EQ(gemm(e.x, e.w), gemm(xd, wd));
    EXPECT_EQ(qllm_fold_x(e.x, e.plan).data, xd.data);
  }
}

TEST(Qllm, AssemblyErrorIsTheSumOfItsRankOneTerms) {
  // x_a W_a + x_b W_b - (x_a + x_b)(W_a + W_b) / 2 = (x_a - x_b)(W_a - W_b) / 2 per merged pair.
  const Tensor x = llm_like(20, 64, 5), w = llm_like(12, 64, 6);
  QllmOptions o;
  o.ratio = 0.125;
  o.assemble = true;
  const QllmResult r = qllm(x, w, o);
  ASSERT_EQ(r.plan.k_out(), 64);
  ASSERT_EQ(r.plan.merged, 8);
  std::vector<double> expect = gemm(x, w);
  for (int64_t c = 0; c < r.plan.k_out(); ++c) {
    const int64_t a = r.plan.a[c], b = r.plan.b[c];
    if (b < 0) continue;
    for (int64_t i = 0; i < x.rows(); ++i)
      for (int64_t j = 0; j < w.rows(); ++j)
        expect[i * w.rows() + j] -=
            (double(x.row(i)[a]) - x.row(i)[b]) * (double(w.row(j)[a]) - w.row(j)[b]) / 2;
  }
  const std::vector<double> got = gemm(r.x, r.w);
  double ref = 0;
  for (double v : got) ref = std::max(ref, std::fabs(v));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expect[i], 1e-6 * ref) << i;
}

TEST(Qllm, ReductionLengthIsAFunctionOfKAlone) {
  for (int64_t k : {1, 7, 64, 100, 4096, 11008}) {
    for (double ratio : {0.0, 0.01, 0.05, 0.25}) {
      QllmOptions o;
      o.ratio = ratio;
      const int64_t kp = k + static_cast<int64_t>(std::floor(ratio * k + 1e-9));
      EXPECT_EQ(qllm_reduction_length(k, o), kp);
      if (k > 256) continue;
      const Tensor x = llm_like(3, k, static_cast<uint32_t>(k));
      EXPECT_EQ(qllm_plan(x, o).k_out(), kp) << k << " " << ratio;
      o.assemble = true;
      EXPECT_EQ(qllm_reduction_length(k, o), k);
      if (2 * (kp - k) <= k - (kp - k)) {
        EXPECT_EQ(qllm_plan(x, o).k_out(), k) << k;
      }
    }
  }
  QllmOptions bad;
  bad.ratio = 0.3;
  EXPECT_NE(error_of([&] { qllm_reduction_length(64, bad); }).find("outside [0, 0.25]"),
            std::string::npos);
  bad.ratio = 0.05;
  bad.theta = 1;
  EXPECT_NE(error_of([&] { qllm_reduction_length(64, bad); }).find("depends on the data"),
            std::string::npos);
}

TEST(Qllm, BadInputsNameTheProblem) {
  Tensor x = llm_like(2, 8, 1);
  x.data[5] = std::nanf("");
  EXPECT_NE(error_of([&] { qllm_plan(x, {}); }).find("X element 5"), std::string::npos)
      << error_of([&] { qllm_plan(x, {}); });
  const Tensor a = llm_like(2, 8, 1), w = llm_like(2, 6, 2);
  EXPECT_NE(error_of([&] { qllm(a, w); }).find("K"), std::string::npos);
  const ChannelPlan p = qllm_plan(a, {});
  EXPECT_NE(error_of([&] { qllm_apply_w(w, p); }).find("made for K = 8"), std::string::npos);
}

// The definitions of transforms.h section 6, one output column at a time (the loops qllm.cpp
// had before it compiled plans to runs): X'[c] = x_a / T_a or x_a + x_b; the fold zeroes every
// channel, then takes the output columns in order (a sub-channel adds, a merged pair sets both).
std::vector<float> apply_by_definition(const std::vector<float>& x, int64_t rows,
                                       const ChannelPlan& p) {
  const int64_t k = p.k_in, ko = p.k_out();
  std::vector<float> out(static_cast<size_t>(rows * ko));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < ko; ++c) {
      const float* in = x.data() + r * k;
      const int64_t a = p.a[c], b = p.b[c];
      out[r * ko + c] = b >= 0 ? in[a] + in[b] : in[a] / static_cast<float>(p.parts[a]);
    }
  return out;
}

std::vector<float> fold_by_definition(const std::vector<float>& xp, int64_t rows,
                                      const ChannelPlan& p) {
  const int64_t k = p.k_in, ko = p.k_out();
  std::vector<float> out(static_cast<size_t>(rows * k), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < ko; ++c) {
      float* o = out.data() + r * k;
      const float v = xp[r * ko + c];
      const int64_t a = p.a[c], b = p.b[c];
      if (b >= 0) {
        o[a] = o[b] = v * 0.5f;
      } else {
        o[a] += v;
      }
    }
  return out;
}

// Bit patterns (EXPECT_EQ on floats calls -0 and +0 equal; the fold turns -0 into +0).
std::vector<uint32_t> bits_of(const std::vector<float>& v) {
  std::vector<uint32_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) std::memcpy(&b[i], &v[i], 4);
  return b;
}

// qllm_apply_x and qllm_fold_x run a plan compiled to runs (copies, splits, pairs, sums); on
// every plan they give the definition's bits. Half the plans have the shape qllm_plan makes
// (each channel reached once: untouched, one run of T_j sub-channels, or one merged pair), the
// other half put channels anywhere (repeated, interleaved, a pair over a split channel: the
// fold's general path). Values include -0, subnormals and odd T_j (inexact divisions).
TEST(Qllm, ApplyAndFoldFollowTheirDefinitionOnAnyPlan) {
  std::mt19937 gen(77);
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
  };
  std::normal_distribution<float> nd(0.0f, 3.0f);
  int shaped = 0, free_form = 0, zero_signs = 0;
  for (int it = 0; it < 400; ++it) {
    const int64_t k = uni(1, 14), rows = uni(1, 5);
    ChannelPlan p;
    p.k_in = k;
    p.parts.assign(static_cast<size_t>(k), 1);
    if (it % 2 == 0) {
      std::vector<char> taken(static_cast<size_t>(k), 0);
      for (int64_t j = 0; j < k; ++j) {
        if (taken[j]) continue;
        const int64_t kind = uni(0, 3);
        if (kind == 0) continue;  // no output column
        if (kind == 3 && j + 1 < k) {
          int64_t b = uni(j + 1, k - 1);
          while (b < k && taken[b]) ++b;
          if (b < k) {
            taken[b] = 1;
            p.a.push_back(j);
            p.b.push_back(b);
            continue;
          }
        }
        p.parts[j] = kind == 2 ? uni(2, 7) : 1;
        for (int64_t t = 0; t < p.parts[j]; ++t) {
          p.a.push_back(j);
          p.b.push_back(-1);
        }
      }
      if (p.a.empty()) {
        p.a.push_back(0);
        p.b.push_back(-1);
      }
      ++shaped;
    } else {
      for (int64_t& t : p.parts) t = uni(1, 5);
      const int64_t ko = uni(1, 20);
      for (int64_t c = 0; c < ko; ++c) {
        const int64_t a = uni(0, k - 1);
        p.a.push_back(a);
        p.b.push_back(a + 1 < k && uni(0, 3) == 0 ? uni(a + 1, k - 1) : -1);
      }
      ++free_form;
    }
    const int64_t ko = p.k_out();
    std::vector<float> x(static_cast<size_t>(rows * k)), xp(static_cast<size_t>(rows * ko));
    for (auto* v : {&x, &xp}) {
      for (float& f : *v) {
        const int64_t pick = uni(0, 9);
        f = pick == 0 ? -0.0f : pick == 1 ? 0.0f : pick == 2 ? nd(gen) * 1e-40f : nd(gen);
        zero_signs += pick == 0;
      }
    }
    const Tensor tx = Tensor::matrix(rows, k, x), txp = Tensor::matrix(rows, ko, xp);
    ASSERT_EQ(bits_of(qllm_apply_x(tx, p).data), bits_of(apply_by_definition(x, rows, p)))
        << "plan " << it;
    ASSERT_EQ(bits_of(qllm_fold_x(txp, p).data), bits_of(fold_by_definition(xp, rows, p)))
        << "plan " << it;
  }
  EXPECT_EQ(shaped, 200);
  EXPECT_EQ(free_form, 200);
  EXPECT_GT(zero_signs, 100);
}

// The format's decode on an encoding whose stored plan is not one qllm_plan makes (valid
// indices, sub-channels of a channel not adjacent): the general fold, still the definition.
TEST(QllmFormat, DecodeOfAnyValidStoredPlanIsTheDefinitionsFold) {
  const auto f = make_format("qllm:ratio=0.1");
  const auto bf = make_format("int8");
  const Tensor x = llm_like(6, 40, 4);
  EncodedTensor e = f->encode(x);
  const int64_t ko = 44;
  const size_t tail = e.indices.size() - 2 * ko;
  ChannelPlan p;
  p.k_in = 40;
  for (int64_t c = 0; c < ko; ++c) {
    p.a.push_back(e.indices[tail + c]);
    const uint32_t b = e.indices[tail + ko + c];
    p.b.push_back(b == 0xFFFFFFFFu ? int64_t{-1} : static_cast<int64_t>(b));
  }
  ASSERT_EQ(p.a[ko - 1], 39);
  // Move the last output column to channel 0 and make the column of channel 5 (unsplit) a
  // merged pair (5, 39): channel 0 gets a second, non-adjacent contribution and channel 39 a
  // pair and a sub-channel.
  p.a[ko - 1] = 0;
  e.indices[tail + ko - 1] = 0;
  int64_t c5 = 0;
  while (p.a[c5] != 5) ++c5;
  ASSERT_EQ(p.a[c5 + 1], 6);  // channel 5 has one output column
  p.b[c5] = 39;
  e.indices[tail + ko + c5] = 39;
  EncodedTensor be = e;
  be.format = bf->name();
  be.cols = ko;
  be.indices.resize(tail);
  std::vector<float> got(6 * 40);
  f->decode(e, got.data());
  EXPECT_EQ(bits_of(got), bits_of(fold_by_definition(bf->decode(be).data, 6, p)));
}

TEST(QllmFormat, DecodeIsTheFoldOfTheWideOperandBitForBit) {
  const Tensor x = llm_like(16, 256, 9);
  for (const char* spec : {"qllm", "qllm:base=int4:ratio=0.1", "qllm:base=mxfp4",
                           "qllm:assemble=true", "qllm:base=olive4:ratio=0.02"}) {
    SCOPED_TRACE(spec);
    const auto f = make_format(spec);
    EXPECT_EQ(make_format(f->name())->name(), f->name());
    QllmOptions o;
    std::string base;
    ASSERT_TRUE(qllm_format_parts(*f, &o, &base));
    const auto bf = make_format(base);
    const int64_t kp = f->traits().gemm_k(256);
    EXPECT_EQ(kp, o.assemble ? 256 : 256 + static_cast<int64_t>(std::floor(o.ratio * 256 + 1e-9)));
    const EncodedTensor e = f->encode(x);
    EXPECT_EQ(e.rows, 16);
    EXPECT_EQ(e.cols, 256);
    // The stored codes are the base format's encoding of X' = apply(plan).
    const ChannelPlan plan = qllm_plan(x, o);
    const EncodedTensor be = bf->encode(qllm_apply_x(x, plan));
    EXPECT_EQ(e.elements, be.elements);
    EXPECT_EQ(e.scales, be.scales);
    // The PE's operand is K' wide and equals the base decode of X' bit for bit ...
    const DecodedTensor d = f->decode_operand(e);
    ASSERT_EQ(d.cols, kp);
    const Tensor xq = bf->decode(be);
    Tensor view = Tensor::zeros({16, kp});
    for (int64_t r = 0; r < 16; ++r)
      for (int64_t c = 0; c < kp; ++c) {
        view.data[r * kp + c] = decoded_value(d, r, c);
        ASSERT_EQ(view.data[r * kp + c], xq.data[r * kp + c]) << r << "," << c;
      }
    // ... and decode() is its fold to the input's channels.
    EXPECT_EQ(f->decode(e).data, qllm_fold_x(view, plan).data);
    EXPECT_EQ(f->quantize(x).data, f->decode(e).data);
  }
}

// qllm's decode() and quantize() hand their base format an uninitialized K'-wide buffer (no
// zeroing pass over 64 MiB): every base qllm accepts must write every element of it.
TEST(QllmFormat, EveryBaseFillsTheWholeOutputBuffer) {
  const Tensor x = llm_like(5, 77, 12);
  for (const char* base : {"int8", "int4", "int6", "mxint8", "mxfp4", "mxfp8_e4m3", "olive4",
                           "olive8", "ant4", "ant8", "fp16", "bf16", "e4m3"}) {
    SCOPED_TRACE(base);
    EXPECT_NO_THROW(make_format(std::string("qllm:base=") + base));
    const auto f = make_format(base);
    std::vector<float> out(x.data.size(), std::nanf(""));
    f->decode(f->encode(x), out.data());
    for (float v : out) ASSERT_TRUE(std::isfinite(v));
    std::fill(out.begin(), out.end(), std::nanf(""));
    f->quantize(x.data.data(), x.rows(), x.cols(), out.data());
    for (float v : out) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(QllmFormat, OptionsAndErrors) {
  EXPECT_EQ(make_format("qllm")->name(), "qllm:assemble=false:base=int8:ratio=0.05");
  EXPECT_EQ(make_format("qllm")->traits().decoder, make_format("int8")->traits().decoder);
  EXPECT_EQ(make_format("qllm")->traits().family, "qllm");
  EXPECT_EQ(make_format("qllm")->traits().gemm_k(4096), 4300);
  EXPECT_EQ(make_format("qllm:assemble=true")->traits().gemm_k(4096), 4096);
  EXPECT_EQ(make_format("int8")->traits().gemm_k(4096), 4096);
  EXPECT_NE(error_of([] { make_format("qllm:ratio=0.5"); }).find("ratio"), std::string::npos);
  EXPECT_NE(error_of([] { make_format("qllm:base=gobo"); }).find("base"), std::string::npos);
  EXPECT_NE(error_of([] { make_format("qllm:keep=2"); }).find("keep= does not combine"),
            std::string::npos);
  const auto f = make_format("qllm");
  const Tensor x = llm_like(4, 64, 3);
  EncodedTensor e = f->encode(x);
  e.indices.resize(3);
  EXPECT_NE(error_of([&] { f->decode(e); }).find("channel plan"), std::string::npos);
  e = f->encode(x);
  e.indices.back() = 1000;  // a merged partner outside the channels
  EXPECT_NE(error_of([&] { f->decode(e); }).find("outside"), std::string::npos);
  std::vector<float> bad(64, 1.0f);
  bad[7] = INFINITY;
  EXPECT_NE(error_of([&] { f->encode(bad.data(), 1, 64); }).find("element 7"), std::string::npos);
}

}  // namespace
}  // namespace qarch::quant
