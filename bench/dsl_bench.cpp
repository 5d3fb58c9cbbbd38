// Speed of the mapping language: compile time per mapper, placement evaluations per second.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "dsl/dsl.h"

namespace {

std::string read_mapper(const std::string& name) {
  std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/mappers/examples/" + name + ".map");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void BM_Compile(benchmark::State& state, const std::string& name) {
  std::string text = read_mapper(name);
  mage::dsl::SourceFile src{name + ".map", text};
  for (auto _ : state) {
    auto r = mage::dsl::compile(src);
    benchmark::DoNotOptimize(r.unit);
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_Compile, circuit, std::string("circuit"));
BENCHMARK_MAIN();
