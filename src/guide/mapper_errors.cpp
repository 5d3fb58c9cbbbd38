// Mapper errors (the mapper does not compile, or its top-level statements fail): the first
// error decides, since later ones often follow from it. Each category names the line and
// proposes the corrected line where it can be derived from the text.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <regex>

#include "guide/detail.h"
#include "guide/source_edit.h"

namespace mage::guide::detail {

namespace {

using dsl::DiagId;

Category category_of(DiagId id) {
  switch (id) {
    case DiagId::unexpected_character:
    case DiagId::unterminated_string:
    case DiagId::integer_too_large:
    case DiagId::expected:
    case DiagId::expected_after:
    case DiagId::no_control_flow:
    case DiagId::no_power_operator:
    case DiagId::float_literal:
    case DiagId::keyword_as_name:
    case DiagId::untyped_parameter:
    case DiagId::typed_local:
    case DiagId::return_outside_function:
    case DiagId::statement_in_function:
    case DiagId::def_inside_function:
    case DiagId::unpack_not_allowed:
    case DiagId::star_not_allowed:
    case DiagId::too_deeply_nested:
      return Category::SyntaxError;
    case DiagId::unknown_name:
    case DiagId::unknown_function:
    case DiagId::used_before_definition:
    case DiagId::used_before_assignment:
      return Category::UndefinedName;
    case DiagId::wrong_argument_count:
    case DiagId::machine_needs_kind:
    case DiagId::map_function_signature:
    case DiagId::print_placeholder_count:
    case DiagId::print_value_count:
      return Category::WrongArity;
    case DiagId::wrong_argument_type:
    case DiagId::type_mismatch:
    case DiagId::function_as_value:
    case DiagId::not_callable:
    case DiagId::map_target_not_function:
    case DiagId::tuple_length_mismatch:
      return Category::WrongType;
    default:
      return Category::MapperError;
  }
}

std::string quoted_name(const std::string& message) {
  std::smatch m;
  static const std::regex name("'([^']+)'");
  return std::regex_search(message, m, name) ? m[1].str() : "";
}

// The error being explained, where it is, and the text around it.
struct Site {
  const dsl::Diagnostic& d;
  const dsl::SourceFile& source;
  std::string line;   // the source line, as written
  std::string where;  // "circuit.map:27"
  std::string code;   // the line, trimmed, for quoting
  std::string after;  // "; the 3 errors after it may follow from it", or ""
  std::string task;   // the task being placed when the error happened, or "*"

  Hint edit(std::string to, std::string reason, int at_line = 0) const {
    Hint h;
    h.action = Action::Edit;
    h.task = task;
    h.from = at_line > 0 ? source_line(source, at_line) : line;
    h.to = std::move(to);
    h.reason = std::move(reason);
    return h;
  }
};

Feedback syntax_error(const Site& s) {
  Feedback f;
  f.category = Category::SyntaxError;
  const dsl::Diagnostic& d = s.d;
  if (d.id == DiagId::expected && d.message == "expected '{' but found ':'") {
    const int col = d.loc.col;
    const bool spaced = col > 1 && s.line[static_cast<size_t>(col - 2)] == ' ';
    const std::string fixed = replace_at(s.line, col, 1, spaced ? "{" : " {");
    const bool unclosed = brace_balance(s.source.text) + 1 > 0;  // with the '{' the fix adds
    f.explanation =
        fmt::format("{}: a function body starts with '{{' and ends with '}}', not with ':' as in Python (`{}`){}.",
                    s.where, s.code, s.after);
    f.suggestions.push_back(fmt::format("write `{}`{}", trim(fixed),
                                        unclosed ? " and close the body with `}` after its last statement" : ""));
    f.hints.push_back(
        s.edit(fixed, fmt::format("line {} opens a function body with ':' where the language needs '{{'", d.loc.line)));
    return f;
  }
  f.explanation = fmt::format("{}:{}: {} (`{}`){}.", s.where, d.loc.col, d.message, s.code, s.after);
  if (d.id == DiagId::expected_after && d.message.starts_with("expected ';'")) {
    // The parser points just after the statement's last token, where the ';' belongs.
    const std::string fixed = replace_at(s.line, d.loc.col, 0, ";");
    f.suggestions.push_back(fmt::format("end the statement with ';': `{}`", trim(fixed)));
    f.hints.push_back(s.edit(fixed, fmt::format("the statement on line {} has no ';' at its end", d.loc.line)));
    return f;
  }
  // No mechanical fix is known: the advice is for a person or a language model, not an Edit hint
  // (whose `to` must be mapper text).
  f.suggestions.push_back(fmt::format("fix line {}: {}", d.loc.line, d.message));
  return f;
}

// The processor kind a name suggests ("mgpu" -> GPU), if it reads like a machine space.
std::optional<std::string> space_kind(const std::string& name, const std::string& line, int col) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* kind : {"gpu", "omp", "cpu"})
    if (lower.find(kind) != std::string::npos) {
      std::string upper = kind;
      std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
      return upper;
    }
  const std::string rest = line.substr(std::min(line.size(), static_cast<size_t>(col - 1) + name.size()));
  static const std::regex used_as_space(
      R"(^\s*(\[|\.(size|split|merge|swap|slice|reverse|balance_split|auto_split|greedy_split)\b))");
  if (std::regex_search(rest, used_as_space)) return "GPU";
  return std::nullopt;
}

Feedback undefined_name(const Site& s, const std::vector<dsl::Diagnostic>& all) {
  Feedback f;
  f.category = Category::UndefinedName;
  const dsl::Diagnostic& d = s.d;
  const std::string name = quoted_name(d.message);
  if (d.id == DiagId::used_before_definition || d.id == DiagId::used_before_assignment) {
    std::smatch m;
    static const std::regex at_line(R"(at line (\d+))");
    const std::string defined = std::regex_search(d.message, m, at_line) ? m[1].str() : "?";
    const int before = statement_start(s.source, d.loc.line);
    const char* what = d.id == DiagId::used_before_definition ? "function" : "global";
    f.explanation = fmt::format("{}: {} '{}' is used before line {} defines it (`{}`){}.", s.where, what, name, defined,
                                s.code, s.after);
    f.suggestions.push_back(fmt::format("move the definition of '{}' (line {}) above line {}, where it is first used",
                                        name, defined, before));
    return f;
  }
  const auto uses = std::count_if(
      all.begin(), all.end(), [&](const dsl::Diagnostic& x) { return x.id == d.id && quoted_name(x.message) == name; });
  const std::string times = uses > 1 ? fmt::format(" ({} times)", uses) : "";
  const bool function = d.id == DiagId::unknown_function;
  if (auto close = closest_name(s.source, name)) {
    f.explanation =
        fmt::format("{}: '{}' is not defined{} (`{}`), but '{}' is{}.", s.where, name, times, s.code, *close, s.after);
    f.suggestions.push_back(
        fmt::format("did you mean '{}'? write `{}`", *close, trim(replace_at(s.line, d.loc.col, name.size(), *close))));
    f.hints.push_back(s.edit(replace_at(s.line, d.loc.col, name.size(), *close),
                             fmt::format("'{}' is not defined; '{}' is the defined name closest to it", name, *close)));
    return f;
  }
  if (!function) {
    if (auto kind = space_kind(name, s.line, d.loc.col)) {
      const int before = statement_start(s.source, d.loc.line);
      const std::string definition = fmt::format("{} = Machine({});", name, *kind);
      f.explanation =
          fmt::format("{}: '{}' is used{} but never defined (`{}`); it is indexed like a machine space of {}s{}.",
                      s.where, name, times, s.code, *kind, s.after);
      f.suggestions.push_back(
          fmt::format("define it at top level before its first use (line {}): `{}`", before, definition));
      f.hints.push_back(s.edit(definition + "\n" + source_line(s.source, before),
                               fmt::format("'{}' must be defined before line {} uses it", name, d.loc.line), before));
      return f;
    }
  }
  const int before = statement_start(s.source, d.loc.line);
  f.explanation = fmt::format("{}: {} '{}' is not defined{} (`{}`){}.", s.where, function ? "function" : "name", name,
                              times, s.code, s.after);
  const std::string how =
      function ? fmt::format("`def {}(Task task) {{ ... }}`", name) : fmt::format("`{} = ...;`", name);
  f.suggestions.push_back(fmt::format("define it at top level before line {}: {}", before, how));
  return f;
}

Feedback wrong_arity(const Site& s) {
  Feedback f;
  f.category = Category::WrongArity;
  const dsl::Diagnostic& d = s.d;
  if (d.id == DiagId::machine_needs_kind) {
    static const std::regex call(R"(Machine\s*\([^)]*\))");
    const std::string fixed = std::regex_replace(s.line, call, "Machine(GPU)", std::regex_constants::format_first_only);
    f.explanation =
        fmt::format("{}: `Machine(...)` takes exactly one processor kind (`{}`){}.", s.where, s.code, s.after);
    f.suggestions.push_back(fmt::format("name the kind of processors the space holds, e.g. `{}`", trim(fixed)));
    f.hints.push_back(s.edit(fixed, "Machine() takes one processor kind: CPU, GPU, OMP, IO, PY or PROC"));
    return f;
  }
  const std::string name = quoted_name(d.message);
  const auto definition = name.empty() ? std::nullopt : function_definition(s.source, name);
  const std::string signature =
      definition ? fmt::format(", as defined at line {}: `{}`", definition->first, definition->second) : "";
  f.explanation = fmt::format("{}: {} (`{}`){}.", s.where, d.message, s.code, s.after);
  f.suggestions.push_back(
      d.id == DiagId::map_function_signature
          ? fmt::format("give '{}' exactly one parameter, the task: `def {}(Task task)`", name, name)
          : fmt::format("call '{}' with the arguments it takes{}", name.empty() ? "it" : name, signature));
  return f;
}

Feedback wrong_type(const Site& s) {
  Feedback f;
  f.category = Category::WrongType;
  const dsl::Diagnostic& d = s.d;
  std::string advice = d.message;
  std::smatch m;
  static const std::regex argument(R"(argument (\d+) of '([^']+)' must be (.+) but is (.+))");
  if (std::regex_search(d.message, m, argument)) {
    const std::string function = m[2].str(), wanted = m[3].str();
    const auto definition = function_definition(s.source, function);
    std::string example;
    if (wanted.find("task") != std::string::npos)
      example = " (in a mapping function, its `Task` parameter)";
    else if (wanted.find("int") != std::string::npos)
      example = " (e.g. `task.ipoint[0]` or `m.size[1]`)";
    else if (wanted.find("machine") != std::string::npos)
      example = " (e.g. a space defined as `mgpu = Machine(GPU);`)";
    advice = fmt::format(
        "pass {} as argument {} of '{}'{}{}", wanted, m[1].str(), function, example,
        definition ? fmt::format("; its definition at line {} is `{}`", definition->first, definition->second) : "");
  }
  f.explanation = fmt::format("{}: {} (`{}`){}.", s.where, d.message, s.code, s.after);
  f.suggestions.push_back(advice);
  return f;
}

}  // namespace

std::optional<Feedback> explain_language_error(const Context& c, const dsl::Diagnostic& d, const std::string& task) {
  const Category category = category_of(d.id);
  if (category == Category::MapperError || !c.source || d.loc.line <= 0) return std::nullopt;
  const auto& all = c.result.diagnostics;
  const auto errors = std::count_if(all.begin(), all.end(),
                                    [](const dsl::Diagnostic& x) { return x.severity == dsl::Severity::Error; });
  // An error while placing a task carries "(task T, point P, in F)": say it once, up front.
  dsl::Diagnostic plain = d;
  std::string placing;
  std::smatch m;
  static const std::regex context(R"( \(task (\S+), point (\([^)]*\)), in ([_a-zA-Z][_a-zA-Z0-9]*)\)$)");
  if (std::regex_search(d.message, m, context)) {
    placing = fmt::format(" (placing point {} of {} in {})", m[2].str(), m[1].str(), m[3].str());
    plain.message = d.message.substr(0, static_cast<size_t>(m.position(0)));
  }
  const std::string line = source_line(*c.source, d.loc.line);
  const Site site{
      plain,
      *c.source,
      line,
      fmt::format("{}:{}{}", c.source->name, d.loc.line, placing),
      trim(line),
      errors > 1 ? fmt::format("; the {} after it may follow from it", plural(errors - 1, "error", "errors")) : "",
      task.empty() ? "*" : task};
  switch (category) {
    case Category::SyntaxError:
      return syntax_error(site);
    case Category::UndefinedName:
      return undefined_name(site, all);
    case Category::WrongArity:
      return wrong_arity(site);
    default:
      return wrong_type(site);
  }
}

Feedback explain_mapper_error(const Context& c) {
  const auto& all = c.result.diagnostics;
  auto first =
      std::find_if(all.begin(), all.end(), [](const dsl::Diagnostic& d) { return d.severity == dsl::Severity::Error; });
  if (first != all.end())
    if (auto f = explain_language_error(c, *first, "*")) return std::move(*f);
  Feedback f;
  f.category = Category::MapperError;
  if (first == all.end() || !c.source || first->loc.line <= 0) {
    const std::string& m = c.outcome().message;
    f.explanation = "The mapper does not compile: " + m.substr(0, m.find('\n')) + ".";
    f.suggestions.push_back("fix the error the message names");
    return f;
  }
  const dsl::Diagnostic& d = *first;
  const std::string line = trim(source_line(*c.source, d.loc.line));
  if (d.id == DiagId::invalid_instance_limit) {
    const std::string text = source_line(*c.source, d.loc.line);
    const std::string fixed = replace_at(text, d.loc.col, identifier_at(text, d.loc.col).size(), "1");
    f.explanation = fmt::format("{}:{}: an instance limit below 1 would never let the task be mapped (`{}`).",
                                c.source->name, d.loc.line, line);
    f.suggestions.push_back(fmt::format("allow at least one task in flight: `{}`", trim(fixed)));
    f.hints.push_back(Hint{Action::Edit, "*", "", text, fixed, "an instance limit must be at least 1", 0});
    return f;
  }
  f.explanation = fmt::format("{}:{}:{}: {} (`{}`).", c.source->name, d.loc.line, d.loc.col, d.message, line);
  f.suggestions.push_back(fmt::format("fix line {}: {}", d.loc.line, d.message));
  return f;
}

}  // namespace mage::guide::detail
