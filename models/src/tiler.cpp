#include "qarch/models/tiler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "qarch/quant/error.h"

namespace qarch::models {

ArrayDims map_gemm(Dataflow d, int64_t m, int64_t n, int64_t k) {
  switch (d) {
    case Dataflow::kOutputStationary:
      return {m, n, k};
    case Dataflow::kWeightStationary:
      return {k, n, m};
    case Dataflow::kInputStationary:
      return {k, m, n};
  }
  return {};
}

namespace {

// Cycles to move `bytes` at `bw` bytes per cycle (0 = unlimited).
int64_t port_cycles(double bytes, double bw) {
  if (bw <= 0 || bytes <= 0) return 0;
  return static_cast<int64_t>(std::ceil(bytes / bw - 1e-9));
}

int64_t decode_cycles(int64_t elements_per_decoder, double rate) {
  if (rate >= 1.0) return elements_per_decoder;
  return static_cast<int64_t>(std::ceil(static_cast<double>(elements_per_decoder) / rate - 1e-9));
}

// Stretches a phase of `nominal` cycles to the slowest of its limits; records why.
struct Phase {
  int64_t nominal;
  int64_t time;
  int which = -1;  // -1 none, 0..2 buffer port, 3 decoder
  explicit Phase(int64_t n) : nominal(n), time(n) {}
  void limit(int64_t t, int why) {
    if (t > time) {
      time = t;
      which = why;
    }
  }
  void charge(FoldModel::Cost& c) const {
    const int64_t extra = time - nominal;
    if (extra <= 0) return;
    if (which == 3) {
      c.decoder_stall += extra;
    } else {
      c.port_stall[which] += extra;
    }
  }
};

}  // namespace

FoldModel::Cost FoldModel::fold(int64_t r, int64_t c, int64_t t, bool accumulate) const {
  Cost cost;
  const int64_t R = rows, C = cols;
  cost.compute = 2 * R + C + t - 2 + decoder_latency;
  const double acc = static_cast<double>(acc_bytes);
  if (dataflow == Dataflow::kOutputStationary) {
    // Stream: r X elements per step from the left, c W elements per step from the top.
    Phase stream(t);
    stream.limit(decode_cycles(t, decoder_rate), 3);
    stream.limit(port_cycles(static_cast<double>(r * t) * x_bits / 8.0, in_bw), 0);
    stream.limit(port_cycles(static_cast<double>(c * t) * w_bits / 8.0, w_bw), 1);
    // Drain: r x c partial sums out (and the previous partials in, when accumulating).
    Phase drain(R);
    drain.limit(port_cycles(static_cast<double>(r * c) * acc * (accumulate ? 2 : 1), out_bw), 2);
    stream.charge(cost);
    drain.charge(cost);
    cost.busy = cost.compute + (stream.time - stream.nominal) + (drain.time - drain.nominal);
    return cost;
  }
  const bool ws = dataflow == Dataflow::kWeightStationary;
  const double s_bits = ws ? w_bits : x_bits, a_bits = ws ? x_bits : w_bits;
  const double s_bw = ws ? w_bw : in_bw, a_bw = ws ? in_bw : w_bw;
  const int s_buf = ws ? 1 : 0, a_buf = ws ? 0 : 1;
  // Load: r x c stationary elements, each top decoder delivers its column's r elements.
  Phase load(R);
  load.limit(decode_cycles(r, decoder_rate), 3);
  load.limit(port_cycles(static_cast<double>(r * c) * s_bits / 8.0, s_bw), s_buf);
  // Stream: r elements per step from the left; c partial sums per step into the output buffer.
  Phase stream(t);
  stream.limit(decode_cycles(t, decoder_rate), 3);
  stream.limit(port_cycles(static_cast<double>(r * t) * a_bits / 8.0, a_bw), a_buf);
  stream.limit(port_cycles(static_cast<double>(c * t) * acc * (accumulate ? 2 : 1), out_bw), 2);
  load.charge(cost);
  stream.charge(cost);
  cost.busy = cost.compute + (load.time - load.nominal) + (stream.time - stream.nominal);
  return cost;
}

namespace {

// Chunks of a dimension of size D cut by `a`: (size, count) pairs.
std::vector<std::pair<int64_t, int64_t>> chunks(int64_t D, int64_t a) {
  std::vector<std::pair<int64_t, int64_t>> v;
  if (D <= 0) return v;
  if (D / a > 0) v.emplace_back(a, D / a);
  if (D % a) v.emplace_back(D % a, 1);
  return v;
}

}  // namespace

std::vector<FoldClass> fold_classes(const FoldModel& fm, int64_t m, int64_t n, int64_t k,
                                    bool first_k) {
  std::vector<FoldClass> out;
  const ArrayDims d = map_gemm(fm.dataflow, m, n, k);
  if (d.sr <= 0 || d.sc <= 0 || d.t <= 0) return out;
  const auto rs = chunks(d.sr, fm.rows), cs = chunks(d.sc, fm.cols);
  for (const auto& [c, cc] : cs) {
    if (fm.dataflow == Dataflow::kOutputStationary) {
      for (const auto& [r, rc] : rs) out.push_back({r, c, d.t, rc * cc, !first_k});
      continue;
    }
    // WS/IS: the SR folds of a column chunk run in K order; only the first of them may start
    // fresh partial sums.
    bool first = true;
    for (const auto& [r, rc] : rs) {
      int64_t count = rc;
      if (first) {
        out.push_back({r, c, d.t, cc, !first_k});
        --count;
        first = false;
      }
      if (count > 0) out.push_back({r, c, d.t, count * cc, true});
    }
  }
  return out;
}

Tile TilePlan::tile(int64_t idx) const {
  auto coords = [this](int64_t i, int64_t& mb, int64_t& nb, int64_t& kb) {
    kb = i % nk;
    if (n_inner) {
      nb = (i / nk) % nn;
      mb = i / (nk * nn);
    } else {
      mb = (i / nk) % nm;
      nb = i / (nk * nm);
    }
  };
  int64_t mb, nb, kb;
  coords(idx, mb, nb, kb);
  Tile t;
  t.m0 = mb * tm;
  t.m1 = std::min(m, t.m0 + tm);
  t.n0 = nb * tn;
  t.n1 = std::min(n, t.n0 + tn);
  t.k0 = kb * tk;
  t.k1 = std::min(k, t.k0 + tk);
  t.first_k = kb == 0;
  t.last_k = kb == nk - 1;
  if (idx > 0) {
    int64_t pm, pn, pk;
    coords(idx - 1, pm, pn, pk);
    t.new_x = pm != mb || pk != kb;
    t.new_w = pn != nb || pk != kb;
  }
  return t;
}

namespace {

std::vector<int64_t> spatial_candidates(int64_t D, int64_t a) {
  std::vector<int64_t> v;
  for (int64_t t = a; t < D; t *= 2) v.push_back(t);
  v.push_back(D);
  return v;
}

std::vector<int64_t> temporal_candidates(int64_t D) {
  std::vector<int64_t> v{D};
  for (int64_t t = D; t > 1;) {
    t = (t + 1) / 2;
    v.push_back(t);
  }
  return v;
}

struct Eval {
  bool fits = false;
  double est = 0;
  uint64_t dram = 0;
  uint64_t compute = 0;
  int64_t tiles = 0;
};

// Sum over the blocks of a (size, count) list of f(size) * count.
template <typename F>
double sum_blocks(const std::vector<std::pair<int64_t, int64_t>>& b, F f) {
  double s = 0;
  for (const auto& [size, count] : b) s += f(size) * static_cast<double>(count);
  return s;
}

}  // namespace

JobPlan plan_job(const ArchConfig& arch, const GemmJob& job) {
  const std::string who = "job '" + job.name + "'";
  if (job.m < 0 || job.n < 0 || job.k < 0) {
    throw Error(who + ": m, n, k must be >= 0 (got " + std::to_string(job.m) + ", " +
                std::to_string(job.n) + ", " + std::to_string(job.k) + ")");
  }
  if (job.batch < 1) throw Error(who + ".batch: must be >= 1, got " + std::to_string(job.batch));
  JobPlan jp;
  jp.pe = &pe_type(arch.array.pe);
  jp.x_format = &operand_format(job.x_format, who + ".x_format");
  jp.w_format = &operand_format(job.w_format, who + ".w_format");
  for (int side = 0; side < 2; ++side) {
    const bool is_x = side == 0;
    const OperandFormat& f = is_x ? *jp.x_format : *jp.w_format;
    if (!jp.pe->accepts(f, is_x)) {
      throw Error(who + "." + (is_x ? "x_format" : "w_format") + ": format '" + f.spec +
                  "' is not supported by arch.array.pe '" + jp.pe->name() + "' (accepts " +
                  jp.pe->accepted(is_x) + ")");
    }
  }
  FoldModel& fm = jp.fold_model;
  fm.dataflow = arch.array.dataflow;
  fm.rows = arch.array.rows / jp.pe->fuse();
  fm.cols = arch.array.cols / jp.pe->fuse();
  fm.decoder_latency = arch.decoder.latency_cycles;
  fm.decoder_rate = arch.decoder.elements_per_cycle;
  fm.in_bw = arch.input_buffer.ideal ? 0 : arch.input_buffer.bandwidth_bytes_per_cycle();
  fm.w_bw = arch.weight_buffer.ideal ? 0 : arch.weight_buffer.bandwidth_bytes_per_cycle();
  fm.out_bw = arch.output_buffer.ideal ? 0 : arch.output_buffer.bandwidth_bytes_per_cycle();
  fm.x_bits = jp.x_format->bits_a;
  fm.w_bits = jp.w_format->bits_a;
  fm.acc_bytes = arch.accumulator_bytes;

  TilePlan& p = jp.plan;
  p.m = job.m;
  p.n = job.n;
  p.k = job.k;
  p.batch = job.batch;
  if (job.m == 0 || job.n == 0 || job.k == 0) {
    p.tm = job.m;
    p.tn = job.n;
    p.tk = job.k;
    return jp;  // nothing to compute: no tiles
  }

  // Which GEMM dimension sits on the array rows / columns / time for this dataflow.
  const int64_t R = fm.rows, C = fm.cols;
  std::vector<int64_t> cm, cn, ck;
  switch (fm.dataflow) {
    case Dataflow::kOutputStationary:
      cm = spatial_candidates(job.m, R), cn = spatial_candidates(job.n, C);
      ck = temporal_candidates(job.k);
      break;
    case Dataflow::kWeightStationary:
      ck = spatial_candidates(job.k, R), cn = spatial_candidates(job.n, C);
      cm = temporal_candidates(job.m);
      break;
    case Dataflow::kInputStationary:
      ck = spatial_candidates(job.k, R), cm = spatial_candidates(job.m, C);
      cn = temporal_candidates(job.n);
      break;
  }

  const BufferConfig& ib = arch.input_buffer;
  const BufferConfig& wb = arch.weight_buffer;
  const BufferConfig& ob = arch.output_buffer;
  const bool pipelined = (ib.ideal || ib.double_buffered) && (wb.ideal || wb.double_buffered) &&
                         (ob.ideal || ob.double_buffered);
  const double bw = arch.dram.ideal ? 0.0 : arch.dram.bandwidth_bytes_per_cycle;
  const double lat = arch.dram.ideal ? 0.0 : static_cast<double>(arch.dram.latency_cycles);
  auto dram_time = [bw](double bytes) { return bw > 0 ? bytes / bw : 0.0; };
  const OperandFormat& xf = *jp.x_format;
  const OperandFormat& wf = *jp.w_format;

  struct Candidate {
    Eval e;
    int64_t tm, tn, tk;
    bool n_inner;
  };
  std::vector<Candidate> fitting;
  for (int64_t tm : cm) {
    for (int64_t tn : cn) {
      const int64_t yb = tm * tn * arch.accumulator_bytes;
      if (!ob.ideal && yb > ob.tile_capacity_bytes()) continue;
      for (int64_t tk : ck) {
        const int64_t xb = xf.storage_bytes(tm, tk), wbytes = wf.storage_bytes(tn, tk);
        if (!ib.ideal && xb > ib.tile_capacity_bytes()) continue;
        if (!wb.ideal && wbytes > wb.tile_capacity_bytes()) continue;
        const auto mb = chunks(job.m, tm), nb = chunks(job.n, tn), kb = chunks(job.k, tk);
        const int64_t nm = (job.m + tm - 1) / tm, nn = (job.n + tn - 1) / tn,
                      nk = (job.k + tk - 1) / tk;
        // Compute: every tile class times its fold classes.
        double busy = 0, compute = 0;
        for (const auto& [ms, mc] : mb) {
          for (const auto& [ns, nc] : nb) {
            int64_t kseen = 0;
            for (const auto& [ks, kc] : kb) {
              for (int64_t first = 1; first >= 0; --first) {
                const int64_t count = first ? (kseen == 0 ? 1 : 0) : kc - (kseen == 0 ? 1 : 0);
                if (count <= 0) continue;
                for (const FoldClass& f : fold_classes(fm, ms, ns, ks, first != 0)) {
                  const FoldModel::Cost c = fm.fold(f.r, f.c, f.t, f.accumulate);
                  const double n_f = static_cast<double>(f.count * count * mc * nc);
                  busy += static_cast<double>(c.busy) * n_f;
                  compute += static_cast<double>(c.compute) * n_f;
                }
              }
              kseen += kc;
            }
          }
        }
        const double x_all = sum_blocks(mb, [&](int64_t ms) {
          return sum_blocks(kb, [&](int64_t ks) { return double(xf.storage_bytes(ms, ks)); });
        });
        const double w_all = sum_blocks(nb, [&](int64_t ns) {
          return sum_blocks(kb, [&](int64_t ks) { return double(wf.storage_bytes(ns, ks)); });
        });
        const double y_all = static_cast<double>(job.m * job.n * arch.output_bytes);
        for (int order = 0; order < 2; ++order) {
          const bool n_inner = order == 0;
          const bool x_once = nk == 1 && (n_inner || nm == 1);
          const bool w_once = nk == 1 && (!n_inner || nn == 1);
          const double traffic = x_all * (x_once ? 1.0 : static_cast<double>(nn)) +
                                 w_all * (w_once ? 1.0 : static_cast<double>(nm)) + y_all;
          const int64_t tiles = nm * nn * nk;
          double est;
          if (pipelined) {
            // Two slots per buffer: the next tile's load starts when the array starts this tile,
            // so each tile takes max(its compute, its load + the DRAM latency).
            const double n_t = static_cast<double>(tiles);
            const double per_tile = std::max(busy / n_t, dram_time(traffic) / n_t + lat);
            est = n_t * per_tile + dram_time(double(xb + wbytes)) + lat +
                  dram_time(double(tm * tn * arch.output_bytes));
          } else {
            est = busy + dram_time(traffic) + lat * static_cast<double>(tiles);
          }
          Eval e{true, est * static_cast<double>(job.batch),
                 static_cast<uint64_t>(traffic) * static_cast<uint64_t>(job.batch),
                 static_cast<uint64_t>(compute) * static_cast<uint64_t>(job.batch), tiles};
          fitting.push_back({e, tm, tn, tk, n_inner});
        }
      }
    }
  }
  // Objective: the fastest estimate within 1%, then the least DRAM traffic (energy), then the
  // fewest tiles. Without the slack, first-tile latency differences of a few hundred cycles
  // would pick tiny tiles that multiply the traffic.
  Eval best;
  int64_t best_tm = 0, best_tn = 0, best_tk = 0;
  bool best_n_inner = true;
  double fastest = std::numeric_limits<double>::infinity();
  for (const Candidate& c : fitting) fastest = std::min(fastest, c.e.est);
  for (const Candidate& c : fitting) {
    if (c.e.est > fastest * 1.01) continue;
    const bool better = !best.fits || std::make_tuple(c.e.dram, c.e.tiles, c.e.est) <
                                          std::make_tuple(best.dram, best.tiles, best.est);
    if (better) {
      best = c.e;
      best_tm = c.tm, best_tn = c.tn, best_tk = c.tk, best_n_inner = c.n_inner;
    }
  }
  if (!best.fits) {
    // Name the buffer that cannot hold even the smallest tile.
    const int64_t tm = *std::min_element(cm.begin(), cm.end());
    const int64_t tn = *std::min_element(cn.begin(), cn.end());
    const int64_t tk = *std::min_element(ck.begin(), ck.end());
    auto fail = [&](const std::string& field, const BufferConfig& b, const std::string& what,
                    int64_t bytes) {
      throw Error(field + ": " + std::to_string(b.size_bytes) + " bytes cannot hold one " + what +
                  " tile of " + who + " (smallest tile " + std::to_string(bytes) + " bytes" +
                  (b.double_buffered ? ", twice that when double-buffered" : "") + ")");
    };
    const int64_t smallest_y = tm * tn * arch.accumulator_bytes;
    if (!ob.ideal && smallest_y > ob.tile_capacity_bytes()) {
      fail("arch.output_buffer.size_bytes", ob, "output (partial sum)", smallest_y);
    }
    const int64_t sx = xf.storage_bytes(tm, tk), sw = wf.storage_bytes(tn, tk);
    if (!ib.ideal && sx > ib.tile_capacity_bytes()) {
      fail("arch.input_buffer.size_bytes", ib, "X (" + xf.spec + ")", sx);
    }
    if (!wb.ideal && sw > wb.tile_capacity_bytes()) {
      fail("arch.weight_buffer.size_bytes", wb, "W (" + wf.spec + ")", sw);
    }
    throw Error(who + ": no tile fits the buffers");
  }
  p.tm = best_tm;
  p.tn = best_tn;
  p.tk = best_tk;
  p.n_inner = best_n_inner;
  p.nm = (job.m + p.tm - 1) / p.tm;
  p.nn = (job.n + p.tn - 1) / p.tn;
  p.nk = (job.k + p.tk - 1) / p.tk;
  p.x_tile_bytes = xf.storage_bytes(p.tm, p.tk);
  p.w_tile_bytes = wf.storage_bytes(p.tn, p.tk);
  p.y_tile_bytes = p.tm * p.tn * arch.accumulator_bytes;
  p.est_cycles = best.est;
  p.est_dram_bytes = best.dram;
  p.est_compute_cycles = best.compute;
  return jp;
}

}  // namespace qarch::models
