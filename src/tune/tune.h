// Tuning mappers (module `tune`), split the way OpenTuner is:
//
// - the search space (Space): the decisions a mapper makes for one program on one machine,
//   each with its choices, derived from the program and the machine; a point of the space
//   (one choice per decision) renders to mapper text, and a mapper reads back to a point.
//   The space knows nothing of optimizers or evaluation.
// - optimizers (Optimizer, one file each, registered by name): they see the space, the
//   scores and the feedback of the candidates they proposed, never the evaluator. Every
//   optimizer speaks mapper text: a Candidate is text plus, when it has one, the point of
//   the space it renders (a language model proposes text that is no point).
// - the driver (run, resume): evaluates candidates through eval's pool and cache, appends
//   every evaluation to DIR/journal.jsonl as it finishes, resumes a killed run, and writes
//   DIR/best.map, summary.json, report.md and convergence.svg.
//
// Deterministic: the same settings and seed give the same candidates, whatever the number
// of workers and the order in which evaluations finish.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/eval.h"
#include "guide/guide.h"
#include "sim/sim.h"

namespace mage::tune {

// A request that cannot be tuned as asked (bad settings, a directory that holds another
// run, a journal that does not parse, an unknown optimizer); what() says where and why.
class TuneError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- Random numbers --------------------------------------------------------------------

// A small deterministic generator (SplitMix64): the same seed gives the same numbers on
// every platform, unlike the standard distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n), n >= 1.
  uint64_t below(uint64_t n);
  // Uniform in [0, 1).
  double unit();

 private:
  uint64_t state_;
};

// ---- The search space ------------------------------------------------------------------

// The kinds of decision, spelled as feedback hints spell their actions.
enum class DecisionKind { Processor, Memory, Layout, Placement, InstanceLimit, CollectMemory };
std::string_view to_string(DecisionKind k);  // "processor", "memory", "layout", "placement", ...

struct Choice {
  std::string label;  // "GPU", "FBMEM", "SOA C_order", "block 2x2 order 1,0", "none", "on"
  // Placement only: the other families that place every point task the same way, merged
  // into this choice (e.g. "linear" for a 1-D launch that "block" already covers), and
  // "places DIGEST" (mapping::placement_digest of the processors of the task's points), by
  // which the guide names a placement it proposes.
  std::vector<std::string> aliases;
};

// One decision of a mapper. Memory and placement decisions belong to one processor kind of
// their task: they are active only while the task's processor decision has that kind.
struct Decision {
  DecisionKind kind = DecisionKind::Processor;
  std::string name;  // unique: "memory calculate_new_currents rp_ghost GPU"
  std::string task;
  // Memory, Layout: the argument as Region and Layout rules name it (its partition or
  // region name, or its index), and every name it answers to in rules.
  std::string argument;
  std::vector<std::string> argument_names;
  std::string proc_kind;  // Memory, Placement: the processor kind they apply to
  std::vector<Choice> choices;
  int condition = -1;         // active only when decisions[condition] ...
  int condition_choice = -1;  // ... has this choice
};

// A choice index for every decision (inactive decisions keep a value too: it becomes the
// choice when they become active).
using Point = std::vector<int>;

// A decision whose choice differs between two points (both active, or active in one).
struct Difference {
  size_t decision = 0;
  std::optional<int> from;  // nullopt: inactive there
  std::optional<int> to;
};

// A point read back from a mapper, and the decisions where no choice matches what the
// mapper does exactly ("placement of init_piece on CPU: no family places all 4 points as
// the mapper does; block places 1 of them the same").
struct ReadBack {
  Point point;
  std::vector<std::string> inexact;
  // Placements of top-level index launches that no choice reproduces, as the mapper makes
  // them: decision -> the processor of each point (Space::with_tables adds them as choices).
  std::map<size_t, std::vector<int64_t>> tables;
};

// The space of one program on one machine. Decisions that cannot change an outcome are left
// out: inner tasks' arguments (they get no instance; DSL.md), except reduction-only ones;
// arguments a task never accesses; the dimension order of 1-D data; placement families that
// place every point task as another one does (merged, see Choice::aliases); InstanceLimit of
// tasks with one point task; CollectMemory of tasks without read-only arguments.
// Cheap to copy (the program and machine are shared).
class Space {
 public:
  // The program and machine of `program` (app, machine, overrides, scale, iterations, as
  // eval resolves them; the mapper is ignored). Throws eval::RequestError for a request
  // that cannot be evaluated. The program is built in this process within limits.memory_bytes
  // of address space (eval::AddressSpaceLimit), as an evaluation's child would be: past it,
  // throws eval::LimitError naming the limit and the flag that raises it.
  static Space build(const eval::Request& program, const eval::Limits& limits = {});

  const std::vector<Decision>& decisions() const;
  const std::string& app() const;
  const machine::Machine& machine() const;
  const program::Program& program() const;
  const program::TaskGraph& graph() const;  // the program's, analyzed once when the space is built
  bool active(const Point& point, size_t decision) const;
  // The number of distinct mappers (active decisions only); may exceed 2^64.
  double size() const;

  // The point the built-in default mapper is (Legion's default policies).
  Point default_point() const;
  // Mapper text for a point: every active decision as a rule, in canonical form (the
  // language's printer). Throws std::logic_error for a point of another space.
  std::string render(const Point& point) const;
  // Reads a point back from a mapper: compile it, bind it to the machine, apply it to the
  // program, and take each decision from the Plan. nullopt (and `error` set) when the
  // mapper does not compile or cannot be applied.
  std::optional<ReadBack> read(const std::string& text, std::string* error = nullptr) const;
  // This space with one more choice for each placement in `back.tables` ("table DIGEST":
  // the mapper's own placement), so that a search from a hand-written mapper keeps a
  // placement no family reproduces while it changes other decisions. Reading the same mapper
  // in the result gives a point whose placements are exact.
  Space with_tables(const ReadBack& back) const;
  // A point drawn uniformly from the distinct mappers of the space.
  Point sample(Rng& rng) const;
  // Active decisions whose choices differ, in decision order.
  std::vector<Difference> diff(const Point& from, const Point& to) const;
  // "memory calculate_new_currents rp_ghost GPU: ZCMEM -> FBMEM".
  std::string describe(const Difference& d) const;

  // The active decisions of a kind that a change names, by task (a name, or "*" for every
  // task) and argument (a name the argument answers to in rules; "" or "*": every one).
  std::vector<size_t> select(const Point& point, DecisionKind kind, std::string_view task,
                             std::string_view argument = "") const;
  // The choice of a decision that `value` names, as feedback names values: a label or an
  // alias; for a placement also a family ("block" names the first block choice, and the
  // current one when it is of that family already); for a layout also some of its words
  // ("C_order" keeps SOA or AOS as `current` has it). nullopt when it names none.
  std::optional<int> choice_named(size_t decision, std::string_view value, int current) const;

  // {decision name: choice label} for active decisions, and back (throws TuneError naming
  // an unknown decision or choice; decisions left out take the default point's choice).
  nlohmann::ordered_json to_json(const Point& point) const;
  Point from_json(const nlohmann::json& j) const;

  // What `mage tune --space` prints: the decisions by task, their choices, and the size.
  std::string summary() const;

  struct Impl;

 private:
  static Space build_unbounded(const eval::Request& program);
  std::shared_ptr<const Impl> impl_;
};

// ---- Optimizers ------------------------------------------------------------------------

// What an optimizer proposes: mapper text, and the point of the space it renders when it
// is one (a language model's text is not).
struct Candidate {
  std::string text;
  std::optional<Point> point;
  std::string origin;  // one line: how it was made ("random", "hint: ...", "start: the expert mapper")
  int parent = 0;      // the evaluation it was derived from (0: none)
  // Anything else the optimizer wants journaled with it (e.g. a language model's exchange).
  nlohmann::ordered_json notes;
};

// A finished evaluation, as optimizers and the outputs see it.
struct Trial {
  int number = 0;  // 1-based, in the order the candidates were proposed (1: the start)
  Candidate candidate;
  eval::Result result;       // status, message, simulated time, profile, diagnostics
  guide::Feedback feedback;  // what limits it or what went wrong, and hints to change it

  bool ok() const { return result.outcome.ok(); }
  // The simulated time when ok, +infinity otherwise (a failed mapper is infinitely slow).
  double score() const;
};

// What an optimizer is made with. The space outlives the optimizer.
struct OptimizerContext {
  const Space* space = nullptr;
  uint64_t seed = 1;
  int budget = 10;
  std::string program_description;             // apps::describe of the program, for optimizers that read
  std::string machine_description;             // machine::describe
  std::map<std::string, std::string> options;  // optimizer-specific settings (--option KEY=VALUE)
  // On resume: the journal's record of each evaluation already made, by number. An
  // optimizer that cannot recompute its proposals (a language model) replays them from here.
  std::map<int, nlohmann::json> journaled;
};

// An optimizer proposes candidates and learns from their evaluations; it never evaluates.
// The driver evaluates each batch it proposes (in parallel), then calls observe() for every
// candidate of the batch in proposal order, so that a given seed gives the same run whatever
// the number of workers. The start candidate (evaluation 1) is the driver's, observed first.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Up to `limit` (>= 1) candidates to evaluate next. Empty: nothing more to propose (the
  // run ends early). Throws TuneError when it cannot go on (e.g. an unreachable model): the
  // run stops there with that message (Summary::stopped), its journal and outputs kept.
  virtual std::vector<Candidate> propose(int limit) = 0;
  virtual void observe(const Trial& trial) = 0;
};

struct OptimizerInfo {
  std::string name;     // --optimizer NAME
  std::string summary;  // one line
  std::function<std::unique_ptr<Optimizer>(const OptimizerContext&)> make;
};

// Adds an optimizer to the registry; each optimizer's file registers itself at start-up:
//   const bool registered = register_optimizer({"random", "...", make});
bool register_optimizer(OptimizerInfo info);
// The registered optimizers, by name.
std::vector<OptimizerInfo> optimizers();
// Throws TuneError for an unknown name (listing the known ones) or a bad option.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, const OptimizerContext& context);

// ---- Tuning runs -----------------------------------------------------------------------

// What a run is: kept in its journal, so that --resume needs nothing else.
struct Settings {
  eval::Request program;  // app, machine, overrides, scale, iterations (the mapper is ignored)
  std::string optimizer = "guided";
  int budget = 10;  // evaluations, the start's included
  uint64_t seed = 1;
  // Where the search starts: "default", "expert", or a mapper file (its text in start_text).
  std::string start = "default";
  std::string start_text;
  std::map<std::string, std::string> options;

  nlohmann::ordered_json to_json() const;
  static Settings from_json(const nlohmann::json& j);  // throws TuneError
};

// A reference mapper's evaluation (the expert's and the default's, for comparison).
struct Reference {
  std::string name;  // "expert", "default"
  eval::Result result;
  guide::Feedback feedback;
};

// How a run went; DIR/summary.json holds the same.
struct Summary {
  Settings settings;
  std::filesystem::path dir;
  std::vector<Trial> trials;  // by number
  std::vector<Reference> references;
  std::optional<size_t> best;  // index into trials of the fastest ok one (the first on ties)
  bool interrupted = false;    // stopped (Ctrl-C) before the budget was spent
  bool exhausted = false;      // the optimizer had nothing more to propose
  std::string stopped;         // why the optimizer ended the run early (e.g. an unreachable model)
  double wall_s = 0;           // this session's
  int evaluated_now = 0;       // evaluations this session ran (the rest came from the journal)
  // What the model lets the best mapper gain that the published program would not ("": none).
  std::string caveat;
  // With a caveat: the best mapper and the experts' run again with the tiles placed before
  // every iteration, as the published drivers do (eval::Request::place_every_iteration), when
  // both ran; the caveat then says what is left of the gain.
  struct Replaced {
    double best_s = 0;
    double expert_s = 0;
  };
  std::optional<Replaced> placed_every_iteration;

  int failed() const;
  const Reference* reference(std::string_view name) const;
  std::optional<double> time_of(std::string_view reference) const;  // when that reference is ok
  // The best time after each evaluation (+infinity until one is ok).
  std::vector<double> best_so_far() const;
  nlohmann::ordered_json to_json() const;
};

// Reported as each evaluation finishes (and for those taken from the journal on resume).
struct Progress {
  const Trial* trial = nullptr;          // the evaluation that finished, or
  const Reference* reference = nullptr;  // the reference mapper that finished
  bool from_journal = false;
  int done = 0;  // evaluations so far (the start's included)
  int budget = 0;
  int failed = 0;
  std::optional<double> best_s;  // the best time so far
  std::optional<double> expert_s;
  std::optional<double> default_s;
  double elapsed_s = 0;
};

struct Execution {
  int workers = 0;  // children at once; 0: one per core
  eval::Limits limits;
  std::function<void(const Progress&)> progress;
  std::function<bool()> stop;  // asked often; true ends the run cleanly (resumable)
  // Once the settings are known to run and the directory holds the run, before the first
  // evaluation: a caller announces the run here, so that bad settings print only the error.
  std::function<void()> started;
};

// Runs a tuning in `dir` (created if needed; it must not hold a journal already): evaluates
// the start, the expert and default mappers, then what the optimizer proposes, appending
// each evaluation to DIR/journal.jsonl as it finishes; at the end (or when stopped) writes
// DIR/best.map, summary.json, report.md and convergence.svg. An optimizer that throws
// TuneError ends the run the same way (Summary::stopped says why). Throws TuneError or
// eval::RequestError for settings that cannot run.
Summary run(const Settings& settings, const std::filesystem::path& dir, const Execution& execution);

// Continues the run in `dir` from its journal: the optimizer is replayed over the journaled
// evaluations (the same candidates, the same outcomes) and the evaluations in flight when
// it stopped are run again. `budget` extends (or shortens) the run.
Summary resume(const std::filesystem::path& dir, const Execution& execution, std::optional<int> budget = {});

// Writes DIR/best.map, summary.json, report.md and convergence.svg for a run.
void write_outputs(const Summary& summary, const Space& space);

// ---- The machine's limit ---------------------------------------------------------------

// A lower bound on the simulated time of the space's program on its machine, whatever the
// mapper. Each point task of the timed window takes at least its launch overhead plus the
// larger of its compute time and the time to move its bytes at the best bandwidth its
// processor has to any memory (docs/simulation.md's task time without copies, contention or
// stalls), on the kind of processor where that is least.
struct LowerBound {
  // The tasks' work over the aggregate rate of the processors that can run them: the
  // largest of several weighings of processors against each other and of the best
  // assignment of whole task kinds to processor kinds (docs/experiment.md).
  double work_s = 0;
  // The critical path of the task graph, every task at its fastest processor, no data movement.
  double path_s = 0;
  double time_s() const { return std::max(work_s, path_s); }
};
LowerBound lower_bound(const Space& space);

// The least time of a mapper that puts each task kind on the processor kind a point of the
// space gives it (the figures lower_bound takes over every assignment: loads, data crossing,
// critical path, head-work-tail), nullopt when a task kind cannot run there. No mapper with
// that assignment is faster, so a move whose figure is not below the best time cannot help.
class AssignmentBound {
 public:
  explicit AssignmentBound(const Space& space);
  ~AssignmentBound();
  AssignmentBound(const AssignmentBound&) = delete;
  AssignmentBound& operator=(const AssignmentBound&) = delete;
  std::optional<double> of(const Point& point) const;

 private:
  struct Impl;
  const Space& space_;
  std::unique_ptr<Impl> impl_;
};

// ---- Experiments -----------------------------------------------------------------------

// Every optimizer on every program, several seeds each: the published comparison. Each
// (program, optimizer, seed) is a tuning run in DIR/runs/APP/OPTIMIZER-sSEED (so an
// experiment resumes as its runs do); DIR/report.md compares them (docs/experiment.md).
struct ExperimentSettings {
  eval::Request program;  // the machine, overrides, scale and iterations (app and mapper ignored)
  std::vector<std::string> apps;
  std::vector<std::string> optimizers;
  int seeds = 5;  // seeds 1..seeds
  int budget = 10;
  std::map<std::string, int> budget_for;  // an optimizer's own budget
  std::string start = "default";          // "default" or "expert"
  // The llm optimizer's settings (llm-url, llm-model, ...), given to its runs only.
  std::map<std::string, std::string> llm_options;

  int budget_of(const std::string& optimizer) const;
  nlohmann::ordered_json to_json() const;
};

// One (program, optimizer, seed) run as the experiment sees it (read back from its directory).
struct ExperimentRun {
  std::string app;
  std::string optimizer;
  uint64_t seed = 1;
  std::filesystem::path dir;
  int budget = 0;
  std::vector<double> best_so_far;  // after each evaluation; +infinity until one worked
  std::optional<double> best_s, expert_s, default_s;
  int failed = 0;         // evaluations that failed
  int evaluated_now = 0;  // evaluations the run's last session ran
  double wall_s = 0;      // the run's last session
  bool done = false;      // finished: the budget spent, or the optimizer had nothing more
  bool earlier = false;   // finished in an earlier session of the experiment (not run now)
  std::string problem;    // why it did not finish: stopped by its optimizer, interrupted, an error
  std::string caveat;     // Summary::caveat of its last session
  // With a caveat: the best's speed-up over the experts' with the tiles placed before every
  // iteration (Summary::placed_every_iteration), when measured.
  std::optional<double> placed_every_iteration_speedup;
};

struct ExperimentProgress {
  const ExperimentRun* run = nullptr;  // the run that just ended (or was found finished)
  int finished = 0;                    // runs ended so far, this session's and earlier ones
  int total = 0;
  int running = 0;
  double elapsed_s = 0;
};

struct ExperimentExecution {
  int jobs = 0;  // runs at once, each in its own process evaluating one mapper at a time; 0: one per core
  eval::Limits limits;
  std::function<void(const ExperimentProgress&)> progress;
  std::function<bool()> stop;  // asked often; true stops every run cleanly (resumable)
  // Once every program and optimizer is known to run and the directory is prepared, before
  // the first run (as Execution::started).
  std::function<void()> started;
};

struct Experiment {
  ExperimentSettings settings;
  std::filesystem::path dir;
  std::vector<std::string> optimizers;                       // those that ran
  std::vector<std::pair<std::string, std::string>> skipped;  // optimizer, why (llm without a model)
  std::vector<ExperimentRun> runs;                           // by app, optimizer, seed
  std::map<std::string, LowerBound> bounds;                  // by app
  bool interrupted = false;
  double wall_s = 0;  // this session
};

// Which of `optimizers` cannot run here, and why: llm without a configured model (its
// options or MAGE_LLM_BASE_URL and MAGE_LLM_MODEL).
std::vector<std::pair<std::string, std::string>> unavailable_optimizers(
    const std::vector<std::string>& optimizers, const std::map<std::string, std::string>& llm_options);

// Runs (or, with `resume`, continues) an experiment in `dir`, then writes DIR/report.md,
// DIR/results.json and DIR/convergence-APP.svg. A directory that holds an experiment is
// only continued (resume); resuming checks that the machine and scale are the same, runs
// what is missing, continues what was interrupted and leaves finished runs alone (a larger
// budget extends them). Throws TuneError (settings that cannot run, naming the problem) or
// eval::RequestError.
Experiment run_experiment(const ExperimentSettings& settings, const std::filesystem::path& dir, bool resume,
                          const ExperimentExecution& execution);

// DIR/report.md's text for an experiment (what run_experiment writes).
std::string experiment_report(const Experiment& experiment);

}  // namespace mage::tune
