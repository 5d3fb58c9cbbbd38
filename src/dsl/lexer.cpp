#include "dsl/lexer.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "dsl/dsl.h"

namespace mage::dsl {

namespace {

const std::unordered_map<std::string_view, Tok>& keywords() {
  static const std::unordered_map<std::string_view, Tok> table = [] {
    std::unordered_map<std::string_view, Tok> k = {
        {"Task", Tok::KwTask},
        {"Region", Tok::KwRegion},
        {"Layout", Tok::KwLayout},
        {"InstanceLimit", Tok::KwInstanceLimit},
        {"CollectMemory", Tok::KwCollectMemory},
        {"IndexTaskMap", Tok::KwIndexTaskMap},
        {"SingleTaskMap", Tok::KwSingleTaskMap},
        {"ControlReplicate", Tok::KwControlReplicate},
        {"def", Tok::KwDef},
        {"return", Tok::KwReturn},
        {"print", Tok::KwPrint},
        {"tuple", Tok::KwTuple},
        {"for", Tok::KwFor},
        {"in", Tok::KwIn},
        {"True", Tok::KwTrue},
        {"False", Tok::KwFalse},
        {"int", Tok::KwInt},
        {"bool", Tok::KwBool},
        {"IPoint", Tok::KwIPoint},
        {"ISpace", Tok::KwISpace},
        {"MSpace", Tok::KwMSpace},
    };
    for (Tok kind : {Tok::ProcKind, Tok::MemKind, Tok::LayoutWord})
      for (std::string_view word : kind_words(kind)) k.emplace(word, kind);
    return k;
  }();
  return table;
}

}  // namespace

std::vector<std::string_view> kind_words(Tok kind) {
  std::vector<std::string_view> words;
  switch (kind) {
    case Tok::ProcKind:
      for (kinds::ProcKind k : kinds::kProcKinds) words.push_back(kinds::to_string(k));
      words.push_back(to_string(ProcWord::proc()));
      break;
    case Tok::MemKind:
      for (kinds::MemKind k : kinds::kMemKinds) words.push_back(kinds::to_string(k));
      words.push_back(to_string(MemWord::virtual_memory()));
      break;
    case Tok::LayoutWord:
      words = {kinds::to_string(kinds::FieldLayout::SOA),
               kinds::to_string(kinds::FieldLayout::AOS),
               kinds::to_string(kinds::DimOrder::C),
               kinds::to_string(kinds::DimOrder::F),
               "Compact",
               "Exact",
               "Align",
               "No_Align"};
      break;
    default:
      break;
  }
  return words;
}

std::string_view tok_name(Tok t) {
  switch (t) {
    case Tok::End:
      return "end of file";
    case Tok::Ident:
      return "a name";
    case Tok::Int:
      return "an integer";
    case Tok::String:
      return "a string";
    case Tok::KwTask:
      return "'Task'";
    case Tok::KwRegion:
      return "'Region'";
    case Tok::KwLayout:
      return "'Layout'";
    case Tok::KwInstanceLimit:
      return "'InstanceLimit'";
    case Tok::KwCollectMemory:
      return "'CollectMemory'";
    case Tok::KwIndexTaskMap:
      return "'IndexTaskMap'";
    case Tok::KwSingleTaskMap:
      return "'SingleTaskMap'";
    case Tok::KwControlReplicate:
      return "'ControlReplicate'";
    case Tok::KwDef:
      return "'def'";
    case Tok::KwReturn:
      return "'return'";
    case Tok::KwPrint:
      return "'print'";
    case Tok::KwTuple:
      return "'tuple'";
    case Tok::KwFor:
      return "'for'";
    case Tok::KwIn:
      return "'in'";
    case Tok::KwTrue:
      return "'True'";
    case Tok::KwFalse:
      return "'False'";
    case Tok::KwInt:
      return "'int'";
    case Tok::KwBool:
      return "'bool'";
    case Tok::KwIPoint:
      return "'IPoint'";
    case Tok::KwISpace:
      return "'ISpace'";
    case Tok::KwMSpace:
      return "'MSpace'";
    case Tok::ProcKind:
      return "a processor kind";
    case Tok::MemKind:
      return "a memory kind";
    case Tok::LayoutWord:
      return "a layout constraint";
    case Tok::Semi:
      return "';'";
    case Tok::Comma:
      return "','";
    case Tok::LParen:
      return "'('";
    case Tok::RParen:
      return "')'";
    case Tok::LBrace:
      return "'{'";
    case Tok::RBrace:
      return "'}'";
    case Tok::LBracket:
      return "'['";
    case Tok::RBracket:
      return "']'";
    case Tok::Dot:
      return "'.'";
    case Tok::Colon:
      return "':'";
    case Tok::Question:
      return "'?'";
    case Tok::Star:
      return "'*'";
    case Tok::Plus:
      return "'+'";
    case Tok::Minus:
      return "'-'";
    case Tok::Slash:
      return "'/'";
    case Tok::Percent:
      return "'%'";
    case Tok::Assign:
      return "'='";
    case Tok::Eq:
      return "'=='";
    case Tok::Ne:
      return "'!='";
    case Tok::Lt:
      return "'<'";
    case Tok::Le:
      return "'<='";
    case Tok::Gt:
      return "'>'";
    case Tok::Ge:
      return "'>='";
    case Tok::AndAnd:
      return "'&&'";
    case Tok::OrOr:
      return "'||'";
    case Tok::Bang:
      return "'!'";
  }
  return "a token";
}

std::string describe_token(const Token& t) {
  switch (t.kind) {
    case Tok::End:
      return "end of file";
    case Tok::Ident:
      return "'" + t.text + "'";
    case Tok::Int:
      return std::to_string(t.value);
    case Tok::String:
      return "a string";
    case Tok::ProcKind:
    case Tok::MemKind:
    case Tok::LayoutWord:
      return "'" + t.text + "'";
    default:
      return std::string(tok_name(t.kind));
  }
}

LexResult lex(const SourceFile& source, DiagnosticSink& sink) {
  LexResult out;
  const std::string& s = source.text;
  size_t i = 0;
  int line = 1;
  int col = 1;
  bool line_has_code = false;
  bool line_has_anything = false;
  out.blank_line.push_back(false);  // index 0 unused
  out.tokens.reserve(s.size() / 4 + 1);

  auto advance = [&](size_t n = 1) {
    for (size_t k = 0; k < n && i < s.size(); ++k, ++i) {
      if (s[i] == '\n') {
        out.blank_line.push_back(!line_has_anything);
        ++line;
        col = 1;
        line_has_code = false;
        line_has_anything = false;
      } else if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
        ++col;  // columns count characters: UTF-8 continuation bytes add none
      }
    }
  };
  auto push = [&](Tok kind, size_t len, SourceLoc loc) {
    Token t;
    t.kind = kind;
    t.text = s.substr(i, len);
    t.loc = loc;
    advance(len);
    t.end = SourceLoc{line, col - 1};
    out.tokens.push_back(std::move(t));
  };

  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      advance();
      continue;
    }
    SourceLoc loc{line, col};
    line_has_anything = true;
    if (c == '#' || (c == '/' && i + 1 < s.size() && s[i + 1] == '/')) {
      size_t end = s.find('\n', i);
      if (end == std::string::npos) end = s.size();
      std::string text = s.substr(i, end - i);
      while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) text.pop_back();
      out.comments.push_back(Comment{text, loc, !line_has_code});
      advance(end - i);
      continue;
    }
    line_has_code = true;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      std::string_view word(s.data() + i, j - i);
      auto it = keywords().find(word);
      push(it == keywords().end() ? Tok::Ident : it->second, j - i, loc);
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      std::string digits = s.substr(i, j - i);
      int64_t v = 0;
      bool overflow = false;
      for (char d : digits) {
        int digit = d - '0';
        if (v > (INT64_MAX - digit) / 10) {
          overflow = true;
          break;
        }
        v = v * 10 + digit;
      }
      if (j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
        size_t k = j + 1;
        while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
        sink.report(DiagId::float_literal, loc, s.substr(i, k - i));
        push(Tok::Int, k - i, loc);
        continue;
      }
      if (overflow) sink.report(DiagId::integer_too_large, loc, digits);
      push(Tok::Int, j - i, loc);
      out.tokens.back().value = overflow ? 0 : v;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      std::string value;
      bool closed = false;
      while (j < s.size() && s[j] != '\n') {
        if (s[j] == '\\' && j + 1 < s.size() && s[j + 1] != '\n') {
          char e = s[j + 1];
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
          j += 2;
          continue;
        }
        if (s[j] == '"') {
          closed = true;
          break;
        }
        value += s[j++];
      }
      if (!closed) {
        sink.report(DiagId::unterminated_string, loc);
        push(Tok::String, j - i, loc);
      } else {
        push(Tok::String, j + 1 - i, loc);
      }
      out.tokens.back().text = value;
      continue;
    }
    auto two = [&](char a, char b) { return c == a && i + 1 < s.size() && s[i + 1] == b; };
    if (two('=', '=')) {
      push(Tok::Eq, 2, loc);
      continue;
    }
    if (two('!', '=')) {
      push(Tok::Ne, 2, loc);
      continue;
    }
    if (two('<', '=')) {
      push(Tok::Le, 2, loc);
      continue;
    }
    if (two('>', '=')) {
      push(Tok::Ge, 2, loc);
      continue;
    }
    if (two('&', '&')) {
      push(Tok::AndAnd, 2, loc);
      continue;
    }
    if (two('|', '|')) {
      push(Tok::OrOr, 2, loc);
      continue;
    }
    Tok single = Tok::End;
    switch (c) {
      case ';':
        single = Tok::Semi;
        break;
      case ',':
        single = Tok::Comma;
        break;
      case '(':
        single = Tok::LParen;
        break;
      case ')':
        single = Tok::RParen;
        break;
      case '{':
        single = Tok::LBrace;
        break;
      case '}':
        single = Tok::RBrace;
        break;
      case '[':
        single = Tok::LBracket;
        break;
      case ']':
        single = Tok::RBracket;
        break;
      case '.':
        single = Tok::Dot;
        break;
      case ':':
        single = Tok::Colon;
        break;
      case '?':
        single = Tok::Question;
        break;
      case '*':
        single = Tok::Star;
        break;
      case '+':
        single = Tok::Plus;
        break;
      case '-':
        single = Tok::Minus;
        break;
      case '/':
        single = Tok::Slash;
        break;
      case '%':
        single = Tok::Percent;
        break;
      case '=':
        single = Tok::Assign;
        break;
      case '<':
        single = Tok::Lt;
        break;
      case '>':
        single = Tok::Gt;
        break;
      case '!':
        single = Tok::Bang;
        break;
      default:
        break;
    }
    if (single != Tok::End) {
      push(single, 1, loc);
      continue;
    }
    // Report the whole UTF-8 sequence (or the byte, shown as hex if unprintable).
    std::string shown;
    unsigned char uc = static_cast<unsigned char>(c);
    size_t len = 1;
    if (uc >= 0xC2 && uc < 0xF5) len = uc >= 0xF0 ? 4 : uc >= 0xE0 ? 3 : 2;
    // A lead byte must be followed by continuation bytes (10xxxxxx); anything else (a
    // Latin-1 byte, binary garbage) is shown byte by byte, so a message is always UTF-8.
    bool sequence = uc >= 0x80 && len > 1 && i + len <= s.size();
    for (size_t k = 1; sequence && k < len; ++k) sequence = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (uc < 0x80 && std::isprint(uc))
      shown = std::string(1, c);
    else if (sequence)
      shown = s.substr(i, len);
    else
      shown = fmt::format("\\x{:02x}", uc);
    if (!sequence) len = 1;
    sink.report(DiagId::unexpected_character, loc, shown);
    advance(len);
  }
  out.blank_line.push_back(!line_has_anything);
  Token end;
  end.kind = Tok::End;
  end.loc = SourceLoc{line, col};
  end.end = end.loc;
  out.tokens.push_back(end);
  return out;
}

std::vector<std::pair<std::string_view, Tok>> keyword_table() {
  std::vector<std::pair<std::string_view, Tok>> table(keywords().begin(), keywords().end());
  std::sort(table.begin(), table.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  });
  return table;
}

}  // namespace mage::dsl
