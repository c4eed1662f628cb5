// Always-on stand-in for the libFuzzer runs (which need clang): every seed of
// tests/fuzz/corpus and every reference .npy in tests/quant/data, plus thousands of
// deterministic mutations of them (bit flips, interesting bytes, truncations, deletions,
// duplications, length-field and number rewrites), go through the same entry points as
// the fuzzers (tests/fuzz/fuzz_entry.h). The only acceptable outcomes are success (with
// round-trip invariants) or qarch::Error; anything else fails the test, and under the
// sanitizer build (QARCH_SANITIZE=ON) ASan/UBSan report any bad memory access or UB.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fuzz_entry.h"

namespace qarch::quant {
namespace {

using Bytes = std::vector<uint8_t>;

std::vector<Bytes> load_dir(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > suffix.size() &&
          n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
        names.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());  // deterministic order for the seeded mutations
  std::vector<Bytes> out;
  for (const auto& n : names) {
    std::ifstream f(dir + "/" + n, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return out;
}

// One random structural mutation of `in`.
Bytes mutate(const Bytes& in, std::mt19937_64& rng, size_t length_field_at, int length_bytes) {
  Bytes b = in;
  auto pick = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
  static const uint8_t kInteresting[] = {0x00, 0xff, 0x7f, 0x80, 0x01, '(',  ')', ',',  '-', '9',
                                         '[',  ']',  '{',  '}',  '"',  '\'', ' ', '\n', 'L', 'e'};
  switch (rng() % 8) {
    case 0:  // flip 1-4 bits
      for (int k = 1 + static_cast<int>(rng() % 4); k > 0 && !b.empty(); --k)
        b[pick(b.size())] ^= static_cast<uint8_t>(1u << (rng() % 8));
      break;
    case 1:  // interesting byte
      if (!b.empty()) b[pick(b.size())] = kInteresting[pick(sizeof(kInteresting))];
      break;
    case 2:  // truncate
      b.resize(pick(b.size() + 1));
      break;
    case 3: {  // delete a range
      const size_t at = pick(b.size() + 1), n = std::min(b.size() - at, pick(16) + 1);
      b.erase(b.begin() + static_cast<std::ptrdiff_t>(at),
              b.begin() + static_cast<std::ptrdiff_t>(at + n));
      break;
    }
    case 4: {  // duplicate a range somewhere else
      if (b.empty()) break;
      const size_t from = pick(b.size()), n = std::min(b.size() - from, pick(24) + 1);
      const Bytes piece(b.begin() + static_cast<std::ptrdiff_t>(from),
                        b.begin() + static_cast<std::ptrdiff_t>(from + n));
      b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size() + 1)), piece.begin(),
               piece.end());
      break;
    }
    case 5: {  // rewrite the header length field with a boundary or random value
      const uint64_t vals[] = {0,
                               1,
                               7,
                               8,
                               0xffff,
                               0x10000,
                               0xffffffffull,
                               ~0ull,
                               rng(),
                               static_cast<uint64_t>(b.size()),
                               static_cast<uint64_t>(b.size()) - 9};
      const uint64_t v = vals[pick(sizeof(vals) / sizeof(vals[0]))];
      for (int i = 0; i < length_bytes && length_field_at + static_cast<size_t>(i) < b.size(); ++i)
        b[length_field_at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
      break;
    }
    case 6: {  // replace the digits at a random place with an extreme number
      static const char* kNums[] = {"0",
                                    "-1",
                                    "4611686018427387904",
                                    "99999999999999999999999",
                                    "18446744073709551615",
                                    "1e400",
                                    "2.5",
                                    "65536"};
      const size_t at = pick(b.size());
      size_t s = at;
      while (s < b.size() && !(b[s] >= '0' && b[s] <= '9')) ++s;
      size_t e = s;
      while (e < b.size() && b[e] >= '0' && b[e] <= '9') ++e;
      if (s == b.size()) break;
      const std::string num = kNums[pick(sizeof(kNums) / sizeof(kNums[0]))];
      b.erase(b.begin() + static_cast<std::ptrdiff_t>(s),
              b.begin() + static_cast<std::ptrdiff_t>(e));
      b.insert(b.begin() + static_cast<std::ptrdiff_t>(s), num.begin(), num.end());
      break;
    }
    default:  // several bit flips and a truncation together
      for (int k = 0; k < 8 && !b.empty(); ++k) b[pick(b.size())] ^= static_cast<uint8_t>(rng());
      if (rng() % 2) b.resize(pick(b.size() + 1));
      break;
  }
  return b;
}

struct Outcome {
  int ok = 0;
  int runs = 0;
};

// Feeds seeds and their mutations to `one`; returns how many mutated inputs still parsed.
template <typename F, typename P>
Outcome replay(const std::vector<Bytes>& seeds, F one, P parses, size_t length_field_at,
               int length_bytes, int per_seed, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Outcome o;
  for (const Bytes& s : seeds) {
    EXPECT_EQ(one(s.data(), s.size()), "");
    for (int i = 0; i < per_seed; ++i) {
      Bytes m = mutate(s, rng, length_field_at, length_bytes);
      if (rng() % 4 == 0) m = mutate(m, rng, length_field_at, length_bytes);  // stack two
      // An exact-size heap copy, so ASan sees any read past the end of the input.
      const std::unique_ptr<uint8_t[]> exact(new uint8_t[m.size() ? m.size() : 1]);
      std::copy(m.begin(), m.end(), exact.get());
      const std::string problem = one(exact.get(), m.size());
      EXPECT_EQ(problem, "") << "mutation " << i;
      ++o.runs;
      try {
        parses(exact.get(), m.size());
        ++o.ok;
      } catch (const Error&) {
      }
    }
  }
  return o;
}

TEST(TensorIoFuzzReplay, SeedsAreValidFiles) {
  // The corpus must consist of files the readers accept, or the fuzzers start blind.
  const auto npy = load_dir(std::string(QARCH_FUZZ_CORPUS_DIR) + "/npy", ".npy");
  const auto st = load_dir(std::string(QARCH_FUZZ_CORPUS_DIR) + "/safetensors", ".safetensors");
  ASSERT_GE(npy.size(), 10u);
  ASSERT_GE(st.size(), 4u);
  NpyReadOptions no;
  no.int16_as_bf16 = true;
  for (const auto& b : npy) EXPECT_NO_THROW(read_npy_buffer(b.data(), b.size(), no));
  SafetensorsReadOptions so;
  so.skip_unsupported = true;
  for (const auto& b : st) EXPECT_NO_THROW(read_safetensors_buffer(b.data(), b.size(), so));
}

TEST(TensorIoFuzzReplay, NpyCorpusAndMutations) {
  auto seeds = load_dir(std::string(QARCH_FUZZ_CORPUS_DIR) + "/npy", ".npy");
  const auto data = load_dir(QARCH_TEST_DATA_DIR, ".npy");
  seeds.insert(seeds.end(), data.begin(), data.end());
  const Outcome o = replay(
      seeds, fuzz::fuzz_npy_one,
      [](const uint8_t* d, size_t n) {
        NpyReadOptions opt;
        opt.int16_as_bf16 = true;
        read_npy_buffer(d, n, opt);
      },
      8, 2, 120, 20240601);
  EXPECT_GT(o.runs, 3000);
  // Mutations must reach past the first checks: some still parse, most do not.
  EXPECT_GT(o.ok, o.runs / 50) << o.ok << " of " << o.runs;
  EXPECT_LT(o.ok, o.runs / 2) << o.ok << " of " << o.runs;
}

TEST(TensorIoFuzzReplay, SafetensorsCorpusAndMutations) {
  const auto seeds = load_dir(std::string(QARCH_FUZZ_CORPUS_DIR) + "/safetensors", ".safetensors");
  const Outcome o = replay(
      seeds, fuzz::fuzz_safetensors_one,
      [](const uint8_t* d, size_t n) {
        SafetensorsReadOptions opt;
        opt.skip_unsupported = true;
        read_safetensors_buffer(d, n, opt);
      },
      0, 8, 700, 20240602);
  EXPECT_GT(o.runs, 3000);
  EXPECT_GT(o.ok, o.runs / 50) << o.ok << " of " << o.runs;
  EXPECT_LT(o.ok, o.runs / 2) << o.ok << " of " << o.runs;
}

}  // namespace
}  // namespace qarch::quant
