// The prompts: what each holds, what each feedback mode shows, and that what goes over the
// wire holds the program, the machine and the feedback but never the key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dsl/dsl.h"
#include "llm/llm.h"
#include "scripted_server.h"

namespace mage::llm {
namespace {

const char* kProgram = "circuit: 3 tasks; calculate_new_currents GPU,CPU variants; region rp_shared ...";
const char* kMachine = "p100x4: 1 node, 4 GPUs (P100, 16 GiB FBMEM each), 2 CPU sockets";

Feedback sample_feedback() {
  Feedback f;
  f.status = "ok";
  f.time_s = 2.451;
  f.message = "simulated time 2.451 s; 609 point tasks";
  f.explanation = "copies of rp_shared between FBMEM and ZCMEM dominate calculate_new_currents";
  f.suggestions = "Region * rp_shared GPU FBMEM;";
  return f;
}

PromptInput sample_input(FeedbackMode mode) {
  PromptInput input;
  input.program = kProgram;
  input.machine = kMachine;
  input.current[Section::Task] = "Task * GPU,OMP,CPU;\n";
  input.current[Section::Region] = "Region * * GPU FBMEM;\nRegion * rp_shared GPU ZCMEM;\n";
  input.feedback = sample_feedback();
  Feedback failed;
  failed.status = "mapper error";
  failed.message = "mapper.map:3:1: error: unknown name 'mgpu'";
  failed.explanation = "the function uses mgpu before it is defined";
  failed.suggestions = "define it first: mgpu = Machine(GPU);";
  input.history = {{"Task * CPU;\n", sample_feedback()}, {"def f(Task t) { return mgpu[0, 0]; }\n", failed}};
  input.mode = mode;
  return input;
}

std::string user_text(const std::vector<Message>& messages) {
  EXPECT_FALSE(messages.empty());
  EXPECT_EQ(messages.back().role, "user");
  return messages.back().content;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(FeedbackMode, NamesRoundTrip) {
  for (auto mode : {FeedbackMode::Scalar, FeedbackMode::Raw, FeedbackMode::Explain, FeedbackMode::Suggest})
    EXPECT_EQ(parse_feedback_mode(to_string(mode)), mode);
  EXPECT_EQ(parse_feedback_mode("verbose"), std::nullopt);
}

TEST(FeedbackMode, EachModeShowsItsPartsAndNoMore) {
  Feedback f = sample_feedback();
  std::string scalar = render_feedback(f, FeedbackMode::Scalar);
  EXPECT_EQ(scalar, "status: ok; simulated time 2.451 s\n");
  std::string raw = render_feedback(f, FeedbackMode::Raw);
  EXPECT_TRUE(has(raw, f.message));
  EXPECT_FALSE(has(raw, f.explanation));
  std::string explain = render_feedback(f, FeedbackMode::Explain);
  EXPECT_TRUE(has(explain, f.message));
  EXPECT_TRUE(has(explain, f.explanation));
  EXPECT_FALSE(has(explain, f.suggestions));
  std::string suggest = render_feedback(f, FeedbackMode::Suggest);
  EXPECT_EQ(suggest, "status: ok; simulated time 2.451 s\nmessage:\n" + f.message + "\nexplanation:\n" + f.explanation +
                         "\nsuggestions:\n" + f.suggestions + "\n");
  Feedback failed;
  failed.status = "out of memory";
  EXPECT_EQ(render_feedback(failed, FeedbackMode::Suggest), "status: out of memory\n");
}

TEST(OptoPrimePrompt, HoldsEveryPartOfTheProblem) {
  auto messages = optoprime_prompt(sample_input(FeedbackMode::Suggest));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].role, "system");
  EXPECT_TRUE(has(messages[0].content, "\"reasoning\""));
  EXPECT_TRUE(has(messages[0].content, "\"sections\""));
  std::string user = user_text(messages);
  size_t last = 0;
  for (const char* part :
       {"#Instruction", "#Code", "#Documentation", "#Variables", "#Constraints", "#Inputs", "#Outputs", "#Feedback"}) {
    size_t at = user.find(std::string(part) + "\n");
    ASSERT_NE(at, std::string::npos) << part;
    EXPECT_GE(at, last) << part << " out of order";
    last = at + 1;
  }
  EXPECT_TRUE(has(user, "Make this program faster on this machine"));
  EXPECT_TRUE(has(user, dsl::language_reference()));
  EXPECT_TRUE(has(user, kProgram));
  EXPECT_TRUE(has(user, kMachine));
  for (Section s : kSections) {
    EXPECT_TRUE(has(user, "(code) " + std::string(section_key(s)) + ":\n```\n")) << section_key(s);
    EXPECT_TRUE(has(user, std::string(section_key(s)) + ": " + std::string(section_description(s))));
  }
  EXPECT_TRUE(has(user, "```\nRegion * * GPU FBMEM;\nRegion * rp_shared GPU ZCMEM;\n```\n"));
  EXPECT_TRUE(has(user, "#Outputs\nstatus: ok; simulated time 2.451 s\n"));
  // The history: both earlier mappers with their feedback, oldest first.
  size_t first = user.find("Task * CPU;");
  size_t second = user.find("def f(Task t) { return mgpu[0, 0]; }");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_TRUE(has(user, "unknown name 'mgpu'"));
}

TEST(OptoPrimePrompt, ShowsTheFeedbackTheModeSelects) {
  Feedback f = sample_feedback();
  struct Expect {
    FeedbackMode mode;
    bool message, explanation, suggestions;
  };
  for (const Expect& e :
       {Expect{FeedbackMode::Scalar, false, false, false}, Expect{FeedbackMode::Raw, true, false, false},
        Expect{FeedbackMode::Explain, true, true, false}, Expect{FeedbackMode::Suggest, true, true, true}}) {
    std::string user = user_text(optoprime_prompt(sample_input(e.mode)));
    SCOPED_TRACE(std::string(to_string(e.mode)));
    EXPECT_TRUE(has(user, "status: ok; simulated time 2.451 s"));
    EXPECT_EQ(has(user, f.message), e.message);
    EXPECT_EQ(has(user, f.explanation), e.explanation);
    EXPECT_EQ(has(user, "suggestions:\n" + f.suggestions), e.suggestions);
    // The history follows the same mode.
    EXPECT_EQ(has(user, "the function uses mgpu before it is defined"), e.explanation);
    EXPECT_EQ(has(user, "unknown name 'mgpu'"), e.message);
    EXPECT_EQ(has(user, "(only the outcome is reported)"), e.mode == FeedbackMode::Scalar);
  }
}

TEST(OproPrompt, HoldsOnlyTheHistoryBestLast) {
  Feedback slow = sample_feedback();
  slow.time_s = 5.0;
  Feedback fast = sample_feedback();
  fast.time_s = 1.5;
  Feedback failed;
  failed.status = "out of memory";
  failed.message = "FBMEM of GPU 0 is full";
  std::vector<Attempt> history = {{"# fast\n", fast}, {"# failed\n", failed}, {"# slow\n", slow}};
  auto messages = opro_prompt(history, FeedbackMode::Raw);
  ASSERT_EQ(messages.size(), 1u);
  std::string user = user_text(messages);
  size_t f = user.find("# failed"), s = user.find("# slow"), q = user.find("# fast");
  ASSERT_NE(f, std::string::npos);
  ASSERT_NE(s, std::string::npos);
  ASSERT_NE(q, std::string::npos);
  EXPECT_LT(f, s);
  EXPECT_LT(s, q);
  EXPECT_TRUE(has(user, "FBMEM of GPU 0 is full"));
  EXPECT_FALSE(has(user, slow.explanation));  // raw mode
  EXPECT_TRUE(has(user, "faster than the best of them"));
  EXPECT_TRUE(has(user, "fenced block"));
  EXPECT_FALSE(has(user, "#Documentation"));
  EXPECT_FALSE(has(user, "THE MAPPING LANGUAGE"));
}

TEST(Prompts, WhatGoesOverTheWireHoldsTheInputsAndNeverTheKey) {
  const std::string key = "sk-prompt-test-4242";
  test::ScriptedServer server;
  server.push(test::completion("{}"));
  server.push(test::completion("{}"));
  Client client(Endpoint{server.base_url(), "m", ApiKey(key)});
  for (auto messages : {optoprime_prompt(sample_input(FeedbackMode::Suggest)),
                        opro_prompt(sample_input(FeedbackMode::Suggest).history, FeedbackMode::Suggest)}) {
    ChatRequest request;
    request.messages = messages;
    client.complete(request);
  }
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  auto optoprime = nlohmann::json::parse(requests[0].body);
  std::string user = optoprime["messages"][1]["content"];
  EXPECT_TRUE(has(user, kProgram));
  EXPECT_TRUE(has(user, kMachine));
  EXPECT_TRUE(has(user, sample_feedback().explanation));
  EXPECT_TRUE(has(user, sample_feedback().suggestions));
  for (const auto& r : requests) {
    EXPECT_FALSE(has(r.body, key));
    EXPECT_EQ(r.authorization, "Bearer " + key);
  }
}

}  // namespace
}  // namespace mage::llm
