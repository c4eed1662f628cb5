// The accelerator an architect describes: DRAM -> DMA -> on-chip SRAM buffers (inputs X,
// weights W, outputs Y) -> border decoders -> an R x C systolic array of one PE type ->
// accumulators -> output buffer -> DRAM. Units: a "cycle" is one accelerator clock cycle; sizes
// are bytes. The YAML front end (sim/) fills this struct; validate() is the single place that
// rejects impossible values, naming the field ("arch.dram.bandwidth_bytes_per_cycle: must be > 0").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qarch::models {

/// Systolic dataflow, named as in SCALE-Sim (Samajdar et al.): what stays in the PEs.
enum class Dataflow {
  kOutputStationary,  ///< "os": outputs stay, X enters from the left, W from the top
  kWeightStationary,  ///< "ws": W is preloaded, X streams from the left, psums flow down
  kInputStationary,   ///< "is": X is preloaded, W streams from the left, psums flow down
};
/// "os" / "ws" / "is".
std::string dataflow_name(Dataflow d);
/// Inverse of dataflow_name; throws qarch::Error naming `field` otherwise.
Dataflow parse_dataflow(const std::string& text, const std::string& field = "arch.array.dataflow");

/// What the mapper (mapper.h) minimises per GEMM.
enum class Objective {
  kLatency,  ///< estimated cycles; ties by energy
  kEnergy,   ///< estimated energy; ties by cycles
  kEdp,      ///< energy x cycles (the default: docs/MAPPER.md says why)
};
/// "latency" / "energy" / "edp".
std::string objective_name(Objective o);
/// Inverse of objective_name; throws qarch::Error naming `field` otherwise.
Objective parse_objective(const std::string& text,
                          const std::string& field = "arch.mapper.objective");

/// Off-chip memory channel shared by all DMA streams.
struct DramConfig {
  /// Idealized memory (SCALE-Sim's compute-only view): every transfer takes zero cycles; the
  /// fields below are then ignored except energy.
  bool ideal = false;
  /// Sustained transfer rate in bytes per accelerator cycle (> 0).
  double bandwidth_bytes_per_cycle = 64.0;
  /// Cycles from a read request to its last byte beyond the transfer time (>= 0). Requests are
  /// pipelined: a transfer of many bursts pays the latency once. Writes are posted (no latency).
  int64_t latency_cycles = 100;
  /// DMA request size in bytes (> 0): a transfer is split into requests of at most this size, and
  /// the channel serves requests of all streams in arrival order, so streams interleave.
  int64_t burst_bytes = 64 * 1024;
  /// Energy per byte moved, in pJ. Carried for reports/; timing does not use it.
  double energy_pj_per_byte = 0.0;
  /// Capacity in bytes (> 0): whole-model serving checks that the weights and the peak KV
  /// cache fit. The default, 32 GiB, is an edge accelerator's LPDDR5 / a mid-range GPU's HBM.
  double capacity_bytes = 32.0 * (1ull << 30);
};

/// One on-chip SRAM buffer.
struct BufferConfig {
  /// Idealized buffer: unlimited capacity and bandwidth (SCALE-Sim's compute-only view).
  bool ideal = false;
  /// Capacity in bytes, both halves together when double_buffered (> 0).
  int64_t size_bytes = 1 << 20;
  /// Independent banks (> 0).
  int banks = 32;
  /// Ports per bank usable by the array each cycle (> 0). DMA fills use a separate write port.
  int ports = 1;
  /// Bytes one port access moves (> 0).
  int bank_width_bytes = 16;
  /// Two halves: the DMA fills one tile while the array works on the other.
  bool double_buffered = true;

  /// Bytes per cycle the array can read or write: banks * ports * bank_width_bytes.
  double bandwidth_bytes_per_cycle() const {
    return static_cast<double>(banks) * ports * bank_width_bytes;
  }
  /// Bytes one tile may occupy: size_bytes, or half of it when double_buffered.
  int64_t tile_capacity_bytes() const { return double_buffered ? size_bytes / 2 : size_bytes; }
};

/// The PE array.
struct ArrayConfig {
  int rows = 32;  ///< R: physical PE rows (> 0)
  int cols = 32;  ///< C: physical PE columns (> 0)
  Dataflow dataflow = Dataflow::kWeightStationary;
  /// PE type (models::list_pe_types(): int8, int4, olive4, olive8, mx, amxfp4, nvfp4, bfp, gobo,
  /// olaccel). Fixes which operand formats the array accepts.
  std::string pe = "int8";
  /// Dataflows the array can run; the mapper picks one per GEMM. Empty: only `dataflow`.
  std::vector<Dataflow> dataflows;
  /// Consecutive folds of a tile overlap their fill and drain (shadow registers for the
  /// stationary operand in WS / IS and for finished outputs in OS; FoldModel::fold_period).
  /// false: every fold pays SCALE-Sim's full 2R + C + T - 2 (import-scalesim's setting).
  bool pipelined_folds = true;
};

/// The decoders on the array borders: R on the left edge, C on the top edge (OliVe's n + m).
struct DecoderConfig {
  /// Pipeline stages between a buffer read and the array edge, in cycles (>= 0). Added once per
  /// fold to the systolic fill (0 reproduces SCALE-Sim's cycle counts exactly).
  int latency_cycles = 0;
  /// Elements each decoder delivers per cycle (> 0). Below 1 the array streams slower than one
  /// element per row per cycle and the fold stretches.
  double elements_per_cycle = 1.0;
};

/// The SIMD vector unit of whole-model runs (vector_unit.h): softmax, norms, activation
/// functions, RoPE, residual adds. Each lane does one FP add, multiply or compare per cycle;
/// exp and divide (or reciprocal square root) occupy a lane for exp_cycles / div_cycles.
struct VectorUnitConfig {
  int lanes = 64;           ///< SIMD lanes (> 0)
  int precision_bits = 16;  ///< FP16 or FP32 arithmetic (16 | 32)
  int exp_cycles = 4;       ///< lane cycles per exp (> 0)
  int div_cycles = 4;       ///< lane cycles per divide / reciprocal square root (> 0)
  int latency_cycles = 8;   ///< pipeline depth, paid once per operation pass (>= 0)
};

/// The online quantizer that encodes activations (GEMM outputs in FP16) and K/V into their
/// stored formats (quantizer_unit.h).
struct QuantizerConfig {
  double elements_per_cycle = 32;  ///< encode throughput (> 0)
  int latency_cycles = 4;          ///< pipeline depth per tensor pass (>= 0)
  /// Scaled-integer activations and NVFP4's tensor scale: false (dynamic) finds each tensor's /
  /// token's max first, which reads the tile a second time; true uses a static scale calibrated
  /// offline (one pass).
  bool static_int_scale = false;
};

/// A whole accelerator.
struct ArchConfig {
  std::string name = "accelerator";
  /// Clock in GHz (> 0); only used to convert cycles to seconds in reports.
  double clock_ghz = 1.0;
  ArrayConfig array;
  DecoderConfig decoder;
  DramConfig dram;
  BufferConfig input_buffer;   ///< holds X tiles (packed, as in DRAM)
  BufferConfig weight_buffer;  ///< holds W tiles (packed, as in DRAM)
  BufferConfig output_buffer;  ///< holds partial sums of Y tiles (accumulator_bytes each)
  /// Bytes per partial sum held in the output buffer (FP32 accumulators: 4; > 0).
  int accumulator_bytes = 4;
  /// Bytes per finished output element written back to DRAM (FP16: 2; > 0).
  int output_bytes = 2;
  /// One global buffer instead of three: X, W and Y blocks share the summed capacity of
  /// input_buffer, weight_buffer and output_buffer (each operand keeps its own ports).
  bool shared_buffer = false;
  /// The mapper's objective for every GEMM.
  Objective objective = Objective::kEdp;
  /// Whole-model runs only (--phase serve): the vector unit and the online quantizer.
  VectorUnitConfig vector;
  QuantizerConfig quantizer;

  /// The dataflows the mapper may choose from (array.dataflows, or array.dataflow alone).
  std::vector<Dataflow> allowed_dataflows() const {
    return array.dataflows.empty() ? std::vector<Dataflow>{array.dataflow} : array.dataflows;
  }

  /// Throws qarch::Error naming the first invalid field ("arch.array.rows: must be > 0, got 0").
  /// Checks that need the workload (tile fits, formats the PE accepts) happen in the planner.
  void validate() const;

  /// The same accelerator with DRAM and all buffers idealized (SCALE-Sim's compute view).
  ArchConfig idealized() const;
};

}  // namespace qarch::models
