// The data policies: which memory holds each region argument's instance (Region rules,
// else the processor's best memory; none for an inner task's arguments other than
// reduction-only ones), its layout (Layout rules,
// else SOA F order), and whether it is collected after use (CollectMemory).
#include <fmt/format.h>
#include <algorithm>

#include "mapping/mapping_run.h"

namespace mage::mapping::detail {

namespace {

bool no_access(const program::RegionArg& a) {
  return std::all_of(a.access.begin(), a.access.end(),
                     [](const program::FieldAccess& f) { return f.privilege == program::Privilege::NA; });
}

}  // namespace

// The processor's best memory: FBMEM for a GPU, its socket's SOCKMEM for an OMP group,
// SYSMEM otherwise; failing that, the memory it reaches fastest.
machine::MemId MappingRun::default_memory(machine::ProcId proc) const {
  const kinds::ProcKind k = machine_.processor(proc).kind;
  const kinds::MemKind preferred = k == kinds::ProcKind::GPU   ? kinds::MemKind::FBMEM
                                   : k == kinds::ProcKind::OMP ? kinds::MemKind::SOCKMEM
                                                               : kinds::MemKind::SYSMEM;
  const machine::MemId best = best_memory_[proc.index()][kinds::index(preferred)];
  if (best.valid()) return best;
  auto reach = machine_.accessible(proc);
  return reach.empty() ? machine::MemId{} : reach.front().mem;
}

std::vector<ArgRules>& MappingRun::launch_rules(program::LaunchId id, const KindChoice& kind) {
  std::optional<std::vector<ArgRules>>& cached = launches_[id.index()];
  if (cached) return *cached;
  const program::Launch& l = program_.launches[id.index()];
  const std::string& task = program_.task_of(l).name;
  std::vector<ArgRules> rules(l.args.size());
  for (size_t a = 0; a < l.args.size(); ++a) {
    ArgRules& r = rules[a];
    r.view = dsl::ArgumentView{static_cast<int64_t>(a), program_.arg_names(l.args[a])};
    r.no_access = no_access(l.args[a]);
    r.reduction_only = l.args[a].only(program::Privilege::RED);
    r.virtual_tag = l.args[a].virtual_tag;
    if (!mapper_) continue;
    r.collect = mapper_->collect_memory(task, r.view);
    r.candidates = mapper_->memory_candidates(task, r.view, kind.kind);
  }
  cached = std::move(rules);
  return *cached;
}

dsl::LayoutChoice MappingRun::select_layout(program::PointTaskId t, ArgRules& rules, kinds::MemKind memory,
                                            const KindChoice& kind) const {
  std::optional<dsl::LayoutChoice>& cached = rules.layouts[kinds::index(memory)];
  if (!cached) cached = mapper_ ? mapper_->layout(task_name(t), rules.view, memory, kind.kind) : dsl::LayoutChoice{};
  return *cached;
}

ArgPlacement MappingRun::select_memory(program::PointTaskId t, size_t arg, ArgRules& rules, bool inner,
                                       const KindChoice& kind, machine::ProcId proc) const {
  ArgPlacement out;
  out.collect = rules.collect;
  // Inner tasks never touch their data: as Legion's default mapper (and the published one)
  // does, every argument of an inner task is mapped virtually whatever the Region rules
  // say, except a reduction-only one, which gets a physical instance chosen by the rules.
  // The program's virtual tag (inner tasks only) means the same.
  if (rules.no_access || (inner && (!rules.reduction_only || rules.virtual_tag))) {
    out.is_virtual = true;
    return out;
  }
  const auto& best = best_memory_[proc.index()];
  for (const dsl::Mapper::MemoryCandidate& c : rules.candidates) {
    if (!c.memory.kind) {  // VIRTUAL
      if (!inner)
        fail(MappingErrorKind::VirtualLeaf, t, dsl::SourceLoc{c.rule.line, 1},
             fmt::format("VIRTUAL memory (no instance) for argument {} ({}) of leaf task {}, which accesses it; "
                         "VIRTUAL is only for inner tasks",
                         arg, rules.view.names.empty() ? std::string("?") : rules.view.names.front(), task_name(t)));
      out.is_virtual = true;
      out.memory_rule_line = c.rule.line;
      return out;
    }
    if (const machine::MemId m = best[kinds::index(*c.memory.kind)]; m.valid()) {
      out.memory = m;
      out.memory_rule_line = c.rule.line;
      break;
    }
  }
  if (!out.memory.valid()) {
    out.memory = default_memory_[proc.index()];
    if (!out.memory.valid())  // machine::load requires every processor kind to reach a memory
      fail(MappingErrorKind::Internal, t, {},
           fmt::format("{} can access no memory to hold argument {} of task {}", machine_.name(proc), arg,
                       task_name(t)));
  }
  const dsl::LayoutChoice& layout = select_layout(t, rules, machine_.memory(out.memory).kind, kind);
  out.layout = layout.layout;
  out.layout_rule_line = layout.rule_line;
  return out;
}

}  // namespace mage::mapping::detail
