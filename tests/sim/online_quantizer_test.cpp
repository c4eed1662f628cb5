// The online quantizer inside the model (issue 12's functional check): a traced layer of a small
// decoder runs functionally through the simulated array; each GEMM's finished outputs leave it
// in the mapping's tile order, the epilogue rounds them to FP16, and the online quantizer
// (models/online_quantizer.h) encodes them as its format's encode scope allows. What the next
// operator reads must equal quant's encode of the whole FP16 output tensor bit for bit, for a
// per-block format (MXFP4), a per-tensor scale calibrated offline (OliVe), per-tensor scales
// that need a max pass (INT8, NVFP4's tensor scale), per-token INT8 and DGQ's row scale.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "qarch/common/error.h"
#include "qarch/explore/trace_jobs.h"
#include "qarch/models/online_quantizer.h"
#include "qarch/models/simulator.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/fp_element.h"
#include "qarch/workloads/trace_builder.h"
#include "test_util.h"

namespace qarch::models {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/qarch_online_quant_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A small decoder (hidden 96, 4 heads, FFN 160): widths that are not multiples of the array or
// of every block size, so blocks straddle tiles.
workloads::ModelConfig small_decoder() {
  return workloads::parse_model_yaml(R"(name: small
source: test
kind: decoder
hidden_size: 96
num_layers: 1
num_heads: 4
num_kv_heads: 4
intermediate_size: 160
ffn: gated
activation: silu
norm: rmsnorm
position: rotary
vocab_size: 80
max_positions: 128
)",
                                     "small.yaml");
}

struct Case {
  const char* act;     // activation format (the quantizer's)
  const char* weight;  // weight format
  const char* pe;
  quant::EncodeScope scope;
};

TEST(OnlineQuantizer, OutputsInsideTheModelEqualQuantsEncode) {
  const Case cases[] = {
      {"mxfp4", "mxfp4", "mx", quant::EncodeScope::kSegment},
      {"olive4", "olive4", "olive4", quant::EncodeScope::kTensor},
      {"int8", "int8", "int8", quant::EncodeScope::kTensor},
      {"int8:per=row", "int8", "int8", quant::EncodeScope::kSegment},
      {"nvfp4", "nvfp4", "nvfp4", quant::EncodeScope::kTensor},
      {"dgq4:group=32", "int4", "int8", quant::EncodeScope::kRow},
  };
  int checked = 0;
  for (const Case& c : cases) {
    TempDir tmp;
    workloads::WorkloadParams p;
    p.phase = workloads::Phase::kPrefill;
    p.seq = 40;
    workloads::TraceOptions o;
    const workloads::FormatChoice fc = workloads::resolve_formats("", c.act, c.weight);
    o.act_format = fc.act;
    o.weight_format = fc.weight;
    o.seed = 5;
    workloads::write_trace(workloads::TraceBuilder(small_decoder(), p, o), tmp.path);
    const workloads::TraceReader t(tmp.path);
    const auto fmt = quant::make_format(fc.act);
    ASSERT_EQ(fmt->traits().encode_scope, c.scope) << c.act;
    ArchConfig a = test::small_arch(c.pe, Dataflow::kOutputStationary, 8, 8);
    a.output_bytes = 2;
    for (size_t i = 0; i < t.gemms().size(); ++i) {
      const GemmJob j = explore::functional_job_from_trace(t, i);
      SCOPED_TRACE(std::string(c.act) + " " + j.name);
      const JobPlan plan = plan_job(a, j);
      const SimResult r = simulate(a, {j});
      ASSERT_EQ(r.outputs[0].size(), static_cast<size_t>(j.batch));
      for (int64_t b = 0; b < j.batch; ++b) {
        const std::vector<float>& y = r.outputs[0][static_cast<size_t>(b)];
        // The reference: quant's encode of the whole tensor, after the same FP16 epilogue.
        std::vector<float> y16(y.size());
        for (size_t e = 0; e < y.size(); ++e) y16[e] = quant::fp_round(quant::kFP16, y[e]);
        std::vector<float> want(y.size());
        fmt->decode(fmt->encode(y16.data(), j.m, j.n), want.data());
        // Offline calibration (OliVe's scale search) on the tensor itself.
        const auto cal = fmt->calibrated(y16.data(), j.m, j.n);
        OnlineQuantizer q(*fmt, j.m, j.n, 2, cal.get());
        int64_t pushed = 0;
        for (int64_t idx = 0; idx < plan.plan.tiles_per_instance(); ++idx) {
          const Tile tile = plan.plan.tile(idx);
          if (!tile.end_y || !tile.y_final) continue;
          const BlockRect& yb = tile.yb;
          std::vector<float> block(static_cast<size_t>(yb.rows() * yb.cols()));
          for (int64_t rr = yb.r0; rr < yb.r1; ++rr)
            for (int64_t cc = yb.c0; cc < yb.c1; ++cc)
              block[static_cast<size_t>((rr - yb.r0) * yb.cols() + (cc - yb.c0))] =
                  y[static_cast<size_t>(rr * j.n + cc)];
          EXPECT_FALSE(q.complete());
          q.push(yb, block.data());
          ++pushed;
        }
        ASSERT_TRUE(q.complete()) << pushed << " blocks";
        EXPECT_TRUE(test::same_bits(q.output(), want));
        const OnlineQuantizer::Stats& s = q.stats();
        const bool whole = c.scope == quant::EncodeScope::kTensor && !cal;
        EXPECT_EQ(s.passes, whole ? 2 : 1);
        if (whole) {
          EXPECT_EQ(s.units_encoded, 1);
          EXPECT_EQ(s.peak_held, j.m * j.n);
        } else {
          const int64_t u = s.unit_cols;
          EXPECT_EQ(s.units_encoded, j.m * ((j.n + u - 1) / u));
          EXPECT_LE(s.peak_held, j.m * j.n);
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 30);
}

TEST(OnlineQuantizer, RejectsBadBlocksAndEarlyReads) {
  const auto fmt = quant::make_format("mxfp4");
  OnlineQuantizer q(*fmt, 4, 64, 2);
  std::vector<float> v(4 * 32, 1.0f);
  q.push(BlockRect{0, 4, 0, 32}, v.data());
  EXPECT_THROW(q.output(), qarch::Error);
  EXPECT_THROW(q.push(BlockRect{0, 4, 16, 48}, v.data()), qarch::Error);  // arrives twice
  EXPECT_THROW(q.push(BlockRect{0, 5, 32, 64}, v.data()), qarch::Error);  // outside
  EXPECT_THROW(OnlineQuantizer(*fmt, 0, 64, 2), qarch::Error);
  EXPECT_THROW(OnlineQuantizer(*fmt, 4, 64, 3), qarch::Error);
  q.push(BlockRect{0, 4, 32, 64}, v.data());
  EXPECT_TRUE(q.complete());
  EXPECT_EQ(q.stats().units_encoded, 8);
  EXPECT_EQ(q.stats().peak_held, 4 * 32);
}

}  // namespace
}  // namespace qarch::models
