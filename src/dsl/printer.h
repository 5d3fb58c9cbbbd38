// AST -> canonical mapper text, and a location-free dump for structural comparison.
#pragma once

#include <string>

#include "dsl/ast.h"

namespace mage::dsl {

// Canonical text: one statement per line, two-space indentation in functions, minimal
// parentheses, comments and single blank lines kept. parse(print(m)) is m again.
std::string print(const Module& m);
std::string print_expr(const Expr& e);
// One top-level statement as print() writes it: its comments, the statement, a newline.
std::string print_statement(const Stmt& s);

// A fully parenthesised, location-free rendering of the tree (comments excluded):
// two trees are equal exactly when their dumps are.
std::string dump(const Module& m);

}  // namespace mage::dsl
