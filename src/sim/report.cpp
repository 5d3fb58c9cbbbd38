#include "sim/report.h"

#include <fmt/format.h>
#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace mage::sim::detail {

namespace {

constexpr double kEps = 1e-12;

double overlap(double a, double b, double lo, double hi) { return std::max(0.0, std::min(b, hi) - std::max(a, lo)); }

std::string bytes_text(double b) {
  if (b >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.2f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.2f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

struct Window {
  double start = 0, end = 0, makespan = 0;
  bool timed = false;  // some tasks are timed (else the window is the whole run)
};

Window window_of(const Runtime& rt) {
  Window w;
  double start = std::numeric_limits<double>::infinity(), end = -std::numeric_limits<double>::infinity();
  for (size_t t = 0; t < rt.tasks().size(); ++t) {
    const TaskState& s = rt.tasks()[t];
    w.makespan = std::max(w.makespan, s.complete_s);
    if (!rt.timed(PointTaskId::at(t))) continue;
    start = std::min(start, s.ready_s);
    end = std::max(end, s.complete_s);
  }
  if (start > end) {  // nothing timed: the whole run
    w.start = 0;
    w.end = w.makespan;
  } else {
    w.start = start;
    w.end = end;
    w.timed = true;
  }
  return w;
}

void add_hops(ChannelBytes& b, const RouteInfo& r, double bytes) {
  b.intra_gpu += bytes * r.hops[static_cast<size_t>(HopKind::IntraGpu)];
  b.gpu_host += bytes * r.hops[static_cast<size_t>(HopKind::GpuHost)];
  b.host_host += bytes * r.hops[static_cast<size_t>(HopKind::HostHost)];
  b.inter_node += bytes * r.hops[static_cast<size_t>(HopKind::InterNode)];
}

// Walks back from the timed task that completed last, each time to what it waited for
// last: the task its processor ran before (busy processor), else the task whose end freed
// its instance-limit slot (if it waited for one), else the predecessor or parent that
// released it (after waiting for copies, if it did).
// An inner task that completed after its body waited for its last child.
CriticalPath critical_path(const Runtime& rt, const Window& win) {
  CriticalPath cp;
  const auto& tasks = rt.tasks();
  PointTaskId cur;
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (win.timed && !rt.timed(PointTaskId::at(t))) continue;
    if (!cur.valid() || tasks[t].complete_s > tasks[cur.index()].complete_s + kEps) cur = PointTaskId::at(t);
  }
  std::vector<PathStep> steps;
  double first_start = win.end;
  size_t guard = 0;
  bool at_body = false;  // reached through the body's end (it issued the previous step)
  while (cur.valid() && guard++ < tasks.size() * 2 + 8) {
    const TaskState& s = tasks[cur.index()];
    if (!at_body && s.last_child.valid() && s.complete_s > s.end_s + kEps &&
        std::abs(tasks[s.last_child.index()].complete_s - s.complete_s) <= kEps) {
      cur = s.last_child;
      continue;
    }
    if (s.end_s <= win.start + kEps && !steps.empty()) break;
    PathStep step;
    step.task = rt.task_label(cur);
    step.processor = rt.machine().name(rt.plan().tasks[cur.index()].processor);
    step.start_s = s.start_s;
    step.end_s = s.end_s;
    cp.task_s += s.end_s - s.start_s;
    first_start = s.start_s;
    PointTaskId next;
    double next_time = s.ready_s;
    if (s.start_s > s.runnable_s + kEps && s.prev_on_proc.valid()) {
      next = s.prev_on_proc;
      next_time = tasks[next.index()].end_s;
      step.waited_for = "processor";
      cp.queue_s += s.start_s - s.runnable_s;
    } else {
      next = s.gate;
      // Mapped ahead of its predecessors, it waited for copies only past their completion.
      const double copies_from = std::max(s.mapped_s, s.ready_s);
      if (s.runnable_s > copies_from + kEps) {
        step.waited_for = "copies";
        cp.copy_s += s.runnable_s - copies_from;
      }
      if (s.mapped_s > s.ready_s + kEps) {
        step.waited_for = step.waited_for.empty() ? "instance limit" : step.waited_for;
        cp.queue_s += s.mapped_s - s.ready_s;
        cp.limit_s += s.mapped_s - s.ready_s;
      }
      if (s.mapped_s > s.ready_s + kEps && s.slot_from.valid()) {
        // It waited last for the task that held its instance-limit slot: the path runs through it.
        next = s.slot_from;
        next_time = tasks[next.index()].complete_s;
      } else if (next.valid()) {
        const TaskState& g = tasks[next.index()];
        // The gate is a predecessor (released at completion) or the parent (at its body's end).
        next_time = g.complete_s <= s.ready_s + kEps ? g.complete_s : g.end_s;
      }
      if (step.waited_for.empty() && next.valid()) step.waited_for = "dependence";
    }
    if (s.mapped_s > s.ready_s + kEps) {
      // Mapped when ready, its copies would have overlapped earlier work: it would have
      // started once they arrived and its processor was free.
      const double free_at = s.prev_on_proc.valid() ? tasks[s.prev_on_proc.index()].end_s : s.ready_s;
      cp.limit_cost_s += std::max(0.0, s.start_s - std::max(s.ready_s + (s.runnable_s - s.mapped_s), free_at));
    }
    step.wait_s = std::max(0.0, s.start_s - next_time);
    steps.push_back(std::move(step));
    if (s.start_s <= win.start + kEps) break;
    at_body = next.valid() && next == rt.graph().tasks[cur.index()].parent;
    cur = next;
  }
  std::reverse(steps.begin(), steps.end());
  cp.length_s = win.end - std::max(win.start, std::min(first_start, win.end));
  const size_t keep = 64;
  if (steps.size() > keep) {
    cp.omitted_steps = static_cast<int64_t>(steps.size() - keep);
    steps.erase(steps.begin(), steps.end() - static_cast<std::ptrdiff_t>(keep));
  }
  cp.steps = std::move(steps);
  return cp;
}

// Adds a timed leaf task's work to its kind's cost: compute time, bytes, and the time its
// accesses across links added (see RemoteAccessCost).
void add_work(TaskCost& c, const Runtime& rt, PointTaskId t, std::vector<ArgWork>& args) {
  const machine::Machine& m = rt.machine();
  const program::Program& prog = rt.program();
  const TaskState& s = rt.tasks()[t.index()];
  const mapping::TaskPlacement& tp = rt.plan().tasks[t.index()];
  args.clear();
  const TaskWork w = rt.work(t, &args);
  c.compute_s += w.compute_s;
  const auto fastest = m.accessible(tp.processor);
  const double best = fastest.empty() ? 0 : fastest.front().bandwidth;
  double weight = 0, as_local = 0;
  for (const ArgWork& a : args) {
    c.bytes += a.bytes;
    if (!a.remote) continue;
    weight += a.access_s + a.stall_s;
    if (best > 0) as_local += a.bytes / best;
  }
  if (weight <= 0) return;
  const double ideal = w.overhead_s + std::max(w.compute_s, w.local_s + as_local);
  const double added = std::max(0.0, (s.end_s - s.start_s) - ideal);
  const program::Launch& l = prog.launches[rt.graph().tasks[t.index()].launch.index()];
  for (const ArgWork& a : args) {
    if (!a.remote) continue;
    const std::string memory(kinds::to_string(m.memory(a.mem).kind));
    auto it = std::find_if(c.remote.begin(), c.remote.end(),
                           [&](const RemoteAccessCost& r) { return r.argument == a.arg && r.memory == memory; });
    if (it == c.remote.end())
      it = c.remote.insert(
          c.remote.end(),
          RemoteAccessCost{a.arg, prog.arg_names(l.args[static_cast<size_t>(a.arg)]).front(), memory, 0, 0});
    it->bytes += a.bytes;
    it->time_s += added * (a.access_s + a.stall_s) / weight;
  }
}

}  // namespace

Outcome report(const Runtime& rt, const Options& options) {
  const machine::Machine& m = rt.machine();
  const program::Program& prog = rt.program();
  const auto& tasks = rt.tasks();
  const auto& copies = rt.copies();
  const Window win = window_of(rt);

  Outcome o;
  o.status = Status::Ok;
  o.time_s = win.end - win.start;
  Profile& prof = o.profile;
  prof.window_start_s = win.start;
  prof.window_end_s = win.end;
  prof.makespan_s = win.makespan;
  prof.tasks = static_cast<int64_t>(tasks.size());
  prof.copies = static_cast<int64_t>(copies.size());

  // Processors, flops, task costs.
  std::vector<ProcessorUse> procs(m.processors().size());
  std::map<std::pair<int32_t, int>, TaskCost> by_kind;          // (task kind, processor kind)
  std::map<std::pair<int32_t, int>, std::vector<bool>> ran_on;  // the same key: processors used
  std::vector<ArgWork> arg_work;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const auto t = PointTaskId::at(i);
    const TaskState& s = tasks[i];
    const mapping::TaskPlacement& tp = rt.plan().tasks[i];
    const double busy = overlap(s.start_s, s.end_s, win.start, win.end);
    ProcessorUse& u = procs[tp.processor.index()];
    if (busy > 0 || (rt.timed(t) && s.start_s >= win.start)) {
      ++u.tasks;
      u.busy_s += busy;
    }
    if (!rt.timed(t)) continue;
    const double flops = rt.task_flops(t);
    prof.flops += flops;
    const program::Launch& l = prog.launches[rt.graph().tasks[i].launch.index()];
    TaskCost& c = by_kind[{l.task.value, static_cast<int>(tp.kind)}];
    if (c.count == 0) {
      c.task = prog.task_of(l).name;
      c.processor_kind = std::string(kinds::to_string(tp.kind));
    }
    ++c.count;
    c.total_s += s.end_s - s.start_s;
    c.max_s = std::max(c.max_s, s.end_s - s.start_s);
    c.flops += flops;
    if (s.mapped_s > s.ready_s + kEps) c.limit_wait_s += s.mapped_s - s.ready_s;
    std::vector<bool>& used = ran_on[{l.task.value, static_cast<int>(tp.kind)}];
    used.resize(m.processors().size());
    if (!used[static_cast<size_t>(tp.processor.value)]) {
      used[static_cast<size_t>(tp.processor.value)] = true;
      ++c.processors;
    }
    if (prog.task_of(l).leaf) add_work(c, rt, t, arg_work);
  }
  const double span = o.time_s;
  for (size_t p = 0; p < procs.size(); ++p) {
    if (procs[p].tasks == 0) continue;
    ProcessorUse u = procs[p];
    const machine::ProcId id{static_cast<int32_t>(p)};
    u.processor = m.name(id);
    u.kind = std::string(kinds::to_string(m.processor(id).kind));
    u.busy_fraction = span > 0 ? u.busy_s / span : 0;
    prof.processors.push_back(std::move(u));
  }
  for (auto& [key, c] : by_kind) {
    std::stable_sort(c.remote.begin(), c.remote.end(),
                     [](const RemoteAccessCost& a, const RemoteAccessCost& b) { return a.time_s > b.time_s; });
    prof.costliest_tasks.push_back(c);
  }
  std::stable_sort(prof.costliest_tasks.begin(), prof.costliest_tasks.end(),
                   [](const TaskCost& a, const TaskCost& b) { return a.total_s > b.total_s; });
  if (prof.costliest_tasks.size() > static_cast<size_t>(std::max(options.top, 0)))
    prof.costliest_tasks.resize(static_cast<size_t>(std::max(options.top, 0)));

  // Copies.
  // (data: partition id, or -1 - region id; source and destination memory kinds; inter-node; fold)
  std::map<std::tuple<int32_t, int, int, bool, bool>, CopyCost> by_data;
  std::map<CopyCost*, std::map<std::string, double>> copied_for;  // bytes by the task kind they were for
  for (size_t i = 0; i < copies.size(); ++i) {
    const Copy& c = copies[i];
    if (!c.for_task.valid() || !rt.timed(c.for_task)) continue;
    const RouteInfo r = rt.topology().route(c.src_mem, c.dst_mem);
    add_hops(prof.bytes_moved, r, static_cast<double>(c.bytes));
    if (c.fold) {
      ChannelBytes folded;
      add_hops(folded, r, static_cast<double>(c.bytes));
      prof.folded_bytes += folded.intra_gpu + folded.gpu_host + folded.host_host + folded.inter_node;
    }
    const machine::Memory& src = m.memory(c.src_mem);
    const machine::Memory& dst = m.memory(c.dst_mem);
    const bool inter = src.node != dst.node;
    const Instance& d = rt.instances()[static_cast<size_t>(c.dst)];
    CopyCost& cc = by_data[{d.partition.valid() ? d.partition.value : -1 - d.region.value, static_cast<int>(src.kind),
                            static_cast<int>(dst.kind), inter, c.fold}];
    if (cc.count == 0) {
      cc.data = rt.data_name(c.dst);
      cc.from = std::string(kinds::to_string(src.kind));
      cc.to = std::string(kinds::to_string(dst.kind));
      cc.inter_node = inter;
      cc.reduction = c.fold;
    }
    ++cc.count;
    cc.bytes += static_cast<double>(c.bytes);
    cc.total_s += std::max(0.0, c.end_s - c.start_s);
    const program::Launch& fl = prog.launches[rt.graph().tasks[c.for_task.index()].launch.index()];
    copied_for[&cc][prog.task_of(fl).name] += static_cast<double>(c.bytes);
  }
  for (auto& [cc, per_task] : copied_for) {
    double most = -1;
    for (const auto& [task, b] : per_task)  // by name: ties go to the first name
      if (b > most) {
        most = b;
        cc->for_task = task;
      }
  }
  const auto& access = rt.access_bytes();
  prof.bytes_moved.intra_gpu += access[static_cast<size_t>(HopKind::IntraGpu)];
  prof.bytes_moved.gpu_host += access[static_cast<size_t>(HopKind::GpuHost)];
  prof.bytes_moved.host_host += access[static_cast<size_t>(HopKind::HostHost)];
  for (auto& [key, c] : by_data) prof.costliest_copies.push_back(c);
  std::stable_sort(prof.costliest_copies.begin(), prof.costliest_copies.end(),
                   [](const CopyCost& a, const CopyCost& b) { return a.total_s > b.total_s; });
  if (prof.costliest_copies.size() > static_cast<size_t>(std::max(options.top, 0)))
    prof.costliest_copies.resize(static_cast<size_t>(std::max(options.top, 0)));

  // Memories.
  for (size_t i = 0; i < rt.peak_bytes().size(); ++i) {
    if (rt.peak_bytes()[i] == 0) continue;
    const machine::MemId id{static_cast<int32_t>(i)};
    prof.memories.push_back(
        MemoryPeak{id, m.memory(id).kind, m.name(id), rt.peak_bytes()[i], m.memory(id).capacity_bytes});
  }

  prof.critical_path = critical_path(rt, win);

  // Metric.
  o.metric_name = metric_name(prog);
  if (o.time_s > 0) {
    if (prog.metric == program::Metric::Flops)
      o.metric_value = prof.flops / o.time_s / 1e9;
    else
      o.metric_value = static_cast<double>(std::max(prog.iterations, 1)) / o.time_s;
  }

  if (options.trace) {
    Trace& tr = o.trace;
    std::map<int32_t, int> proc_row;
    for (const machine::ProcId p : rt.used_processors()) {
      proc_row[p.value] = static_cast<int>(tr.rows.size());
      tr.rows.push_back(m.name(p));
    }
    std::map<std::pair<int32_t, int32_t>, int> chan_row;
    for (const Copy& c : copies)
      if (c.src_mem != c.dst_mem) chan_row.emplace(std::make_pair(c.src_mem.value, c.dst_mem.value), 0);
    for (auto& [key, row] : chan_row) {
      row = static_cast<int>(tr.rows.size());
      tr.rows.push_back(fmt::format("{} -> {}", m.name(machine::MemId{key.first}), m.name(machine::MemId{key.second})));
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      const TaskState& s = tasks[i];
      if (s.start_s < 0) continue;
      const auto t = PointTaskId::at(i);
      TraceEvent e;
      e.row = proc_row[rt.plan().tasks[i].processor.value];
      e.name = rt.task_label(t);
      e.category = "task";
      e.start_s = s.start_s;
      e.duration_s = s.end_s - s.start_s;
      e.args = {
          {"ready", fmt::format("{:.9f}", s.ready_s)},
          {"waited for copies", fmt::format("{:.9f}", std::max(0.0, s.runnable_s - std::max(s.mapped_s, s.ready_s)))},
          {"completed", fmt::format("{:.9f}", s.complete_s)}};
      tr.events.push_back(std::move(e));
    }
    for (const Copy& c : copies) {
      if (c.src_mem == c.dst_mem || c.start_s < 0) continue;
      TraceEvent e;
      e.row = chan_row[{c.src_mem.value, c.dst_mem.value}];
      e.name = fmt::format("{} {} {}", c.fold ? "fold" : "copy", rt.data_label(c.dst),
                           bytes_text(static_cast<double>(c.bytes)));
      e.category = "copy";
      e.start_s = c.start_s;
      e.duration_s = c.end_s - c.start_s;
      e.args = {{"bytes", std::to_string(c.bytes)},
                {"for", c.for_task.valid() ? rt.task_label(c.for_task) : ""},
                {"queued", fmt::format("{:.9f}", c.issued_s)}};
      tr.events.push_back(std::move(e));
    }
  }
  return o;
}

}  // namespace mage::sim::detail
