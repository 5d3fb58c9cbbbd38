// `ccd`: AutoMap's constrained coordinate-wise descent. Rounds over the decisions, one
// coordinate at a time: every other choice of the coordinate is measured (the choices of one
// coordinate form one batch) and the fastest of them and the incumbent is kept.
//
// The coordinates of a round, from the incumbent at its start: the tasks from the longest-
// to the shortest-running (their total time in the incumbent's profile; tasks it does not
// list last, in the program's order), and for each task its processor kind, then the memory
// of each of its arguments — the arguments shared by more tasks first — then its other
// decisions (layout, placement, instance limit, collect_memory; AutoMap has no such
// decisions, mage's space has). An argument's memory is one coordinate for every task that
// uses the same data (the same partition or region): overlapping data is kept in the same
// address space, so a change moves it for all of them (where their processor kind reaches
// that memory).
//
// Candidates are compared by time + penalty·copy time (the copies of the profile): a
// data-movement penalty that starts at `penalty` (default 1: copying counts twice) and
// relaxes linearly to 0 in the last round, so that early rounds prefer mappers that move
// little data and the last compares plain times. A failed mapper is infinitely slow; a
// mapper measured already is not measured again. The search ends after `rounds` rounds
// (default 5), or earlier after a round without a change once the penalty is 0.
//
// Options: rounds=N, penalty=X.
#include <fmt/format.h>
#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <set>

#include "tune/detail.h"

namespace mage::tune {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// What is known of a measured mapper.
struct Measured {
  double time = kInf;  // +infinity: failed
  double copy_s = 0;   // time spent copying (the profile's costliest copies)
  int number = 0;
  std::map<std::string, double> task_s;  // total time by task
};

// One coordinate: a decision, or the memory decisions of one argument over every task.
struct Coordinate {
  std::string what;               // "processor calculate_new_currents", "memory rp_ghost"
  std::vector<size_t> decisions;  // a Processor/Layout/... decision, or the memory decisions of one argument
  bool memory = false;
};

class Ccd : public Optimizer {
 public:
  explicit Ccd(const OptimizerContext& c) : space_(*c.space) {
    detail::check_option_keys("ccd", c.options, {"rounds", "penalty"});
    rounds_ = static_cast<int>(detail::number_option("ccd", c.options, "rounds", 5, 1, 1000, true));
    penalty0_ = detail::number_option("ccd", c.options, "penalty", 1, 0, 1e6, false);
  }

  std::vector<Candidate> propose(int limit) override {
    std::vector<Candidate> out;
    while (out.empty()) {
      if (!queue_.empty()) {
        while (!queue_.empty() && static_cast<int>(out.size()) < limit) {
          out.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        break;
      }
      if (!incumbent_) break;  // nothing observed yet
      if (coordinate_ >= 0) settle();
      if (!next_coordinate()) break;  // the last round is over
    }
    return out;
  }

  void observe(const Trial& t) override {
    Measured m;
    m.time = t.score();
    m.number = t.number;
    for (const sim::CopyCost& c : t.result.outcome.profile.costliest_copies) m.copy_s += c.total_s;
    for (const sim::TaskCost& c : t.result.outcome.profile.costliest_tasks) m.task_s[c.task] += c.total_s;
    measured_[t.candidate.text] = m;
    if (!incumbent_) {
      // The start; a mapper the space cannot read stands on the default point.
      incumbent_ = Incumbent{t.candidate.point.value_or(space_.default_point()), t.candidate.text};
      begin_round();
    }
  }

 private:
  struct Incumbent {
    Point point;
    std::string text;
  };

  double penalty() const { return rounds_ > 1 ? penalty0_ * (1 - static_cast<double>(round_) / (rounds_ - 1)) : 0; }

  double cost(const std::string& text) const {
    auto m = measured_.find(text);
    return m == measured_.end() ? kInf : m->second.time + penalty() * m->second.copy_s;
  }

  // The coordinates of the round, from the incumbent.
  void begin_round() {
    coordinates_.clear();
    coordinate_ = -1;
    changed_ = false;
    const std::vector<Decision>& ds = space_.decisions();
    const Measured& m = measured_.at(incumbent_->text);
    // Tasks in the program's order (of their first decision), then by time, longest first.
    std::vector<std::string> tasks;
    for (const Decision& d : ds)
      if (std::find(tasks.begin(), tasks.end(), d.task) == tasks.end()) tasks.push_back(d.task);
    auto time_of = [&](const std::string& task) {
      auto it = m.task_s.find(task);
      return it == m.task_s.end() ? -1.0 : it->second;
    };
    std::stable_sort(tasks.begin(), tasks.end(),
                     [&](const std::string& a, const std::string& b) { return time_of(a) > time_of(b); });
    // How many tasks use each argument (by its name in rules).
    std::map<std::string, std::set<std::string>> users;
    for (const Decision& d : ds)
      if (d.kind == DecisionKind::Memory) users[d.argument].insert(d.task);
    std::set<std::string> memory_done;
    for (const std::string& task : tasks) {
      std::vector<std::string> arguments;
      for (size_t d = 0; d < ds.size(); ++d) {
        if (ds[d].task != task) continue;
        if (ds[d].kind == DecisionKind::Processor) coordinates_.push_back({"processor " + task, {d}, false});
        if (ds[d].kind == DecisionKind::Memory &&
            std::find(arguments.begin(), arguments.end(), ds[d].argument) == arguments.end())
          arguments.push_back(ds[d].argument);
      }
      std::stable_sort(arguments.begin(), arguments.end(),
                       [&](const std::string& a, const std::string& b) { return users[a].size() > users[b].size(); });
      for (const std::string& a : arguments) {
        if (!memory_done.insert(a).second) continue;
        Coordinate c{"memory " + a, {}, true};
        for (size_t d = 0; d < ds.size(); ++d)
          if (ds[d].kind == DecisionKind::Memory && ds[d].argument == a) c.decisions.push_back(d);
        coordinates_.push_back(std::move(c));
      }
      for (size_t d = 0; d < ds.size(); ++d)
        if (ds[d].task == task && ds[d].kind != DecisionKind::Processor && ds[d].kind != DecisionKind::Memory)
          coordinates_.push_back({ds[d].name, {d}, false});
    }
  }

  // Moves to the next coordinate with a choice not measured yet, queueing its candidates;
  // false when the search is over.
  bool next_coordinate() {
    for (;;) {
      ++coordinate_;
      if (coordinate_ >= static_cast<int>(coordinates_.size())) {
        const bool over = round_ + 1 >= rounds_ || (!changed_ && penalty() == 0);
        if (over) return false;
        ++round_;
        begin_round();
        continue;
      }
      options_ = alternatives(coordinates_[static_cast<size_t>(coordinate_)]);
      bool any = false;
      for (const auto& [point, text] : options_) {
        if (measured_.contains(text) || queued_.contains(text)) continue;
        queued_.insert(text);
        const Coordinate& c = coordinates_[static_cast<size_t>(coordinate_)];
        queue_.push_back(Candidate{text,
                                   point,
                                   fmt::format("ccd round {}: {}", round_ + 1, describe(c, point)),
                                   measured_.at(incumbent_->text).number,
                                   {{"round", round_ + 1}, {"penalty", penalty()}}});
        any = true;
      }
      if (any) return true;
      settle();  // every choice measured already: decide now
    }
  }

  // The incumbent with each other choice of the coordinate (their points and texts).
  std::vector<std::pair<Point, std::string>> alternatives(const Coordinate& c) const {
    std::vector<std::pair<Point, std::string>> out;
    const std::vector<Decision>& ds = space_.decisions();
    const Point& p = incumbent_->point;
    std::vector<size_t> active;
    for (size_t d : c.decisions)
      if (space_.active(p, d)) active.push_back(d);
    if (active.empty()) return out;
    if (!c.memory) {
      const size_t d = active.front();
      for (int k = 0; k < static_cast<int>(ds[d].choices.size()); ++k) {
        if (k == p[d]) continue;
        Point q = p;
        q[d] = k;
        out.emplace_back(q, space_.render(q));
      }
      return out;
    }
    // Memory: each memory kind any of them reaches, set wherever it is a choice.
    std::vector<std::string> labels;
    for (size_t d : active)
      for (const Choice& ch : ds[d].choices)
        if (std::find(labels.begin(), labels.end(), ch.label) == labels.end()) labels.push_back(ch.label);
    for (const std::string& label : labels) {
      Point q = p;
      for (size_t d : active)
        for (size_t k = 0; k < ds[d].choices.size(); ++k)
          if (ds[d].choices[k].label == label) q[d] = static_cast<int>(k);
      if (q == p) continue;
      std::string text = space_.render(q);
      if (text == incumbent_->text) continue;
      out.emplace_back(std::move(q), std::move(text));
    }
    return out;
  }

  std::string describe(const Coordinate& c, const Point& q) const {
    std::string out;
    for (const Difference& d : space_.diff(incumbent_->point, q))
      if (std::find(c.decisions.begin(), c.decisions.end(), d.decision) != c.decisions.end())
        out += (out.empty() ? "" : "; ") + space_.describe(d);
    return out.empty() ? c.what : out;
  }

  // Keeps the fastest (by penalised time) of the incumbent and the coordinate's choices.
  void settle() {
    double best = cost(incumbent_->text);
    for (const auto& [point, text] : options_) {
      const double x = cost(text);
      if (x < best) {
        best = x;
        incumbent_ = Incumbent{point, text};
        changed_ = true;
      }
    }
    options_.clear();
  }

  const Space& space_;
  int rounds_ = 5;
  double penalty0_ = 1;
  std::map<std::string, Measured> measured_;  // by mapper text
  std::optional<Incumbent> incumbent_;
  int round_ = 0;
  std::vector<Coordinate> coordinates_;
  int coordinate_ = -1;                                 // the one being measured (-1: none yet this round)
  bool changed_ = false;                                // the incumbent changed this round
  std::vector<std::pair<Point, std::string>> options_;  // the current coordinate's choices
  std::deque<Candidate> queue_;                         // proposed next
  std::set<std::string> queued_;                        // ever proposed
};

const bool registered =
    register_optimizer({"ccd",
                        "AutoMap's constrained coordinate descent: each decision in turn, costliest tasks first, "
                        "with a relaxing data-movement penalty",
                        [](const OptimizerContext& c) { return std::make_unique<Ccd>(c); }});

}  // namespace

}  // namespace mage::tune
