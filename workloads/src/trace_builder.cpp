#include "qarch/workloads/trace_builder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/quant/metrics.h"
#include "qarch/quant/olive.h"

namespace qarch::workloads {

// ---------------------------------------------------------------------------------------------
// Formats and layer selection

bool is_weight_only_format(const std::string& spec) {
  return quant::make_format(spec)->traits().weight_only;
}

FormatChoice resolve_formats(const std::string& format, const std::string& act,
                             const std::string& weight) {
  if (format.empty() && act.empty() && weight.empty()) {
    throw Error("no format given (--format, or --act-format and --weight-format)");
  }
  FormatChoice c;
  c.weight = !weight.empty() ? weight : !format.empty() ? format : "fp16";
  if (!act.empty()) {
    if (is_weight_only_format(act)) {
      throw Error("--act-format: '" + act +
                  "' quantizes weights only (GOBO keeps activations in "
                  "FP16); give it as --weight-format or --format");
    }
    c.act = act;
  } else if (!format.empty() && !is_weight_only_format(format)) {
    c.act = format;
  } else {
    c.act = "fp16";  // GOBO: FP16 activations and compute (MICRO 2020, section IV)
  }
  c.act = quant::make_format(c.act)->name();
  c.weight = quant::make_format(c.weight)->name();
  return c;
}

LayerSelection parse_layers(const std::string& text, int64_t num_layers) {
  LayerSelection s;
  s.text = text;
  s.layers.assign(static_cast<size_t>(num_layers), false);
  std::stringstream ss(text);
  std::string item;
  bool any = false;
  auto bad = [&](const std::string& why) -> Error {
    return Error("--layers '" + text + "': " + why + " (the model has layers 0.." +
                 std::to_string(num_layers - 1) + "; use e.g. 0,2-5,head or all)");
  };
  auto parse_int = [&](const std::string& t) {
    if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) {
      throw bad("'" + t + "' is not a layer index");
    }
    const long long v = std::stoll(t);
    if (v >= num_layers) throw bad("layer " + t + " is out of range");
    return static_cast<int64_t>(v);
  };
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b == std::string::npos) continue;
    item = item.substr(b, e - b + 1);
    any = true;
    if (item == "all") {
      std::fill(s.layers.begin(), s.layers.end(), true);
      s.head = true;
    } else if (item == "head") {
      s.head = true;
    } else if (const auto dash = item.find('-'); dash != std::string::npos) {
      const int64_t lo = parse_int(item.substr(0, dash)), hi = parse_int(item.substr(dash + 1));
      if (lo > hi) throw bad("range " + item + " is empty");
      for (int64_t l = lo; l <= hi; ++l) s.layers[l] = true;
    } else {
      s.layers[parse_int(item)] = true;
    }
  }
  if (!any) throw bad("no layer selected");
  return s;
}

// ---------------------------------------------------------------------------------------------
// Builder

struct TraceBuilder::ProbeCache {
  std::mutex mu;
  std::map<std::string, TraceGemm> done;  // key: kind, shape, formats
};

struct TraceBuilder::Operand {
  quant::Tensor data;  // the stored rows
  std::string origin;
  std::vector<int64_t> planted;  // generator ground truth channels
};

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " + ") + x;
  return s;
}

quant::Tensor take_rows(const quant::Tensor& t, const RowSample& s) {
  if (s.all()) return t;
  const int64_t cols = t.cols();
  std::vector<float> out(static_cast<size_t>(s.count * cols));
  for (int64_t i = 0; i < s.count; ++i) std::copy_n(t.row(s.row(i)), cols, out.data() + i * cols);
  return quant::Tensor::matrix(s.count, cols, std::move(out));
}

std::vector<int64_t> planted_channels(const GeneratedTensor& g) {
  std::vector<int64_t> c = g.outlier_channels;
  c.insert(c.end(), g.massive_channels.begin(), g.massive_channels.end());
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

// Dot product in double with four independent accumulators (a dependency chain per lane).
double dot(const float* a, const float* b, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += double(a[i]) * b[i];
    s1 += double(a[i + 1]) * b[i + 1];
    s2 += double(a[i + 2]) * b[i + 2];
    s3 += double(a[i + 3]) * b[i + 3];
  }
  for (; i < n; ++i) s0 += double(a[i]) * b[i];
  return (s0 + s1) + (s2 + s3);
}

ScaleLayout layout_of(const quant::Format& f, const quant::Tensor& stored) {
  ScaleLayout l;
  const int64_t rows = stored.rows(), cols = stored.cols();
  const int64_t probe_rows = std::min<int64_t>(rows, 16);
  if (probe_rows == 0 || cols == 0) return l;
  const quant::EncodedTensor e = f.encode(stored.data.data(), probe_rows, cols);
  const quant::DecodedTensor d = f.decode_operand(e);
  l.group_rows = (d.group_rows >= probe_rows) ? 0 : d.group_rows;
  l.group_cols = (d.group_cols >= cols) ? 0 : d.group_cols;
  l.sign_split = d.sign_split;
  l.tensor_divisor = d.tensor_divisor != 1.0f;
  return l;
}

}  // namespace

TraceBuilder::TraceBuilder(ModelConfig model, WorkloadParams params, TraceOptions options)
    : model_(std::move(model)),
      params_(params),
      options_(std::move(options)),
      workload_(expand(model_, params_)),
      selection_(parse_layers(options_.layers, model_.layers)),
      generator_(model_.outliers, options_.seed),
      probes_(std::make_shared<ProbeCache>()) {
  if (options_.sample_rows < 0 || options_.weight_rows < 0 || options_.error_rows < 0 ||
      options_.error_cols < 0) {
    throw Error("trace: sample / weight / error row counts must be >= 0");
  }
  if (options_.attention_head < 0 || options_.attention_head >= model_.heads) {
    throw Error("--head " + std::to_string(options_.attention_head) + " is out of range (" +
                model_.name + " has heads 0.." + std::to_string(model_.heads - 1) + ")");
  }
  act_fmt_ = quant::make_format(options_.act_format);
  weight_fmt_ = quant::make_format(options_.weight_format);
  std::string qllm_base;
  if (quant::qllm_format_parts(*act_fmt_, &qllm_opts_, &qllm_base))
    qllm_base_ = quant::make_format(qllm_base);
  options_.act_format = act_fmt_->name();
  options_.weight_format = weight_fmt_->name();
  for (size_t i = 0; i < workload_.gemms.size(); ++i) {
    if (selection_.contains(workload_.gemms[i].layer)) selected_.push_back(i);
  }
  if (options_.bindings) options_.bindings->check_matches(workload_.gemms);
}

std::vector<ElementwiseOp> TraceBuilder::selected_elementwise() const {
  std::vector<ElementwiseOp> out;
  for (const auto& e : workload_.elementwise)
    if (selection_.contains(e.layer)) out.push_back(e);
  return out;
}

TraceHeader TraceBuilder::header() const {
  TraceHeader h;
  h.tool = options_.tool;
  h.model = model_;
  h.params = params_;
  h.tokens = workload_.tokens;
  h.kv_tokens = workload_.kv_tokens;
  h.act_format = options_.act_format;
  h.weight_format = options_.weight_format;
  h.shape_only = options_.shape_only;
  h.seed = options_.seed;
  h.outlier_profile = options_.outlier_profile;
  h.bindings = options_.bindings ? options_.bindings->file() : "";
  h.layers = options_.layers;
  h.sample_rows = options_.sample_rows;
  h.weight_rows = options_.weight_rows;
  h.attention_head = options_.attention_head;
  h.model_gemms = static_cast<int64_t>(workload_.gemms.size());
  h.model_flops = workload_.total_flops();
  return h;
}

std::vector<TokenRef> TraceBuilder::tokens_of(const GemmOp& op, const RowSample& s) const {
  const bool decode = params_.phase == Phase::kDecode;
  const bool last_only = op.kind == "lm_head" && !decode && !params_.all_logits;
  std::vector<std::vector<int64_t>> routes;
  if (op.expert >= 0) {
    routes = moe_route(workload_.tokens, model_.moe.num_experts, model_.moe.top_k, params_.routing,
                       params_.routing_seed, op.layer);
  }
  std::vector<TokenRef> t;
  t.reserve(static_cast<size_t>(s.count));
  for (int64_t i = 0; i < s.count; ++i) {
    int64_t g = s.row(i);
    if (op.expert >= 0) g = routes[op.expert][g];
    if (decode) {
      t.push_back({g, params_.context});
    } else if (last_only) {
      t.push_back({g, params_.seq - 1});
    } else {
      t.push_back({g / params_.seq, g % params_.seq});
    }
  }
  return t;
}

namespace {

// Positions of the keys an attention instance sees (sequence 0).
std::vector<TokenRef> key_tokens(const WorkloadParams& p, int64_t kv_len) {
  std::vector<TokenRef> t;
  const int64_t first = p.phase == Phase::kDecode ? p.context + 1 - kv_len : 0;
  for (int64_t j = 0; j < kv_len; ++j) t.push_back({0, first + j});
  return t;
}

}  // namespace

TraceBuilder::Operand TraceBuilder::make_x(const GemmOp& op, const RowSample& s) const {
  Operand o;
  if (options_.bindings) {
    const auto src = options_.bindings->sources(op, 'x');
    if (!src.empty()) {
      o.data = take_rows(options_.bindings->load(op, 'x', op.m, op.k), s);
      o.origin = join(src);
      return o;
    }
  }
  if (!op.is_attention()) {
    const int64_t expert = op.x_role == "down_in" ? op.expert : -1;
    GeneratedTensor g =
        generator_.activation({op.layer, op.x_role, expert, -1}, op.k, tokens_of(op, s));
    o.data = std::move(g.data);
    o.origin = "generated";
    o.planted = planted_channels(g);
    return o;
  }
  // Attention: query rows of sequence 0, head h.
  const int64_t h = options_.attention_head, d = model_.head_dim;
  std::vector<TokenRef> q_tokens;
  for (int64_t i = 0; i < s.count; ++i) {
    q_tokens.push_back({0, params_.phase == Phase::kDecode ? params_.context : s.row(i)});
  }
  GeneratedTensor q = generator_.activation({op.layer, "q", -1, h}, d, q_tokens);
  if (op.kind == "scores") {
    o.data = std::move(q.data);
    o.origin = "generated";
    o.planted = planted_channels(q);
    return o;
  }
  // context: P = softmax(Q K^T / sqrt(d)) under the mask, in FP32 with double dot products.
  const int64_t kvh = h / (model_.heads / model_.kv_heads);
  const int64_t kv = workload_.kv_tokens;
  const std::vector<TokenRef> keys = key_tokens(params_, kv);
  const GeneratedTensor k = generator_.activation({op.layer, "k", -1, kvh}, d, keys);
  o.data = quant::Tensor::zeros({s.count, kv});
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> logits(static_cast<size_t>(kv));
  for (int64_t i = 0; i < s.count; ++i) {
    const int64_t pos = q_tokens[i].pos;
    double mx = -1e300;
    for (int64_t j = 0; j < kv; ++j) {
      const int64_t kp = keys[j].pos;
      const bool ok = (!op.causal || kp <= pos) &&
                      (model_.sliding_window == 0 || kp > pos - model_.sliding_window);
      logits[j] = ok ? dot(q.data.row(i), k.data.row(j), d) * scale : -1e300;
      mx = std::max(mx, logits[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < kv; ++j) {
      logits[j] = logits[j] > -1e299 ? std::exp(logits[j] - mx) : 0.0;
      sum += logits[j];
    }
    float* row = o.data.row(i);
    for (int64_t j = 0; j < kv; ++j) row[j] = static_cast<float>(logits[j] / sum);
  }
  o.origin = "softmax";
  return o;
}

TraceBuilder::Operand TraceBuilder::make_w(const GemmOp& op, const RowSample& s) const {
  Operand o;
  if (options_.bindings) {
    const auto src = options_.bindings->sources(op, 'w');
    if (!src.empty()) {
      o.data = take_rows(options_.bindings->load(op, 'w', op.n, op.k), s);
      o.origin = join(src);
      return o;
    }
  }
  if (!op.is_attention()) {
    GeneratedTensor g =
        generator_.weight({op.layer, op.w_role, op.expert, -1}, op.n, op.k, s.rows());
    o.data = std::move(g.data);
    o.origin = "generated";
    for (const auto& pe : g.planted) o.planted.push_back(pe.col);
    return o;
  }
  const int64_t kvh = options_.attention_head / (model_.heads / model_.kv_heads);
  const int64_t d = model_.head_dim, kv = workload_.kv_tokens;
  const std::vector<TokenRef> keys = key_tokens(params_, kv);
  if (op.kind == "scores") {
    GeneratedTensor k = generator_.activation({op.layer, "k", -1, kvh}, d, keys);
    o.data = take_rows(k.data, s);
    o.planted = planted_channels(k);
  } else {
    const GeneratedTensor v = generator_.activation({op.layer, "v", -1, kvh}, d, keys);
    // W = V^T [d, kv]: blocks and pairs run along the keys, the reduction axis of P V.
    quant::Tensor vt = v.data.transposed();
    o.data = take_rows(vt, s);
  }
  o.origin = "generated";
  return o;
}

std::unique_ptr<quant::Format> TraceBuilder::effective_format(const quant::Format& f,
                                                              const quant::Tensor& data,
                                                              int64_t* search_rows) const {
  // The format's calibration hook (OliVe: its per-tensor MSE scale search) on a row sample.
  const int64_t rows = data.rows(), cols = data.cols();
  if (options_.scale_search_elements <= 0 || cols == 0) return nullptr;
  const int64_t want = std::max<int64_t>(1, options_.scale_search_elements / cols);
  if (want >= rows) return nullptr;  // the sample would be the whole operand: plain search
  const RowSample rs = sample_rows(rows, want);
  const quant::Tensor sample = take_rows(data, rs);
  std::unique_ptr<quant::Format> cal = f.calibrated(sample.data.data(), rs.count, cols);
  if (cal) *search_rows = rs.count;
  return cal;
}

void TraceBuilder::probe(const GemmOp& op, TraceGemm& g, const quant::Format& fx,
                         const quant::Format& fw) const {
  // Bits per element and scale layout from a probe encoding of up to 16 generated rows per
  // operand, cached per distinct shape (every layer of a model has the same ones).
  const std::string key = op.kind + ":" + std::to_string(op.m) + "x" + std::to_string(op.n) + "x" +
                          std::to_string(op.k) + ":" + fx.name() + ":" + fw.name();
  {
    std::lock_guard<std::mutex> lock(probes_->mu);
    const auto it = probes_->done.find(key);
    if (it != probes_->done.end()) {
      g.x = it->second.x;
      g.w = it->second.w;
      return;
    }
  }
  Operand px = make_x(op, sample_rows(op.m, 16));
  Operand pw = make_w(op, sample_rows(op.n, 16));
  if (qllm_base_ && !op.is_attention()) {
    quant::QllmResult t = quant::qllm(px.data, pw.data, qllm_opts_);
    px.data = std::move(t.x);
    pw.data = std::move(t.w);
  }
  g.x.bits_per_element = fx.encode(px.data).bits_per_element();
  g.w.bits_per_element = fw.encode(pw.data).bits_per_element();
  g.x.layout = layout_of(fx, px.data);
  g.w.layout = layout_of(fw, pw.data);
  g.x.origin = "none (shape-only; bits per element from a 16-row probe)";
  g.w.origin = g.x.origin;
  g.x.sample = {op.m, 0};
  g.w.sample = {op.n, 0};
  std::lock_guard<std::mutex> lock(probes_->mu);
  probes_->done[key] = g;
}

GemmResult TraceBuilder::build(const GemmOp& op) const {
  GemmResult res;
  TraceGemm& g = res.meta;
  g.op = op;
  const bool attn = op.is_attention();
  g.instance = attn ? options_.attention_head : 0;
  // A QLLM activation format: its base encodes the transformed X' (and attention operands).
  const bool qllm = qllm_base_ && !attn;
  const quant::Format& fa = qllm_base_ ? *qllm_base_ : *act_fmt_;
  const quant::Format& fx = fa;
  const quant::Format& fw = attn ? fa : *weight_fmt_;
  const int64_t k0 = op.k;  // the model's K; qllm: the GEMM runs with K'
  if (qllm) g.op.k = act_fmt_->traits().gemm_k(op.k);
  const RowSample xs = sample_rows(op.m, options_.sample_rows);
  const RowSample ws = sample_rows(op.n, attn ? 0 : options_.weight_rows);
  auto init = [](TraceOperand& t, const quant::Format& f, OperandSource src, int64_t rows,
                 int64_t cols, const RowSample& s) {
    t.format = f.name();
    t.source = src;
    t.rows = rows;
    t.cols = cols;
    t.sample = s;
  };
  init(g.x, fx, op.x_source, op.m, g.op.k, xs);
  init(g.w, fw, op.w_source, op.n, g.op.k, ws);
  if (qllm_base_) g.x.requested_format = act_fmt_->name();

  if (options_.shape_only) {
    probe(op, g, fx, fw);
    return res;
  }

  const Operand X = make_x(op, xs);
  const Operand W = make_w(op, ws);
  // What gets encoded: the operands, or QLLM's X', W' (K' channels).
  quant::QllmResult t;
  if (qllm) {
    t = quant::qllm(X.data, W.data, qllm_opts_);
    if (t.plan.k_out() != g.op.k) {
      throw Error("trace: " + op.name + ": the QLLM channel plan made " +
                  std::to_string(t.plan.k_out()) + " channels, the format states " +
                  std::to_string(g.op.k));
    }
  }
  const quant::Tensor& XE = qllm ? t.x : X.data;
  const quant::Tensor& WE = qllm ? t.w : W.data;
  g.x.origin = X.origin;
  g.w.origin = W.origin;
  g.x.planted_channels = X.planted;
  g.w.planted_channels = W.planted;
  const auto ex_fmt = effective_format(fx, XE, &g.x.scale_search_rows);
  const auto ew_fmt = effective_format(fw, WE, &g.w.scale_search_rows);
  const quant::Format& ux = ex_fmt ? *ex_fmt : fx;
  const quant::Format& uw = ew_fmt ? *ew_fmt : fw;
  if (ex_fmt && g.x.requested_format.empty()) g.x.requested_format = g.x.format;
  if (ex_fmt) g.x.format = ux.name();
  if (ew_fmt) g.w.requested_format = g.w.format, g.w.format = uw.name();
  res.x = ux.encode(XE);
  res.w = uw.encode(WE);
  const quant::Tensor qx = ux.decode(res.x);
  const quant::Tensor qw = uw.decode(res.w);
  g.x.has_values = g.w.has_values = true;
  g.x.bits_per_element = res.x.bits_per_element();
  g.w.bits_per_element = res.w.bits_per_element();
  g.x.layout = layout_of(ux, XE);
  g.w.layout = layout_of(uw, WE);
  // QLLM: X's error in its own channels (the fold of the decoded X'); W's of the stored W'.
  g.x.quant_error = quant::compare(X.data, qllm ? quant::qllm_fold_x(qx, t.plan) : qx);
  g.w.quant_error = quant::compare(WE, qw);
  if (options_.stats) {
    g.x.has_stats = g.w.has_stats = true;
    auto stats_of = [&](const quant::Tensor& t) {
      const int64_t cols = std::max<int64_t>(1, t.cols());
      const RowSample rs =
          sample_rows(t.rows(), std::max<int64_t>(1, options_.stats_elements / cols));
      return rs.all() ? quant::tensor_stats(t) : quant::tensor_stats(take_rows(t, rs));
    };
    g.x.stats = stats_of(X.data);
    g.w.stats = stats_of(W.data);
  }

  // Layer-output error on error_rows x error_cols outputs of the stored operands.
  if (options_.error_rows > 0 && options_.error_cols > 0 && xs.count > 0 && ws.count > 0) {
    const RowSample er = sample_rows(xs.count, options_.error_rows);
    const RowSample ec = sample_rows(ws.count, options_.error_cols);
    std::vector<float> ref(static_cast<size_t>(er.count * ec.count));
    std::vector<float> got(ref.size());
    quant::DecodedTensor dx, dw;
    if (options_.exact_hw) {
      dx = ux.decode_operand(res.x);
      dw = uw.decode_operand(res.w);
    }
    for (int64_t i = 0; i < er.count; ++i) {
      const int64_t r = er.row(i);
      for (int64_t j = 0; j < ec.count; ++j) {
        const int64_t c = ec.row(j);
        // Reference: the untransformed FP32 operands (K); quantized: what the PE multiplies
        // (K' under QLLM).
        ref[i * ec.count + j] = static_cast<float>(dot(X.data.row(r), W.data.row(c), k0));
        got[i * ec.count + j] = options_.exact_hw
                                    ? quant::reference_dot(dx, r, dw, c)
                                    : static_cast<float>(dot(qx.row(r), qw.row(c), g.op.k));
      }
    }
    g.has_output_error = true;
    g.output_error = quant::compare(ref.data(), got.data(), static_cast<int64_t>(ref.size()));
    g.error_rows = er.count;
    g.error_cols = ec.count;
    g.error_method = options_.exact_hw ? "hardware-reference-dot" : "dequantized-double";
  }
  return res;
}

// ---------------------------------------------------------------------------------------------

TraceSummary write_trace(const TraceBuilder& builder, const std::string& dir, int threads,
                         const std::function<void(const TraceGemm&)>& on_gemm, bool replace) {
  const auto t0 = std::chrono::steady_clock::now();
  TraceWriter writer(dir, builder.header(), replace);
  const auto& sel = builder.selected();
  const auto& gemms = builder.workload().gemms;
  threads = std::max(1, threads);
  for (size_t at = 0; at < sel.size(); at += static_cast<size_t>(threads)) {
    std::vector<std::future<GemmResult>> batch;
    for (size_t k = at; k < sel.size() && k < at + static_cast<size_t>(threads); ++k) {
      const GemmOp* op = &gemms[sel[k]];
      batch.push_back(std::async(threads > 1 ? std::launch::async : std::launch::deferred,
                                 [&builder, op] { return builder.build(*op); }));
    }
    for (auto& f : batch) {
      GemmResult r = f.get();
      const bool values = !builder.options().shape_only;
      writer.add(r.meta, values ? &r.x : nullptr, values ? &r.w : nullptr);
      if (on_gemm) on_gemm(writer.gemms().back());
    }
  }
  TraceSummary s;
  s.gemms = sel.size();
  s.bytes = writer.finish(builder.selected_elementwise());
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace qarch::workloads
