// Encode+decode throughput of every registered format on 64 MiB of FP32 input (single
// thread), reported as bytes of FP32 input per second. Targets (issue 2): MXFP4, NVFP4, BFP
// and INT8 >= 1 GB/s; OVP with a fixed scale >= 300 MB/s.
//
//   qarch_bench --benchmark_filter=Format/   (all formats)
//   QARCH_BENCH_MIB=8 qarch_bench ...        (smaller input for a quick look)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "qarch/quant/format.h"
#include "qarch/quant/olive.h"
#include "qarch/quant/squeezellm.h"

namespace {

using namespace qarch::quant;

constexpr int64_t kCols = 4096;

// N(0,1) activations with a few outlier channels 20-60x larger (LLM.int8()-like), seeded.
const std::vector<float>& input() {
  static const std::vector<float> data = [] {
    const char* env = std::getenv("QARCH_BENCH_MIB");
    const int64_t mib = env ? std::max(1, std::atoi(env)) : 64;
    const int64_t n = mib * (1 << 20) / 4;
    std::vector<float> v(static_cast<size_t>(n));
    std::mt19937 rng(1234);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& x : v) x = nd(rng);
    for (int64_t r = 0; r < n / kCols; ++r)
      for (int64_t c : {7, 311, 1024, 2900}) v[r * kCols + c] *= 20.0f + static_cast<float>(c % 41);
    return v;
  }();
  return data;
}

void BM_EncodeDecode(benchmark::State& state, const std::string& spec) {
  const auto fmt = make_format(spec);
  const auto& x = input();
  const int64_t rows = static_cast<int64_t>(x.size()) / kCols;
  std::vector<float> out(x.size());
  for (auto _ : state) {
    const EncodedTensor e = fmt->encode(x.data(), rows, kCols);
    fmt->decode(e, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.size() * sizeof(float)));
}

void BM_Quantize(benchmark::State& state, const std::string& spec) {
  const auto fmt = make_format(spec);
  const auto& x = input();
  const int64_t rows = static_cast<int64_t>(x.size()) / kCols;
  std::vector<float> out(x.size());
  for (auto _ : state) {
    fmt->quantize(x.data(), rows, kCols, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.size() * sizeof(float)));
}

// The OliVe per-tensor MSE scale search (issue 13: >= 300 MB/s of FP32 input, the same scale
// as the exhaustive search): the fast search, and the exhaustive one it replaces, on the same
// LLM-like input, for olive4 and olive8.
void BM_OliveScaleSearch(benchmark::State& state, const OvpType* t, bool exhaustive) {
  const auto& x = input();
  const int64_t rows = static_cast<int64_t>(x.size()) / kCols;
  float s = 0;
  for (auto _ : state) {
    s = exhaustive ? olive_search_scale_exhaustive(*t, OvpVictim::kLarger, x.data(), rows, kCols)
                   : olive_search_scale(*t, OvpVictim::kLarger, x.data(), rows, kCols);
    benchmark::DoNotOptimize(s);
  }
  state.counters["scale"] = s;
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.size() * sizeof(float)));
}
BENCHMARK_CAPTURE(BM_OliveScaleSearch, olive4_fast, &kOvp4, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OliveScaleSearch, olive4_exhaustive, &kOvp4, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_OliveScaleSearch, olive8_fast, &kOvp8E4M3, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OliveScaleSearch, olive8_exhaustive, &kOvp8E4M3, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// SqueezeLLM's two halves apart (issue 13: the codebook setup is reported separately from the
// encode speed): the setup (sparse selection + per-row k-means, to FP16 codebooks) and the
// encoding with given codebooks (nearest entry per element, packing, sparse FP16 values).
// Format/EncodeDecode/squeezellm* runs both plus the decode.
void BM_SqueezeLlmSetup(benchmark::State& state, int bits) {
  const auto& x = input();
  const int64_t rows = static_cast<int64_t>(x.size()) / kCols;
  int64_t iterations = 0;
  for (auto _ : state) {
    const SqueezeLlmCodebook cb = squeezellm_setup(x.data(), rows, kCols, bits, 0.0045, 50);
    iterations = cb.kmeans_iterations;
    benchmark::DoNotOptimize(cb.centroids.data());
  }
  state.counters["kmeans_iters_per_row"] = static_cast<double>(iterations) / rows;
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.size() * sizeof(float)));
}
void BM_SqueezeLlmEncode(benchmark::State& state, int bits) {
  const auto& x = input();
  const int64_t rows = static_cast<int64_t>(x.size()) / kCols;
  const SqueezeLlmCodebook cb = squeezellm_setup(x.data(), rows, kCols, bits, 0.0045, 50);
  const std::string name = make_format("squeezellm:bits=" + std::to_string(bits))->name();
  for (auto _ : state) {
    const EncodedTensor e = squeezellm_encode(cb, x.data(), name);
    benchmark::DoNotOptimize(e.elements.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.size() * sizeof(float)));
}
BENCHMARK_CAPTURE(BM_SqueezeLlmSetup, squeezellm3, 3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SqueezeLlmSetup, squeezellm4, 4)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SqueezeLlmEncode, squeezellm3, 3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SqueezeLlmEncode, squeezellm4, 4)->Unit(benchmark::kMillisecond);

// Registers a benchmark per catalogue format (default options) plus the variants named in
// QARCH_BENCH_EXTRA (comma-separated specs).
int register_all() {
  std::vector<std::string> specs;
  for (const auto& f : list_formats()) specs.push_back(f.name);
  if (const char* extra = std::getenv("QARCH_BENCH_EXTRA")) {
    std::string s = extra, item;
    for (size_t p = 0; p <= s.size(); ++p) {
      if (p == s.size() || s[p] == ',') {
        if (!item.empty()) specs.push_back(item);
        item.clear();
      } else {
        item += s[p];
      }
    }
  }
  for (const auto& s : specs) {
    benchmark::RegisterBenchmark(("Format/EncodeDecode/" + s).c_str(), BM_EncodeDecode, s)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Format/Quantize/" + s).c_str(), BM_Quantize, s)
        ->Unit(benchmark::kMillisecond);
  }
  return 0;
}
const int registered = register_all();

}  // namespace
