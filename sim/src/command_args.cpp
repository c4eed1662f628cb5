#include "qarch/sim/command_args.h"

#include <stdexcept>

#include "qarch/common/error.h"

namespace po = boost::program_options;

namespace qarch::sim {

bool parse_command_args(const std::vector<std::string>& args, const po::options_description& desc,
                        po::variables_map& vm, std::ostream& out,
                        const po::positional_options_description* positional) {
  const std::vector<std::string> argv(args.begin() + 1, args.end());
  po::command_line_parser parser(argv);
  parser.options(desc);
  if (positional) {
    parser.positional(*positional);
  } else {
    parser.positional(po::positional_options_description());  // reject stray arguments
  }
  po::store(parser.run(), vm);
  if (vm.count("help")) {
    out << desc << "\n";
    return true;
  }
  po::notify(vm);
  return false;
}

std::pair<int, int> parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  int i = 0, n = 0;
  try {
    size_t used = 0;
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    i = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("junk");
    const std::string rest = text.substr(slash + 1);
    n = std::stoi(rest, &used);
    if (used != rest.size()) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    throw Error("--shard '" + text + "': expected i/N with 1 <= i <= N (e.g. 2/8)");
  }
  if (n < 1 || i < 1 || i > n)
    throw Error("--shard '" + text + "': expected i/N with 1 <= i <= N (e.g. 2/8)");
  return {i, n};
}

}  // namespace qarch::sim
