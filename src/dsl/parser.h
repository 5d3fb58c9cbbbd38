// Recursive-descent parser of the mapping language (precedence climbing for
// expressions). Recovers at the next ';' or '}' so that one run reports several errors.
#pragma once

#include "dsl/ast.h"
#include "dsl/source.h"

namespace mage::dsl {

// Parses `source`; syntax errors go to `sink`. The module holds every statement that
// parsed, so later stages can still check what is there.
Module parse(const SourceFile& source, DiagnosticSink& sink);

// Expressions deeper than this are rejected (keeps the parser's stack bounded).
inline constexpr int kMaxNesting = 100;
// After this many errors the parser stops (as compilers do with -ferror-limit).
inline constexpr size_t kMaxErrors = 30;

}  // namespace mage::dsl
