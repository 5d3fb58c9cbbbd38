// An experiment's outputs: DIR/report.md (throughput against the experts' mapper and against
// the better of the expert and default mappers per program and optimizer over the seeds, the
// machine's limit and each optimizer's distance to it, convergence plots, evaluations per
// second), DIR/results.json (the same numbers) and DIR/convergence-APP.svg.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>

#include "apps/apps.h"
#include "tune/detail.h"

namespace mage::tune {

namespace {

namespace fs = std::filesystem;

// The best ratio the published search reached over the experts' mapper on the real machine.
const std::map<std::string, double, std::less<>>& published() {
  static const std::map<std::string, double, std::less<>> ratios = {
      {"circuit", 1.34}, {"stencil", 1.02}, {"pennant", 1.04},   {"cannon", 1.09}, {"summa", 1.09},
      {"pumma", 1.09},   {"johnson", 1.07}, {"solomonik", 1.09}, {"cosma", 1.31}};
  return ratios;
}

std::optional<double> published_ratio(std::string_view app) {
  auto it = published().find(app);
  if (it == published().end()) return std::nullopt;
  return it->second;
}

// Within this of the lower bound a program counts as solved whatever the published ratio.
constexpr double kNearBound = 1.03;

struct Stats {
  int n = 0;
  double mean = 0, std = 0, worst = 0, median = 0, best = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.worst = v.front();
  s.best = v.back();
  const size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  if (v.size() > 1) {
    double sq = 0;
    for (double x : v) sq += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(sq / static_cast<double>(v.size() - 1));
  }
  return s;
}

std::string seconds(double s) {
  if (!std::isfinite(s)) return "-";
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

std::string ratio_text(double r) { return fmt::format("{:.2f}", r); }

// "a", "a and b", "a, b and c".
std::string join_words(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return out;
}

// The experts' and the default mapper's times on a program (the same in every run of it).
struct References {
  std::optional<double> expert_s, default_s;
  std::optional<double> better_s() const {
    if (expert_s && default_s) return std::min(*expert_s, *default_s);
    return expert_s ? expert_s : default_s;
  }
};

References references_of(const Experiment& e, const std::string& app) {
  References r;
  for (const ExperimentRun& run : e.runs) {
    if (run.app != app) continue;
    if (!r.expert_s) r.expert_s = run.expert_s;
    if (!r.default_s) r.default_s = run.default_s;
  }
  return r;
}

std::vector<const ExperimentRun*> runs_of(const Experiment& e, const std::string& app, const std::string& optimizer) {
  std::vector<const ExperimentRun*> out;
  for (const ExperimentRun& r : e.runs)
    if (r.app == app && r.optimizer == optimizer && !r.best_so_far.empty()) out.push_back(&r);
  return out;
}

// Throughput over a reference's: reference time / best time; 0 when the run found no working mapper.
std::vector<double> ratios(const std::vector<const ExperimentRun*>& runs, std::optional<double> reference_s) {
  std::vector<double> out;
  if (!reference_s) return out;
  for (const ExperimentRun* r : runs) out.push_back(r->best_s ? *reference_s / *r->best_s : 0);
  return out;
}

std::string command(const ExperimentSettings& s) {
  std::string apps, optimizers;
  for (const auto& a : s.apps) apps += (apps.empty() ? "" : ",") + a;
  for (const auto& o : s.optimizers) optimizers += (optimizers.empty() ? "" : ",") + o;
  std::string c = fmt::format("mage experiment --apps {} --optimizers {} --seeds {} --budget {}", apps, optimizers,
                              s.seeds, s.budget);
  for (const auto& [o, b] : s.budget_for) c += fmt::format(" --budget-for {}={}", o, b);
  c += fmt::format(" --machine {}", s.program.machine);
  if (s.program.overrides.nodes) c += fmt::format(" --nodes {}", *s.program.overrides.nodes);
  if (s.program.overrides.ranks_per_node) c += fmt::format(" --ranks-per-node {}", *s.program.overrides.ranks_per_node);
  if (s.program.scale != apps::Scale::Published) c += fmt::format(" --scale {}", apps::to_string(s.program.scale));
  if (s.program.iterations) c += fmt::format(" --iterations {}", *s.program.iterations);
  if (s.program.place_every_iteration) c += " --place-every-iteration";
  if (s.start != "default") c += fmt::format(" --start {}", s.start);
  return c;
}

// Per evaluation over the seeds: mean, lowest and highest of throughput over the experts'
// mapper's (the best so far; 0 until a mapper worked). A run that ended early keeps its best.
detail::Band band_of(const std::string& name, const std::vector<const ExperimentRun*>& runs, double expert_s) {
  detail::Band b;
  b.name = name;
  size_t length = 0;
  for (const ExperimentRun* r : runs) length = std::max(length, std::max(r->best_so_far.size(), size_t(r->budget)));
  for (size_t k = 0; k < length && !runs.empty(); ++k) {
    double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const ExperimentRun* r : runs) {
      const double best = r->best_so_far[std::min(k, r->best_so_far.size() - 1)];
      const double v = std::isfinite(best) ? expert_s / best : 0;
      sum += v, lo = std::min(lo, v), hi = std::max(hi, v);
    }
    b.mean.push_back(sum / static_cast<double>(runs.size()));
    b.low.push_back(lo);
    b.high.push_back(hi);
  }
  return b;
}

nlohmann::ordered_json stats_json(const Stats& s) {
  return {{"runs", s.n}, {"mean", s.mean}, {"std", s.std}, {"worst", s.worst}, {"median", s.median}, {"best", s.best}};
}

}  // namespace

std::string experiment_report(const Experiment& e) {
  const ExperimentSettings& s = e.settings;
  std::string machine = fs::path(s.program.machine).stem().string();
  std::string out = fmt::format("# Experiment: {} program{} × {} optimizer{} × {} seed{} on {}\n\n", s.apps.size(),
                                s.apps.size() == 1 ? "" : "s", e.optimizers.size(), e.optimizers.size() == 1 ? "" : "s",
                                s.seeds, s.seeds == 1 ? "" : "s", machine);
  out += fmt::format("`{}`\n\n", command(s));
  std::string budgets = fmt::format("{} evaluations per run", s.budget);
  for (const auto& [o, b] : s.budget_for) budgets += fmt::format(" ({}: {})", o, b);
  out +=
      fmt::format("Budget: {}, the start mapper's included; every run starts from the {} mapper.\n", budgets, s.start);
  int now = 0, earlier = 0, evaluated = 0;
  for (const ExperimentRun& r : e.runs) {
    if (r.earlier)
      ++earlier;
    else if (!r.best_so_far.empty())
      ++now;
    if (!r.earlier) evaluated += r.evaluated_now;
  }
  out += fmt::format(
      "This session ran {} run{} ({} evaluation{}) in {:.1f} s of wall time{}.\n", now, now == 1 ? "" : "s", evaluated,
      evaluated == 1 ? "" : "s", e.wall_s,
      earlier ? fmt::format("; {} run{} had finished in an earlier session", earlier, earlier == 1 ? "" : "s") : "");
  for (const auto& [name, why] : e.skipped) out += fmt::format("\n**Skipped: {}** — {}\n", name, why);
  std::vector<const ExperimentRun*> unfinished;
  for (const ExperimentRun& r : e.runs)
    if (!r.done) unfinished.push_back(&r);
  if (e.interrupted) out += "\n**Interrupted**: continue with `mage experiment --out DIR --resume` (same options).\n";
  if (!unfinished.empty()) {
    out += fmt::format("\n{} run{} did not finish (counted as they are):\n\n", unfinished.size(),
                       unfinished.size() == 1 ? "" : "s");
    for (const ExperimentRun* r : unfinished)
      out += fmt::format("- {} {} seed {} ({} of {} evaluations): {}\n", r->app, r->optimizer, r->seed,
                         r->best_so_far.size(), r->budget, r->problem);
  }

  // Throughput tables.
  auto table = [&](bool against_better) {
    std::string t = against_better
                        ? "| program | reference | optimizer | mean | std | worst | median | best | published | "
                          "median meets it |\n|---|---|---|---|---|---|---|---|---|---|\n"
                        : "| program | optimizer | mean | std | worst | median | best | published |\n"
                          "|---|---|---|---|---|---|---|---|\n";
    for (const std::string& app : s.apps) {
      const References refs = references_of(e, app);
      const std::optional<double> reference = against_better ? refs.better_s() : refs.expert_s;
      const std::optional<double> pub = published_ratio(app);
      const std::string pub_text = pub ? ratio_text(*pub) : "-";
      std::string ref_name = "-";
      if (against_better && reference) ref_name = refs.expert_s && *reference == *refs.expert_s ? "expert" : "default";
      for (const std::string& o : e.optimizers) {
        const std::vector<const ExperimentRun*> runs = runs_of(e, app, o);
        const std::vector<double> v = ratios(runs, reference);
        std::string row =
            against_better ? fmt::format("| {} | {} | {} ", app, ref_name, o) : fmt::format("| {} | {} ", app, o);
        if (v.empty()) {
          row += against_better ? "| - | - | - | - | - | " + pub_text + " | - |\n"
                                : "| - | - | - | - | - | " + pub_text + " |\n";
          t += row;
          continue;
        }
        const Stats st = stats_of(v);
        row += fmt::format("| {} | {} | {} | {} | {} | {} |", ratio_text(st.mean), ratio_text(st.std),
                           ratio_text(st.worst), ratio_text(st.median), ratio_text(st.best), pub_text);
        if (against_better) {
          std::string meets = "-";
          if (pub) {
            const double bound = e.bounds.count(app) ? e.bounds.at(app).time_s() : 0;
            const double median_s = st.median > 0 ? *reference / st.median : std::numeric_limits<double>::infinity();
            const bool met = st.median >= *pub - 1e-9;
            const bool near = !met && bound > 0 && median_s <= kNearBound * bound;
            meets = met ? "yes" : near ? "yes (within 3% of the bound)" : "no";
            // More than half the runs owe their gain to copies the published drivers would make
            // again (see "Read with care").
            const auto kept =
                std::count_if(runs.begin(), runs.end(), [](const ExperimentRun* r) { return !r->caveat.empty(); });
            if ((met || near) && 2 * kept > static_cast<std::ptrdiff_t>(runs.size())) meets += " (read with care)";
          }
          row += fmt::format(" {} |", meets);
        }
        t += row + "\n";
      }
    }
    return t;
  };
  out += "\n## Throughput against the experts' mapper\n\n";
  out += fmt::format(
      "Per program and optimizer, over the {} seeds: the throughput of the best mapper a run found over the experts' "
      "mapper's (the expert's simulated time / the best's; a run that found no working mapper counts as 0, as in the "
      "published table). *published*: the best ratio the published search reached on the real machine.\n\n",
      s.seeds);
  out += table(false);
  out += "\n## Against the better of the experts' and the default mapper\n\n";
  out += fmt::format(
      "The same over the faster of the experts' and the default mapper (where the default is faster, only this shows "
      "what the search added). *median meets it*: the median is at least the published ratio, or the median run's best "
      "is within {:.0f}% of the lower bound (below); *(read with care)*: most of its runs' best mappers keep copies "
      "that the published drivers would make again (see below the table).\n\n",
      (kNearBound - 1) * 100);
  out += table(true);

  // Gains the model allows and the published programs would not.
  std::vector<std::string> kept;
  for (const std::string& app : s.apps)
    for (const std::string& o : e.optimizers) {
      int n = 0, of = 0;
      std::vector<double> replaced;
      for (const ExperimentRun* r : runs_of(e, app, o)) {
        ++of;
        n += r->caveat.empty() ? 0 : 1;
        if (!r->caveat.empty() && r->placed_every_iteration_speedup)
          replaced.push_back(*r->placed_every_iteration_speedup);
      }
      if (n == 0) continue;
      std::string what = fmt::format("{} {} ({} of {} seeds", app, o, n, of);
      if (!replaced.empty()) {
        std::sort(replaced.begin(), replaced.end());
        what += fmt::format("; placed every iteration, median {:.2f}x the experts'", replaced[replaced.size() / 2]);
      }
      kept.push_back(what + ")");
    }
  if (!kept.empty())
    out += fmt::format(
        "\n**Read with care**: {}: the best mapper copies less than a tenth of the data the experts' copies in "
        "the timed iterations (folds of partial sums aside), keeping the copies the warm-up made, which the published "
        "drivers (placing the tiles again before every iteration) would make again every iteration; that part of the "
        "gain is the model's, not the machine's (docs/simulation.md, \"Known differences from the published runs\"). "
        "The ratio placed every iteration is that run's best and the experts' mapper run again so "
        "(--place-every-iteration): what is left of the gain there.\n",
        join_words(kept));

  // Means over programs.
  out +=
      "\n## Mean over the programs\n\n| optimizer | mean vs expert | mean of medians vs expert | mean vs better | "
      "mean of medians vs better |\n|---|---|---|---|---|\n";
  std::map<std::string, double> mean_vs_better;
  for (const std::string& o : e.optimizers) {
    double a = 0, b = 0, c = 0, d = 0;
    int n = 0;
    for (const std::string& app : s.apps) {
      const References refs = references_of(e, app);
      const std::vector<const ExperimentRun*> runs = runs_of(e, app, o);
      const std::vector<double> ve = ratios(runs, refs.expert_s), vb = ratios(runs, refs.better_s());
      if (ve.empty() || vb.empty()) continue;
      const Stats se = stats_of(ve), sb = stats_of(vb);
      a += se.mean, b += se.median, c += sb.mean, d += sb.median, ++n;
    }
    if (n == 0) {
      out += fmt::format("| {} | - | - | - | - |\n", o);
      continue;
    }
    const double k = static_cast<double>(n);
    mean_vs_better[o] = c / k;
    out += fmt::format("| {} | {} | {} | {} | {} |\n", o, ratio_text(a / k), ratio_text(b / k), ratio_text(c / k),
                       ratio_text(d / k));
  }
  if (mean_vs_better.count("guided") && mean_vs_better.count("bandit") && mean_vs_better.at("bandit") > 0)
    out += fmt::format(
        "\nguided over bandit, mean throughput against the better reference: {:.2f}× (the published "
        "language-model search was 11× OpenTuner's).\n",
        mean_vs_better.at("guided") / mean_vs_better.at("bandit"));

  // The machine's limit.
  out += "\n## The machine's limit\n\n";
  out +=
      "A lower bound on each program's simulated time whatever the mapper: the larger of the timed tasks' work "
      "over the aggregate rate of the processors that can run them (each task kind on one kind of processor, as a "
      "Task rule places it, and the data that task kinds on GPUs and elsewhere exchange carried over the links "
      "between framebuffers and host memory or zero-copy, also on that assignment's critical path; per processor "
      "kind, no set of its tasks ends before the least head plus its work per processor plus the least tail; and "
      "the same summed over the segments between single tasks that every time step waits for), and the "
      "critical path of the task graph with "
      "every task at its fastest processor and no data movement (a task takes at least its launch overhead plus "
      "the larger of its compute time and its bytes at its processor's best memory bandwidth). Then each mapper's "
      "time as a multiple of it: the experts', the default, and per optimizer the best any seed found (1.00 would "
      "reach the bound).\n\n";
  out += "| program | lower bound | work | critical path | expert | default |";
  for (const std::string& o : e.optimizers) out += fmt::format(" {} |", o);
  out += "\n|---|---|---|---|---|---|";
  for (size_t i = 0; i < e.optimizers.size(); ++i) out += "---|";
  out += "\n";
  std::vector<std::string> below;
  for (const std::string& app : s.apps) {
    if (!e.bounds.count(app)) continue;
    const LowerBound& b = e.bounds.at(app);
    const double bound = b.time_s();
    const References refs = references_of(e, app);
    auto times_bound = [&](std::optional<double> t) {
      if (!t) return std::string("failed");
      if (bound <= 0) return seconds(*t);
      return fmt::format("{:.2f}×", *t / bound);
    };
    out += fmt::format("| {} | {} | {} | {} | {} | {} |", app, seconds(bound), seconds(b.work_s), seconds(b.path_s),
                       times_bound(refs.expert_s), times_bound(refs.default_s));
    for (const std::string& o : e.optimizers) {
      std::optional<double> best;
      for (const ExperimentRun* r : runs_of(e, app, o))
        if (r->best_s && (!best || *r->best_s < *best)) best = r->best_s;
      out += fmt::format(" {} |", runs_of(e, app, o).empty() ? "-" : times_bound(best));
    }
    out += "\n";
    for (const ExperimentRun& r : e.runs)
      if (r.app == app && r.best_s && *r.best_s < bound * (1 - 1e-9))
        below.push_back(
            fmt::format("{} {} seed {}: {} < {}", app, r.optimizer, r.seed, seconds(*r.best_s), seconds(bound)));
  }
  if (!below.empty()) {
    out += "\n**A measured time is below the lower bound** (the bound's model and the simulator's disagree):\n\n";
    for (const std::string& line : below) out += "- " + line + "\n";
  }

  out +=
      "\n## Convergence\n\nPer program: the best throughput so far over the experts' mapper's against evaluations, "
      "the mean over seeds as a line and the band from the worst seed to the best.\n\n";
  for (const std::string& app : s.apps) out += fmt::format("![{}](convergence-{}.svg)\n", app, app);

  // Speed.
  out += "\n## Evaluations per second\n\n";
  out +=
      "Each run is a process evaluating one mapper at a time; runs go side by side. Per optimizer: the evaluations "
      "its runs made (in their last session) over the wall time of those runs, and the mean wall time of a run.\n\n"
      "| optimizer | runs | evaluations | run wall time | evaluations/s per run | mean run wall time |\n"
      "|---|---|---|---|---|---|\n";
  for (const std::string& o : e.optimizers) {
    int runs = 0, evaluations = 0;
    double wall = 0;
    for (const ExperimentRun& r : e.runs) {
      if (r.optimizer != o || r.best_so_far.empty()) continue;
      ++runs, evaluations += r.evaluated_now, wall += r.wall_s;
    }
    out += fmt::format("| {} | {} | {} | {:.1f} s | {} | {} |\n", o, runs, evaluations, wall,
                       wall > 0 ? fmt::format("{:.1f}", evaluations / wall) : "-",
                       runs > 0 ? fmt::format("{:.2f} s", wall / runs) : "-");
  }
  out += fmt::format("\nThe whole session: {} evaluation{} in {:.1f} s, {} evaluations/s.\n", evaluated,
                     evaluated == 1 ? "" : "s", e.wall_s,
                     e.wall_s > 0 ? fmt::format("{:.1f}", evaluated / e.wall_s) : "-");
  out += "\nEvery run's directory (`runs/APP/OPTIMIZER-sSEED`) holds its journal, best mapper and report.\n";
  return out;
}

namespace detail {

void write_experiment_outputs(const Experiment& e) {
  const ExperimentSettings& s = e.settings;
  const std::string machine = fs::path(s.program.machine).stem().string();
  for (const std::string& app : s.apps) {
    const References refs = references_of(e, app);
    if (!refs.expert_s) continue;
    std::vector<Band> bands;
    double top = 0;
    for (const std::string& o : e.optimizers) {
      bands.push_back(band_of(o, runs_of(e, app, o), *refs.expert_s));
      for (double v : bands.back().high) top = std::max(top, v);
    }
    std::vector<std::pair<std::string, double>> lines = {{"expert", 1.0}};
    if (refs.default_s) lines.emplace_back("default", *refs.expert_s / *refs.default_s);
    if (e.bounds.count(app) && e.bounds.at(app).time_s() > 0) {
      const double limit = *refs.expert_s / e.bounds.at(app).time_s();
      if (limit <= 1.5 * std::max(top, 1.0)) lines.emplace_back("lower bound", limit);
    }
    std::string error;
    const fs::path file = e.dir / fmt::format("convergence-{}.svg", app);
    if (!plot_bands(file, fmt::format("{} on {}", app, machine), "best throughput / expert's", bands, lines, error))
      throw TuneError(fmt::format("cannot draw {}: {}", file.string(), error));
  }

  nlohmann::ordered_json j;
  j["settings"] = s.to_json();
  j["optimizers"] = e.optimizers;
  j["skipped"] = nlohmann::ordered_json::array();
  for (const auto& [name, why] : e.skipped) j["skipped"].push_back({{"optimizer", name}, {"why", why}});
  j["interrupted"] = e.interrupted;
  j["wall_s"] = e.wall_s;
  for (const std::string& app : s.apps) {
    const References refs = references_of(e, app);
    nlohmann::ordered_json a;
    a["expert_time_s"] = refs.expert_s ? nlohmann::ordered_json(*refs.expert_s) : nlohmann::ordered_json();
    a["default_time_s"] = refs.default_s ? nlohmann::ordered_json(*refs.default_s) : nlohmann::ordered_json();
    if (e.bounds.count(app)) {
      const LowerBound& b = e.bounds.at(app);
      a["lower_bound_s"] = b.time_s();
      a["work_bound_s"] = b.work_s;
      a["path_bound_s"] = b.path_s;
    }
    a["published_ratio"] =
        published_ratio(app) ? nlohmann::ordered_json(*published_ratio(app)) : nlohmann::ordered_json();
    for (const std::string& o : e.optimizers) {
      const std::vector<const ExperimentRun*> runs = runs_of(e, app, o);
      a["optimizers"][o]["vs_expert"] = stats_json(stats_of(ratios(runs, refs.expert_s)));
      a["optimizers"][o]["vs_better"] = stats_json(stats_of(ratios(runs, refs.better_s())));
    }
    j["programs"][app] = a;
  }
  j["runs"] = nlohmann::ordered_json::array();
  for (const ExperimentRun& r : e.runs) {
    nlohmann::ordered_json x;
    x["app"] = r.app;
    x["optimizer"] = r.optimizer;
    x["seed"] = r.seed;
    x["dir"] = fs::relative(r.dir, e.dir).string();
    x["budget"] = r.budget;
    x["evaluations"] = r.best_so_far.size();
    x["failed"] = r.failed;
    x["best_time_s"] = r.best_s ? nlohmann::ordered_json(*r.best_s) : nlohmann::ordered_json();
    x["done"] = r.done;
    x["earlier"] = r.earlier;
    x["problem"] = r.problem;
    x["caveat"] = r.caveat.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.caveat);
    x["placed_every_iteration_speedup"] = r.placed_every_iteration_speedup
                                              ? nlohmann::ordered_json(*r.placed_every_iteration_speedup)
                                              : nlohmann::ordered_json();
    x["evaluated_now"] = r.evaluated_now;
    x["wall_s"] = r.wall_s;
    nlohmann::ordered_json series = nlohmann::ordered_json::array();
    for (double v : r.best_so_far)
      series.push_back(std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json());
    x["best_so_far_s"] = series;
    j["runs"].push_back(x);
  }
  write_text(e.dir / "results.json", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  write_text(e.dir / "report.md", experiment_report(e));
}

}  // namespace detail

}  // namespace mage::tune
