// Bad input: an architecture that cannot run the jobs must fail before any simulation with a
// qarch::Error that names the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "qarch/models/simulator.h"
#include "qarch/common/error.h"
#include "test_util.h"

namespace qarch::models {
namespace {

GemmJob job(const char* x = "int8", const char* w = "int8") {
  GemmJob j;
  j.name = "proj";
  j.m = 64, j.n = 64, j.k = 64;
  j.x_format = x;
  j.w_format = w;
  return j;
}

// Runs simulate() and returns the error message ("" if it did not throw).
std::string error_of(const ArchConfig& a, const std::vector<GemmJob>& jobs) {
  try {
    simulate(a, jobs);
  } catch (const qarch::Error& e) {
    return e.what();
  }
  return "";
}

using ::testing::HasSubstr;

TEST(BadInput, ZeroOrNegativeFieldsNameTheField) {
  struct Bad {
    const char* field;
    void (*edit)(ArchConfig&);
  };
  const Bad bad[] = {
      {"arch.dram.bandwidth_bytes_per_cycle",
       [](ArchConfig& a) { a.dram.bandwidth_bytes_per_cycle = 0; }},
      {"arch.dram.latency_cycles", [](ArchConfig& a) { a.dram.latency_cycles = -1; }},
      {"arch.dram.burst_bytes", [](ArchConfig& a) { a.dram.burst_bytes = 0; }},
      {"arch.array.rows", [](ArchConfig& a) { a.array.rows = 0; }},
      {"arch.array.cols", [](ArchConfig& a) { a.array.cols = -4; }},
      {"arch.clock_ghz", [](ArchConfig& a) { a.clock_ghz = 0; }},
      {"arch.decoder.elements_per_cycle", [](ArchConfig& a) { a.decoder.elements_per_cycle = 0; }},
      {"arch.decoder.latency_cycles", [](ArchConfig& a) { a.decoder.latency_cycles = -2; }},
      {"arch.input_buffer.size_bytes", [](ArchConfig& a) { a.input_buffer.size_bytes = 0; }},
      {"arch.weight_buffer.banks", [](ArchConfig& a) { a.weight_buffer.banks = 0; }},
      {"arch.output_buffer.ports", [](ArchConfig& a) { a.output_buffer.ports = 0; }},
      {"arch.output_buffer.bank_width_bytes",
       [](ArchConfig& a) { a.output_buffer.bank_width_bytes = 0; }},
      {"arch.accumulator_bytes", [](ArchConfig& a) { a.accumulator_bytes = 0; }},
      {"arch.output_bytes", [](ArchConfig& a) { a.output_bytes = 0; }},
      {"arch.array.pe", [](ArchConfig& a) { a.array.pe = "int9"; }},
  };
  for (const Bad& b : bad) {
    ArchConfig a;
    b.edit(a);
    EXPECT_THAT(error_of(a, {job()}), HasSubstr(b.field)) << b.field;
  }
  // Idealized DRAM ignores its timing fields.
  ArchConfig ideal;
  ideal.dram.ideal = true;
  ideal.dram.bandwidth_bytes_per_cycle = 0;
  EXPECT_EQ(error_of(ideal, {job()}), "");
}

TEST(BadInput, BufferTooSmallForOneTile) {
  ArchConfig a;
  // The mapper may shrink tiles to a single element (an underused array), so only a buffer
  // that cannot hold one element per half is too small.
  a.input_buffer.size_bytes = 1;
  std::string e = error_of(a, {job()});
  EXPECT_THAT(e, HasSubstr("arch.input_buffer.size_bytes"));
  EXPECT_THAT(e, HasSubstr("job 'proj'"));
  a = ArchConfig();
  a.weight_buffer.size_bytes = 1;
  EXPECT_THAT(error_of(a, {job()}), HasSubstr("arch.weight_buffer.size_bytes"));
  a = ArchConfig();
  // The smallest output tile is one partial sum of 4 bytes.
  a.output_buffer.size_bytes = 6;  // 3 bytes per half
  EXPECT_THAT(error_of(a, {job()}), HasSubstr("arch.output_buffer.size_bytes"));
  // The same buffer is enough without double buffering.
  a.output_buffer.double_buffered = false;
  EXPECT_EQ(error_of(a, {job()}), "");
}

TEST(BadInput, FormatThePeCannotRun) {
  ArchConfig a;  // int8 PEs
  std::string e = error_of(a, {job("olive4", "int8")});
  EXPECT_THAT(e, HasSubstr("x_format"));
  EXPECT_THAT(e, HasSubstr("arch.array.pe 'int8'"));
  EXPECT_THAT(e, HasSubstr("int2..int8"));
  a.array.pe = "gobo";
  EXPECT_THAT(error_of(a, {job("fp16", "int8")}), HasSubstr("w_format"));
  EXPECT_THAT(error_of(a, {job("gobo", "gobo")}), HasSubstr("x_format"));
  a.array.pe = "olive8";
  a.array.rows = 31;  // four 4-bit PEs per MAC need even sides
  EXPECT_THAT(error_of(a, {job("olive8", "olive8")}), HasSubstr("arch.array.rows"));
  a = ArchConfig();
  EXPECT_THAT(error_of(a, {job("int8:blok=3", "int8")}), HasSubstr("job 'proj'.x_format"));
  EXPECT_THAT(error_of(a, {job("int8", "nosuchformat")}), HasSubstr("job 'proj'.w_format"));
}

TEST(BadInput, JobsAndOperands) {
  ArchConfig a;
  GemmJob j = job();
  j.m = -1;
  EXPECT_THAT(error_of(a, {j}), HasSubstr("job 'proj'"));
  j = job();
  j.batch = 0;
  EXPECT_THAT(error_of(a, {j}), HasSubstr("job 'proj'.batch"));
  // Operand shape and format must match the job.
  j = job();
  j.x = {Operand{test::encoded("int8", 64, 32, 1), nullptr}};
  j.w = {Operand{test::encoded("int8", 64, 64, 2), nullptr}};
  EXPECT_THAT(error_of(a, {j}), HasSubstr("job 'proj'.x[0]"));
  j.x = {Operand{test::encoded("int4", 64, 64, 1), nullptr}};
  EXPECT_THAT(error_of(a, {j}), HasSubstr("encoded as 'int4"));
  j.x = {Operand{test::encoded("int8", 64, 64, 1), nullptr}};
  j.batch = 3;
  j.w = {Operand{test::encoded("int8", 64, 64, 2), nullptr},
         Operand{test::encoded("int8", 64, 64, 3), nullptr}};
  EXPECT_THAT(error_of(a, {j}), HasSubstr("job 'proj'.w"));
}

}  // namespace
}  // namespace qarch::models
