// Border decoders: the catalogue (kind and work unit per format family) and the functional
// step, which must hand the PEs exactly what quant's decoders define - for OliVe, what the OVP
// byte decoder (quant::olive4_decode_byte, the function the RTL decoder is checked against)
// gives for every byte.
#include <gtest/gtest.h>

#include "qarch/models/decoders.h"
#include "qarch/models/operand_format.h"
#include "qarch/quant/error.h"
#include "qarch/quant/olive.h"
#include "test_util.h"

namespace qarch::models {
namespace {

TEST(Decoders, KindPerFamily) {
  EXPECT_EQ(decoder_for_family("int8").kind, "int");
  EXPECT_EQ(decoder_for_family("olive4").kind, "ovp4");
  EXPECT_EQ(decoder_for_family("olive4").elements_per_op, 2);
  EXPECT_EQ(decoder_for_family("olive8").elements_per_op, 2);
  EXPECT_EQ(decoder_for_family("mxfp6_e3m2").kind, "mx");
  EXPECT_EQ(decoder_for_family("mxint8").kind, "mx");
  EXPECT_EQ(decoder_for_family("amxfp4").kind, "amxfp4");
  EXPECT_EQ(decoder_for_family("nvfp4").kind, "nvfp4");
  EXPECT_EQ(decoder_for_family("msfp12").kind, "bfp");
  EXPECT_EQ(decoder_for_family("mx9").kind, "bfp");
  EXPECT_EQ(decoder_for_family("gobo").kind, "gobo");
  EXPECT_EQ(decoder_for_family("olaccel").kind, "olaccel");
  EXPECT_EQ(decoder_for_family("fp16").kind, "fp");
  for (const DecoderInfo& d : list_decoders()) EXPECT_FALSE(d.description.empty()) << d.kind;
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
