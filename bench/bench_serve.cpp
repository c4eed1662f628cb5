// Whole-model serving (explore/serve.h): host time of one LLaMA-2-7B request, prompt 2048, 256
// generated tokens, batch 8, on the INT8 baseline (issue 12's target: under 10 s), and of
// Mixtral-8x7B in serve mode (its expert routing).
#include <benchmark/benchmark.h>

#include "qarch/explore/explore.h"

namespace {

void serve(benchmark::State& state, const char* arch_name, const char* model, int64_t prompt,
           int64_t gen, int64_t batch) {
  qarch::explore::ArchSpec arch = qarch::explore::resolve_arch(arch_name);
  arch.arch.dram.capacity_bytes = 128.0 * (1ull << 30);  // Mixtral's weights
  qarch::explore::ServeSpec s;
  s.gen = gen;
  const qarch::explore::WorkloadSpec w = qarch::explore::serve_workload(model, prompt, batch, s);
  qarch::explore::AccuracyOptions acc;
  acc.enabled = false;
  for (auto _ : state) {
    qarch::explore::ExploreCache cache;  // nothing cached between iterations
    const auto p = qarch::explore::run_point("p", arch, w, acc, cache);
    benchmark::DoNotOptimize(p.serve.tokens_per_s);
    state.counters["tokens_per_s_simulated"] = p.serve.tokens_per_s;
  }
}

void BM_ServeLlama2_7b(benchmark::State& state) {
  serve(state, "int8", "llama2-7b", 2048, 256, 8);
}
BENCHMARK(BM_ServeLlama2_7b)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

void BM_ServeMixtral(benchmark::State& state) {
  serve(state, "int8", "mixtral-8x7b", 512, 32, 1);
}
BENCHMARK(BM_ServeMixtral)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
