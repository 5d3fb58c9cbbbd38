#include "scripted_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mage::llm::test {

ScriptedReply completion(const std::string& content, const std::string& finish_reason) {
  nlohmann::json body = {
      {"id", "chatcmpl-test"},
      {"object", "chat.completion"},
      {"model", "scripted-model"},
      {"choices",
       {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", finish_reason}}}},
      {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}};
  return ScriptedReply{200, body.dump(), {{"Content-Type", "application/json"}}, {}};
}

ScriptedReply error_reply(int status, const std::string& message) {
  nlohmann::json body = {{"error", {{"message", message}, {"type", "test_error"}}}};
  return ScriptedReply{status, body.dump(), {{"Content-Type", "application/json"}}, {}};
}

ScriptedServer::ScriptedServer() {
  server_.Post("/v1/chat/completions",
               [this](const httplib::Request& request, httplib::Response& response) { handle(request, response); });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("scripted server: cannot bind a loopback port");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // listen_after_bind has the socket listening already (bind_to_any_port listens); wait
  // until the accept loop runs so that stop() cannot come first.
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

ScriptedServer::~ScriptedServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  server_.stop();
  thread_.join();
}

void ScriptedServer::push(ScriptedReply reply) {
  std::lock_guard lock(mutex_);
  replies_.push_back(std::move(reply));
}

std::string ScriptedServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

std::vector<RecordedRequest> ScriptedServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ScriptedServer::handle(const httplib::Request& request, httplib::Response& response) {
  ScriptedReply reply;
  {
    std::unique_lock lock(mutex_);
    requests_.push_back(RecordedRequest{request.method, request.path, request.get_header_value("Authorization"),
                                        request.get_header_value("Content-Type"), request.body});
    if (replies_.empty()) {
      reply = error_reply(500, "the scripted server has no reply left");
    } else {
      reply = std::move(replies_.front());
      replies_.pop_front();
    }
    if (reply.delay.count() > 0) stopping_cv_.wait_for(lock, reply.delay, [this] { return stopping_; });
  }
  response.status = reply.status;
  std::string content_type = "application/json";
  for (const auto& [name, value] : reply.headers) {
    if (name == "Content-Type")
      content_type = value;
    else
      response.set_header(name, value);
  }
  response.set_content(reply.body, content_type);
}

LlmEnvironment::LlmEnvironment(const std::string& key) {
  ::setenv("MAGE_LLM_API_KEY", key.c_str(), 1);
  ::unsetenv("MAGE_LLM_BASE_URL");
  ::unsetenv("MAGE_LLM_MODEL");
}

LlmEnvironment::~LlmEnvironment() { ::unsetenv("MAGE_LLM_API_KEY"); }

RefusingPort::RefusingPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("refusing port: no socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd_);
    throw std::runtime_error("refusing port: cannot bind");
  }
  port_ = ntohs(address.sin_port);
}

RefusingPort::~RefusingPort() { ::close(fd_); }

}  // namespace mage::llm::test
