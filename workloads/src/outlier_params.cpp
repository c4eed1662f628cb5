#include <fstream>
#include <sstream>

#include "embedded.h"
#include "outlier_yaml.h"
#include "qarch/common/error.h"
#include "qarch/common/yaml.h"
#include "qarch/workloads/outlier_params.h"

namespace qarch::workloads {

const std::vector<std::string>& OutlierParams::activation_roles() {
  static const std::vector<std::string> r = {"qkv_in", "q",      "k",       "v",
                                             "o_in",   "ffn_in", "down_in", "lm_head_in"};
  return r;
}

const std::vector<std::string>& OutlierParams::weight_roles() {
  static const std::vector<std::string> r = {"qkv", "o", "gate", "up", "down", "router", "lm_head"};
  return r;
}

OutlierParams OutlierParams::neutral() {
  OutlierParams p;
  for (const auto& r : activation_roles()) p.activations[r] = ActivationProfile{};
  for (const auto& r : weight_roles()) p.weights[r] = WeightProfile{};
  return p;
}

OutlierParams OutlierParams::defaults() {
  static const OutlierParams d = [] {
    OutlierParams p = neutral();
    const std::string* text = detail::find_embedded("outliers/default.yaml");
    if (!text) throw Error("internal: outliers/default.yaml is not compiled in");
    apply_outlier_yaml(p, *text, "outliers/default.yaml");
    return p;
  }();
  return d;
}

namespace detail {
namespace {

constexpr int64_t kMaxIndex = int64_t{1} << 31;

void read_tail(yaml::Map& m, TailMixture& t) {
  if (!m.has("tail")) {
    m.node("tail");
    return;
  }
  yaml::Map tm = m.get_map("tail");
  t.p = tm.get_double("p", t.p, 0.0, 1.0);
  t.scale = tm.get_double("scale", t.scale, 1e-6, 1e6);
  tm.finish();
}

void apply_activation(yaml::Map& m, ActivationProfile& a) {
  a.std = m.get_double("std", a.std, 1e-30, 1e30);
  a.channel_sigma = m.get_double("channel_sigma", a.channel_sigma, 0.0, 5.0);
  a.token_sigma = m.get_double("token_sigma", a.token_sigma, 0.0, 5.0);
  read_tail(m, a.tail);
  if (m.has("outlier_channels")) {
    yaml::Map o = m.get_map("outlier_channels");
    a.outlier_count = o.get_int("count", a.outlier_count, 0, kMaxIndex);
    a.outlier_gain = o.get_range("gain", a.outlier_gain, 1e-6, 1e9);
    a.outlier_channels = o.get_int_list("indices", a.outlier_channels, 0, kMaxIndex);
    a.target_kurtosis = o.get_double("target_kurtosis", a.target_kurtosis, 0.0, 1e12);
    o.finish();
  } else {
    m.node("outlier_channels");
  }
  if (m.has("massive")) {
    yaml::Map o = m.get_map("massive");
    a.massive_tokens = o.get_int_list("tokens", a.massive_tokens, 0, kMaxIndex);
    a.massive_count = o.get_int("count", a.massive_count, 0, kMaxIndex);
    a.massive_gain = o.get_range("gain", a.massive_gain, 1e-6, 1e12);
    a.massive_channels = o.get_int_list("channels", a.massive_channels, 0, kMaxIndex);
    a.massive_from_layer = o.get_int("from_layer", a.massive_from_layer, 0, kMaxIndex);
    o.finish();
  } else {
    m.node("massive");
  }
}

void apply_weight(yaml::Map& m, WeightProfile& w) {
  w.std = m.get_double("std", w.std, 1e-30, 1e30);
  w.row_sigma = m.get_double("row_sigma", w.row_sigma, 0.0, 5.0);
  w.col_sigma = m.get_double("col_sigma", w.col_sigma, 0.0, 5.0);
  read_tail(m, w.tail);
  if (m.has("super_weights")) {
    yaml::Map o = m.get_map("super_weights");
    w.super_count = o.get_int("count", w.super_count, 0, kMaxIndex);
    w.super_gain = o.get_double("gain", w.super_gain, 0.0, 1e12);
    w.super_layers = o.get_int_list("layers", w.super_layers, 0, kMaxIndex);
    const YAML::Node pos = o.node("positions");
    if (pos.IsDefined() && !pos.IsNull()) {
      if (!pos.IsSequence()) o.fail_at(pos, "positions", "expected a list of [row, col] pairs");
      w.super_positions.clear();
      for (size_t i = 0; i < pos.size(); ++i) {
        const YAML::Node e = pos[i];
        int64_t r = -1, c = -1;
        try {
          if (e.IsSequence() && e.size() == 2) {
            r = e[0].as<int64_t>();
            c = e[1].as<int64_t>();
          }
        } catch (const YAML::Exception&) {
          r = -1;
        }
        if (r < 0 || c < 0) {
          o.fail_at(e, "positions",
                    "element " + std::to_string(i) + ": expected [row, col] with row, col >= 0");
        }
        w.super_positions.push_back({r, c});
      }
    }
    o.finish();
  } else {
    m.node("super_weights");
  }
}

template <typename Profile, typename ApplyFn>
void apply_section(yaml::Map& top, const std::string& key, std::map<std::string, Profile>& roles,
                   const std::vector<std::string>& known, ApplyFn apply) {
  if (!top.has(key)) {
    top.node(key);
    return;
  }
  yaml::Map sec = top.get_map(key);
  // `default` first, onto every role; then each role's own keys.
  if (sec.has("default")) {
    for (auto& kv : roles) {
      yaml::Map d = sec.get_map("default");
      apply(d, kv.second);
      d.finish();
    }
  } else {
    sec.node("default");
  }
  for (const auto& k : sec.keys()) {
    if (k == "default") continue;
    bool ok = false;
    for (const auto& r : known) ok = ok || r == k;
    if (!ok) {
      std::string list = "default";
      for (const auto& r : known) list += ", " + r;
      sec.fail(k, "unknown role (known: " + list + ")");
    }
    yaml::Map rm = sec.get_map(k);
    apply(rm, roles[k]);
    rm.finish();
  }
  sec.finish();
}

}  // namespace

void apply_outlier_node(OutlierParams& params, const YAML::Node& node, const std::string& file,
                        const std::string& prefix) {
  yaml::Map top(node, file, prefix);
  top.get_string("description", "");
  apply_section(top, "activations", params.activations, OutlierParams::activation_roles(),
                apply_activation);
  apply_section(top, "weights", params.weights, OutlierParams::weight_roles(), apply_weight);
  top.finish();
}

}  // namespace detail

void apply_outlier_yaml(OutlierParams& params, const std::string& text, const std::string& file) {
  detail::apply_outlier_node(params, yaml::parse(text, file), file, "");
}

std::vector<std::string> builtin_outlier_profiles() {
  std::vector<std::string> out;
  for (const auto& f : detail::embedded_yaml()) {
    if (f.first.rfind("outliers/", 0) == 0) out.push_back(f.first.substr(9, f.first.size() - 14));
  }
  return out;
}

OutlierParams load_outlier_profile(const std::string& name_or_path, const OutlierParams& base) {
  OutlierParams p = base;
  if (const std::string* text = detail::find_embedded("outliers/" + name_or_path + ".yaml")) {
    // A built-in profile replaces everything: start from neutral, not from the model's.
    p = OutlierParams::neutral();
    apply_outlier_yaml(p, *text, name_or_path + ".yaml");
    return p;
  }
  std::ifstream in(name_or_path, std::ios::binary);
  if (!in) {
    std::string known;
    for (const auto& n : builtin_outlier_profiles()) known += (known.empty() ? "" : ", ") + n;
    throw Error(name_or_path + ": cannot open the outlier profile (built-in profiles: " + known +
                ")");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  apply_outlier_yaml(p, ss.str(), name_or_path);
  return p;
}

}  // namespace qarch::workloads
