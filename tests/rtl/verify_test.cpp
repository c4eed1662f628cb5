// `qarch verify` (sim/src/cmd_verify.cpp) end to end, in-process: every unit passes on a small
// trace of its formats; the ovp4_pe mutant (tests/rtl/data/ovp4_pe_drop_shift.v, the outlier
// shift dropped) passed as --rtl is caught with its first mismatch, a VCD and a JUnit failure;
// coverage counts on hand-made traces are exact; bad input is refused with exit 2. The --rtl
// tests build a stimulus player with verilator (~9 s of CPU each, cached in the build tree
// under verify-work/); the longer ones run with QARCH_RTL_LONG=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli_runner.h"
#include "qarch/quant/format.h"
#include "qarch/workloads/model.h"
#include "qarch/workloads/trace.h"
#include "qarch/workloads/trace_builder.h"

namespace fs = std::filesystem;
using qarch::sim::testing::CliResult;
using qarch::sim::testing::run_cli;

namespace {

const std::string kData = QARCH_VERIFY_TEST_DATA;
const std::string kWork = QARCH_VERIFY_WORK_DIR;

// Temporary folders of this process, removed after the last test.
std::vector<std::string>& temp_dirs() {
  static std::vector<std::string> d;
  return d;
}
struct RemoveTempDirs : ::testing::Environment {
  void TearDown() override {
    for (const auto& d : temp_dirs()) fs::remove_all(d);
  }
};
const auto* const kRemoveTempDirs = ::testing::AddGlobalTestEnvironment(new RemoveTempDirs);

std::string temp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("qarch-verify-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  temp_dirs().push_back(p.string());
  return p.string();
}

bool long_run() {
  const char* e = std::getenv("QARCH_RTL_LONG");
  return e && std::string(e) == "1";
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

// A GPT-2 layer-0 trace (6 GEMMs, 8 tokens, 16 weight rows) in `format`, made once per format.
std::string gpt2_trace(const std::string& format) {
  static std::map<std::string, std::string> made;
  if (made.count(format)) return made[format];
  const std::string d = temp_dir("trace-" + format) + "/t";
  const CliResult t =
      run_cli({"trace", "--model", "gpt2", "--seq", "32", "--layers", "0", "--format", format,
               "--sample", "8", "--weight-rows", "16", "--out", d});
  EXPECT_EQ(t.code, 0) << t.err;
  return made[format] = d;
}

// "" if `s` is well-formed XML as far as JUnit readers care: an optional declaration, one root
// element, tags that nest and close in order, quoted attributes, '&' only in the five
// predefined entities, no text outside the root. Else what is wrong.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  bool root = false;
  size_t i = s.rfind("<?xml", 0) == 0 ? s.find("?>") + 2 : 0;
  while (i < s.size()) {
    if (s[i] == '<') {
      const size_t e = s.find('>', i);
      if (e == std::string::npos) return "unclosed tag at " + std::to_string(i);
      const std::string tag = s.substr(i + 1, e - i - 1);
      if (tag.empty()) return "empty tag at " + std::to_string(i);
      if (tag[0] == '/') {
        if (open.empty() || open.back() != tag.substr(1)) return "stray </" + tag.substr(1) + ">";
        open.pop_back();
      } else {
        if (open.empty() && root) return "a second root <" + tag + ">";
        if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return "unbalanced quotes: " + tag;
        if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
        root = true;
        if (tag.back() != '/') open.push_back(tag.substr(0, tag.find_first_of(" \n/")));
      }
      i = e + 1;
    } else if (s[i] == '&') {
      const size_t e = s.find(';', i);
      const std::string ent = e == std::string::npos ? "" : s.substr(i, e - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;")
        return "bad entity at " + std::to_string(i);
      i = e + 1;
    } else {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i])))
        return "text outside the root at " + std::to_string(i);
      ++i;
    }
  }
  if (!root) return "no root element";
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

TEST(Verify, TheXmlCheckBites) {
  EXPECT_EQ(xml_problem("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t &amp; u</a>\n"), "");
  EXPECT_NE(xml_problem("<a><b></a></b>"), "");
  EXPECT_NE(xml_problem("<a>x < y</a>"), "");
  EXPECT_NE(xml_problem("<a>R&D</a>"), "");
  EXPECT_NE(xml_problem("<a></a><b></b>"), "");
  EXPECT_NE(xml_problem("<a x=\"1></a>"), "");
}

// The count printed for a coverage class (first occurrence), or -1.
int64_t coverage_count(const std::string& out, const std::string& cls) {
  const std::regex re("\\n    " + std::regex_replace(cls, std::regex(R"([()+.])"), R"(\$&)") +
                      R"( +(\d+))");
  std::smatch m;
  if (!std::regex_search(out, m, re)) return -1;
  return std::stoll(m[1].str());
}

// A trace with one GEMM whose operands are given (encoded by hand): the header of a GPT-2
// layer-0 trace, one TraceGemm with X [1, K], W [1, K].
std::string crafted_trace(const std::string& name, const qarch::quant::EncodedTensor& x,
                          const qarch::quant::EncodedTensor& w) {
  using namespace qarch::workloads;
  TraceOptions o;
  o.act_format = x.format;
  o.weight_format = w.format;
  o.layers = "0";
  WorkloadParams p;
  p.phase = Phase::kPrefill;
  p.seq = 8;
  const TraceBuilder b(load_model("gpt2"), p, o);
  const std::string dir = temp_dir("crafted-" + name) + "/t";
  TraceWriter tw(dir, b.header());
  TraceGemm g;
  g.op.name = "crafted";
  g.op.kind = "up";
  g.op.m = x.rows;
  g.op.n = w.rows;
  g.op.k = x.cols;
  for (auto* op : {&g.x, &g.w}) {
    const auto& e = op == &g.x ? x : w;
    op->format = e.format;
    op->rows = e.rows;
    op->cols = e.cols;
    op->sample = RowSample{e.rows, e.rows};
    op->has_values = true;
    op->origin = "hand-made";
  }
  g.w.source = OperandSource::kWeight;
  tw.add(g, &x, &w);
  tw.finish({});
  return dir;
}

qarch::quant::EncodedTensor encoded(const std::string& spec, int64_t cols,
                                    std::vector<uint8_t> elements, std::vector<uint8_t> scales,
                                    std::vector<float> fp32) {
  qarch::quant::EncodedTensor e;
  e.format = qarch::quant::make_format(spec)->name();
  e.rows = 1;
  e.cols = cols;
  e.elements = std::move(elements);
  e.scales = std::move(scales);
  e.fp32 = std::move(fp32);
  return e;
}

TEST(Verify, EveryUnitPassesOnATraceOfItsFormatAndWritesJUnit) {
  struct Case {
    const char* unit;
    const char* format;
  };
  for (const Case c :
       {Case{"ovp4_pe", "olive4"}, Case{"int8_mac", "int8"}, Case{"int8_mac", "int8:group=128"},
        Case{"mxfp4_pe", "mxfp4"}, Case{"ovp4_encoder", "olive4"}}) {
    SCOPED_TRACE(c.unit);
    const std::string d = temp_dir(std::string("pass-") + c.unit);
    const CliResult r = run_cli({"verify", "--unit", c.unit, "--trace", gpt2_trace(c.format),
                                 "--junit", d + "/j.xml", "--vcd", d + "/w.vcd"});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("6 of 6 GEMMs equal to quant"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(d + "/w.vcd"));  // no waveform without a mismatch
    const std::string j = slurp(d + "/j.xml");
    EXPECT_NE(j.find("<testsuites tests=\"6\" failures=\"0\""), std::string::npos) << j;
    EXPECT_EQ(j.find("<failure"), std::string::npos);
    EXPECT_EQ(xml_problem(j), "") << j;
  }
}

// The outlier classes need outliers: the olive4 trace must hit them (else the check is empty).
TEST(Verify, TheOlive4TraceHitsOutliers) {
  const CliResult r = run_cli({"verify", "--unit", "ovp4_pe", "--trace", gpt2_trace("olive4")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(coverage_count(r.out, "outlier x normal"), 0) << r.out;
  EXPECT_GT(coverage_count(r.out, "victim operand"), 0) << r.out;
}

// olive4 bytes (element 2k in the low nibble; nibble 1000b = victim, its partner the outlier):
//   X: 0x18 (victim, outlier 1)  0x23 (3, 2)        0x00 (0, 0)  0x77 (7, 7)
//   W: 0x18 (victim, outlier 1)  0x81 (outlier 1, victim)  0x12 (2, 1)  0x34 (4, 3)
// k0 victim x victim, k1 outlier x outlier, k2 normal x outlier, k3 normal x victim, k4 and k5
// zero x normal, k6 and k7 normal x normal: 6 normal x normal (no outlier), 1 outlier x normal,
// 1 outlier x outlier, 2 with a victim operand (k0, k3), 2 with a zero operand (k4, k5), none at
// the largest magnitude (an outlier code 7 would be).
TEST(Verify, CoverageCountsOnACraftedOlive4TraceAreExact) {
  const auto x = encoded("olive4", 8, {0x18, 0x23, 0x00, 0x77}, {}, {1.0f});
  const auto w = encoded("olive4", 8, {0x18, 0x81, 0x12, 0x34}, {}, {1.0f});
  const CliResult r =
      run_cli({"verify", "--unit", "ovp4_pe", "--trace", crafted_trace("ovp4", x, w)});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(coverage_count(r.out, "normal x normal"), 6) << r.out;
  EXPECT_EQ(coverage_count(r.out, "outlier x normal"), 1);
  EXPECT_EQ(coverage_count(r.out, "outlier x outlier"), 1);
  EXPECT_EQ(coverage_count(r.out, "victim operand"), 2);
  EXPECT_EQ(coverage_count(r.out, "zero operand"), 2);
  EXPECT_EQ(coverage_count(r.out, "saturated operand (largest magnitude)"), 0);
  EXPECT_EQ(coverage_count(r.out, "outputs"), 1);
  EXPECT_NE(r.out.find("1 x 1 outputs, K = 8, 8 cycles"), std::string::npos) << r.out;
}

// MXFP4, K = 64 (two blocks of 32): X block 0 all 1.0 (code 2) with scale 0xFF (NaN), block 1
// all zero (scale 127); W block 0 all 6.0 (code 7), block 1 all 0.5 (code 1), scales 127.
// 64 products, 32 with a zero element, 32 with a 0.5, 32 with a 6; 2 blocks, 1 zero, 1 NaN.
TEST(Verify, CoverageCountsOnACraftedMxfp4TraceAreExact) {
  std::vector<uint8_t> xe(32, 0), we(32, 0);
  for (int i = 0; i < 16; ++i) {
    xe[i] = 0x22;  // two codes 2 per byte (block 0)
    we[i] = 0x77;
    we[16 + i] = 0x11;
  }
  const auto x = encoded("mxfp4", 64, xe, {0xff, 127}, {});
  const auto w = encoded("mxfp4", 64, we, {127, 127}, {});
  const CliResult r =
      run_cli({"verify", "--unit", "mxfp4_pe", "--trace", crafted_trace("mx", x, w)});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(coverage_count(r.out, "products"), 64) << r.out;
  EXPECT_EQ(coverage_count(r.out, "zero element"), 32);
  EXPECT_EQ(coverage_count(r.out, "subnormal element (0.5)"), 32);
  EXPECT_EQ(coverage_count(r.out, "saturated element (6)"), 32);
  EXPECT_EQ(coverage_count(r.out, "blocks"), 2);
  EXPECT_EQ(coverage_count(r.out, "zero blocks"), 1);
  EXPECT_EQ(coverage_count(r.out, "NaN blocks"), 1);
}

TEST(Verify, BadInputIsRefusedWithExit2) {
  const std::string t = gpt2_trace("olive4");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string missing = temp_dir("missing") + "/none";
  for (const Case& c : std::vector<Case>{
           {{"--unit", "ovp4_pe", "--trace", missing}, "--trace " + missing + ": no such"},
           {{"--unit", "int8_mac", "--trace", t}, "no GEMM in a format unit int8_mac takes"},
           {{"--unit", "nope", "--trace", t}, "--unit nope: no such unit"},
           {{"--unit", "ovp4_pe"}, "--trace is required"},
           {{"--unit", "ovp4_pe", "--trace", t, "--rtl", missing + ".v"}, "no such file"},
           {{"--unit", "ovp4_pe", "--trace", t, "--rtl", kData + "/../../../rtl/src/int8_mac.v"},
            "does not define module ovp4_pe"},
           {{"--unit", "ovp4_pe", "--trace", t, "--gemm", "layers.9.up"}, "layers.9.up"},
       }) {
    std::vector<std::string> args = {"verify"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.code, 2) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

// A drop-in whose ports differ (no a_uns / w_uns): Verilator's first errors are shown. Fails in
// Verilator's elaboration (well under a second).
TEST(Verify, ADropInWithWrongPortsIsRefusedWithVerilatorsErrors) {
  const CliResult r = run_cli({"verify", "--unit", "ovp4_pe", "--trace", gpt2_trace("olive4"),
                               "--rtl", kData + "/ovp4_pe_wrong_ports.v", "--work", kWork});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("does not build with the harness verify_ovp4_pe"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("%Error-PINNOTFOUND"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a_uns"), std::string::npos) << r.err;
  // A file that does not parse: Verilator's syntax error, naming the file and line.
  const std::string d = temp_dir("syntax");
  {
    std::ofstream f(d + "/bad.v");
    f << "module ovp4_pe(input wire clk);\n  wire x = ;\nendmodule\n";
  }
  const CliResult s = run_cli({"verify", "--unit", "ovp4_pe", "--trace", gpt2_trace("olive4"),
                               "--rtl", d + "/bad.v", "--work", kWork});
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.err.find("%Error: " + d + "/bad.v:2"), std::string::npos) << s.err;
  // Too many cycles for one GEMM: a clear error, not an out-of-memory.
  const int64_t K = (int64_t{1} << 23) + 2;  // one output over K elements: 2^23 + 2 cycles
  const auto x = encoded("olive4", K, std::vector<uint8_t>(K / 2, 0x11), {}, {1.0f});
  const CliResult big =
      run_cli({"verify", "--unit", "ovp4_pe", "--trace", crafted_trace("big", x, x)});
  EXPECT_EQ(big.code, 2);
  EXPECT_NE(big.err.find("lower --rows / --cols"), std::string::npos) << big.err;
}

// The mutant PE through --rtl (a runtime Verilator build): caught, first mismatch on an outlier
// product, a VCD window, JUnit failures, exit 1.
TEST(Verify, TheDropShiftMutantPassedAsRtlIsCaught) {
  const std::string d = temp_dir("mutant");
  const CliResult r = run_cli({"verify", "--unit", "ovp4_pe", "--trace", gpt2_trace("olive4"),
                               "--rtl", kData + "/ovp4_pe_drop_shift.v", "--work", kWork, "--vcd",
                               d + "/m.vcd", "--junit", d + "/j.xml"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("replaces rtl/src/ovp4_pe.v"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first mismatch: cycle "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output acc: RTL "), std::string::npos) << r.out;
  const std::string vcd = slurp(d + "/m.vcd");
  EXPECT_NE(vcd.find("$enddefinitions"), std::string::npos);
  EXPECT_NE(vcd.find(" acc "), std::string::npos);
  const std::string j = slurp(d + "/j.xml");
  EXPECT_NE(j.find("<failure message=\"RTL differs from quant at cycle"), std::string::npos) << j;
  EXPECT_NE(j.find("</testsuites>"), std::string::npos);
  EXPECT_EQ(xml_problem(j), "") << j;
  size_t open = 0, close = 0;
  for (size_t p = j.find("<testcase "); p != std::string::npos; p = j.find("<testcase ", p + 1))
    ++open;
  for (size_t p = j.find("</testcase>"); p != std::string::npos; p = j.find("</testcase>", p + 1))
    ++close;
  EXPECT_EQ(open, 6u);
  EXPECT_EQ(close, 6u);
  EXPECT_EQ(j.find("<shift"), std::string::npos);  // escaped as &lt;shift
}

// A mutant per unit through --rtl (a Verilator build each: long run only): int8_mac with an
// unsigned product, mxfp4_pe with the block exponent's offset off by one, and the OVP encoder
// with its outlier mantissa truncated (rtl/src/ovp_encoder.v with QARCH_MUTANT_ROUNDING defined,
// the mutant tests/rtl/encoder_test.cpp checks; caught by the tie pass).
TEST(Verify, AMutantOfEveryOtherUnitPassedAsRtlIsCaught) {
  if (!long_run()) GTEST_SKIP() << "QARCH_RTL_LONG=1 runs it (a Verilator build per unit)";
  const std::string d = temp_dir("mutants");
  {
    std::ofstream f(d + "/ovp_encoder_truncate.v");
    f << "`define QARCH_MUTANT_ROUNDING\n" << slurp(kData + "/../../../rtl/src/ovp_encoder.v");
  }
  struct Case {
    std::string unit, format, rtl, output;
  };
  for (const Case& c : std::vector<Case>{
           {"int8_mac", "int8", kData + "/int8_mac_unsigned.v", "output acc"},
           {"mxfp4_pe", "mxfp4", kData + "/mxfp4_pe_exp_offset.v", "output blk_exp"},
           {"ovp4_encoder", "olive4", d + "/ovp_encoder_truncate.v", "output pair"}}) {
    const CliResult r =
        run_cli({"verify", "--unit", c.unit, "--trace", gpt2_trace(c.format), "--rtl", c.rtl,
                 "--work", kWork, "--vcd", d + "/" + c.unit + ".vcd"});
    EXPECT_EQ(r.code, 1) << c.unit << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find(c.output + ": RTL "), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(d + "/" + c.unit + ".vcd")) << c.unit;
  }
}

// The player path agrees with the prebuilt models on the unmodified units (another Verilator
// build per unit: long run only).
TEST(Verify, ThePlayerOfEveryBuiltInUnitPasses) {
  if (!long_run()) GTEST_SKIP() << "QARCH_RTL_LONG=1 runs it (a Verilator build per unit)";
  for (const auto& [unit, format] :
       std::vector<std::pair<std::string, std::string>>{{"ovp4_pe", "olive4"},
                                                        {"int8_mac", "int8"},
                                                        {"mxfp4_pe", "mxfp4"},
                                                        {"ovp4_encoder", "olive4"}}) {
    const CliResult r = run_cli(
        {"verify", "--unit", unit, "--trace", gpt2_trace(format), "--player", "--work", kWork});
    EXPECT_EQ(r.code, 0) << unit << "\n" << r.out << r.err;
  }
}

}  // namespace
