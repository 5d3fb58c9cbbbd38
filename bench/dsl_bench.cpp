// Speed of the mapping language (targets from issue 2): compile time of each example
// mapper (< 1 ms), placement evaluations per second (>= 1,000,000 for circuit's block
// function).
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "dsl/dsl.h"

namespace {

using namespace mage::dsl;
using mage::kinds::ProcKind;

std::string read_mapper(const std::string& name) {
  std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/mappers/examples/" + name + ".map");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MachineShape shape(int64_t ranks, int64_t gpus) {
  MachineShape s;
  s.ranks = ranks;
  s.procs_per_rank = {{ProcKind::CPU, 10}, {ProcKind::GPU, gpus}, {ProcKind::OMP, 2}, {ProcKind::IO, 1}};
  return s;
}

void BM_Compile(benchmark::State& state, const std::string& name) {
  SourceFile src{name + ".map", read_mapper(name)};
  for (auto _ : state) {
    CompileResult r = compile(src);
    if (!r.unit) state.SkipWithError("mapper does not compile");
    benchmark::DoNotOptimize(r.unit);
  }
}

// Compile + bind (top-level evaluation) against a 4-node machine.
void BM_CompileAndBind(benchmark::State& state, const std::string& name) {
  SourceFile src{name + ".map", read_mapper(name)};
  for (auto _ : state) {
    BindResult r = load_mapper(src, shape(4, 4));
    if (!r.mapper) state.SkipWithError("mapper does not bind");
    benchmark::DoNotOptimize(r.mapper);
  }
}

// Evaluations of the placement function of `task` over a launch of `extents` (empty:
// a single launch, whose parent runs on GPU 1 of node 2).
void BM_Place(benchmark::State& state, const std::string& name, const std::string& task, std::vector<int64_t> extents) {
  const bool index_launch = !extents.empty();
  if (!index_launch) extents = {1};
  BindResult b = load_mapper(SourceFile{name + ".map", read_mapper(name)}, shape(4, 4));
  if (!b.mapper) {
    state.SkipWithError("mapper does not bind");
    return;
  }
  TaskView parent;
  parent.name = "parent";
  parent.kind = index_launch ? ProcKind::OMP : ProcKind::GPU;
  parent.processor = index_launch ? ProcessorId{0, 0} : ProcessorId{2, 1};
  TaskView t;
  t.name = task;
  if (index_launch) t.ispace = extents;
  t.parent = &parent;
  int64_t volume = 1;
  for (int64_t e : extents) volume *= e;
  int64_t i = 0;
  for (auto _ : state) {
    int64_t linear = i++ % volume;
    if (index_launch) {
      t.ipoint.assign(extents.size(), 0);
      for (size_t d = extents.size(); d-- > 0;) {
        t.ipoint[d] = linear % extents[d];
        linear /= extents[d];
      }
    }
    PlacementResult r = b.mapper->place(t, ProcKind::GPU, index_launch);
    if (!r.placement) state.SkipWithError("placement failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

#define MAGE_MAPPERS(X) X(circuit) X(stencil) X(pennant) X(cannon) X(summa) X(pumma) X(johnson) X(solomonik) X(cosma)
#define MAGE_COMPILE(app)                                                               \
  BENCHMARK_CAPTURE(BM_Compile, app, std::string(#app))->Unit(benchmark::kMicrosecond); \
  BENCHMARK_CAPTURE(BM_CompileAndBind, app, std::string(#app))->Unit(benchmark::kMicrosecond);
MAGE_MAPPERS(MAGE_COMPILE)

BENCHMARK_CAPTURE(BM_Place, circuit_block1d, std::string("circuit"), std::string("calculate_new_currents"),
                  std::vector<int64_t>{16});
// Cannon's tile placement: two auto_splits per call (DSL.md's two-level placement).
BENCHMARK_CAPTURE(BM_Place, cannon_block_cyclic, std::string("cannon"), std::string("task_1"),
                  std::vector<int64_t>{4, 4});
// Cannon's leaf: on its parent's GPU.
BENCHMARK_CAPTURE(BM_Place, cannon_same_point, std::string("cannon"), std::string("task_4"), std::vector<int64_t>{});

// Checking and printing a mapper of N rules that each draw a warning (issue 14: quadratic
// before, 0.4/1.3/4.6 s for 10k/20k/40k rules): compile, then format every diagnostic.
void BM_FormatDiagnostics(benchmark::State& state) {
  std::string text;
  std::vector<Diagnostic> ds;
  for (int64_t i = 0; i < state.range(0); ++i) {
    text += fmt::format("Task t{} GPU;\n", i);
    ds.push_back(Diagnostic{DiagId::unknown_task,
                            Severity::Warning,
                            "big.map",
                            SourceLoc{static_cast<int>(i + 1), 6},
                            fmt::format("the program has no task named 't{}'", i),
                            {}});
  }
  const SourceFile source{"big.map", text};
  for (auto _ : state) benchmark::DoNotOptimize(format_diagnostics(ds, source));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_FormatDiagnostics)->Arg(10'000)->Arg(20'000)->Arg(40'000)->Unit(benchmark::kMillisecond)->Complexity();

BENCHMARK_MAIN();
