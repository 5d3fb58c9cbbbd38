// The data policies: which memory holds each region argument's instance (Region rules,
// else the processor's best memory; VIRTUAL for inner tasks), its layout (Layout rules,
// else SOA F order), and whether it is collected after use (CollectMemory).
#include <fmt/format.h>
#include <algorithm>

#include "mapping/kinds.h"
#include "mapping/mapping_run.h"

namespace mage::mapping::detail {

namespace {

Layout convert(const dsl::Layout& l) {
  Layout out;
  out.soa = l.soa;
  out.c_order = l.c_order;
  out.compact = l.compact;
  out.exact = l.exact;
  if (l.align && !l.no_align) {
    const auto& [op, value] = *l.align;
    if (op == "==" || op == ">=" || op == ">") out.alignment = value;
  }
  return out;
}

bool no_access(const program::RegionArg& a) {
  return std::all_of(a.access.begin(), a.access.end(),
                     [](const program::FieldAccess& f) { return f.privilege == program::Privilege::NA; });
}

}  // namespace

// The processor's best memory: FBMEM for a GPU, its socket's SOCKMEM for an OMP group,
// SYSMEM otherwise; failing that, the memory it reaches fastest.
machine::MemId MappingRun::default_memory(machine::ProcId proc) const {
  const machine::ProcKind k = machine_.processor(proc).kind;
  const machine::MemKind preferred = k == machine::ProcKind::GPU   ? machine::MemKind::FBMEM
                                     : k == machine::ProcKind::OMP ? machine::MemKind::SOCKMEM
                                                                   : machine::MemKind::SYSMEM;
  int32_t best = best_memory_[static_cast<size_t>(proc.value)][index(preferred)];
  if (best >= 0) return machine::MemId{best};
  auto reach = machine_.accessible(proc);
  return reach.empty() ? machine::MemId{-1} : reach.front().mem;
}

std::vector<ArgRules>& MappingRun::launch_rules(program::LaunchId id, const KindChoice& kind) {
  std::optional<std::vector<ArgRules>>& cached = launches_[static_cast<size_t>(id)];
  if (cached) return *cached;
  const program::Launch& l = program_.launches[static_cast<size_t>(id)];
  const std::string& task = program_.task_of(l).name;
  std::vector<ArgRules> rules(l.args.size());
  for (size_t a = 0; a < l.args.size(); ++a) {
    ArgRules& r = rules[a];
    r.view = dsl::ArgumentView{static_cast<int64_t>(a), program_.arg_names(l.args[a])};
    r.no_access = no_access(l.args[a]);
    if (!mapper_) continue;
    r.collect = mapper_->collect_memory(task, r.view);
    for (const auto& c : mapper_->memory_candidates(task, r.view, kind.dsl_kind))
      r.candidates.push_back(ArgRules::Candidate{to_machine(c.kind), c.rule.line});
  }
  cached = std::move(rules);
  return *cached;
}

std::pair<Layout, int> MappingRun::select_layout(program::PointTaskId t, ArgRules& rules, machine::MemKind memory,
                                                 const KindChoice& kind) const {
  std::optional<std::pair<Layout, int>>& cached = rules.layouts[index(memory)];
  if (!cached) {
    if (mapper_) {
      dsl::Layout l = mapper_->layout(task_name(t), rules.view, to_dsl(memory), kind.dsl_kind);
      cached.emplace(convert(l), l.rule_line);
    } else {
      cached.emplace(Layout{}, 0);
    }
  }
  return *cached;
}

ArgPlacement MappingRun::select_memory(program::PointTaskId t, size_t arg, ArgRules& rules, bool inner,
                                       const KindChoice& kind, machine::ProcId proc) const {
  ArgPlacement out;
  out.collect = rules.collect;
  if (rules.no_access) {
    out.is_virtual = true;
    return out;
  }
  const auto& best = best_memory_[static_cast<size_t>(proc.value)];
  for (const ArgRules::Candidate& c : rules.candidates) {
    if (!c.memory) {
      if (!inner)
        fail(MappingErrorKind::VirtualLeaf, t, dsl::SourceLoc{c.line, 1},
             fmt::format("VIRTUAL memory (no instance) for argument {} ({}) of leaf task {}, which accesses it; "
                         "VIRTUAL is only for inner tasks",
                         arg, rules.view.names.empty() ? std::string("?") : rules.view.names.front(), task_name(t)));
      out.is_virtual = true;
      out.memory_rule_line = c.line;
      return out;
    }
    if (int32_t m = best[index(*c.memory)]; m >= 0) {
      out.memory = machine::MemId{m};
      out.memory_rule_line = c.line;
      break;
    }
  }
  if (out.memory.value < 0) {
    if (inner) {  // an inner task never touches its data: no instance
      out.is_virtual = true;
      return out;
    }
    out.memory = machine::MemId{default_memory_[static_cast<size_t>(proc.value)]};
    if (out.memory.value < 0)  // machine::load requires every processor kind to reach a memory
      fail(MappingErrorKind::Internal, t, {},
           fmt::format("{} can access no memory to hold argument {} of task {}", machine_.name(proc), arg,
                       task_name(t)));
  }
  auto [layout, line] = select_layout(t, rules, machine_.memory(out.memory).kind, kind);
  out.layout = layout;
  out.layout_rule_line = line;
  return out;
}

}  // namespace mage::mapping::detail
