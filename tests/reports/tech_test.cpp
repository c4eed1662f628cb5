// Technology tables and the energy / area models (reports/src/tech.cpp, reports/tech/).
// Expected values are worked out by hand from reports/tech/default.yaml (quoted in comments).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qarch/common/error.h"
#include "qarch/models/decoders.h"
#include "qarch/models/pe.h"
#include "qarch/models/simulator.h"
#include "qarch/reports/tech.h"

namespace qarch::reports {
namespace {

using ::testing::HasSubstr;

// Writes `text` to a fresh file under the test's temporary directory and returns its path.
std::string write_yaml(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "qarch_tech_" + name + ".yaml";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The message of the qarch::Error that f throws ("" if none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_rel(double got, double want, double rel = 1e-12) {
  EXPECT_NEAR(got, want, std::abs(want) * rel) << "want " << want;
}

TEST(Tech, DefaultTableAt45nm) {
  const Technology t = load_technology("", "");
  EXPECT_EQ(t.file, "built-in");
  EXPECT_EQ(t.node, "45nm");
  EXPECT_EQ(t.mac_pj.at("int8"), 0.30);
  EXPECT_EQ(t.mac_pj.at("ovp4"), 0.2344);
  EXPECT_EQ(t.mac_pj.at("mx_element@4"), 0.09583);
  EXPECT_EQ(t.accumulator_pj, 1.03);
  EXPECT_EQ(t.dram_pj_per_byte, 162.5);
  EXPECT_EQ(t.register_pj_per_byte, 0.01212);
  EXPECT_EQ(t.pe_um2.at("olive4"), 706.23);
  EXPECT_EQ(t.sram_um2_per_kib, 4724);
  ASSERT_EQ(t.sram_pj_per_byte.size(), 3u);
  EXPECT_EQ(t.sram_pj_per_byte[2], (std::pair<double, double>(1048576, 12.5)));
  // "default" names the same table.
  EXPECT_EQ(load_technology("default", "45nm").mac_pj, t.mac_pj);
  // Every number of the shipped table says where it comes from.
  size_t entries = t.mac_pj.size() + t.decoder_pj.size() + t.pe_um2.size() + t.decoder_um2.size() +
                   t.vector_pj.size() + t.quantizer_pj.size() + t.vector_um2.size() +
                   t.quantizer_um2.size() + 7 /* scalars, sram points, scaling */;
  // The whole-model rows: FP16 and FP32 lane operations, every quantizer kind.
  EXPECT_EQ(t.vector_pj.size(), 8u);
  EXPECT_EQ(t.vector_pj.at("fp16_add"), 0.4);
  EXPECT_EQ(t.vector_pj.at("fp32_mul"), 3.7);
  for (const char* k : {"int", "block", "ovp", "pertensor"}) {
    EXPECT_GT(t.quantizer_pj.at(k), 0) << k;
    EXPECT_GT(t.quantizer_um2.at(k), 0) << k;
  }
  EXPECT_EQ(t.sources.size(), entries);
  for (const auto& [key, src] : t.sources) {
    EXPECT_GT(src.size(), 20u) << key;
    EXPECT_EQ(src.find("no source given"), std::string::npos) << key;
    EXPECT_EQ(src.find("[given at"), std::string::npos) << key;  // no scaling at its own node
  }
}

// The same (unsigned) reading of "int8 MAC = 8b mult + 32b add" as the table states.
TEST(Tech, Int8MacIsHorowitzMultPlusAdd) {
  const Technology t = load_technology("", "45nm");
  // Horowitz ISSCC 2014, 45nm: 8b mult 0.2 pJ, 8b add 0.03, 32b add 0.1.
  EXPECT_GE(t.mac_pj.at("int8"), 0.2 + 0.03);
  EXPECT_LE(t.mac_pj.at("int8"), 0.2 + 0.1);
}

// Every PE type and every MAC kind models can emit (mac_kind() and count_macs' extra counters),
// every decoder kind, has energy and area entries.
TEST(Tech, EveryPeTypeMacKindAndDecoderHasAnEntry) {
  const Technology t = load_technology("", "");
  for (const models::PeType* pe : models::list_pe_types()) {
    EXPECT_TRUE(t.pe_um2.count(pe->name())) << "pe_um2." << pe->name();
    EXPECT_TRUE(t.mac_pj.count(pe->mac_kind())) << "mac_pj." << pe->mac_kind();
    models::MacBlock b;
    b.i1 = b.j1 = b.k1 = 2;
    models::Counters c;
    pe->count_macs(b, c);
    EXPECT_FALSE(c.empty()) << pe->name();
    for (const auto& kv : c) EXPECT_TRUE(t.mac_pj.count(kv.first)) << "mac_pj." << kv.first;
  }
  for (const models::DecoderInfo& d : models::list_decoders()) {
    EXPECT_TRUE(t.decoder_pj.count(d.kind)) << "decoder_pj." << d.kind;
    EXPECT_TRUE(t.decoder_um2.count(d.kind)) << "decoder_um2." << d.kind;
  }
}

// The RTL-derived PE and decoder areas are the Yosys results at both nodes of area.json: the
// table's area scaling is the flow's ideal (22/45)^2.
TEST(Tech, RtlAreasMatchTheYosysResults) {
  std::ifstream in(std::string(QARCH_SOURCE_DIR) + "/rtl/synth/results/area.json");
  ASSERT_TRUE(in) << "rtl/synth/results/area.json";
  const nlohmann::json j = nlohmann::json::parse(in);
  std::map<std::string, nlohmann::json> blocks;
  for (const auto& b : j.at("blocks")) blocks[b.at("name").get<std::string>()] = b;
  const Technology t45 = load_technology("", "45nm");
  const Technology t22 = load_technology("", "22nm");
  const std::vector<std::pair<std::string, std::string>> pe = {
      {"int8", "int8_mac"},    {"olive4", "ovp4_pe"}, {"mx", "mxint8_pe"},  {"mx@4", "mxfp4_pe"},
      {"amxfp4", "amxfp4_pe"}, {"bfp", "bfp16_pe"},   {"bfp@4", "bfp12_pe"}};
  for (const auto& [k, block] : pe) {
    const auto& a = blocks.at(block).at("area_um2");
    EXPECT_NEAR(t45.pe_um2.at(k), a.at("45nm").get<double>(), 0.05) << k;
    EXPECT_NEAR(t22.pe_um2.at(k), a.at("22nm").get<double>(), 2e-4 * a.at("22nm").get<double>())
        << k;
  }
  EXPECT_NEAR(t45.pe_um2.at("olive8") * 4, blocks.at("ovp8_pe").at("area_um2").at("45nm"), 0.05);
  const std::vector<std::pair<std::string, std::string>> dec = {
      {"ovp4", "ovp4_border"},     {"ovp8", "ovp8_decoder_e4m3"}, {"mx", "mx_e4m3_decoder"},
      {"mx@4", "mx_e2m1_decoder"}, {"nvfp4", "nvfp4_decoder"},    {"amxfp4", "amxfp4_decoder"},
      {"bfp", "bfp16_decoder"},    {"bfp@4", "bfp12_decoder"}};
  for (const auto& [k, block] : dec) {
    const double area45 = blocks.at(block).at("area_um2").at("45nm").get<double>();
    EXPECT_NEAR(t45.decoder_um2.at(k), area45, 0.06) << k;
    // Energy per op = 0.30 pJ x NAND2-eq / 1122.3 (int8_mac's NAND2-eq), to the 4 digits given.
    const double nand2 = blocks.at(block).at("nand2_eq").get<double>();
    EXPECT_NEAR(t45.decoder_pj.at(k), 0.30 * nand2 / 1122.3, 5e-4 * t45.decoder_pj.at(k)) << k;
  }
}

TEST(Tech, NodeScaling) {
  const Technology t = load_technology("", "22nm");
  EXPECT_EQ(t.node, "22nm");
  // scaling.energy 22nm 0.2755, scaling.area 22nm 0.2390.
  expect_rel(t.mac_pj.at("int8"), 0.30 * 0.2755);
  expect_rel(t.decoder_pj.at("ovp4"), 0.04429 * 0.2755);
  expect_rel(t.accumulator_pj, 1.03 * 0.2755);
  expect_rel(t.register_pj_per_byte, 0.01212 * 0.2755);
  expect_rel(t.sram_pj_per_byte[0].second, 1.25 * 0.2755);
  EXPECT_EQ(t.sram_pj_per_byte[0].first, 8192);  // capacities do not scale
  EXPECT_EQ(t.dram_pj_per_byte, 162.5);          // DRAM does not follow the logic node
  expect_rel(t.pe_um2.at("int8"), 895.62 * 0.2390);
  expect_rel(t.decoder_um2.at("ovp4"), 132.2 * 0.2390);
  expect_rel(t.sram_um2_per_kib, 4724 * 0.2390);
  expect_rel(t.static_mw_per_mm2, 10.0 * 0.2755 / 0.2390);
  EXPECT_THAT(t.sources.at("mac_pj.int8"), HasSubstr("[given at 45nm, scaled to 22nm by "
                                                     "scaling.energy]"));
  // 7nm: energy 0.05552, area 0.02420 ((7/45)^2).
  const Technology t7 = load_technology("", "7nm");
  expect_rel(t7.mac_pj.at("ovp4"), 0.2344 * 0.05552);
  expect_rel(t7.pe_um2.at("olive4"), 706.23 * 0.02420);
  // The area factors are (L/45)^2 to the digits given.
  for (const char* n : {"32nm", "28nm", "22nm", "16nm", "14nm", "7nm"}) {
    const double l = std::atof(n);
    EXPECT_NEAR(load_technology("", n).pe_um2.at("int8") / 895.62, (l / 45) * (l / 45), 5e-5) << n;
  }
  EXPECT_EQ(error_of([] { load_technology("", "5nm"); }),
            "reports/tech/default.yaml (built-in): unknown node '5nm' (known: 14nm, 16nm, 22nm, "
            "28nm, 32nm, 45nm, 7nm)");
}

TEST(Tech, SramLogLogInterpolation) {
  const Technology t = load_technology("", "45nm");
  // Horowitz points: 8 KB 1.25, 32 KB 2.5, 1 MB 12.5 pJ/byte.
  EXPECT_DOUBLE_EQ(t.sram_pj(8192), 1.25);
  EXPECT_DOUBLE_EQ(t.sram_pj(32768), 2.5);
  EXPECT_DOUBLE_EQ(t.sram_pj(1048576), 12.5);
  // 16 KB is the log midpoint of 8 and 32 KB: the geometric mean.
  EXPECT_DOUBLE_EQ(t.sram_pj(16384), std::sqrt(1.25 * 2.5));
  // 128 KB: t = log(4)/log(32) = 0.4 of the way from 32 KB to 1 MB: 2.5 x 5^0.4 = 4.759135.
  EXPECT_NEAR(t.sram_pj(131072), 4.759135, 1e-6);
  // Clamped outside the points.
  EXPECT_EQ(t.sram_pj(1024), 1.25);
  EXPECT_EQ(t.sram_pj(0), 1.25);
  EXPECT_EQ(t.sram_pj(64.0 * 1048576), 12.5);
}

models::ArchConfig hand_arch() {
  models::ArchConfig a;
  a.array.pe = "int8";
  a.array.rows = 4;
  a.array.cols = 4;
  a.clock_ghz = 1.0;
  a.input_buffer.size_bytes = 8192;
  a.weight_buffer.size_bytes = 32768;
  a.output_buffer.size_bytes = 1048576;
  return a;
}

TEST(Tech, HandComputedEnergyOfEveryComponent) {
  const Technology t = load_technology("", "45nm");
  models::Stats s;
  s.cycles = 2000;
  s.array.macs_by_type = {{"int8", 1000}};
  s.array.segment_closes = 10;
  s.array.register_read_bytes = 300;
  s.array.register_write_bytes = 200;
  s.left_decoders = {"left", "int", 4, 60, 50, 0, {}};
  s.top_decoders = {"top", "int", 4, 40, 40, 0, {}};
  s.input_buffer.fill_bytes = 100;
  s.input_buffer.read_bytes = 400;
  s.weight_buffer.fill_bytes = 200;
  s.weight_buffer.read_bytes = 300;
  s.output_buffer.write_bytes = 64;
  s.output_buffer.read_bytes = 32;
  s.output_buffer.drain_bytes = 16;
  s.dram.read_bytes = 300;
  s.dram.write_bytes = 16;
  models::ArchConfig a = hand_arch();
  const Breakdown e = energy_breakdown(s, a, "int8", "int8", t);
  ASSERT_EQ(e.size(), 9u);
  expect_rel(e.at("mac"), 1000 * 0.30);
  expect_rel(e.at("accumulator"), 10 * 1.03);
  expect_rel(e.at("register"), 500 * 0.01212);
  expect_rel(e.at("decoder"), 90 * 0.01337);
  expect_rel(e.at("sram_input"), 500 * 1.25);   // 8 KB buffer
  expect_rel(e.at("sram_weight"), 500 * 2.5);   // 32 KB
  expect_rel(e.at("sram_output"), 112 * 12.5);  // 1 MB: write 64 + read 32 + drain 16
  expect_rel(e.at("dram"), 316 * 162.5);
  // Area: 16 PEs x 895.62 + 8 int decoders x 39.9 + (8 + 32 + 1024) KiB x 4724 um^2
  // = 14329.92 + 319.2 + 5026336 um^2 = 5.04098512 mm^2; 10 mW/mm^2 x that x 2 us.
  const double mm2 = (16 * 895.62 + 8 * 39.9 + 1064 * 4724) * 1e-6;
  expect_rel(total(area_breakdown(a, "int8", "int8", t)), mm2);
  expect_rel(e.at("static"), 10.0 * mm2 * 2000e-9 * 1e9);
  // An explicit DRAM energy in the architecture wins over the table.
  a.dram.energy_pj_per_byte = 4.0;
  expect_rel(energy_breakdown(s, a, "int8", "int8", t).at("dram"), 316 * 4.0);
  // A slower clock: the same cycles last longer.
  a.clock_ghz = 0.5;
  expect_rel(energy_breakdown(s, a, "int8", "int8", t).at("static"), 10.0 * mm2 * 4000e-9 * 1e9);
}

TEST(Tech, NarrowVariantsFollowTheOperandWidth) {
  const Technology t = load_technology("", "45nm");
  models::ArchConfig a = hand_arch();
  a.array.pe = "mx";
  models::Stats s;
  s.array.macs_by_type = {{"mx_element", 100}};
  s.left_decoders = {"left", "mx", 4, 10, 10, 0, {}};
  // Both operands 4-bit: the MXFP4 PE, its E2M1 decoder.
  Breakdown e = energy_breakdown(s, a, "mxfp4", "mxfp4", t);
  expect_rel(e.at("mac"), 100 * 0.09583);
  expect_rel(e.at("decoder"), 10 * 0.002673);
  expect_rel(area_breakdown(a, "mxfp4", "mxfp4", t).at("pe_array"), 16 * 424.8e-6);
  // An 8-bit operand needs the full MX PE; the left (X, mxfp4) decoder stays the narrow one.
  e = energy_breakdown(s, a, "mxfp4", "mxfp8_e4m3", t);
  expect_rel(e.at("mac"), 100 * 0.2767);
  expect_rel(e.at("decoder"), 10 * 0.002673);
  const Breakdown ar = area_breakdown(a, "mxfp4", "mxfp8_e4m3", t);
  expect_rel(ar.at("pe_array"), 16 * 932.86e-6);
  expect_rel(ar.at("decoders"), (4 * 8.0 + 4 * 26.3) * 1e-6);
}

// Decoder operations are priced per kind: an edge that ran two kinds (a job list mixing formats)
// pays each kind's energy, at the width of the operand whose format uses it.
TEST(Tech, DecoderOpsArePricedPerKind) {
  const Technology t = load_technology("", "45nm");
  models::ArchConfig a = hand_arch();
  a.array.pe = "mx";
  models::Stats s;
  s.left_decoders = {"left", "mx", 4, 30, 30, 0, {{"mx", 10}, {"int", 20}}};
  const Breakdown one = energy_breakdown(s, a, "mxfp4", "mxfp4", t);
  models::Stats only_mx;
  only_mx.left_decoders = {"left", "mx", 4, 10, 10, 0, {{"mx", 10}}};
  models::Stats only_int;
  only_int.left_decoders = {"left", "int", 4, 20, 20, 0, {{"int", 20}}};
  const double mx = energy_breakdown(only_mx, a, "mxfp4", "mxfp4", t).at("decoder");
  const double in = energy_breakdown(only_int, a, "mxfp4", "mxfp4", t).at("decoder");
  EXPECT_GT(mx, 0);
  EXPECT_GT(in, 0);
  expect_rel(one.at("decoder"), mx + in);
  expect_rel(mx, 10 * 0.002673);  // the narrow E2M1 decoder, as without per-kind counts
}

TEST(Tech, DecodersFollowTheDataflowAndPeFusion) {
  const Technology t = load_technology("", "45nm");
  models::ArchConfig a = hand_arch();
  a.array.pe = "olive4";
  a.array.rows = 4;
  a.array.cols = 8;
  // WS / OS: X (int4 -> int decoder) on the 4 left rows, W (olive4 -> ovp4) on the 8 columns.
  a.array.dataflow = models::Dataflow::kWeightStationary;
  expect_rel(area_breakdown(a, "int4", "olive4", t).at("decoders"), (4 * 39.9 + 8 * 132.2) * 1e-6);
  a.array.dataflow = models::Dataflow::kOutputStationary;
  expect_rel(area_breakdown(a, "int4", "olive4", t).at("decoders"), (4 * 39.9 + 8 * 132.2) * 1e-6);
  // IS: W enters on the left.
  a.array.dataflow = models::Dataflow::kInputStationary;
  expect_rel(area_breakdown(a, "int4", "olive4", t).at("decoders"), (4 * 132.2 + 8 * 39.9) * 1e-6);
  // OliVe 8-bit: a logical PE is 2 x 2 physical PEs, one ovp8 decoder per logical row/column.
  a.array.pe = "olive8";
  a.array.dataflow = models::Dataflow::kWeightStationary;
  const Breakdown ar = area_breakdown(a, "olive8", "olive8", t);
  expect_rel(ar.at("decoders"), (2 + 4) * 66.0e-6);
  expect_rel(ar.at("pe_array"), 32 * 1489.34e-6);
  expect_rel(ar.at("sram_input"), 8 * 4724e-6);  // 8 KiB
  EXPECT_THAT(error_of([&] { area_breakdown(a, "", "olive8", t); }),
              HasSubstr("act_format is empty"));
}

TEST(Tech, OverrideFileChangesOneEntry) {
  const std::string p = write_yaml("override", R"(mac_pj:
  int8: {value: 0.5, source: "measured on our chip"}
)");
  const Technology d = load_technology("", "");
  const Technology t = load_technology(p, "");
  EXPECT_EQ(t.file, p);
  EXPECT_EQ(t.node, "45nm");
  EXPECT_EQ(t.mac_pj.at("int8"), 0.5);
  EXPECT_EQ(t.sources.at("mac_pj.int8"), "measured on our chip");
  auto rest = t.mac_pj;
  rest["int8"] = d.mac_pj.at("int8");
  EXPECT_EQ(rest, d.mac_pj);
  EXPECT_EQ(t.decoder_pj, d.decoder_pj);
  EXPECT_EQ(t.pe_um2, d.pe_um2);
  EXPECT_EQ(t.sram_pj_per_byte, d.sram_pj_per_byte);
  EXPECT_EQ(t.dram_pj_per_byte, d.dram_pj_per_byte);

  // An override given at 22nm, a bare number, a new node: each entry scales from its own node.
  const std::string q = write_yaml("override22", R"(node: 22nm
scaling:
  energy: {5nm: 0.04}
  area: {5nm: 0.0123}
mac_pj:
  int8: 0.1
)");
  const Technology own = load_technology(q, "");
  EXPECT_EQ(own.node, "22nm");
  EXPECT_EQ(own.mac_pj.at("int8"), 0.1);
  expect_rel(own.mac_pj.at("int4"), 0.15 * 0.2755);
  EXPECT_THAT(own.sources.at("mac_pj.int8"), HasSubstr(q + ":6:9 (no source given)"));
  const Technology at45 = load_technology(q, "45nm");
  expect_rel(at45.mac_pj.at("int8"), 0.1 / 0.2755);
  EXPECT_EQ(at45.mac_pj.at("int4"), 0.15);
  const Technology at5 = load_technology(q, "5nm");
  expect_rel(at5.mac_pj.at("int4"), 0.15 * 0.04);
  expect_rel(at5.pe_um2.at("int8"), 895.62 * 0.0123);
}

TEST(Tech, CompleteTableWithoutBase) {
  const std::string p = write_yaml("nobase", R"(base: none
node: 45nm
scaling: {energy: {45nm: 1}, area: {45nm: 1}}
mac_pj: {dense4: 0.1}
decoder_pj: {int: 0.01}
register_pj_per_byte: 0.01
accumulator_pj: 1
sram_pj_per_byte: {points: [[1024, 1]]}
dram_pj_per_byte: 20
static_mw_per_mm2: 0
pe_um2: {int8: 100}
decoder_um2: {int: 1}
sram_um2_per_kib: 1000
)");
  const Technology t = load_technology(p, "");
  EXPECT_EQ(t.mac_pj.size(), 1u);
  EXPECT_EQ(t.sram_pj(1 << 20), 1.0);
  // A MAC kind the table lacks is an error naming the kind and the table.
  models::Stats s;
  s.array.macs_by_type = {{"int8", 10}};
  EXPECT_EQ(error_of([&] { energy_breakdown(s, hand_arch(), "int8", "int8", t); }),
            "technology table " + p + ": MAC kind 'int8' has no entry in mac_pj (known: dense4)");
  s.array.macs_by_type.clear();
  s.left_decoders = {"left", "ovp4", 4, 2, 1, 0, {}};
  EXPECT_EQ(
      error_of([&] { energy_breakdown(s, hand_arch(), "int8", "int8", t); }),
      "technology table " + p + ": decoder kind 'ovp4' has no entry in decoder_pj (known: int)");
  models::ArchConfig a = hand_arch();
  a.array.pe = "olive4";
  EXPECT_EQ(error_of([&] { area_breakdown(a, "int4", "int4", t); }),
            "technology table " + p + ": PE type 'olive4' has no entry in pe_um2 (known: int8)");

  const std::string q = write_yaml("incomplete",
                                   "base: none\nnode: 45nm\n"
                                   "scaling: {energy: {45nm: 1}, area: {45nm: 1}}\n"
                                   "mac_pj: {int8: 0.3}\n");
  EXPECT_THAT(error_of([&] { load_technology(q, ""); }),
              HasSubstr(q + ": missing required key(s) decoder_pj, register_pj_per_byte,"));
}

TEST(Tech, ErrorsNameFileLineAndKey) {
  struct Case {
    const char* name;
    const char* yaml;
    const char* message;  // after "FILE"
  };
  const Case cases[] = {
      {"unknown_top", "node: 45nm\ndram_pj: 3\n",
       ":2:1: unknown key 'dram_pj'; known keys here: base, description, node, scaling, mac_pj,"},
      {"unknown_nested", "mac_pj:\n  int8:\n    value: 0.3\n    sorce: x\n",
       ":4:5: unknown key 'mac_pj.int8.sorce' (did you mean 'source'?); known keys here: value, "
       "source"},
      {"negative", "dram_pj_per_byte: -3\n", ":1:19: key 'dram_pj_per_byte': must be >= 0, got -3"},
      {"negative_nested", "pe_um2:\n  int8: {value: -1}\n",
       ":2:17: key 'pe_um2.int8.value': must be >= 0, got -1"},
      {"wrong_type", "accumulator_pj: {value: lots}\n",
       ":1:25: key 'accumulator_pj.value': expected a finite number, got 'lots'"},
      {"wrong_type_list", "register_pj_per_byte: [1, 2]\n",
       ":1:23: key 'register_pj_per_byte': expected a number or {value, source}, got a list"},
      {"missing_value", "accumulator_pj:\n  source: somewhere\n",
       ":2:3: missing required key 'accumulator_pj.value'"},
      {"unknown_node", "node: 5nm\n",
       ":1:7: key 'node': node '5nm' has no scaling.energy factor (known: 14nm, 16nm, 22nm, 28nm, "
       "32nm, 45nm, 7nm)"},
      {"bad_scale", "scaling: {energy: {22nm: 0}}\n",
       ":1:26: key 'scaling.energy.22nm': must be > 0, got 0"},
      {"sram_order", "sram_pj_per_byte: {points: [[2048, 1], [1024, 2]]}\n",
       ":1:41: key 'sram_pj_per_byte.points[1]': capacities must be strictly ascending"},
      {"sram_missing", "sram_pj_per_byte: {source: x}\n",
       ":1:19: missing required key 'sram_pj_per_byte.points'"},
      {"variant", "mac_pj: {int8@x: 1}\n",
       ":1:10: key 'mac_pj.int8@x': a variant is KIND@BITS with BITS a positive integer"},
      {"base", "base: maybe\n", ":1:7: key 'base': expected 'default' or 'none', got 'maybe'"},
      {"syntax", "mac_pj: {int8: [1, 2}\n", ":1:21: YAML syntax error:"},
  };
  for (const Case& c : cases) {
    const std::string p = write_yaml(c.name, c.yaml);
    EXPECT_THAT(error_of([&] { load_technology(p, ""); }), HasSubstr(p + c.message)) << c.name;
  }
  EXPECT_EQ(error_of([] { load_technology("/nonexistent/tech.yaml", ""); }),
            "/nonexistent/tech.yaml: cannot open the technology table for reading");
  const std::string ok = write_yaml("ok", "mac_pj: {int8: 0.3}\n");
  EXPECT_EQ(error_of([&] { load_technology(ok, "3nm"); }),
            ok + ": unknown node '3nm' (known: 14nm, 16nm, 22nm, 28nm, 32nm, 45nm, 7nm)");
}

// A real simulation: a small GEMM, timing only, int8 and OliVe 4-bit.
TEST(Tech, SimulatedGemmHasEnergyInEveryComponent) {
  const Technology t = load_technology("", "45nm");
  for (const auto& [pe, fmt] :
       {std::pair<std::string, std::string>{"int8", "int8"}, {"olive4", "olive4"}}) {
    models::ArchConfig a;
    a.array.pe = pe;
    a.array.rows = 8;
    a.array.cols = 8;
    a.dram.bandwidth_bytes_per_cycle = 8;
    a.dram.latency_cycles = 20;
    a.dram.burst_bytes = 256;
    for (models::BufferConfig* b : {&a.input_buffer, &a.weight_buffer, &a.output_buffer}) {
      b->size_bytes = 16 * 1024;
      b->banks = 4;
      b->bank_width_bytes = 8;
    }
    models::GemmJob j;
    j.name = "g";
    j.m = 32;
    j.n = 24;
    j.k = 64;
    j.x_format = fmt;
    j.w_format = fmt;
    const models::Stats s = models::simulate(a, {j}).stats;
    const Breakdown e = energy_breakdown(s, a, fmt, fmt, t);
    for (const char* c : kEnergyComponents) EXPECT_GT(e.at(c), 0.0) << pe << " " << c;
    ASSERT_EQ(s.array.macs, 32u * 24 * 64);
    const double per_mac = e.at("mac") / static_cast<double>(s.array.macs);
    expect_rel(per_mac, pe == "int8" ? 0.30 : 0.2344);
    const Breakdown ar = area_breakdown(a, fmt, fmt, t);
    for (const char* c : {"pe_array", "decoders", "sram_input", "sram_weight", "sram_output"})
      EXPECT_GT(ar.at(c), 0.0) << pe << " " << c;
    EXPECT_EQ(ar.size(), 5u);
  }
}

}  // namespace
}  // namespace qarch::reports
