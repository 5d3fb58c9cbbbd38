// The options `mage tune` and `mage experiment` share, declared once (issue 13): the program
// (as `mage run` takes it), the budget, the start, the output directory, the time limit of
// an evaluation and the llm optimizer's endpoint.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <string>

#include "cli/io.h"
#include "cli/program_choice.h"

namespace mage::cli {

struct SearchOptions {
  ProgramChoice program;
  int budget = 10;
  std::string start = "default";
  std::string out;
  double time_limit_s = 30;
  double memory_limit_gib = kDefaultMemoryLimitGiB;
  std::optional<std::string> llm_url;
  std::optional<std::string> llm_model;
};

// What differs between the commands: the help of the options that mean something a little
// different for each.
struct SearchHelp {
  std::string budget;  // "Evaluations, the start's included"
  std::string start;   // "Where the search starts: default (default), expert, or a mapper FILE"
  std::string out;     // "Directory of the run (default ...)"
  std::string llm;     // "With --optimizer llm" or "With llm among --optimizers"
};

// Adds the program options (without the app, and with --machine optional: each command
// checks it), --budget, --start, --out, --time-limit, --memory-limit, --llm-url and --llm-model.
void add_search_options(CLI::App& command, SearchOptions& options, const SearchHelp& help);

// "mage: error: ..." for a budget below 1; returns false then.
bool check_search_options(const SearchOptions& options);

// The llm optimizer's settings the options give: "llm-url", "llm-model".
std::map<std::string, std::string> llm_settings(const SearchOptions& options);

}  // namespace mage::cli
