// SCALE-Sim v2's reports, re-derived (see scalesim_engine.h for the sources and the model).
// Addresses are kept local to their operand (SCALE-Sim's address minus the operand's offset):
// each buffer sees one operand only, so the offsets never change a hit, a count or a cycle.
#include "qarch/sim/scalesim_engine.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// ---------------------------------------------------------------------------------------------
// Operand addresses (scalesim/compute/operand_matrix.py), local to each operand.

class OperandAddresses {
 public:
  explicit OperandAddresses(const ScaleSimLayerShape& l)
      : ifmap_h_(l.ifmap_h), ifmap_w_(l.ifmap_w), num_filter_(l.num_filter) {
    ofmap_h_ = ceil_div(l.ifmap_h - l.filter_h + l.stride_h, l.stride_h);
    ofmap_w_ = ceil_div(l.ifmap_w - l.filter_w + l.stride_w, l.stride_w);
    pixels_ = ofmap_h_ * ofmap_w_;
    window_ = l.filter_h * l.filter_w * l.channels;
    // Per output pixel: the window's top-left input row/column and its address.
    px_row_.resize(static_cast<size_t>(pixels_));
    px_col_.resize(static_cast<size_t>(pixels_));
    px_base_.resize(static_cast<size_t>(pixels_));
    for (int64_t i = 0; i < pixels_; ++i) {
      const int64_t r = (i / ofmap_w_) * l.stride_h, c = (i % ofmap_w_) * l.stride_w;
      px_row_[static_cast<size_t>(i)] = r;
      px_col_[static_cast<size_t>(i)] = c;
      px_base_[static_cast<size_t>(i)] = (r * l.ifmap_w + c) * l.channels;
    }
    // Per window element: its row/column inside the window and its address offset.
    win_row_.resize(static_cast<size_t>(window_));
    win_col_.resize(static_cast<size_t>(window_));
    win_off_.resize(static_cast<size_t>(window_));
    for (int64_t j = 0; j < window_; ++j) {
      const int64_t r = j / (l.filter_w * l.channels), k = j % (l.filter_w * l.channels);
      const int64_t c = k / l.channels, ch = k % l.channels;
      win_row_[static_cast<size_t>(j)] = r;
      win_col_[static_cast<size_t>(j)] = c;
      win_off_[static_cast<size_t>(j)] = (r * l.ifmap_w + c) * l.channels + ch;
    }
    ifmap_words_ = l.ifmap_h * l.ifmap_w * l.channels;
  }

  int64_t pixels() const { return pixels_; }
  int64_t window() const { return window_; }
  int64_t filters() const { return num_filter_; }
  int64_t ifmap_words() const { return ifmap_words_; }
  int64_t filter_words() const { return window_ * num_filter_; }

  /// Input word of output pixel `px`, window element `w`; -1 where the window runs past the
  /// input's edge (SCALE-Sim rounds the ofmap size up and leaves those requests empty).
  int64_t ifmap(int64_t px, int64_t w) const {
    const size_t p = static_cast<size_t>(px), j = static_cast<size_t>(w);
    if (px_row_[p] + win_row_[j] >= ifmap_h_ || px_col_[p] + win_col_[j] >= ifmap_w_) return -1;
    return px_base_[p] + win_off_[j];
  }
  /// Filter word: window element `w` of filter `f`.
  int64_t filter(int64_t w, int64_t f) const { return f * window_ + w; }

 private:
  int64_t ifmap_h_, ifmap_w_, num_filter_;
  int64_t ofmap_h_ = 0, ofmap_w_ = 0, pixels_ = 0, window_ = 0, ifmap_words_ = 0;
  std::vector<int64_t> px_row_, px_col_, px_base_, win_row_, win_col_, win_off_;
};

// ---------------------------------------------------------------------------------------------
// Demand streams (scalesim/compute/systolic_compute_*.py). Within a fold every operand's demand
// is a band of "u" rows (a temporal index or a flipped block row) that starts `prefix` rows into
// the fold and, when skewed, shifts one row per array column: row r, column c holds band row
// u = r - prefix - (skewed ? c : 0) for u in [u_lo, u_hi) and c < used.

enum class Source {
  kIfmapUPxCWin,     // ifmap(px = u, win = base_c + c)                   WS ifmap
  kIfmapCPxUWin,     // ifmap(px = base_c + c, win = base_u + u)          OS ifmap
  kIfmapCPxFlipWin,  // ifmap(px = base_c + c, win = base_u + R - 1 - u)  IS ifmap
  kFilterUWinCF,     // filter(win = base_u + u, f = base_c + c)          OS filter
  kFilterFlipWinCF,  // filter(win = base_u + R - 1 - u, f = base_c + c)  WS filter
  kFilterCWinUF,     // filter(win = base_c + c, f = u)                   IS filter
  kOfmapFlipPxCF,    // ofmap word (never looked up)                      OS ofmap
  kOfmapUPxCF,       //                                                   WS ofmap
  kOfmapCPxUF,       //                                                   IS ofmap
};

struct Stream {
  Source source = Source::kIfmapUPxCWin;
  bool skewed = true;
  int64_t prefix = 0, u_lo = 0, u_hi = 0, used = 0;
  int64_t base_u = 0, base_c = 0, flip = 0;  // flip: R - 1 for the flipped sources
};

/// Calls f(local address) for each non-empty request of stream row r, left to right; returns
/// how many there were (empty ifmap requests, -1 in SCALE-Sim, are skipped).
template <typename F>
int64_t for_each_request(const Stream& s, const OperandAddresses& a, int64_t r, F&& f) {
  int64_t c_lo = 0, c_hi = s.used - 1;
  if (s.skewed) {
    c_lo = std::max<int64_t>(0, r - s.prefix - s.u_hi + 1);
    c_hi = std::min<int64_t>(s.used - 1, r - s.prefix - s.u_lo);
  } else {
    const int64_t u = r - s.prefix;
    if (u < s.u_lo || u >= s.u_hi) return 0;
  }
  int64_t n = 0;
  for (int64_t c = c_lo; c <= c_hi; ++c) {
    const int64_t u = r - s.prefix - (s.skewed ? c : 0);
    int64_t addr = 0;
    switch (s.source) {
      case Source::kIfmapUPxCWin:
        addr = a.ifmap(u, s.base_c + c);
        break;
      case Source::kIfmapCPxUWin:
        addr = a.ifmap(s.base_c + c, s.base_u + u);
        break;
      case Source::kIfmapCPxFlipWin:
        addr = a.ifmap(s.base_c + c, s.base_u + s.flip - u);
        break;
      case Source::kFilterUWinCF:
        addr = a.filter(s.base_u + u, s.base_c + c);
        break;
      case Source::kFilterFlipWinCF:
        addr = a.filter(s.base_u + s.flip - u, s.base_c + c);
        break;
      case Source::kFilterCWinUF:
        addr = a.filter(s.base_c + c, u);
        break;
      default:
        addr = 0;
        break;  // output words: only their count matters
    }
    if (addr >= 0) f(addr), ++n;
  }
  return n;
}

/// The array mapping of a layer: SCALE-Sim's S_R x S_C operand matrix over R x C, T steps.
struct Mapping {
  models::Dataflow dataflow;
  int64_t R = 0, C = 0, Sr = 0, Sc = 0, T = 0, row_fold = 0, col_fold = 0, fold_rows = 0;
  int64_t rows_used(int64_t fr) const { return std::min(R, Sr - fr * R); }
  int64_t cols_used(int64_t fc) const { return std::min(C, Sc - fc * C); }
};

Mapping make_mapping(const ScaleSimConfig& c, const OperandAddresses& a, ScaleSimMode mode) {
  Mapping m;
  m.dataflow = c.dataflow;
  m.R = c.array_height, m.C = c.array_width;
  switch (c.dataflow) {
    case models::Dataflow::kOutputStationary:
      m.Sr = a.pixels(), m.Sc = a.filters(), m.T = a.window();
      // Outputs drain while the next fold fills; corrected mode drains them first (R rows).
      m.fold_rows = m.T + m.R + m.C - 2 + (mode == ScaleSimMode::kCorrected ? m.R : 0);
      break;
    case models::Dataflow::kWeightStationary:
      m.Sr = a.window(), m.Sc = a.filters(), m.T = a.pixels();
      m.fold_rows = 2 * m.R + m.C + m.T - 2;
      break;
    case models::Dataflow::kInputStationary:
      m.Sr = a.window(), m.Sc = a.pixels(), m.T = a.filters();
      m.fold_rows = 2 * m.R + m.C + m.T - 2;
      break;
  }
  m.row_fold = ceil_div(m.Sr, m.R);
  m.col_fold = ceil_div(m.Sc, m.C);
  return m;
}

/// The ifmap, filter and ofmap demand streams of fold (fc, fr).
void fold_streams(const Mapping& m, int64_t fc, int64_t fr, Stream* in, Stream* w, Stream* out) {
  const int64_t R = m.R, T = m.T, ru = m.rows_used(fr), cu = m.cols_used(fc);
  switch (m.dataflow) {
    case models::Dataflow::kOutputStationary:
      *in = {Source::kIfmapCPxUWin, true, 0, 0, T, ru, 0, fr * R, 0};
      *w = {Source::kFilterUWinCF, true, 0, 0, T, cu, 0, fc * m.C, 0};
      *out = {Source::kOfmapFlipPxCF, true, T - 1, R - ru, R, cu, 0, 0, 0};
      break;
    case models::Dataflow::kWeightStationary:
      *in = {Source::kIfmapUPxCWin, true, R, 0, T, ru, 0, fr * R, 0};
      *w = {Source::kFilterFlipWinCF, false, 0, R - ru, R, cu, fr * R, fc * m.C, R - 1};
      *out = {Source::kOfmapUPxCF, true, 2 * R - 1, 0, T, cu, 0, 0, 0};
      break;
    case models::Dataflow::kInputStationary:
      *in = {Source::kIfmapCPxFlipWin, false, 0, R - ru, R, cu, fr * R, fc * m.C, R - 1};
      *w = {Source::kFilterCWinUF, true, R, 0, T, ru, 0, fr * R, 0};
      *out = {Source::kOfmapCPxUF, true, 2 * R - 1, 0, T, cu, 0, 0, 0};
      break;
  }
}

/// The USER-bandwidth prefetch matrix of the ifmap (is_ifmap) or filter, flattened row-major as
/// read_buffer.set_fetch_matrix does: per fold the operand block padded to the array edge,
/// stacked, and for the streamed operands read along anti-diagonals ("ISSUE #15, #16").
template <typename F>
void for_each_prefetch(const Mapping& m, const OperandAddresses& a, bool is_ifmap, F&& f) {
  int64_t rows = 0, cols = 0;
  bool diagonal = true;
  std::function<int64_t(int64_t, int64_t)> elem;
  const int64_t R = m.R, C = m.C, T = m.T, Sr = m.Sr, Sc = m.Sc;
  switch (m.dataflow) {
    case models::Dataflow::kOutputStationary:
      if (is_ifmap) {
        rows = m.row_fold * T, cols = R;
        elem = [&](int64_t row, int64_t c) {
          const int64_t px = (row / T) * R + c;
          return px < Sr ? a.ifmap(px, row % T) : -1;
        };
      } else {
        rows = m.col_fold * T, cols = C;
        elem = [&](int64_t row, int64_t c) {
          const int64_t fl = (row / T) * C + c;
          return fl < Sc ? a.filter(row % T, fl) : -1;
        };
      }
      break;
    case models::Dataflow::kWeightStationary:
      if (is_ifmap) {
        rows = m.row_fold * T, cols = R;
        elem = [&](int64_t row, int64_t c) {
          const int64_t win = (row / T) * R + c;
          return win < Sr ? a.ifmap(row % T, win) : -1;
        };
      } else {
        rows = m.col_fold * Sr, cols = C, diagonal = false;
        elem = [&](int64_t row, int64_t c) {
          const int64_t fl = (row / Sr) * C + c;
          return fl < Sc ? a.filter(row % Sr, fl) : -1;
        };
      }
      break;
    case models::Dataflow::kInputStationary:
      if (is_ifmap) {
        rows = m.col_fold * Sr, cols = C, diagonal = false;
        elem = [&](int64_t row, int64_t c) {
          const int64_t px = (row / Sr) * C + c;
          return px < Sc ? a.ifmap(px, row % Sr) : -1;
        };
      } else {
        rows = m.row_fold * T, cols = R;
        elem = [&](int64_t row, int64_t c) {
          const int64_t win = (row / T) * R + c;
          return win < Sr ? a.filter(win, row % T) : -1;
        };
      }
      break;
  }
  if (!diagonal) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) f(elem(r, c));
    return;
  }
  for (int64_t d = 0; d < rows + cols; ++d) {
    const int64_t hi = std::min(d, rows - 1), lo = std::max<int64_t>(0, d - cols + 1);
    for (int64_t r = hi; r >= lo; --r) f(elem(r, d - r));
  }
}

// ---------------------------------------------------------------------------------------------
// Memories.

/// Start and stop cycle of a DRAM trace (its first and last row).
struct TraceSpan {
  bool any = false;
  int64_t start = 0, stop = 0;
  void rows(int64_t first, int64_t last) {
    if (!any) start = first, any = true;
    stop = last;
  }
};

/// CALC bandwidth read buffer (read_buffer_estimate_bw.py): never stalls; counts the distinct
/// addresses of each epoch of 50 sets and times its prefetches from the epoch closing cycles.
class CalcReadBuffer {
 public:
  CalcReadBuffer(int64_t sram_words, int64_t operand_words, const std::string& what)
      : items_(sram_words / 100), what_(what), stamp_(static_cast<size_t>(operand_words), 0) {
    if (items_ == 0) {
      throw Error(what_ + ": the SRAM holds " + std::to_string(sram_words) +
                  " words; SCALE-Sim's CALC read buffer needs at least 100 (its sets of "
                  "floor(words / 100) addresses would be empty and it fails)");
    }
  }

  void request(int64_t addr, int64_t cycle) {
    if (!first_seen_) first_seen_ = true, first_cycle_ = cycle;
    uint32_t& s = stamp_[static_cast<size_t>(addr)];
    const uint32_t epoch = static_cast<uint32_t>(closed_sets_ / kSetsPerHalf) + 1;
    if (s == epoch) return;  // requested before in this epoch: a hit
    s = epoch;
    ++inserted_;
    if (++in_set_ < items_) return;
    in_set_ = 0;
    if (++closed_sets_ % kSetsPerHalf == 0) epoch_closed(cycle);
  }

  /// complete_all_prefetches(): the sets not yet prefetched.
  void finish() {
    const int64_t current_id = in_set_ > 0 ? closed_sets_ : closed_sets_ - 1;
    if (triggers_ == 0) {
      const int64_t sets = current_id + 1;
      const int64_t needed = ceil_div(sets * items_, kDefaultBandwidth);
      if (needed <= 0) throw Error(what_ + ": no requests; SCALE-Sim fails on an empty trace");
      last_end_ = -2;  // first request cycle 0 minus one, minus the port latency
      last_start_ = last_end_ - needed + 1;
      span_.rows(last_start_ + 1, last_end_ + 1);
      reads_ += inserted_;
    } else {
      const int64_t needed = last_end_ - last_start_ + 1;
      if (needed <= 0) fail_zero_window();
      span_.rows(last_start_ + 1, last_end_ + 1);
      reads_ += inserted_ - triggers_ * kSetsPerHalf * items_;
    }
  }

  int64_t reads() const { return reads_; }
  const TraceSpan& span() const { return span_; }

 private:
  static constexpr int64_t kSetsPerHalf = 50;       // 100 sets, active fraction 0.5
  static constexpr int64_t kDefaultBandwidth = 10;  // single_layer_sim.py: "arbitrary"

  void epoch_closed(int64_t cycle) {
    if (triggers_ == 0) {
      // The active half is fetched before the first request, at the default bandwidth.
      last_end_ = first_cycle_ - 2;
      const int64_t needed = ceil_div(kSetsPerHalf * items_, kDefaultBandwidth);
      last_start_ = last_end_ - needed + 1;
    } else if (last_end_ - last_start_ + 1 <= 0) {
      fail_zero_window();
    }
    span_.rows(last_start_ + 1, last_end_ + 1);
    reads_ += kSetsPerHalf * items_;
    last_start_ = last_end_ + 1;
    last_end_ = cycle;
    ++triggers_;
  }

  [[noreturn]] void fail_zero_window() const {
    throw Error(what_ +
                ": two prefetch epochs closed in one cycle (the SRAM is tiny for the "
                "array's request rate); SCALE-Sim divides by zero here");
  }

  int64_t items_;
  std::string what_;
  std::vector<uint32_t> stamp_;
  bool first_seen_ = false;
  int64_t first_cycle_ = 0;
  int64_t in_set_ = 0, closed_sets_ = 0, inserted_ = 0, triggers_ = 0;
  int64_t last_start_ = -2, last_end_ = -1;
  int64_t reads_ = 0;
  TraceSpan span_;
};

/// USER bandwidth read buffer (read_buffer.py): the prefetch matrix in lines of
/// ceil(words / 100) addresses, an active window of lines, and a blocking prefetch whenever a
/// request misses the window.
class UserReadBuffer {
 public:
  template <typename Prefetch>
  UserReadBuffer(int64_t sram_words, int64_t bandwidth, int64_t operand_words,
                 const std::string& what, Prefetch&& for_each_prefetch_word)
      : bw_(bandwidth), what_(what) {
    active_words_ = ceil_div(sram_words, 2);  // ceil(words * 0.5)
    prefetch_words_ = sram_words - active_words_;
    const int64_t per_line = ceil_div(sram_words, 100);
    // Pass 1: how many lines hold each address; pass 2: which (sorted, distinct).
    std::vector<int64_t> last(static_cast<size_t>(operand_words), -1);
    std::vector<int64_t> count(static_cast<size_t>(operand_words) + 1, 0);
    int64_t fetch_words = 0;
    auto walk = [&](auto&& on_word) {
      int64_t line = 0, in_line = 0;
      fetch_words = 0;
      for_each_prefetch_word([&](int64_t addr) {
        ++fetch_words;
        if (addr >= 0) {
          on_word(addr, line);
          if (++in_line >= per_line) ++line, in_line = 0;
        }
      });
      return line + 1;  // the last (possibly empty) line counts
    };
    std::fill(last.begin(), last.end(), -1);
    lines_ = walk([&](int64_t addr, int64_t line) {
      size_t i = static_cast<size_t>(addr);
      if (last[i] != line) last[i] = line, ++count[i + 1];
    });
    for (size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
    start_ = count;
    ids_.resize(static_cast<size_t>(count.back()));
    std::fill(last.begin(), last.end(), -1);
    std::vector<int64_t> fill = count;
    walk([&](int64_t addr, int64_t line) {
      size_t i = static_cast<size_t>(addr);
      if (last[i] != line) last[i] = line, ids_[static_cast<size_t>(fill[i]++)] = line;
    });
    fetch_rows_ = ceil_div(fetch_words, bw_);
    active_lines_ = std::min(ceil_div(active_words_, per_line), lines_);
    prefetch_lines_ = std::min(ceil_div(prefetch_words_, per_line), lines_ - active_lines_);
    win_start_ = 0, win_end_ = active_lines_;
  }

  /// Serves one demand row arriving at `cycle`; returns its service offset (1 + stall cycles).
  template <typename Requests>
  int64_t serve_row(int64_t cycle, Requests&& for_each_addr) {
    if (!started_) prefetch_active(cycle);
    int64_t offset = 1;  // hit latency
    for_each_addr([&](int64_t addr) {
      for (int64_t tries = 0; !hit(addr); ++tries) {
        if (tries > lines_ + 1) {
          throw Error(what_ + ": address " + std::to_string(addr) +
                      " never enters the active buffer (SCALE-Sim would loop forever)");
        }
        new_prefetch();
        const int64_t stall = last_prefetch_ - (cycle + offset);
        if (stall > 0) offset += stall;
      }
    });
    return offset;
  }

  int64_t reads() const { return reads_; }
  const TraceSpan& span() const { return span_; }

 private:
  bool hit(int64_t addr) const {
    const int64_t* b = ids_.data() + start_[static_cast<size_t>(addr)];
    const int64_t* e = ids_.data() + start_[static_cast<size_t>(addr) + 1];
    if (b == e) return false;
    if (win_start_ < win_end_) {
      const int64_t* it = std::lower_bound(b, e, win_start_);
      return it != e && *it < win_end_;
    }
    return *(e - 1) >= win_start_ || *b < win_end_;
  }

  void prefetch_active(int64_t cycle) {
    started_ = true;
    int64_t n = ceil_div(active_words_, bw_);
    if (n >= fetch_rows_) n = fetch_rows_;
    reads_ += n * bw_;
    span_.rows(cycle - n, cycle - 1);
    last_prefetch_ = cycle - 1;
    next_line_ = fetch_rows_ > 0 ? (n * bw_ > active_words_ ? n : n + 1) % fetch_rows_ : 0;
  }

  void new_prefetch() {
    win_start_ = (win_start_ + prefetch_lines_) % lines_;
    win_end_ = (win_start_ + active_lines_) % lines_;
    const int64_t n = ceil_div(prefetch_words_, bw_);
    if (next_line_ + n > fetch_rows_) {
      const int64_t got =
          fetch_rows_ - next_line_ + std::min(next_line_ + n - fetch_rows_, next_line_);
      if (got != n) {
        throw Error(what_ + ": a prefetch of " + std::to_string(n) + " lines wraps past the " +
                    std::to_string(fetch_rows_) +
                    "-line operand; SCALE-Sim fails here (its prefetch request and response "
                    "matrices differ in size)");
      }
    }
    reads_ += n * bw_;
    span_.rows(last_prefetch_ + 2, last_prefetch_ + n + 1);
    last_prefetch_ += n + 1;
    next_line_ = (n * bw_ > active_words_ ? n : n + 1) % fetch_rows_;
  }

  int64_t bw_;
  std::string what_;
  int64_t active_words_ = 0, prefetch_words_ = 0;
  int64_t lines_ = 0, active_lines_ = 0, prefetch_lines_ = 0, fetch_rows_ = 0;
  std::vector<int64_t> start_, ids_;  // CSR: the sorted lines holding each address
  bool started_ = false;
  int64_t win_start_ = 0, win_end_ = 0, last_prefetch_ = -1, next_line_ = 0;
  int64_t reads_ = 0;
  TraceSpan span_;
};

/// The OFMAP write buffer (write_buffer.py): words are packed into bandwidth-wide lines; once
/// more than half the SRAM is full, half of it drains (one line per cycle), and a full SRAM
/// stalls the array until the drain in flight ends.
class WriteBuffer {
 public:
  WriteBuffer(int64_t sram_words, int64_t bandwidth, bool corrected)
      : total_(sram_words), bw_(bandwidth), corrected_(corrected) {
    active_ = ceil_div(sram_words, 2);
    drain_size_ = total_ - active_;
    free_ = total_;
  }

  /// Serves one row of `words` writes arriving at `cycle`; returns the row's stall cycles.
  int64_t serve_row(int64_t cycle, int64_t words) {
    int64_t current = cycle;
    for (int64_t i = 0; i < words; ++i) {
      --free_;
      if (++line_fill_ == bw_) lines_.push_back(bw_), line_fill_ = 0;
      if (current < drain_end_) {
        if (free_ <= 0) current = drain_end_;
      } else if (free_ < active_) {
        close_line();
        drain_end_ = drain(current);
      }
    }
    return current - cycle;
  }

  /// empty_all_buffers(): drains what is left, back to back from `cycle`.
  void finish(int64_t cycle) {
    close_line();
    if (lines_.empty()) throw Error("OFMAP: no writes; SCALE-Sim fails on an empty trace");
    while (next_line_ < static_cast<int64_t>(lines_.size())) {
      drain_end_ = drain(cycle);
      cycle = drain_end_ + 1;
    }
  }

  int64_t writes() const { return writes_; }
  const TraceSpan& span() const { return span_; }

 private:
  void close_line() {
    if (line_fill_ > 0) lines_.push_back(line_fill_), line_fill_ = 0;
  }

  int64_t drain(int64_t start) {
    const int64_t want = ceil_div(drain_size_, bw_);
    const int64_t end = std::min(next_line_ + want, static_cast<int64_t>(lines_.size()));
    const int64_t n = end - next_line_;
    if (n <= 0) throw Error("OFMAP: a drain with nothing to drain; SCALE-Sim fails here");
    int64_t words = 0;
    if (corrected_) {
      for (int64_t i = next_line_; i < end; ++i) words += lines_[static_cast<size_t>(i)];
    } else {
      // SCALE-Sim counts every line as full except the drain's last.
      words = n * bw_ - (bw_ - lines_[static_cast<size_t>(end - 1)]);
    }
    writes_ += words;
    free_ += words;
    span_.rows(start, start + n - 1);
    next_line_ = end;
    return start + n - 1;
  }

  int64_t total_, bw_;
  bool corrected_;
  int64_t active_ = 0, drain_size_ = 0, free_ = 0;
  int64_t drain_end_ = 0, line_fill_ = 0, next_line_ = 0;
  std::vector<int64_t> lines_;  // words per line
  int64_t writes_ = 0;
  TraceSpan span_;
};

/// First and last demand row that held a request, as their service cycles.
struct SramSpan {
  bool any = false;
  int64_t start = 0, stop = 0;
  void row(int64_t served) {
    if (!any) start = served, any = true;
    stop = served;
  }
};

}  // namespace

std::vector<ScaleSimLayerShape> scalesim_layer_shapes(const ScaleSimTopology& t) {
  std::vector<ScaleSimLayerShape> out;
  for (const ScaleSimLayer& l : t.layers) {
    ScaleSimLayerShape s;
    s.name = l.name;
    s.ifmap_h = l.ifmap_h, s.ifmap_w = l.ifmap_w, s.filter_h = l.filter_h;
    s.filter_w = l.filter_w, s.channels = l.channels, s.num_filter = l.num_filter;
    s.stride_h = l.stride_h, s.stride_w = l.stride_w;
    if (!l.depthwise) {
      out.push_back(s);
      continue;
    }
    s.channels = 1;
    for (int64_t ch = 0; ch < l.channels; ++ch) {
      ScaleSimLayerShape one = s;
      one.name = l.name + "Channel_" + std::to_string(ch);
      out.push_back(one);
    }
  }
  return out;
}

ScaleSimLayerReport simulate_scalesim_layer(const ScaleSimConfig& c, const ScaleSimLayerShape& l,
                                            ScaleSimMode mode) {
  const bool corrected = mode == ScaleSimMode::kCorrected;
  const OperandAddresses a(l);
  const Mapping m = make_mapping(c, a, mode);
  const std::string at = "layer " + l.name;
  if (c.user_bandwidth && (c.bandwidth.empty() || c.bandwidth[0] < 1)) {
    throw Error(c.file + ": [architecture_presets] Bandwidth: USER mode needs a bandwidth >= 1");
  }
  const int64_t user_bw = c.user_bandwidth ? c.bandwidth[0] : 0;

  std::unique_ptr<CalcReadBuffer> calc_in, calc_w;
  std::unique_ptr<UserReadBuffer> user_in, user_w;
  if (c.user_bandwidth) {
    user_in = std::make_unique<UserReadBuffer>(c.ifmap_sram_kb * 1024, user_bw, a.ifmap_words(),
                                               at + ": IFMAP",
                                               [&](auto&& f) { for_each_prefetch(m, a, true, f); });
    user_w = std::make_unique<UserReadBuffer>(c.filter_sram_kb * 1024, user_bw, a.filter_words(),
                                              at + ": Filter",
                                              [&](auto&& f) { for_each_prefetch(m, a, false, f); });
  } else {
    calc_in =
        std::make_unique<CalcReadBuffer>(c.ifmap_sram_kb * 1024, a.ifmap_words(), at + ": IFMAP");
    calc_w = std::make_unique<CalcReadBuffer>(c.filter_sram_kb * 1024, a.filter_words(),
                                              at + ": Filter");
  }
  // The OFMAP backing bandwidth: USER's, else the array width (single_layer_sim.py).
  WriteBuffer wb(c.ofmap_sram_kb * 1024, c.user_bandwidth ? user_bw : m.C, corrected);

  ScaleSimLayerReport r;
  SramSpan s_in, s_w, s_out;
  int64_t row = 0, stalls = 0, last_out = 0, demand = 0;
  double mapping_sum = 0, util_sum = 0;
  for (int64_t fc = 0; fc < m.col_fold; ++fc) {
    for (int64_t fr = 0; fr < m.row_fold; ++fr) {
      Stream in, w, out;
      fold_streams(m, fc, fr, &in, &w, &out);
      // Per-fold mapping efficiency and compute utilization, summed in SCALE-Sim's order.
      const int64_t used = m.rows_used(fr) * m.cols_used(fc);
      mapping_sum += static_cast<double>(used) / static_cast<double>(m.R * m.C);
      const int64_t util_cycles =
          corrected || m.dataflow == models::Dataflow::kOutputStationary
              ? m.fold_rows
              : 2 * m.R + 2 * m.C + m.T - 3;  // SCALE-Sim's WS/IS fold: demand rows + C - 1
      util_sum += static_cast<double>(used * m.T) / static_cast<double>(m.R * m.C * util_cycles);
      for (int64_t r_in_fold = 0; r_in_fold < m.fold_rows; ++r_in_fold, ++row) {
        const int64_t cycle = row + stalls;
        int64_t in_off = 1, w_off = 1;
        int64_t n_in = 0, n_w = 0;
        if (c.user_bandwidth) {
          in_off = user_in->serve_row(cycle, [&](auto&& f) {
            n_in = for_each_request(in, a, r_in_fold, [&](int64_t x) { f(x); });
          });
          w_off = user_w->serve_row(cycle, [&](auto&& f) {
            n_w = for_each_request(w, a, r_in_fold, [&](int64_t x) { f(x); });
          });
        } else {
          n_in = for_each_request(in, a, r_in_fold, [&](int64_t x) { calc_in->request(x, cycle); });
          n_w = for_each_request(w, a, r_in_fold, [&](int64_t x) { calc_w->request(x, cycle); });
        }
        int64_t n_out = 0;
        for_each_request(out, a, r_in_fold, [&](int64_t) { ++n_out; });
        const int64_t out_stall = wb.serve_row(cycle, n_out);
        if (n_in > 0) s_in.row(cycle + in_off);
        if (n_w > 0) s_w.row(cycle + w_off);
        if (n_out > 0) s_out.row(cycle + out_stall);
        demand += n_in + n_w + n_out;
        last_out = cycle + out_stall;
        stalls += std::max({in_off - 1, w_off - 1, out_stall});
      }
    }
  }
  if (calc_in) calc_in->finish(), calc_w->finish();
  wb.finish(last_out);

  const int64_t folds = m.row_fold * m.col_fold;
  r.total_cycles = last_out + (corrected ? 1 : 0);
  if (r.total_cycles <= 0) {
    throw Error(at + ": the layer takes a single cycle; SCALE-Sim divides by its zero total");
  }
  r.stall_cycles = stalls;
  r.macs = a.pixels() * a.filters() * a.window();
  r.overall_util =
      static_cast<double>(r.macs * 100) / static_cast<double>(r.total_cycles * m.R * m.C);
  r.mapping_efficiency = mapping_sum / static_cast<double>(folds) * 100;
  r.compute_util = util_sum / static_cast<double>(folds) * 100;

  // SRAM requests, empty (-1) ifmap requests included, as SCALE-Sim counts them.
  switch (m.dataflow) {
    case models::Dataflow::kOutputStationary:
      r.sram_ifmap_reads = m.col_fold * m.T * m.Sr;
      r.sram_filter_reads = m.row_fold * m.T * m.Sc;
      r.sram_ofmap_writes = m.Sr * m.Sc + (corrected ? 0 : folds * (m.R + m.C));
      break;
    case models::Dataflow::kWeightStationary:
      r.sram_ifmap_reads = m.col_fold * m.T * m.Sr;
      r.sram_filter_reads = m.Sr * m.Sc;
      r.sram_ofmap_writes = m.row_fold * m.T * m.Sc;
      break;
    case models::Dataflow::kInputStationary:
      r.sram_ifmap_reads = m.Sr * m.Sc;
      r.sram_filter_reads = m.col_fold * m.T * m.Sr;
      r.sram_ofmap_writes = m.row_fold * m.Sc * m.T;
      break;
  }
  r.sram_ifmap_start = s_in.start, r.sram_ifmap_stop = s_in.stop;
  r.sram_filter_start = s_w.start, r.sram_filter_stop = s_w.stop;
  r.sram_ofmap_start = s_out.start, r.sram_ofmap_stop = s_out.stop;
  const TraceSpan& d_in = calc_in ? calc_in->span() : user_in->span();
  const TraceSpan& d_w = calc_w ? calc_w->span() : user_w->span();
  r.dram_ifmap_start = d_in.start, r.dram_ifmap_stop = d_in.stop;
  r.dram_ifmap_reads = calc_in ? calc_in->reads() : user_in->reads();
  r.dram_filter_start = d_w.start, r.dram_filter_stop = d_w.stop;
  r.dram_filter_reads = calc_w ? calc_w->reads() : user_w->reads();
  r.dram_ofmap_start = wb.span().start, r.dram_ofmap_stop = wb.span().stop;
  r.dram_ofmap_writes = wb.writes();

  const double cycles = static_cast<double>(r.total_cycles);
  r.sram_ifmap_bw = static_cast<double>(r.sram_ifmap_reads) / cycles;
  r.sram_filter_bw = static_cast<double>(r.sram_filter_reads) / cycles;
  r.sram_ofmap_bw = static_cast<double>(r.sram_ofmap_writes) / cycles;
  auto avg = [](int64_t words, int64_t start, int64_t stop) {
    return static_cast<double>(words) / static_cast<double>(stop - start + 1);
  };
  r.dram_ifmap_bw = avg(r.dram_ifmap_reads, r.dram_ifmap_start, r.dram_ifmap_stop);
  r.dram_filter_bw = avg(r.dram_filter_reads, r.dram_filter_start, r.dram_filter_stop);
  r.dram_ofmap_bw = avg(r.dram_ofmap_writes, r.dram_ofmap_start, r.dram_ofmap_stop);
  r.demand_elements = demand;
  return r;
}

ScaleSimReportFiles scalesim_report_files(const std::vector<ScaleSimLayerReport>& layers) {
  // SCALE-Sim's writers (simulator.py generate_reports): "ID, v1, v2, ...,\n" with Python's
  // str() of each value; the cycle columns of the detailed report come from float matrices.
  auto f = [](double v) { return python_repr(v); };
  auto cyc = [](int64_t v) { return python_repr(static_cast<double>(v)); };
  std::ostringstream comp, bw, det;
  comp << "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute "
          "Util %,\n";
  bw << "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, Avg IFMAP DRAM BW, "
        "Avg FILTER DRAM BW, Avg OFMAP DRAM BW,\n";
  det << "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, SRAM Filter "
         "Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, SRAM OFMAP Start Cycle, SRAM "
         "OFMAP Stop Cycle, SRAM OFMAP Writes, DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, "
         "DRAM IFMAP Reads, DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
         "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    const ScaleSimLayerReport& r = layers[i];
    comp << i << ", " << r.total_cycles << ", " << r.stall_cycles << ", " << f(r.overall_util)
         << ", " << f(r.mapping_efficiency) << ", " << f(r.compute_util) << ",\n";
    bw << i << ", " << f(r.sram_ifmap_bw) << ", " << f(r.sram_filter_bw) << ", "
       << f(r.sram_ofmap_bw) << ", " << f(r.dram_ifmap_bw) << ", " << f(r.dram_filter_bw) << ", "
       << f(r.dram_ofmap_bw) << ",\n";
    det << i << ", " << cyc(r.sram_ifmap_start) << ", " << cyc(r.sram_ifmap_stop) << ", "
        << r.sram_ifmap_reads << ", " << cyc(r.sram_filter_start) << ", " << cyc(r.sram_filter_stop)
        << ", " << r.sram_filter_reads << ", " << cyc(r.sram_ofmap_start) << ", "
        << cyc(r.sram_ofmap_stop) << ", " << r.sram_ofmap_writes << ", " << cyc(r.dram_ifmap_start)
        << ", " << cyc(r.dram_ifmap_stop) << ", " << r.dram_ifmap_reads << ", "
        << cyc(r.dram_filter_start) << ", " << cyc(r.dram_filter_stop) << ", "
        << r.dram_filter_reads << ", " << cyc(r.dram_ofmap_start) << ", " << cyc(r.dram_ofmap_stop)
        << ", " << r.dram_ofmap_writes << ",\n";
  }
  return {comp.str(), bw.str(), det.str()};
}

}  // namespace qarch::sim
