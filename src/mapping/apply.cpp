// shape_of(), apply() and apply_default(): map every point task of a graph, in graph order (a parent
// always precedes its children), by the policies of MappingRun.
#include <fmt/format.h>

#include "mapping/mapping_run.h"

namespace mage::mapping {

std::string placement_digest(const std::vector<int64_t>& processors) {
  uint64_t h = 14695981039346656037ull;
  for (int64_t v : processors)
    for (int b = 0; b < 8; ++b) {
      h ^= static_cast<uint64_t>(v >> (8 * b)) & 0xff;
      h *= 1099511628211ull;
    }
  return fmt::format("{:012x}", (h ^ (h >> 48)) & 0xffffffffffffull);
}

std::string_view to_string(MappingErrorKind k) {
  switch (k) {
    case MappingErrorKind::NoProcessorKind:
      return "no processor kind";
    case MappingErrorKind::PlacementFailed:
      return "placement failed";
    case MappingErrorKind::OutsideMachine:
      return "processor outside the machine";
    case MappingErrorKind::VirtualLeaf:
      return "VIRTUAL memory for a leaf task";
    case MappingErrorKind::Internal:
      return "internal error";
  }
  return "?";
}

dsl::MachineShape shape_of(const machine::Machine& m) {
  dsl::MachineShape shape;
  shape.ranks = m.ranks();
  for (kinds::ProcKind k : kinds::kProcKinds)
    if (int n = m.procs_per_rank(k); n > 0) shape.procs_per_rank[k] = n;
  return shape;
}

namespace detail {

MappingRun::MappingRun(const program::Program& program, const program::TaskGraph& graph,
                       const machine::Machine& machine, const dsl::Mapper* mapper)
    : program_(program), graph_(graph), machine_(machine), mapper_(mapper) {
  if (mapper_) {
    file_ = dsl::source_of(mapper_->unit()).name;
  }
  plan_.mapper_name = mapper_ ? file_ : "default";
  kinds_.resize(program_.tasks.size());
  launches_.resize(program_.launches.size());
  view_index_.assign(graph_.size(), -1);

  for (kinds::ProcKind k : kinds::kProcKinds) {
    procs_of_kind_[kinds::index(k)] = machine_.processors_of(k);
    for (int node = 0; node < machine_.nodes(); ++node)
      procs_of_kind_on_node_[kinds::index(k)].push_back(machine_.processors_of(k, node));
  }
  for (const machine::Processor& p : machine_.processors()) {
    std::array<machine::MemId, kinds::kMemKinds.size()> best{};
    for (kinds::MemKind m : kinds::kMemKinds)
      best[kinds::index(m)] = machine_.best_memory(p.id, m).value_or(machine::MemId{});
    best_memory_.push_back(best);
  }
  for (const machine::Processor& p : machine_.processors()) default_memory_.push_back(default_memory(p.id));

  // The top-level task: CPU 0 of node 0, or the machine's first processor.
  machine::ProcId top =
      machine_.has(kinds::ProcKind::CPU) ? machine_.processor_at(kinds::ProcKind::CPU, 0, 0) : machine::ProcId{0};
  plan_.top_level_processor = top;
  top_view_.name = "top_level";
  if (!machine_.processors().empty()) {
    const machine::Processor& p = machine_.processor(top);
    top_view_.kind = p.kind;
    top_view_.processor = dsl::ProcessorId{p.rank, p.index_in_rank};
  }
}

TaskKindPolicy MappingRun::select_task_kind_policy(const program::TaskKind& task) const {
  TaskKindPolicy policy;
  if (mapper_) {
    policy.instance_limit = mapper_->instance_limit(task.name);
    policy.control_replicated = mapper_->control_replicated(task.name);
  }
  return policy;
}

std::string MappingRun::task_name(program::PointTaskId t) const { return program_.task_of(launch_of(t)).name; }

std::string MappingRun::point_name(program::PointTaskId t) const {
  return program::to_string(graph_.tasks[t.index()].point);
}

void MappingRun::fail(MappingErrorKind kind, program::PointTaskId t, dsl::SourceLoc loc,
                      const std::string& what) const {
  MappingError e;
  e.kind = kind;
  e.task = task_name(t);
  e.point = point_name(t);
  e.rule_line = loc.line;
  std::string where = loc.line > 0 ? fmt::format("{}:{}:{}: ", file_, loc.line, std::max(loc.col, 1))
                                   : (mapper_ ? file_ + ": " : std::string("default mapper: "));
  e.message = fmt::format("{}error: {} (task {}, point {})", where, what, e.task, e.point);
  throw Failure{std::move(e)};
}

const dsl::TaskView& MappingRun::view_of(program::PointTaskId t) {
  const program::PointTask& pt = graph_.tasks[t.index()];
  const program::Launch& l = launch_of(t);
  scratch_.name = program_.task_of(l).name;  // reuses the string's storage
  scratch_.ipoint.assign(pt.point.c.begin(), pt.point.c.begin() + pt.point.dim);
  if (l.kind == program::LaunchKind::Index)
    scratch_.ispace.assign(l.domain.extent.begin(), l.domain.extent.begin() + l.domain.dim);
  else
    scratch_.ispace.clear();
  scratch_.parent = !pt.parent.valid() ? &top_view_ : &views_[static_cast<size_t>(view_index_[pt.parent.index()])];
  scratch_.kind.reset();
  scratch_.processor.reset();
  return scratch_;
}

void MappingRun::remember_view(program::PointTaskId t, const TaskPlacement& placed) {
  const auto u = t.index();
  if (graph_.child_start[u + 1] == graph_.child_start[u]) return;  // no children: nobody asks for it
  dsl::TaskView v = view_of(t);
  const machine::Processor& p = machine_.processor(placed.processor);
  v.kind = p.kind;
  v.processor = dsl::ProcessorId{p.rank, p.index_in_rank};
  view_index_[u] = static_cast<int32_t>(views_.size());
  views_.push_back(std::move(v));
}

ApplyResult MappingRun::run() {
  try {
    if (graph_.child_start.size() != graph_.size() + 1 || graph_.piece_start.size() < graph_.size())
      throw std::logic_error("the task graph is not the analysis of this program");
    plan_.task_kinds.reserve(program_.tasks.size());
    for (const program::TaskKind& k : program_.tasks) plan_.task_kinds.push_back(select_task_kind_policy(k));
    plan_.tasks.resize(graph_.size());
    for (size_t u = 0; u < graph_.size(); ++u) {
      const auto t = program::PointTaskId::at(u);
      const program::PointTask& pt = graph_.tasks[u];
      if (pt.parent >= program::PointTaskId::at(u))
        throw std::logic_error("a point task precedes its parent in the task graph");
      const program::Launch& l = program_.launches.at(pt.launch.index());
      const program::TaskKind& task = program_.task_of(l);
      const KindChoice& kind = select_processor_kind(l.task, t);
      TaskPlacement& tp = plan_.tasks[u];
      tp.kind = kind.kind;
      tp.processor = select_processor(t, kind, tp);
      std::vector<ArgRules>& rules = launch_rules(pt.launch, kind);
      tp.args.reserve(rules.size());
      for (size_t a = 0; a < rules.size(); ++a)
        tp.args.push_back(select_memory(t, a, rules[a], !task.leaf, kind, tp.processor));
      remember_view(t, tp);
    }
    for (size_t k = 0; k < kinds_.size(); ++k) {
      if (!kinds_[k]) continue;
      plan_.task_kinds[k].kind = kinds_[k]->kind;
      plan_.task_kinds[k].kind_rule_line = kinds_[k]->rule_line;
    }
    return std::move(plan_);
  } catch (Failure& f) {
    return std::move(f.error);
  } catch (const std::exception& e) {
    MappingError err;
    err.kind = MappingErrorKind::Internal;
    err.message = fmt::format("error: internal error while mapping: {}", e.what());
    return err;
  }
}

}  // namespace detail

namespace {
ApplyResult run_guarded(const program::Program& program, const program::TaskGraph& graph,
                        const machine::Machine& machine, const dsl::Mapper* mapper) {
  try {
    return detail::MappingRun(program, graph, machine, mapper).run();
  } catch (const std::exception& e) {  // e.g. out of memory while building the tables
    MappingError err;
    err.kind = MappingErrorKind::Internal;
    err.message = fmt::format("error: internal error while mapping: {}", e.what());
    return err;
  }
}
}  // namespace

ApplyResult apply(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
                  const dsl::Mapper& mapper) {
  return run_guarded(program, graph, machine, &mapper);
}

ApplyResult apply_default(const program::Program& program, const program::TaskGraph& graph,
                          const machine::Machine& machine) {
  return run_guarded(program, graph, machine, nullptr);
}

}  // namespace mage::mapping
