// Tensor files: NumPy .npy and Hugging Face .safetensors, read into FP32 Tensors and
// written as FP32. Both readers treat the file as hostile: every size, offset and shape
// is checked (with overflow-safe arithmetic) before it is used, so a malformed file gives
// a qarch::Error whose message names the file (or "<memory>"), the field and the problem,
// never a crash or an out-of-bounds read. NaN and Inf values are data, not errors: callers
// that cannot take them check with count_nonfinite().
//
// Format facts:
// - .npy: NumPy Enhancement Proposal NEP 1 and numpy/lib/format.py docs. Magic
//   "\x93NUMPY", major, minor; v1.0: u16 LE header length, v2.0: u32 LE, v3.0: like 2.0
//   with a UTF-8 (not latin-1) header. The header is a Python dict literal with exactly
//   the keys 'descr', 'fortran_order', 'shape', padded with spaces and ended by '\n' so
//   the data starts at a multiple of 64 bytes (older NumPy versions aligned to 16; the
//   reader requires no alignment).
// - .safetensors: github.com/huggingface/safetensors README "Format": u64 LE header
//   length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]},
//   "__metadata__": {str: str}} (offsets relative to the byte buffer after the header),
//   then the byte buffer; little-endian, C order; duplicate keys are forbidden; the byte
//   buffer must be entirely indexed with no holes; the reference implementation caps N at
//   100,000,000 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qarch/quant/tensor.h"

namespace qarch::quant {

/// Default cap on the elements of one tensor read from a file: 2^32 elements (16 GiB as
/// FP32). Larger tensors are refused with an error naming the limit; raise max_elements
/// in the read options to read them anyway. (Independently, a reader never allocates more
/// than the file holds: the shape must match the bytes actually present.)
inline constexpr int64_t kDefaultMaxTensorElements = int64_t{1} << 32;

/// Largest .npy header accepted (NumPy itself refuses headers over 10,000 bytes unless told
/// otherwise; real float arrays have headers of about 100 bytes).
inline constexpr uint64_t kMaxNpyHeaderBytes = uint64_t{1} << 20;

/// Largest .safetensors JSON header accepted (the reference implementation's limit).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

/// Options for reading .npy files.
struct NpyReadOptions {
  /// Read 16-bit integer files ('<i2', '<u2', '>i2', '>u2') as bfloat16 bit patterns. NumPy
  /// has no bfloat16, so a torch.bfloat16 tensor is usually dumped as
  /// t.view(torch.int16).numpy() (dtype '<i2'). Without this option such files are
  /// refused, because a genuine int16 array read as bf16 would be silently wrong.
  bool int16_as_bf16 = false;
  /// Refuse tensors with more elements than this.
  int64_t max_elements = kDefaultMaxTensorElements;
};

/// Reads a .npy file (versions 1.0, 2.0, 3.0; dtypes f4, f2, f8 in either byte order, and
/// i2/u2 as bfloat16 with NpyReadOptions::int16_as_bf16; C or Fortran order, Fortran data
/// is transposed into row-major). Values are converted to FP32: f2 and bf16 exactly, f8 by
/// round-to-nearest-even (finite values beyond the FP32 range become +-Inf, as in NumPy's
/// astype(float32)). Trailing bytes after the data are an error.
Tensor read_npy(const std::string& path, const NpyReadOptions& options = {});

/// Reads .npy bytes from memory; `source` names them in error messages.
Tensor read_npy_buffer(const void* data, size_t size, const NpyReadOptions& options = {},
                       const std::string& source = "<memory>");

/// Serializes a tensor as .npy: version 1.0 (2.0 if the header does not fit a u16 length),
/// dtype '<f4', C order, header padded with spaces so the data starts at a multiple of 64
/// bytes: the same bytes numpy.save() writes for a float32 array.
std::vector<uint8_t> encode_npy(const Tensor& tensor);

/// Writes encode_npy(tensor) to `path` atomically (see atomic_file.h), streaming the data.
void write_npy(const std::string& path, const Tensor& tensor);
/// Writes raw little-endian data as a C-order .npy array of dtype `descr` ("|u1", "<u4" or
/// "<f4"), atomically; throws qarch::Error if `bytes` does not match the shape.
void write_npy_raw(const std::string& path, const std::string& descr,
                   const std::vector<int64_t>& shape, const void* data, size_t bytes);

/// Options for reading .safetensors files.
struct SafetensorsReadOptions {
  /// Refuse tensors (of those read) with more elements than this.
  int64_t max_elements = kDefaultMaxTensorElements;
  /// When reading all tensors, skip tensors whose dtype cannot be converted to FP32 (I64
  /// position ids, U8 masks, ...) instead of failing. They are still validated.
  bool skip_unsupported = false;
};

/// A tensor with its name in a file.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

/// One tensor of a .safetensors header, as stored (nothing converted).
struct SafetensorsEntry {
  std::string name;
  std::string dtype;           ///< "F32", "BF16", "I64", ...
  std::vector<int64_t> shape;  ///< may be empty (a scalar)
  uint64_t begin = 0;          ///< data_offsets[0], relative to the byte buffer
  uint64_t end = 0;            ///< data_offsets[1] (one past the last byte)
  /// True if the reader can convert this dtype to FP32.
  bool convertible() const;
};

/// A validated .safetensors header.
struct SafetensorsIndex {
  std::vector<SafetensorsEntry> entries;  ///< in byte-buffer order (ascending offsets)
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  ///< file offset of the byte buffer (8 + header length)
  /// The entry named `name`, or nullptr.
  const SafetensorsEntry* find(const std::string& name) const;
};

/// The contents of a .safetensors file converted to FP32.
struct SafetensorsContents {
  std::vector<NamedTensor> tensors;  ///< in byte-buffer order (ascending offsets)
  std::map<std::string, std::string> metadata;
  /// The tensor named `name`, or nullptr.
  const Tensor* find(const std::string& name) const;
};

/// Reads and validates only the header of a .safetensors file (cheap for large files).
SafetensorsIndex read_safetensors_index(const std::string& path);
/// Reads and validates the header of .safetensors bytes in memory.
SafetensorsIndex read_safetensors_index_buffer(const void* data, size_t size,
                                               const std::string& source = "<memory>");

/// Reads every tensor of a .safetensors file converted to FP32. Supported dtypes: F32, F16,
/// BF16 (exact), F64 (round-to-nearest-even), F8_E4M3 and F8_E5M2 (exact, OCP FP8). The
/// whole header is validated (see the file comment) even for tensors that are skipped.
SafetensorsContents read_safetensors(const std::string& path,
                                     const SafetensorsReadOptions& options = {});
/// Reads every tensor of .safetensors bytes in memory.
SafetensorsContents read_safetensors_buffer(const void* data, size_t size,
                                            const SafetensorsReadOptions& options = {},
                                            const std::string& source = "<memory>");

/// Reads one tensor by name (only its bytes are read from disk); throws qarch::Error listing
/// the available names if there is no such tensor.
Tensor read_safetensors_tensor(const std::string& path, const std::string& name,
                               const SafetensorsReadOptions& options = {});
/// Reads one tensor by name from .safetensors bytes in memory.
Tensor read_safetensors_tensor_buffer(const void* data, size_t size, const std::string& name,
                                      const SafetensorsReadOptions& options = {},
                                      const std::string& source = "<memory>");

/// Serializes tensors as .safetensors with dtype F32, in the given order, with optional
/// "__metadata__". The JSON header is padded with spaces to a multiple of 8 bytes so the
/// data is 8-byte aligned (as the reference writer does). Throws qarch::Error on duplicate
/// names, the reserved name "__metadata__", a name that is not valid UTF-8, or a tensor
/// whose data does not match its shape.
std::vector<uint8_t> encode_safetensors(const std::vector<NamedTensor>& tensors,
                                        const std::map<std::string, std::string>& metadata = {});

/// Writes encode_safetensors(...) to `path` atomically, streaming the data.
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Reads a tensor from a .npy or .safetensors file, chosen by the file extension. For
/// .safetensors, `name` selects the tensor; it may be empty only if the file holds exactly
/// one tensor. For .npy, `name` must be empty.
Tensor read_tensor_file(const std::string& path, const std::string& name = "",
                        const NpyReadOptions& npy_options = {},
                        const SafetensorsReadOptions& safetensors_options = {});

/// Non-finite values found in a tensor.
struct NonFiniteCount {
  int64_t nan = 0;
  int64_t pos_inf = 0;
  int64_t neg_inf = 0;
  int64_t first = -1;  ///< flat (row-major) index of the first non-finite value, -1 if none
  int64_t total() const { return nan + pos_inf + neg_inf; }
};

/// Counts NaN and +-Inf values (file readers keep them as data; callers decide).
NonFiniteCount count_nonfinite(const float* data, int64_t n);
inline NonFiniteCount count_nonfinite(const Tensor& t) {
  return count_nonfinite(t.data.data(), t.numel());
}

}  // namespace qarch::quant
