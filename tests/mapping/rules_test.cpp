// Each rule of the mapping language as apply() carries it out, and every mapping error:
// Task rules and kinds the machine lacks, placement functions (errors, wrong kind, outside
// the machine, sets, parents), Region rules (visibility, VIRTUAL), Layout rules, the
// recorded policies, and inconsistent input.
#include <gtest/gtest.h>

#include "../test_support.h"
#include "helpers.h"

namespace mage::mapping {
namespace {

using program::PointTaskId;

// Two nodes of 4 CPU cores and one OpenMP group each; no GPU, no zero-copy memory.
inline const std::string kNoGpuMachine = mage::test::test_machine_text("no_gpu");

machine::Machine no_gpu_machine() { return machine::load_text(kNoGpuMachine, "nogpu.toml"); }

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---------------------------------------------------------------- processor kinds

TEST(TaskRules, KindsTriedInOrderSkippingMissingVariants) {
  auto s = test::setup("circuit", "p100x4");
  Plan p =
      test::plan_of(apply(s->program, s->graph, s->machine, test::mapper_for("Task * OMP,GPU,CPU;\n", s->machine)));
  // The loop tasks have GPU and CPU variants: OMP is skipped. The setup tasks are CPU only.
  for (PointTaskId t : test::tasks_named(*s, "calculate_new_currents"))
    EXPECT_EQ(p.tasks[t.index()].kind, kinds::ProcKind::GPU);
  for (PointTaskId t : test::tasks_named(*s, "init_piece"))
    EXPECT_EQ(test::proc_of(*s, p, t).kind, kinds::ProcKind::CPU);
  EXPECT_EQ(p.task_kinds[(*s->program.find_task("init_piece")).index()].kind_rule_line, 1);
}

TEST(TaskRules, OnlyGpuForACpuOnlyTaskIsAnError) {
  auto s = test::setup("circuit", "p100x4");
  MappingError e = test::error_of(
      apply(s->program, s->graph, s->machine, test::mapper_for("Task * GPU,CPU;\nTask init_piece GPU;\n", s->machine)));
  EXPECT_EQ(e.kind, MappingErrorKind::NoProcessorKind);
  EXPECT_EQ(e.rule_line, 2);
  EXPECT_EQ(e.task, "init_piece");
  EXPECT_EQ(e.point, "(0)");
  EXPECT_FALSE(e.diagnostic);
  EXPECT_EQ(e.message,
            "t.map:2:1: error: no processor kind of the Task rule can run task init_piece (init_piece has no GPU "
            "variant; its variants: CPU) (task init_piece, point (0))");
}

TEST(TaskRules, MachineWithoutGpusSkipsGpuKinds) {
  auto s = test::setup_on(no_gpu_machine(), "stencil");
  for (bool with_mapper : {true, false}) {
    ApplyResult r = with_mapper
                        ? apply(s->program, s->graph, s->machine, test::mapper_for("Task * GPU,OMP,CPU;\n", s->machine))
                        : apply_default(s->program, s->graph, s->machine);
    Plan p = test::plan_of(r);
    for (size_t u = 0; u < p.tasks.size(); ++u) {
      const machine::Processor& proc = s->machine.processor(p.tasks[u].processor);
      EXPECT_EQ(proc.kind, kinds::ProcKind::OMP);  // stencil has an OMP variant
      for (const ArgPlacement& a : p.tasks[u].args) {
        if (a.is_virtual) continue;
        EXPECT_EQ(s->machine.memory(a.memory).kind, kinds::MemKind::SOCKMEM);  // an OMP group's best memory
        EXPECT_EQ(s->machine.memory(a.memory).node, proc.node);
      }
    }
  }
  // Circuit's loop tasks have GPU and CPU variants: CPU.
  auto c = test::setup_on(no_gpu_machine(), "circuit");
  Plan p =
      test::plan_of(apply(c->program, c->graph, c->machine, test::mapper_for("Task * GPU,OMP,CPU;\n", c->machine)));
  for (PointTaskId t : test::tasks_named(*c, "calculate_new_currents")) {
    EXPECT_EQ(test::proc_of(*c, p, t).kind, kinds::ProcKind::CPU);
    EXPECT_EQ(test::mem_of(*c, p, t, 0).kind, kinds::MemKind::SYSMEM);
  }
}

TEST(TaskRules, OnlyKindsTheMachineLacksIsAnError) {
  auto s = test::setup_on(no_gpu_machine(), "circuit");
  MappingError e = test::error_of(apply(s->program, s->graph, s->machine,
                                        test::mapper_for("\n\nTask calculate_new_currents GPU,PROC;\n", s->machine)));
  EXPECT_EQ(e.kind, MappingErrorKind::NoProcessorKind);
  EXPECT_EQ(e.rule_line, 3);
  EXPECT_TRUE(contains(e.message,
                       "t.map:3:1: error: no processor kind of the Task rule can run task "
                       "calculate_new_currents (the machine has no GPU processors; the machine has no "
                       "PROC processors; its variants: GPU,CPU)"))
      << e.message;
}

// A program whose only task has a GPU variant alone.
program::Program gpu_only_program() {
  program::Program p;
  p.name = "tiny";
  program::RegionId r = p.add_region("r", program::Domain(8), {{"x", 8}});
  p.set_blocks(r, {4, 4});
  program::PartitionId part = p.add_block_partition("r_p", r, program::Domain(2), {{0}, {1}});
  program::TaskKind k;
  k.name = "gpu_only";
  k.variants = {program::Variant{kinds::ProcKind::GPU, {}, std::nullopt}};
  program::TaskKindId id = p.add_task(k);
  program::Launch l;
  l.task = id;
  l.kind = program::LaunchKind::Index;
  l.domain = program::Domain(2);
  program::RegionArg a;
  a.region = r;
  a.partition = part;
  a.projection = program::Projection::identity();
  a.access = {program::FieldAccess{1, program::Privilege::RW, program::RedOp::None}};
  l.args = {a};
  p.add_launch(l);
  return p;
}

TEST(TaskRules, NoVariantForAnyKindOfTheMachineIsAnError) {
  machine::Machine m = no_gpu_machine();
  program::Program p = gpu_only_program();
  program::TaskGraph g = program::analyze(p);
  MappingError d = test::error_of(apply_default(p, g, m));
  EXPECT_EQ(d.kind, MappingErrorKind::NoProcessorKind);
  EXPECT_EQ(d.rule_line, 0);
  EXPECT_EQ(d.message,
            "default mapper: error: task gpu_only has no variant for a processor kind of the machine (its variants: "
            "GPU) (task gpu_only, point (0))");
  // With a mapper that has no Task rule for it: the same default, the mapper's file named.
  MappingError e = test::error_of(apply(p, g, m, test::mapper_for("Task other CPU;\n", m)));
  EXPECT_TRUE(contains(e.message, "t.map: error: task gpu_only has no variant")) << e.message;
}

// ---------------------------------------------------------------- placement functions

TEST(Placement, CpuForAGpuTaskIsAnErrorNamingTaskPointAndRule) {
  auto s = test::setup("circuit", "p100x4");
  MappingError e = test::error_of(apply(s->program, s->graph, s->machine,
                                        test::mapper_for("mcpu = Machine(CPU);\n"
                                                         "def f(Task t) { return mcpu[0, t.ipoint[0]]; }\n"
                                                         "IndexTaskMap calculate_new_currents f;\n",
                                                         s->machine)));
  EXPECT_EQ(e.kind, MappingErrorKind::PlacementFailed);
  EXPECT_EQ(e.task, "calculate_new_currents");
  EXPECT_EQ(e.point, "(0)");
  EXPECT_EQ(e.rule_line, 3);
  ASSERT_TRUE(e.diagnostic);
  EXPECT_EQ(e.diagnostic->id, dsl::DiagId::wrong_processor_kind);
  EXPECT_EQ(e.message,
            "t.map:2:24: error: mapping function 'f' returned a CPU processor but the task is mapped to GPU (task "
            "calculate_new_currents, point (0), in f); called by the IndexTaskMap rule at t.map:3");
  ASSERT_FALSE(e.diagnostic->notes.empty());
  EXPECT_EQ(e.diagnostic->notes.back(), "called by the IndexTaskMap rule at t.map:3");
}

TEST(Placement, EvaluationErrorNamesThePoint) {
  auto s = test::setup("circuit", "lassen", 2);
  MappingError e = test::error_of(apply(s->program, s->graph, s->machine,
                                        test::mapper_for("m = Machine(GPU);\n"
                                                         "def f(Task t) { return m[0, t.ipoint[0]]; }\n"
                                                         "IndexTaskMap GPU f;\n",
                                                         s->machine)));
  EXPECT_EQ(e.kind, MappingErrorKind::PlacementFailed);
  EXPECT_EQ(e.point, "(4)");  // GPU 4 of a node with 4
  ASSERT_TRUE(e.diagnostic);
  EXPECT_EQ(e.diagnostic->id, dsl::DiagId::index_out_of_range);
  EXPECT_TRUE(contains(e.message, "(task calculate_new_currents, point (4), in f)")) << e.message;
  EXPECT_TRUE(contains(e.message, "called by the IndexTaskMap rule at t.map:3")) << e.message;
}

TEST(Placement, ANonProcessorResultIsAnError) {
  auto s = test::setup("circuit", "p100x4");
  MappingError e =
      test::error_of(apply(s->program, s->graph, s->machine,
                           test::mapper_for("def f(Task t) { return 3; }\nIndexTaskMap * f;\n", s->machine)));
  EXPECT_EQ(e.kind, MappingErrorKind::PlacementFailed);
  ASSERT_TRUE(e.diagnostic);
  EXPECT_EQ(e.diagnostic->id, dsl::DiagId::bad_placement_result);
  EXPECT_EQ(e.task, "init_piece");  // the first index launch
}

TEST(Placement, SingleTaskMapErrorNamesItsRule) {
  auto s = test::setup("circuit", "p100x4");
  // print_summary is issued by the top-level task, which runs on a CPU: not in Machine(GPU).
  MappingError e = test::error_of(apply(s->program, s->graph, s->machine,
                                        test::mapper_for("m = Machine(GPU);\n"
                                                         "def f(Task t) { return m[*t.parent.processor(m)]; }\n"
                                                         "SingleTaskMap print_summary f;\n",
                                                         s->machine)));
  EXPECT_EQ(e.kind, MappingErrorKind::PlacementFailed);
  EXPECT_EQ(e.point, "()");
  EXPECT_TRUE(contains(e.message, "task top_level runs on a CPU processor, which is not in a Machine(GPU) space"))
      << e.message;
  EXPECT_TRUE(contains(e.message, "called by the SingleTaskMap rule at t.map:3")) << e.message;
}

TEST(Placement, AProcessorOutsideTheMachineIsAnError) {
  auto s = test::setup("circuit", "p100x4");
  // A mapper bound to a larger machine than the one it is applied to.
  machine::Machine bigger = machine::load("lassen", {.nodes = 4});
  MappingError e = test::error_of(apply(s->program, s->graph, s->machine,
                                        test::mapper_for("m = Machine(GPU);\n"
                                                         "def f(Task t) { return m[3, 0]; }\n"
                                                         "IndexTaskMap calculate_new_currents f;\n",
                                                         bigger)));
  EXPECT_EQ(e.kind, MappingErrorKind::OutsideMachine);
  EXPECT_EQ(e.rule_line, 3);
  EXPECT_EQ(e.message,
            "t.map:3:1: error: mapping function 'f' returned GPU processor (3, 0), which the machine does not have "
            "(1 ranks x 4 GPU processors per rank) (task calculate_new_currents, point (0))");
}

TEST(Placement, ASetGivesItsFirstProcessor) {
  auto s = test::setup("circuit", "lassen", 2);
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine,
                               test::mapper_for("m = Machine(GPU);\n"
                                                "def f(Task t) { return m[t.ipoint[0] % m.size[0], *]; }\n"
                                                "IndexTaskMap calculate_new_currents f;\n",
                                                s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "calculate_new_currents")) {
    const int64_t i = s->graph.tasks[t.index()].point[0];
    EXPECT_EQ(test::proc_of(*s, p, t).node, i % 2);
    EXPECT_EQ(test::proc_of(*s, p, t).index, 0);
    EXPECT_TRUE(p.tasks[t.index()].from_set);
    EXPECT_EQ(p.tasks[t.index()].placement_rule_line, 3);
  }
  for (PointTaskId t : test::tasks_named(*s, "update_voltages")) EXPECT_FALSE(p.tasks[t.index()].from_set);
}

TEST(Placement, ParentsAreTheRealPlacedTasks) {
  // task_4 on the GPU with its parent's index on the next node: only a real parent view
  // (the task_5 point's placement) gives this.
  auto s = test::setup("cannon", "lassen", 4);
  const std::string expert = test::read_text(test::expert_mapper_path("cannon"));
  const std::string text = expert.substr(0, expert.find("SingleTaskMap task_4 same_point;")) +
                           "def next_node(Task t) {\n"
                           "  p = t.parent.processor(mgpu);\n"
                           "  return mgpu[(p[0] + 1) % mgpu.size[0], p[1]];\n"
                           "}\n"
                           "SingleTaskMap task_4 next_node;\n";
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::mapper_for(text, s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "task_4")) {
    const machine::Processor& parent = test::proc_of(*s, p, s->graph.tasks[t.index()].parent);
    EXPECT_EQ(test::proc_of(*s, p, t).node, (parent.node + 1) % 4);
    EXPECT_EQ(test::proc_of(*s, p, t).index, parent.index);
  }
  // The top-level task is the parent of top-level launches: CPU 0 of node 0.
  Plan q = test::plan_of(
      apply(s->program, s->graph, s->machine,
            test::mapper_for("Task task_1 CPU;\n"
                             "mcpu = Machine(CPU);\n"
                             "def f(Task t) { p = t.parent.processor(mcpu); return mcpu[p[0] + 1, p[1] + 2]; }\n"
                             "IndexTaskMap task_1 f;\n",
                             s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "task_1")) {
    EXPECT_EQ(test::proc_of(*s, q, t).node, 1);
    EXPECT_EQ(test::proc_of(*s, q, t).index, 2);
  }
}

// ---------------------------------------------------------------- memories

TEST(RegionRules, MemoriesTheProcessorCannotSeeAreSkipped) {
  auto s = test::setup("circuit", "p100x4");
  // A P100 reaches neither SYSMEM nor SOCKMEM; RDMEM exists only with several nodes.
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine,
                               test::mapper_for("Region * * GPU SYSMEM,SOCKMEM,RDMEM,ZCMEM;\n"
                                                "Region * * CPU RDMEM,SOCKMEM;\n",
                                                s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "calculate_new_currents")) {
    for (const ArgPlacement& a : p.tasks[t.index()].args) {
      EXPECT_EQ(s->machine.memory(a.memory).kind, kinds::MemKind::ZCMEM);
      EXPECT_EQ(a.memory_rule_line, 1);
    }
  }
  // init_piece: 4 points over 20 CPUs in blocks, CPUs 0, 5, 10, 15; each its socket's SOCKMEM.
  for (PointTaskId t : test::tasks_named(*s, "init_piece")) {
    const machine::Processor& cpu = test::proc_of(*s, p, t);
    for (size_t a = 0; a < 3; ++a) {
      EXPECT_EQ(test::mem_of(*s, p, t, a).kind, kinds::MemKind::SOCKMEM);
      EXPECT_EQ(test::mem_of(*s, p, t, a).socket, cpu.socket);
      EXPECT_EQ(p.tasks[t.index()].args[a].memory_rule_line, 2);
    }
  }
}

TEST(RegionRules, NoUsableMemoryFallsBackToTheBestOne) {
  auto s = test::setup("circuit", "p100x4");
  Plan p =
      test::plan_of(apply(s->program, s->graph, s->machine, test::mapper_for("Region * * GPU SOCKMEM;\n", s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "update_voltages")) {
    const machine::Processor& gpu = test::proc_of(*s, p, t);
    for (size_t a = 0; a < 2; ++a) {
      EXPECT_EQ(test::mem_of(*s, p, t, a).kind, kinds::MemKind::FBMEM);
      EXPECT_EQ(test::mem_of(*s, p, t, a).gpu, gpu.index);
      EXPECT_EQ(p.tasks[t.index()].args[a].memory_rule_line, 0);
    }
  }
}

TEST(RegionRules, ArgumentsMatchByIndexPartitionAndParentRegion) {
  auto s = test::setup("circuit", "p100x4");
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine,
                               test::mapper_for("Region calculate_new_currents 3 GPU ZCMEM;\n"  // rp_wires
                                                "Region * all_shared GPU ZCMEM;\n"              // rp_shared, rp_ghost
                                                "Region * all_nodes * SYSMEM;\n",               // parent region
                                                s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "calculate_new_currents")) {
    const auto& args = p.tasks[t.index()].args;
    EXPECT_EQ(s->machine.memory(args[0].memory).kind, kinds::MemKind::FBMEM);  // SYSMEM not visible: default
    EXPECT_EQ(s->machine.memory(args[1].memory).kind, kinds::MemKind::ZCMEM);
    EXPECT_EQ(args[1].memory_rule_line, 2);
    EXPECT_EQ(s->machine.memory(args[2].memory).kind, kinds::MemKind::ZCMEM);
    EXPECT_EQ(s->machine.memory(args[3].memory).kind, kinds::MemKind::ZCMEM);
    EXPECT_EQ(args[3].memory_rule_line, 1);
  }
  for (PointTaskId t : test::tasks_named(*s, "init_piece")) {
    EXPECT_EQ(test::mem_of(*s, p, t, 0).kind, kinds::MemKind::SYSMEM);
    EXPECT_EQ(p.tasks[t.index()].args[0].memory_rule_line, 3);
  }
}

TEST(RegionRules, VirtualOnALeafTaskIsAnErrorWithTheRuleLine) {
  auto s = test::setup("cannon", "p100x4");
  MappingError e = test::error_of(apply(s->program, s->graph, s->machine,
                                        test::mapper_for("Task * GPU,OMP,CPU;\n"
                                                         "Region * * GPU FBMEM;\n"
                                                         "Region task_4 * * VIRTUAL;\n",
                                                         s->machine)));
  EXPECT_EQ(e.kind, MappingErrorKind::VirtualLeaf);
  EXPECT_EQ(e.rule_line, 3);
  EXPECT_EQ(e.task, "task_4");
  EXPECT_EQ(e.point, "()");
  EXPECT_EQ(e.message,
            "t.map:3:1: error: VIRTUAL memory (no instance) for argument 0 (A_gpus) of leaf task task_4, which "
            "accesses it; VIRTUAL is only for inner tasks (task task_4, point ())");
}

TEST(RegionRules, VirtualNotReachedOnALeafIsNoError) {
  auto s = test::setup("cannon", "p100x4");
  Plan p = test::plan_of(
      apply(s->program, s->graph, s->machine, test::mapper_for("Region task_4 * GPU FBMEM, VIRTUAL;\n", s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "task_4"))
    for (const ArgPlacement& a : p.tasks[t.index()].args) EXPECT_FALSE(a.is_virtual);
}

TEST(RegionRules, InnerTasksMapNoInstancesWhateverTheRegionRules) {
  // A mapper written for the published programs, without VIRTUAL statements: Region rules
  // for every task and kind do not give the inner task_5 (GPU), task_6, task_7 (OMP) any
  // instance (DSL.md "Inner tasks"); task_4 (leaf) gets its framebuffer.
  for (const char* app : {"cannon", "solomonik"}) {
    auto s = test::setup(app, "lassen", 2);
    Plan p = test::plan_of(apply(
        s->program, s->graph, s->machine,
        test::mapper_for("Task task_6,task_7 OMP;\nRegion * * GPU FBMEM;\nRegion * * OMP SOCKMEM;\n", s->machine)));
    int inner = 0;
    for (size_t t = 0; t < s->graph.size(); ++t) {
      const auto id = PointTaskId::at(t);
      const bool leaf = s->program.task_of(s->program.launches[s->graph.tasks[t].launch.index()]).leaf;
      for (const ArgPlacement& a : p.tasks[t].args) {
        EXPECT_EQ(a.is_virtual, !leaf) << app << " " << test::task_name(*s, id);
        if (!leaf) {
          EXPECT_EQ(a.memory_rule_line, 0);
          ++inner;
        }
      }
    }
    EXPECT_GT(inner, 0) << app;
  }
}

// A hand-made program: `outer` (inner; GPU and CPU variants) over 2 points reduces into
// piece i of R and reads piece i of S, and launches the leaf `work` on the same pieces.
struct InnerProgram {
  program::Program program;
  program::TaskGraph graph;
  program::LaunchId outer;
};
InnerProgram inner_program(bool tag_virtual) {
  using namespace program;
  InnerProgram ip;
  Program& p = ip.program;
  RegionId r = p.add_region("R", Domain(1000), {{"v", 8}});
  p.set_blocks(r, {500, 500});
  PartitionId rp = p.add_block_partition("R_pieces", r, Domain(2), {{0}, {1}});
  RegionId q = p.add_region("S", Domain(1000), {{"v", 8}});
  p.set_blocks(q, {500, 500});
  PartitionId sp = p.add_block_partition("S_pieces", q, Domain(2), {{0}, {1}});
  auto args = [&](const Projection& proj) {
    auto piece = [&](RegionId region, PartitionId part, Privilege priv, RedOp op) {
      RegionArg a;
      a.region = region;
      a.partition = part;
      a.projection = proj;
      a.access = {FieldAccess{1, priv, op}};
      return a;
    };
    return std::vector<RegionArg>{piece(r, rp, Privilege::RED, RedOp::Sum), piece(q, sp, Privilege::RO, RedOp::None)};
  };
  TaskKind outer{"outer", false, {Variant{kinds::ProcKind::GPU, {}, {}}, Variant{kinds::ProcKind::CPU, {}, {}}}, ""};
  TaskKind work{"work", true, {Variant{kinds::ProcKind::GPU, {}, {}}, Variant{kinds::ProcKind::CPU, {}, {}}}, ""};
  TaskKindId outer_id = p.add_task(outer), work_id = p.add_task(work);
  Launch lo;
  lo.task = outer_id;
  lo.kind = LaunchKind::Index;
  lo.domain = Domain(2);
  lo.args = args(Projection::identity());
  ip.outer = p.add_launch(lo);
  if (tag_virtual) p.tag_virtual(ip.outer);
  Launch lw;
  lw.task = work_id;
  lw.kind = LaunchKind::Single;
  lw.parent = ip.outer;
  lw.args = args(Projection::of([](const PointRef& ref) { return ref.parent->point; }, "i"));
  p.add_launch(lw);
  ip.graph = analyze(p);
  return ip;
}

TEST(RegionRules, AnInnerTasksReductionOnlyArgumentGetsTheInstanceTheRulesChoose) {
  machine::Machine m = machine::load("p100x4");
  const std::string rules = "Region outer R_pieces GPU ZCMEM;\nRegion * * GPU FBMEM;\n";
  InnerProgram ip = inner_program(false);
  Plan p = test::plan_of(apply(ip.program, ip.graph, m, test::mapper_for(rules, m)));
  for (PointTaskId t : ip.graph.of_launch(ip.outer)) {
    const auto& args = p.tasks[t.index()].args;
    ASSERT_EQ(args.size(), 2u);
    EXPECT_FALSE(args[0].is_virtual);  // reduction-only: an instance, by the rule on line 1
    EXPECT_EQ(m.memory(args[0].memory).kind, kinds::MemKind::ZCMEM);
    EXPECT_EQ(args[0].memory_rule_line, 1);
    EXPECT_TRUE(args[1].is_virtual);  // read-only: none, whatever line 2 says
  }
  // Without a rule, the processor's best memory; a VIRTUAL rule keeps meaning no instance.
  Plan d = test::plan_of(apply(ip.program, ip.graph, m, test::mapper_for("Task * GPU;\n", m)));
  for (PointTaskId t : ip.graph.of_launch(ip.outer))
    EXPECT_EQ(m.memory(d.tasks[t.index()].args[0].memory).kind, kinds::MemKind::FBMEM);
  Plan v = test::plan_of(apply(ip.program, ip.graph, m, test::mapper_for("Region outer * * VIRTUAL;\n", m)));
  for (PointTaskId t : ip.graph.of_launch(ip.outer)) EXPECT_TRUE(v.tasks[t.index()].args[0].is_virtual);
  // The program's virtual tag: no instance whatever the rules say.
  InnerProgram tagged = inner_program(true);
  Plan g = test::plan_of(apply(tagged.program, tagged.graph, m, test::mapper_for(rules, m)));
  for (PointTaskId t : tagged.graph.of_launch(tagged.outer))
    for (const ArgPlacement& a : g.tasks[t.index()].args) EXPECT_TRUE(a.is_virtual);
}

TEST(RegionRules, NoAccessArgumentsNeedNoInstance) {
  auto s = test::setup("circuit", "p100x4");
  Plan p =
      test::plan_of(apply(s->program, s->graph, s->machine, test::mapper_for("Region * * CPU SYSMEM;\n", s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "init_pointers")) {
    const auto& args = p.tasks[t.index()].args;
    for (size_t a = 0; a < 3; ++a) {
      EXPECT_TRUE(args[a].is_virtual);
      EXPECT_EQ(args[a].memory.value, -1);
    }
    EXPECT_EQ(s->machine.memory(args[3].memory).kind, kinds::MemKind::SYSMEM);
  }
}

// ---------------------------------------------------------------- layouts and policies

TEST(LayoutRules, ConstraintsAndTheMostSpecificRule) {
  auto s = test::setup("circuit", "p100x4");
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine,
                               test::mapper_for("Layout * * * SOA C_order;\n"
                                                "Layout * rp_wires FBMEM AOS Align==64;\n"
                                                "Layout * rp_private GPU F_order Align>=128 Compact Exact;\n"
                                                "Layout * rp_shared * Align<=16;\n"
                                                "Layout * rp_ghost * No_Align;\n",
                                                s->machine)));
  for (PointTaskId t : test::tasks_named(*s, "calculate_new_currents")) {
    const auto& args = p.tasks[t.index()].args;
    EXPECT_EQ(args[0].layout,
              (kinds::Layout{kinds::FieldLayout::SOA, kinds::DimOrder::F, 128, true, true}));  // rp_private
    EXPECT_EQ(args[0].layout_rule_line, 3);
    EXPECT_EQ(args[1].layout, (kinds::Layout{kinds::FieldLayout::SOA, kinds::DimOrder::F, 0, false,
                                             false}));  // rp_shared: <= asks no alignment
    EXPECT_EQ(args[1].layout_rule_line, 4);
    EXPECT_EQ(args[2].layout,
              (kinds::Layout{kinds::FieldLayout::SOA, kinds::DimOrder::F, 0, false, false}));  // rp_ghost: No_Align
    EXPECT_EQ(args[3].layout,
              (kinds::Layout{kinds::FieldLayout::AOS, kinds::DimOrder::F, 64, false, false}));  // rp_wires in FBMEM
    EXPECT_EQ(args[3].layout_rule_line, 2);
  }
  for (PointTaskId t : test::tasks_named(*s, "init_piece")) {
    const auto& args = p.tasks[t.index()].args;
    EXPECT_EQ(args[2].layout, (kinds::Layout{kinds::FieldLayout::SOA, kinds::DimOrder::C, 0, false,
                                             false}));  // rp_wires in SYSMEM: the * rule
    EXPECT_EQ(args[2].layout_rule_line, 1);
    EXPECT_EQ(args[0].layout, (kinds::Layout{kinds::FieldLayout::SOA, kinds::DimOrder::C, 0, false,
                                             false}));  // rp_private on a CPU: not the GPU rule
  }
}

TEST(Policies, InstanceLimitCollectMemoryAndControlReplicateAreRecorded) {
  auto s = test::setup("cannon", "p100x4");
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine,
                               test::mapper_for("InstanceLimit task_4 2;\nInstanceLimit * 7;\nCollectMemory task_4 1;\n"
                                                "ControlReplicate task_7;\n",
                                                s->machine)));
  auto policy = [&](const char* name) { return p.task_kinds[(*s->program.find_task(name)).index()]; };
  EXPECT_EQ(policy("task_4").instance_limit, 2);
  EXPECT_EQ(policy("task_5").instance_limit, 7);
  EXPECT_TRUE(policy("task_7").control_replicated);
  EXPECT_FALSE(policy("task_6").control_replicated);
  for (PointTaskId t : test::tasks_named(*s, "task_4")) {
    const auto& args = p.tasks[t.index()].args;
    EXPECT_FALSE(args[0].collect);
    EXPECT_TRUE(args[1].collect);
    EXPECT_FALSE(args[2].collect);
  }
}

// ---------------------------------------------------------------- inconsistent input

TEST(Inputs, AGraphOfAnotherProgramIsAnErrorNotACrash) {
  auto s = test::setup("circuit", "p100x4");
  program::TaskGraph g;
  g.tasks.push_back(program::PointTask{999, program::Point(0), 0, -1});
  g.child_start = {0, 0};
  g.piece_start = {0, 0};
  MappingError e = test::error_of(apply_default(s->program, g, s->machine));
  EXPECT_EQ(e.kind, MappingErrorKind::Internal);
  EXPECT_TRUE(contains(e.message, "internal error")) << e.message;
  program::TaskGraph truncated = s->graph;
  truncated.child_start.pop_back();
  EXPECT_EQ(test::error_of(apply_default(s->program, truncated, s->machine)).kind, MappingErrorKind::Internal);
}

TEST(Inputs, MappingErrorKindsHaveNames) {
  for (auto k : {MappingErrorKind::NoProcessorKind, MappingErrorKind::PlacementFailed, MappingErrorKind::OutsideMachine,
                 MappingErrorKind::VirtualLeaf, MappingErrorKind::Internal})
    EXPECT_NE(to_string(k), "?");
}

}  // namespace
}  // namespace mage::mapping
