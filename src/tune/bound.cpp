// A lower bound on the simulated time of a program on a machine, whatever the mapper: how
// much headroom a search has left. Both parts relax the simulator's model (docs/simulation.md)
// the same way: a point task takes at least its launch overhead plus the larger of its
// compute time and the time to read and write its bytes at the best bandwidth its processor
// has to any memory; copies, contention and stalls only add to that.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "tune/tune.h"

namespace mage::tune {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kKinds = kinds::kProcKinds.size();

// What a processor of each kind offers (every processor of a kind is alike: nodes are identical).
struct KindRates {
  int count = 0;
  double fp64 = 0, fp32 = 0, overhead_s = 0, bandwidth = 0;
};

std::array<KindRates, kKinds> kind_rates(const machine::Machine& m) {
  std::array<KindRates, kKinds> out{};
  for (kinds::ProcKind k : kinds::kProcKinds) {
    const std::vector<machine::ProcId> procs = m.processors_of(k);
    if (procs.empty()) continue;
    KindRates& r = out[kinds::index(k)];
    const machine::Processor& p = m.processor(procs.front());
    r.count = static_cast<int>(procs.size());
    r.fp64 = p.fp64_flops;
    r.fp32 = p.fp32_flops;
    r.overhead_s = p.launch_overhead_s;
    const auto reach = m.accessible(p.id);  // highest bandwidth first
    r.bandwidth = reach.empty() ? 0 : reach.front().bandwidth;
  }
  return out;
}

// The least time point task `t` can take on a processor of each kind (+infinity where it
// has no variant or the machine no such processor). `gpu`: on a GPU, its compute time and
// its bytes' time at the GPU's best bandwidth (zero without a GPU variant).
struct GpuTime {
  double overhead_s = 0, compute_s = 0, memory_s = 0;
};
std::array<double, kKinds> fastest(const program::Program& p, const program::TaskGraph& g, size_t t,
                                   const std::array<KindRates, kKinds>& rates, GpuTime& gpu) {
  gpu = {};
  std::array<double, kKinds> d;
  d.fill(kInf);
  const program::Launch& l = p.launches[g.tasks[t].launch.index()];
  const program::TaskKind& kind = p.task_of(l);
  std::vector<int64_t> pieces(l.args.size());
  for (size_t a = 0; a < l.args.size(); ++a) pieces[a] = g.piece(program::PointTaskId::at(t), a);
  for (kinds::ProcKind k : kinds::kProcKinds) {
    const KindRates& r = rates[kinds::index(k)];
    const program::Variant* v = kind.variant(k);
    if (r.count == 0 || !v) continue;
    if (!kind.leaf) {  // an inner task runs for its launch overhead, then waits for its children
      d[kinds::index(k)] = r.overhead_s;
      continue;
    }
    const program::Program::PointCost c = p.point_cost(l, k, pieces);
    double bytes = 0;
    for (size_t a = 0; a < l.args.size(); ++a)
      if (!l.args[a].only(program::Privilege::NA)) bytes += c.read_bytes[a] + c.write_bytes[a];
    const double rate = (c.precision == program::Precision::FP32 ? r.fp32 : r.fp64) * v->cost.peak_fraction;
    const double compute_s = c.flops > 0 && rate > 0 ? c.flops / rate : 0;
    const double access_s = bytes > 0 && r.bandwidth > 0 ? bytes / r.bandwidth : 0;
    d[kinds::index(k)] = r.overhead_s + std::max(compute_s, access_s);
    if (k == kinds::ProcKind::GPU) gpu = {r.overhead_s, compute_s, access_s};
  }
  return d;
}

// A data dependence with a delay: `reader` starts at least `delay` after `writer` finished.
struct DataEdge {
  size_t writer = 0, reader = 0;
  double delay = 0;
};

// Visits the task graph's events — 2t is t's start, 2t+1 its finish — each once, after every event
// it waits for: a start waits for its predecessors' finishes, its fence, its parent's start and
// the `extra` edges' writers; a finish for its start and its children's finishes. A fence f is
// an event too, 2n + f, waiting for the finishes before it; it is not visited but passed through
// at the finish of the last task before it, its after set reached with that task's successors.
// `event(v)` is called as a task's event is taken, `edge(v, w, delay)` for each edge from it
// (delay: an extra edge's, else 0). Ready events are taken last first, pushed in ascending
// order at the start (descending when `descending`). `extra` is sorted by writer.
template <typename Event, typename Edge>
void walk_events(const program::TaskGraph& g, const std::vector<DataEdge>& extra, bool descending, Event event,
                 Edge edge) {
  const size_t n = g.size();
  std::vector<int64_t> pending(2 * n + g.fence_count(), 0);
  for (size_t t = 0; t < n; ++t) {
    pending[2 * t] =
        g.pred_start[t + 1] - g.pred_start[t] + (g.tasks[t].parent.valid() ? 1 : 0) + (g.fence_waited[t] >= 0 ? 1 : 0);
    pending[2 * t + 1] = 1 + g.child_start[t + 1] - g.child_start[t];
  }
  for (size_t f = 0; f < g.fence_count(); ++f)
    pending[2 * n + f] = g.fence_before_start[f + 1] - g.fence_before_start[f];
  for (const DataEdge& e : extra) ++pending[2 * e.reader];
  std::vector<size_t> first(n + 1, extra.size());  // extra[first[t] .. first[t+1]): t's edges
  for (size_t e = extra.size(); e-- > 0;) first[extra[e].writer] = e;
  for (size_t t = n; t-- > 0;) first[t] = std::min(first[t], first[t + 1]);
  std::vector<size_t> ready;
  for (size_t i = 0; i < 2 * n; ++i) {
    const size_t v = descending ? 2 * n - 1 - i : i;
    if (pending[v] == 0) ready.push_back(v);
  }
  auto reach = [&](size_t v, size_t w, double delay) {
    edge(v, w, delay);
    if (--pending[w] == 0) ready.push_back(w);
  };
  while (!ready.empty()) {
    const size_t v = ready.back();
    ready.pop_back();
    event(v);
    const size_t t = v / 2;
    if (v % 2 == 0) {
      reach(v, v + 1, 0);
      for (int64_t c = g.child_start[t]; c < g.child_start[t + 1]; ++c)
        reach(v, 2 * g.child_ids[static_cast<size_t>(c)].index(), 0);
    } else {
      // The successors, and the fence's after set when t is the last task before it.
      size_t fence = 0;
      bool fence_done = false;
      if (const int32_t f = g.fence_fed[t]; f >= 0) {
        fence = 2 * n + static_cast<size_t>(f);
        edge(v, fence, 0);
        fence_done = --pending[fence] == 0;
      }
      g.for_each_successor(t, fence_done, [&](program::PointTaskId u, bool through_fence) {
        reach(through_fence ? fence : v, 2 * u.index(), 0);
      });
      for (size_t e = first[t]; e < first[t + 1]; ++e) reach(v, 2 * extra[e].reader, extra[e].delay);
      if (g.tasks[t].parent.valid()) reach(v, 2 * g.tasks[t].parent.index() + 1, 0);
    }
  }
}

// The longest chain of counted tasks: a task starts after its predecessors finished (and
// after the `extra` edges' writers finished, plus their delay) and not before its parent
// started; an inner task finishes after its children. Tasks not counted (outside the timed
// window) take no time. `extra` is sorted by writer.
double critical_path(const program::TaskGraph& g, const std::vector<double>& weight,
                     const std::vector<DataEdge>& extra = {}) {
  std::vector<double> at(2 * g.size() + g.fence_count(), 0);
  double longest = 0;
  walk_events(
      g, extra, false, [&](size_t v) { longest = std::max(longest, at[v]); },
      [&](size_t v, size_t w, double delay) {
        const double run = w == v + 1 && v % 2 == 0 ? weight[v / 2] : 0;  // a start to its finish
        at[w] = std::max(at[w], at[v] + run + delay);
      });
  return longest;
}

// Barriers: single tasks of the timed window that form a chain of dependences (each after
// the previous one), such as pennant's per-cycle time step. Every task that follows barrier
// i and precedes barrier i + 1 runs between them, so the run takes at least the sum over
// these segments of what each needs, plus the barriers themselves. Per event of the task
// graph (2t: start of t, 2t + 1: its finish, then the fences): the last barrier it follows
// (0: none) and the first it precedes (m + 1: none), barriers numbered 1..m.
struct Barriers {
  std::vector<size_t> tasks;
  std::vector<int32_t> after, before;  // per event
};

// Labels every event with the last barrier of `b.tasks` it follows and the first it precedes.
void label(const program::TaskGraph& g, Barriers& b) {
  const size_t events = 2 * g.size() + g.fence_count();
  std::vector<int32_t> number(g.size(), 0);  // 1..m for barriers
  for (size_t i = 0; i < b.tasks.size(); ++i) number[b.tasks[i]] = static_cast<int32_t>(i + 1);
  b.after.assign(events, 0);
  std::vector<std::pair<size_t, size_t>> arcs;
  walk_events(
      g, {}, false, [](size_t) {},
      [&](size_t v, size_t w, double) {
        int32_t from = b.after[v];
        if (v % 2 == 1 && v < 2 * g.size() && number[v / 2] > 0) from = number[v / 2];  // a barrier's finish
        b.after[w] = std::max(b.after[w], from);
        arcs.emplace_back(v, w);
      });
  b.before.assign(events, static_cast<int32_t>(b.tasks.size()) + 1);
  for (size_t t = 0; t < g.size(); ++t)
    if (number[t] > 0) b.before[2 * t] = number[t];
  for (size_t a = arcs.size(); a-- > 0;)
    b.before[arcs[a].first] = std::min(b.before[arcs[a].first], b.before[arcs[a].second]);
}

// The single tasks of the timed window, each after the previous one, in the order their
// starts become ready; then without those that much work runs beside (the tasks that follow
// the barrier before and precede the one after, more than half a segment's share of the
// work): such a barrier separates little, and dropping it puts that work in a segment.
Barriers find_barriers(const program::Program& p, const program::TaskGraph& g, const std::vector<bool>& counted,
                       const std::vector<double>& weight) {
  Barriers b;
  std::vector<int32_t> after(2 * g.size() + g.fence_count(), 0);
  std::vector<bool> chosen(g.size(), false);
  walk_events(
      g, {}, false,
      [&](size_t v) {
        if (v % 2 != 0 || v >= 2 * g.size()) return;
        const size_t t = v / 2;
        if (counted[t] && p.launches[g.tasks[t].launch.index()].kind == program::LaunchKind::Single &&
            after[v] == static_cast<int32_t>(b.tasks.size())) {
          b.tasks.push_back(t);  // after every barrier so far: the next one
          chosen[t] = true;
        }
      },
      [&](size_t v, size_t w, double) {
        int32_t from = after[v];
        if (v % 2 == 1 && v < 2 * g.size() && chosen[v / 2]) from = static_cast<int32_t>(b.tasks.size());
        after[w] = std::max(after[w], from);
      });
  if (b.tasks.empty()) return Barriers{};
  label(g, b);
  const size_t m = b.tasks.size();
  std::vector<double> beside(m + 2, 0);  // difference array: the work running beside each barrier
  double work = 0;
  for (size_t t = 0; t < g.size(); ++t) {
    if (!counted[t] || weight[t] <= 0) continue;
    work += weight[t];
    const int32_t first = b.after[2 * t] + 1, last = b.before[2 * t + 1] - 1;  // barriers it bypasses
    if (first <= last) {
      beside[static_cast<size_t>(first)] += weight[t];
      beside[static_cast<size_t>(last) + 1] -= weight[t];
    }
  }
  std::vector<size_t> kept;
  double running = 0;
  for (size_t i = 1; i <= m; ++i) {
    running += beside[i];
    if (running <= 0.5 * work / static_cast<double>(m + 1)) kept.push_back(b.tasks[i - 1]);
  }
  b.tasks = std::move(kept);
  if (b.tasks.empty()) return Barriers{};
  label(g, b);
  return b;
}

// The processors of one kind, n of them, run tasks j that cannot start before head r_j, take
// d_j and leave a chain of tail q_j after them: for any set S of them, the last one ends no
// earlier than min r + (sum of d) / n + min q over S. Taken over the sets "every task whose
// head is at least h" and "every task whose tail is at least h" for every h.
double head_body_tail(std::vector<std::array<double, 3>>& tasks, int n);

// The least time of the tasks with these durations (`kind`: the processor kind each runs on,
// -1 undecided) under the rules of critical_path: the larger of the critical path, the
// head-body-tail bound of each processor kind's tasks, and the sum over the barriers'
// segments of the same within each segment (heads from the barrier before, tails to the one
// after) plus the barriers' own durations.
double schedule_bound(const program::TaskGraph& g, const std::vector<double>& weight,
                      const std::vector<DataEdge>& extra, const std::vector<int>& kind,
                      const std::array<KindRates, kKinds>& rates, const Barriers& b) {
  const size_t events = 2 * g.size() + g.fence_count();
  std::vector<double> at(events, 0), after(events, 0), rel_at(events, 0), rel_after(events, 0);
  struct Arc {
    size_t from, to;
    double length;
  };
  std::vector<Arc> arcs;
  arcs.reserve(2 * g.size() + extra.size());
  const bool segmented = !b.tasks.empty();
  // A barrier's start event: its `before` names it.
  auto barrier_start = [&](size_t v) {
    return v % 2 == 0 && v < 2 * g.size() && b.before[v] <= static_cast<int32_t>(b.tasks.size()) &&
           b.tasks[static_cast<size_t>(b.before[v] - 1)] == v / 2;
  };
  walk_events(
      g, extra, false, [](size_t) {},
      [&](size_t v, size_t w, double delay) {
        const double run = w == v + 1 && v % 2 == 0 ? weight[v / 2] : 0;  // a start to its finish
        at[w] = std::max(at[w], at[v] + run + delay);
        // From the finish of the last barrier before w, through what follows it too (a
        // barrier's finish has the label of its start: the arcs out of it do not count).
        if (segmented && b.after[v] == b.after[w]) rel_at[w] = std::max(rel_at[w], rel_at[v] + run + delay);
        arcs.push_back({v, w, run + delay});
      });
  // Back from the end, and from each barrier's start back through what precedes it too.
  for (size_t a = arcs.size(); a-- > 0;) {
    const Arc& x = arcs[a];
    after[x.from] = std::max(after[x.from], x.length + after[x.to]);
    if (segmented && b.before[x.from] == b.before[x.to] && !barrier_start(x.to))
      rel_after[x.from] = std::max(rel_after[x.from], x.length + rel_after[x.to]);
  }
  double longest = 0;
  std::array<std::vector<std::array<double, 3>>, kKinds> on_kind;
  for (size_t t = 0; t < g.size(); ++t) {
    longest = std::max(longest, at[2 * t] + weight[t] + after[2 * t + 1]);
    if (kind[t] >= 0 && weight[t] > 0)
      on_kind[static_cast<size_t>(kind[t])].push_back({at[2 * t], weight[t], after[2 * t + 1]});
  }
  for (size_t k = 0; k < kKinds; ++k) longest = std::max(longest, head_body_tail(on_kind[k], rates[k].count));
  if (!segmented) return longest;
  // Per segment: its critical path and per kind its head-body-tail bound.
  const size_t m = b.tasks.size();
  std::vector<std::array<std::vector<std::array<double, 3>>, kKinds>> segment(m + 1);
  std::vector<double> segment_path(m + 1, 0);
  for (size_t t = 0; t < g.size(); ++t) {
    const int32_t i = b.after[2 * t];
    if (b.before[2 * t + 1] != i + 1 || weight[t] <= 0) continue;  // not between two consecutive barriers
    const double r = rel_at[2 * t], q = rel_after[2 * t + 1];
    segment_path[static_cast<size_t>(i)] = std::max(segment_path[static_cast<size_t>(i)], r + weight[t] + q);
    if (kind[t] >= 0) segment[static_cast<size_t>(i)][static_cast<size_t>(kind[t])].push_back({r, weight[t], q});
  }
  double total = 0;
  for (size_t i = 0; i <= m; ++i) {
    double need = segment_path[i];
    for (size_t k = 0; k < kKinds; ++k) need = std::max(need, head_body_tail(segment[i][k], rates[k].count));
    total += need;
  }
  for (size_t t : b.tasks) total += weight[t];
  return std::max(longest, total);
}

double head_body_tail(std::vector<std::array<double, 3>>& tasks, int n) {  // (r, d, q) each
  if (tasks.empty() || n <= 0) return 0;
  double best = 0;
  for (int side = 0; side < 2; ++side) {
    const size_t key = side == 0 ? 0 : 2, other = side == 0 ? 2 : 0;
    std::sort(tasks.begin(), tasks.end(), [&](const auto& a, const auto& b) { return a[key] > b[key]; });
    double work = 0, least_other = kInf;
    for (const auto& x : tasks) {
      work += x[1];
      least_other = std::min(least_other, x[other]);
      best = std::max(best, x[key] + work / n + least_other);
    }
  }
  return best;
}

// Data that must cross between the GPUs' own memories and the memories the other processors
// reach, for an assignment of task kinds to sides (GPU or not). A byte one task kind
// produces and another reads moves nothing when both run on the same side; across sides it
// must travel, either copied over a channel between a GPU-only memory (a framebuffer: every
// copy into or out of it crosses its link to the node's host memories, at that link's
// bandwidth) and a memory the other processors reach, or accessed by the GPU task itself in
// a memory both reach (zero-copy), where the task pays each byte at the GPU's access
// bandwidth instead of its framebuffer's (docs/simulation.md: a remote access is a transfer
// the task waits for, or its uncontended time, added to its local accesses).
struct Crossing {
  // A task kind `writer` produced data that `reader` read: `up` bytes must cross when the
  // writer runs on GPUs and the reader elsewhere, `down` when the reader runs on GPUs and
  // the writer elsewhere.
  struct Pair {
    int32_t writer = 0, reader = 0;
    double up = 0, down = 0;
    auto operator<=>(const Pair&) const = default;
  };
  // The data versions (one (block, field) between two writes) with the same pairs: across
  // sides, a version crosses at least once, so it counts the largest of its crossing pairs
  // (one copy serves every reader on the far side).
  std::vector<std::pair<std::vector<Pair>, double>> groups;  // pairs, how many versions
  // Per pair of point tasks of different kinds, the bytes the reader read of what the writer
  // produced: the fields' bytes (what a copy moves) and the bytes a zero-copy access by the
  // task on the GPU moves, when the writer is on GPUs (up) and when the reader is (down).
  struct Flow {
    size_t writer = 0, reader = 0;
    double up_data = 0, up_access = 0, down_data = 0, down_access = 0;
    double largest = 0;  // bytes of its largest (block, field): one copy brings it over one link
  };
  std::vector<Flow> flows;            // sorted by writer
  double link_up = 0, link_down = 0;  // bytes/s: the GPU-only memories' links out and in
  // bytes/s: the fastest of those links alone (a (block, field) crosses whole, over one link)
  double one_link_up = 0, one_link_down = 0;
  double gpus = 0;   // GPUs
  double extra = 0;  // s/byte a GPU pays more for a zero-copy byte than for one in its fastest memory
  bool any() const { return !groups.empty() && gpus > 0; }
  // The least time of an assignment, side[kind]: 1 on GPUs, 0 elsewhere, -1 not yet decided
  // (its data counted as not crossing, so a partial assignment's time bounds its
  // completions'). `gpu_s`: the GPU tasks' least time with every byte in the fastest memory
  // (launch overheads and bytes over that bandwidth, whatever their compute). In time T the
  // links carry at most T x their bandwidth each way, the rest z of the crossing bytes is
  // zero-copy, and the GPUs then need gpu_s + z x extra of their gpus x T.
  double time(const std::vector<int8_t>& side, double gpu_s) const {
    double up = 0, down = 0;
    for (const auto& [pairs, count] : groups) {
      double u = 0, d = 0;
      for (const Pair& q : pairs) {
        const int8_t w = side[static_cast<size_t>(q.writer)], r = side[static_cast<size_t>(q.reader)];
        if (w == 1 && r == 0) u = std::max(u, q.up);
        if (w == 0 && r == 1) d = std::max(d, q.down);
      }
      up += count * u;
      down += count * d;
    }
    if (up <= 0 && down <= 0) return 0;
    // Feasible in T when the GPUs can pay for what the links cannot carry.
    auto feasible = [&](double t) {
      const double zero_copy = std::max(0.0, up - t * link_up) + std::max(0.0, down - t * link_down);
      return gpu_s + zero_copy * extra <= gpus * t;
    };
    double lo = 0, hi = (gpu_s + (up + down) * extra) / gpus;  // feasible: everything zero-copy
    if (!(hi > 0) || !std::isfinite(hi)) return 0;
    for (int i = 0; i < 60; ++i) {
      const double mid = 0.5 * (lo + hi);
      (feasible(mid) ? hi : lo) = mid;
    }
    return lo;  // infeasible below lo: a lower bound
  }
};

// The leaf tasks in an order that respects the task graph (a task after every task it
// depends on, directly or through its ancestors): the order their starts become ready.
std::vector<size_t> dependence_order(const program::TaskGraph& g) {
  std::vector<size_t> order;
  walk_events(
      g, {}, true,
      [&](size_t v) {
        if (v % 2 == 0) order.push_back(v / 2);
      },
      [](size_t, size_t, double) {});
  return order;
}

// Follows every (block, field) through the leaf tasks in dependence order: each read of the
// timed window records which task kinds of the window produced what it reads (the last
// writer and the reductions since), and how many of its elements surely came from each: all
// of the smaller piece when one of them is the whole block, else what two pieces of the
// block must share. A zero-copy access moves the bytes the variant's cost names, so a pair's
// bytes shrink with the GPU side's cost where that names fewer bytes than the fields hold.
Crossing crossing(const program::Program& p, const program::TaskGraph& g, const std::vector<bool>& counted,
                  const machine::Machine& m) {
  Crossing out;
  // The links: each GPU-only memory's fastest channel to and from the memories the other
  // processors reach (the simulator gives that pair of endpoints one link per direction at
  // that bandwidth); and what a GPU pays more per byte it accesses across the link than per
  // byte in its fastest memory.
  auto reached_by = [&](machine::MemId mem, bool gpu) {
    for (machine::ProcId q : m.accessors(mem))
      if ((m.processor(q).kind == kinds::ProcKind::GPU) == gpu) return true;
    return false;
  };
  for (const machine::Memory& f : m.memories()) {
    if (!reached_by(f.id, true) || reached_by(f.id, false)) continue;  // not GPU-only
    double to = 0, from = 0;
    for (const machine::Memory& h : m.memories()) {
      if (h.node != f.node || !reached_by(h.id, false)) continue;
      if (auto c = m.channel(f.id, h.id)) to = std::max(to, c->bandwidth);
      if (auto c = m.channel(h.id, f.id)) from = std::max(from, c->bandwidth);
    }
    out.link_up += to;
    out.link_down += from;
    out.one_link_up = std::max(out.one_link_up, to);
    out.one_link_down = std::max(out.one_link_down, from);
  }
  double fastest = 0, shared = 0;
  for (machine::ProcId q : m.processors_of(kinds::ProcKind::GPU)) {
    out.gpus += 1;
    for (const machine::Access& a : m.accessible(q)) {
      fastest = std::max(fastest, a.bandwidth);
      if (reached_by(a.mem, false)) shared = std::max(shared, a.bandwidth);
    }
  }
  out.extra = shared > 0 && fastest > shared ? 1 / shared - 1 / fastest : 0;

  // Reductions a (block, field) remembers between two writes (more are left out: less data
  // counted to cross, so still a lower bound).
  constexpr size_t kMaxContributions = 64;
  struct Contribution {
    size_t task = 0;
    int32_t kind = 0;
    double ratio = 1;  // the zero-copy bytes over the fields' bytes on the GPU (at most 1)
    int64_t count = 0;
    bool counted = false;
  };
  struct Cell {
    int64_t version = -1;
    std::vector<Contribution> by;
  };
  // cells[region][field * blocks + block]
  std::vector<std::vector<Cell>> cells(p.regions.size());
  for (size_t r = 0; r < p.regions.size(); ++r)
    cells[r].resize(p.regions[r].fields.size() * p.regions[r].blocks.size());
  int64_t versions = 0;
  std::map<int64_t, std::vector<Crossing::Pair>> flows;  // by version
  std::map<std::pair<size_t, size_t>, Crossing::Flow> edges;

  for (size_t t : dependence_order(g)) {
    const program::Launch& l = p.launches[g.tasks[t].launch.index()];
    const program::TaskKind& kind = p.task_of(l);
    if (!kind.leaf) continue;
    const auto k = static_cast<int32_t>(l.task.index());
    std::vector<int64_t> pieces(l.args.size());
    for (size_t a = 0; a < l.args.size(); ++a) pieces[a] = g.piece(program::PointTaskId::at(t), a);
    std::optional<program::Program::PointCost> gpu_cost;
    if (kind.has_variant(kinds::ProcKind::GPU)) gpu_cost = p.point_cost(l, kinds::ProcKind::GPU, pieces);
    auto ratio = [&](size_t a) {
      if (!gpu_cost) return 1.0;
      const program::Program::ElementBytes eb = p.element_bytes(l.args[a]);
      const double fields = static_cast<double>(p.elements_of(l.args[a], pieces[a])) * (eb.read + eb.write);
      return fields > 0 ? std::min(1.0, (gpu_cost->read_bytes[a] + gpu_cost->write_bytes[a]) / fields) : 1.0;
    };
    // What this task reads of each contribution, by (block and field, contributing task).
    struct Read {
      int64_t bytes = 0;
      Contribution by;
      double ratio = 1;  // the reader's (the least over its arguments that read it)
      int64_t version = -1;
    };
    std::map<std::pair<const Cell*, size_t>, Read> reads;
    for (int pass = 0; pass < 2; ++pass) {  // every read before this task's writes
      if (pass == 1) {
        for (const auto& [key, r] : reads) {
          const auto bytes = static_cast<double>(r.bytes);
          auto& pairs = flows[r.version];
          const Crossing::Pair q{r.by.kind, k, bytes * r.by.ratio, bytes * r.ratio};
          auto it = std::find_if(pairs.begin(), pairs.end(),
                                 [&](const auto& e) { return e.writer == q.writer && e.reader == q.reader; });
          if (it == pairs.end())
            pairs.push_back(q);
          else
            it->up = std::max(it->up, q.up), it->down = std::max(it->down, q.down);
          Crossing::Flow& e = edges[{r.by.task, t}];
          e.writer = r.by.task;
          e.reader = t;
          e.up_data += bytes;
          e.up_access += q.up;
          e.down_data += bytes;
          e.down_access += q.down;
          e.largest = std::max(e.largest, bytes);
        }
      }
      for (size_t a = 0; a < l.args.size(); ++a) {
        const program::RegionArg& arg = l.args[a];
        if (arg.virtual_tag || arg.only(program::Privilege::NA)) continue;
        const program::Region& region = p.regions[arg.region.index()];
        const size_t blocks = region.blocks.size();
        const double r_a = ratio(a);
        for (const program::FieldAccess& fa : arg.access) {
          for (size_t f = 0; f < region.fields.size(); ++f) {
            if (!(fa.fields & (program::FieldMask{1} << f))) continue;
            for (const program::Span& s : p.spans_of(arg, pieces[a])) {
              Cell& cell = cells[arg.region.index()][f * blocks + static_cast<size_t>(s.block)];
              const int64_t size = region.blocks[static_cast<size_t>(s.block)];
              if (pass == 0 && program::reads(fa.privilege) && counted[t]) {
                for (const Contribution& c : cell.by) {
                  if (!c.counted || c.kind == k) continue;
                  const int64_t shared = c.count == size || s.count == size
                                             ? std::min(c.count, s.count)
                                             : std::max<int64_t>(0, c.count + s.count - size);
                  if (shared <= 0) continue;
                  // Two arguments reading the same (block, field) read one datum: the larger share counts.
                  Read& r = reads[{&cell, c.task}];
                  r.ratio = r.bytes == 0 ? r_a : std::min(r.ratio, r_a);
                  if (shared * region.fields[f].bytes > r.bytes) {
                    r.bytes = shared * region.fields[f].bytes;
                    r.by = c;
                    r.version = cell.version;
                  }
                }
              }
              if (pass == 1 && program::writes(fa.privilege)) {
                cell.version = versions++;
                cell.by.assign(1, Contribution{t, k, r_a, s.count, counted[t]});
              }
              if (pass == 1 && fa.privilege == program::Privilege::RED) {
                if (cell.version < 0) cell.version = versions++;
                auto it =
                    std::find_if(cell.by.begin(), cell.by.end(), [&](const Contribution& c) { return c.task == t; });
                if (it == cell.by.end() && cell.by.size() < kMaxContributions)
                  cell.by.push_back(Contribution{t, k, r_a, s.count, counted[t]});
                else if (it != cell.by.end())
                  it->count = std::max(it->count, s.count);
              }
            }
          }
        }
      }
    }
  }
  std::map<std::vector<Crossing::Pair>, double> groups;
  for (auto& [version, pairs] : flows) {
    std::sort(pairs.begin(), pairs.end());
    groups[pairs] += 1;
  }
  out.groups.assign(groups.begin(), groups.end());
  for (const auto& [key, e] : edges) out.flows.push_back(e);  // the map's order: by writer
  return out;
}

// The work bound for one weighing of the processors: with r_k >= 0 per kind and w_t the
// least d(t, k) * r_k over the kinds that can run t, a processor of kind k does at most
// T * r_k of w in time T, so T >= sum of w over the tasks / sum of r over the processors
// that can run any of them.
double work_bound(const std::vector<std::array<double, kKinds>>& d, const std::vector<bool>& counted,
                  const std::array<KindRates, kKinds>& rates, const std::array<double, kKinds>& r) {
  double work = 0;
  std::array<bool, kKinds> used{};
  for (size_t t = 0; t < d.size(); ++t) {
    if (!counted[t]) continue;
    double w = kInf;
    for (size_t k = 0; k < kKinds; ++k)
      if (std::isfinite(d[t][k])) w = std::min(w, d[t][k] * r[k]);
    if (!std::isfinite(w) || w <= 0) continue;
    work += w;
    for (size_t k = 0; k < kKinds; ++k) used[k] = used[k] || std::isfinite(d[t][k]);
  }
  double rate = 0;
  for (size_t k = 0; k < kKinds; ++k)
    if (used[k]) rate += rates[k].count * r[k];
  return rate > 0 ? work / rate : 0;
}

// What the assignment bound weighs, per point task of the program.
struct Model {
  const program::TaskGraph& g;
  std::vector<std::array<double, kKinds>> d;  // least time on each kind (+infinity: cannot run)
  std::vector<GpuTime> gpu;
  std::vector<bool> counted;
  std::vector<size_t> kind_of;  // task kind of each point task
  Crossing crossing;
  Barriers barriers;
};

// The bound when every point of a task kind runs on the same kind of processor, as a mapper
// decides (a Task rule names the kind for every point of the task). An assignment of task
// kinds to processor kinds takes at least the largest of
// - the most loaded processor kind's work per processor;
// - the time the data crossing between the GPUs' memories and the others' takes
//   (Crossing::time);
// - schedule_bound with every task at its assigned kind, each crossing data dependence
//   delayed by its copy (`copied`) or by what the zero-copy access adds to the GPU task,
//   whichever is less.
// value() gives that figure for one assignment; least_over_all() the least over all of them,
// by branch and bound over the task kinds, heaviest first, an undecided task kind at its
// fastest kind and crossing nothing (nullopt when the search exceeds its node budget: the
// weighings' bound then stands alone).
class Assignments {
 public:
  Assignments(const Model& model, const std::array<KindRates, kKinds>& rates)
      : model_(model), rates_(rates), crossing_(model.crossing) {
    size_t kinds_n = 0;
    for (size_t k : model.kind_of) kinds_n = std::max(kinds_n, k + 1);
    load_.resize(kinds_n);
    for (auto& l : load_) l.fill(0);
    gpu_memory_.assign(kinds_n, 0);
    for (size_t t = 0; t < model.g.size(); ++t) {
      if (!model.counted[t]) continue;
      for (size_t k = 0; k < kKinds; ++k) load_[model.kind_of[t]][k] += model.d[t][k];
      gpu_memory_[model.kind_of[t]] += model.gpu[t].overhead_s + model.gpu[t].memory_s;
    }
    for (auto& l : load_)
      for (size_t k = 0; k < kKinds; ++k)
        l[k] = rates[k].count > 0 ? l[k] / rates[k].count : kInf;  // time on kind k if spread evenly
    // The side of each task kind (1 on GPUs, 0 elsewhere): fixed where it can run on one side
    // only, else decided with its processor kind.
    side_.assign(kinds_n, -1);
    assigned_.assign(kinds_n, -1);
    for (size_t i = 0; i < kinds_n; ++i) {
      bool gpu = false, other = false;
      for (size_t k = 0; k < kKinds; ++k)
        if (std::isfinite(load_[i][k])) (k == kGpu ? gpu : other) = true;
      if (gpu != other) side_[i] = gpu ? 1 : 0;
      if (least(i) > 0) order_.push_back(i);
    }
    std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return least(a) > least(b); });
    fixed_ = side_;
    weight_.assign(model.g.size(), 0);
    edges_.resize(crossing_.flows.size());
    task_kind_.assign(model.g.size(), -1);
  }

  // The figure of one complete assignment (the processor kind of each task kind; task kinds
  // without work may be left out): +infinity when a task kind cannot run on its kind.
  double value(const std::vector<int>& kind_of) {
    std::array<double, kKinds> busy{};
    bool runs = true;
    for (size_t i : order_) {
      const int k = i < kind_of.size() ? kind_of[i] : -1;
      if (k < 0 || !std::isfinite(load_[i][static_cast<size_t>(k)])) {
        runs = false;  // a task kind that runs nowhere
        break;
      }
      assign(i, static_cast<size_t>(k));
      busy[static_cast<size_t>(k)] += load_[i][static_cast<size_t>(k)];
    }
    const double v = runs ? std::max({*std::max_element(busy.begin(), busy.end()), cross(), path()}) : kInf;
    side_ = fixed_;
    std::fill(assigned_.begin(), assigned_.end(), -1);
    gpu_s_ = 0;
    return v;
  }

  // The least figure over every assignment; nullopt when the search exceeds its node budget.
  std::optional<double> least_over_all() {
    // Assignments to start from: each task kind where it finishes the loads soonest, and each
    // where it runs fastest.
    std::vector<int> start(load_.size(), -1);
    std::array<double, kKinds> loads{};
    for (size_t i : order_) {
      size_t k = 0;
      for (size_t j = 1; j < kKinds; ++j)
        if (loads[j] + load_[i][j] < loads[k] + load_[i][k]) k = j;
      start[i] = static_cast<int>(k);
      loads[k] += load_[i][k];
    }
    double best = value(start);
    if (!std::isfinite(best)) return std::nullopt;  // no bound
    for (size_t i : order_)
      start[i] = static_cast<int>(std::min_element(load_[i].begin(), load_[i].end()) - load_[i].begin());
    best = std::min(best, value(start));
    std::array<double, kKinds> busy{};
    // The rest's least time per kind, summed from the end: a subtree cannot end below the
    // current loads plus the remainder spread over all kinds at their fastest.
    std::vector<double> rest_min(order_.size() + 1, 0);
    for (size_t i = order_.size(); i-- > 0;) rest_min[i] = rest_min[i + 1] + least(order_[i]);
    int64_t nodes = 0;
    constexpr int64_t kNodeBudget = 2'000'000;
    int usable = 0;
    for (size_t k = 0; k < kKinds; ++k) usable += rates_[k].count > 0 ? 1 : 0;
    bool complete = true;
    // Evaluating the critical path costs a pass over the task graph: done where the loads and
    // the crossing do not settle a node, until the passes have visited kPathWork tasks and
    // crossing dependences (a few seconds); the search then goes on without it (a node's
    // figure is then lower, so the result still bounds every assignment's time).
    int64_t path_work = 0;
    constexpr int64_t kPathWork = 200'000'000;
    const auto per_path = static_cast<int64_t>(model_.g.size() + model_.g.edge_count() + crossing_.flows.size());
    std::function<void(size_t)> search = [&](size_t i) {
      if (++nodes > kNodeBudget) {
        complete = false;
        return;
      }
      const double worst = *std::max_element(busy.begin(), busy.end());
      double total = 0;
      for (double b : busy) total += b;
      // Each kind ends no earlier than its load; together they hold at least the rest's fastest time.
      if (worst >= best || (total + rest_min[i]) / std::max(usable, 1) >= best) return;
      // The data known to cross and the critical path only grow as the other task kinds are placed.
      const double crossing_s = cross();
      if (crossing_s >= best) return;
      double path_s = 0;
      if (path_work < kPathWork) {
        path_work += per_path;
        path_s = path();
        if (path_s >= best) return;
      }
      if (i == order_.size()) {
        best = std::max({worst, crossing_s, path_s});
        return;
      }
      const size_t kind = order_[i];
      const auto& l = load_[kind];
      const int8_t was = side_[kind];
      std::array<size_t, kKinds> kinds_by_time;  // the fastest first: good assignments early prune more
      for (size_t k = 0; k < kKinds; ++k) kinds_by_time[k] = k;
      std::stable_sort(kinds_by_time.begin(), kinds_by_time.end(), [&](size_t a, size_t b) { return l[a] < l[b]; });
      for (size_t k : kinds_by_time) {
        if (!complete) break;
        if (!std::isfinite(l[k]) || busy[k] + l[k] >= best) continue;
        busy[k] += l[k];
        assign(kind, k);
        search(i + 1);
        if (k == kGpu) gpu_s_ -= gpu_memory_[kind];
        assigned_[kind] = -1;
        side_[kind] = was;
        busy[k] -= l[k];
      }
    };
    search(0);
    if (!complete) return std::nullopt;
    return best;
  }

 private:
  static constexpr size_t kGpu = kinds::index(kinds::ProcKind::GPU);

  double least(size_t i) const { return *std::min_element(load_[i].begin(), load_[i].end()); }

  void assign(size_t kind, size_t k) {
    side_[kind] = k == kGpu ? 1 : 0;
    assigned_[kind] = static_cast<int>(k);
    if (k == kGpu) gpu_s_ += gpu_memory_[kind];
  }

  double cross() const { return crossing_.any() ? crossing_.time(side_, gpu_s_) : 0.0; }

  // What a zero-copy access adds to GPU task t.
  double zero_copy(size_t t, double bytes) const {
    const GpuTime& x = model_.gpu[t];
    return std::max(0.0, x.memory_s + bytes * crossing_.extra - std::max(x.compute_s, x.memory_s));
  }

  // A dependence's data copied across: all of it over the links together, and its largest
  // (block, field) whole over one of them.
  static double copied(double data, double largest, double links, double one_link) {
    if (links <= 0 || one_link <= 0) return kInf;
    return std::max(data / links, largest / one_link);
  }

  // The schedule figures of the assignment so far (schedule_bound), an undecided task kind at
  // its fastest kind and crossing nothing.
  double path() {
    const Model& m = model_;
    for (size_t t = 0; t < m.g.size(); ++t) {
      if (!m.counted[t]) continue;
      const int k = assigned_[m.kind_of[t]];
      weight_[t] = k >= 0 ? m.d[t][static_cast<size_t>(k)] : *std::min_element(m.d[t].begin(), m.d[t].end());
      if (!std::isfinite(weight_[t])) weight_[t] = 0;
    }
    for (size_t e = 0; e < crossing_.flows.size(); ++e) {
      const Crossing::Flow& f = crossing_.flows[e];
      const int8_t w = side_[m.kind_of[f.writer]], r = side_[m.kind_of[f.reader]];
      double delay = 0;
      if (w == 1 && r == 0)
        delay = std::min(copied(f.up_data, f.largest, crossing_.link_up, crossing_.one_link_up),
                         zero_copy(f.writer, f.up_access));
      if (w == 0 && r == 1)
        delay = std::min(copied(f.down_data, f.largest, crossing_.link_down, crossing_.one_link_down),
                         zero_copy(f.reader, f.down_access));
      edges_[e] = {f.writer, f.reader, delay};
    }
    for (size_t t = 0; t < m.g.size(); ++t) task_kind_[t] = m.counted[t] ? assigned_[m.kind_of[t]] : -1;
    return schedule_bound(m.g, weight_, edges_, task_kind_, rates_, m.barriers);
  }

  const Model& model_;
  std::array<KindRates, kKinds> rates_;
  const Crossing& crossing_;
  std::vector<std::array<double, kKinds>> load_;  // per task kind, per processor kind: its time spread evenly
  std::vector<double> gpu_memory_;                // per task kind: its counted points' GPU memory time
  std::vector<size_t> order_;                     // task kinds with work, heaviest first
  std::vector<int8_t> side_, fixed_;              // per task kind (fixed_: before any assignment)
  std::vector<int> assigned_;                     // per task kind: processor kind, -1 undecided
  double gpu_s_ = 0;                              // the GPU memory time of the task kinds on GPUs so far
  std::vector<double> weight_;
  std::vector<DataEdge> edges_;
  std::vector<int> task_kind_;
};

// The figures lower_bound and AssignmentBound share, for a space's program on its machine.
// `fastest`: each task's least time on any kind (0 outside the timed window).
Model make_model(const Space& space, std::vector<double>& fastest_time) {
  const program::Program& p = space.program();
  const program::TaskGraph& g = space.graph();
  const std::array<KindRates, kKinds> rates = kind_rates(space.machine());
  // The timed window's tasks (every task when nothing is timed: the window is then the run).
  std::vector<bool> counted(g.size());
  bool any_timed = false;
  for (size_t t = 0; t < g.size(); ++t) any_timed = any_timed || p.launches[g.tasks[t].launch.index()].timed;
  for (size_t t = 0; t < g.size(); ++t) counted[t] = !any_timed || p.launches[g.tasks[t].launch.index()].timed;
  Model model{
      g, std::vector<std::array<double, kKinds>>(g.size()), std::vector<GpuTime>(g.size()), std::move(counted), {}, {},
      {}};
  fastest_time.assign(g.size(), 0);
  for (size_t t = 0; t < g.size(); ++t) {
    model.d[t] = fastest(p, g, t, rates, model.gpu[t]);
    const double best = *std::min_element(model.d[t].begin(), model.d[t].end());
    if (model.counted[t] && std::isfinite(best)) fastest_time[t] = best;
  }
  model.kind_of.resize(g.size());
  for (size_t t = 0; t < g.size(); ++t) model.kind_of[t] = p.launches[g.tasks[t].launch.index()].task.index();
  model.barriers = find_barriers(p, g, model.counted, fastest_time);
  model.crossing = crossing(p, g, model.counted, space.machine());
  return model;
}

}  // namespace

LowerBound lower_bound(const Space& space) {
  const program::Program& p = space.program();
  const program::TaskGraph& g = space.graph();
  const std::array<KindRates, kKinds> rates = kind_rates(space.machine());
  std::vector<double> weight;
  const Model model = make_model(space, weight);
  const auto& d = model.d;
  const auto& counted = model.counted;

  LowerBound b;
  b.path_s = critical_path(g, weight);
  // Weighings: every processor alike, and for each task kind the inverse of its mean time on
  // each kind (exact when that task kind is the whole work).
  std::vector<std::array<double, kKinds>> weighings;
  std::array<double, kKinds> alike;
  alike.fill(1);
  weighings.push_back(alike);
  for (size_t kind = 0; kind < p.tasks.size(); ++kind) {
    std::array<double, kKinds> sum{};
    std::array<int64_t, kKinds> n{};
    for (size_t t = 0; t < g.size(); ++t) {
      if (!counted[t] || p.launches[g.tasks[t].launch.index()].task.index() != kind) continue;
      for (size_t k = 0; k < kKinds; ++k)
        if (std::isfinite(d[t][k])) sum[k] += d[t][k], ++n[k];
    }
    std::array<double, kKinds> r{};
    bool any = false;
    for (size_t k = 0; k < kKinds; ++k)
      if (n[k] > 0 && sum[k] > 0) r[k] = static_cast<double>(n[k]) / sum[k], any = true;
    if (any) weighings.push_back(r);
  }
  for (const auto& r : weighings) b.work_s = std::max(b.work_s, work_bound(d, counted, rates, r));
  if (const std::optional<double> assigned = Assignments(model, rates).least_over_all())
    b.work_s = std::max(b.work_s, *assigned);
  return b;
}

struct AssignmentBound::Impl {
  std::vector<double> fastest_time;
  Model model;
  Assignments assignments;
  std::vector<int> processor_decision;  // per task kind: its Processor decision, -1 none
  std::vector<int> only_kind;           // per task kind without one: the processor kind it runs on, -1 none
  Impl(const Space& space) : model(make_model(space, fastest_time)), assignments(model, kind_rates(space.machine())) {}
};

AssignmentBound::AssignmentBound(const Space& space) : space_(space), impl_(std::make_unique<Impl>(space)) {
  const program::Program& p = space.program();
  impl_->processor_decision.assign(p.tasks.size(), -1);
  impl_->only_kind.assign(p.tasks.size(), -1);
  const std::vector<Decision>& ds = space.decisions();
  for (size_t d = 0; d < ds.size(); ++d)
    if (ds[d].kind == DecisionKind::Processor)
      if (auto t = p.find_task(ds[d].task)) impl_->processor_decision[t->index()] = static_cast<int>(d);
  for (size_t t = 0; t < p.tasks.size(); ++t) {
    if (impl_->processor_decision[t] >= 0) continue;
    for (kinds::ProcKind k : kinds::kProcKinds)  // the kind it can run on (one, without a decision)
      if (p.tasks[t].has_variant(k) && !space.machine().processors_of(k).empty()) {
        impl_->only_kind[t] = static_cast<int>(kinds::index(k));
        break;
      }
  }
}

AssignmentBound::~AssignmentBound() = default;

std::optional<double> AssignmentBound::of(const Point& point) const {
  const std::vector<Decision>& ds = space_.decisions();
  std::vector<int> kind_of(impl_->only_kind);
  for (size_t t = 0; t < kind_of.size(); ++t) {
    const int d = impl_->processor_decision[t];
    if (d < 0) continue;
    const std::string& name =
        ds[static_cast<size_t>(d)].choices[static_cast<size_t>(point[static_cast<size_t>(d)])].label;
    const std::optional<kinds::ProcKind> k = kinds::parse_proc_kind(name);
    kind_of[t] = k ? static_cast<int>(kinds::index(*k)) : -1;
  }
  const double v = impl_->assignments.value(kind_of);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace mage::tune
