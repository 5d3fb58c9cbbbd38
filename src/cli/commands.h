// The subcommands of `mage`. Each lives in its own file and registers itself on the
// application; its callback stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace mage::cli {

void register_check(CLI::App& app, int& exit_code);
void register_fmt(CLI::App& app, int& exit_code);
void register_place(CLI::App& app, int& exit_code);
void register_apps(CLI::App& app, int& exit_code);
void register_machine(CLI::App& app, int& exit_code);
void register_run(CLI::App& app, int& exit_code);
void register_explain(CLI::App& app, int& exit_code);
void register_bench(CLI::App& app, int& exit_code);
void register_calibrate(CLI::App& app, int& exit_code);
void register_tune(CLI::App& app, int& exit_code);
void register_experiment(CLI::App& app, int& exit_code);

}  // namespace mage::cli
