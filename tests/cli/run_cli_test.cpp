// mage run, end to end: the summary, --json, --trace, every exit code and usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "run_mage.h"

namespace mage::test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(RunCommand, ExpertMapperSummary) {
  auto r = run_mage("run circuit --machine p100x4 --expert --scale small");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* s :
       {"circuit on p100x4, scale small, the expert mapper (mappers/expert/circuit.map)", "status: ok",
        "simulated time: ", "metric: ", " iterations/s", "point tasks", "GPUs busy", "busiest node 0 GPU",
        "idlest node 0 GPU", "bytes moved: intra-GPU", "inter-node", "peak memory:", "FBMEM: peak",
        "top tasks:", "calculate_new_currents", "critical path: ", "evaluated in "})
    EXPECT_TRUE(contains(r.out, s)) << "missing: " << s << "\n" << r.out;
}

// 64 GPUs: the published (r, c, r3) = (8, 1, 8) grid runs with the expert mapper.
TEST(RunCommand, SolomonikOn16LassenNodes) {
  auto r = run_mage("run solomonik --machine lassen --nodes 16 --expert");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "solomonik on lassen x 16 nodes, scale published")) << r.out;
  EXPECT_TRUE(contains(r.out, "status: ok")) << r.out;
  EXPECT_TRUE(contains(r.out, "64 GPUs busy")) << r.out;
}

// Johnson and COSMA run as 4 ranks per node without --ranks-per-node; an explicit one wins.
TEST(RunCommand, JohnsonAndCosmaRunAs4RanksPerNodeByDefault) {
  for (const char* app : {"johnson", "cosma"}) {
    auto r = run_mage(std::string("run ") + app + " --machine lassen --expert --scale small");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_TRUE(contains(r.out, std::string(app) + " on lassen, 4 ranks per node (as " + app +
                                    " runs by default; --ranks-per-node R to change), scale small"))
        << r.out;
  }
  auto one = run_mage("run johnson --machine lassen --expert --scale small --ranks-per-node 1");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  EXPECT_TRUE(contains(one.out, "johnson on lassen, 1 rank per node, scale small")) << one.out;
  // On 2 nodes: on one, the expert places every tile on the GPU of its point either way.
  auto json_default = run_mage("run johnson --machine lassen --nodes 2 --expert --scale small --json");
  auto json_four = run_mage("run johnson --machine lassen --nodes 2 --expert --scale small --json --ranks-per-node 4");
  auto json_one = run_mage("run johnson --machine lassen --nodes 2 --expert --scale small --json --ranks-per-node 1");
  EXPECT_EQ(json_default.out, json_four.out);
  EXPECT_NE(json_default.out, json_one.out);
  // Other apps say nothing about ranks unless asked.
  auto cannon = run_mage("run cannon --machine lassen --expert --scale small");
  EXPECT_TRUE(contains(cannon.out, "cannon on lassen, scale small")) << cannon.out;
}

TEST(RunCommand, JsonHasTheOutcomeKeys) {
  auto r = run_mage("run cannon --machine p100x4 --expert --scale small --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"status", "message", "time_s", "metric_name", "metric_value", "profile", "diagnostics"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["metric_name"], "GFLOP/s");
  EXPECT_GT(j["metric_value"].get<double>(), 0);
  EXPECT_GT(j["profile"]["tasks"].get<int>(), 0);
  EXPECT_TRUE(j["diagnostics"].empty());
}

TEST(RunCommand, JsonIsDeterministic) {
  auto a = run_mage("run pennant --machine lassen --nodes 2 --expert --scale small --json");
  auto b = run_mage("run pennant --machine lassen --nodes 2 --expert --scale small --json");
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_TRUE(contains(a.out, "node 1 GPU")) << a.out;
}

TEST(RunCommand, TraceIsChromeTraceJson) {
  TempFile trace("run_trace.json");
  auto r = run_mage("run stencil --machine p100x4 --default --scale small --trace " + trace.path());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "trace: " + trace.path())) << r.out;
  nlohmann::json j = nlohmann::json::parse(trace.read());
  ASSERT_TRUE(j.contains("traceEvents"));
  int slices = 0;
  for (const auto& e : j["traceEvents"]) slices += e["ph"] == "X";
  EXPECT_GT(slices, 0);
}

TEST(RunCommand, MapperFileAndIterations) {
  TempFile mapper("run_ok.map", "Task * GPU,CPU;\nRegion * * GPU FBMEM;\nLayout * * * C_order;\n");
  auto one = run_mage("run summa --machine p100x4 --scale small --iterations 1 --json --mapper " + mapper.path());
  auto three = run_mage("run summa --machine p100x4 --scale small --iterations 3 --json --mapper " + mapper.path());
  ASSERT_EQ(one.exit_code, 0) << one.out;
  ASSERT_EQ(three.exit_code, 0) << three.out;
  EXPECT_LT(nlohmann::json::parse(one.out)["profile"]["tasks"].get<int>(),
            nlohmann::json::parse(three.out)["profile"]["tasks"].get<int>());
}

// --place-every-iteration places the tiles again before every timed iteration (DISTAL's
// drivers): a mapper that keeps the warm-up's copies (no CollectMemory) copies them again.
TEST(RunCommand, PlaceEveryIterationCopiesTheTilesAgain) {
  TempFile mapper("kept.map", "Task * GPU,CPU;\nRegion * * GPU FBMEM;\nLayout * * * C_order;\n");
  const std::string run = "run summa --machine p100x4 --scale small --json --mapper " + mapper.path();
  auto once = run_mage(run);
  auto every = run_mage(run + " --place-every-iteration");
  ASSERT_EQ(once.exit_code, 0) << once.out;
  ASSERT_EQ(every.exit_code, 0) << every.out;
  auto moved = [](const std::string& out) {
    const auto b = nlohmann::json::parse(out)["profile"]["bytes_moved"];
    return b["intra_gpu"].get<double>() + b["gpu_host"].get<double>() + b["host_host"].get<double>() +
           b["inter_node"].get<double>();
  };
  EXPECT_LT(moved(once.out), moved(every.out));
  auto shown = run_mage("app show summa --machine p100x4 --place-every-iteration");
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_TRUE(contains(shown.out, "drivers: as DISTAL's: the tiles placed again before every timed iteration"))
      << shown.out;
}

TEST(RunCommand, WarningsGoToStderrAndTheRunGoesOn) {
  TempFile mapper("run_warn.map", "Task no_such_task GPU;\n");
  auto r = run_mage("run circuit --machine p100x4 --scale small --mapper " + mapper.path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "warning:")) << r.out;
  EXPECT_TRUE(contains(r.out, "no_such_task")) << r.out;
}

// ---- Exit codes ---------------------------------------------------------------------------

TEST(RunExitCode, MapperErrorIs2) {
  TempFile mapper("run_bad.map", "Task * GPU\n");
  auto r = run_mage("run circuit --machine p100x4 --scale small --mapper " + mapper.path());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(contains(r.out, "status: mapper error")) << r.out;
  EXPECT_TRUE(contains(r.out, mapper.path() + ":1:11: error: expected ';'")) << r.out;

  auto j = run_mage("run circuit --machine p100x4 --scale small --json --mapper " + mapper.path());
  EXPECT_EQ(j.exit_code, 2);
  nlohmann::json out = nlohmann::json::parse(j.out);
  EXPECT_EQ(out["status"], "mapper error");
  ASSERT_EQ(out["diagnostics"].size(), 1u);
  EXPECT_EQ(out["diagnostics"][0]["line"], 1);
  EXPECT_EQ(out["diagnostics"][0]["severity"], "error");
}

TEST(RunExitCode, MappingErrorIs3) {
  TempFile mapper("run_cpu.map",
                  "Task calculate_new_currents GPU;\nmcpu = Machine(CPU);\n"
                  "def on_cpu(Task t) {\n  return mcpu[0, 0];\n}\nIndexTaskMap calculate_new_currents on_cpu;\n");
  auto r = run_mage("run circuit --machine p100x4 --scale small --mapper " + mapper.path());
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_TRUE(contains(r.out, "status: mapping error")) << r.out;
  EXPECT_TRUE(contains(r.out, mapper.path() + ":6")) << r.out;
}

TEST(RunExitCode, ExecutionErrorIs4) {
  auto r = run_mage("run cannon --machine p100x4 --scale small --default");
  EXPECT_EQ(r.exit_code, 4) << r.out;
  EXPECT_TRUE(contains(r.out, "status: execution error")) << r.out;
  EXPECT_TRUE(contains(r.out, "layout mismatch")) << r.out;
}

TEST(RunExitCode, SimulatorFailureIs5) {
  auto r = run_mage("run pennant --machine p100x4 --expert --time-limit 0.001 --json");
  EXPECT_EQ(r.exit_code, 5) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "simulator failure");
  EXPECT_EQ(j["message"],
            "simulator exceeded the time limit of 0.001 s (--time-limit S raises it, --time-limit 0 lifts it)");
}

// An evaluation that needs more memory than --memory-limit gives fails with the limit and the
// flag that raises it; the same run within the default limit is fine.
TEST(RunExitCode, OverTheMemoryLimitIs5) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitized builds run without an address-space limit";
#endif
  auto r = run_mage("run circuit --machine lassen --nodes 16 --default --memory-limit 0.01 --json");
  EXPECT_EQ(r.exit_code, 5) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "simulator failure");
  EXPECT_TRUE(j["message"].get<std::string>().starts_with(
      "simulator exceeded the memory limit of 10 MiB (--memory-limit GIB raises it, --memory-limit 0 lifts it)"))
      << j["message"];
}

TEST(RunExitCode, UsageErrorsAre1) {
  struct Case {
    std::string args, message;
  };
  TempFile mapper("run_usage.map", "Task * GPU;\n");
  for (const Case& c : std::vector<Case>{
           {"run circuit --machine p100x4", "one of --mapper FILE, --expert, --default is required"},
           {"run circuit --machine p100x4 --expert --default", "--expert excludes --default"},
           {"run circuit --machine p100x4 --default --mapper " + mapper.path(), "excludes"},
           {"run circuit --expert", "--machine is required"},
           {"run fft --machine p100x4 --expert", "fft"},
           {"run circuit --machine no_such_machine --expert", "mage: error: unknown machine preset 'no_such_machine'"},
           {"run circuit --machine p100x4 --expert --scale huge", "--scale must be 'published' or 'small'"},
           {"run circuit --machine p100x4 --expert --iterations 0", "--iterations must be at least 1"},
           {"run stencil --machine p100x4 --expert --place-every-iteration",
            "mage: error: stencil: placing the inputs every iteration applies to the matrix multiplications"},
           {"run circuit --machine p100x4 --mapper /no/such/file.map", "mage: error: cannot read /no/such/file.map"},
           {"run cannon --machine " + source_path("tests/data/machines/tiny.toml") + " --expert",
            "mage: error: cannon: needs 4 GPUs per node"},
       }) {
    auto r = run_mage(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, c.message)) << c.args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace mage::test
