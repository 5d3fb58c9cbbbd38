// What the profile says about each task kind (compute, bytes, processors, the time its
// accesses across links added) and what copies were made for: facts the guide reads. The
// waits for instance limits and the record of an allocation that did not fit are tested
// with the limits and memory in data_test.cpp.
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

TEST(TaskProfile, ARunThatFitsHasNoOutOfMemoryRecord) {
  Outcome o = write_then_gather(MemKind::FBMEM);
  EXPECT_FALSE(o.profile.out_of_memory.has_value());
  EXPECT_TRUE(o.to_json()["profile"]["out_of_memory"].is_null());
}

}  // namespace
}  // namespace mage::sim::test
