// mage check, fmt and place, run as a user runs them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "run_mage.h"

namespace mage::test {
namespace {

namespace fs = std::filesystem;

class DslCli : public ::testing::Test {
 protected:
  fs::path dir_;
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mage-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

const char* kCannon = R"(Task * GPU,OMP,CPU;
m = Machine(GPU);
def cannon(Task task) {
  m3 = m.auto_split(0, task.ispace);
  m4 = m3.auto_split(2, task.ispace / m3[:-1]);
  return m4[task.ipoint[0] / 2, 0, task.ipoint[0] % 2, task.ipoint[1] % 2];
}
IndexTaskMap task_4 cannon;
)";

TEST_F(DslCli, CheckPassesEveryExampleMapper) {
  for (const auto& entry : fs::directory_iterator(source_path("mappers/examples"))) {
    auto r = run_mage("check " + entry.path().string());
    EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.out;
    EXPECT_EQ(r.out, "") << entry.path();
  }
}

TEST_F(DslCli, EveryExampleMapperUsesOnlyNamesOfItsProgram) {
  for (const char* app :
       {"circuit", "stencil", "pennant", "cannon", "summa", "pumma", "johnson", "solomonik", "cosma"}) {
    auto r = run_mage(std::string("check --app ") + app + " " +
                      source_path(std::string("mappers/examples/") + app + ".map"));
    EXPECT_EQ(r.exit_code, 0) << app << "\n" << r.out;
    EXPECT_EQ(r.out, "") << app;
  }
}

// A Region rule may name any region, partition, or subregion a partition is made of (as
// `mage app show` lists them); neither `check --app` nor `run` warns about any of them.
TEST_F(DslCli, EveryDataNameOfEveryProgramIsKnownToCheckAndRun) {
  const std::string apps = run_mage("apps").out;
  int programs = 0;
  for (size_t at = 0; at < apps.size(); at = apps.find('\n', at) + 1) {
    const std::string app = apps.substr(at, apps.find(' ', at) - at);
    auto shown = run_mage("app show " + app + " --machine p100x4 --scale small --json");
    ASSERT_EQ(shown.exit_code, 0) << shown.out;
    std::set<std::string> names;  // each once: a second rule for a name would be warned as shadowed
    const nlohmann::json program = nlohmann::json::parse(shown.out);
    for (const auto& region : program.at("regions")) {
      names.insert(region.at("name").get<std::string>());
      for (const auto& part : region.at("partitions")) {
        names.insert(part.at("name").get<std::string>());
        names.insert(part.at("parent").get<std::string>());
      }
    }
    ASSERT_GT(names.size(), 1u) << app;
    std::string rules = "Layout * * * SOA C_order;\n";  // the DGEMMs of the matrix multiplications need it
    for (const std::string& name : names) rules += "Region * " + name + " GPU FBMEM;\n";
    const std::string f = write(app + ".map", rules);
    auto checked = run_mage("check --app " + app + " " + f);
    EXPECT_EQ(checked.exit_code, 0) << app << "\n" << checked.out;
    EXPECT_EQ(checked.out, "") << app;
    auto ran = run_mage("run " + app + " --machine p100x4 --scale small --mapper " + f);
    EXPECT_EQ(ran.exit_code, 0) << app << "\n" << ran.out;
    EXPECT_EQ(ran.out.find("warning"), std::string::npos) << app << "\n" << ran.out;
    ++programs;
  }
  EXPECT_EQ(programs, 9);
}

TEST_F(DslCli, CheckWithAnAppWarnsAboutNamesItLacks) {
  std::string f =
      write("typo.map", "Task calculate_new_current GPU;\nRegion * rp_gost GPU ZCMEM;\nRegion * 1 GPU FBMEM;\n");
  auto r = run_mage("check --app circuit " + f);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find(":1:6: warning: the program has no task named 'calculate_new_current'"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(":2:10: warning: the program has no region or partition named 'rp_gost'"), std::string::npos);
  EXPECT_EQ(run_mage("check --app nosuchapp " + f).exit_code, 1);
}

TEST_F(DslCli, CheckPrintsCompilerStyleDiagnosticsAndFails) {
  std::string f = write("bad.map", "Task * GPU;\nm = Machine(GPU);\nx = m.size + q;\nTask * CPU;\n");
  auto r = run_mage("check " + f);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, f +
                       ":3:14: error: unknown name 'q'\n"
                       "x = m.size + q;\n"
                       "             ^\n" +
                       f +
                       ":4:6: warning: '*' already has a Task rule at line 1; this one never applies\n"
                       "Task * CPU;\n"
                       "     ^\n");
}

TEST_F(DslCli, CheckWithOnlyWarningsSucceeds) {
  std::string f = write("warn.map", "Task a GPU;\nTask a CPU;\n");
  auto r = run_mage("check " + f);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("warning: 'a' already has a Task rule at line 1"), std::string::npos);
}

TEST_F(DslCli, CheckJsonListsDiagnosticsOfEveryFile) {
  std::string a = write("a.map", "x = ;\n");
  std::string b = write("b.map", "Task a GPU;\nTask a CPU;\n");
  auto r = run_mage("check --json " + a + " " + b + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["file"], a);
  EXPECT_EQ(j[0]["line"], 1);
  EXPECT_EQ(j[0]["col"], 5);
  EXPECT_EQ(j[0]["severity"], "error");
  EXPECT_EQ(j[0]["message"], "expected an expression but found ';'");
  EXPECT_EQ(j[1]["severity"], "warning");
  EXPECT_EQ(j[1]["line"], 2);
}

TEST_F(DslCli, CheckOfAMissingFileIsAUsageError) {
  auto r = run_mage("check " + (dir_ / "nope.map").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("nope.map"), std::string::npos);
}

TEST_F(DslCli, FmtPrintsCanonicalTextAndRewritesInPlace) {
  std::string f = write("f.map", "Task  *  GPU ,CPU;# why\nx=(1+2)*3;\n");
  auto r = run_mage("fmt " + f);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "Task * GPU,CPU;  # why\nx = (1 + 2) * 3;\n");
  EXPECT_EQ(read(f), "Task  *  GPU ,CPU;# why\nx=(1+2)*3;\n");  // untouched without --in-place
  r = run_mage("fmt --in-place " + f);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(read(f), "Task * GPU,CPU;  # why\nx = (1 + 2) * 3;\n");
  EXPECT_EQ(run_mage("fmt " + f).out, read(f));  // idempotent
}

TEST_F(DslCli, FmtRefusesAMapperWithErrorsAndKeepsTheFile) {
  std::string f = write("e.map", "Task * GPU\n");
  auto r = run_mage("fmt --in-place " + f);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("error: expected ';' after 'GPU'"), std::string::npos);
  EXPECT_EQ(read(f), "Task * GPU\n");
}

TEST_F(DslCli, PlaceCannonExampleOfDslMd) {
  std::string f = write("cannon.map", kCannon);
  auto r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task task_4 --domain 4,4");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 16);
  EXPECT_NE(r.out.find("(0,0) -> node 0 proc 0\n(0,1) -> node 0 proc 2\n"), std::string::npos);
  EXPECT_NE(r.out.find("(3,1) -> node 1 proc 3\n"), std::string::npos);
}

// --nodes and --procs-per-node as `mage run` names them; the old --ranks and --procs still work
// (hidden) and are never given with the new names.
// Thousands of diagnostics: the first 20 (clang's -ferror-limit convention), then one line
// counting the rest; --error-limit N shows N, 0 all; --json has all of them.
TEST_F(DslCli, CheckPrintsAtMostTheErrorLimit) {
  std::string text, errors;
  for (int i = 0; i < 3000; ++i) text += "Task t" + std::to_string(i) + " GPU;\n";
  for (int i = 0; i < 30; ++i) errors += "Task ;\n";
  const std::string warned = write("warned.map", text);
  const std::string wrong = write("wrong.map", errors + text);
  auto lines = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };

  auto r = run_mage("check --app cannon " + warned);
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 2000);
  EXPECT_EQ(lines(r.out), 20 * 3 + 1) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("warned.map:20:6: warning: the program has no task named 't19'"), std::string::npos);
  EXPECT_EQ(r.out.find("'t20'"), std::string::npos);
  EXPECT_TRUE(r.out.ends_with("... and 2980 more warnings; --error-limit 0 shows all\n")) << r.out.substr(0, 2000);

  r = run_mage("check --app cannon --error-limit 5 " + warned);
  EXPECT_EQ(lines(r.out), 5 * 3 + 1);
  r = run_mage("check --app cannon --error-limit 0 " + warned);
  EXPECT_EQ(lines(r.out), 3000 * 3);
  r = run_mage("check --app cannon --json " + warned);
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 3000u);

  // 30 errors and the parser's "too many errors".
  r = run_mage("check --app cannon " + wrong);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.ends_with("... and 11 more errors; --error-limit 0 shows all\n"))
      << r.out.substr(r.out.size() - 300);
  // fmt and place print the same way.
  r = run_mage("fmt " + wrong);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.out), 20 * 3 + 1) << r.out;
  r = run_mage("place --error-limit 2 " + wrong + " --nodes 1 --procs-per-node 1 --task t --single");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.ends_with("... and 29 more errors; --error-limit 0 shows all\n")) << r.out;
}

TEST_F(DslCli, PlaceTakesTheNamesOfRunAndTheOldOnes) {
  std::string f = write("cannon.map", kCannon);
  auto now = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task task_4 --domain 4,4");
  auto old = run_mage("place " + f + " --ranks 2 --procs 4 --task task_4 --domain 4,4");
  EXPECT_EQ(now.exit_code, 0) << now.out;
  EXPECT_EQ(now.out, old.out);
  auto help = run_mage("place --help");
  EXPECT_NE(help.out.find("--procs-per-node"), std::string::npos) << help.out;
  EXPECT_EQ(help.out.find("--ranks"), std::string::npos) << help.out;
  auto both = run_mage("place " + f + " --nodes 2 --ranks 2 --procs-per-node 4 --task task_4 --domain 4");
  EXPECT_EQ(both.exit_code, 1) << both.out;
  auto none = run_mage("place " + f + " --procs-per-node 4 --task task_4 --domain 4");
  EXPECT_EQ(none.exit_code, 1) << none.out;
  EXPECT_NE(none.out.find("--nodes"), std::string::npos) << none.out;
}

TEST_F(DslCli, PlaceOneAndThreeDimensionalLaunchesAndSets) {
  std::string f = write("p.map", R"(m = Machine(GPU);
def lin(Task t) { return m[t.ipoint[0] / 4, t.ipoint[0] % 4]; }
def node(Task t) { return m[t.ipoint[0] % 2, *]; }
def cube(Task t) { return m[t.ipoint[2] % 2, (t.ipoint[0] + t.ipoint[1]) % 4]; }
def col(Task t) { return m[*, 1]; }
IndexTaskMap a lin;
IndexTaskMap b node;
IndexTaskMap c cube;
IndexTaskMap d col;
)");
  auto r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task a --domain 8");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("(5) -> node 1 proc 1\n"), std::string::npos);
  r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task b --domain 3");
  EXPECT_EQ(r.out, "(0) -> node 0 proc *\n(1) -> node 1 proc *\n(2) -> node 0 proc *\n");
  r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task c --domain 2,2,2");
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 8);
  EXPECT_NE(r.out.find("(1,1,1) -> node 1 proc 2\n"), std::string::npos);
  r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task d --domain 1");
  EXPECT_EQ(r.out, "(0) -> {node 0 proc 1, node 1 proc 1}\n");
}

TEST_F(DslCli, PlaceDefaultsTheKindToTheTaskRuleAndUsesTheParent) {
  std::string f = write("k.map", R"(Task leaf CPU;
c = Machine(CPU);
def same(Task t) { return c[*t.parent.processor(c)]; }
SingleTaskMap leaf same;
)");
  auto r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task leaf --single --parent-proc 1,2");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "() -> node 1 proc 2\n");
}

TEST_F(DslCli, PlaceReportsEvaluationErrorsWithTaskAndPoint) {
  std::string f = write("e.map", "m = Machine(GPU);\ndef f(Task t) { return m[t.ipoint[0], 0]; }\nIndexTaskMap a f;\n");
  auto r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task a --domain 4");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("(0) -> node 0 proc 0\n(1) -> node 1 proc 0\n"), std::string::npos);
  EXPECT_NE(r.out.find(f + ":2:26: error: index 2 out of range for dimension 0 of size 2 (task a, point (2), in f)"),
            std::string::npos)
      << r.out;
}

TEST_F(DslCli, PlaceWithoutARuleOrWithBadOptionsFails) {
  std::string f = write("n.map", kCannon);
  auto r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task other --domain 4");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no IndexTaskMap rule applies to task other on GPU"), std::string::npos);
  EXPECT_EQ(run_mage("place " + f + " --nodes 0 --procs-per-node 4 --task task_4 --domain 4").exit_code, 1);
  EXPECT_EQ(run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task task_4").exit_code, 1);
  EXPECT_EQ(run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task task_4 --domain 2,2,2,2").exit_code, 1);
  EXPECT_EQ(run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task task_4 --domain 4 --kind TPU").exit_code, 1);
  EXPECT_EQ(run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task task_4 --single --parent-proc 5,0").exit_code,
            1);
}

TEST_F(DslCli, MapperErrorsAtBindTimeStopPlace) {
  std::string f = write("b.map", "m = Machine(GPU).split(1, 3);\n");
  auto r = run_mage("place " + f + " --nodes 2 --procs-per-node 4 --task a --domain 4");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("b.map:1:18: error: split: size 4 of dimension 1 is not divisible by 3"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace mage::test
