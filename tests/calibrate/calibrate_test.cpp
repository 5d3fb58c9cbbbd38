// The calibration facts, the mapper variants they run, and the report.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "calibrate/calibrate.h"
#include "dsl/dsl.h"
#include "eval/eval.h"

namespace mage::calibrate {
namespace {

const std::vector<std::string> kMatmuls = {"cannon", "summa", "pumma", "johnson", "solomonik", "cosma"};

dsl::Mapper bind_variant(const std::string& text) {
  dsl::MachineShape shape{1, {{kinds::ProcKind::CPU, 4}, {kinds::ProcKind::GPU, 4}, {kinds::ProcKind::OMP, 2}}};
  dsl::BindResult r = dsl::load_mapper(dsl::SourceFile{"variant.map", text}, shape);
  for (const dsl::Diagnostic& d : r.diagnostics) EXPECT_NE(d.severity, dsl::Severity::Error) << d.message;
  EXPECT_TRUE(r.mapper.has_value());
  return std::move(*r.mapper);
}

TEST(Variants, RulesPlacedFirstOverrideTheMappersOwn) {
  const std::string expert(*eval::expert_mapper_text("circuit"));
  dsl::ArgumentView ghost{2, {"rp_ghost", "all_shared"}};
  EXPECT_EQ(bind_variant(expert).memory_priority("calculate_new_currents", ghost, kinds::ProcKind::GPU).front(),
            kinds::MemKind::ZCMEM);
  dsl::Mapper fb = bind_variant(with_rules_first(expert, "Region * rp_ghost GPU FBMEM;"));
  EXPECT_EQ(fb.memory_priority("calculate_new_currents", ghost, kinds::ProcKind::GPU).front(), kinds::MemKind::FBMEM);
}

TEST(Variants, WithoutPlacementDropsOnlyTheMapStatements) {
  const std::string text =
      "Task * GPU;\n"
      "def f(Task t) { return Machine(GPU)[0, 0]; }\n"
      "  IndexTaskMap task_4 f;\n"
      "SingleTaskMap task_6 f;\n"
      "InstanceLimit task_4 1;\n";
  EXPECT_EQ(without_placement(text),
            "Task * GPU;\ndef f(Task t) { return Machine(GPU)[0, 0]; }\nInstanceLimit task_4 1;\n");
  EXPECT_THROW(without_placement("IndexTaskMap task_4\n  f;\n"), std::invalid_argument);
}

TEST(Variants, EveryExpertWithoutPlacementStillCompilesAndPlacesNothing) {
  for (const std::string& app : kMatmuls) {
    dsl::Mapper m = bind_variant(without_placement(std::string(*eval::expert_mapper_text(app))));
    dsl::TaskView task{"task_4", {0, 0}, {2, 2}, nullptr, std::nullopt, std::nullopt};
    EXPECT_FALSE(m.place(task, kinds::ProcKind::GPU, true).has_rule) << app;
    EXPECT_TRUE(m.instance_limit("task_4") || app == "johnson" || app == "cosma") << app << ": limits were kept";
  }
}

TEST(Variants, AllCpuMapsEveryTaskToCpuInCOrder) {
  dsl::Mapper m = bind_variant(all_cpu_mapper());
  EXPECT_EQ(m.processor_kinds("task_4"), std::vector<dsl::ProcWord>{kinds::ProcKind::CPU});
  EXPECT_EQ(m.layout("task_4", dsl::ArgumentView{0, {"A"}}, kinds::MemKind::SYSMEM, kinds::ProcKind::CPU).layout.order,
            kinds::DimOrder::C);
}

// The p100x4 facts are cheap; they guard the model against drifting away from them.
TEST(Facts, TheP100FactsHold) {
  Report r = run(Options{.only = {"circuit-framebuffer", "stencil-default", "dgemm-layout", "all-cpu"}, .workers = 2});
  ASSERT_EQ(r.facts.size(), 4u);
  for (const Fact& f : r.facts) {
    EXPECT_EQ(f.verdict(), Verdict::Holds) << f.id;
    EXPECT_FALSE(f.rows.empty()) << f.id;
    for (const Row& row : f.rows)
      EXPECT_EQ(row.verdict, Verdict::Holds) << f.id << ": " << row.label << " " << row.note;
  }
  EXPECT_EQ(r.facts[2].rows.size(), 2 * kMatmuls.size());  // F order and default, per matrix multiplication
  EXPECT_EQ(r.facts[3].rows.size(), 9u);                   // every program
  EXPECT_TRUE(r.all_hold());
}

TEST(Facts, LassenAnchorsAreWithinTwoTimes) {
  Report r = run(Options{.only = {"lassen-anchors"}, .workers = 2});
  ASSERT_EQ(r.facts.size(), 1u);
  EXPECT_EQ(r.facts[0].verdict(), Verdict::Holds);
  EXPECT_GE(r.facts[0].rows.size(), 13u);
}

TEST(Facts, UnknownFactIsAnError) {
  try {
    run(Options{.only = {"circuit-framebufer"}});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown fact 'circuit-framebufer'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("circuit-framebuffer"), std::string::npos) << "lists the facts";
  }
}

TEST(Report, AFailingRowFailsTheFactAndTheReport) {
  Report r;
  r.facts.push_back(Fact{"a", "A holds", "how", {Row{"x", "1", "1", Verdict::Holds, ""}}, ""});
  r.facts.push_back(Fact{"b", "B is off", "how", {Row{"y", "2", "1", Verdict::Off, "why"}}, "because"});
  EXPECT_TRUE(r.all_hold());
  EXPECT_EQ(r.facts[1].verdict(), Verdict::Off);
  r.facts[0].rows.push_back(Row{"z", "3", "1", Verdict::Fails, ""});
  EXPECT_EQ(r.facts[0].verdict(), Verdict::Fails);
  EXPECT_FALSE(r.all_hold());
  const std::string md = r.markdown();
  EXPECT_NE(md.find("| A holds | FAILS |"), std::string::npos) << md;
  EXPECT_NE(md.find("| B is off | off (explained) |"), std::string::npos) << md;
  EXPECT_NE(md.find("\nbecause\n"), std::string::npos) << "the discussion is printed";
  EXPECT_NE(md.find("| y | 2 | 1 | off (explained) | why |"), std::string::npos) << md;
}

TEST(Report, TheCommittedReportIsCurrent) {
  // docs/calibration.md is `mage calibrate`'s output for this model, machines and expert
  // mappers: regenerate it (build/mage calibrate --output docs/calibration.md) when they change.
  std::ifstream in(std::string(MAGE_SOURCE_DIR) + "/docs/calibration.md");
  ASSERT_TRUE(in) << "docs/calibration.md is missing";
  const std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Report report = run(Options{.only = {}, .workers = 2});
  EXPECT_TRUE(report.all_hold());
  EXPECT_EQ(report.markdown(), committed)
      << "docs/calibration.md is stale; run build/mage calibrate --output docs/calibration.md";
}

}  // namespace
}  // namespace mage::calibrate
