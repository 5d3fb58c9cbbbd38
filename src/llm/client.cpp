// The chat-completions client on libcurl: one POST per attempt, retries with exponential
// backoff and jitter (or the server's Retry-After) on what may pass, clear errors on what
// will not.
#include <curl/curl.h>
#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "llm/llm.h"

namespace mage::llm {

namespace {

// How much of a server's error body an error message quotes.
constexpr size_t kMaxQuote = 300;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view reason_phrase(long status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string http_status_text(long status) {
  auto phrase = reason_phrase(status);
  return phrase.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {} {}", status, phrase);
}

// One line, at most kMaxQuote characters, no control characters.
std::string quote_excerpt(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= kMaxQuote) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// What a server says went wrong: the OpenAI form {"error": {"message": ...}}, the plain
// {"error": "..."} of some local servers, or the start of the body.
std::string server_says(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_string()) return quote_excerpt(e.get<std::string>());
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      return quote_excerpt(e["message"].get<std::string>());
  }
  if (j.is_object() && j.contains("detail") && j["detail"].is_string())  // FastAPI servers (vLLM)
    return quote_excerpt(j["detail"].get<std::string>());
  return quote_excerpt(body);
}

std::string with_server_words(const std::string& status_text, const std::string& body) {
  std::string said = server_says(body);
  return said.empty() ? status_text : status_text + ": " + said;
}

// The Retry-After header: delay-seconds or an HTTP date.
std::optional<double> parse_retry_after(const char* value) {
  if (!value) return std::nullopt;
  std::string_view v(value);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (v.find_first_not_of("0123456789") == std::string_view::npos) {
    if (v.size() > 9) return 1e9;  // absurdly long: more than any cap
    return std::stod(std::string(v));
  }
  time_t when = curl_getdate(std::string(v).c_str(), nullptr);
  if (when == -1) return std::nullopt;
  return std::max(0.0, std::difftime(when, std::time(nullptr)));
}

bool is_transient(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string seconds_text(double s) { return s < 10 ? fmt::format("{:.3g} s", s) : fmt::format("{:.0f} s", s); }

// What one POST gave.
struct Exchange {
  CURLcode code = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;
  std::optional<double> retry_after_s;
  bool too_large = false;
  size_t max_bytes = 0;
};

size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  size_t n = size * count;
  if (exchange->body.size() + n > exchange->max_bytes) {
    exchange->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  exchange->body.append(data, n);
  return n;
}

Exchange send(const std::string& url, const std::string& body, const std::string& authorization,
              const ClientOptions& options) {
  Exchange exchange;
  exchange.max_bytes = options.max_reply_bytes;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    exchange.code = CURLE_FAILED_INIT;
    exchange.curl_error = curl_easy_strerror(exchange.code);
    return exchange;
  }
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "Accept: application/json");
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for large prompts
  if (!authorization.empty()) list = curl_slist_append(list, authorization.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, &curl_slist_free_all);

  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "mage");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(options.timeout_s * 1000)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::ceil(options.connect_timeout_s * 1000)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);

  exchange.code = curl_easy_perform(c);
  exchange.curl_error = error_buffer[0] ? error_buffer : curl_easy_strerror(exchange.code);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &exchange.status);
  curl_header* retry_after = nullptr;
  if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &retry_after) == CURLHE_OK)
    exchange.retry_after_s = parse_retry_after(retry_after->value);
  return exchange;
}

}  // namespace

Client::Client(Endpoint endpoint, ClientOptions options)
    : endpoint_(std::move(endpoint)),
      options_(std::move(options)),
      url_(endpoint_.base_url + "/chat/completions"),
      jitter_state_(options_.retry.seed) {
  init_curl_once();
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

Client::~Client() = default;

std::string Client::authorization_header() const {
  return endpoint_.api_key.empty() ? std::string() : "Authorization: Bearer " + endpoint_.api_key.value_;
}

std::chrono::milliseconds Client::backoff(int retry) {
  const auto& p = options_.retry;
  double delay = std::min(p.initial_backoff_s * std::ldexp(1.0, std::min(retry - 1, 60)), p.max_backoff_s);
  // Half fixed, half random: spreads clients that failed together without ever retrying at once.
  double unit = static_cast<double>(splitmix64(jitter_state_) >> 11) * 0x1.0p-53;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay * (0.5 + 0.5 * unit) * 1000)));
}

ChatReply Client::complete(const ChatRequest& request) {
  nlohmann::json body = request;
  body["model"] = endpoint_.model;
  body["stream"] = false;
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string key_hint = endpoint_.api_key.empty() ? "" : " in MAGE_LLM_API_KEY";
  auto fail = [&](Error::Kind kind, const std::string& message, long status, int attempts) {
    return Error(kind, endpoint_.api_key.redact(message), static_cast<int>(status), attempts);
  };

  ChatReply reply;
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  for (int attempt = 1;; ++attempt) {
    Exchange x = send(url_, text, authorization_header(), options_);
    std::string problem;  // set when the attempt may be retried
    if (x.too_large) {
      throw fail(Error::Kind::BadReply,
                 fmt::format("the reply of {} is larger than {} bytes; it is not a chat completion", url_,
                             options_.max_reply_bytes),
                 x.status, attempt);
    } else if (x.code == CURLE_OPERATION_TIMEDOUT) {
      problem = fmt::format("no reply within {}", seconds_text(options_.timeout_s));
    } else if (x.code != CURLE_OK && is_transient(x.code)) {
      problem = fmt::format("cannot reach it ({})", quote_excerpt(x.curl_error));
    } else if (x.code == CURLE_URL_MALFORMAT || x.code == CURLE_UNSUPPORTED_PROTOCOL) {
      throw fail(Error::Kind::Config,
                 fmt::format("the language model URL '{}' is not usable ({}): check --llm-url or MAGE_LLM_BASE_URL",
                             url_, quote_excerpt(x.curl_error)),
                 0, attempt);
    } else if (x.code != CURLE_OK) {
      throw fail(Error::Kind::Unavailable,
                 fmt::format("the request to {} failed: {}", url_, quote_excerpt(x.curl_error)), 0, attempt);
    } else if (x.status == 408 || x.status == 429 || x.status >= 500) {
      problem = with_server_words(http_status_text(x.status), x.body);
    } else if (x.status == 401 && endpoint_.api_key.empty()) {
      throw fail(Error::Kind::Auth,
                 fmt::format("the language model server at {} requires an API key ({}): set MAGE_LLM_API_KEY", url_,
                             with_server_words(http_status_text(x.status), x.body)),
                 x.status, attempt);
    } else if (x.status == 401 || x.status == 403) {
      throw fail(Error::Kind::Auth,
                 fmt::format("the language model server at {} refused the API key{} ({}): set MAGE_LLM_API_KEY to "
                             "a key that may use model '{}'",
                             url_, key_hint, with_server_words(http_status_text(x.status), x.body), endpoint_.model),
                 x.status, attempt);
    } else if (x.status == 404) {
      throw fail(Error::Kind::Rejected,
                 fmt::format("the language model server at {} answered {}: check the URL (--llm-url or "
                             "MAGE_LLM_BASE_URL; it usually ends in /v1) and the model name '{}' (--llm-model or "
                             "MAGE_LLM_MODEL)",
                             url_, with_server_words(http_status_text(x.status), x.body), endpoint_.model),
                 x.status, attempt);
    } else if (x.status >= 400) {
      throw fail(Error::Kind::Rejected,
                 fmt::format("the language model server at {} rejected the request ({})", url_,
                             with_server_words(http_status_text(x.status), x.body)),
                 x.status, attempt);
    } else if (x.status < 200 || x.status >= 300) {
      throw fail(Error::Kind::BadReply,
                 fmt::format("the language model server at {} answered {}, not a chat completion", url_,
                             http_status_text(x.status)),
                 x.status, attempt);
    }

    if (!problem.empty()) {
      if (attempt >= max_attempts)
        throw fail(Error::Kind::Unavailable,
                   fmt::format("the language model at {} is unavailable: {}; gave up after {} attempt{}", url_, problem,
                               attempt, attempt == 1 ? "" : "s"),
                   x.status, attempt);
      std::chrono::milliseconds wait = backoff(attempt);
      if (x.retry_after_s) {
        if (*x.retry_after_s > options_.retry.max_retry_after_s)
          throw fail(Error::Kind::Unavailable,
                     fmt::format("the language model at {} is unavailable: {}, and it asks to retry after {}, longer "
                                 "than the {} mage waits",
                                 url_, problem, seconds_text(*x.retry_after_s),
                                 seconds_text(options_.retry.max_retry_after_s)),
                     x.status, attempt);
        wait = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(*x.retry_after_s * 1000)));
      }
      reply.retries.push_back(
          endpoint_.api_key.redact(fmt::format("{}; waited {}", problem, seconds_text(wait.count() / 1000.0))));
      options_.sleep(wait);
      continue;
    }

    // A 2xx reply: it must be a chat completion with text in the first choice.
    auto not_completion = [&](const std::string& what) {
      return fail(Error::Kind::BadReply,
                  fmt::format("the reply of {} is not a chat completion: {} (is {} an OpenAI-compatible endpoint? it "
                              "usually ends in /v1)",
                              url_, what, endpoint_.base_url),
                  x.status, attempt);
    };
    auto j = nlohmann::json::parse(x.body, nullptr, false);
    if (j.is_discarded())
      throw not_completion("it is not JSON (it begins '" + quote_excerpt(x.body.substr(0, 80)) + "')");
    if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
      throw not_completion("it has no \"choices\"");
    const auto& choice = j["choices"][0];
    if (!choice.is_object() || !choice.contains("message") || !choice["message"].is_object())
      throw not_completion("choices[0] has no \"message\"");
    const auto& message = choice["message"];
    if (!message.contains("content") || !message["content"].is_string()) {
      std::string finish = choice.contains("finish_reason") && choice["finish_reason"].is_string()
                               ? ", finish_reason '" + choice["finish_reason"].get<std::string>() + "'"
                               : "";
      throw not_completion("choices[0].message has no text \"content\"" + finish);
    }
    reply.content = endpoint_.api_key.redact(message["content"].get<std::string>());
    if (j.contains("model") && j["model"].is_string()) reply.model = endpoint_.api_key.redact(j["model"]);
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
      reply.finish_reason = endpoint_.api_key.redact(choice["finish_reason"]);
    reply.attempts = attempt;
    return reply;
  }
}

void to_json(nlohmann::json& j, const Message& message) { j = {{"role", message.role}, {"content", message.content}}; }

void to_json(nlohmann::json& j, const ChatRequest& request) {
  j = {{"messages", request.messages}, {"temperature", request.temperature}, {"max_tokens", request.max_tokens}};
  if (request.seed) j["seed"] = *request.seed;
}

void to_json(nlohmann::json& j, const ChatReply& reply) {
  j = {{"content", reply.content},
       {"model", reply.model},
       {"finish_reason", reply.finish_reason},
       {"attempts", reply.attempts},
       {"retries", reply.retries}};
}

}  // namespace mage::llm
