// QLLM channel disassembly and assembly (Liu et al., ICLR 2024): the definitions and the rules
// qarch chose are in transforms.h, section 6. Written from the paper's formulas; the budget rule
// (smallest threshold whose extra channels fit ratio * K) is the one the authors' release states
// as `channel_ratio`.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <string>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/common/number_text.h"
#include "qarch/quant/transforms.h"

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

// L2 norm of column j of t, in double.
std::vector<double> col_norms(const Tensor& t) {
  std::vector<double> n(static_cast<size_t>(t.cols()), 0.0);
  for (int64_t r = 0; r < t.rows(); ++r) {
    const float* p = t.row(r);
    for (int64_t j = 0; j < t.cols(); ++j) n[j] += static_cast<double>(p[j]) * p[j];
  }
  for (double& v : n) v = std::sqrt(v);
  return n;
}

// ||t[:, a] - t[:, b]||_2 in double.
double col_distance(const Tensor& t, int64_t a, int64_t b) {
  double s = 0;
  const int64_t k = t.cols();
  for (int64_t r = 0; r < t.rows(); ++r) {
    const double d = static_cast<double>(t.data[r * k + a]) - t.data[r * k + b];
    s += d * d;
  }
  return std::sqrt(s);
}

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
  ChannelPlan p = qllm_disassembly_plan(column_absmax(x, "X"), opts);
  if (!opts.assemble || p.extra == 0) return p;

  // Assembly: the documented greedy pairing over the unsplit channels (transforms.h).
  const int64_t k = p.k_in;
  const std::vector<double> norm = col_norms(x);
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
  for (size_t i = 0; i + 1 < cand.size(); ++i) {
    double c = col_distance(x, cand[i], cand[i + 1]);
    if (w) c *= col_distance(*w, cand[i], cand[i + 1]) * 0.5;
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

Tensor qllm_apply_x(const Tensor& x, const ChannelPlan& plan) {
  check_plan(x, plan, "X");
  const int64_t rows = x.rows(), k = x.cols(), ko = plan.k_out();
  Tensor out = Tensor::zeros({rows, ko});
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x.row(r);
    float* o = out.row(r);
    for (int64_t c = 0; c < ko; ++c) {
      const int64_t a = plan.a[c], b = plan.b[c];
      o[c] = b >= 0 ? in[a] + in[b] : in[a] / static_cast<float>(plan.parts[a]);
    }
  }
  (void)k;
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
  const int64_t rows = xp.rows(), k = plan.k_in, ko = plan.k_out();
  Tensor out = Tensor::zeros({rows, k});
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = xp.row(r);
    float* o = out.row(r);
    for (int64_t c = 0; c < ko; ++c) {
      const int64_t a = plan.a[c], b = plan.b[c];
      if (b >= 0) {
        o[a] = o[b] = in[c] * 0.5f;
      } else {
        o[a] += in[c];  // sub-channels are consecutive: summed in order
      }
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

}  // namespace qarch::quant
