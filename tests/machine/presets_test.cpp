// The three presets load with the numbers of BENCHMARKS.md ("Machines").
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "machine/machine.h"

namespace mage::machine {

using kinds::kMemKinds;
using kinds::kProcKinds;
using kinds::MemKind;
using kinds::ProcKind;
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

const Processor& first(const Machine& m, ProcKind k) { return m.processor(m.processors_of(k).at(0)); }
const Memory& first(const Machine& m, MemKind k) { return m.memory(m.memories_of(k).at(0)); }
// Bandwidth from the first processor of `p` to the first instance of `mk` it reaches best.
double reach_bw(const Machine& m, ProcKind p, MemKind mk) {
  ProcId proc = m.processors_of(p).at(0);
  auto mem = m.best_memory(proc, mk);
  return mem ? m.access(proc, *mem)->bandwidth : 0.0;
}
double peer_bw(const Machine& m) {
  return m.access(m.processors_of(ProcKind::GPU).at(0), m.memories_of(MemKind::FBMEM).at(1))->bandwidth;
}

TEST(Presets, ListsTheThreePresetsWithDescriptions) {
  auto list = presets();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "lassen");
  EXPECT_EQ(list[1].name, "p100x4");
  EXPECT_EQ(list[2].name, "perlmutter");
  for (const auto& p : list) EXPECT_FALSE(p.description.empty()) << p.name;
}

TEST(Presets, EmbeddedTextIsTheFileInMachinesDir) {
  for (const auto& p : presets()) {
    std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/machines/" + p.name + ".toml");
    ASSERT_TRUE(in) << p.name;
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(preset_text(p.name).value(), text.str()) << p.name << ": rebuild to re-embed";
  }
  EXPECT_FALSE(preset_text("nosuch").has_value());
}

TEST(Presets, LoadingByPathEqualsLoadingByName) {
  Machine by_name = load("p100x4");
  Machine by_path = load(std::string(MAGE_SOURCE_DIR) + "/machines/p100x4.toml");
  EXPECT_EQ(by_name.name(), "p100x4");
  EXPECT_EQ(by_path.name(), "p100x4");
  EXPECT_EQ(by_name.source(), "machines/p100x4.toml");
  EXPECT_EQ(by_path.source(), std::string(MAGE_SOURCE_DIR) + "/machines/p100x4.toml");
  nlohmann::ordered_json a = as_json(by_name), b = as_json(by_path);
  a.erase("source");
  b.erase("source");
  EXPECT_EQ(a, b);
}

TEST(Presets, P100x4) {
  Machine m = load("p100x4");
  EXPECT_EQ(m.nodes(), 1);
  EXPECT_EQ(m.ranks(), 1);
  EXPECT_EQ(m.sockets_per_node(), 2);
  EXPECT_EQ(m.procs_per_node(ProcKind::CPU), 20);
  EXPECT_EQ(m.procs_per_node(ProcKind::OMP), 2);
  EXPECT_EQ(m.procs_per_node(ProcKind::GPU), 4);
  EXPECT_EQ(m.procs_per_node(ProcKind::IO), 1);
  EXPECT_FALSE(m.has(ProcKind::PY));
  EXPECT_EQ(m.processors().size(), 27u);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::CPU).fp64_flops, 38e9);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::CPU).fp32_flops, 76e9);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::OMP).fp64_flops, 380e9);
  EXPECT_EQ(first(m, ProcKind::OMP).cores, 10);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::GPU).fp64_flops, 4.7e12);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::GPU).fp32_flops, 9.3e12);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::GPU).launch_overhead_s, 10e-6);

  EXPECT_EQ(m.mems_per_node(MemKind::SYSMEM), 1);
  EXPECT_EQ(m.mems_per_node(MemKind::SOCKMEM), 2);
  EXPECT_EQ(m.mems_per_node(MemKind::ZCMEM), 1);
  EXPECT_EQ(m.mems_per_node(MemKind::FBMEM), 4);
  EXPECT_EQ(m.mems_per_node(MemKind::RDMEM), 0) << "RDMEM only when multi-node";
  EXPECT_EQ(first(m, MemKind::FBMEM).capacity_bytes, static_cast<uint64_t>(15 * kGiB));
  EXPECT_EQ(first(m, MemKind::ZCMEM).capacity_bytes, static_cast<uint64_t>(2 * kGiB));
  EXPECT_DOUBLE_EQ(first(m, MemKind::SOCKMEM).bandwidth, 60e9);

  EXPECT_DOUBLE_EQ(reach_bw(m, ProcKind::GPU, MemKind::FBMEM), 550e9);
  EXPECT_DOUBLE_EQ(reach_bw(m, ProcKind::GPU, MemKind::ZCMEM), 12e9);
  EXPECT_DOUBLE_EQ(peer_bw(m), 10e9);
  EXPECT_EQ(reach_bw(m, ProcKind::CPU, MemKind::FBMEM), 0.0) << "a CPU cannot touch FBMEM";
  EXPECT_EQ(reach_bw(m, ProcKind::GPU, MemKind::SYSMEM), 0.0);
  EXPECT_DOUBLE_EQ(m.network().bandwidth, 12e9);

  Machine two = load("p100x4", {.nodes = 2});
  EXPECT_EQ(two.mems_per_node(MemKind::RDMEM), 1);
  EXPECT_EQ(two.processors().size(), 54u);
}

TEST(Presets, Lassen) {
  Machine m = load("lassen");
  EXPECT_EQ(m.sockets_per_node(), 2);
  EXPECT_EQ(m.procs_per_node(ProcKind::CPU), 40);
  EXPECT_EQ(m.procs_per_node(ProcKind::GPU), 4);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::GPU).fp64_flops, 7.8e12);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::GPU).fp32_flops, 15.7e12);
  EXPECT_DOUBLE_EQ(first(m, MemKind::FBMEM).bandwidth, 850e9);
  // As the published runs configured the runtime: -ll:fsize 15000, -ll:csize 150000 (MiB).
  EXPECT_EQ(first(m, MemKind::FBMEM).capacity_bytes, uint64_t{15'000} << 20);
  EXPECT_EQ(first(m, MemKind::SYSMEM).capacity_bytes, uint64_t{150'000} << 20);
  EXPECT_DOUBLE_EQ(reach_bw(m, ProcKind::GPU, MemKind::ZCMEM), 60e9) << "NVLink 2: zero-copy is fast";
  EXPECT_DOUBLE_EQ(peer_bw(m), 60e9);
  EXPECT_DOUBLE_EQ(m.network().bandwidth, 23e9);
  EXPECT_DOUBLE_EQ(m.network().latency, 2e-6);
  Machine big = load("lassen", {.nodes = 64});
  EXPECT_EQ(big.processors().size(), 64u * (40 + 4 + 2 + 1));
  EXPECT_EQ(big.memories_of(MemKind::FBMEM).size(), 256u);
}

TEST(Presets, Perlmutter) {
  Machine m = load("perlmutter");
  EXPECT_EQ(m.sockets_per_node(), 1);
  EXPECT_EQ(m.procs_per_node(ProcKind::CPU), 64);
  EXPECT_EQ(m.procs_per_node(ProcKind::OMP), 1);
  EXPECT_EQ(first(m, ProcKind::OMP).cores, 64);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::GPU).fp64_flops, 9.7e12);
  EXPECT_DOUBLE_EQ(first(m, ProcKind::GPU).fp32_flops, 19.5e12);
  EXPECT_DOUBLE_EQ(first(m, MemKind::FBMEM).bandwidth, 1.4e12);
  EXPECT_EQ(first(m, MemKind::FBMEM).capacity_bytes, static_cast<uint64_t>(39 * kGiB));
  auto fb = m.memories_of(MemKind::FBMEM);
  EXPECT_DOUBLE_EQ(m.channel(fb[0], fb[3])->bandwidth, 100e9) << "NVLink 3 per GPU pair";
  EXPECT_DOUBLE_EQ(m.channel(fb[0], m.memories_of(MemKind::SYSMEM)[0])->bandwidth, 25e9) << "PCIe 4";
  EXPECT_DOUBLE_EQ(m.network().bandwidth, 100e9) << "4 x 25 GB/s";
}

// Sanity checks against "Rates a runtime sees" (SIMULATION.md) and physical consistency.
TEST(Presets, RatesAreConsistent) {
  for (const auto& p : presets()) {
    SCOPED_TRACE(p.name);
    Machine m = load(p.name, {.nodes = 2});
    const double fb = reach_bw(m, ProcKind::GPU, MemKind::FBMEM);
    const double zc = reach_bw(m, ProcKind::GPU, MemKind::ZCMEM);
    // Legion rates a GPU's framebuffer 10x its zero-copy and 20x a peer's framebuffer.
    EXPECT_GE(fb / zc, 10.0);
    EXPECT_GE(fb / peer_bw(m), 10.0);
    // A GPU reaches zero-copy memory over the same link it copies to the host with.
    auto sys = m.memories_of(MemKind::SYSMEM)[0];
    EXPECT_DOUBLE_EQ(m.channel(m.memories_of(MemKind::FBMEM)[0], sys)->bandwidth, zc);
    // A CPU reaches SYSMEM at least as fast as zero-copy memory (Legion: 100 vs 40).
    EXPECT_GE(reach_bw(m, ProcKind::CPU, MemKind::SYSMEM), reach_bw(m, ProcKind::CPU, MemKind::ZCMEM));
    // An OMP group is faster than one core, and reaches its socket's memory fastest.
    EXPECT_GT(first(m, ProcKind::OMP).fp64_flops, first(m, ProcKind::CPU).fp64_flops);
    EXPECT_EQ(m.memory(*m.best_memory(m.processors_of(ProcKind::OMP)[0], MemKind::SOCKMEM)).socket, 0);
    for (const Processor& q : m.processors()) {
      EXPECT_NEAR(q.fp32_flops / q.fp64_flops, 2.0, 0.03);
      EXPECT_GE(q.launch_overhead_s, 1e-6);
      EXPECT_LE(q.launch_overhead_s, 100e-6);
      EXPECT_FALSE(m.accessible(q.id).empty()) << m.name(q.id);
    }
    // The host memories are carved out of the node's 256 GB (binary: 16 x 16 GiB DIMMs) of DRAM.
    uint64_t host = 0;
    for (MemKind k : {MemKind::SYSMEM, MemKind::SOCKMEM, MemKind::ZCMEM, MemKind::RDMEM})
      for (MemId id : m.memories_of(k, 0)) host += m.memory(id).capacity_bytes;
    EXPECT_LE(host, static_cast<uint64_t>(256 * kGiB));
    // Every memory of node 0 reaches every memory of node 1.
    for (const Memory& a : m.memories())
      for (const Memory& b : m.memories())
        EXPECT_TRUE(m.route(a.id, b.id).has_value()) << m.name(a.id) << " " << m.name(b.id);
  }
}

}  // namespace
}  // namespace mage::machine

namespace mage::machine {
namespace {

// The complete example of docs/machines.md stays a valid machine.
TEST(Docs, TheExampleMachineLoads) {
  std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/docs/machines.md");
  ASSERT_TRUE(in);
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const size_t begin = text.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = text.find("```", begin + 8);
  Machine m = load_text(text.substr(begin + 8, end - begin - 8), "docs/machines.md", {.nodes = 2, .ranks_per_node = 2});
  EXPECT_EQ(m.procs_per_rank(ProcKind::CPU), 8);
  EXPECT_EQ(m.procs_per_rank(ProcKind::GPU), 1);
  EXPECT_EQ(m.processor(m.processor_at(ProcKind::OMP, 1, 0)).cores, 8);
  EXPECT_EQ(m.mems_per_node(MemKind::FBMEM), 2);
  EXPECT_TRUE(m.route(m.memories_of(MemKind::FBMEM, 0)[0], m.memories_of(MemKind::FBMEM, 1)[1]).has_value());
}

}  // namespace
}  // namespace mage::machine
