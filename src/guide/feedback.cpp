// Hints and feedback as data: names of actions and categories, JSON, and the text form.
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <array>
#include <utility>

#include "guide/guide.h"

namespace mage::guide {

namespace {

constexpr std::array<std::pair<Action, std::string_view>, 7> kActionNames{{
    {Action::Processor, "processor"},
    {Action::Memory, "memory"},
    {Action::Layout, "layout"},
    {Action::Placement, "placement"},
    {Action::InstanceLimit, "instance_limit"},
    {Action::CollectMemory, "collect_memory"},
    {Action::Edit, "edit"},
}};

constexpr std::array<std::pair<Category, std::string_view>, 22> kCategoryNames{{
    {Category::SyntaxError, "syntax_error"},
    {Category::UndefinedName, "undefined_name"},
    {Category::WrongArity, "wrong_arity"},
    {Category::WrongType, "wrong_type"},
    {Category::MapperError, "mapper_error"},
    {Category::PlacementOutOfRange, "placement_out_of_range"},
    {Category::WrongProcessorKind, "wrong_processor_kind"},
    {Category::VirtualLeaf, "virtual_leaf"},
    {Category::NoProcessorKind, "no_processor_kind"},
    {Category::PlacementError, "placement_error"},
    {Category::MappingError, "mapping_error"},
    {Category::LayoutMismatch, "layout_mismatch"},
    {Category::OutOfMemory, "out_of_memory"},
    {Category::ExecutionError, "execution_error"},
    {Category::SimulatorFailure, "simulator_failure"},
    {Category::SlowProcessor, "slow_processor"},
    {Category::RemoteAccess, "remote_access"},
    {Category::Copies, "copies"},
    {Category::LoadImbalance, "load_imbalance"},
    {Category::InstanceLimit, "instance_limit"},
    {Category::Waiting, "waiting"},
    {Category::ComputeBound, "compute_bound"},
}};

template <typename T, size_t N>
std::string_view name_of(const std::array<std::pair<T, std::string_view>, N>& names, T value) {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return "?";
}

template <typename T, size_t N>
std::optional<T> value_of(const std::array<std::pair<T, std::string_view>, N>& names, std::string_view s) {
  for (const auto& [v, name] : names)
    if (name == s) return v;
  return std::nullopt;
}

[[noreturn]] void bad_value(const std::string& what, const nlohmann::json& j) {
  throw nlohmann::json::other_error::create(501, what, &j);
}

}  // namespace

std::string_view to_string(Action a) { return name_of(kActionNames, a); }
std::optional<Action> parse_action(std::string_view s) { return value_of(kActionNames, s); }
std::string_view to_string(Category c) { return name_of(kCategoryNames, c); }
std::optional<Category> parse_category(std::string_view s) { return value_of(kCategoryNames, s); }

nlohmann::ordered_json Hint::to_json() const {
  return {{"action", std::string(guide::to_string(action))},
          {"task", task},
          {"argument", argument},
          {"from", from},
          {"to", to},
          {"reason", reason},
          {"impact_s", impact_s}};
}

Hint Hint::from_json(const nlohmann::json& j) {
  Hint h;
  const std::string action = j.at("action").get<std::string>();
  auto a = parse_action(action);
  if (!a) bad_value("unknown hint action '" + action + "'", j);
  h.action = *a;
  h.task = j.at("task").get<std::string>();
  h.argument = j.at("argument").get<std::string>();
  h.from = j.at("from").get<std::string>();
  h.to = j.at("to").get<std::string>();
  h.reason = j.at("reason").get<std::string>();
  h.impact_s = j.at("impact_s").get<double>();
  return h;
}

nlohmann::ordered_json Feedback::to_json() const {
  nlohmann::ordered_json hints_json = nlohmann::ordered_json::array();
  for (const Hint& h : hints) hints_json.push_back(h.to_json());
  return {{"category", std::string(guide::to_string(category))},
          {"status", std::string(sim::to_string(status))},
          {"message", message},
          {"explanation", explanation},
          {"suggestions", suggestions},
          {"hints", std::move(hints_json)}};
}

Feedback Feedback::from_json(const nlohmann::json& j) {
  Feedback f;
  const std::string category = j.at("category").get<std::string>();
  auto c = parse_category(category);
  if (!c) bad_value("unknown feedback category '" + category + "'", j);
  f.category = *c;
  const std::string status = j.at("status").get<std::string>();
  auto s = sim::parse_status(status);
  if (!s) bad_value("unknown status '" + status + "'", j);
  f.status = *s;
  f.message = j.at("message").get<std::string>();
  f.explanation = j.at("explanation").get<std::string>();
  f.suggestions = j.at("suggestions").get<std::vector<std::string>>();
  for (const auto& h : j.at("hints")) f.hints.push_back(Hint::from_json(h));
  return f;
}

std::string render(const Feedback& feedback) {
  std::string out =
      fmt::format("{} ({})\n{}\n", to_string(feedback.category), sim::to_string(feedback.status), feedback.explanation);
  if (!feedback.suggestions.empty()) {
    out += "suggestions:\n";
    for (size_t i = 0; i < feedback.suggestions.size(); ++i)
      out += fmt::format("  {}. {}\n", i + 1, feedback.suggestions[i]);
  }
  if (!feedback.message.empty()) {
    out += "message:\n";
    size_t start = 0;
    while (start <= feedback.message.size()) {
      const size_t end = feedback.message.find('\n', start);
      const std::string_view line =
          std::string_view(feedback.message).substr(start, end == std::string::npos ? std::string::npos : end - start);
      out += fmt::format("  {}\n", line);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return out;
}

}  // namespace mage::guide
