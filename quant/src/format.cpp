#include "qarch/quant/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "qarch/common/error.h"

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

std::vector<uint8_t> pack_codes(const std::vector<uint32_t>& codes, int64_t rows, int64_t cols,
                                int bits) {
  const int64_t rb = packed_row_bytes(cols, bits);
  std::vector<uint8_t> out(static_cast<size_t>(rb * rows), 0);
  if (bits == 8) {  // fast paths for the common widths
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(codes[i]);
    return out;
  }
  if (bits == 4) {
    for (int64_t r = 0; r < rows; ++r) {
      const uint32_t* c = codes.data() + r * cols;
      uint8_t* row = out.data() + r * rb;
      for (int64_t k = 0; k + 1 < cols; k += 2) {
        row[k / 2] = static_cast<uint8_t>((c[k] & 0xfu) | ((c[k + 1] & 0xfu) << 4));
      }
      if (cols & 1) row[cols / 2] = static_cast<uint8_t>(c[cols - 1] & 0xfu);
    }
    return out;
  }
  const uint32_t mask = bits >= 32 ? 0xffffffffu : ((1u << bits) - 1u);
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = out.data() + r * rb;
    uint64_t bitpos = 0;
    for (int64_t c = 0; c < cols; ++c, bitpos += bits) {
      uint32_t v = codes[r * cols + c] & mask;
      for (int b = 0; b < bits;) {
        const uint64_t byte = (bitpos + b) >> 3;
        const int off = static_cast<int>((bitpos + b) & 7);
        const int take = std::min(8 - off, bits - b);
        row[byte] |= static_cast<uint8_t>(((v >> b) & ((1u << take) - 1u)) << off);
        b += take;
      }
    }
  }
  return out;
}

std::vector<uint32_t> unpack_codes(const std::vector<uint8_t>& packed, int64_t rows, int64_t cols,
                                   int bits) {
  const int64_t rb = packed_row_bytes(cols, bits);
  if (static_cast<int64_t>(packed.size()) != rb * rows) {
    throw Error("packed elements: expected " + std::to_string(rb * rows) + " bytes for " +
                std::to_string(rows) + " x " + std::to_string(cols) + " codes of " +
                std::to_string(bits) + " bits, got " + std::to_string(packed.size()));
  }
  std::vector<uint32_t> out(static_cast<size_t>(rows * cols));
  if (bits == 8) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = packed[i];
    return out;
  }
  if (bits == 4) {
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* row = packed.data() + r * rb;
      uint32_t* o = out.data() + r * cols;
      for (int64_t k = 0; k < cols; ++k) o[k] = (row[k / 2] >> ((k & 1) * 4)) & 0xfu;
    }
    return out;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = packed.data() + r * rb;
    uint64_t bitpos = 0;
    for (int64_t c = 0; c < cols; ++c, bitpos += bits) {
      uint32_t v = 0;
      for (int b = 0; b < bits;) {
        const uint64_t byte = (bitpos + b) >> 3;
        const int off = static_cast<int>((bitpos + b) & 7);
        const int take = std::min(8 - off, bits - b);
        v |= ((static_cast<uint32_t>(row[byte]) >> off) & ((1u << take) - 1u)) << b;
        b += take;
      }
      out[r * cols + c] = v;
    }
  }
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
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      std::ostringstream os;
      os << "format '" << format << "': input element " << i << " (row " << i / cols << ", col "
         << i % cols << ") is " << (std::isnan(x[i]) ? "NaN" : "Inf") << "; " << format
         << " cannot encode NaN/Inf";
      throw Error(os.str());
    }
  }
}

}  // namespace qarch::quant
