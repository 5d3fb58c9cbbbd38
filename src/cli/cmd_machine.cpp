// mage machines, mage machine show: the machine presets and files.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/io.h"
#include "machine/machine.h"

namespace mage::cli {

namespace {

int run_machines(bool json) {
  auto list = machine::presets();
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& p : list) out.push_back({{"name", p.name}, {"description", p.description}});
    print_json(out);
    return 0;
  }
  size_t width = 0;
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
      print_json(machine::as_json(m));
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
  auto json = std::make_shared<bool>(false);
  auto* list = app.add_subcommand("machines", "List the machine presets (as `mage machine list`)");
  list->add_flag("--json", *json, "Print a JSON array of {name, description}");
  list->callback([json, &exit_code] { exit_code = run_machines(*json); });

  auto* group = app.add_subcommand("machine", "Inspect a machine (a preset name or a .toml file)");
  group->require_subcommand(1);
  auto* list2 = group->add_subcommand("list", "List the machine presets (as `mage machines`)");
  list2->add_flag("--json", *json, "Print a JSON array of {name, description}");
  list2->callback([json, &exit_code] { exit_code = run_machines(*json); });
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
