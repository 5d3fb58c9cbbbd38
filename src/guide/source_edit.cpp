// Reading and rewriting lines of mapper text. The scans are lexical (brackets, identifiers,
// comments), enough to locate the pieces a diagnostic points at.
#include "guide/source_edit.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "kinds/kinds.h"

namespace mage::guide::detail {

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

size_t index_of(int col) { return col > 0 ? static_cast<size_t>(col - 1) : 0; }

// Lines of the source, without newlines.
std::vector<std::string_view> lines_of(const dsl::SourceFile& s) {
  std::vector<std::string_view> out;
  std::string_view text = s.text;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

// The line without its comment (# or //), strings kept as they are.
std::string_view code_of(std::string_view line) {
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') in_string = !in_string;
    if (in_string) continue;
    if (line[i] == '#' || (line[i] == '/' && i + 1 < line.size() && line[i + 1] == '/')) return line.substr(0, i);
  }
  return line;
}

}  // namespace

std::string identifier_at(std::string_view line, int col) {
  size_t i = index_of(col);
  size_t end = i;
  while (end < line.size() && is_name_char(line[end])) ++end;
  return std::string(line.substr(std::min(i, line.size()), end > i ? end - i : 0));
}

std::string expression_at(std::string_view line, int col) {
  const size_t start = std::min(index_of(col), line.size());
  int depth = 0;
  size_t i = start;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') {
      if (depth == 0) break;
      --depth;
    }
    if (depth == 0 && (c == ',' || c == ';')) break;
  }
  std::string_view e = line.substr(start, i - start);
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.back()))) e.remove_suffix(1);
  return std::string(e);
}

std::string indexed_space_at(std::string_view line, int col) {
  int depth = 0;
  for (size_t i = std::min(index_of(col), line.size()); i-- > 0;) {
    const char c = line[i];
    if (c == ')' || c == ']') ++depth;
    if (c == '(' || c == '[') {
      if (depth > 0) {
        --depth;
        continue;
      }
      if (c == '(') return "";  // inside a call, not an index list
      size_t end = i;
      while (end > 0 && std::isspace(static_cast<unsigned char>(line[end - 1]))) --end;
      size_t begin = end;
      while (begin > 0 && is_name_char(line[begin - 1])) --begin;
      return std::string(line.substr(begin, end - begin));
    }
  }
  return "";
}

std::string replace_at(std::string_view line, int col, size_t length, std::string_view text) {
  const size_t i = std::min(index_of(col), line.size());
  std::string out(line.substr(0, i));
  out += text;
  if (i + length < line.size()) out += line.substr(i + length);
  return out;
}

std::vector<std::string> defined_names(const dsl::SourceFile& s) {
  static const std::regex assignment(R"(^\s*([_a-zA-Z][_a-zA-Z0-9]*)\s*=[^=])");
  static const std::regex function(R"(\bdef\s+([_a-zA-Z][_a-zA-Z0-9]*)\s*\(([^)]*)\))");
  static const std::regex parameter(R"(\b(?:Task|int|bool|IPoint|ISpace|MSpace)\s+([_a-zA-Z][_a-zA-Z0-9]*))");
  std::vector<std::string> names;
  auto add = [&](std::string n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  };
  for (std::string_view raw : lines_of(s)) {
    const std::string line(code_of(raw));
    std::smatch m;
    if (std::regex_search(line, m, assignment)) add(m[1].str());
    if (std::regex_search(line, m, function)) {
      add(m[1].str());
      const std::string params = m[2].str();
      for (std::sregex_iterator it(params.begin(), params.end(), parameter), end; it != end; ++it) add((*it)[1].str());
    }
  }
  return names;
}

std::optional<std::string> closest_name(const dsl::SourceFile& s, std::string_view name) {
  std::optional<std::string> best;
  size_t best_distance = 3;
  for (const std::string& n : defined_names(s)) {
    if (n == name) continue;
    const size_t d = kinds::edit_distance(n, name);
    if (d < best_distance) {
      best_distance = d;
      best = n;
    }
  }
  return best;
}

int statement_start(const dsl::SourceFile& s, int line) {
  const std::vector<std::string_view> lines = lines_of(s);
  int depth = 0;
  int start = 1;
  for (int i = 1; i <= line && i <= static_cast<int>(lines.size()); ++i) {
    const std::string_view code = code_of(lines[static_cast<size_t>(i - 1)]);
    const bool blank = code.find_first_not_of(" \t\r") == std::string_view::npos;
    if (depth == 0 && !blank) start = i;
    depth += brace_balance(code);
    if (depth < 0) depth = 0;
  }
  return start;
}

std::optional<std::pair<int, std::string>> function_definition(const dsl::SourceFile& s, std::string_view name) {
  const std::regex def(R"(\bdef\s+)" + std::string(name) + R"(\s*\([^)]*\))");
  const std::vector<std::string_view> lines = lines_of(s);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line(code_of(lines[i]));
    std::smatch m;
    if (std::regex_search(line, m, def)) return std::make_pair(static_cast<int>(i + 1), m[0].str());
  }
  return std::nullopt;
}

std::optional<std::string> machine_space_of(const dsl::SourceFile& s, std::string_view kind) {
  const std::regex assignment(R"(^\s*([_a-zA-Z][_a-zA-Z0-9]*)\s*=\s*Machine\(\s*)" + std::string(kind) + R"(\s*\))");
  for (std::string_view raw : lines_of(s)) {
    const std::string line(code_of(raw));
    std::smatch m;
    if (std::regex_search(line, m, assignment)) return m[1].str();
  }
  return std::nullopt;
}

int brace_balance(std::string_view text) {
  int balance = 0;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find('\n', start);
    const std::string_view code = code_of(text.substr(start, end == std::string_view::npos ? end : end - start));
    for (char c : code) balance += c == '{' ? 1 : c == '}' ? -1 : 0;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return balance;
}

}  // namespace mage::guide::detail
