// mage bench: how fast evaluations are. For every program at the published scale with its
// expert mapper, on p100x4 (1 node) and on lassen with 16 nodes: simulated tasks per second
// of simulator time, and whole evaluations (compile + build + apply + simulate in the
// child, process start included) per second and per minute per core. Then the same through
// `mage tune`: a run of the random optimizer per program on p100x4, all it costs counted
// (the search space, rendering, the journal, the outputs).
#include <fmt/format.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "apps/apps.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "eval/eval.h"
#include "tune/tune.h"

namespace mage::cli {

namespace {

constexpr double kTasksPerSecondTarget = 200'000;
constexpr double kEvaluationsPerMinuteTarget = 1'000;

struct Config {
  std::string machine;
  int nodes;
};

struct Row {
  std::string app;
  Config config;
  std::string problem;  // empty when every evaluation was ok
  int64_t tasks = 0;
  int evaluations = 0;
  double simulate_s = 0;  // summed over the evaluations
  double simulate_cpu_s = 0;
  double wall_s = 0;
  double cpu_s = 0;  // CPU time of this process and its children during the evaluations
};

// User + system CPU seconds of this process and of its finished children.
double cpu_seconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    total += static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  return total;
}

std::string thousands(double v) {
  std::string digits = fmt::format("{:.0f}", v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string millis(double s) { return fmt::format("{:.1f} ms", s * 1e3); }

// Evaluates one configuration: once with --quick, else until `budget_s` of evaluation time
// is spent (at least 3, at most 50 evaluations).
Row measure(const std::string& app, const Config& config, bool quick, double budget_s) {
  Row row{app, config, "", 0, 0, 0, 0, 0, 0};
  eval::Request request;
  request.app = app;
  request.machine = config.machine;
  request.overrides.nodes = config.nodes;
  request.scale = apps::Scale::Published;
  request.mapper = eval::expert_mapper();
  const int min_runs = quick ? 1 : 3;
  const int max_runs = quick ? 1 : 50;
  const double cpu0 = cpu_seconds();
  try {
    while (row.evaluations < min_runs || (row.evaluations < max_runs && row.wall_s < budget_s)) {
      eval::Result r = eval::evaluate(request);
      if (!r.outcome.ok()) {
        row.problem = fmt::format("{}: {}", sim::to_string(r.outcome.status), r.outcome.message);
        break;
      }
      row.tasks = r.outcome.profile.tasks;
      row.simulate_s += r.timing.simulate_s;
      row.simulate_cpu_s += r.timing.simulate_cpu_s;
      row.wall_s += r.timing.wall_s;
      ++row.evaluations;
    }
  } catch (const eval::RequestError& e) {
    row.problem = fmt::format("not run: {}", e.what());
  }
  row.cpu_s = cpu_seconds() - cpu0;
  return row;
}

// With --json the measurements go into one JSON document (printed at the end) instead.
struct JsonOut {
  bool on = false;
  nlohmann::ordered_json doc;
};

int run_bench(bool quick, JsonOut& json) {
  const std::vector<Config> configs{{"p100x4", 1}, {"lassen", 16}};
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  if (json.on) {
    json.doc["quick"] = quick;
    json.doc["hardware_threads"] = threads;
    json.doc["targets"] = {{"tasks_per_cpu_s", kTasksPerSecondTarget},
                           {"evaluations_per_min_per_core", kEvaluationsPerMinuteTarget}};
    json.doc["evaluations"] = nlohmann::ordered_json::array();
  }
  if (!json.on)
    std::printf(
        "Evaluations of the expert mappers at the published scale, one at a time, each in its own\n"
        "child process; %s evaluation%s per configuration; %u hardware threads.\n"
        "simulate: wall time of sim::run in the child; tasks/s: point tasks per second of it;\n"
        "tasks/cpu-s: per second of its CPU time; evaluation: wall time from fork to result;\n"
        "evals/min/core: per minute of CPU time (parent and child). The targets are judged on\n"
        "CPU time, which other load on the machine does not distort.\n\n",
        quick ? "one" : "at least 3 (up to 2 s of)", quick ? "" : "s", threads);
  if (!json.on)
    std::printf("%-10s %-12s %7s %10s %10s %12s %10s %8s %14s  %s\n", "program", "machine", "tasks", "simulate",
                "tasks/s", "tasks/cpu-s", "evaluation", "evals/s", "evals/min/core",
                "targets (>= 200,000 tasks/s, >= 1,000 evals/min/core)");
  int checked = 0, tasks_met = 0, evals_checked = 0, evals_met = 0;
  for (const Config& config : configs) {
    for (const auto& a : apps::list()) {
      Row row = measure(a.name, config, quick, 2.0);
      // Johnson and COSMA run as their preferred 4 ranks per node (eval::resolve applies it).
      const std::string machine = fmt::format("{} x{}{}", config.machine, config.nodes,
                                              a.ranks_per_node > 1 ? fmt::format(" r{}", a.ranks_per_node) : "");
      if (row.evaluations == 0) {
        if (json.on) {
          json.doc["evaluations"].push_back({{"program", a.name},
                                             {"machine", config.machine},
                                             {"nodes", config.nodes},
                                             {"ranks_per_node", a.ranks_per_node},
                                             {"problem", row.problem}});
          continue;
        }
        std::printf("%-10s %-12s %s\n", a.name.c_str(), machine.c_str(), row.problem.c_str());
        std::fflush(stdout);
        continue;
      }
      const double n = row.evaluations;
      const double tasks_per_s = static_cast<double>(row.tasks) * n / row.simulate_s;
      const double tasks_per_cpu_s =
          row.simulate_cpu_s > 0 ? static_cast<double>(row.tasks) * n / row.simulate_cpu_s : tasks_per_s;
      const double evals_per_s = n / row.wall_s;
      const bool tasks_ok = tasks_per_cpu_s >= kTasksPerSecondTarget;
      const double evals_per_core_min = row.cpu_s > 0 ? 60 * n / row.cpu_s : 0;
      const bool evals_ok = evals_per_core_min >= kEvaluationsPerMinuteTarget;
      ++checked;
      tasks_met += tasks_ok;
      std::string verdict = fmt::format("tasks/s {}", tasks_ok ? "met" : "NOT met");
      if (config.nodes == 1) {
        ++evals_checked;
        evals_met += evals_ok;
        verdict += fmt::format(", evals/min {}", evals_ok ? "met" : "NOT met");
      }
      if (json.on) {
        nlohmann::ordered_json e = {{"program", a.name},
                                    {"machine", config.machine},
                                    {"nodes", config.nodes},
                                    {"ranks_per_node", a.ranks_per_node},
                                    {"problem", nullptr},
                                    {"tasks", row.tasks},
                                    {"evaluations", row.evaluations},
                                    {"simulate_s", row.simulate_s / n},
                                    {"tasks_per_s", tasks_per_s},
                                    {"tasks_per_cpu_s", tasks_per_cpu_s},
                                    {"evaluation_s", row.wall_s / n},
                                    {"evaluations_per_s", evals_per_s},
                                    {"evaluations_per_min_per_core", evals_per_core_min},
                                    {"tasks_target_met", tasks_ok}};
        e["evaluations_target_met"] = config.nodes == 1 ? nlohmann::ordered_json(evals_ok) : nlohmann::ordered_json();
        json.doc["evaluations"].push_back(std::move(e));
        continue;
      }
      std::printf("%-10s %-12s %7lld %10s %10s %12s %10s %8.1f %14s  %s\n", a.name.c_str(), machine.c_str(),
                  static_cast<long long>(row.tasks), millis(row.simulate_s / n).c_str(), thousands(tasks_per_s).c_str(),
                  thousands(tasks_per_cpu_s).c_str(), millis(row.wall_s / n).c_str(), evals_per_s,
                  thousands(evals_per_core_min).c_str(), verdict.c_str());
      std::fflush(stdout);
    }
  }
  if (json.on) {
    json.doc["tasks_target"] = {{"met", tasks_met}, {"of", checked}};
    json.doc["evaluations_target"] = {{"met", evals_met}, {"of", evals_checked}};
    return 0;
  }
  std::printf("\nr4: 4 ranks per node, one GPU each, as BENCHMARKS.md runs Johnson and COSMA.\n");
  std::printf(">= 200,000 simulated tasks per CPU second: met by %d of %d configurations\n", tasks_met, checked);
  std::printf(">= 1,000 evaluations/min/core (1-node configurations): met by %d of %d\n", evals_met, evals_checked);
  return 0;
}

// Tuning runs of the random optimizer (uniform samples: every kind of mapper, not only the
// experts') on p100x4 at the published scale, one worker per hardware thread.
int run_tune_bench(bool quick, JsonOut& json) {
  const int budget = quick ? 20 : 150;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  if (json.on) {
    json.doc["tune"] = {{"optimizer", "random"}, {"machine", "p100x4"}, {"budget", budget}, {"workers", threads}};
    json.doc["tune"]["runs"] = nlohmann::ordered_json::array();
  }
  if (!json.on)
    std::printf(
        "\nThrough mage tune: the random optimizer, budget %d per program, p100x4, published scale,\n"
        "%u workers; evals/min/core: evaluations per minute of CPU time (the tuning process and its\n"
        "children: search space, rendering, journal, outputs and every evaluation).\n\n",
        budget, threads);
  if (!json.on)
    std::printf("%-10s %11s %8s %10s %14s  %s\n", "program", "evaluations", "failed", "wall", "evals/min/core",
                "target (>= 1,000 evals/min/core)");
  std::string pattern = (std::filesystem::temp_directory_path() / "mage-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    std::fprintf(stderr, "mage: error: cannot make a temporary directory\n");
    return 1;
  }
  const std::filesystem::path scratch = pattern;
  int met = 0, measured = 0;
  for (const auto& a : apps::list()) {
    tune::Settings s;
    s.program.app = a.name;
    s.program.machine = "p100x4";
    s.optimizer = "random";
    s.budget = budget;
    tune::Execution x;
    x.workers = static_cast<int>(threads);
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const tune::Summary r = tune::run(s, scratch / a.name, x);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double per_core_min = 60.0 * static_cast<double>(r.trials.size()) / (cpu_seconds() - cpu0);
      const bool ok = per_core_min >= kEvaluationsPerMinuteTarget;
      ++measured;
      met += ok;
      if (json.on)
        json.doc["tune"]["runs"].push_back({{"program", a.name},
                                            {"problem", nullptr},
                                            {"evaluations", r.trials.size()},
                                            {"failed", r.failed()},
                                            {"wall_s", wall},
                                            {"evaluations_per_min_per_core", per_core_min},
                                            {"target_met", ok}});
      else
        std::printf("%-10s %11zu %8d %9.2fs %14s  %s\n", a.name.c_str(), r.trials.size(), r.failed(), wall,
                    thousands(per_core_min).c_str(), ok ? "met" : "NOT met");
    } catch (const std::exception& e) {
      if (json.on)
        json.doc["tune"]["runs"].push_back({{"program", a.name}, {"problem", std::string("not run: ") + e.what()}});
      else
        std::printf("%-10s not run: %s\n", a.name.c_str(), e.what());
    }
    std::fflush(stdout);
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  if (json.on) {
    json.doc["tune"]["target"] = {{"met", met}, {"of", measured}};
    return 0;
  }
  std::printf(">= 1,000 evaluations/min/core through mage tune: met by %d of %d programs\n", met, measured);
  return 0;
}

}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
  auto quick = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand(
      "bench",
      "Measure simulated tasks per second and evaluations per minute for every program (expert mappers, "
      "published scale, p100x4 and lassen x16), and evaluations per minute through mage tune (random, p100x4)");
  sub->add_flag("--quick", *quick, "One evaluation per configuration instead of several");
  auto json = std::make_shared<JsonOut>();
  sub->add_flag("--json", json->on,
                "Print the measurements as one JSON document (per configuration and per tuning run, with the "
                "targets' verdicts) at the end");
  sub->callback([quick, json, &exit_code] {
    exit_code = run_bench(*quick, *json);
    if (exit_code == 0) exit_code = run_tune_bench(*quick, *json);
    if (exit_code == 0 && json->on) print_json(json->doc);
  });
}

}  // namespace mage::cli
