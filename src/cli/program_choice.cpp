#include "cli/program_choice.h"

#include <fmt/format.h>
#include <cstdio>

#include "cli/io.h"

namespace mage::cli {

void add_app_argument(CLI::App& command, ProgramChoice& choice) {
  command.add_option("app", choice.app, "Program name (see `mage apps`)")->required()->check(program_name());
}

void add_program_options(CLI::App& command, ProgramChoice& choice, bool machine_required) {
  command.add_option("--machine", choice.machine, "Preset name (see `mage machines`) or path to a .toml file")
      ->required(machine_required);
  command.add_option("--nodes", choice.nodes, "Number of nodes (overrides the machine file)");
  command.add_option("--ranks-per-node", choice.ranks_per_node,
                     "Ranks per node (overrides the machine file and the app's default: 4 for johnson and cosma)");
  command.add_option("--scale", choice.scale, "Problem size: published (default) or small");
  command.add_option("--iterations", choice.iterations, "Timed iterations (default: as published)");
  command.add_flag("--place-every-iteration", choice.place_every_iteration,
                   "Matrix multiplications: place the tiles again before every timed iteration, as DISTAL's drivers "
                   "do (default: once, before the warm-up; docs/simulation.md)");
  command.add_option("--task-limit", choice.task_limit,
                     "Point tasks the program may have, checked before it is built (default 10000000; 0: no limit)");
}

bool check_task_limit(const ProgramChoice& choice) {
  if (choice.task_limit >= 0) return true;
  fail("--task-limit must be 0 (no limit) or more point tasks");
  return false;
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
  if (!check_task_limit(choice)) return std::nullopt;
  eval::Request request;
  request.app = choice.app;
  request.machine = choice.machine;
  request.overrides = {.nodes = choice.nodes, .ranks_per_node = choice.ranks_per_node};
  request.scale = *scale;
  request.iterations = choice.iterations;
  request.place_every_iteration = choice.place_every_iteration;
  return request;
}

void add_mapper_options(CLI::App& command, MapperChoice& choice) {
  auto* mapper = command.add_option("--mapper", choice.file, "Mapper file (.map; - reads it from standard input)");
  auto* expert = command.add_flag("--expert", choice.expert, "Use the expert mapper mappers/expert/APP.map");
  auto* dflt = command.add_flag("--default", choice.default_mapper, "Use the built-in default mapper");
  mapper->excludes(expert)->excludes(dflt);
  expert->excludes(dflt);
}

void require_mapper(const MapperChoice& choice) {
  if (choice.file.empty() && !choice.expert && !choice.default_mapper)
    throw CLI::RequiredError("one of --mapper FILE, --expert, --default");
}

std::optional<eval::MapperSpec> mapper_spec(const MapperChoice& choice) {
  if (choice.expert) return eval::expert_mapper();
  if (choice.default_mapper) return eval::default_mapper();
  auto text = read_file(choice.file);
  if (!text) return std::nullopt;
  return eval::mapper_text(std::move(*text), source_name(choice.file));
}

std::string describe(const eval::Request& request, const eval::Resolved& resolved) {
  std::string mapper = request.mapper.kind == eval::MapperKind::Default ? "the default mapper"
                       : request.mapper.kind == eval::MapperKind::Expert
                           ? fmt::format("the expert mapper (mappers/expert/{}.map)", request.app)
                           : request.mapper.file;
  std::string machine = request.machine;
  if (request.overrides.nodes) machine += fmt::format(" x {} nodes", *request.overrides.nodes);
  const int ranks = resolved.machine->ranks_per_node();
  if (request.overrides.ranks_per_node || ranks != 1)
    machine += fmt::format(", {} rank{} per node", ranks, ranks == 1 ? "" : "s");
  if (resolved.ranks_from_app)
    machine += fmt::format(" (as {} runs by default; --ranks-per-node R to change)", request.app);
  return fmt::format("{} on {}, scale {}, {}", request.app, machine, apps::to_string(request.scale), mapper);
}

int exit_code(sim::Status status) {
  switch (status) {
    case sim::Status::Ok:
      return 0;
    case sim::Status::MapperError:
      return 2;
    case sim::Status::MappingError:
      return 3;
    case sim::Status::ExecutionError:
      return 4;
    case sim::Status::SimulatorFailure:
      return 5;
  }
  return 5;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "mage: error: %s\n", message.c_str());
  return 1;
}

}  // namespace mage::cli
