// mage experiment: every optimizer on every program with several seeds, and a report
// comparing them with the experts' mappers, the published results and the machine's limit.
#include <fmt/format.h>
#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/apps.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/program_choice.h"
#include "cli/progress.h"
#include "cli/search_options.h"
#include "tune/tune.h"

namespace mage::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultMachine = "p100x4";
// The offline optimizers, the published comparison's five; llm runs when asked for.
const std::vector<std::string> kDefaultOptimizers = {"guided", "bandit", "ccd", "mcmc", "random"};

struct ExperimentOptions {
  SearchOptions search;  // the program, --budget, --start, --out, --time-limit, --llm-url, --llm-model
  std::vector<std::string> apps;
  std::vector<std::string> optimizers = kDefaultOptimizers;
  int seeds = 5;
  std::vector<std::string> budget_for;
  bool resume = false;
  int jobs = 0;
};

std::string seconds(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

// On standard error (standard output keeps the experiment's header and result): one line per
// run as it ends; when standard error is a terminal, one line kept up to date instead.
class Reporter {
 public:
  Reporter() : line_(stderr, ::isatty(STDERR_FILENO) == 1, {.after_s = 0, .every_s = 0, .width = 0}) {}

  void operator()(const tune::ExperimentProgress& p) {
    const tune::ExperimentRun& r = *p.run;
    std::string what;
    if (r.best_s)
      what = fmt::format("best {}{}", seconds(*r.best_s),
                         r.expert_s ? fmt::format(", {:.2f}x the expert", *r.expert_s / *r.best_s) : "");
    else
      what = "no working mapper";
    std::string how = r.earlier ? "finished earlier"
                                : fmt::format("{} evaluation{}, {} failed, {:.1f} s", r.best_so_far.size(),
                                              r.best_so_far.size() == 1 ? "" : "s", r.failed, r.wall_s);
    if (!r.problem.empty()) how += "; " + r.problem.substr(0, r.problem.find('\n'));
    const std::string line =
        fmt::format("[{}/{}] {} {} seed {}: {} ({})", p.finished, p.total, r.app, r.optimizer, r.seed, what, how);
    if (line_.enabled())
      line_.show(fmt::format("[{:.0f} s] {}", p.elapsed_s, line), p.elapsed_s);
    else
      std::fprintf(stderr, "%s\n", line.c_str());
  }
  // Ends the live line (kept: the last run's state).
  void finish() { line_.keep(); }

 private:
  StatusLine line_;
};

int run(const ExperimentOptions& o) {
  const SearchOptions& search = o.search;
  if (o.seeds < 1) return fail("--seeds must be at least 1");
  if (!check_search_options(search)) return 1;
  if (o.jobs < 0) return fail("--jobs must be 0 (one per core) or more");
  ProgramChoice choice = search.program;
  if (choice.machine.empty()) choice.machine = kDefaultMachine;
  std::optional<eval::Request> program = program_request(choice);
  if (!program) return 1;

  tune::ExperimentSettings s;
  s.program = *program;
  if (o.apps.empty())
    for (const apps::AppInfo& a : apps::list()) s.apps.push_back(a.name);
  else
    s.apps = o.apps;
  s.optimizers = o.optimizers;
  s.seeds = o.seeds;
  s.budget = search.budget;
  s.start = search.start;
  for (const std::string& kv : o.budget_for) {
    const size_t eq = kv.find('=');
    int budget = 0;
    size_t used = 0;
    try {
      if (eq != std::string::npos) budget = std::stoi(kv.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (eq == std::string::npos || eq == 0 || used == 0 || used != kv.size() - eq - 1)
      return fail(fmt::format("--budget-for takes OPTIMIZER=EVALUATIONS (e.g. bandit=1000), not '{}'", kv));
    if (s.budget_for.count(kv.substr(0, eq))) return fail(fmt::format("--budget-for names {} twice", kv.substr(0, eq)));
    s.budget_for[kv.substr(0, eq)] = budget;
  }
  s.llm_options = llm_settings(search);
  if (!s.llm_options.empty() && std::find(s.optimizers.begin(), s.optimizers.end(), "llm") == s.optimizers.end())
    return fail("--llm-url and --llm-model are settings of the llm optimizer, which is not among --optimizers");

  const std::string machine = fs::path(s.program.machine).stem().string();
  const fs::path dir = search.out.empty() ? fs::path("experiment-runs") / machine : fs::path(search.out);
  tune::ExperimentExecution x;
  x.jobs = o.jobs;
  x.limits.time_s = search.time_limit_s;
  x.limits.memory_bytes = memory_limit_bytes(search.memory_limit_gib);
  x.limits.point_tasks = choice.task_limit;
  Reporter reporter;
  x.progress = [&reporter](const tune::ExperimentProgress& p) { reporter(p); };
  x.stop = [] { return stop_requested(); };
  try {
    x.started = [&] {
      for (const auto& [name, why] : tune::unavailable_optimizers(s.optimizers, s.llm_options))
        std::printf("skipping optimizer %s: %s\n", name.c_str(), why.c_str());
      std::printf("%s %zu program%s x %zu optimizer%s x %d seed%s on %s in %s\n",
                  o.resume ? "resuming the experiment:" : "experiment:", s.apps.size(), s.apps.size() == 1 ? "" : "s",
                  s.optimizers.size(), s.optimizers.size() == 1 ? "" : "s", s.seeds, s.seeds == 1 ? "" : "s",
                  machine.c_str(), dir.string().c_str());
      std::fflush(stdout);
    };
    StopSignals signals;
    const tune::Experiment e = tune::run_experiment(s, dir, o.resume, x);
    reporter.finish();
    int now = 0, earlier = 0, unfinished = 0;
    for (const tune::ExperimentRun& r : e.runs) {
      if (r.earlier)
        ++earlier;
      else if (!r.best_so_far.empty())
        ++now;
      if (!r.done) ++unfinished;
    }
    std::printf("%d run%s in %.1f s%s; report: %s\n", now, now == 1 ? "" : "s", e.wall_s,
                earlier ? fmt::format(" ({} finished earlier)", earlier).c_str() : "",
                (dir / "report.md").string().c_str());
    for (const auto& [name, why] : e.skipped) std::printf("skipped optimizer %s (see the report)\n", name.c_str());
    if (e.interrupted) {
      std::printf("interrupted: continue with the same options and --out %s --resume\n", dir.string().c_str());
      return 130;
    }
    if (unfinished > 0) {
      for (const tune::ExperimentRun& r : e.runs)
        if (!r.done)
          std::fprintf(stderr, "mage: error: %s %s seed %llu did not finish: %s\n", r.app.c_str(), r.optimizer.c_str(),
                       static_cast<unsigned long long>(r.seed), r.problem.c_str());
      return fail(fmt::format("{} run{} did not finish; fix the cause and continue with --out {} --resume", unfinished,
                              unfinished == 1 ? "" : "s", dir.string()));
    }
    return 0;
  } catch (const std::runtime_error& e) {  // tune::TuneError, eval::RequestError: messages for the user
    reporter.finish();
    return fail(e.what());
  }
}

}  // namespace

void register_experiment(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ExperimentOptions>();
  auto* sub = app.add_subcommand(
      "experiment",
      "Run every optimizer on every program with several seeds (each run a `mage tune` directory under DIR/runs) "
      "and write DIR/report.md: throughput against the experts' mapper, the published ratios, the machine's lower "
      "bound, convergence plots (exit 0 done, 1 error, 130 interrupted: continue with --resume)");
  std::string app_names, optimizer_names;
  for (const auto& a : apps::list()) app_names += (app_names.empty() ? "" : ",") + a.name;
  for (const auto& opt : tune::optimizers()) optimizer_names += (optimizer_names.empty() ? "" : ",") + opt.name;
  sub->add_option("--apps", o->apps, fmt::format("Programs, comma-separated (default all: {})", app_names))
      ->delimiter(',')
      ->check(program_name());
  std::string defaults;
  for (const auto& n : kDefaultOptimizers) defaults += (defaults.empty() ? "" : ",") + n;
  sub->add_option("--optimizers", o->optimizers,
                  fmt::format("Optimizers, comma-separated, among {} (default {}; llm needs a model: docs/llm.md)",
                              optimizer_names, defaults))
      ->delimiter(',');
  sub->add_option("--seeds", o->seeds, "Runs per program and optimizer, seeds 1..N (default 5)");
  sub->add_option("--budget-for", o->budget_for,
                  "An optimizer's own budget, OPTIMIZER=EVALUATIONS (repeatable or comma-separated; e.g. bandit=1000)")
      ->delimiter(',');
  add_search_options(*sub, o->search,
                     {.budget = "Evaluations per run, the start's included",
                      .start = "Where every run starts: default (default) or expert",
                      .out = "Directory of the experiment (default experiment-runs/MACHINE)",
                      .llm = "With llm among --optimizers"});
  sub->get_option("--machine")->description(fmt::format("Preset name or .toml file (default {})", kDefaultMachine));
  sub->add_flag(
      "--resume", o->resume,
      "Continue the experiment in --out: finished runs are kept, interrupted ones continued, missing ones run");
  sub->add_option("--jobs", o->jobs, "Runs at once, each in its own process (default: one per core)");
  sub->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace mage::cli
