// Sweep files: the cross product of architecture parameters x workloads, as independent points.
//
//   name: array-vs-format                      # report title
//   archs: [int8, olive, configs/my.yaml]      # built-in names or files (relative to this file)
//   parameters:                                # cross product, the last axis varies fastest
//     array.rows: [16, 32]                     # scalar values: the axis name is the key path
//     dram.bandwidth_gb_per_s: [32, 64]
//     format:                                  # map values: each map is applied as a whole
//       - {array.pe: int8, formats.act: int8, formats.weight: int8}
//       - {array.pe: olive4, formats.act: olive4, formats.weight: olive4}
//   workloads:
//     - {model: llama2-7b, phase: prefill, seq: 2048, layers: "0"}
//     - {model: llama2-7b, phase: decode, context: 2047, layers: "0"}
//     - {gemms: resnet.yaml}                   # a GEMM list (workloads/gemm_list.h)
//   accuracy: {enabled: true, layers: auto, sample_rows: 256, weight_rows: 1024, seed: 1}
//
// Points are numbered archs x parameters x workloads in that nesting order; point i belongs to
// shard (i mod N) + 1 of N, so shards are balanced across architectures and workloads. A point's
// result is written to OUT/points/<id>.json atomically with a key (a hash of everything the point
// depends on: resolved architecture YAML, workload, accuracy options); a rerun skips points whose
// file carries the same key, so an interrupted or partly failed sweep resumes where it stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qarch/explore/arch_config.h"
#include "qarch/explore/explore.h"
#include "qarch/reports/result.h"

namespace qarch::explore {

/// One point of a sweep, fully resolved.
struct SweepPoint {
  size_t index = 0;
  std::string id;        ///< "p0007" (zero-padded to the sweep's size)
  ArchSpec arch;         ///< with the overrides applied, validated
  std::string arch_arg;  ///< as written in the sweep file
  std::vector<Override> overrides;
  std::map<std::string, std::string> params;  ///< "arch" and every axis -> value text
  WorkloadSpec workload;
  std::string key;  ///< 16 hex digits: FNV-1a 64 of the point's canonical definition
};

/// A parsed sweep file.
struct Sweep {
  std::string name;
  std::string file;
  std::string file_fnv1a64;  ///< FNV-1a 64 of the sweep file's text (which version of it)
  AccuracyOptions accuracy;
  std::vector<SweepPoint> points;
};

/// Reads a sweep file and resolves every point (architecture files read, overrides applied and
/// validated), so configuration errors surface before any point runs. Errors name the file,
/// line:column and key (of the sweep file, or of the architecture file with the override).
Sweep load_sweep(const std::string& file);
Sweep parse_sweep(const std::string& yaml, const std::string& file);
/// Listing without building: each point goes to `visit` (id, arch_arg, params, index set; its
/// architecture, workload and key are not) instead of into Sweep::points, and only the first
/// parameter combination of each architecture is resolved and validated. Constant memory and
/// about a microsecond per point, so `qarch sweep --list` of 10^6 points stays quick.
Sweep list_sweep(const std::string& file, const std::function<void(const SweepPoint&)>& visit);
Sweep parse_sweep(const std::string& yaml, const std::string& file,
                  const std::function<void(const SweepPoint&)>& list);

/// True if point `index` belongs to shard i of N.
inline bool in_shard(size_t index, int i, int n) {
  return static_cast<int>(index % static_cast<size_t>(n)) == i - 1;
}

/// Path of a point's result file in a sweep output directory.
std::string point_file(const std::string& out_dir, const std::string& id);
/// The point result file's text: {"key":..., "sweep":..., "index":..., "of":..., "point":{...}}.
std::string point_file_text(const Sweep& s, const SweepPoint& p, const reports::PointResult& r);
/// A finished point file's content.
struct PointFile {
  std::string key, sweep;
  size_t index = 0, of = 0;
  reports::PointResult point;
};
/// Parses a point file; throws qarch::Error naming `file` if it is not one.
PointFile parse_point_file(const std::string& text, const std::string& file);

}  // namespace qarch::explore
