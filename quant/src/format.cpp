#include "qarch/quant/format.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <sstream>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "qarch/common/error.h"
#include "registry.h"

namespace qarch::quant {

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}
}  // namespace

FormatSpec FormatSpec::parse(const std::string& text, const std::string& kind) {
  FormatSpec spec;
  std::stringstream ss(text);
  std::string part;
  bool first = true;
  while (std::getline(ss, part, ':')) {
    part = trim(part);
    if (first) {
      spec.name = lower(part);
      if (spec.name.empty()) throw Error(kind + " spec '" + text + "': empty " + kind + " name");
      first = false;
      continue;
    }
    const auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) {
      throw Error(kind + " spec '" + text + "': option '" + part + "' is not key=value");
    }
    const std::string key = lower(trim(part.substr(0, eq)));
    if (spec.options.count(key)) {
      throw Error(kind + " spec '" + text + "': option '" + key + "' given twice");
    }
    spec.options[key] = trim(part.substr(eq + 1));
  }
  if (first) throw Error(kind + " spec is empty");
  return spec;
}

std::string FormatSpec::str() const {
  std::string s = name;
  for (const auto& [k, v] : options) s += ":" + k + "=" + v;
  return s;
}

void FormatOptions::fail(const std::string& key, const std::string& problem) const {
  throw Error(kind_ + " '" + spec_.str() + "': option '" + key + "': " + problem);
}

const std::string* FormatOptions::find(const std::string& key) {
  used_.insert(key);
  auto it = spec_.options.find(key);
  return it == spec_.options.end() ? nullptr : &it->second;
}

int64_t FormatOptions::get_int(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
  const std::string* v = find(key);
  if (!v) return def;
  size_t pos = 0;
  long long x = 0;
  try {
    x = std::stoll(*v, &pos);
  } catch (const std::exception&) {
    fail(key, "'" + *v + "' is not an integer");
  }
  if (pos != v->size()) fail(key, "'" + *v + "' is not an integer");
  if (x < lo || x > hi) {
    fail(key, std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
  }
  return x;
}

double FormatOptions::get_double(const std::string& key, double def, double lo, double hi) {
  const std::string* v = find(key);
  if (!v) return def;
  size_t pos = 0;
  double x = 0;
  try {
    x = std::stod(*v, &pos);
  } catch (const std::exception&) {
    fail(key, "'" + *v + "' is not a number");
  }
  if (pos != v->size() || !std::isfinite(x)) fail(key, "'" + *v + "' is not a finite number");
  if (x < lo || x > hi) {
    std::ostringstream os;
    os << x << " is out of range [" << lo << ", " << hi << "]";
    fail(key, os.str());
  }
  return x;
}

bool FormatOptions::get_bool(const std::string& key, bool def) {
  const std::string* v = find(key);
  if (!v) return def;
  const std::string s = lower(*v);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  fail(key, "'" + *v + "' is not a boolean (true/false)");
}

std::string FormatOptions::get_choice(const std::string& key, const std::string& def,
                                      const std::vector<std::string>& allowed) {
  const std::string* v = find(key);
  if (!v) return def;
  const std::string s = lower(*v);
  if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail(key, "'" + *v + "' is not one of: " + list);
}

Rounding FormatOptions::get_rounding(const std::string& key, Rounding def) {
  const std::string r = get_choice(key, rounding_name(def), {"even", "away"});
  return r == "even" ? Rounding::kNearestEven : Rounding::kNearestAway;
}

void FormatOptions::finish() const {
  std::string unknown;
  for (const auto& [k, v] : spec_.options) {
    if (!used_.count(k)) unknown += (unknown.empty() ? "'" : ", '") + k + "'";
  }
  if (unknown.empty()) return;
  std::string known;
  for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
  throw Error(kind_ + " '" + spec_.str() + "': unknown option " + unknown +
              (known.empty() ? " (it takes no options)" : " (known: " + known + ")"));
}

std::string rounding_name(Rounding r) {
  return r == Rounding::kNearestEven ? "even" : "away";
}

uint64_t EncodedTensor::storage_bits() const {
  return 8ull * (elements.size() + scales.size()) + 32ull * (fp32.size() + indices.size());
}

double EncodedTensor::bits_per_element() const {
  const double n = static_cast<double>(rows) * static_cast<double>(cols);
  return n > 0 ? static_cast<double>(storage_bits()) / n : 0.0;
}

namespace detail {

// The LSB-first stream of one row: 8 and 4 bits byte- and nibble-wise, 2 bits four to a
// byte, 6 bits four codes to three bytes, other widths through a 64-bit bit buffer.
void pack_row(const uint32_t* c, int64_t cols, int bits, uint8_t* row) {
  const uint32_t mask = bits >= 32 ? 0xffffffffu : ((1u << bits) - 1u);
  int64_t k = 0;
  size_t o = 0;
  if (bits == 8) {
    for (; k < cols; ++k) row[k] = static_cast<uint8_t>(c[k]);
    return;
  }
  if (bits == 4) {
#ifdef __SSE2__
    // 16 codes -> 8 bytes: mask, narrow to 16-bit lanes (values <= 15: no saturation), then
    // each lane c_2i | c_2i+1 << 8 becomes the byte c_2i | c_2i+1 << 4.
    const __m128i m4 = _mm_set1_epi32(0xf), lo = _mm_set1_epi16(0x0f), hi = _mm_set1_epi16(0xf0);
    for (; k + 16 <= cols; k += 16) {
      const __m128i* p = reinterpret_cast<const __m128i*>(c + k);
      const __m128i a = _mm_and_si128(_mm_loadu_si128(p), m4);
      const __m128i b = _mm_and_si128(_mm_loadu_si128(p + 1), m4);
      const __m128i d = _mm_and_si128(_mm_loadu_si128(p + 2), m4);
      const __m128i e = _mm_and_si128(_mm_loadu_si128(p + 3), m4);
      const __m128i w0 = _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(d, e));
      // w0 holds the 16 codes as bytes; pair them: 16-bit lane i = c_2i | c_2i+1 << 8.
      const __m128i pairs =
          _mm_or_si128(_mm_and_si128(w0, lo), _mm_and_si128(_mm_srli_epi16(w0, 4), hi));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(row + k / 2), _mm_packus_epi16(pairs, pairs));
    }
#endif
    for (; k + 1 < cols; k += 2)
      row[k / 2] = static_cast<uint8_t>((c[k] & 0xfu) | ((c[k + 1] & 0xfu) << 4));
    o = static_cast<size_t>(k / 2);
  } else if (bits == 2) {
#ifdef __SSE2__
    // 16 codes -> 4 bytes: mask, narrow to bytes (values <= 3: no saturation), then merge
    // neighbours twice: 16-bit lanes c_2i | c_2i+1 << 2, 32-bit lanes of four codes.
    const __m128i m2 = _mm_set1_epi32(3), lo2 = _mm_set1_epi16(0x3), hi2 = _mm_set1_epi16(0xc);
    const __m128i lo4 = _mm_set1_epi32(0xf), hi4 = _mm_set1_epi32(0xf0);
    for (; k + 16 <= cols; k += 16) {
      const __m128i* p = reinterpret_cast<const __m128i*>(c + k);
      const __m128i a = _mm_and_si128(_mm_loadu_si128(p), m2);
      const __m128i b = _mm_and_si128(_mm_loadu_si128(p + 1), m2);
      const __m128i d = _mm_and_si128(_mm_loadu_si128(p + 2), m2);
      const __m128i e = _mm_and_si128(_mm_loadu_si128(p + 3), m2);
      const __m128i w = _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(d, e));
      const __m128i t =
          _mm_or_si128(_mm_and_si128(w, lo2), _mm_and_si128(_mm_srli_epi16(w, 6), hi2));
      const __m128i q =
          _mm_or_si128(_mm_and_si128(t, lo4), _mm_and_si128(_mm_srli_epi32(t, 12), hi4));
      const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(q, q), _mm_setzero_si128());
      const int32_t four = _mm_cvtsi128_si32(bytes);
      std::memcpy(row + k / 4, &four, 4);
    }
#endif
    for (; k + 3 < cols; k += 4) {
      row[k / 4] = static_cast<uint8_t>((c[k] & 3u) | ((c[k + 1] & 3u) << 2) |
                                        ((c[k + 2] & 3u) << 4) | ((c[k + 3] & 3u) << 6));
    }
    o = static_cast<size_t>(k / 4);
  } else if (bits == 6) {
    for (; k + 3 < cols; k += 4) {
      const uint32_t w = (c[k] & 63u) | ((c[k + 1] & 63u) << 6) | ((c[k + 2] & 63u) << 12) |
                         ((c[k + 3] & 63u) << 18);
      uint8_t* b = row + (k / 4) * 3;
      b[0] = static_cast<uint8_t>(w);
      b[1] = static_cast<uint8_t>(w >> 8);
      b[2] = static_cast<uint8_t>(w >> 16);
    }
    o = static_cast<size_t>((k / 4) * 3);
  }
  // The rest (all of a row for the other widths) through the bit buffer, from a byte boundary.
  uint64_t acc = 0;
  int nb = 0;
  for (; k < cols; ++k) {
    acc |= static_cast<uint64_t>(c[k] & mask) << nb;
    nb += bits;
    while (nb >= 8) {
      row[o++] = static_cast<uint8_t>(acc);
      acc >>= 8;
      nb -= 8;
    }
  }
  if (nb > 0) row[o] = static_cast<uint8_t>(acc);
}

void unpack_row(const uint8_t* row, int64_t cols, int bits, uint32_t* c) {
  const uint32_t mask = bits >= 32 ? 0xffffffffu : ((1u << bits) - 1u);
  int64_t k = 0;
  size_t i = 0;
  if (bits == 8) {
    for (; k < cols; ++k) c[k] = row[k];
    return;
  }
  if (bits == 4) {
#ifdef __SSE2__
    // 8 bytes -> 16 codes: split nibbles into 16-bit lanes (low nibble, high nibble), then
    // widen to 32 bits.
    const __m128i zero = _mm_setzero_si128(), lo = _mm_set1_epi16(0x0f);
    for (; k + 16 <= cols; k += 16) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + k / 2));
      const __m128i w = _mm_unpacklo_epi8(b, zero);  // 8 bytes as 16-bit lanes
      const __m128i pairs =
          _mm_or_si128(_mm_and_si128(w, lo), _mm_slli_epi16(_mm_srli_epi16(w, 4), 8));
      // pairs: lane i = c_2i | c_2i+1 << 8; as bytes they are the 16 codes in order.
      const __m128i lo8 = _mm_unpacklo_epi8(pairs, zero), hi8 = _mm_unpackhi_epi8(pairs, zero);
      __m128i* o = reinterpret_cast<__m128i*>(c + k);
      _mm_storeu_si128(o, _mm_unpacklo_epi16(lo8, zero));
      _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(lo8, zero));
      _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(hi8, zero));
      _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(hi8, zero));
    }
#endif
    for (; k + 1 < cols; k += 2) {
      c[k] = row[k / 2] & 0xfu;
      c[k + 1] = static_cast<uint32_t>(row[k / 2] >> 4);
    }
    i = static_cast<size_t>(k / 2);
  } else if (bits == 2) {
    // A byte -> its four codes, from a table (one 16-byte copy per byte).
    static const auto table = [] {
      std::array<std::array<uint32_t, 4>, 256> t{};
      for (uint32_t b = 0; b < 256; ++b)
        for (uint32_t q = 0; q < 4; ++q) t[b][q] = (b >> (2 * q)) & 3u;
      return t;
    }();
    for (; k + 3 < cols; k += 4) std::memcpy(c + k, table[row[k / 4]].data(), 16);
    i = static_cast<size_t>(k / 4);
  } else if (bits == 6) {
    for (; k + 3 < cols; k += 4) {
      const uint8_t* b = row + (k / 4) * 3;
      const uint32_t w = b[0] | (uint32_t{b[1]} << 8) | (uint32_t{b[2]} << 16);
      c[k] = w & 63u;
      c[k + 1] = (w >> 6) & 63u;
      c[k + 2] = (w >> 12) & 63u;
      c[k + 3] = w >> 18;
    }
    i = static_cast<size_t>((k / 4) * 3);
  }
  uint64_t acc = 0;
  int nb = 0;
  for (; k < cols; ++k) {
    while (nb < bits) {
      acc |= static_cast<uint64_t>(row[i++]) << nb;
      nb += 8;
    }
    c[k] = static_cast<uint32_t>(acc) & mask;
    acc >>= bits;
    nb -= bits;
  }
}

void check_packed_size(const std::vector<uint8_t>& packed, int64_t rows, int64_t cols, int bits) {
  const int64_t rb = packed_row_bytes(cols, bits);
  if (static_cast<int64_t>(packed.size()) != rb * rows) {
    throw Error("packed elements: expected " + std::to_string(rb * rows) + " bytes for " +
                std::to_string(rows) + " x " + std::to_string(cols) + " codes of " +
                std::to_string(bits) + " bits, got " + std::to_string(packed.size()));
  }
}

}  // namespace detail

std::vector<uint8_t> pack_codes(const std::vector<uint32_t>& codes, int64_t rows, int64_t cols,
                                int bits) {
  const int64_t rb = packed_row_bytes(cols, bits);
  std::vector<uint8_t> out(static_cast<size_t>(rb * rows), 0);
  for (int64_t r = 0; r < rows; ++r)
    detail::pack_row(codes.data() + r * cols, cols, bits, out.data() + r * rb);
  return out;
}

std::vector<uint32_t> unpack_codes(const std::vector<uint8_t>& packed, int64_t rows, int64_t cols,
                                   int bits) {
  detail::check_packed_size(packed, rows, cols, bits);
  const int64_t rb = packed_row_bytes(cols, bits);
  std::vector<uint32_t> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    detail::unpack_row(packed.data() + r * rb, cols, bits, out.data() + r * cols);
  return out;
}

void Format::quantize(const float* x, int64_t rows, int64_t cols, float* out) const {
  decode(encode(x, rows, cols), out);
}

EncodedTensor Format::encode(const Tensor& t) const {
  return encode(t.data.data(), t.rows(), t.cols());
}

Tensor Format::decode(const EncodedTensor& e) const {
  Tensor t = Tensor::zeros({e.rows, e.cols});
  decode(e, t.data.data());
  return t;
}

Tensor Format::quantize(const Tensor& t) const {
  Tensor out = Tensor::zeros(t.shape);
  quantize(t.data.data(), t.rows(), t.cols(), out.data.data());
  return out;
}

void Format::check_encoded(const EncodedTensor& e) const {
  if (e.format != name()) {
    throw Error("encoded tensor is of format '" + e.format + "', not '" + name() + "'");
  }
  if (e.rows < 0 || e.cols < 0) {
    throw Error("encoded tensor of format '" + e.format + "' has a negative shape");
  }
}

void require_finite(const float* x, int64_t n, int64_t cols, const std::string& format) {
  // Blocks of 1024 are screened by their exponent fields (an all-ones exponent is NaN/Inf; the
  // AND-reduction vectorizes); only a block that holds one is searched element by element.
  constexpr int64_t kBlock = 1024;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    uint32_t bad = 0;
    for (int64_t i = b; i < e; ++i) {
      uint32_t u;
      std::memcpy(&u, x + i, 4);
      bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
    }
    if (!bad) continue;
    for (int64_t i = b; i < e; ++i) {
      if (!std::isfinite(x[i])) {
        std::ostringstream os;
        os << "format '" << format << "': input element " << i << " (row " << i / cols << ", col "
           << i % cols << ") is " << (std::isnan(x[i]) ? "NaN" : "Inf") << "; " << format
           << " cannot encode NaN/Inf";
        throw Error(os.str());
      }
    }
  }
}

}  // namespace qarch::quant
