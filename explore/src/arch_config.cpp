// Architecture YAML files (arch_config.h): read with the common strict reader
// (qarch/common/yaml.h, bare key paths "array.rows") and written canonically.
//
// Reading happens in three steps, so that every problem can name the place it comes from:
//   1. parse the text (syntax errors carry yaml-cpp's mark);
//   2. apply the overrides to the YAML tree (each one checked against the schema first; a value
//      node that came from an override is reported as "override 'k=v'" instead of a line);
//   3. convert the tree key by key (types, ranges, unknown and duplicate keys), resolve the
//      formats and the PE type, then let models::ArchConfig::validate() have the last word.
// Any yaml-cpp exception that escapes the steps above is converted to qarch::Error: callers
// (and the fuzz target) only ever see qarch::Error.
#include "qarch/explore/arch_config.h"
#include "qarch/common/number_text.h"
#include "qarch/common/yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/models/operand_format.h"
#include "qarch/models/pe.h"
#include "qarch/quant/format.h"
#include "qarch/workloads/trace_builder.h"

namespace qarch::explore {
namespace {

// ---------------------------------------------------------------------------------------------
// The schema: every leaf key path and its kind. Overrides are checked against it, and the
// unknown-key messages suggest from it.

enum class Kind { kString, kInt, kDouble, kBool };

struct Leaf {
  const char* path;
  Kind kind;
};

const Leaf kSchema[] = {
    {"name", Kind::kString},
    {"clock_ghz", Kind::kDouble},
    {"technology.table", Kind::kString},
    {"technology.node", Kind::kString},
    {"formats.act", Kind::kString},
    {"formats.weight", Kind::kString},
    {"formats.kv", Kind::kString},
    {"array.rows", Kind::kInt},
    {"array.cols", Kind::kInt},
    {"array.dataflow", Kind::kString},
    {"array.pe", Kind::kString},
    {"array.dataflows", Kind::kString},
    {"array.pipelined_folds", Kind::kBool},
    {"buffers.shared", Kind::kBool},
    {"mapper.objective", Kind::kString},
    {"decoder.latency_cycles", Kind::kInt},
    {"decoder.elements_per_cycle", Kind::kDouble},
    {"dram.bandwidth_gb_per_s", Kind::kDouble},
    {"dram.bandwidth_bytes_per_cycle", Kind::kDouble},
    {"dram.latency_cycles", Kind::kInt},
    {"dram.burst_bytes", Kind::kInt},
    {"dram.energy_pj_per_byte", Kind::kDouble},
    {"dram.ideal", Kind::kBool},
    {"dram.capacity_gib", Kind::kDouble},
    {"vector.lanes", Kind::kInt},
    {"vector.precision_bits", Kind::kInt},
    {"vector.exp_cycles", Kind::kInt},
    {"vector.div_cycles", Kind::kInt},
    {"vector.latency_cycles", Kind::kInt},
    {"quantizer.elements_per_cycle", Kind::kDouble},
    {"quantizer.latency_cycles", Kind::kInt},
    {"quantizer.int_scale", Kind::kString},
    {"buffers.input.size_kib", Kind::kDouble},
    {"buffers.input.banks", Kind::kInt},
    {"buffers.input.ports", Kind::kInt},
    {"buffers.input.bank_width_bytes", Kind::kInt},
    {"buffers.input.double_buffered", Kind::kBool},
    {"buffers.input.ideal", Kind::kBool},
    {"buffers.weight.size_kib", Kind::kDouble},
    {"buffers.weight.banks", Kind::kInt},
    {"buffers.weight.ports", Kind::kInt},
    {"buffers.weight.bank_width_bytes", Kind::kInt},
    {"buffers.weight.double_buffered", Kind::kBool},
    {"buffers.weight.ideal", Kind::kBool},
    {"buffers.output.size_kib", Kind::kDouble},
    {"buffers.output.banks", Kind::kInt},
    {"buffers.output.ports", Kind::kInt},
    {"buffers.output.bank_width_bytes", Kind::kInt},
    {"buffers.output.double_buffered", Kind::kBool},
    {"buffers.output.ideal", Kind::kBool},
    {"accumulator_bytes", Kind::kInt},
    {"output_bytes", Kind::kInt},
};

bool is_leaf(const std::string& path) {
  for (const auto& l : kSchema)
    if (path == l.path) return true;
  return false;
}

bool is_section(const std::string& path) {
  for (const auto& l : kSchema) {
    const std::string p = l.path;
    if (p.size() > path.size() && p.compare(0, path.size(), path) == 0 && p[path.size()] == '.')
      return true;
  }
  return false;
}

// Every key path of the schema (leaves and sections) under `prefix` ("" or "array."), one level.
std::vector<std::string> keys_under(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& l : kSchema) {
    const std::string p = l.path;
    if (p.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = p.substr(prefix.size());
    const std::string first = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), first) == out.end()) out.push_back(first);
  }
  return out;
}

std::vector<std::string> all_paths() {
  std::vector<std::string> out;
  for (const auto& l : kSchema) out.push_back(l.path);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading helpers over the common reader (qarch/common/yaml.h, bare key paths: "array.rows").

// A section of the schema: its keys are declared, so an unknown-key message lists (and suggests
// from) all of them, not only those read so far.
yaml::Map sub(yaml::Map& parent, const std::string& key) {
  yaml::Map m = parent.get_map(key);
  m.declare(keys_under(m.path() + "."));
  return m;
}

// Strings in an architecture are never empty; `required` makes a missing key an error.
std::string str(yaml::Map& m, const std::string& key, const std::string& def,
                bool required = false) {
  const std::string v = required ? m.get_string(key) : m.get_string(key, def);
  if (m.present(key) && v.empty()) m.fail(key, "must not be empty");
  return v;
}

double real_node(const yaml::Map& m, const YAML::Node& n, const std::string& key, double lo,
                 double hi) {
  return yaml::read_double(m.source(), n, m.key_path(key), lo, hi, true);
}

constexpr int64_t kIntMax = std::numeric_limits<int>::max();
// Capacities up to 1 PiB: far beyond any SRAM, and products with it stay inside int64.
constexpr double kMaxBytes = 1125899906842624.0;

// ---------------------------------------------------------------------------------------------
// Overrides.

void apply_override(YAML::Node& root, const Override& o, yaml::Source& ctx) {
  const std::string text = o.first + "=" + o.second;
  const std::string& path = o.first;
  if (!is_leaf(path)) {
    if (is_section(path)) {
      throw Error(ctx.file() + ": override '" + text + "': '" + path +
                  "' is a section; override one of its keys (" + path + "." +
                  keys_under(path + ".").front() + ", ...)");
    }
    const std::string s = yaml::closest_match(path, all_paths());
    throw Error(ctx.file() + ": override '" + text + "': unknown key '" + path + "'" +
                (s.empty() ? std::string() : " (did you mean '" + s + "'?)"));
  }
  YAML::Node value;
  try {
    value = YAML::Load(o.second);
  } catch (const YAML::Exception& e) {
    throw Error(ctx.file() + ": override '" + text + "': the value is not valid YAML: " + e.msg);
  }
  // Walk the sections, creating missing ones; a section present in the file must be a mapping.
  std::vector<std::string> parts;
  for (size_t s = 0, e; s <= path.size(); s = e + 1) {
    e = path.find('.', s);
    if (e == std::string::npos) e = path.size();
    parts.push_back(path.substr(s, e - s));
  }
  YAML::Node cur = root;
  std::string so_far;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    so_far += (so_far.empty() ? "" : ".") + parts[i];
    YAML::Node next = cur[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = cur[parts[i]];
    } else if (!next.IsMap()) {
      ctx.fail(
          next, so_far,
          "expected a mapping (needed by override '" + text + "'), got " + yaml::describe(next));
    }
    cur.reset(next);
  }
  const std::string& leaf = parts.back();
  cur[leaf] = value;
  ctx.add_override(cur[leaf], text);
  // The two DRAM bandwidth keys are alternatives: setting one removes the other.
  if (path == "dram.bandwidth_gb_per_s") cur.remove("bandwidth_bytes_per_cycle");
  if (path == "dram.bandwidth_bytes_per_cycle") cur.remove("bandwidth_gb_per_s");
}

// ---------------------------------------------------------------------------------------------
// Conversion.

// The canonical spec of a format key, checked against the PE type later.
std::string read_format(yaml::Map& m, const std::string& key, bool is_act) {
  const yaml::Source& ctx = m.source();
  const std::string spec = str(m, key, "", true);
  const YAML::Node n = m.node(key);
  bool weight_only = false;
  try {
    weight_only = workloads::is_weight_only_format(spec);
  } catch (const Error&) {
    // a malformed spec: make_format below reports it with the location
  }
  if (is_act && weight_only) {
    ctx.fail(
        n, m.key_path(key),
        "'" + spec + "' quantizes weights only (GOBO keeps activations in FP16): use act: fp16");
  }
  try {
    return quant::make_format(spec)->name();
  } catch (const Error& e) {
    ctx.fail(n, m.key_path(key), e.what());
  }
}

ArchSpec convert(const YAML::Node& root, const std::shared_ptr<const yaml::Source>& src) {
  const yaml::Source& ctx = *src;
  if (!root.IsDefined() || root.IsNull()) {
    throw Error(ctx.file() +
                ":1:1: (document): the file is empty; an architecture needs at least "
                "'name' and 'formats: {act: ..., weight: ...}'");
  }
  yaml::Map top(root, src);
  top.declare(keys_under(""));
  ArchSpec a;
  models::ArchConfig& c = a.arch;
  c.name = str(top, "name", "", true);
  c.clock_ghz = top.get_positive("clock_ghz", c.clock_ghz, 1e6);

  {
    yaml::Map t = sub(top, "technology");
    a.tech_table = str(t, "table", a.tech_table);
    a.tech_node = str(t, "node", a.tech_node);
    t.finish();
  }
  YAML::Node act_node, weight_node, kv_node;
  {
    if (!top.present("formats")) {
      ctx.fail(root, "formats",
               "missing (this key is required): formats: {act: SPEC, weight: SPEC}");
    }
    yaml::Map f = sub(top, "formats");
    a.act_format = read_format(f, "act", true);
    a.weight_format = read_format(f, "weight", false);
    if (f.present("kv")) a.kv_format = read_format(f, "kv", true);
    act_node = f.node("act");
    weight_node = f.node("weight");
    kv_node = f.node("kv");
    f.finish();
  }
  YAML::Node pe_node, rows_node;
  {
    yaml::Map m = sub(top, "array");
    c.array.rows = static_cast<int>(m.get_int("rows", c.array.rows, 1, kIntMax));
    c.array.cols = static_cast<int>(m.get_int("cols", c.array.cols, 1, kIntMax));
    const YAML::Node df = m.node("dataflow");
    const std::string dfs = str(m, "dataflow", models::dataflow_name(c.array.dataflow));
    try {
      c.array.dataflow = models::parse_dataflow(dfs, "array.dataflow");
    } catch (const Error&) {
      ctx.fail(df, "array.dataflow", "unknown dataflow '" + dfs + "' (known: os, ws, is)");
    }
    // dataflows: [os, ws] or "os,ws": the dataflows the mapper may choose per GEMM.
    const YAML::Node dfl = m.node("dataflows");
    if (dfl.IsDefined()) {
      std::vector<std::string> names;
      if (dfl.IsSequence()) {
        for (const auto& e : dfl) {
          if (!e.IsScalar()) ctx.fail(e, "array.dataflows", "expected a list of os, ws, is");
          names.push_back(e.Scalar());
        }
      } else if (dfl.IsScalar()) {
        std::string text = dfl.Scalar(), item;
        std::istringstream in(text);
        while (std::getline(in, item, ',')) {
          item.erase(0, item.find_first_not_of(' '));
          item.erase(item.find_last_not_of(' ') + 1);
          names.push_back(item);
        }
      } else {
        ctx.fail(dfl, "array.dataflows", "expected a list of os, ws, is");
      }
      if (names.empty()) ctx.fail(dfl, "array.dataflows", "the list is empty");
      for (const std::string& n : names) {
        models::Dataflow d;
        try {
          d = models::parse_dataflow(n, "array.dataflows");
        } catch (const Error&) {
          ctx.fail(dfl, "array.dataflows", "unknown dataflow '" + n + "' (known: os, ws, is)");
        }
        if (std::find(c.array.dataflows.begin(), c.array.dataflows.end(), d) !=
            c.array.dataflows.end()) {
          ctx.fail(dfl, "array.dataflows", "'" + n + "' is listed twice");
        }
        c.array.dataflows.push_back(d);
      }
      // `dataflow` names the array's own (reported) dataflow: the first of the list unless given.
      if (!df.IsDefined()) c.array.dataflow = c.array.dataflows.front();
    }
    c.array.pe = str(m, "pe", c.array.pe);
    c.array.pipelined_folds = m.get_bool("pipelined_folds", c.array.pipelined_folds);
    pe_node = m.node("pe");
    rows_node = m.node("rows");
    m.finish();
  }
  // The PE type must exist and multiply both operand formats.
  {
    const models::PeType* pe = nullptr;
    try {
      pe = &models::pe_type(c.array.pe, "array.pe");
    } catch (const Error& e) {
      std::string msg = e.what();
      const std::string prefix = "array.pe: ";
      if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
      ctx.fail(pe_node.IsDefined() ? pe_node : root, "array.pe", msg);
    }
    // K and V are the W operand of the decode attention GEMMs (Q K^T, P V).
    struct Operand {
      const std::string* spec;
      const char* key;
      bool is_x;
      const YAML::Node* node;
    };
    std::vector<Operand> operands = {{&a.act_format, "formats.act", true, &act_node},
                                     {&a.weight_format, "formats.weight", false, &weight_node}};
    if (!a.kv_format.empty()) operands.push_back({&a.kv_format, "formats.kv", false, &kv_node});
    for (const Operand& op : operands) {
      const bool is_x = op.is_x;
      const std::string& spec = *op.spec;
      const std::string key = op.key;
      const YAML::Node& node = *op.node;
      const models::OperandFormat* f = nullptr;
      try {
        f = &models::operand_format(spec, key);
      } catch (const Error& e) {
        std::string msg = e.what();
        if (msg.rfind(key + ": ", 0) == 0) msg = msg.substr(key.size() + 2);
        ctx.fail(node, key, msg);
      }
      if (!pe->accepts(*f, is_x)) {
        ctx.fail(pe_node.IsDefined() ? pe_node : node, "array.pe",
                 "PE type '" + pe->name() + "' cannot multiply " +
                     (is_x                  ? "activations"
                      : key == "formats.kv" ? "K/V cache values"
                                            : "weights") +
                     " in '" + spec + "' (" + key + "); it accepts " + pe->accepted(is_x));
      }
    }
  }
  {
    yaml::Map m = sub(top, "decoder");
    c.decoder.latency_cycles =
        static_cast<int>(m.get_int("latency_cycles", c.decoder.latency_cycles, 0, kIntMax));
    c.decoder.elements_per_cycle =
        m.get_positive("elements_per_cycle", c.decoder.elements_per_cycle, 1e9);
    m.finish();
  }
  {
    yaml::Map m = sub(top, "dram");
    const YAML::Node gb = m.node("bandwidth_gb_per_s");
    const YAML::Node bpc = m.node("bandwidth_bytes_per_cycle");
    if (gb.IsDefined() && bpc.IsDefined()) {
      ctx.fail(bpc, "dram.bandwidth_bytes_per_cycle",
               "give either bandwidth_gb_per_s or bandwidth_bytes_per_cycle, not both");
    }
    if (gb.IsDefined()) {
      const double v = real_node(m, gb, "bandwidth_gb_per_s", 0, 1e9);
      // GB/s = 1e9 bytes/s and clock_ghz * 1e9 cycles/s: bytes per cycle = GB/s / GHz.
      c.dram.bandwidth_bytes_per_cycle = v / c.clock_ghz;
    } else if (bpc.IsDefined()) {
      c.dram.bandwidth_bytes_per_cycle = real_node(m, bpc, "bandwidth_bytes_per_cycle", 0, 1e12);
    }
    c.dram.latency_cycles = m.get_int("latency_cycles", c.dram.latency_cycles, 0,
                                      std::numeric_limits<int64_t>::max() / 4);
    c.dram.burst_bytes =
        m.get_int("burst_bytes", c.dram.burst_bytes, 1, static_cast<int64_t>(kMaxBytes));
    c.dram.energy_pj_per_byte =
        m.get_double("energy_pj_per_byte", c.dram.energy_pj_per_byte, 0, 1e12);
    c.dram.ideal = m.get_bool("ideal", c.dram.ideal);
    const YAML::Node cap = m.node("capacity_gib");
    if (cap.IsDefined())
      c.dram.capacity_bytes = real_node(m, cap, "capacity_gib", 0, 1e9) * (1ull << 30);
    m.finish();
  }
  {
    yaml::Map m = sub(top, "vector");
    c.vector.lanes = static_cast<int>(m.get_int("lanes", c.vector.lanes, 1, 1 << 20));
    const YAML::Node pb = m.node("precision_bits");
    c.vector.precision_bits =
        static_cast<int>(m.get_int("precision_bits", c.vector.precision_bits, 16, 32));
    if (c.vector.precision_bits != 16 && c.vector.precision_bits != 32) {
      ctx.fail(
          pb, "vector.precision_bits",
          "must be 16 or 32 (FP16 or FP32 lanes), got " + std::to_string(c.vector.precision_bits));
    }
    c.vector.exp_cycles = static_cast<int>(m.get_int("exp_cycles", c.vector.exp_cycles, 1, 1024));
    c.vector.div_cycles = static_cast<int>(m.get_int("div_cycles", c.vector.div_cycles, 1, 1024));
    c.vector.latency_cycles =
        static_cast<int>(m.get_int("latency_cycles", c.vector.latency_cycles, 0, 1 << 20));
    m.finish();
  }
  {
    yaml::Map m = sub(top, "quantizer");
    c.quantizer.elements_per_cycle =
        m.get_positive("elements_per_cycle", c.quantizer.elements_per_cycle, 1e9);
    c.quantizer.latency_cycles =
        static_cast<int>(m.get_int("latency_cycles", c.quantizer.latency_cycles, 0, 1 << 20));
    const YAML::Node sn = m.node("int_scale");
    const std::string sc = str(m, "int_scale", c.quantizer.static_int_scale ? "static" : "dynamic");
    if (sc != "static" && sc != "dynamic") {
      ctx.fail(sn, "quantizer.int_scale",
               "expected dynamic (a max pass per tensor/token) or static (calibrated), got '" + sc +
                   "'");
    }
    c.quantizer.static_int_scale = sc == "static";
    m.finish();
  }
  {
    yaml::Map m = sub(top, "buffers");
    struct B {
      const char* key;
      models::BufferConfig* b;
    };
    for (const B& x : {B{"input", &c.input_buffer}, B{"weight", &c.weight_buffer},
                       B{"output", &c.output_buffer}}) {
      yaml::Map bm = sub(m, x.key);
      const YAML::Node size = bm.node("size_kib");
      if (size.IsDefined()) {
        const double kib = real_node(bm, size, "size_kib", 0, kMaxBytes / 1024);
        const double bytes = kib * 1024;
        if (bytes != std::floor(bytes)) {
          ctx.fail(size, bm.key_path("size_kib"),
                   format_g(kib) + " KiB is not a whole number of bytes (" + format_g(bytes) + ")");
        }
        x.b->size_bytes = static_cast<int64_t>(bytes);
      }
      x.b->banks = static_cast<int>(bm.get_int("banks", x.b->banks, 1, kIntMax));
      x.b->ports = static_cast<int>(bm.get_int("ports", x.b->ports, 1, kIntMax));
      x.b->bank_width_bytes =
          static_cast<int>(bm.get_int("bank_width_bytes", x.b->bank_width_bytes, 1, kIntMax));
      x.b->double_buffered = bm.get_bool("double_buffered", x.b->double_buffered);
      x.b->ideal = bm.get_bool("ideal", x.b->ideal);
      bm.finish();
    }
    c.shared_buffer = m.get_bool("shared", c.shared_buffer);
    m.finish();
  }
  if (top.node("mapper").IsDefined()) {
    yaml::Map m = sub(top, "mapper");
    const YAML::Node on = m.node("objective");
    const std::string o = str(m, "objective", models::objective_name(c.objective));
    try {
      c.objective = models::parse_objective(o, "mapper.objective");
    } catch (const Error&) {
      ctx.fail(on, "mapper.objective",
               "unknown objective '" + o + "' (known: latency, energy, edp)");
    }
    m.finish();
  }
  c.accumulator_bytes =
      static_cast<int>(top.get_int("accumulator_bytes", c.accumulator_bytes, 1, 64));
  c.output_bytes = static_cast<int>(top.get_int("output_bytes", c.output_bytes, 1, 64));
  top.finish();

  // Checks that span fields (PE fusion vs array size) come from models: keep its message, add
  // the file and the array's place.
  try {
    c.validate();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind("arch.", 0) == 0) msg = msg.substr(5);
    throw Error(ctx.where(rows_node.IsDefined() ? rows_node : root) + ": " + msg);
  }
  a.file = ctx.file();
  return a;
}

// ---------------------------------------------------------------------------------------------
// Writing.

const char* yes(bool b) {
  return b ? "true" : "false";
}

}  // namespace

ArchSpec parse_arch(const std::string& yaml, const std::string& file,
                    const std::vector<Override>& overrides) {
  auto src = std::make_shared<yaml::Source>(file, yaml::KeyStyle::kBare);
  yaml::Source& ctx = *src;
  try {
    YAML::Node root = qarch::yaml::parse(yaml, file);
    if (!overrides.empty()) {
      if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
      if (!root.IsMap()) {
        ctx.fail(root, "(document)",
                 "expected a mapping (key: value lines), got " + yaml::describe(root));
      }
      // Repeated keys first: an override must not silently pick one of two entries.
      for (const auto& o : overrides) apply_override(root, o, ctx);
    }
    return convert(root, src);
  } catch (const YAML::Exception& e) {
    // Not expected (every access above is checked), but the contract is qarch::Error only.
    throw Error(file + ": YAML error: " + e.what());
  }
}

ArchSpec load_arch(const std::string& file, const std::vector<Override>& overrides) {
  ArchSpec a = parse_arch(yaml::read_text_file(file, "the architecture file"), file, overrides);
  // A relative technology table is looked up next to the architecture file first (as a sweep's
  // paths are relative to the sweep file), so a config directory runs from any working
  // directory; failing that it is relative to the working directory (--tech, old configs).
  const size_t slash = file.find_last_of('/');
  if (a.tech_table_is_file() && a.tech_table[0] != '/' && slash != std::string::npos) {
    const std::string beside = file.substr(0, slash + 1) + a.tech_table;
    if (std::ifstream(beside).good()) a.tech_table = beside;
  }
  return a;
}

std::string arch_yaml(const ArchSpec& a) {
  const models::ArchConfig& c = a.arch;
  std::ostringstream os;
  auto buffer = [&](const char* key, const models::BufferConfig& b) {
    os << "  " << key << ": {size_kib: " << format_g(static_cast<double>(b.size_bytes) / 1024)
       << ", banks: " << b.banks << ", ports: " << b.ports
       << ", bank_width_bytes: " << b.bank_width_bytes
       << ", double_buffered: " << yes(b.double_buffered) << ", ideal: " << yes(b.ideal) << "}\n";
  };
  os << "name: " << yaml::quoted(c.name) << "\n"
     << "clock_ghz: " << format_g(c.clock_ghz) << "\n"
     << "technology: {table: " << yaml::quoted(a.tech_table)
     << ", node: " << yaml::quoted(a.tech_node) << "}\n"
     << "formats: {act: " << yaml::quoted(a.act_format)
     << ", weight: " << yaml::quoted(a.weight_format)
     << (a.kv_format.empty() ? std::string() : ", kv: " + yaml::quoted(a.kv_format)) << "}\n"
     << "array: {rows: " << c.array.rows << ", cols: " << c.array.cols
     << ", dataflow: " << models::dataflow_name(c.array.dataflow);
  if (!c.array.dataflows.empty()) {
    os << ", dataflows: [";
    for (size_t i = 0; i < c.array.dataflows.size(); ++i)
      os << (i ? ", " : "") << models::dataflow_name(c.array.dataflows[i]);
    os << "]";
  }
  os << ", pe: " << yaml::quoted(c.array.pe)
     << ", pipelined_folds: " << yes(c.array.pipelined_folds) << "}\n"
     << "decoder: {latency_cycles: " << c.decoder.latency_cycles
     << ", elements_per_cycle: " << format_g(c.decoder.elements_per_cycle) << "}\n"
     << "dram:\n"
     << "  bandwidth_bytes_per_cycle: " << format_g(c.dram.bandwidth_bytes_per_cycle) << "  # "
     << format_g(c.dram.bandwidth_bytes_per_cycle * c.clock_ghz) << " GB/s at "
     << format_g(c.clock_ghz) << " GHz\n"
     << "  latency_cycles: " << c.dram.latency_cycles << "\n"
     << "  burst_bytes: " << c.dram.burst_bytes << "\n"
     << "  energy_pj_per_byte: " << format_g(c.dram.energy_pj_per_byte) << "\n"
     << "  ideal: " << yes(c.dram.ideal) << "\n"
     << "  capacity_gib: " << format_g(c.dram.capacity_bytes / (1ull << 30)) << "\n"
     << "buffers:\n";
  buffer("input", c.input_buffer);
  buffer("weight", c.weight_buffer);
  buffer("output", c.output_buffer);
  os << "  shared: " << yes(c.shared_buffer) << "\n"
     << "mapper: {objective: " << models::objective_name(c.objective) << "}\n"
     << "vector: {lanes: " << c.vector.lanes << ", precision_bits: " << c.vector.precision_bits
     << ", exp_cycles: " << c.vector.exp_cycles << ", div_cycles: " << c.vector.div_cycles
     << ", latency_cycles: " << c.vector.latency_cycles << "}\n"
     << "quantizer: {elements_per_cycle: " << format_g(c.quantizer.elements_per_cycle)
     << ", latency_cycles: " << c.quantizer.latency_cycles
     << ", int_scale: " << (c.quantizer.static_int_scale ? "static" : "dynamic") << "}\n"
     << "accumulator_bytes: " << c.accumulator_bytes << "\n"
     << "output_bytes: " << c.output_bytes << "\n";
  return os.str();
}

}  // namespace qarch::explore
