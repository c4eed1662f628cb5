// The qarch command line: `qarch <command> [options]`. run() parses argv, dispatches to a
// command, prints results to `out` and diagnostics to `err`, and returns the exit code:
// 0 success, 1 a command's own failure verdict, 2 bad usage or bad input (qarch::Error),
// 3 an internal error. It never lets an exception escape.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace qarch::sim {

/// Runs the CLI on argv (argv[0] is the program name).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);
/// Convenience for tests: run({"qarch", "quant", ...}).
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace qarch::sim
