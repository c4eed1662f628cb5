// The report writers without a browser: CSV quoting and shape, JSON round trip and its error
// messages, determinism, and write_report's files.
#include "qarch/reports/writers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qarch/common/error.h"
#include "report_samples.h"

namespace qarch::reports {
namespace {

using testing::sample_point;
using testing::sample_report;
namespace fs = std::filesystem;

// A strict RFC 4180 reader (LF or CRLF rows): the test's own, so it checks the writer.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty() && !quoted) << "quote inside an unquoted field at " << i;
      in_quotes = quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      quoted = false;
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      quoted = false;
    } else {
      EXPECT_FALSE(quoted) << "text after a closing quote at " << i;
      field += c;
    }
  }
  EXPECT_FALSE(in_quotes) << "unterminated quoted field";
  EXPECT_TRUE(row.empty() && field.empty()) << "last row without a newline";
  return rows;
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  ADD_FAILURE() << "no column " << name;
  return 0;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path temp_dir() {
  std::string t = (fs::temp_directory_path() / "qarch_writers_XXXXXX").string();
  EXPECT_NE(mkdtemp(t.data()), nullptr);
  return t;
}

TEST(Csv, QuotesCommasQuotesAndNewlinesAndEveryRowHasTheHeadersColumns) {
  Report r = sample_report();
  r.points[0].id = "a,\"b\"\nc";
  r.points[1].workload.name = "plain";
  r.points[2].workload.name = "two\nlines";  // each special character alone forces quotes
  r.points[3].workload.name = "say \"hi\"";
  r.points[4].workload.name = "cr\r";
  r.points[1].params["array.rows"] = "32,64";
  for (const std::string& text : {summary_csv(r), gemms_csv(r)}) {
    const auto rows = parse_csv(text);
    ASSERT_GE(rows.size(), 2u);
    for (size_t i = 0; i < rows.size(); ++i)
      EXPECT_EQ(rows[i].size(), rows[0].size()) << "row " << i;
    EXPECT_EQ(rows[1][0], "a,\"b\"\nc");
  }
  const std::string s = summary_csv(r);
  EXPECT_NE(s.find("\"a,\"\"b\"\"\nc\","), std::string::npos);  // the raw RFC 4180 form
  EXPECT_NE(s.find(",plain,"), std::string::npos);              // unquoted when not needed
  EXPECT_NE(s.find(",\"two\nlines\","), std::string::npos);
  EXPECT_NE(s.find(",\"say \"\"hi\"\"\","), std::string::npos);
  EXPECT_NE(s.find(",\"cr\r\","), std::string::npos);
  const auto rows = parse_csv(s);
  EXPECT_EQ(rows[2][column(rows[0], "param:array.rows")], "32,64");
  EXPECT_EQ(rows[1][column(rows[0], "param:array.rows")], "");  // not swept for this point
}

TEST(Csv, SummaryColumnsAndValues) {
  Report r = sample_report();
  r.points[2].area_mm2["noc"] = 0.25;  // an extra area component gets its own column
  const auto rows = parse_csv(summary_csv(r));
  ASSERT_EQ(rows.size(), 1 + r.points.size());
  const auto& h = rows[0];
  // Energy columns in kEnergyComponents order, then the total; area in area_breakdown order.
  size_t e = column(h, "energy_mac_pj");
  for (const char* c : kEnergyComponents) EXPECT_EQ(h[e++], "energy_" + std::string(c) + "_pj");
  EXPECT_EQ(h[e], "energy_total_pj");
  size_t a = column(h, "area_pe_array_mm2");
  for (const char* c : {"pe_array", "decoders", "sram_input", "sram_weight", "sram_output", "noc"})
    EXPECT_EQ(h[a++], "area_" + std::string(c) + "_mm2");
  EXPECT_EQ(h[a], "area_total_mm2");
  const PointResult& p = r.points[2];
  const auto& row = rows[3];
  EXPECT_EQ(row[column(h, "id")], "int8-32x32");
  EXPECT_EQ(row[column(h, "cycles")], std::to_string(p.cycles));
  // Doubles are written with the shortest text that reads back to the same value.
  EXPECT_EQ(std::strtod(row[column(h, "seconds")].c_str(), nullptr), p.seconds);
  EXPECT_EQ(std::strtod(row[column(h, "energy_total_pj")].c_str(), nullptr), p.energy_total_pj());
  EXPECT_EQ(std::strtod(row[column(h, "energy_dram_pj")].c_str(), nullptr), p.energy_pj.at("dram"));
  EXPECT_EQ(row[column(h, "area_noc_mm2")], "0.25");
  EXPECT_EQ(rows[1][column(h, "area_noc_mm2")], "0");
  EXPECT_EQ(std::strtod(row[column(h, "mean_qsnr_db")].c_str(), nullptr), p.mean_qsnr_db);
  // The point without accuracy has empty accuracy cells, not 0 dB.
  EXPECT_EQ(rows[2][column(h, "id")], "gobo-32x32");
  EXPECT_EQ(rows[2][column(h, "mean_qsnr_db")], "");
  EXPECT_EQ(rows[2][column(h, "min_qsnr_db")], "");
  for (size_t i = 0; i < r.points.size(); ++i) {
    const bool front = std::find(r.pareto.begin(), r.pareto.end(), i) != r.pareto.end();
    EXPECT_EQ(rows[1 + i][column(h, "pareto")], front ? "1" : "0");
  }
}

TEST(Csv, ShortestRoundTripNumbers) {
  Report r;
  PointResult p;
  p.id = "x";
  p.seconds = 0.1 + 0.2;
  p.utilization = 1e-300;
  p.energy_pj["mac"] = 5;
  r.points = {p};
  const auto rows = parse_csv(summary_csv(r));
  EXPECT_EQ(rows[1][column(rows[0], "seconds")], "0.30000000000000004");
  EXPECT_EQ(rows[1][column(rows[0], "utilization")], "1e-300");
  EXPECT_EQ(rows[1][column(rows[0], "energy_mac_pj")], "5");
  EXPECT_EQ(rows[1][column(rows[0], "energy_static_pj")], "0");  // missing component = 0
}

TEST(Csv, GemmsHasOneRowPerPointAndGemm) {
  const Report r = sample_report();
  const auto rows = parse_csv(gemms_csv(r));
  size_t n = 0;
  for (const PointResult& p : r.points) n += p.gemms.size();
  ASSERT_EQ(rows.size(), 1 + n);
  const auto& h = rows[0];
  EXPECT_EQ(h[0], "point_id");
  EXPECT_EQ(h.back(), "traffic_lower_bound");
  const GemmRow& g = r.points[0].gemms[4];
  const auto& row = rows[5];
  EXPECT_EQ(row[column(h, "gemm")], g.gemm);
  EXPECT_EQ(row[column(h, "kind")], "gate");
  EXPECT_EQ(row[column(h, "m")], "2048");
  EXPECT_EQ(row[column(h, "n")], "11008");
  EXPECT_EQ(row[column(h, "k")], "4096");
  EXPECT_EQ(row[column(h, "macs")], std::to_string(g.macs));
  EXPECT_EQ(std::strtod(row[column(h, "energy_total_pj")].c_str(), nullptr), g.energy_total_pj());
  EXPECT_EQ(std::strtod(row[column(h, "output_qsnr_db")].c_str(), nullptr), g.output_qsnr_db);
  // gobo (second point) measured no accuracy: empty error cells.
  const auto& gobo = rows[1 + r.points[0].gemms.size()];
  EXPECT_EQ(gobo[0], "gobo-32x32");
  EXPECT_EQ(gobo[column(h, "output_qsnr_db")], "");
  EXPECT_EQ(gobo[column(h, "output_rel_fro")], "");
}

// The mapper's columns: the mapping, DRAM bytes per operand, and the ratio to the compulsory
// traffic; report.json carries the runners-up and round-trips them.
TEST(Csv, GemmsCarryTheMappingAndItsTraffic) {
  Report r = sample_report();
  GemmRow& g = r.points[0].gemms[0];
  g.dataflow = "os";
  g.mapping = "os 128x128x256 nkm X@0 W@3 Y@1";
  g.loop_nest = "for n in [0:32)\n  for k in [0:16)\n";
  g.dram_x_bytes = 100, g.dram_w_bytes = 200, g.dram_y_bytes = 300, g.psum_bytes = 40;
  g.dram_read_bytes = 340, g.dram_write_bytes = 260;
  g.compulsory_bytes = 400;
  g.runners_up = {{"os 64x64x64 mnk X@3 W@3 Y@3", 1e6, 2e6, 700}};
  const auto rows = parse_csv(gemms_csv(r));
  const auto& h = rows[0];
  EXPECT_EQ(rows[1][column(h, "mapping")], g.mapping);
  EXPECT_EQ(rows[1][column(h, "dram_w_bytes")], "200");
  EXPECT_EQ(rows[1][column(h, "psum_bytes")], "40");
  EXPECT_EQ(rows[1][column(h, "traffic_ratio")], "1.5");
  nlohmann::json j = g;
  const GemmRow back = j.get<GemmRow>();
  EXPECT_EQ(back.loop_nest, g.loop_nest);
  ASSERT_EQ(back.runners_up.size(), 1u);
  EXPECT_EQ(back.runners_up[0].mapping, g.runners_up[0].mapping);
  EXPECT_EQ(back.runners_up[0].dram_bytes, 700u);
}

TEST(Json, RoundTripIsExact) {
  Report r = sample_report();
  r.points[0].params["buffers.input_kb"] = "128";
  r.points[0].seconds = 0.1 + 0.2;  // needs all 17 digits
  const std::string text = report_json(r);
  EXPECT_EQ(text.rfind("{\n  \"generator\": \"qarch 0.1.0\",\n", 0), 0u) << text.substr(0, 80);
  EXPECT_EQ(text.back(), '\n');
  const Report q = parse_report_json(text, "report.json");
  EXPECT_EQ(report_json(q), text);
  ASSERT_EQ(q.points.size(), r.points.size());
  EXPECT_EQ(q.points[0].seconds, r.points[0].seconds);
  EXPECT_EQ(q.points[3].gemms[6].energy_pj, r.points[3].gemms[6].energy_pj);
  EXPECT_EQ(q.points[0].params, r.points[0].params);
  EXPECT_EQ(q.pareto, r.pareto);
  EXPECT_EQ(q.notes, r.notes);
  EXPECT_FALSE(q.points[1].has_accuracy);
}

TEST(Json, ASinglePointFileBecomesAOnePointReport) {
  const PointResult p = sample_point("olive", "olive", 4, 24, 0.05, 0.7);
  const Report r = parse_report_json(nlohmann::json(p).dump(), "points/olive.json");
  ASSERT_EQ(r.points.size(), 1u);
  EXPECT_EQ(r.points[0].id, "olive");
  EXPECT_EQ(r.points[0].cycles, p.cycles);
  EXPECT_EQ(r.pareto, std::vector<size_t>{0});
  // An empty object is an empty report.
  EXPECT_TRUE(parse_report_json("{}", "e.json").points.empty());
}

std::string parse_error(const std::string& text, const std::string& file = "out/report.json") {
  try {
    parse_report_json(text, file);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Json, ErrorsNameTheFileAndThePath) {
  EXPECT_EQ(parse_error("{\"points\": [", "dir/r.json").rfind("dir/r.json: invalid JSON: ", 0), 0u);
  EXPECT_NE(parse_error("{\"points\": [").find("line 1, column 13"), std::string::npos)
      << parse_error("{\"points\": [");
  EXPECT_EQ(parse_error("[1,2]"),
            "out/report.json: expected a JSON object (a report or a point result), got array");
  nlohmann::json j = nlohmann::json(sample_report());
  j["points"][2]["cycles"] = "many";
  EXPECT_EQ(parse_error(j.dump()),
            "out/report.json: /points/2/cycles: expected a non-negative integer, got string "
            "\"many\"");
  j = nlohmann::json(sample_report());
  j["points"][0]["gemms"][3]["macs"] = -5;
  EXPECT_EQ(parse_error(j.dump()),
            "out/report.json: /points/0/gemms/3/macs: expected a non-negative integer, got "
            "number -5");
  j = nlohmann::json(sample_report());
  j["points"][0]["rows"] = 1.5;
  EXPECT_EQ(parse_error(j.dump()),
            "out/report.json: /points/0/rows: expected an integer, got number 1.5");
  j = nlohmann::json(sample_report());
  j["points"][1]["energy_pj"]["dram"] = "x";
  EXPECT_EQ(parse_error(j.dump()),
            "out/report.json: /points/1/energy_pj/dram: expected a number, got string \"x\"");
  j = nlohmann::json(sample_report());
  j["points"][1]["workload"]["modle"] = "llama";
  EXPECT_EQ(parse_error(j.dump()).rfind("out/report.json: /points/1/workload: unknown key "
                                        "\"modle\" (known: batch, context, layers, model, ",
                                        0),
            0u)
      << parse_error(j.dump());
  j = nlohmann::json(sample_report());
  j["notes"] = "one note";
  EXPECT_EQ(parse_error(j.dump()),
            "out/report.json: /notes: expected an array, got string \"one note\"");
  j = nlohmann::json(sample_report());
  j["pareto"] = {0, 9};
  EXPECT_EQ(parse_error(j.dump()),
            "out/report.json: /pareto/1: index 9 is out of range (5 points)");
  // A point file with a wrong type names the field from the point's root.
  nlohmann::json p = sample_point("a", "int8", 8, 30, 0.1, 1);
  p["has_accuracy"] = 1;
  EXPECT_EQ(parse_error(p.dump(), "points/a.json"),
            "points/a.json: /has_accuracy: expected true or false, got number 1");
}

TEST(Writers, SameReportGivesTheSameBytes) {
  // Two reports built independently (no shared state), each file compared byte for byte.
  const Report a = sample_report(), b = sample_report();
  EXPECT_EQ(report_json(a), report_json(b));
  EXPECT_EQ(summary_csv(a), summary_csv(b));
  EXPECT_EQ(gemms_csv(a), gemms_csv(b));
  EXPECT_EQ(render_html(a), render_html(b));
  // And a report that went through JSON renders identically.
  const Report c = parse_report_json(report_json(a), "a.json");
  EXPECT_EQ(render_html(c), render_html(a));
  EXPECT_EQ(summary_csv(c), summary_csv(a));
}

TEST(Writers, InvalidUtf8IsAnErrorNotAGarbledFile) {
  Report r = sample_report();
  r.points[0].id = "bad\xff";
  try {
    report_json(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("report JSON: a string is not valid UTF-8"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(render_html(r), Error);
}

TEST(Writers, WriteReportWritesFourFilesAndNoTemporaries) {
  const fs::path root = temp_dir();
  const fs::path dir = root / "a" / "b";  // created with its parent
  const Report r = sample_report();
  write_report(dir.string(), r);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"gemms.csv", "index.html", "report.json", "summary.csv"}));
  EXPECT_EQ(read(dir / "report.json"), report_json(r));
  EXPECT_EQ(read(dir / "summary.csv"), summary_csv(r));
  EXPECT_EQ(read(dir / "gemms.csv"), gemms_csv(r));
  EXPECT_EQ(read(dir / "index.html"), render_html(r));
  // Rewriting replaces the files (still four) with the new content.
  Report r2 = r;
  r2.title = "second";
  write_report(dir.string(), r2);
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(read(dir / "report.json"), report_json(r2));
  // A file where the directory should be is an error naming it.
  std::ofstream(root / "file") << "x";
  try {
    write_report((root / "file").string(), r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((root / "file").string()), std::string::npos) << e.what();
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace qarch::reports
