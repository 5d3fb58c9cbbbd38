// mage experiment end to end at small scale: a run and its report, --resume running nothing
// again, usage errors, and the llm optimizer with and without a model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "../test_support.h"
#include "run_mage.h"
#include "scripted_server.h"

namespace mage::test {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const std::string kSmall = " --scale small --seeds 2 --budget 2 --jobs 2";

TEST(ExperimentCli, RunsReportsAndResumesWithoutRunningAgain) {
  TempDir tmp;
  const std::string dir = tmp / "x";
  CommandResult r = run_mage("experiment --apps circuit,stencil --optimizers guided,random" + kSmall + " --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "experiment: 2 programs x 2 optimizers x 2 seeds on p100x4 in " + dir)) << r.out;
  EXPECT_TRUE(contains(r.out, "[8/8] ")) << r.out;
  EXPECT_TRUE(contains(r.out, "circuit guided seed 1: best ")) << r.out;
  EXPECT_TRUE(contains(r.out, "8 runs in ")) << r.out;
  EXPECT_TRUE(contains(r.out, "report: " + dir + "/report.md")) << r.out;
  const std::string report = read_text(dir + "/report.md");
  EXPECT_TRUE(contains(report, "| stencil | random | ")) << report;
  EXPECT_TRUE(contains(report, "## The machine's limit")) << report;
  for (const char* f :
       {"convergence-circuit.svg", "convergence-stencil.svg", "results.json", "runs/stencil/random-s2/journal.jsonl"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;

  const std::string journal = read_text(dir + "/runs/stencil/random-s2/journal.jsonl");
  CommandResult again =
      run_mage("experiment --apps circuit,stencil --optimizers guided,random" + kSmall + " --out " + dir + " --resume");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_TRUE(contains(again.out, "resuming the experiment: ")) << again.out;
  EXPECT_TRUE(contains(again.out, "(finished earlier)")) << again.out;
  EXPECT_TRUE(contains(again.out, "0 runs in ")) << again.out;
  EXPECT_TRUE(contains(again.out, "(8 finished earlier)")) << again.out;
  EXPECT_EQ(read_text(dir + "/runs/stencil/random-s2/journal.jsonl"), journal);
}

TEST(ExperimentCli, BadOptionsSayWhatIsWrong) {
  TempDir tmp;
  const std::string out = " --out " + (tmp / "x");
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--apps circuit,nope", "unknown program 'nope' (programs: circuit, stencil"},
      {"--optimizers guided,annealing", "unknown optimizer 'annealing'"},
      {"--seeds 0", "--seeds must be at least 1"},
      {"--budget 0", "--budget must be at least 1"},
      {"--budget-for bandit", "--budget-for takes OPTIMIZER=EVALUATIONS (e.g. bandit=1000), not 'bandit'"},
      {"--budget-for bandit=lots", "not 'bandit=lots'"},
      {"--optimizers guided --budget-for bandit=100",
       "a budget is given for bandit, which is not among the optimizers"},
      {"--jobs -1", "--jobs must be 0 (one per core) or more"},
      {"--scale huge", "--scale must be 'published' or 'small', not 'huge'"},
      {"--machine nowhere", "nowhere"},
      {"--start somewhere", "the start 'somewhere' is not default or expert"},
      {"--llm-url http://127.0.0.1:1/v1", "--llm-url and --llm-model are settings of the llm optimizer"},
      {"--resume", "there is no experiment to resume in"},
  };
  for (const Case& c : cases) {
    CommandResult r = run_mage("experiment " + c.args + out);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, "mage: error: ")) << c.args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, c.message)) << c.args << "\n" << r.out;
    EXPECT_FALSE(contains(r.out, "experiment: ")) << c.args << "\n" << r.out;  // no run announced
  }
  EXPECT_FALSE(fs::exists(tmp / "x"));

  ASSERT_EQ(
      run_mage("experiment --apps circuit --optimizers random --seeds 1 --budget 1 --scale small" + out).exit_code, 0);
  CommandResult again =
      run_mage("experiment --apps circuit --optimizers random --seeds 1 --budget 1 --scale small" + out);
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_TRUE(contains(again.out, "holds an experiment already")) << again.out;
  EXPECT_TRUE(contains(again.out, "continue it with --resume")) << again.out;
}

// An experiment.json that is not JSON (cut short, edited) is named with the place where it
// goes wrong, never with the JSON library's exception text (issue 14 §1).
TEST(ExperimentCli, AnUnreadableSettingsFileIsNamedWithItsPlace) {
  TempDir tmp;
  struct Case {
    std::string text, message;
  };
  const Case cases[] = {
      {"{\"format\": 1,\n  \"settings\": {\"machine\": ", "experiment.json:2:27: the text ends early, not valid JSON"},
      {"{\"format\": 1,\n\"settings\": [}", "experiment.json:2:14: unexpected byte here, not valid JSON"},
      {"[1, 2]", "experiment.json: no \"settings\" object"},
  };
  for (const Case& c : cases) {
    const fs::path dir = tmp / "x";
    fs::create_directories(dir);
    std::ofstream(dir / "experiment.json") << c.text;
    CommandResult r =
        run_mage("experiment --apps circuit --optimizers random --seeds 1 --budget 1 --scale small --resume --out " +
                 dir.string());
    EXPECT_EQ(r.exit_code, 1) << c.text << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, "mage: error: " + dir.string() + "/" + c.message)) << c.text << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, "it is not the settings file mage experiment writes")) << r.out;
    EXPECT_FALSE(contains(r.out, "json.exception")) << r.out;
  }
}

TEST(ExperimentCli, LlmIsSkippedWithoutAModelAndRunsWithOne) {
  llm::test::LlmEnvironment environment{"sk-experiment-cli-0ff1ce"};
  TempDir tmp;
  CommandResult without = run_mage(
      "experiment --apps circuit --optimizers llm,guided,bandit --scale small --seeds 1 "
      "--budget 2 --out " +
      (tmp / "without"));
  ASSERT_EQ(without.exit_code, 0) << without.out;
  EXPECT_TRUE(contains(without.out,
                       "skipping optimizer llm: no language model configured: pass --llm-url URL or set "
                       "MAGE_LLM_BASE_URL"))
      << without.out;
  EXPECT_TRUE(contains(without.out, "skipped optimizer llm (see the report)")) << without.out;
  EXPECT_TRUE(contains(without.out, "[2/2] ")) << without.out;
  EXPECT_TRUE(contains(read_text(tmp / "without/report.md"), "**Skipped: llm**"));

  llm::test::ScriptedServer server;
  server.push(llm::test::completion("```\nTask * GPU;\nRegion * * GPU FBMEM;\nRegion * * CPU SYSMEM;\n```"));
  CommandResult with = run_mage(
      "experiment --apps circuit --optimizers llm,guided,bandit --scale small --seeds 1 "
      "--budget 2 --llm-url " +
      server.base_url() + " --llm-model scripted --out " + (tmp / "with"));
  ASSERT_EQ(with.exit_code, 0) << with.out;
  EXPECT_FALSE(contains(with.out, "skipping")) << with.out;
  EXPECT_TRUE(contains(with.out, "circuit llm seed 1: best ")) << with.out;
  EXPECT_TRUE(contains(with.out, "[3/3] ")) << with.out;
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(contains(with.out, "sk-experiment-cli-0ff1ce"));
  EXPECT_TRUE(contains(read_text(tmp / "with/report.md"), "| circuit | llm | "));
}

}  // namespace
}  // namespace mage::test
