// Bit-for-bit freeze of the encoders that were sped up for issue 13 (ANT, AdaptivFloat, GEAR,
// RotateKV, K-sort, DGQ, QLLM): every buffer of encode(), decode(), quantize() and
// decode_operand() on fixed inputs is hashed (FNV-1a 64) and compared with the hash the code
// gave before the speed work (recorded at commit c8a6794; the qllm rows at 0a562f3). A speed
// change that moves one bit of one output fails here.
// The inputs come from SplitMix64 with only +, *, and exact conversions (no libm, no
// std::normal_distribution), so they are the same on every platform:
//   llm     48 x 512, Irwin-Hall(4) ~ N(0, 1/3) with 3 outlier channels 30-60x larger;
//   relu    20 x 256, non-negative (|x|), a column of exact zeros;
//   ragged  9 x 203, odd cols (not a multiple of any block or group), cubed values (heavy tail);
//   tiny    4 x 64, the llm values times 2^-110 (AdaptivFloat's subnormal path);
//   wide    64 x 4096, the benchmark's shape (ANT's histogram search on many bins);
//   span    6 x 96, every 4th channel 2^30 larger and the next 2^-20 smaller (K-sort's groups
//           in channel order span 50 binades: its decode's exact path, which drops elements);
//   steps   4 x 2048, integers -5..5 (many equal values: GEAR's outlier order by column).
// QARCH_PRINT_ENCODER_HASHES=1 prints the table instead of checking it (to re-record after a
// deliberate change of a format's definition, never for a speed change).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/quant/format.h"

namespace {

using namespace qarch::quant;

struct Fnv {
  uint64_t h = 0xcbf29ce484222325ull;
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    const uint64_t n = v.size();
    bytes(&n, sizeof n);
    if (!v.empty()) bytes(v.data(), v.size() * sizeof(T));
  }
  template <typename T>
  void val(T v) {
    bytes(&v, sizeof v);
  }
};

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Irwin-Hall(4) - 2: four uniforms on [0, 1) with 24-bit resolution, exact in float.
float bell(uint64_t& s) {
  float v = 0;
  for (int k = 0; k < 4; ++k) v += static_cast<float>(splitmix(s) >> 40) * 0x1p-24f;
  return v - 2.0f;
}

struct Input {
  int64_t rows, cols;
  std::vector<float> x;
};

Input make_input(const std::string& kind) {
  uint64_t s = 0x5eed0000u + kind.size();
  Input in;
  if (kind == "llm" || kind == "tiny" || kind == "wide") {
    in.rows = kind == "llm" ? 48 : kind == "tiny" ? 4 : 64;
    in.cols = kind == "llm" ? 512 : kind == "tiny" ? 64 : 4096;
    for (int64_t i = 0; i < in.rows * in.cols; ++i) in.x.push_back(bell(s));
    for (int64_t r = 0; r < in.rows; ++r) {
      for (int64_t c : {int64_t{7}, int64_t{37}, in.cols - 3}) {
        in.x[static_cast<size_t>(r * in.cols + c)] *= 30.0f + static_cast<float>((r + c) % 31);
      }
    }
    if (kind == "tiny")
      for (float& v : in.x) v *= 0x1p-110f;
  } else if (kind == "relu") {
    in.rows = 20;
    in.cols = 256;
    for (int64_t i = 0; i < in.rows * in.cols; ++i) {
      const float v = bell(s);
      in.x.push_back(i % in.cols == 5 ? 0.0f : (v < 0 ? -v : v));
    }
  } else if (kind == "steps") {
    in.rows = 4;
    in.cols = 2048;
    for (int64_t i = 0; i < in.rows * in.cols; ++i)
      in.x.push_back(static_cast<float>(static_cast<int>(bell(s) * 3.0f)));
  } else if (kind == "span") {
    in.rows = 6;
    in.cols = 96;
    for (int64_t i = 0; i < in.rows * in.cols; ++i) {
      const int64_t c = i % in.cols;
      in.x.push_back(bell(s) * (c % 4 == 0 ? 0x1p30f : c % 4 == 1 ? 0x1p-20f : 1.0f));
    }
  } else {  // ragged
    in.rows = 9;
    in.cols = 203;
    for (int64_t i = 0; i < in.rows * in.cols; ++i) {
      const float v = bell(s);
      in.x.push_back(v * v * v * 4.0f);
    }
  }
  return in;
}

uint64_t hash_format(const std::string& spec, const Input& in) {
  const auto f = make_format(spec);
  Fnv h;
  const EncodedTensor e = f->encode(in.x.data(), in.rows, in.cols);
  h.bytes(e.format.data(), e.format.size());
  h.val(e.rows);
  h.val(e.cols);
  h.vec(e.elements);
  h.vec(e.scales);
  h.vec(e.fp32);
  h.vec(e.indices);
  std::vector<float> out(in.x.size());
  f->decode(e, out.data());
  h.vec(out);
  f->quantize(in.x.data(), in.rows, in.cols, out.data());
  h.vec(out);
  const DecodedTensor d = f->decode_operand(e);
  h.val(d.group_rows);
  h.val(d.group_cols);
  h.vec(d.mant);
  h.vec(d.shift);
  h.vec(d.scale_exp);
  h.vec(d.scale_mul);
  h.val(d.tensor_divisor);
  return h.h;
}

const std::vector<std::string>& specs() {
  static const std::vector<std::string> s = {
      "ant4",
      "ant8",
      "ant4:ties=up",
      "ant8:ties=up",
      "ant:bits=4:per=row",
      "ant8:per=row",
      "ant4:types=pot+flint",
      "ant4:sign=unsigned",
      "ant4:scale=0.125:types=flint",
      "adaptivfloat4",
      "adaptivfloat6",
      "adaptivfloat8",
      "adaptivfloat:bits=5",
      "adaptivfloat:bits=7:e=4",
      "adaptivfloat8:per=row",
      "gear4",
      "gear2",
      "gear:bits=3:group=32",
      "gear4:rank=0",
      "gear:bits=8:outliers=0:iters=1:rank=2:seed=9",
      "gear:bits=5:rank=9:outliers=0.1",
      "gear:rank=1:group=64",
      "rotatekv4",
      "rotatekv2",
      "rotatekv4:per=channel",
      "rotatekv2:group=32",
      "rotatekv:bits=3:sym=true",
      "ksort_mxfp4",
      "ksort_bfp",
      "ksort:base=mxfp6_e2m3",
      "ksort:base=mxint8:block=16",
      "ksort_bfp:p=8",
      "dgq4",
      "dgq:bits=3:group=32",
      "dgq:bits=8:group=100",
      "qllm",
      "qllm:ratio=0",
      "qllm:ratio=0.01",
      "qllm:ratio=0.25",
      "qllm:assemble=true",
      "qllm:assemble=true:ratio=0.1",
      "qllm:base=int4",
      "qllm:base=int6:ratio=0.1",
      "qllm:base=mxfp4",
      "qllm:base=mxint8",
      "qllm:base=olive4",
      "qllm:base=ant4",
      "qllm:base=fp16",
      "qllm:base=e4m3:assemble=true",
      "qllm:base=mxfp8_e4m3",
      "qllm:base=olive8",
      "qllm:base=ant8",
      "qllm:base=bf16:ratio=0.1",
  };
  return s;
}

const std::vector<std::string> kInputs = {"llm", "relu", "ragged", "tiny", "wide", "span", "steps"};

// Recorded at commit c8a6794 (before the encoder speed work) with QARCH_PRINT_ENCODER_HASHES=1;
// the qllm rows at commit 0a562f3 (before QLLM's speed work).
const std::map<std::string, uint64_t>& expected() {
  static const std::map<std::string, uint64_t> m = {
#include "encoder_hashes.inc"
  };
  return m;
}

TEST(EncoderHashes, EveryOutputBitIsUnchanged) {
  const bool print = std::getenv("QARCH_PRINT_ENCODER_HASHES") != nullptr;
  std::map<std::string, Input> inputs;
  for (const auto& k : kInputs) inputs[k] = make_input(k);
  size_t checked = 0;
  for (const auto& spec : specs()) {
    for (const auto& k : kInputs) {
      const std::string key = spec + " @ " + k;
      const uint64_t h = hash_format(spec, inputs[k]);
      if (print) {
        std::printf("    {\"%s\", 0x%016llxull},\n", key.c_str(),
                    static_cast<unsigned long long>(h));
        continue;
      }
      const auto it = expected().find(key);
      ASSERT_NE(it, expected().end()) << key << " has no recorded hash";
      EXPECT_EQ(it->second, h) << key << ": output bits changed";
      ++checked;
    }
  }
  if (!print) {
    EXPECT_EQ(checked, expected().size());
  }
}

// The hash sees a one-ulp change of one decoded value (the check bites).
TEST(EncoderHashes, AOneUlpChangeChangesTheHash) {
  Fnv a, b;
  std::vector<float> v(100, 1.0f), w = v;
  w[57] = std::nextafter(1.0f, 2.0f);
  a.vec(v);
  b.vec(w);
  EXPECT_NE(a.h, b.h);
}

// pack_codes / unpack_codes (now row by row with fast paths for 2, 4, 6, 8 bits) against the
// bit-by-bit definition of the layout, for every width 1..32 and every row length 0..41 (all
// phases of every fast path's tail), on seeded codes wider than `bits` (the packer masks them).
TEST(PackCodes, MatchesTheBitByBitLayoutAtEveryWidthAndLength) {
  uint64_t s = 99;
  for (int bits = 1; bits <= 32; ++bits) {
    for (int64_t cols = 0; cols <= 41; ++cols) {
      const int64_t rows = 3;
      std::vector<uint32_t> codes(static_cast<size_t>(rows * cols));
      for (auto& c : codes) c = static_cast<uint32_t>(splitmix(s));
      const int64_t rb = packed_row_bytes(cols, bits);
      std::vector<uint8_t> want(static_cast<size_t>(rows * rb), 0);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) {
          for (int b = 0; b < bits; ++b) {
            const int64_t pos = c * bits + b;
            if ((codes[static_cast<size_t>(r * cols + c)] >> b) & 1u)
              want[static_cast<size_t>(r * rb + pos / 8)] |= static_cast<uint8_t>(1u << (pos % 8));
          }
        }
      }
      const std::vector<uint8_t> got = pack_codes(codes, rows, cols, bits);
      ASSERT_EQ(got, want) << bits << " bits, " << cols << " cols";
      const std::vector<uint32_t> back = unpack_codes(got, rows, cols, bits);
      const uint32_t mask = bits == 32 ? 0xffffffffu : (1u << bits) - 1u;
      for (size_t i = 0; i < codes.size(); ++i)
        ASSERT_EQ(back[i], codes[i] & mask) << bits << " bits, " << cols << " cols, code " << i;
    }
  }
  EXPECT_THROW(unpack_codes(std::vector<uint8_t>(5), 2, 5, 6), qarch::Error);
}

}  // namespace
