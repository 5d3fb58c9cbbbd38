// The Outcome as JSON, the Chrome trace, determinism, and what a simulation in a child reports when
// the simulation itself fails.
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <sstream>

#include "apps/apps.h"
#include "helpers.h"

namespace mage::sim::test {
namespace {

struct App {
  machine::Machine m;
  Program p;
  TaskGraph g;
  mapping::Plan plan;
};

// An app at small scale with the default mapper (C order, so that DGEMM accepts it).
App app(const std::string& name, const std::string& preset = "p100x4", int nodes = 1) {
  machine::Machine m = machine::load(preset, {.nodes = nodes});
  apps::Params params;
  params.nodes = nodes;
  params.gpus_per_node = m.procs_per_node(kinds::ProcKind::GPU);
  params.scale = apps::Scale::Small;
  Program p = apps::build(name, params);
  TaskGraph g = analyze(p);
  mapping::ApplyResult r = mapping::apply_default(p, g, m);
  if (!std::holds_alternative<mapping::Plan>(r)) throw std::runtime_error(std::get<mapping::MappingError>(r).message);
  mapping::Plan plan = std::get<mapping::Plan>(r);
  for (auto& t : plan.tasks)
    for (auto& a : t.args) a.layout.order = kinds::DimOrder::C;
  return App{std::move(m), std::move(p), std::move(g), std::move(plan)};
}

TEST(Outcome, JsonHasTheDocumentedKeysAndRoundTrips) {
  App a = app("circuit");
  Outcome o = simulate_in_child(a.p, a.g, a.m, a.plan);
  ASSERT_EQ(o.status, Status::Ok) << o.message;
  nlohmann::ordered_json j = o.to_json();
  for (const char* key : {"status", "message", "time_s", "metric_name", "metric_value", "profile"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["metric_name"], "iterations/s");
  for (const char* key : {"window_start_s", "window_end_s", "processors", "bytes_moved", "memories", "costliest_tasks",
                          "costliest_copies", "critical_path"})
    EXPECT_TRUE(j["profile"].contains(key)) << key;
  for (const char* key : {"intra_gpu", "gpu_host", "host_host", "inter_node"})
    EXPECT_TRUE(j["profile"]["bytes_moved"].contains(key)) << key;
  EXPECT_EQ(Outcome::from_json(nlohmann::json::parse(j.dump())).to_json().dump(), j.dump());
  // A memory is carried as its id and kind, not only as its name.
  ASSERT_FALSE(o.profile.memories.empty());
  const Outcome back = Outcome::from_json(nlohmann::json::parse(j.dump()));
  const MemoryPeak& first = back.profile.memories.front();
  EXPECT_EQ(first.id, o.profile.memories.front().id);
  EXPECT_EQ(first.kind, a.m.memory(first.id).kind);
  EXPECT_EQ(first.memory, a.m.name(first.id));
  nlohmann::json bad = j;
  bad["profile"]["memories"][0]["kind"] = "TAPE";
  EXPECT_THROW(Outcome::from_json(bad), nlohmann::json::exception);
  EXPECT_NEAR(o.metric_value, a.p.iterations / o.time_s, 1e-9 * o.metric_value);
  for (const ProcessorUse& u : o.profile.processors) {
    EXPECT_GE(u.busy_fraction, 0);
    EXPECT_LE(u.busy_fraction, 1 + 1e-9);
  }
}

TEST(Outcome, FailuresCarryTheStatusAndMessage) {
  Outcome o = failure(Status::MappingError, "circuit.map:3:1: error: ...");
  nlohmann::ordered_json j = o.to_json();
  EXPECT_EQ(j["status"], "mapping error");
  EXPECT_EQ(j["message"], "circuit.map:3:1: error: ...");
  for (Status s :
       {Status::Ok, Status::MapperError, Status::MappingError, Status::ExecutionError, Status::SimulatorFailure})
    EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_FALSE(parse_status("fine"));
}

TEST(Outcome, MatrixMultiplicationsReportGflops) {
  App a = app("cannon");
  Outcome o = simulate_in_child(a.p, a.g, a.m, a.plan);
  ASSERT_EQ(o.status, Status::Ok) << o.message;
  EXPECT_EQ(o.metric_name, "GFLOP/s");
  EXPECT_NEAR(o.metric_value, o.profile.flops / o.time_s / 1e9, 1e-9 * o.metric_value);
  // 2 n^3 flops per timed iteration.
  const double n = 64;
  EXPECT_NEAR(o.profile.flops, 2 * n * n * n * a.p.iterations, 1);
}

TEST(Outcome, SameInputsGiveIdenticalNumbers) {
  for (const char* name : {"circuit", "pennant", "summa", "cosma"}) {
    App a = app(name, "lassen", 2);
    Options options{true, 10};
    Outcome x = simulate_in_child(a.p, a.g, a.m, a.plan, options);
    Outcome y = simulate_in_child(a.p, a.g, a.m, a.plan, options);
    ASSERT_EQ(x.status, Status::Ok) << name << ": " << x.message;
    EXPECT_EQ(x.to_json().dump(), y.to_json().dump()) << name;
    EXPECT_EQ(chrome_trace(x.trace).dump(), chrome_trace(y.trace).dump()) << name;
  }
}

TEST(Trace, OneRowPerProcessorAndChannelWithCompleteEvents) {
  App a = app("stencil", "lassen", 2);
  Outcome o = simulate_in_child(a.p, a.g, a.m, a.plan, Options{true, 10});
  ASSERT_EQ(o.status, Status::Ok) << o.message;
  ASSERT_FALSE(o.trace.rows.empty());
  EXPECT_EQ(o.trace.rows.front().rfind("node 0 ", 0), 0u);
  bool channel_row = false;
  for (const std::string& r : o.trace.rows) channel_row |= r.find(" -> ") != std::string::npos;
  EXPECT_TRUE(channel_row);
  std::ostringstream out;
  write_chrome_trace(o.trace, out);
  nlohmann::json j = nlohmann::json::parse(out.str());
  ASSERT_TRUE(j["traceEvents"].is_array());
  size_t names = 0, tasks = 0, copies = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") ++names;
    if (e["ph"] == "X") {
      EXPECT_GE(e["dur"].get<double>(), 0);
      EXPECT_LT(e["tid"].get<size_t>(), o.trace.rows.size());
      (e["cat"] == "task" ? tasks : copies)++;
    }
  }
  EXPECT_EQ(names, o.trace.rows.size());
  EXPECT_EQ(tasks, a.g.size());
  EXPECT_LE(static_cast<int64_t>(copies), o.profile.copies);  // copies inside one memory are not drawn
  EXPECT_GT(copies, 0u);
}

// SimGrid allows one engine per process: a second run() in the same process is refused.
TEST(Isolation, RunTwiceInOneProcessIsRefused) {
  App a = app("stencil");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Outcome first = run(a.p, a.g, a.m, a.plan);
    Outcome second = run(a.p, a.g, a.m, a.plan);
    const bool ok = first.ok() && second.status == Status::SimulatorFailure &&
                    second.message.find("one simulation per process") != std::string::npos;
    std::_Exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(Isolation, ATimeLimitEndsTheChild) {
  App a = app("pennant", "lassen", 2);
  Outcome o = simulate_in_child(a.p, a.g, a.m, a.plan, {}, 1e-4);
  EXPECT_EQ(o.status, Status::SimulatorFailure);
  EXPECT_EQ(o.message,
            "simulator exceeded the time limit of 0.0001 s (--time-limit S raises it, --time-limit 0 lifts it)");
}

TEST(Isolation, AMemoryLimitIsASimulatorFailure) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer's shadow memory rules out an address-space limit (see eval/child.cpp): the
  // limit is only enforced, and so only testable, in unsanitized builds.
  GTEST_SKIP() << "no address-space limit under a sanitizer";
#endif
  App a = app("circuit");
  Outcome o = simulate_in_child(a.p, a.g, a.m, a.plan, {}, 60, 1ull << 20);
  EXPECT_EQ(o.status, Status::SimulatorFailure);
  EXPECT_EQ(o.message.rfind("simulator", 0), 0u) << o.message;
}

}  // namespace
}  // namespace mage::sim::test
