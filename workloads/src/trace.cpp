#include "qarch/workloads/trace.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/workloads/checksum.h"
#include "trace_json.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "trace files are little-endian; this writer assumes a little-endian host"
#endif

namespace qarch::workloads {

using ojson = nlohmann::ordered_json;

std::vector<int64_t> RowSample::rows() const {
  std::vector<int64_t> r(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) r[i] = row(i);
  return r;
}

RowSample sample_rows(int64_t total, int64_t max_rows) {
  RowSample s;
  s.total = total;
  s.count = (max_rows <= 0 || max_rows >= total) ? total : max_rows;
  return s;
}

namespace {

constexpr char kBinMagic[8] = {'Q', 'A', 'R', 'C', 'H', 'T', 'R', 'B'};
constexpr char kBinEnd[8] = {'Q', 'T', 'R', 'B', 'E', 'N', 'D', '\0'};
constexpr uint64_t kHeaderBytes = 64;
constexpr uint64_t kAlign = 64;
constexpr char kEnvelopeHead[] = "{\"content\":";
constexpr char kEnvelopeMid[] = ",\n\"fnv1a64\":\"";
constexpr char kEnvelopeTail[] = "\"}\n";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return ss.str();
}

uint64_t align_up(uint64_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

void put_u32(unsigned char* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
void put_u64(unsigned char* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}
uint32_t get_u32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A file name fragment from a GEMM name: letters, digits, '.', '-', '_' kept, others '_'.
std::string safe_name(const std::string& s) {
  std::string out = s;
  for (auto& c : out) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  }
  return out;
}

// One buffer of the binary: pointer, byte length, element count and kind.
struct Section {
  const void* data;
  uint64_t bytes;
  uint64_t count;
};

std::vector<Section> sections_of(const quant::EncodedTensor& e) {
  return {{e.elements.data(), e.elements.size(), e.elements.size()},
          {e.scales.data(), e.scales.size(), e.scales.size()},
          {e.fp32.data(), e.fp32.size() * 4, e.fp32.size()},
          {e.indices.data(), e.indices.size() * 4, e.indices.size()}};
}

const char* kSectionNames[4] = {"elements", "scales", "fp32", "indices"};

}  // namespace

std::string json_envelope(const std::string& body) {
  return std::string(kEnvelopeHead) + body + kEnvelopeMid + hex64(fnv1a64(body)) + kEnvelopeTail;
}

std::string open_json_envelope(const std::string& text, const std::string& file) {
  const size_t head = sizeof(kEnvelopeHead) - 1, mid = sizeof(kEnvelopeMid) - 1,
               tail = sizeof(kEnvelopeTail) - 1;
  if (text.size() < head + mid + 16 + tail || text.compare(0, head, kEnvelopeHead) != 0) {
    throw Error(file + ": not a qarch trace JSON file (no checksummed envelope; " +
                std::to_string(text.size()) + " bytes)");
  }
  const size_t hex_at = text.size() - tail - 16;
  if (text.compare(text.size() - tail, tail, kEnvelopeTail) != 0 ||
      text.compare(hex_at - mid, mid, kEnvelopeMid) != 0) {
    throw Error(file + ": truncated or damaged (the checksum trailer is missing)");
  }
  const std::string body = text.substr(head, hex_at - mid - head);
  const std::string want = text.substr(hex_at, 16);
  const std::string got = hex64(fnv1a64(body));
  if (want != got) {
    throw Error(file + ": checksum mismatch (stored fnv1a64 " + want + ", content hashes to " +
                got + "): the file is corrupted");
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Writer

namespace {
constexpr char kStagingMarker[] = ".qarch-partial-trace";
}  // namespace

TraceWriter::TraceWriter(std::string dir, TraceHeader header, bool replace)
    : dir_(std::move(dir)), header_(std::move(header)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  if (dir_.empty()) throw Error("trace: empty output directory");
  std::error_code ec;
  if (std::filesystem::exists(dir_, ec)) {
    if (!std::filesystem::is_directory(dir_, ec))
      throw Error(dir_ + ": exists and is not a directory");
    if (std::filesystem::exists(dir_ + "/trace.json", ec)) {
      if (!replace) {
        throw Error(dir_ +
                    ": holds a trace already; pass --force to replace it (the new trace "
                    "takes its place only when complete), or choose another --out");
      }
    } else if (!std::filesystem::is_empty(dir_, ec)) {
      throw Error(dir_ +
                  ": exists, is not empty and holds no qarch trace (no trace.json); "
                  "choose a new or empty folder");
    }
  }
  staging_ = dir_ + ".partial";
  if (std::filesystem::exists(staging_, ec)) {
    // Left by an interrupted trace: ours only if it carries the marker.
    if (!std::filesystem::exists(staging_ + "/" + kStagingMarker, ec)) {
      throw Error(staging_ + ": exists and is not a qarch staging folder; move it away");
    }
    std::filesystem::remove_all(staging_, ec);
    if (ec) throw Error(staging_ + ": cannot remove the old staging folder (" + ec.message() + ")");
  }
  // The staging folder is dir_'s sibling: this also creates dir_'s missing parents.
  make_directories(staging_ + "/gemms", "the trace staging directory");
  write_file_atomic(staging_ + "/" + kStagingMarker, "qarch trace being written\n");
}

void TraceWriter::add(TraceGemm g, const quant::EncodedTensor* x, const quant::EncodedTensor* w) {
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%04zu-", gemms_.size());
  const std::string stem = "gemms/" + std::string(prefix) + safe_name(g.op.name);
  g.manifest = stem + ".json";
  ojson table = nullptr;
  if (x && w) {
    g.data_file = stem + ".bin";
    // Lay out the sections.
    std::vector<Section> secs = sections_of(*x);
    for (const auto& s : sections_of(*w)) secs.push_back(s);
    std::vector<uint64_t> offsets;
    uint64_t at = kHeaderBytes;
    for (const auto& s : secs) {
      at = align_up(at);
      offsets.push_back(at);
      at += s.bytes;
    }
    const uint64_t payload_end = align_up(at);
    const uint64_t file_bytes = payload_end + 16;
    table = ojson::object();
    for (int op = 0; op < 2; ++op) {
      ojson t = ojson::object();
      for (int k = 0; k < 4; ++k) {
        const size_t i = static_cast<size_t>(op * 4 + k);
        t[kSectionNames[k]] = {offsets[i], secs[i].count};
      }
      table[op == 0 ? "x" : "w"] = t;
    }
    // Stream it out, hashing as we go.
    AtomicFileWriter out(staging_ + "/" + g.data_file);
    uint64_t h = kFnv1a64Offset, pos = 0;
    auto emit = [&](const void* p, uint64_t n) {
      if (n == 0) return;
      out.write(p, n);
      h = fnv1a64(p, n, h);
      pos += n;
    };
    static const unsigned char zeros[kAlign] = {};
    unsigned char head[kHeaderBytes] = {};
    std::memcpy(head, kBinMagic, 8);
    put_u32(head + 8, kTraceVersion);
    put_u32(head + 12, static_cast<uint32_t>(kHeaderBytes));
    put_u64(head + 16, payload_end - kHeaderBytes);
    put_u32(head + 24, static_cast<uint32_t>(secs.size()));
    emit(head, kHeaderBytes);
    for (size_t i = 0; i < secs.size(); ++i) {
      emit(zeros, offsets[i] - pos);
      emit(secs[i].data, secs[i].bytes);
    }
    emit(zeros, payload_end - pos);
    unsigned char trailer[16];
    put_u64(trailer, h);
    std::memcpy(trailer + 8, kBinEnd, 8);
    out.write(trailer, 16);
    out.commit();
    g.data_bytes = file_bytes;
    g.data_fnv1a64 = h;
    total_bytes_ += file_bytes;
  } else if (x || w) {
    throw Error("trace: a GEMM needs both operands or neither (shape-only)");
  }
  ojson body = detail::gemm_manifest_json(g, header_);
  body["data"] = g.data_file.empty() ? ojson(nullptr)
                                     : ojson{{"file", g.data_file},
                                             {"bytes", g.data_bytes},
                                             {"fnv1a64", hex64(g.data_fnv1a64)},
                                             {"sections", table}};
  const std::string text = json_envelope(body.dump(1));
  write_file_atomic(staging_ + "/" + g.manifest, text);
  manifest_sums_.push_back({text.size(), fnv1a64(text)});
  total_bytes_ += text.size();
  gemms_.push_back(std::move(g));
}

uint64_t TraceWriter::finish(const std::vector<ElementwiseOp>& elementwise) {
  ojson body = detail::header_json(header_);
  ojson list = ojson::array();
  for (size_t i = 0; i < gemms_.size(); ++i) {
    const TraceGemm& g = gemms_[i];
    list.push_back({{"name", g.op.name},
                    {"manifest", g.manifest},
                    {"manifest_bytes", manifest_sums_[i].first},
                    {"manifest_fnv1a64", hex64(manifest_sums_[i].second)},
                    {"data", g.data_file.empty() ? ojson(nullptr) : ojson(g.data_file)},
                    {"data_bytes", g.data_bytes}});
  }
  body["gemms"] = list;
  ojson ew = ojson::array();
  for (const auto& e : elementwise) ew.push_back(detail::elementwise_json(e));
  body["elementwise"] = ew;
  const std::string text = json_envelope(body.dump(1));
  write_file_atomic(staging_ + "/trace.json", text);
  total_bytes_ += text.size();
  std::remove((staging_ + "/" + kStagingMarker).c_str());
  // Swap the finished trace in: the old one (if any) moves aside first, then goes.
  std::error_code ec;
  const std::string old = dir_ + ".old";
  if (std::filesystem::exists(old, ec)) {  // left by a crash between the two renames below
    if (!std::filesystem::exists(old + "/trace.json", ec)) {
      throw Error(old + ": exists and is not a qarch trace; move it away");
    }
    std::filesystem::remove_all(old, ec);
  }
  if (std::filesystem::exists(dir_, ec)) {
    std::filesystem::rename(dir_, old, ec);
    if (ec) throw Error(dir_ + ": cannot move the previous trace aside (" + ec.message() + ")");
  }
  std::filesystem::rename(staging_, dir_, ec);
  if (ec) {
    throw Error(staging_ + ": cannot move the finished trace to " + dir_ + " (" + ec.message() +
                ")");
  }
  std::filesystem::remove_all(old, ec);
  return total_bytes_;
}

// ---------------------------------------------------------------------------------------------
// Reader

TraceReader::TraceReader(std::string dir) : dir_(std::move(dir)) {
  const std::string index_path = dir_ + "/trace.json";
  {
    std::ifstream probe(index_path);
    if (!probe) {
      throw Error(dir_ +
                  ": not a complete qarch trace (no trace.json; a trace whose writing was "
                  "interrupted has none)");
    }
  }
  const std::string body = open_json_envelope(read_file(index_path), index_path);
  try {
    const nlohmann::json j = nlohmann::json::parse(body);
    header_ = detail::header_from_json(j, index_path);
    for (const auto& e : j.at("elementwise"))
      elementwise_.push_back(detail::elementwise_from_json(e));
    for (const auto& entry : j.at("gemms")) {
      const std::string rel = entry.at("manifest").get<std::string>();
      const std::string path = dir_ + "/" + rel;
      const std::string text = read_file(path);
      const uint64_t want_bytes = entry.at("manifest_bytes").get<uint64_t>();
      if (text.size() != want_bytes) {
        throw Error(path + ": " + std::to_string(text.size()) + " bytes, the index says " +
                    std::to_string(want_bytes) + " (truncated or replaced)");
      }
      const std::string want = entry.at("manifest_fnv1a64").get<std::string>();
      if (hex64(fnv1a64(text)) != want) {
        throw Error(path + ": checksum differs from the one in trace.json (the file was changed)");
      }
      const nlohmann::json m = nlohmann::json::parse(open_json_envelope(text, path));
      TraceGemm g = detail::gemm_from_manifest(m, path);
      g.manifest = rel;
      sections_.push_back(m.at("data").is_null() ? "" : m.at("data").at("sections").dump());
      gemms_.push_back(std::move(g));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(dir_ + ": malformed trace JSON (" + e.what() + ")");
  }
}

size_t TraceReader::find(const std::string& name) const {
  for (size_t i = 0; i < gemms_.size(); ++i)
    if (gemms_[i].op.name == name) return i;
  throw Error(dir_ + ": no GEMM named '" + name + "' in the trace");
}

std::string TraceReader::verified_bytes(size_t i) const {
  const TraceGemm& g = gemms_[i];
  const std::string path = dir_ + "/" + g.data_file;
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const Error&) {
    throw Error(path + ": cannot read the operands of GEMM '" + g.op.name +
                "' (missing or unreadable; trace.json lists it)");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t n = bytes.size();
  if (n != g.data_bytes) {
    throw Error(path + ": " + std::to_string(n) + " bytes, the manifest says " +
                std::to_string(g.data_bytes) + (n < g.data_bytes ? " (truncated)" : ""));
  }
  if (n < kHeaderBytes + 16 || std::memcmp(p, kBinMagic, 8) != 0) {
    throw Error(path + ": not a qarch trace binary (bad magic)");
  }
  if (std::memcmp(p + n - 8, kBinEnd, 8) != 0) {
    throw Error(path + ": the end marker is missing (truncated or damaged)");
  }
  const uint64_t stored = get_u64(p + n - 16);
  const uint64_t h = fnv1a64(p, n - 16);
  if (stored != h || h != g.data_fnv1a64) {
    throw Error(path + ": checksum mismatch (file says " + hex64(stored) + ", contents hash to " +
                hex64(h) + ", manifest says " + hex64(g.data_fnv1a64) + "): the file is corrupted");
  }
  return bytes;
}

void TraceReader::verify_data() const {
  for (size_t i = 0; i < gemms_.size(); ++i)
    if (!gemms_[i].data_file.empty()) verified_bytes(i);
}

std::pair<quant::EncodedTensor, quant::EncodedTensor> TraceReader::load_operands(size_t i) const {
  if (i >= gemms_.size()) throw Error(dir_ + ": GEMM index out of range");
  const TraceGemm& g = gemms_[i];
  if (g.data_file.empty()) {
    throw Error(dir_ + "/" + g.manifest + ": shape-only trace: GEMM '" + g.op.name +
                "' has no stored operands");
  }
  const std::string path = dir_ + "/" + g.data_file;
  const std::string bytes = verified_bytes(i);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint64_t n = bytes.size();
  const uint32_t version = get_u32(p + 8);
  if (version != static_cast<uint32_t>(kTraceVersion)) {
    throw Error(path + ": trace binary version " + std::to_string(version) +
                ", this reader understands version " + std::to_string(kTraceVersion));
  }
  const uint64_t payload_end = kHeaderBytes + get_u64(p + 16);
  if (get_u32(p + 12) != kHeaderBytes || payload_end + 16 != n || get_u32(p + 24) != 8) {
    throw Error(path + ": inconsistent header (header/payload sizes or section count)");
  }
  const nlohmann::json table = nlohmann::json::parse(sections_[i]);
  auto operand = [&](const char* which, const TraceOperand& op) {
    quant::EncodedTensor e;
    e.format = op.format;
    e.rows = op.sample.count;
    e.cols = op.cols;
    const auto& t = table.at(which);
    auto range = [&](const char* name, uint64_t elem_size) {
      const uint64_t off = t.at(name).at(0).get<uint64_t>();
      const uint64_t cnt = t.at(name).at(1).get<uint64_t>();
      if (off < kHeaderBytes || off > payload_end || cnt > (payload_end - off) / elem_size) {
        throw Error(path + ": section " + which + "." + name + " lies outside the payload");
      }
      return std::pair<const unsigned char*, uint64_t>(p + off, cnt);
    };
    auto [pe, ne] = range("elements", 1);
    e.elements.assign(pe, pe + ne);
    auto [ps, ns] = range("scales", 1);
    e.scales.assign(ps, ps + ns);
    auto [pf, nf] = range("fp32", 4);
    e.fp32.resize(nf);
    if (nf) std::memcpy(e.fp32.data(), pf, nf * 4);
    auto [pi, ni] = range("indices", 4);
    e.indices.resize(ni);
    if (ni) std::memcpy(e.indices.data(), pi, ni * 4);
    return e;
  };
  try {
    return {operand("x", g.x), operand("w", g.w)};
  } catch (const nlohmann::json::exception& e) {
    throw Error(dir_ + "/" + g.manifest + ": malformed section table (" + e.what() + ")");
  }
}

}  // namespace qarch::workloads
