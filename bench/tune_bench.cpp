// What a tuning run costs its own process per evaluation, on top of the evaluation in the
// child: rendering a point to mapper text, the feedback on the result (guide::Explainer)
// and the journal record. mage bench measures the whole (evaluations per CPU minute through
// mage tune); this says where the tuning process's share goes.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "guide/guide.h"
#include "tune/tune.h"

namespace {

using namespace mage;

eval::Request program(const std::string& app) {
  eval::Request r;
  r.app = app;
  r.machine = "p100x4";
  return r;
}

void BM_Render(benchmark::State& state, const std::string& app) {
  const tune::Space space = tune::Space::build(program(app));
  tune::Rng rng(1);
  std::vector<tune::Point> points;
  for (int i = 0; i < 16; ++i) points.push_back(space.sample(rng));
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(space.render(points[i++ % points.size()]));
}

void BM_Explain(benchmark::State& state, const std::string& app) {
  eval::Request r = program(app);
  r.mapper = eval::expert_mapper();
  const eval::Result result = eval::evaluate(r);
  const guide::Explainer explainer(r);
  for (auto _ : state) benchmark::DoNotOptimize(explainer.explain(r.mapper, result));
}

void BM_JournalRecord(benchmark::State& state, const std::string& app) {
  eval::Request r = program(app);
  r.mapper = eval::expert_mapper();
  const eval::Result result = eval::evaluate(r);
  const guide::Feedback feedback = guide::explain(r, result);
  for (auto _ : state) {
    nlohmann::ordered_json j;
    j["result"] = eval::result_to_json(result);
    j["feedback"] = feedback.to_json();
    benchmark::DoNotOptimize(j.dump());
  }
}

BENCHMARK_CAPTURE(BM_Render, circuit, std::string("circuit"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Render, pennant, std::string("pennant"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Explain, circuit, std::string("circuit"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Explain, pennant, std::string("pennant"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_JournalRecord, circuit, std::string("circuit"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_JournalRecord, pennant, std::string("pennant"))->Unit(benchmark::kMicrosecond);

}  // namespace
