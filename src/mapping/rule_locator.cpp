// RuleLocator: a small scanner over mapper text that finds the Task and Region statements.
#include "mapping/rule_locator.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mage::mapping::detail {

namespace {

struct Token {
  std::string text;  // an identifier, an integer, or one punctuation character
  dsl::SourceLoc loc;
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The top-level statements of the text, each as its tokens (comments and strings dropped).
// A statement ends with ';' outside braces, or with the '}' that closes a function body.
std::vector<std::vector<Token>> statements(std::string_view text) {
  std::vector<std::vector<Token>> out;
  std::vector<Token> current;
  int line = 1, col = 1, depth = 0;
  size_t i = 0;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && i < text.size(); ++k, ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
  };
  auto finish = [&] {
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '#' || (c == '/' && i + 1 < text.size() && text[i + 1] == '/')) {
      while (i < text.size() && text[i] != '\n') advance(1);
    } else if (c == '"') {
      advance(1);
      while (i < text.size() && text[i] != '"' && text[i] != '\n') advance(text[i] == '\\' ? 2 : 1);
      advance(1);
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      advance(1);
    } else if (ident_start(c) || std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      dsl::SourceLoc loc{line, col};
      while (i < text.size() && ident_char(text[i])) advance(1);
      current.push_back(Token{std::string(text.substr(start, i - start)), loc});
    } else {
      current.push_back(Token{std::string(1, c), dsl::SourceLoc{line, col}});
      advance(1);
      if (c == '{') ++depth;
      if (c == '}' && --depth <= 0) {
        depth = 0;
        finish();
      }
      if (c == ';' && depth == 0) finish();
    }
  }
  finish();
  return out;
}

}  // namespace

RuleLocator::RuleLocator(const dsl::SourceFile& source) {
  for (const auto& s : statements(source.text)) {
    if (s.front().text == "Task") {
      TaskRule r;
      r.loc = s.front().loc;
      for (size_t k = 1; k < s.size(); ++k) {
        const std::string& t = s[k].text;
        if (dsl::parse_proc_kind(t)) break;  // the names end where the kinds begin
        if (t != "," && t != ";") r.names.push_back(t);
      }
      task_rules_.push_back(std::move(r));
    } else if (s.front().text == "Region" && s.size() >= 5) {
      auto key = [](const std::string& t) {
        if (t == "*") return Key{Key::Kind::Star, t};
        if (std::isdigit(static_cast<unsigned char>(t[0]))) {  // "007" and "7" are the same key
          int64_t index = 0;
          std::from_chars(t.data(), t.data() + t.size(), index);
          return Key{Key::Kind::Index, std::to_string(index)};
        }
        return Key{Key::Kind::Name, t};
      };
      RegionRule r{key(s[1].text), key(s[2].text), key(s[3].text), {}, s.front().loc};
      for (size_t k = 4; k < s.size(); ++k)
        if (auto m = dsl::parse_mem_kind(s[k].text)) r.memories.push_back(*m);
      bool duplicate = std::any_of(region_rules_.begin(), region_rules_.end(), [&](const RegionRule& q) {
        return q.task == r.task && q.region == r.region && q.proc == r.proc;
      });
      if (!duplicate) region_rules_.push_back(std::move(r));
    }
  }
}

dsl::SourceLoc RuleLocator::task_rule(std::string_view task) const {
  for (std::string_view wanted : {task, std::string_view("*")})
    for (const TaskRule& r : task_rules_)
      if (std::find(r.names.begin(), r.names.end(), wanted) != r.names.end()) return r.loc;
  return {};
}

bool RuleLocator::region_matches(const Key& k, const dsl::ArgumentView& arg) {
  if (k.kind == Key::Kind::Index) {
    int64_t index = -1;
    std::from_chars(k.text.data(), k.text.data() + k.text.size(), index);
    return index == arg.index;
  }
  return std::find(arg.names.begin(), arg.names.end(), k.text) != arg.names.end();
}

// 0: (task, region), 1: (task, *), 2: (*, region), 3: (*, *); -1: does not apply.
int RuleLocator::level(const RegionRule& r, std::string_view task, const dsl::ArgumentView& arg) {
  bool task_exact = r.task.kind != Key::Kind::Star;
  bool region_exact = r.region.kind != Key::Kind::Star;
  if (task_exact && r.task.text != task) return -1;
  if (region_exact && !region_matches(r.region, arg)) return -1;
  return (task_exact ? 0 : 2) + (region_exact ? 0 : 1);
}

std::vector<std::pair<dsl::MemKind, dsl::SourceLoc>> RuleLocator::memory_priority(std::string_view task,
                                                                                const dsl::ArgumentView& arg,
                                                                                dsl::ProcKind proc) const {
  std::vector<std::pair<dsl::MemKind, dsl::SourceLoc>> out;
  for (int lvl = 0; lvl < 4; ++lvl) {
    for (bool exact_proc : {true, false}) {
      for (const RegionRule& r : region_rules_) {
        if (level(r, task, arg) != lvl) continue;
        bool is_exact = r.proc.kind != Key::Kind::Star;
        if (is_exact != exact_proc) continue;
        if (is_exact && r.proc.text != dsl::to_string(proc)) continue;
        for (dsl::MemKind m : r.memories)
          if (std::none_of(out.begin(), out.end(), [&](const auto& e) { return e.first == m; }))
            out.emplace_back(m, r.loc);
      }
    }
  }
  return out;
}

}  // namespace mage::mapping::detail
