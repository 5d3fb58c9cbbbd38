// mage apps and mage app show, end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_mage.h"

namespace mage::test {
namespace {

TEST(AppsCommand, ListsNineAppsOneLineEach) {
  auto r = run_mage("apps");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  int lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, 9) << r.out;
  for (const char* app :
       {"circuit ", "stencil ", "pennant ", "cannon ", "summa ", "pumma ", "johnson ", "solomonik ", "cosma "})
    EXPECT_NE(("\n" + r.out).find(std::string("\n") + app), std::string::npos) << app;
  EXPECT_EQ(r.out.rfind("circuit ", 0), 0u);
}

TEST(AppShow, DescribesTheProgramForTheMachine) {
  auto r = run_mage("app show circuit --machine lassen --nodes 2");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* s : {"machine: lassen, 2 nodes x 4 GPUs", "program circuit:", "pieces: 8",
                        "calculate_new_currents (leaf; variants GPU,CPU; fp32)", "index launch over 8",
                        "2 rp_ghost[i]: RO node_voltage", "cost: 1.92e+11 flops per point"})
    EXPECT_NE(r.out.find(s), std::string::npos) << "missing: " << s << "\n" << r.out;
}

TEST(AppShow, EveryAppOnTheMachineOfThePublishedResults) {
  for (const char* app :
       {"circuit", "stencil", "pennant", "cannon", "summa", "pumma", "johnson", "solomonik", "cosma"}) {
    auto r = run_mage(std::string("app show ") + app + " --machine p100x4 --scale small");
    EXPECT_EQ(r.exit_code, 0) << app << "\n" << r.out;
    EXPECT_NE(r.out.find(std::string("program ") + app + ":"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("scale: small"), std::string::npos);
  }
}

TEST(AppShow, SolomonikShowsItsGridAndTheRuleBeyondThePublishedTable) {
  auto r = run_mage("app show solomonik --machine lassen --nodes 16");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* s :
       {"machine: lassen, 16 nodes x 4 GPUs", "grid: task_5 over (r, r, c) = (8, 8, 1); r3 = 8 chunks per k-slab\n",
        "64 (8,1,8), 128 (8,2,8), 256 (16,1,16); the rule they follow"})
    EXPECT_NE(r.out.find(s), std::string::npos) << "missing: " << s << "\n" << r.out;
  // Johnson and COSMA beyond the published 16 nodes: grids by the algorithms' rules.
  auto j = run_mage("app show johnson --machine lassen --nodes 64");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("8 x 8 x 8 = 512 point tasks on 256 GPUs (g = 8, the smallest power of two"), std::string::npos)
      << j.out;
  auto c = run_mage("app show cosma --machine lassen --nodes 32");
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("4 x 8 x 8 = 256 point tasks on 128 GPUs (the factorisation"), std::string::npos) << c.out;
}

TEST(AppShow, JohnsonAndCosmaAs4RanksPerNodeByDefault) {
  for (const char* app : {"johnson", "cosma"}) {
    auto r = run_mage(std::string("app show ") + app + " --machine lassen --nodes 2");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find(std::string("machine: lassen, 2 nodes x 4 GPUs, 4 ranks per node (as ") + app +
                         " runs by default); scale: published"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("ranks: run as 4 rank(s) per node"), std::string::npos) << r.out;
  }
  auto one = run_mage("app show johnson --machine lassen --ranks-per-node 1 --json");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  EXPECT_EQ(nlohmann::json::parse(one.out)["machine"]["ranks_per_node"], 1);
  auto four = run_mage("app show cosma --machine lassen --json");
  ASSERT_EQ(four.exit_code, 0) << four.out;
  EXPECT_EQ(nlohmann::json::parse(four.out)["machine"]["ranks_per_node"], 4);
  auto circuit = run_mage("app show circuit --machine lassen");
  EXPECT_NE(circuit.out.find("machine: lassen, 1 node x 4 GPUs, 1 rank per node; scale"), std::string::npos)
      << circuit.out;
}

TEST(AppShow, Json) {
  auto r = run_mage("app show cannon --machine perlmutter --nodes 4 --json --iterations 3");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "cannon");
  EXPECT_EQ(j["iterations"], 3);
  EXPECT_EQ(j["machine"]["name"], "perlmutter");
  EXPECT_EQ(j["machine"]["nodes"], 4);
  EXPECT_EQ(j["scale"], "published");
  EXPECT_EQ(j["per_iteration"]["launches"], 1);
  bool found = false;
  for (const auto& t : j["tasks"])
    if (t["name"] == "task_7") {
      found = true;
      EXPECT_EQ(t["launches"][0]["domain"], nlohmann::json({2, 2}));
      EXPECT_FALSE(t["leaf"].get<bool>());
    }
  EXPECT_TRUE(found);
}

TEST(AppShow, ErrorsGoToStderrWithExitCode1) {
  auto unknown = run_mage("app show fft --machine lassen");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("mage: error: unknown program 'fft' (programs: circuit, stencil"), std::string::npos)
      << unknown.out;

  auto grid = run_mage("app show cannon --machine " + source_path("tests/data/machines/tiny.toml"));
  EXPECT_EQ(grid.exit_code, 1);
  EXPECT_NE(grid.out.find("mage: error: cannon: needs 4 GPUs per node (task_5 is launched over the node's 2 x 2 "
                          "GPUs); the machine has 2"),
            std::string::npos)
      << grid.out;

  auto machine = run_mage("app show circuit --machine no_such_machine");
  EXPECT_EQ(machine.exit_code, 1);
  EXPECT_NE(machine.out.find("mage: error:"), std::string::npos) << machine.out;

  auto scale = run_mage("app show circuit --machine lassen --scale huge");
  EXPECT_EQ(scale.exit_code, 1);
  EXPECT_NE(scale.out.find("--scale must be 'published' or 'small'"), std::string::npos) << scale.out;

  auto iters = run_mage("app show stencil --machine lassen --iterations 0");
  EXPECT_EQ(iters.exit_code, 1);
  EXPECT_NE(iters.out.find("iterations must be at least 1"), std::string::npos) << iters.out;

  auto missing = run_mage("app show circuit");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("--machine"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace mage::test
