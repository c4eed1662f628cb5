// The PE clock check (reports/clock_check.h): the compiled-in RTL timing is the committed
// snapshot's, its periods add up from the library's flip-flop times and ABC's logic delay, and
// the warning appears exactly when a 7 nm architecture's clock exceeds its PE's maximum.
#include "qarch/reports/clock_check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace qarch::reports {
namespace {

nlohmann::json snapshot_file() {
  std::ifstream in(std::string(QARCH_SOURCE_DIR) + "/rtl/synth/results/area.json");
  EXPECT_TRUE(in) << "rtl/synth/results/area.json";
  return nlohmann::json::parse(in);
}

TEST(ClockCheck, PeTimingIsTheCommittedSnapshots) {
  const nlohmann::json j = snapshot_file();
  ASSERT_TRUE(j.contains("liberty")) << "the snapshot has no standard-cell mapping";
  const double clk_q = j["liberty"]["clk_to_q_ps"], setup = j["liberty"]["setup_ps"];
  EXPECT_GT(clk_q, 10);  // ASAP7 DFFHQNx1 at 20 ps / 2.88 fF: 64.7 ps
  EXPECT_GT(setup, 0);
  std::map<std::string, nlohmann::json> lib;
  for (const auto& b : j["blocks"]) {
    ASSERT_TRUE(b.contains("liberty")) << b["name"] << " is not mapped on the standard cells";
    const auto& l = b["liberty"];
    // period = clock-to-Q + logic + setup, f_max = 1 / period (as rounded in the file).
    EXPECT_NEAR(l["period_ps"].get<double>(), clk_q + l["comb_delay_ps"].get<double>() + setup,
                0.01)
        << b["name"];
    EXPECT_NEAR(l["fmax_ghz"].get<double>(), 1000.0 / l["period_ps"].get<double>(), 6e-4)
        << b["name"];
    lib[b["name"].get<std::string>()] = l;
  }
  const std::vector<std::tuple<std::string, int, std::string>> pes = {
      {"int8", 8, "int8_mac"},    {"olive4", 4, "ovp4_pe"}, {"olive8", 8, "ovp8_pe"},
      {"amxfp4", 4, "amxfp4_pe"}, {"mx", 4, "mxfp4_pe"},    {"mx", 8, "mxint8_pe"},
      {"bfp", 4, "bfp12_pe"},     {"bfp", 8, "bfp16_pe"}};
  for (const auto& [pe, bits, block] : pes) {
    const auto t = pe_timing(pe, bits);
    ASSERT_TRUE(t) << pe;
    EXPECT_EQ(t->block, block) << pe << "@" << bits;
    EXPECT_EQ(t->library, "asap7");
    EXPECT_EQ(t->period_ps, lib.at(block)["period_ps"].get<double>()) << block;
    EXPECT_EQ(t->fmax_ghz, lib.at(block)["fmax_ghz"].get<double>()) << block;
  }
  for (const char* pe : {"int4", "nvfp4", "gobo", "olaccel"}) EXPECT_FALSE(pe_timing(pe, 4)) << pe;
}

models::ArchConfig arch(const std::string& pe, double ghz) {
  models::ArchConfig a;
  a.name = "fast-" + pe;
  a.array.pe = pe;
  a.clock_ghz = ghz;
  return a;
}

TEST(ClockCheck, WarnsOnlyAbove7nmMaximum) {
  const auto t = pe_timing("int8", 8);
  ASSERT_TRUE(t);
  const std::string w = clock_warning(arch("int8", t->fmax_ghz * 1.01), "7nm", "int8", "int8");
  EXPECT_NE(w.find("warning: fast-int8"), std::string::npos) << w;
  EXPECT_NE(w.find("int8_mac"), std::string::npos) << w;
  EXPECT_NE(w.find("asap7"), std::string::npos) << w;
  EXPECT_NE(w.find(std::to_string(static_cast<long>(std::lround(t->period_ps))) + " ps"),
            std::string::npos)
      << w;
  EXPECT_EQ(clock_warning(arch("int8", t->fmax_ghz * 0.99), "7nm", "int8", "int8"), "");
  EXPECT_EQ(clock_warning(arch("int8", t->fmax_ghz), "7nm", "int8", "int8"), "");
  // No delay-scaling rule in the technology table: other nodes are not checked.
  EXPECT_EQ(clock_warning(arch("int8", 100), "22nm", "int8", "int8"), "");
  // No RTL PE: not checked.
  EXPECT_EQ(clock_warning(arch("nvfp4", 100), "7nm", "nvfp4", "nvfp4"), "");
  // The MX PE variant follows the operands' width: MXFP4 runs on mxfp4_pe, MXINT8 on mxint8_pe.
  EXPECT_NE(clock_warning(arch("mx", 100), "7nm", "mxfp4", "mxfp4").find("mxfp4_pe"),
            std::string::npos);
  EXPECT_NE(clock_warning(arch("mx", 100), "7nm", "mxint8", "mxint8").find("mxint8_pe"),
            std::string::npos);
}

}  // namespace
}  // namespace qarch::reports
