// One application of a mapper (or of the default mapper) to a program on a machine
// (internal to the mapping module). Each decision is a named policy, as in Legion's
// DefaultMapper: select_processor_kind, select_processor (mapped_processor or the
// default_index_processor / default_single_processor), select_memory, select_layout and
// select_task_kind_policy. A policy consults the mapper's rule first and falls back to the
// default; mapper == nullptr is the default mapper.
//
// Policies report a mapping error by throwing Failure; run() turns it into the
// MappingError value that apply() returns (nothing escapes apply()).
#pragma once

#include <array>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mapping/mapping.h"

namespace mage::mapping::detail {

struct Failure {
  MappingError error;
};

// The processor kind of a task kind: chosen once, at its first point task.
struct KindChoice {
  kinds::ProcKind kind = kinds::ProcKind::CPU;
  int rule_line = 0;
};

// What the rules say about one region argument of one launch, resolved once per launch.
struct ArgRules {
  dsl::ArgumentView view;
  bool no_access = false;                                // every access is NA: no instance needed
  bool reduction_only = false;                           // every access is RED (an inner task maps it)
  bool virtual_tag = false;                              // the program tags it virtual
  std::vector<dsl::Mapper::MemoryCandidate> candidates;  // the Region priority list
  bool collect = false;
  // The layout for an instance in a memory of each kind, computed when first needed.
  std::array<std::optional<dsl::LayoutChoice>, kinds::kMemKinds.size()> layouts;
};

class MappingRun {
 public:
  MappingRun(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
             const dsl::Mapper* mapper);
  ApplyResult run();

 private:
  // ---- the policies (select_processor.cpp)
  const KindChoice& select_processor_kind(program::TaskKindId id, program::PointTaskId first_point);
  machine::ProcId select_processor(program::PointTaskId t, const KindChoice& kind, TaskPlacement& out);
  machine::ProcId mapped_processor(program::PointTaskId t, const KindChoice& kind, const dsl::PlacementResult& r,
                                   TaskPlacement& out) const;
  machine::ProcId default_index_processor(program::PointTaskId t, const KindChoice& kind) const;
  machine::ProcId default_single_processor(program::PointTaskId t, const KindChoice& kind);
  // ---- (select_memory.cpp)
  ArgPlacement select_memory(program::PointTaskId t, size_t arg, ArgRules& rules, bool inner, const KindChoice& kind,
                             machine::ProcId proc) const;
  dsl::LayoutChoice select_layout(program::PointTaskId t, ArgRules& rules, kinds::MemKind memory,
                                  const KindChoice& kind) const;
  machine::MemId default_memory(machine::ProcId proc) const;
  std::vector<ArgRules>& launch_rules(program::LaunchId l, const KindChoice& kind);
  // ---- (apply.cpp)
  TaskKindPolicy select_task_kind_policy(const program::TaskKind& task) const;
  const dsl::TaskView& view_of(program::PointTaskId t);  // the task as mapping functions see it
  void remember_view(program::PointTaskId t, const TaskPlacement& placed);

  // Errors: `line` is the rule at fault (0: none); the message gets "FILE:LINE:COL: error: ".
  [[noreturn]] void fail(MappingErrorKind kind, program::PointTaskId t, dsl::SourceLoc loc,
                         const std::string& what) const;
  std::string task_name(program::PointTaskId t) const;
  std::string point_name(program::PointTaskId t) const;
  const program::Launch& launch_of(program::PointTaskId t) const {
    return program_.launches[graph_.tasks[t.index()].launch.index()];
  }

  const program::Program& program_;
  const program::TaskGraph& graph_;
  const machine::Machine& machine_;
  const dsl::Mapper* mapper_;
  std::string file_;  // the mapper's file name

  Plan plan_;
  std::vector<std::optional<KindChoice>> kinds_;                // by task kind
  std::vector<std::optional<std::vector<ArgRules>>> launches_;  // by launch
  // Machine tables: processors of a kind (node-major) and per node; the memory of each
  // kind each processor reaches best (-1: none) and its default memory.
  std::array<std::vector<machine::ProcId>, kinds::kProcKinds.size()> procs_of_kind_;
  std::array<std::vector<std::vector<machine::ProcId>>, kinds::kProcKinds.size()> procs_of_kind_on_node_;
  std::vector<std::array<machine::MemId, kinds::kMemKinds.size()>> best_memory_;
  std::vector<machine::MemId> default_memory_;
  // Round-robin counters of the default single-launch placement, per (issuing processor, kind).
  std::unordered_map<int64_t, int64_t> round_robin_;
  // Mapping-function views: the top-level task, and every placed task that has children.
  dsl::TaskView top_view_;
  std::deque<dsl::TaskView> views_;
  std::vector<int32_t> view_index_;  // by point task; -1: none
  dsl::TaskView scratch_;            // the task being placed
};

}  // namespace mage::mapping::detail
