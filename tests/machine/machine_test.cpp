// Queries on a loaded machine: ids and names, sockets, access, channels, routes, ranks.
#include <gtest/gtest.h>

#include "../test_support.h"
#include "machine/machine.h"

namespace mage::machine {

using kinds::kMemKinds;
using kinds::kProcKinds;
using kinds::MemKind;
using kinds::ProcKind;
namespace {

TEST(Ids, AreDenseAndNamed) {
  Machine m = load("p100x4", {.nodes = 2});
  for (size_t i = 0; i < m.processors().size(); ++i) EXPECT_EQ(m.processors()[i].id.value, static_cast<int32_t>(i));
  for (size_t i = 0; i < m.memories().size(); ++i) EXPECT_EQ(m.memories()[i].id.value, static_cast<int32_t>(i));
  ProcId gpu = m.processors_of(ProcKind::GPU, 1).at(2);
  EXPECT_EQ(m.name(gpu), "node 1 GPU 2");
  EXPECT_EQ(m.processor(gpu).node, 1);
  EXPECT_EQ(m.name(m.memories_of(MemKind::FBMEM, 0).at(3)), "node 0 FBMEM 3");
  EXPECT_EQ(m.name(m.memories_of(MemKind::SOCKMEM, 1).at(1)), "node 1 SOCKMEM 1");
  EXPECT_EQ(m.name(m.memories_of(MemKind::RDMEM, 1).at(0)), "node 1 RDMEM 0");
  // Node-major, then kind in enum order: node 0's CPUs, GPUs, OMPs, IO, then node 1.
  EXPECT_EQ(m.name(ProcId{0}), "node 0 CPU 0");
  EXPECT_EQ(m.name(ProcId{20}), "node 0 GPU 0");
  EXPECT_EQ(m.name(ProcId{27}), "node 1 CPU 0");
  EXPECT_EQ(m.name(MemId{0}), "node 0 SYSMEM 0");
}

TEST(Ids, AreTheSameOnEveryLoad) {
  Machine a = load("lassen", {.nodes = 4, .ranks_per_node = 4});
  Machine b = load("lassen", {.nodes = 4, .ranks_per_node = 4});
  ASSERT_EQ(a.processors().size(), b.processors().size());
  for (size_t i = 0; i < a.processors().size(); ++i) EXPECT_EQ(a.name(ProcId{int32_t(i)}), b.name(ProcId{int32_t(i)}));
}

TEST(Sockets, SpreadProcessorsAndMemories) {
  Machine m = load("p100x4");
  auto cpus = m.processors_of(ProcKind::CPU);
  EXPECT_EQ(m.processor(cpus[9]).socket, 0);
  EXPECT_EQ(m.processor(cpus[10]).socket, 1);
  auto gpus = m.processors_of(ProcKind::GPU);
  EXPECT_EQ(m.processor(gpus[1]).socket, 0);
  EXPECT_EQ(m.processor(gpus[2]).socket, 1);
  auto fbs = m.memories_of(MemKind::FBMEM);
  EXPECT_EQ(m.memory(fbs[2]).gpu, 2);
  EXPECT_EQ(m.memory(fbs[2]).socket, 1);
  EXPECT_EQ(m.memory(m.memories_of(MemKind::SYSMEM)[0]).socket, -1);
  EXPECT_EQ(m.processor(m.processors_of(ProcKind::OMP)[1]).socket, 1);
}

TEST(Access, BestMemoryIsTheProcessorsOwn) {
  Machine m = load("p100x4", {.nodes = 2});
  ProcId gpu = m.processors_of(ProcKind::GPU, 1)[2];
  EXPECT_EQ(m.best_memory(gpu, MemKind::FBMEM), m.memories_of(MemKind::FBMEM, 1)[2]);
  EXPECT_EQ(m.best_memory(gpu, MemKind::ZCMEM), m.memories_of(MemKind::ZCMEM, 1)[0]);
  EXPECT_FALSE(m.best_memory(gpu, MemKind::SYSMEM).has_value());
  ProcId cpu = m.processors_of(ProcKind::CPU, 0)[15];
  EXPECT_EQ(m.best_memory(cpu, MemKind::SOCKMEM), m.memories_of(MemKind::SOCKMEM, 0)[1]);
  EXPECT_FALSE(m.best_memory(cpu, MemKind::FBMEM).has_value());
  // A processor never reaches another node's memory.
  for (const Access& a : m.accessible(gpu)) EXPECT_EQ(m.memory(a.mem).node, 1);
}

TEST(Access, ListIsFastestFirstWithBandwidthAndLatency) {
  Machine m = load("p100x4");
  ProcId gpu = m.processors_of(ProcKind::GPU)[0];
  auto list = m.accessible(gpu);
  ASSERT_EQ(list.size(), 5u);  // own FBMEM, 3 peer FBMEMs, ZCMEM
  EXPECT_EQ(m.name(list[0].mem), "node 0 FBMEM 0");
  EXPECT_DOUBLE_EQ(list[0].bandwidth, 550e9);
  EXPECT_DOUBLE_EQ(list[0].latency, 0.5e-6);
  EXPECT_EQ(m.name(list[1].mem), "node 0 ZCMEM 0");
  EXPECT_EQ(m.name(list[2].mem), "node 0 FBMEM 1");
  for (size_t i = 1; i < list.size(); ++i) EXPECT_GE(list[i - 1].bandwidth, list[i].bandwidth);
  auto readers = m.accessors(m.memories_of(MemKind::FBMEM)[1]);
  EXPECT_EQ(readers, m.processors_of(ProcKind::GPU));
  auto zc_readers = m.accessors(m.memories_of(MemKind::ZCMEM)[0]);
  EXPECT_EQ(zc_readers.size(), 20u + 4u + 2u + 1u) << "everyone reaches zero-copy memory";
}

TEST(Channels, PeerAndHostInsideANode) {
  Machine m = load("p100x4", {.nodes = 2});
  auto fb = m.memories_of(MemKind::FBMEM, 0);
  auto sock = m.memories_of(MemKind::SOCKMEM, 0);
  auto c = m.channel(fb[0], fb[1]);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->kind, ChannelKind::Intra);
  EXPECT_DOUBLE_EQ(c->bandwidth, 10e9);
  EXPECT_DOUBLE_EQ(c->latency, 1.5e-6);
  EXPECT_DOUBLE_EQ(m.channel(fb[3], sock[0])->bandwidth, 12e9);
  EXPECT_DOUBLE_EQ(m.channel(sock[0], sock[1])->bandwidth, 20e9);
  EXPECT_FALSE(m.channel(fb[0], fb[0]).has_value());
  EXPECT_FALSE(m.channel(fb[0], m.memories_of(MemKind::FBMEM, 1)[0]).has_value()) << "other node: network";
  // Node 0: 4 FB x 3 peers + 4 FB x 5 host memories x 2 directions + 5 host memories x 4.
  EXPECT_EQ(m.channels(0).size(), 12u + 40u + 20u);
}

TEST(Routes, InsideANodeBetweenNodesAndToItself) {
  Machine m = load("p100x4", {.nodes = 2});
  auto fb0 = m.memories_of(MemKind::FBMEM, 0);
  auto fb1 = m.memories_of(MemKind::FBMEM, 1);
  EXPECT_TRUE(m.route(fb0[0], fb0[0])->empty());
  auto direct = m.route(fb0[0], fb0[2]).value();
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_DOUBLE_EQ(direct[0].bandwidth, 10e9);
  auto across = m.route(fb0[0], fb1[3]).value();
  ASSERT_EQ(across.size(), 3u);
  EXPECT_EQ(m.name(across[0].src), "node 0 FBMEM 0");
  EXPECT_EQ(m.name(across[0].dst), "node 0 RDMEM 0");
  EXPECT_EQ(across[1].kind, ChannelKind::Network);
  EXPECT_EQ(m.name(across[1].dst), "node 1 RDMEM 0");
  EXPECT_DOUBLE_EQ(across[1].bandwidth, 12e9);
  EXPECT_DOUBLE_EQ(across[1].latency, 2e-6);
  EXPECT_EQ(m.name(across[2].dst), "node 1 FBMEM 3");
  auto from_endpoint = m.route(m.memories_of(MemKind::RDMEM, 0)[0], m.memories_of(MemKind::RDMEM, 1)[0]).value();
  EXPECT_EQ(from_endpoint.size(), 1u);
}

inline const std::string kHubMachine = mage::test::test_machine_text("hub");

TEST(Routes, GoThroughTheWidestHubAndMayBeImpossible) {
  Machine m = load_text(kHubMachine, "hub.toml");
  auto fb = m.memories_of(MemKind::FBMEM);
  auto r = m.route(fb[0], fb[1]).value();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(m.name(r[0].dst), "node 0 ZCMEM 0") << "ZCMEM (8 GB/s) is wider than SYSMEM (4 GB/s)";
  EXPECT_DOUBLE_EQ(r[1].bandwidth, 8e9);
  auto sys_to_zc = m.route(m.memories_of(MemKind::SYSMEM)[0], m.memories_of(MemKind::ZCMEM)[0]).value();
  EXPECT_EQ(sys_to_zc.size(), 2u);
  // reach = "all" covers the GPU's own and its peer's framebuffer alike.
  EXPECT_DOUBLE_EQ(m.access(m.processors_of(ProcKind::GPU)[0], fb[1])->bandwidth, 100e9);
  // Without channels nothing moves between memories, and without a network nor between nodes.
  std::string bare(kHubMachine);
  bare = bare.substr(0, bare.find("[[node.channel]]"));
  Machine b = load_text(bare, "bare.toml");
  EXPECT_FALSE(b.route(b.memories_of(MemKind::FBMEM)[0], b.memories_of(MemKind::FBMEM)[1]).has_value());
  EXPECT_TRUE(b.channels(0).empty());
}

TEST(Ranks, SplitTheNodesProcessors) {
  Machine m = load("p100x4", {.ranks_per_node = 4});
  EXPECT_EQ(m.ranks(), 4);
  EXPECT_EQ(m.procs_per_rank(ProcKind::CPU), 5);
  EXPECT_EQ(m.procs_per_rank(ProcKind::GPU), 1);
  EXPECT_EQ(m.procs_per_rank(ProcKind::IO), 1) << "one IO processor per process";
  EXPECT_EQ(m.procs_per_node(ProcKind::IO), 4);
  // Two OMP groups of 10 cores shared by 4 ranks: each rank gets one of 5 cores.
  EXPECT_EQ(m.procs_per_rank(ProcKind::OMP), 1);
  EXPECT_EQ(m.procs_per_node(ProcKind::OMP), 4);
  const Processor& omp3 = m.processor(m.processor_at(ProcKind::OMP, 3, 0));
  EXPECT_EQ(omp3.cores, 5);
  EXPECT_DOUBLE_EQ(omp3.fp64_flops, 190e9);
  EXPECT_EQ(omp3.socket, 1);
  EXPECT_EQ(m.processor(m.processor_at(ProcKind::OMP, 1, 0)).socket, 0);
  // Rank r owns GPU r, CPUs 5r..5r+4.
  const Processor& gpu = m.processor(m.processor_at(ProcKind::GPU, 3, 0));
  EXPECT_EQ(m.name(gpu.id), "node 0 GPU 3");
  EXPECT_EQ(gpu.rank, 3);
  EXPECT_EQ(gpu.index_in_rank, 0);
  const Processor& cpu = m.processor(m.processor_at(ProcKind::CPU, 2, 4));
  EXPECT_EQ(cpu.index, 14);
  EXPECT_EQ(cpu.socket, 1);
  EXPECT_THROW(m.processor_at(ProcKind::GPU, 4, 0), std::out_of_range);
  EXPECT_THROW(m.processor_at(ProcKind::GPU, 0, 1), std::out_of_range);
  EXPECT_THROW(m.processor_at(ProcKind::PY, 0, 0), std::out_of_range);
}

TEST(Ranks, OnSeveralNodes) {
  Machine m = load("lassen", {.nodes = 16, .ranks_per_node = 4});
  EXPECT_EQ(m.ranks(), 64);
  EXPECT_EQ(m.procs_per_rank(ProcKind::CPU), 10);
  EXPECT_EQ(m.procs_per_rank(ProcKind::GPU), 1);
  EXPECT_EQ(m.processor(m.processor_at(ProcKind::OMP, 0, 0)).cores, 10);
  const Processor& g = m.processor(m.processor_at(ProcKind::GPU, 37, 0));
  EXPECT_EQ(g.node, 9);
  EXPECT_EQ(g.rank, 37);
  EXPECT_EQ(g.index, 1);
  EXPECT_EQ(m.processors_of(ProcKind::GPU).size(), 64u);

  Machine p = load("perlmutter", {.ranks_per_node = 4});
  EXPECT_EQ(p.processor(p.processor_at(ProcKind::OMP, 2, 0)).cores, 16);
  EXPECT_DOUBLE_EQ(p.processor(p.processor_at(ProcKind::OMP, 2, 0)).fp64_flops, 625e9);
  EXPECT_EQ(p.procs_per_rank(ProcKind::CPU), 16);
}

TEST(Ranks, TwoRanksKeepWholeOmpGroups) {
  Machine m = load("p100x4", {.ranks_per_node = 2});
  EXPECT_EQ(m.procs_per_rank(ProcKind::OMP), 1);
  EXPECT_EQ(m.processor(m.processor_at(ProcKind::OMP, 1, 0)).cores, 10);
  EXPECT_EQ(m.procs_per_rank(ProcKind::GPU), 2);
  EXPECT_EQ(m.procs_per_rank(ProcKind::CPU), 10);
}

TEST(Ranks, ThatCannotShareTheGpusAreRefused) {
  // 20 ranks give each a CPU, but 4 GPUs cannot be shared by 20 ranks.
  try {
    load("p100x4", {.ranks_per_node = 20});
    FAIL();
  } catch (const LoadError& e) {
    EXPECT_EQ(e.key(), "node.processor[1].count");
    EXPECT_NE(e.reason().find("does not divide the node's 4 GPU processors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mage::machine
