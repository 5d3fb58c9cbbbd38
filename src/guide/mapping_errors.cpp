// Mapping errors (the mapper compiled but could not be applied): a placement function that
// indexes outside the machine or returns a processor of another kind, VIRTUAL memory for a
// leaf task, a Task rule that no variant matches.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <regex>

#include "guide/detail.h"
#include "guide/source_edit.h"

namespace mage::guide::detail {

namespace {

// What failed, gathered from the MappingError (rebuilt in this process) or, failing that,
// from the result's message and its last diagnostic.
struct Failure {
  mapping::MappingErrorKind kind = mapping::MappingErrorKind::Internal;
  std::string task;
  std::string point;
  std::string function;                   // the mapping function, when one failed
  const dsl::Diagnostic* diag = nullptr;  // the function's error, when it has one
  std::string message;                    // the error itself, without location and context
  int line = 0;                           // where (the function's line, or the rule's)
  int col = 0;
};

Failure failure_of(const Context& c) {
  Failure f;
  const std::string& message = c.outcome().message;
  if (const mapping::MappingError* e = c.mapping_error) {
    f.kind = e->kind;
    f.task = e->task;
    f.point = e->point;
    f.line = e->rule_line;
    if (e->diagnostic) f.diag = &*e->diagnostic;
  } else if (!c.result.diagnostics.empty() && c.result.diagnostics.back().severity == dsl::Severity::Error) {
    f.kind = mapping::MappingErrorKind::PlacementFailed;
    f.diag = &c.result.diagnostics.back();
  }
  std::smatch m;
  static const std::regex context(R"(\(task (\S+), point (\([^)]*\))(?:, in ([_a-zA-Z][_a-zA-Z0-9]*))?\))");
  const std::string& text = f.diag ? f.diag->message : message;
  if (std::regex_search(text, m, context)) {
    if (f.task.empty()) f.task = m[1].str();
    if (f.point.empty()) f.point = m[2].str();
    if (m[3].matched) f.function = m[3].str();
    f.message = trim(text.substr(0, static_cast<size_t>(m.position(0))));
  } else {
    f.message = text;
  }
  static const std::regex error_prefix(R"(^\S+:\d+:\d+: error: )");
  f.message = std::regex_replace(f.message, error_prefix, "");
  static const std::regex function(R"(mapping function '([^']+)')");
  if (f.function.empty() && std::regex_search(f.message, m, function)) f.function = m[1].str();
  if (f.diag) {
    f.line = f.diag->loc.line;
    f.col = f.diag->loc.col;
  }
  return f;
}

Hint edit(const Context& c, const Failure& f, std::string to, std::string reason) {
  Hint h;
  h.action = Action::Edit;
  h.task = f.task.empty() ? "*" : f.task;
  h.from = c.source && f.line > 0 ? source_line(*c.source, f.line) : "";
  h.to = std::move(to);
  h.reason = std::move(reason);
  return h;
}

std::string where(const Context& c, const Failure& f) {
  if (!c.source || f.line <= 0) return "";
  return fmt::format(" ({}:{}: `{}`)", c.source->name, f.line, trim(source_line(*c.source, f.line)));
}

std::string in_function(const Failure& f) { return f.function.empty() ? "the mapping function" : f.function; }

Feedback out_of_range(const Context& c, const Failure& f) {
  Feedback fb;
  fb.category = Category::PlacementOutOfRange;
  std::smatch m;
  static const std::regex dimension(R"(index (-?\d+) out of range for dimension (\d+) of size (\d+))");
  if (f.diag && c.source && std::regex_search(f.message, m, dimension)) {
    const std::string value = m[1].str(), dim = m[2].str(), size = m[3].str();
    const std::string line = source_line(*c.source, f.line);
    const std::string expr = expression_at(line, f.col);
    const std::string space = indexed_space_at(line, f.col);
    fb.explanation = fmt::format(
        "{} places point {} of {} at index {} of dimension {} of {}, which has size {}{}: some points of the "
        "launch fall outside the machine.",
        in_function(f), f.point, f.task, value, dim, space.empty() ? "the machine space" : space, size, where(c, f));
    if (!space.empty() && !expr.empty()) {
      const bool simple = std::all_of(expr.begin(), expr.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '[' || ch == ']';
      });
      const std::string wrapped = fmt::format("{} % {}.size[{}]", simple ? expr : "(" + expr + ")", space, dim);
      const std::string fixed = replace_at(line, f.col, expr.size(), wrapped);
      fb.suggestions.push_back(fmt::format(
          "wrap the index in `% {}.size[{}]` so that every point lands on a processor: `{}`", space, dim, trim(fixed)));
      fb.hints.push_back(
          edit(c, f, fixed, fmt::format("index {} of dimension {} is outside {} (size {})", value, dim, space, size)));
    } else {
      fb.suggestions.push_back(
          fmt::format("take the index of dimension {} modulo its size (`% m.size[{}]`)", dim, dim));
    }
    return fb;
  }
  // A processor outside the machine (the function computed a point the space does not have).
  fb.explanation = fmt::format("{} places point {} of {} outside the machine: {}{}.", in_function(f), f.point, f.task,
                               f.message, where(c, f));
  fb.suggestions.push_back(fmt::format(
      "in {}, take each index modulo the size of its dimension: `m[a % m.size[0], b % m.size[1]]`", in_function(f)));
  return fb;
}

Feedback wrong_kind(const Context& c, const Failure& f, const std::string& returned, const std::string& wanted) {
  Feedback fb;
  fb.category = Category::WrongProcessorKind;
  fb.explanation = fmt::format("{} returns a {} for point {} of {}, which runs on {}s{}.", in_function(f), returned,
                               f.point, f.task, wanted, where(c, f));
  const std::optional<std::string> space = c.source ? machine_space_of(*c.source, wanted) : std::nullopt;
  const std::string line = c.source && f.line > 0 ? source_line(*c.source, f.line) : "";
  const std::string returned_space = f.col > 0 ? identifier_at(line, f.col) : "";
  if (space && !returned_space.empty() && returned_space != *space) {
    const std::string fixed = replace_at(line, f.col, returned_space.size(), *space);
    fb.suggestions.push_back(fmt::format("return a processor of {}, the {} space: `{}`", *space, wanted, trim(fixed)));
    fb.hints.push_back(
        edit(c, f, fixed,
             fmt::format("{} runs on {}s, so its placement must index a Machine({}) space", f.task, wanted, wanted)));
  } else {
    const std::string define = space ? *space : space_name(wanted);
    fb.suggestions.push_back(fmt::format("index a {} space in {}: `{} = Machine({});` and return a point of it", wanted,
                                         in_function(f), define, wanted));
  }
  const program::TaskKind* task = find_task(c.program, f.task);
  const auto kind = kinds::parse_proc_kind(returned);
  if (task && kind && task->has_variant(*kind)) {
    fb.suggestions.push_back(fmt::format("or run {} on {}s: `Task {} {};`", f.task, returned, f.task, returned));
    fb.hints.push_back(
        Hint{Action::Processor, f.task, "", wanted, returned,
             fmt::format("{} has a {} variant and its placement function returns {}s", f.task, returned, returned), 0});
  }
  return fb;
}

// The processor kind a task runs on when its Task rule does not say (DSL.md's default).
std::optional<kinds::ProcKind> default_kind(const Context& c, const program::TaskKind& task) {
  for (kinds::ProcKind k : {kinds::ProcKind::GPU, kinds::ProcKind::OMP, kinds::ProcKind::CPU})
    if (task.has_variant(k) && c.machine.has(machine_kind(k))) return k;
  return std::nullopt;
}

Feedback virtual_leaf(const Context& c, const Failure& f) {
  Feedback fb;
  fb.category = Category::VirtualLeaf;
  std::smatch m;
  static const std::regex argument(R"(argument (\d+) \(([^)]*)\))");
  const std::string data = std::regex_search(f.message, m, argument) ? m[2].str() : "";
  const std::string rule = c.source && f.line > 0 ? trim(source_line(*c.source, f.line)) : "";
  // The processor kind the rule is for: its fourth word, or the task's default kind.
  std::string proc;
  static const std::regex region_rule(R"(^Region\s+\S+\s+\S+\s+(\w+))");
  if (std::regex_search(rule, m, region_rule) && kinds::parse_proc_kind(m[1].str())) proc = m[1].str();
  const program::TaskKind* task = find_task(c.program, f.task);
  if (proc.empty() && task)
    if (auto k = default_kind(c, *task)) proc = std::string(kinds::to_string(*k));
  const auto proc_kind = kinds::parse_proc_kind(proc);
  const auto memory = proc_kind ? best_memory_kind(c.machine, *proc_kind) : std::nullopt;
  const std::string to = memory ? std::string(kinds::to_string(*memory)) : "FBMEM";
  fb.explanation = fmt::format(
      "{} is a leaf task and accesses {}, but the Region rule{} maps it VIRTUAL (no instance); VIRTUAL is only for "
      "inner tasks, which never touch their data.",
      f.task, data.empty() ? "the argument" : data,
      rule.empty() ? "" : fmt::format(" at {}:{} (`{}`)", c.source->name, f.line, rule));
  fb.suggestions.push_back(fmt::format("give it a memory: `Region {} {} {} {};`", f.task, data.empty() ? "*" : data,
                                       proc.empty() ? "*" : proc, to));
  fb.hints.push_back(Hint{Action::Memory, f.task, data, "VIRTUAL", to,
                          fmt::format("leaf task {} reads or writes {}, so it needs an instance", f.task, data), 0});
  return fb;
}

Feedback no_processor_kind(const Context& c, const Failure& f) {
  Feedback fb;
  fb.category = Category::NoProcessorKind;
  const program::TaskKind* task = find_task(c.program, f.task);
  std::smatch m;
  static const std::regex reason(R"(\(([^()]*)\)$)");
  static const std::regex kinds(R"(^\s*Task\s+\S+\s+([^;]+);)");
  const std::string why = std::regex_search(f.message, m, reason) ? m[1].str() : f.message;
  const std::string rule = c.source && f.line > 0 ? source_line(*c.source, f.line) : "";
  const std::string asked = std::regex_search(rule, m, kinds) ? trim(m[1].str()) : "";
  fb.explanation = fmt::format("{} cannot run where its Task rule says{}: {}.", f.task, where(c, f), why);
  if (task)
    if (auto k = default_kind(c, *task)) {
      const std::string kind(kinds::to_string(*k));
      fb.suggestions.push_back(fmt::format("run it where it has a variant: `Task {} {};`", f.task, kind));
      fb.hints.push_back(Hint{Action::Processor, f.task, "", asked, kind,
                              fmt::format("{} has a {} variant and the machine has {}s", f.task, kind, kind), 0});
    }
  return fb;
}

}  // namespace

Feedback explain_mapping_error(const Context& c) {
  const Failure f = failure_of(c);
  std::smatch m;
  static const std::regex kinds(R"(returned an? (\w+) processor but the task is mapped to (\w+))");
  if (f.diag && f.diag->id == dsl::DiagId::index_out_of_range) return out_of_range(c, f);
  if (f.kind == mapping::MappingErrorKind::OutsideMachine) return out_of_range(c, f);
  if (std::regex_search(f.message, m, kinds)) return wrong_kind(c, f, m[1].str(), m[2].str());
  if (f.kind == mapping::MappingErrorKind::VirtualLeaf) return virtual_leaf(c, f);
  if (f.kind == mapping::MappingErrorKind::NoProcessorKind) return no_processor_kind(c, f);
  if (f.diag)
    if (auto language = explain_language_error(c, *f.diag, f.task)) return std::move(*language);
  Feedback fb;
  if (f.kind == mapping::MappingErrorKind::PlacementFailed) {
    fb.category = Category::PlacementError;
    fb.explanation =
        fmt::format("{} fails for point {} of {}: {}{}.", in_function(f), f.point, f.task, f.message, where(c, f));
    fb.suggestions.push_back(
        f.diag && f.diag->id == dsl::DiagId::division_by_zero
            ? fmt::format("the divisor is 0 for point {}: guard it in {}, e.g. `(d == 0 ? 1 : d)`", f.point,
                          in_function(f))
            : fmt::format("make {} return one processor (or a set) of the task's kind for every point of {}'s launch",
                          in_function(f), f.task));
    return fb;
  }
  fb.category = Category::MappingError;
  fb.explanation = fmt::format("The mapper could not be applied: {}.", f.message);
  return fb;
}

}  // namespace mage::guide::detail
