// Shared argument handling for qarch commands (Boost.Program_options).
#pragma once

#include <boost/program_options.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace qarch::sim {

/// Parses a command's argv tail (args[0] is "qarch <cmd>") against `desc` into `vm` and runs
/// notify(). Returns true if --help was given, after printing `desc` to `out`: the command
/// then returns 0. Unknown options and bad values throw boost::program_options errors, which
/// run() reports as usage errors (exit 2). Positional arguments go to `positional` if given.
bool parse_command_args(
    const std::vector<std::string>& args, const boost::program_options::options_description& desc,
    boost::program_options::variables_map& vm, std::ostream& out,
    const boost::program_options::positional_options_description* positional = nullptr);

/// --shard "i/N" (1 <= i <= N) -> {i, N}; throws qarch::Error otherwise.
std::pair<int, int> parse_shard(const std::string& text);

}  // namespace qarch::sim
