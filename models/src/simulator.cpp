#include "qarch/models/simulator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <systemc>
#include <thread>

#include "cycle_array.h"
#include "functional.h"
#include "qarch/models/decoders.h"
#include "qarch/models/tiler.h"
#include "qarch/common/error.h"

namespace qarch::models {

namespace {

using namespace sc_core;

// One accelerator cycle is one SystemC nanosecond (DRAM transfers may end between cycles: the
// default 1 ps resolution keeps them). Conversions go through the raw time value: building an
// sc_time from a double and a unit costs more than a whole tile of the model.
double g_ticks_per_cycle = 1000.0;  // set per simulation from the context's time resolution
sc_time cycles_t(double c) {
  return sc_time::from_value(static_cast<sc_time::value_type>(std::llround(c * g_ticks_per_cycle)));
}
double now_cycles() {
  return static_cast<double>(sc_time_stamp().value()) / g_ticks_per_cycle;
}

// Everything about one job during a simulation.
struct JobRun {
  const GemmJob* job = nullptr;
  JobPlan jp;
  std::vector<detail::FunctionalGemm> fn;  // per instance, empty when timed only
  JobStats st;
  bool started = false;
  // Fold classes and costs per tile shape (full or edge in each dimension, first K block or
  // not: at most 16 shapes), so tile mode prices each shape once.
  struct ShapeCost {
    int64_t m, n, k;
    bool first_k;
    std::vector<std::pair<FoldClass, FoldModel::Cost>> folds;
    int64_t compute;  // FoldModel::tile_compute of these folds
  };
  std::vector<ShapeCost> shapes;
  const ShapeCost& shape_cost(const Tile& tl) {
    const int64_t m = tl.m1 - tl.m0, n = tl.n1 - tl.n0, k = tl.k1 - tl.k0;
    for (const ShapeCost& s : shapes)
      if (s.m == m && s.n == n && s.k == k && s.first_k == tl.first_k) return s;
    ShapeCost s{m, n, k, tl.first_k, {}, 0};
    const FoldModel& fm = jp.fold_model;
    int64_t folds = 0, t = 0;
    for (const FoldClass& f : fold_classes(fm, m, n, k, tl.first_k)) {
      s.folds.emplace_back(f, fm.fold(f.r, f.c, f.t, f.accumulate));
      folds += f.count;
      t = f.t;
    }
    s.compute = fm.tile_compute(folds, t);
    shapes.push_back(std::move(s));
    return shapes.back();
  }
};

// Floating-point accumulators for counters with fractional bits per element.
struct Tally {
  double in_read_bits = 0, w_read_bits = 0;
  double out_write_bytes = 0, out_read_bytes = 0;
  double left_elems = 0, top_elems = 0, left_ops = 0, top_ops = 0;
  std::map<std::string, double> left_ops_by_kind, top_ops_by_kind;
  double reg_read_bits = 0, reg_write_bits = 0;
  double mapped_pe_folds = 0;  // sum of r * c over folds
};

// The shared DRAM channel (see DramConfig): burst requests served in arrival order.
class Dram {
 public:
  Dram(const DramConfig& c, DramStats& s) : cfg_(c), st_(s) {}

  // Moves `bytes` over the channel, blocking the calling thread until the channel has sent the
  // last burst. Returns the cycle the data is usable at the destination: for reads the latency
  // later (requests are pipelined, so the caller may issue the next transfer meanwhile), for
  // (posted) writes at once.
  double transfer(uint64_t bytes, bool write) {
    if (bytes == 0) return now_cycles();
    (write ? st_.write_bytes : st_.read_bytes) += bytes;
    const uint64_t burst = static_cast<uint64_t>(std::max<int64_t>(1, cfg_.burst_bytes));
    st_.requests += (bytes + burst - 1) / burst;
    if (cfg_.ideal) return now_cycles();
    for (uint64_t left = bytes; left > 0;) {
      const uint64_t chunk = std::min(left, burst);
      const double now = now_cycles();
      const double start = std::max(now, free_at_);
      const double dur = static_cast<double>(chunk) / cfg_.bandwidth_bytes_per_cycle;
      free_at_ = start + dur;
      busy_ += dur;
      wait(cycles_t(free_at_ - now));
      left -= chunk;
    }
    return now_cycles() + (write ? 0.0 : static_cast<double>(cfg_.latency_cycles));
  }

  double busy_cycles() const { return busy_; }

 private:
  DramConfig cfg_;
  DramStats& st_;
  double free_at_ = 0;
  double busy_ = 0;
};

// Free tile slots of one buffer.
struct Slots {
  int free = 1;
  sc_event freed;
  void acquire() {
    while (free == 0) wait(freed);
    --free;
  }
  void release() {
    ++free;
    freed.notify(SC_ZERO_TIME);
  }
};

// Walks the global tile sequence: jobs in order, instances, tiles in loop order.
struct Cursor {
  std::vector<JobRun>* jobs;
  size_t j = 0;
  int64_t b = 0, t = 0;
  Tile tl;
  bool cached = false;
  int64_t c[3] = {0, 0, 0};  // block coordinates of tile t
  int changed = -1;          // outermost loop position that changed to reach t (-1: first)
  explicit Cursor(std::vector<JobRun>& js) : jobs(&js) { skip(); }
  void skip() {
    while (j < jobs->size() && (*jobs)[j].jp.plan.tiles_per_instance() == 0) ++j;
  }
  bool valid() const { return j < jobs->size(); }
  JobRun& job() const { return (*jobs)[j]; }
  // The current tile, computed once per position (four threads walk the same sequence).
  const Tile& tile() {
    if (!cached) {
      tl = job().jp.plan.tile_at(c);
      cached = true;
    }
    return tl;
  }
  // Whether operand op (kOpX, kOpW, kOpY) starts a new block at this tile, without computing
  // the tile: some loop that changed in the last step indexes it outside its residency level.
  bool new_block(int op) const {
    if (changed < 0) return true;
    const TilePlan& p = job().jp.plan;
    for (int q = changed; q < 3; ++q) {
      const int d = p.order[static_cast<size_t>(q)];
      if (Mapping::indexes(op, d) && q < p.level[static_cast<size_t>(op)]) return true;
    }
    return false;
  }
  void next() {
    cached = false;
    const TilePlan& p = job().jp.plan;
    if (++t < p.tiles_per_instance()) {
      // Odometer step of the block coordinates in loop order (innermost fastest).
      const int64_t trips[3] = {p.nm, p.nn, p.nk};
      for (int q = 2; q >= 0; --q) {
        const int d = p.order[static_cast<size_t>(q)];
        changed = q;
        if (++c[d] < trips[d]) break;
        c[d] = 0;
      }
      return;
    }
    changed = -1;
    c[0] = c[1] = c[2] = 0;
    t = 0;
    if (++b < p.batch) return;
    b = 0;
    ++j;
    skip();
  }
};

struct StoreRequest {
  size_t job;
  uint64_t dram_bytes;
  int64_t buffer_bytes;
  bool psum;  // partial sums spilled (read back later), not finished outputs
};

class Accelerator : public sc_module {
 public:
  SC_HAS_PROCESS(Accelerator);
  Accelerator(sc_module_name name, const ArchConfig& arch, std::vector<JobRun>& jobs, SimMode mode,
              Stats& stats)
      : sc_module(name),
        arch_(arch),
        jobs_(jobs),
        mode_(mode),
        st_(stats),
        dram_(arch.dram, stats.dram) {
    x_slots_.free = arch.input_buffer.double_buffered ? 2 : 1;
    w_slots_.free = arch.weight_buffer.double_buffered ? 2 : 1;
    y_slots_.free = arch.output_buffer.double_buffered ? 2 : 1;
    const int fuse = pe_type(arch.array.pe).fuse();
    R_ = arch.array.rows / fuse;
    C_ = arch.array.cols / fuse;
    if (mode_ == SimMode::kCycle) {
      for (Dataflow d : arch.allowed_dataflows()) {
        engines_[static_cast<int>(d)] = std::make_unique<detail::CycleArray>(d, R_, C_);
      }
    }
    SC_THREAD(x_dma);
    SC_THREAD(w_dma);
    SC_THREAD(y_fill);
    SC_THREAD(array);
    SC_THREAD(y_dma);
  }

  const Tally& tally() const { return tally_; }
  double dram_busy() const { return dram_.busy_cycles(); }
  uint64_t pe_cycles() const {
    uint64_t n = 0;
    for (const auto& e : engines_)
      if (e) n += e->pe_cycles();
    return n;
  }

 private:
  // Loads every new X (is_x) or W block in tile order into a free slot.
  void load_stream(bool is_x) {
    Slots& slots = is_x ? x_slots_ : w_slots_;
    BufferStats& bs = is_x ? st_.input_buffer : st_.weight_buffer;
    int64_t& occupancy = is_x ? in_occupancy_ : w_occupancy_;
    uint64_t& ready = is_x ? x_ready_ : w_ready_;
    sc_event& ev = is_x ? x_loaded_ : w_loaded_;
    for (Cursor c(jobs_); c.valid(); c.next()) {
      if (!c.new_block(is_x ? kOpX : kOpW)) continue;
      const Tile& tl = c.tile();
      JobRun& jr = c.job();
      const OperandFormat& f = is_x ? *jr.jp.x_format : *jr.jp.w_format;
      const BlockRect& b = is_x ? tl.xb : tl.wb;
      const int64_t bytes = f.block_bytes(b.rows(), b.cols());
      // The per-tensor side data (a tensor scale) comes once per instance, with its first block.
      const int64_t side = c.t == 0 ? f.side_bytes() : 0;
      slots.acquire();
      occupancy += bytes;
      check_capacity(is_x ? 0 : 1);
      bs.peak_bytes = std::max(bs.peak_bytes, occupancy);
      bs.fill_bytes += static_cast<uint64_t>(bytes + side);
      ++bs.tiles;
      const double arrival = dram_.transfer(static_cast<uint64_t>(bytes + side), false);
      jr.st.dram_read_bytes += static_cast<uint64_t>(bytes + side);
      (is_x ? jr.st.dram_x_bytes : jr.st.dram_w_bytes) += static_cast<uint64_t>(bytes + side);
      (is_x ? x_arrival_ : w_arrival_).push_back(arrival);
      ++ready;
      ev.notify(SC_ZERO_TIME);
    }
  }
  void x_dma() { load_stream(true); }
  void w_dma() { load_stream(false); }

  // Fails loudly when a buffer (or the shared global buffer) holds more than it can: the mapper
  // must never choose blocks that do not fit.
  void check_capacity(int which) {
    const BufferConfig* cfg[3] = {&arch_.input_buffer, &arch_.weight_buffer, &arch_.output_buffer};
    const int64_t occ[3] = {in_occupancy_, w_occupancy_, out_occupancy_};
    if (arch_.shared_buffer) {
      const int64_t size = cfg[0]->size_bytes + cfg[1]->size_bytes + cfg[2]->size_bytes;
      if (occ[0] + occ[1] + occ[2] > size) {
        throw std::logic_error("simulator: the shared buffer overflows (" +
                               std::to_string(occ[0] + occ[1] + occ[2]) + " > " +
                               std::to_string(size) + " bytes)");
      }
      return;
    }
    if (!cfg[which]->ideal && occ[which] > cfg[which]->size_bytes) {
      static const char* names[3] = {"input", "weight", "output"};
      throw std::logic_error(std::string("simulator: the ") + names[which] + " buffer overflows (" +
                             std::to_string(occ[which]) + " > " +
                             std::to_string(cfg[which]->size_bytes) + " bytes)");
    }
  }

  // Takes an output slot for every new Y block in tile order, reading its partial sums back
  // from DRAM first when an earlier K block spilled them.
  void y_fill() {
    for (Cursor c(jobs_); c.valid(); c.next()) {
      if (!c.new_block(kOpY)) continue;
      const Tile& tl = c.tile();
      JobRun& jr = c.job();
      const int64_t elems = tl.yb.rows() * tl.yb.cols();
      const int64_t bytes = elems * arch_.accumulator_bytes;
      y_slots_.acquire();
      out_occupancy_ += bytes;
      check_capacity(2);
      st_.output_buffer.peak_bytes = std::max(st_.output_buffer.peak_bytes, out_occupancy_);
      ++st_.output_buffer.tiles;
      double arrival = now_cycles();
      if (tl.y_psum_in) {
        st_.output_buffer.fill_bytes += static_cast<uint64_t>(bytes);
        arrival = dram_.transfer(static_cast<uint64_t>(bytes), false);
        jr.st.dram_read_bytes += static_cast<uint64_t>(bytes);
        jr.st.dram_y_bytes += static_cast<uint64_t>(bytes);
        jr.st.psum_bytes += static_cast<uint64_t>(bytes);
      }
      y_arrival_.push_back(arrival);
      ++y_ready_;
      y_loaded_.notify(SC_ZERO_TIME);
    }
  }
  void y_dma() {
    for (;;) {
      while (stores_.empty()) {
        if (array_done_) return;
        wait(store_ready_);
      }
      const StoreRequest s = stores_.front();
      stores_.pop_front();
      st_.output_buffer.drain_bytes += s.dram_bytes;
      dram_.transfer(s.dram_bytes, true);
      JobRun& jr = jobs_[s.job];
      jr.st.dram_write_bytes += s.dram_bytes;
      jr.st.dram_y_bytes += s.dram_bytes;
      if (s.psum) jr.st.psum_bytes += s.dram_bytes;
      jr.st.end_cycle = static_cast<uint64_t>(std::ceil(now_cycles() - 1e-9));
      out_occupancy_ -= s.buffer_bytes;
      y_slots_.release();
    }
  }

  // Counters of `count` folds of class f (formulas of the counting conventions).
  void account(JobRun& jr, const FoldClass& f, int64_t count, const FoldModel::Cost& c) {
    const double n = static_cast<double>(count);
    const OperandFormat& xf = *jr.jp.x_format;
    const OperandFormat& wf = *jr.jp.w_format;
    const double acc = arch_.accumulator_bytes;
    const Dataflow df = jr.jp.fold_model.dataflow;
    const FoldEvents ev = fold_events(df, R_, f, xf.element_bits, wf.element_bits, acc);
    const bool x_left = df != Dataflow::kInputStationary;
    const OperandFormat& lf = x_left ? xf : wf;
    const OperandFormat& tf = x_left ? wf : xf;
    tally_.in_read_bits += n * ev.x_elems * xf.bits_a;
    tally_.w_read_bits += n * ev.w_elems * wf.bits_a;
    tally_.out_write_bytes += n * ev.psum_w * acc;
    tally_.out_read_bytes += n * ev.psum_r * acc;
    tally_.left_elems += n * ev.left;
    tally_.top_elems += n * ev.top;
    const double lops = n * std::ceil(ev.left / lf.elements_per_decode_op);
    const double tops = n * std::ceil(ev.top / tf.elements_per_decode_op);
    tally_.left_ops += lops;
    tally_.top_ops += tops;
    tally_.left_ops_by_kind[lf.decoder] += lops;
    tally_.top_ops_by_kind[tf.decoder] += tops;
    tally_.reg_read_bits += n * ev.reg_r_bits;
    tally_.reg_write_bits += n * ev.reg_w_bits;
    tally_.mapped_pe_folds += n * static_cast<double>(f.r * f.c);
    st_.array.folds += static_cast<uint64_t>(count);
    jr.st.folds += static_cast<uint64_t>(count);
    st_.input_buffer.port_stall_cycles += static_cast<uint64_t>(count * c.port_stall[0]);
    st_.weight_buffer.port_stall_cycles += static_cast<uint64_t>(count * c.port_stall[1]);
    st_.output_buffer.port_stall_cycles += static_cast<uint64_t>(count * c.port_stall[2]);
    (x_left ? st_.left_decoders : st_.top_decoders).stall_cycles +=
        static_cast<uint64_t>(count * c.decoder_stall);
  }

  // One tile at tile granularity: returns busy cycles after accounting.
  double tile_mode(JobRun& jr, const Tile& tl, uint64_t& compute) {
    const JobRun::ShapeCost& sc = jr.shape_cost(tl);
    int64_t stalls = 0;
    for (const auto& [f, c] : sc.folds) {
      account(jr, f, f.count, c);
      stalls += f.count * (c.busy - c.compute);
    }
    compute += static_cast<uint64_t>(sc.compute);
    return static_cast<double>(sc.compute + stalls);
  }

  // One tile with every PE every clock.
  double cycle_mode(JobRun& jr, const Tile& tl, detail::FunctionalGemm* fn, uint64_t& compute) {
    const FoldModel& fm = jr.jp.fold_model;
    const Dataflow df = fm.dataflow;
    const ArrayDims d = map_gemm(df, tl.m1 - tl.m0, tl.n1 - tl.n0, tl.k1 - tl.k0);
    const sc_time one = cycles_t(1);
    auto tick = [&one] { sc_core::wait(one); };
    double busy = 0;
    std::vector<detail::CycleFold> folds;
    std::vector<int64_t> pauses;
    auto one_fold = [&](int64_t r0, int64_t c0) {
      const int64_t r = std::min<int64_t>(R_, d.sr - r0), c = std::min<int64_t>(C_, d.sc - c0);
      detail::CycleFold f;
      bool accumulate;
      if (df == Dataflow::kOutputStationary) {
        f = {tl.m0 + r0, r, tl.n0 + c0, c, tl.k0, tl.k1 - tl.k0};
        accumulate = !tl.first_k;
      } else if (df == Dataflow::kWeightStationary) {
        f = {tl.m0, tl.m1 - tl.m0, tl.n0 + c0, c, tl.k0 + r0, r};
        accumulate = !(tl.first_k && r0 == 0);
      } else {
        f = {tl.m0 + c0, c, tl.n0, tl.n1 - tl.n0, tl.k0 + r0, r};
        accumulate = !(tl.first_k && r0 == 0);
      }
      const FoldModel::Cost cost = fm.fold(r, c, d.t, accumulate);
      account(jr, FoldClass{r, c, d.t, 1, accumulate}, 1, cost);
      if (fm.pipelined) {  // run below, all folds of the tile in one schedule
        folds.push_back(f);
        pauses.push_back(cost.busy - cost.compute);
        return;
      }
      // Decoder latency, then the slowdown cycles (the array pauses: nothing moves).
      const int64_t pause = fm.decoder_latency + (cost.busy - cost.compute);
      for (int64_t i = 0; i < pause; ++i) tick();
      const int64_t cycles = engines_[static_cast<int>(df)]->run(f, fn, tick);
      compute += static_cast<uint64_t>(fm.decoder_latency + cycles);
      busy += static_cast<double>(pause + cycles);
    };
    if (df == Dataflow::kOutputStationary) {
      for (int64_t r0 = 0; r0 < d.sr; r0 += R_)
        for (int64_t c0 = 0; c0 < d.sc; c0 += C_) one_fold(r0, c0);
    } else {
      for (int64_t c0 = 0; c0 < d.sc; c0 += C_)
        for (int64_t r0 = 0; r0 < d.sr; r0 += R_) one_fold(r0, c0);
    }
    if (fm.pipelined && !folds.empty()) {
      // The decoder pipeline fills once per tile, then the folds run back to back.
      for (int64_t i = 0; i < fm.decoder_latency; ++i) tick();
      const int64_t cycles = engines_[static_cast<int>(df)]->run_tile(folds, pauses, fn, tick);
      int64_t paused = 0;
      for (int64_t p : pauses) paused += p;
      compute += static_cast<uint64_t>(fm.decoder_latency + cycles);
      busy += static_cast<double>(fm.decoder_latency + paused + cycles);
    }
    return busy;
  }

  // Waits until block number `need` (1-based, in load order) has been sent and has arrived.
  void wait_block(const uint64_t& ready, uint64_t need, sc_event& loaded,
                  std::deque<double>& arrival) {
    while (ready < need) wait(loaded);
    // arrival holds the blocks not yet consumed, oldest first; block `need` is the one at
    // index need - consumed - 1.
    uint64_t& consumed = &arrival == &x_arrival_   ? x_consumed_
                         : &arrival == &w_arrival_ ? w_consumed_
                                                   : y_consumed_;
    while (consumed + 1 < need) {
      arrival.pop_front();
      ++consumed;
    }
    const double at = arrival.front();
    const double now = now_cycles();
    if (at > now) wait(cycles_t(at - now));
  }

  void array() {
    uint64_t x_need = 0, w_need = 0, y_need = 0;
    for (Cursor cur(jobs_); cur.valid();) {
      JobRun& jr = cur.job();
      const Tile tl = cur.tile();
      const int64_t inst = cur.b;
      if (tl.new_x) ++x_need;
      if (tl.new_w) ++w_need;
      double t0 = now_cycles();
      wait_block(x_ready_, x_need, x_loaded_, x_arrival_);
      double t1 = now_cycles();
      st_.array.stall_input_cycles += static_cast<uint64_t>(std::llround(t1 - t0));
      wait_block(w_ready_, w_need, w_loaded_, w_arrival_);
      t0 = now_cycles();
      st_.array.stall_weight_cycles += static_cast<uint64_t>(std::llround(t0 - t1));
      if (tl.new_y) ++y_need;
      wait_block(y_ready_, y_need, y_loaded_, y_arrival_);
      t1 = now_cycles();
      st_.array.stall_output_cycles += static_cast<uint64_t>(std::llround(t1 - t0));
      if (!jr.started) {
        jr.started = true;
        jr.st.start_cycle = static_cast<uint64_t>(std::llround(t1));
      }

      // Compute.
      detail::FunctionalGemm* fn = jr.fn.empty() ? nullptr : &jr.fn[static_cast<size_t>(inst)];
      uint64_t compute = 0;
      double busy;
      if (mode_ == SimMode::kCycle) {
        busy = cycle_mode(jr, tl, fn, compute);
      } else {
        busy = tile_mode(jr, tl, compute);
        wait(cycles_t(busy));
        if (fn) {
          for (int64_t i = tl.m0; i < tl.m1; ++i)
            for (int64_t j = tl.n0; j < tl.n1; ++j) fn->accumulate(i, j, tl.k0, tl.k1);
        }
      }
      st_.array.compute_cycles += compute;
      st_.array.busy_cycles += static_cast<uint64_t>(busy);
      jr.st.compute_cycles += compute;
      jr.st.busy_cycles += static_cast<uint64_t>(busy);
      ++jr.st.tiles;

      // Retire blocks the next tile does not reuse; hand finished outputs to the write-back.
      // (The first tile of an instance or job always loads new blocks: Tile::new_x/new_w.)
      const size_t job_index = cur.j;
      cur.next();
      const bool more = cur.valid();
      const Tile nx = more ? cur.tile() : Tile{};
      if (!more || nx.new_x) {
        in_occupancy_ -= jr.jp.x_format->block_bytes(tl.xb.rows(), tl.xb.cols());
        x_slots_.release();
      }
      if (!more || nx.new_w) {
        w_occupancy_ -= jr.jp.w_format->block_bytes(tl.wb.rows(), tl.wb.cols());
        w_slots_.release();
      }
      if (tl.end_y) {
        const int64_t elems = tl.yb.rows() * tl.yb.cols();
        const int64_t per = tl.y_final ? arch_.output_bytes : arch_.accumulator_bytes;
        stores_.push_back(StoreRequest{job_index, static_cast<uint64_t>(elems * per),
                                       elems * arch_.accumulator_bytes, !tl.y_final});
        store_ready_.notify(SC_ZERO_TIME);
      }
    }
    array_done_ = true;
    store_ready_.notify(SC_ZERO_TIME);
  }

  const ArchConfig& arch_;
  std::vector<JobRun>& jobs_;
  SimMode mode_;
  Stats& st_;
  Dram dram_;
  int64_t R_ = 1, C_ = 1;
  std::unique_ptr<detail::CycleArray> engines_[3];  // per dataflow (cycle mode)
  Slots x_slots_, w_slots_, y_slots_;
  uint64_t x_ready_ = 0, w_ready_ = 0, y_ready_ = 0;
  sc_event x_loaded_, w_loaded_, y_loaded_, store_ready_;
  std::deque<StoreRequest> stores_;
  // Arrival cycle of loaded blocks not yet retired (Y: partial sums read back, or slot taken).
  std::deque<double> x_arrival_, w_arrival_, y_arrival_;
  uint64_t x_consumed_ = 0, w_consumed_ = 0, y_consumed_ = 0;
  bool array_done_ = false;
  int64_t in_occupancy_ = 0, w_occupancy_ = 0, out_occupancy_ = 0;
  Tally tally_;
};

// A fresh SystemC context for one simulation (SystemC 2.3 elaborates once per context), and
// back to the previous one afterwards.
class ScopedSimContext {
 public:
  ScopedSimContext() {
    prev_ = sc_get_curr_simcontext();
    ctx_ = new sc_simcontext();
    sc_curr_simcontext = ctx_;
    sc_default_global_context = ctx_;
  }
  ~ScopedSimContext() {
    delete ctx_;
    sc_curr_simcontext = prev_;
    sc_default_global_context = prev_;
  }
  ScopedSimContext(const ScopedSimContext&) = delete;
  ScopedSimContext& operator=(const ScopedSimContext&) = delete;

 private:
  sc_simcontext* prev_ = nullptr;
  sc_simcontext* ctx_ = nullptr;
};

// The border decoders' functional step; pre-decoded operands (tests) bypass it.
std::shared_ptr<const quant::DecodedTensor> decode_operand(const Operand& op,
                                                           const OperandFormat& f, int64_t rows,
                                                           int64_t cols, const std::string& who) {
  if (!op.decoded) return border_decode(*op.encoded, f.spec, rows, cols, who);
  const auto& d = op.decoded;
  if (d->rows != rows || d->cols != cols) {
    throw Error(who + ": operand is " + std::to_string(d->rows) + " x " + std::to_string(d->cols) +
                ", the job needs " + std::to_string(rows) + " x " + std::to_string(cols));
  }
  return d;
}

void prepare_functional(JobRun& jr) {
  const GemmJob& job = *jr.job;
  if (job.x.empty() && job.w.empty()) return;
  const std::string who = "job '" + job.name + "'";
  auto check_count = [&](const std::vector<Operand>& v, const char* side) {
    if (v.size() != 1 && static_cast<int64_t>(v.size()) != job.batch) {
      throw Error(who + "." + side + ": " + std::to_string(v.size()) +
                  " operands given; need 1 (shared) or batch = " + std::to_string(job.batch));
    }
    for (const Operand& o : v) {
      if (o.empty()) throw Error(who + "." + side + ": empty operand");
    }
  };
  check_count(job.x, "x");
  check_count(job.w, "w");
  std::vector<PeOperand> xs, ws;
  for (size_t i = 0; i < job.x.size(); ++i) {
    xs.push_back(jr.jp.pe->prepare(decode_operand(job.x[i], *jr.jp.x_format, job.m, job.k,
                                                  who + ".x[" + std::to_string(i) + "]"),
                                   job.x[i].encoded.get()));
  }
  for (size_t i = 0; i < job.w.size(); ++i) {
    ws.push_back(jr.jp.pe->prepare(decode_operand(job.w[i], *jr.jp.w_format, job.n, job.k,
                                                  who + ".w[" + std::to_string(i) + "]"),
                                   job.w[i].encoded.get()));
  }
  for (int64_t b = 0; b < job.batch; ++b) {
    jr.fn.emplace_back(*jr.jp.pe, xs[xs.size() == 1 ? 0 : static_cast<size_t>(b)],
                       ws[ws.size() == 1 ? 0 : static_cast<size_t>(b)]);
  }
}

uint64_t to_bytes(double bits) {
  return static_cast<uint64_t>(std::llround(bits / 8.0));
}

}  // namespace

SimResult simulate(const ArchConfig& arch, const std::vector<GemmJob>& jobs,
                   const SimOptions& options) {
  const auto t_start = std::chrono::steady_clock::now();
  arch.validate();
  // Plan (and validate) every job before any simulation; identical jobs share one plan.
  std::vector<JobRun> runs(jobs.size());
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, std::string, std::string>, JobPlan> plans;
  MapperOptions mopts;
  mopts.objective = arch.objective;
  mopts.costs = options.costs;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const GemmJob& j = jobs[i];
    runs[i].job = &j;
    const auto key = std::make_tuple(j.m, j.n, j.k, j.batch, j.x_format, j.w_format);
    if (!options.mappings.empty()) {
      if (options.mappings.size() != jobs.size()) {
        throw Error("simulate: " + std::to_string(options.mappings.size()) +
                    " mappings given for " + std::to_string(jobs.size()) + " jobs");
      }
      runs[i].jp = plan_mapping(arch, j, options.mappings[i], mopts);
    } else {
      auto it = plans.find(key);
      if (it == plans.end()) it = plans.emplace(key, plan_job(arch, j, mopts)).first;
      runs[i].jp = it->second;
    }
    JobStats& s = runs[i].st;
    s.name = j.name;
    s.m = j.m, s.n = j.n, s.k = j.k, s.batch = j.batch;
    s.tile_m = runs[i].jp.plan.tm, s.tile_n = runs[i].jp.plan.tn, s.tile_k = runs[i].jp.plan.tk;
    s.loop_order = runs[i].jp.plan.loop_order();
    const MapResult& mr = runs[i].jp.map;
    s.dataflow = dataflow_name(mr.best.mapping.dataflow);
    s.mapping = mr.best.mapping.key();
    s.loop_nest = loop_nest_text(mr.best.mapping, j.m, j.n, j.k, j.batch,
                                 arch.array.rows / runs[i].jp.pe->fuse(),
                                 arch.array.cols / runs[i].jp.pe->fuse());
    s.objective = objective_name(mr.objective);
    s.compulsory_bytes = mr.compulsory_total();
    s.traffic_lower_bound = mr.traffic_lower_bound;
    s.estimate = mr.best.cost;
    s.runners_up = mr.runners_up;
    if (options.functional) prepare_functional(runs[i]);
  }

  SimResult res;
  Stats& st = res.stats;
  st.mode = options.mode == SimMode::kCycle ? "cycle" : "tile";
  const PeType& pe = pe_type(arch.array.pe);
  st.array.rows = arch.array.rows;
  st.array.cols = arch.array.cols;
  st.array.logical_rows = arch.array.rows / pe.fuse();
  st.array.logical_cols = arch.array.cols / pe.fuse();
  st.input_buffer.name = "input";
  st.weight_buffer.name = "weight";
  st.output_buffer.name = "output";
  st.input_buffer.capacity_bytes = arch.input_buffer.ideal ? 0 : arch.input_buffer.size_bytes;
  st.weight_buffer.capacity_bytes = arch.weight_buffer.ideal ? 0 : arch.weight_buffer.size_bytes;
  st.output_buffer.capacity_bytes = arch.output_buffer.ideal ? 0 : arch.output_buffer.size_bytes;
  st.left_decoders.edge = "left";
  st.left_decoders.units = st.array.logical_rows;
  st.top_decoders.edge = "top";
  st.top_decoders.units = st.array.logical_cols;
  for (const JobRun& r : runs) {
    // X enters on the left except in the input-stationary dataflow the mapper chose.
    const bool x_left = r.jp.fold_model.dataflow != Dataflow::kInputStationary;
    st.left_decoders.kind = (x_left ? r.jp.x_format : r.jp.w_format)->decoder;
    st.top_decoders.kind = (x_left ? r.jp.w_format : r.jp.x_format)->decoder;
  }

  // The SystemC part runs on a worker thread of its own, one simulation at a time per process
  // (SystemC's kernel state is global). The kernel switches between its threads' coroutine
  // stacks (QuickThreads) where AddressSanitizer cannot follow; confined to a short-lived thread,
  // that cannot confuse the sanitizer's view of the caller's stack.
  static std::mutex kernel_mutex;
  std::lock_guard<std::mutex> kernel_lock(kernel_mutex);
  std::exception_ptr failure;
  std::thread kernel([&] {
    try {
      static bool quiet = [] {
        sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
        sc_report_handler::set_actions(SC_WARNING, SC_DO_NOTHING);
        return true;
      }();
      (void)quiet;
      ScopedSimContext ctx;
      g_ticks_per_cycle = static_cast<double>(sc_time(1, SC_NS).value());
      auto acc = std::make_unique<Accelerator>("accelerator", arch, runs, options.mode, st);
      sc_start();
      st.cycles = static_cast<uint64_t>(std::ceil(now_cycles() - 1e-9));
      const Tally& t = acc->tally();
      st.input_buffer.read_bytes = to_bytes(t.in_read_bits);
      st.weight_buffer.read_bytes = to_bytes(t.w_read_bits);
      st.output_buffer.write_bytes = static_cast<uint64_t>(std::llround(t.out_write_bytes));
      st.output_buffer.read_bytes = static_cast<uint64_t>(std::llround(t.out_read_bytes));
      st.left_decoders.elements = static_cast<uint64_t>(std::llround(t.left_elems));
      st.top_decoders.elements = static_cast<uint64_t>(std::llround(t.top_elems));
      st.left_decoders.ops = static_cast<uint64_t>(std::llround(t.left_ops));
      st.top_decoders.ops = static_cast<uint64_t>(std::llround(t.top_ops));
      for (const auto& [kind, ops] : t.left_ops_by_kind)
        st.left_decoders.ops_by_kind[kind] = static_cast<uint64_t>(std::llround(ops));
      for (const auto& [kind, ops] : t.top_ops_by_kind)
        st.top_decoders.ops_by_kind[kind] = static_cast<uint64_t>(std::llround(ops));
      st.array.register_read_bytes = to_bytes(t.reg_read_bits);
      st.array.register_write_bytes = to_bytes(t.reg_write_bits);
      st.dram.busy_cycles = static_cast<uint64_t>(std::ceil(acc->dram_busy() - 1e-9));
      st.array.pe_cycles = acc->pe_cycles();
      if (st.array.folds > 0) {
        st.array.mapping_efficiency =
            t.mapped_pe_folds /
            (static_cast<double>(st.array.folds) * st.array.logical_rows * st.array.logical_cols);
      }
      acc.reset();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  kernel.join();
  if (failure) std::rethrow_exception(failure);
  // MACs by kind (per instance when the operands are known: OLAccel counts its outlier MACs
  // from them).
  for (JobRun& r : runs) {
    const GemmJob& j = *r.job;
    MacBlock mb{0, j.m, 0, j.n, 0, j.k, nullptr, nullptr, r.jp.x_format, r.jp.w_format};
    if (r.fn.empty()) {
      Counters c;
      r.jp.pe->count_macs(mb, c);
      for (const auto& [kind, count] : c) {
        st.array.macs_by_type[kind] += count * static_cast<uint64_t>(j.batch);
      }
    } else {
      for (const auto& fn : r.fn) {
        mb.x = &fn.x();
        mb.w = &fn.w();
        r.jp.pe->count_macs(mb, st.array.macs_by_type);
      }
    }
    r.st.macs = j.macs();
    st.array.macs += j.macs();
  }
  if (st.cycles > 0) {
    st.array.utilization =
        static_cast<double>(st.array.macs) /
        (static_cast<double>(st.cycles) * st.array.logical_rows * st.array.logical_cols);
  }
  // Accumulator scale steps: one per output, segment and sign combination.
  for (const JobRun& r : runs) {
    const OperandFormat& xf = *r.jp.x_format;
    const OperandFormat& wf = *r.jp.w_format;
    const uint64_t combos = (xf.sign_split ? 2u : 1u) * (wf.sign_split ? 2u : 1u);
    st.array.segment_closes +=
        static_cast<uint64_t>(r.job->batch * r.job->m * r.job->n) *
        static_cast<uint64_t>(segment_count(r.job->k, xf.group_cols, wf.group_cols)) * combos;
  }
  res.outputs.resize(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    st.jobs.push_back(runs[i].st);
    for (auto& fn : runs[i].fn) res.outputs[i].push_back(fn.finish());
  }
  st.host_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

}  // namespace qarch::models
