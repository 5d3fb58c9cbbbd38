// The outputs of a run: DIR/best.map, summary.json, report.md and convergence.svg, all
// derived from the run's evaluations (so a resumed or interrupted run rewrites them).
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "tune/detail.h"

namespace mage::tune {

namespace {

namespace fs = std::filesystem;

std::string seconds(double s) {
  if (!std::isfinite(s)) return "-";
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

std::string times(std::optional<double> x) { return x ? fmt::format("{:.2f}x", *x) : "-"; }

std::optional<double> ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

std::string bytes(double b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.3g} {}", b, kUnits[u]);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The command that runs the same tuning again.
std::string command(const Settings& s) {
  std::string c = fmt::format("mage tune {} --machine {}", s.program.app, s.program.machine);
  if (s.program.overrides.nodes) c += fmt::format(" --nodes {}", *s.program.overrides.nodes);
  if (s.program.overrides.ranks_per_node) c += fmt::format(" --ranks-per-node {}", *s.program.overrides.ranks_per_node);
  if (s.program.scale != apps::Scale::Published) c += fmt::format(" --scale {}", apps::to_string(s.program.scale));
  if (s.program.iterations) c += fmt::format(" --iterations {}", *s.program.iterations);
  if (s.program.place_every_iteration) c += " --place-every-iteration";
  c += fmt::format(" --optimizer {} --budget {} --seed {} --start {}", s.optimizer, s.budget, s.seed, s.start);
  for (const auto& [k, v] : s.options) c += fmt::format(" --option {}={}", k, v);
  return c;
}

// The point of a trial: its own, or read back from its text.
std::optional<Point> point_of(const Space& space, const Trial& t) {
  if (t.candidate.point) return t.candidate.point;
  if (auto back = space.read(t.candidate.text)) return back->point;
  return std::nullopt;
}

std::string changes(const Space& space, const std::optional<Point>& from, const std::optional<Point>& to,
                    const std::string& what) {
  if (!from || !to) return fmt::format("(the {} cannot be read as a point of the space)\n", what);
  const std::vector<Difference> d = space.diff(*from, *to);
  if (d.empty()) return "Nothing: the same decisions.\n";
  std::string out;
  for (const Difference& x : d) out += fmt::format("- `{}`\n", space.describe(x));
  return out;
}

// Costliest tasks and copies of two profiles side by side.
std::string profile_table(const sim::Profile& best, const sim::Profile* other, const std::string& other_name) {
  std::string out = fmt::format("| task (processor kind) | best | {} |\n|---|---|---|\n", other_name);
  std::map<std::string, std::pair<double, double>> tasks;  // "name (kind)" -> (best, other)
  for (const sim::TaskCost& t : best.costliest_tasks)
    tasks[fmt::format("{} ({})", t.task, t.processor_kind)].first = t.total_s;
  if (other)
    for (const sim::TaskCost& t : other->costliest_tasks)
      tasks[fmt::format("{} ({})", t.task, t.processor_kind)].second = t.total_s;
  std::vector<std::pair<std::string, std::pair<double, double>>> rows(tasks.begin(), tasks.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::max(a.second.first, a.second.second) > std::max(b.second.first, b.second.second);
  });
  for (size_t i = 0; i < rows.size() && i < 8; ++i)
    out += fmt::format("| {} | {} | {} |\n", rows[i].first, rows[i].second.first ? seconds(rows[i].second.first) : "-",
                       rows[i].second.second ? seconds(rows[i].second.second) : "-");
  auto moved = [](const sim::ChannelBytes& b) {
    return fmt::format("GPU-host {}, intra-GPU {}, host-host {}, inter-node {}", bytes(b.gpu_host), bytes(b.intra_gpu),
                       bytes(b.host_host), bytes(b.inter_node));
  };
  out += fmt::format("\nBytes moved in the timed window: best {}", moved(best.bytes_moved));
  if (other) out += fmt::format("; {} {}", other_name, moved(other->bytes_moved));
  out += fmt::format(".\nCritical path: best {} (running {}, waiting for copies {}, queued {})",
                     seconds(best.critical_path.length_s), seconds(best.critical_path.task_s),
                     seconds(best.critical_path.copy_s), seconds(best.critical_path.queue_s));
  if (other)
    out += fmt::format("; {} {} (running {}, waiting for copies {}, queued {})", other_name,
                       seconds(other->critical_path.length_s), seconds(other->critical_path.task_s),
                       seconds(other->critical_path.copy_s), seconds(other->critical_path.queue_s));
  return out + ".\n";
}

std::string report(const Summary& s, const Space& space) {
  const Settings& set = s.settings;
  const std::optional<double> expert_s = s.time_of("expert"), default_s = s.time_of("default");
  std::string out = fmt::format("# Tuning {} on {}\n\n", set.program.app, space.machine().name());
  out += fmt::format("`{}`: {} evaluation{} ({} failed){}{}.\n\n", command(set), s.trials.size(),
                     s.trials.size() == 1 ? "" : "s", s.failed(),
                     s.interrupted ? "; interrupted before the budget was spent (continue with `mage tune --resume " +
                                         s.dir.string() + "`)"
                                   : "",
                     s.exhausted ? "; the optimizer had nothing more to propose" : "");
  if (!s.stopped.empty())
    out += fmt::format("The run stopped early: {} (continue with `mage tune --resume {}`).\n\n", s.stopped,
                       s.dir.string());

  // The table of times.
  out += "| mapper | simulated time | vs expert | vs default |\n|---|---|---|---|\n";
  auto row = [&](const std::string& name, const eval::Result& r) {
    if (!r.outcome.ok())
      return fmt::format("| {} | {}: {} | - | - |\n", name, sim::to_string(r.outcome.status),
                         first_line(r.outcome.message));
    const double t = r.outcome.time_s;
    return fmt::format("| {} | {} | {} | {} |\n", name, seconds(t), times(ratio(expert_s, t)),
                       times(ratio(default_s, t)));
  };
  const Trial* best = s.best ? &s.trials[*s.best] : nullptr;
  if (best) out += row(fmt::format("**best** (evaluation {}: {})", best->number, best->candidate.origin), best->result);
  if (const Reference* r = s.reference("expert"))
    out += row(fmt::format("the experts' (mappers/expert/{}.map)", set.program.app), r->result);
  if (const Reference* r = s.reference("default")) out += row("the default mapper", r->result);
  if (!s.trials.empty()) out += row(fmt::format("the start ({})", set.start), s.trials.front().result);
  if (!best) return out + "\nNo evaluation succeeded: there is no best mapper.\n";
  if (!s.caveat.empty()) out += fmt::format("\n**How far to trust it**: {}.\n", s.caveat);

  // What changed, in the space's terms.
  const std::optional<Point> best_point = point_of(space, *best);
  std::optional<Point> expert_point;
  if (auto back = space.read(std::string(*eval::expert_mapper_text(set.program.app)))) expert_point = back->point;
  out += "\n## What changed\n\nAgainst the experts' mapper:\n\n";
  out += changes(space, expert_point, best_point, "mapper");
  out += "\nAgainst the default mapper:\n\n";
  out += changes(space, space.default_point(), best_point, "mapper");

  // Why it is faster: the feedback's words, then where the time goes.
  const Reference* expert = s.reference("expert");
  const bool expert_ok = expert && expert->result.outcome.ok();
  out += "\n## Why it is faster\n\n";
  auto feedback = [](const std::string& whose, const guide::Feedback& f) {
    std::string text = fmt::format("The feedback on {} ({}): {}\n", whose, guide::to_string(f.category),
                                   f.explanation.empty() ? first_line(f.message) : f.explanation);
    for (size_t i = 0; i < f.suggestions.size() && i < 3; ++i) text += fmt::format("- {}\n", f.suggestions[i]);
    return text + "\n";
  };
  if (expert) out += feedback("the experts' mapper", expert->feedback);
  if (const Reference* d = s.reference("default"); d && d->result.outcome.ok() && set.start == "default")
    out += feedback("the default mapper", d->feedback);
  out += feedback(fmt::format("the best mapper (evaluation {})", best->number), best->feedback);
  out += "Where the time goes (simulated seconds per task kind in the timed window):\n\n";
  out += profile_table(best->result.outcome.profile, expert_ok ? &expert->result.outcome.profile : nullptr, "expert");

  // How the search got there: the chain of candidates the best was derived from.
  std::vector<const Trial*> chain;
  for (const Trial* t = best; t;) {
    chain.push_back(t);
    const int parent = t->candidate.parent;
    auto it = std::find_if(s.trials.begin(), s.trials.end(), [&](const Trial& x) { return x.number == parent; });
    t = parent > 0 && it != s.trials.end() && &*it != t ? &*it : nullptr;
  }
  std::reverse(chain.begin(), chain.end());
  out += "\n## How the search got there\n\n";
  for (const Trial* t : chain)
    out += fmt::format("- evaluation {} ({}): {}\n", t->number, t->candidate.origin,
                       t->ok() ? seconds(t->score()) : std::string(sim::to_string(t->result.outcome.status)));

  out += fmt::format("\n## The best mapper (best.map)\n\n```\n{}```\n", best->candidate.text);
  out += "\n![best time so far against evaluations](convergence.svg)\n";
  return out;
}

}  // namespace

void write_outputs(const Summary& s, const Space& space) {
  const fs::path& dir = s.dir;
  std::error_code ec;
  if (s.best)
    detail::write_text(dir / "best.map", s.trials[*s.best].candidate.text);
  else
    fs::remove(dir / "best.map", ec);
  nlohmann::ordered_json summary = s.to_json();
  detail::write_text(dir / "report.md", report(s, space));
  std::string error;
  const std::string title = fmt::format("{} on {}: {} (seed {})", s.settings.program.app, space.machine().name(),
                                        s.settings.optimizer, s.settings.seed);
  if (!detail::plot_convergence(dir / "convergence.svg", title, s.best_so_far(), s.time_of("expert"),
                                s.time_of("default"), error))
    summary["plot_error"] = error;  // the numbers are all in summary.json and the journal anyway
  detail::write_text(dir / "summary.json",
                     summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

namespace detail {

void write_text(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".mage-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text) || !out.flush()) throw TuneError(fmt::format("cannot write {}", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw TuneError(fmt::format("cannot write {}: {}", path.string(), ec.message()));
}

namespace {

// What is left of the gain with the tiles placed before every iteration, when measured.
std::string replaced(const Summary& s) {
  if (!s.placed_every_iteration) return "";
  const Summary::Replaced& r = *s.placed_every_iteration;
  return fmt::format(
      ". Run again with the tiles placed before every iteration (--place-every-iteration), the best mapper takes {} "
      "against the experts' {}: {:.2f}x",
      seconds(r.best_s), seconds(r.expert_s), r.expert_s / r.best_s);
}

}  // namespace

std::string caveat(const Summary& s, const program::Program& program) {
  if (!program.inputs_placed_once || !s.best) return "";
  const Reference* expert = s.reference("expert");
  if (!expert || !expert->result.outcome.ok()) return "";
  const Trial& best = s.trials[*s.best];
  // Copies of the inputs: what moved, the folds of partial sums aside (a reduction's folds
  // are made every iteration whatever the drivers place; the inputs' copies are the question).
  const auto copied = [](const sim::Profile& p) {
    const sim::ChannelBytes& b = p.bytes_moved;
    return std::max(0.0, b.gpu_host + b.intra_gpu + b.host_host + b.inter_node - p.folded_bytes);
  };
  const double moved = copied(best.result.outcome.profile);
  const double expert_moved = copied(expert->result.outcome.profile);
  const double expert_s = expert->result.outcome.time_s;
  // A gain under 1% is no gain to explain (kept copies that save nothing on the critical path).
  if (!(best.score() * 1.01 < expert_s) || !(moved < 0.1 * expert_moved)) return "";
  return fmt::format(
      "the best mapper copies {} of data in the timed iterations (folds of partial sums aside) against the experts' "
      "{}: it keeps the copies the warm-up made. {}'s published drivers place its tiles again before every "
      "iteration, so there these copies would be made again every iteration: the part of its {:.2f}x over the "
      "experts' mapper that comes from keeping them is the model's, not the machine's (docs/simulation.md, \"Known "
      "differences from the published runs\"){}",
      bytes(moved), bytes(expert_moved), program.name, expert_s / best.score(), replaced(s));
}

void add_program_json(nlohmann::ordered_json& j, const eval::Request& program) {
  j["machine"] = program.machine;
  j["nodes"] = optional_json(program.overrides.nodes);
  j["ranks_per_node"] = optional_json(program.overrides.ranks_per_node);
  j["scale"] = apps::to_string(program.scale);
  j["iterations"] = optional_json(program.iterations);
  j["place_every_iteration"] = program.place_every_iteration;
}

}  // namespace detail

}  // namespace mage::tune
