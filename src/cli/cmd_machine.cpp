// mage machines, mage machine show: the machine presets and files.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "machine/machine.h"

namespace mage::cli {

namespace {

int run_machines() {
  size_t width = 0;
  auto list = machine::presets();
  for (const auto& p : list) width = std::max(width, p.name.size());
  for (const auto& p : list) std::printf("%-*s  %s\n", static_cast<int>(width), p.name.c_str(), p.description.c_str());
  return 0;
}

struct ShowOptions {
  std::string machine;
  std::optional<int> nodes;
  std::optional<int> ranks_per_node;
  bool json = false;
};

int run_show(const ShowOptions& o) {
  try {
    machine::Machine m = machine::load(o.machine, {.nodes = o.nodes, .ranks_per_node = o.ranks_per_node});
    if (o.json)
      std::printf("%s\n", machine::as_json(m).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    else
      std::fputs(machine::describe(m).c_str(), stdout);
    return 0;
  } catch (const machine::LoadError& e) {
    std::fprintf(stderr, "mage: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

void register_machine(CLI::App& app, int& exit_code) {
  auto* list = app.add_subcommand("machines", "List the machine presets");
  list->callback([&exit_code] { exit_code = run_machines(); });

  auto* group = app.add_subcommand("machine", "Inspect a machine (a preset name or a .toml file)");
  group->require_subcommand(1);
  auto o = std::make_shared<ShowOptions>();
  auto* show = group->add_subcommand("show", "Print a machine's processors, memories, capacities and bandwidths");
  show->add_option("machine", o->machine, "Preset name (see `mage machines`) or path to a .toml file")->required();
  show->add_option("--nodes", o->nodes, "Number of nodes (overrides the file)");
  show->add_option("--ranks-per-node", o->ranks_per_node,
                   "Ranks per node, each owning an equal share of its processors");
  show->add_flag("--json", o->json, "Print JSON (SI units) instead of text");
  show->callback([o, &exit_code] { exit_code = run_show(*o); });
}

}  // namespace mage::cli
