// NumPy .npy reader and writer. Format facts from NEP 1 and the documentation of
// numpy/lib/format.py (NumPy 1.24): magic "\x93NUMPY" + major + minor; header length u16
// LE (1.0) or u32 LE (2.0, 3.0); header = Python dict literal with exactly the keys
// 'descr', 'fortran_order', 'shape' (latin-1 in 1.0/2.0, UTF-8 in 3.0), padded with
// spaces and a final '\n' so the data starts at a multiple of ARRAY_ALIGN = 64.
#include <algorithm>
#include <cctype>
#include <utility>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/quant/tensor_io.h"
#include "tensor_io_internal.h"

namespace qarch::quant {
namespace {

using namespace io_detail;

// Shapes beyond 2^56 elements are malformed whatever the limit option says; this keeps
// numel * element size far from overflow.
constexpr int64_t kStructuralElementLimit = int64_t{1} << 56;

// The subset of Python literals an .npy header can hold (ast.literal_eval's view of it).
struct PyValue {
  enum Kind { kStr, kBool, kNone, kInt, kTuple, kList } kind = kNone;
  std::string str;
  bool boolean = false;
  int64_t integer = 0;
  bool int_overflow = false;  // an int beyond int64 (Python ints are unbounded)
  std::vector<PyValue> items;

  const char* kind_name() const {
    switch (kind) {
      case kStr:
        return "a string";
      case kBool:
        return "a bool";
      case kNone:
        return "None";
      case kInt:
        return "an integer";
      case kTuple:
        return "a tuple";
      case kList:
        return "a list";
    }
    return "?";
  }
};

// Recursive-descent parser for the header dict: {'key': value, ...} with arbitrary
// whitespace and trailing commas. Depth is capped so hostile nesting cannot exhaust the
// stack.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string source)
      : text_(text), source_(std::move(source)) {}

  std::vector<std::pair<std::string, PyValue>> parse_dict() {
    std::vector<std::pair<std::string, PyValue>> out;
    skip_ws();
    expect('{', "the header must be a dict literal starting with '{'");
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      if (peek() != '\'' && peek() != '"') fail("expected a quoted key or '}'");
      std::string key = parse_string();
      skip_ws();
      expect(':', "expected ':' after key " + quote(key));
      PyValue v = parse_value(1);
      for (const auto& kv : out)
        if (kv.first == key) fail("duplicate key " + quote(key));
      out.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_ws();
      expect('}', "expected ',' or '}' after the value of " + quote(out.back().first));
      break;
    }
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected text after the closing '}'");
    return out;
  }

 private:
  static constexpr int kMaxDepth = 32;

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }

  void skip_ws() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') break;
      ++pos_;
    }
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(source_ + ": malformed .npy header at byte " + std::to_string(pos_) + ": " + what +
                " (header: " + quote(text_, 120) + ")");
  }

  void expect(char c, const std::string& what) {
    if (peek() != c || at_end()) fail(what);
    ++pos_;
  }

  std::string parse_string() {
    const char q = text_[pos_++];
    std::string s;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == q) return s;
      // NumPy never writes escapes in these fields; refusing them keeps the parser small.
      if (c == '\\') fail("escape sequences in strings are not supported");
      if (c == '\n') fail("newline inside a string");
      s += c;
    }
  }

  PyValue parse_number() {
    PyValue v;
    v.kind = PyValue::kInt;
    bool neg = false;
    if (peek() == '+' || peek() == '-') neg = text_[pos_++] == '-';
    if (!(peek() >= '0' && peek() <= '9')) fail("expected a digit");
    uint64_t mag = 0;
    while (peek() >= '0' && peek() <= '9') {
      const uint64_t d = static_cast<uint64_t>(text_[pos_++] - '0');
      if (mag > (UINT64_MAX - d) / 10) {
        v.int_overflow = true;
      } else {
        mag = mag * 10 + d;
      }
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long suffix (old NumPy files)
    if (peek() == '.' || peek() == 'e' || peek() == 'E' || peek() == 'j' || peek() == 'J')
      fail("only integer numbers are allowed");
    const uint64_t max = neg ? uint64_t{1} << 63 : static_cast<uint64_t>(INT64_MAX);
    if (mag > max) v.int_overflow = true;
    if (!v.int_overflow)
      v.integer = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
    return v;
  }

  PyValue parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth));
    skip_ws();
    const char c = peek();
    if (at_end()) fail("expected a value");
    PyValue v;
    if (c == '\'' || c == '"') {
      v.kind = PyValue::kStr;
      v.str = parse_string();
      return v;
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '+') return parse_number();
    if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      ++pos_;
      v.kind = c == '(' ? PyValue::kTuple : PyValue::kList;
      bool saw_comma = false;
      for (;;) {
        skip_ws();
        if (peek() == close && !at_end()) {
          ++pos_;
          break;
        }
        v.items.push_back(parse_value(depth + 1));
        skip_ws();
        if (peek() == ',' && !at_end()) {
          ++pos_;
          saw_comma = true;
          continue;
        }
        if (peek() != close || at_end()) fail(std::string("expected ',' or '") + close + "'");
      }
      // Python: "(5)" is the int 5, not a tuple; "(5,)" and "()" are tuples.
      if (v.kind == PyValue::kTuple && v.items.size() == 1 && !saw_comma) {
        PyValue inner = std::move(v.items[0]);
        return inner;
      }
      return v;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = pos_;
      while (end < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_'))
        ++end;
      const std::string_view word = text_.substr(pos_, end - pos_);
      if (word == "True" || word == "False") {
        v.kind = PyValue::kBool;
        v.boolean = word == "True";
      } else if (word == "None") {
        v.kind = PyValue::kNone;
      } else {
        fail("unexpected name " + quote(word));
      }
      pos_ = end;
      return v;
    }
    fail(std::string("unexpected character ") + quote(std::string_view(&text_[pos_], 1)));
  }

  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;
};

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(len) > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += static_cast<size_t>(len);
  }
  return true;
}

struct NpyHeader {
  std::string descr;
  Elem elem = Elem::kF32;
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  uint64_t data_offset = 0;
};

const char* kSupportedDescrs =
    "supported: '<f4', '<f2', '<f8' and their big-endian forms '>f4', '>f2', '>f8'; "
    "'<i2'/'<u2' as bfloat16 bit patterns with --int16-as-bf16";

// Maps a descr string to an element type.
void parse_descr(const std::string& source, const std::string& descr, const NpyReadOptions& options,
                 NpyHeader& h) {
  const std::string field = source + ": .npy header field 'descr': ";
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '>')) {
    h.big_endian = descr[0] == '>';
    const std::string t = descr.substr(1);
    if (t == "f4") {
      h.elem = Elem::kF32;
      return;
    }
    if (t == "f2") {
      h.elem = Elem::kF16;
      return;
    }
    if (t == "f8") {
      h.elem = Elem::kF64;
      return;
    }
    if (t == "i2" || t == "u2") {
      if (!options.int16_as_bf16) {
        throw Error(field + "dtype " + quote(descr) +
                    " is a 16-bit integer array; if it holds bfloat16 bit patterns (torch: "
                    "t.view(torch.int16).numpy()), read it as bfloat16: qarch quant "
                    "--int16-as-bf16 (library: NpyReadOptions::int16_as_bf16)");
      }
      h.elem = Elem::kBF16;
      return;
    }
  }
  throw Error(field + "dtype " + quote(descr) + " is not supported (" + kSupportedDescrs + ")");
}

NpyHeader parse_header(const ByteSource& src, const NpyReadOptions& options) {
  const std::string& name = src.name();
  const uint64_t size = src.size();
  if (size < 10) {
    throw Error(name + ": file is " + std::to_string(size) +
                " bytes, too short for a .npy header (at least 10)");
  }
  uint8_t pre[12] = {};
  src.read(0, pre, std::min<uint64_t>(size, 12));
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (std::memcmp(pre, kMagic, 6) != 0)
    throw Error(name + ": not a .npy file (the first 6 bytes are not \\x93NUMPY)");
  const int major = pre[6], minor = pre[7];
  uint64_t header_len, header_start;
  if (major == 1 && minor == 0) {
    header_len = load_le16(pre + 8);
    header_start = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (size < 12) {
      throw Error(name + ": file is " + std::to_string(size) + " bytes, too short for a .npy " +
                  std::to_string(major) + ".0 header (at least 12)");
    }
    header_len = load_le32(pre + 8);
    header_start = 12;
  } else {
    throw Error(name + ": unsupported .npy format version " + std::to_string(major) + "." +
                std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }
  if (header_len > kMaxNpyHeaderBytes) {
    throw Error(name + ": .npy header length " + std::to_string(header_len) +
                " is larger than the limit of " + std::to_string(kMaxNpyHeaderBytes) + " bytes");
  }
  if (header_len > size - header_start) {
    throw Error(name + ": .npy header length " + std::to_string(header_len) +
                " runs past the end of the file (" + std::to_string(size) + " bytes)");
  }
  std::string text(header_len, '\0');
  src.read(header_start, text.data(), header_len);
  if (major == 3 && !valid_utf8(text)) throw Error(name + ": .npy 3.0 header is not valid UTF-8");

  NpyHeader h;
  h.data_offset = header_start + header_len;
  const auto dict = HeaderParser(text, name).parse_dict();
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (const auto& kv : dict) {
    if (kv.first == "descr") {
      descr = &kv.second;
    } else if (kv.first == "fortran_order") {
      fortran = &kv.second;
    } else if (kv.first == "shape") {
      shape = &kv.second;
    } else {
      throw Error(name + ": .npy header has an unexpected key " + quote(kv.first) +
                  " (the format has exactly 'descr', 'fortran_order', 'shape')");
    }
  }
  for (const auto& [p, key] : {std::pair{descr, "descr"}, std::pair{fortran, "fortran_order"},
                               std::pair{shape, "shape"}}) {
    if (!p) throw Error(name + ": .npy header has no '" + key + "' key");
  }
  if (descr->kind == PyValue::kList)
    throw Error(name +
                ": .npy header field 'descr': structured dtypes (lists of fields) are "
                "not supported; save a plain float array");
  if (descr->kind != PyValue::kStr)
    throw Error(name + ": .npy header field 'descr' is " + descr->kind_name() +
                ", expected a dtype string like '<f4'");
  h.descr = descr->str;
  if (fortran->kind != PyValue::kBool)
    throw Error(name + ": .npy header field 'fortran_order' is " + fortran->kind_name() +
                ", expected True or False");
  h.fortran_order = fortran->boolean;
  if (shape->kind != PyValue::kTuple)
    throw Error(name + ": .npy header field 'shape' is " + shape->kind_name() +
                ", expected a tuple of integers like (3, 4) or (5,)");
  for (size_t i = 0; i < shape->items.size(); ++i) {
    const PyValue& d = shape->items[i];
    const std::string where = name + ": .npy header field 'shape' entry " + std::to_string(i);
    if (d.kind != PyValue::kInt)
      throw Error(where + " is " + d.kind_name() + ", expected an integer");
    if (d.int_overflow) throw Error(where + " does not fit in 64 bits");
    if (d.integer < 0) throw Error(where + " is negative (" + std::to_string(d.integer) + ")");
    h.shape.push_back(d.integer);
  }
  parse_descr(name, h.descr, options, h);
  h.numel = shape_numel(h.shape, name + ": .npy header field 'shape' " + shape_tuple(h.shape),
                        kStructuralElementLimit);
  return h;
}

Tensor read_npy_source(const ByteSource& src, const NpyReadOptions& options) {
  const NpyHeader h = parse_header(src, options);
  const uint64_t need = static_cast<uint64_t>(h.numel) * elem_bytes(h.elem);
  const uint64_t have = src.size() - h.data_offset;
  const std::string what = "dtype " + quote(h.descr) + " shape " + shape_tuple(h.shape);
  if (have < need) {
    throw Error(src.name() + ": .npy data holds " + std::to_string(have) + " bytes but " + what +
                " needs " + std::to_string(need) + " (truncated file?)");
  }
  if (have > need) {
    throw Error(src.name() + ": .npy file has " + std::to_string(have - need) +
                " bytes after the data of " + what + " (" + std::to_string(need) + " bytes)");
  }
  if (h.numel > options.max_elements) {
    throw Error(src.name() + ": " + what + " has " + std::to_string(h.numel) +
                " elements, more than the limit of " + std::to_string(options.max_elements) +
                " (NpyReadOptions::max_elements)");
  }
  std::vector<float> data(static_cast<size_t>(h.numel));
  read_elements(src, h.data_offset, h.elem, h.big_endian, data.size(), data.data());
  if (h.fortran_order) data = fortran_to_c_order(data, h.shape);
  return Tensor(h.shape, std::move(data));
}

// The bytes before the data, exactly as numpy.save() (NumPy 1.24) writes them for a
// float32 C-order array: dict entries in sorted key order with repr() values, then spare
// spaces so the header can grow in place (GROWTH_AXIS_MAX_DIGITS = 21 minus the digits of
// the first extent), then spaces to align the data to 64 and a final '\n'. Version 1.0
// unless the header length does not fit a u16.
std::vector<uint8_t> npy_prefix(const std::vector<int64_t>& shape, const std::string& descr) {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  if (!shape.empty()) {
    const size_t digits = std::to_string(shape[0]).size();
    if (digits < 21) dict.append(21 - digits, ' ');
  }
  const size_t hlen = dict.size() + 1;  // + '\n'
  int major = 1;
  size_t len_bytes = 2;
  size_t pad = 64 - (8 + len_bytes + hlen) % 64;
  if (hlen + pad > 0xffff) {
    major = 2;
    len_bytes = 4;
    pad = 64 - (8 + len_bytes + hlen) % 64;
  }
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  store_le(out, hlen + pad, static_cast<int>(len_bytes));
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), pad, ' ');
  out.push_back('\n');
  return out;
}

}  // namespace

Tensor read_npy(const std::string& path, const NpyReadOptions& options) {
  const FileSource src(path);
  return read_npy_source(src, options);
}

Tensor read_npy_buffer(const void* data, size_t size, const NpyReadOptions& options,
                       const std::string& source) {
  const MemorySource src(data, size, source);
  return read_npy_source(src, options);
}

std::vector<uint8_t> encode_npy(const Tensor& tensor) {
  check_tensor(tensor, "encode_npy");
  std::vector<uint8_t> out = npy_prefix(tensor.shape, "<f4");
  out.reserve(out.size() + tensor.data.size() * 4);
  VectorSink sink(out);
  write_f32_le(sink, tensor.data.data(), tensor.data.size());
  return out;
}

void write_npy_raw(const std::string& path, const std::string& descr,
                   const std::vector<int64_t>& shape, const void* data, size_t bytes) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(path + ": negative dimension in the shape to write");
    n *= d;
  }
  const size_t elem = descr == "|u1" ? 1 : (descr == "<u4" || descr == "<f4") ? 4 : 0;
  if (elem == 0) throw Error(path + ": write_npy_raw: unsupported dtype '" + descr + "'");
  if (static_cast<size_t>(n) * elem != bytes) {
    throw Error(path + ": write_npy_raw: " + std::to_string(bytes) + " bytes for " +
                std::to_string(n) + " elements of " + descr);
  }
  const std::vector<uint8_t> prefix = npy_prefix(shape, descr);
  AtomicFileWriter w(path);
  w.write(prefix.data(), prefix.size());
  if (bytes) w.write(data, bytes);  // little-endian host (x86/ARM Linux)
  w.commit();
}

void write_npy(const std::string& path, const Tensor& tensor) {
  check_tensor(tensor, path);
  const std::vector<uint8_t> prefix = npy_prefix(tensor.shape, "<f4");
  AtomicFileWriter w(path);
  w.write(prefix.data(), prefix.size());
  FileSink sink(w);
  write_f32_le(sink, tensor.data.data(), tensor.data.size());
  w.commit();
}

}  // namespace qarch::quant
