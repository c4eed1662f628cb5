// `qarch import-scalesim`: a SCALE-Sim experiment (.cfg + topology .csv) -> a qarch
// architecture (DIR/arch.yaml, arch_config.h) and GEMM list (DIR/workload.yaml, gemm_list.h).
// The mapping is in scalesim.h and in the --help text below; the arch file repeats it in its
// header comment so the file explains itself.
#include <boost/program_options.hpp>
#include <filesystem>
#include <sstream>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/explore/arch_config.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "qarch/sim/scalesim.h"

namespace po = boost::program_options;

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)

int cmd_import_scalesim(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  po::options_description desc(
      "qarch import-scalesim: turn a SCALE-Sim (v2) experiment into a qarch architecture and "
      "GEMM list\n\n"
      "usage: qarch import-scalesim --cfg X.cfg --topology Y.csv --out DIR [--format SPEC]\n"
      "                             [--name N] [--topology-type auto|conv|gemm] [--real-memory]\n\n"
      "Writes DIR/arch.yaml and DIR/workload.yaml; run them with\n"
      "  qarch run --arch DIR/arch.yaml --workload DIR/workload.yaml\n\n"
      "Mapping (SCALE-Sim -> qarch):\n"
      "  ArrayHeight x ArrayWidth     array.rows x array.cols\n"
      "  Dataflow os|ws|is            array.dataflow\n"
      "  Ifmap/Filter/OfmapSramSzkB   buffers.input/weight/output.size_kib (1-byte words),\n"
      "                               double-buffered\n"
      "  Bandwidth (USER mode)        dram.bandwidth_bytes_per_cycle (sum over banks)\n"
      "  1-byte words                 formats int8/int8 on the int8 PE (--format changes it;\n"
      "                               the first PE type accepting the formats is chosen)\n"
      "  compute-only cycle counts    dram.ideal and buffers.*.ideal = true, decoder latency 0:\n"
      "                               each GEMM then takes the analytical runtime of SCALE-Sim's\n"
      "                               paper (Samajdar et al., ISPASS 2020), ceil(S_R/R) *\n"
      "                               ceil(S_C/C) * (2R + C + T - 2) cycles. --real-memory\n"
      "                               simulates the buffers and DRAM instead (qarch's own model).\n"
      "  SCALE-Sim v2's reported totals differ: OS folds * (R + C + T - 2) - 1 (its output drain\n"
      "  overlaps the next fold), WS/IS folds * (2R + C + T - 2) - 1 (\"Total Cycles\" is the\n"
      "  index of the last cycle), plus memory stalls. For SCALE-Sim's own numbers and report\n"
      "  files use `qarch scalesim -c X.cfg -t Y.csv -p DIR`.\n"
      "  conv layer                   GEMM M = ofmap_h * ofmap_w, N = Num Filter,\n"
      "                               K = Filter Height * Filter Width * Channels, with\n"
      "                               ofmap = ceil((ifmap - filter) / stride) + 1 (SCALE-Sim\n"
      "                               rounds a partial last window up);\n"
      "                               a depthwise layer (\"DP\" in its name) is Channels\n"
      "                               instances of the 1-channel GEMM (batch)\n"
      "  GEMM layer (Layer, M, N, K)  the same M, N, K\n"
      "  clock                        1 GHz (SCALE-Sim counts cycles only)\n"
      "Config keys that do not change SCALE-Sim's compute cycles (offsets, layouts, sparsity,\n"
      "...) are listed as ignored.\n\noptions");
  std::string cfg, topology, out_dir, format = "int8", name, type = "auto";
  bool real_memory = false;
  desc.add_options()("help,h", "print this help")("cfg", po::value(&cfg),
                                                  "SCALE-Sim config (.cfg)")(
      "topology", po::value(&topology), "SCALE-Sim topology (.csv)")("out,o", po::value(&out_dir),
                                                                     "output directory")(
      "format,f", po::value(&format)->default_value(format),
      "operand format spec (see `qarch formats`)")(
      "name", po::value(&name), "architecture name (default: the config's run_name)")(
      "topology-type", po::value(&type)->default_value(type),
      "auto (GEMM if the header names M, N, K), conv or gemm (SCALE-Sim's -i)")(
      "real-memory", po::bool_switch(&real_memory),
      "simulate buffers and DRAM instead of SCALE-Sim's compute-only view");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  (void)err;
  if (cfg.empty()) throw Error("--cfg: missing (the SCALE-Sim config file)");
  if (topology.empty()) throw Error("--topology: missing (the SCALE-Sim topology CSV)");
  if (out_dir.empty()) throw Error("--out: missing (the output directory)");
  TopologyKind kind = TopologyKind::kAuto;
  if (type == "conv") {
    kind = TopologyKind::kConv;
  } else if (type == "gemm") {
    kind = TopologyKind::kGemm;
  } else if (type != "auto") {
    throw Error("--topology-type: expected auto, conv or gemm, got '" + type + "'");
  }

  const ScaleSimConfig c = load_scalesim_config(cfg);
  const ScaleSimTopology t = load_scalesim_topology(topology, kind);
  const ArchSpec a = scalesim_arch(c, format, name, real_memory);
  const std::string topo_stem = std::filesystem::path(topology).stem().string();
  const workloads::GemmList l = scalesim_gemms(t, topo_stem.empty() ? "scalesim" : topo_stem);

  std::ostringstream arch;
  arch << "# Imported by `qarch import-scalesim` from the SCALE-Sim config " << cfg << "\n"
       << "# (run_name " << c.run_name << "). Array, dataflow and SRAM sizes are SCALE-Sim's "
       << "(its words are\n# one byte, hence int8 unless --format chose otherwise).\n";
  if (!real_memory) {
    arch << "# DRAM and buffers are idealized and the decoder latency is 0, so every GEMM takes\n"
            "# the analytical runtime of SCALE-Sim's paper, ceil(S_R/R) * ceil(S_C/C) *\n"
            "# (2R + C + T - 2) cycles. SCALE-Sim v2 itself reports one cycle less, and for OS\n"
            "# R cycles less per fold (`qarch scalesim` reproduces its reports). Set dram.ideal\n"
            "# and buffers.*.ideal to false to simulate the memory system.\n";
  }
  arch << arch_yaml(a);
  // The files must read back as written (and name the same formats).
  (void)parse_arch(arch.str(), "arch.yaml");
  const std::string workload = gemm_list_yaml(l);
  (void)workloads::parse_gemm_list(workload, "workload.yaml");

  make_directories(out_dir, "the output directory");
  const std::string arch_path = (std::filesystem::path(out_dir) / "arch.yaml").string();
  const std::string work_path = (std::filesystem::path(out_dir) / "workload.yaml").string();
  write_file_atomic(arch_path, arch.str());
  write_file_atomic(work_path, workload);

  out << "read " << cfg << ": " << c.array_height << " x " << c.array_width << " array, "
      << models::dataflow_name(c.dataflow) << ", SRAM " << c.ifmap_sram_kb << "/"
      << c.filter_sram_kb << "/" << c.ofmap_sram_kb << " kB\n";
  for (const auto& i : c.ignored) out << "  ignored (no effect on compute cycles): " << i << "\n";
  out << "read " << topology << ": " << t.layers.size() << " "
      << (t.kind == TopologyKind::kGemm ? "GEMM" : "convolution") << " layers\n"
      << "wrote " << arch_path << " (PE " << a.arch.array.pe << ", memory "
      << (real_memory ? "simulated" : "idealized") << ")\n"
      << "wrote " << work_path << " (" << l.gemms.size() << " GEMMs)\n"
      << "run it with:\n  qarch run --arch " << arch_path << " --workload " << work_path << "\n";
  return 0;
}

}  // namespace qarch::sim
