#include "qarch/models/tiler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "qarch/common/error.h"

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

FoldModel make_fold_model(const ArchConfig& arch, Dataflow df, int fuse, const OperandFormat& x,
                          const OperandFormat& w) {
  FoldModel fm;
  fm.dataflow = df;
  fm.rows = arch.array.rows / fuse;
  fm.cols = arch.array.cols / fuse;
  fm.decoder_latency = arch.decoder.latency_cycles;
  fm.decoder_rate = arch.decoder.elements_per_cycle;
  fm.in_bw = arch.input_buffer.ideal ? 0 : arch.input_buffer.bandwidth_bytes_per_cycle();
  fm.w_bw = arch.weight_buffer.ideal ? 0 : arch.weight_buffer.bandwidth_bytes_per_cycle();
  fm.out_bw = arch.output_buffer.ideal ? 0 : arch.output_buffer.bandwidth_bytes_per_cycle();
  fm.x_bits = x.bits_a;
  fm.w_bits = w.bits_a;
  fm.acc_bytes = arch.accumulator_bytes;
  fm.pipelined = arch.array.pipelined_folds;
  return fm;
}

int64_t FoldModel::fold_period(int64_t t) const {
  return dataflow == Dataflow::kOutputStationary ? std::max(t, 2 * rows + cols - 2)
                                                 : std::max(t, rows + cols);
}

int64_t FoldModel::tile_compute(int64_t folds, int64_t t) const {
  if (folds <= 0) return 0;
  const int64_t one = 2 * rows + cols + t - 2;
  if (!pipelined) return folds * (one + decoder_latency);
  return one + (folds - 1) * fold_period(t) + decoder_latency;
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

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

Tile TilePlan::tile(int64_t idx) const {
  const int64_t trips[3] = {nm, nn, nk};
  // Block indices of tile idx: the innermost loop varies fastest.
  auto coords = [&](int64_t i, int64_t c[3]) {
    for (int p = 2; p >= 0; --p) {
      const int d = order[static_cast<size_t>(p)];
      c[d] = i % trips[d];
      i /= trips[d];
    }
  };
  int64_t c[3];
  coords(idx, c);
  return tile_at(c);
}

Tile TilePlan::tile_at(const int64_t c[3]) const {
  const int64_t D[3] = {m, n, k}, T[3] = {tm, tn, tk}, trips[3] = {nm, nn, nk};
  int pos[3];
  for (int p = 0; p < 3; ++p) pos[order[static_cast<size_t>(p)]] = p;
  static constexpr int kRows[3] = {kDimM, kDimN, kDimM}, kCols[3] = {kDimK, kDimK, kDimN};
  bool tiled[3][2];
  for (int op = 0; op < 3; ++op) {
    tiled[op][0] = pos[kRows[op]] < level[static_cast<size_t>(op)];
    tiled[op][1] = pos[kCols[op]] < level[static_cast<size_t>(op)];
  }
  auto block = [&](const int64_t x[3], int op) {
    BlockRect b;
    const int rd = kRows[op], cd = kCols[op];
    if (tiled[op][0]) {
      b.r0 = x[rd] * T[rd], b.r1 = std::min(D[rd], b.r0 + T[rd]);
    } else {
      b.r1 = D[rd];
    }
    if (tiled[op][1]) {
      b.c0 = x[cd] * T[cd], b.c1 = std::min(D[cd], b.c0 + T[cd]);
    } else {
      b.c1 = D[cd];
    }
    return b;
  };
  // The previous and next tiles' coordinates: one odometer step back / forward.
  auto step = [&](int64_t x[3], int dir) {
    for (int p = 2; p >= 0; --p) {
      const int d = order[static_cast<size_t>(p)];
      x[d] += dir;
      if (x[d] >= 0 && x[d] < trips[d]) return true;
      x[d] = dir > 0 ? 0 : trips[d] - 1;
    }
    return false;  // stepped off the sequence
  };
  Tile t;
  t.m0 = c[0] * tm;
  t.m1 = std::min(m, t.m0 + tm);
  t.n0 = c[1] * tn;
  t.n1 = std::min(n, t.n0 + tn);
  t.k0 = c[2] * tk;
  t.k1 = std::min(k, t.k0 + tk);
  t.first_k = c[2] == 0;
  t.last_k = c[2] == nk - 1;
  t.xb = block(c, kOpX);
  t.wb = block(c, kOpW);
  t.yb = block(c, kOpY);
  int64_t p[3] = {c[0], c[1], c[2]};
  if (step(p, -1)) {
    t.new_x = !(block(p, kOpX) == t.xb);
    t.new_w = !(block(p, kOpW) == t.wb);
    t.new_y = !(block(p, kOpY) == t.yb);
  }
  t.y_psum_in = t.new_y && c[2] > 0;
  int64_t q[3] = {c[0], c[1], c[2]};
  if (step(q, +1)) t.end_y = !(block(q, kOpY) == t.yb);
  // A Y block that holds the whole K range (K loop inside it) ends complete; otherwise it is
  // complete after the last K block.
  t.y_final = pos[kDimK] >= level[kOpY] || t.last_k;
  return t;
}

std::string TilePlan::loop_order() const {
  const char names[3] = {'m', 'n', 'k'};
  return std::string{names[order[0]], names[order[1]], names[order[2]]};
}

FoldEvents fold_events(Dataflow df, int64_t R, const FoldClass& f, double x_element_bits,
                       double w_element_bits, double acc_bytes) {
  const double r = static_cast<double>(f.r), cc = static_cast<double>(f.c);
  const double t = static_cast<double>(f.t), Rd = static_cast<double>(R);
  const double acc_bits = 8.0 * acc_bytes;
  FoldEvents e;
  e.macs = r * cc * t;
  switch (df) {
    case Dataflow::kWeightStationary:
      e.x_elems = e.left = r * t;
      e.w_elems = e.top = r * cc;
      e.psum_w = cc * t;
      e.psum_r = f.accumulate ? cc * t : 0;
      e.reg_w_bits = e.macs * (x_element_bits + acc_bits) + cc * r * (r + 1) / 2 * w_element_bits;
      break;
    case Dataflow::kInputStationary:
      e.w_elems = e.left = r * t;
      e.x_elems = e.top = r * cc;
      e.psum_w = cc * t;
      e.psum_r = f.accumulate ? cc * t : 0;
      e.reg_w_bits = e.macs * (w_element_bits + acc_bits) + cc * r * (r + 1) / 2 * x_element_bits;
      break;
    default:  // OS
      e.x_elems = e.left = r * t;
      e.w_elems = e.top = cc * t;
      e.psum_w = r * cc;
      e.psum_r = f.accumulate ? r * cc : 0;
      e.reg_w_bits = e.macs * (x_element_bits + w_element_bits + acc_bits) +
                     cc * (r * Rd - r * (r - 1) / 2) * acc_bits;
      break;
  }
  e.reg_r_bits = e.macs * (x_element_bits + w_element_bits + acc_bits);
  return e;
}

namespace {

JobPlan prepare(const ArchConfig& arch, const GemmJob& job) {
  const std::string who = "job '" + job.name + "'";
  check_job_shape(job);
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
  return jp;
}

void apply(const ArchConfig& arch, const GemmJob& job, const Mapping& mp, const MappingCost& cost,
           JobPlan& jp) {
  jp.fold_model = make_fold_model(arch, mp.dataflow, jp.pe->fuse(), *jp.x_format, *jp.w_format);
  TilePlan& p = jp.plan;
  p.m = job.m;
  p.n = job.n;
  p.k = job.k;
  p.batch = job.batch;
  p.tm = mp.tile[0];
  p.tn = mp.tile[1];
  p.tk = mp.tile[2];
  p.order = mp.order;
  p.level = mp.level;
  if (job.m == 0 || job.n == 0 || job.k == 0) {
    p.tm = job.m, p.tn = job.n, p.tk = job.k;
    p.nm = p.nn = p.nk = 0;
    return;  // nothing to compute: no tiles
  }
  p.nm = ceil_div(job.m, p.tm);
  p.nn = ceil_div(job.n, p.tn);
  p.nk = ceil_div(job.k, p.tk);
  p.x_tile_bytes = cost.block_bytes[0];
  p.w_tile_bytes = cost.block_bytes[1];
  p.y_tile_bytes = cost.block_bytes[2];
  p.est_cycles = cost.cycles;
  p.est_dram_bytes = cost.dram_total();
  p.est_compute_cycles = static_cast<uint64_t>(cost.compute_cycles);
}

}  // namespace

JobPlan plan_job(const ArchConfig& arch, const GemmJob& job, const MapperOptions& options) {
  JobPlan jp = prepare(arch, job);
  jp.map = map_gemm(arch, job, options);
  apply(arch, job, jp.map.best.mapping, jp.map.best.cost, jp);
  return jp;
}

JobPlan plan_mapping(const ArchConfig& arch, const GemmJob& job, const Mapping& mapping,
                     const MapperOptions& options) {
  JobPlan jp = prepare(arch, job);
  jp.map = map_fixed(arch, job, mapping, options);
  apply(arch, job, mapping, jp.map.best.cost, jp);
  return jp;
}

}  // namespace qarch::models
