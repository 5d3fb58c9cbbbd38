// mage: finds fast mappers for task-based parallel programs.
//
// The command line's conventions (README "Usage"): `mage`, `mage help` and `mage --help`
// print the help and exit 0; `mage help COMMAND...` is `mage COMMAND... --help`;
// `mage --version` prints "mage VERSION". Every usage error is one line on stderr,
// "mage: error: MESSAGE", with "did you mean" for a misspelt command, option, program or
// machine, and exit status 1, whichever command and whether CLI11 or the command found it.
#include "cli/commands.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <regex>
#include <string>
#include <vector>

#include "cli/io.h"
#include "kinds/json_text.h"

namespace {

// The command being parsed when an error was found: `app` or its deepest chosen subcommand.
const CLI::App* current_command(const CLI::App& app) {
  const CLI::App* cur = &app;
  while (!cur->get_subcommands().empty()) cur = cur->get_subcommands().front();
  return cur;
}

// "mage run", "mage machine show".
std::string command_path(const CLI::App* command) {
  std::string path;
  for (const CLI::App* c = command; c != nullptr; c = c->get_parent())
    path = c->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

std::vector<std::string> subcommand_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::App* sub : command.get_subcommands([](const CLI::App*) { return true; }))
    if (!sub->get_name().empty()) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* o : command.get_options())
    for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  return names;
}

// The words CLI11 did not expect, in the order given.
std::string unexpected(const CLI::App& app, const CLI::App* command) {
  std::vector<std::string> left = command->remaining(false);
  if (left.empty()) left = app.remaining(true);
  if (left.empty()) return "unexpected arguments";
  const std::string& first = left.front();
  const std::vector<std::string> names = subcommand_names(*command);
  if (first.rfind("-", 0) != 0 && !names.empty()) {
    const std::string path = command_path(command);
    return "unknown command '" + first + "' (" + mage::cli::did_you_mean(first, names) + "the commands" +
           (command == &app ? "" : " of " + path) + ": " + mage::cli::join(names) + "; see `" + path + " --help`)";
  }
  if (first.rfind("-", 0) == 0) {
    std::string option = first.substr(0, first.find('='));
    std::string hint = mage::cli::did_you_mean(option, option_names(*command));
    return "`" + command_path(command) + "` takes no option " + option + " (" + hint + "see `" + command_path(command) +
           " --help`)";
  }
  return "`" + command_path(command) + "` does not take '" + first + "' here (see `" + command_path(command) +
         " --help`)";
}

// The one line a usage error prints, from CLI11's error.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* command = current_command(app);
  const std::string help = "see `" + command_path(command) + " --help`";
  // A word CLI11 did not know is the likeliest cause of any other complaint (a misspelt
  // --machine makes --machine missing): it is named first.
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr || !command->remaining(false).empty() ||
      !app.remaining(true).empty())
    return unexpected(app, command);
  std::string message = e.what();
  std::smatch m;
  static const std::regex conversion(R"(Could not convert: (\S+) = (.*))");
  static const std::regex range(R"((\S+): Value (.*) not in range (.*) to (.*))");
  static const std::regex required(R"((\w+) is required)");
  static const std::regex no_value(R"((\S+): \d+ required \S+ missing)");
  if (std::regex_match(message, m, conversion))
    message = m[1].str() + " takes a number, not '" + m[2].str() + "'";
  else if (std::regex_match(message, m, range))
    message = m[1].str() + " must be between " + m[3].str() + " and " + m[4].str() + ", not " + m[2].str();
  else if (std::regex_match(message, m, no_value))
    message = m[1].str() + " needs a value";
  else if (std::regex_match(message, m, required))
    message = "`" + command_path(command) + "` needs " +
              (m[1] == "app"       ? std::string("APP, the program (see `mage apps`)")
               : m[1] == "files"   ? std::string("one or more mapper FILEs (- for standard input)")
               : m[1] == "file"    ? std::string("a mapper FILE (- for standard input)")
               : m[1] == "machine" ? std::string("MACHINE, a preset (see `mage machines`) or a .toml file")
                                   : m[1].str());
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && message.rfind("A subcommand", 0) == 0) {
    if (!command->remaining(false).empty() || (command == &app && !app.remaining(true).empty()))
      return unexpected(app, command);
    const std::vector<std::string> names = subcommand_names(*command);
    if (command == &app) return "no command given (the commands: " + mage::cli::join(names) + "; see `mage help`)";
    return "`" + command_path(command) + "` needs a command: " + mage::cli::join(names) + " (" + help + ")";
  }
  // CLI11 names a positional argument before its validator's message, which names it again.
  for (const CLI::Option* o : command->get_options())
    if (o->get_positional() && message.rfind(o->get_name() + ": unknown ", 0) == 0)
      return message.substr(o->get_name().size() + 2);
  if (!message.empty() && message.back() == '.') message.pop_back();
  if (message.find("see `") != std::string::npos) return message;  // says where to look already
  return message + " (" + help + ")";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mage: compile, apply, simulate and tune mappers for task-based programs"};
  app.name("mage");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  app.set_version_flag("--version", std::string("mage ") + MAGE_VERSION, "Print mage's version and exit");
  app.footer("`mage help COMMAND` (or `mage COMMAND --help`) describes a command; README.md has examples.");
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

  // `mage` and `mage help`: the help; `mage help COMMAND...`: that command's help.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || (args.size() == 1 && args[0] == "help")) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  if (args[0] == "help") {
    args.erase(args.begin());
    const CLI::App* command = &app;
    for (const std::string& word : args) {
      const std::vector<std::string> names = subcommand_names(*command);
      if (std::find(names.begin(), names.end(), word) == names.end()) {
        std::fprintf(stderr, "mage: error: unknown command '%s' (%sthe commands%s: %s; see `mage help`)\n",
                     word.c_str(), mage::cli::did_you_mean(word, names).c_str(),
                     command == &app ? "" : (" of " + command_path(command)).c_str(), mage::cli::join(names).c_str());
        return 1;
      }
      command = command->get_subcommand(word);
    }
    args.push_back("--help");
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --help-all, --version: stdout, exit 0
    std::fprintf(stderr, "mage: error: %s\n", usage_message(app, e).c_str());
    return 1;
  } catch (const std::exception& e) {
    // A JSON library message that no command turned into its own words: its text without the library's tag.
    const std::string what = std::string_view(e.what()).starts_with("[json.exception")
                                 ? "malformed JSON: " + mage::kinds::without_json_tag(e.what())
                                 : std::string(e.what());
    std::fprintf(stderr, "mage: error: %s\n", what.c_str());
    return 1;
  }
  return exit_code;
}
