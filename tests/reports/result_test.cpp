#include "qarch/reports/result.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace qarch::reports {
namespace {

PointResult point(const std::string& id, double qsnr, double energy, double area) {
  PointResult p;
  p.id = id;
  p.clock_ghz = 0.5;
  GemmRow g;
  g.gemm = "g";
  g.cycles = 1000;
  g.stall_cycles = 100;
  g.macs = 64000;
  g.dram_read_bytes = 3000;
  g.dram_write_bytes = 1000;
  g.energy_pj["mac"] = energy;
  g.has_error = qsnr > 0;
  g.output_qsnr_db = qsnr;
  p.gemms = {g, g};
  p.area_mm2["pe_array"] = area;
  p.finish_totals(64);
  return p;
}

TEST(Result, FinishTotalsSumsGemmsAndDerivesRoofline) {
  const PointResult p = point("a", 20, 5, 1);
  EXPECT_EQ(p.cycles, 2000u);
  EXPECT_EQ(p.macs, 128000u);
  EXPECT_DOUBLE_EQ(p.energy_total_pj(), 10.0);
  EXPECT_DOUBLE_EQ(p.seconds, 2000 / 0.5e9);
  EXPECT_DOUBLE_EQ(p.utilization, 128000.0 / (64.0 * 2000));  // 1.0: every PE busy
  EXPECT_DOUBLE_EQ(p.op_intensity, 2.0 * 128000 / 8000);
  EXPECT_DOUBLE_EQ(p.peak_gops, 64.0);
  EXPECT_DOUBLE_EQ(p.attained_gops, 64.0);
  EXPECT_TRUE(p.has_accuracy);
  EXPECT_DOUBLE_EQ(p.mean_qsnr_db, 20);
}

TEST(Result, JsonRoundTripIsExactAndInfinityIsClamped) {
  PointResult p = point("a", 20, 5, 1);
  p.gemms[0].output_qsnr_db = std::numeric_limits<double>::infinity();
  p.params["array.rows"] = "32";
  const nlohmann::json j = p;
  const PointResult q = j.get<PointResult>();
  EXPECT_EQ(nlohmann::json(q).dump(), j.dump());
  EXPECT_EQ(q.gemms[0].output_qsnr_db, 999.0);
}

TEST(Result, ParetoFrontKeepsOnlyUndominatedPoints) {
  // b dominates a (more accurate, cheaper, same area); c trades accuracy for energy; d is
  // worse than c everywhere.
  const std::vector<PointResult> pts = {point("a", 20, 10, 1), point("b", 25, 8, 1),
                                        point("c", 15, 2, 1), point("d", 14, 3, 2)};
  EXPECT_EQ(pareto_front(pts), (std::vector<size_t>{1, 2}));
}

TEST(Result, ParetoFrontComparesOnlyPointsOfTheSameWorkload) {
  std::vector<PointResult> pts = {point("prefill-a", 20, 10, 1), point("decode-a", 25, 1, 1),
                                  point("prefill-b", 10, 20, 1)};
  pts[0].workload.name = pts[2].workload.name = "prefill";
  pts[1].workload.name = "decode";
  // decode-a beats prefill-a everywhere but runs another job: both are on their fronts.
  EXPECT_EQ(pareto_front(pts), (std::vector<size_t>{0, 1}));
}

}  // namespace
}  // namespace qarch::reports
