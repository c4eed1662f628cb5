#include "qarch/explore/sweep.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/common/yaml.h"
#include "qarch/workloads/checksum.h"

namespace qarch::explore {
namespace {

using yaml::Map;

std::string dir_of(const std::string& file) {
  const size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? "" : file.substr(0, slash + 1);
}

// A path written in the sweep file: absolute, or relative to the sweep file's directory.
std::string relative_to(const std::string& sweep_file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir_of(sweep_file) + path;
}

bool looks_like_file(const std::string& arch) {
  return arch.find('/') != std::string::npos ||
         (arch.size() > 5 && arch.compare(arch.size() - 5, 5, ".yaml") == 0) ||
         (arch.size() > 4 && arch.compare(arch.size() - 4, 4, ".yml") == 0);
}

std::string scalar_text(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read file");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// One value of an axis: the overrides it applies and its display text.
struct AxisValue {
  std::vector<Override> overrides;
  std::string text;
};
struct Axis {
  std::string name;
  std::vector<AxisValue> values;
};

std::vector<Axis> parse_axes(Map& top) {
  std::vector<Axis> axes;
  if (!top.has("parameters")) return axes;
  Map params = top.get_map("parameters");
  for (const std::string& name : params.keys()) {
    const YAML::Node seq = params.node(name);
    if (!seq.IsSequence() || seq.size() == 0)
      params.fail_at(seq, name, "expected a non-empty list of values");
    Axis axis{name, {}};
    for (const YAML::Node& v : seq) {
      AxisValue av;
      if (v.IsScalar()) {
        av.overrides.push_back({name, v.Scalar()});
        av.text = v.Scalar();
      } else if (v.IsMap()) {
        std::string text;
        for (const auto& kv : v) {
          if (!kv.second.IsScalar())
            params.fail_at(kv.second, name + "." + kv.first.Scalar(), "expected a scalar value");
          av.overrides.push_back({kv.first.Scalar(), kv.second.Scalar()});
        }
        av.text = scalar_text(v);
      } else {
        params.fail_at(v, name, "each value must be a scalar or a map of key paths to scalars");
      }
      axis.values.push_back(std::move(av));
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

WorkloadSpec parse_workload(Map m, const std::string& sweep_file) {
  WorkloadSpec w;
  if (m.has("gemms")) {
    w.gemm_list = relative_to(sweep_file, m.get_string("gemms"));
    m.finish();
    return w;
  }
  const std::string model = m.get_string("model");
  const std::string phase = m.get_choice("phase", "prefill", {"prefill", "decode", "serve"});
  ServeSpec serve;
  const int64_t prompt = m.get_int("prompt", -1, 1, int64_t{1} << 24);
  serve.gen = m.get_int("gen", serve.gen, 1, int64_t{1} << 24);
  serve.samples = static_cast<int>(m.get_int("serve_samples", serve.samples, 0, 1 << 20));
  serve.overlap = m.get_choice("schedule", "overlap", {"overlap", "serial"}) == "overlap";
  serve.causal_skip = m.get_choice("causal_skip", "true", {"true", "false"}) == "true";
  const int64_t seq = m.get_int("seq", -1, 1, int64_t{1} << 24);
  const int64_t context = m.get_int("context", -1, 0, int64_t{1} << 24);
  const int64_t batch = m.get_int("batch", 1, 1, int64_t{1} << 20);
  const std::string layers = m.get_string("layers", "all");
  std::string outliers = m.get_string("outliers", "");
  std::string tensors = m.get_string("tensors", "");
  m.finish();
  try {
    // A model name from the zoo stays as it is; a model file is relative to the sweep file.
    const std::string model_arg = looks_like_file(model) ? relative_to(sweep_file, model) : model;
    if (phase == "serve") {
      if (seq >= 0 || context >= 0)
        throw Error("phase serve takes prompt and gen, not seq/context");
      if (layers != "all") throw Error("phase serve runs the whole model: layers must be all");
      w = serve_workload(model_arg, prompt, batch, serve);
    } else {
      w = model_workload(model_arg, phase, seq, context, batch, layers);
    }
  } catch (const Error& e) {
    m.fail("model", e.what());
  }
  if (!outliers.empty() && looks_like_file(outliers)) outliers = relative_to(sweep_file, outliers);
  w.outliers = outliers;
  w.tensors = relative_to(sweep_file, tensors);
  return w;
}

std::string workload_key(const WorkloadSpec& w) {
  std::ostringstream os;
  os << "model=" << w.model << "\nphase=" << workloads::phase_name(w.params.phase)
     << "\nbatch=" << w.params.batch << "\nseq=" << w.params.seq << "\ncontext=" << w.params.context
     << "\nlayers=" << w.layers << "\noutliers=" << w.outliers << "\ntensors=" << w.tensors
     << "\ngemms=" << w.gemm_list << "\n";
  if (w.serve) {
    os << "serve: prompt=" << w.serve_spec.prompt << " gen=" << w.serve_spec.gen
       << " samples=" << w.serve_spec.samples << " overlap=" << w.serve_spec.overlap
       << " causal_skip=" << w.serve_spec.causal_skip << "\n";
  }
  // The text of every file the workload names, so an edited file is a new definition. The
  // tensor data files a bindings YAML points at are not read (they may be gigabytes): replace
  // one under the same name and rerun with --force.
  if (!w.gemm_list.empty()) os << read_text(w.gemm_list);
  if (looks_like_file(w.model)) os << "model_text=" << read_text(w.model) << "\n";
  if (looks_like_file(w.outliers)) os << "outliers_text=" << read_text(w.outliers) << "\n";
  if (!w.tensors.empty()) os << "tensors_text=" << read_text(w.tensors) << "\n";
  return os.str();
}

}  // namespace

Sweep parse_sweep(const std::string& yaml, const std::string& file) {
  return parse_sweep(yaml, file, nullptr);
}

Sweep parse_sweep(const std::string& yaml, const std::string& file,
                  const std::function<void(const SweepPoint&)>& list) {
  Sweep s;
  s.file = file;
  s.file_fnv1a64 = workloads::hex64(workloads::fnv1a64(yaml));
  Map top(qarch::yaml::parse(yaml, file), file);
  top.declare({"name", "archs", "parameters", "workloads", "accuracy"});
  s.name = top.get_string("name", "sweep");

  const YAML::Node archs = top.node("archs");
  if (!archs.IsDefined()) top.fail("archs", "missing: list the architectures to sweep");
  if (!archs.IsSequence() || archs.size() == 0)
    top.fail_at(archs, "archs", "expected a non-empty list of architecture files or names");
  std::vector<std::pair<std::string, YAML::Node>> arch_args;
  for (const YAML::Node& a : archs) {
    if (!a.IsScalar()) top.fail_at(a, "archs", "expected a file name or a built-in name");
    arch_args.push_back({a.Scalar(), a});
  }
  const std::vector<Axis> axes = parse_axes(top);

  const YAML::Node wl = top.node("workloads");
  if (!wl.IsDefined()) top.fail("workloads", "missing: list the workloads to run");
  if (!wl.IsSequence() || wl.size() == 0)
    top.fail_at(wl, "workloads", "expected a non-empty list of workloads");
  std::vector<WorkloadSpec> workloads_list;
  std::vector<std::string> workload_keys;  // read once: the files behind a workload
  for (size_t i = 0; i < wl.size(); ++i) {
    if (!wl[i].IsMap()) top.fail_at(wl[i], "workloads", "each workload must be a map");
    workloads_list.push_back(
        parse_workload(Map(wl[i], top.source_ptr(), "workloads[" + std::to_string(i) + "]"), file));
    try {
      workload_keys.push_back(workload_key(workloads_list.back()));
    } catch (const Error& e) {
      top.fail_at(wl[i], "workloads[" + std::to_string(i) + "]", e.what());
    }
  }

  if (top.has("accuracy")) {
    Map a = top.get_map("accuracy");
    s.accuracy.enabled = a.get_bool("enabled", true);
    s.accuracy.layers = a.get_string("layers", s.accuracy.layers);
    s.accuracy.sample_rows = a.get_int("sample_rows", s.accuracy.sample_rows, 0, int64_t{1} << 30);
    s.accuracy.weight_rows = a.get_int("weight_rows", s.accuracy.weight_rows, 0, int64_t{1} << 30);
    s.accuracy.error_rows = a.get_int("error_rows", s.accuracy.error_rows, 0, int64_t{1} << 20);
    s.accuracy.error_cols = a.get_int("error_cols", s.accuracy.error_cols, 1, int64_t{1} << 20);
    s.accuracy.seed = static_cast<uint64_t>(a.get_int("seed", 1, 0, INT64_MAX));
    a.finish();
  }
  top.finish();

  size_t combos = 1;
  for (const Axis& a : axes) {
    combos *= a.values.size();
    if (combos > 1000000) top.fail("parameters", "more than 10^6 parameter combinations");
  }
  const size_t total = arch_args.size() * combos * workloads_list.size();
  if (total > 1000000) top.fail("workloads", "more than 10^6 points");
  const int width = std::max<int>(4, static_cast<int>(std::to_string(total - 1).size()));

  std::ostringstream acc;
  acc << "accuracy=" << s.accuracy.enabled << "," << s.accuracy.layers << ","
      << s.accuracy.sample_rows << "," << s.accuracy.weight_rows << "," << s.accuracy.error_rows
      << "," << s.accuracy.error_cols << "," << s.accuracy.seed << "\n";

  auto point_id = [width](size_t i) {  // p0000, p0001, ... (zero-padded to the largest index)
    std::ostringstream id;
    id << "p" << std::setw(width) << std::setfill('0') << i;
    return id.str();
  };
  size_t index = 0;
  std::string listed_name;  // listing: the architecture's name from its first combination
  for (const auto& [arch_arg, arch_node] : arch_args) {
    for (size_t c = 0; c < combos; ++c) {
      // Decode combination c (the last axis varies fastest).
      std::vector<Override> overrides;
      std::map<std::string, std::string> params;
      size_t rest = c;
      std::vector<const AxisValue*> chosen(axes.size());
      for (size_t a = axes.size(); a-- > 0;) {
        chosen[a] = &axes[a].values[rest % axes[a].values.size()];
        rest /= axes[a].values.size();
      }
      for (size_t a = 0; a < axes.size(); ++a) {
        for (const Override& o : chosen[a]->overrides) overrides.push_back(o);
        params[axes[a].name] = chosen[a]->text;
      }
      // Listing: the first combination of each architecture is resolved (so a broken file or
      // key still fails here), the others only enumerated; a run resolves every point.
      const bool resolve = !list || c == 0;
      ArchSpec arch;
      if (resolve) {
        try {
          arch = looks_like_file(arch_arg) ? load_arch(relative_to(file, arch_arg), overrides)
                                           : resolve_arch(arch_arg, overrides);
        } catch (const Error& e) {
          top.fail_at(arch_node, "archs",
                      std::string(e.what()) +
                          (overrides.empty() ? "" : " (with this point's parameters applied)"));
        }
        if (list) listed_name = arch.arch.name;
      }
      params["arch"] = resolve ? arch.arch.name : listed_name;
      if (list) {
        for (size_t wi = 0; wi < workloads_list.size(); ++wi) {
          SweepPoint p;
          p.index = index;
          p.id = point_id(index);
          p.arch_arg = arch_arg;
          p.params = params;
          p.params["workload"] = workloads_list[wi].describe();
          list(p);
          ++index;
        }
        continue;
      }
      // The key covers what the files behind the definition say, not only their names: an
      // edited technology table (or GEMM list, below) must not reuse an old point's energy.
      std::string arch_text = arch_yaml(arch);
      if (arch.tech_table_is_file()) {
        try {
          arch_text += "tech_text=" + read_text(arch.tech_table) + "\n";
        } catch (const Error& e) {
          top.fail_at(arch_node, "archs", e.what());
        }
      }
      for (size_t wi = 0; wi < workloads_list.size(); ++wi) {
        const WorkloadSpec& w = workloads_list[wi];
        SweepPoint p;
        p.index = index;
        p.id = point_id(index);
        p.arch = arch;
        p.arch_arg = arch_arg;
        p.overrides = overrides;
        p.params = params;
        p.params["workload"] = w.describe();
        p.workload = w;
        const std::string def = arch_text + "\n" + workload_keys[wi] + acc.str();
        p.key = workloads::hex64(workloads::fnv1a64(def));
        s.points.push_back(std::move(p));
        ++index;
      }
    }
  }
  return s;
}

Sweep load_sweep(const std::string& file) {
  return parse_sweep(read_text(file), file);
}

Sweep list_sweep(const std::string& file, const std::function<void(const SweepPoint&)>& visit) {
  return parse_sweep(read_text(file), file, visit);
}

std::string point_file(const std::string& out_dir, const std::string& id) {
  return out_dir + "/points/" + id + ".json";
}

std::string point_file_text(const Sweep& s, const SweepPoint& p, const reports::PointResult& r) {
  const nlohmann::json point = r;
  nlohmann::json j{
      {"key", p.key},     {"sweep", s.name},
      {"index", p.index}, {"of", s.points.size()},
      {"point", point},   {"fnv1a64", workloads::hex64(workloads::fnv1a64(point.dump()))}};
  return j.dump(1) + "\n";
}

PointFile parse_point_file(const std::string& text, const std::string& file) {
  PointFile f;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || !j.contains("key") || !j.contains("point"))
      throw Error(file + ": not a qarch sweep point file (no key/point)");
    f.key = j.at("key").get<std::string>();
    f.sweep = j.value("sweep", "");
    f.index = j.value("index", size_t{0});
    f.of = j.value("of", size_t{0});
    // The checksum covers the point's values: an edited number is refused, not reported.
    if (!j.contains("fnv1a64"))
      throw Error(file +
                  ": no checksum (written by an older qarch, or not by qarch); rerun "
                  "the sweep to recompute it");
    const std::string want = j.at("fnv1a64").get<std::string>();
    const std::string got = workloads::hex64(workloads::fnv1a64(j.at("point").dump()));
    if (want != got)
      throw Error(file + ": checksum mismatch (stored " + want + ", the point hashes to " + got +
                  "): its values were changed after the sweep wrote it");
    f.point = j.at("point").get<reports::PointResult>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": not a valid point file: " + e.what());
  }
  return f;
}

}  // namespace qarch::explore
