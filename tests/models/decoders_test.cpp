// Border decoders: the catalogue (kind and work unit per format family) and the functional
// step, which must hand the PEs exactly what quant's decoders define - for OliVe, what the OVP
// byte decoder (quant::olive4_decode_byte, the function the RTL decoder is checked against)
// gives for every byte.
#include <gtest/gtest.h>

#include "qarch/common/error.h"
#include "qarch/models/decoders.h"
#include "qarch/models/operand_format.h"
#include "qarch/quant/olive.h"
#include "test_util.h"

namespace qarch::models {
namespace {

// The decoder kind and work unit come from each format's own traits (quant::FormatTraits):
// the same kinds the catalogue had per family, and every registered format names a known kind.
TEST(Decoders, KindPerFormatFromItsTraits) {
  EXPECT_EQ(operand_format("int8").decoder, "int");
  EXPECT_EQ(operand_format("olive4").decoder, "ovp4");
  EXPECT_EQ(operand_format("olive4").elements_per_decode_op, 2);
  EXPECT_EQ(operand_format("olive8").elements_per_decode_op, 2);
  EXPECT_EQ(operand_format("mxfp6_e3m2").decoder, "mx");
  EXPECT_EQ(operand_format("mxint8").decoder, "mx");
  EXPECT_EQ(operand_format("amxfp4").decoder, "amxfp4");
  EXPECT_EQ(operand_format("nvfp4").decoder, "nvfp4");
  EXPECT_EQ(operand_format("msfp12").decoder, "bfp");
  EXPECT_EQ(operand_format("mx9").decoder, "bfp");
  EXPECT_EQ(operand_format("gobo").decoder, "gobo");
  EXPECT_TRUE(operand_format("gobo").weight_only);
  EXPECT_EQ(operand_format("olaccel").decoder, "olaccel");
  EXPECT_DOUBLE_EQ(operand_format("olaccel:frac=0.05").outlier_fraction, 0.05);
  EXPECT_EQ(operand_format("fp16").decoder, "fp");
  EXPECT_EQ(operand_format("int4").int_bits(), 4);
  EXPECT_EQ(operand_format("olaccel").int_bits(), 0);
  for (const quant::FormatInfo& f : quant::list_formats()) {
    const OperandFormat& o = operand_format(f.name);
    EXPECT_NO_THROW(decoder_kind(o.decoder, f.name)) << f.name;
    EXPECT_GT(o.code_bits, 0) << f.name;
  }
  EXPECT_THROW(decoder_kind("ovp3", "olive3"), Error);
  for (const DecoderInfo& d : list_decoders()) EXPECT_FALSE(d.description.empty()) << d.kind;
}

// OliVe's options: ties=up keeps the OVP code space (the ovp4 / ovp8 decoders); the unsigned
// and flint grids are another code space, which models/ has no decoder for: it refuses them by
// name instead of pricing them as ovp4.
TEST(Decoders, OliveVariantsOutsideTheOvpCodeSpaceAreRefused) {
  EXPECT_EQ(operand_format("olive4:ties=up").decoder, "ovp4");
  EXPECT_EQ(operand_format("olive8:ties=up:victim=even").decoder, "ovp8");
  for (const char* spec : {"olive4:sign=unsigned", "olive4:sign=auto", "olive8:sign=unsigned",
                           "olive4:types=flint", "olive4:types=int+flint"}) {
    try {
      operand_format(spec);
      ADD_FAILURE() << spec << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("which models/ does not have"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("names decoder kind 'ovp"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Decoders, Olive4OperandIsTheByteDecoderOutput) {
  const int64_t rows = 7, cols = 33;  // odd: the last byte holds one element and a zero partner
  const auto e = test::encoded("olive4:per=row", rows, cols, 3);
  const auto d = border_decode(*e, e->format, rows, cols, "x");
  const int64_t row_bytes = (cols + 1) / 2;
  int outliers = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < row_bytes; ++b) {
      const auto pair =
          quant::olive4_decode_byte(e->elements[static_cast<size_t>(r * row_bytes + b)]);
      for (int h = 0; h < 2; ++h) {
        const int64_t c = 2 * b + h;
        if (c >= cols) continue;
        EXPECT_EQ(d->mant[r * cols + c], pair[h].mant) << r << "," << c;
        EXPECT_EQ(d->shift[r * cols + c], pair[h].shift) << r << "," << c;
        outliers += pair[h].shift > 0;
      }
    }
  }
  EXPECT_GT(outliers, 0);  // the data exercises the abfloat path
}

TEST(Decoders, RejectsMismatchedOperands) {
  const auto e = test::encoded("int8", 4, 8, 1);
  EXPECT_THROW(border_decode(*e, operand_format("int4").spec, 4, 8, "x"), qarch::Error);
  EXPECT_THROW(border_decode(*e, e->format, 4, 9, "x"), qarch::Error);
  EXPECT_NO_THROW(border_decode(*e, operand_format("int8").spec, 4, 8, "x"));
}

TEST(OperandFormats, StorageMatchesQuantEncodings) {
  // The fitted storage model reproduces the encoder's storage for shapes it was not fitted on.
  for (const char* spec : {"int8", "int4:per=row", "olive4", "olive8:per=row", "bfp12", "mx6",
                           "int8:per=group:group=64"}) {
    const OperandFormat& f = operand_format(spec);
    for (auto [r, c] : {std::pair<int64_t, int64_t>{3, 192}, {40, 512}, {64, 4096}}) {
      const auto e = test::encoded(spec, r, c, 9);
      EXPECT_EQ(static_cast<uint64_t>(f.storage_bytes(r, c)), (e->storage_bits() + 7) / 8)
          << spec << " " << r << "x" << c;
    }
  }
  EXPECT_EQ(operand_format("bfp12").group_cols, 16);
  EXPECT_EQ(operand_format("int8").group_cols, 0);
  EXPECT_EQ(segment_count(50, 16, 24), 5);  // starts 0, 16, 24, 32, 48
  EXPECT_EQ(segment_count(50, 0, 0), 1);
  EXPECT_EQ(segment_count(0, 16, 16), 0);
}

}  // namespace
}  // namespace qarch::models
