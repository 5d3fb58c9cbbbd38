// For the optimizers' tests: a synthetic objective on a real space, whose optimum is known,
// and a loop that drives an optimizer over it as the driver does (propose a batch, observe
// it in order), without evaluating anything; and a real run of an optimizer through the
// driver, stopped and resumed.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../test_support.h"
#include "tune/tune.h"

namespace mage::tune::harness {

inline const Space& circuit_space() {
  static const Space space = [] {
    eval::Request r;
    r.app = "circuit";
    r.machine = "p100x4";
    r.scale = apps::Scale::Small;
    return Space::build(r);
  }();
  return space;
}

inline std::unique_ptr<Optimizer> make(const std::string& name, const Space& space, uint64_t seed = 1,
                                       std::map<std::string, std::string> options = {}) {
  OptimizerContext c;
  c.space = &space;
  c.seed = seed;
  c.options = std::move(options);
  return make_optimizer(name, c);
}

// The time is 1 + the number of `targets` decisions whose choice is not the target's, so
// the optimum (time 1) is known: every target set, whatever the rest. Targets are decisions
// active everywhere (layouts, instance limits, collect_memory: not memories, which ccd moves
// together for every task using the data), set to a choice the default point does not have. A mapper that sets the
// first target's decision to `poison` (when set) fails.
struct Objective {
  std::vector<size_t> targets;
  std::vector<int> wanted;
  std::optional<int> poison;

  static Objective on(const Space& s, size_t count) {
    Objective o;
    const Point d = s.default_point();
    for (size_t i = 0; i < s.decisions().size() && o.targets.size() < count; ++i) {
      const Decision& dec = s.decisions()[i];
      if (dec.condition >= 0 || dec.choices.size() < 2 || dec.kind == DecisionKind::Processor ||
          dec.kind == DecisionKind::Memory)
        continue;
      o.targets.push_back(i);
      o.wanted.push_back((d[i] + 1) % static_cast<int>(dec.choices.size()));
    }
    return o;
  }

  double time(const Point& p) const {
    if (poison && p[targets.front()] == *poison) return -1;
    double t = 1;
    for (size_t i = 0; i < targets.size(); ++i) t += p[targets[i]] != wanted[i];
    return t;
  }
};

// A finished evaluation of `c` taking `time_s` (failed when negative).
inline Trial trial(int number, const Candidate& c, double time_s) {
  Trial t;
  t.number = number;
  t.candidate = c;
  if (time_s < 0) {
    t.result.outcome = sim::failure(sim::Status::ExecutionError, "poisoned");
  } else {
    t.result.outcome.status = sim::Status::Ok;
    t.result.outcome.time_s = time_s;
  }
  return t;
}

struct Walk {
  std::vector<std::string> texts;  // proposed, in order (the start's first)
  std::vector<Candidate> candidates;
  std::vector<double> times;  // +infinity: failed
  std::vector<double> best;   // best so far after each evaluation
  bool exhausted = false;
};

// Drives `o` from the default point for `budget` evaluations (the start's included).
inline Walk drive(Optimizer& o, const Space& s, const Objective& f, int budget) {
  Walk w;
  const Point start = s.default_point();
  Candidate c{s.render(start), start, "start", 0, {}};
  auto record = [&](const Candidate& c, int number) {
    const double t = f.time(*c.point);
    o.observe(trial(number, c, t));
    w.texts.push_back(c.text);
    w.candidates.push_back(c);
    w.times.push_back(t < 0 ? std::numeric_limits<double>::infinity() : t);
    w.best.push_back(std::min(w.best.empty() ? w.times.back() : w.best.back(), w.times.back()));
  };
  record(c, 1);
  while (static_cast<int>(w.texts.size()) < budget) {
    std::vector<Candidate> batch = o.propose(budget - static_cast<int>(w.texts.size()));
    if (batch.empty()) {
      w.exhausted = true;
      break;
    }
    EXPECT_LE(static_cast<int>(batch.size()), budget - static_cast<int>(w.texts.size()));
    for (const Candidate& b : batch) {
      EXPECT_TRUE(b.point);
      EXPECT_EQ(b.text, s.render(*b.point));
      record(b, static_cast<int>(w.texts.size()) + 1);
    }
  }
  return w;
}

inline size_t distinct(const std::vector<std::string>& texts) {
  return std::set<std::string>(texts.begin(), texts.end()).size();
}

// What must be the same in two runs: per evaluation, the mapper and its outcome.
inline std::vector<std::string> fingerprint(const Summary& s) {
  std::vector<std::string> out;
  for (const Trial& t : s.trials)
    out.push_back(std::to_string(t.number) + "\n" + t.candidate.text + "\n" + t.result.outcome.to_json().dump());
  return out;
}

inline Settings circuit_run(const std::string& optimizer, int budget, uint64_t seed = 1) {
  Settings s;
  s.program.app = "circuit";
  s.program.machine = "p100x4";
  s.program.scale = apps::Scale::Small;
  s.optimizer = optimizer;
  s.budget = budget;
  s.seed = seed;
  s.start = "expert";
  return s;
}

// Runs `optimizer` on circuit from the experts' mapper, whole and stopped after `stop_after`
// evaluations then resumed; both must end the same. Returns the whole run.
inline Summary run_and_resume(const std::string& optimizer, int budget, int stop_after) {
  mage::test::TempDir dir;
  Execution x;
  x.workers = 2;
  Summary whole = run(circuit_run(optimizer, budget), dir / "whole", x);
  int seen = 0;
  Execution part = x;
  part.progress = [&](const Progress& p) { seen += p.trial != nullptr; };
  part.stop = [&] { return seen >= stop_after; };
  const Summary stopped = run(circuit_run(optimizer, budget), dir / "part", part);
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_LT(stopped.trials.size(), static_cast<size_t>(budget));
  const Summary resumed = resume(dir / "part", x);
  EXPECT_FALSE(resumed.interrupted);
  EXPECT_EQ(fingerprint(resumed), fingerprint(whole));
  EXPECT_EQ(resumed.evaluated_now, static_cast<int>(whole.trials.size() - stopped.trials.size()));
  return whole;
}

}  // namespace mage::tune::harness
