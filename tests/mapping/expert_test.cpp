// What the expert mappers decide (BENCHMARKS.md's strategies), and how the default
// mapper differs: circuit's zero-copy regions and block placement, the CPU-only setup
// tasks, Cannon's task_4 on its parent's GPU and in C order.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "helpers.h"

namespace mage::mapping {
namespace {

using program::PointTaskId;

// The 1-based line of the first line of `text` that contains `needle`.
int line_of(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) throw std::runtime_error("no line with " + needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

TEST(ShapeOf, CountsRanksAndProcessorsPerRank) {
  dsl::MachineShape p100 = shape_of(machine::load("p100x4"));
  EXPECT_EQ(p100.ranks, 1);
  EXPECT_EQ(p100.count(kinds::ProcKind::CPU), 20);
  EXPECT_EQ(p100.count(kinds::ProcKind::GPU), 4);
  EXPECT_EQ(p100.count(kinds::ProcKind::OMP), 2);
  EXPECT_EQ(p100.count(kinds::ProcKind::IO), 1);
  EXPECT_EQ(p100.count(kinds::ProcKind::PY), 0);
  EXPECT_EQ(p100.procs_per_rank.size(), 4u);  // the kinds it has, and only those
  dsl::MachineShape lassen = shape_of(machine::load("lassen", {.nodes = 4, .ranks_per_node = 4}));
  EXPECT_EQ(lassen.ranks, 16);
  EXPECT_EQ(lassen.count(kinds::ProcKind::GPU), 1);
  EXPECT_EQ(lassen.count(kinds::ProcKind::CPU), 10);
  EXPECT_EQ(lassen.count(kinds::ProcKind::OMP), 1);
  EXPECT_EQ(lassen.count(kinds::ProcKind::IO), 1);
}

TEST(CircuitExpert, ZeroCopyForSharedAndGhostFramebufferOtherwiseBlockPlacement) {
  auto s = test::setup("circuit", "lassen", 4);
  const std::string text = test::read_text(test::expert_mapper_path("circuit"));
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::expert_for("circuit", s->machine)));
  const int zc_shared = line_of(text, "Region * rp_shared GPU ZCMEM;");
  const int zc_ghost = line_of(text, "Region * rp_ghost GPU ZCMEM;");
  const int fb = line_of(text, "Region * * GPU FBMEM;");
  const int layout = line_of(text, "Layout * * * SOA C_order;");
  const int index_map = line_of(text, "IndexTaskMap calculate_new_currents");
  int checked = 0;
  for (const char* name : {"calculate_new_currents", "distribute_charge", "update_voltages"}) {
    for (PointTaskId t : test::tasks_named(*s, name)) {
      const TaskPlacement& tp = p.tasks[t.index()];
      const machine::Processor& gpu = test::proc_of(*s, p, t);
      const int64_t i = s->graph.tasks[t.index()].point[0];
      ASSERT_EQ(gpu.kind, kinds::ProcKind::GPU) << name;
      EXPECT_EQ(gpu.node, i / 4) << name << " point " << i;
      EXPECT_EQ(gpu.index, i % 4) << name << " point " << i;
      EXPECT_EQ(tp.placement_rule_line, index_map);
      for (size_t a = 0; a < tp.args.size(); ++a) {
        const machine::Memory& mem = test::mem_of(*s, p, t, a);
        const auto names = s->program.arg_names(s->program.launches[s->graph.tasks[t.index()].launch.index()].args[a]);
        const std::string& part = names.front();
        EXPECT_EQ(mem.node, gpu.node);
        if (part == "rp_shared" || part == "rp_ghost") {
          EXPECT_EQ(mem.kind, kinds::MemKind::ZCMEM) << name << " " << part;
          EXPECT_EQ(tp.args[a].memory_rule_line, part == "rp_shared" ? zc_shared : zc_ghost);
        } else {
          EXPECT_EQ(mem.kind, kinds::MemKind::FBMEM) << name << " " << part;
          EXPECT_EQ(mem.gpu, gpu.index) << "its own framebuffer";
          EXPECT_EQ(tp.args[a].memory_rule_line, fb);
        }
        EXPECT_EQ(tp.args[a].layout.fields, kinds::FieldLayout::SOA);
        EXPECT_EQ(tp.args[a].layout.order, kinds::DimOrder::C);
        EXPECT_EQ(tp.args[a].layout_rule_line, layout);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(CircuitExpert, SetupTasksOnOneCpuOfTheOwningNode) {
  auto s = test::setup("circuit", "lassen", 4);
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::expert_for("circuit", s->machine)));
  for (const char* name : {"init_piece", "init_pointers"}) {
    for (PointTaskId t : test::tasks_named(*s, name)) {
      const machine::Processor& cpu = test::proc_of(*s, p, t);
      const int64_t i = s->graph.tasks[t.index()].point[0];
      EXPECT_EQ(cpu.kind, kinds::ProcKind::CPU) << name;
      EXPECT_EQ(cpu.node, i / 4) << name;
      EXPECT_EQ(cpu.index, 0) << name;
      for (const ArgPlacement& a : p.tasks[t.index()].args) {
        if (a.is_virtual) continue;  // init_pointers' NA arguments
        EXPECT_EQ(s->machine.memory(a.memory).kind, kinds::MemKind::SYSMEM) << name;
        EXPECT_EQ(s->machine.memory(a.memory).node, cpu.node) << name;
      }
    }
  }
  // init_pointers only iterates over the node pieces (NA): no instance for them.
  for (PointTaskId t : test::tasks_named(*s, "init_pointers")) {
    const auto& args = p.tasks[t.index()].args;
    ASSERT_EQ(args.size(), 4u);
    EXPECT_TRUE(args[0].is_virtual && args[1].is_virtual && args[2].is_virtual);
    EXPECT_FALSE(args[3].is_virtual);
  }
  // print_summary (a single launch, no SingleTaskMap): the first CPU of the round-robin.
  auto summary = test::tasks_named(*s, "print_summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(p.tasks[summary[0].index()].processor, s->machine.processor_at(kinds::ProcKind::CPU, 0, 0));
}

TEST(CircuitDefault, BlocksOverNodesThenProcessorsAndCpuOnlyTasksOnCpus) {
  auto s = test::setup("circuit", "lassen", 4);
  Plan p = test::plan_of(apply_default(s->program, s->graph, s->machine));
  for (PointTaskId t : test::tasks_named(*s, "calculate_new_currents")) {
    const machine::Processor& gpu = test::proc_of(*s, p, t);
    const int64_t i = s->graph.tasks[t.index()].point[0];
    EXPECT_EQ(gpu.kind, kinds::ProcKind::GPU);
    EXPECT_EQ(gpu.node, i / 4);
    EXPECT_EQ(gpu.index, i % 4);
    for (size_t a = 0; a < 4; ++a) EXPECT_EQ(test::mem_of(*s, p, t, a).kind, kinds::MemKind::FBMEM);
  }
  // 16 points of init_piece over 4 x 40 CPUs: point i on CPU 10 i in node-major order.
  const auto cpus = s->machine.processors_of(kinds::ProcKind::CPU);
  ASSERT_EQ(cpus.size(), 160u);
  for (const char* name : {"init_piece", "init_pointers"}) {
    for (PointTaskId t : test::tasks_named(*s, name)) {
      const int64_t i = s->graph.tasks[t.index()].point[0];
      EXPECT_EQ(p.tasks[t.index()].processor, cpus[static_cast<size_t>(10 * i)]) << name;
      EXPECT_EQ(p.tasks[t.index()].kind, kinds::ProcKind::CPU);
    }
  }
  auto summary = test::tasks_named(*s, "print_summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(p.tasks[summary[0].index()].processor, cpus[0]);
  EXPECT_EQ(p.top_level_processor, cpus[0]);
}

// task_4's parent is the task_5 point that issued it.
PointTaskId parent_of(const test::Setup& s, PointTaskId t) { return s.graph.tasks[t.index()].parent; }

TEST(CannonExpert, Task4OnItsParentsGpuInCOrder) {
  for (int nodes : {1, 4}) {
    auto s = test::setup("cannon", nodes == 1 ? "p100x4" : "lassen", nodes);
    const std::string text = test::read_text(test::expert_mapper_path("cannon"));
    Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::expert_for("cannon", s->machine)));
    auto task4 = test::tasks_named(*s, "task_4");
    ASSERT_FALSE(task4.empty());
    for (PointTaskId t : task4) {
      PointTaskId parent = parent_of(*s, t);
      ASSERT_TRUE(parent.valid());
      EXPECT_EQ(test::task_name(*s, parent), "task_5");
      EXPECT_EQ(p.tasks[t.index()].processor, p.tasks[parent.index()].processor);
      EXPECT_EQ(p.tasks[t.index()].placement_rule_line, line_of(text, "SingleTaskMap task_4 same_point;"));
      for (const ArgPlacement& a : p.tasks[t.index()].args) {
        EXPECT_EQ(a.layout.order, kinds::DimOrder::C);
        EXPECT_TRUE(a.collect);  // CollectMemory task_4 *
        EXPECT_EQ(s->machine.memory(a.memory).kind, kinds::MemKind::FBMEM);
      }
    }
    // task_5 stays on the node of its parent task_6; task_6 and task_7 on OpenMP processors.
    for (PointTaskId t : test::tasks_named(*s, "task_5")) {
      EXPECT_EQ(test::proc_of(*s, p, t).kind, kinds::ProcKind::GPU);
      EXPECT_EQ(test::proc_of(*s, p, t).node, test::proc_of(*s, p, parent_of(*s, t)).node);
    }
    // Inner tasks map no instance whatever the rules say (the expert's VIRTUAL rules agree).
    for (const char* inner : {"task_5", "task_6", "task_7"}) {
      EXPECT_GT(line_of(text, std::string("Region ") + inner + " * * VIRTUAL;"), 0);
      for (PointTaskId t : test::tasks_named(*s, inner)) {
        if (std::string(inner) != "task_5") {
          EXPECT_EQ(test::proc_of(*s, p, t).kind, kinds::ProcKind::OMP);
        }
        for (const ArgPlacement& a : p.tasks[t.index()].args) {
          EXPECT_TRUE(a.is_virtual) << inner;
          EXPECT_EQ(a.memory_rule_line, 0) << inner;
        }
      }
    }
    // task_7 over the node grid: one point per node.
    std::map<program::LaunchId, std::set<int>> nodes_of_launch;
    for (PointTaskId t : test::tasks_named(*s, "task_7"))
      EXPECT_TRUE(nodes_of_launch[s->graph.tasks[t.index()].launch].insert(test::proc_of(*s, p, t).node).second);
    for (const auto& [launch, used] : nodes_of_launch) EXPECT_EQ(used.size(), static_cast<size_t>(nodes));
    const auto& kinds = p.task_kinds;
    auto policy = [&](const char* name) { return kinds[(*s->program.find_task(name)).index()]; };
    EXPECT_EQ(policy("task_4").instance_limit, 1);
    EXPECT_EQ(policy("task_6").instance_limit, 1);
    EXPECT_FALSE(policy("task_5").instance_limit);
    EXPECT_EQ(policy("task_6").kind, kinds::ProcKind::OMP);
    EXPECT_EQ(policy("task_6").kind_rule_line, line_of(text, "Task task_6,task_7 OMP;"));
    EXPECT_EQ(policy("task_4").kind_rule_line, line_of(text, "Task * GPU,OMP,CPU;"));
  }
}

TEST(CannonDefault, Task4RoundRobinOverTheNodesGpusInFOrder) {
  auto s = test::setup("cannon", "p100x4", 1);
  Plan p = test::plan_of(apply_default(s->program, s->graph, s->machine));
  const auto gpus = s->machine.processors_of(kinds::ProcKind::GPU, 0);
  std::map<int32_t, size_t> next;  // per issuing processor, as Legion's per-processor mappers count
  int elsewhere = 0;
  for (PointTaskId t : test::tasks_named(*s, "task_4")) {
    const machine::ProcId parent = p.tasks[(parent_of(*s, t)).index()].processor;
    const machine::ProcId got = p.tasks[t.index()].processor;
    EXPECT_EQ(got, gpus[next[parent.value]++ % gpus.size()]);
    elsewhere += got != parent;
    EXPECT_EQ(p.tasks[t.index()].placement_rule_line, 0);
    for (const ArgPlacement& a : p.tasks[t.index()].args) {
      EXPECT_EQ(a.layout.order, kinds::DimOrder::F);
      EXPECT_EQ(a.layout.fields, kinds::FieldLayout::SOA);
      EXPECT_EQ(a.memory, s->machine.best_memory(got, kinds::MemKind::FBMEM));
    }
  }
  EXPECT_GT(elsewhere, 0) << "the default does not keep task_4 on its parent's GPU";
  // task_5 (index launch over the node's 2 x 2 GPUs): point (i, j) on GPU 2i + j.
  for (PointTaskId t : test::tasks_named(*s, "task_5")) {
    const auto& pt = s->graph.tasks[t.index()].point;
    EXPECT_EQ(p.tasks[t.index()].processor, gpus[static_cast<size_t>(2 * pt[0] + pt[1])]);
  }
  // task_6 (single, issued by task_7 on OMP 0): round-robin over the node's OMP processors.
  const auto omps = s->machine.processors_of(kinds::ProcKind::OMP, 0);
  size_t k = 0;
  for (PointTaskId t : test::tasks_named(*s, "task_6"))
    EXPECT_EQ(p.tasks[t.index()].processor, omps[k++ % omps.size()]);
}

// Without a placement function, a nested index launch spreads in blocks over the
// processors of its kind on the whole machine, unless the program tags it same address
// space: DISTAL's task_5 then stays on the GPUs of its task_6's node (DSL.md).
TEST(CannonDefault, Task5StaysOnTheLaunchingNodeBecauseOfItsTag) {
  auto s = test::setup("cannon", "lassen", 4);
  Plan p = test::plan_of(apply_default(s->program, s->graph, s->machine));
  auto task5 = test::tasks_named(*s, "task_5");
  ASSERT_FALSE(task5.empty());
  for (PointTaskId t : task5) {
    const machine::Processor& proc = test::proc_of(*s, p, t);
    const auto& pt = s->graph.tasks[t.index()].point;
    EXPECT_EQ(proc.node, test::proc_of(*s, p, parent_of(*s, t)).node);
    EXPECT_EQ(proc.index_in_rank, 2 * pt[0] + pt[1]);
  }
  // task_7, launched by the top-level task: blocks over the nodes, one point per node.
  std::set<int> nodes;
  for (PointTaskId t : test::tasks_named(*s, "task_7")) nodes.insert(test::proc_of(*s, p, t).node);
  EXPECT_EQ(nodes.size(), 4u);

  // The same program without the tag: point l of 4 goes to GPU 4l of 16, on node l.
  for (program::Launch& l : s->program.launches) l.same_address_space = false;
  Plan untagged = test::plan_of(apply_default(s->program, s->graph, s->machine));
  int away = 0;
  for (PointTaskId t : task5) {
    const auto& pt = s->graph.tasks[t.index()].point;
    const machine::Processor& proc = test::proc_of(*s, untagged, t);
    EXPECT_EQ(proc.node, 2 * pt[0] + pt[1]);
    EXPECT_EQ(proc.index_in_rank, 0);
    away += proc.node != test::proc_of(*s, untagged, parent_of(*s, t)).node;
  }
  EXPECT_GT(away, 0);
}

TEST(PennantDefault, SingleLaunchesOfTheTopLevelTaskRoundRobinOverEveryCpu) {
  auto s = test::setup("pennant", "lassen", 2);
  Plan p = test::plan_of(apply_default(s->program, s->graph, s->machine));
  const auto cpus = s->machine.processors_of(kinds::ProcKind::CPU);
  size_t k = 0;
  for (size_t u = 0; u < s->graph.size(); ++u) {
    const auto& l = s->program.launches[s->graph.tasks[u].launch.index()];
    if (l.kind != program::LaunchKind::Single) continue;
    ASSERT_FALSE(s->graph.tasks[u].parent.valid());
    EXPECT_EQ(p.tasks[u].processor, cpus[k++ % cpus.size()]) << s->program.task_of(l).name;
  }
  EXPECT_GE(k, 4u);
}

TEST(PennantExpert, BoundaryPointsInZeroCopyPiecesCyclicOverNodes) {
  auto s = test::setup("pennant", "lassen", 2);
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::expert_for("pennant", s->machine)));
  for (size_t u = 0; u < s->graph.size(); ++u) {
    const auto& l = s->program.launches[s->graph.tasks[u].launch.index()];
    const machine::Processor& proc = s->machine.processor(p.tasks[u].processor);
    if (l.kind == program::LaunchKind::Single) {
      EXPECT_EQ(proc.kind, kinds::ProcKind::CPU);
      continue;
    }
    const int64_t i = s->graph.tasks[u].point[0];
    EXPECT_EQ(proc.node, i % 2);
    EXPECT_EQ(proc.index, i / 2);
    for (size_t a = 0; a < l.args.size(); ++a) {
      if (p.tasks[u].args[a].is_virtual) continue;
      auto names = s->program.arg_names(l.args[a]);
      bool boundary = std::find(names.begin(), names.end(), "rp_all_shared_p") != names.end() ||
                      std::find(names.begin(), names.end(), "rp_all_ghost_p") != names.end();
      EXPECT_EQ(s->machine.memory(p.tasks[u].args[a].memory).kind,
                boundary ? kinds::MemKind::ZCMEM : kinds::MemKind::FBMEM)
          << s->program.task_of(l).name << " " << names.front();
    }
  }
}

}  // namespace
}  // namespace mage::mapping
