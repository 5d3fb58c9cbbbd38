// Scheduling in the runtime model: readiness, instance limits, mapping, runnable queues,
// completion of tasks (inner tasks complete when their children have), and the checks a
// plan must pass before it is simulated.
#include <fmt/format.h>
#include <algorithm>

#include "sim/runtime.h"

namespace mage::sim::detail {

using program::FieldMask;
using program::Privilege;

namespace {

ArgInfo info_of(const program::RegionArg& a) {
  ArgInfo i;
  for (const program::FieldAccess& fa : a.access) {
    switch (fa.privilege) {
      case Privilege::NA:
        break;
      case Privilege::RO:
        i.normal |= fa.fields;
        i.read |= fa.fields;
        break;
      case Privilege::RW:
        i.normal |= fa.fields;
        i.read |= fa.fields;
        i.written |= fa.fields;
        break;
      case Privilege::WO:
        i.normal |= fa.fields;
        i.written |= fa.fields;
        break;
      case Privilege::RED:
        i.reduced |= fa.fields;
        i.redop = fa.redop;
        break;
    }
  }
  return i;
}

}  // namespace

int64_t Instance::count(int32_t b) const {
  auto it = std::lower_bound(spans.begin(), spans.end(), b,
                             [](const program::Span& s, int32_t blk) { return s.block < blk; });
  return it != spans.end() && it->block == b ? it->count : 0;
}

Runtime::Runtime(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
                 const mapping::Plan& plan)
    : p_(program), g_(graph), m_(machine), plan_(plan), topo_(machine) {
  for (const program::Launch& l : p_.launches) {
    std::vector<ArgInfo> infos;
    for (const program::RegionArg& a : l.args) infos.push_back(info_of(a));
    args_.push_back(std::move(infos));
  }
  int64_t total = 0;
  for (const program::Region& r : p_.regions) {
    block_base_.push_back(total);
    total += static_cast<int64_t>(r.blocks.size());
  }
  blocks_.resize(static_cast<size_t>(total));
  reads_left_.assign(static_cast<size_t>(total) * 64, 0);
  reductions_left_.assign(static_cast<size_t>(total) * 64, 0);

  const size_t n = g_.size();
  tasks_.resize(n);
  uses_begin_.assign(n, 0);
  uses_end_.assign(n, 0);
  cost_index_.assign(p_.launches.size(), {-1, -1, -1, -1, -1});
  for (size_t f = 0; f < g_.fence_count(); ++f)
    fence_left_.push_back(g_.fence_before_start[f + 1] - g_.fence_before_start[f]);
  copies_after_.resize(n);
  for (size_t t = 0; t < n; ++t) {
    tasks_[t].preds_left =
        static_cast<int32_t>(g_.pred_start[t + 1] - g_.pred_start[t]) + (g_.fence_waited[t] >= 0 ? 1 : 0);
    tasks_[t].preds_unmapped = tasks_[t].preds_left;
    tasks_[t].children_left = static_cast<int32_t>(g_.child_start[t + 1] - g_.child_start[t]);
  }
  runnable_q_.resize(m_.processors().size());
  last_on_proc_.assign(m_.processors().size(), PointTaskId{});
  used_.assign(m_.memories().size(), 0);
  by_mem_region_.resize(m_.memories().size() * p_.regions.size());
  peak_.assign(m_.memories().size(), 0);
  launch_nodes_.assign(p_.launches.size(), 0);
  if (m_.nodes() > 1 && m_.network().present) {
    double handling = 0;
    for (const machine::Processor& pr : m_.processors())
      if (pr.node == 0 && pr.kind == kinds::ProcKind::CPU && (handling == 0 || pr.launch_overhead_s < handling))
        handling = pr.launch_overhead_s;
    message_s_ = m_.network().latency + handling;
  }

  // Reads each (block, field) will see, so that data nobody reads again can be dropped.
  if (plan_.tasks.size() != n) return;
  for (size_t t = 0; t < n; ++t) {
    const program::Launch& l = p_.launches[g_.tasks[t].launch.index()];
    const mapping::TaskPlacement& tp = plan_.tasks[t];
    if (tp.args.size() != l.args.size()) continue;
    for (size_t a = 0; a < l.args.size(); ++a) {
      const ArgInfo& ai = args_[l.id.index()][a];
      if (tp.args[a].is_virtual || (ai.read | ai.reduced) == 0) continue;
      for (const program::Span& s : p_.spans_of(l.args[a], g_.piece(PointTaskId::at(t), a))) {
        for (FieldMask m = ai.read; m; m &= m - 1) ++reads_left(l.args[a].region, s.block, __builtin_ctzll(m));
        for (FieldMask m = ai.reduced; m; m &= m - 1) ++reductions_left(l.args[a].region, s.block, __builtin_ctzll(m));
      }
    }
  }
}

const program::Launch& Runtime::launch_of(PointTaskId t) const {
  return p_.launches[g_.tasks[t.index()].launch.index()];
}

const ArgInfo& Runtime::arg_info(PointTaskId t, size_t arg) const {
  return args_[g_.tasks[t.index()].launch.index()][arg];
}

bool Runtime::timed(PointTaskId t) const { return launch_of(t).timed; }

std::string Runtime::task_label(PointTaskId t) const {
  const program::PointTask& pt = g_.tasks[t.index()];
  const program::Launch& l = launch_of(t);
  std::string s = p_.task_of(l).name;
  if (pt.point.dim > 0) s += fmt::format(" {}", program::to_string(pt.point));
  if (l.steps > 1) s += fmt::format(" step {}", pt.step);
  if (pt.point.dim == 0 && pt.parent.valid()) {
    const program::PointTask& parent = g_.tasks[pt.parent.index()];
    const program::Launch& pl = p_.launches[parent.launch.index()];
    s += fmt::format(" in {}", p_.task_of(pl).name);
    if (parent.point.dim > 0) s += fmt::format(" {}", program::to_string(parent.point));
    if (pl.steps > 1) s += fmt::format(" step {}", parent.step);
  }
  return s;
}

double Runtime::task_flops(PointTaskId t) const {
  const program::Launch& l = launch_of(t);
  const program::TaskKind& k = p_.task_of(l);
  if (!k.leaf || !k.has_variant(placement(t).kind)) return 0;
  const LaunchCost& c = launch_cost(t);
  double flops = c.flops_per_point;
  for (size_t a = 0; a < c.args.size(); ++a)
    if (c.args[a].flops != 0) flops += c.args[a].flops * static_cast<double>(p_.elements_of(l.args[a], g_.piece(t, a)));
  return flops;
}

// The cost model of a launch on the task's variant, per element (as Program::point_cost).
const LaunchCost& Runtime::launch_cost(PointTaskId t) const {
  const program::Launch& l = launch_of(t);
  const kinds::ProcKind kind = placement(t).kind;
  int32_t& index = cost_index_[l.id.index()][kinds::index(kind)];
  if (index >= 0) return costs_[static_cast<size_t>(index)];
  const program::Variant& v = *p_.task_of(l).variant(kind);
  LaunchCost c;
  c.precision = v.cost.precision;
  c.flops_per_point = v.cost.flops_per_point;
  c.peak_fraction = v.cost.peak_fraction;
  for (size_t a = 0; a < l.args.size(); ++a) {
    const program::ArgCost ac = a < v.cost.args.size() ? v.cost.args[a] : program::ArgCost{};
    const program::Program::ElementBytes bytes = p_.element_bytes(l.args[a]);
    c.args.push_back(LaunchCost::Arg{ac.flops_per_element, ac.read_bytes_per_element.value_or(bytes.read),
                                     ac.write_bytes_per_element.value_or(bytes.write),
                                     ac.access == program::Access::Gather, ac.accesses_per_element});
  }
  index = static_cast<int32_t>(costs_.size());
  costs_.push_back(std::move(c));
  return costs_.back();
}

std::vector<machine::ProcId> Runtime::used_processors() const {
  std::vector<bool> used(m_.processors().size(), false);
  for (const mapping::TaskPlacement& tp : plan_.tasks)
    if (tp.processor.value >= 0 && static_cast<size_t>(tp.processor.value) < used.size())
      used[static_cast<size_t>(tp.processor.value)] = true;
  std::vector<machine::ProcId> out;
  for (size_t i = 0; i < used.size(); ++i)
    if (used[i]) out.push_back(machine::ProcId{static_cast<int32_t>(i)});
  return out;
}

std::vector<machine::MemId> Runtime::used_memories() const {
  std::vector<bool> used(m_.memories().size(), false);
  for (const mapping::TaskPlacement& tp : plan_.tasks)
    for (const mapping::ArgPlacement& ap : tp.args)
      if (!ap.is_virtual && ap.memory.value >= 0 && static_cast<size_t>(ap.memory.value) < used.size())
        used[static_cast<size_t>(ap.memory.value)] = true;
  std::vector<machine::MemId> out;
  for (size_t i = 0; i < used.size(); ++i)
    if (used[i]) out.push_back(machine::MemId{static_cast<int32_t>(i)});
  return out;
}

// ---------------------------------------------------------------- checks

Runtime::Problem Runtime::check() const {
  auto internal = [](std::string m) { return Problem{Status::SimulatorFailure, std::move(m)}; };
  if (plan_.tasks.size() != g_.size())
    return internal(
        fmt::format("the plan places {} point tasks but the program has {}", plan_.tasks.size(), g_.size()));
  for (size_t i = 0; i < g_.size(); ++i) {
    const auto t = PointTaskId::at(i);
    const mapping::TaskPlacement& tp = plan_.tasks[i];
    const program::Launch& l = launch_of(t);
    const program::TaskKind& kind = p_.task_of(l);
    if (tp.processor.value < 0 || static_cast<size_t>(tp.processor.value) >= m_.processors().size())
      return internal(fmt::format("{}: the plan gives no processor of the machine", task_label(t)));
    const machine::Processor& proc = m_.processor(tp.processor);
    auto where = [&] { return fmt::format("{} on {}", task_label(t), m_.name(tp.processor)); };
    if (proc.kind != tp.kind)
      return internal(fmt::format("{}: the plan says {} but the processor is a {}", where(), kinds::to_string(tp.kind),
                                  kinds::to_string(proc.kind)));
    const program::Variant* variant = kind.variant(tp.kind);
    if (!variant)
      return Problem{Status::ExecutionError,
                     fmt::format("{}: task {} has no {} variant", where(), kind.name, kinds::to_string(tp.kind))};
    if (tp.args.size() != l.args.size())
      return internal(
          fmt::format("{}: the plan has {} arguments, the launch {}", where(), tp.args.size(), l.args.size()));
    for (size_t a = 0; a < l.args.size(); ++a) {
      const ArgInfo& ai = args_[l.id.index()][a];
      const mapping::ArgPlacement& ap = tp.args[a];
      if (ai.normal == 0 && ai.reduced == 0) continue;  // no access: no instance
      auto arg_name = [&] { return p_.arg_names(l.args[a]).front(); };
      if (ap.is_virtual) {
        if (kind.leaf)
          return Problem{Status::ExecutionError,
                         fmt::format("{}: argument {} ({}) is VIRTUAL, but {} is a leaf task that accesses it", where(),
                                     a, arg_name(), kind.name)};
        continue;
      }
      if (ap.memory.value < 0 || static_cast<size_t>(ap.memory.value) >= m_.memories().size())
        return internal(fmt::format("{}: argument {} ({}) has no memory of the machine", where(), a, arg_name()));
      if (!kind.leaf) continue;  // an inner task does not touch its instances
      if (!m_.access(tp.processor, ap.memory))
        return Problem{Status::ExecutionError,
                       fmt::format("{}: argument {} ({}) is in {}, which {} cannot access", where(), a, arg_name(),
                                   m_.name(ap.memory), m_.name(tp.processor))};
      if (variant->layout && *variant->layout != ap.layout.order) {
        const std::string& region = p_.regions[l.args[a].region.index()].name;
        return Problem{
            Status::ExecutionError,
            fmt::format("{}: layout mismatch, operand {} (argument {}, {}) is {}, {} required", where(), region, a,
                        arg_name(), kinds::to_string(ap.layout.order), kinds::to_string(*variant->layout))};
      }
    }
  }
  return {};
}

// ---------------------------------------------------------------- scheduling

void Runtime::start(double now) {
  for (PointTaskId t : g_.top) {
    TaskState& s = tasks_[t.index()];
    s.issued = true;
    if (s.preds_left == 0) preds_completed(t, now, PointTaskId{});
    if (s.preds_unmapped == 0) queue_mapping(t);
  }
  flush_ready(now);
}

int Runtime::collective_stages(int nodes) {
  int stages = 0;
  for (int reach = 1; reach < nodes; reach *= 8) ++stages;
  return stages;
}

int Runtime::launch_nodes(program::LaunchId l) {
  int& n = launch_nodes_[l.index()];
  if (n == 0) {
    std::vector<bool> seen(static_cast<size_t>(m_.nodes()), false);
    for (int64_t i = g_.launch_start[l.index()]; i < g_.launch_start[l.index() + 1]; ++i) {
      const int node = m_.processor(placement(g_.launch_tasks[static_cast<size_t>(i)]).processor).node;
      if (!seen[static_cast<size_t>(node)]) ++n;
      seen[static_cast<size_t>(node)] = true;
    }
  }
  return n;
}

// A future crosses nodes as Legion's control replication moves it: the future of an index
// launch, reduced over its points, by an all-reduce among the nodes the points ran on
// (every consumer waits for the whole collective); the future of a single task (or of an
// index launch on one node) by a broadcast from its node to the others.
double Runtime::future_delay(PointTaskId q, PointTaskId u) {
  if (message_s_ <= 0) return 0;
  const program::Launch& lq = launch_of(q);
  if (!lq.produces) return 0;
  const program::Launch& lu = launch_of(u);
  if (std::find(lu.consumes.begin(), lu.consumes.end(), *lq.produces) == lu.consumes.end()) return 0;
  const int spanned = launch_nodes(lq.id);
  if (spanned > 1) return collective_stages(spanned) * message_s_;
  const int from = m_.processor(placement(q).processor).node, to = m_.processor(placement(u).processor).node;
  return from == to ? 0 : collective_stages(m_.nodes()) * message_s_;
}

void Runtime::queue_mapping(PointTaskId t) { ready_batch_.push_back(t); }

void Runtime::preds_completed(PointTaskId t, double now, PointTaskId gate) {
  TaskState& s = tasks_[t.index()];
  s.gate = gate;
  s.ready_s = std::max(now, s.release_s);
  try_runnable(t, now);
}

void Runtime::try_runnable(PointTaskId t, double now) {
  TaskState& s = tasks_[t.index()];
  if (s.phase != Phase::Mapped || s.copies_left > 0 || s.preds_left > 0 || !s.issued) return;
  if (s.ready_s > now) {  // a future it consumes is still on its way
    auto [it, fresh] = timers_.try_emplace(s.ready_s);
    if (fresh) new_timers_.push_back(s.ready_s);
    it->second.push_back(t);
    ++timers_pending_;
    return;
  }
  make_runnable(t, now);
}

void Runtime::timers_due(double now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    for (PointTaskId t : timers_.begin()->second) {
      --timers_pending_;
      try_runnable(t, now);
    }
    timers_.erase(timers_.begin());
  }
  flush_ready(now);
}

void Runtime::take_timers(std::vector<double>& into) {
  into.clear();
  into.swap(new_timers_);
}

// Maps the tasks that became ready at this instant, lowest id first.
void Runtime::flush_ready(double now) {
  while (!ready_batch_.empty() && !failed()) {
    std::vector<PointTaskId> batch;
    batch.swap(ready_batch_);
    std::sort(batch.begin(), batch.end());
    for (PointTaskId t : batch) {
      if (failed()) return;
      if (acquire_slot(t))
        map_task(t, now);
      else
        tasks_[t.index()].phase = Phase::Limited;
    }
  }
}

// The processor that launched t (its parent's, or the top-level task's): InstanceLimit
// counts the tasks of a kind launched from one processor that are mapped and not finished,
// as the published mapper does (DSL.md). The top-level task is control-replicated: the
// shard on each rank launches the points that run there, so a top-level launch's points
// count against the top-level processor of their own rank.
machine::ProcId Runtime::launcher(PointTaskId t) const {
  const PointTaskId parent = g_.tasks[t.index()].parent;
  if (parent.valid()) return placement(parent).processor;
  if (plan_.top_level_processor.value < 0) return plan_.top_level_processor;
  const machine::Processor& top = m_.processor(plan_.top_level_processor);
  const int rank = m_.processor(placement(t).processor).rank;
  if (rank == top.rank) return plan_.top_level_processor;
  return m_.processor_at(top.kind, rank, 0);
}

bool Runtime::acquire_slot(PointTaskId t) {
  const program::TaskKindId k = launch_of(t).task;
  if (k.index() >= plan_.task_kinds.size()) return true;
  const auto& limit = plan_.task_kinds[k.index()].instance_limit;
  if (!limit) return true;
  Slots& s = slots_[{launcher(t), k}];
  if (s.in_flight < std::max<int64_t>(*limit, 1)) {
    ++s.in_flight;
    return true;
  }
  s.waiting.push(t);
  return false;
}

void Runtime::release_slot(PointTaskId t) {
  const program::TaskKindId k = launch_of(t).task;
  if (k.index() >= plan_.task_kinds.size() || !plan_.task_kinds[k.index()].instance_limit) return;
  Slots& s = slots_[{launcher(t), k}];
  --s.in_flight;
  if (!s.waiting.empty()) {
    PointTaskId next = s.waiting.top();
    s.waiting.pop();
    tasks_[next.index()].slot_from = t;
    ready_batch_.push_back(next);  // mapped by flush_ready, in id order with the others
  }
}

void Runtime::map_task(PointTaskId t, double now) {
  TaskState& s = tasks_[t.index()];
  s.phase = Phase::Mapped;
  s.mapped_s = now;
  const size_t n = launch_of(t).args.size();
  uses_begin_[t.index()] = static_cast<int32_t>(uses_.size());
  for (size_t a = 0; a < n && !failed(); ++a) map_argument(t, a, now);
  uses_end_[t.index()] = static_cast<int32_t>(uses_.size());
  if (failed()) return;
  // Its successors may map now (they run only after it completes).
  g_.for_each_successor(t.index(), false, [&](PointTaskId u, bool) {
    TaskState& us = tasks_[u.index()];
    if (--us.preds_unmapped == 0 && us.issued) queue_mapping(u);
  });
  try_runnable(t, now);
}

void Runtime::make_runnable(PointTaskId t, double now) {
  TaskState& s = tasks_[t.index()];
  s.phase = Phase::Runnable;
  s.runnable_s = now;
  const int32_t proc = placement(t).processor.value;
  runnable_q_[static_cast<size_t>(proc)].push(t);
  ++runnable_;
  wakeups_.push_back(proc);
}

PointTaskId Runtime::next_runnable(machine::ProcId proc) {
  auto& q = runnable_q_[static_cast<size_t>(proc.value)];
  if (q.empty()) return PointTaskId{};
  PointTaskId t = q.top();
  q.pop();
  --runnable_;
  return t;
}

TaskWork Runtime::task_started(PointTaskId t, double now) {
  TaskState& s = tasks_[t.index()];
  s.phase = Phase::Running;
  s.start_s = now;
  const auto proc = static_cast<size_t>(placement(t).processor.value);
  s.prev_on_proc = last_on_proc_[proc];
  last_on_proc_[proc] = t;
  ++running_;
  TaskWork w = work(t);
  if (timed(t))
    for (const RemoteAccess& r : w.remote)
      access_bytes_[static_cast<size_t>(topo_.access_kind(placement(t).processor, r.mem))] +=
          static_cast<double>(r.bytes);
  return w;
}

void Runtime::task_ended(PointTaskId t, double now) {
  --running_;
  TaskState& s = tasks_[t.index()];
  s.end_s = now;
  s.phase = Phase::BodyDone;
  // An inner task issues its children as its body runs; they depend only on siblings.
  for (int64_t i = g_.child_start[t.index()]; i < g_.child_start[t.index() + 1]; ++i) {
    PointTaskId c = g_.child_ids[static_cast<size_t>(i)];
    TaskState& cs = tasks_[c.index()];
    cs.issued = true;
    if (cs.preds_left == 0) preds_completed(c, now, t);
    if (cs.preds_unmapped == 0) queue_mapping(c);
  }
  if (tasks_[t.index()].children_left == 0) complete(t, now);
  flush_ready(now);
}

void Runtime::complete(PointTaskId t, double now) {
  TaskState& s = tasks_[t.index()];
  s.phase = Phase::Complete;
  s.complete_s = now;
  ++completed_;
  // Copies out of the instances it wrote that waited for it can go.
  for (int32_t k = uses_begin_[t.index()]; k < uses_end_[t.index()]; ++k) {
    auto& writers = instances_[static_cast<size_t>(uses_[static_cast<size_t>(k)].inst)].writers;
    writers.erase(std::remove(writers.begin(), writers.end(), t), writers.end());
  }
  for (CopyId c : copies_after_[t.index()])
    if (--copies_[static_cast<size_t>(c)].deps_left == 0) ready_copies_.push_back(c);
  copies_after_[t.index()].clear();
  release_uses(t);
  release_slot(t);
  const int32_t fence = g_.fence_fed[t.index()];
  const bool fence_done = fence >= 0 && --fence_left_[static_cast<size_t>(fence)] == 0;
  g_.for_each_successor(t.index(), fence_done, [&](PointTaskId u, bool through_fence) {
    TaskState& us = tasks_[u.index()];
    if (const double d = future_delay(t, u); d > 0) us.release_s = std::max(us.release_s, now + d);
    // A fence is an execution fence: what follows it maps only once it completed.
    if (through_fence && --us.preds_unmapped == 0 && us.issued) queue_mapping(u);
    if (--us.preds_left == 0 && us.issued) preds_completed(u, now, t);
  });
  const PointTaskId parent = g_.tasks[t.index()].parent;
  if (parent.valid()) {
    TaskState& ps = tasks_[parent.index()];
    ps.last_child = t;
    if (--ps.children_left == 0 && ps.phase == Phase::BodyDone) complete(parent, now);
  }
}

void Runtime::copy_started(CopyId c, double now) { copies_[static_cast<size_t>(c)].start_s = now; }

void Runtime::copy_ended(CopyId c, double now) {
  Copy& cp = copies_[static_cast<size_t>(c)];
  cp.done = true;
  cp.end_s = now;
  if (cp.start_s < 0) cp.start_s = now;
  --copies_pending_;
  auto& inflight = instances_[static_cast<size_t>(cp.dst)].inflight;
  inflight.erase(std::remove(inflight.begin(), inflight.end(), c), inflight.end());
  for (CopyId d : cp.dependents)
    if (--copies_[static_cast<size_t>(d)].deps_left == 0) ready_copies_.push_back(d);
  for (PointTaskId w : cp.waiters) {
    TaskState& ws = tasks_[w.index()];
    ws.last_copy = c;
    if (--ws.copies_left == 0) try_runnable(w, now);
  }
  const InstId src = cp.src, dst = cp.dst;
  unpin(src);
  unpin(dst);
}

void Runtime::fail(Status status, std::string message) {
  if (failed()) return;
  failure_ = Problem{status, std::move(message)};
}

void Runtime::take_ready_copies(std::vector<CopyId>& into) {
  into.clear();
  into.swap(ready_copies_);
}

void Runtime::take_wakeups(std::vector<int32_t>& into) {
  into.clear();
  into.swap(wakeups_);
}

// ---------------------------------------------------------------- task time

TaskWork Runtime::work(PointTaskId t, std::vector<ArgWork>* args) const {
  const mapping::TaskPlacement& tp = placement(t);
  const machine::Processor& proc = m_.processor(tp.processor);
  const program::Launch& l = launch_of(t);
  const program::TaskKind& kind = p_.task_of(l);
  TaskWork w;
  w.overhead_s = proc.launch_overhead_s;
  if (!kind.leaf) return w;
  const LaunchCost& cost = launch_cost(t);
  const bool gpu = proc.kind == kinds::ProcKind::GPU;
  double flops = cost.flops_per_point;
  for (size_t a = 0; a < l.args.size(); ++a) {
    const LaunchCost::Arg& c = cost.args[a];
    const auto elements = static_cast<double>(p_.elements_of(l.args[a], g_.piece(t, a)));
    flops += c.flops * elements;
    const mapping::ArgPlacement& ap = tp.args[a];
    double bytes = (c.read + c.write) * elements;
    if (ap.is_virtual || bytes <= 0) continue;
    auto access = m_.access(tp.processor, ap.memory);
    if (!access) continue;
    if (gpu && ap.layout.fields == kinds::FieldLayout::AOS) {
      // AOS: a GPU thread reads whole records, so unused fields waste bandwidth.
      const program::Region& region = p_.regions[l.args[a].region.index()];
      const ArgInfo& ai = arg_info(t, a);
      program::FieldMask held = 0;
      for (int32_t k = uses_begin_[t.index()]; k < uses_end_[t.index()]; ++k)
        if (uses_[static_cast<size_t>(k)].arg == static_cast<int32_t>(a))
          held |= instances_[static_cast<size_t>(uses_[static_cast<size_t>(k)].inst)].fields;
      const auto used = static_cast<double>(region.bytes(ai.normal | ai.reduced));
      const auto all = static_cast<double>(region.bytes(held));
      if (used > 0 && all > used) bytes *= all / used;
    }
    const bool remote = topo_.remote(tp.processor, ap.memory);
    double stall_s = 0;
    if (remote) {
      const bool reading = c.read >= c.write;
      auto same = std::find_if(w.remote.begin(), w.remote.end(),
                               [&](const RemoteAccess& r) { return r.mem == ap.memory && r.to_processor == reading; });
      if (same != w.remote.end())
        same->bytes += static_cast<int64_t>(bytes + 0.5);
      else
        w.remote.push_back(RemoteAccess{ap.memory, reading, static_cast<int64_t>(bytes + 0.5)});
      // A gather waits a round trip per access; the processor overlaps only as many as it
      // keeps in flight, and the warps waiting cannot compute.
      if (c.gather)
        stall_s = elements * c.accesses * access->latency / static_cast<double>(proc.remote_accesses_in_flight);
      w.stall_s += stall_s;
    } else {
      w.local_s += bytes / access->bandwidth;
    }
    if (args)
      args->push_back(ArgWork{static_cast<int32_t>(a), ap.memory, remote, bytes, bytes / access->bandwidth, stall_s});
  }
  const double rate = cost.precision == program::Precision::FP32 ? proc.fp32_flops : proc.fp64_flops;
  if (flops > 0 && rate > 0) w.compute_s = flops / (rate * cost.peak_fraction);
  return w;
}

}  // namespace mage::sim::detail
