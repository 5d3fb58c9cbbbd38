// Applying a mapper to a program on a machine (module `mapping`): a Plan that says, for
// every point task, which processor runs it and, for every region argument, which memory
// holds its instance and in which layout — or a precise MappingError. Also the built-in
// default mapper, which behaves like Legion's DefaultMapper.
//
// Each decision is a separate, named policy (as in Legion's DefaultMapper), so that the
// mapping language can override them one by one: processor kind, processor, memory,
// layout, instance limit, memory collection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dsl/dsl.h"
#include "machine/machine.h"
#include "program/program.h"

namespace mage::mapping {

// Layout of an instance.
struct Layout {
  bool soa = true;        // false: AOS (record-major)
  bool c_order = false;   // false: F order (first index fastest)
  int64_t alignment = 0;  // bytes; 0: none requested
  friend bool operator==(const Layout&, const Layout&) = default;
};

// Where one region argument of one point task lives.
struct ArgPlacement {
  bool is_virtual = false;        // VIRTUAL: no instance (inner tasks only)
  machine::MemId memory{-1};      // when !is_virtual
  Layout layout;
  bool collect = false;           // CollectMemory: read-only copy dropped after the task
  int memory_rule_line = 0;       // the Region rule that chose the memory (0: default)
  int layout_rule_line = 0;       // the Layout rule (0: default)
};

struct TaskPlacement {
  program::ProcKind kind = program::ProcKind::CPU;
  machine::ProcId processor{-1};
  std::vector<ArgPlacement> args;  // by argument index
  int placement_rule_line = 0;     // the IndexTaskMap/SingleTaskMap rule (0: default placement)
};

// Per task kind (indexed by program::TaskKindId).
struct TaskKindPolicy {
  std::optional<int64_t> instance_limit;  // InstanceLimit: mapped-but-unfinished per node
  bool control_replicated = false;
};

struct Plan {
  std::vector<TaskPlacement> tasks;       // indexed by program::PointTaskId
  std::vector<TaskKindPolicy> task_kinds; // indexed by program::TaskKindId
  std::string mapper_name;                // file name, or "default"
};

// A mapping that cannot be carried out. `message` is complete and names the rule's
// source location (file:line:col when a mapper rule is at fault), the task and the point.
struct MappingError {
  std::string message;
  std::string task;
  std::string point;  // "(1,2)"; "()" for a single launch
  std::optional<dsl::Diagnostic> diagnostic;  // when a mapper rule or function is at fault
};

using ApplyResult = std::variant<Plan, MappingError>;

// The mapper's view of the machine: ranks and processors per rank of each kind.
dsl::MachineShape shape_of(const machine::Machine& m);

// Applies `mapper` (bound to shape_of(machine)) to every point task of `graph`.
ApplyResult apply(const program::Program& program, const program::TaskGraph& graph,
                  const machine::Machine& machine, const dsl::Mapper& mapper);

// Legion's default mapper: GPU when a variant exists, else OMP, else CPU; the processor's
// best memory; SOA F order; index launches in blocks over nodes, then processors; single
// launches round-robin as DSL.md describes.
ApplyResult apply_default(const program::Program& program, const program::TaskGraph& graph,
                          const machine::Machine& machine);

}  // namespace mage::mapping
