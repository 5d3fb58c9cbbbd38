// What crossing nodes costs besides the bytes: futures reach other nodes through the
// runtime's collectives (radix-8 trees, one network message plus its handling per stage), and
// an inter-node copy waits for its request to reach the source node. On the tiny machine a
// stage is its network latency (2 us) plus the CPU launch overhead (10 us).
#include <algorithm>

#include "../test_support.h"
#include "apps/apps.h"
#include "dsl/dsl.h"
#include "helpers.h"

namespace mage::sim::test {
namespace {

constexpr double kStage = 2e-6 + 10e-6;

double end_of(const TraceEvent& e) { return e.start_s + e.duration_s; }

// `pieces` point tasks of one index launch reduce a future (min) that one CPU task consumes;
// point i runs on node node_of(i), the consumer on node 0.
Outcome reduce_to_one(int nodes, int pieces, const std::function<int(int)>& node_of) {
  Program p;
  TaskKindId piece = p.add_task(leaf("piece", Cost{Precision::FP64, 1e6, {}}));
  TaskKindId global = p.add_task(leaf("global", Cost{}));
  FutureId f = p.add_future("dt", RedOp::Min);
  Launch l;
  l.task = piece;
  l.kind = LaunchKind::Index;
  l.domain = Domain(pieces);
  l.produces = f;
  l.timed = true;
  l.iteration = 0;
  p.add_launch(std::move(l));
  Launch c;
  c.task = global;
  c.kind = LaunchKind::Single;
  c.consumes = {f};
  c.timed = true;
  c.iteration = 0;
  p.add_launch(std::move(c));
  machine::Machine m = tiny(nodes);
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    if (t < pieces) return Placement{gpu(m, 0, node_of(t)), {}};
    return Placement{cpu(m, 0, 0), {}};
  });
  return run_ok(p, m, plan);
}

double last_piece_end(const Outcome& o) {
  double end = 0;
  for (const TraceEvent* e : events(o, "task"))
    if (e->name.rfind("piece", 0) == 0) end = std::max(end, end_of(*e));
  return end;
}

TEST(Futures, OnOneNodeAReducedFutureIsUsableAtOnce) {
  Outcome o = reduce_to_one(1, 2, [](int) { return 0; });
  EXPECT_NEAR(task_event(o, "global").start_s, last_piece_end(o), 1e-12);
}

// Two nodes: one stage of the all-reduce after the last point completed.
TEST(Futures, AFutureReducedOverTwoNodesTakesOneCollectiveStage) {
  Outcome o = reduce_to_one(2, 2, [](int i) { return i; });
  EXPECT_NEAR(task_event(o, "global").start_s, last_piece_end(o) + kStage, 1e-12);
}

// Radix 8: 8 nodes still one stage, 9 nodes two.
TEST(Futures, CollectiveStagesGrowWithTheLogarithmBaseEightOfTheNodes) {
  Outcome eight = reduce_to_one(8, 8, [](int i) { return i; });
  EXPECT_NEAR(task_event(eight, "global").start_s, last_piece_end(eight) + kStage, 1e-12);
  Outcome nine = reduce_to_one(9, 9, [](int i) { return i; });
  EXPECT_NEAR(task_event(nine, "global").start_s, last_piece_end(nine) + 2 * kStage, 1e-12);
}

// A single task's future is broadcast: a consumer on another node waits for it, one on the
// producer's node does not.
TEST(Futures, ASingleTasksFutureReachesOtherNodesByBroadcast) {
  Program p;
  TaskKindId produce = p.add_task(leaf("produce", Cost{Precision::FP64, 1e6, {}}));
  TaskKindId use = p.add_task(leaf("use", Cost{}));
  FutureId f = p.add_future("dt");
  Launch l;
  l.task = produce;
  l.kind = LaunchKind::Single;
  l.produces = f;
  l.timed = true;
  l.iteration = 0;
  p.add_launch(std::move(l));
  Launch c;
  c.task = use;
  c.kind = LaunchKind::Index;
  c.domain = Domain(2);
  c.consumes = {f};
  c.timed = true;
  c.iteration = 0;
  p.add_launch(std::move(c));
  machine::Machine m = tiny(2);
  TaskGraph g = analyze(p);
  mapping::Plan plan = plan_for(p, g, m, [&](int t) {
    if (t == 0) return Placement{cpu(m, 0, 0), {}};
    return Placement{gpu(m, 0, t - 1), {}};
  });
  Outcome o = run_ok(p, m, plan);
  const double produced = end_of(task_event(o, "produce"));
  EXPECT_NEAR(task_event(o, "use (0)").start_s, produced, 1e-12);
  EXPECT_NEAR(task_event(o, "use (1)").start_s, produced + kStage, 1e-12);
}

// ---------------------------------------------------------------- the programs, reduced scale

// Runs mapper `text` on `app` on lassen with `nodes` nodes, as many ranks per node as the app runs as (`mage run`'s
// default: 4 for Johnson and COSMA); an empty Outcome (after a failed expectation) when the mapper does not load or
// apply.
Outcome run_on_lassen(const std::string& app, int nodes, const std::string& text, apps::Scale scale,
                      std::optional<int> iterations, Options options) {
  machine::Machine m = machine::load("lassen", {.nodes = nodes, .ranks_per_node = apps::find(app)->ranks_per_node});
  Program p = apps::build(app, apps::params_for(m, scale, iterations));
  TaskGraph g = analyze(p);
  dsl::SourceFile src{app + ".map", text};
  dsl::BindResult b = dsl::load_mapper(src, mapping::shape_of(m));
  EXPECT_TRUE(b.mapper) << dsl::format_diagnostics(b.diagnostics, src);
  if (!b.mapper) return Outcome{};
  mapping::ApplyResult r = mapping::apply(p, g, m, *b.mapper);
  EXPECT_TRUE(std::holds_alternative<mapping::Plan>(r));
  if (!std::holds_alternative<mapping::Plan>(r)) return Outcome{};
  return simulate_in_child(p, g, m, std::get<mapping::Plan>(r), options, 60);
}

Outcome run_expert(const std::string& app, int nodes, apps::Scale scale = apps::Scale::Small,
                   std::optional<int> iterations = std::nullopt) {
  Outcome o = run_on_lassen(app, nodes, mage::test::read_text(mage::test::expert_mapper_path(app)), scale, iterations,
                            Options{true, 10});
  EXPECT_EQ(o.status, Status::Ok) << app << " on " << nodes << " nodes: " << o.message;
  return o;
}

// Pennant's cycle waits for the global dt: calc_dt_hydro's min over the pieces is all-reduced
// among the nodes before calc_global_dt (one CPU task) can run. On one node it runs as soon
// as the last piece is done; on four, one collective stage (2 us + 10 us on Lassen) later.
TEST(Programs, PennantsGlobalDtWaitsForTheAllReduceAcrossNodes) {
  constexpr double kLassenStage = 2e-6 + 10e-6;
  for (int nodes : {1, 4}) {
    Outcome o = run_expert("pennant", nodes);
    // Cycle 2's calc_global_dt (the second one) and the calc_dt_hydro points before it.
    std::vector<const TraceEvent*> globals;
    for (const TraceEvent* e : events(o, "task"))
      if (e->name == "calc_global_dt") globals.push_back(e);
    ASSERT_GE(globals.size(), 2u);
    std::sort(globals.begin(), globals.end(), [](auto* a, auto* b) { return a->start_s < b->start_s; });
    double hydro_end = 0;
    for (const TraceEvent* e : events(o, "task"))
      if (e->name.rfind("calc_dt_hydro", 0) == 0 && end_of(*e) <= globals[1]->start_s)
        hydro_end = std::max(hydro_end, end_of(*e));
    ASSERT_GT(hydro_end, 0);
    const double wait = globals[1]->start_s - hydro_end;
    if (nodes == 1)
      EXPECT_LT(wait, kLassenStage / 2) << "one node: no collective";
    else
      EXPECT_GE(wait, kLassenStage - 1e-12) << nodes << " nodes";
  }
  // And the whole run takes longer per cycle on four nodes than on one.
  EXPECT_GT(run_expert("pennant", 4).time_s, run_expert("pennant", 1).time_s);
}

// The matrix multiplications move tiles between nodes from 2 nodes on: Cannon shifts B and C
// tiles, Johnson and COSMA reduce the partial A tiles of the k > 0 layers back to the k = 0
// face every iteration. Per-node throughput at 2 nodes is clearly (> 5%) below 1 node's.
// Published sizes (the tiles' sizes are what matters) with 2 timed iterations: a few
// dozen point tasks each.
TEST(Programs, MatrixMultiplicationsPayForTheNetworkAtTwoNodes) {
  for (const std::string app : {"cannon", "johnson", "cosma"}) {
    const Outcome one = run_expert(app, 1, apps::Scale::Published, 2);
    const Outcome two = run_expert(app, 2, apps::Scale::Published, 2);
    ASSERT_TRUE(one.ok() && two.ok()) << app;
    EXPECT_LT(two.metric_value / 2, 0.95 * one.metric_value) << app;
    EXPECT_GT(two.profile.bytes_moved.inter_node, 0) << app;
  }
}

// The expert mapper without its IndexTaskMap and SingleTaskMap statements: the runtime's
// default placement decides (as `mage calibrate` builds it).
std::string without_placement(const std::string& mapper) {
  std::string out, line;
  for (size_t pos = 0; pos < mapper.size();) {
    size_t end = mapper.find('\n', pos);
    if (end == std::string::npos) end = mapper.size();
    line = mapper.substr(pos, end - pos);
    if (line.rfind("IndexTaskMap ", 0) != 0 && line.rfind("SingleTaskMap ", 0) != 0) out += line + "\n";
    pos = end + 1;
  }
  return out;
}

// Published scale and iterations (the fullest GPU fills up over the first iterations).
Outcome run_mapper(const std::string& app, int nodes, const std::string& text) {
  return run_on_lassen(app, nodes, text, apps::Scale::Published, std::nullopt, Options{false, 3});
}

bool out_of_gpu_memory(const Outcome& o) {
  return o.status == Status::ExecutionError && o.profile.out_of_memory &&
         o.profile.out_of_memory->memory_kind == "FBMEM";
}

// BENCHMARKS.md: without placement functions SUMMA and PUMMA ran out of GPU memory at 8 and
// 32 Lassen nodes (not at 1, 2, 4, 16, 64), Johnson at 16, COSMA at 8 and 16; Cannon and the
// experts' mappers fit. Every DGEMM leaf then runs on its node's first GPU (the published
// mapper's choice, docs/simulation.md): SUMMA's and PUMMA's B tiles are twice as large on a
// non-square node grid, and four steps' worth of them on one GPU do not fit. Reduced to the
// counts up to 16 nodes, and COSMA's because its starting tiles of A stay (docs/simulation.md, "Data")
// (the whole pattern is `mage calibrate`'s oom-pattern).
TEST(Programs, WithoutPlacementFunctionsTheMatrixMultiplicationsRunOutOfMemoryWherePublished) {
  struct Case {
    std::string app;
    std::vector<int> fits, oom;
  };
  const std::vector<Case> cases = {{"summa", {4, 16}, {8}},
                                   {"pumma", {2, 16}, {8}},
                                   {"cannon", {8}, {}},
                                   {"johnson", {8}, {16}},
                                   {"cosma", {4}, {8, 16}}};
  for (const Case& c : cases) {
    const std::string text = without_placement(mage::test::read_text(mage::test::expert_mapper_path(c.app)));
    for (int n : c.fits) {
      const Outcome o = run_mapper(c.app, n, text);
      EXPECT_TRUE(o.ok()) << c.app << " on " << n << " nodes: " << o.message;
    }
    for (int n : c.oom) {
      const Outcome o = run_mapper(c.app, n, text);
      EXPECT_TRUE(out_of_gpu_memory(o)) << c.app << " on " << n << " nodes: " << o.message;
    }
  }
  // The expert fits where its default placement does not. COSMA's at 8 nodes: each GPU keeps
  // the starting tile of A placed there (later iterations reduce into it), and the experts put
  // it on the GPU that reduces into it.
  for (const auto& [app, nodes] : std::vector<std::pair<const char*, int>>{{"summa", 8}, {"pumma", 8}, {"cosma", 8}}) {
    const Outcome o = run_mapper(app, nodes, mage::test::read_text(mage::test::expert_mapper_path(app)));
    EXPECT_TRUE(o.ok()) << app << ": " << o.message;
  }
}

// COSMA's expert from 4 nodes and Johnson's from 8 deal task_4 out so that the k layers of
// one A(i,j) run on one node: their partial sums fold over NVLink, not the network (with the
// rank grid's split they crossed nodes: COSMA 28.1 s instead of 16.3 s at 4 nodes).
TEST(Programs, ThreeDExpertsFoldPartialSumsWithinANode) {
  for (const auto& [app, nodes] : std::vector<std::pair<const char*, int>>{
           {"cosma", 4}, {"cosma", 8}, {"cosma", 16}, {"johnson", 8}, {"johnson", 16}}) {
    const Outcome o = run_expert(app, nodes, apps::Scale::Published, 2);
    int folds = 0;
    for (const CopyCost& c : o.profile.costliest_copies)
      if (c.reduction) {
        ++folds;
        EXPECT_FALSE(c.inter_node) << app << " on " << nodes << " nodes: " << c.data << " folds between nodes";
      }
    EXPECT_GT(folds, 0) << app << " on " << nodes << " nodes";
  }
}

// Past 16 nodes (where the published Johnson and COSMA runs stop), and where the GPUs do not
// divide Johnson's g^3 points evenly (12 nodes: 64 points on 48 GPUs), a GPU runs two or more
// task_4 points, and one point's tiles take up to 12 GiB at 64 nodes: the experts map one
// task_4 at a time per rank (InstanceLimit) and spread the starting tiles, so they fit;
// without the limit every point of a GPU holds its tiles at once and does not.
TEST(Programs, JohnsonAndCosmaExpertsFitWhereAGpuRunsSeveralPoints) {
  for (const std::string app : {"johnson", "cosma"}) {
    const std::string expert = mage::test::read_text(mage::test::expert_mapper_path(app));
    for (int n : {12, 24, 32, 64}) {
      const Outcome o = run_on_lassen(app, n, expert, apps::Scale::Published, 2, Options{});
      EXPECT_TRUE(o.ok()) << app << " on " << n << " nodes: " << o.message;
    }
    const std::string limit = "InstanceLimit task_4 1;\n";
    std::string unlimited = expert;
    ASSERT_NE(unlimited.find(limit), std::string::npos) << app;
    unlimited.erase(unlimited.find(limit), limit.size());
    const Outcome o = run_on_lassen(app, 64, unlimited, apps::Scale::Published, 2, Options{});
    EXPECT_TRUE(out_of_gpu_memory(o)) << app << " without InstanceLimit: " << o.message;
  }
}

}  // namespace
}  // namespace mage::sim::test
