// The convergence plot: a best-so-far line whose times differ only in their last digits (the
// same schedule rounded differently) is drawn as a flat line; it made PLplot's tick loop run
// forever, writing a 32 GB file, before the axis had a floor.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../test_support.h"
#include "tune/detail.h"

namespace mage::tune::detail {
namespace {

TEST(Plot, TimesApartByRoundingDrawAFlatLine) {
  test::TempDir dir;
  const std::filesystem::path file = dir / "convergence.svg";
  std::string error;
  const std::vector<double> best{11.05637977541371, 11.05637977541371, 11.056379775413708};
  ASSERT_TRUE(plot_convergence(file, "cosma", best, 11.05637977541371, std::nullopt, error)) << error;
  EXPECT_LT(std::filesystem::file_size(file), 1u << 20);
  EXPECT_NE(test::read_text(file).find("<svg"), std::string::npos);
}

}  // namespace
}  // namespace mage::tune::detail
