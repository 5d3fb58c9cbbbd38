// mage bench --json: one JSON document with the keys README.md documents, every program
// measured on both configurations and through mage tune. --quick: one evaluation per
// configuration and tuning runs of 20 evaluations (the smallest bench has).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "run_mage.h"

namespace mage::test {
namespace {

std::vector<std::string> keys(const nlohmann::ordered_json& j) {
  std::vector<std::string> out;
  for (const auto& [k, v] : j.items()) out.push_back(k);
  return out;
}

TEST(BenchCli, QuickJsonHasTheDocumentedKeys) {
  const CommandResult r = run_mage("bench --quick --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::ordered_json j;
  ASSERT_NO_THROW(j = nlohmann::ordered_json::parse(r.out)) << r.out;
  EXPECT_EQ(keys(j), (std::vector<std::string>{"quick", "hardware_threads", "targets", "evaluations", "tasks_target",
                                               "evaluations_target", "tune"}));
  EXPECT_EQ(j["quick"], true);
  EXPECT_EQ(keys(j["targets"]), (std::vector<std::string>{"tasks_per_cpu_s", "evaluations_per_min_per_core"}));
  // Nine programs on p100x4 and on lassen x16.
  ASSERT_EQ(j["evaluations"].size(), 18u);
  const std::vector<std::string> measured = {"program",
                                             "machine",
                                             "nodes",
                                             "ranks_per_node",
                                             "problem",
                                             "tasks",
                                             "evaluations",
                                             "simulate_s",
                                             "tasks_per_s",
                                             "tasks_per_cpu_s",
                                             "evaluation_s",
                                             "evaluations_per_s",
                                             "evaluations_per_min_per_core",
                                             "tasks_target_met",
                                             "evaluations_target_met"};
  for (const auto& e : j["evaluations"]) {
    ASSERT_TRUE(e["problem"].is_null()) << e.dump();  // every expert mapper runs
    EXPECT_EQ(keys(e), measured) << e.dump();
    EXPECT_EQ(e["evaluations"], 1);
    EXPECT_GT(e["tasks"].get<int64_t>(), 0);
    EXPECT_EQ(e["evaluations_target_met"].is_null(), e["nodes"] != 1) << e.dump();
  }
  for (const char* target : {"tasks_target", "evaluations_target"}) {
    EXPECT_EQ(keys(j[target]), (std::vector<std::string>{"met", "of"}));
    EXPECT_LE(j[target]["met"].get<int>(), j[target]["of"].get<int>());
  }
  EXPECT_EQ(j["tasks_target"]["of"], 18);
  EXPECT_EQ(j["evaluations_target"]["of"], 9);

  const auto& tune = j["tune"];
  EXPECT_EQ(keys(tune), (std::vector<std::string>{"optimizer", "machine", "budget", "workers", "runs", "target"}));
  EXPECT_EQ(tune["optimizer"], "random");
  EXPECT_EQ(tune["budget"], 20);
  ASSERT_EQ(tune["runs"].size(), 9u);
  for (const auto& run : tune["runs"]) {
    ASSERT_TRUE(run["problem"].is_null()) << run.dump();
    EXPECT_EQ(keys(run), (std::vector<std::string>{"program", "problem", "evaluations", "failed", "wall_s",
                                                   "evaluations_per_min_per_core", "target_met"}));
    EXPECT_EQ(run["evaluations"], 20);
  }
  EXPECT_EQ(keys(tune["target"]), (std::vector<std::string>{"met", "of"}));
}

}  // namespace
}  // namespace mage::test
