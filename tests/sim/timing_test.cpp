// Task time and copy time on the tiny machine, against hand-computed answers.
#include "helpers.h"

namespace mage::sim::test {
namespace {

using kinds::MemKind;

// One region R of n doubles (fields a, b), one block.
struct OneRegion {
  Program p;
  RegionId r;
  explicit OneRegion(int64_t n) { r = p.add_region("R", Domain(n), {{"a", 8}, {"b", 8}}); }
};

// One task of `cost` reading field a of a 1,000-element R, on GPU 0 with R in its framebuffer.
Outcome one_task_on_gpu(const Cost& cost) {
  OneRegion x(1000);
  TaskKindId k = x.p.add_task(leaf("work", cost));
  single(x.p, k, {arg(x.p, x.r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(x.p);
  mapping::Plan plan = plan_for(x.p, g, m, [&](int) { return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}}; });
  return run_ok(x.p, m, plan);
}

TEST(TaskTime, ComputeBoundIsOverheadPlusFlopsOverRate) {
  Outcome o = one_task_on_gpu(Cost{Precision::FP64, 1e9, {}});
  // 5 us + max(1e9 / 1e12 s, 8000 B / 500 GB/s)
  EXPECT_NEAR(o.time_s, 5e-6 + 1e-3, 1e-9);
  EXPECT_EQ(o.metric_name, "iterations/s");
}

TEST(TaskTime, MemoryBoundIsOverheadPlusBytesOverBandwidth) {
  ArgCost heavy{0, 1e6, 0.0, Access::Streaming};  // 1 MB read per element: 1 GB
  Outcome o = one_task_on_gpu(Cost{Precision::FP64, 1e9, {heavy}});
  EXPECT_NEAR(o.time_s, 5e-6 + 1e9 / 500e9, 1e-9);
}
// A CPU writes R in zero-copy memory; a GPU reads it there: the data crosses the PCIe link
// (10 GB/s, 1 us) while the task runs.
TEST(TaskTime, ZeroCopyReadGoesAtTheLinkBandwidth) {
  OneRegion x(1'000'000);
  TaskKindId k = x.p.add_task(leaf("t", Cost{}));
  single(x.p, k, {arg(x.p, x.r, std::nullopt, Privilege::WO, {"a"})});
  single(x.p, k, {arg(x.p, x.r, std::nullopt, Privilege::RO, {"a"})});
  machine::Machine m = tiny();
  TaskGraph g = analyze(x.p);
  mapping::Plan plan = plan_for(x.p, g, m, [&](int t) {
    return Placement{t == 0 ? cpu(m, 0) : gpu(m, 0), {mem(m, MemKind::ZCMEM)}};
  });
  Outcome o = run_ok(x.p, m, plan);
  EXPECT_TRUE(events(o, "copy").empty());
  auto tasks = events(o, "task");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_NEAR(tasks[1]->duration_s, 5e-6 + 8e6 / 10e9 + 1e-6, 1e-9);
  EXPECT_DOUBLE_EQ(o.profile.bytes_moved.gpu_host, 8e6);  // both tasks are timed; the CPU's is local
}

// A CPU writes 1,000 elements of R in zero-copy memory; a GPU task "g" of `flops` then
// gathers them there with `fan_in` accesses per element. Returns g's duration.
double gather_from_zero_copy(const machine::Machine& m, double flops, double fan_in) {
  OneRegion x(1000);
  TaskKindId w = x.p.add_task(leaf("w", Cost{}));
  ArgCost gather{0, std::nullopt, std::nullopt, Access::Gather};
  gather.accesses_per_element = fan_in;
  TaskKindId k = x.p.add_task(leaf("g", Cost{Precision::FP64, flops, {gather}}));
  single(x.p, w, {arg(x.p, x.r, std::nullopt, Privilege::WO, {"a"})});
  single(x.p, k, {arg(x.p, x.r, std::nullopt, Privilege::RO, {"a"})});
  TaskGraph g = analyze(x.p);
  mapping::Plan plan = plan_for(x.p, g, m, [&](int t) {
    return Placement{t == 0 ? cpu(m, 0) : gpu(m, 0), {mem(m, MemKind::ZCMEM)}};
  });
  return task_event(run_ok(x.p, m, plan), "g").duration_s;
}

// Each of the 1,000 elements pays the 1 us latency, after the data crossed the link.
TEST(TaskTime, GatherFromZeroCopyPaysTheLatencyPerElement) {
  EXPECT_NEAR(gather_from_zero_copy(tiny(), 0, 1), 5e-6 + 1000 * 1e-6 + 8000 / 10e9 + 1e-6, 1e-9);
}

// A gather's latency stalls the kernel: it adds to the compute instead of hiding under it.
TEST(TaskTime, GatherStallAddsToCompute) {
  // 5 us + 1 ms of compute (the 0.8 us transfer runs under it) + 1,000 x 1 us of stall
  EXPECT_NEAR(gather_from_zero_copy(tiny(), 1e9, 1), 5e-6 + 1e-3 + 1e-3, 1e-9);
}

// Each element takes `accesses_per_element` accesses; the GPU keeps
// `remote_accesses_in_flight` of them going at once.
TEST(TaskTime, GatherStallScalesWithFanInOverAccessesInFlight) {
  std::string text = kTinyMachine;
  const std::string gpu_overhead = "launch_overhead_us = 5\n";
  text.replace(text.find(gpu_overhead), gpu_overhead.size(), gpu_overhead + "remote_accesses_in_flight = 8\n");
  machine::Machine m = machine::load_text(text, "tiny8.toml", {});
  // 5 us + the 8,000 B transfer (0.8 us + 1 us latency) + 1,000 x 4 x 1 us / 8
  EXPECT_NEAR(gather_from_zero_copy(m, 0, 4), 5e-6 + 8000 / 10e9 + 1e-6 + 0.5e-3, 1e-9);
}

// A kernel that sustains half the peak rate takes twice the compute time.
TEST(TaskTime, PeakFractionSlowsCompute) {
  Cost half{Precision::FP64, 1e9, {}};
  half.peak_fraction = 0.5;
  Outcome o = one_task_on_gpu(half);
  EXPECT_NEAR(o.time_s, 5e-6 + 2e-3, 1e-9);
}

// A GPU task reads one of two fields of an instance a previous task made with both: in AOS
// it streams whole records, twice the bytes.
TEST(TaskTime, AosOnAGpuWastesBandwidthOnUnusedFields) {
  for (bool soa : {true, false}) {
    OneRegion x(1'000'000);
    TaskKindId w = x.p.add_task(leaf("w", Cost{}));
    TaskKindId k = x.p.add_task(leaf("k", Cost{}));
    single(x.p, w, {arg(x.p, x.r, std::nullopt, Privilege::WO, {"a", "b"})});
    single(x.p, k, {arg(x.p, x.r, std::nullopt, Privilege::RO, {"a"})});
    machine::Machine m = tiny();
    TaskGraph g = analyze(x.p);
    mapping::Plan plan = plan_for(x.p, g, m, [&](int) {
      Placement pl{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
      pl.layout.fields = soa ? kinds::FieldLayout::SOA : kinds::FieldLayout::AOS;
      return pl;
    });
    Outcome o = run_ok(x.p, m, plan);
    EXPECT_NEAR(task_event(o, "k").duration_s, 5e-6 + (soa ? 8e6 : 16e6) / 500e9, 1e-10) << (soa ? "SOA" : "AOS");
  }
}

// An inner task runs for its launch overhead, issues its children and completes with them.
TEST(TaskTime, InnerTasksCompleteWithTheirChildren) {
  OneRegion x(1000);
  TaskKind parent;
  parent.name = "parent";
  parent.leaf = false;
  parent.variants = {Variant{ProcKind::CPU, Cost{}, std::nullopt}};
  TaskKindId pk = x.p.add_task(parent);
  TaskKindId ck = x.p.add_task(leaf("child", Cost{Precision::FP64, 1e9, {}}));
  LaunchId pl = single(x.p, pk, {arg(x.p, x.r, std::nullopt, Privilege::RW, {"a"})});
  Launch c;
  c.task = ck;
  c.kind = LaunchKind::Single;
  c.parent = pl;
  c.steps = 2;
  c.timed = true;
  c.args = {arg(x.p, x.r, std::nullopt, Privilege::RW, {"a"})};
  x.p.add_launch(std::move(c));
  machine::Machine m = tiny();
  TaskGraph g = analyze(x.p);
  ASSERT_EQ(g.size(), 3u);
  mapping::Plan plan = plan_for(x.p, g, m, [&](int t) {
    if (t == 0) return Placement{cpu(m, 0), {machine::MemId{-1}}};  // VIRTUAL
    return Placement{gpu(m, 0), {mem(m, MemKind::FBMEM, 0)}};
  });
  Outcome o = run_ok(x.p, m, plan);
  // 10 us (parent) + 2 x (5 us + 1 ms), the second child after the first (RW).
  EXPECT_NEAR(o.time_s, 10e-6 + 2 * (5e-6 + 1e-3), 1e-9);
  EXPECT_EQ(o.profile.critical_path.steps.size(), 3u);
  EXPECT_NEAR(o.profile.critical_path.task_s, o.time_s, 1e-9);
}

// ---------------------------------------------------------------- errors before running

struct Dgemm {
  Program p;
  TaskGraph g;
  machine::Machine m = tiny();
  mapping::Plan plan;
  Dgemm() {
    RegionId a = p.add_region("A", Domain(100), {{"vals", 8}});
    RegionId b = p.add_region("B", Domain(100), {{"vals", 8}});
    TaskKindId k = p.add_task(leaf("task_4", Cost{}, DimOrder::C));
    single(p, k, {arg(p, a, std::nullopt, Privilege::RW, {"vals"}), arg(p, b, std::nullopt, Privilege::RO, {"vals"})});
    g = analyze(p);
    plan = plan_for(p, g, m, [&](int) {
      return Placement{gpu(m, 1), {mem(m, MemKind::FBMEM, 1), mem(m, MemKind::FBMEM, 1)}};
    });
  }
};

TEST(Errors, LayoutMismatchNamesTheTaskTheOperandAndTheOrders) {
  Dgemm d;
  d.plan.tasks[0].args[0].layout.order = kinds::DimOrder::C;
  Outcome o = simulate_in_child(d.p, d.g, d.m, d.plan);
  EXPECT_EQ(o.status, Status::ExecutionError);
  EXPECT_EQ(o.message,
            "task_4 on node 0 GPU 1: layout mismatch, operand B (argument 1, B) is F_order, C_order required");
  d.plan.tasks[0].args[1].layout.order = kinds::DimOrder::C;
  EXPECT_EQ(simulate_in_child(d.p, d.g, d.m, d.plan).status, Status::Ok);
}

TEST(Errors, ALeafTaskCannotHaveAVirtualArgument) {
  Dgemm d;
  for (auto& a : d.plan.tasks[0].args) a.layout.order = kinds::DimOrder::C;
  d.plan.tasks[0].args[1].is_virtual = true;
  Outcome o = simulate_in_child(d.p, d.g, d.m, d.plan);
  EXPECT_EQ(o.status, Status::ExecutionError);
  EXPECT_EQ(o.message, "task_4 on node 0 GPU 1: argument 1 (B) is VIRTUAL, but task_4 is a leaf task that accesses it");
}

TEST(Errors, AnArgumentInAMemoryTheProcessorCannotReach) {
  Dgemm d;
  for (auto& a : d.plan.tasks[0].args) a.layout.order = kinds::DimOrder::C;
  d.plan.tasks[0].args[0].memory = mem(d.m, MemKind::SYSMEM);
  Outcome o = simulate_in_child(d.p, d.g, d.m, d.plan);
  EXPECT_EQ(o.status, Status::ExecutionError);
  EXPECT_EQ(o.message,
            "task_4 on node 0 GPU 1: argument 0 (A) is in node 0 SYSMEM 0, which node 0 GPU 1 cannot access");
}

TEST(Errors, APlanForAnotherProgramIsASimulatorFailure) {
  Dgemm d;
  d.plan.tasks.push_back(d.plan.tasks[0]);
  Outcome o = simulate_in_child(d.p, d.g, d.m, d.plan);
  EXPECT_EQ(o.status, Status::SimulatorFailure);
  EXPECT_EQ(o.message, "the plan places 2 point tasks but the program has 1");
}

}  // namespace
}  // namespace mage::sim::test
