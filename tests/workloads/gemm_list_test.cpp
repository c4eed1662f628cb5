// GEMM list files (workloads/include/qarch/workloads/gemm_list.h): reading, every error with its
// file:line:col and key, and the canonical round trip.
#include "qarch/workloads/gemm_list.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "qarch/common/error.h"

namespace qarch::workloads {
namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_gemm_list(yaml, "g.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return "";
}

TEST(GemmList, Reads) {
  const GemmList l = parse_gemm_list(R"(name: resnet-part
source: from SCALE-Sim
gemms:
  - {name: conv1, m: 12544, n: 64, k: 147}   # comment
  - name: fc
    m: 1
    n: 1000
    k: 512
    batch: 3
)",
                                     "g.yaml");
  EXPECT_EQ(l.name, "resnet-part");
  EXPECT_EQ(l.source, "from SCALE-Sim");
  ASSERT_EQ(l.gemms.size(), 2u);
  EXPECT_EQ(l.gemms[0].name, "conv1");
  EXPECT_EQ(l.gemms[0].m, 12544);
  EXPECT_EQ(l.gemms[0].n, 64);
  EXPECT_EQ(l.gemms[0].k, 147);
  EXPECT_EQ(l.gemms[0].batch, 1);
  EXPECT_EQ(l.gemms[1].name, "fc");
  EXPECT_EQ(l.gemms[1].batch, 3);
}

TEST(GemmList, Errors) {
  struct Case {
    std::string yaml, message;
  };
  const std::string h = "name: x\ngemms:\n";
  const Case cases[] = {
      {h + "  - {name: a, m: 0, n: 1, k: 1}\n",
       "g.yaml:3:18: key 'gemms[0].m': value 0 is out of range [1, 1099511627776]"},
      {h + "  - {name: a, m: 1, n: -5, k: 1}\n",
       "g.yaml:3:24: key 'gemms[0].n': value -5 is out of range [1, 1099511627776]"},
      {h + "  - {name: a, m: 1, n: 1, k: ten}\n",
       "g.yaml:3:30: key 'gemms[0].k': expected an integer, got 'ten'"},
      {h + "  - {name: a, m: 1, n: 1}\n", "g.yaml:3:5: missing required key 'gemms[0].k'"},
      {h + "  - {name: a, m: 1, n: 1, k: 1, kk: 2}\n", "g.yaml:3:33: unknown key 'gemms[0].kk'"},
      {h + "  - {name: a, m: 1, n: 1, k: 1, m: 2}\n",
       "g.yaml:3:33: key 'gemms[0].m': duplicate key (given twice in this mapping)"},
      {h + "  - {name: a, m: 1, n: 1, k: 1}\n  - {name: a, m: 2, n: 2, k: 2}\n",
       "g.yaml:4:12: key 'gemms[1].name': duplicate GEMM name 'a' (first given at g.yaml:3:12)"},
      {h + "  - {name: a, m: 1099511627776, n: 1099511627776, k: 1}\n",
       "g.yaml:3:18: key 'gemms[0].m': m * n * k * batch = 1099511627776 * 1099511627776 * 1 * "
       "1 MACs is beyond 2^62"},
      {h + "  - [1, 2, 3]\n", "g.yaml:3:5: key 'gemms[0]': expected a mapping"},
      {h + "  - {name: '', m: 1, n: 1, k: 1}\n",
       "g.yaml:3:12: key 'gemms[0].name': must not be empty"},
      {"name: x\ngemms: []\n", "g.yaml:2:8: key 'gemms': the list is empty"},
      {"name: x\ngemms: {a: 1}\n", "g.yaml:2:8: key 'gemms': expected a list"},
      {"name: x\n", "g.yaml:1:1: missing required key 'gemms'"},
      {"gemms: [{name: a, m: 1, n: 1, k: 1}]\n", "g.yaml:1:1: missing required key 'name'"},
      {"name: x\nmodel: y\ngemms: [{name: a, m: 1, n: 1, k: 1}]\n",
       "g.yaml:2:1: unknown key 'model'"},
      {"", "g.yaml:1:1: the file is empty"},
      {"name: [x\n", "g.yaml:2:1: YAML syntax error: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    const std::string e = error_of(c.yaml);
    EXPECT_EQ(e.rfind(c.message, 0), 0u) << "got:  " << e << "\nwant: " << c.message << "...";
  }
}

TEST(GemmList, MissingFile) {
  try {
    load_gemm_list("/nonexistent/w.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/w.yaml"), std::string::npos);
  }
}

TEST(GemmList, CanonicalRoundTrip) {
  GemmList l;
  l.name = "odd: \"name\" #1";
  l.source = "a\\b\tc";
  l.gemms = {{"conv 1", 12544, 64, 147, 1}, {"fc: \"x\"", 1, 1000, 512, 7}, {"yes", 3, 4, 5, 2}};
  const std::string text = gemm_list_yaml(l);
  const GemmList b = parse_gemm_list(text, "rt.yaml");
  EXPECT_EQ(b.name, l.name);
  EXPECT_EQ(b.source, l.source);
  ASSERT_EQ(b.gemms.size(), l.gemms.size());
  for (size_t i = 0; i < l.gemms.size(); ++i) {
    EXPECT_EQ(b.gemms[i].name, l.gemms[i].name);
    EXPECT_EQ(b.gemms[i].m, l.gemms[i].m);
    EXPECT_EQ(b.gemms[i].n, l.gemms[i].n);
    EXPECT_EQ(b.gemms[i].k, l.gemms[i].k);
    EXPECT_EQ(b.gemms[i].batch, l.gemms[i].batch);
  }
  EXPECT_EQ(gemm_list_yaml(b), text);
  // The file reader gives the same.
  const std::string path = ::testing::TempDir() + "/gemm_list_rt.yaml";
  std::ofstream(path) << text;
  EXPECT_EQ(gemm_list_yaml(load_gemm_list(path)), text);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace qarch::workloads
