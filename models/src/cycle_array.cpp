#include "cycle_array.h"

#include <stdexcept>

namespace qarch::models::detail {

CycleArray::CycleArray(Dataflow d, int64_t rows, int64_t cols) : dataflow_(d), R_(rows), C_(cols) {}

int64_t CycleArray::run(const CycleFold& f, FunctionalGemm* fn, const std::function<void()>& tick) {
  return dataflow_ == Dataflow::kOutputStationary ? run_os(f, fn, tick)
                                                  : run_stationary(f, fn, tick);
}

int64_t CycleArray::run_stationary(const CycleFold& f, FunctionalGemm* fn,
                                   const std::function<void()>& tick) {
  const bool ws = dataflow_ == Dataflow::kWeightStationary;
  const int64_t R = R_, C = C_, nk = f.nk;
  const int64_t T = ws ? f.ni : f.nj;      // streamed
  const int64_t ncols = ws ? f.nj : f.ni;  // stationary columns in use
  if (nk > R || ncols > C || nk <= 0 || T <= 0) {
    throw std::logic_error("CycleArray: fold does not fit the array");
  }
  // Scale-segment lanes of this fold's k range (functional runs only).
  std::vector<int64_t> lane_start, lane_of(static_cast<size_t>(nk), 0);
  if (fn) {
    for (int64_t r = 0; r < nk; ++r) {
      const int64_t s = fn->segment_start(f.k0 + r);
      if (lane_start.empty() || lane_start.back() != s) lane_start.push_back(s);
      lane_of[static_cast<size_t>(r)] = static_cast<int64_t>(lane_start.size()) - 1;
    }
  }
  const int64_t L = static_cast<int64_t>(lane_start.size());
  const size_t n = static_cast<size_t>(R * C);
  std::vector<int64_t> s_k(n, -1), a_t(n, -1), p_t(n, -1);
  std::vector<quant::IntDot> lanes(n * static_cast<size_t>(L));
  int64_t cycles = 0;

  // Load: shift the stationary operand down from the top edge, bottom row's element first.
  for (int64_t cyc = 0; cyc < R; ++cyc) {
    const int64_t dest = R - 1 - cyc;
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t r = R - 1; r > 0; --r) s_k[r * C + c] = s_k[(r - 1) * C + c];
      s_k[c] = (dest < nk && c < ncols) ? f.k0 + dest : -1;
    }
    pe_cycles_ += static_cast<uint64_t>(R * C);
    ++cycles;
    tick();
  }

  // Stream + drain: until the partial sums of all T stream steps left all C columns.
  const int64_t target = T * C;
  int64_t emitted = 0;
  for (int64_t s = 0; emitted < target; ++s) {
    for (int64_t r = R - 1; r >= 0; --r) {
      for (int64_t c = C - 1; c >= 0; --c) {
        const int64_t idx = r * C + c;
        // Registers of the left / upper neighbour still hold last cycle's values (we sweep
        // from the bottom-right corner).
        const int64_t in_a =
            c == 0 ? ((r < nk && s - r >= 0 && s - r < T) ? s - r : -1) : a_t[idx - 1];
        a_t[idx] = in_a;
        quant::IntDot* lane = L ? &lanes[static_cast<size_t>(idx * L)] : nullptr;
        if (r == 0) {
          p_t[idx] = in_a;
          for (int64_t l = 0; l < L; ++l) lane[l] = quant::IntDot{};
        } else {
          p_t[idx] = p_t[idx - C];
          const quant::IntDot* up = L ? &lanes[static_cast<size_t>((idx - C) * L)] : nullptr;
          for (int64_t l = 0; l < L; ++l) lane[l] = up[l];
        }
        if (in_a >= 0 && p_t[idx] != in_a) {
          throw std::logic_error("CycleArray: partial sum and stream element out of step");
        }
        if (fn && in_a >= 0 && s_k[idx] >= 0 && c < ncols) {
          const int64_t k = s_k[idx];
          const int64_t i = ws ? f.i0 + in_a : f.i0 + c;
          const int64_t j = ws ? f.j0 + c : f.j0 + in_a;
          add_into(lane[lane_of[static_cast<size_t>(k - f.k0)]], fn->dot(i, j, k, k + 1));
        }
        if (r == R - 1 && p_t[idx] >= 0) {
          ++emitted;
          if (fn && c < ncols) {
            const int64_t t = p_t[idx];
            const int64_t i = ws ? f.i0 + t : f.i0 + c;
            const int64_t j = ws ? f.j0 + c : f.j0 + t;
            for (int64_t l = 0; l < L; ++l)
              fn->add(i, j, lane_start[static_cast<size_t>(l)], lane[l]);
          }
        }
      }
    }
    pe_cycles_ += static_cast<uint64_t>(R * C);
    ++cycles;
    tick();
  }
  return cycles;
}

int64_t CycleArray::run_os(const CycleFold& f, FunctionalGemm* fn,
                           const std::function<void()>& tick) {
  const int64_t R = R_, C = C_, T = f.nk;
  if (f.ni > R || f.nj > C || T <= 0 || f.ni <= 0 || f.nj <= 0) {
    throw std::logic_error("CycleArray: fold does not fit the array");
  }
  const size_t n = static_cast<size_t>(R * C);
  std::vector<int64_t> x_k(n, -1), w_k(n, -1);
  int64_t cycles = 0;
  // Compute: until every PE has seen all T operand pairs (padding included).
  const int64_t target = R * C * T;
  int64_t pairs = 0;
  for (int64_t s = 0; pairs < target; ++s) {
    for (int64_t r = R - 1; r >= 0; --r) {
      for (int64_t c = C - 1; c >= 0; --c) {
        const int64_t idx = r * C + c;
        const int64_t in_x = c == 0 ? ((s - r >= 0 && s - r < T) ? s - r : -1) : x_k[idx - 1];
        const int64_t in_w = r == 0 ? ((s - c >= 0 && s - c < T) ? s - c : -1) : w_k[idx - C];
        x_k[idx] = in_x;
        w_k[idx] = in_w;
        if (in_x < 0 && in_w < 0) continue;
        if (in_x != in_w) throw std::logic_error("CycleArray: OS operands out of step");
        ++pairs;
        if (fn && r < f.ni && c < f.nj) {
          const int64_t k = f.k0 + in_x;
          fn->add(f.i0 + r, f.j0 + c, fn->segment_start(k), fn->dot(f.i0 + r, f.j0 + c, k, k + 1));
        }
      }
    }
    pe_cycles_ += static_cast<uint64_t>(R * C);
    ++cycles;
    tick();
  }
  // Drain: the accumulators shift down one row per cycle and leave through the bottom edge.
  std::vector<uint8_t> held(n, 1);
  for (bool any = true; any;) {
    any = false;
    for (int64_t r = R - 1; r >= 0; --r) {
      for (int64_t c = 0; c < C; ++c) {
        held[static_cast<size_t>(r * C + c)] =
            r > 0 ? held[static_cast<size_t>((r - 1) * C + c)] : 0;
      }
    }
    for (uint8_t h : held) any = any || h;
    pe_cycles_ += static_cast<uint64_t>(R * C);
    ++cycles;
    tick();
  }
  return cycles;
}

}  // namespace qarch::models::detail
