// `mcmc`: FlexFlow's search (the Metropolis-Hastings walk of its execution optimizer) on
// mage's space. Each step proposes the current mapper with one active decision changed (the
// decision and its new choice drawn uniformly) and accepts it as the current one with
// probability min(1, exp(β·(t_current − t_new)/t_current)): a faster mapper always, a slower
// one the less likely the slower it is. A failed mapper is infinitely slow (never accepted,
// unless the current one failed too). Every `restart` steps the walk restarts from the best
// mapper so far, as FlexFlow's does. A mapper measured already is not measured again: the
// step takes its known time.
//
// Options: beta=X (default 5: a mapper 10% slower is accepted with probability 0.61, 50%
// slower with 0.08), restart=N (steps, default 20).
#include <fmt/format.h>
#include <cmath>
#include <limits>
#include <map>

#include "tune/detail.h"

namespace mage::tune {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Steps answered from what is known before the space around counts as exhausted.
constexpr int kAttempts = 2000;

class Mcmc : public Optimizer {
 public:
  explicit Mcmc(const OptimizerContext& c) : space_(*c.space), rng_(c.seed) {
    detail::check_option_keys("mcmc", c.options, {"beta", "restart"});
    beta_ = detail::number_option("mcmc", c.options, "beta", 5, 0, 1e6, false);
    restart_ = static_cast<int>(detail::number_option("mcmc", c.options, "restart", 20, 1, 1e9, true));
  }

  std::vector<Candidate> propose(int) override {
    if (!current_) return {};
    for (int attempts = 0; attempts < kAttempts; ++attempts) {
      if (steps_ > 0 && steps_ % restart_ == 0 && !restarted_) {
        current_ = best_;
        restarted_ = true;
      }
      std::optional<Point> p = step(current_->point);
      if (!p) return {};  // no decision with a choice
      std::string text = space_.render(*p);
      if (auto k = known_.find(text); k != known_.end()) {
        walk(State{*p, k->second.first, k->second.second});  // measured: its known time
        continue;
      }
      return {Candidate{std::move(text),
                        std::move(*p),
                        fmt::format("mcmc step {}: {}", steps_ + 1, last_change_),
                        current_->number,
                        {}}};
    }
    return {};
  }

  void observe(const Trial& t) override {
    known_[t.candidate.text] = {t.score(), t.number};
    State s{t.candidate.point.value_or(space_.default_point()), t.score(), t.number};
    if (!current_) {
      // The start: the walk's first state.
      current_ = s;
      best_ = s;
      return;
    }
    walk(s);
  }

 private:
  struct State {
    Point point;
    double time = kInf;
    int number = 0;
  };

  // One active decision of `from` changed, uniformly.
  std::optional<Point> step(const Point& from) {
    const std::vector<Decision>& ds = space_.decisions();
    std::vector<size_t> active;
    for (size_t d = 0; d < ds.size(); ++d)
      if (space_.active(from, d) && ds[d].choices.size() > 1) active.push_back(d);
    if (active.empty()) return std::nullopt;
    const size_t d = active[rng_.below(active.size())];
    Point p = from;
    const int other = static_cast<int>(rng_.below(ds[d].choices.size() - 1));
    p[d] = other >= p[d] ? other + 1 : other;
    last_change_ = space_.describe(Difference{d, from[d], p[d]});
    return p;
  }

  // The Metropolis-Hastings step to `next`.
  void walk(State next) {
    ++steps_;
    restarted_ = false;
    if (next.time < best_->time) best_ = next;
    const double now = current_->time;
    bool accept = false;
    if (std::isinf(now))
      accept = true;  // from a failed mapper anything is a step forward
    else if (std::isinf(next.time))
      accept = false;
    else
      accept = next.time <= now || rng_.unit() < std::exp(beta_ * (now - next.time) / now);
    if (accept) current_ = std::move(next);
  }

  const Space& space_;
  Rng rng_;
  double beta_ = 5;
  int restart_ = 20;
  std::optional<State> current_;
  std::optional<State> best_;
  int steps_ = 0;
  bool restarted_ = false;  // the restart of this step count is done
  std::string last_change_;
  std::map<std::string, std::pair<double, int>> known_;  // (time, number) by mapper text
};

const bool registered = register_optimizer(
    {"mcmc", "FlexFlow's search: a Metropolis-Hastings walk, one decision changed per step, restarting from the best",
     [](const OptimizerContext& c) { return std::make_unique<Mcmc>(c); }});

}  // namespace

}  // namespace mage::tune
