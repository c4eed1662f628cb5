// qarch::Error: the one exception type for user-facing failures (bad files, bad
// options, bad data). Its message names the source (file, field) and the problem;
// the CLI prints it and exits non-zero. Programming errors use assertions instead.
#pragma once

#include <stdexcept>
#include <string>

namespace qarch {

/// A user-facing error: bad input file, bad option, unsupported request.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace qarch
