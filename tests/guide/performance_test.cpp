// What limits a run that worked, per category, each triggered by a mapper; the hints, when
// applied, must make the run faster (the guide's estimates are first-order, so the tests
// check the direction and the order, not the seconds).
#include <nlohmann/json.hpp>

#include <functional>
#include <numeric>
#include <regex>

#include "helpers.h"

namespace mage::guide::test {
namespace {

using apps::Scale;
using sim::Status;

// The experts' mapper for `app` on `nodes` Lassen nodes, at the published scale.
eval::Request expert_on_lassen(const std::string& app, int nodes) {
  eval::Request r = request_for(app, eval::expert_mapper(), Scale::Published, "lassen");
  r.overrides.nodes = nodes;
  return r;
}

// The mapper tests/guide/mappers/`file` for `app` on `nodes` Lassen nodes, at the published
// scale, with the tiles placed again before every iteration (the drivers' loop).
eval::Request placed_every_iteration_on_lassen(const std::string& app, const std::string& file, int nodes) {
  eval::Request r = request_for(app, test_mapper(file), Scale::Published, "lassen");
  r.overrides.nodes = nodes;
  r.place_every_iteration = true;
  return r;
}

// The hint's name for a placement of a rows x cols launch on `nodes` Lassen nodes that puts
// point (row, col) on GPU where(row, col) = (node, GPU of the node).
std::string places_on_gpus(int nodes, int rows, int cols, const std::function<std::pair<int, int>(int, int)>& where) {
  const machine::Machine m = machine::load("lassen", {.nodes = nodes});
  std::vector<int64_t> processors;
  for (int row = 0; row < rows; ++row)
    for (int col = 0; col < cols; ++col) {
      const auto [node, gpu] = where(row, col);
      processors.push_back(m.processor_at(kinds::ProcKind::GPU, node, gpu).value);
    }
  return "places " + mapping::placement_digest(processors);
}

// The experts' mapper text for `app` with `rule` replaced by `replacement` (a failure, and the
// text unchanged, when the mapper has no such rule).
std::string expert_with(const std::string& app, const std::string& rule, const std::string& replacement) {
  std::string text(*eval::expert_mapper_text(app));
  const size_t at = text.find(rule);
  if (at == std::string::npos) {
    ADD_FAILURE() << app << "'s expert mapper has no `" << rule << "`";
    return text;
  }
  return text.replace(at, rule.size(), replacement);
}

double time_of(const std::string& app, const std::string& text, Scale scale, const std::string& machine = "p100x4") {
  eval::Result r = eval::evaluate(request_for(app, eval::mapper_text(text, "changed.map"), scale, machine));
  EXPECT_EQ(r.outcome.status, Status::Ok) << r.outcome.message;
  return r.outcome.time_s;
}

void expect_ordered(const Feedback& f) {
  for (size_t i = 1; i < f.hints.size(); ++i)
    EXPECT_GE(f.hints[i - 1].impact_s, f.hints[i].impact_s) << f.to_json().dump(2);
}

// The flagship: the experts' circuit mapper keeps the shared and ghost nodes in zero-copy
// memory; the published search found them better in the framebuffer (1.34x).
TEST(Performance, CircuitExpertsZeroCopyRegionsBelongInTheFramebuffer) {
  Explained e = explain_run("circuit", eval::expert_mapper(), Scale::Published);
  ASSERT_EQ(e.result.outcome.status, Status::Ok);
  const Feedback& f = e.feedback;
  EXPECT_EQ(f.category, Category::RemoteAccess);
  for (const char* word : {"calculate_new_currents", "distribute_charge", "rp_ghost", "rp_shared", "ZCMEM", "FBMEM"})
    EXPECT_TRUE(contains(f.explanation, word)) << word << ": " << f.explanation;
  for (const char* task : {"calculate_new_currents", "distribute_charge"})
    for (const char* data : {"rp_ghost", "rp_shared"}) {
      const Hint* h = find_hint(f, Action::Memory, task, data);
      ASSERT_NE(h, nullptr) << task << " " << data;
      EXPECT_EQ(h->from, "ZCMEM");
      EXPECT_EQ(h->to, "FBMEM");
      EXPECT_GT(h->impact_s, 0);
    }
  ASSERT_FALSE(f.hints.empty());
  EXPECT_EQ(f.hints[0].argument, "rp_ghost");  // the ghost nodes cost the most
  expect_ordered(f);
  EXPECT_TRUE(contains(suggestions(f), "`Region * rp_ghost GPU FBMEM;`")) << suggestions(f);
  EXPECT_TRUE(contains(suggestions(f), "`Region * rp_shared GPU FBMEM;`")) << suggestions(f);

  // Applied, the suggestion is at least 1.2x faster, and the estimate is of the right size.
  std::string text(*eval::expert_mapper_text("circuit"));
  for (const char* rule : {"Region * rp_shared GPU ZCMEM;", "Region * rp_ghost GPU ZCMEM;"})
    text.replace(text.find(rule), std::string(rule).size(), std::regex_replace(rule, std::regex("ZCMEM"), "FBMEM"));
  const double after = time_of("circuit", text, Scale::Published);
  EXPECT_GE(e.result.outcome.time_s / after, 1.2);
  double estimated = 0;
  for (const Hint& h : f.hints) estimated += h.impact_s;
  const double saved = e.result.outcome.time_s - after;
  EXPECT_GT(estimated, 0.5 * saved);
  EXPECT_LT(estimated, 2 * saved);
}

TEST(Performance, AGpuTaskOnCpusIsMovedToTheGpus) {
  Explained e = explain_run("circuit", test_mapper("slow_processor.map"));
  EXPECT_EQ(e.feedback.category, Category::SlowProcessor);
  EXPECT_TRUE(contains(e.feedback.explanation, "calculate_new_currents runs on CPUs")) << e.feedback.explanation;
  expect_first_hint(e.feedback, Action::Processor, "calculate_new_currents", "CPU", "GPU");
  EXPECT_GT(e.feedback.hints.at(0).impact_s, 0.5 * e.result.outcome.time_s);
  const double after = time_of("circuit", "Task calculate_new_currents GPU;\n" + e.request.mapper.text, Scale::Small);
  EXPECT_LT(after, 0.5 * e.result.outcome.time_s);
}

TEST(Performance, EveryPointOnOneGpuIsSpreadOverAll) {
  Explained e = explain_run("circuit", test_mapper("load_imbalance.map"));
  EXPECT_EQ(e.feedback.category, Category::LoadImbalance);
  for (const char* word : {"only 1 of the 4 GPUs", "node 0 GPU 0", "3 GPUs did no work"})
    EXPECT_TRUE(contains(e.feedback.explanation, word)) << word << ": " << e.feedback.explanation;
  for (const char* task : {"calculate_new_currents", "distribute_charge", "update_voltages"}) {
    const Hint* h = find_hint(e.feedback, Action::Placement, task, "");
    ASSERT_NE(h, nullptr) << task;
    EXPECT_EQ(h->to, "block");
  }
  EXPECT_EQ(e.feedback.hints[0].task, "calculate_new_currents");
  expect_ordered(e.feedback);
  // Without the placement rule, the default blocks the points over the GPUs.
  std::string text = e.request.mapper.text;
  text.erase(text.find("IndexTaskMap"));
  EXPECT_LT(time_of("circuit", text, Scale::Small), 0.5 * e.result.outcome.time_s);
}

// Cannon's task_4 is a single launch by each of task_5's 2 x 2 points; with a Task rule choosing
// GPUs and no placement, each runs on its rank's first GPU (published select_task_options), so the
// four run one after another on GPU 0. The remedy is the parent's processor, not a block placement.
TEST(Performance, NestedSingleLaunchesOnOneGpuRunOnTheirParentsProcessors) {
  const std::string text =
      "Task init_cublas,task_1,task_2,task_3,task_5,task_4 GPU;\nTask task_7,task_6 OMP;\n"
      "Layout task_4 A_gpus * SOA C_order;\nLayout task_4 B_gpus * SOA C_order;\nLayout task_4 C_gpus * SOA C_order;\n";
  Explained e = explain_run("cannon", eval::mapper_text(text, "nested.map"));
  EXPECT_EQ(e.feedback.category, Category::LoadImbalance);
  EXPECT_TRUE(contains(e.feedback.explanation, "task_4's 4 points")) << e.feedback.explanation;
  expect_first_hint(e.feedback, Action::Placement, "task_4", "", "parent");  // "" : no placement rule
  const double after =
      time_of("cannon",
              text +
                  "mgpu = Machine(GPU);\ndef on_parent_gpu(Task task) {\n"
                  "  return mgpu[*task.parent.processor(mgpu)];\n}\nSingleTaskMap task_4 on_parent_gpu;\n",
              Scale::Small);
  EXPECT_LT(after, 0.5 * e.result.outcome.time_s);
}

TEST(Performance, AnInstanceLimitThatSerializesCopiesIsRemoved) {
  Explained e = explain_run("johnson", test_mapper("instance_limit.map"), Scale::Published);
  EXPECT_EQ(e.feedback.category, Category::InstanceLimit);
  EXPECT_TRUE(contains(e.feedback.explanation, "`InstanceLimit task_4 1`")) << e.feedback.explanation;
  expect_first_hint(e.feedback, Action::InstanceLimit, "task_4", "1", "none");  // the framebuffers are a quarter full
  std::string text = e.request.mapper.text;
  text.erase(text.find("InstanceLimit task_4 1;"), std::string("InstanceLimit task_4 1;").size());
  EXPECT_LT(time_of("johnson", text, Scale::Published), e.result.outcome.time_s);
}

// On 64 Lassen nodes the framebuffers are nearly full under the experts' InstanceLimit: one
// more task_4 mapped ahead does not fit in what is free, so the advice to raise the limit
// says it fits only if read-only copies can be collected. Both outcomes happen: Solomonik's
// run fits and is faster, COSMA's runs out of memory.
TEST(Performance, RaisingAnInstanceLimitWhereMemoryIsFullSaysItMayNotFit) {
  for (const char* app : {"solomonik", "cosma"}) {
    eval::Request r = expert_on_lassen(app, 64);
    Explained e = explain_run(r);
    ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
    const std::string s = suggestions(e.feedback);
    EXPECT_TRUE(contains(s, "raise the limit with care: `InstanceLimit task_4 2;` maps 1 more task_4 ahead")) << s;
    EXPECT_TRUE(contains(s, "it fits only if read-only copies can be collected")) << s;
    ASSERT_NE(find_hint(e.feedback, Action::InstanceLimit, "task_4", ""), nullptr);
    r.mapper = eval::mapper_text(expert_with(app, "InstanceLimit task_4 1;", "InstanceLimit task_4 2;"), "doubled.map");
    const eval::Result doubled = eval::evaluate(r);
    if (std::string(app) == "solomonik") {
      ASSERT_EQ(doubled.outcome.status, Status::Ok) << doubled.outcome.message;
      EXPECT_LT(doubled.outcome.time_s, e.result.outcome.time_s);
    } else {
      EXPECT_EQ(doubled.outcome.status, Status::ExecutionError);
      EXPECT_TRUE(contains(doubled.outcome.message, "out of memory")) << doubled.outcome.message;
    }
  }
}

// COSMA's expert on 4 Lassen nodes deals task_4 out in row-major blocks, each A(i,j)'s
// reducers on one node. The copies finding proposes the launch-shaped split, and says what it
// risks: with it (the expert's rule below 16 GPUs) the partial sums fold between nodes and the
// run is slower.
TEST(Performance, ASplitThatCouldSpreadReducersOverNodesSaysSo) {
  eval::Request r = expert_on_lassen("cosma", 4);
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  const std::string s = suggestions(e.feedback);
  EXPECT_TRUE(contains(s, "two-level auto_split form")) << s;
  EXPECT_TRUE(contains(s, "task_4 reduces into A_tiles, and each piece's reducers now run on one node")) << s;
  r.mapper = eval::mapper_text(
      expert_with("cosma", "def big() { return mgpu.volume > 64 || (mgpu.volume > 8 && 64 % mgpu.volume == 0); }",
                  "def big() { return mgpu.volume > 64; }"),
      "split.map");
  const eval::Result split = eval::evaluate(r);
  ASSERT_EQ(split.outcome.status, Status::Ok) << split.outcome.message;
  EXPECT_GT(split.outcome.time_s, 1.5 * e.result.outcome.time_s);
}

// Cannon without placement functions: each task_4 runs on its node's first GPU (the
// published mapper's default for a task its Task rule maps to GPUs) instead of its parent's,
// and its B and C tiles travel between framebuffers.
TEST(Performance, CopiesForANestedTaskAwayFromItsParentBringItBack) {
  Explained e = explain_run("cannon", test_mapper("copies_round_robin.map"), Scale::Published);
  EXPECT_EQ(e.feedback.category, Category::Copies);
  for (const char* word : {"B_gpus FBMEM -> FBMEM", "for task_4"})
    EXPECT_TRUE(contains(e.feedback.explanation, word)) << word << ": " << e.feedback.explanation;
  expect_first_hint(e.feedback, Action::Placement, "task_4", "", "parent");
  EXPECT_TRUE(contains(suggestions(e.feedback), "`SingleTaskMap task_4 same_point;`")) << suggestions(e.feedback);
  const std::string fixed = e.request.mapper.text +
                            "mgpu = Machine(GPU);\n"
                            "def same_point(Task task) { return mgpu[*task.parent.processor(mgpu)]; }\n"
                            "SingleTaskMap task_4 same_point;\n";
  EXPECT_LT(time_of("cannon", fixed, Scale::Published), 0.5 * e.result.outcome.time_s);
}

// Johnson with the two points that reduce into each A(i, j) on different GPUs: the copies
// are folds, and a placement that ignores k avoids them at no cost in parallelism (4 pieces,
// 4 GPUs), which the suggestion says and the run confirms.
TEST(Performance, FoldsAPlacementAvoidsAreNamedWithThatPlacement) {
  Explained e = explain_run("johnson", test_mapper("folds_split_k.map"), Scale::Published);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_EQ(e.feedback.category, Category::Copies);
  EXPECT_TRUE(contains(e.feedback.explanation, "A_tiles partial sums folded FBMEM -> FBMEM")) << e.feedback.explanation;
  EXPECT_TRUE(contains(e.feedback.explanation, "folds")) << e.feedback.explanation;
  const std::string s = suggestions(e.feedback);
  EXPECT_TRUE(contains(s, "place the 2 points of task_4 that reduce into one piece of A_tiles on one GPU")) << s;
  EXPECT_TRUE(contains(s, "ignores task.ipoint[2]")) << s;
  EXPECT_FALSE(contains(s, "keep the folds")) << s;
  // No advice to place task_4 like the writers of A_tiles: that does not avoid a fold.
  EXPECT_FALSE(contains(s, "keep communicating pieces together")) << s;
  std::string text = e.request.mapper.text;
  const std::string split = "(2 * p[2] + p[0])", together = "(2 * p[0] + p[1])";
  text.replace(text.find(split), split.size(), together);
  EXPECT_LT(time_of("johnson", text, Scale::Published), 0.97 * e.result.outcome.time_s);
}

// COSMA's expert on p100x4: its (1, 2, 2) grid has two pieces of A for four GPUs, so putting
// both points of a piece on one GPU would idle two GPUs; the folds are the cheaper price.
TEST(Performance, FoldsThatWouldCostMoreToAvoidAreKept) {
  Explained e = explain_run("cosma", eval::expert_mapper(), Scale::Published);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_TRUE(contains(e.feedback.explanation, "A_tiles partial sums folded")) << e.feedback.explanation;
  const std::string s = suggestions(e.feedback);
  EXPECT_TRUE(contains(s, "keep the folds of A_tiles")) << s;
  EXPECT_TRUE(contains(s, "only 2 of the 4 GPUs would have work (2 pieces)")) << s;
  // The alternative it rejects is slower indeed: both k points of A(0, j) on GPU j.
  const std::string text =
      expert_with("cosma", "IndexTaskMap task_4 place_task_4;",
                  "def together(Task task) { return rank(task.ipoint[1]); }\nIndexTaskMap task_4 together;");
  EXPECT_GT(time_of("cosma", text, Scale::Published), e.result.outcome.time_s);
}

// Johnson's expert on 4 Lassen nodes: 64 points on 16 GPUs, 16 pieces of A. Putting each
// piece's 4 reducers on one GPU keeps every GPU busy but spreads B's and C's pieces over more
// GPUs than the folds it saves, which the suggestion says and the run confirms.
TEST(Performance, FoldsWhoseAvoidanceMovesMoreInputsAreKept) {
  eval::Request r = expert_on_lassen("johnson", 4);
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  const std::string s = suggestions(e.feedback);
  EXPECT_TRUE(contains(s, "keep the folds of A_tiles: placing the 4 points of task_4")) << s;
  EXPECT_TRUE(contains(s, "more of B_tiles and C_tiles per launch from other GPUs")) << s;
  r.mapper = eval::mapper_text(expert_with("johnson", "IndexTaskMap task_4 place_task_4;",
                                           "def together(Task task) {\n  p = task.ipoint;\n  s = task.ispace;\n"
                                           "  return rank((p[0] * s[1] + p[1]) * mgpu.volume / (s[0] * s[1]));\n}\n"
                                           "IndexTaskMap task_4 together;"),
                               "together.map");
  const eval::Result together = eval::evaluate(r);
  ASSERT_EQ(together.outcome.status, Status::Ok) << together.outcome.message;
  EXPECT_GT(together.outcome.time_s, e.result.outcome.time_s);
}

// SUMMA's expert on 4 Lassen nodes: the B and C tiles it copies are broadcast along rows and
// columns, each read by 4 GPUs of 2 nodes; no placement of a tile avoids copying it to the
// readers that do not hold it, and the advice says so instead of asking to keep pieces together.
TEST(Performance, CopiesOfPiecesSeveralProcessorsReadAreTheAlgorithms) {
  eval::Request r = expert_on_lassen("summa", 4);
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_EQ(e.feedback.category, Category::Copies);
  const std::string s = suggestions(e.feedback);
  EXPECT_TRUE(contains(s,
                       "the copies of B_gpus (task_4 reads each piece on 4 GPUs of 2 nodes, on average) and "
                       "C_gpus (task_4 reads each piece on 4 GPUs of 2 nodes, on average) are the algorithm's"))
      << s;
  EXPECT_FALSE(contains(s, "keep communicating pieces together")) << s;
}

// PUMMA's expert mapper on 8 Lassen nodes: the B tiles broadcast along rows between nodes
// keep the critical path waiting more than running.
// Cannon with the tiles placed every iteration: the copies of B and C are the algorithm's,
// but each iteration's first step need copy none of them. The placement tasks skewed as
// Cannon's initial skew (B(i,k) on GPU (i, k+i), C(k,j) on GPU (k+j, j) mod 2) put every piece
// where that step reads it: the hints name those skew placements, and with them (as
// mappers/examples/cannon_skew.map has them) no step waits for a copy.
TEST(Performance, FirstStepsWaitingForPlacedTilesAreSkewed) {
  eval::Request r = request_for("cannon", test_mapper("cannon_unskewed.map"), Scale::Published);
  r.place_every_iteration = true;
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_EQ(e.feedback.category, Category::Copies);
  const Hint* b = find_hint(e.feedback, Action::Placement, "task_2", "");
  const Hint* cc = find_hint(e.feedback, Action::Placement, "task_3", "");
  ASSERT_TRUE(b && cc) << suggestions(e.feedback);
  EXPECT_EQ(b->to, "skew 1+0");
  EXPECT_EQ(cc->to, "skew 0+1");
  EXPECT_TRUE(contains(suggestions(e.feedback), "so that each piece of B_gpus starts where task_4 first reads it"));
  eval::Request skewed = r;
  skewed.mapper = eval::mapper_text(
      read_text(std::filesystem::path(MAGE_SOURCE_DIR) / "mappers/examples/cannon_skew.map"), "cannon_skew.map");
  const eval::Result done = eval::evaluate(skewed);
  ASSERT_EQ(done.outcome.status, Status::Ok) << done.outcome.message;
  EXPECT_LT(done.outcome.time_s, 0.95 * e.result.outcome.time_s);
  EXPECT_LT(done.outcome.profile.critical_path.copy_s, 1e-3);
  // Placed once, the warm-up's copies stay and the first steps wait for nothing: no skew hint.
  Explained once = explain_run("cannon", test_mapper("cannon_unskewed.map"), Scale::Published);
  EXPECT_EQ(find_hint(once.feedback, Action::Placement, "task_2", ""), nullptr);
}

// Solomonik's placement launches are 3-D, (r, r, 1), and write B and C as tiles that task_4
// reads as chunks of other partitions: the skew is found by the data the pieces hold, and
// puts every tile where its chunk is first read (the p100x4 lower bound, 9.46 s). With c = 2
// layers (8 GPUs) a tile holds two chunks first read on different GPUs: no skew places both.
TEST(Performance, SolomoniksTilesAreSkewedWhereTheirChunksAreFirstRead) {
  eval::Request r = request_for("solomonik", test_mapper("solomonik_unskewed.map"), Scale::Published);
  r.place_every_iteration = true;
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_EQ(e.feedback.category, Category::Copies);
  const Hint* b = find_hint(e.feedback, Action::Placement, "task_2", "");
  const Hint* cc = find_hint(e.feedback, Action::Placement, "task_3", "");
  ASSERT_TRUE(b && cc) << suggestions(e.feedback);
  EXPECT_EQ(b->to, "skew 1+0");
  EXPECT_EQ(cc->to, "skew 0+1");
  EXPECT_TRUE(contains(suggestions(e.feedback), "each piece of B_tiles (read as B_chunks) starts where task_4 first"))
      << suggestions(e.feedback);
  eval::Request two = r;
  two.machine = "lassen";
  two.overrides.nodes = 2;
  Explained layers = explain_run(two);
  ASSERT_EQ(layers.result.outcome.status, Status::Ok) << layers.result.outcome.message;
  EXPECT_EQ(find_hint(layers.feedback, Action::Placement, "task_2", ""), nullptr) << suggestions(layers.feedback);
  EXPECT_EQ(find_hint(layers.feedback, Action::Placement, "task_3", ""), nullptr) << suggestions(layers.feedback);
}

// A piece one processor uses, put elsewhere by its placement task: the hint names the
// placement that puts every piece where its first user runs (by the digest of the processors,
// which tune's choices answer to), and the suggestion shows a point that moves.
TEST(Performance, TilesPutAwayFromTheirFirstUseArePlacedWhereItIs) {
  eval::Request r = placed_every_iteration_on_lassen("pumma", "pumma_default_tiles.map", 4);
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_EQ(e.feedback.category, Category::Copies);
  const Hint* h = find_hint(e.feedback, Action::Placement, "task_1", "");
  ASSERT_TRUE(h) << suggestions(e.feedback);
  // Tile (r, c) where task_4 accumulates into it: the 2 x 2 node grid and each node's 2 x 2
  // GPUs taken row-major, as the default placement deals out task_7's and task_5's points.
  EXPECT_EQ(h->to, places_on_gpus(4, 4, 4, [](int row, int col) {
              return std::pair{(row / 2) * 2 + col / 2, (row % 2) * 2 + col % 2};
            }));
  EXPECT_TRUE(contains(suggestions(e.feedback),
                       "place task_1's points where task_4 first uses their pieces of A_gpus: 8 of its 16 points put "
                       "theirs on another processor now, e.g. point (0,2) on node 1 GPU 0 instead of node 0 GPU 2"))
      << suggestions(e.feedback);
  // Placed so, no tile moves before its first use and the hint is gone.
  r.mapper = eval::mapper_text(test_mapper_text("pumma_default_tiles.map") +
                               "def where_used(Task task) {\n"
                               "  r = task.ipoint[0]; c = task.ipoint[1];\n"
                               "  return mgpu[(r / 2) * 2 + c / 2, (r % 2) * 2 + c % 2];\n}\n"
                               "IndexTaskMap task_1 where_used;\n");
  Explained placed = explain_run(r);
  ASSERT_EQ(placed.result.outcome.status, Status::Ok) << placed.result.outcome.message;
  EXPECT_LT(placed.result.outcome.time_s, e.result.outcome.time_s);
  EXPECT_EQ(find_hint(placed.feedback, Action::Placement, "task_1", ""), nullptr) << suggestions(placed.feedback);
}

// A piece several GPUs first read at once (SUMMA's C(k, c), read by both GPUs of a node's
// column c): placed on those GPUs in turn, C(0, c) on the first and C(1, c) on the second,
// which the space's row-major two-level rule does. Placed once, where a tile starts no longer
// matters after the warm-up: no such hint.
TEST(Performance, TilesSeveralProcessorsFirstReadStartOnThemInTurn) {
  eval::Request r = placed_every_iteration_on_lassen("summa", "summa_default_c.map", 2);
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_EQ(e.feedback.category, Category::Copies);
  const Hint* h = find_hint(e.feedback, Action::Placement, "task_3", "");
  ASSERT_TRUE(h) << suggestions(e.feedback);
  EXPECT_EQ(h->to, places_on_gpus(2, 2, 4, [](int row, int col) { return std::pair{col / 2, row * 2 + col % 2}; }));
  EXPECT_TRUE(contains(suggestions(e.feedback),
                       "place task_3's points so that each piece of C_gpus starts on a processor where task_4 first "
                       "reads it (in turn where several read it at once): 4 of its 8 points put theirs on another "
                       "processor now, e.g. point (0,2) on node 1 GPU 0 instead of node 0 GPU 2"))
      << suggestions(e.feedback);
  eval::Request once = r;
  once.place_every_iteration = false;
  Explained placed_once = explain_run(once);
  ASSERT_EQ(placed_once.result.outcome.status, Status::Ok) << placed_once.result.outcome.message;
  EXPECT_EQ(find_hint(placed_once.feedback, Action::Placement, "task_3", ""), nullptr)
      << suggestions(placed_once.feedback);
}

TEST(Performance, ACriticalPathMostlyWaitingSaysForWhat) {
  eval::Request r = expert_on_lassen("pumma", 8);
  Explained e = explain_run(r);
  ASSERT_EQ(e.result.outcome.status, Status::Ok) << e.result.outcome.message;
  EXPECT_EQ(e.feedback.category, Category::Waiting) << e.feedback.explanation;
  for (const char* word : {"runs tasks only", "for copies", "B_gpus FBMEM -> FBMEM between nodes", "task_4"})
    EXPECT_TRUE(contains(e.feedback.explanation, word)) << word << ": " << e.feedback.explanation;
  const sim::CriticalPath& cp = e.result.outcome.profile.critical_path;
  EXPECT_LT(cp.task_s, 0.5 * cp.length_s);
  EXPECT_FALSE(e.feedback.suggestions.empty());
}

TEST(Performance, TheDefaultCircuitMapperIsComputeBound) {
  Explained e = explain_run("circuit", eval::default_mapper(), Scale::Published);
  EXPECT_EQ(e.feedback.category, Category::ComputeBound);
  EXPECT_TRUE(contains(e.feedback.explanation, "calculate_new_currents")) << e.feedback.explanation;
  EXPECT_TRUE(e.feedback.hints.empty());
  EXPECT_TRUE(e.feedback.message.empty());
}

TEST(Performance, ExplainingIsDeterministic) {
  const eval::Request r = request_for("circuit", eval::expert_mapper(), Scale::Published);
  const eval::Result result = eval::evaluate(r);
  const Explainer explainer(r);
  EXPECT_EQ(explainer.explain(result).to_json().dump(), explainer.explain(result).to_json().dump());
  EXPECT_EQ(explainer.explain(result).to_json().dump(), explain(r, result).to_json().dump());
}

}  // namespace
}  // namespace mage::guide::test
