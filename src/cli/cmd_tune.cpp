// mage tune: search for a faster mapper of a program on a machine, or continue a search.
#include <fmt/format.h>
#include <unistd.h>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

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

// The optimizer a run uses unless --optimizer says otherwise.
constexpr const char* kDefaultOptimizer = "guided";

struct TuneOptions {
  SearchOptions search;  // the program, --budget, --start, --out, --time-limit, --llm-url, --llm-model
  std::string optimizer = kDefaultOptimizer;
  uint64_t seed = 1;
  int workers = 0;
  std::string resume;
  std::vector<std::string> options;
  bool space = false;
  // The llm optimizer's prompt settings (its options style and feedback).
  std::map<std::string, std::string> llm;
};

// Flags that set an option of the llm optimizer (besides --llm-url and --llm-model): flag,
// option key, help.
struct LlmFlag {
  const char* flag;
  const char* key;
  const char* help;
};
constexpr LlmFlag kLlmFlags[] = {
    {"--style", "style", "With --optimizer llm: the prompt, optoprime (default) or opro"},
    {"--feedback", "feedback",
     "With --optimizer llm: what the model sees of each evaluation, scalar, raw, explain or "
     "suggest (default)"},
};

std::string seconds(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > 160 ? line.substr(0, 157) + "..." : line;
}

std::string versus(std::optional<double> best, std::optional<double> reference, const char* name) {
  if (!best || !reference) return "";
  return fmt::format(", {:.2f}x the {}", *reference / *best, name);
}

// The progress, on standard error (standard output keeps the run's header and result): one
// line kept up to date when standard error is a terminal, a line per evaluation otherwise.
class Reporter {
 public:
  Reporter() : line_(stderr, ::isatty(STDERR_FILENO) == 1, {.after_s = 0, .every_s = 0, .width = 0}) {}

  void operator()(const tune::Progress& p) {
    if (p.from_journal) {
      if (p.trial) ++from_journal_;
      if (!line_.enabled()) return;
    }
    if (line_.enabled()) {
      std::string line = fmt::format("[{}/{}] best {}{}", p.done, p.budget, p.best_s ? seconds(*p.best_s) : "-",
                                     versus(p.best_s, p.expert_s, "expert"));
      if (p.failed) line += fmt::format(", {} failed", p.failed);
      line += fmt::format(", {:.1f} s", p.elapsed_s);
      line_.show(line, p.elapsed_s);
      return;
    }
    if (p.reference) {
      const sim::Outcome& o = p.reference->result.outcome;
      std::fprintf(stderr, "%s mapper: %s\n", p.reference->name.c_str(),
                   o.ok() ? seconds(o.time_s).c_str()
                          : fmt::format("{}: {}", sim::to_string(o.status), first_line(o.message)).c_str());
      return;
    }
    const tune::Trial& t = *p.trial;
    const sim::Outcome& o = t.result.outcome;
    std::string what =
        o.ok() ? seconds(o.time_s) : fmt::format("failed ({}: {})", sim::to_string(o.status), first_line(o.message));
    std::fprintf(stderr, "[%d/%d] %s  %s; best %s%s\n", t.number, p.budget, what.c_str(),
                 first_line(t.candidate.origin).c_str(), p.best_s ? seconds(*p.best_s).c_str() : "-",
                 versus(p.best_s, p.expert_s, "expert").c_str());
  }

  // Ends the live line (kept: the last state of the search).
  void finish() { line_.keep(); }
  int from_journal() const { return from_journal_; }

 private:
  StatusLine line_;
  int from_journal_ = 0;
};

// tune-runs/APP-MACHINE-OPTIMIZER-sSEED, with -2, -3, ... when taken.
fs::path default_out(const tune::Settings& s) {
  const std::string machine = fs::path(s.program.machine).stem().string();
  const std::string base = fmt::format("tune-runs/{}-{}-{}-s{}", s.program.app, machine, s.optimizer, s.seed);
  fs::path dir = base;
  for (int i = 2; fs::exists(dir); ++i) dir = fmt::format("{}-{}", base, i);
  return dir;
}

void print_result(const tune::Summary& s, const Reporter& reporter) {
  const tune::Settings& set = s.settings;
  std::printf("%d evaluation%s (%d failed%s) in %.1f s\n", static_cast<int>(s.trials.size()),
              s.trials.size() == 1 ? "" : "s", s.failed(),
              reporter.from_journal() ? fmt::format(", {} from the journal", reporter.from_journal()).c_str() : "",
              s.wall_s);
  if (s.exhausted) std::printf("optimizer %s had nothing more to propose\n", set.optimizer.c_str());
  if (!s.stopped.empty()) std::printf("optimizer %s stopped the run: %s\n", set.optimizer.c_str(), s.stopped.c_str());
  if (s.best) {
    const tune::Trial& b = s.trials[*s.best];
    const std::optional<double> best = b.score();
    std::printf("best: %s (evaluation %d: %s)%s%s\n", seconds(b.score()).c_str(), b.number, b.candidate.origin.c_str(),
                versus(best, s.time_of("expert"), "expert's").c_str(),
                versus(best, s.time_of("default"), "default's").c_str());
  } else {
    std::printf("no evaluation succeeded\n");
  }
  if (!s.caveat.empty()) std::printf("note: %s\n", s.caveat.c_str());
  const std::string dir = s.dir.string();
  std::printf("outputs in %s/: %sreport.md, summary.json, convergence.svg, journal.jsonl\n", dir.c_str(),
              s.best ? "best.map, " : "");
  if (s.interrupted) std::printf("interrupted: continue with: mage tune --resume %s\n", dir.c_str());
}

// 0 done, 130 interrupted (Ctrl-C), 1 stopped by the optimizer (e.g. an unreachable model).
int exit_status(const tune::Summary& s) {
  if (!s.stopped.empty()) {
    fail(fmt::format("the run stopped: {}\ncontinue it with: mage tune --resume {}", s.stopped, s.dir.string()));
    return 1;
  }
  return s.interrupted ? 130 : 0;
}

int run(const TuneOptions& o, const CLI::App& command) {
  const SearchOptions& search = o.search;
  if (!check_search_options(search)) return 1;
  if (o.workers < 0) return fail("--workers must be 0 (one per core) or more");
  if (!check_task_limit(search.program)) return 1;
  tune::Execution x;
  x.workers = o.workers;
  x.limits.time_s = search.time_limit_s;
  x.limits.memory_bytes = memory_limit_bytes(search.memory_limit_gib);
  x.limits.point_tasks = search.program.task_limit;
  Reporter reporter;
  x.progress = [&reporter](const tune::Progress& p) { reporter(p); };
  x.stop = [] { return stop_requested(); };

  try {
    if (!o.resume.empty()) {
      for (const char* flag : {"app", "--machine", "--nodes", "--ranks-per-node", "--scale", "--iterations",
                               "--place-every-iteration", "--optimizer", "--seed", "--start", "--out", "--option",
                               "--space", "--style", "--feedback", "--llm-url", "--llm-model"})
        if (command.count(flag) > 0)
          return fail(
              fmt::format("--resume takes the run's settings from its journal; {} cannot be given with it "
                          "(only --budget, --workers, --time-limit, --memory-limit and --task-limit can)",
                          flag));
      x.started = [&o] {
        std::printf("resuming the run in %s\n", o.resume.c_str());
        std::fflush(stdout);  // before the progress on standard error
      };
      std::optional<int> budget;
      if (command.count("--budget") > 0) budget = search.budget;
      StopSignals signals;
      tune::Summary s = tune::resume(o.resume, x, budget);
      reporter.finish();
      print_result(s, reporter);
      return exit_status(s);
    }

    if (search.program.app.empty())
      return fail("the program to tune is missing (mage tune APP --machine M), or --resume DIR");
    if (search.program.machine.empty())
      return fail("--machine is required (a preset, see `mage machines`, or a .toml file)");
    std::optional<eval::Request> program = program_request(search.program);
    if (!program) return 1;
    if (o.space) {
      eval::check_limits(*program, x.limits);
      std::printf("%s", tune::Space::build(*program, x.limits).summary().c_str());
      return 0;
    }
    tune::Settings settings;
    settings.program = *program;
    settings.optimizer = o.optimizer;
    settings.budget = search.budget;
    settings.seed = o.seed;
    settings.start = search.start;
    if (search.start != "default" && search.start != "expert") {
      auto text = read_file(search.start);
      if (!text) return 1;
      settings.start_text = std::move(*text);
    }
    for (const std::string& kv : o.options) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return fail("--option takes KEY=VALUE, not '" + kv + "'");
      settings.options[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    std::map<std::string, std::string> llm = llm_settings(search);
    llm.insert(o.llm.begin(), o.llm.end());
    for (const auto& [key, value] : llm) {
      if (o.optimizer != "llm") return fail(fmt::format("--{} is a setting of --optimizer llm", key));
      settings.options[key] = value;
    }
    const fs::path dir = search.out.empty() ? default_out(settings) : fs::path(search.out);
    x.started = [&settings, &dir] {
      std::printf("tuning %s on %s with optimizer %s (seed %llu, budget %d, start: %s) in %s\n",
                  settings.program.app.c_str(), settings.program.machine.c_str(), settings.optimizer.c_str(),
                  static_cast<unsigned long long>(settings.seed), settings.budget, settings.start.c_str(),
                  dir.string().c_str());
      std::fflush(stdout);  // before the progress on standard error
    };
    StopSignals signals;
    tune::Summary s = tune::run(settings, dir, x);
    reporter.finish();
    print_result(s, reporter);
    return exit_status(s);
  } catch (const std::runtime_error& e) {  // tune::TuneError, eval::RequestError: messages for the user
    reporter.finish();
    return fail(e.what());
  }
}

}  // namespace

void register_tune(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TuneOptions>();
  auto* sub = app.add_subcommand(
      "tune",
      "Search for a faster mapper: evaluations journaled in DIR as they finish; best.map, summary.json, report.md "
      "and convergence.svg at the end (exit 0 done, 1 error, 130 interrupted: continue with --resume DIR)");
  sub->add_option("app", o->search.program.app, "Program name (see `mage apps`)")->check(program_name());
  add_search_options(*sub, o->search,
                     {.budget = "Evaluations, the start's included",
                      .start = "Where the search starts: default (default), expert, or a mapper FILE (- reads it "
                               "from standard input)",
                      .out = "Directory of the run (default tune-runs/APP-MACHINE-OPTIMIZER-sSEED)",
                      .llm = "With --optimizer llm"});
  std::string optimizer_names;
  for (const auto& opt : tune::optimizers()) optimizer_names += (optimizer_names.empty() ? "" : ", ") + opt.name;
  sub->add_option("--optimizer", o->optimizer,
                  fmt::format("How to search: {} (default {})", optimizer_names, kDefaultOptimizer));
  sub->add_option("--seed", o->seed, "Seed of the optimizer's choices (default 1): the same seed, the same run");
  sub->add_option("--workers", o->workers, "Evaluations at once, each in its own process (default: one per core)");
  sub->add_option("--resume", o->resume, "Continue the run in DIR (killed or interrupted) from its journal");
  sub->add_option("--option", o->options,
                  "An optimizer's setting, KEY=VALUE (repeatable): guided width; bandit width, window, c; ccd rounds, "
                  "penalty; mcmc beta, restart; llm history, temperature, ... (docs/tune.md)");
  sub->add_flag("--space", o->space, "Print the decisions of the search space and its size, and exit");
  for (const LlmFlag& f : kLlmFlags)
    sub->add_option_function<std::string>(
        f.flag, [o, key = std::string(f.key)](const std::string& value) { o->llm[key] = value; }, f.help);
  std::string footer = "Optimizers:";
  for (const auto& opt : tune::optimizers()) footer += fmt::format("\n  {:<8} {}", opt.name, opt.summary);
  sub->footer(footer);
  sub->callback([o, sub, &exit_code] { exit_code = run(*o, *sub); });
}

}  // namespace mage::cli
