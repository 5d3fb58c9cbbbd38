// The search space: the decisions of each of the nine programs, rendering (every rendered
// point compiles, maps and reads back to itself), reading back the experts' and the default
// mappers (and evaluating the same), sampling, size and the JSON form of points.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "../test_support.h"
#include "tune/tune.h"

namespace mage::tune {
namespace {

eval::Request program_of(const std::string& app, apps::Scale scale = apps::Scale::Published,
                         const std::string& machine = "p100x4") {
  eval::Request r;
  r.app = app;
  r.machine = machine;
  r.scale = scale;
  return r;
}

// Spaces are built once per (app, scale): building one maps the program a few times.
const Space& space_of(const std::string& app, apps::Scale scale = apps::Scale::Published) {
  static std::map<std::pair<std::string, apps::Scale>, Space> built;
  auto it = built.find({app, scale});
  if (it == built.end()) it = built.emplace(std::make_pair(app, scale), Space::build(program_of(app, scale))).first;
  return it->second;
}

const Decision* find(const Space& s, const std::string& name) {
  for (const Decision& d : s.decisions())
    if (d.name == name) return &d;
  return nullptr;
}

std::vector<std::string> labels(const Decision& d) {
  std::vector<std::string> out;
  for (const Choice& c : d.choices) out.push_back(c.label);
  return out;
}

// Every label and alias of a decision's choices.
std::set<std::string> all_names(const Decision& d) {
  std::set<std::string> out;
  for (const Choice& c : d.choices) {
    out.insert(c.label);
    out.insert(c.aliases.begin(), c.aliases.end());
  }
  return out;
}

std::string expert(const std::string& app) { return std::string(*eval::expert_mapper_text(app)); }

// ---- Building within the memory limit ---------------------------------------------------

eval::Request on_lassen(int nodes) {
  eval::Request r = program_of("circuit", apps::Scale::Published, "lassen");
  r.overrides.nodes = nodes;
  return r;
}

// The address space this process uses now, in bytes.
uint64_t address_space_in_use() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// A space too large for the memory limit is refused with the limit and the flag that raises
// it, instead of growing this process; the process's own limit is as it was afterwards.
TEST(Building, WithinTheMemoryLimit) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitized builds run without an address-space limit";
#endif
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &before), 0);
  // circuit on 256 Lassen nodes needs over 100 MiB more than this process has.
  const uint64_t limit = address_space_in_use() + (uint64_t{32} << 20);
  try {
    Space::build(on_lassen(256), eval::Limits{.memory_bytes = limit});
    FAIL() << "the space was built within " << (limit >> 20) << " MiB";
  } catch (const eval::LimitError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with("building the search space of circuit on lassen")) << what;
    EXPECT_NE(what.find(fmt::format("memory limit of {} MiB", limit >> 20)), std::string::npos) << what;
    EXPECT_NE(what.find("--memory-limit 0 lifts it"), std::string::npos) << what;
  }
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_cur);
  EXPECT_EQ(after.rlim_max, before.rlim_max);
  // The same program within a limit it fits in.
  EXPECT_FALSE(Space::build(on_lassen(4), eval::Limits{}).decisions().empty());
}

// ---- The decisions ---------------------------------------------------------------------

TEST(Decisions, EveryProgramHasAWellFormedSpace) {
  for (const auto& a : apps::list()) {
    SCOPED_TRACE(a.name);
    const Space& s = space_of(a.name);
    const program::Program p = apps::build(a.name, eval::resolve(program_of(a.name)).params);
    EXPECT_GT(s.size(), 1e6);
    std::set<std::string> names;
    for (const Decision& d : s.decisions()) {
      EXPECT_TRUE(names.insert(d.name).second) << "duplicate " << d.name;
      EXPECT_GE(d.choices.size(), 2u) << d.name;
      const auto task = p.find_task(d.task);
      ASSERT_TRUE(task) << d.name;
      const program::TaskKind& kind = p.tasks[(*task).index()];
      if (d.kind == DecisionKind::Memory || d.kind == DecisionKind::Layout) {
        // Only arguments that get an instance: a leaf's accessed ones, an inner task's
        // reduction-only ones.
        bool needs_instance = false;
        for (const program::Launch& l : p.launches) {
          if (l.task != *task) continue;
          for (const program::RegionArg& arg : l.args) {
            if (p.arg_names(arg).front() != d.argument) continue;
            needs_instance = kind.leaf ? !arg.only(program::Privilege::NA) : arg.only(program::Privilege::RED);
          }
        }
        EXPECT_TRUE(needs_instance) << d.name;
      }
      if (d.kind == DecisionKind::CollectMemory) {
        EXPECT_TRUE(kind.leaf) << d.name;
      }
      if (d.kind == DecisionKind::Memory || d.kind == DecisionKind::Placement) {
        const Decision* processor = find(s, "processor " + d.task);
        if (processor) {
          ASSERT_GE(d.condition, 0) << d.name;
          EXPECT_EQ(&s.decisions()[static_cast<size_t>(d.condition)], processor);
          EXPECT_EQ(processor->choices[static_cast<size_t>(d.condition_choice)].label, d.proc_kind);
        }
      }
    }
  }
}

TEST(Decisions, Circuit) {
  const Space& s = space_of("circuit");
  ASSERT_TRUE(find(s, "processor calculate_new_currents"));
  EXPECT_EQ(labels(*find(s, "processor calculate_new_currents")), (std::vector<std::string>{"GPU", "CPU"}));
  EXPECT_FALSE(find(s, "processor init_piece"));  // CPU only
  ASSERT_TRUE(find(s, "memory calculate_new_currents rp_ghost GPU"));
  EXPECT_EQ(labels(*find(s, "memory calculate_new_currents rp_ghost GPU")),
            (std::vector<std::string>{"FBMEM", "ZCMEM"}));
  // 1-D data: the dimension order cannot matter.
  EXPECT_EQ(labels(*find(s, "layout distribute_charge rp_wires")), (std::vector<std::string>{"SOA", "AOS"}));
  // Arguments init_pointers never accesses need no decision.
  EXPECT_FALSE(find(s, "memory init_pointers rp_private CPU"));
  EXPECT_TRUE(find(s, "memory init_pointers rp_wires CPU"));
  // One piece per GPU: every family puts piece i on GPU i, so there is nothing to decide;
  // on the 20 CPUs they differ.
  EXPECT_FALSE(find(s, "placement calculate_new_currents GPU"));
  EXPECT_TRUE(find(s, "placement calculate_new_currents CPU"));
  EXPECT_TRUE(find(s, "collect_memory calculate_new_currents"));
  EXPECT_FALSE(find(s, "collect_memory update_voltages"));  // no read-only argument
  EXPECT_FALSE(find(s, "instance_limit print_summary"));    // one point task
}

TEST(Decisions, StencilHas2DLayoutsButOneTilePerGpu) {
  const Space& s = space_of("stencil");
  EXPECT_EQ(labels(*find(s, "layout stencil private")),
            (std::vector<std::string>{"SOA F_order", "SOA C_order", "AOS F_order", "AOS C_order"}));
  // The launches are 1-D over the tiles, one per GPU: every family puts tile i on GPU i.
  EXPECT_FALSE(find(s, "placement stencil GPU"));
  EXPECT_TRUE(find(s, "placement stencil CPU"));
  EXPECT_EQ(labels(*find(s, "processor stencil")), (std::vector<std::string>{"GPU", "OMP", "CPU"}));
  EXPECT_EQ(labels(*find(s, "memory stencil private OMP")), (std::vector<std::string>{"SOCKMEM", "SYSMEM", "ZCMEM"}));
}

TEST(Decisions, GridDecompositionsOf2DLaunches) {
  // Cannon's task_1 places A's tiles over the 2 x 2 GPUs of p100x4.
  const Space& s = space_of("cannon");
  const Decision* placement = find(s, "placement task_1 GPU");
  ASSERT_TRUE(placement);
  const std::set<std::string> names = all_names(*placement);
  // Every factorisation of the 4 GPUs into two dimensions, in both dimension orders.
  for (const char* grid : {"block 1x4", "block 2x2", "block 4x1", "block 2x2 order 1,0", "cyclic 1x4", "cyclic 4x1"})
    EXPECT_TRUE(names.contains(grid)) << grid;
  for (const char* family : {"default", "linear", "block_cyclic", "auto_split"})
    EXPECT_TRUE(names.contains(family)) << family;
}

// Cannon's initial skew (one coordinate shifted by the other) is a family of 2-D launches:
// mappers/examples/cannon_skew.map reads back exactly, its placement tasks as skew choices,
// and its point renders to a mapper that places every tile as the file does.
TEST(Decisions, SkewedPlacementsOf2DLaunches) {
  const Space& s = space_of("cannon");
  for (const char* task : {"task_1", "task_2", "task_3"}) {
    const Decision* d = find(s, std::string("placement ") + task + " GPU");
    ASSERT_TRUE(d) << task;
    EXPECT_TRUE(all_names(*d).contains("skew 1+0")) << task;
    EXPECT_TRUE(all_names(*d).contains("skew 0+1")) << task;
  }
  const Decision* one_d = find(s, "placement init_cublas CPU");  // 1-D: no skew
  ASSERT_TRUE(one_d);
  for (const std::string& name : all_names(*one_d)) EXPECT_EQ(name.rfind("skew", 0), std::string::npos) << name;
  std::string error;
  const auto back = s.read(mage::test::read_text(mage::test::repo_path("mappers/examples/cannon_skew.map")), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_TRUE(back->inexact.empty()) << back->inexact.front();
  EXPECT_TRUE(back->tables.empty());
  const nlohmann::ordered_json j = s.to_json(back->point);
  EXPECT_EQ(j["placement task_2 GPU"], "skew 1+0");
  EXPECT_EQ(j["placement task_3 GPU"], "skew 0+1");
  const auto again = s.read(s.render(back->point), &error);
  ASSERT_TRUE(again) << error;
  EXPECT_TRUE(s.diff(back->point, again->point).empty());
}

// A 3-D launch is skewed in its first two coordinates (Solomonik's (r, r, 1) placement
// launches); its function is named apart from the 2-D one, and a point with it reads back.
TEST(Decisions, SkewedPlacementsOf3DLaunches) {
  const Space& s = space_of("solomonik");
  Point p = s.default_point();
  for (const char* task : {"task_2", "task_3"}) {
    const std::string name = std::string("placement ") + task + " GPU";
    const Decision* d = find(s, name);
    ASSERT_TRUE(d) << task;
    EXPECT_TRUE(all_names(*d).contains("skew 1+0")) << task;
    const auto index = static_cast<size_t>(d - s.decisions().data());
    const auto c = s.choice_named(index, task == std::string("task_2") ? "skew 1+0" : "skew 0+1", p[index]);
    ASSERT_TRUE(c) << task;
    p[index] = *c;
  }
  const std::string text = s.render(p);
  EXPECT_NE(text.find("def skew_1p0_3d(Task task, MSpace m)"), std::string::npos) << text;
  EXPECT_NE(text.find("* task.ispace[2] + task.ipoint[2]"), std::string::npos) << text;
  std::string error;
  const auto back = s.read(text, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_TRUE(s.diff(p, back->point).empty());
}

// The expert's two-level placement with its cells taken row-major, as the default placement
// deals out blocks (task_7 over the nodes, task_5 over a node's GPUs): PUMMA's A tiles then
// start where the default-placed task_4 uses them. On 4 Lassen nodes (a 2 x 2 node grid),
// tile (r, c) on node (r/2)*2 + c/2, GPU (r%2)*2 + c%2; the expert's form takes both column-major.
TEST(Decisions, TwoLevelPlacementsInRowMajorOrder) {
  eval::Request r = program_of("pumma", apps::Scale::Small, "lassen");
  r.overrides.nodes = 4;
  const Space s = Space::build(r);
  Point p = s.default_point();
  const Decision* d = find(s, "placement task_1 GPU");
  ASSERT_TRUE(d);
  const auto index = static_cast<size_t>(d - s.decisions().data());
  const auto c = s.choice_named(index, "auto_split order 0,1", p[index]);
  ASSERT_TRUE(c);
  EXPECT_NE(s.choice_named(index, "auto_split", p[index]), c);  // the expert's form places otherwise
  p[index] = *c;
  const std::string text = s.render(p);
  EXPECT_NE(text.find("def two_level_o01_2d(Task task, MSpace m)"), std::string::npos) << text;
  std::string error;
  const auto back = s.read(text, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_TRUE(s.diff(p, back->point).empty());

  dsl::SourceFile src{"row_major.map", text};
  dsl::BindResult b = dsl::load_mapper(src, mapping::shape_of(s.machine()));
  ASSERT_TRUE(b.mapper) << dsl::format_diagnostics(b.diagnostics, src);
  mapping::ApplyResult plan = mapping::apply(s.program(), s.graph(), s.machine(), *b.mapper);
  ASSERT_TRUE(std::holds_alternative<mapping::Plan>(plan)) << std::get<mapping::MappingError>(plan).message;
  int checked = 0;
  for (size_t t = 0; t < s.graph().tasks.size(); ++t) {
    const program::PointTask& task = s.graph().tasks[t];
    if (s.program().tasks[s.program().launches[task.launch.index()].task.index()].name != "task_1") continue;
    const machine::Processor& proc = s.machine().processor(std::get<mapping::Plan>(plan).tasks[t].processor);
    const int64_t row = task.point[0], col = task.point[1];
    EXPECT_EQ(proc.node, (row / 2) * 2 + col / 2) << row << "," << col;
    EXPECT_EQ(proc.index, (row % 2) * 2 + col % 2) << row << "," << col;
    ++checked;
  }
  EXPECT_GE(checked, 16);
}

TEST(Decisions, PennantArgumentsByTheDataTheyName) {
  // init_step_points is launched on private points and on shared points (argument 0 both
  // times): a decision for each.
  const Space& s = space_of("pennant");
  EXPECT_TRUE(find(s, "memory init_step_points rp_all_private_p GPU"));
  EXPECT_TRUE(find(s, "memory init_step_points rp_all_shared_p GPU"));
  EXPECT_TRUE(find(s, "memory sum_point_mass rp_all_ghost_p GPU"));
  EXPECT_FALSE(find(s, "processor calc_global_dt"));
  EXPECT_FALSE(find(s, "placement calc_global_dt CPU"));  // a single top-level launch
}

TEST(Decisions, NestedMatrixMultiplications) {
  for (const char* app : {"cannon", "summa", "pumma"}) {
    SCOPED_TRACE(app);
    const Space& s = space_of(app);
    for (const Decision& d : s.decisions())
      if (d.task == "task_5" || d.task == "task_6" || d.task == "task_7") {
        EXPECT_TRUE(d.kind != DecisionKind::Memory && d.kind != DecisionKind::Layout) << d.name;
      }
    EXPECT_EQ(labels(*find(s, "placement task_4 GPU")), (std::vector<std::string>{"default", "parent"}));
    // task_6 (single, launched by task_7 on its node's first OMP processor): by default on
    // the node's first OMP processor, which is its parent's, so there is nothing to decide.
    EXPECT_FALSE(find(s, "placement task_6 OMP"));
    EXPECT_TRUE(all_names(*find(s, "placement task_5 GPU")).contains("parent"));
    EXPECT_TRUE(find(s, "instance_limit task_6"));
    EXPECT_FALSE(find(s, "placement task_7 OMP"));  // one point on one node: nothing to place
  }
  const Space& solomonik = space_of("solomonik");
  // task_5 is inner and DISTAL tags its arguments virtual (even the reduction-only A): no
  // memory decision.
  EXPECT_FALSE(find(solomonik, "memory task_5 A_tiles GPU"));
  EXPECT_FALSE(find(solomonik, "memory task_5 B_slabs GPU"));
  for (const char* app : {"johnson", "cosma"}) {
    SCOPED_TRACE(app);
    const Space& s = space_of(app);
    EXPECT_EQ(s.machine().ranks(), 4);  // 4 ranks of one GPU each
    EXPECT_TRUE(all_names(*find(s, "placement task_4 GPU")).contains("auto_split"));
    EXPECT_TRUE(all_names(*find(s, "placement task_4 GPU")).contains("block 1x2x2"));
  }
}

TEST(Decisions, SizeCountsEachTasksDistinctMappers) {
  // Counted task by task: per processor kind, the product of the decisions that apply on it.
  for (const char* app : {"circuit", "cannon"}) {
    const Space& s = space_of(app);
    std::map<std::string, std::map<std::string, double>> per_kind;  // task -> kind -> product
    std::map<std::string, double> unconditional;
    for (const Decision& d : s.decisions()) {
      if (d.kind == DecisionKind::Processor)
        for (const Choice& c : d.choices) per_kind[d.task].emplace(c.label, 1.0);
    }
    for (const Decision& d : s.decisions()) {
      if (d.kind == DecisionKind::Processor) continue;
      if (d.condition >= 0)
        per_kind[d.task][d.proc_kind] *= static_cast<double>(d.choices.size());
      else
        unconditional[d.name] = static_cast<double>(d.choices.size());
    }
    double expected = 1;
    for (auto& [task, kinds] : per_kind) {
      double sum = 0;
      for (auto& [kind, n] : kinds) sum += n;
      expected *= sum;
    }
    for (auto& [name, n] : unconditional) expected *= n;
    EXPECT_DOUBLE_EQ(s.size(), expected) << app;
  }
}

// ---- Rendering and reading back --------------------------------------------------------

TEST(Render, EveryPointCompilesMapsAndReadsBackToItself) {
  for (const auto& a : apps::list()) {
    SCOPED_TRACE(a.name);
    const Space& s = space_of(a.name);
    Rng rng(7);
    std::vector<Point> points{s.default_point()};
    for (int i = 0; i < 12; ++i) points.push_back(s.sample(rng));
    for (const Point& p : points) {
      const std::string text = s.render(p);
      std::string error;
      auto back = s.read(text, &error);
      ASSERT_TRUE(back) << error << "\n" << text;
      EXPECT_TRUE(back->inexact.empty()) << back->inexact.front() << "\n" << text;
      EXPECT_TRUE(s.diff(p, back->point).empty()) << s.describe(s.diff(p, back->point).front()) << "\n" << text;
      EXPECT_EQ(s.render(back->point), text);
    }
  }
}

// The families that linearise the launch (linear, block_cyclic) have no grid in their name,
// and their body depends on the launch's dimensions: where a mapper places a 1-D and a 2-D
// launch with one of them (Cannon's init_cublas and task_1 on 4 Lassen nodes, where
// block_cyclic is no alias of another family), the two functions need different names. A
// bandit run rendered `block_cyclic` twice and the run stopped.
TEST(Render, OneFamilyOnLaunchesOfSeveralDimensionsCompiles) {
  for (const auto& a : apps::list()) {
    eval::Request r = program_of(a.name, apps::Scale::Small, "lassen");
    r.overrides.nodes = 4;
    const Space s = Space::build(r);
    for (const char* kind : {"GPU", "CPU", "OMP"})
      for (const char* family : {"linear", "block_cyclic", "block", "cyclic", "skew"}) {
        SCOPED_TRACE(a.name + " " + kind + " " + family);
        Point p = s.default_point();
        for (size_t d = 0; d < s.decisions().size(); ++d) {
          const DecisionKind k = s.decisions()[d].kind;
          if (k != DecisionKind::Placement && k != DecisionKind::Processor) continue;
          if (const auto c = s.choice_named(d, k == DecisionKind::Processor ? kind : family, p[d])) p[d] = *c;
        }
        const std::string text = s.render(p);
        std::string error;
        auto back = s.read(text, &error);
        ASSERT_TRUE(back) << error << "\n" << text;
        EXPECT_TRUE(s.diff(p, back->point).empty()) << s.describe(s.diff(p, back->point).front()) << "\n" << text;
      }
  }
}

TEST(Render, TheDefaultPointIsTaskRulesOnly) {
  const std::string text = space_of("circuit").render(space_of("circuit").default_point());
  EXPECT_NE(text.find("Task calculate_new_currents,distribute_charge,update_voltages GPU;"), std::string::npos);
  EXPECT_EQ(text.find("Region"), std::string::npos);
  EXPECT_EQ(text.find("IndexTaskMap"), std::string::npos);
}

TEST(Render, APointOfAnotherSpaceIsAnError) {
  EXPECT_THROW(space_of("circuit").render(space_of("stencil").default_point()), std::logic_error);
}

TEST(ReadBack, TheExpertsMappers) {
  for (const auto& a : apps::list()) {
    SCOPED_TRACE(a.name);
    const Space& s = space_of(a.name);
    std::string error;
    auto back = s.read(expert(a.name), &error);
    ASSERT_TRUE(back) << error;
    // Circuit's setup tasks run on the first CPU of their node: no family does that.
    if (a.name == "circuit") {
      ASSERT_EQ(back->inexact.size(), 2u);
      EXPECT_NE(back->inexact[0].find("placement init_piece CPU"), std::string::npos);
    } else {
      EXPECT_TRUE(back->inexact.empty()) << back->inexact.front();
    }
  }
  const Space& circuit = space_of("circuit");
  const Point expert_point = circuit.read(expert("circuit"))->point;
  std::vector<std::string> changes;
  for (const Difference& d : circuit.diff(circuit.default_point(), expert_point))
    changes.push_back(circuit.describe(d));
  EXPECT_NE(std::find(changes.begin(), changes.end(), "memory calculate_new_currents rp_ghost GPU: FBMEM -> ZCMEM"),
            changes.end());
  const Space& cannon = space_of("cannon");
  const Point cannon_point = cannon.read(expert("cannon"))->point;
  EXPECT_EQ(cannon.to_json(cannon_point)["placement task_4 GPU"], "parent");
  EXPECT_EQ(cannon.to_json(cannon_point)["layout task_4 B_gpus"], "SOA C_order");
  EXPECT_EQ(cannon.to_json(cannon_point)["instance_limit task_6"], "1");
  EXPECT_EQ(cannon.to_json(cannon_point)["collect_memory task_4"], "on");
}

// A placement no family reproduces (circuit's setup tasks on the first CPU of their node)
// becomes one more choice of a space made for that mapper: read there, the mapper is exact,
// its point renders and reads back to itself, and the choice is named by a digest that the
// plain space does not know.
TEST(ReadBack, PlacementsNoFamilyReproducesBecomeTableChoices) {
  const Space& s = space_of("circuit");
  auto back = s.read(expert("circuit"));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->tables.size(), 2u);
  const Space t = s.with_tables(*back);
  auto again = t.read(expert("circuit"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->inexact.empty()) << again->inexact.front();
  EXPECT_TRUE(again->tables.empty());
  const nlohmann::ordered_json j = t.to_json(again->point);
  const std::string label = j["placement init_piece CPU"];
  EXPECT_EQ(label.rfind("table ", 0), 0u) << label;
  EXPECT_EQ(t.from_json(j), again->point);
  EXPECT_THROW(s.from_json(j), TuneError);
  EXPECT_EQ(t.read(t.render(again->point))->point, again->point);
  EXPECT_NE(t.render(again->point).find("IndexTaskMap"), std::string::npos);
  // The plain space is as it was; the new one has one more choice per table, once.
  for (const auto& [d, table] : back->tables) {
    EXPECT_EQ(t.decisions()[d].choices.size(), s.decisions()[d].choices.size() + 1);
    EXPECT_EQ(t.with_tables(*back).decisions()[d].choices.size(), t.decisions()[d].choices.size());
  }
  EXPECT_GT(t.size(), s.size());
  // A nested launch's placement depends on its parent too: inexact, but no table.
  const std::string nested =
      "Task * GPU,OMP,CPU;\nTask task_6,task_7 OMP;\nmgpu = Machine(GPU);\nmomp = Machine(OMP);\n"
      "def odd(Task task) { return mgpu[task.parent.processor(momp)[0], 3 - task.ipoint[0] * 2 - task.ipoint[1]]; }\n"
      "IndexTaskMap task_5 odd;\n";
  std::string error;
  auto cannon = space_of("cannon").read(nested, &error);
  ASSERT_TRUE(cannon) << error;
  EXPECT_FALSE(cannon->inexact.empty());
  EXPECT_TRUE(cannon->tables.empty());
}

TEST(ReadBack, BadMappersSayWhy) {
  std::string error;
  EXPECT_FALSE(space_of("circuit").read("Task * GPU", &error));
  EXPECT_NE(error.find("mapper.map:1:"), std::string::npos) << error;
  EXPECT_FALSE(space_of("circuit").read(
      "m = Machine(CPU);\ndef f(Task t) { return m[0, 0]; }\nIndexTaskMap calculate_new_currents f;\n", &error));
  EXPECT_NE(error.find("calculate_new_currents"), std::string::npos) << error;
}

TEST(ReadBack, RenderedExpertsAndDefaultEvaluateAsTheOriginals) {
  // At the small scale, every expert's read-back point renders to a mapper that the
  // simulator times exactly as the expert's own, and the default point as the default mapper.
  std::vector<eval::Request> requests;
  for (const auto& a : apps::list()) {
    const Space& s = space_of(a.name, apps::Scale::Small);
    eval::Request r = program_of(a.name, apps::Scale::Small);
    r.mapper = eval::expert_mapper();
    requests.push_back(r);
    r.mapper = eval::mapper_text(s.render(s.read(expert(a.name))->point));
    requests.push_back(r);
    r.mapper = eval::default_mapper();
    requests.push_back(r);
    r.mapper = eval::mapper_text(s.render(s.default_point()));
    requests.push_back(r);
  }
  std::vector<eval::Result> results = eval::evaluate_many(requests, 2);
  for (size_t i = 0; i < results.size(); i += 2) {
    SCOPED_TRACE(requests[i].app + (i % 4 == 0 ? " expert" : " default"));
    // The matrix multiplications fail with the default mapper (F order for the DGEMM): the
    // rendered default fails the same way.
    EXPECT_EQ(results[i + 1].outcome.status, results[i].outcome.status) << results[i + 1].outcome.message;
    EXPECT_EQ(results[i + 1].outcome.message, results[i].outcome.message);
    EXPECT_DOUBLE_EQ(results[i + 1].outcome.time_s, results[i].outcome.time_s);
    if (i % 4 == 0) {
      EXPECT_EQ(results[i].outcome.status, sim::Status::Ok) << results[i].outcome.message;
    }
  }
}

// ---- Naming decisions and choices as feedback does --------------------------------------

TEST(Names, SelectByKindTaskAndArgument) {
  const Space& s = space_of("circuit");
  const Point p = s.default_point();
  auto names = [&](const std::vector<size_t>& ds) {
    std::vector<std::string> out;
    for (size_t d : ds) out.push_back(s.decisions()[d].name);
    return out;
  };
  EXPECT_EQ(names(s.select(p, DecisionKind::Memory, "distribute_charge", "rp_ghost")),
            (std::vector<std::string>{"memory distribute_charge rp_ghost GPU"}));
  // "*" is every task; an argument is matched by any name it answers to (rp_ghost's region).
  EXPECT_EQ(names(s.select(p, DecisionKind::Memory, "*", "rp_ghost")),
            (std::vector<std::string>{"memory calculate_new_currents rp_ghost GPU",
                                      "memory distribute_charge rp_ghost GPU"}));
  // rp_shared of init_piece (on CPU) and of the three loop tasks, rp_ghost of two.
  EXPECT_EQ(s.select(p, DecisionKind::Memory, "*", "all_shared").size(), 6u);
  EXPECT_EQ(s.select(p, DecisionKind::Layout, "update_voltages").size(), 2u);
  // Only active decisions: the CPU memories of a GPU task are not.
  EXPECT_TRUE(s.select(p, DecisionKind::Placement, "calculate_new_currents").empty());
  EXPECT_TRUE(s.select(p, DecisionKind::Memory, "no_such_task").empty());
}

TEST(Names, ChoicesByLabelAliasFamilyAndLayoutWords) {
  const Space& cannon = space_of("cannon");
  const size_t placement = cannon.select(cannon.default_point(), DecisionKind::Placement, "task_1").front();
  const Decision& d = cannon.decisions()[placement];
  EXPECT_EQ(d.name, "placement task_1 GPU");
  auto label = [&](std::optional<int> c) { return c ? d.choices[static_cast<size_t>(*c)].label : std::string("none"); };
  EXPECT_EQ(label(cannon.choice_named(placement, "block 1x4", 0)), "block 1x4");
  EXPECT_EQ(label(cannon.choice_named(placement, "auto_split", 0)), "block 2x2 order 1,0");  // an alias
  // A family: the current choice when it is one of them, else the first.
  EXPECT_EQ(label(cannon.choice_named(placement, "linear", 0)), "default");
  EXPECT_EQ(label(cannon.choice_named(placement, "cyclic", 0)), "default");
  EXPECT_EQ(label(cannon.choice_named(placement, "block", 1)), "block 1x4");
  EXPECT_EQ(cannon.choice_named(placement, "parent", 0), std::nullopt);
  const Space& stencil = space_of("stencil");
  const Point p = stencil.default_point();
  const size_t layout = stencil.select(p, DecisionKind::Layout, "stencil", "private").front();
  const Decision& l = stencil.decisions()[layout];
  auto layout_label = [&](std::optional<int> c) {
    return c ? l.choices[static_cast<size_t>(*c)].label : std::string();
  };
  EXPECT_EQ(layout_label(stencil.choice_named(layout, "C_order", 0)), "SOA C_order");
  EXPECT_EQ(layout_label(stencil.choice_named(layout, "C_order", 2)), "AOS C_order");
  EXPECT_EQ(layout_label(stencil.choice_named(layout, "SOA F_order", 3)), "SOA F_order");
  EXPECT_EQ(stencil.choice_named(layout, "Align==64", 0), std::nullopt);
  // 1-D data: the order is no choice, so C_order names the current layout.
  const Space& circuit = space_of("circuit");
  const size_t wires =
      circuit.select(circuit.default_point(), DecisionKind::Layout, "distribute_charge", "rp_wires").front();
  EXPECT_EQ(circuit.choice_named(wires, "C_order", 1), 1);
  EXPECT_EQ(circuit.choice_named(wires, "SOA C_order", 1), 0);
}

// ---- Sampling and points ---------------------------------------------------------------

TEST(Sample, DeterministicPerSeedAndCoversEveryChoice) {
  const Space& s = space_of("circuit");
  Rng a(3), b(3), c(4);
  EXPECT_EQ(s.sample(a), s.sample(b));
  EXPECT_NE(s.sample(a), s.sample(c));
  std::vector<std::set<int>> seen(s.decisions().size());
  Rng rng(11);
  for (int i = 0; i < 400; ++i) {
    const Point p = s.sample(rng);
    for (size_t d = 0; d < p.size(); ++d)
      if (s.active(p, d)) seen[d].insert(p[d]);
  }
  for (size_t d = 0; d < seen.size(); ++d)
    EXPECT_EQ(seen[d].size(), s.decisions()[d].choices.size()) << s.decisions()[d].name;
}

TEST(Sample, UniformOverDistinctMappers) {
  // A kind leading to more mappers is drawn more often, in proportion: calculate_new_currents
  // on CPU has 81 x 4 times the mappers of GPU (3 memories for 4 arguments, 4 placements vs
  // 2 memories), as the space counts them.
  const Space& s = space_of("circuit");
  const size_t processor = static_cast<size_t>(find(s, "processor calculate_new_currents") - s.decisions().data());
  double gpu_mappers = 1, cpu_mappers = 1;
  for (const Decision& d : s.decisions()) {
    if (d.condition != static_cast<int>(processor)) continue;
    (d.proc_kind == "GPU" ? gpu_mappers : cpu_mappers) *= static_cast<double>(d.choices.size());
  }
  Rng rng(5);
  int gpu = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) gpu += s.sample(rng)[processor] == 0;
  const double expected = gpu_mappers / (gpu_mappers + cpu_mappers);
  EXPECT_NEAR(static_cast<double>(gpu) / n, expected, 4 * std::sqrt(expected * (1 - expected) / n) + 1e-4);
}

TEST(Points, JsonRoundTripAndErrors) {
  const Space& s = space_of("cannon");
  Rng rng(1);
  const Point p = s.sample(rng);
  const Point back = s.from_json(s.to_json(p));
  EXPECT_TRUE(s.diff(p, back).empty());
  EXPECT_THROW(s.from_json(nlohmann::json{{"processor nothing", "GPU"}}), TuneError);
  EXPECT_THROW(s.from_json(nlohmann::json{{"processor task_4", "TPU"}}), TuneError);
  EXPECT_THROW(s.from_json(nlohmann::json::array()), TuneError);
  // Aliases name the choice they were merged into.
  EXPECT_EQ(s.from_json(nlohmann::json{{"placement task_1 GPU", "auto_split"}}),
            s.from_json(nlohmann::json{{"placement task_1 GPU", "block 2x2 order 1,0"}}));
}

TEST(Points, DiffOnlyActiveDecisions) {
  const Space& s = space_of("circuit");
  Point cpu = s.default_point();
  const size_t processor = static_cast<size_t>(find(s, "processor update_voltages") - s.decisions().data());
  cpu[processor] = 1;
  const std::vector<Difference> d = s.diff(s.default_point(), cpu);
  // The kind changes, and the memory decisions of each kind come and go with it.
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(s.describe(d.front()), "processor update_voltages: GPU -> CPU");
  for (const Difference& x : d)
    if (s.decisions()[x.decision].kind == DecisionKind::Memory) {
      EXPECT_TRUE(!x.from || !x.to);
    }
}

}  // namespace
}  // namespace mage::tune
