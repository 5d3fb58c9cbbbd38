// Lexer of the mapping language: text -> tokens (comments kept aside for the printer).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dsl/source.h"

namespace mage::dsl {

enum class Tok {
  End,
  Ident,
  Int,
  String,
  // Statement keywords
  KwTask,
  KwRegion,
  KwLayout,
  KwInstanceLimit,
  KwCollectMemory,
  KwIndexTaskMap,
  KwSingleTaskMap,
  KwControlReplicate,
  KwDef,
  KwReturn,
  KwPrint,
  KwTuple,
  KwFor,
  KwIn,
  KwTrue,
  KwFalse,
  // Type keywords (Task doubles as a type)
  KwInt,
  KwBool,
  KwIPoint,
  KwISpace,
  KwMSpace,
  // Processor kinds, memory kinds, layout words
  ProcKind,
  MemKind,
  LayoutWord,
  // Punctuation and operators
  Semi,
  Comma,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Dot,
  Colon,
  Question,
  Star,
  Plus,
  Minus,
  Slash,
  Percent,
  Assign,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  AndAnd,
  OrOr,
  Bang,
};

std::string_view tok_name(Tok t);

struct Token {
  Tok kind = Tok::End;
  std::string text;   // identifier / keyword spelling, string contents (unescaped)
  int64_t value = 0;  // for Int
  SourceLoc loc;
  SourceLoc end;  // last character
};

struct Comment {
  std::string text;  // including the leading '#' or '//'
  SourceLoc loc;
  bool own_line = false;  // nothing but whitespace before it on its line
};

struct LexResult {
  std::vector<Token> tokens;  // always ends with Tok::End
  std::vector<Comment> comments;
  // line numbers (1-based) that are empty or whitespace only
  std::vector<bool> blank_line;
};

LexResult lex(const SourceFile& source, DiagnosticSink& sink);

// How a token is shown in "expected X but found Y" messages.
std::string describe_token(const Token& t);

// The reserved words and the token each lexes to (the lexer's own table), ordered by token
// then spelling: the language reference lists them from here.
std::vector<std::pair<std::string_view, Tok>> keyword_table();

}  // namespace mage::dsl
