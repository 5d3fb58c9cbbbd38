// Dependence analysis: launches → point tasks and the dependences between them.
//
// For every (region, block, field) the analysis keeps the tasks a new use must wait for:
// the last writer (or the current group of reducers with one operator), the readers since,
// and, for a reduction group, what its first member waited for. Each use of a piece visits
// the states of its blocks and fields only, so the cost is linear in the number of point
// tasks times the blocks and fields they touch; no pairs of tasks are compared.
#include <fmt/format.h>
#include <algorithm>
#include <deque>
#include <unordered_map>

#include "program/program.h"

namespace mage::program {

namespace {

struct State {
  std::vector<PointTaskId> writers;      // last writer, or the current reducers
  std::vector<PointTaskId> readers;      // readers since `writers`
  std::vector<PointTaskId> reduce_deps;  // what the current reduction group waits for
  RedOp op = RedOp::None;
  bool reducing = false;
};

void push_unique_back(std::vector<PointTaskId>& v, PointTaskId t) {
  if (v.empty() || v.back() != t) v.push_back(t);
}

void append(std::vector<PointTaskId>& to, const std::vector<PointTaskId>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Records the use of one (block, field) by task t and collects what t must wait for.
void use(State& s, PointTaskId t, Privilege priv, RedOp op, std::vector<PointTaskId>& preds) {
  switch (priv) {
    case Privilege::NA:
      return;
    case Privilege::RO:
      append(preds, s.writers);
      push_unique_back(s.readers, t);
      return;
    case Privilege::RW:
    case Privilege::WO:
      // Readers already wait for the writers, so waiting for them suffices.
      append(preds, s.readers.empty() ? s.writers : s.readers);
      s.writers.assign(1, t);
      s.readers.clear();
      s.reduce_deps.clear();
      s.reducing = false;
      s.op = RedOp::None;
      return;
    case Privilege::RED:
      if (s.reducing && s.op == op && s.readers.empty()) {
        append(preds, s.reduce_deps);
        push_unique_back(s.writers, t);
        return;
      }
      append(preds, s.readers.empty() ? s.writers : s.readers);
      s.reduce_deps = s.readers.empty() ? s.writers : s.readers;
      s.writers.assign(1, t);
      s.readers.clear();
      s.reducing = true;
      s.op = op;
      return;
  }
}

class Analyzer {
 public:
  explicit Analyzer(const Program& p) : p_(p) {
    for (const Region& r : p.regions) {
      base_.push_back(total_);
      total_ += static_cast<int64_t>(r.blocks.size() * r.fields.size());
    }
    states_.resize(static_cast<size_t>(total_));
    touched_flag_.assign(static_cast<size_t>(total_), false);
    per_launch_.resize(p.launches.size());
    future_tasks_.resize(p.futures.size());
  }

  TaskGraph run() {
    // The top-level context, then every context opened by an inner point task, in order.
    std::vector<std::pair<LaunchId, int64_t>> top;
    for (LaunchId l : p_.top) top.emplace_back(l, 0);
    run_context(top, PointTaskId{});
    for (size_t next = 0; next < g_.tasks.size(); ++next) {
      const Launch& l = p_.launches[g_.tasks[next].launch.index()];
      if (l.children.empty()) continue;
      std::vector<std::pair<LaunchId, int64_t>> issues;
      for (LaunchId c : l.children)
        for (int64_t s = 0; s < p_.launches[c.index()].steps; ++s) issues.emplace_back(c, s);
      run_context(issues, PointTaskId::at(next));
    }
    finish();
    return std::move(g_);
  }

 private:
  void reset_states() {
    for (int64_t i : touched_) {
      states_[static_cast<size_t>(i)] = State{};
      touched_flag_[static_cast<size_t>(i)] = false;
    }
    touched_.clear();
  }

  State& state(RegionId r, int32_t block, size_t field) {
    const Region& reg = p_.regions[r.index()];
    int64_t i = base_[r.index()] + static_cast<int64_t>(block) * static_cast<int64_t>(reg.fields.size()) +
                static_cast<int64_t>(field);
    if (!touched_flag_[static_cast<size_t>(i)]) {
      touched_flag_[static_cast<size_t>(i)] = true;
      touched_.push_back(i);
    }
    return states_[static_cast<size_t>(i)];
  }

  void run_context(const std::vector<std::pair<LaunchId, int64_t>>& issues, PointTaskId parent) {
    reset_states();
    std::vector<PointTaskId> since_fence;
    const PointRef* parent_ref = parent.valid() ? &refs_[parent.index()] : nullptr;
    for (auto [lid, step] : issues) {
      const Launch& l = p_.launches[lid.index()];
      // A fence waits for the tasks since the previous one that nothing waits for yet (the
      // others are waited for through them); its launch's points wait for it.
      int32_t fence = -1;
      if (l.fence) {
        std::vector<PointTaskId> before;
        for (PointTaskId t : since_fence)
          if (!has_succ_[t.index()]) before.push_back(t);
        since_fence.clear();
        if (!before.empty()) {
          fence = static_cast<int32_t>(fence_before_.size());
          for (PointTaskId t : before) {
            has_succ_[t.index()] = true;
            g_.fence_fed[t.index()] = fence;
          }
          fence_before_.push_back(std::move(before));
          fence_after_.emplace_back();
        }
      }
      std::vector<PointTaskId> future_preds;
      for (FutureId f : l.consumes) {
        const auto& producers = future_tasks_[f.index()];
        if (producers.empty())
          throw ProgramError(fmt::format("launch {} of {} consumes future {} before it is produced", l.id.value,
                                         p_.task_of(l).name, p_.futures[f.index()].name));
        append(future_preds, producers);
      }
      std::vector<PointTaskId> produced;
      int64_t n = l.domain.volume();
      for (int64_t i = 0; i < n; ++i) {
        auto t = PointTaskId::at(g_.tasks.size());
        PointTask pt{lid, l.domain.point(i), step, parent};
        g_.tasks.push_back(pt);
        refs_.push_back(PointRef{pt.point, step, parent_ref});
        has_succ_.push_back(false);
        g_.fence_fed.push_back(-1);
        g_.fence_waited.push_back(fence);
        if (fence >= 0) fence_after_[static_cast<size_t>(fence)].push_back(t);
        per_launch_[lid.index()].push_back(t);
        if (parent.valid())
          children_[parent].push_back(t);
        else
          g_.top.push_back(t);
        std::vector<PointTaskId> preds = future_preds;
        g_.piece_start.push_back(static_cast<int64_t>(g_.pieces.size()));
        for (const RegionArg& a : l.args) {
          int64_t piece = p_.piece_of(a, refs_.back());
          g_.pieces.push_back(piece);
          const Region& reg = p_.regions[a.region.index()];
          for (const FieldAccess& fa : a.access) {
            if (fa.privilege == Privilege::NA) continue;
            for (const Span& s : p_.spans_of(a, piece))
              for (size_t f = 0; f < reg.fields.size(); ++f)
                if (fa.fields & (FieldMask{1} << f)) use(state(a.region, s.block, f), t, fa.privilege, fa.redop, preds);
          }
        }
        std::sort(preds.begin(), preds.end());
        preds.erase(std::unique(preds.begin(), preds.end()), preds.end());
        preds.erase(std::remove(preds.begin(), preds.end(), t), preds.end());
        for (PointTaskId q : preds) has_succ_[q.index()] = true;
        preds_.push_back(std::move(preds));
        since_fence.push_back(t);
        produced.push_back(t);
      }
      if (l.produces) future_tasks_[l.produces->index()] = std::move(produced);
    }
  }

  void finish() {
    size_t n = g_.tasks.size();
    g_.piece_start.push_back(static_cast<int64_t>(g_.pieces.size()));
    g_.pred_start.assign(n + 1, 0);
    std::vector<int64_t> succ_count(n, 0);
    for (size_t t = 0; t < n; ++t) {
      g_.pred_start[t + 1] = g_.pred_start[t] + static_cast<int64_t>(preds_[t].size());
      for (PointTaskId q : preds_[t]) ++succ_count[q.index()];
    }
    g_.pred_ids.reserve(static_cast<size_t>(g_.pred_start[n]));
    for (auto& v : preds_) g_.pred_ids.insert(g_.pred_ids.end(), v.begin(), v.end());
    g_.succ_start.assign(n + 1, 0);
    for (size_t t = 0; t < n; ++t) g_.succ_start[t + 1] = g_.succ_start[t] + succ_count[t];
    g_.succ_ids.assign(static_cast<size_t>(g_.succ_start[n]), PointTaskId{});
    std::vector<int64_t> fill(g_.succ_start.begin(), g_.succ_start.end() - 1);
    for (size_t t = 0; t < n; ++t)
      for (PointTaskId q : preds_[t]) g_.succ_ids[static_cast<size_t>(fill[q.index()]++)] = PointTaskId::at(t);
    g_.child_start.assign(n + 1, 0);
    for (size_t t = 0; t < n; ++t) {
      auto it = children_.find(PointTaskId::at(t));
      size_t c = it == children_.end() ? 0 : it->second.size();
      g_.child_start[t + 1] = g_.child_start[t] + static_cast<int64_t>(c);
      if (c) g_.child_ids.insert(g_.child_ids.end(), it->second.begin(), it->second.end());
    }
    auto flatten = [](const std::vector<std::vector<PointTaskId>>& lists, std::vector<int64_t>& start,
                      std::vector<PointTaskId>& ids) {
      start.assign(1, 0);
      for (const auto& list : lists) {
        ids.insert(ids.end(), list.begin(), list.end());
        start.push_back(static_cast<int64_t>(ids.size()));
      }
    };
    flatten(fence_before_, g_.fence_before_start, g_.fence_before_ids);
    flatten(fence_after_, g_.fence_after_start, g_.fence_after_ids);
    g_.launch_start.assign(per_launch_.size() + 1, 0);
    for (size_t l = 0; l < per_launch_.size(); ++l) {
      g_.launch_start[l + 1] = g_.launch_start[l] + static_cast<int64_t>(per_launch_[l].size());
      g_.launch_tasks.insert(g_.launch_tasks.end(), per_launch_[l].begin(), per_launch_[l].end());
    }
  }

  const Program& p_;
  std::vector<int64_t> base_;
  int64_t total_ = 0;
  std::vector<State> states_;
  std::vector<bool> touched_flag_;
  std::vector<int64_t> touched_;
  std::deque<PointRef> refs_;  // stable addresses: children point at their parent's
  std::vector<bool> has_succ_;
  std::vector<std::vector<PointTaskId>> preds_;
  std::unordered_map<PointTaskId, std::vector<PointTaskId>> children_;
  std::vector<std::vector<PointTaskId>> per_launch_;
  std::vector<std::vector<PointTaskId>> future_tasks_;
  std::vector<std::vector<PointTaskId>> fence_before_, fence_after_;  // by fence
  TaskGraph g_;
};

std::vector<PointTaskId> slice(const std::vector<int64_t>& start, const std::vector<PointTaskId>& ids, size_t i) {
  if (i + 1 >= start.size()) return {};
  return {ids.begin() + start[i], ids.begin() + start[i + 1]};
}

// Direct dependences and, when t is on that side of a fence, the fence's other side.
std::vector<PointTaskId> with_fence(std::vector<PointTaskId> direct, const std::vector<int32_t>& fence_of,
                                    const std::vector<int64_t>& start, const std::vector<PointTaskId>& ids, size_t t) {
  if (t >= fence_of.size() || fence_of[t] < 0) return direct;
  const std::vector<PointTaskId> other = slice(start, ids, static_cast<size_t>(fence_of[t]));
  direct.insert(direct.end(), other.begin(), other.end());
  std::sort(direct.begin(), direct.end());
  direct.erase(std::unique(direct.begin(), direct.end()), direct.end());
  return direct;
}

}  // namespace

std::vector<PointTaskId> TaskGraph::preds(PointTaskId t) const {
  return with_fence(slice(pred_start, pred_ids, t.index()), fence_waited, fence_before_start, fence_before_ids,
                    t.index());
}
std::vector<PointTaskId> TaskGraph::succs(PointTaskId t) const {
  return with_fence(slice(succ_start, succ_ids, t.index()), fence_fed, fence_after_start, fence_after_ids, t.index());
}
std::vector<PointTaskId> TaskGraph::children(PointTaskId t) const { return slice(child_start, child_ids, t.index()); }
std::vector<PointTaskId> TaskGraph::of_launch(LaunchId l) const { return slice(launch_start, launch_tasks, l.index()); }

bool TaskGraph::has_edge(PointTaskId from, PointTaskId to) const {
  auto b = pred_ids.begin() + pred_start[to.index()];
  auto e = pred_ids.begin() + pred_start[to.index() + 1];
  if (std::binary_search(b, e, from)) return true;
  const int32_t f = fence_waited[to.index()];
  return f >= 0 && fence_fed[from.index()] == f;
}

TaskGraph analyze(const Program& p) { return Analyzer(p).run(); }

}  // namespace mage::program
