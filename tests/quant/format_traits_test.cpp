// Every registered format states the traits the rest of qarch needs (FormatTraits), and they
// agree with what the format does: its decoded view's scale groups and sign split, its element
// code width. A format added without traits, or with traits that contradict its codec, fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "qarch/quant/format.h"

namespace qarch::quant {
namespace {

// Every format at its defaults, and the variants that change a trait.
std::vector<std::string> specs() {
  std::vector<std::string> v;
  for (const FormatInfo& f : list_formats()) v.push_back(f.name);
  for (const char* s : {"int8:group=32",
                        "int4:per=row",
                        "int8:group=16:group_axis=rows",
                        "int8:per=col",
                        "mxfp4:block=16",
                        "nvfp4:block=8",
                        "amxfp4:block=16",
                        "bfp:block=8:p=6",
                        "olive8:outlier=e2m5",
                        "olive4:per=row",
                        "olaccel:frac=0.05",
                        "gobo:bits=4",
                        "ant4:per=row",
                        "ant8:types=int",
                        "adaptivfloat6:per=row",
                        "squeezellm3",
                        "squeezellm:bits=2:sparse=0.01",
                        "gear:rank=0",
                        "rotatekv:group=16",
                        "rotatekv:per=channel",
                        "ksort_bfp:block=16:p=8",
                        "ksort:base=mxint8",
                        "olive4:ties=up",
                        "olive8:ties=up",
                        "olive4:sign=unsigned",
                        "olive4:types=int+flint",
                        "olive8:per=row:sign=auto"})
    v.push_back(s);
  return v;
}

std::vector<float> sample(int64_t rows, int64_t cols) {
  std::mt19937 gen(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (auto& v : x) v = nd(gen);
  x[5] = 40.0f;  // one outlier
  return x;
}

TEST(FormatTraits, EveryFormatStatesItsTraitsAndTheyMatchItsCodec) {
  const std::set<std::string> decoders = {"int",    "ovp4",         "ovp8", "mx",      "nvfp4",
                                          "amxfp4", "bfp",          "gobo", "olaccel", "fp",
                                          "ant",    "adaptivfloat", "lut",  "gear",    "rotatekv"};
  const int64_t rows = 16, cols = 1024;
  const std::vector<float> x = sample(rows, cols);
  for (const std::string& spec : specs()) {
    SCOPED_TRACE(spec);
    std::unique_ptr<Format> f;
    try {
      f = make_format(spec);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    const FormatTraits t = f->traits();
    EXPECT_EQ(t.family, FormatSpec::parse(f->name()).name);
    // OliVe's options outside the OVP code space (sign, types) name their own decoder kind,
    // which models/ refuses (tests/models/decoders_test.cpp); every other format a known one.
    const std::string fname = FormatSpec::parse(f->name()).name;
    const auto& opts = FormatSpec::parse(f->name()).options;
    const bool ovp_variant =
        (fname == "olive4" || fname == "olive8") && (opts.count("sign") || opts.count("types"));
    if (ovp_variant) {
      EXPECT_EQ(t.decoder.rfind(fname == "olive4" ? "ovp4-" : "ovp8-", 0), 0u) << t.decoder;
      EXPECT_EQ(decoders.count(t.decoder), 0u) << t.decoder;
    } else {
      EXPECT_EQ(decoders.count(t.decoder), 1u) << t.decoder;
    }
    EXPECT_FALSE(t.element.empty());
    EXPECT_GT(t.element_bits, 0);
    EXPECT_GE(t.elements_per_decode_op, 1);
    EXPECT_GE(t.outlier_fraction, 0.0);
    EXPECT_LT(t.outlier_fraction, 1.0);
    const EncodedTensor e = f->encode(x.data(), rows, cols);
    const DecodedTensor d = f->decode_operand(e);
    // Scale segments along K as the PE sees them.
    const int64_t seg = d.group_cols >= cols ? 0 : d.group_cols;
    EXPECT_EQ(t.group_cols, seg);
    EXPECT_EQ(t.sign_split, d.sign_split);
    // Element codes: the packed element bytes hold element_bits per element (pairs and row
    // alignment round up).
    const double stored = static_cast<double>(e.elements.size()) * 8.0 / double(rows * cols);
    EXPECT_GE(stored + 1e-9, static_cast<double>(t.element_bits)) << stored;
    EXPECT_LE(stored, static_cast<double>(t.element_bits) + 1.0) << stored;
  }
}

// The calibration hook: OliVe fixes its searched per-tensor scale from a sample, and encoding
// with the calibrated format equals encoding with that scale given; formats with nothing to
// calibrate say so.
TEST(FormatTraits, CalibrationHook) {
  const std::vector<float> x = sample(16, 256);
  const auto olive = make_format("olive4");
  const auto cal = olive->calibrated(x.data(), 16, 256);
  ASSERT_NE(cal, nullptr);
  EXPECT_NE(cal->name().find("scale="), std::string::npos) << cal->name();
  EXPECT_EQ(cal->encode(x.data(), 16, 256).elements, olive->encode(x.data(), 16, 256).elements);
  EXPECT_EQ(make_format("olive4:per=row")->calibrated(x.data(), 16, 256), nullptr);
  EXPECT_EQ(cal->calibrated(x.data(), 16, 256), nullptr);  // already fixed
  EXPECT_EQ(make_format("int8")->calibrated(x.data(), 16, 256), nullptr);
}

}  // namespace
}  // namespace qarch::quant

namespace qarch::quant {
namespace {

bool same_bits(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)) == 0;
}

// FormatTraits::encode_scope is what an online quantizer relies on (models/online_quantizer.h):
// a format encodes each unit of its scope (a scale segment, or a row) alone exactly as it
// encodes it inside the whole tensor; a tensor-scope format either offers a calibrated copy that
// does so per segment, or needs a pass over the whole tensor. Checked on a tensor with an
// outlier, with whole and ragged last segments.
TEST(FormatTraits, SegmentLocalFormatsEncodeSegmentBySegment) {
  int local = 0, by_row = 0, calibrated = 0, whole_pass = 0;
  for (const int64_t cols : {int64_t{1024}, int64_t{1000}}) {
    const int64_t rows = 6;
    const std::vector<float> x = sample(rows, cols);
    for (const std::string& spec : specs()) {
      SCOPED_TRACE(spec + " cols " + std::to_string(cols));
      const auto f = make_format(spec);
      const FormatTraits t = f->traits();
      std::vector<float> whole(x.size());
      f->decode(f->encode(x.data(), rows, cols), whole.data());
      const Format* by_segment = f.get();
      std::unique_ptr<Format> cal;
      if (t.encode_scope == EncodeScope::kTensor) {
        cal = f->calibrated(x.data(), rows, cols);
        if (!cal) {
          ++whole_pass;
          continue;
        }
        EXPECT_NE(cal->traits().encode_scope, EncodeScope::kTensor) << cal->name();
        by_segment = cal.get();
        ++calibrated;
      } else {
        local += t.encode_scope == EncodeScope::kSegment;
        by_row += t.encode_scope == EncodeScope::kRow;
      }
      const FormatTraits bt = by_segment->traits();
      const int64_t seg =
          bt.encode_scope == EncodeScope::kSegment && bt.group_cols > 0 ? bt.group_cols : cols;
      std::vector<float> part(static_cast<size_t>(seg));
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c0 = 0; c0 < cols; c0 += seg) {
          const int64_t n = std::min(seg, cols - c0);
          const float* src = x.data() + r * cols + c0;
          by_segment->decode(by_segment->encode(src, 1, n), part.data());
          ASSERT_TRUE(same_bits(part.data(), whole.data() + r * cols + c0, n))
              << "row " << r << " cols [" << c0 << ", " << c0 + n << ")";
        }
      }
    }
  }
  // The property was exercised on each kind.
  EXPECT_GT(local, 10);
  EXPECT_GT(calibrated, 2);
  EXPECT_GT(whole_pass, 4);
  EXPECT_GT(by_row, 0);
}

}  // namespace
}  // namespace qarch::quant
