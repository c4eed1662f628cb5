#include "qarch/models/stats.h"

#include <nlohmann/json.hpp>

namespace qarch::models {

namespace {

nlohmann::json buffer_json(const BufferStats& b) {
  return {{"name", b.name},
          {"capacity_bytes", b.capacity_bytes},
          {"peak_bytes", b.peak_bytes},
          {"fill_bytes", b.fill_bytes},
          {"drain_bytes", b.drain_bytes},
          {"read_bytes", b.read_bytes},
          {"write_bytes", b.write_bytes},
          {"tiles", b.tiles},
          {"port_stall_cycles", b.port_stall_cycles}};
}

nlohmann::json decoder_json(const DecoderStats& d) {
  return {{"edge", d.edge},
          {"kind", d.kind},
          {"units", d.units},
          {"elements", d.elements},
          {"ops", d.ops},
          {"ops_by_kind", d.ops_by_kind},
          {"stall_cycles", d.stall_cycles}};
}

nlohmann::json cost_json(const MappingCost& c) {
  return {{"cycles", c.cycles},
          {"energy_pj", c.energy_pj},
          {"objective", c.objective},
          {"busy_cycles", c.busy_cycles},
          {"dram_bytes", {{"x", c.dram_bytes[0]}, {"w", c.dram_bytes[1]}, {"y", c.dram_bytes[2]}}},
          {"psum_bytes", c.psum_bytes}};
}

nlohmann::json mapped_json(const MappedGemm& g) {
  return {{"mapping", g.mapping.key()}, {"estimate", cost_json(g.cost)}};
}

}  // namespace

void to_json(nlohmann::json& j, const JobStats& s) {
  j = {{"name", s.name},
       {"m", s.m},
       {"n", s.n},
       {"k", s.k},
       {"batch", s.batch},
       {"tile", {s.tile_m, s.tile_n, s.tile_k}},
       {"loop_order", s.loop_order},
       {"tiles", s.tiles},
       {"folds", s.folds},
       {"start_cycle", s.start_cycle},
       {"end_cycle", s.end_cycle},
       {"compute_cycles", s.compute_cycles},
       {"busy_cycles", s.busy_cycles},
       {"macs", s.macs},
       {"dram_read_bytes", s.dram_read_bytes},
       {"dram_write_bytes", s.dram_write_bytes},
       {"dataflow", s.dataflow},
       {"mapping", s.mapping},
       {"loop_nest", s.loop_nest},
       {"objective", s.objective},
       {"dram_bytes_by_operand",
        {{"x", s.dram_x_bytes}, {"w", s.dram_w_bytes}, {"y", s.dram_y_bytes}}},
       {"psum_bytes", s.psum_bytes},
       {"compulsory_bytes", s.compulsory_bytes},
       {"traffic_lower_bound", s.traffic_lower_bound}};
  nlohmann::json ru = nlohmann::json::array();
  for (const MappedGemm& g : s.runners_up) ru.push_back(mapped_json(g));
  j["runners_up"] = ru;
  j["estimate"] = cost_json(s.estimate);
}

void to_json(nlohmann::json& j, const Stats& s) {
  const ArrayStats& a = s.array;
  j = {{"mode", s.mode},
       {"cycles", s.cycles},
       {"host_seconds", s.host_seconds},
       {"dram",
        {{"read_bytes", s.dram.read_bytes},
         {"write_bytes", s.dram.write_bytes},
         {"requests", s.dram.requests},
         {"busy_cycles", s.dram.busy_cycles}}},
       {"buffers",
        {buffer_json(s.input_buffer), buffer_json(s.weight_buffer), buffer_json(s.output_buffer)}},
       {"decoders", {decoder_json(s.left_decoders), decoder_json(s.top_decoders)}},
       {"array",
        {{"rows", a.rows},
         {"cols", a.cols},
         {"logical_rows", a.logical_rows},
         {"logical_cols", a.logical_cols},
         {"folds", a.folds},
         {"compute_cycles", a.compute_cycles},
         {"busy_cycles", a.busy_cycles},
         {"stall_input_cycles", a.stall_input_cycles},
         {"stall_weight_cycles", a.stall_weight_cycles},
         {"stall_output_cycles", a.stall_output_cycles},
         {"macs", a.macs},
         {"macs_by_type", a.macs_by_type},
         {"register_read_bytes", a.register_read_bytes},
         {"register_write_bytes", a.register_write_bytes},
         {"segment_closes", a.segment_closes},
         {"utilization", a.utilization},
         {"mapping_efficiency", a.mapping_efficiency},
         {"pe_cycles", a.pe_cycles}}},
       {"jobs", s.jobs}};
}

}  // namespace qarch::models
