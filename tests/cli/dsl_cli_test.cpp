#include <gtest/gtest.h>

#include "run_mage.h"

namespace mage::test {
namespace {

TEST(CheckCommand, ExampleMappersPass) {
  auto r = run_mage("check " + source_path("mappers/examples/circuit.map"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace mage::test
