// `bandit`: OpenTuner's default search on mage's space, the baseline of the published
// comparison. An area-under-curve bandit (AUCBanditMetaTechnique) picks, for each proposal,
// one of three techniques:
//   - differential evolution (OpenTuner's DifferentialEvolutionAlt: population 30, crossover
//     rate 0.2): the oldest member is challenged by a trial built from three others (the best
//     so far among them), and replaced when the trial is faster;
//   - uniform greedy mutation (rate 0.1) and normal greedy mutation (rate 0.3) of the best:
//     one decision, then each other with that probability, drawn anew.
// Every decision of mage's space is categorical (OpenTuner's EnumParameter): a mutation draws
// any of its choices, and differential evolution's x1 + F·(x2 − x3) follows OpenTuner's rule
// for such parameters: copy x1's choice when x2 and x3 agree, draw one at random otherwise
// (so normal mutation differs from uniform only in its rate). The techniques see the time
// only (no feedback); a failed mapper is infinitely slow. A configuration is its mapper
// text: one already measured is not run again — the technique that asked for it gets the
// known time at once, as OpenTuner's driver does, and the bandit records a use without
// credit.
//
// The bandit ranks technique t by AUC(t) + C·sqrt(2·log2(|H|) / uses(t)) over the last
// `window` uses H (C = 0.05, window 500; a technique not used yet comes first), where
// AUC(t) = Σ i·[t's i-th use made a new best] / (n(n+1)/2) over t's n uses in H: credit is
// a new best, the recent uses weighing most. Ties are broken at random. The techniques are
// asked in rank order until one has a proposal (differential evolution may be waiting for
// its trials).
//
// Options: width=N (candidates per batch, default 4: OpenTuner's parallelism; a batch's
// proposals do not see each other's outcomes), window=N, c=X (exploration constant).
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "tune/detail.h"

namespace mage::tune {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Requests (each answered by the techniques or from what is known) before the space counts
// as exhausted.
constexpr int kAttempts = 2000;

// ---- The bandit ------------------------------------------------------------------------

class AucBandit {
 public:
  AucBandit(size_t arms, double c, size_t window) : c_(c), window_(window), uses_(arms, 0) {}

  // The arms, best first.
  std::vector<size_t> ranked(Rng& rng) const {
    std::vector<size_t> keys(uses_.size());
    for (size_t i = 0; i < keys.size(); ++i) keys[i] = i;
    for (size_t i = keys.size(); i > 1; --i) std::swap(keys[i - 1], keys[rng.below(i)]);  // ties: at random
    std::vector<double> score(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) score[i] = exploitation(i) + c_ * exploration(i);
    std::stable_sort(keys.begin(), keys.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    return keys;
  }

  void record(size_t arm, bool new_best) {
    history_.emplace_back(arm, new_best);
    ++uses_[arm];
    if (history_.size() > window_) {
      --uses_[history_.front().first];
      history_.pop_front();
    }
  }

 private:
  double exploitation(size_t arm) const {
    double score = 0, uses = 0;
    for (const auto& [a, best] : history_) {
      if (a != arm) continue;
      ++uses;
      if (best) score += uses;
    }
    return uses > 0 ? score * 2 / (uses * (uses + 1)) : 0;
  }

  double exploration(size_t arm) const {
    if (uses_[arm] == 0) return kInf;
    return std::sqrt(2 * std::log2(static_cast<double>(history_.size())) / uses_[arm]);
  }

  double c_;
  size_t window_;
  std::deque<std::pair<size_t, bool>> history_;
  std::vector<int> uses_;
};

// ---- The techniques --------------------------------------------------------------------

// What the techniques may look at: the space, the random numbers and the best so far.
struct Shared {
  const Space& space;
  Rng& rng;
  std::optional<Point> best;          // the fastest mapper measured (while none works: the start)
  std::map<std::string, int> number;  // evaluation number by mapper text
  int best_number = 0;
};

// A choice of `d` drawn uniformly (OpenTuner's op1_randomize of an EnumParameter).
int draw(const Shared& s, size_t d) { return static_cast<int>(s.rng.below(s.space.decisions()[d].choices.size())); }

class Technique {
 public:
  virtual ~Technique() = default;
  virtual std::string name() const = 0;
  // A point to measure, and the evaluation it derives from; nullopt while waiting for results.
  virtual std::optional<std::pair<Point, int>> desired(Shared& s) = 0;
  // The time of a mapper this technique asked for (+infinity: failed).
  virtual void result(const std::string& text, double score) = 0;
};

// EvolutionaryTechnique with GreedySelectionMixin: mutates the best so far: the first of the shuffled decisions always,
// each other one with probability `rate`.
class GreedyMutation : public Technique {
 public:
  GreedyMutation(std::string name, double rate) : name_(std::move(name)), rate_(rate) {}
  std::string name() const override { return name_; }

  std::optional<std::pair<Point, int>> desired(Shared& s) override {
    Point p = s.best ? *s.best : s.space.sample(s.rng);  // no best only before the start is seen
    std::vector<size_t> order(p.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[s.rng.below(i)]);
    for (size_t i = 0; i < order.size(); ++i)
      if (i < 1 || s.rng.unit() < rate_) p[order[i]] = draw(s, order[i]);
    return std::pair{std::move(p), s.best ? s.best_number : 0};
  }

  void result(const std::string&, double) override {}

 private:
  std::string name_;
  double rate_;
};

// DifferentialEvolution(Alt): a population whose oldest member with no trial in flight is
// challenged by x1 + F·(x2 − x3) of three others (the best so far joins the draw: OpenTuner's
// information sharing), crossed over with probability `cr` per decision (one at least).
class DifferentialEvolution : public Technique {
 public:
  DifferentialEvolution(size_t population, double cr) : size_(population), cr_(cr) {}
  std::string name() const override { return "differential evolution"; }

  std::optional<std::pair<Point, int>> desired(Shared& s) override {
    if (members_.empty()) {
      // The start (the best so far when the population is made), then random points.
      members_.resize(size_);
      for (size_t i = 0; i < size_; ++i) members_[i].point = i == 0 && s.best ? *s.best : s.space.sample(s.rng);
    }
    for (Member& m : members_) {
      if (m.submitted) continue;
      m.submitted = true;
      m.trial = s.space.render(m.point);
      m.trial_point = m.point;
      m.initial = true;
      return std::pair{m.point, 0};
    }
    // The oldest measured member with no trial in flight.
    Member* pp = nullptr;
    for (Member& m : members_)
      if (m.measured && m.trial.empty() && (!pp || m.stamp < pp->stamp)) pp = &m;
    if (!pp) return std::nullopt;
    std::vector<const Point*> others;
    for (const Member& m : members_)
      if (&m != pp) others.push_back(&m.point);
    if (s.best) others.push_back(&*s.best);
    for (size_t i = others.size(); i > 1; --i) std::swap(others[i - 1], others[s.rng.below(i)]);
    const Point& x1 = *others[0];
    const Point& x2 = *others[1];
    const Point& x3 = *others[2];
    // For categorical decisions the scale F of x2 − x3 does not matter: only whether they agree.
    Point trial = pp->point;
    std::vector<size_t> order(trial.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[s.rng.below(i)]);
    for (size_t i = 0; i < order.size(); ++i) {
      if (i >= 1 && s.rng.unit() >= cr_) continue;
      const size_t d = order[i];
      trial[d] = x2[d] == x3[d] ? x1[d] : draw(s, d);
    }
    pp->stamp = ++clock_;
    pp->trial = s.space.render(trial);
    pp->trial_point = trial;
    pp->initial = false;
    auto n = s.number.find(s.space.render(pp->point));
    return std::pair{std::move(trial), n == s.number.end() ? 0 : n->second};
  }

  void result(const std::string& text, double score) override {
    for (Member& m : members_) {
      if (m.trial != text) continue;
      if (m.initial || score < m.score) {
        m.point = m.trial_point;
        m.score = score;
      }
      m.measured = true;
      m.initial = false;
      m.trial.clear();
    }
  }

 private:
  struct Member {
    Point point;
    double score = kInf;
    bool submitted = false;  // its initial point was asked for
    bool measured = false;
    bool initial = false;  // the trial in flight is its own initial point
    std::string trial;     // the mapper in flight for it ("" when none)
    Point trial_point;
    uint64_t stamp = 0;  // when it was last challenged
  };

  size_t size_;
  double cr_;
  std::vector<Member> members_;
  uint64_t clock_ = 0;
};

// ---- The ensemble ----------------------------------------------------------------------

class Bandit : public Optimizer {
 public:
  explicit Bandit(const OptimizerContext& c) : space_(*c.space), rng_(c.seed), shared_{space_, rng_, {}, {}, 0} {
    detail::check_option_keys("bandit", c.options, {"width", "window", "c"});
    width_ = static_cast<int>(detail::number_option("bandit", c.options, "width", 4, 1, 1024, true));
    const auto window = static_cast<size_t>(detail::number_option("bandit", c.options, "window", 500, 1, 1e9, true));
    const double explore = detail::number_option("bandit", c.options, "c", 0.05, 0, 1e9, false);
    techniques_.push_back(std::make_unique<DifferentialEvolution>(30, 0.2));
    techniques_.push_back(std::make_unique<GreedyMutation>("uniform greedy mutation", 0.1));
    techniques_.push_back(std::make_unique<GreedyMutation>("normal greedy mutation", 0.3));
    bandit_ = std::make_unique<AucBandit>(techniques_.size(), explore, window);
  }

  std::vector<Candidate> propose(int limit) override {
    std::vector<Candidate> out;
    const int n = std::min(limit, width_);
    for (int attempts = 0; static_cast<int>(out.size()) < n && attempts < kAttempts; ++attempts) {
      bool asked = false;
      for (size_t t : bandit_->ranked(rng_)) {
        auto want = techniques_[t]->desired(shared_);
        if (!want) continue;
        asked = true;
        std::string text = space_.render(want->first);
        if (auto k = known_.find(text); k != known_.end()) {
          // Measured already: answered at once, no evaluation spent.
          techniques_[t]->result(text, k->second);
          bandit_->record(t, false);
        } else if (auto w = waiting_.find(text); w != waiting_.end()) {
          w->second.push_back(t);  // in flight for another request: answered with it
        } else {
          waiting_[text] = {t};
          out.push_back(Candidate{std::move(text),
                                  std::move(want->first),
                                  "bandit: " + techniques_[t]->name(),
                                  want->second,
                                  {{"technique", techniques_[t]->name()}}});
        }
        break;
      }
      if (!asked) break;  // every technique waits for results in flight
    }
    if (out.empty() && waiting_.empty()) {
      // No technique found a mapper not measured yet: draw unmeasured ones at random.
      for (int attempts = 0; out.empty() && attempts < kAttempts; ++attempts) {
        Point p = space_.sample(rng_);
        std::string text = space_.render(p);
        if (known_.contains(text)) continue;
        waiting_[text] = {};
        out.push_back(Candidate{std::move(text),
                                std::move(p),
                                "bandit: random (no technique had a new mapper)",
                                0,
                                {{"technique", "random"}}});
      }
    }
    return out;
  }

  void observe(const Trial& t) override {
    const std::string& text = t.candidate.text;
    const double score = t.score();
    const bool new_best = score < best_score_;
    known_[text] = score;
    shared_.number.emplace(text, t.number);
    if (new_best || (!shared_.best && t.number == 1)) {
      if (new_best) best_score_ = score;
      // The start stands as the best while nothing works, so that every technique begins
      // from it; a mapper the space cannot read stands on the default point.
      shared_.best = t.candidate.point.value_or(space_.default_point());
      shared_.best_number = t.number;
    }
    auto w = waiting_.find(text);
    if (w == waiting_.end()) return;  // the start
    for (size_t i = 0; i < w->second.size(); ++i) {
      techniques_[w->second[i]]->result(text, score);
      bandit_->record(w->second[i], i == 0 && new_best);
    }
    waiting_.erase(w);
  }

 private:
  const Space& space_;
  Rng rng_;
  Shared shared_;
  int width_ = 4;
  std::vector<std::unique_ptr<Technique>> techniques_;
  std::unique_ptr<AucBandit> bandit_;
  std::map<std::string, double> known_;                 // time by mapper text (+infinity: failed)
  std::map<std::string, std::vector<size_t>> waiting_;  // mappers in flight: the techniques that asked
  double best_score_ = kInf;
};

const bool registered = register_optimizer(
    {"bandit", "OpenTuner's ensemble: an AUC bandit over differential evolution and greedy mutations, time only",
     [](const OptimizerContext& c) { return std::make_unique<Bandit>(c); }});

}  // namespace

}  // namespace mage::tune
