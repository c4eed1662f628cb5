#include "qarch/workloads/checksum.h"

namespace qarch::workloads {

uint64_t fnv1a64(const void* data, size_t size, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  // Four bytes per iteration: the dependency chain is the same, the loop overhead is not.
  size_t i = 0;
  for (; i + 4 <= size; i += 4) {
    h = (h ^ p[i]) * kFnv1a64Prime;
    h = (h ^ p[i + 1]) * kFnv1a64Prime;
    h = (h ^ p[i + 2]) * kFnv1a64Prime;
    h = (h ^ p[i + 3]) * kFnv1a64Prime;
  }
  for (; i < size; ++i) h = (h ^ p[i]) * kFnv1a64Prime;
  return h;
}

std::string hex64(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = digits[v & 15];
  return s;
}

}  // namespace qarch::workloads
