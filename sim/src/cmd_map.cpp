// qarch map: the mapper's answer for one GEMM on one architecture, with its runners-up, the
// traffic bounds, the simulated result of the chosen loop nest and the latency-vs-traffic
// trade-off (the Pareto front of the whole mapspace).
#include <algorithm>
#include <boost/program_options.hpp>
#include <iomanip>
#include <ostream>

#include "qarch/common/error.h"
#include "qarch/explore/explore.h"
#include "qarch/models/mapper.h"
#include "qarch/models/simulator.h"
#include "qarch/reports/tech.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "run_common.h"

namespace qarch::sim {
using namespace explore;  // NOLINT: the pipeline the command line drives (explore/)

namespace po = boost::program_options;

namespace {

std::string mib(double bytes) {
  return fixed(bytes / (1024.0 * 1024.0), 2) + " MiB";
}

}  // namespace

int cmd_map(const std::vector<std::string>& args, std::ostream& out, std::ostream& /*err*/) {
  po::options_description desc(
      "qarch map: the best loop nest of one GEMM Y[M,N] = X[M,K] W[N,K]^T on one architecture\n\n"
      "usage: qarch map --arch ARCH --m M --n N --k K [--batch B] [--objective edp]\n\n"
      "Prints the mapping the mapper chose (dataflow, tile sizes, loop order, which operand\n"
      "blocks stay in the buffers), its DRAM bytes by operand against the compulsory traffic and\n"
      "a communication lower bound, the simulated cycles and bytes of that loop nest, the\n"
      "runners-up, and the latency-vs-traffic trade-off over the whole mapspace.\n\noptions");
  std::string arch_arg, objective, xf, wf, tech, node;
  int64_t m = -1, n = -1, k = -1, batch = 1;
  size_t front_rows = 12;
  desc.add_options()("help,h", "print this help")("arch,a", po::value(&arch_arg),
                                                  "architecture YAML file or built-in name")(
      "m", po::value(&m), "rows of X and Y (tokens)")(
      "n", po::value(&n), "rows of W, columns of Y")("k", po::value(&k), "reduction length")(
      "batch,b", po::value(&batch)->default_value(1), "independent instances (heads x sequences)")(
      "objective", po::value(&objective),
      "latency, energy or edp (default: the architecture's mapper.objective)")(
      "x-format", po::value(&xf), "activation format (default: the architecture's)")(
      "w-format", po::value(&wf), "weight format (default: the architecture's)")(
      "tech", po::value(&tech), "technology table YAML")("node", po::value(&node),
                                                         "process node, e.g. 22nm")(
      "front", po::value(&front_rows)->default_value(front_rows),
      "rows of the latency-vs-traffic front to print (0: none)");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  if (arch_arg.empty()) throw Error("--arch is required (a YAML file or one of the built-ins)");
  for (const auto& [name, v] :
       {std::pair<const char*, int64_t>{"--m", m}, {"--n", n}, {"--k", k}}) {
    if (v < 1) throw Error(std::string(name) + " is required and must be >= 1");
    if (v > (int64_t{1} << 24))
      throw Error(std::string(name) + ": " + std::to_string(v) + " is larger than 2^24");
  }
  if (batch < 1 || batch > (int64_t{1} << 20))
    throw Error("--batch: must be in [1, 2^20], got " + std::to_string(batch));
  ArchSpec arch = resolve_arch(arch_arg);
  if (!tech.empty()) arch.tech_table = tech;
  if (!node.empty()) arch.tech_node = node;
  if (!objective.empty()) arch.arch.objective = models::parse_objective(objective, "--objective");
  models::GemmJob job;
  job.name = "gemm";
  job.m = m, job.n = n, job.k = k, job.batch = batch;
  job.x_format = xf.empty() ? arch.act_format : xf;
  job.w_format = wf.empty() ? arch.weight_format : wf;
  const reports::Technology t = reports::load_technology(arch.tech_table, arch.tech_node);
  models::MapperOptions mo;
  mo.objective = arch.arch.objective;
  mo.costs = reports::mapper_costs(arch.arch, job.x_format, job.w_format, t);
  const models::MapResult r = models::map_gemm(arch.arch, job, mo);
  models::SimOptions so;
  so.functional = false;
  so.costs = mo.costs;
  const models::SimResult sim = models::simulate(arch.arch, {job}, so);
  const models::JobStats& js = sim.stats.jobs.front();

  const double clock = arch.arch.clock_ghz;
  out << arch.arch.name << ": " << m << " x " << n << " x " << k
      << (batch > 1 ? " (batch " + std::to_string(batch) + ")" : "") << ", " << job.x_format
      << " x " << job.w_format << ", objective " << models::objective_name(r.objective) << "\n\n";
  out << "mapping  " << r.best.mapping.key() << "\n" << js.loop_nest << "\n";
  const uint64_t sim_bytes = sim.stats.dram.read_bytes + sim.stats.dram.write_bytes;
  out << "DRAM     X " << mib(double(js.dram_x_bytes)) << ", W " << mib(double(js.dram_w_bytes))
      << ", Y " << mib(double(js.dram_y_bytes))
      << (js.psum_bytes ? " (partial sums " + mib(double(js.psum_bytes)) + ")" : "") << "; total "
      << mib(double(sim_bytes)) << " = "
      << fixed(double(sim_bytes) / double(std::max<uint64_t>(1, r.compulsory_total())), 3)
      << " x compulsory (" << mib(double(r.compulsory_total())) << "), lower bound "
      << mib(double(r.traffic_lower_bound)) << "\n";
  out << "time     " << sim.stats.cycles << " cycles simulated ("
      << human_seconds(double(sim.stats.cycles) / (clock * 1e9)) << "), estimate "
      << fixed(r.best.cost.cycles, 0) << "; utilization " << fixed(sim.stats.array.utilization, 3)
      << "\nenergy   " << fixed(r.best.cost.energy_pj / 1e6, 3)
      << " uJ estimated (mapping-dependent part: DRAM, SRAM, registers, decoders, leakage)\n";
  out << "searched " << r.tile_triples << " tile triples, " << r.mappings_evaluated
      << " mappings costed\n";
  if (!r.runners_up.empty()) {
    out << "\nrunners-up\n";
    for (const models::MappedGemm& g : r.runners_up) {
      out << "  " << std::left << std::setw(40) << g.mapping.key() << std::right << " cycles "
          << fixed(g.cost.cycles, 0) << "  DRAM " << mib(double(g.cost.dram_total())) << "  energy "
          << fixed(g.cost.energy_pj / 1e6, 3) << " uJ\n";
    }
  }
  if (front_rows > 0) {
    // Pareto front of (estimated cycles, DRAM bytes) over the whole mapspace.
    std::vector<models::MappedGemm> all = models::enumerate_mappings(arch.arch, job, mo);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      if (a.cost.cycles != b.cost.cycles) return a.cost.cycles < b.cost.cycles;
      if (a.cost.dram_total() != b.cost.dram_total())
        return a.cost.dram_total() < b.cost.dram_total();
      return a.mapping.key() < b.mapping.key();
    });
    std::vector<models::MappedGemm> front;
    for (const auto& g : all) {
      if (front.empty() || g.cost.dram_total() < front.back().cost.dram_total()) front.push_back(g);
    }
    out << "\nlatency vs DRAM traffic (Pareto front of " << all.size() << " mappings)\n"
        << "  " << std::left << std::setw(40) << "mapping" << std::right << std::setw(14)
        << "cycles" << std::setw(14) << "DRAM MiB" << std::setw(12) << "x compul."
        << "\n";
    const size_t step = std::max<size_t>(1, (front.size() + front_rows - 1) / front_rows);
    for (size_t i = 0; i < front.size(); i += step) {
      const auto& g = front[i];
      out << "  " << std::left << std::setw(40) << g.mapping.key() << std::right << std::setw(14)
          << fixed(g.cost.cycles, 0) << std::setw(14)
          << fixed(double(g.cost.dram_total()) / (1024.0 * 1024.0), 2) << std::setw(12)
          << fixed(
                 double(g.cost.dram_total()) / double(std::max<uint64_t>(1, r.compulsory_total())),
                 3)
          << "\n";
    }
  }
  return 0;
}

}  // namespace qarch::sim
