// `qarch trace`: expand a model + phase into its GEMMs, generate (or read) their operands,
// quantize them, and write a quantized layer trace (workloads/include/qarch/workloads/trace.h).
// `--list` prints the GEMM list instead, `--list-models` the zoo.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "qarch/workloads/model.h"
#include "qarch/workloads/trace_builder.h"
#include "run_common.h"

namespace po = boost::program_options;

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)
namespace {

std::string shape(const workloads::GemmOp& g) {
  std::ostringstream os;
  os << g.m << "x" << g.n << "x" << g.k;
  if (g.batch > 1) os << " x" << g.batch;
  return os.str();
}

std::string mib(uint64_t bytes) {
  return fixed(static_cast<double>(bytes) / (1 << 20), 1) + " MiB";
}

void print_list(std::ostream& out, const workloads::TraceBuilder& b) {
  const auto& w = b.workload();
  out << w.model << " " << workloads::phase_name(w.params.phase) << ": " << w.tokens << " tokens, "
      << w.kv_tokens << " keys per query\n\n"
      << std::left << std::setw(34) << "GEMM" << std::setw(26) << "M x N x K [x batch]"
      << std::setw(12) << "X" << std::setw(12) << "W" << std::right << std::setw(12) << "GFLOP"
      << "\n";
  int64_t flops = 0;
  for (size_t i : b.selected()) {
    const auto& g = w.gemms[i];
    flops += g.flops();
    out << std::left << std::setw(34) << g.name << std::setw(26) << shape(g) << std::setw(12)
        << workloads::source_name(g.x_source) << std::setw(12) << workloads::source_name(g.w_source)
        << std::right << std::setw(12) << fixed(g.flops() * 1e-9, 3) << "\n";
  }
  int64_t ew_bytes = 0;
  const auto ew = b.selected_elementwise();
  for (const auto& e : ew) ew_bytes += e.bytes_read + e.bytes_written;
  out << "\n"
      << b.selected().size() << " GEMMs, " << fixed(flops * 1e-9, 3) << " GFLOP selected ("
      << fixed(w.total_flops() * 1e-9, 3) << " in the whole pass); " << ew.size()
      << " element-wise ops moving " << mib(static_cast<uint64_t>(ew_bytes));
  if (w.params.phase == workloads::Phase::kDecode) {
    out << "; KV cache reads " << mib(static_cast<uint64_t>(w.kv_cache_read_bytes()));
  }
  out << "\n";
}

}  // namespace

int cmd_trace(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  (void)err;
  po::options_description desc(
      "qarch trace: write a quantized layer trace of a transformer's forward pass\n\n"
      "usage: qarch trace --model NAME|FILE.yaml --phase prefill|decode [--seq N | --ctx N]\n"
      "                   --format SPEC [--act-format SPEC] [--weight-format SPEC] --out DIR\n"
      "       qarch trace --model NAME ... --list       (print the GEMM list, write nothing)\n"
      "       qarch trace --list-models\n\n"
      "For every selected GEMM Y = X W^T the trace holds a JSON manifest (shape, batch, operand\n"
      "sources and formats, scale layout, statistics, quantization and layer-output error vs\n"
      "FP32) and the packed operands as the hardware stores them. Operands come from the\n"
      "calibrated outlier generator, or from .npy/.safetensors files named in --tensors.\n"
      "Attention GEMMs use the activation format for both operands; a weight-only --format\n"
      "(gobo) leaves activations in FP16.\n\noptions");
  std::string model_arg, phase = "prefill", format, act_format, weight_format, out_dir,
                         layers = "all", outliers, tensors, logits = "all", routing = "balanced";
  int64_t seq = 0, ctx = -1, batch = 1, sample = 0, weight_rows = 0, head = 0, error_rows = 32,
          error_cols = 256, elem_bytes = 2, search_elements = int64_t{1} << 20;
  uint64_t seed = 1;
  int threads = 1;
  bool shape_only = false, exact_hw = false, no_stats = false, list = false, list_models = false,
       force = false;
  desc.add_options()("help,h", "print this help")(
      "model,m", po::value(&model_arg), "zoo model name (see --list-models) or a model YAML file")(
      "phase,p", po::value(&phase)->default_value(phase), "prefill or decode")(
      "seq,s", po::value(&seq),
      "prefill: tokens per sequence (default 2048, capped at the "
      "model's max_positions)")("ctx", po::value(&ctx),
                                "decode: tokens already in the KV cache (default 2047)")(
      "batch,b", po::value(&batch)->default_value(batch), "sequences")(
      "format,f", po::value(&format), "format spec for both operands (see `qarch formats`)")(
      "act-format", po::value(&act_format), "format of activations (overrides --format)")(
      "weight-format", po::value(&weight_format), "format of weights (overrides --format)")(
      "out,o", po::value(&out_dir), "output directory of the trace")(
      "layers,l", po::value(&layers)->default_value(layers),
      "layers to trace: all, or a list like 0,2-5,head (head = LM head)")(
      "sample", po::value(&sample)->default_value(sample),
      "activation rows (tokens) stored and quantized per operand, evenly spaced, the first "
      "token always included (0 = all)")(
      "weight-rows", po::value(&weight_rows)->default_value(weight_rows),
      "weight rows (output channels) stored per weight, evenly spaced (0 = all)")(
      "shape-only", po::bool_switch(&shape_only),
      "no values: shapes, formats and bits per element only (for timing-only runs)")(
      "head", po::value(&head)->default_value(head),
      "attention head whose Q/K/P/V instance is stored (sequence 0)")(
      "error-rows", po::value(&error_rows)->default_value(error_rows),
      "rows of Y for the layer-output error (0 = skip it)")(
      "error-cols", po::value(&error_cols)->default_value(error_cols),
      "columns of Y for the layer-output error")(
      "exact-hw", po::bool_switch(&exact_hw),
      "layer-output error with the hardware's arithmetic (reference_dot) instead of a double "
      "GEMM of the dequantized operands")("no-stats", po::bool_switch(&no_stats),
                                          "skip the operand statistics")(
      "scale-search-elements", po::value(&search_elements)->default_value(search_elements),
      "OliVe per-tensor scale search on a row sample of about this many elements (0 = the "
      "whole operand)")("seed", po::value(&seed)->default_value(seed),
                        "seed of the generated tensors")(
      "outliers", po::value(&outliers),
      "outlier profile: a built-in one (default, outlier-free) or a YAML file applied on top "
      "of the model's")(
      "tensors", po::value(&tensors),
      "YAML file binding GEMM operands to .npy/.safetensors files (workloads/README.md)")(
      "logits", po::value(&logits)->default_value(logits),
      "prefill LM head over all tokens or only the last of each sequence: all|last")(
      "routing", po::value(&routing)->default_value(routing), "MoE token routing: balanced|random")(
      "elem-bytes", po::value(&elem_bytes)->default_value(elem_bytes),
      "bytes per activation value in element-wise traffic")(
      "threads", po::value(&threads)->default_value(threads), "GEMMs built concurrently")(
      "list", po::bool_switch(&list), "print the GEMM list and exit")(
      "list-models", po::bool_switch(&list_models), "print the model zoo and exit")(
      "force", po::bool_switch(&force),
      "replace a trace already in --out (it is swapped out only when the new one is complete)");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;

  if (list_models) {
    for (const auto& n : workloads::zoo_models()) {
      const workloads::ModelConfig m = workloads::load_model(n);
      out << std::left << std::setw(14) << n << " layers " << std::setw(3) << m.layers << " hidden "
          << std::setw(5) << m.hidden << " heads " << std::setw(3) << m.heads << "/" << std::setw(3)
          << m.kv_heads << " ffn " << std::setw(6) << m.intermediate
          << (m.moe.enabled() ? " MoE " + std::to_string(m.moe.num_experts) + "x top-" +
                                    std::to_string(m.moe.top_k) + " "
                              : " ")
          << m.source << "\n";
    }
    return 0;
  }
  if (model_arg.empty()) throw Error("--model is required (see --list-models)");
  workloads::ModelConfig model = workloads::load_model(model_arg);
  workloads::WorkloadParams params;
  params.phase = workloads::parse_phase(phase);
  params.batch = batch;
  if (params.phase == workloads::Phase::kPrefill) {
    if (vm.count("ctx")) throw Error("--ctx is for --phase decode; prefill takes --seq");
    params.seq = vm.count("seq") ? seq : std::min<int64_t>(2048, model.max_positions);
  } else {
    if (vm.count("seq")) throw Error("--seq is for --phase prefill; decode takes --ctx");
    params.context = vm.count("ctx") ? ctx : std::min<int64_t>(2048, model.max_positions) - 1;
  }
  if (logits != "all" && logits != "last") throw Error("--logits: all or last");
  params.all_logits = logits == "all";
  if (routing != "balanced" && routing != "random") throw Error("--routing: balanced or random");
  params.routing =
      routing == "random" ? workloads::Routing::kRandom : workloads::Routing::kBalanced;
  params.routing_seed = seed;
  params.elem_bytes = elem_bytes;
  if (threads < 1 || threads > 256) throw Error("--threads: 1..256");

  workloads::TraceOptions o;
  if (!list) {
    const workloads::FormatChoice fc =
        workloads::resolve_formats(format, act_format, weight_format);
    o.act_format = fc.act;
    o.weight_format = fc.weight;
  }
  o.layers = layers;
  o.sample_rows = sample;
  o.weight_rows = weight_rows;
  o.shape_only = shape_only;
  o.error_rows = error_rows;
  o.error_cols = error_cols;
  o.exact_hw = exact_hw;
  o.stats = !no_stats;
  o.attention_head = head;
  o.scale_search_elements = search_elements;
  o.seed = seed;
  o.tool = std::string("qarch ") + QARCH_VERSION;
  if (!outliers.empty()) {
    model.outliers = workloads::load_outlier_profile(outliers, model.outliers);
    o.outlier_profile = outliers;
  }
  if (!tensors.empty()) {
    o.bindings =
        std::make_shared<workloads::TensorBindings>(workloads::TensorBindings::load(tensors));
  }
  const workloads::TraceBuilder builder(model, params, o);
  if (list) {
    print_list(out, builder);
    return 0;
  }
  if (out_dir.empty()) throw Error("--out DIR is required (or --list to print the GEMMs)");

  out << "qarch trace: " << model.name << " " << phase << ", " << builder.workload().tokens
      << " tokens; activations " << o.act_format << ", weights " << o.weight_format << "\n"
      << std::left << std::setw(34) << "GEMM" << std::setw(26) << "M x N x K [x batch]"
      << std::right << std::setw(9) << "X bits" << std::setw(9) << "W bits" << std::setw(11)
      << "X QSNR" << std::setw(11) << "W QSNR" << std::setw(11) << "Y QSNR"
      << "\n";
  const auto summary = workloads::write_trace(
      builder, out_dir, threads,
      [&](const workloads::TraceGemm& g) {
        out << std::left << std::setw(34) << g.op.name << std::setw(26) << shape(g.op) << std::right
            << std::setw(9) << fixed(g.x.bits_per_element, 3) << std::setw(9)
            << fixed(g.w.bits_per_element, 3);
        if (g.x.has_values) {
          out << std::setw(11) << fixed(g.x.quant_error.qsnr_db, 2) << std::setw(11)
              << fixed(g.w.quant_error.qsnr_db, 2) << std::setw(11)
              << (g.has_output_error ? fixed(g.output_error.qsnr_db, 2) : "-");
        }
        out << "\n";
      },
      force);
  out << "\nwrote " << summary.gemms << " GEMMs, " << mib(summary.bytes) << " to " << out_dir
      << " in " << fixed(summary.seconds, 2) << " s\n";
  return 0;
}

}  // namespace qarch::sim
