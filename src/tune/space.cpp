// The search space of a program on a machine: which decisions there are and what their
// choices are, the size of the space, sampling, differences and the JSON form of points.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <set>

#include "apps/apps.h"
#include "tune/detail.h"

namespace mage::tune {

using detail::ArgGroup;
using detail::Family;
using detail::PlacementChoice;
using detail::TaskInfo;

// ---- Random numbers --------------------------------------------------------------------

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Rng::below(uint64_t n) {
  // Rejection keeps every value equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    const uint64_t x = next();
    if (x < limit) return x % n;
  }
}

double Rng::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::string_view to_string(DecisionKind k) {
  switch (k) {
    case DecisionKind::Processor:
      return "processor";
    case DecisionKind::Memory:
      return "memory";
    case DecisionKind::Layout:
      return "layout";
    case DecisionKind::Placement:
      return "placement";
    case DecisionKind::InstanceLimit:
      return "instance_limit";
    case DecisionKind::CollectMemory:
      return "collect_memory";
  }
  return "?";
}

namespace {

// Processor kinds in the order the default mapper prefers them.
constexpr std::array<std::string_view, 5> kKindOrder{"GPU", "OMP", "CPU", "IO", "PY"};
constexpr std::array<int64_t, 3> kInstanceLimits{1, 2, 4};

bool no_access(const program::RegionArg& a) { return a.only(program::Privilege::NA); }

// The tasks, their launches, arguments and the kinds they can run on.
std::vector<TaskInfo> collect_tasks(const program::Program& p, const program::TaskGraph& g, const machine::Machine& m) {
  std::vector<TaskInfo> tasks;
  std::vector<int> info_of(p.tasks.size(), -1);
  for (const program::Launch& l : p.launches) {
    int& i = info_of[l.task.index()];
    if (i < 0) {
      i = static_cast<int>(tasks.size());
      TaskInfo t;
      t.id = l.task;
      const program::TaskKind& kind = p.task_of(l);
      t.name = kind.name;
      t.leaf = kind.leaf;
      for (std::string_view k : kKindOrder) {
        auto pk = kinds::parse_proc_kind(k);
        if (pk && kind.has_variant(*pk) && m.has(*pk)) t.kinds.emplace_back(k);
      }
      t.index = l.kind == program::LaunchKind::Index;
      t.dims = t.index ? l.domain.dim : 0;
      t.nested = l.parent.valid();
      tasks.push_back(std::move(t));
    }
    TaskInfo& t = tasks[static_cast<size_t>(i)];
    t.launches.push_back(l.id);
    const bool index = l.kind == program::LaunchKind::Index;
    if (index != t.index || (index && l.domain.dim != t.dims)) t.dims = -1;  // mixed: no placement decision
    t.nested = t.nested && l.parent.valid();
    int depth = 0;
    for (program::LaunchId up = l.parent; up.valid(); up = p.launches[up.index()].parent) ++depth;
    t.depth = std::max(t.depth, depth);
    t.point_tasks += g.launch_start[l.id.index() + 1] - g.launch_start[l.id.index()];
  }
  // The launching task of nested launches (when it is always the same one).
  for (TaskInfo& t : tasks) {
    if (!t.nested) continue;
    std::set<program::TaskKindId> parents;
    for (program::LaunchId l : t.launches) parents.insert(p.launches[p.launches[l.index()].parent.index()].task);
    if (parents.size() == 1) t.parent = info_of[(*parents.begin()).index()];
  }
  return tasks;
}

// The arguments of a task as rules name them. An argument that needs an instance (a leaf's
// accessed argument, an inner task's untagged reduction-only argument) joins the group of its most
// specific name. When a group's key also names an argument of another group (a region name
// shared with a partition's root, say), rules could not tell them apart: the task's groups
// are keyed by argument index instead.
void group_arguments(const program::Program& p, TaskInfo& t) {
  std::map<std::string, int> by_key;
  struct Use {
    program::LaunchId launch;
    size_t arg;
    int group;
  };
  std::vector<Use> uses;
  for (program::LaunchId l : t.launches) {
    const program::Launch& launch = p.launches[l.index()];
    std::vector<int>& groups = t.group_of_arg[l];
    groups.assign(launch.args.size(), -1);
    for (size_t a = 0; a < launch.args.size(); ++a) {
      const program::RegionArg& arg = launch.args[a];
      // (An inner task's argument the program tags virtual has no instance whatever the rules.)
      if (no_access(arg) || (!t.leaf && (!arg.only(program::Privilege::RED) || arg.virtual_tag))) continue;
      std::vector<std::string> names = p.arg_names(arg);
      auto [it, fresh] = by_key.emplace(names.front(), static_cast<int>(t.args.size()));
      if (fresh) {
        ArgGroup g;
        g.key = names.front();
        g.names = names;
        g.dims = p.regions[arg.region.index()].space.dim;
        g.read_only = true;
        t.args.push_back(std::move(g));
      }
      ArgGroup& g = t.args[static_cast<size_t>(it->second)];
      g.read_only = g.read_only && arg.only(program::Privilege::RO);
      groups[a] = it->second;
      uses.push_back({l, a, it->second});
    }
  }
  bool ambiguous = false;
  for (const Use& u : uses) {
    const auto names = p.arg_names(p.launches[u.launch.index()].args[u.arg]);
    for (size_t h = 0; h < t.args.size(); ++h)
      if (static_cast<int>(h) != u.group && std::find(names.begin(), names.end(), t.args[h].key) != names.end())
        ambiguous = true;
  }
  if (!ambiguous) return;
  std::map<int, size_t> index_of_group;
  for (const Use& u : uses) {
    auto [it, fresh] = index_of_group.emplace(u.group, u.arg);
    if (!fresh && it->second != u.arg)
      throw std::logic_error(
          fmt::format("tune: the arguments of task {} cannot be named apart by Region rules", t.name));
  }
  std::set<size_t> indices;
  for (auto& [group, index] : index_of_group) {
    if (!indices.insert(index).second)
      throw std::logic_error(
          fmt::format("tune: the arguments of task {} cannot be named apart by Region rules", t.name));
    t.args[static_cast<size_t>(group)].key = std::to_string(index);
  }
}

// Memory kinds a processor of `kind` sees, the fastest first.
std::vector<std::string> visible_memories(const machine::Machine& m, const std::string& kind) {
  const auto procs = m.processors_of(*kinds::parse_proc_kind(kind));
  std::vector<std::pair<double, std::string>> seen;
  for (kinds::MemKind mk : kinds::kMemKinds) {
    auto mem = m.best_memory(procs.front(), mk);
    if (!mem) continue;
    seen.emplace_back(-m.access(procs.front(), *mem)->bandwidth, std::string(kinds::to_string(mk)));
  }
  std::stable_sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [bw, name] : seen) out.push_back(name);
  return out;
}

std::string layout_label(const kinds::Layout& l, bool with_order) {
  std::string out(kinds::to_string(l.fields));
  if (with_order) out += " " + std::string(kinds::to_string(l.order));
  return out;
}

// The distinct mappers under each choice of decision d: the product of the choice counts of
// the decisions active only under it (1 where none are).
std::vector<double> mappers_under(const std::vector<Decision>& decisions, size_t d) {
  std::vector<double> under(decisions[d].choices.size(), 1.0);
  for (const Decision& c : decisions)
    if (c.condition == static_cast<int>(d))
      under[static_cast<size_t>(c.condition_choice)] *= static_cast<double>(c.choices.size());
  return under;
}

}  // namespace

// ---- Building --------------------------------------------------------------------------

Space Space::build(const eval::Request& request, const eval::Limits& limits) {
  return eval::within_memory_limit(limits.memory_bytes,
                                   fmt::format("building the search space of {} on {}", request.app, request.machine),
                                   [&] { return build_unbounded(request); });
}

Space Space::build_unbounded(const eval::Request& request) {
  auto impl = std::make_shared<Impl>();
  impl->app = request.app;
  impl->machine_name = request.machine;
  impl->resolved = eval::resolve(request);
  try {
    impl->program = apps::build(request.app, impl->resolved.params);
  } catch (const apps::AppError& e) {
    throw eval::RequestError(e.what());
  }
  impl->graph = program::analyze(impl->program);
  impl->shape = mapping::shape_of(impl->machine());
  impl->tasks = collect_tasks(impl->program, impl->graph, impl->machine());
  for (TaskInfo& t : impl->tasks) group_arguments(impl->program, t);

  Impl& s = *impl;
  auto add = [&s](Decision d, detail::ChoiceValues v, int task, int arg) {
    s.decisions.push_back(std::move(d));
    s.values.push_back(std::move(v));
    s.decision_task.push_back(task);
    s.decision_arg.push_back(arg);
    return static_cast<int>(s.decisions.size()) - 1;
  };

  // Per kind, its context (every task that can runs on it, Impl::context_memories): the
  // placement choices of every (task, kind), the families that place its points apart, and
  // the default memory of each argument there. A context is a Plan of the whole program, the
  // largest thing built here: one kind's at a time, dropped once what it tells is known.
  struct Placements {
    std::vector<Choice> choices;
    std::vector<PlacementChoice> values;
  };
  auto placeable = [](const TaskInfo& t) { return t.dims != -1 && (t.index || t.nested); };
  std::map<std::pair<size_t, std::string>, Placements> placements;
  std::vector<std::string> kinds_in_order;
  for (const TaskInfo& t : s.tasks)
    for (const std::string& k : t.kinds)
      if (std::find(kinds_in_order.begin(), kinds_in_order.end(), k) == kinds_in_order.end())
        kinds_in_order.push_back(k);
  for (const std::string& kind : kinds_in_order) {
    std::string text;
    for (const TaskInfo& t : s.tasks) {
      const bool can = std::find(t.kinds.begin(), t.kinds.end(), kind) != t.kinds.end();
      if (!t.kinds.empty()) text += fmt::format("Task {} {};\n", t.name, can ? kind : t.kinds.front());
    }
    std::string error;
    const std::optional<mapping::Plan> ctx = s.plan(text, &error);
    if (!ctx) throw std::logic_error("tune: cannot place the program with every task on " + kind + ": " + error);
    auto& memories = s.context_memories[kind];
    memories.resize(s.tasks.size());
    for (size_t ti = 0; ti < s.tasks.size(); ++ti)
      for (size_t g = 0; g < s.tasks[ti].args.size(); ++g)
        memories[ti].push_back(s.memory_kind_of(s.first_use_in(s.tasks[ti], static_cast<int>(g), *ctx)));
    for (size_t ti = 0; ti < s.tasks.size(); ++ti) {
      const TaskInfo& t = s.tasks[ti];
      if (!placeable(t) || std::find(t.kinds.begin(), t.kinds.end(), kind) == t.kinds.end()) continue;
      const int64_t per_rank = s.shape.count(*kinds::parse_proc_kind(kind));
      const int64_t processors = t.index && t.nested ? per_rank : per_rank * s.shape.ranks;
      const std::vector<PlacementChoice> raw =
          t.index ? detail::placement_families(t.dims, processors, t.nested)
                  : std::vector<PlacementChoice>{{Family::Default, 0, {}, {}}, {Family::Parent, 0, {}, {}}};
      Placements& out = placements[{ti, kind}];
      std::vector<std::vector<int32_t>> seen;
      for (const PlacementChoice& c : raw) {
        auto where = s.place(t, kind, c, *ctx);
        if (!where) continue;  // fails for some point: not a choice
        auto it = std::find(seen.begin(), seen.end(), *where);
        if (it != seen.end()) {
          out.choices[static_cast<size_t>(it - seen.begin())].aliases.push_back(c.label());
          continue;
        }
        // The guide names a placement it proposes by the digest of its processors.
        const std::string places = "places " + mapping::placement_digest({where->begin(), where->end()});
        seen.push_back(std::move(*where));
        out.choices.push_back({c.label(), {places}});
        out.values.push_back(c);
      }
    }
  }

  for (size_t ti = 0; ti < s.tasks.size(); ++ti) {
    TaskInfo& t = s.tasks[ti];
    const int task = static_cast<int>(ti);
    if (t.kinds.empty()) continue;  // mapping reports it; nothing to decide
    if (t.kinds.size() > 1) {
      Decision d{DecisionKind::Processor, "processor " + t.name, t.name, "", {}, "", {}, -1, -1};
      detail::ChoiceValues v;
      for (const auto& k : t.kinds) {
        d.choices.push_back({k, {}});
        v.kinds.push_back(k);
      }
      t.processor = add(std::move(d), std::move(v), task, -1);
    }
    for (size_t ki = 0; ki < t.kinds.size(); ++ki) {
      const std::string& kind = t.kinds[ki];
      const int condition = t.processor;
      const int condition_choice = t.processor >= 0 ? static_cast<int>(ki) : -1;
      // Placement: index launches, and single launches nested in a task.
      if (placeable(t)) {
        Placements& p = placements.at({ti, kind});
        Decision d{
            DecisionKind::Placement, fmt::format("placement {} {}", t.name, kind), t.name, "", {}, kind, {}, condition,
            condition_choice};
        d.choices = std::move(p.choices);
        detail::ChoiceValues v;
        v.placements = std::move(p.values);
        if (d.choices.size() > 1) t.placement[kind] = add(std::move(d), std::move(v), task, -1);
      }
      // Memory of each argument.
      const std::vector<std::string> visible = visible_memories(s.machine(), kind);
      for (size_t g = 0; g < t.args.size(); ++g) {
        // An inner task's reduction-only argument may also have no instance at all.
        std::vector<std::string> memories = visible;
        if (!t.leaf) memories.push_back("VIRTUAL");
        if (memories.size() > 1) {
          const ArgGroup& a = t.args[g];
          Decision d{DecisionKind::Memory,
                     fmt::format("memory {} {} {}", t.name, a.key, kind),
                     t.name,
                     a.key,
                     a.names,
                     kind,
                     {},
                     condition,
                     condition_choice};
          detail::ChoiceValues v;
          for (const auto& mem : memories) {
            d.choices.push_back({mem, {}});
            v.kinds.push_back(mem);
          }
          t.memory[{static_cast<int>(g), kind}] = add(std::move(d), std::move(v), task, static_cast<int>(g));
        }
      }
    }
    // Layout of each argument (the dimension order of 1-D data cannot matter). An inner
    // task never touches its data: the layout of its reduction instances is left alone.
    t.layout.assign(t.args.size(), -1);
    for (size_t g = 0; g < t.args.size() && t.leaf; ++g) {
      const ArgGroup& a = t.args[g];
      Decision d{
          DecisionKind::Layout, fmt::format("layout {} {}", t.name, a.key), t.name, a.key, a.names, "", {}, -1, -1};
      detail::ChoiceValues v;
      const bool with_order = a.dims > 1;
      for (kinds::FieldLayout fields : {kinds::FieldLayout::SOA, kinds::FieldLayout::AOS})
        for (kinds::DimOrder order : {kinds::DimOrder::F, kinds::DimOrder::C}) {
          if (!with_order && order == kinds::DimOrder::C) continue;
          const kinds::Layout layout{fields, order};
          d.choices.push_back({layout_label(layout, with_order), {}});
          v.layouts.push_back(layout);
        }
      t.layout[g] = add(std::move(d), std::move(v), task, static_cast<int>(g));
    }
    if (t.point_tasks > 1) {
      Decision d{DecisionKind::InstanceLimit, "instance_limit " + t.name, t.name, "", {}, "", {}, -1, -1};
      detail::ChoiceValues v;
      d.choices.push_back({"none", {}});
      v.limits.push_back(std::nullopt);
      for (int64_t n : kInstanceLimits) {
        d.choices.push_back({std::to_string(n), {}});
        v.limits.push_back(n);
      }
      t.instance_limit = add(std::move(d), std::move(v), task, -1);
    }
    if (t.leaf && std::any_of(t.args.begin(), t.args.end(), [](const ArgGroup& a) { return a.read_only; })) {
      Decision d{DecisionKind::CollectMemory,
                 "collect_memory " + t.name,
                 t.name,
                 "",
                 {},
                 "",
                 {{"off", {}}, {"on", {}}},
                 -1,
                 -1};
      t.collect = add(std::move(d), {}, task, -1);
    }
  }

  s.count_size();

  // The default mapper's point.
  {
    auto plan = mapping::apply_default(s.program, s.graph, s.machine());
    if (const auto* e = std::get_if<mapping::MappingError>(&plan))
      throw eval::RequestError("the default mapper cannot map " + s.app + ": " + e->message);
    s.default_point = s.read_plan(std::get<mapping::Plan>(plan), nullptr).point;
  }
  Space space;
  space.impl_ = std::move(impl);
  return space;
}

// The size: decisions conditioned on a processor decision count only under its choice.
void Space::Impl::count_size() {
  size = 1;
  for (size_t d = 0; d < decisions.size(); ++d) {
    if (decisions[d].condition >= 0) continue;
    double sum = 0;
    for (double u : mappers_under(decisions, d)) sum += u;
    size *= sum;
  }
}

Space Space::with_tables(const ReadBack& back) const {
  if (back.tables.empty()) return *this;
  auto impl = std::make_shared<Impl>(*impl_);
  for (const auto& [d, table] : back.tables) {
    Decision& decision = impl->decisions.at(d);
    if (decision.kind != DecisionKind::Placement)
      throw std::logic_error("tune: a placement table for decision " + decision.name);
    const TaskInfo& t = impl->tasks.at(static_cast<size_t>(impl->decision_task.at(d)));
    PlacementChoice c{Family::Table, t.dims, {}, {}, table};
    const std::string label = c.label();
    const auto& choices = decision.choices;
    if (std::any_of(choices.begin(), choices.end(), [&](const Choice& x) { return x.label == label; })) continue;
    decision.choices.push_back({label, {}});
    impl->values.at(d).placements.push_back(std::move(c));
  }
  impl->count_size();
  Space space;
  space.impl_ = std::move(impl);
  return space;
}

// ---- Questions -------------------------------------------------------------------------

const std::vector<Decision>& Space::decisions() const { return impl_->decisions; }
const std::string& Space::app() const { return impl_->app; }
const machine::Machine& Space::machine() const { return impl_->machine(); }
const program::Program& Space::program() const { return impl_->program; }
const program::TaskGraph& Space::graph() const { return impl_->graph; }
double Space::size() const { return impl_->size; }
Point Space::default_point() const { return impl_->default_point; }

bool Space::active(const Point& point, size_t decision) const {
  const Decision& d = impl_->decisions.at(decision);
  if (d.condition < 0) return true;
  return point.at(static_cast<size_t>(d.condition)) == d.condition_choice;
}

Point Space::sample(Rng& rng) const {
  const auto& ds = impl_->decisions;
  Point p(ds.size(), 0);
  for (size_t d = 0; d < ds.size(); ++d) {
    if (ds[d].condition >= 0) continue;
    // A processor decision weighs each kind by the mappers it leads to.
    const std::vector<double> weight = mappers_under(ds, d);
    double total = 0;
    for (double w : weight) total += w;
    double x = rng.unit() * total;
    size_t pick = 0;
    while (pick + 1 < weight.size() && x >= weight[pick]) x -= weight[pick++];
    p[d] = static_cast<int>(pick);
  }
  for (size_t d = 0; d < ds.size(); ++d)
    if (ds[d].condition >= 0) p[d] = static_cast<int>(rng.below(ds[d].choices.size()));
  return p;
}

std::vector<Difference> Space::diff(const Point& from, const Point& to) const {
  std::vector<Difference> out;
  for (size_t d = 0; d < impl_->decisions.size(); ++d) {
    const bool a = active(from, d), b = active(to, d);
    if (!a && !b) continue;
    if (a && b && from[d] == to[d]) continue;
    Difference x;
    x.decision = d;
    if (a) x.from = from[d];
    if (b) x.to = to[d];
    out.push_back(x);
  }
  return out;
}

std::string Space::describe(const Difference& x) const {
  const Decision& d = impl_->decisions.at(x.decision);
  auto label = [&](const std::optional<int>& c) {
    return c ? d.choices.at(static_cast<size_t>(*c)).label : std::string("(not used)");
  };
  return fmt::format("{}: {} -> {}", d.name, label(x.from), label(x.to));
}

std::vector<size_t> Space::select(const Point& point, DecisionKind kind, std::string_view task,
                                  std::string_view argument) const {
  std::vector<size_t> out;
  for (size_t d = 0; d < impl_->decisions.size(); ++d) {
    const Decision& x = impl_->decisions[d];
    if (x.kind != kind || !active(point, d)) continue;
    if (task != "*" && task != x.task) continue;
    if (!argument.empty() && argument != "*" && argument != x.argument &&
        std::find(x.argument_names.begin(), x.argument_names.end(), argument) == x.argument_names.end())
      continue;
    out.push_back(d);
  }
  return out;
}

std::optional<int> Space::choice_named(size_t decision, std::string_view value, int current) const {
  const Decision& d = impl_->decisions.at(decision);
  auto family = [](std::string_view label) { return label.substr(0, label.find(' ')); };
  for (size_t c = 0; c < d.choices.size(); ++c) {
    const Choice& ch = d.choices[c];
    if (ch.label == value || std::find(ch.aliases.begin(), ch.aliases.end(), value) != ch.aliases.end())
      return static_cast<int>(c);
  }
  if (d.kind == DecisionKind::Placement) {
    auto of_family = [&](size_t c) {
      const Choice& ch = d.choices[c];
      return family(ch.label) == value || std::any_of(ch.aliases.begin(), ch.aliases.end(),
                                                      [&](const std::string& a) { return family(a) == value; });
    };
    if (current >= 0 && static_cast<size_t>(current) < d.choices.size() && of_family(static_cast<size_t>(current)))
      return current;
    for (size_t c = 0; c < d.choices.size(); ++c)
      if (of_family(c)) return static_cast<int>(c);
    return std::nullopt;
  }
  if (d.kind == DecisionKind::InstanceLimit) {
    // A limit the space does not have: the nearest one it has (on a log scale; the larger on
    // a tie), so that "raise it to 8" still raises it.
    int64_t wanted = 0;
    try {
      wanted = std::stoll(std::string(value));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (wanted < 1) return std::nullopt;
    const auto& limits = impl_->values[decision].limits;
    std::optional<int> best;
    double best_distance = INFINITY;
    for (size_t c = 0; c < limits.size(); ++c) {
      if (!limits[c]) continue;
      const double distance = std::abs(std::log(static_cast<double>(*limits[c]) / static_cast<double>(wanted)));
      if (distance <= best_distance) best = static_cast<int>(c), best_distance = distance;
    }
    return best;
  }
  if (d.kind == DecisionKind::Layout) {
    // Words of the value override those of the current choice; 1-D choices have no order.
    const auto& values = impl_->values[decision].layouts;
    kinds::Layout wanted = values.at(static_cast<size_t>(std::max(current, 0)));
    bool any = false;
    for (size_t at = 0; at < value.size();) {
      size_t end = value.find(' ', at);
      if (end == std::string_view::npos) end = value.size();
      const std::string_view word = value.substr(at, end - at);
      at = end + 1;
      if (word.empty()) continue;
      if (const auto fields = kinds::parse_field_layout(word))
        wanted.fields = *fields;
      else if (const auto order = kinds::parse_dim_order(word))
        wanted.order = *order;
      else
        return std::nullopt;  // a constraint the space does not vary (Align, Compact, ...)
      any = true;
    }
    if (!any) return std::nullopt;
    const bool with_order = values.size() == 4;  // 1-D data has SOA and AOS only
    for (size_t c = 0; c < values.size(); ++c)
      if (values[c].fields == wanted.fields && (!with_order || values[c].order == wanted.order))
        return static_cast<int>(c);
  }
  return std::nullopt;
}

nlohmann::ordered_json Space::to_json(const Point& point) const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t d = 0; d < impl_->decisions.size(); ++d)
    if (active(point, d)) j[impl_->decisions[d].name] = impl_->decisions[d].choices.at(point[d]).label;
  return j;
}

Point Space::from_json(const nlohmann::json& j) const {
  if (!j.is_object()) throw TuneError("a point must be a JSON object of {decision: choice}");
  Point p = impl_->default_point;
  for (const auto& [name, value] : j.items()) {
    const auto& ds = impl_->decisions;
    auto it = std::find_if(ds.begin(), ds.end(), [&](const Decision& d) { return d.name == name; });
    if (it == ds.end()) throw TuneError(fmt::format("the space of {} has no decision '{}'", impl_->app, name));
    if (!value.is_string()) throw TuneError(fmt::format("decision '{}': the choice must be a string", name));
    const std::string label = value.get<std::string>();
    auto c = std::find_if(it->choices.begin(), it->choices.end(), [&](const Choice& ch) {
      return ch.label == label || std::find(ch.aliases.begin(), ch.aliases.end(), label) != ch.aliases.end();
    });
    if (c == it->choices.end()) throw TuneError(fmt::format("decision '{}' has no choice '{}'", name, label));
    p[static_cast<size_t>(it - ds.begin())] = static_cast<int>(c - it->choices.begin());
  }
  return p;
}

std::string Space::summary() const {
  const Impl& s = *impl_;
  const machine::Machine& m = s.machine();
  std::string procs;
  for (std::string_view k : kKindOrder) {
    auto dk = kinds::parse_proc_kind(k);
    if (dk && s.shape.count(*dk) > 0) procs += fmt::format("{}{} {}", procs.empty() ? "" : ", ", s.shape.count(*dk), k);
  }
  std::map<DecisionKind, int> per_kind;
  for (const Decision& d : s.decisions) ++per_kind[d.kind];
  std::string counts;
  for (auto& [k, n] : per_kind) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, to_string(k));
  std::string out =
      fmt::format("{} on {} ({} node{}, {} rank{} of {} processors each): {} decisions ({}); {:.3g} distinct mappers\n",
                  s.app, m.name(), m.nodes(), m.nodes() == 1 ? "" : "s", s.shape.ranks, s.shape.ranks == 1 ? "" : "s",
                  procs, s.decisions.size(), counts.empty() ? "none" : counts, s.size);
  out += "choices marked * are the default mapper's\n";
  for (size_t ti = 0; ti < s.tasks.size(); ++ti) {
    const TaskInfo& t = s.tasks[ti];
    std::string launches = t.index ? fmt::format("index launches, {}-D", t.dims) : "single launches";
    if (t.dims == -1) launches = "index and single launches";
    out +=
        fmt::format("\n{} ({}, {}{}; {} point task{})\n", t.name, t.leaf ? "leaf" : "inner", launches,
                    t.nested ? fmt::format(", launched by {}", t.parent >= 0 ? s.tasks[t.parent].name : "tasks") : "",
                    t.point_tasks, t.point_tasks == 1 ? "" : "s");
    bool any = false;
    for (size_t d = 0; d < s.decisions.size(); ++d) {
      if (s.decision_task[d] != static_cast<int>(ti)) continue;
      any = true;
      const Decision& dec = s.decisions[d];
      std::string what(to_string(dec.kind));
      if (!dec.argument.empty()) what += " " + dec.argument;
      if (!dec.proc_kind.empty()) what += " on " + dec.proc_kind;
      std::string choices;
      // Long lists (placements over many processors) are cut short; the default is always shown.
      constexpr size_t kShown = 10;
      for (size_t c = 0; c < dec.choices.size(); ++c) {
        if (c >= kShown && s.default_point[d] != static_cast<int>(c)) {
          if (c == kShown) choices += fmt::format(" | ... {} more", dec.choices.size() - kShown);
          continue;
        }
        const Choice& ch = dec.choices[c];
        choices += c ? " | " : "";
        choices += ch.label;
        // The families merged into a choice, each named once.
        std::vector<std::string> families;
        for (const auto& a : ch.aliases) {
          std::string f = a.substr(0, a.find(' '));
          if (f != "places" && f != ch.label.substr(0, ch.label.find(' ')) &&
              std::find(families.begin(), families.end(), f) == families.end())
            families.push_back(f);
        }
        if (!families.empty()) {
          choices += " (also";
          for (size_t i = 0; i < families.size(); ++i) choices += (i ? ", " : " ") + families[i];
          choices += ")";
        }
        if (s.default_point[d] == static_cast<int>(c)) choices += "*";
      }
      out += fmt::format("  {:<34} {}\n", what, choices);
    }
    if (t.kinds.size() == 1) out += fmt::format("  runs on {} (its only kind here)\n", t.kinds.front());
    if (!any && t.kinds.size() != 1) out += "  nothing to decide\n";
  }
  return out;
}

}  // namespace mage::tune
