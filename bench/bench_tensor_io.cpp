// Tensor file I/O throughput (single thread), in bytes of file per second. The target is
// memcpy speed for reading FP32 .npy: compare NpyRead* with MemcpyBaseline, which does the
// least any reader must do (allocate the tensor, copy the bytes into it). At 64 MiB both are
// bound by the page faults of the fresh allocation, not by the copy (MemcpyPreallocated).
//
//   qarch_bench --benchmark_filter=TensorIo/
//   QARCH_BENCH_MIB=8 qarch_bench --benchmark_filter=TensorIo/   (quick look)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qarch/quant/tensor_io.h"

namespace {

using namespace qarch::quant;

constexpr int64_t kCols = 4096;

// Seeded N(0,1) tensor of QARCH_BENCH_MIB (default 64) MiB of FP32.
const Tensor& tensor() {
  static const Tensor t = [] {
    const char* env = std::getenv("QARCH_BENCH_MIB");
    const int64_t mib = env ? std::max(1, std::atoi(env)) : 64;
    const int64_t n = mib * (1 << 20) / 4;
    std::vector<float> v(static_cast<size_t>(n));
    std::mt19937 rng(99);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (auto& x : v) x = nd(rng);
    return Tensor({n / kCols, kCols}, std::move(v));
  }();
  return t;
}

// Files written once per run in the temporary directory, removed at exit.
struct Files {
  std::string npy, safetensors;
  std::vector<uint8_t> npy_bytes, bf16_bytes;
  Files() {
    const char* tmp = std::getenv("TMPDIR");
    const std::string dir = tmp && *tmp ? tmp : "/tmp";
    const std::string stem = dir + "/qarch_bench_tensor_io_" + std::to_string(::getpid());
    npy = stem + ".npy";
    safetensors = stem + ".safetensors";
    write_npy(npy, tensor());
    write_safetensors(safetensors, {{"w", tensor()}});
    npy_bytes = encode_npy(tensor());
    // A BF16 safetensors file of the same element count: header, then the top halves.
    const size_t n = tensor().data.size();
    const std::string h = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[" + std::to_string(n) +
                          "],\"data_offsets\":[0," + std::to_string(2 * n) + "]}}";
    for (int i = 0; i < 8; ++i) bf16_bytes.push_back(static_cast<uint8_t>(h.size() >> (8 * i)));
    bf16_bytes.insert(bf16_bytes.end(), h.begin(), h.end());
    for (float f : tensor().data) {
      uint32_t b;
      std::memcpy(&b, &f, 4);
      bf16_bytes.push_back(static_cast<uint8_t>(b >> 16));
      bf16_bytes.push_back(static_cast<uint8_t>(b >> 24));
    }
  }
  ~Files() {
    ::unlink(npy.c_str());
    ::unlink(safetensors.c_str());
  }
};

const Files& files() {
  static const Files f;
  return f;
}

void BM_MemcpyBaseline(benchmark::State& state) {
  const auto& src = files().npy_bytes;
  const size_t n = tensor().data.size();
  for (auto _ : state) {
    std::vector<float> v(n);
    std::memcpy(v.data(), src.data() + (src.size() - 4 * n), 4 * n);
    benchmark::DoNotOptimize(v.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.size()));
}
BENCHMARK(BM_MemcpyBaseline)->Name("TensorIo/MemcpyBaseline")->Unit(benchmark::kMillisecond);

// Raw copy bandwidth into memory that is already mapped: an upper bound no reader that
// returns a fresh tensor can reach (it pays the page faults of a new allocation).
void BM_MemcpyPreallocated(benchmark::State& state) {
  const auto& src = files().npy_bytes;
  const size_t n = tensor().data.size();
  std::vector<float> v(n);
  for (auto _ : state) {
    std::memcpy(v.data(), src.data() + (src.size() - 4 * n), 4 * n);
    benchmark::DoNotOptimize(v.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.size()));
}
BENCHMARK(BM_MemcpyPreallocated)
    ->Name("TensorIo/MemcpyPreallocated")
    ->Unit(benchmark::kMillisecond);

void BM_NpyReadBuffer(benchmark::State& state) {
  const auto& b = files().npy_bytes;
  for (auto _ : state) {
    Tensor t = read_npy_buffer(b.data(), b.size());
    benchmark::DoNotOptimize(t.data.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(b.size()));
}
BENCHMARK(BM_NpyReadBuffer)->Name("TensorIo/NpyReadBuffer")->Unit(benchmark::kMillisecond);

void BM_NpyReadFile(benchmark::State& state) {
  const Files& f = files();
  for (auto _ : state) {
    Tensor t = read_npy(f.npy);
    benchmark::DoNotOptimize(t.data.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(f.npy_bytes.size()));
}
BENCHMARK(BM_NpyReadFile)->Name("TensorIo/NpyReadFile")->Unit(benchmark::kMillisecond);

void BM_SafetensorsReadFile(benchmark::State& state) {
  const Files& f = files();
  for (auto _ : state) {
    Tensor t = read_safetensors_tensor(f.safetensors, "w");
    benchmark::DoNotOptimize(t.data.data());
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(tensor().data.size() * sizeof(float)));
}
BENCHMARK(BM_SafetensorsReadFile)
    ->Name("TensorIo/SafetensorsReadFile")
    ->Unit(benchmark::kMillisecond);

void BM_SafetensorsBf16Buffer(benchmark::State& state) {
  const auto& b = files().bf16_bytes;
  for (auto _ : state) {
    Tensor t = read_safetensors_tensor_buffer(b.data(), b.size(), "w");
    benchmark::DoNotOptimize(t.data.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(b.size()));
}
BENCHMARK(BM_SafetensorsBf16Buffer)
    ->Name("TensorIo/SafetensorsBf16Buffer")
    ->Unit(benchmark::kMillisecond);

// Includes fsync: the cost of a durable atomic write, bounded by the disk.
void BM_NpyWriteFile(benchmark::State& state) {
  const Files& f = files();
  const std::string out = f.npy + ".out";
  for (auto _ : state) write_npy(out, tensor());
  ::unlink(out.c_str());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(f.npy_bytes.size()));
}
BENCHMARK(BM_NpyWriteFile)->Name("TensorIo/NpyWriteFile")->Unit(benchmark::kMillisecond);

}  // namespace
