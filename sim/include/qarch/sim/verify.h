// `qarch verify`'s simulation interface: a unit's Verilated harness top, run on a stimulus of
// per-cycle input values, returning per-cycle output values. Two implementations:
//  - the prebuilt models of rtl/ (qarch_rtl_models), registered by rtl/verify/builtin_models.cpp
//    when qarch is built with Verilator (the qarch executable and the tests link it);
//  - the stimulus player: a small executable that `qarch verify --rtl FILE` builds with
//    verilator at run time from rtl/ sources plus FILE (sim/src/cmd_verify.cpp).
// Both run the same cycle protocol, so a unit's checks see the same values from either:
//   reset state: every input 0 and the clock low, then one evaluation; registers without a
//   reset start random but reproducibly (Verilator randReset(2), randSeed(12345));
//   cycle c: set the inputs of row c, evaluate, clock high, evaluate, clock low, evaluate,
//   then read the outputs into row c.
// A waveform window [from, to] (cycles) dumps every evaluation of those cycles to a VCD file
// (time unit: one evaluation).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qarch::sim::verify {

/// A port of a harness top (the clock, named `clk`, is not listed).
struct Port {
  std::string name;
  int width = 1;           ///< 1..64 bits
  bool is_signed = false;  ///< two's complement (reports print it signed too)
};

/// Input values per cycle, row-major [cycles x inputs].
struct Stimulus {
  int64_t cycles = 0;
  std::vector<uint64_t> in;
};

/// Where and which cycles to dump; an empty path dumps nothing.
struct Waveform {
  std::string path;
  uint64_t from = 0, to = 0;
};

/// A runnable harness top.
class UnitModel {
 public:
  virtual ~UnitModel() = default;
  /// Runs the stimulus from the reset state; returns the outputs, row-major [cycles x outputs].
  virtual std::vector<uint64_t> run(const Stimulus& st, const Waveform& wave) = 0;
};

/// A prebuilt model: the harness top's module name, its ports in the order the unit table of
/// cmd_verify.cpp lists them (checked at use), and a factory.
struct BuiltinModel {
  std::string top;
  std::vector<std::string> inputs, outputs;
  std::function<std::unique_ptr<UnitModel>()> make;
};

/// Registers a prebuilt model (called from static initializers of rtl/verify/).
void register_builtin_model(BuiltinModel m);
/// The registered model of a harness top, or nullptr.
const BuiltinModel* find_builtin_model(const std::string& top);

}  // namespace qarch::sim::verify
