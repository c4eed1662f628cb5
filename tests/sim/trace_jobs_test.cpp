// From a workloads/ trace to the simulator: a tiny model's prefill trace is written and read
// back; its GEMMs become timing jobs with their full shapes and formats, and the stored operands
// run functionally through the simulated hardware, bit-identical to quant's reference.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "qarch/common/error.h"
#include "qarch/explore/trace_jobs.h"
#include "qarch/models/simulator.h"
#include "qarch/workloads/trace_builder.h"
#include "test_util.h"

namespace qarch::models {
namespace {

using explore::functional_job_from_trace;
using explore::jobs_from_trace;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/qarch_models_trace_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A small decoder (hidden 64, 4 heads of 16, 2 KV heads, FFN 96, vocab 80, 2 layers).
workloads::ModelConfig tiny() {
  return workloads::parse_model_yaml(R"(name: tiny
source: test
kind: decoder
hidden_size: 64
num_layers: 2
num_heads: 4
num_kv_heads: 2
intermediate_size: 96
ffn: gated
activation: silu
norm: rmsnorm
position: rotary
vocab_size: 80
max_positions: 128
)",
                                     "tiny.yaml");
}

std::string write_tiny_trace(const std::string& dir, const std::string& fmt, bool shape_only) {
  workloads::WorkloadParams p;
  p.phase = workloads::Phase::kPrefill;
  p.seq = 24;
  workloads::TraceOptions o;
  const workloads::FormatChoice c = workloads::resolve_formats(fmt, "", "");
  o.act_format = c.act;
  o.weight_format = c.weight;
  o.shape_only = shape_only;
  o.seed = 3;
  workloads::write_trace(workloads::TraceBuilder(tiny(), p, o), dir);
  return dir;
}

struct FormatOnPe {
  const char* fmt;
  const char* pe;
};

TEST(TraceJobs, TimingJobsCarryShapesAndFormats) {
  TempDir tmp;
  const workloads::TraceReader t(write_tiny_trace(tmp.path, "olive4", true));
  const std::vector<GemmJob> jobs = jobs_from_trace(t);
  ASSERT_EQ(jobs.size(), t.gemms().size());
  ASSERT_FALSE(jobs.empty());
  uint64_t macs = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& op = t.gemms()[i].op;
    EXPECT_EQ(jobs[i].name, op.name);
    EXPECT_EQ(jobs[i].m, op.m);
    EXPECT_EQ(jobs[i].n, op.n);
    EXPECT_EQ(jobs[i].k, op.k);
    EXPECT_EQ(jobs[i].batch, op.batch);
    EXPECT_EQ(jobs[i].x_format, t.gemms()[i].x.format);
    EXPECT_TRUE(jobs[i].x.empty());
    macs += static_cast<uint64_t>(op.macs());
  }
  ArchConfig a = test::small_arch("olive4", Dataflow::kOutputStationary, 8, 8);
  const SimResult r = simulate(a, jobs);
  EXPECT_EQ(r.stats.array.macs, macs);
  EXPECT_EQ(r.stats.jobs.size(), jobs.size());
  EXPECT_GT(r.stats.cycles, 0u);
  // A shape-only trace has no operands to run functionally.
  EXPECT_THROW(functional_job_from_trace(t, 0), qarch::Error);
}

TEST(TraceJobs, StoredOperandsRunBitExact) {
  for (const FormatOnPe s : {FormatOnPe{"int8", "int8"}, FormatOnPe{"olive4", "olive4"},
                             FormatOnPe{"mxfp4", "mx"}, FormatOnPe{"gobo", "gobo"}}) {
    TempDir tmp;
    const workloads::TraceReader t(write_tiny_trace(tmp.path, s.fmt, false));
    for (Dataflow df : {Dataflow::kOutputStationary, Dataflow::kWeightStationary}) {
      const ArchConfig a = test::small_arch(s.pe, df, 8, 8);
      for (size_t i = 0; i < t.gemms().size(); ++i) {
        const GemmJob j = functional_job_from_trace(t, i);
        SCOPED_TRACE(std::string(s.fmt) + " " + dataflow_name(df) + " " + j.name);
        const SimResult r = simulate(a, {j});
        ASSERT_EQ(r.outputs[0].size(), 1u);
        EXPECT_TRUE(
            test::same_bits(r.outputs[0][0], test::reference(*j.x[0].encoded, *j.w[0].encoded)));
      }
    }
  }
}

}  // namespace
}  // namespace qarch::models
