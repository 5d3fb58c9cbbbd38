// Applying a mapper to a program on a machine (module `mapping`): a Plan that says, for
// every point task, which processor runs it and, for every region argument, which memory
// holds its instance and in which layout — or a precise MappingError. Also the built-in
// default mapper, which behaves like Legion's DefaultMapper.
//
// Each decision is a separate, named policy (as in Legion's DefaultMapper), so that the
// mapping language can override them one by one: processor kind, processor, memory,
// layout, instance limit, memory collection. The rules of the mapping language are
// DSL.md's "Which rule applies"; where DSL.md is silent this module decides as follows:
//
// - Processor kind: the Task rule's kinds in order, skipping a kind the machine lacks or
//   the task has no variant for; without a rule GPU, then OMP, then CPU (then IO, PY).
//   One decision per task kind (it depends only on the task and the machine).
// - Processor: the IndexTaskMap/SingleTaskMap function. When it returns a set (`*`), the
//   FIRST processor of the set (in the set's row-major order) is taken and
//   TaskPlacement::from_set is true. Without a rule, the Legion default:
//     * index launch: the point's row-major linear index l of V points goes to processor
//       l·P/V of the P processors of the kind, ordered node by node (rank, index) — blocks
//       over the nodes, then over a node's processors — except that a nested launch the
//       program tags same address space (Launch::same_address_space) uses only the P
//       processors of the kind on the launching task's rank;
//     * single launch whose kind a Task rule of the mapper chose: the first processor of
//       the kind on the issuing task's rank (the top-level task's launches: rank 0), as
//       the published mapper's select_task_options does (`local_gpus.front()` of the
//       process that launches it) — a DGEMM leaf launched by any GPU of a node runs on
//       the node's GPU 0;
//     * otherwise, issued by the top-level task: round-robin over every processor of the
//       kind on every node (node-major order);
//     * otherwise, issued by a deeper task: round-robin over the processors of the kind
//       on the parent's node.
//     Round-robin counters start at the first processor and are kept per mapper
//     instance, as Legion's DefaultMapper keeps them: per (issuing processor, kind) for
//     the built-in default mapper (one mapper per processor), per (issuing rank, kind)
//     for a mapper of the language (which runs one mapper per process); tasks are mapped
//     in TaskGraph order (each context in issue order).
//   The top-level task (not a point task of the graph) runs on CPU 0 of node 0 (the first
//   processor of the machine if it has no CPU); it is the `task.parent` of top-level
//   launches, named "top_level".
// - Memory: the Region priority list; a kind is usable when the processor can access an
//   instance of it (the one it reaches best: its own FBMEM, its socket's SOCKMEM, ...).
//   Capacity is not checked here (the simulator does). An inner task (TaskKind::leaf ==
//   false) never touches its data: every argument of it is VIRTUAL whatever the Region
//   rules say, except a reduction-only one, which gets an instance chosen by the rules
//   (DSL.md, after Legion's default mapper and the published one). `VIRTUAL` means no
//   instance: fine for an inner task, a MappingError for a leaf task. Without a usable
//   entry: the processor's best memory (FBMEM for GPU, SOCKMEM for OMP, SYSMEM for CPU,
//   IO and PY; otherwise the memory it reaches fastest). An argument whose every access is
//   NA (no access) needs no instance and is always VIRTUAL, whatever the rules say (Legion
//   does not map NO_ACCESS requirements).
// - Layout: the Layout rule for (task, argument, chosen memory kind or processor kind) of
//   an argument that has an instance (a leaf's, or an inner task's reduction-only one),
//   else SOA, F order (dsl::LayoutChoice says what each constraint asks).
// - CollectMemory: recorded per argument when a rule matches it; the simulator applies it
//   to read-only copies only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dsl/dsl.h"
#include "machine/machine.h"
#include "program/program.h"

namespace mage::mapping {

// Where one region argument of one point task lives.
struct ArgPlacement {
  bool is_virtual = false;  // VIRTUAL: no instance (inner tasks, NA-only arguments)
  machine::MemId memory;    // when !is_virtual
  kinds::Layout layout;
  bool collect = false;      // CollectMemory: read-only copy dropped after the task
  int memory_rule_line = 0;  // the Region rule that chose the memory (0: default)
  int layout_rule_line = 0;  // the Layout rule (0: default)
};

struct TaskPlacement {
  kinds::ProcKind kind = kinds::ProcKind::CPU;
  machine::ProcId processor;
  std::vector<ArgPlacement> args;  // by argument index
  int placement_rule_line = 0;     // the IndexTaskMap/SingleTaskMap rule (0: default placement)
  bool from_set = false;           // the mapping function returned a set; its first processor was taken
};

// Per task kind (indexed by program::TaskKindId).
struct TaskKindPolicy {
  std::optional<int64_t> instance_limit;  // InstanceLimit: mapped-but-unfinished per processor (docs/calibration.md)
  bool control_replicated = false;
  std::optional<kinds::ProcKind> kind;  // the kind its point tasks run on (none if it has no point task)
  int kind_rule_line = 0;               // the Task rule that chose it (0: default)
};

struct Plan {
  std::vector<TaskPlacement> tasks;        // indexed by program::PointTaskId
  std::vector<TaskKindPolicy> task_kinds;  // indexed by program::TaskKindId
  std::string mapper_name;                 // file name, or "default"
  machine::ProcId top_level_processor;     // where the top-level task runs (issues top-level launches)
};

// What went wrong, for programs that react to errors (the guide, optimizers).
enum class MappingErrorKind {
  NoProcessorKind,  // no kind of the Task rule (or the default list) is in the machine and a variant
  PlacementFailed,  // the mapping function failed (evaluation error, not a processor, wrong kind)
  OutsideMachine,   // the mapping function returned a processor the machine does not have
  VirtualLeaf,      // a Region rule chose VIRTUAL for a leaf task's argument that it accesses
  Internal,         // an inconsistency between program, graph and machine (not a mapper's fault)
};
std::string_view to_string(MappingErrorKind k);

// A mapping that cannot be carried out. `message` is complete and names the rule's
// source location (file:line:col when a mapper rule is at fault), the task and the point,
// e.g. "circuit.map:12:1: error: ... (task init_piece, point (0))".
struct MappingError {
  std::string message;
  std::string task;
  std::string point;                          // "(1,2)"; "()" for a single launch
  std::optional<dsl::Diagnostic> diagnostic;  // when a mapping function's evaluation is at fault
  MappingErrorKind kind = MappingErrorKind::Internal;
  int rule_line = 0;  // the rule at fault (Task, Region, IndexTaskMap/SingleTaskMap); 0: none
};

using ApplyResult = std::variant<Plan, MappingError>;

// A short name for a placement: a digest (FNV-1a, 48 bits, 12 hex digits) of a processor
// per point. The guide names a placement it proposes by the digest of the processors' ids,
// and tune's placement choices answer to it, so that neither computes the other's rules.
std::string placement_digest(const std::vector<int64_t>& processors);

// The mapper's view of the machine: ranks and processors per rank of each kind.
dsl::MachineShape shape_of(const machine::Machine& m);

// Applies `mapper` (bound to shape_of(machine); processors it returns outside `machine`
// are errors) to every point task of `graph` (program::analyze(program)). Never throws.
ApplyResult apply(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
                  const dsl::Mapper& mapper);

// Legion's default mapper: GPU when a variant exists, else OMP, else CPU; the processor's
// best memory (inner tasks VIRTUAL); SOA F order; index launches in blocks over nodes,
// then processors; single launches round-robin as DSL.md describes. Never throws.
ApplyResult apply_default(const program::Program& program, const program::TaskGraph& graph,
                          const machine::Machine& machine);

}  // namespace mage::mapping
