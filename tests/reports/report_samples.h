// Sample reports for the writer and HTML tests: realistic magnitudes (one LLaMA-2-7B decoder
// layer, prefill 2048, on 32x32 arrays at 500 MHz), built through PointResult::finish_totals so
// the totals are consistent with the per-GEMM rows.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "qarch/reports/result.h"

namespace qarch::reports::testing {

struct GemmShape {
  const char* name;
  const char* kind;
  int64_t m, n, k;
};

// One LLaMA-2-7B layer at sequence 2048 (hidden 4096, FFN 11008, 32 heads of 128).
inline const std::vector<GemmShape>& llama_layer() {
  static const std::vector<GemmShape> g = {
      {"layers.0.attn.qkv", "qkv", 2048, 12288, 4096},
      {"layers.0.attn.scores", "scores", 2048, 2048, 128},
      {"layers.0.attn.context", "context", 2048, 128, 2048},
      {"layers.0.attn.out", "attn_out", 2048, 4096, 4096},
      {"layers.0.mlp.gate", "gate", 2048, 11008, 4096},
      {"layers.0.mlp.up", "up", 2048, 11008, 4096},
      {"layers.0.mlp.down", "down", 2048, 4096, 11008},
  };
  return g;
}

/// A point: `bits` is the operand width (sets MAC energy and DRAM bytes), `qsnr` < 0 means no
/// accuracy measured, `stall` the stalled fraction of the cycles.
inline PointResult sample_point(const std::string& id, const std::string& pe, int bits, double qsnr,
                                double stall, double area_scale) {
  PointResult p;
  p.id = id;
  p.arch = id;
  p.arch_file = "configs/" + id + ".yaml";
  p.pe = pe;
  p.act_format = pe == "int8" ? "int8" : pe + ":block=32";
  p.weight_format = p.act_format;
  p.dataflow = "ws";
  p.rows = p.cols = 32;
  p.clock_ghz = 0.5;
  p.tech_node = "45nm";
  p.workload.name = "llama2-7b prefill 2048";
  p.workload.model = "llama2-7b";
  p.workload.phase = "prefill";
  p.workload.seq = 2048;
  p.workload.layers = "0";
  p.workload.tokens = 2048;
  int idx = 0;
  for (const GemmShape& s : llama_layer()) {
    GemmRow g;
    g.layer = "0";
    g.gemm = s.name;
    g.kind = s.kind;
    g.m = s.m;
    g.n = s.n;
    g.k = s.k;
    g.batch = s.kind == std::string("scores") || s.kind == std::string("context") ? 32 : 1;
    g.macs = static_cast<uint64_t>(s.m * s.n * s.k * g.batch);
    g.compute_cycles = g.macs / 1024 + 1000;
    // Attention GEMMs stall more (small K): a realistic spread between layers.
    const double st = s.k <= 2048 ? stall * 2 : stall;
    g.cycles = static_cast<uint64_t>(static_cast<double>(g.compute_cycles) / (1 - st));
    g.stall_cycles = g.cycles - g.compute_cycles;
    g.utilization = static_cast<double>(g.macs) / (1024.0 * static_cast<double>(g.cycles));
    g.dram_read_bytes = static_cast<uint64_t>((s.m * s.k + s.n * s.k) * g.batch) * bits / 8;
    g.dram_write_bytes = static_cast<uint64_t>(s.m * s.n * g.batch) * 2;
    const double macs = static_cast<double>(g.macs);
    // Horowitz ISSCC 2014 (45 nm): 8-bit int multiply 0.2 pJ + add 0.03 pJ; scaled by width.
    g.energy_pj["mac"] = macs * 0.23 * bits / 8;
    g.energy_pj["accumulator"] = macs / 32 * 0.9;
    g.energy_pj["register"] = macs * 0.05;
    g.energy_pj["decoder"] = pe == "int8" ? 0 : macs / 32 * 0.4;
    g.energy_pj["sram_input"] = static_cast<double>(s.m * s.k) * 6.0;
    g.energy_pj["sram_weight"] = static_cast<double>(s.n * s.k) * 6.0 * bits / 8;
    g.energy_pj["sram_output"] = static_cast<double>(s.m * s.n) * 9.0;
    g.energy_pj["dram"] = static_cast<double>(g.dram_read_bytes + g.dram_write_bytes) * 20.0;
    g.energy_pj["static"] = static_cast<double>(g.cycles) * 8.0 * area_scale;
    if (qsnr >= 0) {
      g.has_error = true;
      g.output_qsnr_db = qsnr + 0.5 * (idx % 3) - 0.4;
      g.output_rel_fro = 1.0 / (1.0 + qsnr);
    }
    p.gemms.push_back(g);
    ++idx;
  }
  p.area_mm2["pe_array"] = 1.9 * area_scale;
  p.area_mm2["decoders"] = pe == "int8" ? 0 : 0.12 * area_scale;
  p.area_mm2["sram_input"] = 0.55;
  p.area_mm2["sram_weight"] = 1.1;
  p.area_mm2["sram_output"] = 0.55;
  p.finish_totals(1024);
  return p;
}

/// Five accelerators; "gobo-32x32" has no accuracy (shape-only run).
inline Report sample_report() {
  Report r;
  r.title = "LLaMA-2-7B layer 0, prefill 2048";
  r.generator = "qarch 0.1.0";
  r.points = {sample_point("bfp12-32x32", "bfp", 8, 30.5, 0.08, 0.8),
              sample_point("gobo-32x32", "gobo", 4, -1, 0.05, 0.9),
              sample_point("int8-32x32", "int8", 8, 33.0, 0.10, 1.0),
              sample_point("mxfp4-32x32", "mxfp4", 4, 17.5, 0.04, 0.6),
              sample_point("olive-32x32", "olive", 4, 24.0, 0.05, 0.7)};
  r.pareto = pareto_front(r.points);
  r.notes = {"500 MHz, 128/256/128 KB buffers, 64 GB/s DRAM.",
             "Energy from the built-in 45 nm table (Horowitz, ISSCC 2014)."};
  return r;
}

/// `n` sweep points: array sizes and formats vary; every third point has no accuracy.
inline Report many_points_report(int n) {
  Report r;
  r.title = "sweep";
  r.generator = "qarch 0.1.0";
  const char* pes[] = {"int8", "olive", "mxfp4", "bfp"};
  for (int i = 0; i < n; ++i) {
    const std::string pe = pes[i % 4];
    char id[64];
    std::snprintf(id, sizeof id, "p%03d-%s", i, pe.c_str());
    r.points.push_back(sample_point(id, pe, pe == "int8" ? 8 : 4, i % 3 == 2 ? -1 : 15.0 + i % 17,
                                    0.02 + 0.01 * (i % 7), 0.5 + 0.05 * (i % 11)));
  }
  r.pareto = pareto_front(r.points);
  return r;
}

}  // namespace qarch::reports::testing
