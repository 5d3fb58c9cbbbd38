// Semantic checks of a parsed mapper, and name resolution for the interpreter.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "dsl/ast.h"
#include "dsl/source.h"

namespace mage::dsl {

struct FunctionInfo {
  const Stmt* def = nullptr;
  size_t order = 0;  // position among top-level statements
};

// What the checker learns about a module, used by the interpreter.
struct Resolution {
  std::vector<std::string> global_names;            // index -> name
  std::map<std::string, int, std::less<>> globals;  // name -> index
  std::map<std::string, FunctionInfo, std::less<>> functions;
  int top_frame_size = 0;  // slots for comprehension variables at top level
};

// Checks `m` (annotating names with their slots) and reports into `sink`.
Resolution check(Module& m, DiagnosticSink& sink);

// Warnings for task and region names the mapper uses but the program does not have.
void check_names(const Module& m, const std::set<std::string, std::less<>>& tasks,
                 const std::set<std::string, std::less<>>& regions, DiagnosticSink& sink);

}  // namespace mage::dsl
