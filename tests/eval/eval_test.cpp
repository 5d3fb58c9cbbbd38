// One evaluation in a child process: every status, the limits, the test faults, request
// errors, determinism, the cache and the pool.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "../test_support.h"
#include "eval/eval.h"

namespace mage::eval {
namespace {

using sim::Status;

using mage::test::read_text;

std::string expert_file(const std::string& app) { return read_text(mage::test::expert_mapper_path(app)); }

Request small(const std::string& app, MapperSpec mapper = expert_mapper(), const std::string& machine = "p100x4") {
  Request r;
  r.app = app;
  r.machine = machine;
  r.scale = apps::Scale::Small;
  r.mapper = std::move(mapper);
  return r;
}

// Replaces the first occurrence of `from` in `text`.
std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// ---- Statuses -------------------------------------------------------------------------

TEST(Evaluate, ExpertMapperOnASmallApp) {
  Result r = evaluate(small("circuit"));
  ASSERT_EQ(r.outcome.status, Status::Ok) << r.outcome.message;
  EXPECT_EQ(r.outcome.message, "");
  EXPECT_GT(r.outcome.time_s, 0);
  EXPECT_EQ(r.outcome.metric_name, "iterations/s");
  EXPECT_GT(r.outcome.metric_value, 0);
  EXPECT_GT(r.outcome.profile.tasks, 0);
  EXPECT_FALSE(r.outcome.profile.processors.empty());
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_FALSE(r.cached);
  EXPECT_GT(r.timing.compile_s, 0);
  EXPECT_GT(r.timing.build_s, 0);
  EXPECT_GT(r.timing.apply_s, 0);
  EXPECT_GT(r.timing.simulate_s, 0);
  EXPECT_GE(r.timing.wall_s, r.timing.compile_s + r.timing.build_s + r.timing.apply_s + r.timing.simulate_s);
  EXPECT_TRUE(r.outcome.trace.events.empty());
}

TEST(Evaluate, EveryAppWithItsExpertMapper) {
  std::vector<Request> requests;
  for (const auto& a : apps::list()) requests.push_back(small(a.name));
  std::vector<Result> results = evaluate_many(requests);
  ASSERT_EQ(results.size(), requests.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome.status, Status::Ok) << requests[i].app << ": " << results[i].outcome.message;
    EXPECT_TRUE(results[i].diagnostics.empty()) << requests[i].app;
  }
}

// Solomonik on 64 GPUs (16 Lassen nodes), the published grid (8, 1, 8): the expert mapper
// and the identical example run at the published scale (the tiles fit the framebuffers) and
// sustain per node what one node does (weak scaling; every GPU stays busy).
TEST(Evaluate, Solomonik64GpusWeakScalesWithTheExpertMapper) {
  Request one;
  one.app = "solomonik";
  one.machine = "lassen";
  one.mapper = expert_mapper();
  Request sixteen = one;
  sixteen.overrides.nodes = 16;
  Request example = sixteen;
  example.mapper = mapper_text(read_text(std::string(MAGE_SOURCE_DIR) + "/mappers/examples/solomonik.map"),
                               "mappers/examples/solomonik.map");
  std::vector<Result> r = evaluate_many({one, sixteen, example});
  for (const Result& x : r) ASSERT_EQ(x.outcome.status, Status::Ok) << x.outcome.message;
  const double per_node_1 = r[0].outcome.metric_value;
  const double per_node_16 = r[1].outcome.metric_value / 16;
  EXPECT_EQ(r[1].outcome.metric_name, "GFLOP/s");
  EXPECT_NEAR(per_node_16 / per_node_1, 1.0, 0.05) << per_node_16 << " vs " << per_node_1 << " GFLOP/s per node";
  int gpus = 0;
  for (const auto& p : r[1].outcome.profile.processors) {
    gpus += p.kind == "GPU";
    EXPECT_GT(p.busy_fraction, 0.95) << p.processor;
  }
  EXPECT_EQ(gpus, 64);
  EXPECT_EQ(r[2].outcome.metric_value, r[1].outcome.metric_value);
}

TEST(Evaluate, DefaultMapper) {
  Result r = evaluate(small("stencil", default_mapper()));
  ASSERT_EQ(r.outcome.status, Status::Ok) << r.outcome.message;
  EXPECT_EQ(r.timing.compile_s, 0);
  EXPECT_GT(r.outcome.metric_value, 0);
}

TEST(Evaluate, MapperTextWithASyntaxErrorIsAMapperError) {
  Result r = evaluate(small("circuit", mapper_text("Task * GPU\nRegion * * GPU FBMEM;\n", "bad.map")));
  ASSERT_EQ(r.outcome.status, Status::MapperError);
  EXPECT_TRUE(contains(r.outcome.message, "bad.map:1:11: error: expected ';'")) << r.outcome.message;
  EXPECT_TRUE(contains(r.outcome.message, "\nTask * GPU\n          ^")) << r.outcome.message;  // source and caret
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_EQ(r.diagnostics[0].severity, dsl::Severity::Error);
  EXPECT_EQ(r.diagnostics[0].file, "bad.map");
  EXPECT_EQ(r.diagnostics[0].loc.line, 1);
  EXPECT_EQ(r.outcome.time_s, 0);
}

TEST(Evaluate, TopLevelStatementFailingOnTheMachineIsAMapperError) {
  // p100x4 has one node: Machine(GPU)[3, 0] does not exist.
  Result r = evaluate(small("circuit", mapper_text("m = Machine(GPU);\nx = m[3, 0];\n", "bind.map")));
  ASSERT_EQ(r.outcome.status, Status::MapperError);
  EXPECT_TRUE(contains(r.outcome.message, "bind.map:2:")) << r.outcome.message;
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_EQ(dsl::diag_name(r.diagnostics[0].id), "index_out_of_range");
}

TEST(Evaluate, UnknownTaskNamesAreWarningsAndTheEvaluationGoesOn) {
  Result r = evaluate(small("circuit", mapper_text("Task no_such_task GPU;\n", "warn.map")));
  ASSERT_EQ(r.outcome.status, Status::Ok) << r.outcome.message;
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].severity, dsl::Severity::Warning);
  EXPECT_TRUE(contains(r.diagnostics[0].message, "no_such_task")) << r.diagnostics[0].message;
}

TEST(Evaluate, PlacementOnACpuForAGpuTaskIsAMappingError) {
  const std::string text =
      "Task calculate_new_currents GPU;\n"
      "mcpu = Machine(CPU);\n"
      "def on_cpu(Task t) {\n"
      "  return mcpu[0, 0];\n"
      "}\n"
      "IndexTaskMap calculate_new_currents on_cpu;\n";
  Result r = evaluate(small("circuit", mapper_text(text, "cpu.map")));
  ASSERT_EQ(r.outcome.status, Status::MappingError) << r.outcome.message;
  EXPECT_TRUE(contains(r.outcome.message, "cpu.map:6")) << r.outcome.message;
  EXPECT_TRUE(contains(r.outcome.message, "calculate_new_currents")) << r.outcome.message;
}

TEST(Evaluate, FOrderForCannonsDgemmIsAnExecutionError) {
  const std::string text = replace(expert_file("cannon"), "C_order", "F_order");
  Result r = evaluate(small("cannon", mapper_text(text, "cannon_f.map")));
  ASSERT_EQ(r.outcome.status, Status::ExecutionError) << r.outcome.message;
  EXPECT_TRUE(contains(r.outcome.message, "layout mismatch")) << r.outcome.message;
  EXPECT_TRUE(contains(r.outcome.message, "is F_order, C_order required")) << r.outcome.message;
}

// ---- Simulator failures -----------------------------------------------------------------

Result with_fault(Fault f, Limits limits = {}) {
  Request r = small("circuit");
  r.debug_fault = f;
  return evaluate(r, limits);
}

TEST(SimulatorFailure, Crash) {
  Result r = with_fault(Fault::Crash);
  EXPECT_EQ(r.outcome.status, Status::SimulatorFailure);
  EXPECT_EQ(r.outcome.message, "simulator crashed: Segmentation fault");
}

TEST(SimulatorFailure, HangEndsAtTheTimeLimit) {
  const auto start = std::chrono::steady_clock::now();
  Result r = with_fault(Fault::Hang, Limits{.time_s = 0.3, .memory_bytes = 0});
  EXPECT_EQ(r.outcome.status, Status::SimulatorFailure);
  EXPECT_EQ(r.outcome.message,
            "simulator exceeded the time limit of 0.3 s (--time-limit S raises it, --time-limit 0 lifts it)");
  EXPECT_GE(r.timing.wall_s, 0.3);
  EXPECT_LT(seconds_since(start), 5.0);
}

TEST(SimulatorFailure, AnEvaluationLongerThanTheLimit) {
  Request q = small("pennant");
  q.scale = apps::Scale::Published;
  Result r = evaluate(q, Limits{.time_s = 0.001, .memory_bytes = 0});
  EXPECT_EQ(r.outcome.status, Status::SimulatorFailure);
  EXPECT_EQ(r.outcome.message,
            "simulator exceeded the time limit of 0.001 s (--time-limit S raises it, --time-limit 0 lifts it)");
}

TEST(SimulatorFailure, GarbageIsMalformedOutput) {
  Result r = with_fault(Fault::Garbage);
  EXPECT_EQ(r.outcome.status, Status::SimulatorFailure);
  EXPECT_TRUE(contains(r.outcome.message, "malformed simulator output")) << r.outcome.message;
}

TEST(SimulatorFailure, ExitWithoutAResult) {
  Result r = with_fault(Fault::Silent);
  EXPECT_EQ(r.outcome.status, Status::SimulatorFailure);
  EXPECT_EQ(r.outcome.message, "simulator exited with status 3 and no result");
}

TEST(SimulatorFailure, MemoryExhaustion) {
  Result r = with_fault(Fault::Exhaust, Limits{.time_s = 30, .memory_bytes = uint64_t{512} << 20});
  EXPECT_EQ(r.outcome.status, Status::SimulatorFailure);
  EXPECT_EQ(r.outcome.message,
            "simulator exceeded the memory limit of 512 MiB (--memory-limit GIB raises it, --memory-limit 0 lifts it)");
}

TEST(SimulatorFailure, TheParentGoesOnAfterEveryFailure) {
  for (Fault f : {Fault::Crash, Fault::Garbage, Fault::Silent}) EXPECT_FALSE(with_fault(f).outcome.ok());
  EXPECT_EQ(evaluate(small("circuit")).outcome.status, Status::Ok);
}

// ---- Progress ----------------------------------------------------------------------------

std::vector<Progress> progress_of(const Request& q, Limits limits = {}, Cache* cache = nullptr,
                                  Result* result = nullptr) {
  std::vector<Progress> seen;
  Result r = evaluate(q, limits, cache, [&](const Progress& p) { seen.push_back(p); });
  if (result) *result = std::move(r);
  return seen;
}

TEST(Progress, PhasesInOrderSimulationMonotoneAndTheResultUnchanged) {
  // About a second of simulation: a few of the simulator's reports.
  Request q = small("pennant");
  q.scale = apps::Scale::Published;
  q.iterations = 2000;
  // 220,000 tasks take about 25 s under ASan on a 2-core machine: past the default 30 s limit
  // when the machine is busy, so this test sets its own.
  Limits limits;
  limits.time_s = 300;
  Result with;
  const std::vector<Progress> seen = progress_of(q, limits, nullptr, &with);
  ASSERT_EQ(with.outcome.status, Status::Ok) << with.outcome.message;
  ASSERT_FALSE(seen.empty());
  // (Reports that arrive together are given as the latest: the first may be past Compiling.)
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].phase, seen[i - 1].phase) << i;
    EXPECT_GE(seen[i].elapsed_s, seen[i - 1].elapsed_s) << i;
    EXPECT_GE(seen[i].simulation.simulated_s, seen[i - 1].simulation.simulated_s) << i;
    EXPECT_GE(seen[i].simulation.tasks_done, seen[i - 1].simulation.tasks_done) << i;
  }
  int simulator_reports = 0;
  for (const Progress& p : seen) {
    EXPECT_LE(p.simulation.tasks_done, p.simulation.tasks_total);
    if (p.phase == Phase::Simulating && p.simulation.tasks_total > 0) {
      ++simulator_reports;
      EXPECT_EQ(p.simulation.tasks_total, with.outcome.profile.tasks);
      EXPECT_GT(p.simulation.simulated_s, 0);
    }
  }
  EXPECT_GE(simulator_reports, 1) << "simulated in " << with.timing.simulate_s << " s";
  // Reported at least every 0.2 s while the child runs (a generous bound for a loaded machine).
  EXPECT_GE(static_cast<double>(seen.size()), with.timing.wall_s / 0.2 * 0.5);
  EXPECT_EQ(evaluate(q, limits).to_json().dump(), with.to_json().dump());
}

TEST(Progress, NoneForACacheHit) {
  Cache cache;
  const Request q = small("circuit");
  EXPECT_FALSE(progress_of(q, {}, &cache).empty());
  Result hit;
  EXPECT_TRUE(progress_of(q, {}, &cache, &hit).empty());
  EXPECT_TRUE(hit.cached);
}

TEST(Progress, AChildThatIsKilledOrCrashesIsReportedAsWithout) {
  Request q = small("circuit");
  q.debug_fault = Fault::Hang;
  Result r;
  const std::vector<Progress> seen = progress_of(q, Limits{.time_s = 0.7, .memory_bytes = 0}, nullptr, &r);
  EXPECT_TRUE(contains(r.outcome.message, "simulator exceeded the time limit of 0.7 s")) << r.outcome.message;
  // No report from the child (it hangs before the pipeline), yet the parent's ticks.
  EXPECT_GE(seen.size(), 2u);
  for (const Progress& p : seen) EXPECT_EQ(p.phase, Phase::Compiling);
  q.debug_fault = Fault::Crash;
  progress_of(q, {}, nullptr, &r);
  EXPECT_EQ(r.outcome.message, "simulator crashed: Segmentation fault");
}

TEST(Progress, PhaseNames) {
  EXPECT_EQ(to_string(Phase::Compiling), "compiling the mapper");
  EXPECT_EQ(to_string(Phase::Building), "building the program");
  EXPECT_EQ(to_string(Phase::Mapping), "mapping");
  EXPECT_EQ(to_string(Phase::Simulating), "simulating");
}

// ---- Requests ----------------------------------------------------------------------------

TEST(Request, ErrorsBeforeAnyChild) {
  EXPECT_THROW(evaluate(small("fft")), RequestError);
  EXPECT_THROW(evaluate(small("circuit", expert_mapper(), "no_such_machine")), RequestError);
  EXPECT_THROW(evaluate(small("circuit", expert_mapper(), "/no/such/file.toml")), RequestError);
  Request grid = small("cannon", expert_mapper(), std::string(MAGE_SOURCE_DIR) + "/tests/data/machines/tiny.toml");
  try {
    evaluate(grid);
    ADD_FAILURE() << "no RequestError";
  } catch (const RequestError& e) {
    EXPECT_TRUE(contains(e.what(), "cannon: needs 4 GPUs per node")) << e.what();
  }
  try {
    evaluate_many({small("circuit"), small("fft")});
    ADD_FAILURE() << "no RequestError";
  } catch (const RequestError& e) {
    EXPECT_TRUE(contains(e.what(), "request 1: unknown app 'fft'")) << e.what();
  }
}

TEST(Request, MachineOverridesAndExplicitParams) {
  Request r = small("stencil", expert_mapper(), "lassen");
  r.overrides.nodes = 2;
  Result two = evaluate(r);
  ASSERT_EQ(two.outcome.status, Status::Ok) << two.outcome.message;
  bool node1 = false;
  for (const auto& p : two.outcome.profile.processors) node1 = node1 || contains(p.processor, "node 1 ");
  EXPECT_TRUE(node1);

  apps::Params params;
  params.nodes = 2;
  params.gpus_per_node = 4;
  params.scale = apps::Scale::Small;
  params.iterations = 2;
  r.params = params;
  Result explicit_params = evaluate(r);
  ASSERT_EQ(explicit_params.outcome.status, Status::Ok) << explicit_params.outcome.message;
  EXPECT_NE(cache_key(r), cache_key(small("stencil", expert_mapper(), "lassen")));
}

// Cannon's expert without CollectMemory keeps every tile the warm-up copied: placed once (the
// default), it copies nothing in the timed iterations and beats the expert by 1.17x; placed
// again before every iteration, as DISTAL's drivers do, it copies the tiles again (all but
// those its first steps find in place) and keeps under 2% of its gain. The expert collects its
// copies anyway: the same time both ways. The option is part of the cache key, and the other
// programs refuse it.
TEST(Request, PlacingEveryIterationCopiesTheTilesAgain) {
  Request kept;
  kept.app = "cannon";
  kept.mapper = mapper_text(replace(expert_file("cannon"), "CollectMemory task_4 *;", ""), "kept.map");
  Request expert = kept;
  expert.mapper = expert_mapper();
  Request kept_every = kept, expert_every = expert;
  kept_every.place_every_iteration = expert_every.place_every_iteration = true;
  const Result a = evaluate(kept), b = evaluate(expert), c = evaluate(kept_every), d = evaluate(expert_every);
  for (const Result* r : {&a, &b, &c, &d}) ASSERT_EQ(r->outcome.status, Status::Ok) << r->outcome.message;
  auto moved = [](const Result& r) {
    const sim::ChannelBytes& m = r.outcome.profile.bytes_moved;
    return m.intra_gpu + m.gpu_host + m.host_host + m.inter_node;
  };
  EXPECT_EQ(moved(a), 0);
  EXPECT_GT(moved(b), 0);
  EXPECT_LT(a.outcome.time_s, 0.9 * b.outcome.time_s);
  EXPECT_GT(moved(c), 0.8 * moved(b));
  EXPECT_LE(moved(c), moved(b));
  EXPECT_GT(c.outcome.time_s, 0.98 * b.outcome.time_s);
  EXPECT_LE(c.outcome.time_s, b.outcome.time_s);
  EXPECT_NEAR(d.outcome.time_s, b.outcome.time_s, 1e-3 * b.outcome.time_s);
  EXPECT_NE(cache_key(kept), cache_key(kept_every));

  Request circuit = small("circuit");
  circuit.place_every_iteration = true;
  try {
    evaluate(circuit);
    ADD_FAILURE() << "circuit placed its inputs every iteration";
  } catch (const RequestError& e) {
    EXPECT_TRUE(contains(e.what(), "circuit: placing the inputs every iteration applies to the matrix multiplications"))
        << e.what();
  }
}

// mappers/examples/cannon_skew.map (task_4 on its parent's GPU, the tiles placed with
// Cannon's initial skew) reaches the p100x4 bound (every GPU busy 10 x 946 ms) with the tiles
// placed every iteration too: each step's tiles are in place or arrive during the step before.
TEST(Request, CannonsInitialSkewHidesEveryCopyUnderTheDriversLoop) {
  Request skew;
  skew.app = "cannon";
  skew.place_every_iteration = true;
  skew.mapper =
      mapper_text(read_text(std::string(MAGE_SOURCE_DIR) + "/mappers/examples/cannon_skew.map"), "cannon_skew.map");
  Request expert = skew;
  expert.mapper = expert_mapper();
  const Result s = evaluate(skew), e = evaluate(expert);
  ASSERT_EQ(s.outcome.status, Status::Ok) << s.outcome.message;
  ASSERT_EQ(e.outcome.status, Status::Ok) << e.outcome.message;
  EXPECT_NEAR(s.outcome.time_s, 9.4565, 0.01);
  EXPECT_GT(e.outcome.time_s / s.outcome.time_s, 1.15);
  EXPECT_LT(s.outcome.profile.critical_path.copy_s, 1e-3);
}

// Johnson and COSMA run as 4 ranks per node unless the request or the machine file says
// otherwise (apps::AppInfo::ranks_per_node); the other apps as the machine says.
TEST(Request, AppsPreferredRanksPerNodeAreTheDefault) {
  Request johnson = small("johnson", expert_mapper(), "lassen");
  Resolved d = resolve(johnson);
  EXPECT_TRUE(d.ranks_from_app);
  EXPECT_EQ(d.machine->ranks_per_node(), 4);
  EXPECT_EQ(d.machine->ranks(), 4);
  EXPECT_EQ(d.params.ranks_per_node, 4);
  EXPECT_EQ(d.params.gpus_per_node, 4);
  EXPECT_EQ(d.overrides.ranks_per_node, 4);
  EXPECT_EQ(resolve(small("cosma")).machine->ranks_per_node(), 4);

  // An explicit --ranks-per-node wins, even 1.
  for (int ranks : {1, 2, 4}) {
    Request r = johnson;
    r.overrides.ranks_per_node = ranks;
    Resolved e = resolve(r);
    EXPECT_FALSE(e.ranks_from_app) << ranks;
    EXPECT_EQ(e.machine->ranks_per_node(), ranks);
    EXPECT_EQ(e.params.ranks_per_node, ranks);
  }
  // The other apps keep the machine's.
  for (const char* app : {"circuit", "cannon", "solomonik"}) {
    Resolved o = resolve(small(app, expert_mapper(), "lassen"));
    EXPECT_FALSE(o.ranks_from_app) << app;
    EXPECT_EQ(o.machine->ranks_per_node(), 1) << app;
    EXPECT_FALSE(o.overrides.ranks_per_node) << app;
  }

  // The default is the same request as the explicit 4: same key, same outcome; 1 differs (on
  // 2 nodes: on one, the expert places every tile on the GPU of its point either way).
  johnson.overrides.nodes = 2;
  Request four = johnson, one = johnson;
  four.overrides.ranks_per_node = 4;
  one.overrides.ranks_per_node = 1;
  EXPECT_EQ(cache_key(johnson), cache_key(four));
  EXPECT_NE(cache_key(johnson), cache_key(one));
  std::vector<Result> r = evaluate_many({johnson, four, one});
  for (const Result& x : r) ASSERT_EQ(x.outcome.status, Status::Ok) << x.outcome.message;
  EXPECT_EQ(r[0].outcome.to_json().dump(), r[1].outcome.to_json().dump());
  EXPECT_NE(r[0].outcome.to_json().dump(), r[2].outcome.to_json().dump());
}

TEST(Request, MachineFilesRanksPerNodeBeatTheAppsPreference) {
  const std::string p100 = read_text(std::string(MAGE_SOURCE_DIR) + "/machines/p100x4.toml");
  const auto dir = std::filesystem::temp_directory_path() / ("mage_ranks_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // A file that sets 2 ranks per node keeps them.
  const std::string two = (dir / "two_ranks.toml").string();
  std::ofstream(two) << replace(p100, "ranks_per_node = 1", "ranks_per_node = 2");
  Resolved r = resolve(small("johnson", expert_mapper(), two));
  EXPECT_FALSE(r.ranks_from_app);
  EXPECT_EQ(r.machine->ranks_per_node(), 2);
  EXPECT_EQ(r.params.ranks_per_node, 2);

  // A machine that cannot run 4 ranks per node: a clear error naming the app's default.
  const std::string gpus2 = (dir / "two_gpus.toml").string();
  std::ofstream(gpus2) << replace(replace(p100, "nodes = 1", "nodes = 2"), "kind = \"GPU\"\ncount = 4",
                                  "kind = \"GPU\"\ncount = 2");
  try {
    resolve(small("johnson", expert_mapper(), gpus2));
    ADD_FAILURE() << "no RequestError";
  } catch (const RequestError& e) {
    EXPECT_TRUE(contains(e.what(), "johnson runs as 4 ranks per node by default, which this machine cannot"))
        << e.what();
    EXPECT_TRUE(contains(e.what(), "does not divide the node's 2 GPU processors")) << e.what();
  }
  // Told otherwise, it runs (2 nodes x 2 GPUs = 4 GPUs, one rank per node).
  Request explicit_one = small("johnson", expert_mapper(), gpus2);
  explicit_one.overrides.ranks_per_node = 1;
  EXPECT_EQ(evaluate(explicit_one).outcome.status, Status::Ok);
  std::filesystem::remove_all(dir);
}

TEST(Request, MachineFromAFile) {
  Request r = small("circuit", expert_mapper(), std::string(MAGE_SOURCE_DIR) + "/machines/p100x4.toml");
  Result from_file = evaluate(r);
  Result preset = evaluate(small("circuit"));
  ASSERT_EQ(from_file.outcome.status, Status::Ok) << from_file.outcome.message;
  EXPECT_EQ(from_file.outcome.to_json().dump(), preset.outcome.to_json().dump());
}

TEST(Request, TraceComesBackThroughThePipe) {
  Request r = small("circuit");
  r.options.trace = true;
  Result res = evaluate(r);
  ASSERT_EQ(res.outcome.status, Status::Ok) << res.outcome.message;
  EXPECT_FALSE(res.outcome.trace.rows.empty());
  EXPECT_FALSE(res.outcome.trace.events.empty());
  nlohmann::json chrome = sim::chrome_trace(res.outcome.trace);
  EXPECT_FALSE(chrome["traceEvents"].empty());
}

TEST(Request, MapperLogLines) {
  const std::string text = replace(expert_file("circuit"), "  ip = task.ipoint;\n",
                                   "  ip = task.ipoint;\n  print(\"placing {}\", ip[0]);\n");
  Result r = evaluate(small("circuit", mapper_text(text, "log.map")));
  ASSERT_EQ(r.outcome.status, Status::Ok) << r.outcome.message;
  ASSERT_FALSE(r.mapper_log.empty());
  EXPECT_EQ(r.mapper_log[0], "placing 0");
}

// ---- Data --------------------------------------------------------------------------------

TEST(Data, EmbeddedExpertMappersAreTheFiles) {
  for (const auto& a : apps::list()) {
    auto text = expert_mapper_text(a.name);
    ASSERT_TRUE(text) << a.name;
    EXPECT_EQ(*text, expert_file(a.name)) << a.name;
  }
  EXPECT_FALSE(expert_mapper_text("fft"));
}

TEST(Data, ResultJsonRoundTrip) {
  Request q = small("cannon");
  q.options.trace = true;
  Result r = evaluate(q);
  r.diagnostics.push_back(dsl::Diagnostic{
      dsl::DiagId::division_by_zero, dsl::Severity::Warning, "x.map", {3, 4}, "division by zero", {"a note"}});
  Result back = result_from_json(nlohmann::json::parse(result_to_json(r).dump()));
  EXPECT_EQ(result_to_json(back).dump(), result_to_json(r).dump());
  EXPECT_EQ(back.outcome.trace.events.size(), r.outcome.trace.events.size());
  EXPECT_EQ(back.diagnostics[0].id, dsl::DiagId::division_by_zero);
  EXPECT_EQ(back.diagnostics[0].notes, std::vector<std::string>{"a note"});
}

TEST(Data, ToJsonKeys) {
  nlohmann::ordered_json j = evaluate(small("circuit")).to_json();
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"status", "message", "time_s", "metric_name", "metric_value", "profile",
                                            "diagnostics", "mapper_log"}));
}

// ---- Determinism, the cache and the pool --------------------------------------------------

TEST(Determinism, SameRequestSameOutcome) {
  for (const char* app : {"circuit", "pennant", "summa"}) {
    Request r = small(app);
    r.overrides.nodes = 2;
    r.machine = "lassen";
    EXPECT_EQ(evaluate(r).outcome.to_json().dump(), evaluate(r).outcome.to_json().dump()) << app;
  }
}

TEST(CacheKey, ChangesWithEverythingThatDecidesTheOutcome) {
  const Request base = small("circuit");
  const std::string key = cache_key(base);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(key, cache_key(small("circuit")));
  std::vector<Request> variants(7, base);
  variants[0].app = "stencil";
  variants[1].mapper = default_mapper();
  variants[2].mapper = mapper_text(std::string(*expert_mapper_text("circuit")), "mappers/expert/circuit.map");
  variants[3].overrides.nodes = 2;
  variants[4].scale = apps::Scale::Published;
  variants[5].options.trace = true;
  variants[6].iterations = 3;
  std::set<std::string> keys{key};
  for (const Request& v : variants) keys.insert(cache_key(v));
  // The expert as text under the expert's file name is the same content.
  EXPECT_EQ(cache_key(variants[2]), key);
  EXPECT_EQ(keys.size(), variants.size());
  EXPECT_FALSE(model_version().empty());
}

TEST(Cache, HitsReturnIdenticalResults) {
  Cache cache;
  Result first = evaluate(small("circuit"), {}, &cache);
  EXPECT_FALSE(first.cached);
  EXPECT_EQ(cache.misses(), 1);
  Result second = evaluate(small("circuit"), {}, &cache);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(second.to_json(true).dump(), first.to_json(true).dump());
  EXPECT_EQ(evaluate(small("circuit", default_mapper()), {}, &cache).cached, false);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(Cache, MapperErrorsAreCachedSimulatorFailuresAreNot) {
  Cache cache;
  evaluate(small("circuit", mapper_text("x = ;", "e.map")), {}, &cache);
  EXPECT_TRUE(evaluate(small("circuit", mapper_text("x = ;", "e.map")), {}, &cache).cached);
  Request crash = small("circuit");
  crash.debug_fault = Fault::Crash;
  evaluate(crash, {}, &cache);
  EXPECT_FALSE(evaluate(crash, {}, &cache).cached);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(Cache, PersistsToADirectory) {
  const std::filesystem::path dir = std::filesystem::path(MAGE_BINARY_DIR) / "test_eval_cache";
  std::filesystem::remove_all(dir);
  Result first;
  {
    Cache cache(dir);
    first = evaluate(small("stencil"), {}, &cache);
  }
  const std::string key = cache_key(small("stencil"));
  ASSERT_TRUE(std::filesystem::exists(dir / (key + ".json")));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temporary file left behind
  {
    Cache cache(dir);
    Result again = evaluate(small("stencil"), {}, &cache);
    EXPECT_TRUE(again.cached);
    EXPECT_EQ(again.to_json(true).dump(), first.to_json(true).dump());
  }
  {
    std::ofstream(dir / (key + ".json")) << "{ not json";
    Cache cache(dir);
    EXPECT_FALSE(cache.find(key));
    EXPECT_FALSE(evaluate(small("stencil"), {}, &cache).cached);  // evaluated again and rewritten
    Cache reread(dir);
    EXPECT_TRUE(reread.find(key));
  }
  std::filesystem::remove_all(dir);
}

TEST(Pool, ResultsInRequestOrder) {
  std::vector<Request> requests;
  for (const char* app : {"pennant", "circuit", "cannon", "stencil", "cosma", "circuit"})
    requests.push_back(small(app));
  requests.push_back(small("circuit", mapper_text("x = ;", "e.map")));
  requests.push_back(small("cannon", default_mapper()));
  std::vector<Result> many = evaluate_many(requests, 3);
  ASSERT_EQ(many.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(many[i].outcome.to_json().dump(), evaluate(requests[i]).outcome.to_json().dump()) << i;
  EXPECT_EQ(many[6].outcome.status, Status::MapperError);
  EXPECT_EQ(many[7].outcome.status, Status::ExecutionError);
}

TEST(Pool, RunsChildrenAtTheSameTime) {
  // Four children that each hang until a 1 s limit: about 1 s with four workers, 4 s with one.
  std::vector<Request> requests(4, small("circuit"));
  for (Request& r : requests) r.debug_fault = Fault::Hang;
  const auto start = std::chrono::steady_clock::now();
  std::vector<Result> results = evaluate_many(requests, 4, Limits{.time_s = 1, .memory_bytes = 0});
  EXPECT_LT(seconds_since(start), 2.5);
  for (const Result& r : results)
    EXPECT_EQ(r.outcome.message,
              "simulator exceeded the time limit of 1 s (--time-limit S raises it, --time-limit 0 lifts it)");
}

TEST(Pool, IdenticalRequestsInABatchRunOnceWithACache) {
  Cache cache;
  std::vector<Request> requests(3, small("circuit"));
  requests.push_back(small("stencil"));
  std::vector<Result> results = evaluate_many(requests, 2, {}, &cache);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(results[0].cached);
  EXPECT_TRUE(results[1].cached);
  EXPECT_TRUE(results[2].cached);
  EXPECT_EQ(results[1].outcome.to_json().dump(), results[0].outcome.to_json().dump());
  EXPECT_EQ(results[3].outcome.to_json().dump(), evaluate(small("stencil")).outcome.to_json().dump());
}

TEST(Stream, EachResultAsItsChildEnds) {
  // A quick evaluation behind a slow one is handed over first, while the slow one runs.
  std::vector<Request> requests{small("circuit"), small("stencil")};
  requests[0].debug_fault = Fault::Hang;
  std::vector<size_t> order;
  std::vector<Result> results(2);
  const bool all = evaluate_each(
      requests,
      [&](size_t i, Result r) {
        order.push_back(i);
        results[i] = std::move(r);
      },
      2, Limits{.time_s = 1, .memory_bytes = 0});
  EXPECT_TRUE(all);
  EXPECT_EQ(order, (std::vector<size_t>{1, 0}));
  EXPECT_EQ(results[1].outcome.status, Status::Ok);
  EXPECT_EQ(results[0].outcome.message,
            "simulator exceeded the time limit of 1 s (--time-limit S raises it, --time-limit 0 lifts it)");
}

TEST(Stream, CacheHitsFirstAndDuplicatesWithTheirFirst) {
  Cache cache;
  evaluate(small("stencil"), {}, &cache);
  std::vector<Request> requests{small("circuit"), small("stencil"), small("circuit")};
  std::vector<std::pair<size_t, bool>> seen;  // (request, cached)
  evaluate_each(
      requests, [&](size_t i, Result r) { seen.emplace_back(i, r.cached); }, 2, {}, &cache);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::make_pair(size_t{1}, true));
  // The duplicate is reported with the request it duplicates, marked cached.
  using Seen = std::set<std::pair<size_t, bool>>;
  const Seen expected{{0, false}, {2, true}};
  EXPECT_EQ(Seen(seen.begin() + 1, seen.end()), expected);
}

TEST(Stream, StopKillsTheRunningChildrenAndDropsTheRest) {
  // Two hanging children and two more waiting: stopping after the first quick result ends
  // everything at once, well before the 20 s limit.
  std::vector<Request> requests{small("circuit"), small("stencil"), small("circuit"), small("pennant")};
  requests[0].debug_fault = Fault::Hang;
  requests[2].debug_fault = Fault::Hang;
  std::vector<size_t> seen;
  const auto start = std::chrono::steady_clock::now();
  const bool all = evaluate_each(
      requests, [&](size_t i, Result) { seen.push_back(i); }, 2, Limits{.time_s = 20, .memory_bytes = 0}, nullptr,
      [&] { return !seen.empty(); });
  EXPECT_FALSE(all);
  EXPECT_LT(seconds_since(start), 5);
  EXPECT_EQ(seen, (std::vector<size_t>{1}));
}

TEST(Stream, RequestErrorsBeforeAnyChild) {
  std::vector<Request> requests{small("circuit"), small("no_such_app")};
  int calls = 0;
  EXPECT_THROW(evaluate_each(requests, [&](size_t, Result) { ++calls; }), RequestError);
  EXPECT_EQ(calls, 0);
}

// ---- The point-task limit (issue 14 §1) ---------------------------------------------------

// The estimate is the size of the task graph the child builds, for every app, with the
// default iterations and with more than the two it extrapolates from.
TEST(TaskLimit, PointTasksIsTheTaskGraphsSize) {
  for (const apps::AppInfo& app : apps::list())
    for (apps::Scale scale : {apps::Scale::Small, apps::Scale::Published})
      for (std::optional<int> iterations : {std::optional<int>(), std::optional<int>(1), std::optional<int>(7)}) {
        Request r = small(app.name);
        r.scale = scale;
        r.iterations = iterations;
        const Resolved resolved = resolve(r);
        const program::Program p = apps::build(app.name, resolved.params);
        const int64_t tasks = static_cast<int64_t>(program::analyze(p).size());
        EXPECT_EQ(point_tasks(r), tasks) << app.name << " iterations " << iterations.value_or(0);
      }
}

TEST(TaskLimit, HugeIterationsAreEstimatedWithoutBuildingThem) {
  Request r = small("circuit");
  r.scale = apps::Scale::Published;
  r.iterations = 1'000'000'000;
  const auto start = std::chrono::steady_clock::now();
  const int64_t tasks = point_tasks(r);
  EXPECT_LT(seconds_since(start), 5);
  r.iterations = 1;
  const int64_t one = point_tasks(r);
  r.iterations = 2;
  EXPECT_EQ(tasks, one + (point_tasks(r) - one) * 999'999'999);
  r.iterations = 1'000'000'000;
  try {
    check_limits(r, Limits{});
    ADD_FAILURE() << "no LimitError";
  } catch (const LimitError& e) {
    EXPECT_EQ(std::string(e.what()),
              "circuit with 1000000000 timed iterations on 1 node would run about 12,000,000,009 point tasks, more "
              "than the limit of 10,000,000 (--task-limit N raises it, --task-limit 0 lifts it)");
  }
  EXPECT_NO_THROW(check_limits(r, Limits{.point_tasks = 0}));
  EXPECT_NO_THROW(check_limits(r, Limits{.point_tasks = tasks}));
  EXPECT_THROW(check_limits(r, Limits{.point_tasks = tasks - 1}), LimitError);
}

TEST(TaskLimit, EvaluateRefusesBeforeAnyChild) {
  Request r = small("stencil");
  const int64_t tasks = point_tasks(r);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(evaluate(r, Limits{.point_tasks = tasks - 1}), LimitError);
  int calls = 0;
  EXPECT_THROW(evaluate_each(
                   {small("circuit"), r}, [&](size_t, Result) { ++calls; }, 1, Limits{.point_tasks = tasks - 1}),
               LimitError);
  EXPECT_EQ(calls, 0);
  EXPECT_LT(seconds_since(start), 5);
  EXPECT_EQ(evaluate(r, Limits{.point_tasks = tasks}).outcome.status, Status::Ok);
}

}  // namespace
}  // namespace mage::eval
