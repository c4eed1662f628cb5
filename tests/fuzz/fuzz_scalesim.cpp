// libFuzzer target: the SCALE-Sim config and topology readers on arbitrary text (see
// fuzz_config_entry.h for the contract). Built with QARCH_FUZZ=ON; run with ctest -L fuzz or by
// hand (see CMakeLists.txt).
#include <cstdio>
#include <cstdlib>

#include "fuzz_config_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string problem = qarch::fuzz::fuzz_scalesim_one(data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "invariant broken: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
