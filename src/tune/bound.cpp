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
// has no variant or the machine no such processor).
std::array<double, kKinds> fastest(const program::Program& p, const program::TaskGraph& g, size_t t,
                                   const std::array<KindRates, kKinds>& rates) {
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
  }
  return d;
}

// The longest chain of counted tasks: a task starts after its predecessors finished and not
// before its parent started; an inner task finishes after its children. Tasks not counted
// (outside the timed window) take no time.
double critical_path(const program::TaskGraph& g, const std::vector<double>& weight) {
  const size_t n = g.size();
  // Nodes: 2t is t's start, 2t+1 its finish.
  std::vector<int64_t> pending(2 * n, 0);
  for (size_t t = 0; t < n; ++t) {
    pending[2 * t] = g.pred_start[t + 1] - g.pred_start[t] + (g.tasks[t].parent.valid() ? 1 : 0);
    pending[2 * t + 1] = 1 + g.child_start[t + 1] - g.child_start[t];
  }
  std::vector<double> at(2 * n, 0);
  std::vector<size_t> ready;
  for (size_t v = 0; v < 2 * n; ++v)
    if (pending[v] == 0) ready.push_back(v);
  double longest = 0;
  auto reach = [&](size_t v, double time) {
    at[v] = std::max(at[v], time);
    if (--pending[v] == 0) ready.push_back(v);
  };
  while (!ready.empty()) {
    const size_t v = ready.back();
    ready.pop_back();
    const size_t t = v / 2;
    if (v % 2 == 0) {
      reach(v + 1, at[v] + weight[t]);
      for (int64_t c = g.child_start[t]; c < g.child_start[t + 1]; ++c)
        reach(2 * g.child_ids[static_cast<size_t>(c)].index(), at[v]);
    } else {
      longest = std::max(longest, at[v]);
      for (int64_t s = g.succ_start[t]; s < g.succ_start[t + 1]; ++s)
        reach(2 * g.succ_ids[static_cast<size_t>(s)].index(), at[v]);
      if (g.tasks[t].parent.valid()) reach(2 * g.tasks[t].parent.index() + 1, at[v]);
    }
  }
  return longest;
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

// The work bound when every point of a task kind runs on the same kind of processor, as a
// mapper decides (a Task rule names the kind for every point of the task): the least, over
// the assignments of task kinds to processor kinds, of the most loaded processor kind's work
// per processor. `load[t][k]`: the summed time of task kind t's points on kind k (+infinity
// where it cannot run there). Branch and bound over the task kinds, heaviest first; nullopt
// when the search exceeds its node budget (the weighings' bound then stands alone).
std::optional<double> assignment_bound(std::vector<std::array<double, kKinds>> load,
                                       const std::array<KindRates, kKinds>& rates) {
  for (auto& l : load)
    for (size_t k = 0; k < kKinds; ++k)
      l[k] = rates[k].count > 0 ? l[k] / rates[k].count : kInf;  // time on kind k if spread evenly
  std::erase_if(load, [](const auto& l) { return *std::min_element(l.begin(), l.end()) <= 0; });
  std::sort(load.begin(), load.end(), [](const auto& a, const auto& b) {
    return *std::min_element(a.begin(), a.end()) > *std::min_element(b.begin(), b.end());
  });
  // An assignment to start from: each task kind where it finishes the loads soonest.
  std::array<double, kKinds> busy{};
  for (const auto& l : load) {
    size_t best = 0;
    for (size_t k = 1; k < kKinds; ++k)
      if (busy[k] + l[k] < busy[best] + l[best]) best = k;
    if (!std::isfinite(l[best])) return std::nullopt;  // a task kind that runs nowhere: no bound
    busy[best] += l[best];
  }
  double best = *std::max_element(busy.begin(), busy.end());
  // The rest's least time per kind, summed from the end: a subtree cannot end below the
  // current loads plus the remainder spread over all kinds at their fastest.
  std::vector<double> rest_min(load.size() + 1, 0);
  for (size_t i = load.size(); i-- > 0;) {
    double fastest = kInf;
    for (size_t k = 0; k < kKinds; ++k) fastest = std::min(fastest, load[i][k]);
    rest_min[i] = rest_min[i + 1] + fastest;
  }
  int64_t nodes = 0;
  constexpr int64_t kNodeBudget = 2'000'000;
  int usable = 0;
  for (size_t k = 0; k < kKinds; ++k) usable += rates[k].count > 0 ? 1 : 0;
  busy.fill(0);
  bool complete = true;
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
    if (i == load.size()) {
      best = worst;
      return;
    }
    for (size_t k = 0; k < kKinds && complete; ++k) {
      if (!std::isfinite(load[i][k]) || busy[k] + load[i][k] >= best) continue;
      busy[k] += load[i][k];
      search(i + 1);
      busy[k] -= load[i][k];
    }
  };
  search(0);
  if (!complete) return std::nullopt;
  return best;
}

}  // namespace

LowerBound lower_bound(const Space& space) {
  const program::Program& p = space.program();
  const program::TaskGraph g = program::analyze(p);
  const std::array<KindRates, kKinds> rates = kind_rates(space.machine());

  // The timed window's tasks (every task when nothing is timed: the window is then the run).
  std::vector<bool> counted(g.size());
  bool any_timed = false;
  for (size_t t = 0; t < g.size(); ++t) any_timed = any_timed || p.launches[g.tasks[t].launch.index()].timed;
  for (size_t t = 0; t < g.size(); ++t) counted[t] = !any_timed || p.launches[g.tasks[t].launch.index()].timed;

  std::vector<std::array<double, kKinds>> d(g.size());
  std::vector<double> weight(g.size(), 0);
  for (size_t t = 0; t < g.size(); ++t) {
    d[t] = fastest(p, g, t, rates);
    const double best = *std::min_element(d[t].begin(), d[t].end());
    if (counted[t] && std::isfinite(best)) weight[t] = best;
  }

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

  std::vector<std::array<double, kKinds>> load(p.tasks.size());
  for (auto& l : load) l.fill(0);
  for (size_t t = 0; t < g.size(); ++t) {
    if (!counted[t]) continue;
    auto& l = load[p.launches[g.tasks[t].launch.index()].task.index()];
    for (size_t k = 0; k < kKinds; ++k) l[k] += d[t][k];
  }
  if (const std::optional<double> assigned = assignment_bound(std::move(load), rates))
    b.work_s = std::max(b.work_s, *assigned);
  return b;
}

}  // namespace mage::tune
