// Technology tables (reports/tech/README.md documents the file format and every default number):
// a strict YAML reader, node scaling, and the energy and area models over models::Stats and
// models::ArchConfig.
//
// A user table overrides the built-in default key by key (`base: default`, the default), so a
// file holding one changed MAC energy is a complete table; `base: none` starts from nothing and
// must then give every key. Each entry is scaled from the node of the file that gave it, so a
// 22nm override of one entry and the 45nm defaults mix correctly.
#include "qarch/reports/tech.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "qarch/common/error.h"
#include "qarch/common/yaml.h"
#include "qarch/models/operand_format.h"
#include "qarch/models/pe.h"

namespace qarch::reports {

namespace detail {
extern const char* const kDefaultTechYaml;  // reports/tech/default.yaml (embed_files.cmake)
}  // namespace detail

namespace {

const char* const kBuiltinName = "reports/tech/default.yaml (built-in)";

// One number of the table before scaling: its value, citation and the node it was given at.
struct Entry {
  double value = 0;
  std::string source;
  std::string node;
};

// A table as read (possibly several files merged), before it is scaled to one node.
struct RawTable {
  std::string node;  // node of the file read last that named one: the table's own node
  std::map<std::string, double> energy_scale, area_scale;
  std::string scaling_source;
  std::map<std::string, Entry> mac_pj, decoder_pj, pe_um2, decoder_um2;
  std::map<std::string, Entry> vector_pj, quantizer_pj, vector_um2, quantizer_um2;
  std::optional<Entry> register_pj_per_byte, accumulator_pj, dram_pj_per_byte, static_mw_per_mm2,
      sram_um2_per_kib;
  std::vector<std::pair<double, double>> sram_points;
  std::optional<Entry> sram_pj;  // source + node of sram_points (value unused)
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The file is read with the common strict reader (qarch/common/yaml.h): every message is
// "FILE:LINE:COL: key 'mac_pj.int8.value': PROBLEM".
constexpr double kInf = std::numeric_limits<double>::infinity();

// An entry: a bare number, or {value, source}. A bare number's source is its place in the file.
Entry entry(yaml::Map& parent, const std::string& key, const std::string& node) {
  const yaml::Source& src = parent.source();
  const YAML::Node n = parent.node(key);
  Entry e;
  e.node = node;
  if (n.IsScalar()) {
    e.value = yaml::read_double(src, n, parent.key_path(key), 0, kInf);
    e.source = src.where(n) + " (no source given)";
    return e;
  }
  if (!n.IsMap())
    parent.fail(key, "expected a number or {value, source}, got " + yaml::describe(n));
  yaml::Map m = parent.get_map(key);
  m.declare({"value", "source"});
  e.value = m.get_double("value", 0, kInf);
  e.source = m.has("source") ? m.get_string("source") : src.where(n) + " (no source given)";
  m.finish();
  return e;
}

// Keys of keyed tables are names, optionally with "@N" (a variant for operands of <= N bits).
void check_entry_name(const yaml::Map& m, const std::string& name) {
  const size_t at = name.find('@');
  if (name.empty() || at == 0) m.fail(name, "empty kind name");
  if (at != std::string::npos) {
    const std::string bits = name.substr(at + 1);
    const bool digits =
        !bits.empty() && bits.size() <= 3 &&
        std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(bits) <= 0) {
      // At the key itself, as the kind name is what is wrong.
      for (const auto& kv : m.yaml())
        if (kv.first.Scalar() == name)
          m.fail_at(kv.first, name, "a variant is KIND@BITS with BITS a positive integer");
    }
  }
}

void read_keyed(yaml::Map& doc, const std::string& key, const std::string& node,
                std::map<std::string, Entry>& out) {
  yaml::Map m = doc.get_map(key);
  for (const std::string& k : m.keys()) {
    check_entry_name(m, k);
    out[k] = entry(m, k, node);
  }
  m.finish();
}

void read_scale(yaml::Map& scaling, const std::string& key, std::map<std::string, double>& out) {
  yaml::Map m = scaling.get_map(key);
  for (const std::string& k : m.keys()) out[k] = m.get_positive(k, 0, kInf);
  m.finish();
}

void read_sram(yaml::Map& doc, const std::string& node, RawTable& t) {
  yaml::Map m = doc.get_map("sram_pj_per_byte");
  m.declare({"points", "source"});
  const YAML::Node pts = m.node("points");
  if (!pts.IsDefined()) m.fail_missing("points");
  if (!pts.IsSequence() || pts.size() == 0) {
    m.fail("points", "expected a non-empty list of [capacity_bytes, pJ_per_byte] pairs, got " +
                         yaml::describe(pts));
  }
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < pts.size(); ++i) {
    const YAML::Node p = pts[i];
    const std::string pk = "points[" + std::to_string(i) + "]";
    if (!p.IsSequence() || p.size() != 2)
      m.fail_at(p, pk, "expected [capacity_bytes, pJ_per_byte], got " + yaml::describe(p));
    const double cap = yaml::read_double(m.source(), p[0], m.key_path(pk), 0, kInf, true);
    const double pj = yaml::read_double(m.source(), p[1], m.key_path(pk), 0, kInf);
    if (!out.empty() && cap <= out.back().first)
      m.fail_at(p[0], pk, "capacities must be strictly ascending");
    out.emplace_back(cap, pj);
  }
  t.sram_points = std::move(out);
  Entry e;
  e.node = node;
  e.source =
      m.has("source") ? m.get_string("source") : m.source().where(m.yaml()) + " (no source given)";
  m.finish();
  t.sram_pj = e;
}

const std::vector<std::string>& top_keys() {
  static const std::vector<std::string> k = {"base",
                                             "description",
                                             "node",
                                             "scaling",
                                             "mac_pj",
                                             "decoder_pj",
                                             "register_pj_per_byte",
                                             "accumulator_pj",
                                             "sram_pj_per_byte",
                                             "dram_pj_per_byte",
                                             "static_mw_per_mm2",
                                             "pe_um2",
                                             "decoder_um2",
                                             "sram_um2_per_kib",
                                             "vector_pj",
                                             "quantizer_pj",
                                             "vector_um2",
                                             "quantizer_um2"};
  return k;
}

// Applies one file over `t` (which holds the base table, or nothing).
void apply(const std::string& yaml_text, const std::string& file, RawTable& t, bool is_base) {
  const YAML::Node root = yaml::parse(yaml_text, file);
  if (!root.IsMap()) {  // an empty file too: a table says at least what it changes
    throw Error(yaml::Source(file).where(root) +
                ": the document: expected a mapping (key: value lines), got " +
                yaml::describe(root));
  }
  yaml::Map doc(root, file);
  doc.declare(top_keys());
  if (is_base && doc.present("base")) doc.fail("base", "not allowed here");
  std::string node = t.node;
  if (doc.present("node")) node = doc.get_string("node");
  if (node.empty()) {
    throw Error(file + ": key 'node': missing required key (the node the numbers are given at)");
  }
  if (doc.present("scaling")) {
    yaml::Map s = doc.get_map("scaling");
    s.declare({"source", "energy", "area"});
    if (s.present("source")) t.scaling_source = s.get_string("source");
    if (s.present("energy")) read_scale(s, "energy", t.energy_scale);
    if (s.present("area")) read_scale(s, "area", t.area_scale);
    s.finish();
  }
  // The file's node must have both factors (checked once the file's own scaling is merged).
  for (auto* m : {&t.energy_scale, &t.area_scale}) {
    if (!m->count(node)) {
      std::vector<std::string> known;
      for (const auto& kv : *m) known.push_back(kv.first);
      doc.fail("node", "node '" + node + "' has no " +
                           (m == &t.energy_scale ? "scaling.energy" : "scaling.area") +
                           " factor (known: " + join(known) + ")");
    }
  }
  t.node = node;
  auto keyed = [&](const char* key, std::map<std::string, Entry>& out) {
    if (doc.present(key)) read_keyed(doc, key, node, out);
  };
  auto single = [&](const char* key, std::optional<Entry>& out) {
    if (doc.present(key)) out = entry(doc, key, node);
  };
  keyed("mac_pj", t.mac_pj);
  keyed("decoder_pj", t.decoder_pj);
  keyed("pe_um2", t.pe_um2);
  keyed("decoder_um2", t.decoder_um2);
  keyed("vector_pj", t.vector_pj);
  keyed("quantizer_pj", t.quantizer_pj);
  keyed("vector_um2", t.vector_um2);
  keyed("quantizer_um2", t.quantizer_um2);
  single("register_pj_per_byte", t.register_pj_per_byte);
  single("accumulator_pj", t.accumulator_pj);
  single("dram_pj_per_byte", t.dram_pj_per_byte);
  single("static_mw_per_mm2", t.static_mw_per_mm2);
  single("sram_um2_per_kib", t.sram_um2_per_kib);
  if (doc.present("sram_pj_per_byte")) read_sram(doc, node, t);
  if (doc.present("description")) doc.get_string("description");
  doc.finish();
}

// A table with `base: none` (or the default itself) must be complete.
void check_complete(const RawTable& t, const std::string& file) {
  std::vector<std::string> missing;
  auto need = [&](bool ok, const char* key) {
    if (!ok) missing.push_back(key);
  };
  need(!t.mac_pj.empty(), "mac_pj");
  need(!t.decoder_pj.empty(), "decoder_pj");
  need(t.register_pj_per_byte.has_value(), "register_pj_per_byte");
  need(t.accumulator_pj.has_value(), "accumulator_pj");
  need(t.sram_pj.has_value(), "sram_pj_per_byte");
  need(t.dram_pj_per_byte.has_value(), "dram_pj_per_byte");
  need(t.static_mw_per_mm2.has_value(), "static_mw_per_mm2");
  need(!t.pe_um2.empty(), "pe_um2");
  need(!t.decoder_um2.empty(), "decoder_um2");
  need(t.sram_um2_per_kib.has_value(), "sram_um2_per_kib");
  need(!t.energy_scale.empty() && !t.area_scale.empty(), "scaling");
  if (!missing.empty()) {
    throw Error(file + ": missing required key(s) " + join(missing) +
                " (a table with 'base: none' must give every key)");
  }
}

// The `base:` key of a user file (default when absent).
bool user_wants_base(const std::string& yaml_text, const std::string& file) {
  const YAML::Node doc = yaml::parse(yaml_text, file);
  if (!doc.IsMap()) return true;  // apply() reports it
  yaml::Map m(doc, file);
  m.accept_all();  // apply() checks the keys
  if (!m.present("base")) return true;
  const std::string v = m.get_string("base");
  if (v == "default") return true;
  if (v == "none") return false;
  m.fail("base", "expected 'default' or 'none', got '" + v + "'");
}

// Smallest ceil(element bits) of a spec; 0 when the spec is empty (unknown width).
int element_bits(const std::string& spec, const std::string& field) {
  if (spec.empty()) return 0;
  const double b = models::operand_format(spec, field).element_bits;
  return static_cast<int>(std::ceil(b - 1e-9));
}

// The value of `kind` in a keyed table for operands of at most `bits` bits: the narrowest
// "kind@N" variant with N >= bits, else plain "kind" (see README "Narrow variants").
double lookup(const std::map<std::string, double>& m, const std::string& kind, int bits,
              const Technology& t, const std::string& table, const std::string& what) {
  const std::string prefix = kind + "@";
  int best = std::numeric_limits<int>::max();
  double value = 0;
  if (bits > 0) {
    for (auto it = m.lower_bound(prefix); it != m.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      const int n = std::stoi(it->first.substr(prefix.size()));
      if (n >= bits && n < best) {
        best = n;
        value = it->second;
      }
    }
  }
  if (best != std::numeric_limits<int>::max()) return value;
  const auto it = m.find(kind);
  if (it != m.end()) return it->second;
  std::vector<std::string> known;
  for (const auto& kv : m) known.push_back(kv.first);
  throw Error("technology table " + t.file + ": " + what + " '" + kind + "' has no entry in " +
              table + " (known: " + join(known) + ")");
}

double seconds_of(const models::ArchConfig& arch, uint64_t cycles) {
  return static_cast<double>(cycles) / (arch.clock_ghz * 1e9);
}

}  // namespace

double Technology::sram_pj(double capacity_bytes) const {
  const auto& p = sram_pj_per_byte;
  if (p.empty()) throw Error("technology table " + file + ": sram_pj_per_byte has no points");
  if (capacity_bytes <= p.front().first) return p.front().second;
  if (capacity_bytes >= p.back().first) return p.back().second;
  size_t i = 1;
  while (p[i].first < capacity_bytes) ++i;
  const auto& [c0, e0] = p[i - 1];
  const auto& [c1, e1] = p[i];
  if (e0 <= 0 || e1 <= 0) {  // log of 0: fall back to linear between the points
    return e0 + (e1 - e0) * (capacity_bytes - c0) / (c1 - c0);
  }
  const double t = std::log(capacity_bytes / c0) / std::log(c1 / c0);
  return std::exp(std::log(e0) + t * std::log(e1 / e0));
}

Technology load_technology(const std::string& file, const std::string& node) {
  RawTable raw;
  const bool builtin = file.empty() || file == "default";
  std::string user_text;
  bool with_base = true;
  if (!builtin) {
    user_text = yaml::read_text_file(file, "the technology table");
    with_base = user_wants_base(user_text, file);
  }
  if (with_base) {
    apply(std::string(detail::kDefaultTechYaml), kBuiltinName, raw, true);
    check_complete(raw, kBuiltinName);
  }
  if (!builtin) {
    apply(user_text, file, raw, false);
    if (!with_base) check_complete(raw, file);
  }

  Technology t;
  t.file = builtin ? "built-in" : file;
  t.node = node.empty() ? raw.node : node;
  const std::string table_file = builtin ? std::string(kBuiltinName) : file;
  for (auto* m : {&raw.energy_scale, &raw.area_scale}) {
    if (!m->count(t.node)) {
      std::vector<std::string> known;
      for (const auto& kv : raw.energy_scale)
        if (raw.area_scale.count(kv.first)) known.push_back(kv.first);
      throw Error(table_file + ": unknown node '" + t.node + "' (known: " + join(known) + ")");
    }
  }
  // Factor taking a value given at `from` to the requested node.
  const auto energy = [&](const std::string& from) {
    return raw.energy_scale.at(t.node) / raw.energy_scale.at(from);
  };
  const auto area = [&](const std::string& from) {
    return raw.area_scale.at(t.node) / raw.area_scale.at(from);
  };
  const auto none = [](const std::string&) { return 1.0; };
  const auto leakage = [&](const std::string& from) { return energy(from) / area(from); };
  const auto note = [&](const Entry& e, const char* rule) {
    if (e.node == t.node) return e.source;
    return e.source + " [given at " + e.node + ", scaled to " + t.node + " by " + rule + "]";
  };
  const auto keyed = [&](const char* name, const std::map<std::string, Entry>& in,
                         std::map<std::string, double>& out, auto factor, const char* rule) {
    for (const auto& [k, e] : in) {
      out[k] = e.value * factor(e.node);
      t.sources[std::string(name) + "." + k] = note(e, rule);
    }
  };
  const auto single = [&](const char* name, const Entry& e, double& out, auto factor,
                          const char* rule) {
    out = e.value * factor(e.node);
    t.sources[name] = note(e, rule);
  };
  keyed("mac_pj", raw.mac_pj, t.mac_pj, energy, "scaling.energy");
  keyed("decoder_pj", raw.decoder_pj, t.decoder_pj, energy, "scaling.energy");
  keyed("pe_um2", raw.pe_um2, t.pe_um2, area, "scaling.area");
  keyed("decoder_um2", raw.decoder_um2, t.decoder_um2, area, "scaling.area");
  keyed("vector_pj", raw.vector_pj, t.vector_pj, energy, "scaling.energy");
  keyed("quantizer_pj", raw.quantizer_pj, t.quantizer_pj, energy, "scaling.energy");
  keyed("vector_um2", raw.vector_um2, t.vector_um2, area, "scaling.area");
  keyed("quantizer_um2", raw.quantizer_um2, t.quantizer_um2, area, "scaling.area");
  single("register_pj_per_byte", *raw.register_pj_per_byte, t.register_pj_per_byte, energy,
         "scaling.energy");
  single("accumulator_pj", *raw.accumulator_pj, t.accumulator_pj, energy, "scaling.energy");
  // DRAM is a separate chip: its energy per byte does not follow the logic node.
  single("dram_pj_per_byte", *raw.dram_pj_per_byte, t.dram_pj_per_byte, none, "none");
  single("static_mw_per_mm2", *raw.static_mw_per_mm2, t.static_mw_per_mm2, leakage,
         "scaling.energy / scaling.area");
  single("sram_um2_per_kib", *raw.sram_um2_per_kib, t.sram_um2_per_kib, area, "scaling.area");
  const double sram_f = energy(raw.sram_pj->node);
  for (const auto& [cap, pj] : raw.sram_points) t.sram_pj_per_byte.emplace_back(cap, pj * sram_f);
  t.sources["sram_pj_per_byte"] = note(*raw.sram_pj, "scaling.energy");
  t.sources["scaling"] = raw.scaling_source;
  return t;
}

Breakdown energy_breakdown(const models::Stats& stats, const models::ArchConfig& arch,
                           const std::string& act_format, const std::string& weight_format,
                           const Technology& tech) {
  Breakdown e;
  for (const char* c : kEnergyComponents) e[c] = 0;
  const int xb = element_bits(act_format, "act_format");
  const int wb = element_bits(weight_format, "weight_format");
  const int both = (xb > 0 && wb > 0) ? std::max(xb, wb) : 0;

  for (const auto& [kind, n] : stats.array.macs_by_type) {
    if (n == 0) continue;
    e["mac"] +=
        static_cast<double>(n) * lookup(tech.mac_pj, kind, both, tech, "mac_pj", "MAC kind");
  }
  e["accumulator"] = static_cast<double>(stats.array.segment_closes) * tech.accumulator_pj;
  e["register"] =
      static_cast<double>(stats.array.register_read_bytes + stats.array.register_write_bytes) *
      tech.register_pj_per_byte;
  // X enters on the left except in the input-stationary dataflow (models/src/simulator.cpp).
  const bool x_left = arch.array.dataflow != models::Dataflow::kInputStationary;
  // Each decoder kind at its own price; the element width is that of the operand this edge
  // carries in the architecture's dataflow when its format uses the kind, else the other's.
  const std::string x_kind = models::operand_format(act_format, "act_format").decoder;
  const std::string w_kind = models::operand_format(weight_format, "weight_format").decoder;
  const auto decoder = [&](const models::DecoderStats& d, int bits) {
    if (d.ops == 0) return 0.0;
    if (d.ops_by_kind.empty() && d.kind.empty()) {
      throw Error("energy_breakdown: the " + d.edge + " decoders ran " + std::to_string(d.ops) +
                  " operations but Stats names no decoder kind");
    }
    if (d.ops_by_kind.empty()) {
      return static_cast<double>(d.ops) *
             lookup(tech.decoder_pj, d.kind, bits, tech, "decoder_pj", "decoder kind");
    }
    const int edge_bits = bits, other_bits = bits == xb ? wb : xb;
    const std::string& edge_kind = bits == xb ? x_kind : w_kind;
    double pj = 0;
    for (const auto& [kind, ops] : d.ops_by_kind) {
      if (ops == 0) continue;
      const int b = kind == edge_kind ? edge_bits : other_bits;
      pj += static_cast<double>(ops) *
            lookup(tech.decoder_pj, kind, b, tech, "decoder_pj", "decoder kind");
    }
    return pj;
  };
  e["decoder"] = decoder(stats.left_decoders, x_left ? xb : wb) +
                 decoder(stats.top_decoders, x_left ? wb : xb);
  // Every byte into or out of a buffer, DMA side and array side, at the energy per byte of an
  // SRAM of the buffer's configured size (idealized buffers too: their size_bytes stands for the
  // buffer an implementation would build).
  const auto sram = [&](const models::BufferStats& b, const models::BufferConfig& cfg) {
    const double bytes =
        static_cast<double>(b.fill_bytes + b.drain_bytes + b.read_bytes + b.write_bytes);
    return bytes == 0 ? 0.0 : bytes * tech.sram_pj(static_cast<double>(cfg.size_bytes));
  };
  e["sram_input"] = sram(stats.input_buffer, arch.input_buffer);
  e["sram_weight"] = sram(stats.weight_buffer, arch.weight_buffer);
  e["sram_output"] = sram(stats.output_buffer, arch.output_buffer);
  const double dram_pj =
      arch.dram.energy_pj_per_byte > 0 ? arch.dram.energy_pj_per_byte : tech.dram_pj_per_byte;
  e["dram"] = static_cast<double>(stats.dram.read_bytes + stats.dram.write_bytes) * dram_pj;
  // mW x s = 1e9 pJ.
  const double mm2 = total(area_breakdown(arch, act_format, weight_format, tech));
  e["static"] = tech.static_mw_per_mm2 * mm2 * seconds_of(arch, stats.cycles) * 1e9;
  return e;
}

models::MapperCosts mapper_costs(const models::ArchConfig& arch, const std::string& act_format,
                                 const std::string& weight_format, const Technology& tech) {
  models::MapperCosts c;
  c.given = true;
  c.dram_pj_per_byte =
      arch.dram.energy_pj_per_byte > 0 ? arch.dram.energy_pj_per_byte : tech.dram_pj_per_byte;
  const models::BufferConfig* b[3] = {&arch.input_buffer, &arch.weight_buffer, &arch.output_buffer};
  for (int i = 0; i < 3; ++i)
    c.sram_pj_per_byte[i] = tech.sram_pj(static_cast<double>(b[i]->size_bytes));
  c.register_pj_per_byte = tech.register_pj_per_byte;
  const int xb = element_bits(act_format, "act_format");
  const int wb = element_bits(weight_format, "weight_format");
  const models::OperandFormat& xf = models::operand_format(act_format, "act_format");
  const models::OperandFormat& wf = models::operand_format(weight_format, "weight_format");
  c.decoder_pj_per_op[0] =
      lookup(tech.decoder_pj, xf.decoder, xb, tech, "decoder_pj", "decoder kind");
  c.decoder_pj_per_op[1] =
      lookup(tech.decoder_pj, wf.decoder, wb, tech, "decoder_pj", "decoder kind");
  // mW x ns = pJ: leakage of the whole area over one cycle.
  const double mm2 = total(area_breakdown(arch, act_format, weight_format, tech));
  c.static_pj_per_cycle = tech.static_mw_per_mm2 * mm2 / arch.clock_ghz;
  return c;
}

Breakdown area_breakdown(const models::ArchConfig& arch, const std::string& act_format,
                         const std::string& weight_format, const Technology& tech) {
  if (act_format.empty() || weight_format.empty()) {
    throw Error("area_breakdown: the " + std::string(act_format.empty() ? "act" : "weight") +
                "_format is empty (the decoders and narrow PE variants depend on it)");
  }
  Breakdown a;
  const models::OperandFormat& xf = models::operand_format(act_format, "act_format");
  const models::OperandFormat& wf = models::operand_format(weight_format, "weight_format");
  const int xb = element_bits(act_format, "act_format");
  const int wb = element_bits(weight_format, "weight_format");
  const double um2_per_mm2 = 1e6;
  const double pes = static_cast<double>(arch.array.rows) * arch.array.cols;
  a["pe_array"] = pes *
                  lookup(tech.pe_um2, arch.array.pe, std::max(xb, wb), tech, "pe_um2", "PE type") /
                  um2_per_mm2;
  // One decoder per logical row / column (an OliVe 8-bit logical PE spans 2 x 2 physical PEs),
  // as the simulator counts DecoderStats::units; X on the left except input-stationary.
  const int fuse = models::pe_type(arch.array.pe).fuse();
  const bool x_left = arch.array.dataflow != models::Dataflow::kInputStationary;
  const models::OperandFormat& lf = x_left ? xf : wf;
  const models::OperandFormat& tf = x_left ? wf : xf;
  const double left_units = arch.array.rows / fuse, top_units = arch.array.cols / fuse;
  a["decoders"] = (left_units * lookup(tech.decoder_um2, lf.decoder, x_left ? xb : wb, tech,
                                       "decoder_um2", "decoder kind") +
                   top_units * lookup(tech.decoder_um2, tf.decoder, x_left ? wb : xb, tech,
                                      "decoder_um2", "decoder kind")) /
                  um2_per_mm2;
  const auto sram = [&](const models::BufferConfig& b) {
    return static_cast<double>(b.size_bytes) / 1024.0 * tech.sram_um2_per_kib / um2_per_mm2;
  };
  a["sram_input"] = sram(arch.input_buffer);
  a["sram_weight"] = sram(arch.weight_buffer);
  a["sram_output"] = sram(arch.output_buffer);
  return a;
}

namespace {

double serve_row(const std::map<std::string, double>& m, const std::string& key,
                 const Technology& tech, const char* table) {
  auto it = m.find(key);
  if (it == m.end()) {
    throw Error("technology table " + tech.file + ": " + table + "." + key +
                ": missing (whole-model runs price the vector unit and the online quantizer "
                "from it; the built-in table has every row)");
  }
  return it->second;
}

}  // namespace

double vector_op_energy_pj(const models::VectorOpCost& c, const models::ArchConfig& arch,
                           const Technology& tech) {
  const std::string p = arch.vector.precision_bits == 16 ? "fp16_" : "fp32_";
  const double add = serve_row(tech.vector_pj, p + "add", tech, "vector_pj");
  const double mul = serve_row(tech.vector_pj, p + "mul", tech, "vector_pj");
  const double ex = serve_row(tech.vector_pj, p + "exp", tech, "vector_pj");
  const double div = serve_row(tech.vector_pj, p + "div", tech, "vector_pj");
  return static_cast<double>(c.ops.add + c.ops.cmp) * add + static_cast<double>(c.ops.mul) * mul +
         static_cast<double>(c.ops.exp) * ex + static_cast<double>(c.ops.div) * div +
         static_cast<double>(c.sram_bytes) *
             tech.sram_pj(static_cast<double>(arch.output_buffer.size_bytes));
}

double quantizer_energy_pj(const models::QuantizerCost& c, const models::ArchConfig& arch,
                           const Technology& tech) {
  if (c.kind == models::QuantizerUnitKind::kNone || c.elements == 0) return 0;
  const double per =
      serve_row(tech.quantizer_pj, models::quantizer_unit_name(c.kind), tech, "quantizer_pj");
  return static_cast<double>(c.elements) * per +
         static_cast<double>(c.sram_read_bytes + c.sram_write_bytes) *
             tech.sram_pj(static_cast<double>(arch.output_buffer.size_bytes));
}

double vector_area_mm2(const models::ArchConfig& arch, const Technology& tech) {
  const std::string p = arch.vector.precision_bits == 16 ? "fp16" : "fp32";
  return arch.vector.lanes * serve_row(tech.vector_um2, p, tech, "vector_um2") / 1e6;
}

double quantizer_area_mm2(const models::ArchConfig& arch, models::QuantizerUnitKind kind,
                          const Technology& tech) {
  if (kind == models::QuantizerUnitKind::kNone) return 0;
  return arch.quantizer.elements_per_cycle *
         serve_row(tech.quantizer_um2, models::quantizer_unit_name(kind), tech, "quantizer_um2") /
         1e6;
}

}  // namespace qarch::reports
