// How a Plan places the points of a launch, in the vocabulary of placement hints.
#include <regex>

#include "guide/detail.h"

namespace mage::guide::detail {

std::vector<program::PointTaskId> points_of(const Context& c, std::string_view task) {
  std::vector<program::PointTaskId> out;
  auto id = c.program.find_task(task);
  if (!id) return out;
  for (size_t t = 0; t < c.graph.size(); ++t)
    if (c.program.launches[c.graph.tasks[t].launch.index()].task == *id) out.push_back(program::PointTaskId::at(t));
  return out;
}

std::string placement_family(const Context& c, const program::Launch& l) {
  if (!c.plan) return "";
  const std::vector<program::PointTaskId> points = c.graph.of_launch(l.id);
  if (points.empty()) return "";
  auto processor = [&](program::PointTaskId t) { return c.plan->tasks[t.index()].processor; };
  bool parent = l.parent.valid();
  for (program::PointTaskId t : points) {
    const program::PointTaskId p = c.graph.tasks[t.index()].parent;
    if (!p.valid() || processor(t) != processor(p)) parent = false;
  }
  if (parent) return "parent";
  if (l.kind != program::LaunchKind::Index) return "";
  // The points issued by the first parent point (or the top level), against the formulas.
  const program::PointTaskId first_parent = c.graph.tasks[points.front().index()].parent;
  const kinds::ProcKind kind = machine_kind(c.plan->tasks[points.front().index()].kind);
  const std::vector<machine::ProcId> procs = c.machine.processors_of(kind);
  const auto count = static_cast<int64_t>(procs.size());
  const int64_t volume = l.domain.volume();
  if (count == 0 || volume == 0) return "";
  bool block = true, cyclic = true;
  for (program::PointTaskId t : points) {
    if (c.graph.tasks[t.index()].parent != first_parent) continue;
    const int64_t i = l.domain.linear(c.graph.tasks[t.index()].point);
    if (processor(t) != procs[static_cast<size_t>(i * count / volume)]) block = false;
    if (processor(t) != procs[static_cast<size_t>(i % count)]) cyclic = false;
  }
  if (block) return "block";
  if (cyclic) return "cyclic";
  return "";
}

std::string placement_function(const Context& c, int line) {
  if (!c.source || line <= 0) return "";
  static const std::regex rule(R"((?:IndexTaskMap|SingleTaskMap)\s+\S+\s+([_a-zA-Z][_a-zA-Z0-9]*)\s*;)");
  const std::string text = source_line(*c.source, line);
  std::smatch m;
  return std::regex_search(text, m, rule) ? m[1].str() : "";
}

}  // namespace mage::guide::detail
