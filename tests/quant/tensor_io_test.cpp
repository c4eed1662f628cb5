// Tensor file I/O: .npy and .safetensors readers/writers and the atomic file writer.
//
// Outside references: tests/quant/data/np_*.npy were written by NumPy 1.24 itself
// (make_npy_data.py documents how); the reader must return their exact values and the
// writer must reproduce NumPy's bytes. .safetensors files are built byte by byte here from
// the format description (github.com/huggingface/safetensors README), with element bytes
// derived by hand in the comments. Malformed inputs must give a qarch::Error whose message
// names the source, the field and the problem.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/quant/fp_element.h"
#include "qarch/quant/tensor_io.h"

namespace qarch::quant {
namespace {

using Bytes = std::vector<uint8_t>;

std::string data_path(const std::string& name) {
  return std::string(QARCH_TEST_DATA_DIR) + "/" + name;
}

Bytes read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

void append(Bytes& out, const std::string& s) {
  out.insert(out.end(), s.begin(), s.end());
}

void append_le(Bytes& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void append_be(Bytes& out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes f32_le(const std::vector<float>& v) {
  Bytes b;
  for (float f : v) append_le(b, bits_of(f), 4);
  return b;
}

// An .npy file built by hand: magic, version, header length (u16 for 1.x, u32 otherwise),
// the header text exactly as given (no padding added), then the data.
Bytes npy_raw(int major, const std::string& header, const Bytes& data) {
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  append_le(b, header.size(), major == 1 ? 2 : 4);
  append(b, header);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes npy_dict(const std::string& descr, const std::string& shape, const Bytes& data,
               bool fortran = false, int major = 1) {
  return npy_raw(major,
                 "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }\n",
                 data);
}

// A .safetensors file built by hand: u64 LE header length, header text, data buffer.
Bytes st_raw(const std::string& header, const Bytes& data) {
  Bytes b;
  append_le(b, header.size(), 8);
  append(b, header);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// The message of the qarch::Error that f throws ("" and a test failure if it does not
// throw one; any other exception type fails the test as well).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected qarch::Error, nothing was thrown";
  return "";
}

#define EXPECT_ERROR_HAS(stmt, ...)                                              \
  do {                                                                           \
    const std::string msg_ = error_of([&] { (void)(stmt); });                    \
    for (const char* part_ : {__VA_ARGS__})                                      \
      EXPECT_NE(msg_.find(part_), std::string::npos)                             \
          << "message: \"" << msg_ << "\"\nshould contain: \"" << part_ << "\""; \
  } while (0)

Tensor npy_mem(const Bytes& b, const NpyReadOptions& o = {}) {
  return read_npy_buffer(b.data(), b.size(), o, "t.npy");
}

SafetensorsContents st_mem(const Bytes& b, const SafetensorsReadOptions& o = {}) {
  return read_safetensors_buffer(b.data(), b.size(), o, "t.safetensors");
}

void expect_values(const Tensor& t, const std::vector<int64_t>& shape,
                   const std::vector<float>& values) {
  EXPECT_EQ(t.shape, shape);
  ASSERT_EQ(t.data.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(bits_of(t.data[i]), bits_of(values[i]))
        << "element " << i << ": " << t.data[i] << " vs " << values[i];
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         (a.data.empty() || std::memcmp(a.data.data(), b.data.data(), a.data.size() * 4) == 0);
}

// Random float bit patterns: normals, subnormals, +-0, Inf and NaNs with payloads.
std::vector<float> random_bits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = from_bits(static_cast<uint32_t>(rng()));
  if (n > 4) {
    v[0] = from_bits(0x7fc12345u);  // NaN with a payload
    v[1] = -0.0f;
    v[2] = std::numeric_limits<float>::infinity();
    v[3] = from_bits(0x00000001u);  // smallest subnormal
  }
  return v;
}

// A fresh directory for file tests, removed (with its files) afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "qarch_io_XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    for (const auto& f : files()) ::unlink((path_ + "/" + f).c_str());
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
      }
      ::closedir(d);
    }
    return out;
  }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------
// .npy: files written by NumPy itself

TEST(NpyNumpyFiles, Float32CReadsExactlyAndWriterReproducesNumpyBytes) {
  struct Case {
    const char* file;
    std::vector<int64_t> shape;
    std::vector<float> values;
  };
  const Case cases[] = {
      {"np_f4_2x3.npy", {2, 3}, {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}},
      {"np_f4_5.npy", {5}, {0.25f, 0.5f, 0.75f, 1.0f, 1.25f}},
      {"np_f4_scalar.npy", {}, {3.5f}},
      {"np_f4_0x4.npy", {0, 4}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const Tensor t = read_npy(data_path(c.file));
    expect_values(t, c.shape, c.values);
    // numpy.save() of the same float32 array: identical bytes, header included.
    EXPECT_EQ(encode_npy(t), read_bytes(data_path(c.file)));
  }
}

TEST(NpyNumpyFiles, NonFiniteValuesAreDataAndCounted) {
  const Tensor t = read_npy(data_path("np_f4_special.npy"));
  ASSERT_EQ(t.shape, std::vector<int64_t>{6});
  // NumPy's nan is the default quiet NaN 0x7fc00000.
  EXPECT_EQ(bits_of(t.data[0]), 0x7fc00000u);
  EXPECT_EQ(bits_of(t.data[1]), 0x7f800000u);
  EXPECT_EQ(bits_of(t.data[2]), 0xff800000u);
  EXPECT_EQ(bits_of(t.data[3]), 0x80000000u);
  EXPECT_EQ(bits_of(t.data[4]), 0x00000001u);
  EXPECT_EQ(bits_of(t.data[5]), 0x7f7fffffu);
  const NonFiniteCount c = count_nonfinite(t);
  EXPECT_EQ(c.nan, 1);
  EXPECT_EQ(c.pos_inf, 1);
  EXPECT_EQ(c.neg_inf, 1);
  EXPECT_EQ(c.total(), 3);
  EXPECT_EQ(c.first, 0);
  EXPECT_EQ(encode_npy(t), read_bytes(data_path("np_f4_special.npy")));
}

TEST(NpyNumpyFiles, FortranOrderIsTransposedToRowMajor) {
  // [i, j] = (4 i + j) / 8 - 0.75, stored column-major as float16.
  const Tensor a = read_npy(data_path("np_f2_fortran_3x4.npy"));
  std::vector<float> want;
  for (int i = 0; i < 12; ++i) want.push_back(static_cast<float>(i) / 8 - 0.75f);
  expect_values(a, {3, 4}, want);
  // [i, j, k] = 12 i + 4 j + k, stored column-major.
  const Tensor b = read_npy(data_path("np_f4_fortran_2x3x4.npy"));
  want.clear();
  for (int i = 0; i < 24; ++i) want.push_back(static_cast<float>(i));
  expect_values(b, {2, 3, 4}, want);
}

TEST(NpyNumpyFiles, BigEndianAndFloat64AreConverted) {
  expect_values(read_npy(data_path("np_be_f4_3.npy")), {3}, {1.0f, -2.0f, 0.15625f});
  // 65504 = largest float16, 2^-24 = smallest float16 subnormal.
  expect_values(read_npy(data_path("np_be_f2_4.npy")), {4},
                {1.0f, -0.5f, 65504.0f, std::ldexp(1.0f, -24)});
  // float64 -> float32 rounds to nearest even; 1e300 is beyond FP32 and becomes +Inf.
  expect_values(read_npy(data_path("np_be_f8_2x2.npy")), {2, 2},
                {1.5f, -2.25f, static_cast<float>(0.1), std::numeric_limits<float>::infinity()});
  // -1e-300 underflows to -0.
  expect_values(read_npy(data_path("np_f8_3.npy")), {3}, {1.5f, static_cast<float>(0.1), -0.0f});
}

TEST(NpyNumpyFiles, Versions2And3) {
  const Bytes v2 = read_bytes(data_path("np_v2_2x3.npy"));
  const Bytes v3 = read_bytes(data_path("np_v3_2x3.npy"));
  ASSERT_GT(v2.size(), 8u);
  EXPECT_EQ(v2[6], 2);  // really version 2.0 and 3.0 files
  EXPECT_EQ(v3[6], 3);
  const std::vector<float> want = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  expect_values(read_npy(data_path("np_v2_2x3.npy")), {2, 3}, want);
  expect_values(read_npy(data_path("np_v3_2x3.npy")), {2, 3}, want);
}

TEST(NpyNumpyFiles, Int16IsBf16OnlyWhenAsked) {
  // Bit patterns 0x3F80 = 1.0, 0xC000 = -2.0, 0x3F00 = 0.5, 0x4049 = 2 * (1 + 73/128).
  const std::vector<float> want = {1.0f, -2.0f, 0.5f, 3.140625f};
  EXPECT_ERROR_HAS(read_npy(data_path("np_i2_bf16_2x2.npy")), "np_i2_bf16_2x2.npy", "'descr'",
                   "'<i2'", "16-bit integer", "int16_as_bf16");
  EXPECT_ERROR_HAS(read_npy(data_path("np_u2_bf16_4.npy")), "'<u2'", "int16_as_bf16");
  NpyReadOptions o;
  o.int16_as_bf16 = true;
  expect_values(read_npy(data_path("np_i2_bf16_2x2.npy"), o), {2, 2}, want);
  expect_values(read_npy(data_path("np_u2_bf16_4.npy"), o), {4}, want);
}

TEST(NpyNumpyFiles, UnsupportedDtypesAreRefusedClearly) {
  EXPECT_ERROR_HAS(read_npy(data_path("np_i4_3.npy")), "np_i4_3.npy", "'descr'", "'<i4'",
                   "not supported", "'<f4'");
  EXPECT_ERROR_HAS(read_npy(data_path("np_structured.npy")), "'descr'", "structured");
}

// ---------------------------------------------------------------------------------------
// .npy: hand-built files

TEST(NpyHandBuilt, Float16KnownBytes) {
  // IEEE binary16 codes, value = 2^(e-15) * (1 + m/1024), subnormal 2^-14 * m/1024:
  // 0x3C00 = 1; 0xC000 = -2; 0x7BFF = 2^15 * (1 + 1023/1024) = 65504; 0x0001 = 2^-24;
  // 0x0200 = 2^-14 * 512/1024 = 2^-15; 0x3555 = 2^-2 * (1 + 341/1024) = 0.333251953125;
  // 0x8000 = -0; 0x7C00 = +Inf; 0xFC00 = -Inf.
  Bytes d;
  for (uint16_t c : {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0200, 0x3555, 0x8000, 0x7C00, 0xFC00})
    append_le(d, c, 2);
  const float inf = std::numeric_limits<float>::infinity();
  expect_values(npy_mem(npy_dict("<f2", "(9,)", d)), {9},
                {1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24), std::ldexp(1.0f, -15),
                 0.333251953125f, -0.0f, inf, -inf});
}

TEST(NpyHandBuilt, Float16EveryCodeAgreesWithTheElementCodec) {
  // All 65536 codes, little- and big-endian: finite codes and infinities decode exactly as
  // fp_decode(kFP16) (the project's one FP16 truth); NaNs keep sign and payload.
  Bytes le, be;
  for (uint32_t c = 0; c < 65536; ++c) {
    append_le(le, c, 2);
    append_be(be, c, 2);
  }
  const Tensor a = npy_mem(npy_dict("<f2", "(65536,)", le));
  const Tensor b = npy_mem(npy_dict(">f2", "(65536,)", be));
  for (uint32_t c = 0; c < 65536; ++c) {
    const float ref = fp_decode(kFP16, c);
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(a.data[c])) << c;
      ASSERT_EQ(bits_of(a.data[c]), ((c & 0x8000u) << 16) | 0x7f800000u | ((c & 0x3ffu) << 13))
          << c;
    } else {
      ASSERT_EQ(bits_of(a.data[c]), bits_of(ref)) << "code " << c;
    }
    ASSERT_EQ(bits_of(b.data[c]), bits_of(a.data[c])) << "big-endian code " << c;
  }
}

TEST(NpyHandBuilt, BigEndianFloat32AndFloat64KnownBytes) {
  Bytes d;
  append_be(d, 0x3FC00000u, 4);  // 1.5
  append_be(d, 0xC0490FDBu, 4);  // -3.14159274 (float pi, negated)
  append_be(d, 0x7FC00001u, 4);  // NaN payload 1: kept
  expect_values(npy_mem(npy_dict(">f4", "(3,)", d)), {3},
                {1.5f, from_bits(0xC0490FDBu), from_bits(0x7FC00001u)});
  Bytes e;
  append_be(e, 0x3FF8000000000000ull, 8);  // 1.5
  append_be(e, 0x36A0000000000000ull, 8);  // 2^-149 exactly: smallest FP32 subnormal
  append_be(e, 0x3690000000000000ull, 8);  // 2^-150: tie between 0 and 2^-149 -> even (0)
  append_be(e, 0x47EFFFFFF0000000ull, 8);  // 0x1.fffffffp127 (28 fraction ones)
  const Tensor t = npy_mem(npy_dict(">f8", "(2, 2)", e));
  EXPECT_EQ(bits_of(t.data[0]), bits_of(1.5f));
  EXPECT_EQ(bits_of(t.data[1]), 0x00000001u);
  EXPECT_EQ(bits_of(t.data[2]), 0x00000000u);
  // 0x1.fffffff p127 lies above the midpoint 0x1.ffffff8p127 between FP32 max and 2^128,
  // so round-to-nearest gives 2^128 = +Inf.
  EXPECT_EQ(bits_of(t.data[3]), 0x7f800000u);
}

TEST(NpyHandBuilt, HeaderSyntaxVariantsParse) {
  const Bytes d = f32_le({1, 2, 3, 4, 5, 6});
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  // Any key order, double quotes, no trailing comma, odd spacing, tabs, newlines.
  expect_values(
      npy_mem(npy_raw(1, "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}", d)), {2, 3},
      v);
  expect_values(npy_mem(npy_raw(1,
                                "  {\t'descr' :'<f4' ,\n 'fortran_order':False , "
                                "'shape' : ( 2 , 3 , ) , }   \n",
                                d)),
                {2, 3}, v);
  // Python 2 long suffix (old NumPy files) and an explicit '+'.
  expect_values(npy_mem(npy_dict("<f4", "(2L, +3L)", d)), {2, 3}, v);
  // 0-d and 1-d shapes; a list is accepted nowhere, a 1-tuple needs its comma.
  expect_values(npy_mem(npy_dict("<f4", "()", f32_le({7}))), {}, {7});
  expect_values(npy_mem(npy_dict("<f4", "(6,)", d)), {6}, v);
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(6)", d)), "t.npy", "'shape'", "an integer",
                   "expected a tuple");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "[6]", d)), "'shape'", "a list");
  // Fortran order, rank 2 built by hand: column-major 2x3 [[1,2,3],[4,5,6]] is 1,4,2,5,3,6.
  expect_values(npy_mem(npy_dict("<f4", "(2, 3)", f32_le({1, 4, 2, 5, 3, 6}), true)), {2, 3}, v);
  // The same header in versions 3.0 and 2.0 (u32 length).
  expect_values(npy_mem(npy_dict("<f4", "(2, 3)", d, false, 3)), {2, 3}, v);
  expect_values(npy_mem(npy_dict("<f4", "(2, 3)", d, false, 2)), {2, 3}, v);
}

TEST(NpyHandBuilt, EmptyAndZeroSizedShapes) {
  expect_values(npy_mem(npy_dict("<f4", "(0,)", {})), {0}, {});
  expect_values(npy_mem(npy_dict("<f2", "(3, 0, 2)", {}, true)), {3, 0, 2}, {});
}

TEST(NpyMalformed, TruncatedOrExtraData) {
  Bytes good = npy_dict("<f4", "(2, 3)", f32_le({1, 2, 3, 4, 5, 6}));
  Bytes cut(good.begin(), good.end() - 1);
  EXPECT_ERROR_HAS(npy_mem(cut), "t.npy", "holds 23 bytes", "'<f4' shape (2, 3) needs 24",
                   "truncated");
  Bytes extra = good;
  extra.push_back(0);
  EXPECT_ERROR_HAS(npy_mem(extra), "t.npy", "1 bytes after the data");
}

TEST(NpyMalformed, TruncatedHeaderAndBadPreamble) {
  const Bytes good = npy_dict("<f4", "(2,)", f32_le({1, 2}));
  const Bytes cut(good.begin(), good.begin() + 30);  // inside the header text
  EXPECT_ERROR_HAS(npy_mem(cut), "t.npy", "header length", "runs past the end of the file");
  EXPECT_ERROR_HAS(npy_mem(Bytes(good.begin(), good.begin() + 9)), "t.npy", "9 bytes", "too short");
  EXPECT_ERROR_HAS(npy_mem(Bytes{}), "0 bytes", "too short");
  Bytes bad_magic = good;
  bad_magic[1] = 'X';
  EXPECT_ERROR_HAS(npy_mem(bad_magic), "not a .npy file");
  Bytes v4 = good;
  v4[6] = 4;
  EXPECT_ERROR_HAS(npy_mem(v4), "unsupported .npy format version 4.0");
  Bytes v21 = good;
  v21[7] = 1;
  EXPECT_ERROR_HAS(npy_mem(v21), "version 1.1");
  // Header length far past the end (v2: u32 length 0xFFFFFF00).
  Bytes huge = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};
  append_le(huge, 0xFFFFFF00u, 4);
  EXPECT_ERROR_HAS(npy_mem(huge), "header length 4294967040", "larger than the limit");
  Bytes past = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  append_le(past, 1000, 2);
  append(past, "{'descr'");
  EXPECT_ERROR_HAS(npy_mem(past), "header length 1000", "runs past the end of the file (18 bytes)");
  // A 2.0 file too short for its 4-byte length.
  EXPECT_ERROR_HAS(npy_mem(Bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0}), "too short",
                   "2.0 header");
}

TEST(NpyMalformed, HugeNegativeAndGarbageShapes) {
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(4611686018427387904, 4)", {})), "t.npy", "'shape'",
                   "(4611686018427387904, 4)", "larger than");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(1099511627776, 1099511627776)", {})), "'shape'",
                   "too large");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(99999999999999999999999, 1)", {})), "'shape' entry 0",
                   "does not fit in 64 bits");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(-9223372036854775808, 1)", {})), "'shape' entry 0",
                   "negative");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(2, -3)", {})), "'shape' entry 1", "negative (-3)");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "('a', 3)", {})), "'shape' entry 0", "a string");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(2.5, 3)", {})), "only integer");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "None", {})), "'shape' is None");
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "((2,), 3)", {})), "'shape' entry 0", "a tuple");
  // Deep nesting must not exhaust the stack.
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", std::string(10000, '(') + std::string(10000, ')'), {})),
                   "nesting deeper than");
}

TEST(NpyMalformed, BadDtypeAndKeys) {
  const Bytes d = f32_le({1});
  for (const char* descr : {"<f3", "|u1", "float32", "=f4", "<c8", "", "<f4 "})
    EXPECT_ERROR_HAS(npy_mem(npy_dict(descr, "(1,)", d)), "'descr'", "not supported");
  EXPECT_ERROR_HAS(npy_mem(npy_raw(1, "{'descr': 5, 'fortran_order': False, 'shape': (1,)}", d)),
                   "'descr' is an integer");
  EXPECT_ERROR_HAS(npy_mem(npy_raw(1, "{'descr': '<f4', 'shape': (1,)}", d)),
                   "no 'fortran_order' key");
  EXPECT_ERROR_HAS(
      npy_mem(npy_raw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", d)),
      "unexpected key 'x'");
  EXPECT_ERROR_HAS(
      npy_mem(
          npy_raw(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", d)),
      "duplicate key 'descr'");
  EXPECT_ERROR_HAS(npy_mem(npy_raw(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", d)),
                   "'fortran_order' is an integer", "True or False");
}

TEST(NpyMalformed, HeaderSyntaxErrors) {
  const Bytes d = f32_le({1});
  const char* bad[] = {
      "",                                                              // empty
      "[1, 2]",                                                        // not a dict
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",        // unclosed dict
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,}",        // unclosed tuple
      "{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}",        // broken quote
      "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",        // missing comma
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",  // trailing text
      "{'descr': '<\\x66', 'fortran_order': False, 'shape': (1,)}",    // escape
      "{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}",       // JSON, not Python
      "{descr: '<f4', 'fortran_order': False, 'shape': (1,)}",         // bare key
  };
  for (const char* h : bad) {
    SCOPED_TRACE(h);
    EXPECT_ERROR_HAS(npy_mem(npy_raw(1, h, d)), "t.npy", "malformed .npy header at byte");
  }
  // 3.0 headers must be UTF-8.
  EXPECT_ERROR_HAS(
      npy_mem(npy_raw(3, "{'descr': '\xff<f4', 'fortran_order': False, 'shape': (1,)}", d)),
      "not valid UTF-8");
}

TEST(NpyLimits, MaxElementsOption) {
  NpyReadOptions o;
  o.max_elements = 5;
  EXPECT_ERROR_HAS(npy_mem(npy_dict("<f4", "(2, 3)", f32_le({1, 2, 3, 4, 5, 6})), o),
                   "has 6 elements", "limit of 5", "max_elements");
  o.max_elements = 6;
  EXPECT_EQ(npy_mem(npy_dict("<f4", "(2, 3)", f32_le({1, 2, 3, 4, 5, 6})), o).numel(), 6);
}

TEST(NpyWrite, RoundTripIsBitIdenticalAndAligned) {
  TempDir dir;
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{}, {1}, {7}, {3, 5}, {2, 3, 4}, {0, 9}, {1000000}, {12345678901, 0}}) {
    SCOPED_TRACE(::testing::PrintToString(shape));
    const int64_t n = checked_numel(shape, "test");
    const Tensor t(shape, random_bits(static_cast<size_t>(n), static_cast<uint32_t>(n)));
    const Bytes mem = encode_npy(t);
    const uint16_t hlen = static_cast<uint16_t>(mem[8] | (mem[9] << 8));
    EXPECT_EQ(mem[6], 1);                 // version 1.0
    EXPECT_EQ((10 + hlen) % 64, 0);       // data aligned to 64
    EXPECT_EQ(mem[10 + hlen - 1], '\n');  // header ends with a newline
    EXPECT_EQ(mem.size(), 10 + hlen + 4 * static_cast<size_t>(n));
    EXPECT_TRUE(bit_identical(npy_mem(mem), t));
    write_npy(dir.file("t.npy"), t);
    EXPECT_EQ(read_bytes(dir.file("t.npy")), mem);
    EXPECT_TRUE(bit_identical(read_npy(dir.file("t.npy")), t));
  }
  EXPECT_EQ(dir.files(), std::vector<std::string>{"t.npy"});  // no temporary files left
}

TEST(NpyWrite, LongHeaderSwitchesToVersion2) {
  // 22000 axes of extent 1 give a ~66 KB header: too long for the u16 length of 1.0.
  const Tensor t(std::vector<int64_t>(22000, 1), {42.0f});
  const Bytes b = encode_npy(t);
  EXPECT_EQ(b[6], 2);
  const uint32_t hlen = b[8] | (b[9] << 8) | (b[10] << 16) | (static_cast<uint32_t>(b[11]) << 24);
  EXPECT_GT(hlen, 65535u);
  EXPECT_EQ((12 + hlen) % 64, 0u);
  EXPECT_TRUE(bit_identical(npy_mem(b), t));
}

TEST(NpyWrite, InconsistentTensorIsRefusedAndNothingIsWritten) {
  TempDir dir;
  Tensor bad;
  bad.shape = {2, 2};
  bad.data = {1, 2, 3};
  EXPECT_ERROR_HAS(write_npy(dir.file("bad.npy"), bad), "bad.npy", "needs 4 elements", "holds 3");
  EXPECT_ERROR_HAS(encode_npy(bad), "needs 4 elements");
  EXPECT_TRUE(dir.files().empty());
}

TEST(NpyFiles, MissingFileAndDirectory) {
  TempDir dir;
  EXPECT_ERROR_HAS(read_npy(dir.file("nope.npy")), "nope.npy", "cannot open",
                   "No such file or directory");
  EXPECT_ERROR_HAS(read_npy(dir.path()), "not a regular file");
}

// ---------------------------------------------------------------------------------------
// .safetensors

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
}

TEST(SafetensorsHandBuilt, EveryConvertibleDtypeKnownBytes) {
  Bytes d;
  // F32 [2]: 1.5 = 0x3FC00000, -0.0 = 0x80000000.                      bytes [0, 8)
  append_le(d, 0x3FC00000u, 4);
  append_le(d, 0x80000000u, 4);
  // F16 [2]: 0x3555 = 0.333251953125, 0xFC00 = -Inf.                   bytes [8, 12)
  append_le(d, 0x3555, 2);
  append_le(d, 0xFC00, 2);
  // BF16 [2, 1]: 0x4049 = 3.140625, 0x7FC1 = NaN with payload (kept: 0x7FC10000).
  append_le(d, 0x4049, 2);  //                                          bytes [12, 16)
  append_le(d, 0x7FC1, 2);
  // F64 []: 0.1 -> nearest float 0x3DCCCCCD.                           bytes [16, 24)
  append_le(d, 0x3FB999999999999Aull, 8);
  // F8_E4M3 [3] (OCP, bias 7): 0x7E = S.1111.110 = 448 (max), 0x01 = 2^-9 (min subnormal),
  // 0xB8 = -(2^(7-7)) * 1 = -1.                                        bytes [24, 27)
  d.push_back(0x7E);
  d.push_back(0x01);
  d.push_back(0xB8);
  // F8_E5M2 [2] (bias 15): 0x7B = 2^15 * 1.75 = 57344 (max), 0x7C = +Inf.  bytes [27, 29)
  d.push_back(0x7B);
  d.push_back(0x7C);
  const std::string h =
      "{" + entry("f32", "F32", "[2]", 0, 8) + "," + entry("f16", "F16", "[2]", 8, 12) + "," +
      entry("bf16", "BF16", "[2,1]", 12, 16) + "," + entry("f64", "F64", "[]", 16, 24) + "," +
      entry("e4m3", "F8_E4M3", "[3]", 24, 27) + "," + entry("e5m2", "F8_E5M2", "[2]", 27, 29) + "}";
  const SafetensorsContents c = st_mem(st_raw(h, d));
  ASSERT_EQ(c.tensors.size(), 6u);
  // Returned in byte-buffer order.
  EXPECT_EQ(c.tensors[0].name, "f32");
  EXPECT_EQ(c.tensors[5].name, "e5m2");
  const float inf = std::numeric_limits<float>::infinity();
  expect_values(*c.find("f32"), {2}, {1.5f, -0.0f});
  expect_values(*c.find("f16"), {2}, {0.333251953125f, -inf});
  expect_values(*c.find("bf16"), {2, 1}, {3.140625f, from_bits(0x7FC10000u)});
  expect_values(*c.find("f64"), {}, {from_bits(0x3DCCCCCDu)});
  expect_values(*c.find("e4m3"), {3}, {448.0f, std::ldexp(1.0f, -9), -1.0f});
  expect_values(*c.find("e5m2"), {2}, {57344.0f, inf});
  EXPECT_TRUE(c.metadata.empty());
}

TEST(SafetensorsHandBuilt, Bf16AndFp8EveryCodeAgreesWithTheElementCodec) {
  Bytes d;
  for (uint32_t c = 0; c < 65536; ++c) append_le(d, c, 2);
  for (uint32_t c = 0; c < 256; ++c) d.push_back(static_cast<uint8_t>(c));
  for (uint32_t c = 0; c < 256; ++c) d.push_back(static_cast<uint8_t>(c));
  const std::string h = "{" + entry("bf16", "BF16", "[65536]", 0, 131072) + "," +
                        entry("e4m3", "F8_E4M3", "[256]", 131072, 131328) + "," +
                        entry("e5m2", "F8_E5M2", "[16, 16]", 131328, 131584) + "}";
  const SafetensorsContents c = st_mem(st_raw(h, d));
  const Tensor& bf = *c.find("bf16");
  for (uint32_t code = 0; code < 65536; ++code) {
    ASSERT_EQ(bits_of(bf.data[code]), code << 16) << code;  // widening keeps every bit
    const float ref = fp_decode(kBF16, code);
    if (!std::isnan(ref)) {
      ASSERT_EQ(bits_of(bf.data[code]), bits_of(ref)) << code;
    }
  }
  for (const auto& [name, spec] : {std::pair{"e4m3", &kE4M3}, std::pair{"e5m2", &kE5M2}}) {
    const Tensor& t = *c.find(name);
    for (uint32_t code = 0; code < 256; ++code) {
      const float ref = fp_decode(*spec, code);
      if (std::isnan(ref)) {
        ASSERT_TRUE(std::isnan(t.data[code])) << name << " " << code;
      } else {
        ASSERT_EQ(bits_of(t.data[code]), bits_of(ref)) << name << " " << code;
      }
    }
  }
}

TEST(SafetensorsHandBuilt, MetadataEmptyTensorsScalarsPaddingAndLookup) {
  // Header padded with trailing spaces (what the reference writer does); an empty tensor
  // [0, 3] with no bytes; a scalar. Empty tensors may sit at any offset boundary.
  const std::string h = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\"}," +
                        entry("empty", "F32", "[0,3]", 0, 0) + "," + entry("s", "F32", "[]", 0, 4) +
                        "," + entry("z", "BF16", "[0]", 4, 4) + "}     ";
  const Bytes file = st_raw(h, f32_le({2.5f}));
  const SafetensorsContents c = st_mem(file);
  ASSERT_EQ(c.tensors.size(), 3u);
  expect_values(*c.find("empty"), {0, 3}, {});
  expect_values(*c.find("s"), {}, {2.5f});
  expect_values(*c.find("z"), {0}, {});
  EXPECT_EQ(c.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "x"}}));
  expect_values(read_safetensors_tensor_buffer(file.data(), file.size(), "s"), {}, {2.5f});
  EXPECT_ERROR_HAS(read_safetensors_tensor_buffer(file.data(), file.size(), "w", {}, "m.st"),
                   "m.st", "no tensor named 'w'", "'empty'", "'s'", "'z'");
  const SafetensorsIndex idx = read_safetensors_index_buffer(file.data(), file.size());
  ASSERT_EQ(idx.entries.size(), 3u);
  EXPECT_EQ(idx.data_start, 8 + h.size());
  EXPECT_EQ(idx.find("z")->dtype, "BF16");
  EXPECT_EQ(idx.find("missing"), nullptr);
  // "__metadata__": null is treated as no metadata.
  EXPECT_TRUE(st_mem(st_raw("{\"__metadata__\":null}", {})).tensors.empty());
}

TEST(SafetensorsHandBuilt, UnsupportedDtypesFailOrAreSkipped) {
  Bytes d = f32_le({1.0f});
  append_le(d, 7, 8);  // I64 [1]
  const std::string h =
      "{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("pos", "I64", "[1]", 4, 12) + "}";
  const Bytes file = st_raw(h, d);
  EXPECT_ERROR_HAS(st_mem(file), "t.safetensors", "tensor 'pos'", "dtype I64",
                   "cannot be read as FP32", "BF16");
  SafetensorsReadOptions o;
  o.skip_unsupported = true;
  const SafetensorsContents c = st_mem(file, o);
  ASSERT_EQ(c.tensors.size(), 1u);
  expect_values(c.tensors[0].tensor, {1}, {1.0f});
  // Still validated when skipped: a wrong I64 size is an error even with skipping.
  const std::string bad =
      "{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("pos", "I64", "[2]", 4, 12) + "}";
  EXPECT_ERROR_HAS(st_mem(st_raw(bad, d), o), "tensor 'pos'", "needs 16");
  // Sub-byte dtypes: F4 [3] is 1.5 bytes, not a whole number.
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("q", "F4", "[3]", 0, 2) + "}", {0, 0}), o),
                   "whole number of bytes");
  EXPECT_EQ(st_mem(st_raw("{" + entry("q", "F4", "[4]", 0, 2) + "}", {0, 0}), o).tensors.size(),
            0u);
}

TEST(SafetensorsMalformed, TheBriefsExampleMessageExactly) {
  const Bytes file = st_raw("{" + entry("w", "F32", "[2, 2]", 0, 12) + "}", Bytes(12, 0));
  EXPECT_EQ(
      error_of([&] { read_safetensors_buffer(file.data(), file.size(), {}, "model.safetensors"); }),
      "model.safetensors: tensor 'w': data_offsets [0, 12] hold 12 bytes but dtype F32 "
      "shape [2, 2] needs 16");
}

TEST(SafetensorsMalformed, FileAndHeaderLength) {
  EXPECT_ERROR_HAS(st_mem(Bytes{1, 2, 3}), "t.safetensors", "3 bytes", "too short");
  Bytes past;
  append_le(past, 100, 8);
  append(past, "{}");
  EXPECT_ERROR_HAS(st_mem(past), "header length 100", "runs past the end of the file (10 bytes)");
  Bytes huge;
  append_le(huge, 0xFFFFFFFFFFFFFFF0ull, 8);
  EXPECT_ERROR_HAS(st_mem(huge), "header length 18446744073709551600", "larger than the limit");
  Bytes big;
  append_le(big, 100000001, 8);
  EXPECT_ERROR_HAS(st_mem(big), "larger than the limit of 100000000");
  // A truncated header (declared length longer than what is there).
  const Bytes good = st_raw("{" + entry("w", "F32", "[1]", 0, 4) + "}", f32_le({1}));
  EXPECT_ERROR_HAS(st_mem(Bytes(good.begin(), good.begin() + 20)), "runs past the end");
  // Truncated data.
  EXPECT_ERROR_HAS(st_mem(Bytes(good.begin(), good.end() - 1)), "tensor 'w'",
                   "run past the end of the data buffer (3 bytes)");
}

TEST(SafetensorsMalformed, BadJsonAndWrongTypes) {
  const Bytes d4 = f32_le({1});
  EXPECT_ERROR_HAS(st_mem(st_raw("", {})), "does not start with '{'");
  EXPECT_ERROR_HAS(st_mem(st_raw("[1, 2]", {})), "does not start with '{'");
  EXPECT_ERROR_HAS(st_mem(st_raw(" {}", {})), "does not start with '{'");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"w\":", {})), "t.safetensors", "not valid JSON");
  EXPECT_ERROR_HAS(st_mem(st_raw("{}x", {})), "not valid JSON");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", d4)),
      "not valid JSON");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"\xff\":1}", {})), "not valid JSON");  // invalid UTF-8
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"w\":5}", {})), "tensor 'w'", "entry is a JSON number");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", d4)),
                   "tensor 'w'", "missing field 'dtype'");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", d4)),
                   "missing field 'shape'");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", d4)),
                   "missing field 'data_offsets'");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "F33", "[1]", 0, 4) + "}", d4)), "tensor 'w'",
                   "unknown dtype 'F33'");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", d4)),
      "field 'dtype' is a JSON number", "expected a string");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", d4)),
      "field 'shape' is a JSON string");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "F32", "[1,-1]", 0, 4) + "}", d4)),
                   "shape[1] is -1", "must not be negative");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "F32", "[1.0]", 0, 4) + "}", d4)),
                   "shape[0] is 1.0", "expected an integer");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "F32", "[null]", 0, 4) + "}", d4)),
                   "shape[0] is a JSON null");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", d4)),
      "'data_offsets' must be an array [begin, end]");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":1}}}", d4)),
      "'data_offsets' must be an array");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", d4)),
      "data_offsets[0] is -4");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "F32", "[1]", 4, 0) + "}", d4)),
                   "data_offsets [4, 0] end before they begin");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"__metadata__\":{\"k\":1}}", {})),
                   "'__metadata__' entry 'k' is a JSON number", "expected a string");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"__metadata__\":[\"k\"]}", {})),
                   "'__metadata__' is a JSON array");
  // Unknown extra fields in an entry are ignored (the reference reader ignores them too),
  // but hostile nesting inside them is stopped.
  EXPECT_EQ(st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
                          "\"extra\":[1]}}",
                          d4))
                .tensors.size(),
            1u);
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{\"w\":" + std::string(100000, '[') + std::string(100000, ']') + "}", {})),
      "nests deeper than 64");
}

TEST(SafetensorsMalformed, DuplicateKeys) {
  const Bytes d = f32_le({1, 2});
  EXPECT_ERROR_HAS(
      st_mem(st_raw(
          "{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("w", "F32", "[1]", 4, 8) + "}", d)),
      "t.safetensors", "key 'w' twice", "duplicate");
  EXPECT_ERROR_HAS(st_mem(st_raw("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],"
                                 "\"data_offsets\":[0,4]}}",
                                 f32_le({1}))),
                   "key 'dtype' twice");
  // The same key in two different objects is fine.
  EXPECT_EQ(
      st_mem(st_raw("{\"__metadata__\":{\"w\":\"1\"}," + entry("w", "F32", "[2]", 0, 8) + "}", d))
          .tensors.size(),
      1u);
}

TEST(SafetensorsMalformed, ShapesAndSizes) {
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{" + entry("w", "F32", "[4611686018427387904,4]", 0, 16) + "}", Bytes(16, 0))),
      "tensor 'w'", "shape [4611686018427387904, 4]", "larger than");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{" + entry("w", "F32", "[1099511627776,1099511627776]", 0, 16) + "}",
                    Bytes(16, 0))),
      "shape too large");
  EXPECT_ERROR_HAS(
      st_mem(st_raw("{" + entry("w", "F32", "[18446744073709551615]", 0, 16) + "}", Bytes(16, 0))),
      "shape[0] = 18446744073709551615 is too large");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "F32", "[99999999999999999999999]", 0, 16) + "}",
                                 Bytes(16, 0))),
                   "shape[0]", "expected an integer");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "BF16", "[3]", 0, 4) + "}", Bytes(4, 0))),
                   "data_offsets [0, 4] hold 4 bytes but dtype BF16 shape [3] needs 6");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("w", "F32", "[1]", 1000, 1004) + "}", Bytes(4, 0))),
                   "data_offsets [1000, 1004] run past the end of the data buffer (4 bytes)");
  EXPECT_ERROR_HAS(
      st_mem(st_raw(
          "{" + entry("w", "F32", "[1]", 18446744073709551612ull, 18446744073709551615ull) + "}",
          Bytes(4, 0))),
      "hold 3 bytes");
}

TEST(SafetensorsMalformed, OffsetsMustTileTheBufferExactly) {
  const Bytes d12(12, 0), d20(20, 0);
  EXPECT_ERROR_HAS(
      st_mem(st_raw(
          "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", d12)),
      "tensor 'b'", "data_offsets [4, 12] overlap tensor 'a' [0, 8]");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                                     entry("b", "F32", "[2]", 0, 8) + "}",
                                 Bytes(8, 0))),
                   "overlap");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                                     entry("b", "F32", "[2]", 12, 20) + "}",
                                 d20)),
                   "bytes [8, 12) of the data buffer belong to no tensor");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("a", "F32", "[2]", 4, 12) + "}", d12)),
                   "bytes [0, 4) of the data buffer belong to no tensor");
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("a", "F32", "[2]", 0, 8) + "}", d12)),
                   "bytes [8, 12) at the end of the data buffer belong to no tensor");
  EXPECT_ERROR_HAS(st_mem(st_raw("{}", d12)), "bytes [0, 12) at the end");
  // An empty tensor inside another tensor's bytes overlaps it.
  EXPECT_ERROR_HAS(st_mem(st_raw("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                                     entry("e", "F32", "[0]", 4, 4) + "}",
                                 Bytes(8, 0))),
                   "tensor 'e'", "overlap tensor 'a'");
  // Out-of-order entries in the header are fine as long as the offsets tile the buffer.
  const SafetensorsContents c = st_mem(
      st_raw("{" + entry("b", "F32", "[1]", 4, 8) + "," + entry("a", "F32", "[1]", 0, 4) + "}",
             f32_le({1, 2})));
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].name, "a");
  EXPECT_EQ(c.tensors[1].name, "b");
}

TEST(SafetensorsLimits, MaxElementsOption) {
  const Bytes file = st_raw("{" + entry("w", "F32", "[2,3]", 0, 24) + "}", Bytes(24, 0));
  SafetensorsReadOptions o;
  o.max_elements = 5;
  EXPECT_ERROR_HAS(st_mem(file, o), "tensor 'w'", "has 6 elements", "limit of 5", "max_elements");
  o.max_elements = 6;
  EXPECT_EQ(st_mem(file, o).tensors.size(), 1u);
}

TEST(SafetensorsWrite, RoundTripIsBitIdenticalWithMetadata) {
  TempDir dir;
  const std::vector<NamedTensor> tensors = {
      {"model.layers.0.w", Tensor({3, 5}, random_bits(15, 1))},
      {"scalar", Tensor({}, {1.25f})},
      {"empty", Tensor({0, 7}, {})},
      {"b \"quoted\" \\ name", Tensor({4}, random_bits(4, 2))},
      {"\xc3\xa9t\xc3\xa9", Tensor({2, 1, 2}, random_bits(4, 3))},  // UTF-8 name
  };
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"qarch", "test \"1\""}};
  const Bytes mem = encode_safetensors(tensors, meta);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(mem[i]) << (8 * i);
  EXPECT_EQ(n % 8, 0u);  // data 8-byte aligned
  EXPECT_EQ(mem.size(), 8 + n + 4 * (15 + 1 + 0 + 4 + 4));
  for (const SafetensorsContents& c :
       {st_mem(mem), (write_safetensors(dir.file("t.safetensors"), tensors, meta),
                      read_safetensors(dir.file("t.safetensors")))}) {
    EXPECT_EQ(c.metadata, meta);
    ASSERT_EQ(c.tensors.size(), tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      EXPECT_EQ(c.tensors[i].name, tensors[i].name);  // written in the given order
      EXPECT_TRUE(bit_identical(c.tensors[i].tensor, tensors[i].tensor)) << tensors[i].name;
    }
  }
  EXPECT_EQ(read_bytes(dir.file("t.safetensors")), mem);
  EXPECT_TRUE(bit_identical(read_safetensors_tensor(dir.file("t.safetensors"), "scalar"),
                            tensors[1].tensor));
  const SafetensorsIndex idx = read_safetensors_index(dir.file("t.safetensors"));
  EXPECT_EQ(idx.find("model.layers.0.w")->begin, 0u);
  EXPECT_EQ(idx.find("model.layers.0.w")->end, 60u);
  EXPECT_EQ(idx.find("model.layers.0.w")->dtype, "F32");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"t.safetensors"});
}

TEST(SafetensorsWrite, MatchesTheReferenceLayout) {
  // What the reference writer produces for {"a": [1.0, 2.0]} (compact JSON, padded with
  // spaces to a multiple of 8): header {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}
  // is 54 bytes, padded with 2 spaces to 56.
  const Bytes b = encode_safetensors({{"a", Tensor({2}, {1.0f, 2.0f})}});
  Bytes want;
  append_le(want, 56, 8);
  append(want, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ");
  append_le(want, 0x3F800000u, 4);
  append_le(want, 0x40000000u, 4);
  EXPECT_EQ(std::string(b.begin(), b.end()), std::string(want.begin(), want.end()));
}

TEST(SafetensorsWrite, BadInputsAreRefusedAndNothingIsWritten) {
  TempDir dir;
  const Tensor t({1}, {1.0f});
  EXPECT_ERROR_HAS(write_safetensors(dir.file("x.safetensors"), {{"a", t}, {"a", t}}),
                   "x.safetensors", "two tensors are named 'a'");
  EXPECT_ERROR_HAS(write_safetensors(dir.file("x.safetensors"), {{"__metadata__", t}}), "reserved");
  EXPECT_ERROR_HAS(write_safetensors(dir.file("x.safetensors"), {{"\xff", t}}), "not valid UTF-8");
  EXPECT_ERROR_HAS(write_safetensors(dir.file("x.safetensors"), {{"a", t}}, {{"k", "\xfe"}}),
                   "not valid UTF-8");
  Tensor bad;
  bad.shape = {3};
  bad.data = {1};
  EXPECT_ERROR_HAS(write_safetensors(dir.file("x.safetensors"), {{"a", bad}}), "tensor 'a'",
                   "needs 3 elements");
  EXPECT_TRUE(dir.files().empty());
}

TEST(TensorFile, DispatchByExtension) {
  TempDir dir;
  const Tensor t({2}, {1.0f, 2.0f});
  write_npy(dir.file("a.npy"), t);
  write_safetensors(dir.file("one.safetensors"), {{"w", t}});
  write_safetensors(dir.file("two.safetensors"), {{"w", t}, {"v", t}});
  EXPECT_TRUE(bit_identical(read_tensor_file(dir.file("a.npy")), t));
  EXPECT_TRUE(bit_identical(read_tensor_file(dir.file("one.safetensors")), t));
  EXPECT_TRUE(bit_identical(read_tensor_file(dir.file("two.safetensors"), "v"), t));
  EXPECT_ERROR_HAS(read_tensor_file(dir.file("two.safetensors")), "two.safetensors",
                   "holds 2 tensors", "name the one", "'w'", "'v'");
  EXPECT_ERROR_HAS(read_tensor_file(dir.file("a.npy"), "w"), "a.npy", "one unnamed tensor");
  EXPECT_ERROR_HAS(read_tensor_file(dir.file("a.bin")), "a.bin", "unknown tensor file type");
  EXPECT_ERROR_HAS(read_tensor_file(dir.file("one.safetensors"), "nope"), "no tensor named 'nope'");
}

TEST(NonFinite, CountsAndFirstIndex) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor t({2, 3}, {1.0f, 2.0f, -inf, nan, inf, -nan});
  const NonFiniteCount c = count_nonfinite(t);
  EXPECT_EQ(c.nan, 2);
  EXPECT_EQ(c.pos_inf, 1);
  EXPECT_EQ(c.neg_inf, 1);
  EXPECT_EQ(c.first, 2);
  const NonFiniteCount none = count_nonfinite(Tensor({3}, {0.0f, -1.0f, 3.4e38f}));
  EXPECT_EQ(none.total(), 0);
  EXPECT_EQ(none.first, -1);
}

// ---------------------------------------------------------------------------------------
// Atomic writes

std::string slurp(const std::string& path) {
  const Bytes b = read_bytes(path);
  return std::string(b.begin(), b.end());
}

TEST(AtomicFile, CreatesAndReplaces) {
  TempDir dir;
  const std::string p = dir.file("out.txt");
  write_file_atomic(p, std::string_view("first"));
  EXPECT_EQ(slurp(p), "first");
  write_file_atomic(p, std::string_view("second, longer"));
  EXPECT_EQ(slurp(p), "second, longer");
  write_file_atomic(p, std::string_view(""));
  EXPECT_EQ(slurp(p), "");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, ExceptionMidWriteLeavesTargetUntouchedAndNoTemporary) {
  TempDir dir;
  const std::string p = dir.file("out.txt");
  write_file_atomic(p, std::string_view("old contents"));
  try {
    AtomicFileWriter w(p);
    EXPECT_EQ(w.temp_path().rfind(dir.path() + "/", 0), 0u);  // same directory
    w.write(std::string_view("new partial "));
    EXPECT_EQ(dir.files().size(), 2u);  // target + temporary
    throw std::runtime_error("simulated failure in the middle of writing");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(slurp(p), "old contents");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"out.txt"});
  {
    AtomicFileWriter w(dir.file("never.txt"));
    w.write(std::string_view("abandoned"));
  }  // no commit
  EXPECT_EQ(dir.files(), std::vector<std::string>{"out.txt"});
}

TEST(AtomicFile, KeepsPermissionsOfTheReplacedFile) {
  TempDir dir;
  const std::string p = dir.file("secret");
  write_file_atomic(p, std::string_view("a"));
  ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
  write_file_atomic(p, std::string_view("b"));
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(slurp(p), "b");
}

TEST(AtomicFile, ErrorsNameThePath) {
  TempDir dir;
  EXPECT_ERROR_HAS(write_file_atomic(dir.file("no/such/dir/f.txt"), std::string_view("x")),
                   "no/such/dir/f.txt", "cannot create a temporary file",
                   "No such file or directory");
  EXPECT_ERROR_HAS(AtomicFileWriter(dir.path() + "/"), "not a file path");
  // Renaming a file over a directory fails at commit; the temporary must not be left behind.
  ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(dir.file("sub/d").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(dir.file("sub/d/x").c_str(), 0755), 0);  // non-empty directory target
  EXPECT_ERROR_HAS(write_file_atomic(dir.file("sub/d"), std::string_view("x")), "sub/d",
                   "cannot rename");
  std::vector<std::string> left;
  if (DIR* d = ::opendir(dir.file("sub").c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") left.push_back(n);
    }
    ::closedir(d);
  }
  EXPECT_EQ(left, std::vector<std::string>{"d"});
  ::rmdir(dir.file("sub/d/x").c_str());
  ::rmdir(dir.file("sub/d").c_str());
  ::rmdir(dir.file("sub").c_str());
}

TEST(AtomicFile, WriteFailureLeavesNoPartialTarget) {
  // A real I/O error mid-write: lower the file size limit (the kernel then fails write()
  // with EFBIG once SIGXFSZ is ignored), write more than allowed, restore the limit.
  TempDir dir;
  const std::string p = dir.file("big.npy");
  write_file_atomic(p, std::string_view("old"));
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ignore = {}, old_action = {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string msg;
  try {
    write_npy(p, Tensor({10000}, std::vector<float>(10000, 1.0f)));
  } catch (const Error& e) {
    msg = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_NE(msg.find("big.npy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("write failed"), std::string::npos) << msg;
  EXPECT_EQ(slurp(p), "old");
  EXPECT_EQ(dir.files(), std::vector<std::string>{"big.npy"});
}

}  // namespace
}  // namespace qarch::quant
