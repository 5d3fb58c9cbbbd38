// The bandit optimizer (OpenTuner's ensemble): it finds a known optimum, never proposes a
// mapper measured already, is deterministic per seed, learns nothing but the time, and runs
// and resumes through the driver on a real program.
#include <gtest/gtest.h>

#include "harness.h"

namespace mage::tune {
namespace {

using namespace harness;

TEST(Bandit, FindsTheOptimumOfASyntheticSpace) {
  const Space& s = circuit_space();
  const Objective f = Objective::on(s, 4);
  ASSERT_EQ(f.targets.size(), 4u);
  auto o = make("bandit", s, 1);
  const Walk w = drive(*o, s, f, 400);
  EXPECT_EQ(w.best.front(), 5);  // the default point misses every target
  EXPECT_EQ(w.best.back(), 1) << "best after 400 evaluations: " << w.best.back();
  // Each technique was used, and labelled.
  std::set<std::string> techniques;
  for (size_t i = 1; i < w.candidates.size(); ++i) techniques.insert(w.candidates[i].notes.value("technique", ""));
  EXPECT_TRUE(techniques.contains("differential evolution"));
  EXPECT_TRUE(techniques.contains("uniform greedy mutation"));
  EXPECT_TRUE(techniques.contains("normal greedy mutation"));
}

TEST(Bandit, NeverProposesAMapperMeasuredAlready) {
  const Space& s = circuit_space();
  Objective f = Objective::on(s, 3);
  f.poison = (f.wanted.front() + 1) % static_cast<int>(s.decisions()[f.targets.front()].choices.size());
  for (uint64_t seed : {1, 2, 3}) {
    auto o = make("bandit", s, seed);
    const Walk w = drive(*o, s, f, 300);
    EXPECT_EQ(distinct(w.texts), w.texts.size()) << "seed " << seed;  // the start's included
    EXPECT_EQ(w.best.back(), 1) << "seed " << seed;
    // Failures (the poisoned choice) happen, and do not stop the search.
    EXPECT_TRUE(std::any_of(w.times.begin(), w.times.end(), [](double t) { return std::isinf(t); }));
  }
}

TEST(Bandit, DeterministicPerSeedAndWidth) {
  const Space& s = circuit_space();
  const Objective f = Objective::on(s, 4);
  auto texts = [&](uint64_t seed, std::map<std::string, std::string> options = {}) {
    auto o = make("bandit", s, seed, std::move(options));
    return drive(*o, s, f, 60).texts;
  };
  EXPECT_EQ(texts(7), texts(7));
  EXPECT_NE(texts(7), texts(8));
  // The batches' width changes what is proposed (a batch does not see its own outcomes) but
  // not the determinism.
  EXPECT_EQ(texts(7, {{"width", "1"}}), texts(7, {{"width", "1"}}));
  EXPECT_NE(texts(7, {{"width", "1"}}), texts(7));
}

TEST(Bandit, BatchesAreAsWideAsTheWidthAndTheLimit) {
  const Space& s = circuit_space();
  auto o = make("bandit", s, 1, {{"width", "3"}});
  const Point p = s.default_point();
  o->observe(trial(1, Candidate{s.render(p), p, "start", 0, {}}, 2.0));
  EXPECT_EQ(o->propose(10).size(), 3u);
  auto o2 = make("bandit", s, 1);
  o2->observe(trial(1, Candidate{s.render(p), p, "start", 0, {}}, 2.0));
  EXPECT_EQ(o2->propose(2).size(), 2u);
}

TEST(Bandit, BadOptions) {
  const Space& s = circuit_space();
  EXPECT_THROW(make("bandit", s, 1, {{"width", "0"}}), TuneError);
  EXPECT_THROW(make("bandit", s, 1, {{"window", "x"}}), TuneError);
  EXPECT_THROW(make("bandit", s, 1, {{"c", "-1"}}), TuneError);
  try {
    make("bandit", s, 1, {{"population", "3"}});
    FAIL() << "expected TuneError";
  } catch (const TuneError& e) {
    EXPECT_NE(std::string(e.what()).find("no option 'population' (it has: width, window, c)"), std::string::npos)
        << e.what();
  }
}

TEST(Bandit, RunsAndResumesOnCircuit) {
  const Summary r = run_and_resume("bandit", 9, 4);
  ASSERT_EQ(r.trials.size(), 9u);
  ASSERT_TRUE(r.best);
  // The start is the experts' mapper; the best is no slower.
  EXPECT_LE(r.trials[*r.best].score(), r.trials.front().score());
  std::set<std::string> texts;
  for (const Trial& t : r.trials) EXPECT_TRUE(texts.insert(t.candidate.text).second) << t.number;
  EXPECT_EQ(r.trials[1].candidate.origin.rfind("bandit: ", 0), 0u) << r.trials[1].candidate.origin;
}

}  // namespace
}  // namespace mage::tune
