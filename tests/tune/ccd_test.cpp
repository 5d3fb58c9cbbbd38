// The ccd optimizer (AutoMap's constrained coordinate descent): one coordinate at a time, the
// incumbent never worse, the costliest tasks first, an argument's memory moved for every task
// that uses it, the rounds and the relaxing penalty, determinism, and a real run that
// resumes.
#include <gtest/gtest.h>

#include "harness.h"

namespace mage::tune {
namespace {

using namespace harness;

TEST(Ccd, FindsTheOptimumOfASeparableSpaceInOneRound) {
  const Space& s = circuit_space();
  const Objective f = Objective::on(s, 5);
  auto o = make("ccd", s, 1, {{"rounds", "1"}});
  const Walk w = drive(*o, s, f, 100000);
  EXPECT_TRUE(w.exhausted);  // one round, then it stops
  EXPECT_EQ(w.best.back(), 1);
  EXPECT_EQ(distinct(w.texts), w.texts.size());
  // Every candidate changes one coordinate of its parent, the incumbent, whose time never
  // rises.
  double incumbent = w.times.front();
  for (size_t i = 1; i < w.candidates.size(); ++i) {
    const Candidate& c = w.candidates[i];
    ASSERT_GE(c.parent, 1);
    const double parent = w.times[static_cast<size_t>(c.parent - 1)];
    EXPECT_LE(parent, incumbent) << "evaluation " << i + 1 << " derives from a worse mapper";
    incumbent = std::min(incumbent, parent);
    EXPECT_EQ(c.origin.rfind("ccd round 1: ", 0), 0u) << c.origin;
  }
}

TEST(Ccd, RoundsEndWhenNothingChanges) {
  const Space& s = circuit_space();
  const Objective f = Objective::on(s, 3);
  auto one = make("ccd", s, 1, {{"rounds", "1"}, {"penalty", "0"}});
  auto five = make("ccd", s, 1, {{"penalty", "0"}});
  const Walk a = drive(*one, s, f, 100000);
  const Walk b = drive(*five, s, f, 100000);
  // The first round finds the optimum; the second sweeps around it, changes nothing, and
  // with no penalty left to relax the search ends there.
  ASSERT_GT(b.texts.size(), a.texts.size());
  EXPECT_TRUE(std::equal(a.texts.begin(), a.texts.end(), b.texts.begin()));
  EXPECT_TRUE(b.exhausted);
  for (const Candidate& c : b.candidates) EXPECT_EQ(c.origin.find("ccd round 3"), std::string::npos) << c.origin;
  EXPECT_EQ(b.candidates.back().origin.rfind("ccd round 2: ", 0), 0u) << b.candidates.back().origin;
}

TEST(Ccd, VisitsTheCostliestTasksFirst) {
  const Space& s = circuit_space();
  // The start's profile says calculate_new_currents takes the most time, then update_voltages.
  auto o = make("ccd", s, 1);
  const Point p = s.default_point();
  Trial start = trial(1, Candidate{s.render(p), p, "start", 0, {}}, 3.0);
  for (auto [task, seconds] : {std::pair{"update_voltages", 1.0}, {"calculate_new_currents", 2.0}}) {
    sim::TaskCost c;
    c.task = task;
    c.total_s = seconds;
    start.result.outcome.profile.costliest_tasks.push_back(c);
  }
  o->observe(start);
  std::vector<Candidate> first = o->propose(100);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0].origin, "ccd round 1: processor calculate_new_currents: GPU -> CPU");
  EXPECT_EQ(first.size(), 1u);  // one coordinate per batch: GPU's only alternative
  o->observe(trial(2, first[0], 4.0));
  // Then its arguments' memories, each moved for every task using the argument.
  std::vector<Candidate> next = o->propose(100);
  ASSERT_FALSE(next.empty());
  const auto diff = s.diff(p, *next[0].point);
  ASSERT_GE(diff.size(), 1u);
  const std::string argument = s.decisions()[diff[0].decision].argument;
  for (const Difference& d : diff) {
    EXPECT_EQ(s.decisions()[d.decision].kind, DecisionKind::Memory);
    EXPECT_EQ(s.decisions()[d.decision].argument, argument);
  }
  std::set<std::string> tasks;
  for (const Difference& d : diff) tasks.insert(s.decisions()[d.decision].task);
  EXPECT_GT(tasks.size(), 1u) << next[0].origin;  // circuit's node partitions are used by several tasks
}

TEST(Ccd, ThePenaltyPrefersLessCopyingUntilTheLastRound) {
  const Space& s = circuit_space();
  auto o = make("ccd", s, 1, {{"rounds", "2"}, {"penalty", "1"}});
  const Point p = s.default_point();
  o->observe(trial(1, Candidate{s.render(p), p, "start", 0, {}}, 3.0));
  // The first coordinate's alternatives are faster but copy for 2 s: 2.5 + 1·2 > 3.
  std::vector<Candidate> c = o->propose(100);
  ASSERT_GE(c.size(), 1u);
  int number = 2;
  for (const Candidate& x : c) {
    Trial copying = trial(number++, x, 2.5);
    sim::CopyCost copy;
    copy.total_s = 2;
    copying.result.outcome.profile.costliest_copies.push_back(copy);
    o->observe(copying);
  }
  std::vector<Candidate> batch = o->propose(100);
  ASSERT_FALSE(batch.empty());
  EXPECT_EQ(batch[0].parent, 1);  // the start stays the incumbent
  // Finish round 1 with nothing faster; in round 2 (penalty 0) the first copying mapper wins.
  while (!batch.empty() && batch[0].origin.rfind("ccd round 1", 0) == 0) {
    for (const Candidate& b : batch) o->observe(trial(number++, b, 5.0));
    batch = o->propose(100);
  }
  ASSERT_FALSE(batch.empty());
  EXPECT_EQ(batch[0].origin.rfind("ccd round 2: ", 0), 0u) << batch[0].origin;
  EXPECT_EQ(batch[0].parent, 2) << batch[0].origin;
}

TEST(Ccd, DeterministicAndBadOptions) {
  const Space& s = circuit_space();
  const Objective f = Objective::on(s, 4);
  auto texts = [&] {
    auto o = make("ccd", s, 3);
    return drive(*o, s, f, 50).texts;
  };
  EXPECT_EQ(texts(), texts());
  EXPECT_THROW(make("ccd", s, 1, {{"rounds", "0"}}), TuneError);
  EXPECT_THROW(make("ccd", s, 1, {{"penalty", "high"}}), TuneError);
  EXPECT_THROW(make("ccd", s, 1, {{"width", "2"}}), TuneError);
}

TEST(Ccd, RunsAndResumesOnCircuit) {
  const Summary r = run_and_resume("ccd", 8, 3);
  ASSERT_TRUE(r.best);
  EXPECT_LE(r.trials[*r.best].score(), r.trials.front().score());
  EXPECT_EQ(r.trials[1].candidate.origin.rfind("ccd round 1: ", 0), 0u) << r.trials[1].candidate.origin;
}

}  // namespace
}  // namespace mage::tune
