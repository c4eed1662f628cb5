// SCALE-Sim import (sim/include/qarch/sim/scalesim.h, `qarch import-scalesim`): the config and
// topology readers (values and every error with file:line and field), the conv -> GEMM
// conversion against hand-computed shapes, and the end-to-end check that the imported
// architecture + GEMMs simulate in exactly the analytical runtime of SCALE-Sim's paper
//   ceil(S_R / R) * ceil(S_C / C) * (2R + C + T - 2)
// (Samajdar et al., ISPASS 2020, section IV), worked out here independently of models/.
// (SCALE-Sim v2's reports print other totals; scalesim_reports_test.cpp checks those.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "cli_runner.h"
#include "qarch/common/error.h"
#include "qarch/explore/arch_config.h"
#include "qarch/models/simulator.h"
#include "qarch/quant/format.h"
#include "qarch/sim/cli.h"
#include "qarch/sim/scalesim.h"
#include "qarch/workloads/gemm_list.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

namespace fs = std::filesystem;

std::string cfg_text(const std::string& dataflow = "os", const std::string& extra = "") {
  return "[general]\n"
         "run_name = \"test_run\"\n"
         "\n"
         "[architecture_presets]\n"
         "ArrayHeight:    8\n"
         "ArrayWidth:     4\n"
         "IfmapSramSzkB:  64\n"
         "FilterSramSzkB: 32\n"
         "OfmapSramSzkB:  16\n"
         "IfmapOffset:    0\n"
         "FilterOffset:   10000000\n"
         "OfmapOffset:    20000000\n"
         "Bandwidth : 10\n"
         "Dataflow : " +
         dataflow + "\n" + extra +
         "\n"
         "[run_presets]\n"
         "InterfaceBandwidth: CALC\n";
}

// Conv layers (hand-computed GEMMs in ExpectedGemms below).
const char* kConv =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n"
    "conv1, 10, 12, 3, 5, 2, 7, 1,\n"
    "conv2, 11, 9, 3, 3, 4, 6, 2,\n"
    "\n"
    "conv3 ,8,  8, 2, 4, 3, 5, 2, 3,\n"  // stride h 2, stride w 3
    "DP_conv, 6, 6, 3, 3, 5, 1, 1,\n"
    "conv1, 5, 5, 5, 5, 1, 9, 1\n";  // repeated name, no trailing comma

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(ScaleSimConfig, Reads) {
  const ScaleSimConfig c =
      parse_scalesim_config(cfg_text("ws", "ifmapcustomlayout: True\nMEMORYBANKS = 2\n") +
                                "[sparsity]\nSparsitySupport : false\n",
                            "s.cfg");
  EXPECT_EQ(c.run_name, "test_run");
  EXPECT_EQ(c.array_height, 8);
  EXPECT_EQ(c.array_width, 4);
  EXPECT_EQ(c.ifmap_sram_kb, 64);
  EXPECT_EQ(c.filter_sram_kb, 32);
  EXPECT_EQ(c.ofmap_sram_kb, 16);
  EXPECT_EQ(c.filter_offset, 10000000);
  EXPECT_EQ(c.dataflow, models::Dataflow::kWeightStationary);
  EXPECT_FALSE(c.user_bandwidth);
  EXPECT_EQ(c.memory_banks, 2);
  const std::vector<std::string> ignored = {"s.cfg:13: [architecture_presets] bandwidth",
                                            "s.cfg:15: [architecture_presets] ifmapcustomlayout",
                                            "s.cfg:21: [sparsity] sparsitysupport"};
  EXPECT_EQ(c.ignored, ignored);
  // USER mode: one bandwidth per bank, in words (= bytes) per cycle.
  std::string user = cfg_text();
  user.replace(user.find("CALC"), 4, "USER");
  const ScaleSimConfig u = parse_scalesim_config(user, "u.cfg");
  EXPECT_TRUE(u.user_bandwidth);
  EXPECT_EQ(u.bandwidth, std::vector<int64_t>{10});
  // SCALE-Sim v1 key names.
  std::string v1 = cfg_text();
  v1.replace(v1.find("IfmapSramSzkB"), 13, "IfmapSramSz");
  EXPECT_EQ(parse_scalesim_config(v1, "v1.cfg").ifmap_sram_kb, 64);
}

TEST(ScaleSimConfig, Errors) {
  struct Case {
    std::string from, to, message;
  };
  const Case cases[] = {
      {"ArrayHeight:    8", "ArrayHeight:    eight",
       "c.cfg:5: [architecture_presets] ArrayHeight: expected an integer, got 'eight'"},
      {"ArrayWidth:     4", "ArrayWidth:     0",
       "c.cfg:6: [architecture_presets] ArrayWidth: must be > 0, got 0"},
      {"OfmapSramSzkB:  16", "OfmapSramSzkB:  -16",
       "c.cfg:9: [architecture_presets] OfmapSramSzkB: must be > 0, got -16"},
      {"IfmapOffset:    0", "IfmapOffset:    -1",
       "c.cfg:10: [architecture_presets] IfmapOffset: must be >= 0, got -1"},
      {"FilterSramSzkB: 32", "FilterSramSzkB: 32.5",
       "c.cfg:8: [architecture_presets] FilterSramSzkB: expected an integer, got '32.5'"},
      {"Dataflow : os", "Dataflow : rs",
       "c.cfg:14: [architecture_presets] Dataflow: unknown dataflow 'rs' (known: os, ws, is)"},
      {"ArrayHeight:    8\n", "",
       "c.cfg:4: [architecture_presets] ArrayHeight: missing key (SCALE-Sim requires it)"},
      {"run_name = \"test_run\"\n", "", "c.cfg:1: [general] run_name: missing key"},
      {"[run_presets]\nInterfaceBandwidth: CALC\n", "", "c.cfg: [run_presets]: missing section"},
      {"InterfaceBandwidth: CALC", "InterfaceBandwidth: FAST",
       "c.cfg:17: [run_presets] InterfaceBandwidth: expected CALC or USER, got 'FAST'"},
      {"[general]\n", "", "c.cfg:1: run_name: key before any [section]"},
      {"ArrayWidth:     4", "ArrayWidth:     4\narraywidth = 5",
       "c.cfg:7: [architecture_presets] arraywidth: key given twice (first at line 6)"},
      {"[run_presets]", "[general]", "c.cfg:16: [general]: section given twice (first at line 1)"},
      {"ArrayWidth:     4", "ArrayWidth     4",
       "c.cfg:6: expected 'key = value' or '[section]', got 'ArrayWidth     4'"},
      {"[run_presets]", "[run_presets", "c.cfg:16: expected a section header '[name]'"},
  };
  for (const auto& c : cases) {
    std::string text = cfg_text();
    const size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    SCOPED_TRACE(text);
    const std::string e = error_of([&] { parse_scalesim_config(text, "c.cfg"); });
    EXPECT_EQ(e.rfind(c.message, 0), 0u) << "got:  " << e << "\nwant: " << c.message << "...";
  }
  // USER bandwidth: a list with one value per memory bank.
  std::string user = cfg_text("os", "MemoryBanks: 2\n");
  user.replace(user.find("CALC"), 4, "USER");
  EXPECT_EQ(error_of([&] { parse_scalesim_config(user, "c.cfg"); }),
            "c.cfg:13: [architecture_presets] Bandwidth: 1 value(s) for 2 memory bank(s); USER "
            "mode needs one bandwidth per bank");
  std::string bad = user;
  bad.replace(bad.find("Bandwidth : 10"), 14, "Bandwidth : 10, x");
  EXPECT_EQ(error_of([&] { parse_scalesim_config(bad, "c.cfg"); }),
            "c.cfg:13: [architecture_presets] Bandwidth: expected an integer, got ' x'");
  EXPECT_EQ(error_of([&] { load_scalesim_config("/nonexistent/x.cfg"); }),
            "/nonexistent/x.cfg: cannot open the SCALE-Sim config for reading");
  EXPECT_EQ(error_of([&] { parse_scalesim_config("", "e.cfg"); }),
            "e.cfg: [general]: missing section (a SCALE-Sim config has [general], "
            "[architecture_presets] and [run_presets])");
}

TEST(ScaleSimTopology, ConvLayersBecomeSCALESimsGemms) {
  const ScaleSimTopology t = parse_scalesim_topology(kConv, "net.csv");
  EXPECT_EQ(t.kind, TopologyKind::kConv);
  ASSERT_EQ(t.layers.size(), 5u);
  EXPECT_EQ(t.layers[2].name, "conv3");
  EXPECT_EQ(t.layers[2].line, 5);
  EXPECT_EQ(t.layers[2].stride_h, 2);
  EXPECT_EQ(t.layers[2].stride_w, 3);
  EXPECT_EQ(t.layers[0].stride_w, 1);
  EXPECT_TRUE(t.layers[3].depthwise);
  const workloads::GemmList l = scalesim_gemms(t, "net");
  EXPECT_EQ(l.name, "net");
  // By hand: ofmap = ceil((ifmap - filter) / stride) + 1 per axis (SCALE-Sim's
  // ceil((ifmap - filter + stride) / stride), topology_utils.py); M = ofmap_h * ofmap_w,
  // K = filter_h * filter_w * channels, N = filters.
  //   conv1: (10-3)/1+1 = 8, (12-5)/1+1 = 8   -> M 64, K 3*5*2 = 30, N 7
  //   conv2: ceil(8/2)+1 = 5, ceil(6/2)+1 = 4 -> M 20, K 3*3*4 = 36, N 6
  //   conv3: ceil(6/2)+1 = 4, ceil(4/3)+1 = 3 -> M 12, K 2*4*3 = 24, N 5 (rounded up: the
  //          last column window starts at 6 and runs past the edge; floor would give 2)
  //   DP_conv: (6-3)+1 = 4 x 4, one 1-channel GEMM per channel -> M 16, K 9, N 1, batch 5
  //   conv1 again: 1 x 1 -> M 1, K 25, N 9 (renamed conv1#2)
  const std::vector<workloads::GemmListEntry> want = {{"conv1", 64, 7, 30, 1},
                                                      {"conv2", 20, 6, 36, 1},
                                                      {"conv3", 12, 5, 24, 1},
                                                      {"DP_conv", 16, 1, 9, 5},
                                                      {"conv1#2", 1, 9, 25, 1}};
  ASSERT_EQ(l.gemms.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].name);
    EXPECT_EQ(l.gemms[i].name, want[i].name);
    EXPECT_EQ(l.gemms[i].m, want[i].m);
    EXPECT_EQ(l.gemms[i].n, want[i].n);
    EXPECT_EQ(l.gemms[i].k, want[i].k);
    EXPECT_EQ(l.gemms[i].batch, want[i].batch);
  }
}

TEST(ScaleSimTopology, GemmLayers) {
  const ScaleSimTopology t =
      parse_scalesim_topology("Layer Name, M, N, K,\nTest 1, 256, 128, 64,\nfc,1,10,3\n", "g.csv");
  EXPECT_EQ(t.kind, TopologyKind::kGemm);
  const workloads::GemmList l = scalesim_gemms(t, "g");
  ASSERT_EQ(l.gemms.size(), 2u);
  EXPECT_EQ(l.gemms[0].name, "Test 1");
  EXPECT_EQ(l.gemms[0].m, 256);
  EXPECT_EQ(l.gemms[0].n, 128);
  EXPECT_EQ(l.gemms[0].k, 64);
  EXPECT_EQ(l.gemms[1].k, 3);
  // Forced conv reading of a GEMM file fails on the column count, naming the flavour.
  EXPECT_EQ(error_of([&] {
              parse_scalesim_topology("Layer, M, N, K,\na, 1, 2, 3,\n", "g.csv",
                                      TopologyKind::kConv);
            }).rfind("g.csv:2: expected 8 or 9 columns (Layer name, IFMAP Height,", 0),
            0u);
}

TEST(ScaleSimTopology, Errors) {
  const std::string h =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\n";
  struct Case {
    std::string text, message;
  };
  const Case cases[] = {
      {h + "c, 4, 8, 5, 3, 1, 1, 1,\n", "t.csv:2: Filter Height: 5 is larger than IFMAP Height 4"},
      {h + "c, 8, 2, 1, 3, 1, 1, 1,\n", "t.csv:2: Filter Width: 3 is larger than IFMAP Width 2"},
      {h + "c, 8, 8, 3, 3, x, 1, 1,\n", "t.csv:2: Channels: expected an integer, got 'x'"},
      {h + "c, 8, 8, 3, 3, 1, 0, 1,\n", "t.csv:2: Num Filter: must be > 0, got 0"},
      {h + "c, 8, 8, 3, 3, 1, 4, -2,\n", "t.csv:2: Strides: must be > 0, got -2"},
      {h + "c, 8, 8, 3, 3, 1, 4, 1, 1, 1,\n", "t.csv:2: expected 8 or 9 columns"},
      {h + "c, 8, 8, 3,\n", "t.csv:2: expected 8 or 9 columns"},
      {h + " , 8, 8, 3, 3, 1, 1, 1,\n", "t.csv:2: Layer name: must not be empty"},
      {h + "\n\n", "t.csv: no layers (only a header line)"},
      {"", "t.csv:1: expected the header line"},
      {h + "c, 8, 8, 3, 3, 1, 1, 99999999999999999999,\n",
       "t.csv:2: Strides: expected an integer, got '99999999999999999999'"},
      {h + "c, 1099511627776, 1099511627776, 1, 1, 1, 1, 1,\n",
       "t.csv:2: the ofmap has 1099511627776 x 1099511627776 pixels, beyond 2^40 GEMM rows"},
      {"Layer, M, N, K,\ng, 1, 2,\n", "t.csv:2: expected 4 columns (Layer name, M, N, K)"},
      {"Layer, M, N, K,\ng, 1, 0, 3,\n", "t.csv:2: N: must be > 0, got 0"},
      {"Layer, M, N, K,\ng, 1099511627776, 1099511627776, 8,\n",
       "t.csv:2: the layer has more than 2^62 MACs"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string e = error_of([&] { parse_scalesim_topology(c.text, "t.csv"); });
    EXPECT_EQ(e.rfind(c.message, 0), 0u) << "got:  " << e << "\nwant: " << c.message << "...";
  }
  EXPECT_EQ(error_of([&] { load_scalesim_topology("/nonexistent/t.csv"); }),
            "/nonexistent/t.csv: cannot open the SCALE-Sim topology for reading");
}

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// The paper's runtime of one GEMM (M output pixels, N filters, K window).
uint64_t scalesim_cycles(const std::string& df, int64_t m, int64_t n, int64_t k, int64_t R,
                         int64_t C) {
  int64_t sr, sc, t;
  if (df == "os") {
    sr = m, sc = n, t = k;
  } else if (df == "ws") {
    sr = k, sc = n, t = m;
  } else {
    sr = k, sc = m, t = n;
  }
  return static_cast<uint64_t>(ceil_div(sr, R) * ceil_div(sc, C) * (2 * R + C + t - 2));
}

using Cli = testing::CliResult;
using testing::run_cli;

// The command end to end: files written, arch as SCALE-Sim's, and the simulated cycles of
// every imported GEMM equal to SCALE-Sim's formula, for all three dataflows.
TEST(ImportScaleSim, SimulatesInSCALESimsComputeCycles) {
  const fs::path dir = fs::path(::testing::TempDir()) / "qarch_import_scalesim";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string topo = (dir / "net.csv").string();
  std::ofstream(topo) << kConv;
  for (const std::string df : {"os", "ws", "is"}) {
    SCOPED_TRACE(df);
    const std::string cfg = (dir / ("c_" + df + ".cfg")).string();
    std::ofstream(cfg) << cfg_text(df);
    const std::string out = (dir / df).string();
    const Cli r = run_cli({"import-scalesim", "--cfg", cfg, "--topology", topo, "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(
        r.out.find("qarch run --arch " + out + "/arch.yaml --workload " + out + "/workload.yaml"),
        std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("ignored (no effect on compute cycles): " + cfg +
                         ":13: [architecture_presets] bandwidth"),
              std::string::npos)
        << r.out;
    const ArchSpec a = load_arch(out + "/arch.yaml");
    EXPECT_EQ(a.arch.name, "test_run");
    EXPECT_EQ(a.arch.array.rows, 8);
    EXPECT_EQ(a.arch.array.cols, 4);
    EXPECT_EQ(models::dataflow_name(a.arch.array.dataflow), df);
    EXPECT_EQ(a.arch.array.pe, "int8");
    EXPECT_EQ(a.act_format, quant::make_format("int8")->name());
    EXPECT_EQ(a.arch.input_buffer.size_bytes, 64 * 1024);
    EXPECT_EQ(a.arch.weight_buffer.size_bytes, 32 * 1024);
    EXPECT_EQ(a.arch.output_buffer.size_bytes, 16 * 1024);
    EXPECT_TRUE(a.arch.dram.ideal);
    EXPECT_TRUE(a.arch.input_buffer.ideal && a.arch.weight_buffer.ideal &&
                a.arch.output_buffer.ideal);
    EXPECT_EQ(a.arch.decoder.latency_cycles, 0);
    const workloads::GemmList l = workloads::load_gemm_list(out + "/workload.yaml");
    ASSERT_EQ(l.gemms.size(), 5u);
    std::vector<models::GemmJob> jobs;
    uint64_t want_total = 0;
    for (const auto& g : l.gemms) {
      models::GemmJob j;
      j.name = g.name;
      j.m = g.m, j.n = g.n, j.k = g.k, j.batch = g.batch;
      j.x_format = a.act_format;
      j.w_format = a.weight_format;
      jobs.push_back(j);
      want_total += g.batch * scalesim_cycles(df, g.m, g.n, g.k, 8, 4);
    }
    const models::SimResult s = models::simulate(a.arch, jobs);
    ASSERT_EQ(s.stats.jobs.size(), jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      SCOPED_TRACE(jobs[i].name);
      EXPECT_EQ(s.stats.jobs[i].compute_cycles,
                jobs[i].batch * scalesim_cycles(df, jobs[i].m, jobs[i].n, jobs[i].k, 8, 4));
    }
    EXPECT_EQ(s.stats.array.compute_cycles, want_total);
    EXPECT_EQ(s.stats.cycles, want_total);  // idealized memory: nothing but compute
  }
  // --real-memory and --format, --name, and a GEMM topology.
  const std::string gemm = (dir / "g.csv").string();
  std::ofstream(gemm) << "Layer, M, N, K,\nproj, 64, 32, 16,\n";
  const std::string cfg = (dir / "c_os.cfg").string();
  const Cli r =
      run_cli({"import-scalesim", "--cfg", cfg, "--topology", gemm, "--out", (dir / "g").string(),
               "--format", "olive4", "--name", "mine", "--real-memory"});
  ASSERT_EQ(r.code, 0) << r.err;
  const ArchSpec a = load_arch((dir / "g" / "arch.yaml").string());
  EXPECT_EQ(a.arch.name, "mine");
  EXPECT_EQ(a.arch.array.pe, "olive4");
  EXPECT_FALSE(a.arch.dram.ideal);
  EXPECT_FALSE(a.arch.input_buffer.ideal);
  const workloads::GemmList g = workloads::load_gemm_list((dir / "g" / "workload.yaml").string());
  ASSERT_EQ(g.gemms.size(), 1u);
  EXPECT_EQ(g.gemms[0].m, 64);
  EXPECT_EQ(g.gemms[0].n, 32);
  EXPECT_EQ(g.gemms[0].k, 16);
  fs::remove_all(dir);
}

TEST(ImportScaleSim, ErrorsAndHelp) {
  const Cli h = run_cli({"import-scalesim", "--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("analytical runtime of SCALE-Sim's"), std::string::npos);
  EXPECT_NE(h.out.find("qarch scalesim -c X.cfg -t Y.csv -p DIR"), std::string::npos);
  const Cli m = run_cli({"import-scalesim", "--cfg", "x.cfg"});
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("--topology: missing"), std::string::npos) << m.err;
  const Cli f = run_cli({"import-scalesim", "--cfg", "/nonexistent/x.cfg", "--topology", "t.csv",
                         "--out", "/tmp/never"});
  EXPECT_EQ(f.code, 2);
  EXPECT_NE(f.err.find("/nonexistent/x.cfg: cannot open the SCALE-Sim config"), std::string::npos);
}

// The shipped example pair imports.
TEST(ImportScaleSim, ShippedExamples) {
  const std::string d = std::string(QARCH_CONFIGS_DIR) + "/scalesim";
  const ScaleSimConfig c = load_scalesim_config(d + "/tiny_os.cfg");
  EXPECT_EQ(c.array_height, 16);
  EXPECT_TRUE(c.user_bandwidth);
  EXPECT_EQ(scalesim_arch(c, "int8", "").arch.dram.bandwidth_bytes_per_cycle, 16.0);
  // tiny_cnn.csv by hand: stem (34-3+1)^2 = 1024 x 27 -> 16; down1 (ceil(29/2)+1)^2 = 256 x 144
  // -> 32 (SCALE-Sim rounds up; an unpadded conv would give 15^2 = 225); DP_conv2 13^2 = 169 x 9 ->
  // 1, 32 channels; point2 169 x 32 -> 64; fc 1 x 64 -> 10.
  const workloads::GemmList l = scalesim_gemms(load_scalesim_topology(d + "/tiny_cnn.csv"), "t");
  const std::vector<workloads::GemmListEntry> want = {{"stem", 1024, 16, 27, 1},
                                                      {"down1", 256, 32, 144, 1},
                                                      {"DP_conv2", 169, 1, 9, 32},
                                                      {"point2", 169, 64, 32, 1},
                                                      {"fc", 1, 10, 64, 1}};
  ASSERT_EQ(l.gemms.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(l.gemms[i].name, want[i].name);
    EXPECT_EQ(l.gemms[i].m, want[i].m);
    EXPECT_EQ(l.gemms[i].n, want[i].n);
    EXPECT_EQ(l.gemms[i].k, want[i].k);
    EXPECT_EQ(l.gemms[i].batch, want[i].batch);
  }
  EXPECT_EQ(load_scalesim_topology(d + "/tiny_gemm.csv").layers.size(), 4u);
}

}  // namespace
}  // namespace qarch::sim
