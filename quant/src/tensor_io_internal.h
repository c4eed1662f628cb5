// Shared machinery of the tensor file readers and writers (npy.cpp, safetensors.cpp):
// byte sources (file or memory) with bounds-checked reads, element conversion to FP32,
// little-endian helpers and message formatting. Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/quant/tensor.h"

namespace qarch::quant {
struct SafetensorsIndex;
}

namespace qarch::quant::io_detail {

/// Bytes to read from: a file (pread) or a memory buffer. read() throws qarch::Error
/// naming the source if the range is not inside [0, size()).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  const std::string& name() const { return name_; }
  uint64_t size() const { return size_; }
  /// Direct access for memory sources (nullptr for files): lets conversions skip a copy.
  virtual const uint8_t* memory() const { return nullptr; }
  /// Reads exactly n bytes at offset into dst.
  void read(uint64_t offset, void* dst, size_t n) const;

 protected:
  ByteSource(std::string name, uint64_t size) : name_(std::move(name)), size_(size) {}
  virtual void read_impl(uint64_t offset, void* dst, size_t n) const = 0;

 private:
  std::string name_;
  uint64_t size_;
};

/// A buffer owned by the caller.
class MemorySource final : public ByteSource {
 public:
  MemorySource(const void* data, size_t size, std::string name)
      : ByteSource(std::move(name), size), data_(static_cast<const uint8_t*>(data)) {}
  const uint8_t* memory() const override { return data_; }

 private:
  void read_impl(uint64_t offset, void* dst, size_t n) const override;
  const uint8_t* data_;
};

/// A regular file, opened read-only for the lifetime of the object.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

 private:
  struct Opened {
    int fd;
    uint64_t size;
  };
  static Opened open_file(const std::string& path);
  FileSource(const std::string& path, Opened opened)
      : ByteSource(path, opened.size), fd_(opened.fd) {}
  void read_impl(uint64_t offset, void* dst, size_t n) const override;
  int fd_;
};

/// Element types the readers convert to FP32.
enum class Elem { kF32, kF16, kBF16, kF64, kE4M3, kE5M2 };

inline size_t elem_bytes(Elem e) {
  switch (e) {
    case Elem::kF64:
      return 8;
    case Elem::kF32:
      return 4;
    case Elem::kF16:
    case Elem::kBF16:
      return 2;
    default:
      return 1;
  }
}

/// IEEE binary16 -> binary32, exact (NaN payloads and signs kept).
float half_to_float(uint16_t h);

/// Converts n elements at src (any alignment) to FP32.
void convert_to_f32(Elem elem, bool big_endian, const uint8_t* src, size_t n, float* dst);

/// Reads n elements of `elem` at `offset` of `src` into dst (converted; chunked for files,
/// direct for memory; FP32 little-endian goes straight into dst).
void read_elements(const ByteSource& src, uint64_t offset, Elem elem, bool big_endian, size_t n,
                   float* dst);

/// Destination of a writer: a memory vector or an AtomicFileWriter.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const void* data, size_t n) = 0;
};

/// Appends to a byte vector.
class VectorSink final : public Sink {
 public:
  explicit VectorSink(std::vector<uint8_t>& out) : out_(out) {}
  void write(const void* data, size_t n) override {
    const auto* p = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), p, p + n);
  }

 private:
  std::vector<uint8_t>& out_;
};

/// Streams into an atomic file.
class FileSink final : public Sink {
 public:
  explicit FileSink(AtomicFileWriter& w) : w_(w) {}
  void write(const void* data, size_t n) override { w_.write(data, n); }

 private:
  AtomicFileWriter& w_;
};

/// Throws qarch::Error (prefixed with `what`) if the tensor's data does not match its shape
/// (Tensor's fields are public, so a caller can break the invariant).
void check_tensor(const Tensor& t, const std::string& what);

/// Writes n floats as little-endian FP32.
void write_f32_le(Sink& sink, const float* data, size_t n);

inline bool host_is_little_endian() {
  return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
}

inline uint16_t load_le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t load_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t load_le64(const uint8_t* p) {
  return static_cast<uint64_t>(load_le32(p)) | (static_cast<uint64_t>(load_le32(p + 4)) << 32);
}
inline void store_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

/// `s` quoted for a message: printable ASCII kept, anything else as \xNN, cut after `max`
/// characters (file contents can be arbitrary bytes).
std::string quote(std::string_view s, size_t max = 80);

/// "[2, 3]" (JSON style) or "(2, 3)" / "(5,)" / "()" (Python tuple style).
std::string shape_list(const std::vector<int64_t>& shape);
std::string shape_tuple(const std::vector<int64_t>& shape);

/// Product of the extents with an overflow check; throws "<what>: shape too large" past
/// `limit` (see checked_numel in tensor.h) and rejects a single extent beyond `limit` even
/// when another is 0 (such a shape is never a real tensor and breaks later size arithmetic).
int64_t shape_numel(const std::vector<int64_t>& shape, const std::string& what, int64_t limit);

/// "tensors: 'a', 'b', ..." (at most 10 names) for "no such tensor" messages.
std::string tensor_names(const SafetensorsIndex& index);

/// Rearranges Fortran-order (column-major) data of `shape` into row-major order.
std::vector<float> fortran_to_c_order(const std::vector<float>& src,
                                      const std::vector<int64_t>& shape);

}  // namespace qarch::quant::io_detail
