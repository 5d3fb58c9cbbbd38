// The syntax tree of a mapper. Every node carries its source location.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsl/lexer.h"
#include "dsl/source.h"

namespace mage::dsl {

enum class ExprKind {
  Int,            // int_value
  Bool,           // int_value 0/1
  Name,           // name
  Kind,           // a processor kind word used as a value: Machine(GPU); name
  Unary,          // op, kids[0]
  Binary,         // op, kids[0], kids[1]
  Ternary,        // kids: condition, then, else
  Call,           // kids[0] callee (Name or Member), kids[1..] arguments
  Index,          // kids[0] base, kids[1..] index items
  Slice,          // an index item a:b; kids[0], kids[1] may be null
  Member,         // kids[0] base, name = property
  Tuple,          // kids = elements; a 1-tuple is written (x,)
  Comprehension,  // tuple(kids[0] for name in kids[1])
  Unpack,         // *kids[0] in an argument or index list
  StarAll,        // a bare * in an index list: every processor along that position
};

enum class Op { Add, Sub, Mul, Div, Mod, Eq, Ne, Lt, Le, Gt, Ge, And, Or, Neg, Not };
std::string_view op_spelling(Op op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::Int;
  SourceLoc loc;
  int64_t int_value = 0;
  Op op = Op::Add;
  std::string name;
  std::vector<ExprPtr> kids;
  // Filled by the checker: where a Name (or comprehension variable) lives.
  // slot >= 0: local slot of the enclosing function (or comprehension variable);
  // global >= 0: index of the global.
  int slot = -1;
  int global = -1;
};

// A word in a rule's key position: `*`, a name, an argument index, or a kind.
struct Key {
  enum class Kind { Star, Name, Index, ProcKind, MemKind } kind = Kind::Star;
  std::string text;   // name or kind spelling
  int64_t index = 0;  // for Index
  SourceLoc loc;
  friend bool operator==(const Key& a, const Key& b) {
    return a.kind == b.kind && a.text == b.text && a.index == b.index;
  }
};

struct LayoutConstraint {
  // SOA AOS C_order F_order Compact Exact No_Align, or Align with op and value.
  std::string word;
  Op align_op = Op::Eq;
  int64_t align_value = 0;
  SourceLoc loc;
};

enum class StmtKind {
  TaskRule,
  RegionRule,
  LayoutRule,
  InstanceLimit,
  CollectMemory,
  IndexTaskMap,
  SingleTaskMap,
  ControlReplicate,
  Assign,
  Def,
  Return,
  Print,
};

std::string_view stmt_keyword(StmtKind k);

// Rules keyed by a list of task names (or kinds, or '*'): Task, InstanceLimit,
// IndexTaskMap, SingleTaskMap, ControlReplicate.
inline bool keyed_by_task_names(StmtKind k) {
  return k == StmtKind::TaskRule || k == StmtKind::InstanceLimit || k == StmtKind::IndexTaskMap ||
         k == StmtKind::SingleTaskMap || k == StmtKind::ControlReplicate;
}
// Rules keyed by a task and a region: Region, Layout, CollectMemory.
inline bool keyed_by_task_and_region(StmtKind k) {
  return k == StmtKind::RegionRule || k == StmtKind::LayoutRule || k == StmtKind::CollectMemory;
}

struct Param {
  std::string type;  // Task int bool IPoint ISpace MSpace
  std::string name;
  SourceLoc loc;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Stmt {
  StmtKind kind = StmtKind::Assign;
  SourceLoc loc;
  SourceLoc end;  // the closing ';' or '}'
  // TaskRule, InstanceLimit, ControlReplicate, IndexTaskMap, SingleTaskMap: the names/keys.
  std::vector<Key> keys;
  // RegionRule / LayoutRule / CollectMemory: task, region, and (Region, Layout) kind.
  Key task, region, proc;
  // TaskRule: processor kinds; RegionRule: memory kinds (spellings, in order).
  std::vector<std::string> kinds;
  std::vector<Key> kind_locs;  // locations of `kinds`, same order
  std::vector<LayoutConstraint> constraints;
  int64_t limit = 0;  // InstanceLimit
  // Assign: target; Def: function name; IndexTaskMap/SingleTaskMap: function name.
  std::string name;
  SourceLoc name_loc;
  std::vector<Param> params;  // Def
  std::vector<StmtPtr> body;  // Def
  ExprPtr value;              // Assign, Return
  std::string format;         // Print
  std::vector<ExprPtr> args;  // Print
  // Filled by the checker.
  int slot = -1;       // Assign inside a function: local slot
  int global = -1;     // Assign at top level: global index
  int frame_size = 0;  // Def: number of local slots (parameters first)
  // Kept for the printer: comments before the statement, a comment after it on its last
  // line, and whether a blank line preceded it in the source.
  std::vector<std::string> leading_comments;
  std::string trailing_comment;
  std::vector<std::string> closing_comments;  // Def: comments before its closing '}'
  bool blank_line_before = false;
  bool had_syntax_error = false;  // Def: a body statement was dropped by error recovery
};

struct Module {
  std::vector<StmtPtr> stmts;
  std::vector<std::string> trailing_comments;  // comments after the last statement
  bool stopped_early = false;                  // the parser gave up (too many errors)
};

}  // namespace mage::dsl
