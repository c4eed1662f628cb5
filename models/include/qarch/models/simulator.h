// The SystemC accelerator model. simulate() plans every job (tiler.h), then elaborates a fresh
// SystemC context holding these concurrent threads:
//   x_dma, w_dma   walk the tile sequence and load each new X / W block from DRAM into a free
//                  input / weight buffer slot (two slots when double-buffered, else one);
//   array          waits until its tile's blocks are resident and an output slot is free, then
//                  computes it: in tile mode one wait() of the tile's fold cycles (SCALE-Sim's
//                  fold equations with decoder and SRAM-port limits), in cycle mode every PE
//                  every clock (cycle_array); it frees a block's slot when the next tile no
//                  longer uses it and hands finished output tiles to
//   y_dma          which writes them back to DRAM and frees their output slot.
// All DMA streams share one DRAM channel that serves burst requests in arrival order, so loads,
// prefetches and write-backs contend; stalls, overlap and the cost of single buffering come out
// of the simulation, not a formula. Each simulation runs in its own sc_simcontext, so a process
// can run any number of them (one at a time).
//
// Counting conventions (Stats): SRAM bytes are packed storage bytes (the decoders sit after the
// buffers); an element re-streamed into another fold is read and decoded again; partial sums
// cost accumulator_bytes per write and per read-back. PE registers: each MAC reads both operand
// registers and the partial sum, and writes the forwarded streaming operand(s) and the partial
// sum (element_bits of the formats, accumulator_bytes for sums); a stationary load shifts each
// element through the rows above its own; an OS drain shifts each output down to the edge.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/models/arch.h"
#include "qarch/models/job.h"
#include "qarch/models/mapper.h"
#include "qarch/models/stats.h"

namespace qarch::models {

/// How the array is simulated.
enum class SimMode {
  kTile,   ///< one wait() per tile (fast; LLM-sized workloads)
  kCycle,  ///< every PE every clock (small arrays; validates the tile equations)
};

/// Options of one simulation.
struct SimOptions {
  SimMode mode = SimMode::kTile;
  /// Compute the outputs for jobs that carry operands (GemmJob::x / w); jobs without operands
  /// are timed only.
  bool functional = true;
  /// Energy per event the mapper weighs mappings with (reports::mapper_costs fills it from the
  /// technology table); the objective is ArchConfig::objective.
  MapperCosts costs;
  /// One mapping per job instead of the mapper's choice (tests, `qarch map`); empty: search.
  std::vector<Mapping> mappings;
};

/// Result of one simulation.
struct SimResult {
  Stats stats;
  /// outputs[job][instance] = Y [m, n] row-major, for jobs simulated functionally (else empty).
  std::vector<std::vector<std::vector<float>>> outputs;
};

/// Validates the architecture and every job (clear qarch::Error naming the field, before any
/// simulation), then simulates the jobs back to back.
SimResult simulate(const ArchConfig& arch, const std::vector<GemmJob>& jobs,
                   const SimOptions& options = {});

}  // namespace qarch::models
