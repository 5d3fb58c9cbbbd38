// Execution errors (the simulator rejected the run): a layout a leaf variant's library call
// rejects, an allocation that does not fit; and simulator failures.
#include <fmt/format.h>
#include <algorithm>
#include <regex>
#include <set>

#include "guide/detail.h"

namespace mage::guide::detail {

namespace {

std::string layout_words(const kinds::Layout& l, kinds::DimOrder order) {
  return fmt::format("{} {}", kinds::to_string(l.fields), kinds::to_string(order));
}

Feedback layout_mismatch(const Context& c) {
  Feedback f;
  f.category = Category::LayoutMismatch;
  const std::string& message = c.outcome().message;
  std::smatch m;
  static const std::regex what(
      R"(^(\S+).*layout mismatch, operand (\S+) \(argument (\d+), ([^)]+)\) is (\w+), (\w+) required)");
  if (!std::regex_search(message, m, what)) {
    f.explanation = "A leaf task's variant needs another dimension order: " + message + ".";
    return f;
  }
  const std::string task = m[1].str(), required = m[6].str(), current = m[5].str();
  const kinds::DimOrder wanted = kinds::parse_dim_order(required).value_or(kinds::DimOrder::C);
  // Every argument of the task whose layout the variant rejects, with the rule that chose it.
  std::vector<std::string> names;
  std::set<int> rule_lines;
  const program::TaskKind* kind = find_task(c.program, task);
  const std::vector<program::PointTaskId> points = points_of(c, task);
  if (c.plan && kind && !points.empty()) {
    const program::PointTaskId t = points.front();
    const mapping::TaskPlacement& tp = c.plan->tasks[t.index()];
    const program::Launch& l = c.program.launches[c.graph.tasks[t.index()].launch.index()];
    for (size_t a = 0; a < tp.args.size() && a < l.args.size(); ++a) {
      const mapping::ArgPlacement& ap = tp.args[a];
      if (ap.is_virtual || ap.layout.order == wanted) continue;
      const std::string name = c.program.arg_names(l.args[a]).front();
      names.push_back(name);
      if (ap.layout_rule_line > 0) rule_lines.insert(ap.layout_rule_line);
      f.hints.push_back(
          Hint{Action::Layout, task, name, layout_words(ap.layout, ap.layout.order), layout_words(ap.layout, wanted),
               fmt::format("{}'s {} variant requires {} operands", task, kinds::to_string(tp.kind), required), 0});
    }
  }
  if (names.empty()) names.push_back(m[4].str());
  std::string rules;
  for (int line : rule_lines)
    rules += fmt::format("{}{}:{} (`{}`)", rules.empty() ? "" : ", ", c.source ? c.source->name : "mapper", line,
                         c.source ? trim(source_line(*c.source, line)) : "");
  f.explanation = fmt::format(
      "{}'s library call needs {} ({}) operands, but {} {} {}{}.", task, required,
      wanted == kinds::DimOrder::C ? "row-major" : "column-major", join(names), names.size() == 1 ? "is" : "are",
      current, rules.empty() ? " (the default layout is SOA F_order)" : " by the Layout rule at " + rules);
  f.suggestions.push_back(fmt::format("give {}'s arguments {}: `Layout {} * * SOA {};`{}", task, required, task,
                                      required,
                                      rules.empty() ? "" : " before that rule, or change the rule to " + required));
  if (f.hints.empty()) {
    f.hints.push_back(Hint{Action::Layout, task, m[4].str(), current, required,
                           fmt::format("{} requires {} operands", task, required), 0});
  }
  return f;
}

Feedback out_of_memory(const Context& c, const sim::OutOfMemory& oom) {
  Feedback f;
  f.category = Category::OutOfMemory;
  std::vector<std::string> held;
  for (size_t i = 0; i < oom.held.size() && i < 4; ++i)
    held.push_back(fmt::format("{} {} in {}", oom.held[i].data, bytes(static_cast<double>(oom.held[i].bytes)),
                               plural(oom.held[i].instances, "instance", "instances")));
  if (oom.held.size() > 4)
    held.push_back(
        fmt::format("{} more", plural(static_cast<int64_t>(oom.held.size()) - 4, "piece of data", "pieces of data")));
  f.explanation = fmt::format(
      "{} on {} needs {} more for {} in {}, which already holds {} of its {}{}{}.", oom.point, oom.processor,
      bytes(static_cast<double>(oom.requested_bytes)), oom.data, oom.memory, bytes(static_cast<double>(oom.used_bytes)),
      bytes(static_cast<double>(oom.capacity_bytes)), held.empty() ? "" : ": " + join(held),
      oom.in_flight > 1 ? fmt::format("; {} {} tasks are mapped and unfinished there at once", oom.in_flight, oom.task)
                        : "");

  const program::TaskKind* kind = find_task(c.program, oom.task);
  const auto task_id = c.program.find_task(oom.task);
  const std::vector<program::PointTaskId> points = points_of(c, oom.task);
  const mapping::TaskKindPolicy* policy = c.plan && task_id ? &c.plan->task_kinds[(*task_id).index()] : nullptr;
  auto add = [&](Action action, std::string argument, std::string from, std::string to, std::string reason,
                 std::string suggestion) {
    f.hints.push_back(
        Hint{action, oom.task, std::move(argument), std::move(from), std::move(to), std::move(reason), 0});
    f.suggestions.push_back(std::move(suggestion));
  };

  // 1. Several tasks of the kind hold their data at once: map fewer ahead.
  const std::string limit = policy && policy->instance_limit ? std::to_string(*policy->instance_limit) : "none";
  if (oom.in_flight > 1 && limit != "1")
    add(Action::InstanceLimit, "", limit, "1",
        fmt::format("{} {} tasks hold instances in {} at once", oom.in_flight, oom.task, oom.memory),
        fmt::format("map one {} at a time per launching processor: `InstanceLimit {} 1;`", oom.task, oom.task));

  // 2. A nested task away from its parent pulls its parent's data to another processor.
  const bool nested = !points.empty() && c.graph.tasks[points.front().index()].parent.valid();
  if (nested && c.plan &&
      placement_family(c, c.program.launches[c.graph.tasks[points.front().index()].launch.index()]) != "parent")
    add(Action::Placement, "", "", "parent",
        fmt::format("{} does not run on its parent's processor, so its data is copied to yet another memory", oom.task),
        fmt::format("run {} on its parent's processor: `def same_point(Task task) {{ return "
                    "mgpu[*task.parent.processor(mgpu)]; }}` and `SingleTaskMap {} same_point;`",
                    oom.task, oom.task));

  // 3. Read-only inputs kept after use: collect them.
  if (kind && !points.empty() && c.plan) {
    const program::PointTaskId t = points.front();
    const program::Launch& l = c.program.launches[c.graph.tasks[t.index()].launch.index()];
    const mapping::TaskPlacement& tp = c.plan->tasks[t.index()];
    std::vector<std::string> collectable;
    for (size_t a = 0; a < l.args.size() && a < tp.args.size(); ++a) {
      if (!l.args[a].only(program::Privilege::RO) || tp.args[a].collect || tp.args[a].is_virtual) continue;
      const std::string name = c.program.arg_names(l.args[a]).front();
      const bool fills =
          std::any_of(oom.held.begin(), oom.held.end(), [&](const sim::HeldData& h) { return h.data == name; });
      if (fills) collectable.push_back(name);
    }
    for (const std::string& name : collectable)
      f.hints.push_back(Hint{
          Action::CollectMemory, oom.task, name, "off", "on",
          fmt::format("{} only reads {}; its copies in {} can be dropped after use", oom.task, name, oom.memory_kind),
          0});
    if (!collectable.empty())
      f.suggestions.push_back(fmt::format("drop {}'s read-only copies of {} after use: `CollectMemory {} *;`", oom.task,
                                          join(collectable), oom.task));
  }

  // 4. A larger memory the task's processor reaches: move the data that fills this one.
  const machine::Memory* full = nullptr;
  for (const machine::Memory& mem : c.machine.memories())
    if (c.machine.name(mem.id) == oom.memory) full = &mem;
  const machine::ProcId proc =
      !points.empty() && c.plan ? c.plan->tasks[points.front().index()].processor : machine::ProcId{};
  if (full && proc.value >= 0) {
    const machine::Memory* larger = nullptr;
    for (const machine::Access& a : c.machine.accessible(proc)) {
      const machine::Memory& mem = c.machine.memory(a.mem);
      if (mem.kind != full->kind && mem.capacity_bytes > full->capacity_bytes &&
          (!larger || mem.capacity_bytes > larger->capacity_bytes))
        larger = &mem;
    }
    if (larger) {
      const std::string to(kinds::to_string(larger->kind));
      const std::string proc_kind(kinds::to_string(c.machine.processor(proc).kind));
      std::vector<std::string> moved{oom.data};
      for (const sim::HeldData& h : oom.held)
        if (moved.size() < 3 && std::find(moved.begin(), moved.end(), h.data) == moved.end()) moved.push_back(h.data);
      for (const std::string& data : moved)
        f.hints.push_back(
            Hint{Action::Memory, "*", data, oom.memory_kind, to,
                 fmt::format("{} holds {}, {} only {}", to, bytes(static_cast<double>(larger->capacity_bytes)),
                             oom.memory_kind, bytes(static_cast<double>(full->capacity_bytes))),
                 0});
      std::vector<std::string> rules;
      for (const std::string& data : moved) rules.push_back(fmt::format("`Region * {} {} {};`", data, proc_kind, to));
      const mapping::TaskPlacement& tp = c.plan->tasks[points.front().index()];
      const int line = static_cast<size_t>(oom.argument) < tp.args.size()
                           ? tp.args[static_cast<size_t>(oom.argument)].memory_rule_line
                           : 0;
      const std::string change = rule_change(c, line, oom.memory_kind, to);
      f.suggestions.push_back(fmt::format("move {} to {}, which holds {}: {}", join(moved), memory_words(to),
                                          bytes(static_cast<double>(larger->capacity_bytes)),
                                          change.empty() ? join(rules) : "change " + change));
    }
  }

  // 5. Several points of one index launch fill their processor's own memory: spread them.
  if (full && proc.value >= 0 && (full->per == machine::Per::Gpu || full->per == machine::Per::Socket)) {
    const program::Launch& l = c.program.launches[c.graph.tasks[points.front().index()].launch.index()];
    const std::vector<program::PointTaskId> launched = c.graph.of_launch(l.id);  // one launch's points
    const int64_t here = std::count_if(launched.begin(), launched.end(), [&](program::PointTaskId t) {
      return c.machine.name(c.plan->tasks[t.index()].processor) == oom.processor;
    });
    const auto procs = static_cast<int64_t>(c.machine.processors_of(c.machine.processor(proc).kind).size());
    const int64_t fair = (l.domain.volume() + procs - 1) / std::max<int64_t>(procs, 1);  // the fewest possible
    if (here > std::max<int64_t>(fair, 1) && l.kind == program::LaunchKind::Index) {
      const std::string current = placement_family(c, l);
      add(Action::Placement, "", current, current == "block" ? "cyclic" : "block",
          fmt::format("{} points of {} run on {} and fill {}", here, oom.task, oom.processor, oom.memory),
          fmt::format("place fewer points of {} per processor: {} points of each launch run on {}", oom.task, here,
                      oom.processor));
    }
  }

  if (f.suggestions.empty())
    f.suggestions.push_back(fmt::format("put less data in {}: move some of {} to another memory", oom.memory,
                                        held.empty() ? oom.data : oom.held.front().data));
  return f;
}

}  // namespace

Feedback explain_execution_error(const Context& c) {
  if (const auto& oom = c.outcome().profile.out_of_memory) return out_of_memory(c, *oom);
  if (c.outcome().message.find("layout mismatch") != std::string::npos) return layout_mismatch(c);
  Feedback f;
  f.category = Category::ExecutionError;
  f.explanation = "The simulator rejected the execution: " + c.outcome().message + ".";
  return f;
}

Feedback explain_simulator_failure(const Context& c) {
  Feedback f;
  f.category = Category::SimulatorFailure;
  const std::string& m = c.outcome().message;
  f.explanation = fmt::format("The evaluation did not finish: {}. This is not a property of the mapper.", m);
  if (m.find("exceeded") != std::string::npos && m.find(" s") != std::string::npos)
    f.suggestions.push_back("allow more time (mage run --time-limit S, 0 for none) or try --scale small");
  else if (m.find("memory") != std::string::npos)
    f.suggestions.push_back("try --scale small or fewer --nodes: the simulation itself needs too much memory");
  else
    f.suggestions.push_back("run it again; if it fails the same way, report the mapper and the command");
  return f;
}

}  // namespace mage::guide::detail
