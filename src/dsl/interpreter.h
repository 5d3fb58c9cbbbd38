// Tree-walking evaluator of mapper code: top-level statements and mapping functions.
#pragma once

#include <string>
#include <vector>

#include "dsl/unit.h"
#include "dsl/value.h"

namespace mage::dsl {

// An evaluation failure: becomes a Diagnostic at `loc`.
struct EvalError {
  DiagId id;
  SourceLoc loc;
  std::string message;
};

class Interpreter {
 public:
  Interpreter(const Unit& unit, const MachineShape& shape, EvalLimits limits, std::vector<Value>& globals,
              std::vector<std::string>& log)
      : unit_(unit), shape_(shape), limits_(limits), globals_(globals), log_(log) {}

  // Runs every top-level assignment and print in order. Throws EvalError.
  void run_top_level();
  // Calls function `def` with `args`; the step budget starts afresh. Throws EvalError.
  Value call(const Stmt& def, std::vector<Value> args, SourceLoc call_loc);

 private:
  const Unit& unit_;
  const MachineShape& shape_;
  EvalLimits limits_;
  std::vector<Value>& globals_;
  std::vector<std::string>& log_;
  int64_t steps_ = 0;
  int depth_ = 0;

  using Frame = std::vector<Value>;
  Value eval(const Expr& e, Frame& f);
  Value call_function(const Stmt& def, std::vector<Value> args, SourceLoc loc, const std::vector<SourceLoc>& arg_locs);
  Value call_expr(const Expr& e, Frame& f);
  Value method(const Expr& callee, const Value& base, std::vector<Value> args, SourceLoc loc);
  Value index(const Expr& e, Frame& f);
  Value member(const Expr& e, const Value& base);
  Value binary(const Expr& e, const Value& a, const Value& b);
  std::vector<Value> eval_list(const std::vector<ExprPtr>& kids, size_t from, Frame& f,
                               std::vector<SourceLoc>* locs = nullptr);
  bool truth(const Value& v, SourceLoc loc, std::string_view what);
  void run_print(const Stmt& s, Frame& f);
  int64_t want_int(const Value& v, SourceLoc loc, std::string_view what);
};

}  // namespace mage::dsl
