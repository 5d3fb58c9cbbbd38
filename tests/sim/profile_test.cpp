// What the profile says about each task kind (compute, bytes, processors, the time its
// accesses across links added, waits for instance limits), what copies were made for,
// and the structured record of an allocation that did not fit: the facts the guide reads.
#include <nlohmann/json.hpp>

#include "helpers.h"

namespace mage::sim::test {
namespace {

using machine::MemKind;

const TaskCost& task_cost(const Outcome& o, const std::string& task) {
  for (const TaskCost& c : o.profile.costliest_tasks)
    if (c.task == task) return c;
  throw std::runtime_error("no task cost for " + task);
}

// A CPU task "w" writes 1,000 doubles of R; a GPU task "g" (1e9 flops: 1 ms) then gathers
// them, once per element, from `where`.
Outcome write_then_gather(MemKind where) {
  Program p;
  RegionId r = p.add_region("R", Domain(1000), {{"a", 8}});
  TaskKindId w = p.add_task(leaf("w", Cost{}));
  ArgCost gather{0, std::nullopt, std::nullopt, Access::Gather};
  TaskKindId k = p.add_task(leaf("g", Cost{Precision::FP64, 1e9, {gather}}));
  single(p, w, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
  single(p, k, {arg(p, r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](PointTaskId t) {
    if (t == 0) return Placement{cpu(m, 0), {mem(m, where == MemKind::ZCMEM ? MemKind::ZCMEM : MemKind::SYSMEM)}};
    return Placement{gpu(m, 0), {mem(m, where)}};
  });
  return run_ok(p, m, plan);
}

// In zero-copy memory, the 1,000 gathers stall the GPU 1 us each (1 ms) on top of its 1 ms
// of compute: that millisecond is the time the remote argument added.
TEST(TaskProfile, RemoteArgumentsCarryTheTimeTheirAccessesAdded) {
  Outcome o = write_then_gather(MemKind::ZCMEM);
  const TaskCost& g = task_cost(o, "g");
  EXPECT_EQ(g.processor_kind, "GPU");
  EXPECT_EQ(g.count, 1);
  EXPECT_EQ(g.processors, 1);
  EXPECT_DOUBLE_EQ(g.flops, 1e9);
  EXPECT_DOUBLE_EQ(g.bytes, 8000);
  EXPECT_NEAR(g.compute_s, 1e-3, 1e-12);
  ASSERT_EQ(g.remote.size(), 1u);
  EXPECT_EQ(g.remote[0].argument, 0);
  EXPECT_EQ(g.remote[0].data, "R");
  EXPECT_EQ(g.remote[0].memory, "ZCMEM");
  EXPECT_DOUBLE_EQ(g.remote[0].bytes, 8000);
  EXPECT_NEAR(g.remote[0].time_s, 1e-3, 1e-9);
  EXPECT_LE(g.remote[0].time_s, g.total_s);
  EXPECT_DOUBLE_EQ(g.limit_wait_s, 0);
}

// In its own framebuffer nothing is remote, and the copy there was made for g.
TEST(TaskProfile, LocalArgumentsAreNotRemoteAndCopiesNameTheTaskTheyWereFor) {
  Outcome o = write_then_gather(MemKind::FBMEM);
  EXPECT_TRUE(task_cost(o, "g").remote.empty());
  ASSERT_EQ(o.profile.costliest_copies.size(), 1u);
  EXPECT_EQ(o.profile.costliest_copies[0].data, "R");
  EXPECT_EQ(o.profile.costliest_copies[0].for_task, "g");
}

// Four points on two GPUs or on one: the profile counts the processors a task kind used.
TEST(TaskProfile, CountsTheProcessorsATaskKindRanOn) {
  for (int spread = 0; spread < 2; ++spread) {
    Program p;
    RegionId r = p.add_region("R", Domain(4000), {{"a", 8}});
    p.set_blocks(r, {1000, 1000, 1000, 1000});
    PartitionId part = p.add_block_partition("P", r, Domain(4), {{0}, {1}, {2}, {3}});
    TaskKindId k = p.add_task(leaf("k", Cost{Precision::FP64, 1e6, {}}));
    index(p, k, Domain(4), {arg(p, r, part, Privilege::WO, {"a"})});
    machine::Machine m = tiny();
    TaskGraph g = analyze(p);
    mapping::Plan plan = plan_for(p, g, m, [&](PointTaskId t) {
      const int i = spread ? static_cast<int>(t) % 2 : 0;
      return Placement{gpu(m, i), {mem(m, MemKind::FBMEM, i)}};
    });
    Outcome o = run_ok(p, m, plan);
    EXPECT_EQ(task_cost(o, "k").processors, spread ? 2 : 1);
    EXPECT_EQ(task_cost(o, "k").count, 4);
  }
}

// Two independent tasks of one kind on GPU 0, each needing an 8 MB copy; InstanceLimit 1
// keeps the second unmapped until the first finished: the time it waited is reported for
// its kind and on the critical path, with what the limit cost.
TEST(TaskProfile, TimeWaitedForAnInstanceLimitIsReported) {
  constexpr int64_t kMillion = 1'000'000;
  for (int limited = 0; limited < 2; ++limited) {
    Program p;
    RegionId r = p.add_region("R", Domain(2 * kMillion), {{"a", 8}});
    p.set_blocks(r, {kMillion, kMillion});
    PartitionId part = p.add_block_partition("P", r, Domain(2), {{0}, {1}});
    TaskKindId w = p.add_task(leaf("w", Cost{}));
    TaskKindId k = p.add_task(leaf("k", Cost{Precision::FP64, 1e9, {}}));
    single(p, w, {arg(p, r, std::nullopt, Privilege::WO, {"a"})});
    single(p, k, {arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(0)))});
    single(p, k, {arg(p, r, part, Privilege::RO, {"a"}, Projection::constant_point(Point(1)))});
    machine::Machine m = tiny();
    TaskGraph g = analyze(p);
    mapping::Plan plan = plan_for(p, g, m, [&](PointTaskId t) {
      if (t == 0) return Placement{cpu(m, 0), {mem(m, MemKind::SYSMEM)}};
      return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
    });
    if (limited) plan.task_kinds[static_cast<size_t>(k)].instance_limit = 1;
    Outcome o = run_ok(p, m, plan);
    const TraceEvent& w0 = task_event(o, "w");
    const TraceEvent& k0 = *events(o, "task")[1];
    // Both k are ready when w ends; the second is mapped when the first ends.
    const double waited = limited ? k0.start_s + k0.duration_s - (w0.start_s + w0.duration_s) : 0;
    EXPECT_NEAR(task_cost(o, "k").limit_wait_s, waited, 1e-9);
    EXPECT_NEAR(o.profile.critical_path.limit_s, waited, 1e-9);
    EXPECT_LE(o.profile.critical_path.limit_s, o.profile.critical_path.queue_s + 1e-12);
    // What the limit cost: the second task's 8 MB copy (0.8 ms + 1 us) no longer overlaps
    // the first task; it starts that much after GPU 0 became free.
    EXPECT_NEAR(o.profile.critical_path.limit_cost_s, limited ? 8e6 / 10e9 + 1e-6 : 0, 1e-9);
  }
}

// FBMEM holds 1 GiB: the second of two 640 MB arguments does not fit. The profile says
// where, how much, what fills the memory and which argument of which task was being mapped.
TEST(TaskProfile, OutOfMemoryIsRecordedAsData) {
  constexpr int64_t kMillion = 1'000'000;
  Program p;
  RegionId r = p.add_region("R", Domain(80 * kMillion), {{"a", 8}});
  RegionId s = p.add_region("S", Domain(80 * kMillion), {{"a", 8}});
  TaskKindId k = p.add_task(leaf("big", Cost{}));
  single(p, k, {arg(p, r, std::nullopt, Privilege::WO, {"a"}), arg(p, s, std::nullopt, Privilege::WO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](PointTaskId) {
    return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0), mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = run_isolated(p, g, m, plan);
  ASSERT_EQ(o.status, Status::ExecutionError);
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
  // It survives the trip through JSON (the child process sends it so).
  nlohmann::ordered_json j = o.to_json();
  EXPECT_EQ(j["profile"]["out_of_memory"]["data"], "S");
  EXPECT_EQ(Outcome::from_json(nlohmann::json::parse(j.dump())).to_json().dump(), j.dump());
}

TEST(TaskProfile, ARunThatFitsHasNoOutOfMemoryRecord) {
  Outcome o = write_then_gather(MemKind::FBMEM);
  EXPECT_FALSE(o.profile.out_of_memory.has_value());
  EXPECT_TRUE(o.to_json()["profile"]["out_of_memory"].is_null());
}

}  // namespace
}  // namespace mage::sim::test
