// `random`: points drawn uniformly from the distinct mappers of the space, never the same
// mapper twice (the baseline every other optimizer has to beat). Observations change
// nothing but the set of mappers already seen.
#include <fmt/format.h>
#include <set>

#include "tune/tune.h"

namespace mage::tune {

namespace {

// Draws per batch; any number gives the same sequence (the draws do not depend on scores).
constexpr int kBatch = 64;
// Draws that may repeat a mapper already seen before the space counts as exhausted.
constexpr int kAttempts = 1000;

class RandomSearch : public Optimizer {
 public:
  explicit RandomSearch(const OptimizerContext& c) : space_(*c.space), rng_(c.seed) {
    if (!c.options.empty())
      throw TuneError(fmt::format("optimizer random takes no options (got '{}')", c.options.begin()->first));
  }

  std::vector<Candidate> propose(int limit) override {
    std::vector<Candidate> out;
    const int n = std::min(limit, kBatch);
    for (int attempts = 0; static_cast<int>(out.size()) < n && attempts < kAttempts; ++attempts) {
      Point p = space_.sample(rng_);
      std::string text = space_.render(p);
      if (!seen_.insert(text).second) continue;
      attempts = 0;
      out.push_back(Candidate{std::move(text), std::move(p), "random sample", 0, {}});
    }
    return out;
  }

  void observe(const Trial& trial) override { seen_.insert(trial.candidate.text); }

 private:
  const Space& space_;
  Rng rng_;
  std::set<std::string> seen_;
};

const bool registered =
    register_optimizer({"random", "points drawn uniformly from the space, each mapper once (the baseline)",
                        [](const OptimizerContext& c) { return std::make_unique<RandomSearch>(c); }});

}  // namespace

}  // namespace mage::tune
