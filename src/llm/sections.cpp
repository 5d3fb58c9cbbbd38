// A mapper as six sections, and back.
#include <map>

#include "dsl/dsl.h"
#include "llm/llm.h"

namespace mage::llm {

std::string_view section_key(Section s) {
  switch (s) {
    case Section::Task:
      return "task";
    case Section::Region:
      return "region";
    case Section::Layout:
      return "layout";
    case Section::Limits:
      return "limits";
    case Section::IndexMap:
      return "index_map";
    case Section::SingleMap:
      return "single_map";
  }
  return "";
}

std::string_view section_description(Section s) {
  switch (s) {
    case Section::Task:
      return "task placement: Task rules (the processor kinds each task tries) and ControlReplicate";
    case Section::Region:
      return "region placement: Region rules (the memories each task argument tries on each processor kind)";
    case Section::Layout:
      return "layout: Layout rules";
    case Section::Limits:
      return "instance limits: InstanceLimit and CollectMemory rules";
    case Section::IndexMap:
      return "index-task placement: IndexTaskMap rules with the functions and globals they use (the single_map "
             "section may use these too)";
    case Section::SingleMap:
      return "single-task placement: SingleTaskMap rules with the functions and globals only they use, and any "
             "other definition";
  }
  return "";
}

std::optional<Section> parse_section_key(std::string_view key) {
  for (Section s : kSections)
    if (section_key(s) == key) return s;
  return std::nullopt;
}

namespace {

std::optional<Section> rule_section(std::string_view keyword) {
  static const std::map<std::string_view, Section> by_keyword = {
      {"Task", Section::Task},
      {"ControlReplicate", Section::Task},
      {"Region", Section::Region},
      {"Layout", Section::Layout},
      {"InstanceLimit", Section::Limits},
      {"CollectMemory", Section::Limits},
      {"IndexTaskMap", Section::IndexMap},
      {"SingleTaskMap", Section::SingleMap},
  };
  auto it = by_keyword.find(keyword);
  if (it == by_keyword.end()) return std::nullopt;
  return it->second;
}

// Without leading blank lines and trailing white space, ending in one newline (empty stays empty).
std::string tidy(std::string_view text) {
  size_t begin = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n')
      begin = i + 1;
    else if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
      break;
  }
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos || end < begin) return "";
  return std::string(text.substr(begin, end + 1 - begin)) + "\n";
}

}  // namespace

Sections split_sections(const dsl::Unit& unit) {
  const auto statements = dsl::top_level_statements(unit);
  std::map<std::string, size_t> definition;  // name -> statement that defines it
  for (size_t i = 0; i < statements.size(); ++i)
    if (!statements[i].defines.empty()) definition.emplace(statements[i].defines, i);

  // Everything an IndexTaskMap needs, directly or through other definitions.
  std::vector<bool> for_index(statements.size(), false);
  std::vector<size_t> pending;
  auto need = [&](const std::set<std::string>& names) {
    for (const auto& name : names)
      if (auto it = definition.find(name); it != definition.end() && !for_index[it->second]) {
        for_index[it->second] = true;
        pending.push_back(it->second);
      }
  };
  for (const auto& s : statements)
    if (rule_section(s.keyword) == Section::IndexMap) need(s.names);
  while (!pending.empty()) {
    size_t i = pending.back();
    pending.pop_back();
    need(statements[i].names);
  }

  Sections sections;
  for (size_t i = 0; i < statements.size(); ++i) {
    const auto& s = statements[i];
    Section section = rule_section(s.keyword).value_or(for_index[i] ? Section::IndexMap : Section::SingleMap);
    std::string& text = sections[section];
    if (!text.empty() && s.blank_line_before) text += "\n";
    text += s.text;
  }
  return sections;
}

std::string assemble(const Sections& sections) {
  std::string out;
  for (Section s : kSections) {
    std::string text = tidy(sections[s]);
    if (text.empty()) continue;
    if (!out.empty()) out += "\n";
    out += text;
  }
  return out;
}

std::string Proposal::apply_to(const Sections& current) const {
  if (mapper) return *mapper;
  Sections next = current;
  for (const auto& [section, text] : sections) next[section] = text;
  return assemble(next);
}

}  // namespace mage::llm
