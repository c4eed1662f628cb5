#include "trace_json.h"

#include <cmath>
#include <limits>

#include "qarch/common/error.h"

namespace qarch::workloads::detail {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

namespace {

ojson num(double v) {
  return std::isfinite(v) ? ojson(v) : ojson(nullptr);
}

double get_num(const json& j, const char* key, double if_null) {
  const json& v = j.at(key);
  return v.is_null() ? if_null : v.get<double>();
}

void check_version(const json& j, const std::string& file, const char* kind) {
  if (j.at("format").get<std::string>() != "qarch-trace") {
    throw Error(file + ": not a qarch trace file (format '" + j.at("format").get<std::string>() +
                "')");
  }
  const int v = j.at("version").get<int>();
  if (v != kTraceVersion) {
    throw Error(file + ": trace version " + std::to_string(v) +
                ", this reader understands version " + std::to_string(kTraceVersion));
  }
  if (j.at("kind").get<std::string>() != kind) {
    throw Error(file + ": expected a trace " + std::string(kind) + " file");
  }
}

ojson model_json(const ModelConfig& c) {
  return {
      {"name", c.name},
      {"source", c.source},
      {"file", c.file},
      {"kind", c.kind == ModelKind::kEncoder ? "encoder" : "decoder"},
      {"hidden_size", c.hidden},
      {"num_layers", c.layers},
      {"num_heads", c.heads},
      {"num_kv_heads", c.kv_heads},
      {"head_dim", c.head_dim},
      {"intermediate_size", c.intermediate},
      {"ffn", c.ffn == FfnKind::kGated ? "gated" : "mlp"},
      {"activation", c.activation},
      {"norm", c.norm},
      {"norm_placement", c.pre_norm ? "pre" : "post"},
      {"position", c.position},
      {"vocab_size", c.vocab},
      {"max_positions", c.max_positions},
      {"lm_head", c.lm_head},
      {"tied_embeddings", c.tied_embeddings},
      {"bias", c.bias},
      {"sliding_window", c.sliding_window},
      {"moe", c.moe.enabled() ? ojson{{"num_experts", c.moe.num_experts}, {"top_k", c.moe.top_k}}
                              : ojson(nullptr)}};
}

ModelConfig model_from_json(const json& j) {
  ModelConfig c;
  c.name = j.at("name");
  c.source = j.at("source");
  c.file = j.at("file");
  c.kind = j.at("kind") == "encoder" ? ModelKind::kEncoder : ModelKind::kDecoder;
  c.hidden = j.at("hidden_size");
  c.layers = j.at("num_layers");
  c.heads = j.at("num_heads");
  c.kv_heads = j.at("num_kv_heads");
  c.head_dim = j.at("head_dim");
  c.intermediate = j.at("intermediate_size");
  c.ffn = j.at("ffn") == "gated" ? FfnKind::kGated : FfnKind::kMlp;
  c.activation = j.at("activation");
  c.norm = j.at("norm");
  c.pre_norm = j.at("norm_placement") == "pre";
  c.position = j.at("position");
  c.vocab = j.at("vocab_size");
  c.max_positions = j.at("max_positions");
  c.lm_head = j.at("lm_head");
  c.tied_embeddings = j.at("tied_embeddings");
  c.bias = j.at("bias");
  c.sliding_window = j.at("sliding_window");
  if (!j.at("moe").is_null()) {
    c.moe.num_experts = j.at("moe").at("num_experts");
    c.moe.top_k = j.at("moe").at("top_k");
  }
  return c;
}

ojson layout_json(const ScaleLayout& l) {
  return {{"group_rows", l.group_rows},
          {"group_cols", l.group_cols},
          {"sign_split", l.sign_split},
          {"tensor_divisor", l.tensor_divisor}};
}

ojson operand_json(const TraceOperand& o) {
  return {
      {"format", o.format},
      {"requested_format", o.requested_format.empty() ? o.format : o.requested_format},
      {"scale_search", o.scale_search_rows > 0
                           ? ojson{{"rows", o.scale_search_rows},
                                   {"of", o.sample.count},
                                   {"rule", "OliVe MSE scale search on evenly spaced stored rows"}}
                           : ojson(nullptr)},
      {"source", source_name(o.source)},
      {"origin", o.origin},
      {"rows", o.rows},
      {"cols", o.cols},
      {"sample",
       {{"count", o.sample.count},
        {"total", o.sample.total},
        {"rule", "stored row i is row floor(i * total / count)"}}},
      {"has_values", o.has_values},
      {"bits_per_element", num(o.bits_per_element)},
      {"scale_layout", layout_json(o.layout)},
      {"stats", o.has_stats ? stats_json(o.stats) : ojson(nullptr)},
      {"quant_error", o.has_values ? metrics_json(o.quant_error) : ojson(nullptr)},
      {"planted_channels", o.planted_channels}};
}

OperandSource source_from(const std::string& s) {
  if (s == "weight") return OperandSource::kWeight;
  if (s == "kv_cache") return OperandSource::kKvCache;
  return OperandSource::kActivation;
}

quant::ErrorMetrics metrics_from(const json& j) {
  quant::ErrorMetrics m;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  m.mse = get_num(j, "mse", nan);
  m.qsnr_db = get_num(j, "qsnr_db", std::numeric_limits<double>::infinity());
  m.max_abs_err = get_num(j, "max_abs_err", nan);
  m.cosine = get_num(j, "cosine", nan);
  m.rel_fro = get_num(j, "rel_fro", nan);
  return m;
}

quant::TensorStats stats_from(const json& j) {
  quant::TensorStats s;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.rows = j.at("rows");
  s.cols = j.at("cols");
  s.mean = get_num(j, "mean", nan);
  s.stddev = get_num(j, "stddev", nan);
  s.excess_kurtosis = get_num(j, "excess_kurtosis", nan);
  s.abs_max = get_num(j, "abs_max", nan);
  s.abs_median = get_num(j, "abs_median", nan);
  s.max_over_median_channel = get_num(j, "max_over_median_channel", nan);
  s.outlier_fraction = get_num(j, "outlier_fraction", nan);
  s.outlier_sigma = get_num(j, "outlier_sigma", nan);
  s.outlier_channels = j.at("outlier_channels").get<std::vector<int64_t>>();
  return s;
}

TraceOperand operand_from(const json& j) {
  TraceOperand o;
  o.format = j.at("format");
  o.requested_format = j.at("requested_format");
  if (o.requested_format == o.format) o.requested_format.clear();
  if (!j.at("scale_search").is_null()) o.scale_search_rows = j.at("scale_search").at("rows");
  o.source = source_from(j.at("source"));
  o.origin = j.at("origin");
  o.rows = j.at("rows");
  o.cols = j.at("cols");
  o.sample.count = j.at("sample").at("count");
  o.sample.total = j.at("sample").at("total");
  o.has_values = j.at("has_values");
  o.bits_per_element = get_num(j, "bits_per_element", 0.0);
  const json& l = j.at("scale_layout");
  o.layout.group_rows = l.at("group_rows");
  o.layout.group_cols = l.at("group_cols");
  o.layout.sign_split = l.at("sign_split");
  o.layout.tensor_divisor = l.at("tensor_divisor");
  o.has_stats = !j.at("stats").is_null();
  if (o.has_stats) o.stats = stats_from(j.at("stats"));
  if (!j.at("quant_error").is_null()) o.quant_error = metrics_from(j.at("quant_error"));
  o.planted_channels = j.at("planted_channels").get<std::vector<int64_t>>();
  return o;
}

}  // namespace

ojson stats_json(const quant::TensorStats& s) {
  return {{"rows", s.rows},
          {"cols", s.cols},
          {"mean", num(s.mean)},
          {"stddev", num(s.stddev)},
          {"excess_kurtosis", num(s.excess_kurtosis)},
          {"abs_max", num(s.abs_max)},
          {"abs_median", num(s.abs_median)},
          {"max_over_median_channel", num(s.max_over_median_channel)},
          {"outlier_fraction", num(s.outlier_fraction)},
          {"outlier_sigma", num(s.outlier_sigma)},
          {"outlier_channels", s.outlier_channels}};
}

ojson metrics_json(const quant::ErrorMetrics& m) {
  return {{"mse", num(m.mse)},
          {"qsnr_db", num(m.qsnr_db)},
          {"max_abs_err", num(m.max_abs_err)},
          {"cosine", num(m.cosine)},
          {"rel_fro", num(m.rel_fro)}};
}

ojson outliers_json(const OutlierParams& p) {
  ojson acts = ojson::object(), weights = ojson::object();
  auto range = [](std::pair<double, double> r) { return ojson{r.first, r.second}; };
  for (const auto& [role, a] : p.activations) {
    acts[role] = {{"std", a.std},
                  {"channel_sigma", a.channel_sigma},
                  {"token_sigma", a.token_sigma},
                  {"tail", {{"p", a.tail.p}, {"scale", a.tail.scale}}},
                  {"outlier_channels",
                   {{"count", a.outlier_count},
                    {"gain", range(a.outlier_gain)},
                    {"indices", a.outlier_channels},
                    {"target_kurtosis", a.target_kurtosis}}},
                  {"massive",
                   {{"tokens", a.massive_tokens},
                    {"count", a.massive_count},
                    {"gain", range(a.massive_gain)},
                    {"channels", a.massive_channels},
                    {"from_layer", a.massive_from_layer}}}};
  }
  for (const auto& [role, w] : p.weights) {
    ojson pos = ojson::array();
    for (const auto& rc : w.super_positions) pos.push_back({rc[0], rc[1]});
    weights[role] = {{"std", w.std},
                     {"row_sigma", w.row_sigma},
                     {"col_sigma", w.col_sigma},
                     {"tail", {{"p", w.tail.p}, {"scale", w.tail.scale}}},
                     {"super_weights",
                      {{"count", w.super_count},
                       {"gain", w.super_gain},
                       {"layers", w.super_layers},
                       {"positions", pos}}}};
  }
  return {{"activations", acts}, {"weights", weights}};
}

ojson gemm_op_json(const GemmOp& g) {
  return {{"name", g.name},
          {"kind", g.kind},
          {"layer", g.layer},
          {"expert", g.expert},
          {"m", g.m},
          {"n", g.n},
          {"k", g.k},
          {"batch", g.batch},
          {"x_distinct", g.x_distinct},
          {"w_distinct", g.w_distinct},
          {"x_source", source_name(g.x_source)},
          {"w_source", source_name(g.w_source)},
          {"kv_cache_tokens", g.kv_cache_tokens},
          {"causal", g.causal},
          {"bias", g.bias},
          {"x_role", g.x_role},
          {"w_role", g.w_role},
          {"macs", g.macs()},
          {"flops", g.flops()}};
}

GemmOp gemm_op_from_json(const json& j) {
  GemmOp g;
  g.name = j.at("name");
  g.kind = j.at("kind");
  g.layer = j.at("layer");
  g.expert = j.at("expert");
  g.m = j.at("m");
  g.n = j.at("n");
  g.k = j.at("k");
  g.batch = j.at("batch");
  g.x_distinct = j.at("x_distinct");
  g.w_distinct = j.at("w_distinct");
  g.x_source = source_from(j.at("x_source"));
  g.w_source = source_from(j.at("w_source"));
  g.kv_cache_tokens = j.at("kv_cache_tokens");
  g.causal = j.at("causal");
  g.bias = j.at("bias");
  g.x_role = j.at("x_role");
  g.w_role = j.at("w_role");
  return g;
}

ojson elementwise_json(const ElementwiseOp& e) {
  return {{"name", e.name},
          {"kind", e.kind},
          {"layer", e.layer},
          {"elements", e.elements},
          {"bytes_read", e.bytes_read},
          {"bytes_written", e.bytes_written}};
}

ElementwiseOp elementwise_from_json(const json& j) {
  ElementwiseOp e;
  e.name = j.at("name");
  e.kind = j.at("kind");
  e.layer = j.at("layer");
  e.elements = j.at("elements");
  e.bytes_read = j.at("bytes_read");
  e.bytes_written = j.at("bytes_written");
  return e;
}

ojson header_json(const TraceHeader& h) {
  const WorkloadParams& p = h.params;
  return {
      {"format", "qarch-trace"},
      {"version", h.version},
      {"kind", "index"},
      {"tool", h.tool},
      {"model", model_json(h.model)},
      {"workload",
       {{"phase", phase_name(p.phase)},
        {"batch", p.batch},
        {"seq", p.seq},
        {"context", p.context},
        {"tokens", h.tokens},
        {"kv_tokens", h.kv_tokens},
        {"all_logits", p.all_logits},
        {"elem_bytes", p.elem_bytes},
        {"routing", p.routing == Routing::kBalanced ? "balanced" : "random"},
        {"routing_seed", p.routing_seed}}},
      {"formats",
       {{"activation", h.act_format}, {"weight", h.weight_format}, {"attention", h.act_format}}},
      {"selection",
       {{"layers", h.layers},
        {"sample_rows", h.sample_rows},
        {"weight_rows", h.weight_rows},
        {"attention_head", h.attention_head},
        {"shape_only", h.shape_only}}},
      {"generator",
       {{"seed", h.seed},
        {"profile", h.outlier_profile},
        {"bindings", h.bindings},
        {"params", outliers_json(h.model.outliers)}}},
      {"model_totals", {{"gemms", h.model_gemms}, {"flops", h.model_flops}}}};
}

TraceHeader header_from_json(const json& j, const std::string& file) {
  check_version(j, file, "index");
  TraceHeader h;
  h.version = j.at("version");
  h.tool = j.at("tool");
  h.model = model_from_json(j.at("model"));
  const json& w = j.at("workload");
  h.params.phase = parse_phase(w.at("phase"));
  h.params.batch = w.at("batch");
  h.params.seq = w.at("seq");
  h.params.context = w.at("context");
  h.tokens = w.at("tokens");
  h.kv_tokens = w.at("kv_tokens");
  h.params.all_logits = w.at("all_logits");
  h.params.elem_bytes = w.at("elem_bytes");
  h.params.routing = w.at("routing") == "random" ? Routing::kRandom : Routing::kBalanced;
  h.params.routing_seed = w.at("routing_seed");
  h.act_format = j.at("formats").at("activation");
  h.weight_format = j.at("formats").at("weight");
  const json& s = j.at("selection");
  h.layers = s.at("layers");
  h.sample_rows = s.at("sample_rows");
  h.weight_rows = s.at("weight_rows");
  h.attention_head = s.at("attention_head");
  h.shape_only = s.at("shape_only");
  const json& g = j.at("generator");
  h.seed = g.at("seed");
  h.outlier_profile = g.at("profile");
  h.bindings = g.at("bindings");
  h.model_gemms = j.at("model_totals").at("gemms");
  h.model_flops = j.at("model_totals").at("flops");
  return h;
}

ojson gemm_manifest_json(const TraceGemm& g, const TraceHeader& h) {
  ojson err = nullptr;
  if (g.has_output_error) {
    err = metrics_json(g.output_error);
    err["rows"] = g.error_rows;
    err["cols"] = g.error_cols;
    err["method"] = g.error_method;
  }
  return {{"format", "qarch-trace"},
          {"version", kTraceVersion},
          {"kind", "gemm"},
          {"model", h.model.name},
          {"phase", phase_name(h.params.phase)},
          {"op", gemm_op_json(g.op)},
          {"instance", g.instance},
          {"operands", {{"x", operand_json(g.x)}, {"w", operand_json(g.w)}}},
          {"output_error", err}};
}

TraceGemm gemm_from_manifest(const json& j, const std::string& file) {
  check_version(j, file, "gemm");
  TraceGemm g;
  g.op = gemm_op_from_json(j.at("op"));
  g.instance = j.at("instance");
  g.x = operand_from(j.at("operands").at("x"));
  g.w = operand_from(j.at("operands").at("w"));
  const json& e = j.at("output_error");
  g.has_output_error = !e.is_null();
  if (g.has_output_error) {
    g.output_error = metrics_from(e);
    g.error_rows = e.at("rows");
    g.error_cols = e.at("cols");
    g.error_method = e.at("method");
  }
  const json& d = j.at("data");
  if (!d.is_null()) {
    g.data_file = d.at("file");
    g.data_bytes = d.at("bytes");
    g.data_fnv1a64 = std::stoull(d.at("fnv1a64").get<std::string>(), nullptr, 16);
  }
  return g;
}

}  // namespace qarch::workloads::detail
