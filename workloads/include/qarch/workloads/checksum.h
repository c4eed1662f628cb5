// FNV-1a 64-bit hash (Fowler, Noll, Vo; IETF draft-eastlake-fnv): the per-file checksum of
// trace files. Not cryptographic; it detects truncation and corruption. Incremental: feed
// chunks by passing the previous result as `h`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qarch::workloads {

/// FNV-1a 64 offset basis (the hash of the empty input).
constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ull;
/// FNV 64-bit prime, 2^40 + 2^8 + 0xb3.
constexpr uint64_t kFnv1a64Prime = 0x100000001b3ull;

/// Continues the FNV-1a 64 hash `h` over size bytes.
uint64_t fnv1a64(const void* data, size_t size, uint64_t h = kFnv1a64Offset);
inline uint64_t fnv1a64(std::string_view s, uint64_t h = kFnv1a64Offset) {
  return fnv1a64(s.data(), s.size(), h);
}
/// 16 lower-case hex digits.
std::string hex64(uint64_t v);

}  // namespace qarch::workloads
