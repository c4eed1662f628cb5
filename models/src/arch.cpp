#include "qarch/models/arch.h"

#include <cmath>
#include <sstream>
#include <type_traits>

#include "qarch/common/error.h"
#include "qarch/models/pe.h"

namespace qarch::models {

std::string dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::kOutputStationary:
      return "os";
    case Dataflow::kWeightStationary:
      return "ws";
    case Dataflow::kInputStationary:
      return "is";
  }
  return "?";
}

Dataflow parse_dataflow(const std::string& text, const std::string& field) {
  if (text == "os") return Dataflow::kOutputStationary;
  if (text == "ws") return Dataflow::kWeightStationary;
  if (text == "is") return Dataflow::kInputStationary;
  throw Error(field + ": unknown dataflow '" + text + "' (known: os, ws, is)");
}

std::string objective_name(Objective o) {
  switch (o) {
    case Objective::kLatency:
      return "latency";
    case Objective::kEnergy:
      return "energy";
    case Objective::kEdp:
      return "edp";
  }
  return "?";
}

Objective parse_objective(const std::string& text, const std::string& field) {
  if (text == "latency") return Objective::kLatency;
  if (text == "energy") return Objective::kEnergy;
  if (text == "edp") return Objective::kEdp;
  throw Error(field + ": unknown objective '" + text + "' (known: latency, energy, edp)");
}

namespace {

template <typename T>
std::string text(T v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

template <typename T>
void require_positive(T v, const std::string& field) {
  if (!(v > 0) || (std::is_floating_point<T>::value && !std::isfinite(static_cast<double>(v)))) {
    throw Error(field + ": must be > 0, got " + text(v));
  }
}

template <typename T>
void require_nonnegative(T v, const std::string& field) {
  if (!(v >= 0)) throw Error(field + ": must be >= 0, got " + text(v));
}

void validate_buffer(const BufferConfig& b, const std::string& field) {
  if (b.ideal) return;
  require_positive(b.size_bytes, field + ".size_bytes");
  require_positive(b.banks, field + ".banks");
  require_positive(b.ports, field + ".ports");
  require_positive(b.bank_width_bytes, field + ".bank_width_bytes");
}

}  // namespace

void ArchConfig::validate() const {
  require_positive(clock_ghz, "arch.clock_ghz");
  require_positive(array.rows, "arch.array.rows");
  require_positive(array.cols, "arch.array.cols");
  const PeType& pe = pe_type(array.pe);  // throws naming arch.array.pe
  if (array.rows % pe.fuse() != 0 || array.cols % pe.fuse() != 0) {
    throw Error("arch.array.rows/cols: PE type '" + pe.name() + "' fuses " + text(pe.fuse()) +
                " x " + text(pe.fuse()) +
                " physical PEs per MAC, so rows and cols must be multiples of " + text(pe.fuse()) +
                " (got " + text(array.rows) + " x " + text(array.cols) + ")");
  }
  require_nonnegative(decoder.latency_cycles, "arch.decoder.latency_cycles");
  require_positive(decoder.elements_per_cycle, "arch.decoder.elements_per_cycle");
  if (!dram.ideal) {
    require_positive(dram.bandwidth_bytes_per_cycle, "arch.dram.bandwidth_bytes_per_cycle");
    require_nonnegative(dram.latency_cycles, "arch.dram.latency_cycles");
    require_positive(dram.burst_bytes, "arch.dram.burst_bytes");
  }
  require_nonnegative(dram.energy_pj_per_byte, "arch.dram.energy_pj_per_byte");
  validate_buffer(input_buffer, "arch.input_buffer");
  validate_buffer(weight_buffer, "arch.weight_buffer");
  validate_buffer(output_buffer, "arch.output_buffer");
  require_positive(accumulator_bytes, "arch.accumulator_bytes");
  require_positive(output_bytes, "arch.output_bytes");
  for (size_t i = 0; i < array.dataflows.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (array.dataflows[i] == array.dataflows[j]) {
        throw Error("arch.array.dataflows: '" + dataflow_name(array.dataflows[i]) +
                    "' is listed twice");
      }
    }
  }
  require_positive(dram.capacity_bytes, "arch.dram.capacity_bytes");
  require_positive(vector.lanes, "arch.vector.lanes");
  if (vector.precision_bits != 16 && vector.precision_bits != 32) {
    throw Error("arch.vector.precision_bits: must be 16 or 32, got " + text(vector.precision_bits));
  }
  require_positive(vector.exp_cycles, "arch.vector.exp_cycles");
  require_positive(vector.div_cycles, "arch.vector.div_cycles");
  require_nonnegative(vector.latency_cycles, "arch.vector.latency_cycles");
  require_positive(quantizer.elements_per_cycle, "arch.quantizer.elements_per_cycle");
  require_nonnegative(quantizer.latency_cycles, "arch.quantizer.latency_cycles");
  if (shared_buffer && (input_buffer.ideal || weight_buffer.ideal || output_buffer.ideal)) {
    throw Error("arch.shared_buffer: a shared global buffer cannot include an ideal buffer");
  }
}

ArchConfig ArchConfig::idealized() const {
  ArchConfig a = *this;
  a.dram.ideal = true;
  a.input_buffer.ideal = true;
  a.weight_buffer.ideal = true;
  a.output_buffer.ideal = true;
  return a;
}

}  // namespace qarch::models
