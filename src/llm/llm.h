// Public interface of the language-model layer (module `llm`): a client for servers that
// speak the OpenAI chat-completions API (hosted services, llama.cpp's server, Ollama,
// vLLM), the prompts of the language-model optimizer, and the extraction of a new mapper
// from a model's reply. Other modules include only this header.
//
// The API key is read from MAGE_LLM_API_KEY only and leaves the process only as the
// bearer token of a request: no message, record or JSON produced here contains it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mage::dsl {
class Unit;
}

namespace mage::llm {

// ---------------------------------------------------------------- configuration

inline constexpr std::string_view kBaseUrlVariable = "MAGE_LLM_BASE_URL";
inline constexpr std::string_view kModelVariable = "MAGE_LLM_MODEL";
inline constexpr std::string_view kApiKeyVariable = "MAGE_LLM_API_KEY";

// The API key. It has no accessor, no printer and no JSON form, so it cannot reach a log
// or a journal by mistake; only the Client reads it, to build the Authorization header.
class ApiKey {
 public:
  ApiKey() = default;
  explicit ApiKey(std::string value) : value_(std::move(value)) {}
  bool empty() const { return value_.empty(); }
  // `text` with every occurrence of the key replaced by "[MAGE_LLM_API_KEY]": applied to
  // everything that comes back from a server (it may echo the request's headers).
  std::string redact(std::string text) const;

 private:
  friend class Client;
  std::string value_;
};

// Where requests go.
struct Endpoint {
  std::string base_url;  // e.g. "http://127.0.0.1:8080/v1"; requests go to {base_url}/chat/completions
  std::string model;
  ApiKey api_key;  // empty: no Authorization header (local servers)
};

// Looks up an environment variable. Injectable so that tests need not change the process's
// environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
Environment process_environment();

// The endpoint from flags over environment: --llm-url over MAGE_LLM_BASE_URL, --llm-model
// over MAGE_LLM_MODEL, the key from MAGE_LLM_API_KEY only. Empty flags count as absent.
// Throws Error (Kind::Config) naming the flag and the variable of what is missing or wrong.
Endpoint resolve_endpoint(const std::optional<std::string>& url_flag, const std::optional<std::string>& model_flag,
                          const Environment& env = process_environment());

// Key-free description of an endpoint for journals: {"base_url", "model", "api_key_set"}.
void to_json(nlohmann::json& j, const Endpoint& endpoint);

// ---------------------------------------------------------------- errors

// Why a request (or the configuration) failed; the message says what to do. A tuning run
// stops on any of them, keeping what it has journaled.
class Error : public std::runtime_error {
 public:
  enum class Kind {
    Config,       // no URL or model, or a malformed URL
    Auth,         // HTTP 401/403: the key is missing or refused (the message names MAGE_LLM_API_KEY)
    Rejected,     // another 4xx, e.g. 400 (bad request) or 404 (wrong URL or model)
    BadReply,     // a 2xx reply that is not a chat completion, or is too large
    Unavailable,  // timeouts, connection errors, 429 or 5xx until the attempts ran out
  };
  Error(Kind kind, const std::string& message, int http_status = 0, int attempts = 0)
      : std::runtime_error(message), kind_(kind), http_status_(http_status), attempts_(attempts) {}
  Kind kind() const { return kind_; }
  int http_status() const { return http_status_; }  // 0: no HTTP status (connection error, timeout)
  int attempts() const { return attempts_; }        // requests sent before giving up

 private:
  Kind kind_;
  int http_status_;
  int attempts_;
};

// ---------------------------------------------------------------- the client

struct RetryPolicy {
  int max_attempts = 5;              // requests per call, the first included
  double initial_backoff_s = 1.0;    // before the first retry; doubles on each retry
  double max_backoff_s = 60.0;       // the doubling stops here
  double max_retry_after_s = 300.0;  // a server asking to wait longer ends the call instead
  uint64_t seed = 0;                 // jitter source: the same seed gives the same waits
};

struct ClientOptions {
  double timeout_s = 300;                     // per request, from connecting to the last byte of the reply
  double connect_timeout_s = 10;              // within timeout_s
  size_t max_reply_bytes = size_t{16} << 20;  // a longer reply is no chat completion of a mapper
  RetryPolicy retry;
  // Waits between attempts. Empty: sleep. Tests record the waits instead.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct Message {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
  friend bool operator==(const Message&, const Message&) = default;
};

struct ChatRequest {
  std::vector<Message> messages;
  double temperature = 0.7;
  int max_tokens = 4096;
  std::optional<uint64_t> seed;  // sampling seed, for servers that honour one
};

struct ChatReply {
  std::string content;        // choices[0].message.content
  std::string model;          // as the server names it (empty when it does not say)
  std::string finish_reason;  // "stop", "length", ... (empty when the server does not say)
  int attempts = 1;           // requests sent, retries included
  // Why each retry happened and how long the client waited, e.g. "HTTP 429; waited 2 s".
  std::vector<std::string> retries;
};

// Key-free JSON for journals: a request as sent (the model added by the client is not in
// it), and a reply.
void to_json(nlohmann::json& j, const Message& message);
void to_json(nlohmann::json& j, const ChatRequest& request);
void to_json(nlohmann::json& j, const ChatReply& reply);

// One endpoint. Not for concurrent use from several threads.
class Client {
 public:
  explicit Client(Endpoint endpoint, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // POSTs the request to {base_url}/chat/completions and returns the first choice.
  // Retries timeouts, connection errors, 429 and 5xx with exponential backoff and jitter
  // (or the server's Retry-After), up to retry.max_attempts requests; throws Error.
  ChatReply complete(const ChatRequest& request);

  const Endpoint& endpoint() const { return endpoint_; }
  // {base_url}/chat/completions
  const std::string& url() const { return url_; }

 private:
  // "Authorization: Bearer KEY", or empty without a key.
  std::string authorization_header() const;
  std::chrono::milliseconds backoff(int retry);

  Endpoint endpoint_;
  ClientOptions options_;
  std::string url_;
  uint64_t jitter_state_;
};

// ---------------------------------------------------------------- sections of a mapper

// The six parts a mapper is shown and rewritten in.
enum class Section {
  Task,       // Task (and ControlReplicate) rules: processor kinds
  Region,     // Region rules: memories
  Layout,     // Layout rules
  Limits,     // InstanceLimit and CollectMemory
  IndexMap,   // IndexTaskMap and the functions and globals they use
  SingleMap,  // SingleTaskMap, the functions and globals only they use, and any other definition
};
inline constexpr std::array<Section, 6> kSections = {Section::Task,   Section::Region,   Section::Layout,
                                                     Section::Limits, Section::IndexMap, Section::SingleMap};
// The JSON key of a section: "task", "region", "layout", "limits", "index_map", "single_map".
std::string_view section_key(Section s);
// What a section holds, in words (for the prompt).
std::string_view section_description(Section s);
std::optional<Section> parse_section_key(std::string_view key);

struct Sections {
  std::array<std::string, kSections.size()> text;
  std::string& operator[](Section s) { return text[static_cast<size_t>(s)]; }
  const std::string& operator[](Section s) const { return text[static_cast<size_t>(s)]; }
  friend bool operator==(const Sections&, const Sections&) = default;
};

// Splits a compiled mapper into its sections, each statement in canonical form with its
// comments, in source order within a section. Definitions go with the placement rules that
// use them: a function or global used (directly or through others) by an IndexTaskMap goes
// to IndexMap, any other one to SingleMap, so that assemble() defines everything before
// its use.
Sections split_sections(const dsl::Unit& unit);
// The mapper text: the non-empty sections in the order of kSections, separated by a blank
// line. assemble(split_sections(u)) compiles to the same canonical text as u whenever u
// lists its statements in section order (the expert mappers do).
std::string assemble(const Sections& sections);

// ---------------------------------------------------------------- feedback and prompts

// How much of an evaluation's feedback the model sees (the published ablation).
enum class FeedbackMode {
  Scalar,   // the status and the time only
  Raw,      // + the raw message (the error, or the run's summary)
  Explain,  // + the explanation
  Suggest,  // + the suggestions (the default)
};
std::string_view to_string(FeedbackMode mode);
std::optional<FeedbackMode> parse_feedback_mode(std::string_view text);

// What one evaluation of a mapper said.
struct Feedback {
  std::string status;            // "ok", or the failure, e.g. "mapper error", "out of memory"
  std::optional<double> time_s;  // the simulated time (the score; lower is better) when it ran
  std::string message;           // raw: the error message, or the run's summary
  std::string explanation;       // what limited the time or went wrong
  std::string suggestions;       // concrete mapper edits
};
// The parts of `feedback` that `mode` shows, as prompt text.
std::string render_feedback(const Feedback& feedback, FeedbackMode mode);

// An earlier evaluated mapper.
struct Attempt {
  std::string mapper;
  Feedback feedback;
};

// What an OptoPrime prompt holds.
struct PromptInput {
  std::string program;           // the program's description (`mage app show`)
  std::string machine;           // the machine's summary (`mage machine show`)
  Sections current;              // the mapper to improve
  Feedback feedback;             // the last evaluation's feedback
  std::vector<Attempt> history;  // the last K evaluated mappers, oldest first
  FeedbackMode mode = FeedbackMode::Suggest;
};

// The OptoPrime-style prompt (Trace's sections: instruction, code, documentation,
// variables, constraints, inputs, outputs, feedback): make the program faster on the
// machine; reply with JSON {"reasoning": "...", "sections": {"task": "...", ...}}
// replacing any subset of the sections.
std::vector<Message> optoprime_prompt(const PromptInput& input);
// The OPRO variant: only the earlier mappers with their feedback, best last, and "write a
// better one" as a whole mapper in a fenced block.
std::vector<Message> opro_prompt(const std::vector<Attempt>& history, FeedbackMode mode);

// ---------------------------------------------------------------- replies

// What a reply proposes: some sections (the JSON form) or a whole mapper (a fenced block).
struct Proposal {
  std::string reasoning;                    // the JSON form's "reasoning" (may be empty)
  std::map<Section, std::string> sections;  // the sections replaced
  std::optional<std::string> mapper;        // a whole mapper
  // The new mapper text: `mapper`, or `current` with `sections` replaced, assembled.
  std::string apply_to(const Sections& current) const;
};

struct Extraction {
  std::optional<Proposal> proposal;
  std::string error;  // when there is no proposal: what is wrong, worded for the model
};

// Reads a proposal from a reply: a JSON object with "sections" (bare, in a ```json
// fence, or amid prose), else the last fenced block (```...```) as a whole mapper.
Extraction extract_proposal(std::string_view reply);

}  // namespace mage::llm
