// Internal to the guide: what the explainers look at, and the small helpers they share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/dsl.h"
#include "eval/eval.h"
#include "guide/guide.h"
#include "machine/machine.h"
#include "mapping/mapping.h"
#include "program/program.h"

namespace mage::guide::detail {

// One evaluation and everything known about it.
struct Context {
  const eval::Result& result;
  const machine::Machine& machine;
  const program::Program& program;
  const program::TaskGraph& graph;
  const dsl::SourceFile* source = nullptr;               // the mapper's text; null for the default mapper
  const mapping::Plan* plan = nullptr;                   // when the mapper applies
  const mapping::MappingError* mapping_error = nullptr;  // when it does not

  const sim::Outcome& outcome() const { return result.outcome; }
};

// One per status (errors.cpp, performance.cpp).
Feedback explain_mapper_error(const Context& c);
Feedback explain_mapping_error(const Context& c);
Feedback explain_execution_error(const Context& c);
Feedback explain_simulator_failure(const Context& c);
Feedback explain_performance(const Context& c);

// An error of the mapping language itself (syntax, names, arity, types), found when
// compiling or while a mapping function placed `task` ("*": none); nullopt for other errors.
std::optional<Feedback> explain_language_error(const Context& c, const dsl::Diagnostic& d, const std::string& task);

// ---- Words and numbers (text.cpp) ------------------------------------------------------

std::string seconds(double s);                                               // "8.55 s", "43.2 ms"
std::string bytes(double b);                                                 // "20.6 MiB"
std::string percent(double fraction);                                        // "12%", "0.4%"
std::string join(const std::vector<std::string>& items);                     // "a", "a and b", "a, b and c"
std::string plural(int64_t n, std::string_view one, std::string_view many);  // "1 task", "3 tasks"
std::string trim(std::string_view s);                                        // without leading and trailing white space

// ---- The program and the plan (text.cpp) -----------------------------------------------

// The machine's name for a program's processor kind (the kinds are matched by name).
kinds::ProcKind machine_kind(kinds::ProcKind k);
const program::TaskKind* find_task(const program::Program& p, std::string_view name);
// The launches of a task kind, in program order.
std::vector<const program::Launch*> launches_of(const program::Program& p, std::string_view task);
// The memory kind a processor of `kind` reaches fastest (FBMEM for a GPU), if any.
std::optional<kinds::MemKind> best_memory_kind(const machine::Machine& m, kinds::ProcKind kind);
// The bandwidth at which the first processor of kind `proc` reaches its nearest memory of
// kind `mem` (0: it reaches none).
double access_bandwidth(const machine::Machine& m, kinds::ProcKind proc, kinds::MemKind mem);
// The conventional name of a machine space of a processor kind: "mgpu" for GPU.
std::string space_name(std::string_view kind);
// "memory_kind (a name for people)": "zero-copy memory (ZCMEM)".
std::string memory_words(std::string_view kind);

// ---- The plan (placement.cpp) ---------------------------------------------------------

// The point tasks of a task kind, in graph order.
std::vector<program::PointTaskId> points_of(const Context& c, std::string_view task);
// How the plan places a launch's points: "parent" (each on its parent's processor), "block"
// or "cyclic" (over the processors of their kind, as Hint's placement families define them),
// or "" (anything else, or no plan).
std::string placement_family(const Context& c, const program::Launch& l);
// The function an IndexTaskMap/SingleTaskMap rule at `line` names ("" when none).
std::string placement_function(const Context& c, int line);

// ---- The mapper's text (text.cpp) -----------------------------------------------------

// "FILE:LINE `RULE` to `RULE'`": the Region rule at `line` with memory kind `from` replaced
// by `to`; "" when the line does not name `from`.
std::string rule_change(const Context& c, int line, std::string_view from, std::string_view to);
// Line `line` (1-based) of the source, without its newline; "" when out of range.
std::string source_line(const dsl::SourceFile& s, int line);

// Sorts hints by impact (highest first, ties keep their order) and drops repeats of the
// same change (action, task, argument, to), keeping the first.
void order_hints(std::vector<Hint>& hints);

}  // namespace mage::guide::detail
