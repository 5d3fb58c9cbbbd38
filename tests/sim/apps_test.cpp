// Every app at Scale::Small runs to completion on the simulator with the default mapper.
#include <fstream>
#include <sstream>

#include "../test_support.h"
#include "apps/apps.h"
#include "dsl/dsl.h"
#include "helpers.h"

namespace mage::sim::test {
namespace {

struct Case {
  std::string app;
  std::string machine;
  int nodes;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.app << " on " << c.machine << " x" << c.nodes; }

bool is_matmul(const std::string& app) { return app != "circuit" && app != "stencil" && app != "pennant"; }

using mage::test::read_text;

std::string name_of(const testing::TestParamInfo<Case>& info) {
  return info.param.app + "_" + info.param.machine + "_" + std::to_string(info.param.nodes);
}

class EveryApp : public testing::TestWithParam<Case> {};

struct AppSetup {
  machine::Machine m;
  Program p;
  TaskGraph g;
};

AppSetup setup(const Case& c) {
  machine::Machine m = machine::load(c.machine, {.nodes = c.nodes});
  Program p = apps::build(c.app, apps::params_for(m, apps::Scale::Small));
  TaskGraph g = analyze(p);
  return AppSetup{std::move(m), std::move(p), std::move(g)};
}

void expect_complete(const AppSetup& s, const Outcome& o) {
  ASSERT_EQ(o.status, Status::Ok) << o.message;
  EXPECT_GT(o.time_s, 0);
  EXPECT_GT(o.metric_value, 0);
  EXPECT_EQ(o.profile.tasks, static_cast<int64_t>(s.g.size()));
  EXPECT_FALSE(o.profile.processors.empty());
  EXPECT_FALSE(o.profile.critical_path.steps.empty());
  EXPECT_LE(o.profile.critical_path.length_s, o.time_s * (1 + 1e-9));
}

// The default mapper with C order everywhere (DGEMM requires it).
TEST_P(EveryApp, DefaultMapperRunsToCompletion) {
  AppSetup s = setup(GetParam());
  mapping::ApplyResult r = mapping::apply_default(s.p, s.g, s.m);
  ASSERT_TRUE(std::holds_alternative<mapping::Plan>(r)) << std::get<mapping::MappingError>(r).message;
  mapping::Plan plan = std::get<mapping::Plan>(r);
  for (mapping::TaskPlacement& tp : plan.tasks)
    for (mapping::ArgPlacement& ap : tp.args) ap.layout.order = kinds::DimOrder::C;
  Outcome o = simulate_in_child(s.p, s.g, s.m, plan, {}, 60);
  expect_complete(s, o);
  EXPECT_EQ(o.metric_name, is_matmul(GetParam().app) ? "GFLOP/s" : "iterations/s");
}

// The default mapper's F order is rejected by the matrix multiplications' DGEMM.
TEST_P(EveryApp, DefaultMapperFOrder) {
  AppSetup s = setup(GetParam());
  mapping::ApplyResult r = mapping::apply_default(s.p, s.g, s.m);
  ASSERT_TRUE(std::holds_alternative<mapping::Plan>(r)) << std::get<mapping::MappingError>(r).message;
  Outcome o = simulate_in_child(s.p, s.g, s.m, std::get<mapping::Plan>(r), {}, 60);
  if (is_matmul(GetParam().app)) {
    EXPECT_EQ(o.status, Status::ExecutionError);
    EXPECT_NE(o.message.find("task_4"), std::string::npos) << o.message;
    EXPECT_NE(o.message.find("layout mismatch, operand A (argument 0"), std::string::npos) << o.message;
    EXPECT_NE(o.message.find("is F_order, C_order required"), std::string::npos) << o.message;
  } else {
    expect_complete(s, o);
  }
}

TEST_P(EveryApp, ExpertMapperRunsToCompletion) {
  const std::string path = mage::test::expert_mapper_path(GetParam().app);
  const std::string text = read_text(path);
  ASSERT_FALSE(text.empty()) << "the expert mapper " << path << " is missing or empty";  // a failure, never a skip
  AppSetup s = setup(GetParam());
  dsl::SourceFile src{GetParam().app + ".map", text};
  dsl::BindResult b = dsl::load_mapper(src, mapping::shape_of(s.m));
  ASSERT_TRUE(b.mapper) << dsl::format_diagnostics(b.diagnostics, src);
  mapping::ApplyResult r = mapping::apply(s.p, s.g, s.m, *b.mapper);
  ASSERT_TRUE(std::holds_alternative<mapping::Plan>(r)) << std::get<mapping::MappingError>(r).message;
  Outcome o = simulate_in_child(s.p, s.g, s.m, std::get<mapping::Plan>(r), {}, 60);
  expect_complete(s, o);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const apps::AppInfo& a : apps::list()) {
    out.push_back({a.name, "p100x4", 1});
    out.push_back({a.name, "lassen", 2});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Sim, EveryApp, testing::ValuesIn(cases()), name_of);

}  // namespace
}  // namespace mage::sim::test
