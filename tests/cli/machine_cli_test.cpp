// mage machines / mage machine show, end to end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_mage.h"

namespace mage::test {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(MachinesCommand, ListsThePresetsWithOneLineEach) {
  auto r = run_mage("machines");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(r.out.starts_with("lassen      per node: 2 x 20 Power9 cores")) << r.out;
  EXPECT_TRUE(contains(r.out, "\np100x4      1 node: 2 x 10-core Xeon E5-2640 v4")) << r.out;
  EXPECT_TRUE(contains(r.out, "\nperlmutter  per node: 64-core EPYC 7763")) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
}

TEST(MachineShow, PrintsProcessorsMemoriesAndBandwidths) {
  auto r = run_mage("machine show p100x4");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "  GPU           4   4.7 TFLOP/s   9.3 TFLOP/s    10 us\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "  FBMEM         4        15 GiB      550 GB/s  1 per GPU\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "  GPU  -> FBMEM own 550 GB/s")) << r.out;
  EXPECT_TRUE(contains(r.out, "network: 12 GB/s per node")) << r.out;
}

TEST(MachineShow, TakesNodesAndRanksPerNode) {
  auto r = run_mage("machine show lassen --nodes 16 --ranks-per-node 4");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "16 nodes x 4 ranks per node = 64 ranks")) << r.out;
  EXPECT_TRUE(contains(r.out, "  GPU           4      1   7.8 TFLOP/s")) << r.out;
}

TEST(MachineShow, PrintsJson) {
  auto r = run_mage("machine show perlmutter --nodes 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "perlmutter");
  EXPECT_EQ(j["nodes"], 2);
  EXPECT_EQ(j["processors"][1]["kind"], "GPU");
  EXPECT_DOUBLE_EQ(j["processors"][1]["fp64_flops"].get<double>(), 9.7e12);
  EXPECT_EQ(j["memories"][1]["capacity_bytes"], 39ull << 30);
  EXPECT_DOUBLE_EQ(j["network"]["bandwidth_bytes_per_s"].get<double>(), 100e9);
  EXPECT_EQ(j["totals"]["processors"], 2 * (64 + 4 + 1 + 1));
}

TEST(MachineShow, WorksFromAnyDirectory) {
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::temp_directory_path());
  auto r = run_mage("machine show p100x4");
  std::filesystem::current_path(cwd);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "(from machines/p100x4.toml)")) << r.out;
}

TEST(MachineShow, ReadsATomlFile) {
  auto r = run_mage("machine show " + source_path("machines/lassen.toml"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(r.out.starts_with("lassen: ")) << r.out;
}

TEST(MachineShow, UnknownPresetListsThePresets) {
  auto r = run_mage("machine show p100");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "mage: error: unknown machine preset 'p100' (did you mean 'p100x4'? presets: lassen, p100x4, perlmutter; "
            "or give a path to a .toml file)\n");
}

TEST(MachineShow, BadOverridesFail) {
  auto r = run_mage("machine show p100x4 --nodes 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "mage: error: machines/p100x4.toml: nodes: override must be between 1 and 4096 (got 0)\n");
  r = run_mage("machine show p100x4 --ranks-per-node 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.starts_with("mage: error: machines/p100x4.toml:")) << r.out;
  EXPECT_TRUE(contains(r.out,
                       ": node.processor[0].count: ranks_per_node = 3 (as overridden) does not divide the "
                       "node's 20 CPU processors\n"))
      << r.out;
  r = run_mage("machine show p100x4 --nodes two");
  EXPECT_EQ(r.exit_code, 1) << r.out;
}

TEST(MachineShow, BadFileNamesFileLineAndKey) {
  auto path = std::filesystem::temp_directory_path() / "mage_cli_bad_machine.toml";
  std::ofstream(path) << "nodes = 1\n\n[node]\nsockets = 1\n\n[[node.processor]]\nkind = \"TPU\"\n";
  auto r = run_mage("machine show " + path.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "mage: error: " + path.string() +
                       ":7: node.processor[0].kind: unknown processor kind 'TPU' (one of CPU, GPU, OMP, IO, PY)\n");
  std::filesystem::remove(path);
}

TEST(MachineShow, NeedsASubcommandAndAName) {
  EXPECT_EQ(run_mage("machine").exit_code, 1);
  EXPECT_EQ(run_mage("machine show").exit_code, 1);
}

}  // namespace
}  // namespace mage::test
