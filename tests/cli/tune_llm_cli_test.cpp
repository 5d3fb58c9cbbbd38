// mage tune --optimizer llm end to end, against the scripted OpenAI-compatible server: a
// run, its flags, a model that cannot be reached, no model configured, and the key in no
// output and no file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "../test_support.h"
#include "run_mage.h"
#include "scripted_server.h"

namespace mage::test {
namespace {

namespace fs = std::filesystem;
using llm::test::completion;

constexpr const char* kKey = "sk-cli-test-5c0ffee";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class TuneLlmCli : public ::testing::Test {
 protected:
  llm::test::LlmEnvironment environment{kKey};
  TempDir tmp;
};

std::string reply_with_region(const std::string& region) {
  return nlohmann::json{{"reasoning", "keep the data in the framebuffer"}, {"sections", {{"region", region}}}}.dump();
}

TEST_F(TuneLlmCli, ARunWithTheFlagsAndNoKeyAnywhere) {
  llm::test::ScriptedServer server;
  server.push(completion(reply_with_region("Region * * GPU FBMEM;\nRegion * * CPU SYSMEM;")));
  server.push(completion("```\nTask * GPU;\n```"));
  const std::string dir = tmp / "run";
  CommandResult r = run_mage(
      "tune circuit --machine p100x4 --scale small --optimizer llm --budget 3 --start expert "
      "--style optoprime --feedback raw --llm-url " +
      server.base_url() + " --llm-model scripted --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "llm optoprime: region")) << r.out;
  EXPECT_TRUE(contains(r.out, "llm optoprime: a whole mapper")) << r.out;
  EXPECT_FALSE(contains(r.out, kKey));
  ASSERT_EQ(server.requests().size(), 2u);
  for (const auto& request : server.requests()) EXPECT_EQ(request.authorization, std::string("Bearer ") + kKey);
  EXPECT_TRUE(contains(server.requests()[0].body, "critical path"));  // --feedback raw
  for (const auto& entry : fs::directory_iterator(dir)) EXPECT_FALSE(contains(read_text(entry.path()), kKey));
  EXPECT_TRUE(contains(read_text(dir + "/journal.jsonl"), "\"exchanges\""));
  EXPECT_TRUE(contains(read_text(dir + "/report.md"), "--option llm-url=" + server.base_url()));
}

TEST_F(TuneLlmCli, AnUnreachableModelStopsTheRunWithAMessageAndKeepsTheJournal) {
  llm::test::RefusingPort port;
  const std::string dir = tmp / "run";
  CommandResult r = run_mage(
      "tune circuit --machine p100x4 --scale small --optimizer llm --budget 3 --llm-url "
      "http://127.0.0.1:" +
      std::to_string(port.port()) + "/v1 --llm-model m --option attempts=2 --option backoff=0.001 --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "the run stopped: the language model stopped the run")) << r.out;
  EXPECT_TRUE(contains(r.out, "cannot reach it")) << r.out;
  EXPECT_TRUE(contains(r.out, "gave up after 2 attempts")) << r.out;
  EXPECT_TRUE(contains(r.out, "continue it with: mage tune --resume " + dir)) << r.out;
  EXPECT_TRUE(contains(read_text(dir + "/journal.jsonl"), "\"start: the default mapper\"")) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/summary.json"));
  EXPECT_FALSE(contains(r.out, kKey));
}

TEST_F(TuneLlmCli, WithoutAModelNothingStarts) {
  const std::string dir = tmp / "run";
  CommandResult r = run_mage("tune circuit --machine p100x4 --optimizer llm --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "pass --llm-url URL or set MAGE_LLM_BASE_URL")) << r.out;
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(TuneLlmCli, TheLlmFlagsBelongToTheLlmOptimizer) {
  CommandResult r = run_mage("tune circuit --machine p100x4 --optimizer random --feedback raw --out " + (tmp / "r"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "--feedback is a setting of --optimizer llm")) << r.out;
  CommandResult bad = run_mage(
      "tune circuit --machine p100x4 --optimizer llm --feedback loud --llm-url http://h/v1 "
      "--llm-model m --out " +
      (tmp / "r"));
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_TRUE(contains(bad.out, "feedback 'loud' is not scalar, raw, explain or suggest")) << bad.out;
  CommandResult resume = run_mage("tune --resume " + (tmp / "r") + " --style opro");
  EXPECT_EQ(resume.exit_code, 1) << resume.out;
  EXPECT_TRUE(contains(resume.out, "--style cannot be given with it")) << resume.out;
}

}  // namespace
}  // namespace mage::test
