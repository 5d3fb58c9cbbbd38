// One command line (issue 14 §2): `mage`, `mage help` and `mage --version`; every usage
// error in one style, with "did you mean"; `-` reads a mapper from standard input;
// `explain --error-limit`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "run_mage.h"

namespace mage::test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// What `mage ARGS` prints on stdout alone, and its exit status.
CommandResult stdout_of(const std::string& args) {
  const std::string command = std::string(MAGE_EXE) + " " + args + " 2>/dev/null";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(Usage, VersionIsTheProjectVersion) {
  const CommandResult r = stdout_of("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.out, std::regex(R"(mage \d+\.\d+\.\d+\n)"))) << r.out;
}

TEST(Usage, NoArgumentsAndHelpPrintTheHelp) {
  for (const char* args : {"", "help", "--help"}) {
    const CommandResult r = stdout_of(args);
    EXPECT_EQ(r.exit_code, 0) << args;
    for (const char* part : {"Usage: mage", "check", "run", "tune", "experiment", "mage help COMMAND"})
      EXPECT_TRUE(contains(r.out, part)) << args << ": " << part << "\n" << r.out;
  }
  const CommandResult run = stdout_of("help run");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(contains(run.out, "--mapper")) << run.out;
  const CommandResult show = stdout_of("help machine show");
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_TRUE(contains(show.out, "--ranks-per-node")) << show.out;
  const CommandResult bad = run_mage("help rn");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.out, "mage: error: unknown command 'rn' (did you mean 'run'?")) << bad.out;
  EXPECT_TRUE(contains(run_mage("help machine shw").out, "unknown command 'shw' (did you mean 'show'?"));
}

// Every command's usage errors: one line, "mage: error: ...", on stderr, exit status 1.
TEST(Usage, EveryUsageErrorIsOneLineInOneStyle) {
  TempFile mapper("usage.map", "Task * GPU;\n");
  const std::string m = mapper.path();
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases{
      {"rnn", "unknown command 'rnn' (did you mean 'run'? the commands: check, fmt, place"},
      {"--bogus", "`mage` takes no option --bogus"},
      {"check " + m + " --bogus", "`mage check` takes no option --bogus (see `mage check --help`)"},
      {"check", "`mage check` needs one or more mapper FILEs"},
      {"check --app circut " + m, "--app: unknown program 'circut' (did you mean 'circuit'? programs: circuit, "},
      {"fmt " + m + " --bogus", "`mage fmt` takes no option --bogus"},
      {"fmt", "`mage fmt` needs a mapper FILE"},
      {"place " + m + " --nodes 0 --procs-per-node 2 --task t --domain 4", "--nodes must be between 1 and 4096, not 0"},
      {"place " + m + " --nodes 2 --procs-per-node 2 --task t --domain 4 --kind GPX",
       "--kind: unknown processor kind 'GPX' (did you mean 'GPU'?"},
      {"place " + m + " --node 2 --procs-per-node 2 --task t --domain 4",
       "`mage place` takes no option --node (did you mean '--nodes'?"},
      {"apps --bogus", "`mage apps` takes no option --bogus"},
      {"app", "`mage app` needs a command: list, show"},
      {"app shw circuit", "unknown command 'shw' (did you mean 'show'?"},
      {"app show circut --machine p100x4", "unknown program 'circut' (did you mean 'circuit'?"},
      {"machines --bogus", "`mage machines` takes no option --bogus"},
      {"machine show", "`mage machine show` needs MACHINE"},
      {"machine show p100", "unknown machine preset 'p100' (did you mean 'p100x4'?"},
      {"run circut --machine p100x4 --expert", "unknown program 'circut' (did you mean 'circuit'? programs: "},
      {"run", "`mage run` needs APP, the program (see `mage apps`)"},
      {"run circuit --machin p100x4 --expert", "`mage run` takes no option --machin (did you mean '--machine'?"},
      {"run circuit --machine p100x4 --expert --nodes x", "--nodes takes a number, not 'x' (see `mage run --help`)"},
      {"run circuit --machine p100x4 --expert --iterations", "--iterations needs a value"},
      {"run circuit --machine p100x4 --expert --time-limit -1", "--time-limit: must be 0 (no limit) or more seconds"},
      {"run circuit --machine p100x4 --expert --memory-limit -1",
       "--memory-limit: must be 0 (no limit) or from 0.001 to 1048576 GiB, not '-1'"},
      {"run circuit --machine p100x4 --expert --default", "--expert excludes --default"},
      {"explain stencl --machine p100x4 --expert", "unknown program 'stencl' (did you mean 'stencil'?"},
      {"explain circuit --machine p100x4 --expert --error-limit x", "--error-limit takes a number, not 'x'"},
      {"bench --bogus", "`mage bench` takes no option --bogus"},
      {"calibrate --bogus", "`mage calibrate` takes no option --bogus"},
      {"calibrate --jobs -1", "--jobs must be 0"},
      {"tune circut --machine p100x4", "unknown program 'circut' (did you mean 'circuit'?"},
      {"tune circuit --machine p100x4 --budget 0", "--budget must be at least 1"},
      {"tune circuit --machine p100x4 --time-limit -2", "--time-limit: must be 0 (no limit) or more seconds"},
      {"tune circuit --machine p100x4 --memory-limit 1e-9", "--memory-limit: must be 0 (no limit) or from 0.001"},
      {"experiment --memory-limit x", "--memory-limit: must be 0 (no limit) or from 0.001 to 1048576 GiB, not 'x'"},
      {"explain circuit --machine p100x4 --expert --memory-limit -0.5", "--memory-limit: must be 0 (no limit)"},
      {"experiment --apps circuit,stencl", "--apps: unknown program 'stencl' (did you mean 'stencil'?"},
      {"experiment --seeds x", "--seeds takes a number, not 'x'"},
  };
  for (const Case& c : cases) {
    const CommandResult all = run_mage(c.args);
    EXPECT_EQ(all.exit_code, 1) << c.args << "\n" << all.out;
    EXPECT_TRUE(all.out.starts_with("mage: error: ")) << c.args << "\n" << all.out;
    EXPECT_EQ(lines(all.out), 1) << c.args << "\n" << all.out;
    EXPECT_TRUE(contains(all.out, c.message)) << c.args << "\n" << all.out;
    for (const char* cli11 : {"Run with --help", "not in {", "Could not convert", "File does not exist"})
      EXPECT_FALSE(contains(all.out, cli11)) << c.args << "\n" << all.out;
    EXPECT_EQ(stdout_of(c.args).out, "") << c.args << ": the error goes to stderr";
  }
}

// A misplaced option is named as such, not taken for a file (issue 14 §2).
TEST(Usage, CheckWithAnOptionItDoesNotTake) {
  const CommandResult r = run_mage("check " + source_path("mappers/examples/circuit.map") + " --nodes 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "mage: error: `mage check` takes no option --nodes (see `mage check --help`)\n");
  const CommandResult missing = run_mage("check /no/such.map");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.out, "mage: error: cannot read /no/such.map: No such file or directory")) << missing.out;
}

TEST(StandardInput, EveryCommandThatReadsAMapperReadsDash) {
  const std::string bad = " < " + source_path("mappers/mistakes/bad.map");
  const std::string cannon = " < " + source_path("mappers/examples/cannon.map");
  const std::string circuit = source_path("mappers/examples/circuit.map");

  CommandResult check = run_mage("check -" + bad);
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_TRUE(contains(check.out, "<stdin>:5:23: error: expected a memory kind")) << check.out;
  EXPECT_EQ(run_mage("check - " + circuit + " < " + circuit).exit_code, 0);

  CommandResult fmt = stdout_of("fmt - < " + circuit);
  EXPECT_EQ(fmt.exit_code, 0);
  EXPECT_EQ(fmt.out, stdout_of("fmt " + circuit).out);

  CommandResult place = run_mage("place - --nodes 2 --procs-per-node 4 --task task_1 --domain 2,2" + cannon);
  EXPECT_EQ(place.exit_code, 0) << place.out;
  EXPECT_EQ(place.out, run_mage("place " + source_path("mappers/examples/cannon.map") +
                                " --nodes 2 --procs-per-node 4 --task task_1 --domain 2,2")
                           .out);

  CommandResult run = run_mage("run cannon --machine p100x4 --scale small --mapper -" + cannon);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_TRUE(contains(run.out, "cannon on p100x4, scale small, <stdin>")) << run.out;
  CommandResult failed = run_mage("run circuit --machine p100x4 --scale small --mapper -" + bad);
  EXPECT_EQ(failed.exit_code, 2) << failed.out;
  EXPECT_TRUE(contains(failed.out, "<stdin>:9:63: error: unknown name 'mgpus'")) << failed.out;

  CommandResult explain = run_mage("explain circuit --machine p100x4 --scale small --mapper -" + bad);
  EXPECT_EQ(explain.exit_code, 2) << explain.out;
  EXPECT_TRUE(contains(explain.out, "<stdin>:5:23")) << explain.out;

  TempFile out("stdin_tune");
  CommandResult tune = run_mage("tune cannon --machine p100x4 --scale small --budget 1 --workers 1 --start - --out " +
                                out.path() + cannon);
  std::filesystem::remove_all(out.path());
  EXPECT_EQ(tune.exit_code, 0) << tune.out;
  EXPECT_TRUE(contains(tune.out, "start: -")) << tune.out;

  // Standard input is read once; it cannot be rewritten.
  CommandResult twice = run_mage("check - -" + bad);
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_EQ(twice.out, "mage: error: standard input (-) can be read once: name it once among the files\n");
  CommandResult in_place = run_mage("fmt --in-place -" + bad);
  EXPECT_EQ(in_place.exit_code, 1);
  EXPECT_EQ(in_place.out, "mage: error: --in-place rewrites a file, not standard input (-)\n");
}

// `mage explain` prints at most --error-limit of a mapper's diagnostics, as `mage run` does.
TEST(ErrorLimit, ExplainTakesIt) {
  const std::string bad = " --mapper " + source_path("mappers/mistakes/bad.map");
  const CommandResult one = run_mage("explain circuit --machine p100x4 --scale small --error-limit 1" + bad);
  EXPECT_EQ(one.exit_code, 2) << one.out;
  EXPECT_TRUE(contains(one.out, "bad.map:5:23: error: expected a memory kind")) << one.out;
  EXPECT_FALSE(contains(one.out, "bad.map:9:63: error")) << one.out;
  EXPECT_TRUE(contains(one.out, "... and 1 more error; --error-limit 0 shows all")) << one.out;
  const CommandResult all = run_mage("explain circuit --machine p100x4 --scale small --error-limit 0" + bad);
  EXPECT_EQ(all.exit_code, 2) << all.out;
  EXPECT_TRUE(contains(all.out, "bad.map:9:63: error: unknown name 'mgpus'")) << all.out;
  EXPECT_FALSE(contains(all.out, "more error")) << all.out;
}

}  // namespace
}  // namespace mage::test

namespace mage::test {
namespace {

// The keys of a JSON object in the order printed.
std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  return keys;
}

// --json on every command that prints data, keys in the order the producer writes them.
TEST(JsonOutput, EveryListingPrintsJsonInOneKeyOrder) {
  for (const char* args : {"apps --json", "app list --json"}) {
    const CommandResult r = stdout_of(args);
    ASSERT_EQ(r.exit_code, 0) << args;
    const auto j = nlohmann::ordered_json::parse(r.out);
    ASSERT_EQ(j.size(), 9u) << r.out;
    EXPECT_EQ(j[0]["name"], "circuit");
    EXPECT_EQ(keys_of(j[0]), (std::vector<std::string>{"name", "summary", "ranks_per_node"}));
  }
  for (const char* args : {"machines --json", "machine list --json"}) {
    const CommandResult r = stdout_of(args);
    ASSERT_EQ(r.exit_code, 0) << args;
    const auto j = nlohmann::ordered_json::parse(r.out);
    ASSERT_EQ(j.size(), 3u) << r.out;
    EXPECT_EQ(keys_of(j[0]), (std::vector<std::string>{"name", "description"}));
  }
  EXPECT_EQ(stdout_of("app list").out, stdout_of("apps").out);
  EXPECT_EQ(stdout_of("machine list").out, stdout_of("machines").out);

  const CommandResult check = stdout_of("check --json " + source_path("mappers/mistakes/bad.map"));
  EXPECT_EQ(check.exit_code, 1);
  const auto diagnostics = nlohmann::ordered_json::parse(check.out);
  ASSERT_EQ(diagnostics.size(), 2u);
  EXPECT_EQ(keys_of(diagnostics[0]), (std::vector<std::string>{"file", "line", "col", "severity", "id", "message"}));

  const CommandResult show = stdout_of("app show circuit --machine p100x4 --json");
  ASSERT_EQ(show.exit_code, 0);
  EXPECT_EQ(keys_of(nlohmann::ordered_json::parse(show.out)).front(), "name");

  const CommandResult calibrate = stdout_of("calibrate --only stencil-default --json");
  EXPECT_EQ(calibrate.exit_code, 0) << calibrate.out;
  const auto report = nlohmann::ordered_json::parse(calibrate.out);
  EXPECT_EQ(keys_of(report), (std::vector<std::string>{"all_hold", "facts"}));
  ASSERT_EQ(report["facts"].size(), 1u);
  EXPECT_EQ(report["facts"][0]["id"], "stencil-default");
  EXPECT_EQ(keys_of(report["facts"][0]),
            (std::vector<std::string>{"id", "title", "verdict", "how", "rows", "discussion"}));
}

// A failed run has no time and no metric: null, not 0.
TEST(JsonOutput, AFailedRunHasNullTimeAndMetric) {
  const CommandResult r = stdout_of("run pennant --machine p100x4 --expert --time-limit 0.001 --json");
  EXPECT_EQ(r.exit_code, 5);
  const auto j = nlohmann::ordered_json::parse(r.out);
  EXPECT_TRUE(j["time_s"].is_null()) << r.out.substr(0, 300);
  EXPECT_TRUE(j["metric_value"].is_null()) << r.out.substr(0, 300);
  const CommandResult ok = stdout_of("run cannon --machine p100x4 --scale small --expert --json");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_GT(nlohmann::ordered_json::parse(ok.out)["time_s"].get<double>(), 0);
}

}  // namespace
}  // namespace mage::test
