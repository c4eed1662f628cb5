#include "qarch/models/mapper.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <tuple>

#include "qarch/models/operand_format.h"
#include "qarch/models/pe.h"
#include "qarch/models/tiler.h"
#include "qarch/common/error.h"

namespace qarch::models {

namespace {

const char kDimChar[3] = {'m', 'n', 'k'};

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Chunks of a dimension of size D cut by `t`: (size, count) pairs, full chunks first.
struct Chunks {
  int64_t size[2] = {0, 0}, count[2] = {0, 0};
  int n = 0;
};
Chunks chunks(int64_t D, int64_t t) {
  Chunks c;
  if (D <= 0 || t <= 0) return c;
  if (D / t > 0) c.size[c.n] = t, c.count[c.n++] = D / t;
  if (D % t) c.size[c.n] = D % t, c.count[c.n++] = 1;
  return c;
}
Chunks whole(int64_t D) {
  Chunks c;
  c.size[0] = D, c.count[0] = 1, c.n = D > 0 ? 1 : 0;
  return c;
}

// Tile sizes of a dimension D in units of u: every u * ceil(U / q) (distinct block counts: all
// divisors and near-divisors), the powers of two times u, and D itself; with `small`, also the
// powers of two below u (a streamed dimension can shrink to one step when buffers are tiny);
// descending.
std::vector<int64_t> tile_candidates(int64_t D, int64_t u, bool small) {
  std::vector<int64_t> v;
  if (D <= 0) return v;
  u = std::max<int64_t>(1, std::min(u, D));
  const int64_t U = ceil_div(D, u);
  for (int64_t q = 1; q <= U;) {
    const int64_t c = ceil_div(U, q);  // blocks of c units
    v.push_back(std::min(D, c * u));
    // next q with a different ceil(U / q)
    if (c == 1) break;
    q = ceil_div(U, c - 1);
  }
  for (int64_t t = u; t < D; t *= 2) v.push_back(t);
  if (small)
    for (int64_t t = 1; t < u && t < D; t *= 2) v.push_back(t);
  std::sort(v.begin(), v.end(), std::greater<int64_t>());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Scale-segment granule along K: a K tile that splits K must not split a scale group (hardware
// closes a segment per group; a spilled partial sum must hold closed segments only).
int64_t k_granule(const OperandFormat& x, const OperandFormat& w) {
  int64_t g = 1;
  for (int64_t s : {x.group_cols, w.group_cols}) {
    if (s > 0) g = std::lcm(g, s);
  }
  return g;
}

// Everything about one job that does not depend on the mapping.
struct Context {
  const ArchConfig* arch;
  const OperandFormat* xf;
  const OperandFormat* wf;
  const PeType* pe;
  int64_t D[3];  // M, N, K
  int64_t batch;
  int64_t R, C;  // logical array
  MapperCosts costs;
  Objective objective;
  bool pipelined;
  double bw, lat;
  int64_t kgran;
};

FoldModel fold_model_for(const Context& cx, Dataflow df) {
  return make_fold_model(*cx.arch, df, cx.pe->fuse(), *cx.xf, *cx.wf);
}

// Array-side totals of one tile triple (all instances): independent of loop order and residency.
struct ComputeTotals {
  double busy = 0, compute = 0;
  double energy = 0;  // array-side SRAM, register and decoder energy
};

ComputeTotals compute_totals(const Context& cx, const FoldModel& fm, const int64_t t[3]) {
  ComputeTotals out;
  const Chunks cm = chunks(cx.D[0], t[0]), cn = chunks(cx.D[1], t[1]), ck = chunks(cx.D[2], t[2]);
  const MapperCosts& e = cx.costs;
  const double acc = cx.arch->accumulator_bytes;
  const bool x_left = fm.dataflow != Dataflow::kInputStationary;
  for (int a = 0; a < cm.n; ++a) {
    for (int b = 0; b < cn.n; ++b) {
      for (int c = 0; c < ck.n; ++c) {
        // K blocks in order: the very first K block of an output tile starts fresh.
        const int64_t kc = ck.count[c];
        for (int first = 1; first >= 0; --first) {
          const int64_t count = first ? (c == 0 ? 1 : 0) : kc - (c == 0 ? 1 : 0);
          if (count <= 0) continue;
          const double tiles = static_cast<double>(count * cm.count[a] * cn.count[b] * cx.batch);
          const std::vector<FoldClass> folds =
              fold_classes(fm, cm.size[a], cn.size[b], ck.size[c], first != 0);
          int64_t nfolds = 0, stalls = 0;
          for (const FoldClass& f : folds) {
            const FoldModel::Cost cost = fm.fold(f.r, f.c, f.t, f.accumulate);
            nfolds += f.count;
            stalls += f.count * (cost.busy - cost.compute);
          }
          const int64_t tc = folds.empty() ? 0 : fm.tile_compute(nfolds, folds.front().t);
          out.busy += static_cast<double>(tc + stalls) * tiles;
          out.compute += static_cast<double>(tc) * tiles;
          for (const FoldClass& f : folds) {
            const double nf = static_cast<double>(f.count) * tiles;
            if (!e.given) continue;
            const FoldEvents ev =
                fold_events(fm.dataflow, cx.R, f, cx.xf->element_bits, cx.wf->element_bits, acc);
            const double lops =
                std::ceil(ev.left / (x_left ? cx.xf : cx.wf)->elements_per_decode_op);
            const double tops =
                std::ceil(ev.top / (x_left ? cx.wf : cx.xf)->elements_per_decode_op);
            out.energy += nf * (e.sram_pj_per_byte[0] * ev.x_elems * cx.xf->bits_a / 8.0 +
                                e.sram_pj_per_byte[1] * ev.w_elems * cx.wf->bits_a / 8.0 +
                                e.sram_pj_per_byte[2] * (ev.psum_w + ev.psum_r) * acc +
                                e.register_pj_per_byte * (ev.reg_r_bits + ev.reg_w_bits) / 8.0 +
                                e.decoder_pj_per_op[x_left ? 0 : 1] * lops +
                                e.decoder_pj_per_op[x_left ? 1 : 0] * tops);
          }
        }
      }
    }
  }
  return out;
}

// One operand's traffic under one loop order and residency level (all instances).
struct OperandTraffic {
  uint64_t bytes = 0;  // DRAM bytes
  uint64_t psum = 0;   // Y: partial-sum bytes of `bytes`
  int64_t block = 0;   // largest buffer block
  int64_t first = 0;   // bytes of the first load (X, W) / the last store (Y)
  uint64_t loads = 0;  // DMA block transfers from DRAM
};

// Dimensions (rows, cols) an operand is indexed by.
void operand_dims(int op, int& r, int& c) {
  r = op == kOpW ? kDimN : kDimM;
  c = op == kOpY ? kDimN : kDimK;
}

OperandTraffic operand_traffic(const Context& cx, const int64_t t[3],
                               const std::array<int, 3>& order, int op, int level) {
  int rd, cd;
  operand_dims(op, rd, cd);
  auto pos = [&](int d) { return order[0] == d ? 0 : order[1] == d ? 1 : 2; };
  const bool tr = pos(rd) < level, tc = pos(cd) < level;
  const Chunks rc = tr ? chunks(cx.D[rd], t[rd]) : whole(cx.D[rd]);
  const Chunks cc = tc ? chunks(cx.D[cd], t[cd]) : whole(cx.D[cd]);
  // Reload factor: non-indexing loops outside level that sit outside an indexing loop outside it.
  int64_t reload = 1;
  bool seen = false;
  for (int p = level - 1; p >= 0; --p) {
    const int d = order[static_cast<size_t>(p)];
    if (Mapping::indexes(op, d)) {
      seen = true;
    } else if (seen) {
      reload *= ceil_div(cx.D[d], t[d]);
    }
  }
  const uint64_t B = static_cast<uint64_t>(cx.batch);
  OperandTraffic o;
  const uint64_t blocks = static_cast<uint64_t>((rc.n ? rc.count[0] + (rc.n > 1 ? 1 : 0) : 0) *
                                                (cc.n ? cc.count[0] + (cc.n > 1 ? 1 : 0) : 0));
  if (op == kOpY) {
    const uint64_t elems = static_cast<uint64_t>(cx.D[0] * cx.D[1]);
    const uint64_t acc = static_cast<uint64_t>(cx.arch->accumulator_bytes);
    o.block = rc.size[0] * cc.size[0] * cx.arch->accumulator_bytes;
    o.psum = elems * acc * 2 * static_cast<uint64_t>(reload - 1) * B;
    o.bytes = elems * static_cast<uint64_t>(cx.arch->output_bytes) * B + o.psum;
    o.first = rc.size[rc.n - 1] * cc.size[cc.n - 1] * cx.arch->output_bytes;  // the last block
    o.loads = blocks * static_cast<uint64_t>(reload - 1) * B;
    return o;
  }
  const OperandFormat& f = op == kOpX ? *cx.xf : *cx.wf;
  uint64_t total = 0;
  for (int a = 0; a < rc.n; ++a)
    for (int b = 0; b < cc.n; ++b)
      total +=
          static_cast<uint64_t>(f.block_bytes(rc.size[a], cc.size[b]) * rc.count[a] * cc.count[b]);
  o.block = f.block_bytes(rc.size[0], cc.size[0]);
  o.first = o.block + f.side_bytes();
  o.bytes = (total * static_cast<uint64_t>(reload) + static_cast<uint64_t>(f.side_bytes())) * B;
  o.loads = blocks * static_cast<uint64_t>(reload) * B;
  return o;
}

double capacity(const BufferConfig& b) {
  return b.ideal ? std::numeric_limits<double>::infinity()
                 : static_cast<double>(b.tile_capacity_bytes());
}

bool fits(const Context& cx, const int64_t block[3]) {
  const ArchConfig& a = *cx.arch;
  if (a.shared_buffer) {
    double need = 0;
    const BufferConfig* bs[3] = {&a.input_buffer, &a.weight_buffer, &a.output_buffer};
    double size = 0;
    for (int i = 0; i < 3; ++i) {
      need += static_cast<double>(block[i]) * (bs[i]->double_buffered ? 2 : 1);
      size += static_cast<double>(bs[i]->size_bytes);
    }
    return need <= size;
  }
  return block[0] <= capacity(a.input_buffer) && block[1] <= capacity(a.weight_buffer) &&
         block[2] <= capacity(a.output_buffer);
}

double objective_value(Objective o, double cycles, double energy) {
  switch (o) {
    case Objective::kLatency:
      return cycles;
    case Objective::kEnergy:
      return energy;
    case Objective::kEdp:
      return cycles * energy;
  }
  return cycles;
}

// Full cost of a mapping given its triple's compute totals and the three operand traffics.
MappingCost finish_cost(const Context& cx, const ComputeTotals& ct, const OperandTraffic o[3]) {
  MappingCost c;
  c.busy_cycles = ct.busy;
  c.compute_cycles = ct.compute;
  for (int i = 0; i < 3; ++i) {
    c.dram_bytes[static_cast<size_t>(i)] = o[i].bytes;
    c.block_bytes[static_cast<size_t>(i)] = o[i].block;
  }
  c.psum_bytes = o[kOpY].psum;
  const double total = static_cast<double>(c.dram_total());
  const double dram_time = cx.bw > 0 ? total / cx.bw : 0.0;
  const double loads = static_cast<double>(o[0].loads + o[1].loads + o[2].loads);
  if (cx.pipelined) {
    // Two slots per buffer: loads overlap compute, so the channel or the array sets the pace;
    // but a block's slot is free again only after its load, its latency and its compute, so
    // with two slots each load's latency is half hidden. The first blocks and the last store do
    // not overlap.
    const double first =
        cx.bw > 0 ? static_cast<double>(o[0].first + o[1].first) / cx.bw + cx.lat : 0.0;
    const double last = cx.bw > 0 ? static_cast<double>(o[2].first) / cx.bw : 0.0;
    c.cycles =
        first + std::max({ct.busy, dram_time, (dram_time + cx.lat * loads + ct.busy) / 2}) + last;
  } else {
    c.cycles = ct.busy + dram_time + cx.lat * loads;
  }
  const MapperCosts& e = cx.costs;
  if (e.given) {
    const double y_dram = static_cast<double>(o[2].bytes);
    c.energy_pj = e.dram_pj_per_byte * total + e.sram_pj_per_byte[0] * double(o[0].bytes) +
                  e.sram_pj_per_byte[1] * double(o[1].bytes) + e.sram_pj_per_byte[2] * y_dram +
                  ct.energy + e.static_pj_per_cycle * c.cycles;
  } else {
    const double pj = cx.arch->dram.energy_pj_per_byte > 0 ? cx.arch->dram.energy_pj_per_byte : 1.0;
    c.energy_pj = pj * total;
  }
  c.objective = objective_value(cx.objective, c.cycles, c.energy_pj);
  return c;
}

// Strict weak order of mappings: objective, then the other measure, then DRAM bytes, then text.
bool better(Objective o, const MappedGemm& a, const MappedGemm& b) {
  if (a.cost.objective != b.cost.objective) return a.cost.objective < b.cost.objective;
  const double a2 = o == Objective::kLatency ? a.cost.energy_pj : a.cost.cycles;
  const double b2 = o == Objective::kLatency ? b.cost.energy_pj : b.cost.cycles;
  if (a2 != b2) return a2 < b2;
  if (a.cost.dram_total() != b.cost.dram_total()) return a.cost.dram_total() < b.cost.dram_total();
  return a.mapping.key() < b.mapping.key();
}

// The best `keep` mappings with distinct costs (a runner-up that costs exactly what a kept one
// costs is the same choice written differently).
class TopK {
 public:
  TopK(Objective o, size_t keep) : o_(o), keep_(keep) {}
  bool full() const { return v_.size() >= keep_; }
  double worst() const { return v_.back().cost.objective; }
  void offer(const MappedGemm& g) {
    if (full() && !better(o_, g, v_.back())) return;
    for (auto it = v_.begin(); it != v_.end(); ++it) {
      if (same_cost(*it, g)) {
        if (better(o_, g, *it)) {
          v_.erase(it);
          break;
        }
        return;
      }
    }
    auto at = std::upper_bound(
        v_.begin(), v_.end(), g,
        [this](const MappedGemm& a, const MappedGemm& b) { return better(o_, a, b); });
    v_.insert(at, g);
    if (v_.size() > keep_) v_.pop_back();
  }
  const std::vector<MappedGemm>& items() const { return v_; }

 private:
  static bool same_cost(const MappedGemm& a, const MappedGemm& b) {
    return a.cost.objective == b.cost.objective && a.cost.cycles == b.cost.cycles &&
           a.cost.energy_pj == b.cost.energy_pj && a.cost.dram_bytes == b.cost.dram_bytes;
  }
  Objective o_;
  size_t keep_;
  std::vector<MappedGemm> v_;
};

Context make_context(const ArchConfig& arch, const GemmJob& job, const MapperOptions& opt) {
  const std::string who = "job '" + job.name + "'";
  check_job_shape(job);
  Context cx;
  cx.arch = &arch;
  cx.pe = &pe_type(arch.array.pe);
  cx.xf = &operand_format(job.x_format, who + ".x_format");
  cx.wf = &operand_format(job.w_format, who + ".w_format");
  cx.D[0] = job.m, cx.D[1] = job.n, cx.D[2] = job.k;
  cx.batch = job.batch;
  cx.R = arch.array.rows / cx.pe->fuse();
  cx.C = arch.array.cols / cx.pe->fuse();
  cx.costs = opt.costs;
  cx.objective = opt.objective;
  const BufferConfig* bs[3] = {&arch.input_buffer, &arch.weight_buffer, &arch.output_buffer};
  cx.pipelined = true;
  for (const BufferConfig* b : bs) cx.pipelined = cx.pipelined && (b->ideal || b->double_buffered);
  cx.bw = arch.dram.ideal ? 0.0 : arch.dram.bandwidth_bytes_per_cycle;
  cx.lat = arch.dram.ideal ? 0.0 : static_cast<double>(arch.dram.latency_cycles);
  cx.kgran = k_granule(*cx.xf, *cx.wf);
  return cx;
}

// Granule of each dimension for a dataflow: the logical array size on the array's rows and
// columns, the scale-segment granule along K, 8 along a streamed M or N.
std::array<int64_t, 3> granules(const Context& cx, Dataflow df) {
  std::array<int64_t, 3> g{8, 8, std::lcm<int64_t>(cx.kgran, 8)};
  switch (df) {
    case Dataflow::kOutputStationary:
      g[0] = cx.R, g[1] = cx.C;
      break;
    case Dataflow::kWeightStationary:
      g[2] = std::lcm<int64_t>(cx.kgran, cx.R), g[1] = cx.C;
      break;
    case Dataflow::kInputStationary:
      g[2] = std::lcm<int64_t>(cx.kgran, cx.R), g[0] = cx.C;
      break;
  }
  return g;
}

// Whether dimension d's tiles may be smaller than its granule (powers of two below it: an
// underused array or a one-step stream, for tiny buffers): every dimension but a K that carries
// scale groups.
bool small_tiles(const Context& cx, int d) {
  return d != kDimK || cx.kgran == 1;
}

const std::array<std::array<int, 3>, 6> kOrders = {
    {{0, 1, 2}, {1, 0, 2}, {0, 2, 1}, {2, 0, 1}, {1, 2, 0}, {2, 1, 0}}};

// Calls visit(mapping, cost) for every legal mapping of the mapspace, with pruning against
// `bound` (a mapping is skipped only when a lower bound of its triple exceeds bound()).
template <typename Visit, typename Bound>
void search(const Context& cx, Visit visit, Bound bound, uint64_t& triples, uint64_t& evaluated) {
  const ArchConfig& arch = *cx.arch;
  // Compulsory traffic: each operand once (whole-tensor storage), Y written once.
  const int64_t one[3] = {cx.D[0], cx.D[1], cx.D[2]};
  OperandTraffic comp[3];
  for (int op = 0; op < 3; ++op) comp[op] = operand_traffic(cx, one, kOrders[0], op, 0);
  const double comp_total = static_cast<double>(comp[0].bytes + comp[1].bytes + comp[2].bytes);
  for (Dataflow df : arch.allowed_dataflows()) {
    const FoldModel fm = fold_model_for(cx, df);
    const auto g = granules(cx, df);
    std::vector<int64_t> cand[3];
    for (int d = 0; d < 3; ++d)
      cand[d] = tile_candidates(cx.D[d], g[static_cast<size_t>(d)], small_tiles(cx, d));
    for (int64_t tm : cand[0]) {
      for (int64_t tn : cand[1]) {
        for (int64_t tk : cand[2]) {
          const int64_t t[3] = {tm, tn, tk};
          // The smallest blocks of this triple must fit at all.
          const int64_t smallest[3] = {cx.xf->block_bytes(tm, tk), cx.wf->block_bytes(tn, tk),
                                       tm * tn * arch.accumulator_bytes};
          if (!fits(cx, smallest)) continue;
          ++triples;
          const ComputeTotals ct = compute_totals(cx, fm, t);
          // Lower bound: compulsory traffic, no first-load or store tail.
          {
            MappingCost lb;
            const double dram_time = cx.bw > 0 ? comp_total / cx.bw : 0.0;
            lb.cycles = cx.pipelined ? std::max(ct.busy, dram_time) : ct.busy + dram_time;
            const MapperCosts& e = cx.costs;
            if (e.given) {
              lb.energy_pj = e.dram_pj_per_byte * comp_total +
                             e.sram_pj_per_byte[0] * double(comp[0].bytes) +
                             e.sram_pj_per_byte[1] * double(comp[1].bytes) +
                             e.sram_pj_per_byte[2] * double(comp[2].bytes) + ct.energy +
                             e.static_pj_per_cycle * lb.cycles;
            } else {
              const double pj =
                  arch.dram.energy_pj_per_byte > 0 ? arch.dram.energy_pj_per_byte : 1.0;
              lb.energy_pj = pj * comp_total;
            }
            // The exact value is computed the same way and can only be larger; the margin
            // guards against rounding of the different sums.
            if (objective_value(cx.objective, lb.cycles, lb.energy_pj) * (1 - 1e-12) > bound())
              continue;
          }
          for (const auto& order : kOrders) {
            // Per operand, the distinct residency levels (the innermost of equal ones).
            OperandTraffic tr[3][4];
            int levels[3][4];
            int nl[3] = {0, 0, 0};
            for (int op = 0; op < 3; ++op) {
              for (int L = 3; L >= 0; --L) {
                const OperandTraffic o = operand_traffic(cx, t, order, op, L);
                bool dup = false;
                for (int i = 0; i < nl[op]; ++i) {
                  const OperandTraffic& p = tr[op][i];
                  dup = dup || (p.bytes == o.bytes && p.block == o.block && p.loads == o.loads &&
                                p.first == o.first);
                }
                if (dup) continue;
                tr[op][nl[op]] = o;
                levels[op][nl[op]++] = L;
              }
            }
            for (int a = 0; a < nl[0]; ++a) {
              for (int b = 0; b < nl[1]; ++b) {
                for (int c = 0; c < nl[2]; ++c) {
                  const int64_t blk[3] = {tr[0][a].block, tr[1][b].block, tr[2][c].block};
                  if (!fits(cx, blk)) continue;
                  const OperandTraffic o[3] = {tr[0][a], tr[1][b], tr[2][c]};
                  MappedGemm mg;
                  mg.mapping.dataflow = df;
                  mg.mapping.tile = {tm, tn, tk};
                  mg.mapping.order = order;
                  mg.mapping.level = {levels[0][a], levels[1][b], levels[2][c]};
                  mg.cost = finish_cost(cx, ct, o);
                  ++evaluated;
                  visit(mg);
                }
              }
            }
          }
        }
      }
    }
  }
}

std::string hexd(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%a", v);
  return b;
}

std::string memo_key(const ArchConfig& a, const GemmJob& j, const MapperOptions& o) {
  std::ostringstream s;
  auto buf = [&](const BufferConfig& b) {
    s << b.ideal << ',' << b.size_bytes << ',' << b.banks << ',' << b.ports << ','
      << b.bank_width_bytes << ',' << b.double_buffered << ';';
  };
  s << a.array.rows << 'x' << a.array.cols << ',' << a.array.pe << ',';
  for (Dataflow d : a.allowed_dataflows()) s << dataflow_name(d) << ',';
  s << a.decoder.latency_cycles << ',' << hexd(a.decoder.elements_per_cycle) << ';' << a.dram.ideal
    << ',' << hexd(a.dram.bandwidth_bytes_per_cycle) << ',' << a.dram.latency_cycles << ','
    << hexd(a.dram.energy_pj_per_byte) << ';';
  buf(a.input_buffer);
  buf(a.weight_buffer);
  buf(a.output_buffer);
  s << a.accumulator_bytes << ',' << a.output_bytes << ',' << a.shared_buffer << '|' << j.m << ','
    << j.n << ',' << j.k << ',' << j.batch << '|' << j.x_format << '|' << j.w_format << '|'
    << objective_name(o.objective) << ',' << o.runners_up << ',' << o.costs.given;
  const MapperCosts& c = o.costs;
  for (double v : {c.dram_pj_per_byte, c.sram_pj_per_byte[0], c.sram_pj_per_byte[1],
                   c.sram_pj_per_byte[2], c.register_pj_per_byte, c.decoder_pj_per_op[0],
                   c.decoder_pj_per_op[1], c.static_pj_per_cycle})
    s << ',' << hexd(v);
  return s.str();
}

[[noreturn]] void nothing_fits(const Context& cx, const GemmJob& job) {
  const ArchConfig& arch = *cx.arch;
  const std::string who = "job '" + job.name + "'";
  // The smallest tile of the first dataflow names the buffer that is too small.
  const auto g = granules(cx, arch.allowed_dataflows().front());
  const int64_t tm = std::min(cx.D[0], g[0]), tn = std::min(cx.D[1], g[1]),
                tk = std::min(cx.D[2], g[2]);
  auto fail = [&](const std::string& field, const BufferConfig& b, const std::string& what,
                  int64_t bytes) {
    throw Error(field + ": " + std::to_string(b.size_bytes) + " bytes cannot hold one " + what +
                " tile of " + who + " (smallest tile " + std::to_string(bytes) + " bytes" +
                (b.double_buffered ? ", twice that when double-buffered" : "") + ")");
  };
  const int64_t y = tm * tn * arch.accumulator_bytes;
  const int64_t x = cx.xf->block_bytes(tm, tk), w = cx.wf->block_bytes(tn, tk);
  if (arch.shared_buffer) {
    throw Error("arch.shared_buffer: the global buffer (" +
                std::to_string(arch.input_buffer.size_bytes + arch.weight_buffer.size_bytes +
                               arch.output_buffer.size_bytes) +
                " bytes) cannot hold the smallest X, W and Y tiles of " + who + " (" +
                std::to_string(x) + " + " + std::to_string(w) + " + " + std::to_string(y) +
                " bytes, doubled when double-buffered)");
  }
  if (y > capacity(arch.output_buffer))
    fail("arch.output_buffer.size_bytes", arch.output_buffer, "output (partial sum)", y);
  if (x > capacity(arch.input_buffer))
    fail("arch.input_buffer.size_bytes", arch.input_buffer, "X (" + cx.xf->spec + ")", x);
  if (w > capacity(arch.weight_buffer))
    fail("arch.weight_buffer.size_bytes", arch.weight_buffer, "W (" + cx.wf->spec + ")", w);
  throw Error(who + ": no tile fits the buffers");
}

void set_bounds(const Context& cx, MapResult& r);

}  // namespace

void check_job_shape(const GemmJob& job) {
  const std::string who = "job '" + job.name + "'";
  if (job.m < 0 || job.n < 0 || job.k < 0) {
    throw Error(who + ": m, n, k must be >= 0 (got " + std::to_string(job.m) + ", " +
                std::to_string(job.n) + ", " + std::to_string(job.k) + ")");
  }
  if (job.batch < 1) throw Error(who + ".batch: must be >= 1, got " + std::to_string(job.batch));
}

std::string Mapping::key() const {
  std::ostringstream s;
  s << dataflow_name(dataflow) << ' ' << tile[0] << 'x' << tile[1] << 'x' << tile[2] << ' '
    << kDimChar[order[0]] << kDimChar[order[1]] << kDimChar[order[2]] << " X@" << level[0] << " W@"
    << level[1] << " Y@" << level[2];
  return s.str();
}

MappingCost evaluate_mapping(const ArchConfig& arch, const GemmJob& job, const Mapping& m,
                             const MapperOptions& options) {
  const Context cx = make_context(arch, job, options);
  const FoldModel fm = fold_model_for(cx, m.dataflow);
  const int64_t t[3] = {m.tile[0], m.tile[1], m.tile[2]};
  for (int d = 0; d < 3; ++d) {
    if (t[d] <= 0 || t[d] > std::max<int64_t>(1, cx.D[d])) {
      throw Error("mapping " + m.key() + ": tile " + std::string(1, kDimChar[d]) + " = " +
                  std::to_string(t[d]) + " is outside [1, " + std::to_string(cx.D[d]) + "]");
    }
  }
  const ComputeTotals ct = compute_totals(cx, fm, t);
  OperandTraffic o[3];
  for (int op = 0; op < 3; ++op)
    o[op] = operand_traffic(cx, t, m.order, op, m.level[static_cast<size_t>(op)]);
  const int64_t blk[3] = {o[0].block, o[1].block, o[2].block};
  if (!fits(cx, blk)) throw Error("mapping " + m.key() + ": its blocks do not fit the buffers");
  return finish_cost(cx, ct, o);
}

std::vector<MappedGemm> enumerate_mappings(const ArchConfig& arch, const GemmJob& job,
                                           const MapperOptions& options) {
  const Context cx = make_context(arch, job, options);
  std::vector<MappedGemm> all;
  uint64_t triples = 0, evaluated = 0;
  if (cx.D[0] == 0 || cx.D[1] == 0 || cx.D[2] == 0) return all;
  search(
      cx, [&](const MappedGemm& g) { all.push_back(g); },
      [] { return std::numeric_limits<double>::infinity(); }, triples, evaluated);
  return all;
}

MapResult map_gemm(const ArchConfig& arch, const GemmJob& job, const MapperOptions& options) {
  static std::mutex mu;
  static std::map<std::string, MapResult> memo;
  const std::string key = memo_key(arch, job, options);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = memo.find(key);
    if (it != memo.end()) return it->second;
  }
  const Context cx = make_context(arch, job, options);
  MapResult r;
  r.objective = options.objective;
  if (cx.D[0] > 0 && cx.D[1] > 0 && cx.D[2] > 0) {
    TopK top(options.objective, 1 + options.runners_up);
    search(
        cx, [&](const MappedGemm& g) { top.offer(g); },
        [&] { return top.full() ? top.worst() : std::numeric_limits<double>::infinity(); },
        r.tile_triples, r.mappings_evaluated);
    if (top.items().empty()) nothing_fits(cx, job);
    r.best = top.items().front();
    r.runners_up.assign(top.items().begin() + 1, top.items().end());
    set_bounds(cx, r);
  } else {
    r.best.mapping.dataflow = arch.allowed_dataflows().front();
    r.best.mapping.tile = {cx.D[0], cx.D[1], cx.D[2]};
  }
  std::lock_guard<std::mutex> lock(mu);
  memo.emplace(key, r);
  return r;
}

MapResult map_fixed(const ArchConfig& arch, const GemmJob& job, const Mapping& mapping,
                    const MapperOptions& options) {
  const Context cx = make_context(arch, job, options);
  MapResult r;
  r.objective = options.objective;
  r.best.mapping = mapping;
  if (cx.D[0] > 0 && cx.D[1] > 0 && cx.D[2] > 0) {
    r.best.cost = evaluate_mapping(arch, job, mapping, options);
    set_bounds(cx, r);
  }
  return r;
}

namespace {

void set_bounds(const Context& cx, MapResult& r) {
  const int64_t one[3] = {cx.D[0], cx.D[1], cx.D[2]};
  for (int op = 0; op < 3; ++op)
    r.compulsory_bytes[static_cast<size_t>(op)] = operand_traffic(cx, one, kOrders[0], op, 0).bytes;
  // Communication lower bound for a fast memory of S elements (Hong & Kung; the GEMM form of
  // Smith et al., "A Tight I/O Lower Bound for Matrix Multiplication", 2022: 2 M N K / sqrt(S)
  // element transfers), in bytes at the narrower operand width, never below compulsory.
  const ArchConfig& a = *cx.arch;
  const double S_bytes =
      static_cast<double>((a.input_buffer.ideal ? 0 : a.input_buffer.size_bytes) +
                          (a.weight_buffer.ideal ? 0 : a.weight_buffer.size_bytes) +
                          (a.output_buffer.ideal ? 0 : a.output_buffer.size_bytes));
  const double elem_bytes = std::min(cx.xf->bits_a, cx.wf->bits_a) / 8.0;
  double lb = static_cast<double>(r.compulsory_total());
  if (S_bytes > 0 && elem_bytes > 0) {
    const double S = S_bytes / elem_bytes;
    const double macs = static_cast<double>(cx.D[0]) * static_cast<double>(cx.D[1]) *
                        static_cast<double>(cx.D[2]) * static_cast<double>(cx.batch);
    lb = std::max(lb, 2.0 * macs / std::sqrt(S) * elem_bytes);
  }
  r.traffic_lower_bound = static_cast<uint64_t>(lb);
}

}  // namespace

std::string loop_nest_text(const Mapping& m, int64_t M, int64_t N, int64_t K, int64_t batch,
                           int64_t array_rows, int64_t array_cols) {
  const int64_t D[3] = {M, N, K};
  if (M <= 0 || N <= 0 || K <= 0 || m.tile[0] <= 0 || m.tile[1] <= 0 || m.tile[2] <= 0)
    return "(empty GEMM: nothing to compute)\n";
  std::ostringstream s;
  int indent = 0;
  auto line = [&](const std::string& text) {
    s << std::string(static_cast<size_t>(2 * indent), ' ') << text << '\n';
  };
  if (batch > 1) {
    line("for b in [0:" + std::to_string(batch) + ")");
    ++indent;
  }
  const char* names[3] = {"X", "W", "Y"};
  for (int p = 0; p <= 3; ++p) {
    std::string kept;
    for (int op = 0; op < 3; ++op) {
      if (m.level[static_cast<size_t>(op)] != p) continue;
      int rd, cd;
      operand_dims(op, rd, cd);
      auto ext = [&](int d) {
        return m.pos(d) < p ? std::to_string(m.tile[static_cast<size_t>(d)]) : std::to_string(D[d]);
      };
      kept += std::string(kept.empty() ? "" : ", ") + names[op] + " " + ext(rd) + "x" + ext(cd);
    }
    if (!kept.empty()) line("[buffer: " + kept + "]");
    if (p == 3) break;
    const int d = m.order[static_cast<size_t>(p)];
    const int64_t trips =
        (D[d] + m.tile[static_cast<size_t>(d)] - 1) / m.tile[static_cast<size_t>(d)];
    line(std::string("for ") + kDimChar[d] + " in [0:" + std::to_string(trips) + ")  (T" +
         kDimChar[d] + "=" + std::to_string(m.tile[static_cast<size_t>(d)]) + ")");
    ++indent;
  }
  const char *sr = "m", *sc = "n", *st = "k";
  if (m.dataflow == Dataflow::kWeightStationary) sr = "k", sc = "n", st = "m";
  if (m.dataflow == Dataflow::kInputStationary) sr = "k", sc = "m", st = "n";
  line("spatial " + std::to_string(array_rows) + " x " + std::to_string(array_cols) + " (" +
       dataflow_name(m.dataflow) + ": " + sr + " on rows, " + sc + " on cols, " + st +
       " streamed)");
  return s.str();
}

}  // namespace qarch::models
