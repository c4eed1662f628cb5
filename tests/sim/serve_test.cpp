// Whole-model serving (explore/serve.h, `qarch run --phase serve`): the decode roofline on three
// zoo models, the schedule's bounds, the request's bookkeeping, Mixtral's routing, the report round
// trip, and the errors for impossible requests.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "qarch/common/error.h"
#include "qarch/explore/arch_config.h"
#include "qarch/explore/explore.h"
#include "qarch/explore/serve.h"
#include "qarch/reports/writers.h"
#include "qarch/workloads/model.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

// A bandwidth-bound accelerator: 128 x 128 int8 at 1 GHz behind 16 GB/s of DRAM.
const char* kBwBound = R"(name: bw-bound
clock_ghz: 1
formats: {act: int8, weight: int8}
array: {rows: 128, cols: 128, dataflow: os, pe: int8}
dram: {bandwidth_gb_per_s: 16, capacity_gib: 64}
buffers:
  input: {size_kib: 512}
  weight: {size_kib: 1024}
  output: {size_kib: 512}
)";

reports::PointResult serve(const ArchSpec& a, const std::string& model, int64_t prompt, int64_t gen,
                           int64_t batch, bool overlap = true, int samples = 0) {
  ServeSpec s;
  s.gen = gen;
  s.samples = samples;
  s.overlap = overlap;
  WorkloadSpec w = serve_workload(model, prompt, batch, s);
  AccuracyOptions acc;
  acc.enabled = false;
  ExploreCache cache;
  return run_point(a.arch.name, a, w, acc, cache);
}

// Decode at batch 1 on a bandwidth-bound accelerator streams every weight and the whole KV
// cache once per token: TPOT is within 5% of (weight bytes + KV bytes read) / bandwidth.
TEST(Serve, DecodeFollowsTheRoofline) {
  const ArchSpec a = parse_arch(kBwBound, "bw.yaml");
  for (const char* model : {"llama2-7b", "opt-6.7b", "mistral-7b"}) {
    SCOPED_TRACE(model);
    const reports::PointResult p = serve(a, model, 256, 3, 1);
    ASSERT_TRUE(p.has_serve);
    const reports::ServeResult& s = p.serve;
    ASSERT_EQ(s.tpot_s.size(), 3u);
    const workloads::ModelConfig m = workloads::load_model(model);
    for (int64_t t = 0; t < 3; ++t) {
      const double kv_read = s.kv_bytes_per_token * static_cast<double>(256 + t);
      const double ideal = (s.weight_bytes + kv_read) / 16e9;
      EXPECT_NEAR(s.tpot_s[static_cast<size_t>(t)] / ideal, 1.0, 0.05) << "step " << t;
    }
    // int8 weights: one byte per parameter (plus per-tensor scales).
    EXPECT_NEAR(s.weight_bytes, static_cast<double>(m.linear_params()), 1e-3 * s.weight_bytes);
    EXPECT_DOUBLE_EQ(s.kv_bytes_per_token,
                     static_cast<double>(m.layers * 2 * m.kv_dim()) *
                         (s.kv_bytes_per_token / static_cast<double>(m.layers * 2 * m.kv_dim())));
    EXPECT_NEAR(s.kv_bytes_per_token, static_cast<double>(m.layers * 2 * m.kv_dim()),
                0.01 * s.kv_bytes_per_token);
  }
}

// Serialized, the prefill takes exactly the sum of its operations; overlapped, never longer and
// never shorter than its busiest resource. Totals add up.
TEST(Serve, ScheduleBoundsAndTotals) {
  const ArchSpec a = parse_arch(kBwBound, "bw.yaml");
  const reports::PointResult serial = serve(a, "gpt2", 128, 4, 2, false, 2);
  const reports::PointResult over = serve(a, "gpt2", 128, 4, 2, true, 2);
  const reports::ServeResult& s = serial.serve;
  const reports::ServeResult& o = over.serve;
  EXPECT_NEAR(s.ttft_s, s.prefill_serial_s, 1e-9 * s.ttft_s);
  EXPECT_NEAR(o.prefill_serial_s, s.prefill_serial_s, 1e-9 * s.ttft_s);
  EXPECT_LE(o.ttft_s, s.ttft_s * (1 + 1e-12));
  EXPECT_GE(o.ttft_s, o.prefill_busiest_s * (1 - 1e-12));
  EXPECT_LT(o.prefill_busiest_s, o.prefill_serial_s);
  // The request: TTFT + the decode steps; tokens/s and J/token from them.
  double decode = 0;
  for (double t : o.tpot_s) decode += t;
  EXPECT_NEAR(o.total_s, o.ttft_s + decode, 1e-9 * o.total_s);
  EXPECT_NEAR(o.tpot_mean_s, decode / 4, 1e-12);
  EXPECT_NEAR(o.tokens_per_s, 2 * 4 / o.total_s, 1e-9 * o.tokens_per_s);
  EXPECT_NEAR(o.j_per_token, o.energy_pj * 1e-12 / 8, 1e-12);
  EXPECT_NEAR(o.energy_pj, over.energy_total_pj(), 1e-6 * o.energy_pj);
  EXPECT_NEAR(o.prefill_energy_pj + o.decode_energy_pj, o.energy_pj, 1e-6 * o.energy_pj);
  EXPECT_DOUBLE_EQ(over.seconds, o.total_s);
  for (const char* c : {"gemm", "vector", "quantizer", "kv"}) {
    ASSERT_TRUE(o.by_component.count(c)) << c;
    EXPECT_GT(o.by_component.at(c).seconds, 0) << c;
    EXPECT_GT(o.by_component.at(c).energy_pj, 0) << c;
  }
  for (const char* op :
       {"qkv", "scores", "softmax", "layernorm", "gelu_new", "quantize", "kv_write"})
    EXPECT_TRUE(o.by_operator.count(op)) << op;
  // Layer 0's timeline: in order on each resource, inside the prefill.
  ASSERT_FALSE(o.timeline.empty());
  for (const reports::ScheduleEntry& e : o.timeline) {
    EXPECT_LE(e.start_s, e.end_s);
    EXPECT_LE(e.end_s, o.ttft_s * (1 + 1e-12));
  }
  // Interpolated steps lie between the simulated ones (attention grows with the context).
  EXPECT_EQ(o.decode_samples, 2);
  EXPECT_LE(o.tpot_s.front(), o.tpot_s.back());
  EXPECT_GE(o.tpot_s[1], o.tpot_s.front());
  EXPECT_LE(o.tpot_s[1], o.tpot_s.back());
  // KV peak: batch x (prompt + gen) tokens.
  EXPECT_DOUBLE_EQ(o.kv_peak_bytes, o.kv_bytes_per_token * 2 * (128 + 4));
}

// Causal masking skips about half of the prefill's score and context work.
TEST(Serve, CausalSkipHalvesAttention) {
  const ArchSpec a = parse_arch(kBwBound, "bw.yaml");
  ServeSpec s;
  s.gen = 1;
  AccuracyOptions acc;
  acc.enabled = false;
  ExploreCache cache;
  WorkloadSpec w = serve_workload("gpt2", 1000, 1, s);
  const reports::PointResult skip = run_point("a", a, w, acc, cache);
  w.serve_spec.causal_skip = false;
  const reports::PointResult full = run_point("a", a, w, acc, cache);
  const double r =
      skip.serve.by_operator.at("scores").seconds / full.serve.by_operator.at("scores").seconds;
  // 8 query tiles of 128 (the last one partial) against 8 key tiles: 36 of 64 tiles (the one decode
  // step's scores, the same in both runs, move the ratio slightly up).
  EXPECT_GT(r, 36.0 / 64.0);
  EXPECT_LT(r, 36.0 / 64.0 + 0.02);
}

// Mixtral's expert routing runs in serve mode, and the format of the KV cache can differ from
// the activations'.
TEST(Serve, MixtralAndAKvFormat) {
  ArchSpec a = parse_arch(kBwBound, "bw.yaml");
  const reports::PointResult p = serve(a, "mixtral-8x7b", 16, 2, 1);
  EXPECT_GT(p.serve.by_operator.count("moe_topk"), 0u);
  EXPECT_GT(p.serve.tokens_per_s, 0);
  const ArchSpec kv4 = parse_arch(kBwBound, "bw.yaml", {{"formats.kv", "int4"}});
  EXPECT_EQ(kv4.kv(), "int4:clip=max:per=tensor:round=even:sym=true");
  const reports::PointResult q = serve(kv4, "gpt2", 64, 2, 1);
  const reports::PointResult r = serve(a, "gpt2", 64, 2, 1);
  EXPECT_NEAR(q.serve.kv_bytes_per_token * 2, r.serve.kv_bytes_per_token,
              0.01 * r.serve.kv_bytes_per_token);
}

TEST(Serve, ReportRoundTripAndPage) {
  const ArchSpec a = parse_arch(kBwBound, "bw.yaml");
  const reports::PointResult p = serve(a, "gpt2", 32, 2, 1);
  nlohmann::json j = p;
  const reports::PointResult back = j.get<reports::PointResult>();
  ASSERT_TRUE(back.has_serve);
  EXPECT_EQ(nlohmann::json(back).dump(), j.dump());
  reports::Report r;
  r.points = {p};
  const std::string html = reports::render_html(r);
  EXPECT_NE(html.find("<h2>Serving</h2>"), std::string::npos);
  EXPECT_NE(html.find("TTFT"), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"timeline\""), std::string::npos);
}

TEST(Serve, ImpossibleRequestsAreErrors) {
  ArchSpec a = parse_arch(kBwBound, "bw.yaml", {{"dram.capacity_gib", "4"}});
  try {
    serve(a, "llama2-7b", 2048, 256, 8);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the KV cache does not fit in DRAM"), std::string::npos)
        << e.what();
  }
  a = parse_arch(kBwBound, "bw.yaml");
  ServeSpec s;
  s.gen = 4000;
  EXPECT_THROW(
      {
        try {
          serve_workload("llama2-7b", 2048, 1, s);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("exceeds the model's context"), std::string::npos)
              << e.what();
          throw;
        }
      },
      Error);
  s.gen = 0;
  EXPECT_THROW(serve_workload("llama2-7b", 16, 1, s), Error);
  s.gen = 4;
  EXPECT_THROW(serve(a, "bert-base", 16, 4, 1), Error);
  try {
    parse_arch(kBwBound, "bw.yaml", {{"vector.lanes", "0"}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vector.lanes"), std::string::npos) << e.what();
  }
  // The command line: serve takes --prompt/--gen, the whole model.
  const auto c = testing::run_cli({"run", "--arch", "int8", "--model", "gpt2", "--phase", "serve",
                                   "--seq", "16", "--out", "/tmp/never"});
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.err.find("--phase serve takes --prompt and --gen"), std::string::npos) << c.err;
  const auto l = testing::run_cli({"run", "--arch", "int8", "--model", "gpt2", "--phase", "serve",
                                   "--layers", "0", "--out", "/tmp/never"});
  EXPECT_NE(l.err.find("--layers must be all"), std::string::npos) << l.err;
}

}  // namespace
}  // namespace qarch::sim
