// .safetensors reader and writer. Format facts: github.com/huggingface/safetensors README
// ("Format" and "Notes"): u64 LE header length N, N bytes of UTF-8 JSON starting with '{'
// (may be padded with trailing spaces), then the byte buffer. Each tensor entry is
// {"dtype", "shape", "data_offsets": [begin, end]} with offsets relative to the buffer;
// "__metadata__" is a string-to-string map; duplicate keys are forbidden; empty tensors
// and 0-rank tensors are allowed; the byte buffer must be entirely indexed without holes
// (which also forbids overlaps: the reference validator walks the entries sorted by offset
// and requires each to start where the previous one ended and the last to end at the
// buffer's end); header length capped at 100,000,000 bytes.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_set>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/quant/tensor_io.h"
#include "tensor_io_internal.h"

namespace qarch::quant {
namespace {

using namespace io_detail;
using json = nlohmann::json;

constexpr int64_t kStructuralElementLimit = int64_t{1} << 56;

// Every dtype name the reference implementation knows, with its size in bits, so any
// valid file can be validated even if some of its tensors cannot be converted.
struct DtypeInfo {
  const char* name;
  int bits;
  bool convertible;
  Elem elem;
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", 32, true, Elem::kF32},         {"F16", 16, true, Elem::kF16},
    {"BF16", 16, true, Elem::kBF16},       {"F64", 64, true, Elem::kF64},
    {"F8_E4M3", 8, true, Elem::kE4M3},     {"F8_E5M2", 8, true, Elem::kE5M2},
    {"BOOL", 8, false, Elem::kF32},        {"U8", 8, false, Elem::kF32},
    {"I8", 8, false, Elem::kF32},          {"F8_E8M0", 8, false, Elem::kF32},
    {"F8_E4M3FNUZ", 8, false, Elem::kF32}, {"F8_E5M2FNUZ", 8, false, Elem::kF32},
    {"I16", 16, false, Elem::kF32},        {"U16", 16, false, Elem::kF32},
    {"I32", 32, false, Elem::kF32},        {"U32", 32, false, Elem::kF32},
    {"I64", 64, false, Elem::kF32},        {"U64", 64, false, Elem::kF32},
    {"C64", 64, false, Elem::kF32},        {"F4", 4, false, Elem::kF32},
    {"F6_E2M3", 6, false, Elem::kF32},     {"F6_E3M2", 6, false, Elem::kF32},
};
constexpr const char* kConvertible = "F32, F16, BF16, F64, F8_E4M3, F8_E5M2";

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

// Non-negative JSON integer (nlohmann parses positive integers as unsigned, negative ones
// as signed, anything with a fraction or exponent as float).
uint64_t json_uint(const json& v, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer())
    throw Error(what + " is " + std::to_string(v.get<int64_t>()) + ", must not be negative");
  if (v.is_number_float()) throw Error(what + " is " + v.dump() + ", expected an integer");
  throw Error(what + " is a JSON " + std::string(v.type_name()) + ", expected an integer");
}

const json& field(const json& obj, const char* key, const std::string& what) {
  const auto it = obj.find(key);
  if (it == obj.end()) throw Error(what + ": missing field '" + key + "'");
  return *it;
}

SafetensorsEntry parse_entry(const std::string& source, const std::string& name, const json& v,
                             uint64_t buffer_size) {
  const std::string what = source + ": tensor " + quote(name);
  if (!v.is_object()) {
    throw Error(what + ": entry is a JSON " + std::string(v.type_name()) +
                ", expected an object {dtype, shape, data_offsets}");
  }
  SafetensorsEntry e;
  e.name = name;
  const json& dt = field(v, "dtype", what);
  if (!dt.is_string())
    throw Error(what + ": field 'dtype' is a JSON " + std::string(dt.type_name()) +
                ", expected a string");
  e.dtype = dt.get<std::string>();
  const DtypeInfo* info = find_dtype(e.dtype);
  if (!info) throw Error(what + ": unknown dtype " + quote(e.dtype));

  const json& sh = field(v, "shape", what);
  if (!sh.is_array())
    throw Error(what + ": field 'shape' is a JSON " + std::string(sh.type_name()) +
                ", expected an array of integers");
  for (size_t i = 0; i < sh.size(); ++i) {
    const uint64_t d = json_uint(sh[i], what + ": shape[" + std::to_string(i) + "]");
    if (d > static_cast<uint64_t>(INT64_MAX))
      throw Error(what + ": shape[" + std::to_string(i) + "] = " + std::to_string(d) +
                  " is too large");
    e.shape.push_back(static_cast<int64_t>(d));
  }

  const json& off = field(v, "data_offsets", what);
  if (!off.is_array() || off.size() != 2)
    throw Error(what + ": field 'data_offsets' must be an array [begin, end], got " +
                quote(off.dump(), 60));
  e.begin = json_uint(off[0], what + ": data_offsets[0]");
  e.end = json_uint(off[1], what + ": data_offsets[1]");
  const std::string offsets =
      "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
  if (e.end < e.begin) throw Error(what + ": " + offsets + " end before they begin");

  const int64_t numel =
      shape_numel(e.shape, what + ": shape " + shape_list(e.shape), kStructuralElementLimit);
  const uint64_t bits = static_cast<uint64_t>(numel) * static_cast<uint64_t>(info->bits);
  if (bits % 8 != 0) {
    throw Error(what + ": dtype " + e.dtype + " shape " + shape_list(e.shape) +
                " does not fill a whole number of bytes");
  }
  if (e.end - e.begin != bits / 8) {
    throw Error(what + ": " + offsets + " hold " + std::to_string(e.end - e.begin) +
                " bytes but dtype " + e.dtype + " shape " + shape_list(e.shape) + " needs " +
                std::to_string(bits / 8));
  }
  if (e.end > buffer_size) {
    throw Error(what + ": " + offsets + " run past the end of the data buffer (" +
                std::to_string(buffer_size) + " bytes)");
  }
  return e;
}

json parse_header_json(const std::string& source, const std::string& text) {
  // nlohmann keeps the last of duplicate keys silently; the format forbids duplicates
  // (an aliasing trick: two readers could see different tensors), so track the keys of
  // every open object. Nesting is capped: real headers are 3 levels deep.
  constexpr int kMaxDepth = 64;
  std::vector<std::unordered_set<std::string>> open_objects;
  const json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth)
      throw Error(source + ": safetensors header nests deeper than " + std::to_string(kMaxDepth) +
                  " levels");
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second) {
          throw Error(source + ": safetensors header has the key " +
                      quote(parsed.get_ref<const std::string&>()) +
                      " twice (the format forbids duplicate keys)");
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text, cb);
  } catch (const json::exception& e) {
    throw Error(source + ": safetensors header is not valid JSON: " + e.what());
  }
}

SafetensorsIndex parse_index(const ByteSource& src) {
  const std::string& name = src.name();
  const uint64_t size = src.size();
  if (size < 8) {
    throw Error(name + ": file is " + std::to_string(size) +
                " bytes, too short for the 8-byte safetensors header length");
  }
  uint8_t pre[8];
  src.read(0, pre, 8);
  const uint64_t n = load_le64(pre);
  if (n > kMaxSafetensorsHeaderBytes) {
    throw Error(name + ": safetensors header length " + std::to_string(n) +
                " is larger than the limit of " + std::to_string(kMaxSafetensorsHeaderBytes) +
                " bytes (not a safetensors file?)");
  }
  if (n > size - 8) {
    throw Error(name + ": safetensors header length " + std::to_string(n) +
                " runs past the end of the file (" + std::to_string(size) + " bytes)");
  }
  std::string text(n, '\0');
  src.read(8, text.data(), n);
  if (text.empty() || text[0] != '{')
    throw Error(name + ": safetensors header does not start with '{'");
  const json header = parse_header_json(name, text);
  if (!header.is_object()) throw Error(name + ": safetensors header is not a JSON object");

  SafetensorsIndex index;
  index.data_start = 8 + n;
  const uint64_t buffer_size = size - index.data_start;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (value.is_null()) continue;
      if (!value.is_object())
        throw Error(name + ": '__metadata__' is a JSON " + std::string(value.type_name()) +
                    ", expected an object of strings");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string())
          throw Error(name + ": '__metadata__' entry " + quote(mk) + " is a JSON " +
                      std::string(mv.type_name()) + ", expected a string");
        index.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    index.entries.push_back(parse_entry(name, key, value, buffer_size));
  }

  std::sort(index.entries.begin(), index.entries.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
            });
  uint64_t cursor = 0;
  const SafetensorsEntry* prev = nullptr;
  for (const auto& e : index.entries) {
    if (e.begin < cursor) {
      throw Error(name + ": tensor " + quote(e.name) + ": data_offsets [" +
                  std::to_string(e.begin) + ", " + std::to_string(e.end) + "] overlap tensor " +
                  quote(prev->name) + " [" + std::to_string(prev->begin) + ", " +
                  std::to_string(prev->end) + "]");
    }
    if (e.begin > cursor) {
      throw Error(name + ": bytes [" + std::to_string(cursor) + ", " + std::to_string(e.begin) +
                  ") of the data buffer belong to no tensor (the format requires the buffer "
                  "to be fully covered)");
    }
    cursor = e.end;
    if (e.end > e.begin) prev = &e;
  }
  if (cursor != buffer_size) {
    throw Error(name + ": bytes [" + std::to_string(cursor) + ", " + std::to_string(buffer_size) +
                ") at the end of the data buffer belong to no tensor (the format requires the "
                "buffer to be fully covered)");
  }
  return index;
}

Tensor read_entry(const ByteSource& src, const SafetensorsIndex& index, const SafetensorsEntry& e,
                  const SafetensorsReadOptions& options) {
  const DtypeInfo* info = find_dtype(e.dtype);
  const std::string what = src.name() + ": tensor " + quote(e.name);
  if (!info || !info->convertible) {
    throw Error(what + ": dtype " + e.dtype +
                " cannot be read as FP32 (supported: " + kConvertible + ")");
  }
  const int64_t numel = checked_numel(e.shape, what, kStructuralElementLimit);
  if (numel > options.max_elements) {
    throw Error(what + ": shape " + shape_list(e.shape) + " has " + std::to_string(numel) +
                " elements, more than the limit of " + std::to_string(options.max_elements) +
                " (SafetensorsReadOptions::max_elements)");
  }
  std::vector<float> data(static_cast<size_t>(numel));
  read_elements(src, index.data_start + e.begin, info->elem, false, data.size(), data.data());
  return Tensor(e.shape, std::move(data));
}

SafetensorsContents read_all(const ByteSource& src, const SafetensorsReadOptions& options) {
  const SafetensorsIndex index = parse_index(src);
  SafetensorsContents out;
  out.metadata = index.metadata;
  for (const auto& e : index.entries) {
    if (options.skip_unsupported && !e.convertible()) continue;
    out.tensors.push_back({e.name, read_entry(src, index, e, options)});
  }
  return out;
}

Tensor read_one(const ByteSource& src, const std::string& name,
                const SafetensorsReadOptions& options) {
  const SafetensorsIndex index = parse_index(src);
  const SafetensorsEntry* e = index.find(name);
  if (!e) {
    throw Error(src.name() + ": no tensor named " + quote(name) + " (" + tensor_names(index) + ")");
  }
  return read_entry(src, index, *e, options);
}

// The JSON header of a file holding `tensors` as F32, padded with spaces to a multiple of
// 8 bytes (the reference writer's alignment, so F32/F64 data is naturally aligned).
std::string header_for(const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata,
                       const std::string& what) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = std::move(m);
  }
  std::unordered_set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__")
      throw Error(what + ": '__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(t.name).second)
      throw Error(what + ": two tensors are named " + quote(t.name));
    check_tensor(t.tensor, what + ": tensor " + quote(t.name));
    const uint64_t bytes = static_cast<uint64_t>(t.tensor.numel()) * 4;
    h[t.name] = {
        {"dtype", "F32"}, {"shape", t.tensor.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string s;
  try {
    s = h.dump();
  } catch (const nlohmann::ordered_json::exception& e) {
    throw Error(what + ": a tensor name or metadata string is not valid UTF-8 (" + e.what() + ")");
  }
  s.append((8 - s.size() % 8) % 8, ' ');
  return s;
}

}  // namespace

namespace io_detail {

std::string tensor_names(const SafetensorsIndex& index) {
  if (index.entries.empty()) return "the file holds no tensors";
  std::string s = "tensors: ";
  for (size_t i = 0; i < index.entries.size() && i < 10; ++i)
    s += (i ? ", " : "") + quote(index.entries[i].name);
  if (index.entries.size() > 10) s += ", ... (" + std::to_string(index.entries.size()) + " in all)";
  return s;
}

}  // namespace io_detail

bool SafetensorsEntry::convertible() const {
  const DtypeInfo* d = find_dtype(dtype);
  return d && d->convertible;
}

const SafetensorsEntry* SafetensorsIndex::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

const Tensor* SafetensorsContents::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t.tensor;
  return nullptr;
}

SafetensorsIndex read_safetensors_index(const std::string& path) {
  return parse_index(FileSource(path));
}

SafetensorsIndex read_safetensors_index_buffer(const void* data, size_t size,
                                               const std::string& source) {
  return parse_index(MemorySource(data, size, source));
}

SafetensorsContents read_safetensors(const std::string& path,
                                     const SafetensorsReadOptions& options) {
  return read_all(FileSource(path), options);
}

SafetensorsContents read_safetensors_buffer(const void* data, size_t size,
                                            const SafetensorsReadOptions& options,
                                            const std::string& source) {
  return read_all(MemorySource(data, size, source), options);
}

Tensor read_safetensors_tensor(const std::string& path, const std::string& name,
                               const SafetensorsReadOptions& options) {
  return read_one(FileSource(path), name, options);
}

Tensor read_safetensors_tensor_buffer(const void* data, size_t size, const std::string& name,
                                      const SafetensorsReadOptions& options,
                                      const std::string& source) {
  return read_one(MemorySource(data, size, source), name, options);
}

std::vector<uint8_t> encode_safetensors(const std::vector<NamedTensor>& tensors,
                                        const std::map<std::string, std::string>& metadata) {
  const std::string header = header_for(tensors, metadata, "encode_safetensors");
  std::vector<uint8_t> out;
  store_le(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  VectorSink sink(out);
  for (const auto& t : tensors) write_f32_le(sink, t.tensor.data.data(), t.tensor.data.size());
  return out;
}

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string header = header_for(tensors, metadata, path);
  std::vector<uint8_t> len;
  store_le(len, header.size(), 8);
  AtomicFileWriter w(path);
  w.write(len.data(), len.size());
  w.write(header);
  FileSink sink(w);
  for (const auto& t : tensors) write_f32_le(sink, t.tensor.data.data(), t.tensor.data.size());
  w.commit();
}

}  // namespace qarch::quant
