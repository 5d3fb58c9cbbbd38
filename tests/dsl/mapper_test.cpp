// The rule tables of dsl::Mapper: DSL.md's "Which rule applies".
#include <gtest/gtest.h>

#include "test_util.h"

namespace mage::dsl {
namespace {

Mapper bind_ok(const std::string& text, MachineShape shape = test::shape(2, 4)) {
  BindResult b = load_mapper(SourceFile{"t.map", text}, shape);
  if (!b.mapper) ADD_FAILURE() << format_diagnostics(b.diagnostics, SourceFile{"t.map", text});
  return *b.mapper;
}

using PK = kinds::ProcKind;
using MK = kinds::MemKind;
using kinds::DimOrder;
using kinds::FieldLayout;

TEST(TaskRules, ExactNameThenStarThenNoRule) {
  Mapper m = bind_ok("Task * GPU,OMP,CPU;\nTask init_piece,init_pointers CPU;\n");
  EXPECT_EQ(m.processor_kinds("init_piece"), (std::vector<ProcWord>{PK::CPU}));
  EXPECT_EQ(m.processor_kinds("init_pointers"), (std::vector<ProcWord>{PK::CPU}));
  EXPECT_EQ(m.processor_kinds("calc"), (std::vector<ProcWord>{PK::GPU, PK::OMP, PK::CPU}));
  Mapper none = bind_ok("Task a GPU;\n");
  EXPECT_TRUE(none.processor_kinds("b").empty());  // the caller applies the default
}

TEST(TaskRules, FirstDuplicateWinsAndLaterIsWarned) {
  auto c = compile(SourceFile{"t.map", "Task a GPU;\nTask a CPU;\n"});
  ASSERT_TRUE(c.unit);
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].message, "'a' already has a Task rule at line 1; this one never applies");
  EXPECT_EQ(c.diagnostics[0].loc.line, 2);
  EXPECT_EQ(c.diagnostics[0].loc.col, 6);
  Mapper m = *Mapper::bind(c.unit, test::shape(1, 1)).mapper;
  EXPECT_EQ(m.processor_kinds("a"), (std::vector<ProcWord>{PK::GPU}));
}

TEST(RegionRules, ConcatenateFourLevelsExactProcessorFirst) {
  Mapper m = bind_ok(R"(
Region * * * SYSMEM;
Region * * GPU FBMEM;
Region * rp_shared * RDMEM;
Region * rp_shared GPU ZCMEM;
Region calc * GPU SOCKMEM;
Region calc rp_shared GPU ZCMEM,FBMEM;
)");
  ArgumentView shared{1, {"rp_shared", "all_nodes"}};
  // (task, region) GPU, (task, *) GPU, (*, region) GPU then *, (*, *) GPU then *; duplicates dropped.
  EXPECT_EQ(m.memory_priority("calc", shared, PK::GPU),
            (std::vector<MemWord>{MK::ZCMEM, MK::FBMEM, MK::SOCKMEM, MK::RDMEM, MK::SYSMEM}));
  EXPECT_EQ(m.memory_priority("other", shared, PK::GPU),
            (std::vector<MemWord>{MK::ZCMEM, MK::RDMEM, MK::FBMEM, MK::SYSMEM}));
  EXPECT_EQ(m.memory_priority("other", shared, PK::CPU), (std::vector<MemWord>{MK::RDMEM, MK::SYSMEM}));
  ArgumentView wires{3, {"rp_wires", "all_wires"}};
  EXPECT_EQ(m.memory_priority("other", wires, PK::CPU), (std::vector<MemWord>{MK::SYSMEM}));
}

TEST(RuleLocations, TaskRuleAndTheRegionRuleOfEachMemory) {
  Mapper m = bind_ok("Task * GPU;\nTask calc CPU;\nRegion * * GPU FBMEM;\nRegion calc 1 GPU ZCMEM,FBMEM;\n");
  EXPECT_EQ(m.task_rule_loc("calc").line, 2);
  EXPECT_EQ(m.task_rule_loc("other").line, 1);
  EXPECT_EQ(bind_ok("").task_rule_loc("calc").line, 0);
  auto c = m.memory_candidates("calc", ArgumentView{1, {"r"}}, PK::GPU);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].memory, MK::ZCMEM);
  EXPECT_EQ(c[0].rule.line, 4);
  EXPECT_EQ(c[1].memory, MK::FBMEM);
  EXPECT_EQ(c[1].rule.line, 4);  // the first rule that put FBMEM in the list
  EXPECT_EQ(m.memory_candidates("other", ArgumentView{1, {"r"}}, PK::GPU).at(0).rule.line, 3);
}

TEST(RegionRules, MatchByIndexOwnNamePartitionAndParent) {
  Mapper m = bind_ok("Region t 2 GPU ZCMEM;\nRegion t pieces GPU SYSMEM;\nRegion t whole GPU RDMEM;\n");
  ArgumentView by_index{2, {"x"}};
  EXPECT_EQ(m.memory_priority("t", by_index, PK::GPU), (std::vector<MemWord>{MK::ZCMEM}));
  ArgumentView by_partition{0, {"piece_region", "pieces", "whole"}};
  EXPECT_EQ(m.memory_priority("t", by_partition, PK::GPU), (std::vector<MemWord>{MK::SYSMEM, MK::RDMEM}));
  EXPECT_TRUE(m.memory_priority("t", ArgumentView{0, {"other"}}, PK::GPU).empty());
}

TEST(LayoutRules, FirstRuleInLevelOrderExactKindFirst) {
  Mapper m = bind_ok(R"(
Layout * * * SOA F_order;
Layout * * FBMEM AOS C_order Align==128;
Layout task_4 * * SOA C_order;
Layout task_4 0 GPU AOS F_order Compact Exact No_Align;
)");
  ArgumentView a0{0, {"A"}}, a1{1, {"B"}};
  LayoutChoice l = m.layout("task_4", a0, MK::FBMEM, PK::GPU);
  EXPECT_EQ(l.layout.fields, FieldLayout::AOS);
  EXPECT_EQ(l.layout.order, DimOrder::F);
  EXPECT_TRUE(l.layout.compact && l.layout.exact);
  EXPECT_EQ(l.layout.alignment, 0);  // No_Align
  EXPECT_EQ(l.rule_line, 5);
  EXPECT_EQ(m.layout("task_4", a1, MK::FBMEM, PK::GPU).layout.order, DimOrder::C);  // (task, *) before (*, *)
  LayoutChoice fb = m.layout("other", a1, MK::FBMEM, PK::GPU);
  EXPECT_EQ(fb.layout.fields, FieldLayout::AOS);
  EXPECT_EQ(fb.layout.alignment, 128);
  LayoutChoice sys = m.layout("other", a1, MK::SYSMEM, PK::CPU);
  EXPECT_EQ(sys.layout.fields, FieldLayout::SOA);
  EXPECT_EQ(sys.rule_line, 2);
  LayoutChoice def = bind_ok("").layout("t", a0, MK::SYSMEM, PK::CPU);
  EXPECT_EQ(def.layout, kinds::Layout{});  // SOA, F_order, no alignment
  EXPECT_EQ(def.rule_line, 0);
}

TEST(InstanceLimitAndCollectMemory, ExactThenStar) {
  Mapper m = bind_ok(
      "InstanceLimit task_4 1;\nInstanceLimit * 8;\nCollectMemory task_4 *;\nCollectMemory * 2;\nControlReplicate "
      "task_7;\n");
  EXPECT_EQ(m.instance_limit("task_4"), 1);
  EXPECT_EQ(m.instance_limit("task_6"), 8);
  EXPECT_TRUE(m.collect_memory("task_4", ArgumentView{0, {"A"}}));
  EXPECT_TRUE(m.collect_memory("task_5", ArgumentView{2, {"C"}}));
  EXPECT_FALSE(m.collect_memory("task_5", ArgumentView{1, {"B"}}));
  EXPECT_TRUE(m.control_replicated("task_7"));
  EXPECT_FALSE(m.control_replicated("task_4"));
  EXPECT_FALSE(bind_ok("").instance_limit("x"));
}

TEST(Placement, ExactNameThenKindThenStar) {
  Mapper m = bind_ok(R"(
m = Machine(GPU);
c = Machine(CPU);
def by_name(Task t) { return m[0, 1]; }
def by_kind(Task t) { return m[0, 2]; }
def by_star(Task t) { return c[1, 3]; }
def single(Task t) { return m[*t.parent.processor(m)]; }
IndexTaskMap calc by_name;
IndexTaskMap GPU by_kind;
IndexTaskMap * by_star;
SingleTaskMap leaf single;
)");
  TaskView parent;
  parent.name = "p";
  parent.kind = PK::GPU;
  parent.processor = ProcessorId{1, 3};
  TaskView t;
  t.name = "calc";
  t.ipoint = {0};
  t.ispace = {4};
  t.parent = &parent;
  auto at = [](const PlacementResult& r) {
    EXPECT_TRUE(r.placement) << (r.error ? r.error->message : "");
    return r.placement ? r.placement->processors.at(0) : ProcessorId{-1, -1};
  };
  EXPECT_EQ(at(m.place(t, PK::GPU, true)), (ProcessorId{0, 1}));
  t.name = "other";
  EXPECT_EQ(at(m.place(t, PK::GPU, true)), (ProcessorId{0, 2}));
  EXPECT_EQ(at(m.place(t, PK::CPU, true)), (ProcessorId{1, 3}));
  // No SingleTaskMap for "other": the caller uses the default.
  EXPECT_FALSE(m.place(t, PK::GPU, false).has_rule);
  t.name = "leaf";
  PlacementResult r = m.place(t, PK::GPU, false);
  EXPECT_EQ(r.function, "single");
  EXPECT_EQ(at(r), (ProcessorId{1, 3}));  // the parent's own GPU
}

TEST(Placement, ErrorsNameTaskPointFunctionAndPlace) {
  Mapper m = bind_ok(R"(
m = Machine(GPU);
c = Machine(CPU);
def cpu(Task t) { return c[0, 0]; }
def num(Task t) { return 3; }
def bad(Task t) { return m[t.ipoint[0], 0]; }
IndexTaskMap a cpu;
IndexTaskMap b num;
IndexTaskMap d bad;
)");
  TaskView t;
  t.ipoint = {5};
  t.ispace = {8};
  t.name = "a";
  PlacementResult r = m.place(t, PK::GPU, true);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(
      r.error->message,
      "mapping function 'cpu' returned a CPU processor but the task is mapped to GPU (task a, point (5), in cpu)");
  t.name = "b";
  r = m.place(t, PK::GPU, true);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(
      r.error->message,
      "mapping function 'num' returned an int, not a processor or a set of processors (task b, point (5), in num)");
  t.name = "d";
  r = m.place(t, PK::GPU, true);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message, "index 5 out of range for dimension 0 of size 2 (task d, point (5), in bad)");
  EXPECT_EQ(r.error->loc.line, 6);
  EXPECT_EQ(r.error->loc.col, 28);
}

TEST(Placement, CannonTwoLevelExampleOfDslMd) {
  Mapper m = bind_ok(R"(
m = Machine(GPU);
def cannon(Task task) {
  m3 = m.auto_split(0, task.ispace);
  m4 = m3.auto_split(2, task.ispace / m3[:-1]);
  return m4[task.ipoint[0] / 2, 0, task.ipoint[0] % 2, task.ipoint[1] % 2];
}
IndexTaskMap task_4 cannon;
)");
  TaskView t;
  t.name = "task_4";
  t.ispace = {4, 4};
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 4; ++j) {
      t.ipoint = {i, j};
      PlacementResult r = m.place(t, PK::GPU, true);
      ASSERT_TRUE(r.placement) << r.error->message;
      EXPECT_EQ(r.placement->processors[0], (ProcessorId{i / 2, (i % 2) + 2 * (j % 2)}));
    }
  }
}

TEST(CheckNames, WarnsAboutTasksAndRegionsTheProgramLacks) {
  auto c = compile(SourceFile{
      "t.map", "Task calc GPU;\nRegion calc rp_gost GPU ZCMEM;\nInstanceLimit task_9 1;\nRegion * 1 GPU FBMEM;\n"});
  ASSERT_TRUE(c.unit);
  auto ds = check_names(*c.unit, {"calc", "task_4"}, {"rp_ghost"});
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].message, "the program has no region or partition named 'rp_gost'");
  EXPECT_EQ(ds[0].loc.line, 2);
  EXPECT_EQ(ds[1].message, "the program has no task named 'task_9'");
  EXPECT_EQ(ds[1].severity, Severity::Warning);
}

}  // namespace
}  // namespace mage::dsl
