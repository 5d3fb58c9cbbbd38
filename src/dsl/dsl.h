// Public interface of the mapping language (module `dsl`): compile mapper text, bind it
// to a machine shape, and ask the resulting Mapper the questions of DSL.md's
// "Which rule applies". Other modules include only this header.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/machine_space.h"
#include "dsl/source.h"
#include "kinds/kinds.h"

namespace mage::dsl {

// ---- The language's own kind words
// A mapper names processor and memory kinds with the machine's words (kinds::ProcKind,
// kinds::MemKind) and one more of each, its own: PROC, a processor kind no machine has (a
// Task rule's PROC is skipped, Machine(PROC) is an error), and VIRTUAL, a memory that is
// none (the argument gets no instance).

// A processor kind as a Task rule names it.
struct ProcWord {
  std::optional<kinds::ProcKind> kind;  // empty: PROC

  static ProcWord proc() { return ProcWord{}; }
  ProcWord(kinds::ProcKind k) : kind(k) {}  // NOLINT(google-explicit-constructor): every kind is a word
  friend bool operator==(const ProcWord&, const ProcWord&) = default;

 private:
  ProcWord() = default;
};
// A memory as a Region rule names it.
struct MemWord {
  std::optional<kinds::MemKind> kind;  // empty: VIRTUAL

  static MemWord virtual_memory() { return MemWord{}; }
  MemWord(kinds::MemKind k) : kind(k) {}  // NOLINT(google-explicit-constructor): every kind is a word
  friend bool operator==(const MemWord&, const MemWord&) = default;

 private:
  MemWord() = default;
};
std::string_view to_string(ProcWord w);  // the kind's name, or "PROC"
std::string_view to_string(MemWord w);   // the kind's name, or "VIRTUAL"
std::optional<ProcWord> parse_proc_word(std::string_view s);
std::optional<MemWord> parse_mem_word(std::string_view s);

// What a mapper sees of the machine: ranks (nodes x ranks per node) and processors of
// each kind per rank.
struct MachineShape {
  int64_t ranks = 1;
  std::map<kinds::ProcKind, int64_t> procs_per_rank;
  int64_t count(kinds::ProcKind k) const {
    auto it = procs_per_rank.find(k);
    return it == procs_per_rank.end() ? 0 : it->second;
  }
};

// A region argument as rules match it: its index and the names it answers to (its own
// region name, the partition it comes from, that partition's parent region).
struct ArgumentView {
  int64_t index = 0;
  std::vector<std::string> names;
};

// The layout the Layout rule that applies asks for: SOA, F_order, no alignment, not
// Compact, not Exact unless it says otherwise. `Align==N`, `Align>=N` and `Align>N` ask
// N bytes; other comparisons and No_Align ask none.
struct LayoutChoice {
  kinds::Layout layout;
  int rule_line = 0;  // 0: no rule (the default layout)
  friend bool operator==(const LayoutChoice&, const LayoutChoice&) = default;
};

// The task being placed, as a mapping function sees it.
struct TaskView {
  std::string name;
  std::vector<int64_t> ipoint;  // the point (a single launch: empty)
  std::vector<int64_t> ispace;  // the launch extents (a single launch: empty)
  const TaskView* parent = nullptr;
  // Where this task runs, when known (always known for a parent).
  std::optional<kinds::ProcKind> kind;
  std::optional<ProcessorId> processor;
};

struct Placement {
  kinds::ProcKind kind = kinds::ProcKind::GPU;
  std::vector<ProcessorId> processors;  // one, or several when `*` was used
  bool is_set = false;                  // the function returned a set (used `*`)
};

struct PlacementResult {
  bool has_rule = false;               // false: no IndexTaskMap/SingleTaskMap applies
  std::optional<Placement> placement;  // set when has_rule and evaluation succeeded
  std::optional<Diagnostic> error;     // set when evaluation failed
  std::string function;                // the function that was called
  int rule_line = 0;
};

class Unit;  // a parsed and checked mapper, independent of any machine

struct CompileResult {
  std::shared_ptr<const Unit> unit;  // null when there are errors
  std::vector<Diagnostic> diagnostics;
};

// Parse and check. Warnings do not prevent a unit from being produced.
CompileResult compile(const SourceFile& source);

// Warnings for task and region names that the program does not have.
std::vector<Diagnostic> check_names(const Unit& unit, const std::set<std::string, std::less<>>& tasks,
                                    const std::set<std::string, std::less<>>& regions);

const SourceFile& source_of(const Unit& unit);
// Canonical text of the unit (see printer.h).
std::string canonical_text(const Unit& unit);

struct BindResult;

// Limits that keep a bad mapper from hanging or exhausting the process.
struct EvalLimits {
  int64_t steps = 1'000'000;  // expression evaluations per top-level statement or placement
  int call_depth = 64;        // nested function calls
};

class Mapper {
 public:
  // Runs the top-level statements against `shape`.
  static BindResult bind(std::shared_ptr<const Unit> unit, const MachineShape& shape, EvalLimits limits = {});

  // Task rule: kinds to try in order; empty when no rule names the task (use the default).
  std::vector<ProcWord> processor_kinds(std::string_view task) const;
  // Where the Task rule that applies to `task` is (line 0: no rule).
  SourceLoc task_rule_loc(std::string_view task) const;
  // Region rules for an argument on a processor kind: the memory priority list.
  std::vector<MemWord> memory_priority(std::string_view task, const ArgumentView& arg, kinds::ProcKind proc) const;
  // The same list, each memory with the Region rule that put it there.
  struct MemoryCandidate {
    MemWord memory;
    SourceLoc rule;
  };
  std::vector<MemoryCandidate> memory_candidates(std::string_view task, const ArgumentView& arg,
                                                 kinds::ProcKind proc) const;
  // The Layout rule for an instance in a memory of kind `mem` used by a task on `proc`.
  LayoutChoice layout(std::string_view task, const ArgumentView& arg, kinds::MemKind mem, kinds::ProcKind proc) const;
  std::optional<int64_t> instance_limit(std::string_view task) const;
  bool collect_memory(std::string_view task, const ArgumentView& arg) const;
  bool control_replicated(std::string_view task) const;
  // Evaluates the IndexTaskMap (index launch) or SingleTaskMap function that applies to
  // `task` mapped to `kind`.
  PlacementResult place(const TaskView& task, kinds::ProcKind kind, bool index_launch) const;

  const MachineShape& shape() const { return shape_; }
  const Unit& unit() const { return *unit_; }
  // Lines printed by `print`, in order.
  const std::vector<std::string>& log() const;

  struct State;

 private:
  Mapper() = default;
  std::shared_ptr<const Unit> unit_;
  MachineShape shape_;
  EvalLimits limits_;
  std::shared_ptr<State> state_;
};

struct BindResult {
  std::optional<Mapper> mapper;  // empty when top-level evaluation failed
  std::vector<Diagnostic> diagnostics;
};

// Convenience: compile + bind; diagnostics of both stages.
BindResult load_mapper(const SourceFile& source, const MachineShape& shape, EvalLimits limits = {});

// A compact reference of the language for a reader who has not seen DSL.md (the
// language-model optimizer's prompt), generated from the lexer's reserved words and the
// statement forms; every example in it compiles (tested), so it cannot drift.
std::string language_reference();

// One top-level statement of a unit, for tools that rearrange a mapper statement by
// statement (the language-model optimizer's sections).
struct TopLevelStatement {
  std::string keyword;             // "Task", "Region", ..., "def", "assignment", "print"
  std::string text;                // canonical text with its comments, ending in a newline
  bool blank_line_before = false;  // a blank line preceded it (and its comments)
  std::string defines;             // def or assignment: the name defined
  std::set<std::string> names;     // the globals and functions it names (a map rule: its function)
};
// The statements in source order; comments after the last statement end its text.
std::vector<TopLevelStatement> top_level_statements(const Unit& unit);

}  // namespace mage::dsl
