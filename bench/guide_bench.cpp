// Speed of feedback (issue 10 §1): guide::Explainer::explain on one evaluation's Result, as
// the `guided` optimizer calls it after every evaluation (in the parent, between children).
// It applies the mapper again (compile, bind, apply: the Plan it reads) and reads the
// profile, so it should cost a small part of an evaluation (bench/eval_bench.cpp).
#include <benchmark/benchmark.h>

#include "eval/eval.h"
#include "guide/guide.h"

namespace {

using namespace mage;

void BM_Explain(benchmark::State& state, const std::string& app, const std::string& machine, int nodes) {
  eval::Request request;
  request.app = app;
  request.machine = machine;
  if (nodes > 1) request.overrides.nodes = nodes;
  request.mapper = eval::expert_mapper();
  const eval::Result result = eval::evaluate(request);
  if (!result.outcome.ok()) {
    state.SkipWithError(result.outcome.message.c_str());
    return;
  }
  const guide::Explainer explainer(request);
  for (auto _ : state) {
    guide::Feedback f = explainer.explain(result);
    benchmark::DoNotOptimize(f.hints.data());
  }
  state.counters["point_tasks"] = static_cast<double>(result.outcome.profile.tasks);
}

BENCHMARK_CAPTURE(BM_Explain, circuit_p100x4, std::string("circuit"), std::string("p100x4"), 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Explain, cannon_p100x4, std::string("cannon"), std::string("p100x4"), 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Explain, pennant_p100x4, std::string("pennant"), std::string("p100x4"), 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Explain, pumma_lassen8, std::string("pumma"), std::string("lassen"), 8)
    ->Unit(benchmark::kMillisecond);

}  // namespace
