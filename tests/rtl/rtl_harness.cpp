#include "rtl_harness.h"

#include <algorithm>

#include "qarch/workloads/generator.h"

namespace qarch::rtltest {

std::string to_string(i128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u) {
    s += static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (neg) s += '-';
  std::reverse(s.begin(), s.end());
  return s;
}

std::string vcd_dir() {
  if (const char* d = std::getenv("QARCH_RTL_VCD_DIR")) return d;
  return QARCH_RTL_VCD_DEFAULT_DIR;
}

quant::DecodedTensor decoded_row(const std::vector<int32_t>& mant,
                                 const std::vector<uint8_t>& shift) {
  quant::DecodedTensor d;
  const auto n = static_cast<int64_t>(mant.size());
  d.resize(1, n, 1, std::max<int64_t>(1, n));
  d.mant = mant;
  d.shift = shift;
  return d;
}

std::vector<float> outlier_activations(int64_t rows, int64_t cols, uint32_t seed) {
  // The FFN down-projection input: the role with the strongest outliers (outlier channels,
  // massive activations at the first tokens, heavy tail) in the default profile.
  const workloads::TensorGenerator gen(workloads::OutlierParams::defaults(), seed);
  std::vector<workloads::TokenRef> tokens;
  for (int64_t r = 0; r < rows; ++r) tokens.push_back({0, r});
  workloads::TensorKey key;
  key.layer = seed % 32;
  key.role = "down_in";
  return gen.activation(key, cols, tokens).data.data;
}

std::vector<float> outlier_weights(int64_t rows, int64_t cols, uint32_t seed) {
  const workloads::TensorGenerator gen(workloads::OutlierParams::defaults(), seed);
  std::vector<int64_t> which;
  for (int64_t r = 0; r < rows; ++r) which.push_back(r);
  workloads::TensorKey key;
  key.layer = seed % 32;
  key.role = "down";
  return gen.weight(key, rows, cols, which).data.data;
}

int64_t stream_count(int64_t def, int64_t long_count) {
  const char* e = std::getenv("QARCH_RTL_LONG");
  return (e && *e && *e != '0') ? long_count : def;
}

}  // namespace qarch::rtltest
