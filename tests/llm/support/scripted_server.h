// A scripted OpenAI-compatible server for the tests: it listens on a loopback port,
// answers POST /v1/chat/completions with the replies it was given, in order, and records
// every request. No real model is involved.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mage::llm::test {

struct ScriptedReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Wait this long before answering (a hang: longer than the client's timeout). Cut short
  // when the server stops.
  std::chrono::milliseconds delay{0};
};

// A 200 chat completion whose first choice says `content`.
ScriptedReply completion(const std::string& content, const std::string& finish_reason = "stop");
// An error reply in the OpenAI form {"error": {"message": ...}}.
ScriptedReply error_reply(int status, const std::string& message);

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string authorization;  // the Authorization header ("" when absent)
  std::string content_type;
  std::string body;
};

class ScriptedServer {
 public:
  ScriptedServer();
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  void push(ScriptedReply reply);
  // "http://127.0.0.1:PORT/v1"
  std::string base_url() const;
  std::vector<RecordedRequest> requests() const;

 private:
  void handle(const httplib::Request& request, httplib::Response& response);

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable stopping_cv_;
  bool stopping_ = false;
  std::deque<ScriptedReply> replies_;
  std::vector<RecordedRequest> requests_;
};

// The MAGE_LLM_* environment of a test: the key set to `key`, no URL or model (so only
// what the test passes counts); the variables are unset again at the end.
class LlmEnvironment {
 public:
  explicit LlmEnvironment(const std::string& key);
  ~LlmEnvironment();
  LlmEnvironment(const LlmEnvironment&) = delete;
  LlmEnvironment& operator=(const LlmEnvironment&) = delete;
};

// A loopback port on which nothing listens: a socket bound to it and never listening, held
// for the object's lifetime, so connecting is refused and no other test can take the port.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace mage::llm::test
