#include "cli/program_choice.h"

#include <cstdio>

namespace mage::cli {

void add_program_options(CLI::App& command, ProgramChoice& choice, bool machine_required) {
  command.add_option("--machine", choice.machine, "Preset name (see `mage machines`) or path to a .toml file")
      ->required(machine_required);
  command.add_option("--nodes", choice.nodes, "Number of nodes (overrides the machine file)");
  command.add_option("--ranks-per-node", choice.ranks_per_node,
                     "Ranks per node (overrides the machine file and the app's default: 4 for johnson and cosma)");
  command.add_option("--scale", choice.scale, "Problem size: published (default) or small");
  command.add_option("--iterations", choice.iterations, "Timed iterations (default: as published)");
}

std::optional<eval::Request> program_request(const ProgramChoice& choice) {
  auto scale = apps::parse_scale(choice.scale);
  if (!scale) {
    fail("--scale must be 'published' or 'small', not '" + choice.scale + "'");
    return std::nullopt;
  }
  if (choice.iterations && *choice.iterations < 1) {
    fail("--iterations must be at least 1");
    return std::nullopt;
  }
  eval::Request request;
  request.app = choice.app;
  request.machine = choice.machine;
  request.overrides = {.nodes = choice.nodes, .ranks_per_node = choice.ranks_per_node};
  request.scale = *scale;
  request.iterations = choice.iterations;
  return request;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "mage: error: %s\n", message.c_str());
  return 1;
}

}  // namespace mage::cli
