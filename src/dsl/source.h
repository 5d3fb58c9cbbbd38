// Source text, locations and diagnostics of the mapping language.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mage::dsl {

// 1-based line and column; line 0 means "no location".
struct SourceLoc {
  int line = 0;
  int col = 0;
  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
};

struct SourceRange {
  SourceLoc begin;
  SourceLoc end;  // the last character of the range (inclusive)
};

enum class Severity { Error, Warning, Note };

enum class DiagId {
#define DIAG(id, severity, format) id,
#include "dsl/diagnostics.def"
#undef DIAG
};

std::string_view diag_name(DiagId id);
Severity diag_severity(DiagId id);
std::string_view to_string(Severity s);

struct Diagnostic {
  DiagId id;
  Severity severity;
  std::string file;
  SourceLoc loc;
  std::string message;
  // Extra lines of context (e.g. "while placing task t, point (5), in block1d").
  std::vector<std::string> notes;
};

// A named source text, e.g. a .map file.
struct SourceFile {
  std::string name;
  std::string text;
  std::string_view line(int number) const;  // without the newline; empty if out of range
};

// `FILE:LINE:COL: error: MESSAGE`, the source line and a caret, then the notes.
std::string format_diagnostic(const Diagnostic& d, const SourceFile& source);
// Every diagnostic, or only the first `limit` (0: all) followed by a line that counts the rest,
// "... and 40 more errors", with "; SHOW_ALL" when given (how the caller shows them all).
// Linear in the number of diagnostics and the size of the text.
std::string format_diagnostics(const std::vector<Diagnostic>& ds, const SourceFile& source, size_t limit = 0,
                               std::string_view show_all = {});
// What a command shows by default (clang's -ferror-limit convention).
inline constexpr size_t kDefaultDiagnosticLimit = 20;
bool has_errors(const std::vector<Diagnostic>& ds);

// Collects diagnostics for one source file.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}
  template <typename... Args>
  Diagnostic& report(DiagId id, SourceLoc loc, const Args&... args);
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  std::vector<Diagnostic> take() { return std::move(diags_); }
  bool has_errors() const { return dsl::has_errors(diags_); }
  size_t error_count() const;

 private:
  std::string file_;
  std::vector<Diagnostic> diags_;
};

std::string_view diag_format(DiagId id);

}  // namespace mage::dsl

#include <fmt/format.h>

namespace mage::dsl {
template <typename... Args>
Diagnostic& DiagnosticSink::report(DiagId id, SourceLoc loc, const Args&... args) {
  diags_.push_back(
      Diagnostic{id, diag_severity(id), file_, loc, fmt::format(fmt::runtime(diag_format(id)), args...), {}});
  return diags_.back();
}
}  // namespace mage::dsl
