// The processor policies: which kind a task runs on (Task rules), and which processor of
// that kind each point runs on (IndexTaskMap / SingleTaskMap, else Legion's defaults).
#include <fmt/format.h>

#include "mapping/mapping_run.h"

namespace mage::mapping::detail {

namespace {

// Without a Task rule: as Legion's DefaultMapper prefers variants.
constexpr std::array<kinds::ProcKind, 5> kDefaultKinds{kinds::ProcKind::GPU, kinds::ProcKind::OMP, kinds::ProcKind::CPU,
                                                       kinds::ProcKind::IO, kinds::ProcKind::PY};

std::string variant_list(const program::TaskKind& task) {
  std::string out;
  for (const program::Variant& v : task.variants) {
    if (!out.empty()) out += ',';
    out += kinds::to_string(v.proc);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

const KindChoice& MappingRun::select_processor_kind(program::TaskKindId id, program::PointTaskId first_point) {
  std::optional<KindChoice>& cached = kinds_[id.index()];
  if (cached) return *cached;
  const program::TaskKind& task = program_.tasks[id.index()];
  std::vector<dsl::ProcWord> words = mapper_ ? mapper_->processor_kinds(task.name) : std::vector<dsl::ProcWord>{};
  const bool has_rule = !words.empty();
  if (!has_rule) words.assign(kDefaultKinds.begin(), kDefaultKinds.end());
  std::vector<std::string> reasons;  // why each kind is skipped
  for (dsl::ProcWord w : words) {
    if (!w.kind || !machine_.has(*w.kind)) {
      reasons.push_back(fmt::format("the machine has no {} processors", dsl::to_string(w)));
      continue;
    }
    if (!task.has_variant(*w.kind)) {
      reasons.push_back(fmt::format("{} has no {} variant", task.name, dsl::to_string(w)));
      continue;
    }
    KindChoice c;
    c.kind = *w.kind;
    c.rule_line = has_rule ? mapper_->task_rule_loc(task.name).line : 0;
    cached = c;
    return *cached;
  }
  std::string why;
  for (const auto& r : reasons) {
    if (!why.empty()) why += "; ";
    why += r;
  }
  if (has_rule)
    fail(MappingErrorKind::NoProcessorKind, first_point, mapper_->task_rule_loc(task.name),
         fmt::format("no processor kind of the Task rule can run task {} ({}; its variants: {})", task.name, why,
                     variant_list(task)));
  fail(MappingErrorKind::NoProcessorKind, first_point, {},
       fmt::format("task {} has no variant for a processor kind of the machine (its variants: {})", task.name,
                   variant_list(task)));
}

machine::ProcId MappingRun::select_processor(program::PointTaskId t, const KindChoice& kind, TaskPlacement& out) {
  const bool index_launch = launch_of(t).kind == program::LaunchKind::Index;
  if (mapper_) {
    dsl::PlacementResult r = mapper_->place(view_of(t), kind.kind, index_launch);
    if (r.has_rule) return mapped_processor(t, kind, r, out);
  }
  return index_launch ? default_index_processor(t, kind) : default_single_processor(t, kind);
}

machine::ProcId MappingRun::mapped_processor(program::PointTaskId t, const KindChoice& kind,
                                             const dsl::PlacementResult& r, TaskPlacement& out) const {
  if (r.error) {
    const bool index_launch = launch_of(t).kind == program::LaunchKind::Index;
    const std::string rule =
        fmt::format("{} rule at {}:{}", index_launch ? "IndexTaskMap" : "SingleTaskMap", file_, r.rule_line);
    // The diagnostic already names the task, the point and the function; add the rule.
    MappingError e;
    e.kind = MappingErrorKind::PlacementFailed;
    e.task = task_name(t);
    e.point = point_name(t);
    e.rule_line = r.rule_line;
    e.diagnostic = *r.error;
    e.diagnostic->notes.push_back("called by the " + rule);
    const dsl::Diagnostic& d = *r.error;
    e.message = fmt::format("{}:{}:{}: error: {}; called by the {}", d.file, d.loc.line, d.loc.col, d.message, rule);
    throw Failure{std::move(e)};
  }
  const dsl::Placement& p = *r.placement;
  const dsl::SourceLoc loc{r.rule_line, 1};
  if (p.processors.empty())
    fail(MappingErrorKind::PlacementFailed, t, loc,
         fmt::format("mapping function '{}' returned an empty set of processors", r.function));
  if (p.kind != kind.kind)  // dsl::Mapper::place checks this already
    fail(MappingErrorKind::PlacementFailed, t, loc,
         fmt::format("mapping function '{}' returned a {} processor but the task is mapped to {}", r.function,
                     kinds::to_string(p.kind), kinds::to_string(kind.kind)));
  const int per_rank = machine_.procs_per_rank(kind.kind);
  for (const dsl::ProcessorId& q : p.processors) {
    if (q.node < 0 || q.node >= machine_.ranks() || q.proc < 0 || q.proc >= per_rank)
      fail(MappingErrorKind::OutsideMachine, t, loc,
           fmt::format("mapping function '{}' returned {} processor ({}, {}), which the machine does not have "
                       "({} ranks x {} {} processors per rank)",
                       r.function, kinds::to_string(p.kind), q.node, q.proc, machine_.ranks(), per_rank,
                       kinds::to_string(p.kind)));
  }
  out.placement_rule_line = r.rule_line;
  out.from_set = p.is_set;
  const dsl::ProcessorId& first = p.processors.front();  // a set: its first processor
  return machine_.processor_at(kind.kind, static_cast<int>(first.node), static_cast<int>(first.proc));
}

// Point l of V goes to processor l·P/V of P processors of the kind, in (rank, index)
// order: from the top-level task (control-replicated) all P of the machine — blocks over
// the nodes, then over each node's processors; from a deeper task also all of the
// machine, unless the launch is tagged same address space: then the P of the launching
// task's rank (its node, with one rank per node), as Legion's default mapper keeps such a
// launch in the launching process.
machine::ProcId MappingRun::default_index_processor(program::PointTaskId t, const KindChoice& kind) const {
  const program::Launch& l = launch_of(t);
  const std::vector<machine::ProcId>& all = procs_of_kind_[kinds::index(kind.kind)];
  const std::vector<machine::ProcId>* procs = &all;
  std::vector<machine::ProcId> local;
  const program::PointTaskId parent = graph_.tasks[t.index()].parent;
  if (l.same_address_space && parent.valid()) {
    const int rank = machine_.processor(plan_.tasks[parent.index()].processor).rank;
    for (machine::ProcId p : all)
      if (machine_.processor(p).rank == rank) local.push_back(p);
    procs = &local;
  }
  if (procs->empty())
    fail(MappingErrorKind::Internal, t, {},
         fmt::format("no {} processor to place the task on", kinds::to_string(kind.kind)));
  const int64_t volume = l.domain.volume();
  const int64_t linear = l.domain.linear(graph_.tasks[t.index()].point);
  return (*procs)[static_cast<size_t>(linear * static_cast<int64_t>(procs->size()) / volume)];
}

// A single launch without a placement function. With a mapper whose Task rule chose the
// kind, as the published mapper does: its select_task_options takes the first processor
// of that kind of the process that launches the task (`local_gpus.front()`, ...), and
// map_task keeps it — so every such task a rank launches runs on that rank's first
// processor of the kind (the top-level task's launches on rank 0's). Otherwise Legion's
// default: round-robin, a task issued by the top-level task over every processor of its
// kind on every node, a deeper one over those of its parent's node; the counter belongs
// to the mapper instance — one per processor for the built-in default mapper, one per
// process (rank) for a mapper of the language, which runs one mapper per process.
machine::ProcId MappingRun::default_single_processor(program::PointTaskId t, const KindChoice& kind) {
  const program::PointTaskId parent = graph_.tasks[t.index()].parent;
  machine::ProcId issuer = plan_.top_level_processor;
  if (parent.valid()) issuer = plan_.tasks[parent.index()].processor;
  if (mapper_ && kind.rule_line > 0) {
    const int rank = issuer.value >= 0 ? machine_.processor(issuer).rank : 0;
    if (machine_.procs_per_rank(kind.kind) > 0) return machine_.processor_at(kind.kind, rank, 0);
  }
  const std::vector<machine::ProcId>* procs = &procs_of_kind_[kinds::index(kind.kind)];
  if (parent.valid()) {
    const int node = machine_.processor(issuer).node;
    procs = &procs_of_kind_on_node_[kinds::index(kind.kind)][static_cast<size_t>(node)];
  }
  if (procs->empty())
    fail(MappingErrorKind::Internal, t, {},
         fmt::format("no {} processor to place the task on", kinds::to_string(kind.kind)));
  const int64_t owner = mapper_ && issuer.value >= 0 ? -1 - int64_t{machine_.processor(issuer).rank} : issuer.value;
  int64_t& next = round_robin_[owner * 8 + static_cast<int64_t>(kinds::index(kind.kind))];
  machine::ProcId chosen = (*procs)[static_cast<size_t>(next % static_cast<int64_t>(procs->size()))];
  ++next;
  return chosen;
}

}  // namespace mage::mapping::detail
