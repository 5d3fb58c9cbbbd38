// The registry of optimizers: each optimizer's file adds itself at start-up.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <limits>

#include "tune/detail.h"

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

namespace detail {

void check_option_keys(std::string_view optimizer, const std::map<std::string, std::string>& options,
                       const std::vector<std::string>& known) {
  for (const auto& [key, value] : options) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    if (list.empty()) throw TuneError(fmt::format("optimizer {} takes no options (got '{}')", optimizer, key));
    throw TuneError(fmt::format("optimizer {} has no option '{}' (it has: {})", optimizer, key, list));
  }
}

double number_option(std::string_view optimizer, const std::map<std::string, std::string>& options,
                     const std::string& key, double fallback, double low, double high, bool whole) {
  auto it = options.find(key);
  if (it == options.end()) return fallback;
  try {
    size_t used = 0;
    const double value = std::stod(it->second, &used);
    if (used == it->second.size() && (!whole || value == std::floor(value)) && value >= low && value <= high)
      return value;
  } catch (const std::exception&) {
  }
  throw TuneError(fmt::format("optimizer {}: option {}={} is not a {} from {} to {}", optimizer, key, it->second,
                              whole ? "whole number" : "number", low, high));
}

}  // namespace detail

}  // namespace mage::tune
