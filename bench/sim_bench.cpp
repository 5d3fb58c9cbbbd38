// Speed of the simulator (issue 4 §5): simulated point tasks per second for each program at
// the published scale with its expert mapper, on p100x4 and on lassen with 16 nodes.
//
// BM_Simulate: each iteration forks a child that calls sim::run once (SimGrid allows one
// simulation per process) and measures the CPU time of that call: SimGrid's start-up, the
// platform, the simulation and the report. Counters: tasks (point tasks per simulation),
// copies, and tasks_per_s = tasks / that CPU time — the simulator's speed, unaffected by
// other load on the machine and by the cost of forking.
//
// BM_Evaluation: a whole evaluation as the tuner runs it: compile and bind the mapper, apply
// it, eval::simulate (fork, simulate, JSON back). Counters: evaluations_per_min (wall
// clock) and, per evaluation, parent_cpu_ms and child_cpu_ms.
#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "apps/apps.h"
#include "dsl/dsl.h"
#include "eval/eval.h"
#include "machine/machine.h"
#include "mapping/mapping.h"
#include "program/program.h"
#include "sim/sim.h"

namespace {

using namespace mage;

std::string read_expert(const std::string& app) {
  std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/mappers/expert/" + app + ".map");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The ranks per node the app runs as (Johnson and COSMA: 4, as published).
int ranks_for(const std::string& app) { return apps::find(app)->ranks_per_node; }

struct Setup {
  machine::Machine machine;
  program::Program program;
  program::TaskGraph graph;
  std::string mapper_text;
  mapping::Plan plan;
  std::string error;
};

std::unique_ptr<Setup> setup(const std::string& app, const std::string& preset, int nodes) {
  auto s = std::make_unique<Setup>(Setup{
      machine::load(preset, {.nodes = nodes, .ranks_per_node = ranks_for(app)}), {}, {}, read_expert(app), {}, {}});
  apps::Params params;
  params.nodes = nodes;
  params.gpus_per_node = s->machine.procs_per_node(kinds::ProcKind::GPU);
  params.ranks_per_node = ranks_for(app);
  params.scale = apps::Scale::Published;
  try {
    s->program = apps::build(app, params);
  } catch (const std::exception& e) {
    s->error = e.what();
    return s;
  }
  s->graph = program::analyze(s->program);
  dsl::BindResult b = dsl::load_mapper(dsl::SourceFile{app + ".map", s->mapper_text}, mapping::shape_of(s->machine));
  if (!b.mapper) {
    s->error = "the expert mapper does not bind";
    return s;
  }
  mapping::ApplyResult r = mapping::apply(s->program, s->graph, s->machine, *b.mapper);
  if (const auto* e = std::get_if<mapping::MappingError>(&r))
    s->error = e->message;
  else
    s->plan = std::get<mapping::Plan>(r);
  return s;
}

double children_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct ChildRun {
  bool ok = false;
  double cpu_s = 0;  // of sim::run in the child
  double simulated_s = 0;
  double copies = 0;
};

// sim::run in a forked child, timed there.
ChildRun simulate_in_child(const Setup& s) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    close(fds[0]);
    const double t0 = process_cpu_s();
    sim::Outcome o = sim::run(s.program, s.graph, s.machine, s.plan);
    const double t1 = process_cpu_s();
    const std::string line = fmt::format("{} {:.9f} {:.9g} {}\n", o.ok() ? 1 : 0, t1 - t0, o.time_s, o.profile.copies);
    if (write(fds[1], line.data(), line.size()) < 0) std::_Exit(1);
    std::_Exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ChildRun r;
  int ok = 0;
  if (std::sscanf(text.c_str(), "%d %lf %lf %lf", &ok, &r.cpu_s, &r.simulated_s, &r.copies) == 4) r.ok = ok == 1;
  return r;
}

// One simulation of the expert plan.
void BM_Simulate(benchmark::State& state, const std::string& app, const std::string& preset, int nodes) {
  auto s = setup(app, preset, nodes);
  if (!s->error.empty()) {
    state.SkipWithError(s->error.c_str());
    return;
  }
  double cpu = 0;
  ChildRun last;
  for (auto _ : state) {
    last = simulate_in_child(*s);
    if (!last.ok) {
      state.SkipWithError("the simulation failed");
      return;
    }
    cpu += last.cpu_s;
  }
  const auto tasks = static_cast<double>(s->graph.size());
  state.counters["tasks"] = tasks;
  state.counters["copies"] = last.copies;
  state.counters["sim_cpu_ms"] = 1e3 * cpu / static_cast<double>(state.iterations());
  state.counters["tasks_per_s"] = cpu > 0 ? tasks * static_cast<double>(state.iterations()) / cpu : 0;
  state.SetLabel(fmt::format("{:.4g} s simulated", last.simulated_s));
}

// A whole evaluation: compile and bind the mapper, apply it, simulate in a child.
void BM_Evaluation(benchmark::State& state, const std::string& app, const std::string& preset, int nodes) {
  auto s = setup(app, preset, nodes);
  if (!s->error.empty()) {
    state.SkipWithError(s->error.c_str());
    return;
  }
  sim::Outcome last;
  const double child0 = children_cpu_s(), parent0 = process_cpu_s();
  for (auto _ : state) {
    dsl::BindResult b = dsl::load_mapper(dsl::SourceFile{app + ".map", s->mapper_text}, mapping::shape_of(s->machine));
    mapping::ApplyResult r = mapping::apply(s->program, s->graph, s->machine, *b.mapper);
    last = eval::simulate(s->program, s->graph, s->machine, std::get<mapping::Plan>(r), {}, eval::Limits{0, 0});
    if (!last.ok()) {
      state.SkipWithError(last.message.c_str());
      return;
    }
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["tasks"] = static_cast<double>(s->graph.size());
  state.counters["evaluations_per_min"] = benchmark::Counter(60.0 * runs, benchmark::Counter::kIsRate);
  state.counters["parent_cpu_ms"] = 1e3 * (process_cpu_s() - parent0) / runs;
  state.counters["child_cpu_ms"] = 1e3 * (children_cpu_s() - child0) / runs;
}

}  // namespace

#define MAGE_SIM_APPS(X) X(circuit) X(stencil) X(pennant) X(cannon) X(summa) X(pumma) X(johnson) X(solomonik) X(cosma)
#define MAGE_SIM(app)                                                                          \
  BENCHMARK_CAPTURE(BM_Simulate, app##_p100x4, std::string(#app), std::string("p100x4"), 1)    \
      ->Unit(benchmark::kMillisecond)                                                          \
      ->UseRealTime();                                                                         \
  BENCHMARK_CAPTURE(BM_Simulate, app##_lassen16, std::string(#app), std::string("lassen"), 16) \
      ->Unit(benchmark::kMillisecond)                                                          \
      ->UseRealTime()                                                                          \
      ->MinTime(2);                                                                            \
  BENCHMARK_CAPTURE(BM_Evaluation, app##_p100x4, std::string(#app), std::string("p100x4"), 1)  \
      ->Unit(benchmark::kMillisecond)                                                          \
      ->UseRealTime();
MAGE_SIM_APPS(MAGE_SIM)
