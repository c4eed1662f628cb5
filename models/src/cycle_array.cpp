#include "cycle_array.h"

#include <algorithm>
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

int64_t CycleArray::run_tile(const std::vector<CycleFold>& folds,
                             const std::vector<int64_t>& pauses, FunctionalGemm* fn,
                             const std::function<void()>& tick) {
  if (folds.empty()) return 0;
  if (pauses.size() != folds.size()) throw std::logic_error("CycleArray: one pause per fold");
  return dataflow_ == Dataflow::kOutputStationary ? run_tile_os(folds, pauses, fn, tick)
                                                  : run_tile_stationary(folds, pauses, fn, tick);
}

int64_t CycleArray::run_tile_stationary(const std::vector<CycleFold>& folds,
                                        const std::vector<int64_t>& pauses, FunctionalGemm* fn,
                                        const std::function<void()>& tick) {
  const bool ws = dataflow_ == Dataflow::kWeightStationary;
  const int64_t R = R_, C = C_, F = static_cast<int64_t>(folds.size());
  const int64_t T = ws ? folds[0].ni : folds[0].nj;
  // Schedule: fold g's stream enters row 0 at S[g]; its stationary operand shifts in during
  // [S[g] - R, S[g]).
  std::vector<int64_t> S(static_cast<size_t>(F));
  for (int64_t g = 0; g < F; ++g) {
    const CycleFold& f = folds[static_cast<size_t>(g)];
    if ((ws ? f.ni : f.nj) != T) throw std::logic_error("CycleArray: folds of a tile differ in T");
    if (f.nk > R || (ws ? f.nj : f.ni) > C || f.nk <= 0 || T <= 0)
      throw std::logic_error("CycleArray: fold does not fit the array");
    S[static_cast<size_t>(g)] = g == 0 ? R : S[static_cast<size_t>(g - 1)] + std::max(T, R + C);
  }
  // Scale-segment lanes of each fold's k range (functional runs only).
  std::vector<std::vector<int64_t>> lane_start(static_cast<size_t>(F)),
      lane_of(static_cast<size_t>(F));
  size_t L = 0;
  for (int64_t g = 0; g < F && fn; ++g) {
    const CycleFold& f = folds[static_cast<size_t>(g)];
    auto& ls = lane_start[static_cast<size_t>(g)];
    auto& lo = lane_of[static_cast<size_t>(g)];
    for (int64_t r = 0; r < f.nk; ++r) {
      const int64_t s = fn->segment_start(f.k0 + r);
      if (ls.empty() || ls.back() != s) ls.push_back(s);
      lo.push_back(static_cast<int64_t>(ls.size()) - 1);
    }
    L = std::max(L, ls.size());
  }
  const size_t n = static_cast<size_t>(R * C);
  // Active and shadow stationary registers: (fold, k) or fold -1; `pending` = a shadow value
  // not yet taken into the active register.
  std::vector<int64_t> act_f(n, -1), act_k(n, -1), sh_f(n, -1), sh_k(n, -1);
  std::vector<uint8_t> pending(n, 0);
  // Stream and partial-sum registers: (fold, t) or fold -1.
  std::vector<int64_t> a_f(n, -1), a_t(n, -1), p_f(n, -1), p_t(n, -1);
  std::vector<quant::IntDot> lanes(n * std::max<size_t>(L, 1));
  const int64_t target = F * T * C;
  int64_t emitted = 0, cycles = 0, next_pause = 0;
  for (int64_t s = 0; emitted < target; ++s) {
    // Slowdowns: the whole array stands still before a fold's first injection.
    while (next_pause < F && S[static_cast<size_t>(next_pause)] == s) {
      for (int64_t i = 0; i < pauses[static_cast<size_t>(next_pause)]; ++i) tick();
      ++next_pause;
    }
    // The stationary shift: fold g loads during [S[g] - R, S[g]), the bottom row's value first.
    // The values enter at the top and move down one row per cycle, so in shift cycle i only
    // rows 0..i are written (a row's shadow is first touched in cycle r of the shift).
    for (int64_t g = 0; g < F; ++g) {
      const int64_t i = s - (S[static_cast<size_t>(g)] - R);
      if (i < 0 || i >= R) continue;
      const CycleFold& f = folds[static_cast<size_t>(g)];
      const int64_t ncols = ws ? f.nj : f.ni;
      const int64_t dest = R - 1 - i;
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t r = i; r >= 0; --r) {
          const size_t idx = static_cast<size_t>(r * C + c);
          if (pending[idx] && sh_k[idx] >= 0)
            throw std::logic_error("CycleArray: a shadow register was overwritten before use");
          if (r > 0) {
            const size_t up = static_cast<size_t>((r - 1) * C + c);
            sh_f[idx] = sh_f[up], sh_k[idx] = sh_k[up];
          } else {
            sh_f[idx] = g;
            sh_k[idx] = (dest < f.nk && c < ncols) ? f.k0 + dest : -1;
          }
          pending[idx] = i == R - 1 ? 1 : 0;  // complete once the shift is done
        }
      }
    }
    for (int64_t r = R - 1; r >= 0; --r) {
      for (int64_t c = C - 1; c >= 0; --c) {
        const size_t idx = static_cast<size_t>(r * C + c);
        int64_t in_f = -1, in_t = -1;
        if (c == 0) {
          for (int64_t g = 0; g < F; ++g) {
            const int64_t t = s - S[static_cast<size_t>(g)] - r;
            if (t >= 0 && t < T && r < folds[static_cast<size_t>(g)].nk) in_f = g, in_t = t;
          }
        } else {
          in_f = a_f[idx - 1], in_t = a_t[idx - 1];
        }
        a_f[idx] = in_f, a_t[idx] = in_t;
        quant::IntDot* lane = L ? &lanes[idx * L] : nullptr;
        if (r == 0) {
          p_f[idx] = in_f, p_t[idx] = in_t;
          for (size_t l = 0; l < L; ++l) lane[l] = quant::IntDot{};
        } else {
          p_f[idx] = p_f[idx - static_cast<size_t>(C)],
          p_t[idx] = p_t[idx - static_cast<size_t>(C)];
          const quant::IntDot* up = L ? &lanes[(idx - static_cast<size_t>(C)) * L] : nullptr;
          for (size_t l = 0; l < L; ++l) lane[l] = up[l];
        }
        if (in_f >= 0 && (p_f[idx] != in_f || p_t[idx] != in_t))
          throw std::logic_error("CycleArray: partial sum and stream element out of step");
        if (in_f >= 0 && act_f[idx] != in_f) {  // fold in_f's first element: swap in its operand
          if (sh_f[idx] != in_f || !pending[idx])
            throw std::logic_error("CycleArray: stationary operand not loaded in time");
          act_f[idx] = sh_f[idx], act_k[idx] = sh_k[idx];
          pending[idx] = 0;
        }
        if (fn && in_f >= 0 && act_k[idx] >= 0) {
          const CycleFold& f = folds[static_cast<size_t>(in_f)];
          if (c < (ws ? f.nj : f.ni)) {
            const int64_t k = act_k[idx];
            const int64_t i = ws ? f.i0 + in_t : f.i0 + c;
            const int64_t j = ws ? f.j0 + c : f.j0 + in_t;
            add_into(lane[static_cast<size_t>(
                         lane_of[static_cast<size_t>(in_f)][static_cast<size_t>(k - f.k0)])],
                     fn->dot(i, j, k, k + 1));
          }
        }
        if (r == R - 1 && p_f[idx] >= 0) {
          ++emitted;
          const CycleFold& f = folds[static_cast<size_t>(p_f[idx])];
          if (fn && c < (ws ? f.nj : f.ni)) {
            const int64_t t = p_t[idx];
            const int64_t i = ws ? f.i0 + t : f.i0 + c;
            const int64_t j = ws ? f.j0 + c : f.j0 + t;
            const auto& ls = lane_start[static_cast<size_t>(p_f[idx])];
            for (size_t l = 0; l < ls.size(); ++l) fn->add(i, j, ls[l], lane[l]);
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

int64_t CycleArray::run_tile_os(const std::vector<CycleFold>& folds,
                                const std::vector<int64_t>& pauses, FunctionalGemm* fn,
                                const std::function<void()>& tick) {
  const int64_t R = R_, C = C_, F = static_cast<int64_t>(folds.size());
  const int64_t T = folds[0].nk;
  std::vector<int64_t> S(static_cast<size_t>(F)), D(static_cast<size_t>(F));
  for (int64_t g = 0; g < F; ++g) {
    const CycleFold& f = folds[static_cast<size_t>(g)];
    if (f.nk != T) throw std::logic_error("CycleArray: folds of a tile differ in T");
    if (f.ni > R || f.nj > C || T <= 0 || f.ni <= 0 || f.nj <= 0)
      throw std::logic_error("CycleArray: fold does not fit the array");
    S[static_cast<size_t>(g)] =
        g == 0 ? 0 : S[static_cast<size_t>(g - 1)] + std::max(T, 2 * R + C - 2);
    D[static_cast<size_t>(g)] = S[static_cast<size_t>(g)] + T + R + C - 2;  // drain start
  }
  const size_t n = static_cast<size_t>(R * C);
  std::vector<int64_t> x_f(n, -1), x_t(n, -1), w_f(n, -1), w_t(n, -1);
  std::vector<int64_t> pairs(n, 0);              // pairs seen by the fold in the accumulator
  std::vector<int64_t> acc_f(n, -1), sh(n, -1);  // accumulator's fold; shadow's fold or -1
  const int64_t end = D[static_cast<size_t>(F - 1)] + R;
  int64_t cycles = 0, next_pause = 0;
  for (int64_t s = 0; s < end; ++s) {
    while (next_pause < F && S[static_cast<size_t>(next_pause)] == s) {
      for (int64_t i = 0; i < pauses[static_cast<size_t>(next_pause)]; ++i) tick();
      ++next_pause;
    }
    // Drain: fold g's shadows shift down one row per cycle during [D[g], D[g] + R).
    for (int64_t g = 0; g < F; ++g) {
      const int64_t i = s - D[static_cast<size_t>(g)];
      if (i < 0 || i >= R) continue;
      if (i == 0) {
        for (size_t idx = 0; idx < n; ++idx)
          if (sh[idx] != g) throw std::logic_error("CycleArray: OS drain before the fold ended");
      }
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t r = R - 1; r > 0; --r)
          sh[static_cast<size_t>(r * C + c)] = sh[static_cast<size_t>((r - 1) * C + c)];
        sh[static_cast<size_t>(c)] = -1;
      }
    }
    for (int64_t r = R - 1; r >= 0; --r) {
      for (int64_t c = C - 1; c >= 0; --c) {
        const size_t idx = static_cast<size_t>(r * C + c);
        int64_t xf = -1, xt = -1, wf = -1, wt = -1;
        if (c == 0) {
          for (int64_t g = 0; g < F; ++g) {
            const int64_t t = s - S[static_cast<size_t>(g)] - r;
            if (t >= 0 && t < T) xf = g, xt = t;
          }
        } else {
          xf = x_f[idx - 1], xt = x_t[idx - 1];
        }
        if (r == 0) {
          for (int64_t g = 0; g < F; ++g) {
            const int64_t t = s - S[static_cast<size_t>(g)] - c;
            if (t >= 0 && t < T) wf = g, wt = t;
          }
        } else {
          wf = w_f[idx - static_cast<size_t>(C)], wt = w_t[idx - static_cast<size_t>(C)];
        }
        x_f[idx] = xf, x_t[idx] = xt, w_f[idx] = wf, w_t[idx] = wt;
        if (xf < 0 && wf < 0) continue;
        if (xf != wf || xt != wt) throw std::logic_error("CycleArray: OS operands out of step");
        if (acc_f[idx] != xf) acc_f[idx] = xf, pairs[idx] = 0;
        const CycleFold& f = folds[static_cast<size_t>(xf)];
        if (fn && r < f.ni && c < f.nj) {
          const int64_t k = f.k0 + xt;
          fn->add(f.i0 + r, f.j0 + c, fn->segment_start(k), fn->dot(f.i0 + r, f.j0 + c, k, k + 1));
        }
        if (++pairs[idx] == T) {  // the accumulator is finished: hand it to the shadow
          if (sh[idx] >= 0)
            throw std::logic_error("CycleArray: an OS result overwrote an undrained one");
          sh[idx] = xf;
        }
      }
    }
    pe_cycles_ += static_cast<uint64_t>(R * C);
    ++cycles;
    tick();
  }
  return cycles;
}

}  // namespace qarch::models::detail
