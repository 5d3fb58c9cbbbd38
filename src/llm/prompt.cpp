// The prompts of the language-model optimizer: OptoPrime's problem layout (Trace), and
// OPRO's history-only meta-prompt, with as much feedback as the mode allows.
#include <fmt/format.h>

#include <algorithm>

#include "dsl/dsl.h"
#include "llm/llm.h"

namespace mage::llm {

std::string_view to_string(FeedbackMode mode) {
  switch (mode) {
    case FeedbackMode::Scalar:
      return "scalar";
    case FeedbackMode::Raw:
      return "raw";
    case FeedbackMode::Explain:
      return "explain";
    case FeedbackMode::Suggest:
      return "suggest";
  }
  return "";
}

std::optional<FeedbackMode> parse_feedback_mode(std::string_view text) {
  for (auto mode : {FeedbackMode::Scalar, FeedbackMode::Raw, FeedbackMode::Explain, FeedbackMode::Suggest})
    if (to_string(mode) == text) return mode;
  return std::nullopt;
}

namespace {

// The scalar part: what every mode shows.
std::string outcome(const Feedback& f) {
  std::string out = "status: " + (f.status.empty() ? std::string("unknown") : f.status);
  if (f.time_s) out += fmt::format("; simulated time {:.6g} s", *f.time_s);
  return out + "\n";
}

std::string labelled(std::string_view label, const std::string& text) {
  if (text.empty()) return "";
  std::string out = fmt::format("{}:\n{}", label, text);
  if (!out.ends_with('\n')) out += '\n';
  return out;
}

// What the mode shows beyond the outcome.
std::string details(const Feedback& f, FeedbackMode mode) {
  std::string out;
  if (mode >= FeedbackMode::Raw) out += labelled("message", f.message);
  if (mode >= FeedbackMode::Explain) out += labelled("explanation", f.explanation);
  if (mode >= FeedbackMode::Suggest) out += labelled("suggestions", f.suggestions);
  return out;
}

std::string fenced(const std::string& text) {
  std::string out = "```\n" + text;
  if (!out.ends_with('\n')) out += '\n';
  return out + "```\n";
}

constexpr const char* kOptoPrimeSystem =
    R"(You're tasked to solve a coding problem: improve a mapper. A mapper is a program in a small mapping language that decides where the tasks of a parallel program run and where their data lives. You will see the instruction, the code, the documentation of the language, the variables you can change, their constraints, the inputs, the outputs and the feedback about the last execution.

Specifically, a problem is composed of the following parts:
- #Instruction: the instruction which describes the things you need to do.
- #Code: how the variables make the mapper and how the mapper is run.
- #Documentation: the reference of the mapping language.
- #Variables: the sections of the mapper, which you can change.
- #Constraints: what each variable may hold.
- #Inputs: the program and the machine, which you cannot change.
- #Outputs: the result of running the current mapper.
- #Feedback: the feedback about that result, and earlier mappers with their results.

In #Variables, #Inputs and #Outputs, the format is:
(<data_type>) <variable_name>:
<value>
If <data_type> is (code), the value is mapping-language source between ``` lines.

Output format: your reply must be one JSON object, satisfying the JSON syntax:
{
"reasoning": <your reasoning: what limits the time now and what you change to improve it>,
"sections": {
    <variable_name>: <the new text of that variable>,
    ...
}
}
Put in "sections" only the variables you change; each value replaces the whole variable. Write each value as one JSON string (line breaks as \n). Do not reply with anything but the JSON object.
)";

}  // namespace

std::string render_feedback(const Feedback& feedback, FeedbackMode mode) {
  return outcome(feedback) + details(feedback, mode);
}

std::vector<Message> optoprime_prompt(const PromptInput& input) {
  std::string user;
  user += "#Instruction\n";
  user +=
      "Make this program faster on this machine: change the mapper so that the simulated time of the program "
      "is lower. A mapper that does not compile, cannot be applied or fails to run counts as a failed attempt; "
      "fix what the feedback reports.\n\n";

  user += "#Code\n";
  user += "mapper = ";
  for (Section s : kSections) user += fmt::format("{}{}", s == kSections.front() ? "" : " + ", section_key(s));
  user += "   # the variables, concatenated in this order\n";
  user += "result = run(program, machine, mapper)   # compile, apply, simulate; lower time is better\n\n";

  user += "#Documentation\n" + dsl::language_reference() + "\n";

  user += "#Variables\n";
  for (Section s : kSections) user += fmt::format("(code) {}:\n{}", section_key(s), fenced(input.current[s]));
  user += "\n";

  user += "#Constraints\n";
  for (Section s : kSections) user += fmt::format("{}: {}.\n", section_key(s), section_description(s));
  user +=
      "The variables are concatenated in the order of #Code and must compile together: define a function or a "
      "global before the statement that uses it, and assign a global once. Use the task and region names of "
      "#Inputs. An empty variable is allowed.\n\n";

  user += "#Inputs\n";
  user += "(program) program:\n" + input.program;
  if (!input.program.ends_with('\n')) user += "\n";
  user += "(machine) machine:\n" + input.machine;
  if (!input.machine.ends_with('\n')) user += "\n";
  user += "\n";

  user += "#Outputs\n" + outcome(input.feedback) + "\n";

  user += "#Feedback\n";
  std::string more = details(input.feedback, input.mode);
  user += more.empty() ? "(only the outcome is reported)\n" : more;
  if (!input.history.empty()) {
    user += fmt::format("\nEarlier mappers and their feedback ({}, oldest first):\n", input.history.size());
    for (size_t i = 0; i < input.history.size(); ++i) {
      const Attempt& a = input.history[i];
      user += fmt::format("-- earlier mapper {}:\n{}", i + 1, fenced(a.mapper));
      user += render_feedback(a.feedback, input.mode);
    }
  }
  user += "\nReply with the JSON object only.\n";
  return {{"system", kOptoPrimeSystem}, {"user", user}};
}

std::vector<Message> opro_prompt(const std::vector<Attempt>& history, FeedbackMode mode) {
  // OPRO lists solutions in ascending quality, so the best is nearest the request: failed
  // attempts first, then by decreasing time.
  std::vector<const Attempt*> order;
  for (const auto& a : history) order.push_back(&a);
  std::stable_sort(order.begin(), order.end(), [](const Attempt* a, const Attempt* b) {
    if (a->feedback.time_s.has_value() != b->feedback.time_s.has_value()) return !a->feedback.time_s.has_value();
    return a->feedback.time_s && *a->feedback.time_s > *b->feedback.time_s;
  });
  std::string user =
      "Your task is to make a program faster on a machine by writing its mapper, in the mapping language of the "
      "mappers below. Below are earlier mappers with their feedback, in ascending order of quality (failed ones "
      "first, then from the slowest to the fastest; a lower simulated time is better).\n\n";
  for (const Attempt* a : order) user += "mapper:\n" + fenced(a->mapper) + render_feedback(a->feedback, mode) + "\n";
  user +=
      "Write a new mapper that is different from all of the above and faster than the best of them. Reply with the "
      "whole mapper in one fenced block (```...```).\n";
  return {{"user", user}};
}

}  // namespace mage::llm
