// `qarch quant`: quantize one tensor (a file's, or the built-in demo's) in a list of formats
// and report the error of each against FP32; with a weight tensor also the error of the layer
// output Y = X W^T with both operands quantized.
#include <unistd.h>
#include <iostream>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"
#include "qarch/quant/tensor_io.h"
#include "qarch/quant/transforms.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "qarch/sim/demo_tensors.h"
#include "qarch/sim/tensor_source.h"
#include "run_common.h"

namespace po = boost::program_options;

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::stringstream ss(s);
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    out.push_back(item.substr(b, item.find_last_not_of(" \t") - b + 1));
  }
  return out;
}

// JSON has no Inf: an exact quantization reports qsnr_db = null.
// JSON has no infinity or NaN: such a value is written as the string "inf", "-inf" or "nan"
// (an exact result has QSNR "inf"), never as null, which would read as a missing value.
nlohmann::json num(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
}

nlohmann::json metrics_json(const quant::ErrorMetrics& m) {
  return {{"mse", num(m.mse)},
          {"qsnr_db", num(m.qsnr_db)},
          {"max_abs_err", num(m.max_abs_err)},
          {"cosine", num(m.cosine)},
          {"rel_fro", num(m.rel_fro)}};
}

nlohmann::json stats_json(const quant::TensorStats& s) {
  return {{"rows", s.rows},
          {"cols", s.cols},
          {"mean", num(s.mean)},
          {"stddev", num(s.stddev)},
          {"excess_kurtosis", num(s.excess_kurtosis)},
          {"abs_max", num(s.abs_max)},
          {"abs_median", num(s.abs_median)},
          {"max_over_median_channel", num(s.max_over_median_channel)},
          {"outlier_fraction", num(s.outlier_fraction)},
          {"outlier_sigma", s.outlier_sigma},
          {"outlier_channels", s.outlier_channels}};
}

std::string sci(double v) {
  std::ostringstream os;
  os << std::scientific << std::setprecision(3) << v;
  return os.str();
}

void print_stats(std::ostream& out, const std::string& what, const quant::TensorStats& s) {
  out << what << ": [" << s.rows << ", " << s.cols << "]  kurtosis " << fixed(s.excess_kurtosis, 1)
      << "  |x|max " << sci(s.abs_max) << "  max/median channel "
      << fixed(s.max_over_median_channel, 1) << "  outliers(>" << s.outlier_sigma << " sigma) "
      << fixed(100.0 * s.outlier_fraction, 3) << "%";
  if (!s.outlier_channels.empty()) {
    out << "  channels";
    for (size_t i = 0; i < s.outlier_channels.size() && i < 8; ++i)
      out << " " << s.outlier_channels[i];
    if (s.outlier_channels.size() > 8) out << " ...";
  }
  out << "\n";
}

// --codes-out: the EncodedTensor's four buffers as .npy and a JSON that says what they hold.
void write_codes(const std::string& stem, const quant::Format& f, const quant::EncodedTensor& e) {
  const quant::FormatTraits t = f.traits();
  auto npy = [&](const char* what, const char* descr, const void* data, size_t count, size_t size) {
    quant::write_npy_raw(stem + "." + what + ".npy", descr, {static_cast<int64_t>(count)}, data,
                         count * size);
  };
  npy("elements", "|u1", e.elements.data(), e.elements.size(), 1);
  npy("scales", "|u1", e.scales.data(), e.scales.size(), 1);
  npy("fp32", "<f4", e.fp32.data(), e.fp32.size(), 4);
  npy("indices", "<u4", e.indices.data(), e.indices.size(), 4);
  const nlohmann::json j{
      {"format", e.format},
      {"rows", e.rows},
      {"cols", e.cols},
      {"element", t.element},
      {"element_bits", t.element_bits},
      {"storage_bits", e.storage_bits()},
      {"layout",
       "elements: element codes packed LSB-first per row, each row starting on a byte boundary "
       "(4-bit codes: element 2k in the low nibble); scales, fp32, indices: the format's scale "
       "codes, FP32 side values and outlier positions, as its source file's header documents "
       "(quant/src/)"}};
  write_file_atomic(stem + ".json", j.dump(1) + "\n");
}

}  // namespace

int cmd_quant(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  (void)err;
  po::options_description desc(
      "qarch quant: quantize a tensor in several formats and report the error against FP32\n\n"
      "usage: qarch quant [--input T.npy | T.safetensors[:name]] [--weight W...] [--formats "
      "LIST]\n\n"
      "With no --input, a built-in demo tensor with LLM-like outliers is used (and a demo weight\n"
      "for the layer-output error). The tensor's last axis is the reduction axis along which\n"
      "blocks and pairs run; --axis picks another one.\n\noptions");
  std::string input, weight, formats = "all", transform, dequant_out, codes_out;
  int axis = -1;
  int64_t sample_rows = 256;
  uint64_t seed = 1;
  bool json = false, bf16 = false;
  desc.add_options()("help,h", "print this help")(
      "input,i", po::value(&input), "tensor file: .npy, or .safetensors[:tensor-name]")(
      "weight,w", po::value(&weight),
      "weight tensor [N, K] for the layer-output error of Y = X W^T (same file syntax)")(
      "formats,f", po::value(&formats)->default_value(formats),
      "comma-separated format specs (name[:key=value...]) or 'all'; see `qarch formats`")(
      "axis", po::value(&axis)->default_value(axis),
      "reduction axis of the input (negative counts from the end)")(
      "transform,t", po::value(&transform),
      "outlier transforms applied to (X, W) before quantizing, e.g. "
      "'smooth:alpha=0.5,hadamard' (needs a weight; metrics are then of the transformed X)")(
      "sample-rows", po::value(&sample_rows)->default_value(sample_rows),
      "rows of X used for the layer-output error (0 = all)")(
      "int16-as-bf16", po::bool_switch(&bf16),
      "read 16-bit integer .npy data as bfloat16 bit patterns (torch bf16 dumps)")(
      "seed", po::value(&seed)->default_value(seed), "seed of the demo tensors")(
      "json", po::bool_switch(&json), "print JSON instead of a table")(
      "codes-out", po::value(&codes_out),
      "write each format's stored form to DIR/<format>.{elements,scales,fp32,indices}.npy and "
      "DIR/<format>.json (packed codes as the hardware holds them; the JSON says the layout)")(
      "dequant-out", po::value(&dequant_out),
      "write each format's dequantized tensor to DIR/<format>.npy, float32, in the input's shape "
      "and axis order (for accuracy runs in PyTorch: torch.from_numpy(np.load(...)))");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  if (sample_rows < 0) throw Error("--sample-rows: must be >= 0");

  TensorReadOptions ropt;
  ropt.int16_as_bf16 = bf16;
  quant::Tensor x, w;
  std::vector<int64_t> input_shape;  // before --axis moved the reduction axis last
  std::string x_name, w_name;
  if (input.empty()) {
    if (!weight.empty()) throw Error("--weight needs --input (the demo has its own weight)");
    x = demo_activations(256, 1024, seed);
    w = demo_weights(512, 1024, seed);
    x_name = "demo activations";
    w_name = "demo weights";
  } else {
    const quant::Tensor loaded = load_tensor(input, ropt);
    input_shape = loaded.shape;
    x = move_axis_last(loaded, axis, "--axis");
    x_name = input;
    if (!weight.empty()) {
      w = load_tensor(weight, ropt);
      w_name = weight;
    }
  }
  for (const auto* t : {&x, &w}) {
    const quant::NonFiniteCount nf = quant::count_nonfinite(*t);
    if (nf.total()) {
      throw Error((t == &x ? x_name : w_name) + ": " + std::to_string(nf.nan) + " NaN and " +
                  std::to_string(nf.pos_inf + nf.neg_inf) + " Inf values (first at flat index " +
                  std::to_string(nf.first) + "); the error against FP32 is undefined for them");
    }
  }
  for (const auto* t : {&x, &w}) {
    if (t == &w && w_name.empty()) continue;
    if (t->data.empty()) {
      throw Error((t == &x ? x_name : w_name) + ": tensor " + t->shape_string() +
                  " has no elements; there is nothing to quantize (a QSNR would be meaningless)");
    }
  }
  if (!w.data.empty() && w.cols() != x.cols()) {
    throw Error(w_name + ": weight has K = " + std::to_string(w.cols()) +
                " but the input has K = " + std::to_string(x.cols()) + " (weights are [N, K])");
  }

  const quant::TransformPipeline pipeline =
      transform.empty() ? quant::TransformPipeline() : quant::TransformPipeline::parse(transform);
  if (!pipeline.empty()) {
    if (w.data.empty()) throw Error("--transform needs a weight tensor (--weight)");
    quant::TransformedPair tp = pipeline.run(x, w);
    x = std::move(tp.x);
    w = std::move(tp.w);
    x_name += " (transformed)";
    w_name += " (transformed)";
  }

  std::vector<std::string> specs;
  if (formats == "all") {
    for (const auto& f : quant::list_formats()) specs.push_back(f.name);
  } else {
    specs = split_list(formats);
  }
  if (specs.empty()) throw Error("--formats: no format given");
  std::vector<std::unique_ptr<quant::Format>> fmts;
  std::vector<std::string> file_stems;  // --dequant-out: the spec as the user wrote it
  std::set<std::string> seen;           // aliases (bfp12 = bfp:p=4) are measured once
  for (const auto& s : specs) {
    auto f = quant::make_format(s);  // all specs are checked before any work starts
    if (seen.insert(f->name()).second) {
      fmts.push_back(std::move(f));
      std::string stem = s;
      for (char& ch : stem)
        if (ch == '/' || ch == ':' || ch == ' ' || ch == '\\') ch = '_';
      file_stems.push_back(stem);
    }
  }
  if (!codes_out.empty()) {
    if (input.empty()) throw Error("--codes-out needs --input (the demo tensor is built in)");
    make_directories(codes_out, "the --codes-out directory");
  }
  if (!dequant_out.empty()) {
    if (!pipeline.empty()) {
      throw Error(
          "--dequant-out with --transform: the dequantized tensors would be in the "
          "transformed (smoothed/rotated) space, not the input's; drop one of them");
    }
    if (input.empty()) throw Error("--dequant-out needs --input (the demo tensor is built in)");
    make_directories(dequant_out, "the --dequant-out directory");
  }

  const quant::TensorStats xs = quant::tensor_stats(x);
  nlohmann::json result = {{"input", {{"name", x_name}, {"stats", stats_json(xs)}}},
                           {"transform", pipeline.str()}};
  if (!w.data.empty()) {
    result["weight"] = {{"name", w_name}, {"stats", stats_json(quant::tensor_stats(w))}};
  }
  size_t name_w = 8;
  for (const auto& f : fmts) name_w = std::max(name_w, f->name().size() + 2);
  const int nw = static_cast<int>(name_w);
  if (!json) {
    if (!pipeline.empty()) out << "transform: " << pipeline.str() << "\n";
    print_stats(out, x_name, xs);
    if (!w.data.empty()) print_stats(out, w_name, quant::tensor_stats(w));
    out << "\n"
        << std::left << std::setw(nw) << "format" << std::right << std::setw(8) << "bits/el"
        << std::setw(10) << "QSNR dB" << std::setw(12) << "MSE" << std::setw(12) << "max|err|"
        << std::setw(10) << "cosine";
    if (!w.data.empty()) out << std::setw(12) << "Y QSNR dB";
    out << "\n";
  }
  nlohmann::json rows = nlohmann::json::array();
  // On a terminal, stderr shows which format is being measured (a search-based format on a big
  // tensor takes seconds); each finished row is flushed at once.
  const bool progress = &err == &std::cerr && ::isatty(2);
  size_t done = 0;
  for (size_t fi = 0; fi < fmts.size(); ++fi) {
    const auto& f = fmts[fi];
    if (progress)
      err << "\r[" << ++done << "/" << fmts.size() << "] " << f->name() << " ..." << std::flush;
    const quant::EncodedTensor e = f->encode(x);
    const quant::Tensor q = f->decode(e);
    if (!codes_out.empty()) write_codes(codes_out + "/" + file_stems[fi], *f, e);
    if (!dequant_out.empty()) {
      // q is the 2-D view of x's data (reduction axis last): back to the input's layout.
      quant::write_npy(dequant_out + "/" + file_stems[fi] + ".npy",
                       move_last_axis_back(q, input_shape, axis));
    }
    const quant::ErrorMetrics m = quant::compare(x, q);
    nlohmann::json row = {{"format", f->name()}, {"bits_per_element", e.bits_per_element()}};
    row.update(metrics_json(m));
    quant::ErrorMetrics ym;
    if (!w.data.empty()) {
      ym = quant::layer_output_error(x, *f, w, *f, false, sample_rows);
      row["layer_output"] = metrics_json(ym);
    }
    if (progress) err << "\r\033[K" << std::flush;  // clear the progress line
    rows.push_back(row);
    if (!json) {
      out << std::left << std::setw(nw) << f->name() << std::right << std::setw(8)
          << fixed(e.bits_per_element(), 3) << std::setw(10) << fixed(m.qsnr_db, 2) << std::setw(12)
          << sci(m.mse) << std::setw(12) << sci(m.max_abs_err) << std::setw(10)
          << fixed(m.cosine, 5);
      if (!w.data.empty()) out << std::setw(12) << fixed(ym.qsnr_db, 2);
      out << "\n" << std::flush;
    }
  }
  result["formats"] = rows;
  if (json) out << result.dump(2) << "\n";
  return 0;
}

int cmd_formats(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  (void)err;
  po::options_description desc(
      "qarch formats: list every number format, its options and source\n\noptions");
  bool json = false;
  desc.add_options()("help,h", "print this help")("json", po::bool_switch(&json), "print JSON");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  const auto all = quant::list_formats();
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& f : all) {
      j.push_back({{"name", f.name},
                   {"options", f.options},
                   {"description", f.description},
                   {"canonical", quant::make_format(f.name)->name()}});
    }
    out << j.dump(2) << "\n";
    return 0;
  }
  int width = 12;  // the longest name plus two spaces, so names never run into the text
  for (const auto& f : all) width = std::max(width, static_cast<int>(f.name.size()) + 2);
  out << "Format specs are name[:key=value...], e.g. mxfp4:block=16:round=away.\n"
      << "Every format also takes keep=N (a count) or keep=<share below 1>: the N largest |x|\n"
      << "are kept in FP16 beside the quantized tensor (super weights, massive activations).\n\n";
  for (const auto& f : all) {
    out << std::left << std::setw(width) << f.name << f.description << "\n"
        << std::setw(width) << ""
        << "options: " << (f.options.empty() ? "(none)" : f.options) << "\n";
  }
  return 0;
}

}  // namespace qarch::sim
