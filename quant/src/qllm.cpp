// QLLM channel disassembly and assembly (Liu et al., ICLR 2024): the definitions and the rules
// qarch chose are in transforms.h, section 6. Written from the paper's formulas; the budget rule
// (smallest threshold whose extra channels fit ratio * K) is the one the authors' release states
// as `channel_ratio`.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <queue>
#include <string>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/quant/transforms.h"
#include "qllm_internal.h"

namespace qarch::quant {
namespace {

void check_options(const QllmOptions& o) {
  if (!(o.ratio >= 0.0 && o.ratio <= 0.25)) {
    throw Error("qllm: ratio = " + format_g(o.ratio) + " is outside [0, 0.25]");
  }
  if (!(o.theta >= 0.0) || !std::isfinite(o.theta)) {
    throw Error("qllm: theta = " + format_g(o.theta) + " must be finite and >= 0 (0: use ratio)");
  }
}

int64_t next_pow2(int64_t t) {
  int64_t p = 1;
  while (p < t) p *= 2;
  return p;
}

// L2 norm of each column of x [rows, k], in double.
std::vector<double> col_norms(const float* x, int64_t rows, int64_t k) {
  std::vector<double> n(static_cast<size_t>(k), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x + r * k;
    for (int64_t j = 0; j < k; ++j) n[j] += static_cast<double>(p[j]) * p[j];
  }
  for (double& v : n) v = std::sqrt(v);
  return n;
}

// ||x[:, cand[i]] - x[:, cand[i + 1]]||_2 of x [rows, k] for every i, in double: each sum runs
// over the rows in order (what one column pair at a time gives), row by row through memory.
std::vector<double> adjacent_distances(const float* x, int64_t rows, int64_t k,
                                       const std::vector<int64_t>& cand) {
  const size_t n = cand.empty() ? 0 : cand.size() - 1;
  std::vector<double> s(n, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x + r * k;
    for (size_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(p[cand[i]]) - p[cand[i + 1]];
      s[i] += d * d;
    }
  }
  for (double& v : s) v = std::sqrt(v);
  return s;
}

// qllm_plan after its checks: x [rows, k] finite and non-empty, absmax its column maxima, w
// [w_rows, k] or null.
ChannelPlan plan_rows(const float* x, int64_t rows, int64_t k, const std::vector<float>& absmax,
                      const QllmOptions& opts, const float* w, int64_t w_rows);

void check_plan(const Tensor& t, const ChannelPlan& plan, const char* what) {
  if (t.cols() != plan.k_in) {
    throw Error(std::string("qllm: ") + what + " " + t.shape_string() +
                " has K = " + std::to_string(t.cols()) +
                ", the channel plan was made for K = " + std::to_string(plan.k_in));
  }
}

}  // namespace

int64_t qllm_budget(int64_t k, double ratio) {
  QllmOptions o;
  o.ratio = ratio;
  check_options(o);
  if (k < 0) throw Error("qllm: K = " + std::to_string(k) + " is negative");
  return static_cast<int64_t>(std::floor(ratio * static_cast<double>(k) + 1e-9));
}

int64_t qllm_reduction_length(int64_t k, const QllmOptions& opts) {
  check_options(opts);
  if (opts.theta > 0 || opts.pow2) {
    throw Error("qllm: with theta or pow2 the reduction length depends on the data");
  }
  return opts.assemble ? k : k + qllm_budget(k, opts.ratio);
}

ChannelPlan qllm_disassembly_plan(const std::vector<float>& absmax, const QllmOptions& opts) {
  check_options(opts);
  const int64_t k = static_cast<int64_t>(absmax.size());
  if (k == 0) throw Error("qllm: no channels");
  for (int64_t j = 0; j < k; ++j) {
    if (!(absmax[j] >= 0.0f) || !std::isfinite(absmax[j])) {
      throw Error("qllm: channel " + std::to_string(j) + " maximum is not finite and >= 0");
    }
  }
  ChannelPlan p;
  p.k_in = k;
  p.parts.assign(static_cast<size_t>(k), 1);
  if (opts.theta > 0) {
    for (int64_t j = 0; j < k; ++j) {
      // T_j = ceil(m_j / theta) (paper), at least 1; in double.
      const double t = std::ceil(static_cast<double>(absmax[j]) / opts.theta);
      if (t > 1e6) {
        throw Error("qllm: theta = " + format_g(opts.theta) + " splits channel " +
                    std::to_string(j) + " (max " + format_g(absmax[j]) +
                    ") into more than 10^6 sub-channels");
      }
      p.parts[j] = std::max<int64_t>(1, static_cast<int64_t>(t));
      if (opts.pow2) p.parts[j] = next_pow2(p.parts[j]);
    }
  } else {
    int64_t budget = qllm_budget(k, opts.ratio);
    // Max-heap on the current sub-channel max m_j / T_j; ties: the lower channel index first.
    auto less = [&](int64_t i, int64_t j) {
      const double vi = static_cast<double>(absmax[i]) / static_cast<double>(p.parts[i]);
      const double vj = static_cast<double>(absmax[j]) / static_cast<double>(p.parts[j]);
      return vi != vj ? vi < vj : i > j;
    };
    std::priority_queue<int64_t, std::vector<int64_t>, decltype(less)> heap(less);
    for (int64_t j = 0; j < k; ++j) heap.push(j);
    while (budget > 0) {
      const int64_t j = heap.top();
      const int64_t step = opts.pow2 ? p.parts[j] : 1;  // pow2: T -> 2T
      if (step > budget) break;
      heap.pop();
      p.parts[j] += step;
      budget -= step;
      heap.push(j);
    }
  }
  double theta = 0;
  for (int64_t j = 0; j < k; ++j) {
    theta = std::max(theta, static_cast<double>(absmax[j]) / static_cast<double>(p.parts[j]));
    p.extra += p.parts[j] - 1;
    for (int64_t t = 0; t < p.parts[j]; ++t) {
      p.a.push_back(j);
      p.b.push_back(-1);
    }
  }
  p.theta = theta;
  return p;
}

ChannelPlan qllm_plan(const Tensor& x, const QllmOptions& opts, const Tensor* w) {
  check_operand(x, "qllm", "X");
  if (w) check_linear_pair(x, *w, "qllm");
  return plan_rows(x.data.data(), x.rows(), x.cols(), column_absmax(x, "X"), opts,
                   w ? w->data.data() : nullptr, w ? w->rows() : 0);
}

namespace {

ChannelPlan plan_rows(const float* x, int64_t rows, int64_t k, const std::vector<float>& absmax,
                      const QllmOptions& opts, const float* w, int64_t w_rows) {
  ChannelPlan p = qllm_disassembly_plan(absmax, opts);
  if (!opts.assemble || p.extra == 0) return p;

  // Assembly: the documented greedy pairing over the unsplit channels (transforms.h).
  const std::vector<double> norm = col_norms(x, rows, k);
  std::vector<int64_t> cand;
  for (int64_t j = 0; j < k; ++j)
    if (p.parts[j] == 1) cand.push_back(j);
  std::stable_sort(cand.begin(), cand.end(),
                   [&](int64_t i, int64_t j) { return norm[i] < norm[j]; });
  const int64_t need = p.extra;
  if (static_cast<int64_t>(cand.size()) < 2 * need) {
    throw Error("qllm: assembly needs " + std::to_string(need) + " pairs but only " +
                std::to_string(cand.size()) + " channels were not split; lower ratio");
  }
  struct Edge {
    double cost;
    size_t pos;  // pair (cand[pos], cand[pos + 1])
  };
  std::vector<Edge> edges;
  edges.reserve(cand.size());
  const std::vector<double> dx = adjacent_distances(x, rows, k, cand);
  const std::vector<double> dw = w ? adjacent_distances(w, w_rows, k, cand) : std::vector<double>();
  for (size_t i = 0; i + 1 < cand.size(); ++i) {
    double c = dx[i];
    if (w) c *= dw[i] * 0.5;
    edges.push_back({c, i});
  }
  std::stable_sort(edges.begin(), edges.end(),
                   [](const Edge& e, const Edge& f) { return e.cost < f.cost; });
  std::vector<char> used(cand.size(), 0);
  std::vector<int64_t> partner(static_cast<size_t>(k), -1);
  int64_t merged = 0;
  auto take = [&](size_t i, size_t j) {
    used[i] = used[j] = 1;
    const int64_t a = std::min(cand[i], cand[j]), b = std::max(cand[i], cand[j]);
    partner[a] = b;
    partner[b] = a;
    ++merged;
  };
  for (const Edge& e : edges) {
    if (merged == need) break;
    if (!used[e.pos] && !used[e.pos + 1]) take(e.pos, e.pos + 1);
  }
  for (size_t i = 0; i < cand.size() && merged < need; ++i) {
    if (used[i]) continue;
    size_t j = i + 1;
    while (j < cand.size() && used[j]) ++j;
    if (j == cand.size()) break;
    take(i, j);
  }
  // Rebuild the output channels: merged pairs at their lower index.
  p.a.clear();
  p.b.clear();
  for (int64_t j = 0; j < k; ++j) {
    if (partner[j] >= 0) {
      if (partner[j] > j) {
        p.a.push_back(j);
        p.b.push_back(partner[j]);
      }
      continue;
    }
    for (int64_t t = 0; t < p.parts[j]; ++t) {
      p.a.push_back(j);
      p.b.push_back(-1);
    }
  }
  p.merged = merged;
  return p;
}

}  // namespace

Tensor qllm_apply_x(const Tensor& x, const ChannelPlan& plan) {
  check_plan(x, plan, "X");
  const int64_t rows = x.rows(), ko = plan.k_out();
  const detail::QllmRows runs(plan);
  Tensor out = Tensor::zeros({rows, ko});
  for (int64_t r = 0; r < rows; ++r) runs.apply(x.row(r), out.row(r));
  return out;
}

Tensor qllm_apply_w(const Tensor& w, const ChannelPlan& plan) {
  check_plan(w, plan, "W");
  const int64_t rows = w.rows(), ko = plan.k_out();
  Tensor out = Tensor::zeros({rows, ko});
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = w.row(r);
    float* o = out.row(r);
    for (int64_t c = 0; c < ko; ++c) {
      const int64_t a = plan.a[c], b = plan.b[c];
      o[c] = b >= 0 ? (in[a] + in[b]) * 0.5f : in[a];
    }
  }
  return out;
}

Tensor qllm_fold_x(const Tensor& xp, const ChannelPlan& plan) {
  if (xp.cols() != plan.k_out()) {
    throw Error("qllm: X' " + xp.shape_string() + " has " + std::to_string(xp.cols()) +
                " channels, the plan makes " + std::to_string(plan.k_out()));
  }
  const int64_t rows = xp.rows(), k = plan.k_in;
  const detail::QllmRows runs(plan);
  Tensor out = Tensor::zeros({rows, k});
  for (int64_t r = 0; r < rows; ++r) {
    if (runs.foldable()) {
      runs.fold(xp.row(r), out.row(r));
    } else {
      runs.fold_any(xp.row(r), out.row(r));
    }
  }
  return out;
}

QllmResult qllm(const Tensor& x, const Tensor& w, const QllmOptions& opts) {
  QllmResult r;
  r.plan = qllm_plan(x, opts, &w);
  r.x = qllm_apply_x(x, r.plan);
  r.w = qllm_apply_w(w, r.plan);
  return r;
}

namespace detail {

bool qllm_column_absmax(const float* x, int64_t rows, int64_t cols, std::vector<float>* absmax) {
  absmax->assign(static_cast<size_t>(cols), 0.0f);
  float* m = absmax->data();
  uint32_t bad = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x + r * cols;
    for (int64_t j = 0; j < cols; ++j) {
      uint32_t u;
      std::memcpy(&u, p + j, 4);
      bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);  // NaN / Inf exponent
      m[j] = std::max(m[j], std::fabs(p[j]));
    }
  }
  return bad == 0;
}

ChannelPlan qllm_plan_rows(const float* x, int64_t rows, int64_t cols,
                           const std::vector<float>& absmax, const QllmOptions& opts) {
  return plan_rows(x, rows, cols, absmax, opts, nullptr, 0);
}

QllmRows::QllmRows(const ChannelPlan& plan) : a_(plan.a), b_(plan.b), k_in_(plan.k_in) {
  const int64_t ko = plan.k_out(), k = plan.k_in;
  // X -> X': output column c copies x_a (T_a = 1), divides it by T_a, or adds x_a + x_b.
  for (int64_t c = 0; c < ko; ++c) {
    const int64_t a = a_[c], b = b_[c];
    Run* last = apply_.empty() ? nullptr : &apply_.back();
    if (b >= 0) {
      apply_.push_back({kPair, c, a, 1, b, 0.0f});
    } else if (plan.parts[a] == 1) {
      if (last && last->kind == kCopy && last->in + last->n == a && last->out + last->n == c) {
        ++last->n;
      } else {
        apply_.push_back({kCopy, c, a, 1, 0, 0.0f});
      }
    } else if (last && last->kind == kSplit && last->in == a && last->out + last->n == c) {
      ++last->n;
    } else {
      apply_.push_back({kSplit, c, a, 1, 0, static_cast<float>(plan.parts[a])});
    }
  }
  // X' -> X: which output columns reach each input channel.
  std::vector<int64_t> first(static_cast<size_t>(k), -1), last(static_cast<size_t>(k), -1),
      count(static_cast<size_t>(k), 0), pair(static_cast<size_t>(k), -1);
  auto touch = [&](int64_t j, int64_t c) {
    if (first[j] < 0) first[j] = c;
    last[j] = c;
    ++count[j];
  };
  for (int64_t c = 0; c < ko; ++c) {
    touch(a_[c], c);
    if (b_[c] >= 0) {
      touch(b_[c], c);
      pair[a_[c]] = pair[b_[c]] = c;
    }
  }
  for (int64_t j = 0; j < k && foldable_; ++j) {
    if (count[j] == 0) continue;
    foldable_ = pair[j] >= 0 ? count[j] == 1 : last[j] - first[j] + 1 == count[j];
  }
  if (!foldable_) return;
  for (int64_t j = 0; j < k; ++j) {
    Run* prev = fold_.empty() ? nullptr : &fold_.back();
    if (count[j] == 0) {  // no output column: qllm_fold_x leaves it 0
      if (prev && prev->kind == kZero && prev->out + prev->n == j) {
        ++prev->n;
      } else {
        fold_.push_back({kZero, j, 0, 1, 0, 0.0f});
      }
    } else if (pair[j] >= 0) {
      const int64_t c = pair[j];
      if (a_[c] == j) fold_.push_back({kPair, j, c, 1, b_[c], 0.0f});  // writes x_a and x_b
    } else if (count[j] == 1) {
      if (prev && prev->kind == kCopy && prev->out + prev->n == j &&
          prev->in + prev->n == first[j]) {
        ++prev->n;
      } else {
        fold_.push_back({kCopy, j, first[j], 1, 0, 0.0f});
      }
    } else {
      fold_.push_back({kSum, j, first[j], count[j], 0, 0.0f});
    }
  }
}

void QllmRows::apply(const float* x, float* xp) const {
  for (const Run& r : apply_) {
    float* o = xp + r.out;
    switch (r.kind) {
      case kCopy: {
        const float* in = x + r.in;
        for (int64_t i = 0; i < r.n; ++i) o[i] = in[i];  // x_a / 1 == x_a bit for bit
        break;
      }
      case kSplit: {
        const float v = x[r.in] / r.t;  // a division, as qllm_apply_x defines it
        for (int64_t i = 0; i < r.n; ++i) o[i] = v;
        break;
      }
      default:  // kPair
        o[0] = x[r.in] + x[r.in2];
        break;
    }
  }
}

void QllmRows::fold(const float* xp, float* x) const {
  for (const Run& r : fold_) {
    float* o = x + r.out;
    const float* in = xp + r.in;
    switch (r.kind) {
      case kZero:
        for (int64_t i = 0; i < r.n; ++i) o[i] = 0.0f;
        break;
      case kCopy:
        // qllm_fold_x adds the one sub-channel to a zeroed channel: 0 + v turns -0 into +0.
        for (int64_t i = 0; i < r.n; ++i) o[i] = in[i] + 0.0f;
        break;
      case kSum: {
        float s = 0.0f;
        for (int64_t i = 0; i < r.n; ++i) s += in[i];  // in order, from 0, as qllm_fold_x
        o[0] = s;
        break;
      }
      default:  // kPair
        o[0] = x[r.in2] = in[0] * 0.5f;
        break;
    }
  }
}

void QllmRows::fold_any(const float* xp, float* x) const {
  std::fill(x, x + k_in_, 0.0f);
  const int64_t ko = static_cast<int64_t>(a_.size());
  for (int64_t c = 0; c < ko; ++c) {
    const int64_t a = a_[c], b = b_[c];
    if (b >= 0) {
      x[a] = x[b] = xp[c] * 0.5f;
    } else {
      x[a] += xp[c];
    }
  }
}

}  // namespace detail
}  // namespace qarch::quant
