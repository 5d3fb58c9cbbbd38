// mage calibrate end to end: the report on stdout or in a file, the verdict lines, errors.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "run_mage.h"

namespace mage::test {
namespace {

TEST(CalibrateCommand, PrintsTheReportOfTheChosenFacts) {
  auto r = run_mage("calibrate --only stencil-default --jobs 2");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("# Calibration"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("## stencil-default: holds"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("## circuit-framebuffer"), std::string::npos) << "only the chosen fact";
}

TEST(CalibrateCommand, WritesTheReportAndPrintsOneVerdictPerFact) {
  const auto path = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_calibration.md");
  auto r = run_mage("calibrate --only circuit-framebuffer --only dgemm-layout --output " + path.string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("circuit-framebuffer    holds"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dgemm-layout           holds"), std::string::npos) << r.out;
  std::ifstream in(path);
  const std::string md((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(md.find("## circuit-framebuffer: holds"), std::string::npos) << md;
  EXPECT_NE(md.find("layout mismatch, operand A"), std::string::npos) << md;
  std::filesystem::remove(path);
}

TEST(CalibrateCommand, Errors) {
  auto unknown = run_mage("calibrate --only circuit");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("mage: error: unknown fact 'circuit'"), std::string::npos) << unknown.out;
  auto jobs = run_mage("calibrate --jobs -1");
  EXPECT_EQ(jobs.exit_code, 1);
  EXPECT_NE(jobs.out.find("--jobs must be 0"), std::string::npos) << jobs.out;
  auto unwritable = run_mage("calibrate --only stencil-default --output /nonexistent/dir/report.md");
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_NE(unwritable.out.find("/nonexistent/dir/report.md"), std::string::npos) << unwritable.out;
}

}  // namespace
}  // namespace mage::test
