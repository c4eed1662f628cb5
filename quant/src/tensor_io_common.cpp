// Shared machinery of the tensor file readers: byte sources, element conversion, helpers,
// and the functions of tensor_io.h that are not specific to one format.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <sstream>

#include "qarch/quant/fp_element.h"
#include "qarch/quant/tensor.h"
#include "qarch/quant/tensor_io.h"
#include "tensor_io_internal.h"

namespace qarch::quant {
namespace io_detail {

void ByteSource::read(uint64_t offset, void* dst, size_t n) const {
  if (offset > size_ || n > size_ - offset) {
    throw Error(name_ + ": read of " + std::to_string(n) + " bytes at offset " +
                std::to_string(offset) + " runs past the end (" + std::to_string(size_) +
                " bytes)");
  }
  if (n) read_impl(offset, dst, n);
}

void MemorySource::read_impl(uint64_t offset, void* dst, size_t n) const {
  std::memcpy(dst, data_ + offset, n);
}

FileSource::Opened FileSource::open_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(path + ": cannot stat: " + std::strerror(err));
  }
  // The readers need the size up front to validate headers against it.
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  return {fd, static_cast<uint64_t>(st.st_size)};
}

FileSource::FileSource(const std::string& path) : FileSource(path, open_file(path)) {}

FileSource::~FileSource() {
  ::close(fd_);
}

void FileSource::read_impl(uint64_t offset, void* dst, size_t n) const {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error(name() + ": read failed at offset " + std::to_string(offset) + ": " +
                  std::strerror(errno));
    }
    if (got == 0) {
      throw Error(name() + ": file ended at offset " + std::to_string(offset) +
                  " while reading (was it truncated while being read?)");
    }
    p += got;
    offset += static_cast<uint64_t>(got);
    n -= static_cast<size_t>(got);
  }
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // Inf, or NaN with its payload
  } else if (exp != 0) {
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal m * 2^-24: shift the leading 1 into the implicit-bit position (bit 10);
    // each shift lowers the binary32 exponent field from 113 = 127 - 14.
    uint32_t e = 127 - 14;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

// FP8 decode tables built from the one FP element codec (fp_element.h), so the file
// readers and the formats cannot disagree on an FP8 value.
const std::array<float, 256>& fp8_table(const FpElementSpec& spec) {
  static const std::array<float, 256> e4m3 = [] {
    std::array<float, 256> t{};
    for (uint32_t c = 0; c < 256; ++c) t[c] = fp_decode(kE4M3, c);
    return t;
  }();
  static const std::array<float, 256> e5m2 = [] {
    std::array<float, 256> t{};
    for (uint32_t c = 0; c < 256; ++c) t[c] = fp_decode(kE5M2, c);
    return t;
  }();
  return &spec == &kE4M3 ? e4m3 : e5m2;
}

inline uint16_t bswap16(uint16_t v) {
  return static_cast<uint16_t>((v >> 8) | (v << 8));
}

template <typename U>
inline U load(const uint8_t* p, bool swap) {
  U v;
  std::memcpy(&v, p, sizeof(U));
  if (swap) {
    if constexpr (sizeof(U) == 2) v = bswap16(v);
    if constexpr (sizeof(U) == 4) v = __builtin_bswap32(v);
    if constexpr (sizeof(U) == 8) v = __builtin_bswap64(v);
  }
  return v;
}

}  // namespace

void convert_to_f32(Elem elem, bool big_endian, const uint8_t* src, size_t n, float* dst) {
  if (n == 0) return;  // dst may be null (empty vector): memcpy must not see it
  const bool swap = big_endian == host_is_little_endian();
  switch (elem) {
    case Elem::kF32:
      if (!swap) {
        std::memcpy(dst, src, n * 4);
      } else {
        for (size_t i = 0; i < n; ++i) {
          const uint32_t b = load<uint32_t>(src + 4 * i, true);
          std::memcpy(dst + i, &b, 4);
        }
      }
      return;
    case Elem::kF16:
      for (size_t i = 0; i < n; ++i) dst[i] = half_to_float(load<uint16_t>(src + 2 * i, swap));
      return;
    case Elem::kBF16:
      // bfloat16 is the top half of a binary32: widening is a shift (exact, NaN kept).
      for (size_t i = 0; i < n; ++i) {
        const uint32_t b = static_cast<uint32_t>(load<uint16_t>(src + 2 * i, swap)) << 16;
        std::memcpy(dst + i, &b, 4);
      }
      return;
    case Elem::kF64:
      for (size_t i = 0; i < n; ++i) {
        const uint64_t b = load<uint64_t>(src + 8 * i, swap);
        double d;
        std::memcpy(&d, &b, 8);
        dst[i] = static_cast<float>(d);  // IEEE conversion: round to nearest even
      }
      return;
    case Elem::kE4M3:
    case Elem::kE5M2: {
      const auto& t = fp8_table(elem == Elem::kE4M3 ? kE4M3 : kE5M2);
      for (size_t i = 0; i < n; ++i) dst[i] = t[src[i]];
      return;
    }
  }
}

void read_elements(const ByteSource& src, uint64_t offset, Elem elem, bool big_endian, size_t n,
                   float* dst) {
  const size_t eb = elem_bytes(elem);
  if (n > SIZE_MAX / 8 || offset > src.size() || n * eb > src.size() - offset) {
    throw Error(src.name() + ": " + std::to_string(n) + " elements at offset " +
                std::to_string(offset) + " run past the end (" + std::to_string(src.size()) +
                " bytes)");
  }
  if (n == 0) return;
  if (const uint8_t* mem = src.memory()) {
    convert_to_f32(elem, big_endian, mem + offset, n, dst);
    return;
  }
  if (elem == Elem::kF32 && big_endian != host_is_little_endian()) {
    src.read(offset, dst, n * 4);  // straight from the page cache into the tensor
    return;
  }
  constexpr size_t kChunkBytes = size_t{1} << 20;
  const size_t per_chunk = kChunkBytes / eb;
  std::vector<uint8_t> buf(std::min(n, per_chunk) * eb);
  for (size_t done = 0; done < n;) {
    const size_t k = std::min(per_chunk, n - done);
    src.read(offset + done * eb, buf.data(), k * eb);
    convert_to_f32(elem, big_endian, buf.data(), k, dst + done);
    done += k;
  }
}

void write_f32_le(Sink& sink, const float* data, size_t n) {
  if (host_is_little_endian()) {
    sink.write(data, n * 4);
    return;
  }
  std::vector<uint8_t> buf;
  constexpr size_t kChunk = 1 << 16;
  for (size_t done = 0; done < n; done += kChunk) {
    const size_t k = std::min(kChunk, n - done);
    buf.clear();
    for (size_t i = 0; i < k; ++i) {
      uint32_t b;
      std::memcpy(&b, data + done + i, 4);
      store_le(buf, b, 4);
    }
    sink.write(buf.data(), buf.size());
  }
}

void check_tensor(const Tensor& t, const std::string& what) {
  const int64_t n = checked_numel(t.shape, what);
  if (n != t.numel()) {
    throw Error(what + ": shape " + shape_list(t.shape) + " needs " + std::to_string(n) +
                " elements but the tensor holds " + std::to_string(t.numel()));
  }
}

std::string quote(std::string_view s, size_t max) {
  std::string out = "'";
  static const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == max) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "'";
}

std::string shape_list(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

int64_t shape_numel(const std::vector<int64_t>& shape, const std::string& what, int64_t limit) {
  for (const int64_t d : shape) {
    if (d < 0) throw Error(what + ": negative dimension " + std::to_string(d));
    if (d > limit) {
      throw Error(what + ": dimension " + std::to_string(d) + " is larger than " +
                  std::to_string(limit));
    }
  }
  return checked_numel(shape, what, limit);
}

std::vector<float> fortran_to_c_order(const std::vector<float>& src,
                                      const std::vector<int64_t>& shape) {
  const size_t r = shape.size();
  if (r <= 1 || src.empty()) return src;
  // Fortran strides: axis 0 varies fastest. Walk the output in C order with an odometer
  // over the leading axes and a strided inner loop over the last axis.
  std::vector<int64_t> fs(r, 1);
  for (size_t k = 1; k < r; ++k) fs[k] = fs[k - 1] * shape[k - 1];
  const int64_t last = shape[r - 1], ls = fs[r - 1];
  std::vector<float> out(src.size());
  std::vector<int64_t> idx(r, 0);
  int64_t base = 0;
  for (size_t pos = 0; pos < out.size(); pos += static_cast<size_t>(last)) {
    for (int64_t j = 0; j < last; ++j) out[pos + static_cast<size_t>(j)] = src[base + j * ls];
    for (size_t k = r - 1; k-- > 0;) {
      base += fs[k];
      if (++idx[k] < shape[k]) break;
      base -= fs[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

}  // namespace io_detail

NonFiniteCount count_nonfinite(const float* data, int64_t n) {
  NonFiniteCount c;
  for (int64_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (std::isfinite(v)) continue;
    if (c.first < 0) c.first = i;
    if (std::isnan(v)) {
      ++c.nan;
    } else if (v > 0) {
      ++c.pos_inf;
    } else {
      ++c.neg_inf;
    }
  }
  return c;
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Tensor read_tensor_file(const std::string& path, const std::string& name,
                        const NpyReadOptions& npy_options,
                        const SafetensorsReadOptions& safetensors_options) {
  if (ends_with(path, ".npy")) {
    if (!name.empty()) {
      throw Error(path + ": a .npy file holds one unnamed tensor; cannot select tensor " +
                  io_detail::quote(name));
    }
    return read_npy(path, npy_options);
  }
  if (ends_with(path, ".safetensors")) {
    if (!name.empty()) return read_safetensors_tensor(path, name, safetensors_options);
    const SafetensorsIndex index = read_safetensors_index(path);
    if (index.entries.size() != 1) {
      throw Error(path + ": holds " + std::to_string(index.entries.size()) +
                  " tensors; name the one to read (" + io_detail::tensor_names(index) + ")");
    }
    return read_safetensors_tensor(path, index.entries[0].name, safetensors_options);
  }
  throw Error(path + ": unknown tensor file type (expected a .npy or .safetensors file name)");
}

}  // namespace qarch::quant
