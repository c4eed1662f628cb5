#include "qarch/workloads/model.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "embedded.h"
#include "outlier_yaml.h"
#include "qarch/common/error.h"
#include "qarch/common/yaml.h"

namespace qarch::workloads {

namespace detail {
const std::string* find_embedded(const std::string& key) {
  for (const auto& f : embedded_yaml())
    if (f.first == key) return &f.second;
  return nullptr;
}
}  // namespace detail

namespace {
constexpr int64_t kBig = int64_t{1} << 31;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

int64_t ModelConfig::linear_params() const {
  const int64_t experts = moe.enabled() ? moe.num_experts : 1;
  const int64_t ffn_mats = ffn == FfnKind::kGated ? 3 : 2;
  int64_t per_layer = hidden * (q_dim() + 2 * kv_dim()) + q_dim() * hidden +
                      experts * ffn_mats * hidden * intermediate;
  if (moe.enabled()) per_layer += moe.num_experts * hidden;
  return layers * per_layer + (lm_head ? vocab * hidden : 0);
}

int64_t ModelConfig::active_linear_params() const {
  if (!moe.enabled()) return linear_params();
  const int64_t ffn_mats = ffn == FfnKind::kGated ? 3 : 2;
  const int64_t per_layer = hidden * (q_dim() + 2 * kv_dim()) + q_dim() * hidden +
                            moe.top_k * ffn_mats * hidden * intermediate + moe.num_experts * hidden;
  return layers * per_layer + (lm_head ? vocab * hidden : 0);
}

ModelConfig parse_model_yaml(const std::string& text, const std::string& file) {
  const YAML::Node doc = yaml::parse(text, file);
  yaml::Map m(doc, file);
  ModelConfig c;
  c.file = file;
  c.name = m.get_string("name");
  c.source = m.get_string("source");
  c.kind = m.get_choice("kind", "decoder", {"decoder", "encoder"}) == "encoder"
               ? ModelKind::kEncoder
               : ModelKind::kDecoder;
  c.hidden = m.get_int("hidden_size", 1, kBig);
  c.layers = m.get_int("num_layers", 1, 100000);
  c.heads = m.get_int("num_heads", 1, 100000);
  c.kv_heads = m.get_int("num_kv_heads", c.heads, 1, c.heads);
  if (c.heads % c.kv_heads != 0) {
    m.fail("num_kv_heads", "num_heads (" + std::to_string(c.heads) +
                               ") must be a multiple of num_kv_heads (" +
                               std::to_string(c.kv_heads) + ") for grouped-query attention");
  }
  if (!m.has("head_dim") && c.hidden % c.heads != 0) {
    m.fail("num_heads", "hidden_size " + std::to_string(c.hidden) + " is not a multiple of " +
                            std::to_string(c.heads) + " heads; give head_dim explicitly");
  }
  c.head_dim = m.get_int("head_dim", c.hidden / c.heads, 1, kBig);
  c.intermediate = m.get_int("intermediate_size", 1, kBig);
  c.ffn = m.get_choice("ffn", "mlp", {"mlp", "gated"}) == "gated" ? FfnKind::kGated : FfnKind::kMlp;
  c.activation = m.get_choice("activation", "gelu", {"silu", "gelu", "gelu_new", "relu"});
  c.norm = m.get_choice("norm", "layernorm", {"layernorm", "rmsnorm"});
  c.pre_norm = m.get_choice("norm_placement", "pre", {"pre", "post"}) == "pre";
  c.position = m.get_choice("position", "learned", {"learned", "rotary", "none"});
  c.vocab = m.get_int("vocab_size", 1, kBig);
  c.max_positions = m.get_int("max_positions", 1, kBig);
  c.lm_head = m.get_bool("lm_head", c.kind == ModelKind::kDecoder);
  c.tied_embeddings = m.get_bool("tied_embeddings", false);
  c.bias = m.get_bool("bias", false);
  c.sliding_window = m.get_int("sliding_window", 0, 0, kBig);
  if (m.has("moe")) {
    yaml::Map moe = m.get_map("moe");
    c.moe.num_experts = moe.get_int("num_experts", 1, 65536);
    c.moe.top_k = moe.get_int("top_k", 1, c.moe.num_experts);
    moe.finish();
  } else {
    m.node("moe");
  }
  c.outliers = OutlierParams::defaults();
  const YAML::Node out = m.node("outliers");
  if (out.IsDefined() && !out.IsNull())
    detail::apply_outlier_node(c.outliers, out, file, "outliers");
  m.finish();
  return c;
}

std::vector<std::string> zoo_models() {
  std::vector<std::string> out;
  for (const auto& f : detail::embedded_yaml()) {
    if (f.first.rfind("models/", 0) == 0 && ends_with(f.first, ".yaml")) {
      out.push_back(f.first.substr(7, f.first.size() - 7 - 5));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

ModelConfig load_model(const std::string& name_or_path) {
  if (ends_with(name_or_path, ".yaml") || ends_with(name_or_path, ".yml") ||
      name_or_path.find('/') != std::string::npos) {
    std::ifstream in(name_or_path, std::ios::binary);
    if (!in) throw Error(name_or_path + ": cannot open the model file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_model_yaml(ss.str(), name_or_path);
  }
  const std::string* text = detail::find_embedded("models/" + name_or_path + ".yaml");
  if (!text) {
    std::string known;
    for (const auto& n : zoo_models()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown model '" + name_or_path + "' (zoo: " + known +
                "; or give a path to a .yaml file)");
  }
  return parse_model_yaml(*text, name_or_path + ".yaml");
}

}  // namespace qarch::workloads
