// `qarch scalesim` against SCALE-Sim v2 itself: every case in tests/sim/data/scalesim/cases.txt
// has SCALE-Sim's three report files, made by scripts/reference/scalesim/make_reference.sh with
// the unmodified SCALE-Sim (see the data folder's README); exact mode must write the same bytes.
// Corrected mode is checked against qarch's own simulator and against the counts it corrects.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/models/simulator.h"
#include "qarch/sim/scalesim.h"
#include "qarch/sim/scalesim_engine.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

const fs::path kData = QARCH_SCALESIM_DATA_DIR;
const char* const kReports[] = {"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv",
                                "DETAILED_ACCESS_REPORT.csv"};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

struct RefCase {
  std::string name, cfg, topology, type;
};

std::vector<RefCase> load_cases() {
  std::vector<RefCase> out;
  std::ifstream f(kData / "cases.txt");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    RefCase c;
    if (s >> c.name >> c.cfg >> c.topology >> c.type) out.push_back(c);
  }
  return out;
}

void PrintTo(const RefCase& c, std::ostream* os) {
  *os << c.name << " (" << c.cfg << ".cfg, " << c.topology << ".csv, " << c.type << ")";
}

class ScaleSimReference : public ::testing::TestWithParam<RefCase> {};

TEST_P(ScaleSimReference, ExactModeWritesSCALESimsReports) {
  const RefCase& c = GetParam();
  const fs::path out = fs::path(::testing::TempDir()) / ("qarch_scalesim_" + c.name);
  fs::remove_all(out);
  const std::string cfg = (kData / "configs" / (c.cfg + ".cfg")).string();
  const auto r = run_cli({"scalesim", "-q", "-c", cfg, "-t",
                          (kData / "topologies" / (c.topology + ".csv")).string(), "-p",
                          out.string(), "-i", c.type});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string run_name = load_scalesim_config(cfg).run_name;
  for (const char* f : kReports) {
    SCOPED_TRACE(f);
    const std::string want = slurp(kData / "ref" / c.name / f);
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(slurp(out / run_name / f), want);
  }
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Cases, ScaleSimReference, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<RefCase>& i) { return i.param.name; });

TEST(ScaleSimReference, HasCases) {
  const std::vector<RefCase> cases = load_cases();
  EXPECT_GE(cases.size(), 20u);
  int user = 0, dw = 0;
  for (const RefCase& c : cases) {
    user += load_scalesim_config((kData / "configs" / (c.cfg + ".cfg")).string()).user_bandwidth;
    dw += c.topology.find("dw") != std::string::npos;
  }
  EXPECT_GE(user, 6);
  EXPECT_GE(dw, 3);
}

ScaleSimConfig config(models::Dataflow df, int64_t rows, int64_t cols, int64_t kb) {
  ScaleSimConfig c;
  c.file = "test.cfg";
  c.run_name = "t";
  c.array_height = rows, c.array_width = cols;
  c.ifmap_sram_kb = c.filter_sram_kb = c.ofmap_sram_kb = kb;
  c.dataflow = df;
  return c;
}

ScaleSimLayerShape gemm(int64_t m, int64_t n, int64_t k) {
  ScaleSimLayerShape l;
  l.name = "g";
  l.ifmap_h = m, l.ifmap_w = k, l.filter_h = 1, l.filter_w = k, l.channels = 1, l.num_filter = n;
  return l;
}

// Corrected mode counts cycles (not the last cycle's index) and drains OS outputs before the
// next fold, so with no memory stalls a layer takes exactly what qarch's own simulator computes
// with idealized memory: ceil(S_R/R) ceil(S_C/C) (2R + C + T - 2). Exact mode is one less, and
// for OS R less per fold.
TEST(ScaleSimCorrected, CyclesEqualQarchsSimulatorAndCountsAreExact) {
  struct Shape {
    int64_t m, n, k;
  };
  for (const models::Dataflow df :
       {models::Dataflow::kOutputStationary, models::Dataflow::kWeightStationary,
        models::Dataflow::kInputStationary}) {
    for (const Shape s :
         {Shape{40, 36, 20}, Shape{7, 100, 9}, Shape{1, 64, 64}, Shape{33, 17, 65}}) {
      SCOPED_TRACE(std::string(models::dataflow_name(df)) + " " + std::to_string(s.m) + "x" +
                   std::to_string(s.n) + "x" + std::to_string(s.k));
      const ScaleSimConfig c = config(df, 8, 4, 1024);  // large SRAMs: no stalls
      const ScaleSimLayerReport fixed =
          simulate_scalesim_layer(c, gemm(s.m, s.n, s.k), ScaleSimMode::kCorrected);
      const ScaleSimLayerReport exact =
          simulate_scalesim_layer(c, gemm(s.m, s.n, s.k), ScaleSimMode::kExact);
      ASSERT_EQ(fixed.stall_cycles, 0);
      ASSERT_EQ(exact.stall_cycles, 0);

      const ArchSpec a = scalesim_arch(c, "int8", "t");
      models::GemmJob j;
      j.name = "g";
      j.m = s.m, j.n = s.n, j.k = s.k;
      j.x_format = a.act_format, j.w_format = a.weight_format;
      const models::SimResult q = models::simulate(a.arch, {j});
      EXPECT_EQ(static_cast<uint64_t>(fixed.total_cycles), q.stats.cycles);
      const bool os = df == models::Dataflow::kOutputStationary;
      const int64_t folds = static_cast<int64_t>(q.stats.array.folds);
      EXPECT_EQ(exact.total_cycles, fixed.total_cycles - 1 - (os ? 8 * folds : 0));

      // Every output is written to DRAM once; WS and IS write each K fold's partial sums
      // (SCALE-Sim's model, kept: ceil(K / R) x M x N).
      const int64_t k_folds = os ? 1 : (s.k + 7) / 8;
      EXPECT_EQ(fixed.dram_ofmap_writes, k_folds * s.m * s.n);
      if (os) {
        EXPECT_EQ(fixed.sram_ofmap_writes, s.m * s.n);
        EXPECT_EQ(exact.sram_ofmap_writes, s.m * s.n + folds * (8 + 4));
      }
      EXPECT_GE(exact.dram_ofmap_writes, s.m * s.n);
      EXPECT_EQ(fixed.macs, s.m * s.n * s.k);
      // Reads are the same model in both modes; with 1 MB SRAMs each word is fetched once.
      EXPECT_EQ(fixed.dram_ifmap_reads, s.m * s.k);
      EXPECT_EQ(fixed.dram_filter_reads, s.n * s.k);
      EXPECT_EQ(exact.dram_ifmap_reads, fixed.dram_ifmap_reads);
      EXPECT_NEAR(fixed.overall_util,
                  100.0 * static_cast<double>(s.m * s.n * s.k) /
                      static_cast<double>(fixed.total_cycles * 32),
                  1e-9);
    }
  }
}

// A depthwise layer is one report row per channel, all equal.
TEST(ScaleSimEngine, DepthwiseLayersOneRowPerChannel) {
  const ScaleSimTopology t = parse_scalesim_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\nconv1, 8, 8, 3, 3, 2, 4, 1,\nConv_DP2, 6, 6, 3, 3, 5, 1, 2,\n",
      "t.csv");
  const std::vector<ScaleSimLayerShape> l = scalesim_layer_shapes(t);
  ASSERT_EQ(l.size(), 6u);
  EXPECT_EQ(l[0].name, "conv1");
  EXPECT_EQ(l[0].channels, 2);
  for (int ch = 0; ch < 5; ++ch) {
    EXPECT_EQ(l[1 + ch].name, "Conv_DP2Channel_" + std::to_string(ch));
    EXPECT_EQ(l[1 + ch].channels, 1);
    EXPECT_EQ(l[1 + ch].stride_h, 2);
  }
}

// Where SCALE-Sim itself fails, qarch names the layer and the reason.
TEST(ScaleSimEngine, ErrorsWhereSCALESimFails) {
  ScaleSimConfig c = config(models::Dataflow::kOutputStationary, 4, 4, 1);
  c.ifmap_sram_kb = 0;
  try {
    simulate_scalesim_layer(c, gemm(8, 8, 8), ScaleSimMode::kExact);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer g: IFMAP: the SRAM holds 0 words"),
              std::string::npos)
        << e.what();
  }
  // A 1x1 GEMM on a 1x1 OS array is one cycle: SCALE-Sim's "Total Cycles" is 0 and it divides
  // by it.
  try {
    simulate_scalesim_layer(config(models::Dataflow::kOutputStationary, 1, 1, 1), gemm(1, 1, 1),
                            ScaleSimMode::kExact);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("single cycle"), std::string::npos) << e.what();
  }
}

TEST(ScaleSimCli, FlagsAndErrors) {
  const auto h = run_cli({"scalesim", "--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("-c X.cfg -t Y.csv -p OUTDIR"), std::string::npos);
  EXPECT_EQ(run_cli({"scalesim", "-t", "x.csv"}).code, 2);
  const auto m = run_cli({"scalesim", "-c", "x.cfg"});
  EXPECT_NE(m.err.find("-t: missing"), std::string::npos) << m.err;
  const std::string cfg = (kData / "configs" / "os8_calc.cfg").string();
  const std::string topo = (kData / "topologies" / "gemm_small.csv").string();
  const auto i = run_cli({"scalesim", "-c", cfg, "-t", topo, "-i", "matmul"});
  EXPECT_NE(i.err.find("-i: expected conv, gemm or auto, got 'matmul'"), std::string::npos)
      << i.err;
  const auto both = run_cli({"scalesim", "-c", cfg, "-t", topo, "--corrected", "--scalesim-exact"});
  EXPECT_NE(both.err.find("choose one"), std::string::npos) << both.err;
  // A GEMM file read as conv (SCALE-Sim's default -i) says what it is.
  const auto conv = run_cli({"scalesim", "-c", cfg, "-t", topo, "-i", "conv", "-p", "/tmp/x"});
  EXPECT_EQ(conv.code, 2);
  EXPECT_NE(conv.err.find("a GEMM topology wants -i gemm"), std::string::npos) << conv.err;
  // Too large to simulate request by request: a named limit, not a hang.
  const fs::path dir = fs::path(::testing::TempDir()) / "qarch_scalesim_big";
  fs::create_directories(dir);
  std::ofstream(dir / "big.csv") << "Layer, M, N, K,\nhuge, 65536, 65536, 65536,\n";
  const auto big = run_cli(
      {"scalesim", "-c", cfg, "-t", (dir / "big.csv").string(), "-p", (dir / "out").string()});
  EXPECT_EQ(big.code, 2);
  EXPECT_NE(big.err.find("layer huge: about"), std::string::npos) << big.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove_all(dir);
}

// Python's repr() of floats, which SCALE-Sim's reports use (values checked with python3).
TEST(PythonRepr, MatchesPython) {
  const std::pair<double, const char*> cases[] = {
      {90.0, "90.0"},
      {-7.0, "-7.0"},
      {0.0, "0.0"},
      {0.1, "0.1"},
      {1.0 / 3, "0.3333333333333333"},
      {4.7114252061248525, "4.7114252061248525"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {0.000012345, "1.2345e-05"},
      {1e16, "1e+16"},
      {1234567890123456.0, "1234567890123456.0"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {100.0, "100.0"},
      {-0.5, "-0.5"},
  };
  for (const auto& [v, want] : cases) EXPECT_EQ(python_repr(v), want) << v;
}

}  // namespace
}  // namespace qarch::sim
