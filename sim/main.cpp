// The qarch executable: everything happens in qarch::sim::run (testable in-process).
#include <iostream>

#include "qarch/sim/cli.h"

int main(int argc, char** argv) {
  return qarch::sim::run(argc, argv, std::cout, std::cerr);
}
