// `llm`: a language model rewrites the mapper from the feedback of each evaluation, as the
// published agent did with Trace's OptoPrime (the mapper shown in six sections, the reply
// replacing any of them) or, with style=opro, OPRO (only the earlier mappers and their
// feedback). One candidate per step: the next prompt needs this one's outcome. A mapper
// that does not compile is evaluated like any other (its errors are the next feedback, and
// it counts as an iteration); a reply holding no mapper is sent back with the reason, up to
// kTries times in a step. Every exchange goes into the candidate's notes (the journal),
// without the key, and a resumed run replays the journaled replies instead of asking again.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <type_traits>

#include "dsl/dsl.h"
#include "llm/llm.h"
#include "tune/tune.h"

namespace mage::tune {

namespace {

// Replies per step that may hold no usable mapper before the run stops.
constexpr int kTries = 3;

// The options (--option KEY=VALUE; `mage tune` has flags for the first four).
struct LlmOptions {
  llm::Endpoint endpoint;
  bool opro = false;
  llm::FeedbackMode feedback = llm::FeedbackMode::Suggest;
  int history = 5;  // earlier evaluations in a prompt
  double temperature = 0.7;
  int max_tokens = 4096;
  llm::ClientOptions client;
};

std::string option(const std::map<std::string, std::string>& options, const std::string& key,
                   const std::string& fallback) {
  auto it = options.find(key);
  return it == options.end() ? fallback : it->second;
}

template <typename T>
T number_option(const std::map<std::string, std::string>& options, const std::string& key, T fallback, T low, T high) {
  auto it = options.find(key);
  if (it == options.end()) return fallback;
  try {
    size_t used = 0;
    double value = std::stod(it->second, &used);
    bool whole = !std::is_integral_v<T> || value == std::floor(value);
    if (used == it->second.size() && whole && value >= static_cast<double>(low) && value <= static_cast<double>(high))
      return static_cast<T>(value);
  } catch (const std::exception&) {
  }
  throw TuneError(fmt::format("optimizer llm: option {}={} is not a number from {} to {}", key, it->second, low, high));
}

LlmOptions parse_options(const OptimizerContext& c) {
  static const std::set<std::string> known = {"style",       "feedback",   "llm-url", "llm-model", "history",
                                              "temperature", "max-tokens", "timeout", "attempts",  "backoff"};
  for (const auto& [key, value] : c.options)
    if (!known.count(key))
      throw TuneError(
          fmt::format("optimizer llm has no option '{}' (its options: style, feedback, llm-url, "
                      "llm-model, history, temperature, max-tokens, timeout, attempts, backoff)",
                      key));
  LlmOptions o;
  const std::string style = option(c.options, "style", "optoprime");
  if (style != "optoprime" && style != "opro")
    throw TuneError(fmt::format("optimizer llm: style '{}' is not optoprime or opro", style));
  o.opro = style == "opro";
  const std::string feedback = option(c.options, "feedback", "suggest");
  auto mode = llm::parse_feedback_mode(feedback);
  if (!mode)
    throw TuneError(fmt::format("optimizer llm: feedback '{}' is not scalar, raw, explain or suggest", feedback));
  o.feedback = *mode;
  o.history = number_option(c.options, "history", 5, 0, 100);
  o.temperature = number_option(c.options, "temperature", 0.7, 0.0, 2.0);
  o.max_tokens = number_option(c.options, "max-tokens", 4096, 1, 1'000'000);
  o.client.timeout_s = number_option(c.options, "timeout", 300.0, 0.001, 86400.0);
  o.client.retry.max_attempts = number_option(c.options, "attempts", 5, 1, 100);
  o.client.retry.initial_backoff_s = number_option(c.options, "backoff", 1.0, 0.0, 3600.0);
  o.client.retry.seed = c.seed;
  try {
    std::optional<std::string> url, model;
    if (c.options.count("llm-url")) url = c.options.at("llm-url");
    if (c.options.count("llm-model")) model = c.options.at("llm-model");
    o.endpoint = llm::resolve_endpoint(url, model);
  } catch (const llm::Error& e) {
    throw TuneError(std::string("optimizer llm: ") + e.what());
  }
  return o;
}

// The evaluation as the model reads it: the raw message is the evaluator's (for a mapper
// error, the diagnostics, FILE:LINE:COL; for a run, its headline numbers), the explanation
// and suggestions the feedback module's (guide).
llm::Feedback feedback_of(const Trial& t) {
  const sim::Outcome& o = t.result.outcome;
  llm::Feedback f;
  f.status = std::string(sim::to_string(o.status));
  f.explanation = t.feedback.explanation;
  for (size_t i = 0; i < t.feedback.suggestions.size(); ++i)
    f.suggestions += fmt::format("{}. {}\n", i + 1, t.feedback.suggestions[i]);
  if (!o.ok()) {
    f.message = o.message;
    return f;
  }
  f.time_s = o.time_s;
  const sim::Profile& p = o.profile;
  f.message = fmt::format("simulated time {:.4g} s ({:.4g} {}); {} point tasks, {} copies\n", o.time_s, o.metric_value,
                          o.metric_name, p.tasks, p.copies);
  for (size_t i = 0; i < std::min<size_t>(3, p.costliest_tasks.size()); ++i) {
    const sim::TaskCost& c = p.costliest_tasks[i];
    f.message += fmt::format("task {} on {}: {} runs, {:.4g} s in all, {:.4g} s at most\n", c.task, c.processor_kind,
                             c.count, c.total_s, c.max_s);
  }
  for (size_t i = 0; i < std::min<size_t>(3, p.costliest_copies.size()); ++i) {
    const sim::CopyCost& c = p.costliest_copies[i];
    f.message += fmt::format("copies of {} {} -> {}{}: {} copies, {:.4g} MB, {:.4g} s in all\n", c.data, c.from, c.to,
                             c.inter_node ? " (between nodes)" : "", c.count, c.bytes / 1e6, c.total_s);
  }
  const sim::CriticalPath& cp = p.critical_path;
  f.message +=
      fmt::format("critical path {:.4g} s: running tasks {:.4g} s, waiting for copies {:.4g} s, queued {:.4g} s\n",
                  cp.length_s, cp.task_s, cp.copy_s, cp.queue_s);
  return f;
}

std::string section_list(const std::map<llm::Section, std::string>& sections) {
  std::string out;
  for (const auto& [s, text] : sections) out += fmt::format("{}{}", out.empty() ? "" : ", ", llm::section_key(s));
  return out;
}

class LanguageModel : public Optimizer {
 public:
  explicit LanguageModel(const OptimizerContext& c)
      : options_(parse_options(c)),
        program_(c.program_description),
        machine_(c.machine_description),
        seed_(c.seed),
        journaled_(c.journaled),
        client_(options_.endpoint, options_.client) {}

  std::vector<Candidate> propose(int /*limit*/) override {
    const int number = last_ + 1;
    std::vector<llm::Message> messages = prompt();
    nlohmann::ordered_json exchanges = nlohmann::ordered_json::array();
    llm::Extraction extraction;
    for (int attempt = 0; attempt < kTries; ++attempt) {
      llm::ChatRequest request{messages, options_.temperature, options_.max_tokens, seed_ + number};
      llm::ChatReply reply = ask(request, number, attempt);
      exchanges.push_back({{"request", nlohmann::json(request)}, {"reply", nlohmann::json(reply)}});
      extraction = llm::extract_proposal(reply.content);
      if (extraction.proposal) break;
      exchanges.back()["unusable"] = extraction.error;
      messages.push_back({"assistant", reply.content});
      messages.push_back(
          {"user", "Your reply could not be used: " + extraction.error + ". Reply again, in the format asked for."});
    }
    if (!extraction.proposal) {
      const std::string last = exchanges.back()["reply"]["content"];
      throw TuneError(fmt::format(
          "the language model's replies held no usable mapper {} times in a row; the last: {} (it began: \"{}\")",
          kTries, extraction.error, last.substr(0, 200)));
    }

    const llm::Proposal& p = *extraction.proposal;
    Candidate c;
    c.text = p.apply_to(current_);
    c.parent = current_number_;
    c.origin = p.mapper ? fmt::format("llm {}: a whole mapper", style())
                        : fmt::format("llm {}: {}", style(), section_list(p.sections));
    if (!p.mapper) {
      llm::Sections sections = current_;
      for (const auto& [s, text] : p.sections) sections[s] = text;
      proposed_sections_[number] = sections;
    }
    auto& notes = c.notes["llm"];
    notes["endpoint"] = nlohmann::json(options_.endpoint);
    notes["style"] = style();
    notes["feedback"] = llm::to_string(options_.feedback);
    notes["reasoning"] = p.reasoning;
    notes["exchanges"] = exchanges;
    // Checked before it is evaluated: its errors are the next step's feedback either way.
    auto compiled = dsl::compile(dsl::SourceFile{"candidate.map", c.text});
    notes["compiles"] = compiled.unit != nullptr;
    return {std::move(c)};
  }

  void observe(const Trial& t) override {
    last_ = t.number;
    feedback_ = feedback_of(t);
    attempts_.push_back({t.candidate.text, feedback_});
    auto compiled = dsl::compile(dsl::SourceFile{"candidate.map", t.candidate.text});
    if (compiled.unit) {
      current_ = llm::split_sections(*compiled.unit);
      current_number_ = t.number;
    } else if (auto it = proposed_sections_.find(t.number); it != proposed_sections_.end()) {
      current_ = it->second;  // the model's own sections, errors and all: it fixes them next
      current_number_ = t.number;
    } else if (current_number_ == 0) {
      current_ = llm::Sections{};  // a start that does not compile: shown whole, in the first section
      current_[llm::Section::Task] = t.candidate.text;
      current_number_ = t.number;
    }
    // Else a whole mapper that does not compile: the sections stay the last ones that did,
    // and the feedback shows the failed mapper itself.
    if (current_number_ != t.number)
      feedback_.message = "(about your last mapper, which did not compile, not the one in #Variables:)\n```\n" +
                          t.candidate.text + "```\n" + feedback_.message;
  }

 private:
  std::string style() const { return options_.opro ? "opro" : "optoprime"; }

  std::vector<llm::Message> prompt() const {
    const size_t k = static_cast<size_t>(options_.history);
    if (options_.opro) {  // the history is all OPRO shows: at least the last evaluation
      const size_t n = std::min(std::max<size_t>(k, 1), attempts_.size());
      std::vector<llm::Attempt> recent(attempts_.end() - static_cast<long>(n), attempts_.end());
      return llm::opro_prompt(recent, options_.feedback);
    }
    llm::PromptInput input;
    input.program = program_;
    input.machine = machine_;
    input.current = current_;
    input.feedback = feedback_;
    input.mode = options_.feedback;
    // The earlier evaluations, before the last (whose feedback the prompt shows anyway).
    const size_t before_last = attempts_.empty() ? 0 : attempts_.size() - 1;
    const size_t from = before_last - std::min(k, before_last);
    input.history.assign(attempts_.begin() + static_cast<long>(from),
                         attempts_.begin() + static_cast<long>(before_last));
    return llm::optoprime_prompt(input);
  }

  // The model's reply: the journal's on resume, else the server's.
  llm::ChatReply ask(const llm::ChatRequest& request, int number, int attempt) {
    if (auto it = journaled_.find(number); it != journaled_.end()) {
      const nlohmann::json* exchanges = nullptr;
      try {
        exchanges = &it->second.at("notes").at("llm").at("exchanges");
      } catch (const nlohmann::json::exception&) {
      }
      if (exchanges && exchanges->is_array() && static_cast<size_t>(attempt) < exchanges->size()) {
        llm::ChatReply reply;
        reply.content = (*exchanges)[static_cast<size_t>(attempt)].at("reply").value("content", "");
        reply.model = "(replayed from the journal)";
        return reply;
      }
    }
    try {
      return client_.complete(request);
    } catch (const llm::Error& e) {
      throw TuneError(fmt::format("the language model stopped the run: {}", e.what()));
    }
  }

  LlmOptions options_;
  std::string program_;
  std::string machine_;
  uint64_t seed_;
  std::map<int, nlohmann::json> journaled_;
  llm::Client client_;
  int last_ = 0;                                    // the last evaluation observed
  llm::Sections current_;                           // the mapper the next prompt improves
  int current_number_ = 0;                          // the evaluation it is
  llm::Feedback feedback_;                          // of the last evaluation
  std::vector<llm::Attempt> attempts_;              // every evaluation, in order
  std::map<int, llm::Sections> proposed_sections_;  // candidates made of sections, by number
};

const bool registered = register_optimizer(
    {"llm",
     "a language model rewrites the mapper from the feedback (OptoPrime or OPRO style; needs --llm-url and "
     "--llm-model, or MAGE_LLM_BASE_URL and MAGE_LLM_MODEL; see docs/llm.md)",
     [](const OptimizerContext& c) { return std::make_unique<LanguageModel>(c); }});

}  // namespace

}  // namespace mage::tune
