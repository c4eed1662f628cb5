// Replays the configuration fuzz seeds (tests/fuzz/corpus/arch_yaml, .../scalesim) through the
// same entry points as the libFuzzer targets (tests/fuzz/fuzz_config_entry.h), plus ~200
// prefixes of every seed (the whole seed included), so the "qarch::Error or success, and canonical
// round trips" contract is checked in every build, not only the clang fuzz build.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_config_entry.h"

namespace qarch::fuzz {
namespace {

std::vector<std::string> seeds(const std::string& name) {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(QARCH_FUZZ_CORPUS_DIR) + "/" + name))
    files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replay(const std::string& name, std::string (*one)(const uint8_t*, size_t)) {
  const auto files = seeds(name);
  ASSERT_GE(files.size(), 3u);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    const std::string text = read(f);
    const auto* p = reinterpret_cast<const uint8_t*>(text.data());
    // About 200 prefixes per seed keep the test well under a second (ASan included).
    const size_t step = std::max<size_t>(1, text.size() / 200);
    std::vector<size_t> lengths;
    for (size_t n = 0; n < text.size(); n += step) lengths.push_back(n);
    lengths.push_back(text.size());
    for (const size_t n : lengths) {
      EXPECT_EQ(one(p, n), "") << "prefix of " << n << " bytes";
    }
  }
}

TEST(ConfigFuzzReplay, ArchYamlSeedsAndPrefixes) {
  replay("arch_yaml", fuzz_arch_yaml_one);
}
TEST(ConfigFuzzReplay, ScaleSimSeedsAndPrefixes) {
  replay("scalesim", fuzz_scalesim_one);
}

// The seeds themselves are accepted (else the fuzzer starts from rejections only).
TEST(ConfigFuzzReplay, SeedsAreValid) {
  EXPECT_NO_THROW(explore::parse_arch(
      read(std::string(QARCH_FUZZ_CORPUS_DIR) + "/arch_yaml/olive.yaml"), "olive.yaml"));
  EXPECT_NO_THROW(sim::parse_scalesim_config(
      read(std::string(QARCH_FUZZ_CORPUS_DIR) + "/scalesim/user_v1.cfg"), "user_v1.cfg"));
}

}  // namespace
}  // namespace qarch::fuzz
