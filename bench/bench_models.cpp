// Speed of the SystemC accelerator model.
//   BM_ModelsLlama2Layer/<pe>  one LLaMA-2-7B decoder layer, prefill of 2048 tokens, 32 x 32
//                              array, tile mode (target: < 1 s host time)
//   BM_ModelsLlama2Full        all 32 layers + LM head in one simulation (target: < 30 s)
//   BM_ModelsPerCycle16x16/... the per-cycle array on 16 x 16: PE-cycles per host second
// Counters: sim_cycles (simulated), sim_cycles_per_s (simulated cycles per host second),
// pe_cycles_per_s (per-cycle mode). Real time: simulate() runs SystemC on a worker thread.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "qarch/models/simulator.h"
#include "qarch/quant/format.h"
#include "qarch/workloads/model.h"
#include "qarch/workloads/workload.h"

namespace {

using namespace qarch::models;

// LLaMA-2-7B (Touvron et al. 2023; HF config): hidden 4096, 32 heads of 128, FFN 11008, vocab
// 32000, 32 layers. Prefill of one sequence of 2048 tokens; GEMM convention Y = X W^T.
struct LayerGemm {
  const char* name;
  int64_t m, n, k, batch;
};
constexpr int64_t kSeq = 2048, kHidden = 4096, kHeads = 32, kHeadDim = 128, kFfn = 11008,
                  kVocab = 32000, kLayers = 32;
const LayerGemm kLayer[] = {
    {"qkv", kSeq, 3 * kHidden, kHidden, 1},     // fused Q, K, V projections
    {"scores", kSeq, kSeq, kHeadDim, kHeads},   // Q K^T per head
    {"context", kSeq, kHeadDim, kSeq, kHeads},  // P V per head
    {"attn_out", kSeq, kHidden, kHidden, 1},
    {"gate", kSeq, kFfn, kHidden, 1},
    {"up", kSeq, kFfn, kHidden, 1},
    {"down", kSeq, kHidden, kFfn, 1},
};

ArchConfig arch32(const std::string& pe) {
  ArchConfig a;
  a.array.rows = a.array.cols = 32;
  a.array.dataflow = Dataflow::kWeightStationary;
  a.array.pe = pe;
  a.dram.bandwidth_bytes_per_cycle = 64;
  a.dram.latency_cycles = 100;
  a.input_buffer.size_bytes = 1 << 20;
  a.weight_buffer.size_bytes = 1 << 20;
  a.output_buffer.size_bytes = 1 << 20;
  return a;
}

std::vector<GemmJob> layer_jobs(int layer, const std::string& fmt) {
  std::vector<GemmJob> jobs;
  for (const LayerGemm& g : kLayer) {
    GemmJob j;
    j.name = "layers." + std::to_string(layer) + "." + g.name;
    j.m = g.m, j.n = g.n, j.k = g.k, j.batch = g.batch;
    j.x_format = j.w_format = fmt;
    jobs.push_back(j);
  }
  return jobs;
}

void report(benchmark::State& state, const Stats& s, double host_seconds) {
  state.counters["sim_cycles"] = static_cast<double>(s.cycles);
  state.counters["sim_cycles_per_s"] = static_cast<double>(s.cycles) / host_seconds;
  state.counters["utilization"] = s.array.utilization;
  state.counters["dram_GB"] = static_cast<double>(s.dram.read_bytes + s.dram.write_bytes) / 1e9;
}

void BM_ModelsLlama2Layer(benchmark::State& state, std::string pe, std::string fmt) {
  const ArchConfig a = arch32(pe);
  const auto jobs = layer_jobs(0, fmt);
  Stats last;
  for (auto _ : state) last = simulate(a, jobs).stats;
  report(state, last, last.host_seconds);
}
BENCHMARK_CAPTURE(BM_ModelsLlama2Layer, int8, "int8", "int8")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelsLlama2Layer, olive4, "olive4", "olive4")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelsLlama2Layer, bfp12, "bfp", "bfp12")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelsLlama2Layer, mxfp4, "mx", "mxfp4")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelsLlama2Layer, amxfp4, "amxfp4", "amxfp4")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelsLlama2Layer, nvfp4, "nvfp4", "nvfp4")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ModelsLlama2Full(benchmark::State& state) {
  const ArchConfig a = arch32("int8");
  std::vector<GemmJob> jobs;
  for (int l = 0; l < kLayers; ++l) {
    auto lj = layer_jobs(l, "int8");
    jobs.insert(jobs.end(), lj.begin(), lj.end());
  }
  GemmJob head;
  head.name = "lm_head";
  head.m = kSeq, head.n = kVocab, head.k = kHidden;
  head.x_format = head.w_format = "int8";
  jobs.push_back(head);
  Stats last;
  for (auto _ : state) last = simulate(a, jobs).stats;
  report(state, last, last.host_seconds);
}
BENCHMARK(BM_ModelsLlama2Full)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// The same forward pass as workloads/ expands it from the model zoo (its GEMM list: fused QKV,
// per-head attention, gated FFN, LM head over every token), timing only.
void BM_ModelsLlama2FromZoo(benchmark::State& state) {
  const ArchConfig a = arch32("int8");
  qarch::workloads::WorkloadParams p;
  p.phase = qarch::workloads::Phase::kPrefill;
  p.seq = kSeq;
  const qarch::workloads::Workload w =
      qarch::workloads::expand(qarch::workloads::load_model("llama2-7b"), p);
  std::vector<GemmJob> jobs;
  for (const qarch::workloads::GemmOp& op : w.gemms) {
    GemmJob j;
    j.name = op.name;
    j.m = op.m, j.n = op.n, j.k = op.k, j.batch = op.batch;
    j.x_format = j.w_format = "int8";
    jobs.push_back(j);
  }
  Stats last;
  for (auto _ : state) last = simulate(a, jobs).stats;
  report(state, last, last.host_seconds);
  state.counters["gemms"] = static_cast<double>(jobs.size());
}
BENCHMARK(BM_ModelsLlama2FromZoo)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// Per-cycle mode on 16 x 16: a 256 x 256 x 256 GEMM, timed only or with INT8 operands.
void BM_ModelsPerCycle16x16(benchmark::State& state, bool functional) {
  ArchConfig a;
  a.array.rows = a.array.cols = 16;
  a.array.dataflow = Dataflow::kWeightStationary;
  a.dram.bandwidth_bytes_per_cycle = 32;
  a.dram.latency_cycles = 100;
  GemmJob j;
  j.name = "g";
  j.m = j.n = j.k = 256;
  j.x_format = j.w_format = "int8";
  if (functional) {
    std::mt19937 gen(1);
    std::normal_distribution<float> nd;
    std::vector<float> x(256 * 256);
    for (float& v : x) v = nd(gen);
    const auto f = qarch::quant::make_format("int8");
    j.x = {Operand{std::make_shared<qarch::quant::EncodedTensor>(f->encode(x.data(), 256, 256)),
                   nullptr}};
    j.w = j.x;
  }
  SimOptions o;
  o.mode = SimMode::kCycle;
  Stats last;
  for (auto _ : state) last = simulate(a, {j}, o).stats;
  report(state, last, last.host_seconds);
  state.counters["pe_cycles_per_s"] = static_cast<double>(last.array.pe_cycles) / last.host_seconds;
}
BENCHMARK_CAPTURE(BM_ModelsPerCycle16x16, timing, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ModelsPerCycle16x16, functional, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
