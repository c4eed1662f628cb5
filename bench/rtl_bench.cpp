// Verilator throughput of the RTL models (single thread): PE operations (one MAC of one PE)
// per second, raw (driving random operands, reading the accumulator every cycle) and checked
// (the same stream compared every cycle with quant's exact products, as tests/rtl does); for
// the online quantizers, elements encoded per second.
//
//   build/bin/rtl_bench                        (all)
//   build/bin/rtl_bench --benchmark_filter=Ovp4
#include <benchmark/benchmark.h>
#include <verilated.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "Varray_unit.h"
#include "Vmac_unit.h"
#include "Vovp_unit.h"
#include "Vquant_unit.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/olive.h"

namespace {

constexpr int64_t kStream = 1 << 16;  // operand pairs per benchmark iteration

std::vector<uint8_t> random_bytes(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

template <class M>
std::unique_ptr<M> make_model(VerilatedContext& ctx) {
  return std::make_unique<M>(&ctx, "top");
}

// The 4-bit OliVe PE behind its two pair decoders: one element (MAC) per cycle.
void BM_Ovp4Pe(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vovp_unit>(ctx);
  const auto a = random_bytes(kStream, 1), w = random_bytes(kStream, 2);
  m->ovp4_clk = 0;
  m->ovp4_valid = 1;
  m->eval();
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < 2 * kStream; ++n) {
      m->ovp4_a_pair = a[n / 2];
      m->ovp4_w_pair = w[n / 2];
      m->ovp4_sel = n & 1;
      m->ovp4_first = (n & 1023) == 0;
      m->ovp4_clk = 1;
      m->eval();
      m->ovp4_clk = 0;
      m->eval();
      sink += m->ovp4_acc;
    }
    ops += 2 * kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["PE_ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

// The same stream, every cycle compared with quant's exact running sum (olive4_decode_byte +
// reference_int_dot per element), as the regression runs it.
void BM_Ovp4PeChecked(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vovp_unit>(ctx);
  const auto a = random_bytes(kStream, 1), w = random_bytes(kStream, 2);
  auto row = [](const std::vector<uint8_t>& bytes) {
    qarch::quant::DecodedTensor d;
    d.resize(1, 2 * static_cast<int64_t>(bytes.size()), 1, 2 * static_cast<int64_t>(bytes.size()));
    for (size_t p = 0; p < bytes.size(); ++p) {
      const auto e = qarch::quant::olive4_decode_byte(bytes[p]);
      for (int k = 0; k < 2; ++k) {
        d.mant[2 * p + k] = e[k].mant;
        d.shift[2 * p + k] = static_cast<uint8_t>(e[k].shift);
      }
    }
    return d;
  };
  const auto x = row(a), y = row(w);
  m->ovp4_clk = 0;
  m->ovp4_valid = 1;
  m->eval();
  int64_t ops = 0, bad = 0;
  for (auto _ : state) {
    int64_t run = 0;
    for (int64_t n = 0; n < 2 * kStream; ++n) {
      const bool first = (n & 1023) == 0;
      m->ovp4_a_pair = a[n / 2];
      m->ovp4_w_pair = w[n / 2];
      m->ovp4_sel = n & 1;
      m->ovp4_first = first;
      m->ovp4_clk = 1;
      m->eval();
      m->ovp4_clk = 0;
      m->eval();
      if (first) run = 0;
      run += static_cast<int64_t>(qarch::quant::reference_int_dot(x, 0, y, 0, n, n + 1).sum[0][0]);
      bad += static_cast<int32_t>(m->ovp4_acc) != run;
    }
    ops += 2 * kStream;
  }
  if (bad) state.SkipWithError("RTL mismatch");
  state.counters["PE_ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

// The 8-bit mode (four 4-bit PEs) behind the E4M3-outlier pair decoders.
void BM_Ovp8Pe(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vovp_unit>(ctx);
  const auto a = random_bytes(2 * kStream, 3), w = random_bytes(2 * kStream, 4);
  m->ovp8_clk = 0;
  m->ovp8_valid = 1;
  m->ovp8_type = 0;
  m->eval();
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < 2 * kStream; ++n) {
      const int64_t p = n / 2;
      m->ovp8_a_pair = static_cast<uint16_t>(a[2 * p] | (a[2 * p + 1] << 8));
      m->ovp8_w_pair = static_cast<uint16_t>(w[2 * p] | (w[2 * p + 1] << 8));
      m->ovp8_sel = n & 1;
      m->ovp8_first = (n & 1023) == 0;
      m->ovp8_clk = 1;
      m->eval();
      m->ovp8_clk = 0;
      m->eval();
      sink += m->ovp8_acc;
    }
    ops += 2 * kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["PE_ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

void BM_Int8Mac(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vmac_unit>(ctx);
  const auto a = random_bytes(kStream, 5), w = random_bytes(kStream, 6);
  m->int8_clk = 0;
  m->int8_valid = 1;
  m->eval();
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < kStream; ++n) {
      m->int8_a = a[n];
      m->int8_w = w[n];
      m->int8_first = (n & 1023) == 0;
      m->int8_clk = 1;
      m->eval();
      m->int8_clk = 0;
      m->eval();
      sink += m->int8_acc;
    }
    ops += kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["PE_ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

void BM_Mxfp4Pe(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vmac_unit>(ctx);
  const auto a = random_bytes(kStream, 7), w = random_bytes(kStream, 8);
  m->mxfp4_clk = 0;
  m->mxfp4_valid = 1;
  m->eval();
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < kStream; ++n) {
      m->mxfp4_a = a[n] & 15;
      m->mxfp4_w = w[n] & 15;
      m->mxfp4_a_scale = a[n];
      m->mxfp4_w_scale = w[n];
      m->mxfp4_first = (n & 31) == 0;
      m->mxfp4_last = (n & 31) == 31;
      m->mxfp4_clk = 1;
      m->eval();
      m->mxfp4_clk = 0;
      m->eval();
      sink += m->mxfp4_acc;
    }
    ops += kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["PE_ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

void BM_Amxfp4Pe(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vmac_unit>(ctx);
  const auto a = random_bytes(kStream, 9), w = random_bytes(kStream, 10);
  m->amx_clk = 0;
  m->amx_valid = 1;
  m->eval();
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < kStream; ++n) {
      m->amx_a = a[n] & 15;
      m->amx_w = w[n] & 15;
      m->amx_first = (n & 31) == 0;
      m->amx_last = (n & 31) == 31;
      m->amx_clk = 1;
      m->eval();
      m->amx_clk = 0;
      m->eval();
      sink += m->amx_sum_pp + m->amx_sum_nn;
    }
    ops += kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["PE_ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

// The 4 x 4 OliVe core: 16 PE operations per cycle while the stream is full (one OVP byte per
// row and column every other cycle).
void BM_Ovp4Array4x4(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Varray_unit>(ctx);
  const auto a = random_bytes(4 * kStream, 11), w = random_bytes(4 * kStream, 12);
  m->ovp_clk = 0;
  m->ovp_rst = 1;
  for (int i = 0; i < 2; ++i) {
    m->ovp_clk = 1;
    m->eval();
    m->ovp_clk = 0;
    m->eval();
  }
  m->ovp_rst = 0;
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t c = 0; c < 2 * kStream; ++c) {
      const int64_t p = c / 2;
      const bool byte = (c & 1) == 0;
      m->ovp_pair_valid = byte;
      m->ovp_pair_first = byte && (p & 511) == 0;
      if (byte) {
        m->ovp_a_pairs = static_cast<uint32_t>(a[4 * p] | a[4 * p + 1] << 8 | a[4 * p + 2] << 16 |
                                               uint32_t{a[4 * p + 3]} << 24);
        m->ovp_w_pairs = static_cast<uint32_t>(w[4 * p] | w[4 * p + 1] << 8 | w[4 * p + 2] << 16 |
                                               uint32_t{w[4 * p + 3]} << 24);
      }
      m->ovp_clk = 1;
      m->eval();
      m->ovp_clk = 0;
      m->eval();
      sink += m->ovp_acc[5];
    }
    ops += 16 * 2 * kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["PE_ops/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

// The olive4 OVP pair encoder: two FP32 values (x / s) per cycle in, one byte out.
void BM_Ovp4Encoder(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vquant_unit>(ctx);
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> u(-20.0f, 20.0f);
  std::vector<float> v(static_cast<size_t>(2 * kStream));
  for (auto& x : v) x = u(rng);
  m->ovp4_clk = 0;
  m->ovp4_valid = 1;
  m->eval();
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < kStream; ++n) {
      uint32_t b[2];
      std::memcpy(b, &v[2 * n], sizeof b);
      m->ovp4_v_even = b[0];
      m->ovp4_v_odd = b[1];
      m->ovp4_clk = 1;
      m->eval();
      m->ovp4_clk = 0;
      m->eval();
      sink += m->ovp4_pair;
    }
    ops += 2 * kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

// The MXFP4 block quantizer: one FP32 element per cycle in, one E2M1 code (and the block's
// E8M0 scale) out, blocks of 32 back to back.
void BM_Mxfp4Quantizer(benchmark::State& state) {
  VerilatedContext ctx;
  auto m = make_model<Vquant_unit>(ctx);
  std::mt19937 rng(14);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<uint32_t> v(static_cast<size_t>(kStream));
  for (auto& x : v) {
    const float f = g(rng);
    std::memcpy(&x, &f, sizeof x);
  }
  m->mxfp4_clk = 0;
  m->mxfp4_rst = 1;
  for (int i = 0; i < 2; ++i) {
    m->mxfp4_clk = 1;
    m->eval();
    m->mxfp4_clk = 0;
    m->eval();
  }
  m->mxfp4_rst = 0;
  m->mxfp4_away = 0;
  m->mxfp4_valid = 1;
  m->mxfp4_last = 0;
  int64_t ops = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    for (int64_t n = 0; n < kStream; ++n) {
      m->mxfp4_data = v[n];
      m->mxfp4_clk = 1;
      m->eval();
      m->mxfp4_clk = 0;
      m->eval();
      sink += m->mxfp4_code + m->mxfp4_scale;
    }
    ops += kStream;
  }
  benchmark::DoNotOptimize(sink);
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Ovp4Pe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ovp4PeChecked)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ovp8Pe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Int8Mac)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mxfp4Pe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Amxfp4Pe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ovp4Array4x4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ovp4Encoder)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mxfp4Quantizer)->Unit(benchmark::kMillisecond);

}  // namespace
