#include "qarch/sim/cli.h"

#include <boost/program_options/errors.hpp>
#include <exception>
#include <iomanip>

#include "qarch/common/error.h"
#include "qarch/sim/commands.h"

namespace qarch::sim {
namespace {

struct Command {
  const char* name;
  CommandFn fn;
  const char* summary;
};

const Command kCommands[] = {
    {"demo", cmd_demo, "the built-in comparison of seven accelerators (writes reports/demo/)"},
    {"run", cmd_run, "one accelerator on one workload: latency, energy, area, accuracy"},
    {"compare", cmd_compare, "several accelerators on the same workload, one table and report"},
    {"sweep", cmd_sweep, "architecture parameters x workloads, shardable (--shard i/N)"},
    {"report", cmd_report, "merge sweep shards and reports; Pareto front; HTML page"},
    {"map", cmd_map, "the mapper's best loop nest for one GEMM, and its trade-offs"},
    {"quant", cmd_quant, "quantize a tensor in many formats and print error metrics"},
    {"formats", cmd_formats, "list every number format and its options"},
    {"trace", cmd_trace, "write a quantized layer trace of a transformer (or list its GEMMs)"},
    {"scalesim", cmd_scalesim,
     "SCALE-Sim's -c/-t/-p command line and report files, its numbers (or corrected)"},
    {"verify", cmd_verify,
     "an RTL unit (ours or a drop-in --rtl FILE) against quant on a trace's operands"},
    {"import-scalesim", cmd_import_scalesim,
     "turn a SCALE-Sim .cfg + topology .csv into an arch.yaml and a workload.yaml"},
};

void usage(std::ostream& os) {
  os << "qarch: co-design bench for accelerators running quantized LLMs\n\n"
        "usage: qarch <command> [options]      qarch <command> --help\n\ncommands:\n";
  for (const auto& c : kCommands)
    os << "  " << std::left << std::setw(17) << c.name << c.summary << "\n";
  os << "\nqarch --version prints the version.\n";
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args(argv, argv + argc);
  return run(args, out, err);
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() < 2) {  // no command: a usage error (scripts must not mistake it for success)
    err << "qarch: no command given\n\n";
    usage(err);
    return 2;
  }
  if (args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    usage(out);
    return 0;
  }
  if (args[1] == "--version") {
    out << "qarch " << QARCH_VERSION << "\n";
    return 0;
  }
  for (const auto& c : kCommands) {
    if (args[1] != c.name) continue;
    std::vector<std::string> tail(args.begin() + 1, args.end());
    tail[0] = std::string("qarch ") + c.name;
    try {
      return c.fn(tail, out, err);
    } catch (const qarch::Error& e) {
      err << "qarch " << c.name << ": error: " << e.what() << "\n";
      return 2;
    } catch (const boost::program_options::error& e) {
      // Boost's messages do not say which argument; name them all for the user.
      std::string given;
      for (size_t i = 2; i < args.size(); ++i) given += " " + args[i];
      err << "qarch " << c.name << ": error: " << e.what() << " (arguments:" << given
          << "; see qarch " << c.name << " --help)\n";
      return 2;
    } catch (const std::bad_alloc&) {
      err << "qarch " << c.name << ": error: out of memory\n";
      return 2;
    } catch (const std::exception& e) {
      err << "qarch " << c.name << ": internal error: " << e.what() << "\n";
      return 3;
    }
  }
  err << "qarch: unknown command '" << args[1] << "'\n\n";
  usage(err);
  return 2;
}

}  // namespace qarch::sim
