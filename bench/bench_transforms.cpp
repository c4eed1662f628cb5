// Throughput of the transforms (single thread), in bytes of FP32 input per second, on rows of
// K = 4096 (LLaMA-7B hidden size, one full-length Hadamard block) and K = 11008 (its FFN size,
// blocks of 256), 64 MiB of activations with outlier channels like bench_formats.cpp.
//
//   qarch_bench --benchmark_filter=Transform/
//   QARCH_BENCH_MIB=8 qarch_bench --benchmark_filter=Transform/   (quick look)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <vector>

#include "qarch/quant/transforms.h"

namespace {

using namespace qarch::quant;

int64_t bench_mib() {
  const char* env = std::getenv("QARCH_BENCH_MIB");
  return env ? std::max(1, std::atoi(env)) : 64;
}

// N(0,1) with four outlier channels, `cols` wide, about QARCH_BENCH_MIB MiB (whole rows).
Tensor input(int64_t cols) {
  const int64_t rows = std::max<int64_t>(1, bench_mib() * (1 << 20) / 4 / cols);
  Tensor t = Tensor::zeros({rows, cols});
  std::mt19937 rng(1234);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (float& v : t.data) v = nd(rng);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c : {int64_t{7}, cols / 3, cols / 2, cols - 5}) t.data[r * cols + c] *= 40.0f;
  return t;
}

// In-place rotation of every row (the raw fast path: no validation pass).
void BM_HadamardRotate(benchmark::State& state, int64_t k, bool signs) {
  Tensor x = input(k);
  const HadamardRotation rot(k, {signs, 1, 0});
  for (auto _ : state) {
    rot.rotate_rows(x.data.data(), x.rows());
    benchmark::DoNotOptimize(x.data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<int64_t>(sizeof(float)));
  state.counters["block"] = static_cast<double>(rot.block());
}

// The checked Tensor path (adds the NaN/Inf scan).
void BM_HadamardRotateChecked(benchmark::State& state, int64_t k) {
  Tensor x = input(k);
  const HadamardRotation rot(k, {true, 1, 0});
  for (auto _ : state) {
    rot.rotate(x);
    benchmark::DoNotOptimize(x.data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<int64_t>(sizeof(float)));
}

// One FWHT of a single L1-resident vector of length n: the kernel's compute rate.
void BM_Fwht(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<float> v(static_cast<size_t>(n));
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (float& x : v) x = nd(rng);
  for (auto _ : state) {
    fwht(v.data(), n);
    benchmark::DoNotOptimize(v.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(sizeof(float)));
}

// SmoothQuant: scales from the maxima and the division of X (W is small next to X here).
void BM_Smooth(benchmark::State& state, int64_t k) {
  const Tensor x = input(k);
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  Tensor w = Tensor::zeros({256, k});
  for (float& v : w.data) v = nd(rng);
  for (auto _ : state) {
    SmoothResult r = smooth(x, w);
    benchmark::DoNotOptimize(r.x.data.data());
  }
  state.SetBytesProcessed(state.iterations() * x.numel() * static_cast<int64_t>(sizeof(float)));
}

int register_all() {
  using benchmark::RegisterBenchmark;
  RegisterBenchmark("Transform/Hadamard/k4096_signs", BM_HadamardRotate, 4096, true)
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark("Transform/Hadamard/k4096_nosigns", BM_HadamardRotate, 4096, false)
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark("Transform/Hadamard/k11008_signs", BM_HadamardRotate, 11008, true)
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark("Transform/HadamardChecked/k4096", BM_HadamardRotateChecked, 4096)
      ->Unit(benchmark::kMillisecond);
  RegisterBenchmark("Transform/Fwht", BM_Fwht)->RangeMultiplier(4)->Range(256, 16384);
  RegisterBenchmark("Transform/Smooth/k4096", BM_Smooth, 4096)->Unit(benchmark::kMillisecond);
  return 0;
}
const int registered = register_all();

}  // namespace
