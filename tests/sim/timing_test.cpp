// Task time and copy time on the tiny machine, against hand-computed answers.
#include "helpers.h"

namespace mage::sim::test {
namespace {

using machine::MemKind;

// One region R of n doubles (fields a, b), one block.
struct OneRegion {
  Program p;
  RegionId r;
  explicit OneRegion(int64_t n) { r = p.add_region("R", Domain(n), {{"a", 8}, {"b", 8}}); }
};

TEST(TaskTime, ComputeBoundIsOverheadPlusFlopsOverRate) {
  OneRegion x(1000);
  TaskKindId k = x.p.add_task(leaf("work", Cost{Precision::FP64, 1e9, {}}));
  single(x.p, k, {arg(x.p, x.r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(x.p);
  mapping::Plan plan = plan_for(x.p, g, m, [&](PointTaskId) {
    return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = run_ok(x.p, m, plan);
  // 5 us + max(1e9 / 1e12 s, 8000 B / 500 GB/s)
  EXPECT_NEAR(o.time_s, 5e-6 + 1e-3, 1e-9);
  EXPECT_EQ(o.metric_name, "iterations/s");
}

TEST(TaskTime, MemoryBoundIsOverheadPlusBytesOverBandwidth) {
  OneRegion x(1000);
  ArgCost heavy{0, 1e6, 0.0, Access::Streaming};  // 1 MB read per element: 1 GB
  TaskKindId k = x.p.add_task(leaf("stream", Cost{Precision::FP64, 1e9, {heavy}}));
  single(x.p, k, {arg(x.p, x.r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(x.p);
  mapping::Plan plan = plan_for(x.p, g, m, [&](PointTaskId) {
    return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = run_ok(x.p, m, plan);
  EXPECT_NEAR(o.time_s, 5e-6 + 1e9 / 500e9, 1e-9);
}
}  // namespace
}  // namespace mage::sim::test
