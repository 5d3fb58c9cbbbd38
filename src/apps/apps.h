// The nine benchmark programs of shared/BENCHMARKS.md, built as program::Program for a
// given machine shape, and their descriptions for people and language models.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "program/program.h"

namespace mage::machine {
class Machine;
}

namespace mage::apps {

// Published: the problem sizes of the published experiments. Small: tiny sizes and few
// iterations with the same structure, for fast tests.
enum class Scale { Published, Small };
std::string_view to_string(Scale s);
std::optional<Scale> parse_scale(std::string_view s);  // "published" or "small"

struct Params {
  int nodes = 1;
  int gpus_per_node = 4;
  int ranks_per_node = 1;  // the machine's (recorded only; AppInfo::ranks_per_node says what an app prefers)
  int cpus_per_node = 0;   // informational: 0 = unknown
  int omps_per_node = 0;   // informational: 0 = unknown
  // Bytes of one GPU's framebuffer (0 = unknown): COSMA, like the real library, chooses a
  // grid whose tiles fit it.
  uint64_t gpu_memory_bytes = 0;
  Scale scale = Scale::Published;
  std::optional<int> iterations;  // timed iterations; default: as published (or small)
  // The matrix multiplications only: place the tiles again before every timed iteration
  // (untimed: the placement tasks write A, B and C where the mapper puts them, as DISTAL's
  // drivers' fills and placement calls do), and, for the 3-D ones, read A's tiles back after
  // the computation (timed: the drivers' read-only placement that folds the partial sums).
  // Default: placed once, before the warm-up (docs/simulation.md, "Known differences").
  bool place_every_iteration = false;
};

// The Params of a program run on that machine, as `mage run` builds it: its nodes, ranks and
// processors per node and one GPU's framebuffer (COSMA's grid depends on it).
Params params_for(const machine::Machine& m, Scale scale = Scale::Published,
                  std::optional<int> iterations = std::nullopt);

// An unsupported app name or configuration (e.g. a GPU count not in a table).
class AppError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AppInfo {
  std::string name;
  std::string summary;  // one line
  // Ranks per node the app runs as unless the user says otherwise (the published runs):
  // 4 for Johnson and COSMA, one GPU each; 1 for the others. eval::resolve applies it.
  int ranks_per_node = 1;
  // The program places its inputs with placement tasks (the six matrix multiplications):
  // Params::place_every_iteration applies.
  bool places_inputs = false;
};

// The nine apps in the order of BENCHMARKS.md.
const std::vector<AppInfo>& list();
// The app of that name, or null.
const AppInfo* find(std::string_view app);

// Builds the program; throws AppError for an unknown app or an unsupported configuration.
program::Program build(std::string_view app, const Params& params);

// What a performance engineer (or a language model) reads before writing a mapper: per
// task its variants, leaf or inner, launches and domains, region arguments (index, names,
// fields, privilege, bytes per point) and cost; plus the data (regions and partitions).
std::string describe(const program::Program& p);
nlohmann::ordered_json describe_json(const program::Program& p);

// Aggregates used by descriptions and tests.
struct Totals {
  int launches_per_iteration = 0;           // top-level launches of one timed iteration
  int64_t point_tasks_per_iteration = 0;    // including nested ones
  double flops_per_iteration = 0;           // leaf tasks, on their first variant
  double bytes_accessed_per_iteration = 0;  // read + written by leaf tasks
  int64_t region_bytes = 0;                 // all fields of all regions
};
Totals totals(const program::Program& p);

}  // namespace mage::apps
