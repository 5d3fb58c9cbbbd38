// RuleLocator finds the statement behind each Task and Region decision, and agrees with
// dsl::Mapper on the decision itself for every expert mapper and every argument.
#include <gtest/gtest.h>

#include "helpers.h"
#include "mapping/rule_locator.h"

namespace mage::mapping {
namespace {

using detail::RuleLocator;
using MK = dsl::MemKind;
using PK = dsl::ProcKind;

std::vector<std::pair<MK, int>> lines(const std::vector<std::pair<MK, dsl::SourceLoc>>& v) {
  std::vector<std::pair<MK, int>> out;
  for (const auto& [m, loc] : v) out.emplace_back(m, loc.line);
  return out;
}

TEST(RuleLocator, SkipsCommentsStringsAndFunctionBodies) {
  RuleLocator r(dsl::SourceFile{"t.map", R"(# Task a GPU; in a comment
// Region * * * ZCMEM; in a comment
def f(Task t) {
  print("Task a CPU; Region * * * SYSMEM;");
  x = 1;
  return Machine(GPU)[0, 0];
}
m = Machine(GPU);   # Task b CPU;
Task a,b OMP;
Task * GPU,CPU;
  Task c
    CPU;
)"});
  EXPECT_EQ(r.task_rule("a").line, 9);
  EXPECT_EQ(r.task_rule("b").line, 9);
  EXPECT_EQ(r.task_rule("zzz").line, 10);
  EXPECT_EQ(r.task_rule("c").line, 11);
  EXPECT_EQ(r.task_rule("c").col, 3);
  RuleLocator none(dsl::SourceFile{"t.map", "Task a GPU;\n"});
  EXPECT_EQ(none.task_rule("b").line, 0);
}

TEST(RuleLocator, FourLevelsExactProcessorFirstDuplicatesDropped) {
  const dsl::SourceFile src{"t.map", R"(Region * * * SYSMEM;
Region * * GPU FBMEM;
Region * ghost GPU ZCMEM;
Region t * * SOCKMEM,ZCMEM;
Region t 2 GPU RDMEM;
Region t 02 GPU VIRTUAL;
Region * * GPU SYSMEM;
)"};
  RuleLocator r(src);
  dsl::ArgumentView ghost{2, {"ghost", "nodes"}};
  EXPECT_EQ(lines(r.memory_priority("t", ghost, PK::GPU)),
            (std::vector<std::pair<MK, int>>{{MK::RDMEM, 5}, {MK::SOCKMEM, 4}, {MK::ZCMEM, 4}, {MK::FBMEM, 2},
                                             {MK::SYSMEM, 1}}));
  dsl::ArgumentView other{0, {"wires"}};
  EXPECT_EQ(lines(r.memory_priority("u", other, PK::CPU)), (std::vector<std::pair<MK, int>>{{MK::SYSMEM, 1}}));
  // The same lists as dsl::Mapper's.
  dsl::MachineShape shape;
  shape.procs_per_rank[PK::GPU] = 1;
  dsl::BindResult b = dsl::load_mapper(src, shape);
  ASSERT_TRUE(b.mapper);
  for (const auto& [task, arg] : {std::pair{"t", ghost}, std::pair{"u", other}, std::pair{"t", other}})
    for (PK k : {PK::GPU, PK::CPU}) {
      std::vector<MK> located;
      for (const auto& e : r.memory_priority(task, arg, k)) located.push_back(e.first);
      EXPECT_EQ(located, b.mapper->memory_priority(task, arg, k)) << task;
    }
}

// The locator's lists are dsl::Mapper's, for every expert mapper, app argument and kind.
TEST(RuleLocator, AgreesWithTheDslOnEveryExpertMapper) {
  for (const auto& app : apps::list()) {
    auto s = test::setup(app.name, "lassen", 2);
    dsl::Mapper m = test::expert_for(app.name, s->machine);
    RuleLocator r(dsl::source_of(m.unit()));
    int compared = 0;
    for (const program::Launch& l : s->program.launches) {
      const std::string& task = s->program.task_of(l).name;
      for (size_t a = 0; a < l.args.size(); ++a) {
        dsl::ArgumentView view{static_cast<int64_t>(a), s->program.arg_names(l.args[a])};
        for (PK k : {PK::CPU, PK::GPU, PK::OMP}) {
          std::vector<MK> located;
          for (const auto& [mem, loc] : r.memory_priority(task, view, k)) {
            located.push_back(mem);
            EXPECT_GT(loc.line, 0);
          }
          EXPECT_EQ(located, m.memory_priority(task, view, k)) << app.name << " " << task << " arg " << a;
          ++compared;
        }
      }
      EXPECT_EQ(r.task_rule(task).line > 0, !m.processor_kinds(task).empty()) << app.name << " " << task;
    }
    EXPECT_GT(compared, 0);
  }
}

}  // namespace
}  // namespace mage::mapping
