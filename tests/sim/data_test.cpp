// Copies, coherence, reductions, collection and instance limits on the tiny machine,
// against hand-computed answers.
#include <nlohmann/json.hpp>

#include "helpers.h"

namespace mage::sim::test {
namespace {

using kinds::MemKind;

constexpr int64_t kMillion = 1'000'000;
constexpr double kPcie = 10e9;  // host <-> framebuffer, bytes/s
constexpr double kPcieLatency = 1e-6;

const TraceEvent& only_copy(const Outcome& o) {
  auto copies = events(o, "copy");
  EXPECT_EQ(copies.size(), 1u);
  if (copies.empty()) throw std::runtime_error("no copy");
  return *copies.front();
}

std::string row_of(const Outcome& o, const TraceEvent& e) { return o.trace.rows.at(static_cast<size_t>(e.row)); }

const CopyCost* copy_cost(const Outcome& o, const std::string& data, const std::string& from, const std::string& to,
                          bool reduction = false) {
  for (const CopyCost& c : o.profile.costliest_copies)
    if (c.data == data && c.from == from && c.to == to && c.reduction == reduction) return &c;
  return nullptr;
}

// ---------------------------------------------------------------- copies

// A CPU writes R (8 MB) in SYSMEM, then a GPU reads it in its framebuffer.
TEST(Copy, OverPcieTakesBytesOverBandwidthPlusLatency) {
  Program p;
  RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    return t == 0 ? Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}} : Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = run_ok(p, m, plan);
  const TraceEvent& c = only_copy(o);
  EXPECT_EQ(row_of(o, c), "node 0 SYSMEM 0 -> node 0 FBMEM 0");
  EXPECT_NEAR(c.duration_s, 8e6 / kPcie + kPcieLatency, 1e-9);
  EXPECT_EQ(arg_of(c, "bytes"), "8000000");
  // The GPU task starts when the copy arrived, which left when the CPU task ended.
  const auto tasks = events(o, "task");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_NEAR(tasks[1]->start_s, c.start_s + c.duration_s, 1e-9);
  EXPECT_NEAR(c.start_s, tasks[0]->start_s + tasks[0]->duration_s, 1e-9);
  EXPECT_DOUBLE_EQ(o.profile.bytes_moved.gpu_host, 8e6);
  EXPECT_DOUBLE_EQ(o.profile.bytes_moved.intra_gpu, 0);
}

// Two regions written by CPUs in SYSMEM and ZCMEM, read by one GPU task: both copies cross
// the same host -> GPU 0 link at once and share it.
TEST(Copy, TwoConcurrentCopiesOnOneLinkTakeTwiceAsLong) {
  Program p;
  RegionId r = p.add_region("R", Domain(2 * kMillion), {{"a", 8}});
  p.set_blocks(r, {kMillion, kMillion});
  PartitionId part = p.add_block_partition("P", r, Domain(2), {{0}, {1}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  single(p, k, {arg(p, r, part, Privilege::WO, {"a"}, Projection::constant_point(Point(0)))});
  single(p, k, {arg(p, r, part, Privilege::WO, {"a"}, Projection::constant_point(Point(1)))});
  single(p, k,
         {arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(0))),
          arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(1)))});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    if (t == 0) return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
    if (t == 1) return Placement{cpu(m, 1), {mem(m, MemKind::ZCMEM)}};
    return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0), mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = run_ok(p, m, plan);
  auto copies = events(o, "copy");
  ASSERT_EQ(copies.size(), 2u);
  for (const TraceEvent* c : copies) EXPECT_NEAR(c->duration_s, 2 * 8e6 / kPcie + kPcieLatency, 1e-9) << c->name;
  EXPECT_NEAR(copies[0]->start_s, copies[1]->start_s, 1e-12);
}

// The same two copies to two different GPUs use two links: full speed each.
TEST(Copy, CopiesToTwoGpusDoNotShare) {
  Program p;
  RegionId r = p.add_region("R", Domain(2 * kMillion), {{"a", 8}});
  p.set_blocks(r, {kMillion, kMillion});
  PartitionId part = p.add_block_partition("P", r, Domain(2), {{0}, {1}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  index(p, k, Domain(2), {arg(p, r, part, Privilege::WO, {"a"})});
  index(p, k, Domain(2), {arg(p, r, part, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    const int i = static_cast<int>(g.tasks[static_cast<size_t>(t)].point[0]);
    if (t < 2) return Placement{cpu(m, i), {mem(m, MemKind::SYSMEM)}};
    return Placement{gpu(m, i), {mem(m, MemKind::FBMEM, i)}};
  });
  Outcome o = run_ok(p, m, plan);
  auto copies = events(o, "copy");
  ASSERT_EQ(copies.size(), 2u);
  for (const TraceEvent* c : copies) EXPECT_NEAR(c->duration_s, 8e6 / kPcie + kPcieLatency, 1e-9) << c->name;
}

// Between nodes a copy goes framebuffer -> RDMEM -> network -> RDMEM -> framebuffer as one
// transfer: the network (5 GB/s) is the bottleneck and the latencies add up; before it, its
// request reaches the source node (network latency 2 us + handling, the CPU launch overhead
// 10 us).
TEST(Copy, BetweenNodesCrossesTheNetwork) {
  Program p;
  RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny(2);
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    const int node = static_cast<int>(t);
    return Placement{gpu(m, 0, node), {mem(m, MemKind::FBMEM, 0, node)}};
  });
  Outcome o = run_ok(p, m, plan);
  const TraceEvent& c = only_copy(o);
  EXPECT_EQ(row_of(o, c), "node 0 FBMEM 0 -> node 1 FBMEM 0");
  EXPECT_NEAR(c.duration_s, (2e-6 + 10e-6) + 8e6 / 5e9 + 1e-6 + 2e-6 + 1e-6, 1e-9);
  EXPECT_DOUBLE_EQ(o.profile.bytes_moved.inter_node, 8e6);
  EXPECT_DOUBLE_EQ(o.profile.bytes_moved.gpu_host, 16e6);
  const CopyCost* cc = copy_cost(o, "R", "FBMEM", "FBMEM");
  ASSERT_NE(cc, nullptr);
  EXPECT_TRUE(cc->inter_node);
}

// ---------------------------------------------------------------- coherence

// CPU writes R in SYSMEM; a GPU task updates it in its framebuffer (RW); a CPU task then
// reads it in SYSMEM: the SYSMEM copy was invalidated, so R comes back from the framebuffer.
TEST(Coherence, AWriteInvalidatesOtherCopies) {
  for (Privilege gpu_privilege : {Privilege::RW, Privilege::RO}) {
    Program p;
    RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
    TaskKindId k = p.add_task(leaf("t", Cost{}));
    single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
    single(p, k, {arg(p, r, std::nullopt, gpu_privilege, {"a"})});
    single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"})});
    machine::Machine m = tiny();
    TaskGraph g = analyze(p);
    mapping::Plan plan = plan_for(p, g, m, [&](int t) {
      if (t == 1) return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
      return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
    });
    Outcome o = run_ok(p, m, plan);
    auto copies = events(o, "copy");
    if (gpu_privilege == Privilege::RW) {
      ASSERT_EQ(copies.size(), 2u);
      EXPECT_EQ(row_of(o, *copies[0]), "node 0 SYSMEM 0 -> node 0 FBMEM 0");
      EXPECT_EQ(row_of(o, *copies[1]), "node 0 FBMEM 0 -> node 0 SYSMEM 0");
      EXPECT_NE(copy_cost(o, "R", "FBMEM", "SYSMEM"), nullptr);
    } else {
      ASSERT_EQ(copies.size(), 1u);  // the SYSMEM copy stayed valid
      EXPECT_EQ(row_of(o, *copies[0]), "node 0 SYSMEM 0 -> node 0 FBMEM 0");
    }
  }
}

// Each GPU writes its own piece of R; then each reads a ghost piece holding 10 elements of
// the other's piece: only those 10 elements (80 bytes) move, GPU to GPU.
TEST(Coherence, AGhostMovesOnlyTheOverlappingElements) {
  Program p;
  RegionId r = p.add_region("R", Domain(2000), {{"a", 8}, {"b", 8}});
  p.set_blocks(r, {1000, 1000});
  PartitionId own = p.add_block_partition("own", r, Domain(2), {{0}, {1}});
  PartitionId ghost = p.add_aliased_partition("ghost", own, Domain(2), {{{1, 10}}, {{0, 10}}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  index(p, k, Domain(2), {arg(p, r, own, Privilege::WO, {"a", "b"})});
  index(p, k, Domain(2), {arg(p, r, ghost, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    const int i = static_cast<int>(g.tasks[static_cast<size_t>(t)].point[0]);
    return Placement{gpu(m, i), {mem(m, MemKind::FBMEM, i)}};
  });
  Outcome o = run_ok(p, m, plan);
  auto copies = events(o, "copy");
  ASSERT_EQ(copies.size(), 2u);
  for (const TraceEvent* c : copies) {
    EXPECT_EQ(arg_of(*c, "bytes"), "80") << c->name;
    EXPECT_NEAR(c->duration_s, 80 / 20e9 + 2e-6, 1e-12);
  }
  EXPECT_DOUBLE_EQ(o.profile.bytes_moved.intra_gpu, 160);
  EXPECT_DOUBLE_EQ(o.profile.bytes_moved.gpu_host, 0);
}

// Two GPUs reduce into R (each into a reduction instance in its framebuffer); a CPU then
// reads R in SYSMEM, where both reductions are folded: 8 MB from each framebuffer.
TEST(Coherence, ReductionsAreFoldedIntoTheNextReader) {
  Program p;
  RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RED, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RED, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  EXPECT_FALSE(g.has_edge(PointTaskId{1}, PointTaskId{2}));  // the two reductions run concurrently
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    if (t == 1 || t == 2) return Placement{gpu(m, t - 1), {mem(m, MemKind::FBMEM, t - 1)}};
    return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
  });
  Outcome o = run_ok(p, m, plan);
  const CopyCost* folds = copy_cost(o, "R", "FBMEM", "SYSMEM", true);
  ASSERT_NE(folds, nullptr);
  EXPECT_EQ(folds->count, 2);
  EXPECT_DOUBLE_EQ(folds->bytes, 16e6);
  EXPECT_EQ(o.profile.copies, 2);  // no other copy: SYSMEM held the base value
  for (const TraceEvent* c : events(o, "copy")) {
    EXPECT_EQ(c->name, "fold R.a 8.00 MB");
    EXPECT_NEAR(c->duration_s, 8e6 / kPcie + kPcieLatency, 1e-9);  // different links
  }
}

// Two reduction operations into R, one point on each of two nodes. The second operation
// reuses each node's reduction instance: the runtime first applies what it holds. Nobody
// reads R, so there is no valid instance to apply it to: node 1's partial sum goes into the
// oldest reduction instance (node 0's, the first reducer), which keeps its own. That is the
// only copy, across the network, and node 1's second reduction waits for it.
TEST(Coherence, AReusedReductionInstanceIsAppliedFirst) {
  Program p;
  RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  index(p, k, Domain(2), {arg(p, r, std::nullopt, Privilege::RED, {"a"})});
  index(p, k, Domain(2), {arg(p, r, std::nullopt, Privilege::RED, {"a"})});
  machine::Machine m = tiny(2);
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    const int node = t % 2;
    return Placement{gpu(m, 0, node), {mem(m, MemKind::FBMEM, 0, node)}};
  });
  Outcome o = run_ok(p, m, plan);
  const TraceEvent& c = only_copy(o);
  EXPECT_EQ(row_of(o, c), "node 1 FBMEM 0 -> node 0 FBMEM 0");
  EXPECT_EQ(c.name, "fold R.a (reduction +) 8.00 MB");  // into a reduction instance
  std::vector<const TraceEvent*> on_node_1;
  for (const TraceEvent* e : events(o, "task"))
    if (e->name == "t (1)") on_node_1.push_back(e);
  ASSERT_EQ(on_node_1.size(), 2u);
  EXPECT_GE(std::max(on_node_1[0]->start_s, on_node_1[1]->start_s), c.start_s + c.duration_s - 1e-12);
}

// The same on one node, with a reader at the end: the second operation's reductions are
// applied to R's valid instance in SYSMEM (written first), and the last ones by the reader.
TEST(Coherence, AReusedReductionInstanceIsAppliedToTheValidData) {
  Program p;
  RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RED, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RED, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    if (t == 1 || t == 2) return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
    return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
  });
  Outcome o = run_ok(p, m, plan);
  const CopyCost* folds = copy_cost(o, "R", "FBMEM", "SYSMEM", true);
  ASSERT_NE(folds, nullptr);
  EXPECT_EQ(folds->count, 2);  // before the second reduction, and for the reader
  EXPECT_EQ(o.profile.copies, 2);
}

// A GPU reads R twice (two tasks ordered by a write to S, the second after an execution
// fence: it maps once the first completed). With CollectMemory on the first read, its
// framebuffer copy is dropped after use and R is copied again.
TEST(Coherence, CollectMemoryDropsReadOnlyCopiesAfterUse) {
  for (bool collect : {false, true}) {
    Program p;
    RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
    RegionId s = p.add_region("S", Domain(10), {{"a", 8}});
    TaskKindId k = p.add_task(leaf("t", Cost{}));
    single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"}), arg(p, s, std::nullopt, Privilege::WO, {"a"})});
    single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"}), arg(p, s, std::nullopt, Privilege::RW, {"a"})});
    const LaunchId second =
        single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"}), arg(p, s, std::nullopt, Privilege::RW, {"a"})});
    p.launches[second.index()].fence = true;
    machine::Machine m = tiny();
    TaskGraph g = analyze(p);
    mapping::Plan plan = plan_for(p, g, m, [&](int t) {
      if (t == 0) return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM), mem(m, MemKind::SYSMEM)}};
      Placement pl{gpu(m, 0), {mem(m, MemKind::FBMEM, 0), mem(m, MemKind::FBMEM, 0)}};
      pl.collect = collect && t == 1;
      return pl;
    });
    Outcome o = run_ok(p, m, plan);
    const CopyCost* copies = copy_cost(o, "R", "SYSMEM", "FBMEM");
    ASSERT_NE(copies, nullptr);
    EXPECT_EQ(copies->count, collect ? 2 : 1);
  }
}

// Legion maps a task as soon as the tasks it depends on are mapped, not when they have
// finished: a GPU's second task (after the first through a write to S) finds the first one's
// framebuffer copy of R still valid, CollectMemory or not, and the copy of T it needs runs
// while the first task computes, not after it.
TEST(Coherence, TasksMapAheadOfTheTasksTheyFollow) {
  Program p;
  RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}});
  RegionId s = p.add_region("S", Domain(10), {{"a", 8}});
  RegionId t = p.add_region("T", Domain(kMillion), {{"a", 8}});
  TaskKindId init = p.add_task(leaf("init", Cost{}));
  TaskKindId k = p.add_task(leaf("t", Cost{Precision::FP64, 1e9, {}}));
  single(p, init,
         {arg(p, r, std::nullopt, Privilege::WO, {"a"}), arg(p, s, std::nullopt, Privilege::WO, {"a"}),
          arg(p, t, std::nullopt, Privilege::WO, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"}), arg(p, s, std::nullopt, Privilege::RW, {"a"})});
  single(p, k,
         {arg(p, r, std::nullopt, Privilege::RO, {"a"}), arg(p, s, std::nullopt, Privilege::RW, {"a"}),
          arg(p, t, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int i) {
    if (i == 0)
      return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM), mem(m, MemKind::SYSMEM), mem(m, MemKind::SYSMEM)}};
    Placement pl{gpu(m, 0), {mem(m, MemKind::FBMEM, 0), mem(m, MemKind::FBMEM, 0)}};
    if (i == 2) pl.mems.push_back(mem(m, MemKind::FBMEM, 0));
    pl.collect = true;
    return pl;
  });
  Outcome o = run_ok(p, m, plan);
  const CopyCost* r_copies = copy_cost(o, "R", "SYSMEM", "FBMEM");
  ASSERT_NE(r_copies, nullptr);
  EXPECT_EQ(r_copies->count, 1);  // the second task found the first one's copy
  const CopyCost* t_copies = copy_cost(o, "T", "SYSMEM", "FBMEM");
  ASSERT_NE(t_copies, nullptr);
  ASSERT_EQ(t_copies->count, 1);
  // The second task starts when the first ends: T's copy went while the first computed.
  std::vector<const TraceEvent*> tasks = events(o, "task");
  ASSERT_EQ(tasks.size(), 3u);
  std::sort(tasks.begin(), tasks.end(), [](auto* a, auto* b) { return a->start_s < b->start_s; });
  EXPECT_NEAR(tasks[2]->start_s, tasks[1]->start_s + tasks[1]->duration_s, 1e-9);
  EXPECT_GT(tasks[1]->duration_s, t_copies->total_s);  // so the copy could hide behind it
}

// Two independent tasks of one kind on GPU 0, ready at once, each needing a copy.
// InstanceLimit 1: the second is mapped (and its copy started) only when the first finished.
TEST(Memory, InstanceLimitBoundsMappedTasksPerProcessor) {
  double k1_start[2];
  for (int limited = 0; limited < 2; ++limited) {
    Program p;
    RegionId r = p.add_region("R", Domain(2 * kMillion), {{"a", 8}});
    p.set_blocks(r, {kMillion, kMillion});
    PartitionId part = p.add_block_partition("P", r, Domain(2), {{0}, {1}});
    TaskKindId w = p.add_task(leaf("w", Cost{}));
    TaskKindId k = p.add_task(leaf("k", Cost{Precision::FP64, 1e9, {}}));  // 1 ms on a GPU
    single(p, w, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
    single(p, k, {arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(0)))});
    single(p, k, {arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(1)))});
    machine::Machine m = tiny();
    TaskGraph g = analyze(p);
    mapping::Plan plan = plan_for(p, g, m, [&](int t) {
      if (t == 0) return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
      return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
    });
    if (limited) plan.task_kinds[k.index()].instance_limit = 1;
    Outcome o = run_ok(p, m, plan);
    auto tasks = events(o, "task");
    ASSERT_EQ(tasks.size(), 3u);
    const TraceEvent& k0 = *tasks[1];
    const TraceEvent& k1 = *tasks[2];
    k1_start[limited] = k1.start_s;
    if (limited)
      EXPECT_NEAR(k1.start_s, k0.start_s + k0.duration_s + 8e6 / kPcie + kPcieLatency, 1e-9);
    else
      EXPECT_NEAR(k1.start_s, k0.start_s + k0.duration_s, 1e-9);  // its copy arrived meanwhile
    // The profile reports the wait (both k are ready when w ends; the second is mapped when
    // the first ends) for k and on the critical path, and what it cost: the second copy no
    // longer overlaps the first task.
    const TraceEvent& w0 = *tasks[0];
    const double waited = limited ? k0.start_s + k0.duration_s - (w0.start_s + w0.duration_s) : 0;
    const CriticalPath& cp = o.profile.critical_path;
    EXPECT_NEAR(cp.limit_s, waited, 1e-9);
    EXPECT_LE(cp.limit_s, cp.queue_s + 1e-12);
    EXPECT_NEAR(cp.limit_cost_s, limited ? 8e6 / kPcie + kPcieLatency : 0, 1e-9);
    // The path runs through the task that held the slot: nothing on it is unexplained.
    EXPECT_NEAR(cp.length_s, cp.task_s + cp.copy_s, 1e-9);
    ASSERT_FALSE(o.profile.costliest_tasks.empty());
    for (const TaskCost& c : o.profile.costliest_tasks) {
      if (c.task == "k") {
        EXPECT_NEAR(c.limit_wait_s, waited, 1e-9);
      }
    }
  }
  EXPECT_GT(k1_start[1], k1_start[0]);
}

// InstanceLimit counts the tasks launched from one processor (the parent's; here the
// top-level task's) that are mapped and not finished, wherever they run (DSL.md): with a
// limit of 1, a k on GPU 1 waits for the k on GPU 0 launched by the same task.
TEST(Memory, InstanceLimitCountsTasksLaunchedFromOneProcessorWhereverTheyRun) {
  for (int limited = 0; limited < 2; ++limited) {
    Program p;
    RegionId r = p.add_region("R", Domain(2 * kMillion), {{"a", 8}});
    p.set_blocks(r, {kMillion, kMillion});
    PartitionId part = p.add_block_partition("P", r, Domain(2), {{0}, {1}});
    TaskKindId w = p.add_task(leaf("w", Cost{}));
    TaskKindId k = p.add_task(leaf("k", Cost{Precision::FP64, 1e9, {}}));  // 1 ms on a GPU
    single(p, w, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
    single(p, k, {arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(0)))});
    single(p, k, {arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(1)))});
    machine::Machine m = tiny();
    TaskGraph g = analyze(p);
    mapping::Plan plan = plan_for(p, g, m, [&](int t) {
      if (t == 0) return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
      return Placement{gpu(m, t - 1), {mem(m, MemKind::FBMEM, t - 1)}};
    });
    plan.top_level_processor = cpu(m, 0);
    if (limited) plan.task_kinds[k.index()].instance_limit = 1;
    Outcome o = run_ok(p, m, plan);
    const TraceEvent& k0 = task_event(o, "k");
    const TraceEvent* k1 = events(o, "task").back();
    ASSERT_NE(k1, &k0);
    if (limited)  // mapped when k0 finished: its copy follows
      EXPECT_NEAR(k1->start_s, k0.start_s + k0.duration_s + 8e6 / kPcie + kPcieLatency, 1e-9);
    else  // both copies at once (on separate links), both tasks at once
      EXPECT_NEAR(k1->start_s, k0.start_s, 1e-9);
  }
}

// Tasks launched from different processors are counted apart, even on one GPU: two inner
// tasks on CPU 0 and CPU 1 each launch one k onto GPU 0; with InstanceLimit k 1 both are
// mapped at once: the second copy does not wait for the first k to finish.
TEST(Memory, InstanceLimitCountsEachLaunchingProcessorApart) {
  Program p;
  RegionId r = p.add_region("R", Domain(2 * kMillion), {{"a", 8}});
  p.set_blocks(r, {kMillion, kMillion});
  PartitionId part = p.add_block_partition("P", r, Domain(2), {{0}, {1}});
  TaskKindId w = p.add_task(leaf("w", Cost{}));
  TaskKind outer_kind = leaf("outer", Cost{});
  outer_kind.leaf = false;
  TaskKindId outer = p.add_task(outer_kind);
  TaskKindId k = p.add_task(leaf("k", Cost{Precision::FP64, 1e9, {}}));
  single(p, w, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
  LaunchId lo = index(p, outer, Domain(2), {arg(p, r, part, Privilege::RO, {"a"})});
  Launch child;
  child.task = k;
  child.kind = LaunchKind::Single;
  child.parent = lo;
  child.timed = true;
  child.iteration = 0;
  child.args = {arg(p, r, part, Privilege::RO, {"a"},
                    Projection::of([](const PointRef& ref) { return ref.parent->point; }, "parent"))};
  p.add_launch(std::move(child));
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  ASSERT_EQ(g.size(), 5u);  // w, outer 0, outer 1, and a k for each
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    const PointTask& pt = g.tasks[static_cast<size_t>(t)];
    if (pt.launch == lo) return Placement{cpu(m, static_cast<int>(pt.point[0])), {machine::MemId{-1}}};
    if (t == 0) return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
    return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
  });
  plan.top_level_processor = cpu(m, 0);
  plan.task_kinds[k.index()].instance_limit = 1;
  Outcome o = run_ok(p, m, plan);
  auto copies = events(o, "copy");
  ASSERT_EQ(copies.size(), 2u);
  double first_k_end = 1e300;
  for (const TraceEvent* e : events(o, "task"))
    if (e->name.rfind("k", 0) == 0) first_k_end = std::min(first_k_end, e->start_s + e->duration_s);
  ASSERT_LT(first_k_end, 1e300);
  EXPECT_LT(copies[1]->start_s, first_k_end - 1e-4);
}

// FBMEM holds 1 GiB: two 640 MB arguments of one task do not fit.
TEST(Memory, OutOfMemoryNamesTheMemoryTheSizesAndTheLargestInstances) {
  Program p;
  RegionId r = p.add_region("R", Domain(80 * kMillion), {{"a", 8}});
  RegionId s = p.add_region("S", Domain(80 * kMillion), {{"a", 8}});
  TaskKindId k = p.add_task(leaf("big", Cost{}));
  single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"}), arg(p, s, std::nullopt, Privilege::WO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int) {
    return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0), mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = simulate_in_child(p, g, m, plan);
  EXPECT_EQ(o.status, Status::ExecutionError);
  EXPECT_EQ(o.message,
            "out of memory in node 0 FBMEM 0: 610.4 MiB requested, 1.0 GiB capacity, 610.4 MiB in use; largest "
            "instances: R.a 610.4 MiB; while mapping argument 1 (S) of big on node 0 GPU 0");
  EXPECT_EQ(to_string(o.status), "execution error");
  // The same as data, for programs that react to it (and through JSON, as a child sends it).
  ASSERT_TRUE(o.profile.out_of_memory.has_value());
  const OutOfMemory& oom = *o.profile.out_of_memory;
  EXPECT_EQ(oom.memory, "node 0 FBMEM 0");
  EXPECT_EQ(oom.memory_kind, "FBMEM");
  EXPECT_EQ(oom.requested_bytes, 640'000'000u);
  EXPECT_EQ(oom.capacity_bytes, 1024u * 1024 * 1024);
  EXPECT_EQ(oom.used_bytes, 640'000'000u);
  ASSERT_EQ(oom.held.size(), 1u);
  EXPECT_EQ(oom.held[0].data, "R");
  EXPECT_EQ(oom.held[0].instances, 1);
  EXPECT_EQ(oom.held[0].bytes, 640'000'000u);
  EXPECT_EQ(oom.task, "big");
  EXPECT_EQ(oom.point, "big");  // a single launch has no point to show
  EXPECT_EQ(oom.argument, 1);
  EXPECT_EQ(oom.data, "S");
  EXPECT_EQ(oom.processor, "node 0 GPU 0");
  EXPECT_EQ(oom.in_flight, 1);
  const nlohmann::ordered_json j = o.to_json();
  EXPECT_EQ(j["profile"]["out_of_memory"]["data"], "S");
  EXPECT_EQ(Outcome::from_json(nlohmann::json::parse(j.dump())).to_json().dump(), j.dump());
}

// Peak memory counts every instance alive at once.
TEST(Memory, PeakBytesPerMemory) {
  Program p;
  RegionId r = p.add_region("R", Domain(kMillion), {{"a", 8}, {"b", 8}});
  TaskKindId k = p.add_task(leaf("t", Cost{}));
  single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a", "b"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    return t == 0 ? Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}} : Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = run_ok(p, m, plan);
  ASSERT_EQ(o.profile.memories.size(), 2u);
  EXPECT_EQ(o.profile.memories[0].memory, "node 0 SYSMEM 0");
  EXPECT_EQ(o.profile.memories[0].id, mem(m, MemKind::SYSMEM));
  EXPECT_EQ(o.profile.memories[0].kind, MemKind::SYSMEM);
  EXPECT_EQ(o.profile.memories[0].peak_bytes, 16'000'000u);
  EXPECT_EQ(o.profile.memories[1].memory, "node 0 FBMEM 0");
  EXPECT_EQ(o.profile.memories[1].id, mem(m, MemKind::FBMEM, 0));
  EXPECT_EQ(o.profile.memories[1].kind, MemKind::FBMEM);
  EXPECT_EQ(o.profile.memories[1].peak_bytes, 8'000'000u);  // only the field it reads
  EXPECT_EQ(o.profile.memories[1].capacity_bytes, 1024u * 1024 * 1024);
}

}  // namespace
}  // namespace mage::sim::test
