// Reading a point back from a mapper: the mapper is applied to the program and every
// decision is taken from the resulting Plan (processor kinds, memories, layouts, limits),
// placements by comparing where each family would put every point task with where the
// mapper put it.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <deque>

#include "tune/detail.h"

namespace mage::tune {

using detail::Family;
using detail::TaskInfo;

namespace {

struct Bound {
  dsl::Mapper mapper;
  mapping::Plan plan;
};

std::optional<Bound> bind_and_apply(const Space::Impl& s, const std::string& text, std::string* error) {
  const dsl::SourceFile source{"mapper.map", text};
  dsl::BindResult bound = dsl::load_mapper(source, s.shape);
  if (!bound.mapper) {
    if (error) *error = dsl::format_diagnostics(bound.diagnostics, source);
    return std::nullopt;
  }
  mapping::ApplyResult applied = mapping::apply(s.program, s.graph, s.machine(), *bound.mapper);
  if (const auto* e = std::get_if<mapping::MappingError>(&applied)) {
    if (error) *error = e->message;
    return std::nullopt;
  }
  return Bound{std::move(*bound.mapper), std::move(std::get<mapping::Plan>(applied))};
}

// Tasks as a mapping function sees them, their parents placed as a Plan says.
class Views {
 public:
  Views(const Space::Impl& s, const mapping::Plan& plan) : s_(s), plan_(plan) {
    top_.name = "top_level";
    if (plan.top_level_processor.value >= 0) {
      const machine::Processor& p = s.machine().processor(plan.top_level_processor);
      top_.kind = p.kind;
      top_.processor = dsl::ProcessorId{p.rank, p.index_in_rank};
    }
  }

  // The task being placed (where it runs is not known yet).
  const dsl::TaskView& unplaced(program::PointTaskId t) {
    fill(scratch_, t);
    return scratch_;
  }

 private:
  void fill(dsl::TaskView& v, program::PointTaskId t) {
    const program::PointTask& pt = s_.graph.tasks[t.index()];
    const program::Launch& l = s_.program.launches[pt.launch.index()];
    v.name = s_.program.task_of(l).name;
    v.ipoint.assign(pt.point.c.begin(), pt.point.c.begin() + pt.point.dim);
    v.ispace.clear();
    if (l.kind == program::LaunchKind::Index)
      v.ispace.assign(l.domain.extent.begin(), l.domain.extent.begin() + l.domain.dim);
    v.parent = !pt.parent.valid() ? &top_ : placed(pt.parent);
    v.kind.reset();
    v.processor.reset();
  }

  const dsl::TaskView* placed(program::PointTaskId t) {
    auto it = placed_.find(t);
    if (it != placed_.end()) return it->second;
    dsl::TaskView& v = store_.emplace_back();
    fill(v, t);
    const machine::Processor& p = s_.machine().processor(plan_.tasks[t.index()].processor);
    v.kind = p.kind;
    v.processor = dsl::ProcessorId{p.rank, p.index_in_rank};
    placed_.emplace(t, &v);
    return &v;
  }

  const Space::Impl& s_;
  const mapping::Plan& plan_;
  dsl::TaskView top_;
  dsl::TaskView scratch_;
  std::deque<dsl::TaskView> store_;
  std::map<program::PointTaskId, const dsl::TaskView*> placed_;
};

std::optional<std::string> task_kind(const mapping::Plan& plan, const TaskInfo& t) {
  const auto& k = plan.task_kinds.at(t.id.index()).kind;
  if (!k) return std::nullopt;
  return std::string(kinds::to_string(*k));
}

int index_of(const std::vector<std::string>& v, const std::string& x) {
  auto it = std::find(v.begin(), v.end(), x);
  return it == v.end() ? -1 : static_cast<int>(it - v.begin());
}

}  // namespace

std::optional<mapping::Plan> Space::Impl::plan(const std::string& text, std::string* error) const {
  auto bound = bind_and_apply(*this, text, error);
  if (!bound) return std::nullopt;
  return std::move(bound->plan);
}

std::vector<program::PointTaskId> Space::Impl::placed_points(const TaskInfo& t) const {
  std::vector<program::PointTaskId> out;
  std::vector<program::Domain> seen;
  for (program::LaunchId l : t.launches) {
    // A top-level launch is placed as a function of its points and domain alone: one
    // launch per domain says it all (pennant launches the same task 60 times).
    const program::Domain& domain = program.launches[l.index()].domain;
    if (!t.nested) {
      if (std::find(seen.begin(), seen.end(), domain) != seen.end()) continue;
      seen.push_back(domain);
    }
    for (int64_t i = graph.launch_start[l.index()]; i < graph.launch_start[l.index() + 1]; ++i)
      out.push_back(graph.launch_tasks[static_cast<size_t>(i)]);
  }
  return out;
}

std::optional<std::vector<int32_t>> Space::Impl::place(const TaskInfo& t, const std::string& kind,
                                                       const detail::PlacementChoice& choice,
                                                       const mapping::Plan& context) const {
  std::vector<int32_t> out;
  if (choice.family == Family::Default) {
    for (program::PointTaskId pt : placed_points(t)) out.push_back(context.tasks[pt.index()].processor.value);
    return out;
  }
  std::optional<std::string> parent_kind;
  if (t.nested && t.parent >= 0) parent_kind = task_kind(context, tasks[static_cast<size_t>(t.parent)]);
  detail::PlacementCode code = detail::placement_code(choice, kind, parent_kind, t.index && t.nested);
  if (code.wrapper.empty()) return std::nullopt;
  std::string text;
  for (const auto& g : code.globals) text += g + "\n";
  for (const auto& d : code.definitions) text += d;
  text += fmt::format("{} {} {};\n", t.index ? "IndexTaskMap" : "SingleTaskMap", t.name, code.wrapper);
  const dsl::SourceFile source{"placement.map", text};
  dsl::BindResult bound = dsl::load_mapper(source, shape);
  if (!bound.mapper)
    throw std::logic_error("tune: a placement function does not compile:\n" +
                           dsl::format_diagnostics(bound.diagnostics, source) + text);
  const kinds::ProcKind mk = *kinds::parse_proc_kind(kind);
  const int per_rank = machine().procs_per_rank(mk);
  Views views(*this, context);
  for (program::PointTaskId pt : placed_points(t)) {
    dsl::PlacementResult r = bound.mapper->place(views.unplaced(pt), mk, t.index);
    if (!r.placement || r.placement->processors.empty()) return std::nullopt;
    const dsl::ProcessorId& q = r.placement->processors.front();
    if (q.node < 0 || q.node >= machine().ranks() || q.proc < 0 || q.proc >= per_rank) return std::nullopt;
    out.push_back(machine().processor_at(mk, static_cast<int>(q.node), static_cast<int>(q.proc)).value);
  }
  return out;
}

const mapping::ArgPlacement* Space::Impl::first_use_in(const TaskInfo& t, int g, const mapping::Plan& from) const {
  for (program::LaunchId l : t.launches) {
    const std::vector<int>& groups = t.group_of_arg.at(l);
    for (size_t a = 0; a < groups.size(); ++a) {
      if (groups[a] != g) continue;
      const auto pt = graph.launch_tasks[static_cast<size_t>(graph.launch_start[l.index()])];
      return &from.tasks[pt.index()].args[a];
    }
  }
  return nullptr;
}

std::string Space::Impl::memory_kind_of(const mapping::ArgPlacement* use) const {
  if (!use || use->is_virtual) return "VIRTUAL";
  return std::string(kinds::to_string(machine().memory(use->memory).kind));
}

ReadBack Space::Impl::read_plan(const mapping::Plan& plan, const dsl::Mapper* mapper) const {
  ReadBack rb;
  rb.point.assign(decisions.size(), 0);
  auto first_use = [&](const TaskInfo& t, int g, const mapping::Plan& from) { return first_use_in(t, g, from); };
  auto view_of = [&](const TaskInfo& t, int g) {
    for (program::LaunchId l : t.launches) {
      const std::vector<int>& groups = t.group_of_arg.at(l);
      for (size_t a = 0; a < groups.size(); ++a)
        if (groups[a] == g) return dsl::ArgumentView{static_cast<int64_t>(a), t.args[static_cast<size_t>(g)].names};
    }
    return dsl::ArgumentView{};
  };
  auto memory_kind = [&](const mapping::ArgPlacement* ap) { return memory_kind_of(ap); };

  for (const TaskInfo& t : tasks) {
    const std::optional<std::string> kind = task_kind(plan, t);
    if (!kind) continue;
    if (t.processor >= 0) rb.point[static_cast<size_t>(t.processor)] = std::max(0, index_of(t.kinds, *kind));

    for (const auto& [key, d] : t.memory) {
      const auto& [g, k] = key;
      const std::vector<std::string>& choices = values[static_cast<size_t>(d)].kinds;
      int c = -1;
      if (k == *kind) {
        const std::string mem = memory_kind(first_use(t, g, plan));
        c = index_of(choices, mem);
        if (c < 0)
          rb.inexact.push_back(
              fmt::format("{}: the mapper chose {}, not a choice of the space", decisions[d].name, mem));
      } else {
        // Not used by this mapper: what its rules would choose there, else the default.
        if (mapper)
          for (dsl::MemWord m : mapper->memory_priority(t.name, view_of(t, g), *kinds::parse_proc_kind(k)))
            if ((c = index_of(choices, std::string(dsl::to_string(m)))) >= 0) break;
        if (c < 0) c = index_of(choices, context_memories.at(k)[static_cast<size_t>(&t - tasks.data())][g]);
      }
      rb.point[static_cast<size_t>(d)] = std::max(c, 0);
    }

    for (size_t g = 0; g < t.args.size(); ++g) {
      const int d = t.layout[g];
      if (d < 0) continue;
      const mapping::ArgPlacement* ap = first_use(t, static_cast<int>(g), plan);
      if (!ap || ap->is_virtual) continue;
      const bool with_order = t.args[g].dims > 1;
      const auto& layouts = values[static_cast<size_t>(d)].layouts;
      const kinds::Layout asked{ap->layout.fields, with_order ? ap->layout.order : kinds::DimOrder::F};
      auto it = std::find(layouts.begin(), layouts.end(), asked);
      rb.point[static_cast<size_t>(d)] = static_cast<int>(it - layouts.begin());
      if (ap->layout.alignment || ap->layout.compact || ap->layout.exact)
        rb.inexact.push_back(fmt::format("{}: the mapper also asks for {}, which the space leaves out",
                                         decisions[static_cast<size_t>(d)].name,
                                         ap->layout.alignment ? "an alignment"
                                         : ap->layout.compact ? "Compact"
                                                              : "Exact"));
    }

    if (t.instance_limit >= 0) {
      const auto& limit = plan.task_kinds[t.id.index()].instance_limit;
      const auto& limits = values[static_cast<size_t>(t.instance_limit)].limits;
      int c = 0;
      if (limit) {
        // The nearest limit of the space (on a log scale), noted when not the same.
        double best = INFINITY;
        for (size_t i = 0; i < limits.size(); ++i) {
          if (!limits[i]) continue;
          const double dist = std::abs(std::log(static_cast<double>(*limits[i])) -
                                       std::log(static_cast<double>(std::max<int64_t>(*limit, 1))));
          if (dist < best) best = dist, c = static_cast<int>(i);
        }
        if (limits[static_cast<size_t>(c)] != limit)
          rb.inexact.push_back(fmt::format("{}: the mapper's limit {} is not a choice; {} is the nearest",
                                           decisions[static_cast<size_t>(t.instance_limit)].name, *limit,
                                           *limits[static_cast<size_t>(c)]));
      }
      rb.point[static_cast<size_t>(t.instance_limit)] = c;
    }

    if (t.collect >= 0) {
      int collected = 0, read_only = 0;
      for (size_t g = 0; g < t.args.size(); ++g) {
        if (!t.args[g].read_only) continue;
        ++read_only;
        const mapping::ArgPlacement* ap = first_use(t, static_cast<int>(g), plan);
        if (ap && ap->collect) ++collected;
      }
      rb.point[static_cast<size_t>(t.collect)] = collected > 0 ? 1 : 0;
      if (collected > 0 && collected < read_only)
        rb.inexact.push_back(fmt::format("{}: the mapper collects {} of {} read-only arguments",
                                         decisions[static_cast<size_t>(t.collect)].name, collected, read_only));
    }
  }

  // Placements, parents before children: a child's placement may depend on its parent's.
  int depth_max = 0;
  for (const TaskInfo& t : tasks) depth_max = std::max(depth_max, t.depth);
  for (int depth = 0; depth <= depth_max; ++depth) {
    std::optional<mapping::Plan> defaults;  // this depth's tasks at the default placement
    for (const TaskInfo& t : tasks) {
      if (t.depth != depth) continue;
      const std::optional<std::string> kind = task_kind(plan, t);
      if (!kind) continue;
      auto dit = t.placement.find(*kind);
      if (dit == t.placement.end()) continue;
      const int d = dit->second;
      const std::vector<program::PointTaskId> points = placed_points(t);
      const bool has_rule = std::any_of(points.begin(), points.end(), [&](program::PointTaskId pt) {
        return plan.tasks[pt.index()].placement_rule_line != 0;
      });
      if (!has_rule) continue;  // choice 0 is the default's
      std::vector<int32_t> actual;
      for (program::PointTaskId pt : points) actual.push_back(plan.tasks[pt.index()].processor.value);
      int best = 0;
      size_t best_matches = 0;
      const auto& choices = values[static_cast<size_t>(d)].placements;
      for (size_t c = 0; c < choices.size(); ++c) {
        std::optional<std::vector<int32_t>> where;
        if (choices[c].family == Family::Default) {
          if (!defaults) {
            const std::string text = render(rb.point, [&](size_t x) {
              return decisions[x].kind == DecisionKind::Placement &&
                     tasks[static_cast<size_t>(decision_task[x])].depth < depth;
            });
            defaults = this->plan(text, nullptr);
          }
          if (defaults) where = place(t, *kind, choices[c], *defaults);
        } else {
          where = place(t, *kind, choices[c], plan);
        }
        if (!where) continue;
        size_t matches = 0;
        for (size_t i = 0; i < actual.size(); ++i) matches += (*where)[i] == actual[i];
        if (matches > best_matches) best = static_cast<int>(c), best_matches = matches;
        if (matches == actual.size()) break;
      }
      rb.point[static_cast<size_t>(d)] = best;
      if (best_matches < actual.size()) {
        if (auto table = placement_table(t, *kind, points, plan)) rb.tables[static_cast<size_t>(d)] = std::move(*table);
        rb.inexact.push_back(
            fmt::format("{}: no choice places all {} point tasks as the mapper does; {} places {} "
                        "the same",
                        decisions[static_cast<size_t>(d)].name, actual.size(),
                        decisions[static_cast<size_t>(d)].choices[static_cast<size_t>(best)].label, best_matches));
      }
    }
  }
  return rb;
}

std::optional<std::vector<int64_t>> Space::Impl::placement_table(const TaskInfo& t, const std::string& kind,
                                                                 const std::vector<program::PointTaskId>& points,
                                                                 const mapping::Plan& plan) const {
  // Only where a point's processor is a function of the point alone: top-level index
  // launches, all over one domain.
  if (!t.index || t.nested || t.launches.empty()) return std::nullopt;
  const program::Domain& domain = program.launches[t.launches.front().index()].domain;
  for (program::LaunchId l : t.launches)
    if (!(program.launches[l.index()].domain == domain)) return std::nullopt;
  const kinds::ProcKind mk = *kinds::parse_proc_kind(kind);
  const int64_t per_rank = machine().procs_per_rank(mk);
  int64_t volume = 1;
  for (int i = 0; i < domain.dim; ++i) volume *= domain.extent[static_cast<size_t>(i)];
  std::vector<int64_t> table(static_cast<size_t>(volume), -1);
  for (program::PointTaskId pt : points) {
    const program::PointTask& task = graph.tasks[pt.index()];
    int64_t l = 0;
    for (int i = 0; i < domain.dim; ++i)
      l = l * domain.extent[static_cast<size_t>(i)] + task.point.c[static_cast<size_t>(i)];
    const machine::Processor& q = machine().processor(plan.tasks[pt.index()].processor);
    if (q.kind != mk || l < 0 || l >= volume) return std::nullopt;
    table[static_cast<size_t>(l)] = q.rank * per_rank + q.index_in_rank;
  }
  if (std::find(table.begin(), table.end(), -1) != table.end()) return std::nullopt;
  return table;
}

std::optional<ReadBack> Space::read(const std::string& text, std::string* error) const {
  auto bound = bind_and_apply(*impl_, text, error);
  if (!bound) return std::nullopt;
  return impl_->read_plan(bound->plan, &bound->mapper);
}

}  // namespace mage::tune
