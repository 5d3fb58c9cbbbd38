// The mcmc optimizer (FlexFlow's search): one decision changed per step, faster steps always
// accepted, slower ones sometimes, failures never, restarts from the best; it finds a known
// optimum, is deterministic per seed, and runs and resumes through the driver.
#include <gtest/gtest.h>

#include "harness.h"

namespace mage::tune {
namespace {

using namespace harness;

TEST(Mcmc, FindsTheOptimumOfASyntheticSpace) {
  const Space& s = circuit_space();
  const Objective f = Objective::on(s, 4);
  auto o = make("mcmc", s, 1);
  const Walk w = drive(*o, s, f, 400);
  EXPECT_EQ(w.best.back(), 1);
  EXPECT_EQ(distinct(w.texts), w.texts.size());  // a mapper measured already is not measured again
}

TEST(Mcmc, EachStepChangesOneDecisionOfTheCurrentMapper) {
  const Space& s = circuit_space();
  Objective f = Objective::on(s, 4);
  f.poison = (f.wanted.front() + 1) % static_cast<int>(s.decisions()[f.targets.front()].choices.size());
  // A huge beta accepts no slower step: the current mapper is always the best so far.
  auto o = make("mcmc", s, 2, {{"restart", "1000"}, {"beta", "1e6"}});
  const Walk w = drive(*o, s, f, 120);
  bool failed = false;
  for (size_t i = 1; i < w.candidates.size(); ++i) {
    const Candidate& c = w.candidates[i];
    ASSERT_GE(c.parent, 1);
    const size_t parent = static_cast<size_t>(c.parent - 1);
    ASSERT_LT(parent, i);
    const Point& from = *w.candidates[parent].point;
    int changed = 0;
    for (size_t d = 0; d < from.size(); ++d) changed += from[d] != (*c.point)[d];
    EXPECT_EQ(changed, 1) << "step " << i;
    EXPECT_TRUE(s.active(from, s.diff(from, *c.point).front().decision)) << "step " << i;
    EXPECT_EQ(w.times[parent], w.best[i - 1]) << "step " << i << " is not from the best so far";
    failed |= std::isinf(w.times[i]);
  }
  EXPECT_TRUE(failed);  // the poisoned choice was tried, and never became the current mapper
}

TEST(Mcmc, RestartsFromTheBest) {
  const Space& s = circuit_space();
  auto o = make("mcmc", s, 1, {{"restart", "2"}, {"beta", "0"}});  // beta 0: every ok step is accepted
  const Point p = s.default_point();
  o->observe(trial(1, Candidate{s.render(p), p, "start", 0, {}}, 1.0));
  std::vector<Candidate> a = o->propose(1);
  ASSERT_EQ(a.size(), 1u);
  o->observe(trial(2, a[0], 2.0));  // slower, accepted (beta 0)
  std::vector<Candidate> b = o->propose(1);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].parent, 2);
  o->observe(trial(3, b[0], 3.0));
  // Two steps done: the walk restarts from the best, the start.
  std::vector<Candidate> c = o->propose(1);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].parent, 1);
}

TEST(Mcmc, DeterministicPerSeedAndBadOptions) {
  const Space& s = circuit_space();
  const Objective f = Objective::on(s, 4);
  auto texts = [&](uint64_t seed) {
    auto o = make("mcmc", s, seed);
    return drive(*o, s, f, 40).texts;
  };
  EXPECT_EQ(texts(5), texts(5));
  EXPECT_NE(texts(5), texts(6));
  EXPECT_THROW(make("mcmc", s, 1, {{"beta", "-1"}}), TuneError);
  EXPECT_THROW(make("mcmc", s, 1, {{"restart", "0.5"}}), TuneError);
  EXPECT_THROW(make("mcmc", s, 1, {{"temperature", "1"}}), TuneError);
}

TEST(Mcmc, RunsAndResumesOnCircuit) {
  const Summary r = run_and_resume("mcmc", 8, 3);
  ASSERT_EQ(r.trials.size(), 8u);
  ASSERT_TRUE(r.best);
  EXPECT_EQ(r.trials[1].candidate.origin.rfind("mcmc step 1: ", 0), 0u) << r.trials[1].candidate.origin;
}

}  // namespace
}  // namespace mage::tune
