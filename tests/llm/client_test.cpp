// The chat-completions client against the scripted server: success, every failure a user
// can meet, retries and their waits, and the key kept out of everything returned.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "llm/llm.h"
#include "scripted_server.h"

namespace mage::llm {
namespace {

using test::completion;
using test::error_reply;
using test::ScriptedReply;
using test::ScriptedServer;
using namespace std::chrono_literals;

constexpr const char* kKey = "sk-test-7f3a9c-SECRET";

// A client of `url` that records its waits instead of sleeping.
struct Harness {
  std::vector<std::chrono::milliseconds> waits;
  std::unique_ptr<Client> client;

  explicit Harness(const std::string& url, std::string key = "", RetryPolicy retry = {}, double timeout_s = 10) {
    Endpoint endpoint{url, "test-model", ApiKey(std::move(key))};
    ClientOptions options;
    options.timeout_s = timeout_s;
    options.retry = retry;
    options.sleep = [this](std::chrono::milliseconds d) { waits.push_back(d); };
    client = std::make_unique<Client>(std::move(endpoint), std::move(options));
  }
};

ChatRequest hello() {
  ChatRequest request;
  request.messages = {{"system", "You write mappers."}, {"user", "Say hello."}};
  request.temperature = 0.25;
  request.max_tokens = 123;
  return request;
}

// A reply asking to come back later.
ScriptedReply busy(int status, const std::string& message, const std::string& retry_after) {
  ScriptedReply reply = error_reply(status, message);
  reply.headers.emplace_back("Retry-After", retry_after);
  return reply;
}

// The Error a call throws (fails the test when it returns).
Error error_of(Client& client, const ChatRequest& request = hello()) {
  try {
    client.complete(request);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "complete() returned instead of throwing";
  return Error(Error::Kind::Config, "");
}

TEST(Client, PostsTheRequestAndReadsTheFirstChoice) {
  ScriptedServer server;
  server.push(completion("Hello."));
  Harness h(server.base_url());
  ChatReply reply = h.client->complete(hello());
  EXPECT_EQ(reply.content, "Hello.");
  EXPECT_EQ(reply.model, "scripted-model");
  EXPECT_EQ(reply.finish_reason, "stop");
  EXPECT_EQ(reply.attempts, 1);
  EXPECT_TRUE(reply.retries.empty());
  EXPECT_TRUE(h.waits.empty());

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/chat/completions");
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(requests[0].authorization, "");  // no key, no header
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["temperature"], 0.25);
  EXPECT_EQ(body["max_tokens"], 123);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["content"], "Say hello.");
  EXPECT_FALSE(body.contains("seed"));  // only when asked for
}

TEST(Client, SendsASeedWhenTheRequestHasOne) {
  ScriptedServer server;
  server.push(completion("ok"));
  Harness h(server.base_url());
  ChatRequest request = hello();
  request.seed = 42;
  h.client->complete(request);
  EXPECT_EQ(nlohmann::json::parse(server.requests().at(0).body)["seed"], 42);
}

TEST(Client, TrailingSlashOfTheBaseUrlDoesNotDoubleTheSlash) {
  ScriptedServer server;
  server.push(completion("ok"));
  auto endpoint = resolve_endpoint(server.base_url() + "/", "m", [](std::string_view) { return std::nullopt; });
  Client client(endpoint);
  EXPECT_EQ(client.complete(hello()).content, "ok");
  EXPECT_EQ(server.requests().at(0).path, "/v1/chat/completions");
}

TEST(Client, SendsTheKeyAsABearerToken) {
  ScriptedServer server;
  server.push(completion("ok"));
  Harness h(server.base_url(), kKey);
  h.client->complete(hello());
  EXPECT_EQ(server.requests().at(0).authorization, std::string("Bearer ") + kKey);
  // Never in the body.
  EXPECT_EQ(server.requests().at(0).body.find(kKey), std::string::npos);
}

TEST(Client, ABodyThatIsNotJsonIsAnImmediateError) {
  ScriptedServer server;
  server.push(ScriptedReply{200, "<html>proxy login</html>", {{"Content-Type", "text/html"}}, {}});
  Harness h(server.base_url());
  Error e = error_of(*h.client);
  EXPECT_EQ(e.kind(), Error::Kind::BadReply);
  EXPECT_NE(std::string(e.what()).find("not JSON"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("<html>proxy login</html>"), std::string::npos) << e.what();
  EXPECT_EQ(e.attempts(), 1);
  EXPECT_EQ(server.requests().size(), 1u);  // not retried
}

TEST(Client, JsonThatIsNotAChatCompletionIsAnImmediateError) {
  struct Case {
    std::string body;
    std::string says;
  };
  for (const Case& c :
       {Case{R"({"object": "list", "data": []})", "no \"choices\""}, Case{R"({"choices": []})", "no \"choices\""},
        Case{R"({"choices": [{"text": "legacy completion"}]})", "no \"message\""},
        Case{R"({"choices": [{"message": {"role": "assistant", "content": null},
                                 "finish_reason": "tool_calls"}]})",
             "no text \"content\", finish_reason 'tool_calls'"}}) {
    ScriptedServer server;
    server.push(ScriptedReply{200, c.body, {}, {}});
    Harness h(server.base_url());
    Error e = error_of(*h.client);
    EXPECT_EQ(e.kind(), Error::Kind::BadReply) << c.body;
    EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/v1"), std::string::npos) << e.what();
    EXPECT_EQ(server.requests().size(), 1u);
  }
}

TEST(Client, TooManyRequestsThenSuccessWaitsWhatRetryAfterSays) {
  ScriptedServer server;
  server.push(busy(429, "Rate limit reached", "3"));
  server.push(completion("after the wait"));
  Harness h(server.base_url());
  ChatReply reply = h.client->complete(hello());
  EXPECT_EQ(reply.content, "after the wait");
  EXPECT_EQ(reply.attempts, 2);
  ASSERT_EQ(h.waits.size(), 1u);
  EXPECT_EQ(h.waits[0], 3000ms);
  ASSERT_EQ(reply.retries.size(), 1u);
  EXPECT_NE(reply.retries[0].find("HTTP 429 Too Many Requests: Rate limit reached"), std::string::npos)
      << reply.retries[0];
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(Client, RetryAfterAsAnHttpDateInThePastMeansRetryNow) {
  ScriptedServer server;
  server.push(busy(503, "warming up", "Wed, 21 Oct 2015 07:28:00 GMT"));
  server.push(completion("ready"));
  Harness h(server.base_url());
  EXPECT_EQ(h.client->complete(hello()).content, "ready");
  ASSERT_EQ(h.waits.size(), 1u);
  EXPECT_EQ(h.waits[0], 0ms);
}

TEST(Client, RetryAfterLongerThanTheLimitStopsAtOnce) {
  ScriptedServer server;
  server.push(busy(429, "quota exhausted", "86400"));
  Harness h(server.base_url());
  Error e = error_of(*h.client);
  EXPECT_EQ(e.kind(), Error::Kind::Unavailable);
  EXPECT_EQ(e.http_status(), 429);
  EXPECT_NE(std::string(e.what()).find("asks to retry after 86400 s, longer than the 300 s mage waits"),
            std::string::npos)
      << e.what();
  EXPECT_TRUE(h.waits.empty());
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Client, ServerErrorsUntilTheAttemptsRunOut) {
  ScriptedServer server;
  for (int i = 0; i < 4; ++i) server.push(error_reply(500, "model crashed"));
  RetryPolicy retry;
  retry.max_attempts = 4;
  retry.initial_backoff_s = 1;
  retry.max_backoff_s = 3;
  Harness h(server.base_url(), "", retry);
  Error e = error_of(*h.client);
  EXPECT_EQ(e.kind(), Error::Kind::Unavailable);
  EXPECT_EQ(e.http_status(), 500);
  EXPECT_EQ(e.attempts(), 4);
  EXPECT_NE(std::string(e.what()).find("is unavailable: HTTP 500 Internal Server Error: model crashed; gave up after "
                                       "4 attempts"),
            std::string::npos)
      << e.what();
  EXPECT_EQ(server.requests().size(), 4u);
  // Exponential backoff capped at 3 s, each with jitter in [half, all] of it.
  ASSERT_EQ(h.waits.size(), 3u);
  const int64_t nominal[] = {1000, 2000, 3000};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GE(h.waits[i].count(), nominal[i] / 2) << i;
    EXPECT_LE(h.waits[i].count(), nominal[i]) << i;
  }
}

TEST(Client, TheJitterIsDeterministicGivenTheSeed) {
  auto waits_with_seed = [](uint64_t seed) {
    ScriptedServer server;
    for (int i = 0; i < 5; ++i) server.push(error_reply(502, "bad gateway"));
    RetryPolicy retry;
    retry.seed = seed;
    Harness h(server.base_url(), "", retry);
    error_of(*h.client);
    return h.waits;
  };
  auto first = waits_with_seed(7);
  EXPECT_EQ(first.size(), 4u);
  EXPECT_EQ(first, waits_with_seed(7));
  EXPECT_NE(first, waits_with_seed(8));
}

TEST(Client, AServerThatHangsTimesOut) {
  ScriptedServer server;
  for (int i = 0; i < 2; ++i) server.push(ScriptedReply{200, "{}", {}, 30s});
  RetryPolicy retry;
  retry.max_attempts = 2;
  Harness h(server.base_url(), "", retry, /*timeout_s=*/0.3);
  Error e = error_of(*h.client);
  EXPECT_EQ(e.kind(), Error::Kind::Unavailable);
  EXPECT_EQ(e.http_status(), 0);
  EXPECT_NE(std::string(e.what()).find("no reply within 0.3 s; gave up after 2 attempts"), std::string::npos)
      << e.what();
  EXPECT_EQ(h.waits.size(), 1u);
}

TEST(Client, ARefusedConnectionIsRetriedThenReported) {
  test::RefusingPort port;
  RetryPolicy retry;
  retry.max_attempts = 3;
  Harness h("http://127.0.0.1:" + std::to_string(port.port()) + "/v1", "", retry);
  Error e = error_of(*h.client);
  EXPECT_EQ(e.kind(), Error::Kind::Unavailable);
  EXPECT_EQ(e.attempts(), 3);
  EXPECT_NE(std::string(e.what()).find("cannot reach it"), std::string::npos) << e.what();
  EXPECT_EQ(h.waits.size(), 2u);
}

TEST(Client, UnauthorizedWithoutAKeyNamesTheVariableToSet) {
  ScriptedServer server;
  server.push(error_reply(401, "Missing bearer token"));
  Harness h(server.base_url());
  Error e = error_of(*h.client);
  EXPECT_EQ(e.kind(), Error::Kind::Auth);
  EXPECT_EQ(e.http_status(), 401);
  EXPECT_NE(std::string(e.what()).find("requires an API key"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("set MAGE_LLM_API_KEY"), std::string::npos) << e.what();
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(h.waits.empty());
}

TEST(Client, ARefusedKeyNamesTheVariableAndNeverTheKey) {
  for (int status : {401, 403}) {
    ScriptedServer server;
    server.push(error_reply(status, std::string("Incorrect API key provided: ") + kKey));
    Harness h(server.base_url(), kKey);
    Error e = error_of(*h.client);
    std::string what = e.what();
    EXPECT_EQ(e.kind(), Error::Kind::Auth);
    EXPECT_NE(what.find("refused the API key in MAGE_LLM_API_KEY"), std::string::npos) << what;
    EXPECT_NE(what.find("set MAGE_LLM_API_KEY to a key that may use model 'test-model'"), std::string::npos) << what;
    EXPECT_EQ(what.find(kKey), std::string::npos) << what;
    EXPECT_NE(what.find("Incorrect API key provided: [MAGE_LLM_API_KEY]"), std::string::npos) << what;
    EXPECT_EQ(server.requests().size(), 1u);
  }
}

TEST(Client, BadRequestAndNotFoundAreImmediateAndSayWhatToCheck) {
  {
    ScriptedServer server;
    server.push(error_reply(400, "This model's maximum context length is 8192 tokens"));
    Harness h(server.base_url());
    Error e = error_of(*h.client);
    EXPECT_EQ(e.kind(), Error::Kind::Rejected);
    EXPECT_EQ(e.http_status(), 400);
    EXPECT_NE(std::string(e.what()).find("rejected the request (HTTP 400 Bad Request: This model's maximum context"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(server.requests().size(), 1u);
  }
  {
    ScriptedServer server;
    server.push(ScriptedReply{404, R"({"detail": "Not Found"})", {}, {}});
    Harness h(server.base_url());
    Error e = error_of(*h.client);
    EXPECT_EQ(e.kind(), Error::Kind::Rejected);
    std::string what = e.what();
    EXPECT_NE(what.find("HTTP 404 Not Found: Not Found"), std::string::npos) << what;
    EXPECT_NE(what.find("--llm-url or MAGE_LLM_BASE_URL"), std::string::npos) << what;
    EXPECT_NE(what.find("model name 'test-model' (--llm-model or MAGE_LLM_MODEL)"), std::string::npos) << what;
    EXPECT_EQ(server.requests().size(), 1u);
  }
}

TEST(Client, TheKeyIsInNoErrorReplyOrRecord) {
  ScriptedServer server;
  // A server that echoes what it was sent, in errors and in content.
  const std::string echoed = std::string("Authorization: Bearer ") + kKey;
  server.push(error_reply(503, echoed));
  server.push(completion("you sent " + echoed));
  server.push(error_reply(500, echoed));
  server.push(error_reply(500, echoed));
  RetryPolicy retry;
  retry.max_attempts = 2;
  Harness h(server.base_url(), kKey, retry);

  ChatReply reply = h.client->complete(hello());
  EXPECT_EQ(reply.content, "you sent Authorization: Bearer [MAGE_LLM_API_KEY]");
  nlohmann::json record = {{"endpoint", h.client->endpoint()}, {"request", hello()}, {"reply", reply}};
  EXPECT_EQ(record.dump().find(kKey), std::string::npos) << record.dump();
  EXPECT_EQ(record["endpoint"]["api_key_set"], true);

  Error e = error_of(*h.client);
  EXPECT_EQ(std::string(e.what()).find(kKey), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("[MAGE_LLM_API_KEY]"), std::string::npos) << e.what();
  // It was sent each time, as a header only.
  for (const auto& r : server.requests()) EXPECT_EQ(r.authorization, std::string("Bearer ") + kKey);
}

TEST(Client, AnUnexpectedStatusIsNotTakenForACompletion) {
  ScriptedServer server;
  server.push(ScriptedReply{302, "", {{"Location", "http://elsewhere/"}}, {}});
  Harness h(server.base_url());
  Error e = error_of(*h.client);
  EXPECT_EQ(e.kind(), Error::Kind::BadReply);
  EXPECT_NE(std::string(e.what()).find("answered HTTP 302, not a chat completion"), std::string::npos) << e.what();
}

TEST(Client, AnOversizedReplyIsCutOff) {
  ScriptedServer server;
  server.push(completion(std::string(100'000, 'x')));
  Endpoint endpoint{server.base_url(), "m", {}};
  ClientOptions options;
  options.max_reply_bytes = 4096;
  Client client(endpoint, options);
  Error e = error_of(client);
  EXPECT_EQ(e.kind(), Error::Kind::BadReply);
  EXPECT_NE(std::string(e.what()).find("larger than 4096 bytes"), std::string::npos) << e.what();
  EXPECT_EQ(server.requests().size(), 1u);
}

}  // namespace
}  // namespace mage::llm
