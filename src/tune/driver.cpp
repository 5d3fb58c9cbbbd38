// The driver: a tuning run's loop. It evaluates the start and the reference mappers, then
// asks the optimizer for batches of candidates, evaluates each batch through eval's pool and
// cache (journaling every evaluation as it finishes), and hands the results back to the
// optimizer in proposal order. Resuming replays the optimizer over the journal.
#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "apps/apps.h"
#include "tune/detail.h"

namespace mage::tune {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

bool is_machine_path(const std::string& m) {
  return m.find('/') != std::string::npos || (m.size() >= 5 && m.substr(m.size() - 5) == ".toml");
}

std::optional<double> ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

std::string start_origin(const Settings& s) {
  if (s.start == "default") return "start: the default mapper";
  if (s.start == "expert") return fmt::format("start: the expert mapper (mappers/expert/{}.map)", s.program.app);
  return "start: " + s.start;
}

// The first candidate: the start mapper's text, and its point when it reads back.
Candidate start_candidate(const Settings& s, const Space& space) {
  Candidate c;
  c.origin = start_origin(s);
  if (s.start == "default") {
    c.point = space.default_point();
    c.text = space.render(*c.point);
    return c;
  }
  c.text = s.start == "expert" ? std::string(*eval::expert_mapper_text(s.program.app)) : s.start_text;
  std::string error;
  if (auto back = space.read(c.text, &error)) {
    c.point = back->point;
    if (!back->inexact.empty()) c.notes["inexact"] = back->inexact;
  } else {
    c.notes["unreadable"] = error;  // an offline optimizer starts from the default point then
  }
  return c;
}

// The space a run searches: where the start mapper places a top-level launch as no family
// of the space does, its own placement is one more choice (Space::with_tables), so that
// moves from it keep that placement. Built the same way when a run resumes.
Space with_start_tables(const Settings& s, Space space) {
  if (s.start == "default") return space;
  const std::string text = s.start == "expert" ? std::string(*eval::expert_mapper_text(s.program.app)) : s.start_text;
  if (auto back = space.read(text)) return space.with_tables(*back);
  return space;
}

OptimizerContext context_for(const Settings& s, const Space& space) {
  OptimizerContext context;
  context.space = &space;
  context.seed = s.seed;
  context.budget = s.budget;
  context.program_description = apps::describe(space.program());
  context.machine_description = machine::describe(space.machine());
  context.options = s.options;
  return context;
}

eval::Request request_for(const Settings& s, const std::string& text) {
  eval::Request r = s.program;
  r.mapper = eval::mapper_text(text, "candidate.map");
  return r;
}

nlohmann::ordered_json evaluation_record(const Space& space, const Trial& t) {
  nlohmann::ordered_json j;
  j["type"] = "evaluation";
  j["number"] = t.number;
  j["origin"] = t.candidate.origin;
  j["parent"] = t.candidate.parent;
  j["point"] = t.candidate.point ? space.to_json(*t.candidate.point) : nlohmann::ordered_json();
  j["notes"] = t.candidate.notes;
  j["mapper"] = t.candidate.text;
  j["cached"] = t.result.cached;
  j["result"] = eval::result_to_json(t.result);
  j["feedback"] = t.feedback.to_json();
  return j;
}

// The feedback journaled with an evaluation: what the optimizer saw then, so that a replay
// proposes the same candidates even if the guide has changed since.
// `where` names the record for a message: "JOURNAL: evaluation N".
guide::Feedback feedback_of(const nlohmann::json& record, const std::string& where) {
  try {
    return guide::Feedback::from_json(record.at("feedback"));
  } catch (const nlohmann::json::exception& e) {
    throw TuneError(fmt::format("{}: the journaled feedback: {}", where, detail::json_problem(e)));
  }
}

eval::Result result_of(const nlohmann::json& record, const std::string& where) {
  try {
    eval::Result r = eval::result_from_json(record.at("result"));
    r.cached = record.value("cached", false);
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw TuneError(fmt::format("{}: the journaled result: {}", where, detail::json_problem(e)));
  }
}

// One session of a run (new or resumed).
class Driver {
 public:
  Driver(Settings settings, fs::path dir, Space space, detail::Journal journal, detail::Journal::Contents* replay,
         const Execution& x)
      : x_(x), space_(std::move(space)), journal_(std::move(journal)), replay_(replay), explainer_(settings.program) {
    summary_.settings = std::move(settings);
    summary_.dir = std::move(dir);
    OptimizerContext context = context_for(summary_.settings, space_);
    if (replay_) context.journaled = replay_->evaluations;
    optimizer_ = make_optimizer(summary_.settings.optimizer, context);
  }

  Summary run() {
    const auto begin = Clock::now();
    begin_ = begin;
    const Settings& s = summary_.settings;
    int next = 1;
    while (next <= s.budget) {
      if (x_.stop && x_.stop()) {
        summary_.interrupted = true;
        break;
      }
      std::vector<Candidate> batch;
      if (next == 1) {
        batch.push_back(start_candidate(s, space_));
      } else {
        try {
          batch = optimizer_->propose(s.budget - next + 1);
        } catch (const TuneError& e) {
          summary_.stopped = e.what();  // what is journaled stays; the outputs are written below
          break;
        }
        if (batch.empty()) {
          summary_.exhausted = true;
          break;
        }
        if (static_cast<int>(batch.size()) > s.budget - next + 1)
          batch.resize(static_cast<size_t>(s.budget - next + 1));
      }
      if (!evaluate(batch, next, next == 1)) {
        summary_.interrupted = true;
        break;
      }
      std::sort(summary_.trials.begin(), summary_.trials.end(),
                [](const Trial& a, const Trial& b) { return a.number < b.number; });
      for (size_t i = 0; i < batch.size(); ++i) optimizer_->observe(summary_.trials[static_cast<size_t>(next - 1) + i]);
      next += static_cast<int>(batch.size());
    }
    std::sort(summary_.trials.begin(), summary_.trials.end(),
              [](const Trial& a, const Trial& b) { return a.number < b.number; });
    summary_.best = best_index();
    summary_.wall_s = std::chrono::duration<double>(Clock::now() - begin).count();
    summary_.caveat = detail::caveat(summary_, space_.program());
    if (!summary_.caveat.empty() && !summary_.interrupted) {
      recheck_placed_every_iteration();
      summary_.caveat = detail::caveat(summary_, space_.program());
    }
    write_outputs(summary_, space_);
    return std::move(summary_);
  }

 private:
  struct Job {
    size_t batch_index = 0;  // a candidate of the batch, or
    std::string reference;   // a reference mapper
  };

  // Evaluates a batch numbered from `first` (and, with the first batch, the reference
  // mappers), taking what the journal already holds; false when stopped.
  bool evaluate(const std::vector<Candidate>& batch, int first, bool with_references) {
    std::vector<eval::Request> requests;
    std::vector<Job> jobs;
    for (size_t i = 0; i < batch.size(); ++i) {
      const int number = first + static_cast<int>(i);
      if (replay_) {
        auto it = replay_->evaluations.find(number);
        if (it != replay_->evaluations.end()) {
          const auto mapper = it->second.find("mapper");
          if (mapper == it->second.end() || !mapper->is_string() || mapper->get<std::string>() != batch[i].text)
            throw TuneError(fmt::format(
                "{}: evaluation {} of the journal is not the mapper optimizer {} proposes now (was the run started "
                "by another version of mage?); start a new run instead",
                detail::journal_path(summary_.dir).string(), number, summary_.settings.optimizer));
          const std::string where =
              fmt::format("{}: evaluation {}", detail::journal_path(summary_.dir).string(), number);
          record(Trial{number, batch[i], result_of(it->second, where), feedback_of(it->second, where)}, true);
          continue;
        }
      }
      requests.push_back(request_for(summary_.settings, batch[i].text));
      jobs.push_back({i, ""});
    }
    if (with_references) {
      for (const char* name : {"expert", "default"}) {
        if (replay_) {
          auto it = replay_->references.find(name);
          if (it != replay_->references.end()) {
            const std::string where =
                fmt::format("{}: the {} mapper's record", detail::journal_path(summary_.dir).string(), name);
            record_reference(Reference{name, result_of(it->second, where), feedback_of(it->second, where)}, true);
            continue;
          }
        }
        eval::Request r = summary_.settings.program;
        r.mapper = std::string_view(name) == "expert" ? eval::expert_mapper() : eval::default_mapper();
        requests.push_back(std::move(r));
        jobs.push_back({0, name});
      }
    }
    if (requests.empty()) return true;
    return eval::evaluate_each(
        requests,
        [&](size_t k, eval::Result r) {
          const Job& job = jobs[k];
          if (!job.reference.empty()) {
            guide::Feedback f = explainer_.explain(requests[k].mapper, r);
            record_reference(Reference{job.reference, std::move(r), std::move(f)}, false);
            return;
          }
          guide::Feedback f = explainer_.explain(requests[k].mapper, r);
          record(Trial{first + static_cast<int>(job.batch_index), batch[job.batch_index], std::move(r), std::move(f)},
                 false);
        },
        x_.workers, x_.limits, &cache_, x_.stop);
  }

  void record(Trial t, bool from_journal) {
    if (!from_journal) {
      journal_.append(evaluation_record(space_, t));
      ++summary_.evaluated_now;
    }
    summary_.trials.push_back(std::move(t));
    const Trial& done = summary_.trials.back();
    if (done.ok() && (!best_s_ || done.score() < *best_s_)) best_s_ = done.score();
    report(&done, nullptr, from_journal);
  }

  void record_reference(Reference ref, bool from_journal) {
    if (!from_journal)
      journal_.append({{"type", "reference"},
                       {"name", ref.name},
                       {"cached", ref.result.cached},
                       {"result", eval::result_to_json(ref.result)},
                       {"feedback", ref.feedback.to_json()}});
    summary_.references.push_back(std::move(ref));
    report(nullptr, &summary_.references.back(), from_journal);
  }

  void report(const Trial* trial, const Reference* reference, bool from_journal) {
    if (!x_.progress) return;
    Progress p;
    p.trial = trial;
    p.reference = reference;
    p.from_journal = from_journal;
    p.done = static_cast<int>(summary_.trials.size());
    p.budget = summary_.settings.budget;
    p.failed = summary_.failed();
    p.best_s = best_s_;
    p.expert_s = summary_.time_of("expert");
    p.default_s = summary_.time_of("default");
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - begin_).count();
    x_.progress(p);
  }

  // The best mapper and the experts' with the tiles placed before every iteration: what is
  // left of a gain that keeping the warm-up's copies gave (not journaled: two evaluations,
  // made again on resume, with the same numbers).
  void recheck_placed_every_iteration() {
    std::vector<eval::Request> requests{request_for(summary_.settings, summary_.trials[*summary_.best].candidate.text),
                                        summary_.settings.program};
    requests[1].mapper = eval::expert_mapper();
    for (eval::Request& r : requests) r.place_every_iteration = true;
    std::vector<std::optional<double>> times(requests.size());
    try {
      eval::evaluate_each(
          requests,
          [&](size_t k, eval::Result r) {
            if (r.outcome.ok()) times[k] = r.outcome.time_s;
          },
          x_.workers, x_.limits, &cache_, x_.stop);
    } catch (const std::runtime_error&) {
      // A request the run's limits refuse (the placement launches add point tasks): the note
      // goes without the second measurement, and the run's outputs are written all the same.
      return;
    }
    if (times[0] && times[1]) summary_.placed_every_iteration = Summary::Replaced{*times[0], *times[1]};
  }

  std::optional<size_t> best_index() const {
    std::optional<size_t> best;
    for (size_t i = 0; i < summary_.trials.size(); ++i)
      if (summary_.trials[i].ok() && (!best || summary_.trials[i].score() < summary_.trials[*best].score())) best = i;
    return best;
  }

  const Execution& x_;
  Space space_;
  detail::Journal journal_;
  detail::Journal::Contents* replay_;
  std::unique_ptr<Optimizer> optimizer_;
  guide::Explainer explainer_;
  eval::Cache cache_;
  Summary summary_;
  std::optional<double> best_s_;
  Clock::time_point begin_;
};

void check(const Settings& s) {
  if (s.budget < 1) throw TuneError(fmt::format("the budget must be at least 1 evaluation (got {})", s.budget));
  if (s.start != "default" && s.start != "expert" && s.start_text.empty())
    throw TuneError(fmt::format("the start mapper {} is empty", s.start));
}

}  // namespace

// ---- Settings --------------------------------------------------------------------------

nlohmann::ordered_json Settings::to_json() const {
  nlohmann::ordered_json j;
  j["app"] = program.app;
  detail::add_program_json(j, program);
  j["optimizer"] = optimizer;
  j["budget"] = budget;
  j["seed"] = seed;
  j["start"] = start;
  if (start != "default" && start != "expert") j["start_text"] = start_text;
  j["options"] = options;
  return j;
}

Settings Settings::from_json(const nlohmann::json& j) {
  try {
    Settings s;
    s.program.app = j.at("app").get<std::string>();
    s.program.machine = j.at("machine").get<std::string>();
    if (!j.at("nodes").is_null()) s.program.overrides.nodes = j.at("nodes").get<int>();
    if (!j.at("ranks_per_node").is_null()) s.program.overrides.ranks_per_node = j.at("ranks_per_node").get<int>();
    const auto scale = apps::parse_scale(j.at("scale").get<std::string>());
    if (!scale) throw TuneError("unknown scale " + j.at("scale").dump());
    s.program.scale = *scale;
    if (!j.at("iterations").is_null()) s.program.iterations = j.at("iterations").get<int>();
    // Journals written before the option existed: placed once.
    s.program.place_every_iteration = j.value("place_every_iteration", false);
    s.optimizer = j.at("optimizer").get<std::string>();
    s.budget = j.at("budget").get<int>();
    s.seed = j.at("seed").get<uint64_t>();
    s.start = j.at("start").get<std::string>();
    if (s.start != "default" && s.start != "expert") s.start_text = j.at("start_text").get<std::string>();
    s.options = j.at("options").get<std::map<std::string, std::string>>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw TuneError(fmt::format("the run's settings: {}", detail::json_problem(e)));
  }
}

// ---- Summary ---------------------------------------------------------------------------

int Summary::failed() const {
  return static_cast<int>(std::count_if(trials.begin(), trials.end(), [](const Trial& t) { return !t.ok(); }));
}

const Reference* Summary::reference(std::string_view name) const {
  for (const Reference& r : references)
    if (r.name == name) return &r;
  return nullptr;
}

std::optional<double> Summary::time_of(std::string_view name) const {
  const Reference* r = reference(name);
  if (!r || !r->result.outcome.ok()) return std::nullopt;
  return r->result.outcome.time_s;
}

std::vector<double> Summary::best_so_far() const {
  std::vector<double> out;
  double best = std::numeric_limits<double>::infinity();
  for (const Trial& t : trials) {
    best = std::min(best, t.score());
    out.push_back(best);
  }
  return out;
}

nlohmann::ordered_json Summary::to_json() const {
  const std::optional<double> best_s = best ? std::optional<double>(trials[*best].score()) : std::nullopt;
  const std::optional<double> start_s =
      !trials.empty() && trials.front().ok() ? std::optional<double>(trials.front().score()) : std::nullopt;
  auto status_of = [&](std::string_view name) -> nlohmann::ordered_json {
    const Reference* r = reference(name);
    return r ? nlohmann::ordered_json(sim::to_string(r->result.outcome.status)) : nlohmann::ordered_json();
  };
  nlohmann::ordered_json j;
  j["app"] = settings.program.app;
  j["machine"] = settings.program.machine;
  j["nodes"] = detail::optional_json(settings.program.overrides.nodes);
  j["scale"] = apps::to_string(settings.program.scale);
  j["optimizer"] = settings.optimizer;
  j["seed"] = settings.seed;
  j["budget"] = settings.budget;
  j["start"] = settings.start;
  j["evaluations"] = trials.size();
  j["failed_evaluations"] = failed();
  j["cached_evaluations"] = std::count_if(trials.begin(), trials.end(), [](const Trial& t) { return t.result.cached; });
  j["best_time_s"] = detail::optional_json(best_s);
  j["evaluations_to_best"] = best ? nlohmann::ordered_json(trials[*best].number) : nlohmann::ordered_json();
  j["best_origin"] = best ? nlohmann::ordered_json(trials[*best].candidate.origin) : nlohmann::ordered_json();
  j["expert_time_s"] = detail::optional_json(time_of("expert"));
  j["default_time_s"] = detail::optional_json(time_of("default"));
  j["start_time_s"] = detail::optional_json(start_s);
  j["speedup_vs_expert"] = detail::optional_json(ratio(time_of("expert"), best_s));
  j["speedup_vs_default"] = detail::optional_json(ratio(time_of("default"), best_s));
  j["speedup_vs_start"] = detail::optional_json(ratio(start_s, best_s));
  j["expert_status"] = status_of("expert");
  j["default_status"] = status_of("default");
  j["caveat"] = caveat.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(caveat);
  j["placed_every_iteration"] = placed_every_iteration
                                    ? nlohmann::ordered_json{{"best_time_s", placed_every_iteration->best_s},
                                                             {"expert_time_s", placed_every_iteration->expert_s},
                                                             {"speedup_vs_expert", placed_every_iteration->expert_s /
                                                                                       placed_every_iteration->best_s}}
                                    : nlohmann::ordered_json();
  j["interrupted"] = interrupted;
  j["exhausted"] = exhausted;
  j["stopped"] = stopped.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(stopped);
  j["wall_s"] = wall_s;
  j["evaluated_now"] = evaluated_now;
  return j;
}

// ---- Runs ------------------------------------------------------------------------------

Summary run(const Settings& given, const fs::path& dir, const Execution& x) {
  Settings settings = given;
  check(settings);
  // A machine file is named by its absolute path, so --resume works from any directory.
  if (is_machine_path(settings.program.machine))
    settings.program.machine = fs::absolute(settings.program.machine).lexically_normal().string();
  eval::check_limits(settings.program, x.limits);  // before the Space builds the program here
  // A request that cannot run fails before the directory is made.
  Space space = with_start_tables(settings, Space::build(settings.program, x.limits));
  make_optimizer(settings.optimizer, context_for(settings, space));  // and so does an optimizer that cannot be made
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw TuneError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  detail::Journal journal = detail::Journal::create(dir, settings);
  if (x.started) x.started();
  return Driver(settings, dir, std::move(space), std::move(journal), nullptr, x).run();
}

Summary resume(const fs::path& dir, const Execution& x, std::optional<int> budget) {
  detail::Journal::Contents contents = detail::Journal::read(dir);
  detail::Journal journal = detail::Journal::open(dir);
  if (budget && *budget != contents.settings.budget) {
    contents.settings.budget = *budget;
    check(contents.settings);
    journal.append({{"type", "budget"}, {"budget", *budget}});
  }
  Settings settings = contents.settings;
  eval::check_limits(settings.program, x.limits);
  Space space = with_start_tables(settings, Space::build(settings.program, x.limits));
  if (x.started) x.started();
  return Driver(settings, dir, std::move(space), std::move(journal), &contents, x).run();
}

}  // namespace mage::tune
