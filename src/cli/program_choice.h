// The program a command is about, as `mage run` and `mage app show` take it: the app, the
// machine with its overrides, the scale and the iterations.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "eval/eval.h"

namespace mage::cli {

struct ProgramChoice {
  std::string app;
  std::string machine;
  std::optional<int> nodes;
  std::optional<int> ranks_per_node;
  std::string scale = "published";
  std::optional<int> iterations;
  bool place_every_iteration = false;
  int64_t task_limit = eval::kDefaultTaskLimit;  // --task-limit: eval::Limits::point_tasks
};

// Adds the positional APP argument (one of the nine programs).
void add_app_argument(CLI::App& command, ProgramChoice& choice);
// Adds --machine, --nodes, --ranks-per-node, --scale, --iterations and --task-limit (the app positional
// stays with the command, which may check it). Without `machine_required` the command
// checks --machine itself (`mage tune --resume DIR` needs none).
void add_program_options(CLI::App& command, ProgramChoice& choice, bool machine_required = true);

// Prints "mage: error: ..." and returns false for a negative --task-limit (program_request
// checks it too).
bool check_task_limit(const ProgramChoice& choice);

// The request for the choice (mapper and options left to the caller); prints
// "mage: error: ..." and returns nullopt for a bad --scale or --iterations.
std::optional<eval::Request> program_request(const ProgramChoice& choice);

// Which mapper a command evaluates: exactly one of --mapper FILE, --expert, --default.
struct MapperChoice {
  std::string file;
  bool expert = false;
  bool default_mapper = false;
};

// Adds --mapper, --expert and --default (mutually exclusive).
void add_mapper_options(CLI::App& command, MapperChoice& choice);
// Throws CLI::RequiredError when none was given (call it from the command's callback).
void require_mapper(const MapperChoice& choice);
// The mapper to evaluate; prints an error and returns nullopt when the file cannot be read.
std::optional<eval::MapperSpec> mapper_spec(const MapperChoice& choice);

// "circuit on p100x4, scale published, the expert mapper (mappers/expert/circuit.map)": what
// was evaluated, as the first line of a command's report.
std::string describe(const eval::Request& request, const eval::Resolved& resolved);

// The exit status of an evaluation: 0 ok, 2 mapper error, 3 mapping error, 4 execution
// error, 5 simulator failure.
int exit_code(sim::Status status);

// Prints "mage: error: MESSAGE" and returns the usage exit code, 1.
int fail(const std::string& message);

}  // namespace mage::cli
