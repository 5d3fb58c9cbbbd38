// The experiment runner: every optimizer on every program with several seeds, each run a
// tuning run of its own (DIR/runs/APP/OPTIMIZER-sSEED, journaled and resumable as `mage tune`
// runs are). Runs go in child processes, `jobs` at once, each evaluating one mapper at a
// time: a guided or llm run proposes one candidate per step, so whole runs side by side keep
// every core busy where parallel evaluations within a run would not. The parent only
// schedules, reads each run back from its directory when it ends, and writes the report.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

#include "apps/apps.h"
#include "llm/llm.h"
#include "tune/detail.h"

namespace mage::tune {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kFormat = 1;
constexpr const char* kSettingsFile = "experiment.json";
// The longest message a run's process hands back (it fits a pipe's buffer, so the child
// never blocks on it).
constexpr size_t kMessageBytes = 4000;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool is_machine_path(const std::string& m) {
  return m.find('/') != std::string::npos || (m.size() >= 5 && m.substr(m.size() - 5) == ".toml");
}

void check(const ExperimentSettings& s) {
  std::vector<std::string> app_names;
  for (const apps::AppInfo& a : apps::list()) app_names.push_back(a.name);
  std::vector<std::string> optimizer_names;
  for (const OptimizerInfo& o : optimizers()) optimizer_names.push_back(o.name);
  auto check_names = [](const std::vector<std::string>& given, const std::vector<std::string>& known,
                        const char* what) {
    if (given.empty()) throw TuneError(fmt::format("no {} to run", what));
    std::set<std::string> seen;
    for (const std::string& n : given) {
      if (std::find(known.begin(), known.end(), n) == known.end())
        throw TuneError(fmt::format("unknown {} '{}' (the {} are {})",
                                    std::string(what).substr(0, std::strlen(what) - 1), n, what, joined(known)));
      if (!seen.insert(n).second) throw TuneError(fmt::format("'{}' is named twice among the {}", n, what));
    }
  };
  check_names(s.apps, app_names, "programs");
  check_names(s.optimizers, optimizer_names, "optimizers");
  if (s.seeds < 1) throw TuneError(fmt::format("the number of seeds must be at least 1 (got {})", s.seeds));
  if (s.budget < 1) throw TuneError(fmt::format("the budget must be at least 1 evaluation (got {})", s.budget));
  for (const auto& [name, budget] : s.budget_for) {
    if (std::find(s.optimizers.begin(), s.optimizers.end(), name) == s.optimizers.end())
      throw TuneError(fmt::format("a budget is given for {}, which is not among the optimizers to run ({})", name,
                                  joined(s.optimizers)));
    if (budget < 1)
      throw TuneError(fmt::format("the budget of {} must be at least 1 evaluation (got {})", name, budget));
  }
  if (s.start != "default" && s.start != "expert")
    throw TuneError(fmt::format("the start '{}' is not default or expert", s.start));
}

// What must be the same when an experiment is resumed: what its runs were measured on.
nlohmann::ordered_json fixed_part(const nlohmann::json& settings) {
  nlohmann::ordered_json j;
  for (const char* key : {"machine", "nodes", "ranks_per_node", "scale", "iterations", "start"})
    j[key] = settings.contains(key) ? settings.at(key) : nlohmann::json();
  j["place_every_iteration"] = settings.value("place_every_iteration", false);
  return j;
}

// The settings an experiment's experiment.json holds; a file that is not one (cut short,
// edited) is named with the place where it goes wrong, never with the JSON library's text.
nlohmann::json read_settings(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.good() && !in.eof()) throw TuneError(fmt::format("cannot read {}", file.string()));
  const std::string what = "it is not the settings file mage experiment writes (was it edited or cut short?)";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte: the 1-based offset of the byte where parsing failed (one past the end when the
    // text stops early).
    const size_t at = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
    const size_t line_start = text.rfind('\n', at == 0 ? std::string::npos : at - 1);
    const size_t column = at - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
    throw TuneError(fmt::format("{}:{}:{}: {}, not valid JSON: {}", file.string(), line, column,
                                at >= text.size() ? "the text ends early" : "unexpected byte here", what));
  }
  if (!j.is_object() || !j.contains("settings") || !j["settings"].is_object())
    throw TuneError(fmt::format("{}: no \"settings\" object: {}", file.string(), what));
  return j["settings"];
}

// Starts the experiment's directory, or checks that the one to resume holds the same kind
// of experiment; writes the settings.
void prepare(const ExperimentSettings& s, const fs::path& dir, bool resume) {
  const fs::path file = dir / kSettingsFile;
  std::error_code ec;
  if (resume) {
    if (!fs::exists(file, ec))
      throw TuneError(fmt::format("there is no experiment to resume in {} (no {})", dir.string(), file.string()));
    const nlohmann::json before = read_settings(file);
    const nlohmann::ordered_json was = fixed_part(before), now = fixed_part(s.to_json());
    if (was != now)
      throw TuneError(
          fmt::format("{} holds an experiment run with {}; it cannot be resumed with {} (start another "
                      "in a new directory)",
                      dir.string(), was.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      now.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  } else if (fs::exists(file, ec)) {
    throw TuneError(
        fmt::format("{} holds an experiment already ({}): continue it with --resume, or choose another "
                    "--out",
                    dir.string(), file.string()));
  }
  fs::create_directories(dir, ec);
  if (ec) throw TuneError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  detail::write_text(file, nlohmann::ordered_json{{"format", kFormat}, {"settings", s.to_json()}}.dump(
                               2, ' ', false, nlohmann::json::error_handler_t::replace) +
                               "\n");
}

// One run of the experiment, as planned.
struct Planned {
  Settings settings;
  fs::path dir;
};

std::optional<double> time_of(const nlohmann::json& record) {
  const eval::Result r = eval::result_from_json(record.at("result"));
  if (!r.outcome.ok()) return std::nullopt;
  return r.outcome.time_s;
}

// A run as its directory holds it: the journal (evaluations, references) and summary.json
// (how its last session went).
ExperimentRun read_run(const Planned& p) {
  ExperimentRun r;
  r.app = p.settings.program.app;
  r.optimizer = p.settings.optimizer;
  r.seed = p.settings.seed;
  r.dir = p.dir;
  r.budget = p.settings.budget;
  std::error_code ec;
  if (!fs::exists(detail::journal_path(p.dir), ec)) {
    r.problem = "not started";
    return r;
  }
  const detail::Journal::Contents c = detail::Journal::read(p.dir);
  try {
    double best = std::numeric_limits<double>::infinity();
    int number = 0;
    for (const auto& [n, record] : c.evaluations) {
      if (n != number + 1) break;  // an evaluation lost in flight: what follows is not yet a run's prefix
      number = n;
      const std::optional<double> t = time_of(record);
      if (!t) ++r.failed;
      if (t && *t < best) best = *t;
      r.best_so_far.push_back(best);
    }
    if (std::isfinite(best)) r.best_s = best;
    if (auto it = c.references.find("expert"); it != c.references.end()) r.expert_s = time_of(it->second);
    if (auto it = c.references.find("default"); it != c.references.end()) r.default_s = time_of(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw TuneError(fmt::format("{}: a journaled result does not parse: {}", detail::journal_path(p.dir).string(),
                                detail::json_problem(e)));
  }
  bool exhausted = false;
  try {
    std::ifstream in(p.dir / "summary.json");
    if (in) {
      const nlohmann::json s = nlohmann::json::parse(in);
      r.wall_s = s.value("wall_s", 0.0);
      r.evaluated_now = s.value("evaluated_now", 0);
      exhausted = s.value("exhausted", false);
      if (s.contains("stopped") && s["stopped"].is_string()) r.problem = "stopped: " + s["stopped"].get<std::string>();
      if (s.contains("caveat") && s["caveat"].is_string()) r.caveat = s["caveat"].get<std::string>();
      if (s.contains("placed_every_iteration") && s["placed_every_iteration"].is_object() &&
          s["placed_every_iteration"].contains("speedup_vs_expert") &&
          s["placed_every_iteration"]["speedup_vs_expert"].is_number())
        r.placed_every_iteration_speedup = s["placed_every_iteration"]["speedup_vs_expert"].get<double>();
    }
  } catch (const nlohmann::json::exception&) {
    // A summary torn by a kill: the journal says what was done; the run is resumed.
  }
  const bool spent = static_cast<int>(r.best_so_far.size()) >= r.budget;
  r.done = c.settings.budget == r.budget && (spent || exhausted) && r.problem.empty();
  if (!r.done && r.problem.empty()) r.problem = "interrupted";
  return r;
}

// Checks that the run in `p.dir` (if any) is the one planned.
void check_existing(const Planned& p) {
  std::error_code ec;
  if (!fs::exists(detail::journal_path(p.dir), ec)) return;
  const Settings was = detail::Journal::read(p.dir).settings;
  const Settings& want = p.settings;
  if (was.program.app != want.program.app || was.optimizer != want.optimizer || was.seed != want.seed ||
      was.program.machine != want.program.machine || was.program.scale != want.program.scale || was.start != want.start)
    throw TuneError(fmt::format("{} holds a run of {} with {} (seed {}), not the one this experiment expects there",
                                p.dir.string(), was.program.app, was.optimizer, was.seed));
}

// A run in its own process.
struct Child {
  pid_t pid = -1;
  int message_fd = -1;
  size_t index = 0;  // into the plan
};

[[noreturn]] void run_in_child(const Planned& p, bool fresh, const ExperimentExecution& x, int message_fd) {
  Execution e;
  e.workers = 1;
  e.limits = x.limits;
  e.stop = x.stop;
  std::string message;
  int code = 0;
  try {
    const Summary s = fresh ? run(p.settings, p.dir, e) : resume(p.dir, e, p.settings.budget);
    message = s.stopped;
    code = s.interrupted ? 2 : 0;
  } catch (const std::exception& error) {
    message = error.what();
    code = 1;
  }
  if (message.size() > kMessageBytes) message.resize(kMessageBytes);
  for (size_t done = 0; done < message.size();) {
    const ssize_t n = ::write(message_fd, message.data() + done, message.size() - done);
    if (n <= 0 && errno != EINTR) break;
    if (n > 0) done += static_cast<size_t>(n);
  }
  std::fflush(nullptr);
  std::_Exit(code);
}

Child start(const Planned& p, size_t index, const ExperimentExecution& x) {
  std::error_code ec;
  const bool fresh = !fs::exists(detail::journal_path(p.dir), ec);
  fs::create_directories(p.dir, ec);
  if (ec) throw TuneError(fmt::format("cannot create {}: {}", p.dir.string(), ec.message()));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw TuneError(fmt::format("pipe: {}", std::strerror(errno)));
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw TuneError(fmt::format("cannot start a run: fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_in_child(p, fresh, x, fds[1]);
  }
  ::close(fds[1]);
  // Read without waiting: the run's own children (evaluations, plots) inherit the pipe, and
  // one left behind must not hold the experiment up. The message is written before the exit.
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return Child{pid, fds[0], index};
}

// The child's message and how it ended ("" when it ended well).
std::string finish(const Child& c, int status) {
  std::string message;
  char buf[1024];
  for (ssize_t n; (n = ::read(c.message_fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: all there is
    }
    message.append(buf, static_cast<size_t>(n));
  }
  ::close(c.message_fd);
  if (WIFSIGNALED(status))
    return fmt::format("its process died of signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 1) return message.empty() ? "it failed" : message;
  return "";
}

}  // namespace

int ExperimentSettings::budget_of(const std::string& optimizer) const {
  auto it = budget_for.find(optimizer);
  return it == budget_for.end() ? budget : it->second;
}

nlohmann::ordered_json ExperimentSettings::to_json() const {
  nlohmann::ordered_json j;
  detail::add_program_json(j, program);
  j["start"] = start;
  j["apps"] = apps;
  j["optimizers"] = optimizers;
  j["seeds"] = seeds;
  j["budget"] = budget;
  j["budget_for"] = budget_for;
  return j;  // the llm options stay out: a URL may carry credentials, and each llm run journals its own
}

std::vector<std::pair<std::string, std::string>> unavailable_optimizers(
    const std::vector<std::string>& names, const std::map<std::string, std::string>& llm_options) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& name : names) {
    if (name != "llm") continue;
    std::optional<std::string> url, model;
    if (auto it = llm_options.find("llm-url"); it != llm_options.end()) url = it->second;
    if (auto it = llm_options.find("llm-model"); it != llm_options.end()) model = it->second;
    try {
      llm::resolve_endpoint(url, model);
    } catch (const llm::Error& e) {
      out.emplace_back(name, e.what());
    }
  }
  return out;
}

Experiment run_experiment(const ExperimentSettings& given, const fs::path& dir, bool resume,
                          const ExperimentExecution& x) {
  const auto begin = Clock::now();
  ExperimentSettings s = given;
  check(s);
  if (is_machine_path(s.program.machine))
    s.program.machine = fs::absolute(s.program.machine).lexically_normal().string();

  Experiment e;
  e.skipped = unavailable_optimizers(s.optimizers, s.llm_options);
  for (const std::string& o : s.optimizers)
    if (std::none_of(e.skipped.begin(), e.skipped.end(), [&](const auto& sk) { return sk.first == o; }))
      e.optimizers.push_back(o);
  if (e.optimizers.empty())
    throw TuneError(fmt::format("no optimizer can run: {}", e.skipped.front().first + ": " + e.skipped.front().second));

  // Every program's space (a request that cannot run fails here, before anything starts)
  // and the machine's limit for it.
  std::vector<Planned> plan;
  for (const std::string& app : s.apps) {
    eval::Request r = s.program;
    r.app = app;
    // The other programs place no inputs: the option is the matrix multiplications' drivers.
    const apps::AppInfo* info = apps::find(app);
    r.place_every_iteration = s.program.place_every_iteration && info && info->places_inputs;
    eval::check_limits(r, x.limits);  // before the Space builds the program here
    const Space space = Space::build(r, x.limits);
    e.bounds[app] = eval::within_memory_limit(x.limits.memory_bytes, fmt::format("the lower bound of {}", app),
                                              [&] { return lower_bound(space); });
    for (const std::string& o : e.optimizers) {
      Settings run;
      run.program = r;
      run.optimizer = o;
      run.budget = s.budget_of(o);
      run.start = s.start;
      if (o == "llm") run.options = s.llm_options;
      OptimizerContext context;
      context.space = &space;
      context.options = run.options;
      context.budget = run.budget;
      make_optimizer(o, context);  // bad options fail here, not in every run
      for (int seed = 1; seed <= s.seeds; ++seed) {
        run.seed = static_cast<uint64_t>(seed);
        plan.push_back({run, dir / "runs" / app / fmt::format("{}-s{}", o, seed)});
      }
    }
  }
  prepare(s, dir, resume);
  for (const Planned& p : plan) check_existing(p);
  e.settings = s;
  e.dir = dir;
  if (x.started) x.started();

  const int jobs = x.jobs > 0 ? x.jobs : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::optional<ExperimentRun>> ended(plan.size());
  std::vector<Child> running;
  int finished = 0;
  auto report = [&](const ExperimentRun& r) {
    ++finished;
    if (!x.progress) return;
    ExperimentProgress p;
    p.run = &r;
    p.finished = finished;
    p.total = static_cast<int>(plan.size());
    p.running = static_cast<int>(running.size());
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - begin).count();
    x.progress(p);
  };

  size_t next = 0;
  bool stopping = false;
  while (next < plan.size() || !running.empty()) {
    if (!stopping && x.stop && x.stop()) {
      stopping = true;
      e.interrupted = true;
      for (const Child& c : running) ::kill(c.pid, SIGTERM);  // each run stops cleanly, resumable
    }
    while (!stopping && next < plan.size() && static_cast<int>(running.size()) < jobs) {
      const size_t i = next++;
      if (resume) {
        ExperimentRun before = read_run(plan[i]);
        if (before.done) {
          before.earlier = true;
          ended[i] = std::move(before);
          report(*ended[i]);
          continue;
        }
      }
      running.push_back(start(plan[i], i, x));
    }
    bool any = false;
    for (size_t k = 0; k < running.size();) {
      int status = 0;
      const pid_t got = ::waitpid(running[k].pid, &status, WNOHANG);
      if (got == 0 || (got < 0 && errno == EINTR)) {
        ++k;
        continue;
      }
      const Child c = running[k];
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
      any = true;
      const std::string problem = finish(c, status);
      ExperimentRun r = read_run(plan[c.index]);
      if (!problem.empty()) r.problem = problem, r.done = false;
      ended[c.index] = std::move(r);
      report(*ended[c.index]);
    }
    if (!any && !running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (stopping && running.empty()) break;
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!ended[i]) {  // not started: stopped before its turn
      ended[i] = read_run(plan[i]);
      if (ended[i]->problem.empty() || ended[i]->problem == "not started") ended[i]->problem = "not started";
    }
    e.runs.push_back(std::move(*ended[i]));
  }
  e.wall_s = std::chrono::duration<double>(Clock::now() - begin).count();
  detail::write_experiment_outputs(e);
  return e;
}

}  // namespace mage::tune
