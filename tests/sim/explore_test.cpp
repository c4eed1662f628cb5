// The exploration pipeline (explore.h) and the sweep machinery (sweep.h, `qarch sweep`,
// `qarch report`): totals, caches, accuracy independent of the array, sharding equal to an
// unsharded run, resume after interruption, and configuration errors with file:line:key.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_runner.h"
#include "qarch/common/error.h"
#include "qarch/explore/explore.h"
#include "qarch/explore/sweep.h"
#include "qarch/sim/cli.h"
#include "qarch/sim/command_args.h"
#include "qarch/workloads/model.h"
#include "qarch/workloads/workload.h"
#include "run_common.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

using Result = testing::CliResult;
using testing::run_cli;

std::string temp_dir(const std::string& name) {
  const std::string d =
      ::testing::TempDir() + "qarch_explore_" + name + "_" + std::to_string(::getpid());
  std::system(("rm -rf '" + d + "' && mkdir -p '" + d + "'").c_str());
  return d;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Small and fast: one GPT-2 layer, 64 tokens, a small accuracy sample.
WorkloadSpec small_workload(const std::string& layers = "0") {
  return model_workload("gpt2", "prefill", 64, -1, 1, layers);
}
AccuracyOptions small_accuracy() {
  AccuracyOptions a;
  a.sample_rows = 32;
  a.weight_rows = 128;
  a.error_rows = 16;
  a.error_cols = 64;
  return a;
}

TEST(Explore, PointTotalsAreSumsOfTheGemmsAndMacsMatchTheWorkload) {
  ExploreCache cache;
  const ArchSpec arch = resolve_arch("int8");
  const WorkloadSpec w = small_workload();
  const reports::PointResult p = run_point("int8", arch, w, small_accuracy(), cache);

  const workloads::Workload expanded = workloads::expand(workloads::load_model("gpt2"), w.params);
  uint64_t macs = 0;
  size_t gemms = 0;
  for (const auto& g : expanded.gemms)
    if (g.layer == 0) macs += static_cast<uint64_t>(g.macs()), ++gemms;
  ASSERT_EQ(p.gemms.size(), gemms);
  EXPECT_EQ(p.macs, macs);

  uint64_t cycles = 0;
  double energy = 0;
  for (const auto& g : p.gemms) {
    cycles += g.cycles;
    energy += g.energy_total_pj();
    EXPECT_GE(g.cycles, g.compute_cycles) << g.gemm;
    EXPECT_GT(g.energy_pj.at("mac"), 0) << g.gemm;
    EXPECT_GT(g.energy_pj.at("dram"), 0) << g.gemm;
  }
  EXPECT_EQ(p.cycles, cycles);
  EXPECT_NEAR(p.energy_total_pj(), energy, 1e-9 * energy);
  EXPECT_GT(p.area_total_mm2(), 0);
  EXPECT_GT(p.area_mm2.at("pe_array"), 0);
  EXPECT_DOUBLE_EQ(p.seconds, static_cast<double>(p.cycles) / (arch.arch.clock_ghz * 1e9));
  // INT8 per-tensor activations on outlier-heavy GPT-2 tensors lose accuracy but stay usable.
  ASSERT_TRUE(p.has_accuracy);
  EXPECT_GT(p.mean_qsnr_db, 5);
  EXPECT_LT(p.mean_qsnr_db, 60);
  EXPECT_LE(p.min_qsnr_db, p.mean_qsnr_db);
}

TEST(Explore, IdenticalLayersShareTimingAndAccuracyDependsOnlyOnFormats) {
  ExploreCache cache;
  const AccuracyOptions acc = small_accuracy();
  const ArchSpec big = resolve_arch("olive");
  const ArchSpec small = resolve_arch("olive", {{"array.rows", "8"}, {"array.cols", "8"}});
  const reports::PointResult a = run_point("a", big, small_workload("0,1"), acc, cache);
  const reports::PointResult b = run_point("b", small, small_workload("0,1"), acc, cache);
  // Layers 0 and 1 have the same shapes: same cycles for the same GEMM kind.
  const size_t per_layer = a.gemms.size() / 2;
  for (size_t i = 0; i < per_layer; ++i) {
    EXPECT_EQ(a.gemms[i].cycles, a.gemms[i + per_layer].cycles) << a.gemms[i].gemm;
    EXPECT_EQ(a.gemms[i].kind, a.gemms[i + per_layer].kind);
  }
  // A smaller array is slower; accuracy (same formats, same data) is identical.
  EXPECT_GT(b.cycles, a.cycles);
  ASSERT_EQ(a.gemms.size(), b.gemms.size());
  for (size_t i = 0; i < a.gemms.size(); ++i) {
    EXPECT_EQ(a.gemms[i].has_error, b.gemms[i].has_error);
    EXPECT_EQ(a.gemms[i].output_qsnr_db, b.gemms[i].output_qsnr_db) << a.gemms[i].gemm;
  }
}

TEST(Explore, BadRequestsNameTheProblem) {
  ExploreCache cache;
  try {
    resolve_arch("no-such-arch");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("olive"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model_workload("gpt2", "prefill", 64, 10, 1, "0"), Error);
  EXPECT_THROW(model_workload("gpt2", "decode", 64, -1, 1, "0"), Error);
  EXPECT_THROW(model_workload("gpt2", "prefill", 64, -1, 1, "99"), Error);
}

const char* kSweepYaml = R"(name: test sweep
archs: [int8, olive]
parameters:
  array.rows: [8, 16]
  dram.bandwidth_gb_per_s: [16, 64]
workloads:
  - {model: gpt2, phase: prefill, seq: 32, layers: "0"}
  - {model: gpt2, phase: decode, context: 31, layers: "0"}
accuracy: {layers: auto, sample_rows: 16, weight_rows: 64, error_rows: 8, error_cols: 32}
)";

TEST(Sweep, PointsAreTheCrossProductInOrder) {
  const Sweep s = parse_sweep(kSweepYaml, "test.yaml");
  ASSERT_EQ(s.points.size(), 2u * 2 * 2 * 2);
  EXPECT_EQ(s.points[0].id, "p0000");
  EXPECT_EQ(s.points[15].id, "p0015");
  // The last axis varies fastest, workloads innermost.
  EXPECT_EQ(s.points[0].params.at("array.rows"), "8");
  EXPECT_EQ(s.points[0].params.at("dram.bandwidth_gb_per_s"), "16");
  EXPECT_EQ(s.points[2].params.at("dram.bandwidth_gb_per_s"), "64");
  EXPECT_EQ(s.points[4].params.at("array.rows"), "16");
  EXPECT_EQ(s.points[8].arch.arch.array.pe, "olive4");
  EXPECT_EQ(s.points[4].arch.arch.array.rows, 16);
  EXPECT_EQ(s.points[1].workload.params.phase, workloads::Phase::kDecode);
  // Keys differ between points and are stable.
  EXPECT_NE(s.points[0].key, s.points[1].key);
  EXPECT_EQ(parse_sweep(kSweepYaml, "test.yaml").points[3].key, s.points[3].key);
  // Listing streams the same ids and parameters without building the points.
  std::vector<SweepPoint> listed;
  const Sweep none =
      parse_sweep(kSweepYaml, "test.yaml", [&](const SweepPoint& p) { listed.push_back(p); });
  EXPECT_TRUE(none.points.empty());
  ASSERT_EQ(listed.size(), s.points.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(listed[i].id, s.points[i].id);
    EXPECT_EQ(listed[i].index, s.points[i].index);
    EXPECT_EQ(listed[i].params, s.points[i].params) << i;
  }
  // Shards partition the points.
  for (const auto& p : s.points) {
    int owners = 0;
    for (int i = 1; i <= 3; ++i) owners += in_shard(p.index, i, 3);
    EXPECT_EQ(owners, 1);
  }
}

TEST(Sweep, ThreeShardsMergeToTheUnshardedReportAndRerunsResume) {
  const std::string d = temp_dir("shards");
  write(d + "/sweep.yaml", kSweepYaml);
  const Result whole = run_cli({"sweep", d + "/sweep.yaml", "--out", d + "/whole"});
  ASSERT_EQ(whole.code, 0) << whole.err;
  for (int i = 1; i <= 3; ++i) {
    const Result r = run_cli({"sweep", d + "/sweep.yaml", "--out", d + "/sharded", "--shard",
                              std::to_string(i) + "/3", "--jobs", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(exists(d + "/sharded/report.json"), false) << "a shard must not write the report";
  }
  const Result merged = run_cli({"report", d + "/sharded"});
  ASSERT_EQ(merged.code, 0) << merged.err;
  for (const char* f : {"report.json", "summary.csv", "gemms.csv", "index.html"}) {
    const std::string a = slurp(d + "/whole/" + f), b = slurp(d + "/sharded/" + f);
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, b) << f << " differs between the unsharded and the merged 3-shard sweep";
  }
  const nlohmann::json rep = nlohmann::json::parse(slurp(d + "/whole/report.json"));
  EXPECT_EQ(rep["points"].size(), 16u);
  EXPECT_FALSE(rep["pareto"].empty());

  // A rerun skips every finished point; a lost point is recomputed, identically.
  const std::string lost = d + "/sharded/points/p0005.json";
  const std::string before = slurp(lost);
  std::remove(lost.c_str());
  const Result rerun = run_cli({"sweep", d + "/sweep.yaml", "--out", d + "/sharded"});
  ASSERT_EQ(rerun.code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find("15 already done, 1 to run"), std::string::npos) << rerun.out;
  EXPECT_EQ(slurp(lost), before);
  EXPECT_EQ(slurp(d + "/sharded/report.json"), slurp(d + "/whole/report.json"));

  // A partial merge says so.
  std::remove(lost.c_str());
  const Result partial = run_cli({"report", d + "/sharded", "--out", d + "/partial"});
  ASSERT_EQ(partial.code, 0) << partial.err;
  EXPECT_NE(partial.err.find("only 15 of 16"), std::string::npos) << partial.err;
  EXPECT_NE(slurp(d + "/partial/report.json").find("partial: 15 of 16"), std::string::npos);
}

TEST(Sweep, ChangedDefinitionsAreRecomputedAndConflictsRefused) {
  const std::string d = temp_dir("resume");
  const std::string one = R"(name: one
archs: [int8]
workloads: [{model: gpt2, phase: decode, context: 15, layers: "0"}]
accuracy: {enabled: false}
)";
  write(d + "/s.yaml", one);
  ASSERT_EQ(run_cli({"sweep", d + "/s.yaml", "--out", d + "/out"}).code, 0);
  const std::string first = slurp(d + "/out/points/p0000.json");
  // Same point id, different architecture: the stale result must not be reused.
  std::string changed = one;
  changed.replace(changed.find("[int8]"), 6, "[olive]");
  write(d + "/s.yaml", changed);
  const Result r = run_cli({"sweep", d + "/s.yaml", "--out", d + "/out"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("different definition"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("changed since"), std::string::npos) << r.err;  // the stamp's file hash
  EXPECT_NE(slurp(d + "/out/points/p0000.json"), first);
  // Merging the two results of the same id is a conflict naming both files.
  write(d + "/old.json", first);
  const Result c = run_cli({"report", d + "/out", d + "/old.json", "--out", d + "/m"});
  EXPECT_EQ(c.code, 2);
}

TEST(Sweep, AnOutputFolderBelongsToOneSweepAndPointFilesAreChecksummed) {
  const std::string d = temp_dir("owner");
  const std::string one = R"(name: one
archs: [int8]
workloads: [{model: gpt2, phase: decode, context: 15, layers: "0"}]
accuracy: {enabled: false}
)";
  std::string two = one;
  two.replace(two.find("one"), 3, "two");
  two.replace(two.find("[int8]"), 6, "[int8, olive]");
  write(d + "/one.yaml", one);
  write(d + "/two.yaml", two);
  ASSERT_EQ(run_cli({"sweep", d + "/one.yaml", "--out", d + "/out"}).code, 0);
  // Another sweep into the same folder is refused instead of mixing its points in.
  const Result clash = run_cli({"sweep", d + "/two.yaml", "--out", d + "/out"});
  EXPECT_EQ(clash.code, 2);
  EXPECT_NE(clash.err.find("holds the results of sweep 'one'"), std::string::npos) << clash.err;
  const Result forced = run_cli({"sweep", d + "/two.yaml", "--out", d + "/out", "--force"});
  ASSERT_EQ(forced.code, 0) << forced.err;
  const nlohmann::json rep = nlohmann::json::parse(slurp(d + "/out/report.json"));
  EXPECT_EQ(rep["points"].size(), 2u);
  EXPECT_EQ(rep["title"], "two");
  // Shards of different sweeps do not merge.
  ASSERT_EQ(run_cli({"sweep", d + "/one.yaml", "--out", d + "/o1"}).code, 0);
  const Result mixed = run_cli({"report", d + "/o1", d + "/out", "--out", d + "/mixed"});
  EXPECT_EQ(mixed.code, 2);
  EXPECT_NE(mixed.err.find("merge the shards of one sweep at a time"), std::string::npos)
      << mixed.err;
  // An edited value fails its checksum: report refuses it, a rerun recomputes it.
  const std::string pf = d + "/o1/points/p0000.json";
  std::string text = slurp(pf);
  const size_t at = text.find("\"cycles\": ");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 10, "1");
  write(pf, text);
  const Result edited = run_cli({"report", d + "/o1", "--out", d + "/e"});
  EXPECT_EQ(edited.code, 2);
  EXPECT_NE(edited.err.find("checksum mismatch"), std::string::npos) << edited.err;
  // An orphaned temporary file of a killed run (older than ten minutes) is cleaned up.
  const std::string orphan = d + "/o1/points/.p0000.json.tmp.12345.6";
  write(orphan, "{");
  std::filesystem::last_write_time(
      orphan, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  const Result rerun = run_cli({"sweep", d + "/one.yaml", "--out", d + "/o1"});
  ASSERT_EQ(rerun.code, 0) << rerun.err;
  EXPECT_NE(rerun.err.find("checksum mismatch"), std::string::npos) << rerun.err;
  EXPECT_NE(rerun.out.find("0 already done, 1 to run"), std::string::npos) << rerun.out;
  EXPECT_FALSE(exists(orphan));
  EXPECT_EQ(run_cli({"report", d + "/o1", "--out", d + "/e"}).code, 0);
}

TEST(Sweep, AnEditedTechnologyTableIsRecomputed) {
  const std::string d = temp_dir("tech_key");
  write(d + "/arch.yaml",
        "name: t\nformats: {act: int8, weight: int8}\narray: {rows: 8, cols: 8}\n"
        "technology: {table: tech.yaml, node: 45nm}\n");
  write(d + "/tech.yaml", "mac_pj: {int8: 0.25}\n");
  write(d + "/s.yaml", R"(name: t
archs: [arch.yaml]
workloads: [{model: gpt2, phase: decode, context: 15, layers: "0"}]
accuracy: {enabled: false}
)");
  const Sweep before = load_sweep(d + "/s.yaml");
  ASSERT_EQ(before.points.size(), 1u);
  ASSERT_EQ(run_cli({"sweep", d + "/s.yaml", "--out", d + "/out"}).code, 0);
  const std::string first = slurp(d + "/out/points/p0000.json");
  // The architecture file is unchanged, its technology table is not: a new key, a new energy.
  write(d + "/tech.yaml", "mac_pj: {int8: 25}\n");
  EXPECT_NE(load_sweep(d + "/s.yaml").points[0].key, before.points[0].key);
  const Result r = run_cli({"sweep", d + "/s.yaml", "--out", d + "/out"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("different definition"), std::string::npos) << r.err;
  const auto energy = [](const std::string& text) {
    return nlohmann::json::parse(text)["point"]["energy_pj"]["mac"].get<double>();
  };
  EXPECT_GT(energy(slurp(d + "/out/points/p0000.json")), energy(first));
}

TEST(Sweep, KeysCoverTheFilesAWorkloadNames) {
  const std::string d = temp_dir("workload_key");
  const std::string model = slurp(QARCH_CONFIGS_DIR "/../workloads/models/gpt2.yaml");
  ASSERT_FALSE(model.empty());
  write(d + "/m.yaml", model);
  write(d + "/s.yaml", R"(archs: [int8]
workloads:
  - {model: m.yaml, phase: decode, context: 15, layers: "0"}
  - {model: gpt2, phase: decode, context: 15, layers: "0"}
)");
  const Sweep before = load_sweep(d + "/s.yaml");
  ASSERT_EQ(before.points.size(), 2u);
  // Same model, one by file and one by name: the definitions differ only in how it is named.
  std::string edited = model;
  edited.replace(edited.find("intermediate_size: 3072"), 23, "intermediate_size: 2048");
  write(d + "/m.yaml", edited);
  const Sweep after = load_sweep(d + "/s.yaml");
  EXPECT_NE(after.points[0].key, before.points[0].key);  // the edited file
  EXPECT_EQ(after.points[1].key, before.points[1].key);  // the zoo model is untouched
  // A file the workload names but that cannot be read is an error at the workload's line.
  write(d + "/s.yaml", "archs: [int8]\nworkloads:\n  - {model: gpt2, tensors: none.yaml}\n");
  try {
    load_sweep(d + "/s.yaml");
    ADD_FAILURE() << "no error for a missing tensors file";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("s.yaml:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("none.yaml"), std::string::npos) << msg;
  }
}

TEST(Sweep, ConfigurationErrorsNameFileLineAndKey) {
  auto error_of = [](const std::string& yaml) -> std::string {
    try {
      parse_sweep(yaml, "bad.yaml");
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string e = error_of("name: x\narchs: [int8]\nworkloads: [{model: gpt2}]\nparamters: {}\n");
  EXPECT_NE(e.find("bad.yaml:4"), std::string::npos) << e;
  EXPECT_NE(e.find("paramters"), std::string::npos) << e;
  // The known keys listed are all of them, also those the file does not use.
  for (const char* k : {"name", "archs", "parameters", "workloads", "accuracy"})
    EXPECT_NE(e.find(k), std::string::npos) << k << " missing from: " << e;
  e = error_of("archs: [int8]\nworkloads: [{model: gpt2, seq: -3}]\n");
  EXPECT_NE(e.find("bad.yaml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("seq"), std::string::npos) << e;
  e = error_of("archs: [int8]\nparameters: {array.rowz: [1, 2]}\nworkloads: [{model: gpt2}]\n");
  EXPECT_NE(e.find("array.rowz"), std::string::npos) << e;
  e = error_of("archs: [int8]\nparameters: {array.rows: [0]}\nworkloads: [{model: gpt2}]\n");
  EXPECT_NE(e.find("array.rows"), std::string::npos) << e;
  e = error_of("archs: [missing.yaml]\nworkloads: [{model: gpt2}]\n");
  EXPECT_NE(e.find("missing.yaml"), std::string::npos) << e;
  e = error_of("workloads: [{model: gpt2}]\n");
  EXPECT_NE(e.find("archs"), std::string::npos) << e;
  e = error_of("archs: [int8]\nworkloads: [{model: no-such-model}]\n");
  EXPECT_NE(e.find("no-such-model"), std::string::npos) << e;
  e = error_of("archs: [int8]\nworkloads: [{model: gpt2\n");
  EXPECT_NE(e.find("bad.yaml:"), std::string::npos) << e;

  EXPECT_THROW(parse_shard("0/3"), Error);
  EXPECT_THROW(parse_shard("4/3"), Error);
  EXPECT_THROW(parse_shard("1/0"), Error);
  EXPECT_THROW(parse_shard("a/b"), Error);
  EXPECT_THROW(parse_shard("1/3x"), Error);
  EXPECT_EQ(parse_shard("2/3"), (std::pair<int, int>{2, 3}));
  EXPECT_EQ(run_cli({"sweep", "/nonexistent/sweep.yaml"}).code, 2);
  EXPECT_EQ(run_cli({"report", "/nonexistent/dir"}).code, 2);
}

TEST(RunCommands, RunAndCompareWriteTheReportFiles) {
  const std::string d = temp_dir("run");
  const Result r = run_cli({"run", "--arch", "olive", "--model", "gpt2", "--seq", "32", "--layers",
                            "0", "--sample", "16", "--weight-rows", "64", "--out", d + "/run"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"report.json", "summary.csv", "gemms.csv", "index.html"})
    EXPECT_TRUE(exists(d + "/run/" + f)) << f;
  const std::string csv = slurp(d + "/run/gemms.csv");
  EXPECT_NE(csv.find("layers.0.attn.qkv"), std::string::npos);

  const Result c =
      run_cli({"compare", "--archs", "int8,olive,mxfp4", "--model", "gpt2", "--phase", "decode",
               "--ctx", "31", "--layers", "0", "--no-accuracy", "--out", d + "/cmp"});
  ASSERT_EQ(c.code, 0) << c.err;
  const nlohmann::json rep = nlohmann::json::parse(slurp(d + "/cmp/report.json"));
  ASSERT_EQ(rep["points"].size(), 3u);
  EXPECT_EQ(rep["points"][1]["pe"], "olive4");
  // --no-accuracy and --shape-only both switch accuracy off (they once shared one variable, and
  // the second option's default undid the first).
  for (const auto& p : rep["points"]) EXPECT_FALSE(p["has_accuracy"].get<bool>()) << p["id"];
  const Result so = run_cli({"run", "--arch", "int8", "--model", "gpt2", "--seq", "32", "--layers",
                             "0", "--shape-only", "--out", d + "/so"});
  ASSERT_EQ(so.code, 0) << so.err;
  EXPECT_FALSE(
      nlohmann::json::parse(slurp(d + "/so/report.json"))["points"][0]["has_accuracy"].get<bool>());

  EXPECT_EQ(run_cli({"run", "--model", "gpt2"}).code, 2);  // no --arch
  EXPECT_EQ(run_cli({"compare", "--archs", "int8,nope", "--model", "gpt2"}).code, 2);
  EXPECT_EQ(run_cli({"run", "--arch", "int8", "--model", "gpt2", "--ctx", "5"}).code, 2);
}

// A 7 nm architecture clocked above what its PE's RTL critical path allows (ASAP7 timing in
// rtl/synth/results/area.json) gets a warning on stderr; the run still succeeds. The same
// architecture at 22 nm (no delay-scaling rule) and at a reachable clock gets none.
TEST(RunCommands, WarnsWhenTheClockExceedsThePesCriticalPath) {
  const std::string d = temp_dir("clock");
  const std::string base = slurp(std::string(QARCH_CONFIGS_DIR) + "/int8.yaml");
  ASSERT_NE(base.find("clock_ghz: 0.5"), std::string::npos);
  ASSERT_NE(base.find("node: 22nm"), std::string::npos);
  auto variant = [&](const std::string& name, const std::string& ghz, const std::string& node) {
    std::string y = base;
    y.replace(y.find("clock_ghz: 0.5"), 14, "clock_ghz: " + ghz);
    y.replace(y.find("node: 22nm"), 10, "node: " + node);
    write(d + "/" + name + ".yaml", y);
    return run_cli({"run", "--arch", d + "/" + name + ".yaml", "--model", "gpt2", "--seq", "32",
                    "--layers", "0", "--no-accuracy", "--out", d + "/" + name});
  };
  const Result fast = variant("fast7", "5", "7nm");
  ASSERT_EQ(fast.code, 0) << fast.err;
  EXPECT_NE(fast.err.find("qarch run: warning: int8-baseline: clock_ghz 5 is not reachable by its "
                          "int8 PE at 7nm: the RTL PE int8_mac mapped on asap7"),
            std::string::npos)
      << fast.err;
  EXPECT_NE(fast.err.find(" GHz"), std::string::npos) << fast.err;
  const Result slow = variant("slow7", "0.5", "7nm");
  ASSERT_EQ(slow.code, 0) << slow.err;
  EXPECT_EQ(slow.err.find("warning"), std::string::npos) << slow.err;
  const Result fast22 = variant("fast22", "5", "22nm");
  ASSERT_EQ(fast22.code, 0) << fast22.err;
  EXPECT_EQ(fast22.err.find("warning"), std::string::npos) << fast22.err;
}

// QLLM: the architecture's activation format grows every linear GEMM's K by floor(0.05 K) (GPT-2:
// 768 -> 806, 3072 -> 3225) in run's gemms.csv, the shapes the simulator times (more cycles than
// the INT8 baseline with the same PE), assembly restores K, and attention GEMMs keep theirs.
TEST(RunCommands, QllmGemmsRunWithTheGrownReductionLength) {
  const std::string d = temp_dir("qllm");
  std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>> kc;  // arch: gemm
  for (const char* arch : {"int8", "qllm", "qllm_ca"}) {
    const Result r =
        run_cli({"run", "--arch", arch, "--model", "gpt2", "--seq", "32", "--layers", "0",
                 "--sample", "16", "--weight-rows", "64", "--out", d + "/" + arch});
    ASSERT_EQ(r.code, 0) << r.err;
    std::istringstream csv(slurp(d + "/" + arch + "/gemms.csv"));
    std::string line;
    std::getline(csv, line);
    std::vector<std::string> head;
    {
      std::istringstream hs(line);
      for (std::string c; std::getline(hs, c, ',');) head.push_back(c);
    }
    const auto col = [&](const std::string& name) {
      const auto it = std::find(head.begin(), head.end(), name);
      EXPECT_NE(it, head.end()) << name;
      return static_cast<size_t>(it - head.begin());
    };
    const size_t gi = col("gemm"), ki = col("k"), ci = col("cycles");
    while (std::getline(csv, line)) {
      std::vector<std::string> f;
      std::istringstream ls(line);
      for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
      ASSERT_GT(f.size(), std::max({gi, ki, ci})) << line;
      kc[arch][f[gi]] = {std::stoll(f[ki]), std::stoll(f[ci])};
    }
  }
  ASSERT_EQ(kc["int8"].size(), kc["qllm"].size());
  for (const auto& [gemm, base] : kc["int8"]) {
    SCOPED_TRACE(gemm);
    const int64_t k = base.first;
    const bool attention =
        gemm.find("scores") != std::string::npos || gemm.find("context") != std::string::npos;
    EXPECT_EQ(kc["qllm"][gemm].first, attention ? k : k + k / 20);  // floor(0.05 K), K % 20 = 8
    EXPECT_EQ(kc["qllm_ca"][gemm].first, k);
    if (!attention) {
      EXPECT_GT(kc["qllm"][gemm].second, base.second);
    }
  }
  EXPECT_EQ(kc["qllm"]["layers.0.mlp.down"].first, 3225);
  EXPECT_EQ(kc["qllm"]["layers.0.attn.qkv"].first, 806);
}

// Points computed on two threads give byte-identical report files to one thread, in the order
// the architectures were given; a bad --jobs is a usage error.
TEST(RunCommands, ConcurrentPointsGiveTheSameReport) {
  const std::string d = temp_dir("jobs");
  for (const char* jobs : {"1", "2"}) {
    const Result c = run_cli({"compare", "--archs", "int8,olive,mxfp4,gobo", "--model", "gpt2",
                              "--seq", "32", "--layers", "0", "--sample", "16", "--weight-rows",
                              "64", "--jobs", jobs, "--out", d + "/j" + jobs});
    ASSERT_EQ(c.code, 0) << c.err;
  }
  for (const char* f : {"report.json", "summary.csv", "gemms.csv", "index.html"})
    EXPECT_EQ(slurp(d + "/j1/" + f), slurp(d + "/j2/" + f)) << f;
  EXPECT_EQ(run_cli({"compare", "--archs", "int8", "--model", "gpt2", "--jobs", "0"}).code, 2);
}

// A batch far beyond any workload is a named error at once, not a silent multi-hour run.
TEST(RunCommands, HugeBatchIsAnError) {
  const Result r = run_cli({"run", "--arch", "int8", "--model", "gpt2", "--batch", "100000000",
                            "--no-accuracy", "--out", temp_dir("batch")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("batch: must be in [1, 1048576], got 100000000"), std::string::npos)
      << r.err;
}

// The terminal table widens each column to its widest value: at 70B-model scale the numbers of
// neighbouring columns must not run together (issue 15: "0.949582437806.21").
TEST(RunCommands, TableColumnsNeverRunTogether) {
  reports::PointResult p;
  p.id = "llama2-70b-point";
  p.arch = "a";
  p.act_format = p.weight_format = "int8";
  p.workload.name = "llama2-70b";
  p.rows = p.cols = 32;
  p.cycles = 949582437806ull;
  p.seconds = 1899.164875612;
  p.utilization = 0.949;
  p.energy_pj["dram"] = 1.23456789e15;
  p.area_mm2["pe_array"] = 0.798;
  p.has_accuracy = true;
  p.mean_qsnr_db = 19.23;
  std::ostringstream os;
  print_points(os, {p}, {0});
  std::istringstream lines(os.str());
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  auto fields = [](const std::string& s) {
    std::istringstream is(s);
    std::vector<std::string> v;
    for (std::string f; is >> f;) v.push_back(f);
    return v;
  };
  const auto r = fields(row);
  // point formats workload array cycles latency(2 words) util energy area qsnr *
  ASSERT_EQ(r.size(), 12u) << row;
  EXPECT_EQ(r[4], "949582437806");
  EXPECT_EQ(r[7], "0.949");
  EXPECT_EQ(r[8], "1234567890.00");
  EXPECT_EQ(r[11], "*");
}

TEST(RunCommands, RunFromATraceTimesItsGemmsAndReportsItsRecordedErrors) {
  const std::string d = temp_dir("trace");
  const Result t =
      run_cli({"trace", "--model", "gpt2", "--seq", "32", "--layers", "0", "--format", "olive4",
               "--sample", "16", "--weight-rows", "64", "--out", d + "/trace"});
  ASSERT_EQ(t.code, 0) << t.err;
  const Result r = run_cli({"run", "--arch", "olive", "--trace", d + "/trace", "--out", d + "/r"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json rep = nlohmann::json::parse(slurp(d + "/r/report.json"));
  const nlohmann::json index = nlohmann::json::parse(slurp(d + "/trace/trace.json"));
  const auto& gemms = rep["points"][0]["gemms"];
  ASSERT_EQ(gemms.size(), 6u);  // one GPT-2 layer: qkv, scores, context, out, up, down
  // The same GEMMs as a model run of the same workload, with the trace's recorded errors.
  ExploreCache cache;
  const reports::PointResult direct =
      run_point("d", resolve_arch("olive"), model_workload("gpt2", "prefill", 32, -1, 1, "0"),
                AccuracyOptions{false}, cache);
  ASSERT_EQ(direct.gemms.size(), gemms.size());
  for (size_t i = 0; i < gemms.size(); ++i) {
    EXPECT_EQ(gemms[i]["gemm"], direct.gemms[i].gemm);
    EXPECT_EQ(gemms[i]["cycles"].get<uint64_t>(), direct.gemms[i].cycles);
    EXPECT_TRUE(gemms[i]["has_error"].get<bool>());
  }
  // Another architecture's formats do not match the trace's recorded accuracy.
  const Result bad = run_cli({"run", "--arch", "int8", "--trace", d + "/trace", "--out", d + "/b"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("was quantized with activations olive4"), std::string::npos) << bad.err;
  // A damaged operand file (one flipped byte) is refused, with or without accuracy.
  std::string first_bin;
  for (const auto& e : std::filesystem::directory_iterator(d + "/trace/gemms"))
    if (e.path().extension() == ".bin" && (first_bin.empty() || e.path().string() < first_bin))
      first_bin = e.path().string();
  ASSERT_FALSE(first_bin.empty());
  std::string bytes = slurp(first_bin);
  bytes[bytes.size() / 2] ^= 0x04;
  std::ofstream(first_bin, std::ios::binary) << bytes;
  for (const char* acc : {"", "--no-accuracy"}) {
    std::vector<std::string> args = {"run",        "--arch", "olive", "--trace",
                                     d + "/trace", "--out",  d + "/c"};
    if (*acc) args.push_back(acc);
    const Result c = run_cli(args);
    EXPECT_EQ(c.code, 2) << acc;
    EXPECT_NE(c.err.find("checksum mismatch"), std::string::npos) << c.err;
  }
}

TEST(RunCommands, DemoRunsSevenAcceleratorsOnBothPhasesAndServing) {
  // The README's main job, shrunk to GPT-2 and short sequences so it runs in a unit test.
  const std::string d = temp_dir("demo");
  const Result r = run_cli({"demo", "--model", "gpt2", "--seq", "32", "--ctx", "31", "--sample",
                            "16", "--weight-rows", "64", "--serve-prompt", "16", "--serve-gen", "4",
                            "--out", d + "/demo"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json rep = nlohmann::json::parse(slurp(d + "/demo/report.json"));
  ASSERT_EQ(rep["points"].size(), 21u);
  std::set<std::string> pes;
  int serving = 0;
  for (const auto& p : rep["points"]) {
    pes.insert(p["pe"].get<std::string>());
    EXPECT_TRUE(p["has_accuracy"].get<bool>()) << p["id"];
    EXPECT_GT(p["cycles"].get<uint64_t>(), 0u);
    if (p.contains("serve")) {
      ++serving;
      EXPECT_GT(p["serve"]["ttft_s"].get<double>(), 0.0) << p["id"];
      EXPECT_GT(p["serve"]["tpot_mean_s"].get<double>(), 0.0) << p["id"];
    }
  }
  EXPECT_EQ(serving, 7);
  // --serve-gen 0 leaves the serving point out; a negative one is an error.
  const Result two =
      run_cli({"demo", "--model", "gpt2", "--seq", "32", "--ctx", "31", "--sample", "16",
               "--weight-rows", "64", "--serve-gen", "0", "--out", d + "/demo2"});
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(d + "/demo2/report.json"))["points"].size(), 14u);
  EXPECT_EQ(run_cli({"demo", "--serve-gen", "-1", "--out", d + "/demo3"}).code, 2);
  EXPECT_EQ(pes,
            (std::set<std::string>{"int8", "olive4", "mx", "amxfp4", "bfp", "gobo", "olaccel"}));
  EXPECT_TRUE(exists(d + "/demo/index.html"));
}

}  // namespace
}  // namespace qarch::sim
