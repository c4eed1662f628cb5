#include "qarch/sim/command_args.h"

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

}  // namespace qarch::sim
