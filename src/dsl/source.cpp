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

std::string format_diagnostic(const Diagnostic& d, const SourceFile& source) {
  std::string out;
  if (d.loc.line > 0) {
    out = fmt::format("{}:{}:{}: {}: {}\n", d.file, d.loc.line, d.loc.col, to_string(d.severity), d.message);
    std::string_view text = source.line(d.loc.line);
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

std::string format_diagnostics(const std::vector<Diagnostic>& ds, const SourceFile& source) {
  std::string out;
  for (const auto& d : ds) out += format_diagnostic(d, source);
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
