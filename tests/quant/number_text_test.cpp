// common/number_text: the shortest round-trip text, independent of the C locale.
#include <gtest/gtest.h>

#include <clocale>
#include <cstdlib>
#include <random>

#include "qarch/common/number_text.h"

namespace qarch {
namespace {

TEST(NumberText, ShortestGStyleTextThatReadsBack) {
  EXPECT_EQ(format_g(0.03), "0.03");
  EXPECT_EQ(format_g(1e-05), "1e-05");
  EXPECT_EQ(format_g(0.0001), "0.0001");
  EXPECT_EQ(format_g(448.0), "448");
  EXPECT_EQ(format_g(0.1f), "0.1");
  EXPECT_EQ(format_g(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(format_g(-0.0), "-0");
  EXPECT_EQ(format_g(std::nan("")), "nan");
  EXPECT_EQ(format_g(-HUGE_VAL), "-inf");
  EXPECT_EQ(shortest(0.0001), "1e-04");  // shorter than 0.0001
  EXPECT_EQ(shortest(1e-05), "1e-05");
  EXPECT_EQ(shortest(HUGE_VAL), "inf");
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-30, 30);
  for (int i = 0; i < 2000; ++i) {
    const double d = std::ldexp(u(rng), static_cast<int>(u(rng)));
    EXPECT_EQ(std::strtod(format_g(d).c_str(), nullptr), d) << format_g(d);
    const float f = static_cast<float>(d);
    EXPECT_EQ(std::strtof(format_g(f).c_str(), nullptr), f) << format_g(f);
  }
}

TEST(NumberText, IndependentOfTheCLocale) {
  // A locale with a decimal comma changes printf's "%g", not this text.
  const char* old = std::setlocale(LC_NUMERIC, nullptr);
  const std::string saved = old ? old : "C";
  if (!std::setlocale(LC_NUMERIC, "de_DE.UTF-8") && !std::setlocale(LC_NUMERIC, "fr_FR.UTF-8"))
    GTEST_SKIP() << "no decimal-comma locale installed";
  EXPECT_EQ(format_g(0.5), "0.5");
  EXPECT_EQ(shortest(2.25), "2.25");
  std::setlocale(LC_NUMERIC, saved.c_str());
}

}  // namespace
}  // namespace qarch
