// The llm optimizer in whole tuning runs against the scripted OpenAI-compatible server:
// an improving sequence, a syntax error then its fix, a whole mapper in a fenced block, an
// unusable reply sent back, a model that fails until the retries run out (a clean stop,
// the journal intact, and a resume that replays the journaled replies), the OPRO style, the
// feedback modes, and the key in no file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "../test_support.h"
#include "apps/apps.h"
#include "scripted_server.h"
#include "tune/tune.h"

namespace mage::tune {
namespace {

namespace fs = std::filesystem;
using llm::test::completion;
using llm::test::error_reply;
using llm::test::ScriptedServer;
using test::read_text;
using test::TempDir;

constexpr const char* kKey = "sk-tune-test-9d81e2";

// The expert mapper of circuit, whose sections the model edits: Task rules, Region rules
// with rp_shared and rp_ghost in zero-copy memory, SOA C_order, block1d placement.
constexpr const char* kExpertTask =
    "Task * GPU,OMP,CPU;\n"
    "Task calculate_new_currents,distribute_charge,update_voltages GPU;\n"
    "Task init_piece,init_pointers,print_summary CPU;\n";
// Everything of the GPU tasks in the framebuffer: faster than the expert's zero-copy
// shared and ghost nodes on this machine (issue 10's finding).
constexpr const char* kFramebufferRegion = "Region * * GPU FBMEM;\nRegion * * CPU SYSMEM;\n";

std::string sections_reply(const std::map<std::string, std::string>& sections, const std::string& reasoning = "r") {
  return nlohmann::json{{"reasoning", reasoning}, {"sections", sections}}.dump(2);
}

std::vector<nlohmann::json> journal_lines(const fs::path& dir) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(dir / "journal.jsonl"));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The user message of the i-th request the server received.
std::string prompt_of(const ScriptedServer& server, size_t i) {
  auto body = nlohmann::json::parse(server.requests().at(i).body);
  return body["messages"].back()["content"];
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class LlmTuning : public ::testing::Test {
 protected:
  Settings settings(int budget, std::map<std::string, std::string> options = {}) const {
    Settings s;
    s.program.app = "circuit";
    s.program.machine = "p100x4";
    s.program.scale = apps::Scale::Small;
    s.optimizer = "llm";
    s.budget = budget;
    s.seed = 3;
    s.start = "expert";
    s.options = {{"llm-url", server.base_url()}, {"llm-model", "scripted"}, {"attempts", "2"}, {"backoff", "0.001"}};
    for (auto& [k, v] : options) s.options[k] = v;
    return s;
  }

  llm::test::LlmEnvironment environment{kKey};
  ScriptedServer server;
  TempDir tmp;
  Execution x;
};

TEST_F(LlmTuning, AnImprovingSequenceEndsWithTheExpectedBestMapper) {
  const char* zero_copy = "Region * * GPU ZCMEM;\nRegion * * CPU SYSMEM;";
  server.push(completion(sections_reply({{"region", zero_copy}}, "try zero-copy memory")));  // slower
  server.push(completion(sections_reply({{"region", kFramebufferRegion}})));                 // faster
  server.push(completion(sections_reply({{"region", zero_copy}, {"layout", "Layout * * * AOS F_order;"}})));
  Summary s = run(settings(4), tmp / "run", x);

  ASSERT_EQ(s.trials.size(), 4u);
  for (const Trial& t : s.trials) EXPECT_TRUE(t.ok()) << t.number << ": " << t.result.outcome.message;
  const double expert = s.trials[0].score();
  EXPECT_GT(s.trials[1].score(), expert);
  EXPECT_LT(s.trials[2].score(), expert);
  EXPECT_GT(s.trials[3].score(), s.trials[2].score());
  ASSERT_TRUE(s.best);
  const Trial& best = s.trials[*s.best];
  EXPECT_EQ(best.number, 3);
  EXPECT_EQ(best.candidate.origin, "llm optoprime: region");
  EXPECT_EQ(best.candidate.parent, 2);
  EXPECT_TRUE(has(best.candidate.text, std::string(kExpertTask) + "\n" + kFramebufferRegion)) << best.candidate.text;
  EXPECT_FALSE(has(best.candidate.text, "ZCMEM"));
  EXPECT_TRUE(has(best.candidate.text, "IndexTaskMap calculate_new_currents"));  // the sections it kept
  EXPECT_EQ(read_text(tmp / "run/best.map"), best.candidate.text);

  // Each step's prompt: the program, the machine, the last evaluation's feedback, the history.
  ASSERT_EQ(server.requests().size(), 3u);
  std::string first = prompt_of(server, 0);
  Space space = Space::build(settings(1).program);
  EXPECT_TRUE(has(first, apps::describe(space.program())));
  EXPECT_TRUE(has(first, machine::describe(space.machine())));
  EXPECT_TRUE(has(first, "Region * rp_shared GPU ZCMEM;"));  // the expert's sections
  EXPECT_TRUE(has(first, fmt::format("#Outputs\nstatus: ok; simulated time {:.6g} s", expert)));
  EXPECT_TRUE(has(first, "critical path"));  // the raw message, shown in the default mode
  std::string second = prompt_of(server, 1);
  EXPECT_TRUE(has(second, "(code) region:\n```\nRegion * * GPU ZCMEM;\nRegion * * CPU SYSMEM;\n```"));
  EXPECT_TRUE(has(second, fmt::format("#Outputs\nstatus: ok; simulated time {:.6g} s", s.trials[1].score())));
  EXPECT_TRUE(has(second, "-- earlier mapper 1:"));  // the expert, with its feedback
  EXPECT_FALSE(has(second, "-- earlier mapper 2:"));
  std::string third = prompt_of(server, 2);
  EXPECT_TRUE(has(third, "-- earlier mapper 2:"));
}

TEST_F(LlmTuning, ASyntaxErrorIsAnIterationAndItsMessageTheNextFeedback) {
  server.push(completion(sections_reply({{"region", "Region * * GPU FBMEM\nRegion * * CPU SYSMEM;"}})));
  server.push(completion(sections_reply({{"region", kFramebufferRegion}})));
  Summary s = run(settings(3), tmp / "run", x);

  ASSERT_EQ(s.trials.size(), 3u);
  EXPECT_EQ(s.trials[1].result.outcome.status, sim::Status::MapperError);
  EXPECT_TRUE(s.trials[2].ok()) << s.trials[2].result.outcome.message;
  auto journal = journal_lines(tmp / "run");
  bool seen = false;
  for (const auto& j : journal)
    if (j["type"] == "evaluation" && j["number"] == 2) {
      seen = true;
      EXPECT_EQ(j["notes"]["llm"]["compiles"], false);
    }
  EXPECT_TRUE(seen);
  // The fix was asked with the compiler's message, on the model's own broken section.
  std::string second = prompt_of(server, 1);
  EXPECT_TRUE(has(second, "status: mapper error")) << second;
  EXPECT_TRUE(has(second, "candidate.map:")) << second;
  EXPECT_TRUE(has(second, s.trials[1].result.outcome.message));
  EXPECT_TRUE(has(second, "(code) region:\n```\nRegion * * GPU FBMEM\nRegion * * CPU SYSMEM;\n```"));
}

TEST_F(LlmTuning, AWholeMapperThatDoesNotCompileIsShownWithItsErrors) {
  server.push(completion("```\nTask * GPU\n```"));  // no ';'
  server.push(completion(sections_reply({{"region", kFramebufferRegion}})));
  Summary s = run(settings(3), tmp / "run", x);
  ASSERT_EQ(s.trials.size(), 3u);
  EXPECT_EQ(s.trials[1].result.outcome.status, sim::Status::MapperError);
  std::string second = prompt_of(server, 1);
  // The sections are still the expert's; the feedback names the mapper that failed.
  EXPECT_TRUE(has(second, "Region * rp_shared GPU ZCMEM;")) << second;
  EXPECT_TRUE(has(second,
                  "(about your last mapper, which did not compile, not the one in #Variables:)\n```\nTask * "
                  "GPU\n```\n" +
                      s.trials[1].result.outcome.message))
      << second;
  EXPECT_EQ(s.trials[2].candidate.parent, 1);  // built on the expert's sections
  EXPECT_TRUE(s.trials[2].ok());
}

TEST_F(LlmTuning, AReplyWithOnlyAFencedMapper) {
  const std::string mapper = std::string(kExpertTask) + kFramebufferRegion +
                             "Layout * * * SOA C_order;\n"
                             "mgpu = Machine(GPU);\n"
                             "def block1d(Task task) { return mgpu[task.ipoint[0] / mgpu.size[1], task.ipoint[0] % "
                             "mgpu.size[1]]; }\n"
                             "IndexTaskMap calculate_new_currents,distribute_charge,update_voltages block1d;\n";
  server.push(completion("Here is a faster mapper:\n```\n" + mapper + "```\nIt keeps everything in the framebuffer."));
  Summary s = run(settings(2), tmp / "run", x);
  ASSERT_EQ(s.trials.size(), 2u);
  EXPECT_EQ(s.trials[1].candidate.text, mapper);
  EXPECT_EQ(s.trials[1].candidate.origin, "llm optoprime: a whole mapper");
  EXPECT_TRUE(s.trials[1].ok()) << s.trials[1].result.outcome.message;
  EXPECT_LT(s.trials[1].score(), s.trials[0].score());
}

TEST_F(LlmTuning, AnUnusableReplyIsSentBackWithTheReason) {
  server.push(completion("I would keep everything in the framebuffer."));
  server.push(completion(sections_reply({{"region", kFramebufferRegion}})));
  Summary s = run(settings(2), tmp / "run", x);
  ASSERT_EQ(s.trials.size(), 2u);
  EXPECT_TRUE(s.trials[1].ok());
  const auto& exchanges = s.trials[1].candidate.notes["llm"]["exchanges"];
  ASSERT_EQ(exchanges.size(), 2u);
  EXPECT_TRUE(has(exchanges[0]["unusable"], "neither a JSON object"));
  auto retry = nlohmann::json::parse(server.requests().at(1).body)["messages"];
  ASSERT_EQ(retry.size(), 4u);  // system, user, the unusable reply, the reason
  EXPECT_EQ(retry[2]["role"], "assistant");
  EXPECT_EQ(retry[2]["content"], "I would keep everything in the framebuffer.");
  EXPECT_TRUE(has(retry[3]["content"], "Your reply could not be used: your reply holds neither"));
}

TEST_F(LlmTuning, RepliesThatNeverHoldAMapperStopTheRun) {
  for (int i = 0; i < 3; ++i) server.push(completion("No."));
  Summary s = run(settings(3), tmp / "run", x);
  EXPECT_EQ(s.trials.size(), 1u);
  EXPECT_TRUE(has(s.stopped, "held no usable mapper 3 times in a row")) << s.stopped;
  EXPECT_TRUE(has(s.stopped, "(it began: \"No.\")")) << s.stopped;
}

TEST_F(LlmTuning, AModelThatFailsUntilTheRetriesRunOutStopsCleanlyAndResumes) {
  server.push(completion(sections_reply({{"region", kFramebufferRegion}})));
  server.push(error_reply(500, "out of GPU memory"));
  server.push(error_reply(500, "out of GPU memory"));
  Summary s = run(settings(4), tmp / "run", x);

  ASSERT_EQ(s.trials.size(), 2u);
  EXPECT_TRUE(has(s.stopped, "the language model stopped the run")) << s.stopped;
  EXPECT_TRUE(has(s.stopped, "HTTP 500 Internal Server Error: out of GPU memory; gave up after 2 attempts"))
      << s.stopped;
  EXPECT_EQ(server.requests().size(), 3u);
  // The journal holds the run, the start, the references and evaluation 2; the outputs exist.
  auto journal = journal_lines(tmp / "run");
  int evaluations = 0;
  for (const auto& j : journal) evaluations += j["type"] == "evaluation";
  EXPECT_EQ(evaluations, 2);
  EXPECT_TRUE(fs::exists(tmp / "run/best.map"));
  auto summary = nlohmann::json::parse(read_text(tmp / "run/summary.json"));
  EXPECT_TRUE(has(summary["stopped"], "the language model stopped the run"));
  EXPECT_TRUE(has(read_text(tmp / "run/report.md"), "The run stopped early"));

  // The model is back: the resumed run replays evaluation 2's reply from the journal
  // (no request for it) and asks only for the new steps.
  server.push(completion(sections_reply({{"layout", "Layout * * * SOA F_order;"}})));
  server.push(completion(sections_reply({{"layout", "Layout * * * SOA C_order;"}})));
  Summary resumed = resume(tmp / "run", x);
  EXPECT_TRUE(resumed.stopped.empty()) << resumed.stopped;
  ASSERT_EQ(resumed.trials.size(), 4u);
  EXPECT_EQ(resumed.trials[1].candidate.text, s.trials[1].candidate.text);
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_TRUE(has(resumed.trials[2].candidate.text, "Layout * * * SOA F_order;"));
}

TEST_F(LlmTuning, OproSeesOnlyTheHistoryAndScalarFeedbackOnlyTheTime) {
  server.push(completion("```\n" + std::string(kExpertTask) + kFramebufferRegion + "```\n"));
  Summary s = run(settings(2, {{"style", "opro"}, {"feedback", "scalar"}}), tmp / "run", x);
  ASSERT_EQ(s.trials.size(), 2u);
  EXPECT_EQ(s.trials[1].candidate.origin, "llm opro: a whole mapper");
  std::string prompt = prompt_of(server, 0);
  auto messages = nlohmann::json::parse(server.requests().at(0).body)["messages"];
  EXPECT_EQ(messages.size(), 1u);                             // no system part
  EXPECT_TRUE(has(prompt, "Region * rp_shared GPU ZCMEM;"));  // the start mapper
  EXPECT_TRUE(has(prompt, fmt::format("status: ok; simulated time {:.6g} s", s.trials[0].score())));
  EXPECT_FALSE(has(prompt, "critical path"));  // the raw message is not scalar
  EXPECT_FALSE(has(prompt, "#Documentation"));
  EXPECT_FALSE(has(prompt, "program circuit"));
}

TEST_F(LlmTuning, FeedbackModesSelectWhatTheModelSees) {
  for (const std::string mode : {"scalar", "raw", "explain", "suggest"}) {
    ScriptedServer local;
    local.push(completion(sections_reply({{"region", kFramebufferRegion}})));
    Settings set = settings(2, {{"feedback", mode}});
    set.options["llm-url"] = local.base_url();
    TempDir dir;
    Summary s = run(set, dir / "run", x);
    // The start's feedback, from the feedback module.
    const guide::Feedback& start = s.trials.at(0).feedback;
    ASSERT_FALSE(start.explanation.empty());
    ASSERT_FALSE(start.suggestions.empty());
    std::string prompt = prompt_of(local, 0);
    EXPECT_EQ(has(prompt, "(only the outcome is reported)"), mode == "scalar") << mode;
    EXPECT_EQ(has(prompt, "critical path"), mode != "scalar") << mode;
    EXPECT_EQ(has(prompt, "explanation:\n" + start.explanation), mode == "explain" || mode == "suggest") << mode;
    EXPECT_EQ(has(prompt, "suggestions:\n1. " + start.suggestions[0]), mode == "suggest") << mode;
  }
}

TEST_F(LlmTuning, TheKeyIsSentAndWrittenNowhere) {
  server.push(completion(sections_reply({{"region", kFramebufferRegion}})));
  server.push(error_reply(503, std::string("echo: Bearer ") + kKey));
  server.push(error_reply(503, std::string("echo: Bearer ") + kKey));
  Summary s = run(settings(3), tmp / "run", x);
  EXPECT_FALSE(s.stopped.empty());
  EXPECT_FALSE(has(s.stopped, kKey)) << s.stopped;
  for (const auto& r : server.requests()) {
    EXPECT_EQ(r.authorization, std::string("Bearer ") + kKey);
    EXPECT_FALSE(has(r.body, kKey));
  }
  for (const auto& entry : fs::directory_iterator(tmp / "run"))
    EXPECT_FALSE(has(read_text(entry.path()), kKey)) << entry.path();
  // The journal has every exchange, with the endpoint but no key.
  bool found = false;
  for (const auto& j : journal_lines(tmp / "run"))
    if (j["type"] == "evaluation" && j["number"] == 2) {
      found = true;
      const auto& llm = j["notes"]["llm"];
      EXPECT_EQ(llm["endpoint"]["api_key_set"], true);
      EXPECT_EQ(llm["exchanges"].size(), 1u);
      EXPECT_TRUE(has(llm["exchanges"][0]["request"]["messages"][1]["content"], "#Instruction"));
      EXPECT_TRUE(has(llm["exchanges"][0]["reply"]["content"], "\"sections\""));
    }
  EXPECT_TRUE(found);
}

TEST_F(LlmTuning, WithoutAModelTheRunDoesNotStart) {
  Settings s = settings(2);
  s.options.erase("llm-url");
  try {
    run(s, tmp / "run", x);
    FAIL() << "ran";
  } catch (const TuneError& e) {
    EXPECT_TRUE(has(e.what(), "--llm-url")) << e.what();
    EXPECT_TRUE(has(e.what(), "MAGE_LLM_BASE_URL")) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp / "run"));
  s.options["llm-url"] = server.base_url();
  s.options["style"] = "trace";
  EXPECT_THROW(run(s, tmp / "run", x), TuneError);
  s.options.erase("style");
  s.options["history"] = "2.5";
  EXPECT_THROW(run(s, tmp / "run", x), TuneError);
  s.options.erase("history");
  s.options["colour"] = "blue";
  EXPECT_THROW(run(s, tmp / "run", x), TuneError);
  EXPECT_FALSE(fs::exists(tmp / "run"));
}

}  // namespace
}  // namespace mage::tune
