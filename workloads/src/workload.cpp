#include "qarch/workloads/workload.h"

#include <algorithm>

#include "qarch/common/error.h"
#include "qarch/workloads/rng.h"

namespace qarch::workloads {

std::string phase_name(Phase p) {
  return p == Phase::kPrefill ? "prefill" : "decode";
}

Phase parse_phase(const std::string& s) {
  if (s == "prefill") return Phase::kPrefill;
  if (s == "decode") return Phase::kDecode;
  throw Error("unknown phase '" + s + "' (prefill or decode)");
}

std::string source_name(OperandSource s) {
  switch (s) {
    case OperandSource::kActivation:
      return "activation";
    case OperandSource::kWeight:
      return "weight";
    case OperandSource::kKvCache:
      return "kv_cache";
  }
  return "?";
}

int64_t Workload::total_flops() const {
  int64_t f = 0;
  for (const auto& g : gemms) f += g.flops();
  return f;
}

int64_t Workload::attention_flops() const {
  int64_t f = 0;
  for (const auto& g : gemms) f += g.is_attention() ? g.flops() : 0;
  return f;
}

int64_t Workload::linear_flops() const {
  return total_flops() - attention_flops();
}

int64_t Workload::kv_cache_read_bytes() const {
  int64_t b = 0;
  for (const auto& g : gemms) {
    if (g.w_source != OperandSource::kKvCache) continue;
    // K is [kv, d] per instance, V^T is [d, kv]: either way kv_cache_tokens * head_dim values.
    const int64_t head_dim = g.kind == "scores" ? g.k : g.n;
    b += g.w_distinct * g.kv_cache_tokens * head_dim * params.elem_bytes;
  }
  return b;
}

std::vector<std::vector<int64_t>> moe_route(int64_t tokens, int64_t num_experts, int64_t top_k,
                                            Routing routing, uint64_t seed, int64_t layer) {
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(num_experts));
  if (top_k > num_experts) throw Error("moe: top_k exceeds the number of experts");
  for (int64_t t = 0; t < tokens; ++t) {
    if (routing == Routing::kBalanced) {
      for (int64_t j = 0; j < top_k; ++j) out[(t * top_k + j) % num_experts].push_back(t);
    } else {
      Xoshiro256pp g(
          hash_combine(hash_combine(seed, static_cast<uint64_t>(layer)), static_cast<uint64_t>(t)));
      std::vector<int64_t> chosen;
      while (static_cast<int64_t>(chosen.size()) < top_k) {
        const int64_t e = static_cast<int64_t>(g.uniform() * static_cast<double>(num_experts));
        if (std::find(chosen.begin(), chosen.end(), e) == chosen.end()) chosen.push_back(e);
      }
      for (int64_t e : chosen) out[e].push_back(t);
    }
  }
  return out;
}

namespace {

struct Builder {
  const ModelConfig& c;
  const WorkloadParams& p;
  Workload& w;
  int64_t next = 0;  // execution order of the ops pushed so far

  void gemm(const std::string& name, const std::string& kind, int64_t layer, int64_t m, int64_t n,
            int64_t k, const std::string& x_role, const std::string& w_role, bool bias = false,
            int64_t expert = -1) {
    GemmOp g;
    g.name = name;
    g.kind = kind;
    g.layer = layer;
    g.expert = expert;
    g.m = m;
    g.n = n;
    g.k = k;
    g.x_role = x_role;
    g.w_role = w_role;
    g.bias = bias;
    g.order = next++;
    w.gemms.push_back(g);
  }

  void ew(const std::string& name, const std::string& kind, int64_t layer, int64_t elements,
          int64_t read_values, int64_t write_values, int64_t extra_read_bytes = 0,
          int64_t rows_hint = 0) {
    ElementwiseOp e;
    e.name = name;
    e.kind = kind;
    e.layer = layer;
    e.elements = elements;
    e.bytes_read = read_values * p.elem_bytes + extra_read_bytes;
    e.bytes_written = write_values * p.elem_bytes;
    e.rows = rows_hint > 0 ? rows_hint : w.tokens;
    e.order = next++;
    w.elementwise.push_back(e);
  }

  // A norm over `rows` vectors of `width`: reads the input and gamma (and beta for LayerNorm).
  void norm(const std::string& name, int64_t layer, int64_t rows, int64_t width) {
    const int64_t params = c.norm == "layernorm" ? 2 * width : width;
    ew(name, c.norm, layer, rows * width, rows * width + params, rows * width);
  }

  void ffn(const std::string& prefix, int64_t layer, int64_t m, int64_t expert) {
    if (m == 0) return;
    const int64_t h = c.hidden, i = c.intermediate;
    if (c.ffn == FfnKind::kGated) {
      gemm(prefix + ".gate", "gate", layer, m, i, h, "ffn_in", "gate", c.bias, expert);
      gemm(prefix + ".up", "up", layer, m, i, h, "ffn_in", "up", c.bias, expert);
      const std::string act = c.activation == "silu" ? "silu_mul" : c.activation + "_mul";
      ew(prefix + ".act", act, layer, m * i, 2 * m * i, m * i);
    } else {
      gemm(prefix + ".up", "up", layer, m, i, h, "ffn_in", "up", c.bias, expert);
      ew(prefix + ".act", c.activation, layer, m * i, m * i, m * i);
    }
    gemm(prefix + ".down", "down", layer, m, h, i, "down_in", "down", c.bias, expert);
  }

  void layer(int64_t l, int64_t tokens, int64_t q_per_seq, int64_t kv_len, int64_t cached) {
    const std::string pre = "layers." + std::to_string(l);
    const int64_t h = c.hidden, d = c.head_dim, B = p.batch;
    const bool decode = p.phase == Phase::kDecode;
    if (c.pre_norm) norm(pre + ".attn_norm", l, tokens, h);
    gemm(pre + ".attn.qkv", "qkv", l, tokens, c.q_dim() + 2 * c.kv_dim(), h, "qkv_in", "qkv",
         c.bias);
    if (c.position == "rotary") {
      // q and k rotated; cos/sin tables: tokens x head_dim values.
      const int64_t e = tokens * (c.q_dim() + c.kv_dim());
      ew(pre + ".attn.rotary", "rotary", l, e, e + tokens * d, e);
    }
    if (c.kind == ModelKind::kDecoder) {
      ew(pre + ".attn.kv_write", "kv_cache_write", l, tokens * 2 * c.kv_dim(),
         tokens * 2 * c.kv_dim(), tokens * 2 * c.kv_dim());
    }
    GemmOp s;
    s.name = pre + ".attn.scores";
    s.kind = "scores";
    s.layer = l;
    s.m = q_per_seq;
    s.n = kv_len;
    s.k = d;
    s.batch = B * c.heads;
    s.x_distinct = B * c.heads;
    s.w_distinct = B * c.kv_heads;
    s.w_source = decode ? OperandSource::kKvCache : OperandSource::kActivation;
    s.kv_cache_tokens = decode ? cached : 0;
    s.causal = c.kind == ModelKind::kDecoder && !decode;
    s.x_role = "q";
    s.w_role = "";
    s.order = next++;
    w.gemms.push_back(s);
    const int64_t probs = B * c.heads * q_per_seq * kv_len;
    ew(pre + ".attn.softmax", "softmax", l, probs, probs, probs, 0, B * c.heads * q_per_seq);
    GemmOp v = s;
    v.order = next++;
    v.name = pre + ".attn.context";
    v.kind = "context";
    v.m = q_per_seq;
    v.n = d;
    v.k = kv_len;
    v.x_role = "p";
    w.gemms.push_back(v);
    gemm(pre + ".attn.out", "attn_out", l, tokens, h, c.q_dim(), "o_in", "o", c.bias);
    ew(pre + ".attn.residual", "residual_add", l, tokens * h, 2 * tokens * h, tokens * h);
    if (!c.pre_norm) norm(pre + ".attn_norm", l, tokens, h);
    if (c.pre_norm) norm(pre + ".ffn_norm", l, tokens, h);
    if (c.moe.enabled()) {
      const int64_t E = c.moe.num_experts, K = c.moe.top_k;
      gemm(pre + ".moe.router", "router", l, tokens, E, h, "ffn_in", "router");
      // Softmax over the experts, top-k selection: writes k (weight, index) pairs per token.
      ew(pre + ".moe.topk", "moe_topk", l, tokens * K, tokens * E, tokens * K, 0);
      w.elementwise.back().bytes_written += tokens * K * 4;  // int32 expert indices
      ew(pre + ".moe.dispatch", "moe_dispatch", l, tokens * K * h, tokens * K * h, tokens * K * h);
      const auto routes = moe_route(tokens, E, K, p.routing, p.routing_seed, l);
      for (int64_t e = 0; e < E; ++e) {
        ffn(pre + ".moe.expert" + std::to_string(e), l, static_cast<int64_t>(routes[e].size()), e);
      }
      ew(pre + ".moe.combine", "moe_combine", l, tokens * h, tokens * K * h + tokens * K,
         tokens * h);
    } else {
      ffn(pre + ".mlp", l, tokens, -1);
    }
    ew(pre + ".ffn.residual", "residual_add", l, tokens * h, 2 * tokens * h, tokens * h);
    if (!c.pre_norm) norm(pre + ".ffn_norm", l, tokens, h);
  }
};

}  // namespace

Workload expand(const ModelConfig& c, const WorkloadParams& p) {
  if (p.batch < 1) throw Error("batch must be >= 1 (got " + std::to_string(p.batch) + ")");
  if (p.elem_bytes < 1) throw Error("elem_bytes must be >= 1");
  Workload w;
  w.model = c.name;
  w.params = p;
  int64_t q_per_seq, kv_len, cached;
  if (p.phase == Phase::kPrefill) {
    if (p.seq < 1) throw Error("prefill needs seq >= 1 (got " + std::to_string(p.seq) + ")");
    if (p.seq > c.max_positions) {
      throw Error(c.name + ": seq " + std::to_string(p.seq) + " exceeds max_positions " +
                  std::to_string(c.max_positions));
    }
    q_per_seq = p.seq;
    kv_len = p.seq;
    cached = 0;
  } else {
    if (c.kind == ModelKind::kEncoder) {
      throw Error(c.name + " is an encoder: it has no decode phase (use prefill)");
    }
    if (p.context < 0) throw Error("decode needs context >= 0");
    if (p.context + 1 > c.max_positions) {
      throw Error(c.name + ": context " + std::to_string(p.context) +
                  " + 1 exceeds max_positions " + std::to_string(c.max_positions));
    }
    q_per_seq = 1;
    kv_len = p.context + 1;
    if (c.sliding_window > 0) kv_len = std::min(kv_len, c.sliding_window);
    cached = kv_len - 1;
  }
  w.tokens = p.batch * q_per_seq;
  w.kv_tokens = kv_len;
  Builder b{c, p, w};
  const int64_t T = w.tokens, h = c.hidden;
  // Embeddings: a gather of T rows of the token table (+ learned positions, + BERT token types).
  int64_t emb_reads = T * h;
  if (c.position == "learned") emb_reads += T * h;
  if (c.kind == ModelKind::kEncoder) emb_reads += T * h;
  b.ew("embed", "embedding", -1, T * h, emb_reads, T * h);
  if (c.kind == ModelKind::kEncoder) b.norm("embed_norm", -1, T, h);
  for (int64_t l = 0; l < c.layers; ++l) b.layer(l, T, q_per_seq, kv_len, cached);
  if (c.pre_norm) b.norm("final_norm", -1, T, h);
  if (c.lm_head) {
    const int64_t m = (p.phase == Phase::kPrefill && !p.all_logits) ? p.batch : T;
    b.gemm("lm_head", "lm_head", -1, m, c.vocab, h, "lm_head_in", "lm_head");
  }
  return w;
}

}  // namespace qarch::workloads
