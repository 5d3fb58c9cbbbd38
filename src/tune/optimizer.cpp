// The registry of optimizers: each optimizer's file adds itself at start-up.
#include <fmt/format.h>
#include <algorithm>
#include <limits>

#include "tune/tune.h"

namespace mage::tune {

namespace {

std::vector<OptimizerInfo>& registry() {
  static std::vector<OptimizerInfo> optimizers;
  return optimizers;
}

}  // namespace

double Trial::score() const { return ok() ? result.outcome.time_s : std::numeric_limits<double>::infinity(); }

bool register_optimizer(OptimizerInfo info) {
  registry().push_back(std::move(info));
  return true;
}

std::vector<OptimizerInfo> optimizers() {
  std::vector<OptimizerInfo> out = registry();
  std::sort(out.begin(), out.end(), [](const OptimizerInfo& a, const OptimizerInfo& b) { return a.name < b.name; });
  return out;
}

std::unique_ptr<Optimizer> make_optimizer(std::string_view name, const OptimizerContext& context) {
  for (const OptimizerInfo& o : registry())
    if (o.name == name) return o.make(context);
  std::string known;
  for (const OptimizerInfo& o : optimizers()) known += (known.empty() ? "" : ", ") + o.name;
  throw TuneError(fmt::format("unknown optimizer '{}' (the optimizers are: {})", name, known));
}

}  // namespace mage::tune
