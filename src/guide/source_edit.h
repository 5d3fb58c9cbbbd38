// Internal to the guide: reading and rewriting lines of mapper text, for hints that fix an
// error at a line (Action::Edit). Columns are 1-based, as diagnostics give them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/dsl.h"

namespace mage::guide::detail {

// The identifier that starts at `col`, or "".
std::string identifier_at(std::string_view line, int col);
// The expression that starts at `col` and runs to the ',' , ']' , ')' or ';' that ends it
// at its own nesting level.
std::string expression_at(std::string_view line, int col);
// The name of the machine space indexed by the '[' that encloses `col`, or "".
std::string indexed_space_at(std::string_view line, int col);
// `line` with `length` characters at `col` replaced by `text`.
std::string replace_at(std::string_view line, int col, size_t length, std::string_view text);

// Names the mapper defines: globals, functions and parameters, in order of appearance.
std::vector<std::string> defined_names(const dsl::SourceFile& s);
// The defined name closest to `name` (at most 2 edits away), if any.
std::optional<std::string> closest_name(const dsl::SourceFile& s, std::string_view name);
// The line (1-based) where the top-level statement containing line `line` starts.
int statement_start(const dsl::SourceFile& s, int line);
// The line of `def NAME(` and its signature text ("def two(int a, int b)"), if defined.
std::optional<std::pair<int, std::string>> function_definition(const dsl::SourceFile& s, std::string_view name);
// The name of a global assigned `Machine(KIND)`, if the mapper has one.
std::optional<std::string> machine_space_of(const dsl::SourceFile& s, std::string_view kind);
// Braces opened minus braces closed, outside comments.
int brace_balance(std::string_view text);

}  // namespace mage::guide::detail
