// The text and JSON forms of a machine.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "machine/machine.h"

namespace mage::machine {

using kinds::kMemKinds;
using kinds::kProcKinds;
using kinds::MemKind;
using kinds::ProcKind;
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Describe, ShowsProcessorsMemoriesAccessChannelsAndNetwork) {
  std::string text = describe(load("p100x4"));
  EXPECT_TRUE(text.starts_with("p100x4: 1 node: 2 x 10-core Xeon")) << text;
  EXPECT_TRUE(contains(text, "1 node x 1 rank per node = 1 rank; 2 sockets per node  (from machines/p100x4.toml)"))
      << text;
  EXPECT_TRUE(contains(text, "  GPU           4   4.7 TFLOP/s   9.3 TFLOP/s    10 us\n")) << text;
  EXPECT_TRUE(contains(text, "  OMP           2   380 GFLOP/s   760 GFLOP/s    10 us  1 per socket: 10 cores each\n"))
      << text;
  EXPECT_TRUE(contains(text, "  FBMEM         4        15 GiB      550 GB/s  1 per GPU\n")) << text;
  EXPECT_TRUE(contains(text, "  RDMEM         0         1 GiB      120 GB/s  only when nodes > 1\n")) << text;
  EXPECT_TRUE(contains(text, "  GPU  -> FBMEM own 550 GB/s 0.5 us, other 10 GB/s 1.5 us; ZCMEM 12 GB/s 1 us\n"))
      << text;
  EXPECT_TRUE(contains(text, "  FBMEM <-> SYSMEM, SOCKMEM, ZCMEM, RDMEM: 12 GB/s, 1.5 us\n")) << text;
  EXPECT_TRUE(contains(text, "  among SYSMEM, SOCKMEM, ZCMEM, RDMEM: 20 GB/s, 0.2 us\n")) << text;
  EXPECT_TRUE(contains(text, "network: 12 GB/s per node, 2 us, via RDMEM\n")) << text;
  EXPECT_FALSE(contains(text, "/rank")) << "the per-rank column only appears with several ranks";
}

TEST(Describe, ShowsPerRankCountsWithSeveralRanks) {
  std::string text = describe(load("lassen", {.nodes = 2, .ranks_per_node = 4}));
  EXPECT_TRUE(contains(text, "2 nodes x 4 ranks per node = 8 ranks")) << text;
  EXPECT_TRUE(contains(text, "/rank")) << text;
  EXPECT_TRUE(contains(text, "  CPU          40     10")) << text;
  EXPECT_TRUE(contains(text,
                       "  OMP           4      1   250 GFLOP/s   500 GFLOP/s    10 us  1 per socket, each shared by 2 "
                       "ranks: 10 cores each\n"))
      << text;
}

TEST(Json, HasTheDocumentedShape) {
  Machine m = load("p100x4", {.nodes = 2});
  nlohmann::ordered_json j = as_json(m);
  EXPECT_EQ(j["name"], "p100x4");
  EXPECT_EQ(j["source"], "machines/p100x4.toml");
  EXPECT_EQ(j["nodes"], 2);
  EXPECT_EQ(j["ranks_per_node"], 1);
  EXPECT_EQ(j["ranks"], 2);
  EXPECT_EQ(j["sockets_per_node"], 2);
  ASSERT_EQ(j["processors"].size(), 4u);
  const auto& gpu = j["processors"][1];
  EXPECT_EQ(gpu["kind"], "GPU");
  EXPECT_EQ(gpu["per"], "node");
  EXPECT_EQ(gpu["per_node"], 4);
  EXPECT_EQ(gpu["per_rank"], 4);
  EXPECT_EQ(gpu["cores"], 1);
  EXPECT_DOUBLE_EQ(gpu["fp64_flops"].get<double>(), 4.7e12);
  EXPECT_DOUBLE_EQ(gpu["launch_overhead_s"].get<double>(), 1e-5);
  ASSERT_EQ(j["memories"].size(), 5u);
  const auto& fb = j["memories"][1];
  EXPECT_EQ(fb["kind"], "FBMEM");
  EXPECT_EQ(fb["per"], "gpu");
  EXPECT_EQ(fb["per_node"], 4);
  EXPECT_EQ(fb["capacity_bytes"], 15ull << 30);
  EXPECT_DOUBLE_EQ(fb["bandwidth_bytes_per_s"].get<double>(), 550e9);
  EXPECT_EQ(j["memories"][3]["kind"], "RDMEM");
  EXPECT_EQ(j["memories"][3]["per_node"], 1);
  EXPECT_EQ(j["memories"][3]["multi_node_only"], true);
  ASSERT_FALSE(j["access"].empty());
  for (const auto& a : j["access"]) {
    EXPECT_TRUE(a.contains("proc") && a.contains("mem") && a.contains("reach")) << a;
    EXPECT_GT(a["bandwidth_bytes_per_s"].get<double>(), 0);
    EXPECT_NE(a["mem"], a["proc"] == "CPU" ? "FBMEM" : "") << "a CPU never reaches FBMEM";
  }
  ASSERT_EQ(j["channels"].size(), 3u);
  EXPECT_EQ(j["channels"][1]["between"], nlohmann::ordered_json::array({"FBMEM"}));
  EXPECT_EQ(j["channels"][1]["and"], nlohmann::ordered_json::array({"SYSMEM", "SOCKMEM", "ZCMEM", "RDMEM"}));
  EXPECT_DOUBLE_EQ(j["network"]["bandwidth_bytes_per_s"].get<double>(), 12e9);
  EXPECT_EQ(j["network"]["endpoint"], "RDMEM");
  EXPECT_EQ(j["totals"]["processors"], 54);
  EXPECT_EQ(j["totals"]["memories"], 18);  // 2 x (SYSMEM, 4 FBMEM, ZCMEM, RDMEM, 2 SOCKMEM)
  // It survives a round trip through text.
  EXPECT_EQ(nlohmann::ordered_json::parse(j.dump()), j);
}

TEST(Json, NetworkIsNullWhenTheFileHasNone) {
  std::string text(preset_text("p100x4").value());
  text = text.substr(0, text.find("[network]"));
  nlohmann::ordered_json j = as_json(load_text(text, "nonet.toml"));
  EXPECT_TRUE(j["network"].is_null());
  EXPECT_EQ(j["name"], "nonet");
}

}  // namespace
}  // namespace mage::machine
