// Internal interface between the dispatcher (cli.cpp) and the command implementations: each
// command gets its own argv tail (argv[0] = "qarch <cmd>") and returns an exit code; it may
// throw qarch::Error or boost::program_options errors, which run() reports.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace qarch::sim {

/// One command's entry point.
using CommandFn = int (*)(const std::vector<std::string>& args, std::ostream& out,
                          std::ostream& err);

int cmd_quant(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_formats(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_trace(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_compare(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_sweep(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_report(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_demo(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_map(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_scalesim(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_import_scalesim(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace qarch::sim
