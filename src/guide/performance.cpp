// What limits the time of a run that worked, read from the profile: each detector below
// looks for one cause, estimates the seconds a change would save (impact) and proposes the
// change. The cause with the largest impact names the category and leads the explanation.
// Impacts are first-order estimates: a task kind's time is shared by the processors that
// run it, so saving X seconds of its total saves about X / processors of wall time.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include "guide/detail.h"

namespace mage::guide::detail {

namespace {

struct Finding {
  Category category = Category::ComputeBound;
  double impact_s = 0;
  std::string explanation;
  std::vector<std::string> suggestions;
  std::vector<Hint> hints;
};

double window(const Context& c) { return c.outcome().time_s; }

double per_processor(double total_s, int64_t processors) {
  return total_s / static_cast<double>(std::max<int64_t>(processors, 1));
}

// The points of a launch that may run at once: its own (1 for a single launch) times those of
// every index launch above it, since a nested launch is issued by each point of its parent
// (Cannon's task_4, a single launch by each of task_5's 2 x 2 points, has 4).
int64_t concurrent_points(const Context& c, const program::Launch& l) {
  int64_t n = l.kind == program::LaunchKind::Index ? l.domain.volume() : 1;
  for (program::LaunchId up = l.parent; up.valid(); up = c.program.launches[up.index()].parent) {
    const program::Launch& parent = c.program.launches[up.index()];
    if (parent.kind == program::LaunchKind::Index) n *= parent.domain.volume();
  }
  return n;
}

// Points per launch of a task kind: the most that any of its launches may run at once.
int64_t points_per_launch(const Context& c, std::string_view task) {
  int64_t most = 1;
  for (const program::Launch* l : launches_of(c.program, task)) most = std::max(most, concurrent_points(c, *l));
  return most;
}

const program::Launch* first_launch(const Context& c, std::string_view task) {
  auto all = launches_of(c.program, task);
  return all.empty() ? nullptr : all.front();
}

// The first point of a task kind's placement in the plan (null without a plan).
const mapping::TaskPlacement* first_placement(const Context& c, std::string_view task) {
  if (!c.plan) return nullptr;
  const auto points = points_of(c, task);
  return points.empty() ? nullptr : &c.plan->tasks[points.front().index()];
}

// "`RULE` at FILE:LINE".
std::string rule_at(const Context& c, int line) {
  if (!c.source || line <= 0) return "";
  return fmt::format("`{}` at {}:{}", trim(source_line(*c.source, line)), c.source->name, line);
}

std::string gbps(double bytes_per_s) { return fmt::format("{:.3g} GB/s", bytes_per_s / 1e9); }

// The name a region argument's data goes by: its partition's, or its region's.
const std::string& data_name(const Context& c, const program::RegionArg& ra) {
  return ra.partition ? c.program.partitions[ra.partition->index()].name : c.program.regions[ra.region.index()].name;
}

// The piece (linear colour) argument `arg` of point task t uses (-1: the whole region).
int64_t piece_of(const Context& c, program::PointTaskId t, size_t arg) {
  return c.graph.pieces[static_cast<size_t>(c.graph.piece_start[t.index()]) + arg];
}

// The bytes of the fields an argument uses, over one of its pieces.
double piece_bytes(const Context& c, const program::RegionArg& ra, int64_t piece) {
  return static_cast<double>(c.program.elements_of(ra, piece)) *
         static_cast<double>(c.program.regions[ra.region.index()].bytes(ra.fields()));
}

// ---- A task with a GPU variant on CPU or OMP -------------------------------------------

void slow_processor(const Context& c, std::vector<Finding>& out) {
  const auto gpus = c.machine.processors_of(kinds::ProcKind::GPU);
  if (gpus.empty()) return;
  const machine::Processor& gpu = c.machine.processor(gpus.front());
  const auto reach = c.machine.accessible(gpu.id);
  const double fb = reach.empty() ? 0 : reach.front().bandwidth;
  for (const sim::TaskCost& t : c.outcome().profile.costliest_tasks) {
    if (t.processor_kind == "GPU") continue;
    const program::TaskKind* kind = find_task(c.program, t.task);
    const program::Variant* variant = kind ? kind->variant(kinds::ProcKind::GPU) : nullptr;
    if (!variant || !kind->leaf) continue;
    const double rate = (variant->cost.precision == program::Precision::FP32 ? gpu.fp32_flops : gpu.fp64_flops) *
                        variant->cost.peak_fraction;
    const double on_gpu = std::max(rate > 0 ? t.flops / rate : 0, fb > 0 ? t.bytes / fb : 0) +
                          static_cast<double>(t.count) * gpu.launch_overhead_s;
    const int64_t parallel = std::min<int64_t>(static_cast<int64_t>(gpus.size()), points_per_launch(c, t.task));
    const double now = per_processor(t.total_s, t.processors);
    const double then = per_processor(on_gpu, parallel);
    const double saving = std::min(window(c), now - then);
    if (saving <= 0) continue;
    Finding f;
    f.category = Category::SlowProcessor;
    f.impact_s = saving;
    f.explanation = fmt::format(
        "{} runs on {}s although it has a GPU variant: its {} take {} on {} {}{} ({} each, {} of the run); on {} "
        "GPU{} they would take about {} each.",
        t.task, t.processor_kind, plural(t.count, "point task", "point tasks"), seconds(t.total_s), t.processors,
        t.processor_kind, t.processors == 1 ? "" : "s", seconds(now),
        percent(std::min(1.0, now / std::max(window(c), 1e-12))), parallel, parallel == 1 ? "" : "s", seconds(then));
    const mapping::TaskPlacement* tp = first_placement(c, t.task);
    const int rule = tp && c.plan ? c.plan->task_kinds[(*c.program.find_task(t.task)).index()].kind_rule_line : 0;
    f.suggestions.push_back(
        fmt::format("run {} on the GPUs: `Task {} GPU;`{}", t.task, t.task,
                    rule > 0 ? fmt::format(" (the Task rule {} chooses {})", rule_at(c, rule), t.processor_kind) : ""));
    f.hints.push_back(Hint{Action::Processor, t.task, "", t.processor_kind, "GPU",
                           fmt::format("{} has a GPU variant; on {}s it takes {} per processor, on GPUs about {}",
                                       t.task, t.processor_kind, seconds(now), seconds(then)),
                           saving});
    out.push_back(std::move(f));
  }
}

// ---- Accesses across a link ------------------------------------------------------------

// One task kind's accesses across links to one memory kind.
struct RemoteTask {
  const sim::TaskCost* cost = nullptr;
  std::vector<std::string> data;  // the arguments, most time first
  std::string memory;             // where they are
  std::string best;               // the memory the task's processors reach fastest
  double time_s = 0;
  bool stalls = false;  // mostly latency (gathers), not bandwidth
};

void remote_access(const Context& c, std::vector<Finding>& out) {
  Finding f;
  f.category = Category::RemoteAccess;
  std::vector<RemoteTask> tasks;
  std::vector<std::pair<int, std::string>> rules;  // Region rules that chose a remote memory, and the better one
  for (const sim::TaskCost& t : c.outcome().profile.costliest_tasks) {
    const auto proc_kind = kinds::parse_proc_kind(t.processor_kind);
    const auto best = proc_kind ? best_memory_kind(c.machine, *proc_kind) : std::nullopt;
    if (!best) continue;
    RemoteTask rt{&t, {}, "", std::string(kinds::to_string(*best)), 0, false};
    for (const sim::RemoteAccessCost& r : t.remote) {
      if (r.time_s <= 0 || r.memory == rt.best) continue;
      const double impact = std::min(window(c), per_processor(r.time_s, t.processors));
      const auto mem_kind = kinds::parse_mem_kind(r.memory);
      const double bw = mem_kind ? access_bandwidth(c.machine, *proc_kind, *mem_kind) : 0;
      if (bw > 0 && r.time_s > 2 * r.bytes / bw) rt.stalls = true;
      rt.time_s += r.time_s;
      rt.data.push_back(r.data);
      rt.memory = r.memory;
      f.impact_s += impact;
      f.hints.push_back(Hint{Action::Memory, t.task, r.data, r.memory, rt.best,
                             fmt::format("{} spends {} of its {} accessing {} in {}", t.task, seconds(r.time_s),
                                         seconds(t.total_s), r.data, r.memory),
                             impact});
      const mapping::TaskPlacement* tp = first_placement(c, t.task);
      const int line = tp && static_cast<size_t>(r.argument) < tp->args.size()
                           ? tp->args[static_cast<size_t>(r.argument)].memory_rule_line
                           : 0;
      if (line > 0 && std::none_of(rules.begin(), rules.end(), [&](const auto& x) { return x.first == line; }))
        rules.emplace_back(line, rt.best);
    }
    if (!rt.data.empty()) tasks.push_back(std::move(rt));
  }
  if (tasks.empty()) return;
  std::stable_sort(tasks.begin(), tasks.end(), [](const RemoteTask& a, const RemoteTask& b) {
    return per_processor(a.time_s, a.cost->processors) > per_processor(b.time_s, b.cost->processors);
  });

  // One sentence for the tasks that access the same data in the same memory as the worst one.
  const RemoteTask& worst = tasks.front();
  std::vector<std::string> who;
  bool stalls = false;
  int64_t others = 0;  // tasks like these beyond the two named
  for (const RemoteTask& t : tasks) {
    if (t.data != worst.data || t.memory != worst.memory || t.cost->processor_kind != worst.cost->processor_kind)
      continue;
    stalls = stalls || t.stalls;
    if (who.size() == 2) {
      ++others;
      continue;
    }
    who.push_back(fmt::format("{} {} of its {}", t.cost->task,
                              who.empty() ? "spends " + percent(t.time_s / std::max(t.cost->total_s, 1e-12))
                                          : percent(t.time_s / std::max(t.cost->total_s, 1e-12)),
                              seconds(t.cost->total_s)));
  }
  if (others > 0) who.push_back(fmt::format("{} as much", plural(others, "other task", "other tasks")));
  const std::string& kind = worst.cost->processor_kind;
  const auto proc_kind = kinds::parse_proc_kind(kind);
  const auto mem = kinds::parse_mem_kind(worst.memory);
  const auto best = kinds::parse_mem_kind(worst.best);
  const double bw = proc_kind && mem ? access_bandwidth(c.machine, *proc_kind, *mem) : 0;
  const double best_bw = proc_kind && best ? access_bandwidth(c.machine, *proc_kind, *best) : 0;
  f.explanation = fmt::format("{} accessing {} in {}{}{}.", join(who), join(worst.data), memory_words(worst.memory),
                              bw > 0 && best_bw > 0 ? fmt::format(", which a {} reaches at {} against {} in {}", kind,
                                                                  gbps(bw), gbps(best_bw), worst.best)
                                                    : "",
                              stalls ? ", mostly waiting on the round trips of irregular (gather) accesses" : "");
  f.explanation +=
      fmt::format(" In all, remote accesses cost about {} of the {} run.", seconds(f.impact_s), seconds(window(c)));

  // The edit: change the rules that chose the remote memory, or add rules for the worst task.
  std::vector<std::string> changes;
  for (const auto& [line, to] : rules)
    if (std::string change = rule_change(c, line, worst.memory, to); !change.empty()) changes.push_back(change);
  std::vector<std::string> added;
  for (const std::string& d : worst.data)
    added.push_back(fmt::format("`Region {} {} {} {};`", worst.cost->task, d, kind, worst.best));
  if (!changes.empty()) {
    f.suggestions.push_back(
        fmt::format("put {} in {}: change {}", join(worst.data), memory_words(worst.best), join(changes)));
    f.suggestions.push_back(fmt::format("or only for {}: {}", worst.cost->task, join(added)));
  } else {
    f.suggestions.push_back(fmt::format("put {} in {}: {}", join(worst.data), memory_words(worst.best), join(added)));
  }
  out.push_back(std::move(f));
}

// ---- Copies on the critical path -------------------------------------------------------

// The task kinds that write `data` (an argument name), other than `except`.
std::vector<std::string> writers_of(const Context& c, const std::string& data, const std::string& except) {
  std::vector<std::string> out;
  for (const program::Launch& l : c.program.launches) {
    const std::string& name = c.program.task_of(l).name;
    if (name == except || std::find(out.begin(), out.end(), name) != out.end()) continue;
    for (const program::RegionArg& a : l.args) {
      const auto names = c.program.arg_names(a);
      if (std::find(names.begin(), names.end(), data) == names.end()) continue;
      if (a.any(program::Privilege::RW) || a.any(program::Privilege::WO) || a.any(program::Privilege::RED)) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

// Placement hints that keep `task` with the data it receives by copies of `data`.
void keep_together(const Context& c, const std::string& task, const std::string& data, double impact, Finding& f) {
  const program::Launch* l = first_launch(c, task);
  if (!l || !c.plan) return;
  const std::string current = placement_family(c, *l);
  // A nested task whose parent runs on a processor of its own kind can run on that very one.
  const auto points = c.graph.of_launch(l->id);
  const program::PointTaskId parent =
      points.empty() ? program::PointTaskId{} : c.graph.tasks[points.front().index()].parent;
  const bool same_kind =
      parent.valid() && c.plan->tasks[parent.index()].kind == c.plan->tasks[points.front().index()].kind;
  if (same_kind && current != "parent") {
    const std::string kind(kinds::to_string(c.plan->tasks[points.front().index()].kind));
    const std::string space = space_name(kind);
    f.hints.push_back(
        Hint{Action::Placement, task, "", current, "parent",
             fmt::format("{} receives {} by copies; on its parent's processor it finds the data there", task, data),
             impact});
    f.suggestions.push_back(
        fmt::format("run {} on its parent's processor: `{} = Machine({});`, `def same_point(Task task) {{ return "
                    "{}[*task.parent.processor({})]; }}` and `{} {} same_point;`",
                    task, space, kind, space, space,
                    l->kind == program::LaunchKind::Index ? "IndexTaskMap" : "SingleTaskMap", task));
    return;
  }
  if (l->kind != program::LaunchKind::Index) return;
  // Place it as the tasks that write the data are placed, so each piece stays where it is.
  for (const std::string& writer : writers_of(c, data, task)) {
    const program::Launch* w = first_launch(c, writer);
    if (!w || w->kind != program::LaunchKind::Index || w->domain != l->domain) continue;
    const mapping::TaskPlacement* mine = first_placement(c, task);
    const mapping::TaskPlacement* theirs = first_placement(c, writer);
    if (!mine || !theirs || mine->kind != theirs->kind) continue;  // families over other processors do not compare
    const std::string family = placement_family(c, *w);
    if (family.empty() || family == current || family == "parent") continue;
    const mapping::TaskPlacement* wp = first_placement(c, writer);
    const std::string function = wp ? placement_function(c, wp->placement_rule_line) : "";
    f.hints.push_back(Hint{Action::Placement, task, "", current, family,
                           fmt::format("{} writes {} with a {} placement; placing {} the same way keeps each piece "
                                       "where it is used",
                                       writer, data, family, task),
                           impact});
    f.suggestions.push_back(
        function.empty()
            ? fmt::format("place {} as {} is placed ({}), so that each point finds its piece of {} in place", task,
                          writer, family, data)
            : fmt::format("place {} as {} is placed, so that each point finds its piece of {} in place: "
                          "`IndexTaskMap {} {};`",
                          task, writer, data, task, function));
    return;
  }
  // A simple family where a better one is known: 1-D cyclic -> block (neighbours together),
  // multi-dimensional block or cyclic -> auto_split (blocks shaped like the launch).
  std::string to;
  if (l->domain.dim == 1 && current == "cyclic") to = "block";
  if (l->domain.dim > 1 && (current == "block" || current == "cyclic")) to = "auto_split";
  if (to.empty()) return;
  // A launch whose points reduce into shared pieces, each piece's reducers on one node now:
  // a split shaped like the launch can put them on different nodes (COSMA's expert with the
  // auto_split form on 4 Lassen nodes: 28.1 s against 16.3 s), so the change comes with that
  // warning.
  std::string caution;
  for (size_t a = 0; a < l->args.size() && caution.empty(); ++a) {
    if (!l->args[a].any(program::Privilege::RED)) continue;
    std::map<int64_t, std::pair<std::set<int>, int>> of_piece;  // piece -> (nodes of its reducers, reducers)
    for (program::PointTaskId t : points) {
      auto& [nodes, reducers] = of_piece[piece_of(c, t, a)];
      nodes.insert(c.machine.processor(c.plan->tasks[t.index()].processor).node);
      ++reducers;
    }
    bool shared = false, on_one_node = true;
    for (const auto& [piece, use] : of_piece) {
      on_one_node = on_one_node && use.first.size() == 1;
      shared = shared || use.second > 1;
    }
    if (shared && on_one_node && c.machine.nodes() > 1)
      caution = fmt::format(
          "; but {} reduces into {}, and each piece's reducers now run on one node: a split that puts them on "
          "different nodes makes their partial sums fold over the network every iteration",
          task, data_name(c, l->args[a]));
  }
  f.hints.push_back(
      Hint{Action::Placement, task, "", current, to,
           fmt::format("{} receives {} by copies; a {} placement keeps neighbouring pieces together", task, data, to),
           impact});
  f.suggestions.push_back(
      to == "block" ? fmt::format("place {} in blocks over the nodes, then a node's processors, so that neighbouring "
                                  "pieces stay together",
                                  task)
                    : fmt::format("place {} with the two-level auto_split form of DSL.md, so that each processor gets "
                                  "a block shaped like the launch and communicating pieces stay together{}",
                                  task, caution));
}

// The argument of `task`'s first launch that names `data` (a partition or region) with an
// access satisfying `wanted`; -1 when there is none.
template <typename Wanted>
int argument_naming(const Context& c, const program::Launch& l, const std::string& data, Wanted&& wanted) {
  for (size_t a = 0; a < l.args.size(); ++a) {
    if (data_name(c, l.args[a]) == data && wanted(l.args[a])) return static_cast<int>(a);
  }
  return -1;
}

// Folds of a reduction instance into the valid data on another processor: the points of
// one launch that reduce into one piece ran on different processors. Keeping them on one
// processor removes the folds and serialises them; say which costs more, and how.
void folds(const Context& c, const sim::CopyCost& cc, double on_path_s, Finding& f) {
  const program::Launch* l = first_launch(c, cc.for_task);
  if (!l || !c.plan) return;
  const int a =
      argument_naming(c, *l, cc.data, [](const program::RegionArg& ra) { return ra.any(program::Privilege::RED); });
  if (a < 0) return;
  // Reducers per piece, the processors they ran on, and the point coordinates they differ in.
  std::map<int64_t, std::vector<program::PointTaskId>> by_piece;
  std::set<int64_t> processors;
  const auto points = c.graph.of_launch(l->id);
  for (program::PointTaskId t : points) {
    by_piece[piece_of(c, t, static_cast<size_t>(a))].push_back(t);
    processors.insert(c.plan->tasks[t.index()].processor.index());
  }
  if (by_piece.empty() || points.size() < 2) return;
  size_t reducers = 0;
  std::set<int> differ;
  for (const auto& [piece, ts] : by_piece) {
    reducers = std::max(reducers, ts.size());
    const program::Point& first = c.graph.tasks[ts.front().index()].point;
    for (program::PointTaskId t : ts)
      for (int d = 0; d < first.dim; ++d)
        if (c.graph.tasks[t.index()].point[d] != first[d]) differ.insert(d);
  }
  if (reducers < 2) return;
  const auto cost = std::find_if(c.outcome().profile.costliest_tasks.begin(), c.outcome().profile.costliest_tasks.end(),
                                 [&](const sim::TaskCost& t) { return t.task == cc.for_task; });
  const kinds::ProcKind kind = c.plan->tasks[points.front().index()].kind;
  const std::string kind_name(kinds::to_string(kind));
  const auto available = static_cast<int64_t>(c.machine.processors_of(kind).size());
  const auto pieces = static_cast<int64_t>(by_piece.size());
  const auto n = static_cast<int64_t>(points.size());
  std::string coordinates;
  for (int d : differ) coordinates += fmt::format("{}task.ipoint[{}]", coordinates.empty() ? "" : ", ", d);
  const std::string group = fmt::format(
      "the {} points of {} that reduce into one piece of {} on one {} (a placement function that ignores {})", reducers,
      cc.for_task, cc.data, kind_name, coordinates.empty() ? "the coordinates they differ in" : coordinates);
  if (cost == c.outcome().profile.costliest_tasks.end() || cost->count == 0) {
    f.suggestions.push_back(fmt::format("place {}: they then add into one reduction instance with no fold", group));
    return;
  }
  // A launch's time on its processors now and with the reducers of a piece together.
  const double per_point = cost->total_s / static_cast<double>(cost->count);
  const double launches = static_cast<double>(cost->count) / static_cast<double>(n);
  const auto rounds = [&](int64_t procs) {
    return static_cast<double>((n + std::max<int64_t>(procs, 1) - 1) / std::max<int64_t>(procs, 1));
  };
  const int64_t now_procs = std::min<int64_t>(static_cast<int64_t>(processors.size()), available);
  const int64_t then_procs = std::min(available, pieces);
  const double now = per_point * rounds(now_procs) * launches, then = per_point * rounds(then_procs) * launches;
  // The data the launch reads, per launch: a piece of a read-only argument goes once to each
  // processor that reads it, now and with each piece's reducers together (one processor per
  // piece of the reduced data); against the bytes the folds move now.
  double read_now = 0, read_then = 0, folded = 0;
  for (size_t b = 0; b < l->args.size(); ++b) {
    const program::RegionArg& ra = l->args[b];
    if (!ra.only(program::Privilege::RO) || c.plan->tasks[points.front().index()].args[b].is_virtual) continue;
    std::set<std::pair<int64_t, int64_t>> now_pairs, then_pairs;  // (piece read, processor or group)
    for (program::PointTaskId t : points) {
      now_pairs.insert({piece_of(c, t, b), c.plan->tasks[t.index()].processor.index()});
      then_pairs.insert({piece_of(c, t, b), piece_of(c, t, static_cast<size_t>(a))});
    }
    for (const auto& [piece, where] : now_pairs) read_now += piece_bytes(c, ra, piece);
    for (const auto& [piece, where] : then_pairs) read_then += piece_bytes(c, ra, piece);
  }
  for (const auto& [piece, ts] : by_piece) {
    std::set<int64_t> on;
    for (program::PointTaskId t : ts) on.insert(c.plan->tasks[t.index()].processor.index());
    folded += static_cast<double>(on.size() - 1) * piece_bytes(c, l->args[static_cast<size_t>(a)], piece);
  }
  std::vector<std::string> inputs;
  for (size_t b = 0; b < l->args.size(); ++b)
    if (l->args[b].only(program::Privilege::RO) && !c.plan->tasks[points.front().index()].args[b].is_virtual)
      inputs.push_back(data_name(c, l->args[b]));
  if (then - now <= on_path_s && read_then - read_now > folded) {
    f.suggestions.push_back(fmt::format(
        "keep the folds of {}: placing {} would avoid them ({} per launch), but its points would then read {} "
        "more of {} per launch from other {}s",
        cc.data, group, bytes(folded), bytes(read_then - read_now), join(inputs), kind_name));
    return;
  }
  if (then - now > on_path_s) {
    f.suggestions.push_back(fmt::format(
        "keep the folds of {}: they are the price of splitting each piece's reduction over {} {}s. Placing {} "
        "would avoid them, but only {} of the {} {}s would have work ({} pieces): {} would take about {} per {} "
        "instead of {}, more than the {} the folds add to the critical path",
        cc.data, reducers, kind_name, group, then_procs, available, kind_name, pieces, cc.for_task, seconds(then),
        kind_name, seconds(now), seconds(on_path_s)));
    return;
  }
  f.suggestions.push_back(fmt::format(
      "place {}: they then add into one reduction instance with no fold, which saves up to the {} the folds add "
      "to the critical path; {} would take about {} per {} ({} now)",
      group, seconds(on_path_s), cc.for_task, seconds(then), kind_name, seconds(now)));
}

// How widely `task` shares the pieces of `data` it reads: per piece, the processors and the
// nodes of its points that read it, averaged over the pieces (0 when it reads none).
struct Sharing {
  double processors = 0, nodes = 0;
  std::string kind;  // of the readers' processors: "GPU"
};
Sharing sharing(const Context& c, const std::string& task, const std::string& data) {
  if (!c.plan) return {};
  std::map<int64_t, std::pair<std::set<int64_t>, std::set<int>>> readers;  // piece -> (processors, nodes)
  std::string out_kind;
  for (program::PointTaskId t : points_of(c, task)) {
    const program::Launch& l = c.program.launches[c.graph.tasks[t.index()].launch.index()];
    for (size_t a = 0; a < l.args.size(); ++a) {
      if (!l.args[a].only(program::Privilege::RO) || data_name(c, l.args[a]) != data) continue;
      auto& [procs, nodes] = readers[piece_of(c, t, a)];
      if (out_kind.empty()) out_kind = std::string(kinds::to_string(c.plan->tasks[t.index()].kind));
      procs.insert(c.plan->tasks[t.index()].processor.index());
      nodes.insert(c.machine.processor(c.plan->tasks[t.index()].processor).node);
    }
  }
  Sharing out;
  out.kind = out_kind;
  for (const auto& [piece, who] : readers) {
    out.processors += static_cast<double>(who.first.size());
    out.nodes += static_cast<double>(who.second.size());
  }
  if (!readers.empty()) {
    out.processors /= static_cast<double>(readers.size());
    out.nodes /= static_cast<double>(readers.size());
  }
  return out;
}

// Where the points of `writer`, an index launch writing (WO) pieces of the region that
// `reader` uses as `data`, would put each piece where `reader` first uses it: per point, the
// processor of the reader's earliest use of (any of) its piece, found by the blocks they
// share, so that another partition of the region counts too (Solomonik's tiles, read as
// chunks). `read_only`: only the reader's read-only uses count. None when some piece has no
// such use, or (unless `in_turn`) is first used on several processors at once.
struct FirstUse {
  const program::Launch* launch = nullptr;
  std::vector<program::PointTaskId> points;  // of the writer's first launch
  std::vector<int64_t> target;               // by point: the processor's index
  std::string written;                       // the data the writer places: `data` or another partition's name
  bool already = false;                      // the writer places them so now
  bool in_turn = false;                      // some piece is first used on several processors (dealt out in turn)
};
std::optional<FirstUse> first_use(const Context& c, const std::string& writer, const std::string& data,
                                  const std::string& reader, bool read_only, bool in_turn = false) {
  const program::Launch* w = first_launch(c, writer);
  if (!w || !c.plan || w->kind != program::LaunchKind::Index) return std::nullopt;
  auto uses = [&](const program::RegionArg& a) {
    return data_name(c, a) == data && (read_only ? a.only(program::Privilege::RO) : !a.only(program::Privilege::NA));
  };
  std::optional<program::RegionId> region;  // the region `data` is a partition of (or is)
  for (program::PointTaskId t : points_of(c, reader)) {
    for (const program::RegionArg& a : c.program.launches[c.graph.tasks[t.index()].launch.index()].args)
      if (uses(a)) region = a.region;
    break;
  }
  int arg = -1;
  for (size_t a = 0; a < w->args.size(); ++a)
    if (region && w->args[a].only(program::Privilege::WO) && w->args[a].region == *region) arg = static_cast<int>(a);
  // Placed once, a piece's first use is in the warm-up and where it started no longer
  // matters: only a writer launched again (the drivers' loop) decides where every
  // iteration's first use finds its piece.
  if (launches_of(c.program, writer).size() < 2) return std::nullopt;
  FirstUse out;
  out.launch = w;
  out.points = c.graph.of_launch(w->id);
  if (arg < 0 || out.points.empty()) return std::nullopt;
  // block -> the earliest use of `data` holding it and the processors of its users at that
  // moment. A use's moment is its issue order: the launch and step of each ancestor, then
  // its own (a parent issues all its steps at once, so SUMMA's task_4 of step (ko, kio) comes
  // after every task_4 of step ko - 1, whatever kio).
  auto moment = [&](program::PointTaskId t) {
    std::vector<int64_t> key;
    for (; t.valid(); t = c.graph.tasks[t.index()].parent) {
      key.push_back(c.graph.tasks[t.index()].step);
      key.push_back(c.graph.tasks[t.index()].launch.index());
    }
    std::reverse(key.begin(), key.end());
    return key;
  };
  std::map<int32_t, std::pair<std::vector<int64_t>, std::set<int64_t>>> first;
  for (program::PointTaskId t : points_of(c, reader)) {
    const program::Launch& l = c.program.launches[c.graph.tasks[t.index()].launch.index()];
    const auto proc = static_cast<int64_t>(c.plan->tasks[t.index()].processor.index());
    std::optional<std::vector<int64_t>> when;
    for (size_t a = 0; a < l.args.size(); ++a) {
      if (!uses(l.args[a])) continue;
      if (!when) when = moment(t);
      for (const program::Span& s : c.program.spans_of(l.args[a], piece_of(c, t, a))) {
        const auto [it, fresh] = first.try_emplace(s.block, *when, std::set<int64_t>{proc});
        if (fresh || *when > it->second.first) continue;
        if (*when < it->second.first)
          it->second = {*when, {proc}};
        else
          it->second.second.insert(proc);
      }
    }
  }
  const program::RegionArg& wa = w->args[static_cast<size_t>(arg)];
  out.written = data_name(c, wa);
  out.already = true;
  const kinds::ProcKind kind = c.plan->tasks[out.points.front().index()].kind;
  // Pieces first used on several processors at once go to them in turn (in the writer's
  // point order): SUMMA's C(0, c) to the first GPU reading column c, C(1, c) to the second.
  std::map<std::set<int64_t>, size_t> turns;
  for (program::PointTaskId t : out.points) {
    const std::vector<int64_t>* when = nullptr;
    std::set<int64_t> procs;
    for (const program::Span& s : c.program.spans_of(wa, piece_of(c, t, static_cast<size_t>(arg)))) {
      const auto it = first.find(s.block);
      if (it == first.end()) continue;
      if (!when || it->second.first < *when) {
        when = &it->second.first;
        procs = it->second.second;
      } else if (it->second.first == *when) {
        procs.insert(it->second.second.begin(), it->second.second.end());
      }
    }
    if (procs.empty() || (procs.size() > 1 && !in_turn)) return std::nullopt;
    out.in_turn = out.in_turn || procs.size() > 1;
    const int64_t proc = *std::next(procs.begin(), static_cast<std::ptrdiff_t>(turns[procs]++ % procs.size()));
    // A processor of another kind than the writer's: not a placement of the writer as it runs.
    if (c.machine.processor(machine::ProcId(static_cast<int32_t>(proc))).kind != kind) return std::nullopt;
    out.target.push_back(proc);
    out.already = out.already && static_cast<int64_t>(c.plan->tasks[t.index()].processor.index()) == proc;
  }
  return out;
}

// How many of the writer's points `use` moves, and one of them: "8 of its 16 points put theirs
// on another processor now, e.g. point (0,2) on node 1 GPU 0 instead of node 0 GPU 2".
std::string moves(const Context& c, const FirstUse& use) {
  size_t moved = 0, example = use.points.size();
  for (size_t i = 0; i < use.points.size(); ++i) {
    if (static_cast<int64_t>(c.plan->tasks[use.points[i].index()].processor.index()) == use.target[i]) continue;
    ++moved;
    if (example == use.points.size()) example = i;
  }
  if (example == use.points.size()) return "none of its points moves";
  const program::PointTaskId at = use.points[example];
  return fmt::format("{} of its {} points put theirs on another processor now, e.g. point {} on {} instead of {}",
                     moved, use.points.size(), program::to_string(c.graph.tasks[at.index()].point),
                     c.machine.name(machine::ProcId(static_cast<int32_t>(use.target[example]))),
                     c.machine.name(c.plan->tasks[at.index()].processor));
}

// The skew placement (tune's family `skew A+B` / `A-B`: coordinate A (0 or 1) shifted by
// coordinate B modulo its extent, the launch then linearised row-major and blocked over the
// processors of its kind) of a 2-D or 3-D writer that puts its pieces as `use` wants them:
// Cannon's initial skew, and Solomonik's on its (r, r, 1) placement launches.
struct Skew {
  std::string label;  // tune's choice: "skew 1+0"
  int axis = 1;       // the coordinate shifted, by the other one
};
std::optional<Skew> skew_for(const Context& c, const FirstUse& use) {
  const program::Launch& w = *use.launch;
  if (use.already || use.in_turn || w.domain.dim < 2 || w.domain.dim > 3) return std::nullopt;
  const std::vector<machine::ProcId> procs = c.machine.processors_of(c.plan->tasks[use.points.front().index()].kind);
  const int64_t e0 = w.domain.extent[0], e1 = w.domain.extent[1], e2 = w.domain.dim > 2 ? w.domain.extent[2] : 1;
  if (procs.empty() || e0 * e1 * e2 <= 0) return std::nullopt;
  for (const auto& [axis, sign] : std::vector<std::pair<int, int>>{{1, 1}, {1, -1}, {0, 1}, {0, -1}}) {
    bool all = true;
    for (size_t i = 0; i < use.points.size() && all; ++i) {
      const program::Point& q = c.graph.tasks[use.points[i].index()].point;
      int64_t x = q[0], y = q[1];
      const int64_t z = w.domain.dim > 2 ? q[2] : 0;
      if (axis == 1) y = ((y + sign * x) % e1 + e1) % e1;
      if (axis == 0) x = ((x + sign * y) % e0 + e0) % e0;
      const int64_t k = ((x * e1 + y) * e2 + z) * static_cast<int64_t>(procs.size()) / (e0 * e1 * e2);
      all = static_cast<int64_t>(procs[static_cast<size_t>(k)].index()) == use.target[i];
    }
    if (all) return Skew{fmt::format("skew {}{}{}", axis, sign > 0 ? '+' : '-', 1 - axis), axis};
  }
  return std::nullopt;
}

// The name of the region whose data `task` reads as `data` ("" if it reads none).
std::string region_read_as(const Context& c, const std::string& task, const std::string& data) {
  for (const program::Launch* l : launches_of(c.program, task))
    for (const program::RegionArg& a : l->args)
      if (data_name(c, a) == data) return c.program.regions[a.region.index()].name;
  return "";
}

void copies(const Context& c, std::vector<Finding>& out) {
  const sim::Profile& p = c.outcome().profile;
  const sim::CriticalPath& cp = p.critical_path;
  if (cp.copy_s <= 0 || p.costliest_copies.empty()) return;
  Finding f;
  f.category = Category::Copies;
  f.impact_s = std::max(0.0, cp.copy_s - cp.limit_cost_s);  // copies an instance limit delayed are its cost
  std::vector<std::string> named;
  std::vector<std::string> for_tasks;
  double all = 0;
  for (const sim::CopyCost& cc : p.costliest_copies) all += cc.total_s;
  // What a placement that avoids a task's copies can save: their channel time shared by the
  // processors of the task, or, when those processors idle, their idle time in proportion
  // to that task's share of all copies (waiting for its data is what idles them).
  auto avoidable = [&](const std::string& task) {
    double mine = 0;
    for (const sim::CopyCost& cc : p.costliest_copies)
      if (cc.for_task == task) mine += cc.total_s;
    const auto it = std::find_if(p.costliest_tasks.begin(), p.costliest_tasks.end(),
                                 [&](const sim::TaskCost& t) { return t.task == task; });
    if (it == p.costliest_tasks.end()) return mine;
    const auto kind = kinds::parse_proc_kind(it->processor_kind);
    const auto count = kind ? c.machine.processors_of(*kind).size() : 0;
    double busy = 0;
    for (const sim::ProcessorUse& u : p.processors)
      if (u.kind == it->processor_kind) busy += u.busy_fraction;
    const double idle = count > 0 ? window(c) * std::max(0.0, 1 - busy / static_cast<double>(count)) : 0;
    return std::max(per_processor(mine, it->processors), idle * mine / std::max(all, 1e-12));
  };
  bool only_folds = true;
  bool placed = false;  // a placement proposed for the copies that are not folds
  for (const sim::CopyCost& cc : p.costliest_copies) {
    if (named.size() == 3 || cc.total_s < 0.05 * all) break;
    const double on_path = cp.copy_s * cc.total_s / std::max(all, 1e-12);
    named.push_back(fmt::format("{} {}{} -> {}{} ({} in {}, {})", cc.data, cc.reduction ? "partial sums folded " : "",
                                cc.from, cc.to, cc.inter_node ? " between nodes" : "", bytes(cc.bytes),
                                plural(cc.count, cc.reduction ? "fold" : "copy", cc.reduction ? "folds" : "copies"),
                                seconds(cc.total_s)));
    if (std::find(for_tasks.begin(), for_tasks.end(), cc.for_task) == for_tasks.end()) for_tasks.push_back(cc.for_task);
    // A fold applies partial sums: no placement like the data's writers avoids it.
    if (cc.reduction) {
      folds(c, cc, on_path, f);
      continue;
    }
    only_folds = false;
    const double impact = std::min(window(c), std::max(on_path, avoidable(cc.for_task)));
    const size_t before = f.suggestions.size();
    keep_together(c, cc.for_task, cc.data, impact, f);
    placed |= f.suggestions.size() > before;
  }
  for (const Hint& h : f.hints) f.impact_s = std::max(f.impact_s, h.impact_s);
  if (named.empty()) return;
  f.explanation = fmt::format("The critical path waits {} of its {} for copies: {}, for {}.", seconds(cp.copy_s),
                              seconds(cp.length_s), join(named), join(for_tasks));
  if (!placed && !only_folds) {
    // No rule to propose: data that several processors read is copied to all but one of them
    // wherever it is placed (a broadcast or a shift of the algorithm); for the rest, say which
    // tasks put the data where it is copied from.
    std::vector<std::string> data, writers, shared, shared_names;
    for (size_t i = 0; i < named.size() && i < p.costliest_copies.size(); ++i) {
      const sim::CopyCost& cc = p.costliest_copies[i];
      if (cc.reduction) continue;
      if (std::find(data.begin(), data.end(), cc.data) != data.end() ||
          std::find(shared_names.begin(), shared_names.end(), cc.data) != shared_names.end())
        continue;
      const Sharing sh = sharing(c, cc.for_task, cc.data);
      if (sh.processors >= 2) {
        shared_names.push_back(cc.data);
        shared.push_back(fmt::format(
            "{} ({} reads each piece on {:.3g} {}s{}, on average)", cc.data, cc.for_task, sh.processors, sh.kind,
            c.machine.nodes() > 1 ? fmt::format(" of {:.3g} node{}", sh.nodes, sh.nodes == 1 ? "" : "s") : ""));
        continue;
      }
      data.push_back(cc.data);
      for (const std::string& w : writers_of(c, cc.data, cc.for_task))
        if (std::find(writers.begin(), writers.end(), w) == writers.end()) writers.push_back(w);
    }
    if (!shared.empty())
      f.suggestions.push_back(fmt::format(
          "the copies of {} are the algorithm's: a piece read on several processors is copied to all but one of "
          "them wherever it is placed; they shrink only by running a piece's readers together (less parallelism) "
          "and cost less where they overlap computing (more tasks mapped ahead, memory permitting)",
          join(shared)));
    // But the first reader of each piece can find it in place: where the placement tasks'
    // pieces go as the first step reads them (Cannon's initial skew), that step copies nothing.
    // The placement tasks may write the region as another partition (Solomonik's tiles,
    // read as chunks): the writers of the whole region are candidates.
    for (size_t i = 0; i < shared_names.size(); ++i)
      for (const std::string& w :
           writers_of(c, region_read_as(c, for_tasks.front(), shared_names[i]), for_tasks.front())) {
        const std::optional<FirstUse> use = first_use(c, w, shared_names[i], for_tasks.front(), true, true);
        const std::optional<Skew> skew = use ? skew_for(c, *use) : std::nullopt;
        if (!skew) {
          // No skew: each piece on (one of) the processors that first read it, in turn where
          // several read it at once (SUMMA's tiles of C down a node's GPU column).
          if (use && !use->already && use->written == shared_names[i]) {
            f.hints.push_back(Hint{Action::Placement, w, "", placement_family(c, *use->launch),
                                   "places " + mapping::placement_digest(use->target),
                                   fmt::format("{} then puts each piece of {} on a processor where {} first reads it",
                                               w, shared_names[i], for_tasks.front()),
                                   cp.copy_s / static_cast<double>(shared_names.size())});
            f.suggestions.push_back(fmt::format(
                "place {}'s points so that each piece of {} starts on a processor where {} first reads it (in turn "
                "where several read it at once): {}",
                w, shared_names[i], for_tasks.front(), moves(c, *use)));
          }
          continue;
        }
        const program::Launch* wl = first_launch(c, w);
        const std::string what = use->written == shared_names[i]
                                     ? use->written
                                     : fmt::format("{} (read as {})", use->written, shared_names[i]);
        f.hints.push_back(
            Hint{Action::Placement, w, "", wl ? placement_family(c, *wl) : "", skew->label,
                 fmt::format("{} then puts each piece of {} where {} first reads it", w, what, for_tasks.front()),
                 cp.copy_s / static_cast<double>(shared_names.size())});
        f.suggestions.push_back(fmt::format(
            "place {}'s points with a skew ({}: coordinate {} shifted by coordinate {}), so that each piece of {} "
            "starts where {} first reads it and the first step of every iteration copies none of it",
            w, skew->label, skew->axis, 1 - skew->axis, what, for_tasks.front()));
      }
    // Pieces one processor uses that their placement task puts elsewhere: that task placed
    // as the first use of each piece wants (a rule of the search space that places so is
    // named by the placement's digest; the suggestion shows an example point).
    for (const std::string& d : data)
      for (const std::string& w : writers_of(c, region_read_as(c, for_tasks.front(), d), for_tasks.front())) {
        const std::optional<FirstUse> use = first_use(c, w, d, for_tasks.front(), false);
        if (!use || use->already || use->written != d) continue;
        f.hints.push_back(
            Hint{Action::Placement, w, "", placement_family(c, *use->launch),
                 "places " + mapping::placement_digest(use->target),
                 fmt::format("{} then puts each piece of {} where {} first uses it", w, d, for_tasks.front()),
                 cp.copy_s / static_cast<double>(std::max<size_t>(data.size(), 1))});
        f.suggestions.push_back(fmt::format("place {}'s points where {} first uses their pieces of {}: {}", w,
                                            for_tasks.front(), d, moves(c, *use)));
      }
    if (!data.empty())
      f.suggestions.push_back(fmt::format(
          "keep communicating pieces together: {} {} written by {}; place {}'s points on the processors that hold "
          "the pieces they read, or place those pieces where {} reads them",
          join(data), data.size() == 1 ? "is" : "are", writers.empty() ? "earlier tasks" : join(writers),
          join(for_tasks), join(for_tasks)));
  }
  out.push_back(std::move(f));
}

// ---- Several points on one processor ---------------------------------------------------

void load_imbalance(const Context& c, std::vector<Finding>& out) {
  const sim::Profile& p = c.outcome().profile;
  Finding f;
  f.category = Category::LoadImbalance;
  std::map<std::pair<int, std::string>, std::vector<std::string>> by_rule;  // (placement rule, kind) -> tasks
  for (const sim::TaskCost& t : p.costliest_tasks) {
    const auto kind = kinds::parse_proc_kind(t.processor_kind);
    if (!kind) continue;
    const auto available = static_cast<int64_t>(c.machine.processors_of(*kind).size());
    const int64_t useful = std::min(available, points_per_launch(c, t.task));
    if (t.processors >= useful || useful < 2) continue;
    const double now = per_processor(t.total_s, t.processors);
    const double then = per_processor(t.total_s, useful);
    const double saving = std::min(window(c), now - then);
    if (saving <= 0) continue;
    if (f.hints.empty()) {
      // The worst task explains: the busiest processor of its kind, and how many did nothing.
      const sim::ProcessorUse* busiest = nullptr;
      int64_t used = 0;
      for (const sim::ProcessorUse& u : p.processors) {
        if (u.kind != t.processor_kind) continue;
        ++used;
        if (!busiest || u.busy_fraction > busiest->busy_fraction) busiest = &u;
      }
      f.explanation = fmt::format(
          "{}'s {} points per launch run on only {} of the {} {}s, one after another{}; {} {}{} did no work in the "
          "timed iterations.",
          t.task, points_per_launch(c, t.task), t.processors, available, t.processor_kind,
          busiest ? fmt::format(" ({} is {} busy with {} tasks)", busiest->processor, percent(busiest->busy_fraction),
                                busiest->tasks)
                  : "",
          available - used, t.processor_kind, available - used == 1 ? "" : "s");
    }
    f.impact_s = std::max(f.impact_s, saving);  // the tasks run one after another: the worst bounds the gain
    const program::Launch* l = first_launch(c, t.task);
    const std::string current = l ? placement_family(c, *l) : "";
    // A single launch nested in an index launch: its points spread with its parent's, one per parent
    // point, by running on the parent's processor.
    const bool nested_single = l && l->kind == program::LaunchKind::Single && l->parent.valid();
    f.hints.push_back(Hint{Action::Placement, t.task, "", current, nested_single ? "parent" : "block",
                           fmt::format("{} uses {} of {} {}s; spread over {} it takes about {} instead of {}", t.task,
                                       t.processors, available, t.processor_kind, useful, seconds(then), seconds(now)),
                           saving});
    const mapping::TaskPlacement* tp = first_placement(c, t.task);
    by_rule[{tp ? tp->placement_rule_line : 0, t.processor_kind}].push_back(t.task);
  }
  if (f.hints.empty()) return;
  for (const auto& [key, tasks] : by_rule) {
    const auto& [rule, kind] = key;
    const auto available = c.machine.processors_of(*kinds::parse_proc_kind(kind)).size();
    f.suggestions.push_back(fmt::format(
        "spread the points of {} over all {} {}s, in blocks over the nodes then each node's processors (point i on "
        "`m[i / m.size[1], i % m.size[1]]`){}",
        join(tasks), available, kind, rule > 0 ? fmt::format(" instead of the rule {}", rule_at(c, rule)) : ""));
  }
  out.push_back(std::move(f));
}

// ---- InstanceLimit ---------------------------------------------------------------------

void instance_limit(const Context& c, std::vector<Finding>& out) {
  const sim::Profile& p = c.outcome().profile;
  const double on_path = p.critical_path.limit_cost_s;
  double waited = 0;
  for (const sim::TaskCost& t : p.costliest_tasks) waited += t.limit_wait_s;
  if (on_path <= 0 || waited <= 0 || !c.plan) return;
  // The fullest memory: room for more tasks mapped ahead?
  const sim::MemoryPeak* fullest = nullptr;
  auto fraction = [](const sim::MemoryPeak& m) {
    return m.capacity_bytes ? static_cast<double>(m.peak_bytes) / static_cast<double>(m.capacity_bytes) : 0.0;
  };
  for (const sim::MemoryPeak& m : p.memories)
    if (!fullest || fraction(m) > fraction(*fullest)) fullest = &m;
  const double full = fullest ? fraction(*fullest) : 0;
  for (const sim::TaskCost& t : p.costliest_tasks) {
    if (t.limit_wait_s <= 0) continue;
    const auto id = c.program.find_task(t.task);
    if (!id) continue;
    const auto& limit = c.plan->task_kinds[(*id).index()].instance_limit;
    if (!limit) continue;
    const double impact = std::min(window(c), on_path * t.limit_wait_s / waited);
    // What `limit` more tasks mapped ahead would need at least: a point's instances, each.
    double footprint = 0;
    const auto points = points_of(c, t.task);
    if (!points.empty()) {
      const program::PointTaskId first = points.front();
      const program::Launch& l = c.program.launches[c.graph.tasks[first.index()].launch.index()];
      for (size_t a = 0; a < l.args.size(); ++a) {
        if (c.plan->tasks[first.index()].args[a].is_virtual) continue;
        footprint += piece_bytes(c, l.args[a], piece_of(c, first, a));
      }
    }
    const double room =
        fullest ? static_cast<double>(fullest->capacity_bytes) - static_cast<double>(fullest->peak_bytes) : 0;
    const bool fits = full < 0.5 || static_cast<double>(*limit) * footprint <= room;
    const std::string to = full < 0.5 ? "none" : std::to_string(*limit * 2);
    Finding f;
    f.category = Category::InstanceLimit;
    f.impact_s = impact;
    f.explanation = fmt::format(
        "`InstanceLimit {} {}` holds {}'s point tasks back: they waited {} in all before being mapped, so their "
        "copies could not overlap earlier tasks, which delayed the critical path by about {}; memory peaks at {} of "
        "{}.",
        t.task, *limit, t.task, seconds(t.limit_wait_s), seconds(impact), percent(full),
        fullest ? fullest->memory : "the fullest memory");
    if (!fits) {
      // It may still fit: collecting read-only copies under pressure can make room (Solomonik's
      // expert on 64 Lassen nodes, 97% full, runs 1.4x faster with the limit doubled; COSMA's
      // expert there, 81% full, runs out of memory).
      f.suggestions.push_back(fmt::format(
          "raise the limit with care: `InstanceLimit {} {};` maps {} more {} ahead, about {}, where {} has {} free at "
          "its peak ({} full): it fits only if read-only copies can be collected to make room, otherwise the run "
          "runs out of memory",
          t.task, to, *limit, *limit == 1 ? t.task : t.task + "s", bytes(static_cast<double>(*limit) * footprint),
          fullest->memory, bytes(std::max(room, 0.0)), percent(full)));
    } else {
      f.suggestions.push_back(
          to == "none"
              ? fmt::format("remove `InstanceLimit {} {};`: memory has room for more tasks mapped ahead", t.task,
                            *limit)
              : fmt::format("raise the limit: `InstanceLimit {} {};` (memory peaks at {})", t.task, to, percent(full)));
    }
    f.hints.push_back(Hint{Action::InstanceLimit, t.task, "", std::to_string(*limit), to,
                           fmt::format("{}'s tasks waited {} for the limit; the fullest memory is {} full", t.task,
                                       seconds(t.limit_wait_s), percent(full)),
                           impact});
    out.push_back(std::move(f));
  }
}

// ---- A critical path made of waiting ---------------------------------------------------

void waiting(const Context& c, std::vector<Finding>& out) {
  const sim::CriticalPath& cp = c.outcome().profile.critical_path;
  if (cp.length_s <= 0 || cp.task_s >= 0.5 * cp.length_s) return;
  Finding f;
  f.category = Category::Waiting;
  f.impact_s = cp.length_s - cp.task_s;
  // The longest waits, by task kind and what the step waited for last.
  struct Wait {
    double s = 0;
    int64_t steps = 0;
  };
  std::map<std::pair<std::string, std::string>, Wait> waits;
  for (const sim::PathStep& s : cp.steps) {
    if (s.wait_s <= 0 || s.waited_for.empty()) continue;
    Wait& w = waits[{s.task.substr(0, s.task.find(' ')), s.waited_for}];
    w.s += s.wait_s;
    ++w.steps;
  }
  std::vector<std::pair<std::pair<std::string, std::string>, Wait>> sorted(waits.begin(), waits.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.s > b.second.s; });
  std::string longest;
  if (!sorted.empty())
    longest = fmt::format(
        "; the longest waits are {}'s: {} in all before starting, in {} of the last {} steps of the path "
        "(waiting last for {})",
        sorted[0].first.first, seconds(sorted[0].second.s), sorted[0].second.steps, cp.steps.size(),
        sorted[0].first.second);
  std::vector<std::string> parts;
  const auto& copies = c.outcome().profile.costliest_copies;
  if (cp.copy_s > 0)
    parts.push_back(fmt::format(
        "{} for copies{}", seconds(cp.copy_s),
        copies.empty() ? ""
                       : fmt::format(" (the costliest: {} {} -> {}{}, {} in {})", copies[0].data, copies[0].from,
                                     copies[0].to, copies[0].inter_node ? " between nodes" : "", bytes(copies[0].bytes),
                                     plural(copies[0].count, "copy", "copies"))));
  if (cp.limit_s > 0) parts.push_back(fmt::format("{} for instance limits", seconds(cp.limit_s)));
  const double other = f.impact_s - cp.copy_s - cp.limit_s;
  if (other > 0.01 * cp.length_s) parts.push_back(fmt::format("{} for dependences", seconds(other)));
  f.explanation =
      fmt::format("The critical path ({}) runs tasks only {} of the time: its tasks wait {}{}.", seconds(cp.length_s),
                  percent(cp.task_s / cp.length_s), parts.empty() ? seconds(f.impact_s) : join(parts), longest);
  out.push_back(std::move(f));
}

// ---- Nothing to change -----------------------------------------------------------------

Finding compute_bound(const Context& c) {
  const sim::Profile& p = c.outcome().profile;
  Finding f;
  f.category = Category::ComputeBound;
  if (p.costliest_tasks.empty()) {
    f.explanation = "The run has no timed task to improve.";
    return f;
  }
  const sim::TaskCost& top = p.costliest_tasks.front();
  double busy = 0, busy_sum = 0;
  int64_t of_kind = 0;
  for (const sim::ProcessorUse& u : p.processors) {
    busy += u.busy_s;
    if (u.kind != top.processor_kind) continue;
    busy_sum += u.busy_fraction;
    ++of_kind;
  }
  const double average = of_kind == 0 ? 0 : busy_sum / static_cast<double>(of_kind);
  f.explanation = fmt::format(
      "The time goes to computing: {} takes {} on {} {}{} ({} of all busy time), the {}s are {} busy on average "
      "and the critical path is {} running tasks; no change of processor, memory, placement or limits is "
      "indicated.",
      top.task, seconds(top.total_s), top.processors, top.processor_kind, top.processors == 1 ? "" : "s",
      percent(top.total_s / std::max(busy, 1e-12)), top.processor_kind, percent(average),
      percent(p.critical_path.length_s > 0 ? p.critical_path.task_s / p.critical_path.length_s : 1));
  return f;
}

}  // namespace

Feedback explain_performance(const Context& c) {
  std::vector<Finding> findings;
  slow_processor(c, findings);
  remote_access(c, findings);
  copies(c, findings);
  load_imbalance(c, findings);
  instance_limit(c, findings);
  waiting(c, findings);
  // Causes worth less than 1% of the run are noise.
  const double floor = 0.01 * window(c);
  std::erase_if(findings, [&](const Finding& f) { return f.impact_s <= floor; });
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.impact_s > b.impact_s; });
  if (findings.empty()) findings.push_back(compute_bound(c));
  // A path mostly waiting is the first thing to say; its causes follow.
  auto waits =
      std::find_if(findings.begin(), findings.end(), [](const Finding& f) { return f.category == Category::Waiting; });
  if (waits != findings.end()) std::rotate(findings.begin(), waits, waits + 1);
  // Lead with a change to make: a finding without hints (the path mostly waiting, copies
  // no rule avoids) gives way to the most promising one with hints if that is worth at
  // least half as much; a path summary it replaces becomes the second sentence.
  if (findings.front().hints.empty()) {
    auto it = std::find_if(findings.begin() + 1, findings.end(), [](const Finding& f) { return !f.hints.empty(); });
    if (it != findings.end() && it->impact_s >= 0.5 * findings.front().impact_s) {
      Finding lead = std::move(*it);
      findings.erase(it);
      if (findings.front().category == Category::Waiting) {
        const std::string& summary = findings.front().explanation;
        lead.explanation += " " + summary.substr(0, summary.find(':')) + ".";
      }
      findings.insert(findings.begin(), std::move(lead));
    }
  }
  Feedback fb;
  fb.category = findings.front().category;
  fb.explanation = findings.front().explanation;
  for (Finding& f : findings) {
    for (std::string& s : f.suggestions)
      if (std::find(fb.suggestions.begin(), fb.suggestions.end(), s) == fb.suggestions.end())
        fb.suggestions.push_back(std::move(s));
    for (Hint& h : f.hints) fb.hints.push_back(std::move(h));
  }
  return fb;
}

}  // namespace mage::guide::detail
