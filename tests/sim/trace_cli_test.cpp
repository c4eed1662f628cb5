// `qarch trace` in-process: the GEMM list, a small trace written and read back, and usage
// errors (exit code 2 naming the problem).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cli_runner.h"
#include "qarch/sim/cli.h"
#include "qarch/workloads/trace.h"

namespace qarch::sim {
namespace {

using Result = testing::CliResult;
using testing::run_cli;

TEST(TraceCli, HelpListAndModels) {
  const Result h = run_cli({"trace", "--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--shape-only"), std::string::npos);
  const Result m = run_cli({"trace", "--list-models"});
  EXPECT_EQ(m.code, 0);
  EXPECT_NE(m.out.find("llama2-70b"), std::string::npos);
  EXPECT_NE(m.out.find("MoE 8x top-2"), std::string::npos);
  const Result l = run_cli({"trace", "--model", "llama2-7b", "--seq", "2048", "--list"});
  ASSERT_EQ(l.code, 0) << l.err;
  EXPECT_NE(l.out.find("layers.31.mlp.down"), std::string::npos);
  EXPECT_NE(l.out.find("2048x4096x11008"), std::string::npos);
  EXPECT_NE(l.out.find("225 GEMMs"), std::string::npos) << l.out;
  const Result d = run_cli({"trace", "--model", "llama2-7b", "--phase", "decode", "--ctx", "100",
                            "--layers", "0", "--list"});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("kv_cache"), std::string::npos);
  EXPECT_NE(d.out.find("KV cache reads"), std::string::npos);
}

TEST(TraceCli, WritesAReadableTrace) {
  char tmpl[] = "/tmp/qarch_trace_cli_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const Result r =
      run_cli({"trace", "--model", "bert-base", "--seq", "64", "--format", "olive4",
               "--weight-format", "int8", "--layers", "0", "--sample", "16", "--out", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("layers.0.attn.qkv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote 6 GEMMs"), std::string::npos) << r.out;
  const workloads::TraceReader t(dir);
  EXPECT_EQ(t.header().model.name, "bert-base");
  EXPECT_EQ(t.gemms().size(), 6u);  // qkv, scores, context, out, up, down
  EXPECT_EQ(t.gemms()[0].x.sample.count, 16);
  EXPECT_NE(t.header().weight_format.find("int8"), std::string::npos);
  const auto ops = t.load_operands(0);
  EXPECT_EQ(ops.first.rows, 16);
  EXPECT_EQ(ops.second.rows, 3 * 768);
  // A nested --out whose parents do not exist yet (the README's `--out traces/...`).
  const std::string nested = dir + "/traces/bert/olive4";
  const Result n = run_cli({"trace", "--model", "bert-base", "--seq", "64", "--format", "int8",
                            "--layers", "0", "--shape-only", "--out", nested});
  ASSERT_EQ(n.code, 0) << n.err;
  EXPECT_EQ(workloads::TraceReader(nested).gemms().size(), 6u);
  std::filesystem::remove_all(dir);
}

TEST(TraceCli, UsageErrors) {
  Result r = run_cli({"trace", "--model", "llama2-7b", "--format", "olive4"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = run_cli({"trace", "--model", "gpt5", "--list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown model 'gpt5'"), std::string::npos) << r.err;
  r = run_cli({"trace", "--model", "bert-base", "--phase", "decode", "--list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("encoder"), std::string::npos) << r.err;
  r = run_cli({"trace", "--model", "llama2-7b", "--phase", "decode", "--seq", "5", "--list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--ctx"), std::string::npos) << r.err;
  r = run_cli({"trace", "--model", "llama2-7b", "--layers", "0-40", "--list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;
  r = run_cli({"trace", "--model", "llama2-7b", "--format", "mxfp99", "--out", "/tmp/x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown format"), std::string::npos) << r.err;
  r = run_cli({"trace", "--model", "llama2-7b", "--format", "int8", "--outliers",
               "/nonexistent.yaml", "--list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nonexistent.yaml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace qarch::sim
