// A point of the space as mapper text: every active decision written as the rule that
// makes it, then normalised by the language's printer.
#include <fmt/format.h>
#include <algorithm>
#include <set>

#include "tune/detail.h"

namespace mage::tune {

using detail::Family;
using detail::TaskInfo;

const std::string& Space::Impl::kind_of(const Point& p, const TaskInfo& t) const {
  if (t.processor < 0) return t.kinds.front();
  return values[static_cast<size_t>(t.processor)].kinds.at(static_cast<size_t>(p[static_cast<size_t>(t.processor)]));
}

std::string Space::Impl::render(const Point& p, const std::function<bool(size_t)>& include) const {
  if (p.size() != decisions.size())
    throw std::logic_error(fmt::format("tune: a point of {} decisions for a space of {}", p.size(), decisions.size()));
  auto chosen = [&](int d) { return p[static_cast<size_t>(d)]; };
  auto is_active = [&](int d) {
    const Decision& x = decisions[static_cast<size_t>(d)];
    return x.condition < 0 || p[static_cast<size_t>(x.condition)] == x.condition_choice;
  };
  auto use = [&](int d) { return d >= 0 && is_active(d) && include(static_cast<size_t>(d)); };

  std::string text = fmt::format("# {} on {}: a point of mage's search space.\n", app, machine_name);
  // Processors: one rule per kind, listing its tasks.
  std::map<std::string, std::vector<std::string>> by_kind;
  for (const TaskInfo& t : tasks)
    if (!t.kinds.empty()) by_kind[kind_of(p, t)].push_back(t.name);
  text += "\n# Processors\n";
  for (std::string_view k : {"GPU", "OMP", "CPU", "IO", "PY"}) {
    auto it = by_kind.find(std::string(k));
    if (it == by_kind.end()) continue;
    std::string names;
    for (const auto& n : it->second) names += (names.empty() ? "" : ",") + n;
    text += fmt::format("Task {} {};\n", names, k);
  }

  std::string regions, layouts, limits;
  for (const TaskInfo& t : tasks) {
    if (t.kinds.empty()) continue;
    const std::string& kind = kind_of(p, t);
    for (size_t g = 0; g < t.args.size(); ++g) {
      auto it = t.memory.find({static_cast<int>(g), kind});
      // Memories the default mapper would choose anyway are left to it.
      if (it != t.memory.end() && use(it->second) &&
          (default_point.empty() || chosen(it->second) != default_point[static_cast<size_t>(it->second)]))
        regions += fmt::format("Region {} {} {} {};\n", t.name, t.args[g].key, kind,
                               values[static_cast<size_t>(it->second)].kinds.at(chosen(it->second)));
      const int l = t.layout[g];
      if (!use(l)) continue;
      const kinds::Layout& layout = values[static_cast<size_t>(l)].layouts.at(chosen(l));
      if (layout == kinds::Layout{}) continue;  // the default layout
      layouts += fmt::format("Layout {} {} * {}{}{};\n", t.name, t.args[g].key, kinds::to_string(layout.fields),
                             layout.order == kinds::DimOrder::C ? " " : "",
                             layout.order == kinds::DimOrder::C ? kinds::to_string(layout.order) : "");
    }
    if (use(t.instance_limit)) {
      const auto& n = values[static_cast<size_t>(t.instance_limit)].limits.at(chosen(t.instance_limit));
      if (n) limits += fmt::format("InstanceLimit {} {};\n", t.name, *n);
    }
    if (use(t.collect) && chosen(t.collect) == 1) limits += fmt::format("CollectMemory {} *;\n", t.name);
  }
  if (!regions.empty()) text += "\n# Memories (each processor's best one elsewhere)\n" + regions;
  if (!layouts.empty()) text += "\n# Layouts (SOA F_order elsewhere)\n" + layouts;
  if (!limits.empty()) text += "\n# Instance limits and memory collection\n" + limits;

  // Placements: the functions each chosen family needs, then one rule per function.
  std::vector<std::string> globals, definitions;
  std::map<std::pair<bool, std::string>, std::vector<std::string>> rules;  // (index, wrapper) -> tasks
  auto add_unique = [](std::vector<std::string>& to, const std::string& s) {
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
  };
  for (const TaskInfo& t : tasks) {
    if (t.kinds.empty()) continue;
    const std::string& kind = kind_of(p, t);
    auto it = t.placement.find(kind);
    if (it == t.placement.end() || !use(it->second)) continue;
    const detail::PlacementChoice& c = values[static_cast<size_t>(it->second)].placements.at(chosen(it->second));
    if (c.family == Family::Default) continue;
    std::optional<std::string> parent_kind;
    if (t.nested && t.parent >= 0) parent_kind = kind_of(p, tasks[static_cast<size_t>(t.parent)]);
    detail::PlacementCode code = detail::placement_code(c, kind, parent_kind, t.index && t.nested);
    if (code.wrapper.empty()) continue;
    for (const auto& g : code.globals) add_unique(globals, g);
    for (const auto& d : code.definitions) add_unique(definitions, d);
    rules[{t.index, code.wrapper}].push_back(t.name);
  }
  if (!rules.empty()) {
    text += "\n# Placements\n";
    for (const auto& g : globals) text += g + "\n";
    for (const auto& d : definitions) text += "\n" + d;
    text += "\n";
    for (const auto& [key, names] : rules) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
      text += fmt::format("{} {} {};\n", key.first ? "IndexTaskMap" : "SingleTaskMap", list, key.second);
    }
  }

  dsl::CompileResult compiled = dsl::compile(dsl::SourceFile{"candidate.map", text});
  if (!compiled.unit)
    throw std::logic_error("tune: a rendered mapper does not compile:\n" +
                           dsl::format_diagnostics(compiled.diagnostics, dsl::SourceFile{"candidate.map", text}) +
                           text);
  return dsl::canonical_text(*compiled.unit);
}

std::string Space::render(const Point& point) const {
  return impl_->render(point, [](size_t) { return true; });
}

}  // namespace mage::tune
