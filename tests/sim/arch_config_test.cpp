// Architecture YAML files (explore/include/qarch/explore/arch_config.h): every error class with its
// message (file:line:col and key path), unit conversions, overrides, the canonical round trip,
// and every shipped configs/*.yaml loading and simulating.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/explore/arch_config.h"
#include "qarch/models/simulator.h"
#include "qarch/quant/format.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

namespace fs = std::filesystem;

const char* kMinimal = "name: t\nformats: {act: int8, weight: int8}\n";

// The message of the qarch::Error that parse_arch throws (fails the test if none is thrown).
std::string error_of(const std::string& yaml, const std::vector<Override>& ov = {}) {
  try {
    parse_arch(yaml, "a.yaml", ov);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return "";
}

void expect_same(const ArchSpec& a, const ArchSpec& b) {
  const models::ArchConfig &x = a.arch, &y = b.arch;
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.clock_ghz, y.clock_ghz);
  EXPECT_EQ(x.array.rows, y.array.rows);
  EXPECT_EQ(x.array.cols, y.array.cols);
  EXPECT_EQ(x.array.dataflow, y.array.dataflow);
  EXPECT_EQ(x.array.pe, y.array.pe);
  EXPECT_EQ(x.decoder.latency_cycles, y.decoder.latency_cycles);
  EXPECT_EQ(x.decoder.elements_per_cycle, y.decoder.elements_per_cycle);
  EXPECT_EQ(x.dram.ideal, y.dram.ideal);
  EXPECT_EQ(x.dram.bandwidth_bytes_per_cycle, y.dram.bandwidth_bytes_per_cycle);
  EXPECT_EQ(x.dram.latency_cycles, y.dram.latency_cycles);
  EXPECT_EQ(x.dram.burst_bytes, y.dram.burst_bytes);
  EXPECT_EQ(x.dram.energy_pj_per_byte, y.dram.energy_pj_per_byte);
  const models::BufferConfig* bx[] = {&x.input_buffer, &x.weight_buffer, &x.output_buffer};
  const models::BufferConfig* by[] = {&y.input_buffer, &y.weight_buffer, &y.output_buffer};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(bx[i]->ideal, by[i]->ideal);
    EXPECT_EQ(bx[i]->size_bytes, by[i]->size_bytes);
    EXPECT_EQ(bx[i]->banks, by[i]->banks);
    EXPECT_EQ(bx[i]->ports, by[i]->ports);
    EXPECT_EQ(bx[i]->bank_width_bytes, by[i]->bank_width_bytes);
    EXPECT_EQ(bx[i]->double_buffered, by[i]->double_buffered);
  }
  EXPECT_EQ(x.accumulator_bytes, y.accumulator_bytes);
  EXPECT_EQ(x.output_bytes, y.output_bytes);
  EXPECT_EQ(a.act_format, b.act_format);
  EXPECT_EQ(a.weight_format, b.weight_format);
  EXPECT_EQ(a.tech_table, b.tech_table);
  EXPECT_EQ(a.tech_node, b.tech_node);
}

TEST(ArchConfig, FullFileConvertsUnits) {
  const ArchSpec a = parse_arch(R"(name: olive-4bit
clock_ghz: 0.5
technology: {table: tech/my.yaml, node: 7nm}
formats: {act: olive4, weight: olive4}
array: {rows: 16, cols: 8, dataflow: ws, pe: olive4}
decoder: {latency_cycles: 3, elements_per_cycle: 0.5}
dram: {bandwidth_gb_per_s: 64, latency_cycles: 50, burst_bytes: 4096, energy_pj_per_byte: 20, ideal: false}
buffers:
  input:  {size_kib: 128, banks: 8, ports: 2, bank_width_bytes: 32, double_buffered: false, ideal: false}
  weight: {size_kib: 0.5}
  output: {size_kib: 1, ideal: true}
accumulator_bytes: 8
output_bytes: 1
)",
                                "x.yaml");
  EXPECT_EQ(a.file, "x.yaml");
  EXPECT_EQ(a.arch.name, "olive-4bit");
  EXPECT_EQ(a.arch.clock_ghz, 0.5);
  EXPECT_EQ(a.tech_table, "tech/my.yaml");
  EXPECT_EQ(a.tech_node, "7nm");
  EXPECT_EQ(a.act_format, quant::make_format("olive4")->name());
  EXPECT_EQ(a.weight_format, quant::make_format("olive4")->name());
  EXPECT_EQ(a.arch.array.rows, 16);
  EXPECT_EQ(a.arch.array.cols, 8);
  EXPECT_EQ(a.arch.array.dataflow, models::Dataflow::kWeightStationary);
  EXPECT_EQ(a.arch.array.pe, "olive4");
  EXPECT_EQ(a.arch.decoder.latency_cycles, 3);
  EXPECT_EQ(a.arch.decoder.elements_per_cycle, 0.5);
  // 64 GB/s at 0.5 GHz = 64e9 / 0.5e9 = 128 bytes per cycle.
  EXPECT_EQ(a.arch.dram.bandwidth_bytes_per_cycle, 128.0);
  EXPECT_EQ(a.arch.dram.latency_cycles, 50);
  EXPECT_EQ(a.arch.dram.burst_bytes, 4096);
  EXPECT_EQ(a.arch.dram.energy_pj_per_byte, 20.0);
  EXPECT_EQ(a.arch.input_buffer.size_bytes, 128 * 1024);
  EXPECT_EQ(a.arch.input_buffer.banks, 8);
  EXPECT_EQ(a.arch.input_buffer.ports, 2);
  EXPECT_EQ(a.arch.input_buffer.bank_width_bytes, 32);
  EXPECT_FALSE(a.arch.input_buffer.double_buffered);
  EXPECT_EQ(a.arch.weight_buffer.size_bytes, 512);
  EXPECT_TRUE(a.arch.weight_buffer.double_buffered);  // default
  EXPECT_TRUE(a.arch.output_buffer.ideal);
  EXPECT_EQ(a.arch.accumulator_bytes, 8);
  EXPECT_EQ(a.arch.output_bytes, 1);
}

TEST(ArchConfig, DefaultsComeFromModels) {
  const ArchSpec a = parse_arch(kMinimal, "m.yaml");
  const models::ArchConfig d;
  EXPECT_EQ(a.arch.clock_ghz, d.clock_ghz);
  EXPECT_EQ(a.arch.array.rows, d.array.rows);
  EXPECT_EQ(a.arch.array.dataflow, d.array.dataflow);
  EXPECT_EQ(a.arch.dram.bandwidth_bytes_per_cycle, d.dram.bandwidth_bytes_per_cycle);
  EXPECT_EQ(a.arch.input_buffer.size_bytes, d.input_buffer.size_bytes);
  EXPECT_EQ(a.tech_table, "default");
  EXPECT_EQ(a.tech_node, "22nm");
  // Bytes per cycle given directly are kept as they are.
  EXPECT_EQ(parse_arch(std::string(kMinimal) + "dram: {bandwidth_bytes_per_cycle: 12.5}\n", "m")
                .arch.dram.bandwidth_bytes_per_cycle,
            12.5);
}

TEST(ArchConfig, ErrorsNameFileLineColumnAndKey) {
  struct Case {
    std::string yaml, message;
  };
  const std::string m = kMinimal;  // two lines
  const Case cases[] = {
      // wrong type
      {m + "array: {rows: abc}\n", "a.yaml:3:15: array.rows: expected an integer, got 'abc'"},
      {m + "array:\n  rows: 1.5\n", "a.yaml:4:9: array.rows: expected an integer, got '1.5'"},
      {m + "clock_ghz: fast\n", "a.yaml:3:12: clock_ghz: expected a finite number, got 'fast'"},
      {m + "clock_ghz: .nan\n", "a.yaml:3:12: clock_ghz: expected a finite number, got '.nan'"},
      {m + "dram: {ideal: maybe}\n",
       "a.yaml:3:15: dram.ideal: expected true or false, got 'maybe'"},
      {m + "array: [1, 2]\n",
       "a.yaml:3:8: array: expected a mapping (key: value lines), got a list"},
      {m + "array: {pe: [int8]}\n", "a.yaml:3:13: array.pe: expected a string, got a list"},
      {m + "array: {rows: }\n", "a.yaml:3:15: array.rows: expected an integer, got nothing"},
      // negative / zero / out of range
      {m + "array: {rows: 0}\n",
       "a.yaml:3:15: array.rows: value 0 is out of range [1, 2147483647]"},
      {m + "array: {cols: -4}\n",
       "a.yaml:3:15: array.cols: value -4 is out of range [1, 2147483647]"},
      {m + "buffers:\n  input: {size_kib: -1}\n",
       "a.yaml:4:21: buffers.input.size_kib: value -1 is out of range (0, 1099511627776]"},
      {m + "buffers:\n  weight: {size_kib: 0.0001}\n",
       "a.yaml:4:22: buffers.weight.size_kib: 0.0001 KiB is not a whole number of bytes (0.1024)"},
      {m + "decoder: {latency_cycles: -1}\n",
       "a.yaml:3:27: decoder.latency_cycles: value -1 is out of range [0, 2147483647]"},
      {m + "clock_ghz: 0\n", "a.yaml:3:12: clock_ghz: value 0 is out of range (0, 1e+06]"},
      {m + "dram: {bandwidth_gb_per_s: -64}\n",
       "a.yaml:3:28: dram.bandwidth_gb_per_s: value -64 is out of range (0, 1e+09]"},
      {m + "array: {rows: 99999999999}\n",
       "a.yaml:3:15: array.rows: value 99999999999 is out of range [1, 2147483647]"},
      // alternatives
      {m + "dram: {bandwidth_gb_per_s: 64, bandwidth_bytes_per_cycle: 128}\n",
       "a.yaml:3:59: dram.bandwidth_bytes_per_cycle: give either bandwidth_gb_per_s or "
       "bandwidth_bytes_per_cycle, not both"},
      // unknown keys, with a suggestion for a close misspelling
      {m + "array: {rwos: 8}\n",
       "a.yaml:3:9: array.rwos: unknown key (did you mean 'rows'?); known keys here: rows, cols, "
       "dataflow, pe"},
      {m + "bufers: {}\n", "a.yaml:3:1: bufers: unknown key (did you mean 'buffers'?)"},
      {m + "colour: red\n", "a.yaml:3:1: colour: unknown key; known keys here: name,"},
      {m + "buffers: {inpt: {size_kib: 1}}\n",
       "a.yaml:3:11: buffers.inpt: unknown key (did you mean 'input'?)"},
      // duplicate keys
      {m + "array: {rows: 8, rows: 16}\n", "a.yaml:3:18: array.rows: duplicate key"},
      {"name: a\nname: b\nformats: {act: int8, weight: int8}\n", "a.yaml:2:1: name: duplicate key"},
      // unknown dataflow / PE type / format
      {m + "array: {dataflow: rs}\n",
       "a.yaml:3:19: array.dataflow: unknown dataflow 'rs' (known: os, ws, is)"},
      {m + "array: {pe: int9}\n", "a.yaml:3:13: array.pe: unknown PE type 'int9' (known: int8,"},
      {"name: t\nformats: {act: int8, weight: nosuchformat}\n", "a.yaml:2:30: formats.weight: "},
      {"name: t\nformats: {act: 'int8:bits=99', weight: int8}\n", "a.yaml:2:16: formats.act: "},
      // a PE type that cannot multiply the formats
      {"name: t\nformats: {act: mxfp4, weight: mxfp4}\n",
       "a.yaml:2:16: array.pe: PE type 'int8' cannot multiply activations in 'mxfp4:block=32"},
      {"name: t\nformats: {act: olive4, weight: olive4}\narray: {pe: int8}\n",
       "a.yaml:3:13: array.pe: PE type 'int8' cannot multiply activations in 'olive4"},
      {"name: t\nformats: {act: fp16, weight: gobo}\narray: {pe: olive4}\n",
       "a.yaml:3:13: array.pe: PE type 'olive4' cannot multiply activations in 'fp16:"},
      {"name: t\nformats: {act: gobo, weight: gobo}\narray: {pe: gobo}\n",
       "a.yaml:2:16: formats.act: 'gobo' quantizes weights only (GOBO keeps activations in FP16): "
       "use act: fp16"},
      // required keys
      {"formats: {act: int8, weight: int8}\n", "a.yaml:1:1: name: missing required key"},
      {"name: t\n", "a.yaml:1:1: formats: missing (this key is required)"},
      {"name: t\nformats: {act: int8}\n", "a.yaml:2:10: formats.weight: missing"},
      {"name: ''\nformats: {act: int8, weight: int8}\n", "a.yaml:1:7: name: must not be empty"},
      // checks that span fields come from models::ArchConfig::validate
      {"name: t\nformats: {act: olive8, weight: olive8}\narray: {rows: 15, pe: olive8}\n",
       "a.yaml:3:15: array.rows/cols: PE type 'olive8' fuses 2 x 2"},
      // syntax errors, empty file, not a mapping
      {"name: [a\n", "a.yaml:2:1: YAML syntax error: "},
      {"name: t\n  bad: indent\n", "a.yaml:2:6: YAML syntax error: "},
      {"", "a.yaml:1:1: (document): the file is empty"},
      {"# only a comment\n", "a.yaml:1:1: (document): the file is empty"},
      {"- a\n- b\n", "a.yaml:1:1: (document): expected a mapping (key: value lines), got a list"},
      {"? [a, b]\n: 1\n", "a.yaml:1:3: (document): keys must be plain names, got a list"},
      // the mapper's keys
      {m + "array: {dataflows: [os, rs]}\n",
       "a.yaml:3:20: array.dataflows: unknown dataflow 'rs' (known: os, ws, is)"},
      {m + "array: {dataflows: [os, os]}\n", "a.yaml:3:20: array.dataflows: 'os' is listed twice"},
      {m + "array: {dataflows: []}\n", "a.yaml:3:20: array.dataflows: the list is empty"},
      {m + "array: {dataflows: {os: 1}}\n",
       "a.yaml:3:20: array.dataflows: expected a list of os, ws, is"},
      {m + "mapper: {objective: fastest}\n",
       "a.yaml:3:21: mapper.objective: unknown objective 'fastest' (known: latency, energy, edp)"},
      {m + "mapper: {objectve: edp}\n",
       "a.yaml:3:10: mapper.objectve: unknown key (did you mean 'objective'?)"},
      {m + "buffers: {shared: sometimes}\n",
       "a.yaml:3:19: buffers.shared: expected true or false, got 'sometimes'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    const std::string e = error_of(c.yaml);
    EXPECT_EQ(e.rfind(c.message, 0), 0u) << "got:  " << e << "\nwant: " << c.message << "...";
  }
}

// array.dataflows, buffers.shared and mapper.objective parse, survive the canonical YAML, and
// can be swept as overrides.
TEST(ArchConfig, MapperKeys) {
  const std::string y = std::string(kMinimal) +
                        "array: {dataflows: [ws, os], pipelined_folds: false}\n"
                        "buffers: {shared: true}\n"
                        "mapper: {objective: energy}\n";
  const ArchSpec a = parse_arch(y, "a.yaml");
  ASSERT_EQ(a.arch.array.dataflows.size(), 2u);
  EXPECT_EQ(a.arch.array.dataflows[0], models::Dataflow::kWeightStationary);
  EXPECT_EQ(a.arch.array.dataflow, models::Dataflow::kWeightStationary);  // first of the list
  EXPECT_TRUE(a.arch.shared_buffer);
  EXPECT_FALSE(a.arch.array.pipelined_folds);
  EXPECT_EQ(a.arch.objective, models::Objective::kEnergy);
  const ArchSpec b = parse_arch(arch_yaml(a), "b.yaml");
  EXPECT_EQ(b.arch.array.dataflows, a.arch.array.dataflows);
  EXPECT_TRUE(b.arch.shared_buffer);
  EXPECT_FALSE(b.arch.array.pipelined_folds);
  EXPECT_EQ(b.arch.objective, models::Objective::kEnergy);
  EXPECT_EQ(arch_yaml(a), arch_yaml(b));
  // Defaults: the arch's dataflow alone, separate buffers, EDP.
  const ArchSpec d = parse_arch(kMinimal, "d.yaml");
  EXPECT_TRUE(d.arch.array.dataflows.empty());
  EXPECT_FALSE(d.arch.shared_buffer);
  EXPECT_TRUE(d.arch.array.pipelined_folds);
  EXPECT_EQ(d.arch.objective, models::Objective::kEdp);
  // Sweep overrides.
  const ArchSpec o = parse_arch(
      kMinimal, "o.yaml",
      {{"mapper.objective", "latency"}, {"array.dataflows", "os,is"}, {"buffers.shared", "true"}});
  EXPECT_EQ(o.arch.objective, models::Objective::kLatency);
  ASSERT_EQ(o.arch.array.dataflows.size(), 2u);
  EXPECT_EQ(o.arch.array.dataflows[1], models::Dataflow::kInputStationary);
  EXPECT_TRUE(o.arch.shared_buffer);
}

TEST(ArchConfig, MissingFile) {
  try {
    load_arch("/nonexistent/arch.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/arch.yaml: cannot open the architecture file for reading");
  }
}

TEST(ArchConfig, RelativeTechTableIsFoundBesideTheArchFile) {
  const fs::path dir = fs::path(::testing::TempDir()) / "qarch_arch_tech_beside";
  fs::remove_all(dir);
  fs::create_directories(dir / "cfg");
  auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
  write(dir / "cfg" / "a.yaml",
        std::string(kMinimal) + "technology: {table: my_tech.yaml, node: 45nm}\n");
  // Not beside the file yet: the path stays relative to the working directory.
  EXPECT_EQ(load_arch((dir / "cfg" / "a.yaml").string()).tech_table, "my_tech.yaml");
  write(dir / "cfg" / "my_tech.yaml", "mac_pj: {int8: 0.25}\n");
  EXPECT_EQ(load_arch((dir / "cfg" / "a.yaml").string()).tech_table,
            (dir / "cfg" / "my_tech.yaml").string());
  // Absolute paths and the built-in table are left alone.
  EXPECT_EQ(load_arch((dir / "cfg" / "a.yaml").string(),
                      {{"technology.table", (dir / "x.yaml").string()}})
                .tech_table,
            (dir / "x.yaml").string());
  EXPECT_EQ(
      load_arch((dir / "cfg" / "a.yaml").string(), {{"technology.table", "default"}}).tech_table,
      "default");
  fs::remove_all(dir);
}

TEST(ArchConfig, OverridesApplyBeforeConversion) {
  const std::string y =
      std::string(kMinimal) + "clock_ghz: 0.5\narray: {rows: 32}\ndram: {bandwidth_gb_per_s: 64}\n";
  const ArchSpec a = parse_arch(y, "o.yaml",
                                {{"array.rows", "8"},
                                 {"array.dataflow", "is"},         // absent in the file
                                 {"buffers.input.size_kib", "2"},  // absent section
                                 {"formats.act", "int4"},
                                 {"clock_ghz", "1"},  // affects GB/s conversion
                                 {"dram.ideal", "yes"}});
  EXPECT_EQ(a.arch.array.rows, 8);
  EXPECT_EQ(a.arch.array.dataflow, models::Dataflow::kInputStationary);
  EXPECT_EQ(a.arch.input_buffer.size_bytes, 2048);
  EXPECT_EQ(a.act_format, quant::make_format("int4")->name());
  EXPECT_EQ(a.arch.dram.bandwidth_bytes_per_cycle, 64.0);  // 64 GB/s at 1 GHz
  EXPECT_TRUE(a.arch.dram.ideal);
  // Setting one bandwidth key removes the other (else both would be given).
  EXPECT_EQ(parse_arch(y, "o.yaml", {{"dram.bandwidth_bytes_per_cycle", "7"}})
                .arch.dram.bandwidth_bytes_per_cycle,
            7.0);
  EXPECT_EQ(parse_arch(std::string(kMinimal) + "dram: {bandwidth_bytes_per_cycle: 7}\n", "o",
                       {{"dram.bandwidth_gb_per_s", "16"}, {"clock_ghz", "2"}})
                .arch.dram.bandwidth_bytes_per_cycle,
            8.0);
  // Overrides on an empty file.
  EXPECT_EQ(
      parse_arch("", "e.yaml", {{"name", "x"}, {"formats.act", "int8"}, {"formats.weight", "int8"}})
          .arch.name,
      "x");
}

TEST(ArchConfig, OverrideErrorsNameTheOverride) {
  const std::string y = std::string(kMinimal) + "array: {rows: 32}\n";
  EXPECT_EQ(error_of(y, {{"array.rowz", "8"}}),
            "a.yaml: override 'array.rowz=8': unknown key 'array.rowz' (did you mean "
            "'array.rows'?)");
  EXPECT_EQ(error_of(y, {{"colour", "red"}}),
            "a.yaml: override 'colour=red': unknown key 'colour'");
  EXPECT_EQ(error_of(y, {{"array", "8"}}),
            "a.yaml: override 'array=8': 'array' is a section; override one of its keys "
            "(array.rows, ...)");
  EXPECT_EQ(error_of(y, {{"array.rows", "abc"}}),
            "a.yaml: override 'array.rows=abc': array.rows: expected an integer, got 'abc'");
  EXPECT_EQ(
      error_of(y, {{"array.rows", "-2"}}),
      "a.yaml: override 'array.rows=-2': array.rows: value -2 is out of range [1, 2147483647]");
  EXPECT_EQ(error_of(y, {{"array.rows", "[1"}})
                .rfind("a.yaml: override 'array.rows=[1': the value is not valid YAML: ", 0),
            0u);
  EXPECT_EQ(error_of(std::string(kMinimal) + "array: 5\n", {{"array.rows", "8"}}),
            "a.yaml:3:8: array: expected a mapping (needed by override 'array.rows=8'), got '5'");
}

ArchSpec unusual() {
  ArchSpec a;
  a.arch.name = "odd \"name\": with\ttab \\ and #hash";
  a.arch.clock_ghz = 0.7;  // not exactly representable
  a.arch.array = {12, 20, models::Dataflow::kInputStationary, "olive4", {}};
  a.arch.decoder = {2, 0.3};
  a.arch.dram.ideal = true;
  a.arch.dram.bandwidth_bytes_per_cycle = 91.42857142857143;  // 64 GB/s at 0.7 GHz
  a.arch.dram.latency_cycles = 7;
  a.arch.dram.burst_bytes = 333;
  a.arch.dram.energy_pj_per_byte = 12.3;
  a.arch.input_buffer = {false, 1000, 3, 2, 5, false};
  a.arch.weight_buffer = {true, 1, 1, 1, 1, true};
  a.arch.output_buffer = {false, 123457, 64, 1, 8, true};
  a.arch.accumulator_bytes = 3;
  a.arch.output_bytes = 5;
  a.act_format = quant::make_format("olive4")->name();
  a.weight_format = quant::make_format("int4")->name();
  a.tech_table = "tables/x y.yaml";
  a.tech_node = "45nm";
  return a;
}

TEST(ArchConfig, CanonicalRoundTrip) {
  const ArchSpec a = unusual();
  const std::string text = arch_yaml(a);
  const ArchSpec b = parse_arch(text, "rt.yaml");
  expect_same(a, b);
  EXPECT_EQ(arch_yaml(b), text);  // canonical: a fixed point
  // Names with YAML-significant and non-ASCII characters (line/paragraph separators, NEL, BOM).
  for (const std::string name : {"caf\xc3\xa9",
                                 "a\xe2\x80\xa8"
                                 "b",
                                 "a\xc2\x85"
                                 "b",
                                 "\xef\xbb\xbfx", " lead", "- x", "!tag", "&anchor", "*alias",
                                 "'q'", "null", "~", "true", "123", "a\x01\x7f", "#x"}) {
    ArchSpec n = a;
    n.arch.name = name;
    EXPECT_EQ(parse_arch(arch_yaml(n), "n.yaml").arch.name, name);
  }
  // Defaults too.
  const ArchSpec d = parse_arch(kMinimal, "m.yaml");
  expect_same(d, parse_arch(arch_yaml(d), "m2.yaml"));
  // Every key is written (fixed order): no key of the schema is left to defaults.
  for (const char* key :
       {"name:", "clock_ghz:", "technology:", "formats:", "array:", "decoder:",
        "bandwidth_bytes_per_cycle:", "latency_cycles:", "burst_bytes:", "energy_pj_per_byte:",
        "ideal:", "input:", "weight:", "output:", "double_buffered:", "bank_width_bytes:",
        "accumulator_bytes:", "output_bytes:"})
    EXPECT_NE(text.find(key), std::string::npos) << key;
}

// Every shipped configuration loads, round-trips and simulates a small GEMM.
TEST(ArchConfig, EveryShippedConfigLoadsAndSimulates) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(QARCH_CONFIGS_DIR))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  const std::vector<std::string> expected = {
      "adaptivfloat", "amxfp4",  "ant4",  "bfp",  "dgq",     "gobo",      "int8",
      "mxfp4",        "olaccel", "olive", "qllm", "qllm_ca", "squeezellm"};
  std::vector<std::string> stems;
  for (const auto& f : files) stems.push_back(fs::path(f).stem().string());
  EXPECT_EQ(stems, expected);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    const ArchSpec a = load_arch(f);
    // The common baseline (configs/*.yaml header comments).
    EXPECT_EQ(a.arch.clock_ghz, 0.5);
    EXPECT_EQ(a.arch.array.rows, 32);
    EXPECT_EQ(a.arch.array.cols, 32);
    EXPECT_EQ(a.arch.array.dataflow, models::Dataflow::kOutputStationary);
    EXPECT_EQ(a.arch.input_buffer.size_bytes, 128 * 1024);
    EXPECT_EQ(a.arch.weight_buffer.size_bytes, 256 * 1024);
    EXPECT_EQ(a.arch.output_buffer.size_bytes, 128 * 1024);
    EXPECT_EQ(a.arch.dram.bandwidth_bytes_per_cycle, 128.0);
    EXPECT_EQ(a.tech_node, "22nm");
    expect_same(a, parse_arch(arch_yaml(a), "rt"));
    models::GemmJob job;
    job.name = "g";
    job.m = 40, job.n = 48, job.k = 96;
    job.x_format = a.act_format;
    job.w_format = a.weight_format;
    const models::SimResult r = models::simulate(a.arch, {job});
    EXPECT_EQ(r.stats.array.macs, 40u * 48u * 96u);
    EXPECT_GT(r.stats.cycles, 0u);
  }
  EXPECT_EQ(load_arch(std::string(QARCH_CONFIGS_DIR) + "/gobo.yaml").act_format,
            quant::make_format("fp16")->name());
}

}  // namespace
}  // namespace qarch::sim
