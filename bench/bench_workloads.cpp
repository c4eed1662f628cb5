// Workload generation and trace speed (issue 3): generating and quantizing one LLaMA-2-7B
// decoder layer (prefill, seq 2048, every GEMM operand: 202 M weights + 48 M activations + one
// attention head's Q/K/P/V) in OliVe 4-bit should take seconds. Single thread.
//
//   qarch_bench --benchmark_filter='Workloads/'                 (everything: ~1 minute)
//   QARCH_BENCH_SEQ=256 qarch_bench --benchmark_filter=Layer     (a quick look)
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "qarch/workloads/checksum.h"
#include "qarch/workloads/generator.h"
#include "qarch/workloads/rng.h"
#include "qarch/workloads/trace_builder.h"

namespace {

using namespace qarch::workloads;

int64_t bench_seq() {
  const char* env = std::getenv("QARCH_BENCH_SEQ");
  return env ? std::max(1, std::atoi(env)) : 2048;
}

void BM_Normals(benchmark::State& state) {
  std::vector<float> v(1 << 22);
  Xoshiro256pp g(1);
  for (auto _ : state) {
    fill_normal(g, v.data(), static_cast<int64_t>(v.size()));
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_Normals)->Name("Workloads/ZigguratNormals")->Unit(benchmark::kMillisecond);

// The 11008 x 4096 LLaMA-2-7B up-projection weight with the default outlier profile.
void BM_GenerateWeight(benchmark::State& state) {
  const TensorGenerator gen(OutlierParams::defaults(), 1);
  std::vector<int64_t> rows(11008);
  for (int64_t i = 0; i < 11008; ++i) rows[i] = i;
  for (auto _ : state) {
    GeneratedTensor t = gen.weight({1, "up"}, 11008, 4096, rows);
    benchmark::DoNotOptimize(t.data.data.data());
  }
  state.SetItemsProcessed(state.iterations() * 11008 * 4096);
}
BENCHMARK(BM_GenerateWeight)
    ->Name("Workloads/GenerateWeight4096x11008")
    ->Unit(benchmark::kMillisecond);

// One decoder layer, every GEMM built in memory: generate, quantize (encode + decode), and with
// state.range(0) = 1 also the statistics and the layer-output error a trace records.
void BM_Llama2Layer(benchmark::State& state, const std::string& format) {
  TraceOptions o;
  const FormatChoice fc = resolve_formats(format, "", "");
  o.act_format = fc.act;
  o.weight_format = fc.weight;
  o.layers = "1";  // layer 1: massive activations and the super weight are present
  o.stats = state.range(0) != 0;
  o.error_rows = state.range(0) != 0 ? 32 : 0;
  WorkloadParams p;
  p.seq = bench_seq();
  const TraceBuilder b(load_model("llama2-7b"), p, o);
  int64_t elements = 0;
  for (auto _ : state) {
    elements = 0;
    for (size_t i : b.selected()) {
      const GemmResult r = b.build(b.workload().gemms[i]);
      elements += r.x.rows * r.x.cols + r.w.rows * r.w.cols;
      benchmark::DoNotOptimize(r.x.elements.data());
    }
  }
  state.counters["operand_elements"] = static_cast<double>(elements);
  state.SetItemsProcessed(state.iterations() * elements);
}
BENCHMARK_CAPTURE(BM_Llama2Layer, olive4, std::string("olive4"))
    ->Name("Workloads/Llama2_7bLayerPrefill/olive4")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_Llama2Layer, int8, std::string("int8"))
    ->Name("Workloads/Llama2_7bLayerPrefill/int8")
    ->Arg(0)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

// The whole `qarch trace` path for that layer, files written (atomically, checksummed).
void BM_Llama2LayerTrace(benchmark::State& state) {
  TraceOptions o;
  const FormatChoice fc = resolve_formats("olive4", "", "");
  o.act_format = fc.act;
  o.weight_format = fc.weight;
  o.layers = "1";
  o.sample_rows = state.range(0);
  WorkloadParams p;
  p.seq = bench_seq();
  const TraceBuilder b(load_model("llama2-7b"), p, o);
  char tmpl[] = "/tmp/qarch_bench_trace_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  uint64_t bytes = 0;
  for (auto _ : state) bytes = write_trace(b, dir).bytes;
  std::filesystem::remove_all(dir);
  state.counters["trace_MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_Llama2LayerTrace)
    ->Name("Workloads/Llama2_7bLayerTraceWrite")
    ->Arg(0)
    ->Arg(256)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

void BM_Fnv1a64(benchmark::State& state) {
  std::vector<unsigned char> v(64 << 20, 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(fnv1a64(v.data(), v.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_Fnv1a64)->Name("Workloads/Fnv1a64")->Unit(benchmark::kMillisecond);

}  // namespace
