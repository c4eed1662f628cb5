#include "qarch/common/number_text.h"

#include <charconv>
#include <cmath>

namespace qarch {
namespace {

template <typename T>
std::string general(T v, int max_digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::to_chars_result r{buf, std::errc()};
  for (int p = 1; p <= max_digits; ++p) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, p);
    T back{};
    std::from_chars(buf, r.ptr, back);
    if (back == v) break;
  }
  return std::string(buf, r.ptr);
}

}  // namespace

std::string format_g(double v) {
  return general(v, 17);
}

std::string format_g(float v) {
  return general(v, 9);
}

std::string shortest(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace qarch
