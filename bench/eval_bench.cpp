// Speed of whole evaluations (issue 4 §5): eval::evaluate of the expert mapper at the
// published scale on p100x4 — compile, build, analyze, apply and simulate in a forked
// child, the Result back as JSON — as an optimizer runs them. Target: at least 1,000
// evaluations per minute per core.
//
// Counters: evaluations_per_min (wall clock; one evaluation at a time, so one core),
// evaluations_per_cpu_min (the children's CPU time only), tasks (point tasks simulated).
// BM_EvaluateMany runs a batch of 8 with one worker per hardware thread.
#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <chrono>
#include <thread>

#include "eval/eval.h"

namespace {

using namespace mage;

double children_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

eval::Request expert_request(const std::string& app) {
  eval::Request r;
  r.app = app;
  r.machine = "p100x4";
  r.scale = apps::Scale::Published;
  r.mapper = eval::expert_mapper();
  return r;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

void BM_Evaluate(benchmark::State& state, const std::string& app) {
  const eval::Request request = expert_request(app);
  eval::Result last;
  const double cpu0 = children_cpu_s();
  const double start = now_s();
  for (auto _ : state) {
    last = eval::evaluate(request);
    if (!last.outcome.ok()) {
      state.SkipWithError(last.outcome.message.c_str());
      return;
    }
  }
  const double wall = now_s() - start;
  const double runs = static_cast<double>(state.iterations());
  const double cpu = children_cpu_s() - cpu0;
  state.counters["tasks"] = static_cast<double>(last.outcome.profile.tasks);
  state.counters["evaluations_per_min"] = wall > 0 ? 60 * runs / wall : 0;
  state.counters["evaluations_per_cpu_min"] = cpu > 0 ? 60 * runs / cpu : 0;
}

void BM_EvaluateMany(benchmark::State& state, const std::string& app) {
  const std::vector<eval::Request> batch(8, expert_request(app));
  const double start = now_s();
  for (auto _ : state) {
    std::vector<eval::Result> results = eval::evaluate_many(batch);
    benchmark::DoNotOptimize(results.data());
  }
  const double wall = now_s() - start;
  state.counters["evaluations_per_min"] = wall > 0 ? 60.0 * 8 * static_cast<double>(state.iterations()) / wall : 0;
  state.counters["workers"] = std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

BENCHMARK_CAPTURE(BM_Evaluate, circuit_p100x4, std::string("circuit"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Evaluate, cannon_p100x4, std::string("cannon"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EvaluateMany, circuit_p100x4, std::string("circuit"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
