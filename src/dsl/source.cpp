#include "dsl/source.h"

#include <algorithm>

namespace mage::dsl {

namespace {
struct DiagInfo {
  std::string_view name;
  Severity severity;
  std::string_view format;
};
constexpr DiagInfo kDiagInfo[] = {
#define DIAG(id, severity, format) {#id, Severity::severity, format},
#include "dsl/diagnostics.def"
#undef DIAG
};
}  // namespace

std::string_view diag_name(DiagId id) { return kDiagInfo[static_cast<size_t>(id)].name; }
Severity diag_severity(DiagId id) { return kDiagInfo[static_cast<size_t>(id)].severity; }
std::string_view diag_format(DiagId id) { return kDiagInfo[static_cast<size_t>(id)].format; }

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Note:
      return "note";
  }
  return "error";
}

std::string_view SourceFile::line(int number) const {
  if (number < 1) return {};
  size_t start = 0;
  for (int i = 1; i < number; ++i) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) return {};
    start = nl + 1;
  }
  size_t end = text.find('\n', start);
  std::string_view l(text.data() + start, (end == std::string::npos ? text.size() : end) - start);
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

namespace {

// One diagnostic, given the text of its line (found by the caller).
std::string format_one(const Diagnostic& d, std::string_view text) {
  std::string out;
  if (d.loc.line > 0) {
    out = fmt::format("{}:{}:{}: {}: {}\n", d.file, d.loc.line, d.loc.col, to_string(d.severity), d.message);
    if (!text.empty() || d.loc.line == 1) {
      out += fmt::format("{}\n", text);
      // Keep tabs so that the caret lines up under the column in a terminal.
      std::string pad;
      for (int i = 1; i < d.loc.col && i - 1 < static_cast<int>(text.size()); ++i)
        pad += text[static_cast<size_t>(i - 1)] == '\t' ? '\t' : ' ';
      out += pad + "^\n";
    }
  } else {
    out = fmt::format("{}: {}: {}\n", d.file, to_string(d.severity), d.message);
  }
  for (const auto& note : d.notes) out += fmt::format("  note: {}\n", note);
  return out;
}

}  // namespace

std::string format_diagnostic(const Diagnostic& d, const SourceFile& source) {
  return format_one(d, d.loc.line > 0 ? source.line(d.loc.line) : std::string_view{});
}

std::string format_diagnostics(const std::vector<Diagnostic>& ds, const SourceFile& source, size_t limit,
                               std::string_view show_all) {
  const size_t shown = limit == 0 ? ds.size() : std::min(limit, ds.size());
  // Where each line starts, found once: looking each line up from the start of the text
  // made thousands of diagnostics quadratic.
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < source.text.size(); ++i)
    if (source.text[i] == '\n') starts.push_back(i + 1);
  auto line_text = [&](int number) -> std::string_view {
    if (number < 1 || static_cast<size_t>(number) > starts.size()) return {};
    const size_t begin = starts[static_cast<size_t>(number) - 1];
    size_t end =
        static_cast<size_t>(number) < starts.size() ? starts[static_cast<size_t>(number)] - 1 : source.text.size();
    std::string_view l(source.text.data() + begin, end - begin);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  };
  std::string out;
  for (size_t i = 0; i < shown; ++i) out += format_one(ds[i], line_text(ds[i].loc.line));
  if (shown == ds.size()) return out;
  size_t counts[3] = {0, 0, 0};  // errors, warnings, notes
  for (size_t i = shown; i < ds.size(); ++i) ++counts[static_cast<size_t>(ds[i].severity)];
  std::string rest;
  for (Severity sev : {Severity::Error, Severity::Warning, Severity::Note}) {
    const size_t n = counts[static_cast<size_t>(sev)];
    if (n > 0) rest += fmt::format("{}{} more {}{}", rest.empty() ? "" : " and ", n, to_string(sev), n == 1 ? "" : "s");
  }
  out += fmt::format("... and {}{}{}\n", rest, show_all.empty() ? "" : "; ", show_all);
  return out;
}

bool has_errors(const std::vector<Diagnostic>& ds) {
  return std::any_of(ds.begin(), ds.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

size_t DiagnosticSink::error_count() const {
  return static_cast<size_t>(
      std::count_if(diags_.begin(), diags_.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

}  // namespace mage::dsl
