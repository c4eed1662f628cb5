// Runs the qarch command line in-process for the sim tests: exit code and both streams.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "qarch/sim/cli.h"

namespace qarch::sim::testing {

/// What one `qarch ...` invocation returned and printed.
struct CliResult {
  int code;
  std::string out, err;
};

/// Runs `qarch <args...>` (argv[0] is supplied).
inline CliResult run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "qarch");
  std::ostringstream out, err;
  const int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace qarch::sim::testing
