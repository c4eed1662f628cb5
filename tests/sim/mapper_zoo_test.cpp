// The mapper on zoo GEMMs against today's tiler (before the mapper, commit 6ec457d) and the
// traffic bounds. For 102 GEMMs of BERT-base, GPT2-XL, LLaMA-2-7B and OPT-6.7B (layer 0, prefill
// 2048 / 512 and decode at the default context) on the built-in int8, olive and mxfp4
// accelerators, the table below holds the DRAM bytes (read + write) and cycles that tiler's
// simulation reported (qarch run --no-accuracy at 6ec457d). With the technology table's costs
// and the default objective (EDP), the mapper's loop nest must never move more DRAM bytes than
// that, must move at least the compulsory traffic and the communication lower bound, and the
// mapper's exact byte count must be what the simulator moves. The test prints the ratios.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "qarch/explore/explore.h"
#include "qarch/models/simulator.h"
#include "qarch/reports/tech.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

struct ZooGemm {
  const char* arch;
  const char* what;
  int64_t m, n, k, batch;
  uint64_t old_dram_bytes;
  uint64_t old_cycles;
};

const ZooGemm kZoo[] = {
    {"int8", "bert-base-prefill qkv", 512, 2304, 768, 1, 11207304, 994789},
    {"int8", "bert-base-prefill scores", 512, 512, 64, 12, 7471968, 485893},
    {"int8", "bert-base-prefill context", 512, 64, 512, 12, 4326192, 233221},
    {"int8", "bert-base-prefill out", 512, 768, 768, 1, 3735768, 332773},
    {"int8", "bert-base-prefill up", 512, 3072, 768, 1, 14943072, 1325797},
    {"int8", "bert-base-prefill down", 512, 768, 3072, 1, 57412608, 1253509},
    {"int8", "gpt2-xl-decode qkv", 1, 4800, 1600, 1, 7691504, 255014},
    {"int8", "gpt2-xl-decode scores", 1, 1024, 64, 25, 1692100, 126567},
    {"int8", "gpt2-xl-decode context", 1, 64, 1024, 25, 1667500, 56265},
    {"int8", "gpt2-xl-decode out", 1, 1600, 1600, 1, 2564904, 85614},
    {"int8", "gpt2-xl-decode up", 1, 6400, 1600, 1, 10254804, 339714},
    {"int8", "gpt2-xl-decode down", 1, 1600, 6400, 1, 10564000, 330351},
    {"int8", "gpt2-xl-prefill qkv", 1024, 4800, 1600, 1, 140400300, 8132933},
    {"int8", "gpt2-xl-prefill scores", 1024, 1024, 64, 25, 57350600, 4045429},
    {"int8", "gpt2-xl-prefill context", 1024, 64, 1024, 25, 31132900, 1789957},
    {"int8", "gpt2-xl-prefill out", 1024, 1600, 1600, 1, 46800100, 2712133},
    {"int8", "gpt2-xl-prefill up", 1024, 6400, 1600, 1, 187200400, 10843333},
    {"int8", "gpt2-xl-prefill down", 1024, 1600, 6400, 1, 494822400, 10843333},
    {"int8", "llama2-7b-decode qkv", 1, 12288, 4096, 1, 51935232, 1645701},
    {"int8", "llama2-7b-decode scores", 1, 2048, 128, 32, 8525952, 454888},
    {"int8", "llama2-7b-decode context", 1, 128, 2048, 32, 8462976, 274821},
    {"int8", "llama2-7b-decode out", 1, 4096, 4096, 1, 17311744, 548997},
    {"int8", "llama2-7b-decode gate", 1, 11008, 4096, 1, 46525312, 1474341},
    {"int8", "llama2-7b-decode down", 1, 4096, 11008, 1, 46510080, 1457984},
    {"int8", "llama2-7b-prefill qkv", 2048, 12288, 4096, 1, 4882563072, 109905029},
    {"int8", "llama2-7b-prefill scores", 2048, 2048, 128, 32, 310411776, 29098917},
    {"int8", "llama2-7b-prefill context", 2048, 128, 2048, 32, 822149120, 18318469},
    {"int8", "llama2-7b-prefill out", 2048, 4096, 4096, 1, 1627521024, 36635781},
    {"int8", "llama2-7b-prefill gate", 2048, 11008, 4096, 1, 4373962752, 98456709},
    {"int8", "llama2-7b-prefill down", 2048, 4096, 11008, 1, 4345561088, 96339429},
    {"int8", "opt-6.7b-decode up", 1, 16384, 4096, 1, 69246976, 2194053},
    {"int8", "opt-6.7b-decode down", 1, 4096, 16384, 1, 69222400, 2194053},
    {"int8", "opt-6.7b-prefill up", 2048, 16384, 4096, 1, 6510084096, 146539653},
    {"int8", "opt-6.7b-prefill down", 2048, 4096, 16384, 1, 6459752448, 146539653},
    {"mxfp4", "bert-base-prefill qkv", 512, 2304, 768, 1, 5179392, 994604},
    {"mxfp4", "bert-base-prefill scores", 512, 512, 64, 12, 6709248, 485877},
    {"mxfp4", "bert-base-prefill context", 512, 64, 512, 12, 2666496, 233140},
    {"mxfp4", "bert-base-prefill out", 512, 768, 768, 1, 1726464, 332588},
    {"mxfp4", "bert-base-prefill up", 512, 3072, 768, 1, 6905856, 1325612},
    {"mxfp4", "bert-base-prefill down", 512, 768, 3072, 1, 12066816, 1217508},
    {"mxfp4", "gpt2-xl-decode qkv", 1, 4800, 1600, 1, 4090450, 255058},
    {"mxfp4", "gpt2-xl-decode scores", 1, 1024, 64, 25, 922450, 126537},
    {"mxfp4", "gpt2-xl-decode context", 1, 64, 1024, 25, 887200, 56141},
    {"mxfp4", "gpt2-xl-decode out", 1, 1600, 1600, 1, 1364050, 85658},
    {"mxfp4", "gpt2-xl-decode up", 1, 6400, 1600, 1, 5453650, 339759},
    {"mxfp4", "gpt2-xl-decode down", 1, 1600, 6400, 1, 5446600, 325678},
    {"mxfp4", "gpt2-xl-prefill qkv", 1024, 4800, 1600, 1, 46985600, 8133064},
    {"mxfp4", "gpt2-xl-prefill scores", 1024, 1024, 64, 25, 55040000, 4045301},
    {"mxfp4", "gpt2-xl-prefill context", 1024, 64, 1024, 25, 18073600, 1789508},
    {"mxfp4", "gpt2-xl-prefill out", 1024, 1600, 1600, 1, 15952000, 2712264},
    {"mxfp4", "gpt2-xl-prefill up", 1024, 6400, 1600, 1, 62067200, 10843528},
    {"mxfp4", "gpt2-xl-prefill down", 1024, 1600, 6400, 1, 264396800, 10542632},
    {"mxfp4", "llama2-7b-decode qkv", 1, 12288, 4096, 1, 26765440, 1609622},
    {"mxfp4", "llama2-7b-decode scores", 1, 2048, 128, 32, 4589696, 454897},
    {"mxfp4", "llama2-7b-decode context", 1, 128, 2048, 32, 4499456, 274557},
    {"mxfp4", "llama2-7b-decode out", 1, 4096, 4096, 1, 8923264, 536982},
    {"mxfp4", "llama2-7b-decode gate", 1, 11008, 4096, 1, 23977600, 1442022},
    {"mxfp4", "llama2-7b-decode down", 1, 4096, 11008, 1, 24710144, 1433966},
    {"mxfp4", "llama2-7b-prefill qkv", 2048, 12288, 4096, 1, 2617245696, 105284804},
    {"mxfp4", "llama2-7b-prefill scores", 2048, 2048, 128, 32, 290717696, 29098629},
    {"mxfp4", "llama2-7b-prefill context", 2048, 128, 2048, 32, 163840000, 17548484},
    {"mxfp4", "llama2-7b-prefill out", 2048, 4096, 4096, 1, 872415232, 35095748},
    {"mxfp4", "llama2-7b-prefill gate", 2048, 11008, 4096, 1, 2344615936, 94317764},
    {"mxfp4", "llama2-7b-prefill down", 2048, 4096, 11008, 1, 2316304384, 93259322},
    {"mxfp4", "opt-6.7b-decode up", 1, 16384, 4096, 1, 35686528, 2145942},
    {"mxfp4", "opt-6.7b-decode down", 1, 4096, 16384, 1, 36773888, 2145959},
    {"mxfp4", "opt-6.7b-prefill up", 2048, 16384, 4096, 1, 3489660928, 140379332},
    {"mxfp4", "opt-6.7b-prefill down", 2048, 4096, 16384, 1, 3439329280, 140379332},
    {"olive", "bert-base-prefill qkv", 512, 2304, 768, 1, 5013828, 994533},
    {"olive", "bert-base-prefill scores", 512, 512, 64, 12, 6685488, 485869},
    {"olive", "bert-base-prefill context", 512, 64, 512, 12, 2556336, 233125},
    {"olive", "bert-base-prefill out", 512, 768, 768, 1, 1671276, 332517},
    {"olive", "bert-base-prefill up", 512, 3072, 768, 1, 6685104, 1325541},
    {"olive", "bert-base-prefill down", 512, 768, 3072, 1, 11404080, 1217413},
    {"olive", "gpt2-xl-decode qkv", 1, 4800, 1600, 1, 3850556, 255008},
    {"olive", "gpt2-xl-decode scores", 1, 1024, 64, 25, 872100, 126535},
    {"olive", "gpt2-xl-decode context", 1, 64, 1024, 25, 835500, 56133},
    {"olive", "gpt2-xl-decode out", 1, 1600, 1600, 1, 1284056, 85608},
    {"olive", "gpt2-xl-decode up", 1, 6400, 1600, 1, 5133804, 339709},
    {"olive", "gpt2-xl-decode down", 1, 1600, 6400, 1, 5126604, 325626},
    {"olive", "gpt2-xl-prefill qkv", 1024, 4800, 1600, 1, 44802584, 8132965},
    {"olive", "gpt2-xl-prefill scores", 1024, 1024, 64, 25, 54893000, 4045293},
    {"olive", "gpt2-xl-prefill context", 1024, 64, 1024, 25, 17204900, 1789477},
    {"olive", "gpt2-xl-prefill out", 1024, 1600, 1600, 1, 15207284, 2712165},
    {"olive", "gpt2-xl-prefill up", 1024, 6400, 1600, 1, 59190600, 10843429},
    {"olive", "gpt2-xl-prefill down", 1024, 1600, 6400, 1, 249049600, 10542533},
    {"olive", "llama2-7b-decode qkv", 1, 12288, 4096, 1, 25193988, 1609589},
    {"olive", "llama2-7b-decode scores", 1, 2048, 128, 32, 4328576, 454889},
    {"olive", "llama2-7b-decode context", 1, 128, 2048, 32, 4235904, 274541},
    {"olive", "llama2-7b-decode out", 1, 4096, 4096, 1, 8399364, 536949},
    {"olive", "llama2-7b-decode gate", 1, 11008, 4096, 1, 22569828, 1441989},
    {"olive", "llama2-7b-decode down", 1, 4096, 11008, 1, 23259136, 1433920},
    {"olive", "llama2-7b-prefill qkv", 2048, 12288, 4096, 1, 2466447360, 105284741},
    {"olive", "llama2-7b-prefill scores", 2048, 2048, 128, 32, 289440256, 29098613},
    {"olive", "llama2-7b-prefill context", 2048, 128, 2048, 32, 155205888, 17548421},
    {"olive", "llama2-7b-prefill out", 2048, 4096, 4096, 1, 822149120, 35095685},
    {"olive", "llama2-7b-prefill gate", 2048, 11008, 4096, 1, 2209525760, 94317701},
    {"olive", "llama2-7b-prefill down", 2048, 4096, 11008, 1, 2181169152, 93259237},
    {"olive", "opt-6.7b-decode up", 1, 16384, 4096, 1, 33591300, 2145909},
    {"olive", "opt-6.7b-decode down", 1, 4096, 16384, 1, 34615296, 2145925},
    {"olive", "opt-6.7b-prefill up", 2048, 16384, 4096, 1, 3288596480, 140379269},
    {"olive", "opt-6.7b-prefill down", 2048, 4096, 16384, 1, 3238264832, 140379269},
};

TEST(MapperZoo, NeverWorseThanTheOldTilerAndWithinTheBounds) {
  double log_gain = 0, log_cycles = 0, worst_vs_compulsory = 0;
  int n = 0, better = 0;
  for (const ZooGemm& z : kZoo) {
    SCOPED_TRACE(std::string(z.arch) + " " + z.what);
    const ArchSpec a = resolve_arch(z.arch);
    const reports::Technology tech = reports::load_technology(a.tech_table, a.tech_node);
    models::GemmJob j;
    j.name = z.what;
    j.m = z.m, j.n = z.n, j.k = z.k, j.batch = z.batch;
    j.x_format = a.act_format;
    j.w_format = a.weight_format;
    models::SimOptions o;
    o.functional = false;
    o.costs = reports::mapper_costs(a.arch, j.x_format, j.w_format, tech);
    const models::SimResult r = models::simulate(a.arch, {j}, o);
    const models::JobStats& s = r.stats.jobs[0];
    const uint64_t bytes = r.stats.dram.read_bytes + r.stats.dram.write_bytes;
    EXPECT_LE(bytes, z.old_dram_bytes) << s.mapping;
    EXPECT_GE(bytes, s.compulsory_bytes);
    EXPECT_GE(bytes, s.traffic_lower_bound);
    EXPECT_EQ(bytes, s.estimate.dram_total()) << s.mapping;
    const double gain = double(z.old_dram_bytes) / double(bytes);
    const double vs_comp = double(bytes) / double(s.compulsory_bytes);
    std::printf(
        "%-6s %-32s %6lld x %6lld x %6lld x %3lld  old/new DRAM %6.2f  cycles new/old "
        "%5.3f  x compulsory %6.2f  x bound %5.2f  %s\n",
        z.arch, z.what, (long long)z.m, (long long)z.n, (long long)z.k, (long long)z.batch, gain,
        double(r.stats.cycles) / double(z.old_cycles), vs_comp,
        double(bytes) / double(s.traffic_lower_bound), s.mapping.c_str());
    log_gain += std::log(gain);
    log_cycles += std::log(double(r.stats.cycles) / double(z.old_cycles));
    worst_vs_compulsory = std::max(worst_vs_compulsory, vs_comp);
    better += gain > 1.001;
    ++n;
  }
  std::printf(
      "%d GEMMs: geomean DRAM old/new %.3f, cycles new/old %.3f, %d moved less, worst "
      "%.2f x compulsory\n",
      n, std::exp(log_gain / n), std::exp(log_cycles / n), better, worst_vs_compulsory);
  EXPECT_GE(n, 20);
}

}  // namespace
}  // namespace qarch::sim

namespace qarch::sim {
namespace {

// Decode of LLaMA-2-7B layer 0 on the int8 accelerator (32 x 32 output-stationary): at 8 GB/s
// the token sits at the DRAM bound (the weights and KV cache read once), at 64 GB/s the array's
// M = 1 throughput (32 MACs per cycle: one PE row) decides, and a batch of 8 moves the time per
// token back toward the DRAM bound (the weights are read once for all 8).
TEST(MapperZoo, DecodeRooflineAtOneAndEightTokens) {
  auto run = [](double gbps, int64_t batch) {
    const ArchSpec a =
        resolve_arch("int8", {{"dram.bandwidth_gb_per_s", std::to_string(static_cast<int>(gbps))}});
    const WorkloadSpec w = model_workload("llama2-7b", "decode", -1, 2047, batch, "0");
    AccuracyOptions acc;
    acc.enabled = false;
    ExploreCache cache;
    return run_point("p", a, w, acc, cache);
  };
  const reports::PointResult slow = run(8, 1);
  const double bytes = static_cast<double>(slow.dram_bytes());
  const double dram_s = bytes / 8e9;
  EXPECT_GE(slow.seconds, dram_s);
  EXPECT_LE(slow.seconds, 1.01 * dram_s) << slow.seconds << " s against " << dram_s;
  // Every GEMM at its compulsory traffic: weights once.
  for (const reports::GemmRow& g : slow.gemms)
    EXPECT_LE(g.traffic_ratio(), 1.01) << g.gemm << " " << g.mapping;

  const reports::PointResult fast = run(64, 1);
  const double array_bound_cycles = static_cast<double>(fast.macs) / 32.0;
  EXPECT_GE(static_cast<double>(fast.cycles), array_bound_cycles);
  EXPECT_LE(static_cast<double>(fast.cycles), 1.10 * array_bound_cycles);
  EXPECT_GT(fast.seconds, 3 * static_cast<double>(fast.dram_bytes()) / 64e9);  // not DRAM-bound

  const reports::PointResult batch8 = run(64, 8);
  const double per_token_1 = fast.seconds, per_token_8 = batch8.seconds / 8;
  EXPECT_LT(per_token_8, per_token_1 / 4);
  EXPECT_GT(batch8.utilization, 4 * fast.utilization);
}

}  // namespace
}  // namespace qarch::sim
