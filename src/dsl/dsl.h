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

namespace mage::dsl {

enum class ProcKind { CPU, GPU, OMP, IO, PY, PROC };
enum class MemKind { SYSMEM, FBMEM, ZCMEM, RDMEM, SOCKMEM, VIRTUAL };
std::string_view to_string(ProcKind k);
std::string_view to_string(MemKind k);
std::optional<ProcKind> parse_proc_kind(std::string_view s);
std::optional<MemKind> parse_mem_kind(std::string_view s);

// What a mapper sees of the machine: ranks (nodes x ranks per node) and processors of
// each kind per rank.
struct MachineShape {
  int64_t ranks = 1;
  std::map<ProcKind, int64_t> procs_per_rank;
  int64_t count(ProcKind k) const {
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

struct Layout {
  bool soa = true;                                       // SOA (field-major) unless AOS
  bool c_order = false;                                  // F_order unless C_order
  std::optional<std::pair<std::string, int64_t>> align;  // e.g. {"==", 64}
  bool no_align = false;
  bool compact = false;
  bool exact = false;
  int rule_line = 0;  // 0: the default layout
  friend bool operator==(const Layout&, const Layout&) = default;
};

// The task being placed, as a mapping function sees it.
struct TaskView {
  std::string name;
  std::vector<int64_t> ipoint;  // the point (a single launch: empty)
  std::vector<int64_t> ispace;  // the launch extents (a single launch: empty)
  const TaskView* parent = nullptr;
  // Where this task runs, when known (always known for a parent).
  std::optional<ProcKind> kind;
  std::optional<ProcessorId> processor;
};

struct Placement {
  ProcKind kind = ProcKind::GPU;
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
  std::vector<ProcKind> processor_kinds(std::string_view task) const;
  // Where the Task rule that applies to `task` is (line 0: no rule).
  SourceLoc task_rule_loc(std::string_view task) const;
  // Region rules for an argument on a processor kind: the memory priority list.
  std::vector<MemKind> memory_priority(std::string_view task, const ArgumentView& arg, ProcKind proc) const;
  // The same list, each memory with the Region rule that put it there.
  struct MemoryCandidate {
    MemKind kind;
    SourceLoc rule;
  };
  std::vector<MemoryCandidate> memory_candidates(std::string_view task, const ArgumentView& arg, ProcKind proc) const;
  Layout layout(std::string_view task, const ArgumentView& arg, MemKind mem, ProcKind proc) const;
  std::optional<int64_t> instance_limit(std::string_view task) const;
  bool collect_memory(std::string_view task, const ArgumentView& arg) const;
  bool control_replicated(std::string_view task) const;
  // Evaluates the IndexTaskMap (index launch) or SingleTaskMap function that applies to
  // `task` mapped to `kind`.
  PlacementResult place(const TaskView& task, ProcKind kind, bool index_launch) const;

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
