// Every benchmark program maps without error with its expert mapper and with the default
// mapper, on p100x4 and on lassen with 2 and 4 nodes, and the plans are consistent.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "helpers.h"

namespace mage::mapping {
namespace {

using test::Setup;

// What every plan must satisfy: a processor of the chosen kind for every point task, a
// variant for that kind, and every instance in a memory the processor can access;
// VIRTUAL only for inner tasks and arguments without access.
void check_consistent(const Setup& s, const Plan& p) {
  ASSERT_EQ(p.tasks.size(), s.graph.size());
  ASSERT_EQ(p.task_kinds.size(), s.program.tasks.size());
  for (size_t u = 0; u < s.graph.size(); ++u) {
    const TaskPlacement& tp = p.tasks[u];
    const program::Launch& l = s.program.launches[s.graph.tasks[u].launch.index()];
    const program::TaskKind& task = s.program.task_of(l);
    ASSERT_GE(tp.processor.value, 0) << task.name;
    const machine::Processor& proc = s.machine.processor(tp.processor);
    EXPECT_EQ(proc.kind, tp.kind) << task.name;
    EXPECT_TRUE(task.has_variant(tp.kind)) << task.name;
    EXPECT_EQ(p.task_kinds[l.task.index()].kind, tp.kind) << task.name;
    ASSERT_EQ(tp.args.size(), l.args.size()) << task.name;
    for (size_t a = 0; a < l.args.size(); ++a) {
      const ArgPlacement& ap = tp.args[a];
      if (ap.is_virtual) {
        EXPECT_TRUE(!task.leaf || l.args[a].only(program::Privilege::NA)) << task.name << " arg " << a;
        continue;
      }
      ASSERT_GE(ap.memory.value, 0) << task.name << " arg " << a;
      EXPECT_TRUE(s.machine.access(tp.processor, ap.memory).has_value())
          << task.name << " arg " << a << " on " << s.machine.name(tp.processor) << " in " << s.machine.name(ap.memory);
    }
  }
}

struct Case {
  std::string app;
  std::string preset;
  int nodes;
  int ranks_per_node;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  return info.param.app + "_" + info.param.preset + "_" + std::to_string(info.param.nodes) + "n" +
         std::to_string(info.param.ranks_per_node) + "r";
}

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const auto& app : apps::list()) {
    out.push_back({app.name, "p100x4", 1, 1});
    out.push_back({app.name, "lassen", 2, 1});
    out.push_back({app.name, "lassen", 4, 1});
  }
  // Johnson and COSMA run as 4 ranks per node, one GPU each (BENCHMARKS.md).
  for (const char* app : {"johnson", "cosma"}) {
    out.push_back({app, "p100x4", 1, 4});
    out.push_back({app, "lassen", 2, 4});
    out.push_back({app, "lassen", 4, 4});
  }
  return out;
}

class EveryApp : public testing::TestWithParam<Case> {};

TEST_P(EveryApp, ExpertMapperApplies) {
  const Case& c = GetParam();
  auto s = test::setup(c.app, c.preset, c.nodes, c.ranks_per_node);
  dsl::Mapper m = test::expert_for(c.app, s->machine);
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine, m));
  check_consistent(*s, p);
  EXPECT_EQ(p.mapper_name, "mappers/expert/" + c.app + ".map");
  // Deterministic: the same inputs give the same plan.
  EXPECT_TRUE(test::same_plan(p, test::plan_of(apply(s->program, s->graph, s->machine, m))));
  // The expert mappers put every leaf task that has a GPU variant on a GPU.
  for (size_t u = 0; u < s->graph.size(); ++u) {
    const auto& task = s->program.task_of(s->program.launches[s->graph.tasks[u].launch.index()]);
    if (task.leaf && task.has_variant(kinds::ProcKind::GPU)) {
      EXPECT_EQ(p.tasks[u].kind, kinds::ProcKind::GPU) << task.name;
    }
  }
}

TEST_P(EveryApp, DefaultMapperApplies) {
  const Case& c = GetParam();
  auto s = test::setup(c.app, c.preset, c.nodes, c.ranks_per_node);
  Plan p = test::plan_of(apply_default(s->program, s->graph, s->machine));
  check_consistent(*s, p);
  EXPECT_EQ(p.mapper_name, "default");
  EXPECT_TRUE(test::same_plan(p, test::plan_of(apply_default(s->program, s->graph, s->machine))));
  for (size_t u = 0; u < s->graph.size(); ++u) {
    const auto& l = s->program.launches[s->graph.tasks[u].launch.index()];
    const auto& task = s->program.task_of(l);
    // GPU when a variant exists, else OMP, else CPU.
    kinds::ProcKind want = task.has_variant(kinds::ProcKind::GPU)   ? kinds::ProcKind::GPU
                           : task.has_variant(kinds::ProcKind::OMP) ? kinds::ProcKind::OMP
                                                                    : kinds::ProcKind::CPU;
    EXPECT_EQ(p.tasks[u].kind, want) << task.name;
    EXPECT_EQ(p.tasks[u].placement_rule_line, 0);
    for (size_t a = 0; a < l.args.size(); ++a) {
      const ArgPlacement& ap = p.tasks[u].args[a];
      EXPECT_EQ(ap.is_virtual, !task.leaf || l.args[a].only(program::Privilege::NA)) << task.name;
      EXPECT_EQ(ap.layout, kinds::Layout{}) << task.name;  // SOA, F order
      EXPECT_FALSE(ap.collect);
      if (ap.is_virtual) continue;
      // The processor's best memory.
      kinds::MemKind best = want == kinds::ProcKind::GPU   ? kinds::MemKind::FBMEM
                            : want == kinds::ProcKind::OMP ? kinds::MemKind::SOCKMEM
                                                           : kinds::MemKind::SYSMEM;
      EXPECT_EQ(ap.memory, s->machine.best_memory(p.tasks[u].processor, best)) << task.name;
    }
  }
  for (const TaskKindPolicy& k : p.task_kinds) {
    EXPECT_FALSE(k.instance_limit);
    EXPECT_FALSE(k.control_replicated);
    EXPECT_EQ(k.kind_rule_line, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Mapping, EveryApp, testing::ValuesIn(all_cases()), case_name);

// The expert mapper files are the BENCHMARKS.md strategies; the examples directory keeps
// its own copies, which must stay equivalent (they are what users read first).
TEST(ExpertMappers, ExistForEveryAppAndCompileWithoutWarnings) {
  for (const auto& app : apps::list()) {
    std::string text = test::read_text(test::expert_mapper_path(app.name));
    ASSERT_FALSE(text.empty()) << app.name;
    dsl::CompileResult c = dsl::compile(dsl::SourceFile{app.name + ".map", text});
    ASSERT_TRUE(c.unit) << app.name;
    apps::Params params;
    params.scale = apps::Scale::Small;
    program::Program p = apps::build(app.name, params);
    const program::Program::MapperNames names = p.mapper_names();
    auto warnings = dsl::check_names(*c.unit, names.tasks, names.data);
    c.diagnostics.insert(c.diagnostics.end(), warnings.begin(), warnings.end());
    EXPECT_TRUE(c.diagnostics.empty()) << app.name << ": "
                                       << dsl::format_diagnostics(c.diagnostics, dsl::source_of(*c.unit));
  }
}

// The experts' two-level placement blocks a launch over a grid of nodes (or ranks) split to
// its shape; where that grid does not divide the launch (3, 5, 6 or 7 nodes: 3 nodes for the
// 2 x 2 tiles of SUMMA's B) the per-node block is rounded up, and the last nodes get fewer
// points or none. Rounded down, it was empty and the expert failed to map ("launch extent 0").
TEST(ExpertMappers, MapOnNodeCountsThatDoNotDivideTheLaunches) {
  for (const auto& app : apps::list()) {
    for (int nodes : {3, 5, 6, 7}) {
      SCOPED_TRACE(app.name + " on " + std::to_string(nodes) + " nodes");
      const int ranks = app.name == "johnson" || app.name == "cosma" ? 4 : 1;  // as they run by default
      auto s = test::setup(app.name, "lassen", nodes, ranks);
      Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::expert_for(app.name, s->machine)));
      EXPECT_EQ(p.tasks.size(), s->graph.tasks.size());
    }
  }
}

// Mappers written for the published programs place launches by task.ipoint alone. Solomonik's
// placement launches are 3-D (r, r, 1): a mapper that linearises ipoint[0..2] maps them (it
// failed with "index 2 out of range" while they were 2-D), and init_cublas is 1-D with one
// point per GPU.
TEST(PublishedMappers, SolomonikPlacementsLineariseThreeIndices) {
  const std::string text = R"(
Task * GPU,OMP,CPU;
Region * * GPU FBMEM;
Layout * * * SOA C_order;
mgpu = Machine(GPU);
def linearise(Task task) {
  ip = task.ipoint;
  is = task.ispace;
  i = ip[0] + is[0] * (ip[1] + is[1] * ip[2]);
  return mgpu[i / mgpu.size[1] % mgpu.size[0], i % mgpu.size[1]];
}
IndexTaskMap task_1,task_2,task_3,task_5 linearise;
def per_gpu(Task task) {
  i = task.ipoint[0];
  return mgpu[i / mgpu.size[1], i % mgpu.size[1]];
}
IndexTaskMap init_cublas per_gpu;
)";
  for (int nodes : {1, 2, 16}) {
    SCOPED_TRACE(std::to_string(nodes) + " nodes");
    auto s = test::setup("solomonik", "lassen", nodes);
    Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::mapper_for(text, s->machine)));
    const int gpus = 4 * nodes;
    for (const char* task : {"task_1", "task_2", "task_3"}) {
      std::vector<program::PointTaskId> ts = test::tasks_named(*s, task);
      ASSERT_FALSE(ts.empty()) << task;
      for (program::PointTaskId t : ts) {
        const program::PointTask& pt = s->graph.tasks[t.index()];
        const program::Domain& d = s->program.launches[pt.launch.index()].domain;
        ASSERT_EQ(d.dim, 3) << task;
        EXPECT_EQ(d.extent[2], 1) << task;
        const int64_t i = pt.point[0] + d.extent[0] * (pt.point[1] + d.extent[1] * pt.point[2]);
        const machine::Processor& proc = test::proc_of(*s, p, t);
        EXPECT_EQ(proc.node, i / 4 % nodes) << task;
        EXPECT_EQ(proc.index, i % 4) << task;
      }
    }
    std::vector<program::PointTaskId> init = test::tasks_named(*s, "init_cublas");
    ASSERT_EQ(init.size(), static_cast<size_t>(gpus));
    std::set<std::pair<int, int>> used;
    for (program::PointTaskId t : init) {
      const int64_t i = s->graph.tasks[t.index()].point[0];
      const machine::Processor& proc = test::proc_of(*s, p, t);
      EXPECT_EQ(proc.kind, kinds::ProcKind::GPU);
      EXPECT_EQ(proc.node, i / 4);
      EXPECT_EQ(proc.index, i % 4);
      used.insert({proc.node, proc.index});
    }
    EXPECT_EQ(used.size(), static_cast<size_t>(gpus));  // one point on every GPU
  }
}

// The stencil expert mapper in its published form: tile i (a point of the 1-D launch) on
// node i / 4, GPU i % 4, for every launch of the tiles, on 4 Lassen nodes (8 x 2 tiles).
TEST(PublishedMappers, StencilTileIOnNodeIOver4) {
  auto s = test::setup("stencil", "lassen", 4);
  Plan p = test::plan_of(apply(s->program, s->graph, s->machine, test::expert_for("stencil", s->machine)));
  for (const char* task : {"stencil", "increment", "check"}) {
    std::vector<program::PointTaskId> ts = test::tasks_named(*s, task);
    ASSERT_FALSE(ts.empty()) << task;
    for (program::PointTaskId t : ts) {
      const int64_t i = s->graph.tasks[t.index()].point[0];
      EXPECT_EQ(test::proc_of(*s, p, t).node, i / 4) << task;
      EXPECT_EQ(test::proc_of(*s, p, t).index, i % 4) << task;
    }
  }
}

}  // namespace
}  // namespace mage::mapping
