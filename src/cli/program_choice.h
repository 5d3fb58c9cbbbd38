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
};

// Adds --machine, --nodes, --ranks-per-node, --scale and --iterations (the app positional
// stays with the command, which may check it). Without `machine_required` the command
// checks --machine itself (`mage tune --resume DIR` needs none).
void add_program_options(CLI::App& command, ProgramChoice& choice, bool machine_required = true);

// The request for the choice (mapper and options left to the caller); prints
// "mage: error: ..." and returns nullopt for a bad --scale or --iterations.
std::optional<eval::Request> program_request(const ProgramChoice& choice);

// Prints "mage: error: MESSAGE" and returns the usage exit code, 1.
int fail(const std::string& message);

}  // namespace mage::cli
