// Sizes a user gives (--iterations, --nodes) are bounded before anything is built: every
// command that builds a program refuses one over --task-limit at once, naming the estimate,
// the limit and the flag that lifts it (issue 14 §1).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "run_mage.h"

namespace mage::test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

const std::string kOverLimit =
    "circuit with 1000000000 timed iterations on 1 node would run about 12,000,000,009 point tasks, more than the "
    "limit of 10,000,000 (--task-limit N raises it, --task-limit 0 lifts it)";

TEST(TaskLimit, EveryCommandRefusesAHugeProgramAtOnce) {
  const std::string out =
      (std::filesystem::temp_directory_path() / ("mage_limits_" + std::to_string(::getpid()))).string();
  const std::string program = "circuit --machine p100x4 --iterations 1000000000";
  for (const std::string& args : std::vector<std::string>{
           "run " + program + " --expert",
           "run " + program + " --default --json",
           "run " + program + " --mapper " + source_path("mappers/expert/circuit.map"),
           "app show " + program,
           "app show " + program + " --json",
           "explain " + program + " --expert",
           "tune " + program + " --space",
           "tune " + program + " --budget 2 --out " + out + "/tune",
           "experiment --apps circuit --machine p100x4 --iterations 1000000000 --seeds 1 --budget 1 "
           "--optimizers random --out " +
               out + "/experiment",
       }) {
    const auto start = std::chrono::steady_clock::now();
    auto r = run_mage(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, "mage: error: " + kOverLimit)) << args << "\n" << r.out;
    EXPECT_LT(seconds_since(start), 10) << args;
  }
  EXPECT_FALSE(std::filesystem::exists(out + "/tune"));
  std::filesystem::remove_all(out);
}

TEST(TaskLimit, TheFlagRaisesAndLiftsIt) {
  // Small circuit, default iterations: 2 timed iterations of 4 pieces x 3 launches and more.
  auto over = run_mage("run circuit --machine p100x4 --scale small --default --task-limit 5");
  EXPECT_EQ(over.exit_code, 1) << over.out;
  EXPECT_TRUE(contains(over.out, "more than the limit of 5 (--task-limit N raises it, --task-limit 0 lifts it)"))
      << over.out;
  for (const char* limit : {"0", "1000000000"}) {
    auto r = run_mage(std::string("run circuit --machine p100x4 --scale small --default --task-limit ") + limit);
    EXPECT_EQ(r.exit_code, 0) << limit << "\n" << r.out;
  }
  auto show = run_mage("app show circuit --machine p100x4 --iterations 1000 --task-limit 0");
  EXPECT_EQ(show.exit_code, 0) << show.out;
  EXPECT_TRUE(contains(show.out, "each of 1000 timed iterations")) << show.out;
}

TEST(TaskLimit, ANegativeLimitIsAUsageError) {
  for (const char* args :
       {"run circuit --machine p100x4 --default --task-limit -1", "app show circuit --machine p100x4 --task-limit -1",
        "explain circuit --machine p100x4 --default --task-limit -1",
        "tune circuit --machine p100x4 --space --task-limit -1"}) {
    auto r = run_mage(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, "mage: error: --task-limit must be 0 (no limit) or more point tasks")) << args << "\n"
                                                                                                       << r.out;
  }
}

// The node count is bounded by the machine reader for every command.
TEST(TaskLimit, AMillionNodesIsRefused) {
  for (const std::string& args : std::vector<std::string>{
           "run circuit --machine p100x4 --nodes 1000000 --expert",
           "app show circuit --machine p100x4 --nodes 1000000",
           "explain circuit --machine p100x4 --nodes 1000000 --expert",
           "tune circuit --machine p100x4 --nodes 1000000 --space",
           "machine show p100x4 --nodes 1000000",
       }) {
    const auto start = std::chrono::steady_clock::now();
    auto r = run_mage(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, "nodes: override must be between 1 and 4096 (got 1000000)")) << args << "\n" << r.out;
    EXPECT_LT(seconds_since(start), 10) << args;
  }
}

// The largest node count allowed stays within the limit or is refused by it, quickly.
TEST(TaskLimit, TheLargestMachineIsBoundedToo) {
  auto r = run_mage("app show cannon --machine p100x4 --nodes 4096");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "cannon with 10 timed iterations on 4096 nodes would run about 37,597,184 point tasks"))
      << r.out;
}

// tune --space builds the program in-process: on Lassen's 4096 nodes it is refused at once
// (it took 4.8 GB and six minutes before the limit).
TEST(TaskLimit, TuneSpaceOnTheLargestLassenIsRefusedAtOnce) {
  for (const char* app : {"cannon", "solomonik"}) {
    const auto start = std::chrono::steady_clock::now();
    auto r = run_mage(std::string("tune ") + app + " --machine lassen --nodes 4096 --space");
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_TRUE(contains(r.out, "on 4096 nodes would run about ")) << r.out;
    EXPECT_TRUE(contains(r.out, "(--task-limit N raises it, --task-limit 0 lifts it)")) << r.out;
    EXPECT_LT(seconds_since(start), 10) << app;
  }
}

}  // namespace
}  // namespace mage::test
