// mage: finds fast mappers for task-based parallel programs.
#include "cli/commands.h"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"mage: compile, apply, simulate and tune mappers for task-based programs"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  int exit_code = 0;
  mage::cli::register_check(app, exit_code);
  mage::cli::register_fmt(app, exit_code);
  mage::cli::register_place(app, exit_code);
  mage::cli::register_apps(app, exit_code);
  mage::cli::register_machine(app, exit_code);
  mage::cli::register_run(app, exit_code);
  mage::cli::register_explain(app, exit_code);
  mage::cli::register_bench(app, exit_code);
  mage::cli::register_calibrate(app, exit_code);
  mage::cli::register_tune(app, exit_code);
  mage::cli::register_experiment(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 1 (CLI11 would use its own codes); help exits 0.
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mage: error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
