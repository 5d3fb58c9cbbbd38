// Errors at their source (issue 14 §1): `mage check --machine` runs the top level as `mage
// run` does; contradictory layouts, a tiny memory and a directory as --machine are refused
// where they are written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "run_mage.h"

namespace mage::test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The top level recurses forever: only running it finds out.
const std::string kRecursiveTop = "def f(int n) {\n  return f(n + 1);\n}\nx = f(0);\nTask * GPU;\n";
const std::string kRecursionError = ":2:10: error: call depth exceeded 64 (unbounded recursion in 'f'?)";

TEST(CheckWithAMachine, RunsTheTopLevelAsRunDoes) {
  TempFile mapper("recursive_top.map", kRecursiveTop);
  auto run = run_mage("run circuit --machine p100x4 --scale small --mapper " + mapper.path());
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_TRUE(contains(run.out, mapper.path() + kRecursionError)) << run.out;

  auto plain = run_mage("check " + mapper.path());
  EXPECT_EQ(plain.exit_code, 0) << plain.out;  // without a machine, the top level is not run
  for (const std::string& machine : {std::string("p100x4"), source_path("machines/lassen.toml")}) {
    auto check = run_mage("check " + mapper.path() + " --machine " + machine);
    EXPECT_EQ(check.exit_code, 1) << check.out;
    EXPECT_TRUE(contains(check.out, mapper.path() + kRecursionError)) << check.out;
  }
  auto json = run_mage("check --json " + mapper.path() + " --machine p100x4");
  EXPECT_EQ(json.exit_code, 1) << json.out;
  EXPECT_TRUE(contains(json.out, "\"id\": \"recursion_limit\"")) << json.out;
}

TEST(CheckWithAMachine, TheExpertMappersPassOnTheirMachines) {
  for (const char* app : {"circuit", "cannon", "cosma"}) {
    auto r = run_mage(std::string("check ") + source_path(std::string("mappers/expert/") + app + ".map") +
                      " --machine p100x4");
    EXPECT_EQ(r.exit_code, 0) << app << "\n" << r.out;
  }
}

TEST(CheckWithAMachine, AMachineThatDoesNotLoadIsAUsageError) {
  TempFile mapper("ok.map", "Task * GPU;\n");
  auto r = run_mage("check " + mapper.path() + " --machine no_such_machine");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "mage: error: unknown machine preset 'no_such_machine'")) << r.out;
}

TEST(LayoutConstraints, ContradictionsAreErrorsOfCheckAndRun) {
  TempFile mapper("contradiction.map", "Task * GPU;\nLayout * * * SOA AOS;\n");
  auto check = run_mage("check " + mapper.path());
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_TRUE(
      contains(check.out, mapper.path() + ":2:18: error: 'AOS' contradicts 'SOA' (column 14) in the same Layout rule"))
      << check.out;
  auto run = run_mage("run circuit --machine p100x4 --scale small --mapper " + mapper.path());
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_TRUE(contains(run.out, "'AOS' contradicts 'SOA'")) << run.out;
}

TEST(MachineFiles, ADirectoryIsNamedAsOne) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("mage_dir_" + std::to_string(::getpid()) + ".toml")).string();
  std::filesystem::create_directories(dir);
  TempFile mapper("ok.map", "Task * GPU;\n");
  for (const std::string& args : std::vector<std::string>{
           "run circuit --scale small --default --machine " + dir,
           "app show circuit --machine " + dir,
           "machine show " + dir,
           "check " + mapper.path() + " --machine " + dir,
       }) {
    auto r = run_mage(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, dir + ": is a directory, not a machine file")) << args << "\n" << r.out;
    EXPECT_FALSE(contains(r.out, "missing table")) << args << "\n" << r.out;
  }
  std::filesystem::remove(dir);
}

TEST(MachineFiles, ATinyMemoryIsRefusedAtItsKey) {
  std::ifstream in(source_path("machines/p100x4.toml"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("capacity_gib = ");
  ASSERT_NE(at, std::string::npos);
  const size_t end = text.find('\n', at);
  text.replace(at, end - at, "capacity_gib = 1e-300");
  TempFile machine("tiny_memory.toml", text);
  auto r = run_mage("run circuit --scale small --default --machine " + machine.path());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, machine.path() + ":")) << r.out;
  EXPECT_TRUE(contains(r.out, ".capacity_gib: must be at least 1 MiB, 0.0009765625 GiB (got 1e-300)")) << r.out;
}

}  // namespace
}  // namespace mage::test
