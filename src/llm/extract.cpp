// Reading a proposal out of a model's reply. Models wrap JSON in fences or prose, and put
// raw line breaks in JSON strings; both are accepted. Anything else gets an error worded
// for the model, which receives it as feedback.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kinds/json_text.h"
#include "llm/llm.h"

namespace mage::llm {

namespace {

struct Fence {
  std::string info;  // the word after the opening ```, e.g. "json"
  std::string body;
};

// The ``` blocks of a reply; an unclosed one runs to the end (a reply cut short).
std::vector<Fence> fenced_blocks(std::string_view reply) {
  std::vector<Fence> fences;
  std::optional<Fence> open;
  size_t pos = 0;
  while (pos < reply.size()) {
    size_t eol = reply.find('\n', pos);
    std::string_view line = reply.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? reply.size() : eol + 1;
    std::string_view trimmed = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
    if (trimmed.starts_with("```")) {
      if (open) {
        fences.push_back(std::move(*open));
        open.reset();
      } else {
        std::string_view info = trimmed.substr(3);
        size_t end = info.find_first_of(" \t\r");
        open = Fence{std::string(info.substr(0, end)), ""};
      }
      continue;
    }
    if (open) {
      open->body += line;
      open->body += '\n';
    }
  }
  if (open) fences.push_back(std::move(*open));
  return fences;
}

// The end of the JSON object that starts at `begin` ('{'), strings and escapes respected;
// npos when it does not close.
size_t object_end(std::string_view text, size_t begin) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = begin; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Objects in `text` that open with a key ('{' then '"'): mapper code has '{' before
// statements, JSON before a key.
std::vector<std::string> json_objects(std::string_view text) {
  std::vector<std::string> objects;
  for (size_t i = text.find('{'); i != std::string_view::npos; i = text.find('{', i + 1)) {
    size_t next = text.find_first_not_of(" \t\r\n", i + 1);
    if (next == std::string_view::npos || text[next] != '"') continue;
    size_t end = object_end(text, i);
    if (end == std::string_view::npos) {
      objects.emplace_back(text.substr(i));  // unclosed: let the parser say where
      break;
    }
    objects.emplace_back(text.substr(i, end + 1 - i));
    i = end;
  }
  return objects;
}

// Raw line breaks and tabs inside strings escaped (invalid JSON that models often write).
std::string escape_raw_controls(std::string_view text) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string && c == '\\' && i + 1 < text.size()) {
      out += c;
      out += text[++i];
      continue;
    }
    if (c == '"') in_string = !in_string;
    if (in_string && c == '\n')
      out += "\\n";
    else if (in_string && c == '\r')
      out += "\\r";
    else if (in_string && c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

std::string parse_error_text(const nlohmann::json::parse_error& e) { return kinds::without_json_tag(e.what()); }

std::string section_list() {
  std::string out;
  for (Section s : kSections) out += fmt::format("{}{}", out.empty() ? "" : ", ", section_key(s));
  return out;
}

// "an array", "a number", ...
std::string a_json_type(const nlohmann::json& j) {
  std::string_view type = j.type_name();
  bool vowel = type.find_first_of("aeiou") == 0;
  return fmt::format("{} {}", vowel ? "an" : "a", type);
}

// A parsed object as a proposal, or the error.
Extraction from_json(const nlohmann::json& j) {
  Extraction x;
  if (!j.is_object() || !j.contains("sections")) {
    x.error =
        "the JSON object in your reply has no \"sections\"; reply with {\"reasoning\": \"...\", \"sections\": "
        "{\"<section>\": \"<new text>\", ...}} where a section is one of " +
        section_list();
    return x;
  }
  const auto& sections = j["sections"];
  if (!sections.is_object()) {
    x.error = fmt::format(
        "\"sections\" in your reply is {}, not an object mapping section names ({}) to their "
        "new text",
        a_json_type(sections), section_list());
    return x;
  }
  if (sections.empty()) {
    x.error = "\"sections\" in your reply is empty: replace at least one section (" + section_list() + ")";
    return x;
  }
  Proposal p;
  for (const auto& [key, value] : sections.items()) {
    auto section = parse_section_key(key);
    if (!section) {
      x.error = fmt::format("\"sections\" in your reply names an unknown section \"{}\"; the sections are {}", key,
                            section_list());
      return x;
    }
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_array() &&
               std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_string(); })) {
      for (const auto& line : value) text += line.get<std::string>() + "\n";  // a list of lines
    } else {
      x.error = fmt::format("section \"{}\" in your reply is {}; it must be a string of mapping-language text", key,
                            a_json_type(value));
      return x;
    }
    p.sections[*section] = std::move(text);
  }
  if (j.contains("reasoning"))
    p.reasoning = j["reasoning"].is_string()
                      ? j["reasoning"].get<std::string>()
                      : j["reasoning"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  x.proposal = std::move(p);
  return x;
}

}  // namespace

Extraction extract_proposal(std::string_view reply) {
  Extraction result;
  if (reply.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    result.error = "your reply is empty";
    return result;
  }
  const auto fences = fenced_blocks(reply);

  // JSON first: fenced as json, then any object in the reply that opens with a key.
  std::vector<std::string> candidates;
  for (const auto& f : fences)
    if (f.info == "json" || f.info == "JSON")
      for (auto& o : json_objects(f.body)) candidates.push_back(std::move(o));
  for (auto& o : json_objects(reply)) candidates.push_back(std::move(o));

  std::string json_error;  // the first problem with an object that meant to be our JSON
  for (const auto& text : candidates) {
    bool ours = text.find("\"sections\"") != std::string::npos;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      try {
        j = nlohmann::json::parse(escape_raw_controls(text));
      } catch (const nlohmann::json::parse_error&) {
        if (ours && json_error.empty())
          json_error = "the JSON object in your reply is malformed: " + parse_error_text(e) +
                       " (counted from the object's opening brace)";
        continue;
      }
    }
    Extraction x = from_json(j);
    if (x.proposal) return x;
    if (ours && json_error.empty()) json_error = x.error;
  }
  if (!json_error.empty()) {
    result.error = json_error;
    return result;
  }

  // Else the last fenced block that is not JSON: a whole mapper.
  for (auto it = fences.rbegin(); it != fences.rend(); ++it) {
    if (it->info == "json" || it->info == "JSON") continue;
    if (it->body.find_first_not_of(" \t\r\n") == std::string::npos) {
      result.error = "the fenced block in your reply is empty; put the whole mapper between the ``` lines";
      return result;
    }
    Proposal p;
    p.mapper = it->body;
    result.proposal = std::move(p);
    return result;
  }
  result.error =
      "your reply holds neither a JSON object {\"reasoning\": \"...\", \"sections\": {...}} nor a mapper "
      "in a fenced block (```...```)";
  return result;
}

}  // namespace mage::llm
