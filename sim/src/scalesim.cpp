// SCALE-Sim config and topology readers and their conversion to qarch (scalesim.h).
// The semantics follow scalesim-project/scale-sim-v2: scalesim/scale_config.py (which keys are
// read, configparser's INI rules), scalesim/topology_utils.py (CSV columns, the trailing comma,
// ofmap size, depthwise "DP" layers, GEMM lines as 1 x K filters) and
// scalesim/compute/operand_matrix.py (ifmap operand [ofmap pixels, window], filter operand
// [window, filters]). No code is taken from there.
#include "qarch/sim/scalesim.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/models/operand_format.h"
#include "qarch/models/pe.h"
#include "qarch/workloads/trace_builder.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 40;             // gemm_list.h's limit per dimension
constexpr long double kMaxMacs = 4611686018427387904.0L;  // 2^62

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\f\v");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\f\v");
  return s.substr(a, b - a + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (const char c : text) {
    if (c == '\n') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string shown(const std::string& v) {
  return "'" + (v.size() > 40 ? v.substr(0, 37) + "..." : v) + "'";
}

// Python's int() on a stripped field, restricted to [lo, hi]; false if not an integer.
bool parse_int(const std::string& text, int64_t* out) {
  const std::string t = trim(text);
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  if (i == t.size()) return false;
  int64_t v = 0;
  for (; i < t.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return false;
    if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;  // far out of range
    v = v * 10 + (t[i] - '0');
  }
  *out = neg ? -v : v;
  return true;
}

std::string read_file(const std::string& file, const char* what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file + ": cannot open the SCALE-Sim " + std::string(what) + " for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(file + ": read error");
  return ss.str();
}

// ---------------------------------------------------------------------------------------------
// INI (configparser's rules, strict mode: no repeated sections or keys).

struct IniValue {
  std::string value;
  int line = 0;
  bool used = false;
};
struct IniSection {
  int line = 0;
  std::map<std::string, IniValue> keys;  // lower-case key
  std::vector<std::string> order;
};

class Ini {
 public:
  Ini(const std::string& text, std::string file) : file_(std::move(file)) {
    const auto lines = lines_of(text);
    IniSection* cur = nullptr;
    std::string cur_name;
    for (size_t i = 0; i < lines.size(); ++i) {
      const int ln = static_cast<int>(i + 1);
      const std::string t = trim(lines[i]);
      if (t.empty() || t[0] == '#' || t[0] == ';') continue;
      if (t[0] == '[') {
        if (t.back() != ']' || t.size() < 3) {
          throw Error(at(ln) + ": expected a section header '[name]', got " + shown(t));
        }
        cur_name = trim(t.substr(1, t.size() - 2));
        if (cur_name.empty()) throw Error(at(ln) + ": empty section name '[]'");
        if (sections_.count(cur_name)) {
          throw Error(at(ln) + ": [" + cur_name + "]: section given twice (first at line " +
                      std::to_string(sections_[cur_name].line) + ")");
        }
        cur = &sections_[cur_name];
        cur->line = ln;
        order_.push_back(cur_name);
        continue;
      }
      const size_t d = t.find_first_of("=:");
      if (d == std::string::npos) {
        throw Error(at(ln) + ": expected 'key = value' or '[section]', got " + shown(t));
      }
      const std::string key = lower(trim(t.substr(0, d)));
      if (key.empty()) throw Error(at(ln) + ": a key is missing before '" + t[d] + "'");
      if (!cur) {
        throw Error(at(ln) + ": " + key +
                    ": key before any [section] (SCALE-Sim configs start "
                    "with [general])");
      }
      if (cur->keys.count(key)) {
        throw Error(at(ln) + ": [" + cur_name + "] " + key + ": key given twice (first at line " +
                    std::to_string(cur->keys[key].line) + ")");
      }
      cur->keys[key] = {trim(t.substr(d + 1)), ln, false};
      cur->order.push_back(key);
    }
  }

  std::string at(int line) const { return file_ + ":" + std::to_string(line); }

  IniSection& section(const std::string& name) {
    const auto it = sections_.find(name);
    if (it == sections_.end()) {
      throw Error(file_ + ": [" + name +
                  "]: missing section (a SCALE-Sim config has [general], "
                  "[architecture_presets] and [run_presets])");
    }
    return it->second;
  }

  /// The value of one of `names` (lower-case aliases; names[0] is reported), or null.
  const IniValue* find(const std::string& sec, const std::vector<std::string>& names) {
    IniSection& s = section(sec);
    for (const auto& n : names) {
      auto it = s.keys.find(lower(n));
      if (it != s.keys.end()) {
        it->second.used = true;
        return &it->second;
      }
    }
    return nullptr;
  }

  const IniValue& require(const std::string& sec, const std::vector<std::string>& names) {
    const IniValue* v = find(sec, names);
    if (!v) {
      throw Error(at(section(sec).line) + ": [" + sec + "] " + names[0] +
                  ": missing key (SCALE-Sim requires it)");
    }
    return *v;
  }

  int64_t integer(const std::string& sec, const std::vector<std::string>& names, int64_t lo,
                  int64_t hi) {
    const IniValue& v = require(sec, names);
    return check_int(v, sec, names[0], lo, hi);
  }

  int64_t check_int(const IniValue& v, const std::string& sec, const std::string& key, int64_t lo,
                    int64_t hi) const {
    int64_t x = 0;
    const std::string where = at(v.line) + ": [" + sec + "] " + key + ": ";
    if (!parse_int(v.value, &x)) throw Error(where + "expected an integer, got " + shown(v.value));
    if (x < lo) {
      throw Error(where +
                  (lo == 1 ? std::string("must be > 0") : "must be >= " + std::to_string(lo)) +
                  ", got " + std::to_string(x));
    }
    if (x > hi)
      throw Error(where + "must be <= " + std::to_string(hi) + ", got " + std::to_string(x));
    return x;
  }

  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto& sn : order_) {
      const IniSection& s = sections_.at(sn);
      for (const auto& k : s.order) {
        const IniValue& v = s.keys.at(k);
        if (!v.used) out.push_back(at(v.line) + ": [" + sn + "] " + k);
      }
      if (s.keys.empty() && sn != "general" && sn != "architecture_presets" && sn != "run_presets")
        out.push_back(at(s.line) + ": [" + sn + "]");
    }
    return out;
  }

 private:
  std::string file_;
  std::map<std::string, IniSection> sections_;
  std::vector<std::string> order_;
};

}  // namespace

ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& file) {
  Ini ini(text, file);
  ScaleSimConfig c;
  c.file = file;
  const std::string general = "general", arch = "architecture_presets", run = "run_presets";
  // Sections first, in file order of importance, so a file that is not a SCALE-Sim config at
  // all says so before naming one key.
  ini.section(general);
  ini.section(arch);
  ini.section(run);

  const IniValue& rn = ini.require(general, {"run_name"});
  std::string name = rn.value;
  // configparser keeps quotes; SCALE-Sim's own configs write run_name = "..." at times.
  if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') &&
      name.back() == name.front())
    name = name.substr(1, name.size() - 2);
  if (trim(name).empty()) throw Error(ini.at(rn.line) + ": [general] run_name: must not be empty");
  c.run_name = name;

  const IniValue& bw = ini.require(run, {"InterfaceBandwidth"});
  if (bw.value == "USER") {
    c.user_bandwidth = true;
  } else if (bw.value != "CALC") {
    throw Error(ini.at(bw.line) +
                ": [run_presets] InterfaceBandwidth: expected CALC or USER, got " +
                shown(bw.value));
  }

  const int64_t int_max = std::numeric_limits<int>::max();
  c.array_height = ini.integer(arch, {"ArrayHeight"}, 1, int_max);
  c.array_width = ini.integer(arch, {"ArrayWidth"}, 1, int_max);
  // v2 names first; SCALE-Sim v1 wrote IfmapSramSz (also kB).
  c.ifmap_sram_kb = ini.integer(arch, {"IfmapSramSzkB", "IfmapSramSz"}, 1, kMaxDim);
  c.filter_sram_kb = ini.integer(arch, {"FilterSramSzkB", "FilterSramSz"}, 1, kMaxDim);
  c.ofmap_sram_kb = ini.integer(arch, {"OfmapSramSzkB", "OfmapSramSz"}, 1, kMaxDim);
  c.ifmap_offset = ini.integer(arch, {"IfmapOffset"}, 0, std::numeric_limits<int64_t>::max() / 16);
  c.filter_offset =
      ini.integer(arch, {"FilterOffset"}, 0, std::numeric_limits<int64_t>::max() / 16);
  c.ofmap_offset = ini.integer(arch, {"OfmapOffset"}, 0, std::numeric_limits<int64_t>::max() / 16);
  const IniValue& df = ini.require(arch, {"Dataflow"});
  try {
    c.dataflow = models::parse_dataflow(df.value, "Dataflow");
  } catch (const Error&) {
    throw Error(ini.at(df.line) + ": [architecture_presets] Dataflow: unknown dataflow " +
                shown(df.value) + " (known: os, ws, is)");
  }
  if (const IniValue* mb = ini.find(arch, {"MemoryBanks"})) {
    c.memory_banks = ini.check_int(*mb, arch, "MemoryBanks", 1, 1 << 20);
  }
  if (c.user_bandwidth) {
    const IniValue& b = ini.require(arch, {"Bandwidth"});
    std::string item;
    std::stringstream ss(b.value);
    while (std::getline(ss, item, ',')) {
      IniValue one = b;
      one.value = item;
      c.bandwidth.push_back(ini.check_int(one, arch, "Bandwidth", 1, int64_t{1} << 40));
      if (c.bandwidth.size() > (1 << 20)) break;
    }
    if (c.bandwidth.empty()) {
      throw Error(ini.at(b.line) +
                  ": [architecture_presets] Bandwidth: expected words per cycle "
                  "(one integer per memory bank)");
    }
    if (static_cast<int64_t>(c.bandwidth.size()) != c.memory_banks) {
      throw Error(ini.at(b.line) +
                  ": [architecture_presets] Bandwidth: " + std::to_string(c.bandwidth.size()) +
                  " value(s) for " + std::to_string(c.memory_banks) +
                  " memory bank(s); USER mode needs one bandwidth per bank");
    }
  }
  // CALC mode: SCALE-Sim computes the bandwidth it needs; a Bandwidth key is listed as ignored.
  c.ignored = ini.unused();
  return c;
}

ScaleSimConfig load_scalesim_config(const std::string& file) {
  return parse_scalesim_config(read_file(file, "config"), file);
}

// ---------------------------------------------------------------------------------------------
// Topology CSV.

namespace {

const char* const kConvColumns[] = {"Layer name",    "IFMAP Height", "IFMAP Width",
                                    "Filter Height", "Filter Width", "Channels",
                                    "Num Filter",    "Strides",      "Stride width"};
const char* const kGemmColumns[] = {"Layer name", "M", "N", "K"};

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  for (const char c : line) {
    if (c == ',') {
      f.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  f.push_back(trim(cur));
  // SCALE-Sim drops the field after the last comma (its lines end with one); drop it only when
  // it is empty, so a line without the trailing comma keeps its last column.
  if (f.size() > 1 && f.back().empty()) f.pop_back();
  return f;
}

}  // namespace

ScaleSimTopology parse_scalesim_topology(const std::string& text, const std::string& file,
                                         TopologyKind kind) {
  ScaleSimTopology t;
  t.file = file;
  const auto lines = lines_of(text);
  if (lines.empty() || trim(lines[0]).empty()) {
    throw Error(file +
                ":1: expected the header line (Layer name, IFMAP Height, ... or "
                "Layer name, M, N, K), got " +
                std::string(lines.empty() ? "an empty file" : "an empty line"));
  }
  const auto header = split_fields(lines[0]);
  const bool header_gemm = header.size() >= 4 && lower(header[1]) == "m" &&
                           lower(header[2]) == "n" && lower(header[3]) == "k";
  const bool forced = kind != TopologyKind::kAuto;
  if (kind == TopologyKind::kAuto) kind = header_gemm ? TopologyKind::kGemm : TopologyKind::kConv;
  t.kind = kind;
  const bool gemm = kind == TopologyKind::kGemm;
  for (size_t i = 1; i < lines.size(); ++i) {
    const int ln = static_cast<int>(i + 1);
    if (trim(lines[i]).empty()) continue;
    const std::string at = file + ":" + std::to_string(ln);
    const auto f = split_fields(lines[i]);
    const size_t want_lo = gemm ? 4 : 8, want_hi = gemm ? 4 : 9;
    if (f.size() < want_lo || f.size() > want_hi) {
      std::string cols;
      for (size_t c = 0; c < want_hi; ++c)
        cols += std::string(c ? ", " : "") + (gemm ? kGemmColumns[c] : kConvColumns[c]);
      throw Error(at + ": expected " + (gemm ? std::string("4") : std::string("8 or 9")) +
                  " columns (" + cols + (gemm ? "" : " optional") + "), got " +
                  std::to_string(f.size()) +
                  (forced ? (gemm          ? " (read as a GEMM topology, as -i gemm asks)"
                             : header_gemm ? " (read as a convolution topology, as -i conv asks; "
                                             "the header names M, N, K: a GEMM topology wants "
                                             "-i gemm)"
                                           : " (read as a convolution topology, as -i conv asks)")
                   : gemm ? " (a GEMM topology: the header names M, N, K)"
                          : " (a convolution topology: the header does not name M, N, K)"));
    }
    ScaleSimLayer l;
    l.line = ln;
    l.name = f[0];
    if (l.name.empty()) throw Error(at + ": Layer name: must not be empty");
    std::vector<int64_t> v(f.size(), 0);
    for (size_t c = 1; c < f.size(); ++c) {
      const char* col = gemm ? kGemmColumns[c] : kConvColumns[c];
      if (!parse_int(f[c], &v[c])) {
        throw Error(at + ": " + col + ": expected an integer, got " + shown(f[c]));
      }
      if (v[c] < 1) throw Error(at + ": " + col + ": must be > 0, got " + std::to_string(v[c]));
      if (v[c] > kMaxDim) {
        throw Error(at + ": " + col + ": must be <= 2^40, got " + std::to_string(v[c]));
      }
    }
    if (gemm) {
      // SCALE-Sim's GEMM lines: ifmap M x K, a 1 x K filter on 1 channel, N filters, stride 1.
      l.ifmap_h = v[1], l.ifmap_w = v[3], l.filter_h = 1, l.filter_w = v[3], l.channels = 1;
      l.num_filter = v[2];
      l.m = v[1], l.n = v[2], l.k = v[3];
    } else {
      l.ifmap_h = v[1], l.ifmap_w = v[2], l.filter_h = v[3], l.filter_w = v[4];
      l.channels = v[5], l.num_filter = v[6], l.stride_h = v[7];
      l.stride_w = f.size() == 9 ? v[8] : v[7];  // one stride for both axes, as SCALE-Sim does
      if (l.filter_h > l.ifmap_h) {
        throw Error(at + ": Filter Height: " + std::to_string(l.filter_h) +
                    " is larger than IFMAP Height " + std::to_string(l.ifmap_h));
      }
      if (l.filter_w > l.ifmap_w) {
        throw Error(at + ": Filter Width: " + std::to_string(l.filter_w) +
                    " is larger than IFMAP Width " + std::to_string(l.ifmap_w));
      }
      // SCALE-Sim's ofmap size (topology_utils.py, topo_calc_hyperparams):
      // ceil((ifmap - filter + stride) / stride) = ceil((ifmap - filter) / stride) + 1. It rounds
      // up where a textbook unpadded convolution rounds down: a last window that runs past the
      // edge still counts (operand_matrix.py pads its addresses), so 32 / 3x3 / stride 2 gives
      // 16, not 15. Kept, so the imported GEMMs take SCALE-Sim's cycles.
      const int64_t oh = (l.ifmap_h - l.filter_h + l.stride_h - 1) / l.stride_h + 1;
      const int64_t ow = (l.ifmap_w - l.filter_w + l.stride_w - 1) / l.stride_w + 1;
      l.depthwise = l.name.find("DP") != std::string::npos;
      const int64_t ch = l.depthwise ? 1 : l.channels;
      const long double m = static_cast<long double>(oh) * ow;
      const long double k = static_cast<long double>(l.filter_h) * l.filter_w * ch;
      if (m > kMaxDim)
        throw Error(at + ": the ofmap has " + std::to_string(oh) + " x " + std::to_string(ow) +
                    " pixels, beyond 2^40 GEMM rows");
      if (k > kMaxDim) throw Error(at + ": the filter window has more than 2^40 elements");
      l.m = oh * ow;
      l.k = l.filter_h * l.filter_w * ch;
      l.n = l.num_filter;
      l.batch = l.depthwise ? l.channels : 1;
    }
    const long double macs = static_cast<long double>(l.m) * l.n * l.k * l.batch;
    if (macs > kMaxMacs) throw Error(at + ": the layer has more than 2^62 MACs");
    t.layers.push_back(l);
  }
  if (t.layers.empty()) throw Error(file + ": no layers (only a header line)");
  return t;
}

ScaleSimTopology load_scalesim_topology(const std::string& file, TopologyKind kind) {
  return parse_scalesim_topology(read_file(file, "topology"), file, kind);
}

workloads::GemmList scalesim_gemms(const ScaleSimTopology& t, const std::string& list_name) {
  workloads::GemmList l;
  l.name = list_name;
  l.source = "SCALE-Sim " + std::string(t.kind == TopologyKind::kGemm ? "GEMM" : "convolution") +
             " topology " + t.file;
  std::set<std::string> used;
  for (const auto& layer : t.layers) {
    std::string name = layer.name;
    for (int i = 2; used.count(name); ++i) name = layer.name + "#" + std::to_string(i);
    used.insert(name);
    l.gemms.push_back({name, layer.m, layer.n, layer.k, layer.batch});
  }
  return l;
}

ArchSpec scalesim_arch(const ScaleSimConfig& c, const std::string& format, const std::string& name,
                       bool real_memory) {
  ArchSpec a;
  const workloads::FormatChoice f = workloads::resolve_formats(format, "", "");
  a.act_format = f.act;
  a.weight_format = f.weight;
  const models::OperandFormat& fx = models::operand_format(a.act_format, "--format");
  const models::OperandFormat& fw = models::operand_format(a.weight_format, "--format");
  std::string pe;
  for (const models::PeType* p : models::list_pe_types()) {
    if (p->accepts(fx, true) && p->accepts(fw, false)) {
      pe = p->name();
      break;
    }
  }
  if (pe.empty()) throw Error("--format '" + format + "': no PE type multiplies these formats");
  models::ArchConfig& m = a.arch;
  m.name = name.empty() ? c.run_name : name;
  m.clock_ghz = 1.0;  // SCALE-Sim counts cycles only; reports convert at 1 GHz
  m.array.rows = static_cast<int>(c.array_height);
  m.array.cols = static_cast<int>(c.array_width);
  m.array.dataflow = c.dataflow;
  m.array.pe = pe;
  m.decoder.latency_cycles = 0;  // SCALE-Sim has no decoders: fold time is exactly 2R + C + T - 2
  // ... for every fold: SCALE-Sim's equation does not overlap consecutive folds, and it has no
  // mapping choice beyond its fold order, which the latency objective reproduces.
  m.array.pipelined_folds = false;
  m.objective = models::Objective::kLatency;
  m.decoder.elements_per_cycle = 1.0;
  // SCALE-Sim words are one byte: kB of SRAM = KiB of bytes. Its scratchpads are double-buffered.
  models::BufferConfig* bufs[] = {&m.input_buffer, &m.weight_buffer, &m.output_buffer};
  const int64_t kb[] = {c.ifmap_sram_kb, c.filter_sram_kb, c.ofmap_sram_kb};
  for (int i = 0; i < 3; ++i) {
    bufs[i]->size_bytes = kb[i] * 1024;
    bufs[i]->double_buffered = true;
    bufs[i]->ideal = !real_memory;
  }
  m.dram.ideal = !real_memory;
  if (c.user_bandwidth) {
    int64_t sum = 0;
    for (int64_t b : c.bandwidth) sum += b;
    m.dram.bandwidth_bytes_per_cycle = static_cast<double>(sum);  // words = bytes
  }
  m.output_bytes = 1;
  m.validate();
  return a;
}

}  // namespace qarch::sim
