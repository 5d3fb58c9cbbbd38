// `guided` (the default): improves the best mapper so far by applying the structured hints
// of its feedback, most promising first, and falls back to local moves in the space when no
// hint applies any more.
//
// From the incumbent (the fastest mapper so far; while none works, the latest evaluation,
// whose feedback says how to fix it) it proposes, in order and skipping what was tried:
//   1. all the hints of its feedback applied together (a decision changed by an earlier hint
//      is left to it), when that differs from the first hint alone;
//   2. each hint alone, in the order of the feedback;
//   3. moves of one task kind to another processor kind whose lower bound (AssignmentBound:
//      no mapper with that assignment is faster) is below the incumbent's time, lowest bound
//      first: when the feedback indicates nothing (every processor of a kind busy), the
//      only moves that can still help;
//   4. local moves: one active decision changed, decisions of the tasks that take the most
//      time drawn more often; a change that made a mapper fail or no faster is not drawn
//      again.
// A candidate faster than the incumbent becomes the incumbent, and its feedback the next
// source of hints. Options: width=N (candidates per batch, default 1: each proposal sees
// the outcome of the one before).
#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <set>

#include "tune/tune.h"

namespace mage::tune {

namespace {

// Local moves tried before the space around the incumbent counts as exhausted.
constexpr int kMoveAttempts = 2000;
// Point tasks beyond which guided does not bound its moves (each bound is a pass over them).
constexpr size_t kBoundTasks = 200'000;

std::optional<DecisionKind> decision_kind(guide::Action a) {
  switch (a) {
    case guide::Action::Processor:
      return DecisionKind::Processor;
    case guide::Action::Memory:
      return DecisionKind::Memory;
    case guide::Action::Layout:
      return DecisionKind::Layout;
    case guide::Action::Placement:
      return DecisionKind::Placement;
    case guide::Action::InstanceLimit:
      return DecisionKind::InstanceLimit;
    case guide::Action::CollectMemory:
      return DecisionKind::CollectMemory;
    case guide::Action::Edit:
      return std::nullopt;
  }
  return std::nullopt;
}

// Faster by more than rounding: two mappers with the same schedule can differ in the last
// digits of their times, which is no reason to move the search.
bool faster(double score, double than) { return score < than * (1 - 1e-9); }

// `to`: the hint's value as the space names it (a placement named by its digest, "places
// 47da241ec863", by the label of the choice that places so).
std::string describe(const guide::Hint& h, const std::string& to) {
  std::string what(guide::to_string(h.action));
  if (!h.task.empty()) what += " " + h.task;
  if (!h.argument.empty()) what += " " + h.argument;
  if (!h.from.empty()) what += " " + h.from;
  return fmt::format("{} -> {}", what, to);
}

class Guided : public Optimizer {
 public:
  explicit Guided(const OptimizerContext& c) : space_(*c.space), rng_(c.seed) {
    for (const auto& [key, value] : c.options) {
      if (key != "width") throw TuneError(fmt::format("optimizer guided has no option '{}' (it has: width)", key));
      try {
        width_ = std::stoi(value);
      } catch (const std::exception&) {
        width_ = 0;
      }
      if (width_ < 1)
        throw TuneError(fmt::format("optimizer guided: width must be a positive integer, not '{}'", value));
    }
  }

  std::vector<Candidate> propose(int limit) override {
    std::vector<Candidate> out;
    const int n = std::min(limit, width_);
    const Known* base = incumbent_ ? &*incumbent_ : latest_ ? &*latest_ : nullptr;
    if (!base) return out;
    for (Candidate& c : from_hints(*base)) {
      if (static_cast<int>(out.size()) >= n) break;
      if (tried_.insert(c.text).second) out.push_back(std::move(c));
    }
    if (incumbent_ && base == &*incumbent_)
      for (const auto& [c, move] : bound_moves(*base)) {
        if (static_cast<int>(out.size()) >= n) break;
        if (tried_.insert(c.text).second) {
          moves_[c.text] = move;
          out.push_back(c);
        }
      }
    for (int attempts = 0; static_cast<int>(out.size()) < n && attempts < kMoveAttempts; ++attempts) {
      std::optional<Candidate> c = local_move(*base);
      if (c && tried_.insert(c->text).second) out.push_back(std::move(*c));
    }
    return out;
  }

  void observe(const Trial& t) override {
    tried_.insert(t.candidate.text);
    if (auto m = moves_.find(t.candidate.text); m != moves_.end()) {
      if (!t.ok() || !faster(t.score(), m->second.base_score))
        unpromising_.insert({m->second.decision, m->second.choice});
      moves_.erase(m);
    }
    // The first observation is the start; a mapper the space cannot read (a start with
    // errors, an edit) stands on the start's point, or the default's.
    if (!start_point_) start_point_ = t.candidate.point.value_or(space_.default_point());
    Known k{t.number,         t.candidate.point.value_or(*start_point_),
            t.candidate.text, t.score(),
            t.feedback,       t.result.outcome.profile};
    if (t.ok() && (!incumbent_ || faster(t.score(), incumbent_->score))) incumbent_ = k;
    latest_ = std::move(k);
  }

 private:
  // What the optimizer keeps of an evaluation.
  struct Known {
    int number = 0;
    Point point;
    std::string text;
    double score = 0;
    guide::Feedback feedback;
    sim::Profile profile;
  };

  // The point with the hint applied, nullopt when it changes nothing. Decisions in `fixed`
  // are left alone (an earlier hint of the same combination changed them).
  std::optional<Point> apply(const Point& p, const guide::Hint& h, std::set<size_t>* fixed) const {
    const std::optional<DecisionKind> kind = decision_kind(h.action);
    if (!kind) return std::nullopt;
    Point q = p;
    bool changed = false;
    for (size_t d : space_.select(p, *kind, h.task, h.argument)) {
      if (fixed && fixed->contains(d)) continue;
      const std::optional<int> c = space_.choice_named(d, h.to, p[d]);
      if (!c || *c == p[d]) continue;
      q[d] = *c;
      changed = true;
      if (fixed) fixed->insert(d);
    }
    if (!changed) return std::nullopt;
    return q;
  }

  // The label of the choice `p` took for the hint (its `to` when several decisions did).
  std::string named(const Point& p, const guide::Hint& h) const {
    const std::optional<DecisionKind> kind = decision_kind(h.action);
    if (!kind || h.to.rfind("places ", 0) != 0) return h.to;
    for (size_t d : space_.select(p, *kind, h.task, h.argument)) {
      const auto c = space_.choice_named(d, h.to, p[d]);
      if (c && *c == p[d]) return space_.decisions()[d].choices[static_cast<size_t>(*c)].label;
    }
    return h.to;
  }

  // An edit hint applied to the text: the first occurrence of `from` replaced by `to`.
  std::optional<Candidate> edit(const Known& base, const guide::Hint& h) const {
    if (h.action != guide::Action::Edit || h.from.empty()) return std::nullopt;
    const size_t at = base.text.find(h.from);
    if (at == std::string::npos) return std::nullopt;
    Candidate c;
    c.text = base.text;
    c.text.replace(at, h.from.size(), h.to);
    if (auto back = space_.read(c.text)) c.point = back->point;
    c.origin = fmt::format("hint: edit `{}` -> `{}`", h.from, h.to);
    c.parent = base.number;
    c.notes["hints"] = nlohmann::ordered_json::array({h.to_json()});
    return c;
  }

  Candidate candidate(const Point& p, const Known& base, std::string origin,
                      const std::vector<const guide::Hint*>& hints) const {
    Candidate c{space_.render(p), p, std::move(origin), base.number, {}};
    nlohmann::ordered_json applied = nlohmann::ordered_json::array();
    for (const guide::Hint* h : hints) applied.push_back(h->to_json());
    c.notes["hints"] = std::move(applied);
    return c;
  }

  // Candidates from the base's hints: all together first, then each alone.
  std::vector<Candidate> from_hints(const Known& base) const {
    std::vector<Candidate> out;
    const std::vector<guide::Hint>& hints = base.feedback.hints;
    std::vector<Candidate> singles;
    Point all = base.point;
    std::set<size_t> fixed;
    std::vector<const guide::Hint*> used;
    for (const guide::Hint& h : hints) {
      if (auto e = edit(base, h)) {
        singles.push_back(std::move(*e));
        continue;
      }
      if (auto p = apply(base.point, h, nullptr)) {
        singles.push_back(candidate(*p, base, fmt::format("hint: {} ({})", describe(h, named(*p, h)), h.reason), {&h}));
        if (auto q = apply(all, h, &fixed)) {
          all = std::move(*q);
          used.push_back(&h);
        }
      }
    }
    if (used.size() > 1) {
      std::string what;
      for (const guide::Hint* h : used) what += (what.empty() ? "" : "; ") + describe(*h, named(all, *h));
      out.push_back(candidate(
          all, base, fmt::format("{} hints of evaluation {} together: {}", used.size(), base.number, what), used));
    }
    for (Candidate& c : singles) out.push_back(std::move(c));
    return out;
  }

  // A move in flight (local or bounded), to learn from its outcome.
  struct Move {
    size_t decision = 0;
    int choice = 0;
    double base_score = 0;
  };

  // The base's task kinds moved one at a time to another processor kind, where the lower
  // bound of that assignment is below the base's time, lowest bound first (the list is kept
  // for the incumbent it was made for). Not for programs too large to bound quickly.
  const std::vector<std::pair<Candidate, Move>>& bound_moves(const Known& base) {
    if (bound_moves_for_ == base.number) return bound_moves_;
    bound_moves_for_ = base.number;
    bound_moves_.clear();
    if (space_.graph().size() > kBoundTasks) return bound_moves_;
    if (!bound_) bound_ = std::make_unique<AssignmentBound>(space_);
    const std::vector<Decision>& ds = space_.decisions();
    std::vector<std::pair<double, std::pair<Candidate, Move>>> found;
    // A task without region arguments (init_cublas) changes where no data lives: moving it
    // can only matter through its own time, which the bound already weighs.
    const std::optional<double> base_bound = bound_->of(base.point);
    auto touches_data = [&](const std::string& task) {
      const program::Program& prog = space_.program();
      for (const program::Launch& l : prog.launches)
        if (prog.tasks[l.task.index()].name == task && !l.args.empty()) return true;
      return false;
    };
    for (size_t d = 0; d < ds.size(); ++d) {
      if (ds[d].kind != DecisionKind::Processor || !space_.active(base.point, d)) continue;
      const bool data = touches_data(ds[d].task);
      for (size_t choice = 0; choice < ds[d].choices.size(); ++choice) {
        const int c = static_cast<int>(choice);
        if (c == base.point[d] || unpromising_.contains({d, c})) continue;
        Point p = base.point;
        p[d] = c;
        const std::optional<double> least = bound_->of(p);
        if (!least || *least >= base.score) continue;
        if (!data && base_bound && *least >= *base_bound) continue;
        Difference diff{d, base.point[d], c};
        Candidate cand{
            space_.render(p),
            p,
            fmt::format("bound move: {} (no mapper with it is faster than {:.4g} s; the best so far {:.4g} s)",
                        space_.describe(diff), *least, base.score),
            base.number,
            {}};
        found.emplace_back(*least, std::pair{std::move(cand), Move{d, c, base.score}});
      }
    }
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [least, move] : found) bound_moves_.push_back(std::move(move));
    return bound_moves_;
  }

  // One active decision of the base changed, drawn with weight 1 plus ten times its task's
  // share of the base's task time.
  std::optional<Candidate> local_move(const Known& base) {
    const std::vector<Decision>& ds = space_.decisions();
    std::map<std::string, double> share;
    double total = 0;
    for (const sim::TaskCost& t : base.profile.costliest_tasks) total += t.total_s;
    for (const sim::TaskCost& t : base.profile.costliest_tasks)
      if (total > 0) share[t.task] += t.total_s / total;
    std::vector<size_t> active;
    std::vector<double> weight;
    double sum = 0;
    for (size_t d = 0; d < ds.size(); ++d) {
      if (!space_.active(base.point, d) || ds[d].choices.size() < 2) continue;
      active.push_back(d);
      weight.push_back(1 + 10 * share[ds[d].task]);
      sum += weight.back();
    }
    if (active.empty()) return std::nullopt;
    double x = rng_.unit() * sum;
    size_t pick = 0;
    while (pick + 1 < active.size() && x >= weight[pick]) x -= weight[pick++];
    const size_t d = active[pick];
    Point p = base.point;
    const int other = static_cast<int>(rng_.below(ds[d].choices.size() - 1));
    p[d] = other >= p[d] ? other + 1 : other;
    if (unpromising_.contains({d, p[d]})) return std::nullopt;
    Difference diff{d, base.point[d], p[d]};
    Candidate c{space_.render(p), p, "local move: " + space_.describe(diff), base.number, {}};
    moves_[c.text] = Move{d, p[d], base.score};
    return c;
  }

  const Space& space_;
  Rng rng_;
  int width_ = 1;
  std::optional<Known> incumbent_;
  std::optional<Known> latest_;
  std::optional<Point> start_point_;  // the start's point (the default's when the start has none)
  std::set<std::string> tried_;
  std::map<std::string, Move> moves_;             // by candidate text
  std::set<std::pair<size_t, int>> unpromising_;  // (decision, choice) moves that failed or did not help
  std::unique_ptr<AssignmentBound> bound_;        // made when first needed
  int bound_moves_for_ = -1;                      // the evaluation bound_moves_ were made for
  std::vector<std::pair<Candidate, Move>> bound_moves_;
};

const bool registered = register_optimizer(
    {"guided", "applies the feedback's hints to the best mapper so far, then local moves (the default)",
     [](const OptimizerContext& c) { return std::make_unique<Guided>(c); }});

}  // namespace

}  // namespace mage::tune
