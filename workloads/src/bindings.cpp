#include "qarch/workloads/bindings.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/common/yaml.h"
#include "qarch/quant/tensor_io.h"

namespace qarch::workloads {

namespace {

std::string substitute(std::string s, const GemmOp& op) {
  auto rep = [&](const std::string& key, int64_t v) {
    for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at)) {
      const std::string val = std::to_string(v);
      s.replace(at, key.size(), val);
      at += val.size();
    }
  };
  rep("{layer}", op.layer);
  rep("{expert}", op.expert);
  return s;
}

std::vector<std::string> read_sources(yaml::Map& m, const std::string& key,
                                      const std::string& base) {
  std::vector<std::string> out;
  const YAML::Node n = m.node(key);
  if (!n.IsDefined() || n.IsNull()) return out;
  auto add = [&](const YAML::Node& s) {
    if (!s.IsScalar() || s.Scalar().empty()) {
      m.fail_at(s, key, "expected a file name (path.npy or path.safetensors:tensor)");
    }
    const std::string v = s.Scalar();
    out.push_back((v[0] == '/' || base.empty()) ? v : base + "/" + v);
  };
  if (n.IsSequence()) {
    if (n.size() == 0) m.fail_at(n, key, "empty list of files");
    for (size_t i = 0; i < n.size(); ++i) add(n[i]);
  } else {
    add(n);
  }
  return out;
}

}  // namespace

std::pair<std::string, std::string> split_tensor_source(const std::string& arg) {
  const std::string ext = ".safetensors:";
  const auto pos = arg.find(ext);
  if (pos == std::string::npos) return {arg, ""};
  return {arg.substr(0, pos + ext.size() - 1), arg.substr(pos + ext.size())};
}

TensorBindings TensorBindings::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the tensor bindings file");
  std::ostringstream ss;
  ss << in.rdbuf();
  const auto slash = path.find_last_of('/');
  return parse(ss.str(), path, slash == std::string::npos ? "." : path.substr(0, slash));
}

TensorBindings TensorBindings::parse(const std::string& text, const std::string& file,
                                     const std::string& base_dir) {
  const YAML::Node doc = yaml::parse(text, file);
  TensorBindings b;
  b.file_ = file;
  yaml::Map top(doc, file);
  const YAML::Node list = top.node("tensors");
  if (!list.IsDefined() || !list.IsSequence())
    top.fail("tensors", "expected a list of {gemm, x, w} entries");
  top.finish();
  for (size_t i = 0; i < list.size(); ++i) {
    yaml::Map e(list[i], top.source_ptr(), "tensors[" + std::to_string(i) + "]");
    TensorBinding tb;
    tb.gemm = e.get_string("gemm");
    tb.x = read_sources(e, "x", base_dir);
    tb.w = read_sources(e, "w", base_dir);
    tb.where = top.source().where(list[i]);
    e.finish();
    if (tb.x.empty() && tb.w.empty()) e.fail("gemm", "binds neither x nor w");
    b.entries_.push_back(tb);
  }
  return b;
}

std::vector<std::string> TensorBindings::sources(const GemmOp& op, char operand) const {
  for (const auto& e : entries_) {
    if (substitute(e.gemm, op) != op.name) continue;
    const auto& list = operand == 'x' ? e.x : e.w;
    if (list.empty()) continue;
    std::vector<std::string> out;
    for (const auto& s : list) out.push_back(substitute(s, op));
    return out;
  }
  return {};
}

void TensorBindings::check_matches(const std::vector<GemmOp>& ops) const {
  for (const auto& e : entries_) {
    const bool hit = std::any_of(ops.begin(), ops.end(), [&](const GemmOp& op) {
      return substitute(e.gemm, op) == op.name;
    });
    if (hit) continue;
    std::string names;
    int listed = 0;
    for (const GemmOp& op : ops) {
      if (op.layer > 0 || listed == 12) continue;
      names += (names.empty() ? "" : ", ") + op.name;
      ++listed;
    }
    throw Error(e.where + ": gemm '" + e.gemm + "' matches no GEMM of this workload, so its " +
                "tensors would never be used (GEMM names of layer 0: " + names +
                "; write {layer} for the layer number)");
  }
}

quant::Tensor TensorBindings::load(const GemmOp& op, char operand, int64_t rows,
                                   int64_t cols) const {
  const std::vector<std::string> srcs = sources(op, operand);
  if (srcs.empty()) throw Error("internal: no binding for " + op.name);
  std::vector<float> data;
  int64_t total_rows = 0;
  std::string shapes;
  for (const auto& src : srcs) {
    const auto [path, name] = split_tensor_source(src);
    const quant::Tensor t = quant::read_tensor_file(path, name);
    shapes += (shapes.empty() ? "" : " + ") + t.shape_string();
    if (t.rank() == 0 || t.cols() != cols) {
      throw Error(src + ": tensor " + t.shape_string() + " bound to " + op.name + " operand " +
                  operand + " must have " + std::to_string(cols) +
                  " columns (K, the last axis; the GEMM is " + std::to_string(op.m) + "x" +
                  std::to_string(op.n) + "x" + std::to_string(op.k) + ")");
    }
    const quant::NonFiniteCount nf = quant::count_nonfinite(t);
    if (nf.total() > 0) {
      throw Error(src + ": " + std::to_string(nf.total()) +
                  " NaN/Inf values (first at flat index " + std::to_string(nf.first) +
                  "); quantization error against FP32 is undefined");
    }
    data.insert(data.end(), t.data.begin(), t.data.end());
    total_rows += t.rows();
  }
  if (total_rows != rows) {
    throw Error(op.name + " operand " + std::string(1, operand) + ": the bound tensors " + shapes +
                " give " + std::to_string(total_rows) + " rows, the GEMM needs " +
                std::to_string(rows) + " (" + (operand == 'x' ? "M" : "N") + ")");
  }
  return quant::Tensor::matrix(rows, cols, std::move(data));
}

}  // namespace qarch::workloads
