// Shared machinery of the RTL checks: a Verilated model with an optional VCD window, the
// check runner that replays a failing check with tracing on, and stream helpers. The expected
// values always come from quant/ (decode functions, DecodedTensor, reference_int_dot /
// reference_dot_segments / accumulate_segment): nothing here re-implements a format.
#pragma once

#include <verilated.h>
#include <verilated_vcd_c.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "qarch/quant/decoded.h"

namespace qarch::rtltest {

using i128 = __int128;

/// Decimal text of a 128-bit integer.
std::string to_string(i128 v);

/// The first disagreement of a check: the clock cycle and what differed (inputs, both results).
struct Mismatch {
  uint64_t cycle = 0;
  std::string what;
};
using MaybeMismatch = std::optional<Mismatch>;

/// Puts model M's inputs in a defined idle state (clocks low, valids low) after construction:
/// with --x-initial unique every variable, inputs included, starts random. Specialized per
/// model next to its tests.
template <class M>
struct SimInit {
  static void apply(M&) {}
};

/// A Verilated model M in its own context. With a VCD path, every evaluation whose cycle lies
/// in [from, to] is dumped (time unit: half a clock cycle).
template <class M>
class Sim {
 public:
  explicit Sim(const std::string& vcd_path = "", uint64_t from = 0, uint64_t to = UINT64_MAX)
      : ctx_(std::make_unique<VerilatedContext>()), from_(from), to_(to) {
    // Registers without a reset start random (--x-initial unique), reproducibly.
    ctx_->randReset(2);
    ctx_->randSeed(12345);
    if (!vcd_path.empty()) ctx_->traceEverOn(true);
    m_ = std::make_unique<M>(ctx_.get(), "top");
    if (!vcd_path.empty()) {
      tfp_ = std::make_unique<VerilatedVcdC>();
      m_->trace(tfp_.get(), 99);
      tfp_->open(vcd_path.c_str());
    }
    SimInit<M>::apply(*m_);
    eval();
  }
  ~Sim() {
    m_->final();
    if (tfp_) tfp_->close();
  }
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  M& m() { return *m_; }
  M* operator->() { return m_.get(); }
  /// Clock edges so far.
  uint64_t cycle() const { return cycle_; }

  /// Settles combinational logic (after changing inputs).
  void eval() {
    m_->eval();
    if (tfp_ && cycle_ >= from_ && cycle_ <= to_) tfp_->dump(time_);
    ++time_;
  }
  /// One rising edge of the clock that `set(v)` drives, then the falling edge.
  template <class SetClk>
  void posedge(SetClk set) {
    set(1);
    eval();
    ++cycle_;
    set(0);
    eval();
  }

 private:
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<M> m_;
  std::unique_ptr<VerilatedVcdC> tfp_;
  uint64_t from_, to_;
  uint64_t cycle_ = 0;
  uint64_t time_ = 0;
};

/// Directory for mismatch waveforms (QARCH_RTL_VCD_DIR, else the build's tests/rtl/vcd).
std::string vcd_dir();

/// Runs a check on a fresh model. On a mismatch the check runs again on a fresh model with a
/// VCD of the cycles [cycle - 200, cycle + 2] written to vcd_dir()/<name>.vcd, and the returned
/// Mismatch names the file. (Passing runs never trace.) The body must be deterministic.
template <class M>
MaybeMismatch run_check(const std::string& name,
                        const std::function<MaybeMismatch(Sim<M>&)>& body) {
  MaybeMismatch mm;
  {
    Sim<M> sim;
    mm = body(sim);
  }
  if (!mm) return mm;
  std::filesystem::create_directories(vcd_dir());
  const std::string path = vcd_dir() + "/" + name + ".vcd";
  {
    Sim<M> sim(path, mm->cycle > 200 ? mm->cycle - 200 : 0, mm->cycle + 2);
    body(sim);
  }
  mm->what += "\n  waveform: " + path;
  return mm;
}

/// Fails the current test with the mismatch report, if any.
#define QARCH_EXPECT_NO_MISMATCH(expr)                                                     \
  do {                                                                                     \
    const ::qarch::rtltest::MaybeMismatch mm_ = (expr);                                    \
    if (mm_) ADD_FAILURE() << "RTL mismatch at cycle " << mm_->cycle << ": " << mm_->what; \
  } while (0)

/// Sign-extends the low `bits` bits of v.
inline int64_t sext(uint64_t v, int bits) {
  const uint64_t m = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  v &= m;
  if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~m;
  return static_cast<int64_t>(v);
}

/// v reduced to `bits` bits and sign-extended (what a bits-wide two's-complement register holds).
inline int64_t wrap(i128 v, int bits) {
  return sext(static_cast<uint64_t>(v), bits);
}

/// Checks an accumulating PE over a stream of elements n = 0 .. count-1 (one per clock edge),
/// restarting at every tile boundary (first(n)). After each edge the PE's accumulator
/// (read_acc, `acc_bits` wide) must equal the exact running sum of quant's per-element products
/// product(n) within the tile, and at each tile's end (last(n)) also quant's whole-tile sum
/// tile_sum(n0, n1) over [n0, n1) (one reference_int_dot). The stream must not overflow the
/// accumulator (checked: that would be a test design error). describe(n) names element n's
/// inputs for the report.
struct MacStream {
  int64_t count = 0;
  int acc_bits = 32;
  std::function<bool(int64_t)> first;
  std::function<bool(int64_t)> last;
  std::function<void(int64_t n, bool first, bool last)> drive;  ///< set the inputs
  std::function<void()> clock;                                  ///< one clock edge
  std::function<int64_t()> read_acc;
  std::function<i128(int64_t)> product;
  std::function<i128(int64_t n0, int64_t n1)> tile_sum;
  std::function<std::string(int64_t)> describe;
  /// Optional extra check after element n's edge (block exponent, ...): a mismatch text or "".
  std::function<std::string(int64_t n)> extra;
};

template <class M>
MaybeMismatch check_mac_stream(Sim<M>& sim, const MacStream& s) {
  i128 run = 0;
  int64_t n0 = 0;
  const i128 lim = i128{1} << (s.acc_bits - 1);
  for (int64_t n = 0; n < s.count; ++n) {
    const bool first = s.first(n), last = s.last(n);
    if (first) {
      run = 0;
      n0 = n;
    }
    s.drive(n, first, last);
    s.clock();
    run += s.product(n);
    if (run >= lim || run < -lim) {
      return Mismatch{sim.cycle(), "test stream overflows the " + std::to_string(s.acc_bits) +
                                       "-bit accumulator at element " + std::to_string(n)};
    }
    const int64_t got = s.read_acc();
    const int64_t want = wrap(run, s.acc_bits);
    if (got != want) {
      return Mismatch{sim.cycle(), "element " + std::to_string(n) + " (tile from " +
                                       std::to_string(n0) + "): " + s.describe(n) + "; RTL acc " +
                                       std::to_string(got) + ", quant running sum " +
                                       std::to_string(want)};
    }
    if (last) {
      const i128 tile = s.tile_sum(n0, n + 1);
      if (tile != run) {
        return Mismatch{sim.cycle(), "tile [" + std::to_string(n0) + ", " + std::to_string(n + 1) +
                                         "): quant tile sum " + to_string(tile) +
                                         " != running sum " + to_string(run)};
      }
    }
    if (s.extra) {
      const std::string e = s.extra(n);
      if (!e.empty()) return Mismatch{sim.cycle(), "element " + std::to_string(n) + ": " + e};
    }
  }
  return std::nullopt;
}

/// A 1 x n DecodedTensor (one scale group, scale 1) from exponent-integer pairs: the hardware
/// view of a stream of elements, for reference_int_dot.
quant::DecodedTensor decoded_row(const std::vector<int32_t>& mant,
                                 const std::vector<uint8_t>& shift);

/// Layer operands from the calibrated outlier generator of workloads/ (seeded; default
/// profile): activations X [rows, cols] as the FFN down-projection input of a layer (outlier
/// channels, massive activations, heavy tail), weights W [rows, cols] as its down-projection
/// weight (with super weights). Synthetic but calibrated to published LLM statistics; no real
/// checkpoint is read.
std::vector<float> outlier_activations(int64_t rows, int64_t cols, uint32_t seed);
std::vector<float> outlier_weights(int64_t rows, int64_t cols, uint32_t seed);

/// Element count for the random-stream checks: `def` normally, `long_count` with
/// QARCH_RTL_LONG=1 (the opt-in long run).
int64_t stream_count(int64_t def, int64_t long_count);

}  // namespace qarch::rtltest
