// Internals of the tune module shared by its source files (not for other modules).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dsl/dsl.h"
#include "kinds/json_text.h"
#include "mapping/mapping.h"
#include "program/program.h"
#include "tune/tune.h"

namespace mage::tune::detail {

// ---- Placement families (placement.cpp) ------------------------------------------------

// How the points of a launch are spread over a machine space m of (ranks, processors per
// rank), N processors in all. A d-D launch point is linearised in a dimension order
// (slowest first); grid families first map it to a cell of a processor grid (a
// factorisation of N into d factors), then the cell's index to a processor.
enum class Family {
  Default,      // no rule: Legion's default placement
  Block,        // cells: point * grid / extents; cell k -> (k / P, k % P): blocks over nodes, then processors
  Cyclic,       // cells: point % grid; cell k -> (k % R, k / R): round-robin over nodes first
  Linear,       // the linearised point l of V: l * N / V -> (k / P, k % P)
  BlockCyclic,  // the linearised point: blocks over nodes (l * R / V), cyclic over a node's processors (l % P)
  AutoSplit,    // the two-level form: ranks split to the launch shape, each rank's processors to its block
  Skew,         // 2-D/3-D: coordinate 0 or 1 shifted by the other modulo its extent (Cannon's skew), then Linear
  Parent,       // a nested launch on its parent's processor
  Table,        // the start mapper's own placement, which no family reproduces: a processor per point
};

struct PlacementChoice {
  Family family = Family::Default;
  int dims = 1;               // of the launch
  std::vector<int> order;     // of 2-D/3-D launches: Block, Cyclic, Linear, BlockCyclic; AutoSplit (none: the experts')
  std::vector<int64_t> grid;  // Block, Cyclic of 2-D/3-D launches
  // Table: per point of the launch, by its row-major index, the processor's index in the
  // machine space (rank * processors per rank + index in the rank).
  std::vector<int64_t> table = {};
  // Skew: the coordinate shifted (0 or 1; the other one shifts it) and the direction (+1, -1).
  int skew_axis = 1;
  int skew_sign = 1;
  std::string label() const;       // "block 2x2 order 1,0", "table 3f09c1d2e4a7" (a digest of the table)
  std::string function() const;    // the name of the family's DSL function ("" for Default, Parent)
  std::string definition() const;  // def FUNCTION(Task task, MSpace m) { ... }
};

// Every family for a launch of `dims` dimensions over `processors` processors, Default
// first; with `nested`, also Parent.
std::vector<PlacementChoice> placement_families(int dims, int64_t processors, bool nested);

// The text that places a task by `choice`: machine-space globals, definitions (the family's
// function, then a wrapper taking only the task) and the wrapper's name. `kind` is the
// task's processor kind; a nested launch (`parent_kind` set) is placed on its parent's node.
struct PlacementCode {
  std::vector<std::string> globals;      // "mgpu = Machine(GPU);"
  std::vector<std::string> definitions;  // family function, wrapper
  std::string wrapper;
};
PlacementCode placement_code(const PlacementChoice& choice, const std::string& kind,
                             const std::optional<std::string>& parent_kind, bool node_local);
std::string space_global(const std::string& kind);  // "mgpu"

// ---- Optimizers' options (optimizer.cpp) -----------------------------------------------

// Throws TuneError naming the optimizer and its options when `options` holds a key not in
// `known`.
void check_option_keys(std::string_view optimizer, const std::map<std::string, std::string>& options,
                       const std::vector<std::string>& known);
// The value of option `key` (`fallback` when absent); TuneError unless it is a number in
// [low, high] (a whole one when `whole`).
double number_option(std::string_view optimizer, const std::map<std::string, std::string>& options,
                     const std::string& key, double fallback, double low, double high, bool whole);

// ---- The space's model -----------------------------------------------------------------

// An argument of a task kind as rules name it: one per distinct rule key over the task's
// launches (a task launched on rp_all_private_p and on rp_all_shared_p has two).
struct ArgGroup {
  std::string key;                 // partition or region name, or the argument index
  std::vector<std::string> names;  // every name it answers to
  int dims = 1;                    // of its region
  bool read_only = false;          // every use is read-only (CollectMemory applies)
};

struct TaskInfo {
  program::TaskKindId id;
  std::string name;
  bool leaf = true;
  std::vector<std::string> kinds;  // processor kinds it can run on here, in the default's order
  std::vector<program::LaunchId> launches;
  std::vector<ArgGroup> args;
  std::map<program::LaunchId, std::vector<int>> group_of_arg;  // per launch: arg index -> group (-1: none)
  bool index = false;                                          // launched as index launches (else single launches)
  bool nested = false;                                         // launched by another task
  int parent = -1;  // nested: the TaskInfo that launches it (-1 when several)
  int depth = 0;    // nesting depth of its launches
  int dims = 0;     // of its index launches (0 when single or mixed)
  int64_t point_tasks = 0;
  // Its decisions (-1: none).
  int processor = -1;
  std::map<std::string, int> placement;               // kind -> decision
  std::map<std::pair<int, std::string>, int> memory;  // (arg group, kind) -> decision
  std::vector<int> layout;                            // per arg group
  int instance_limit = -1;
  int collect = -1;
};

// What each decision's choices mean (by decision index).
struct ChoiceValues {
  std::vector<std::string> kinds;              // Processor: kind; Memory: memory kind
  std::vector<PlacementChoice> placements;     // Placement
  std::vector<kinds::Layout> layouts;          // Layout: SOA/AOS and the dimension order
  std::vector<std::optional<int64_t>> limits;  // InstanceLimit
};

// ---- The journal (journal.cpp) ---------------------------------------------------------

// DIR/journal.jsonl: one JSON object per line. The first is the run
// {"type": "run", "format": 1, "settings": {...}}; then, as each finishes, evaluations
// {"type": "evaluation", "number", "origin", "parent", "point", "notes", "mapper", "cached",
// "result", "feedback"} and references {"type": "reference", "name", "cached", "result"};
// {"type": "budget", "budget"} when a resumed run changed its budget.
class Journal {
 public:
  // What a journal holds: the settings (with the last budget) and, by number and by name,
  // the evaluations and references (their JSON records).
  struct Contents {
    Settings settings;
    std::map<int, nlohmann::json> evaluations;
    std::map<std::string, nlohmann::json> references;
    size_t torn_bytes = 0;  // an incomplete last line (a run killed while writing it), dropped
  };

  // Starts DIR/journal.jsonl (TuneError if there is one already or it cannot be written).
  static Journal create(const std::filesystem::path& dir, const Settings& settings);
  // Reads DIR/journal.jsonl, cutting an incomplete last line off the file; TuneError for a
  // missing or malformed journal (naming the line).
  static Contents read(const std::filesystem::path& dir);
  // Opens an existing journal to append to.
  static Journal open(const std::filesystem::path& dir);

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  ~Journal();

  // Appends one record as one line, written at once (a kill leaves it whole or torn, never
  // interleaved); TuneError when the write fails.
  void append(const nlohmann::ordered_json& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  Journal(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
};

std::filesystem::path journal_path(const std::filesystem::path& dir);

// ---- Outputs ---------------------------------------------------------------------------

// Draws best-so-far time against evaluations, with the expert's and the default's times as
// horizontal lines, into an SVG file (PLplot's svg device, in a child process: PLplot keeps
// global state and exits the process on a fatal error). False, with `error`, on failure.
bool plot_convergence(const std::filesystem::path& file, const std::string& title, const std::vector<double>& best,
                      std::optional<double> expert_s, std::optional<double> default_s, std::string& error);

// One line of an experiment's convergence plot: per evaluation, the mean over seeds and the
// band from the lowest to the highest.
struct Band {
  std::string name;
  std::vector<double> mean, low, high;
};
// Draws the bands against evaluations, with dashed horizontal references (label, value).
bool plot_bands(const std::filesystem::path& file, const std::string& title, const std::string& y_label,
                const std::vector<Band>& bands, const std::vector<std::pair<std::string, double>>& references,
                std::string& error);
// Runs `draw_to(temporary file)` in a child process (PLplot keeps global state and exits the
// process on a fatal error) and moves the file into place; false, with `error`, on failure.
bool plot_in_child(const std::filesystem::path& file, const std::function<void(const std::string&)>& draw_to,
                   std::string& error);

// ---- Files and JSON (outputs.cpp) ------------------------------------------------------

// Writes `text` to a temporary file beside `path`, then renames it into place, so that an
// interrupted run never leaves a half-written file; TuneError on failure.
void write_text(const std::filesystem::path& path, const std::string& text);

// What a JSON library exception says, without its "[json.exception.type_error.302] " tag: users read
// what is wrong with their file, never the library's internals.
inline std::string json_problem(const nlohmann::json::exception& e) { return kinds::without_json_tag(e.what()); }

// JSON of an optional value: null when it has none.
template <typename T>
nlohmann::ordered_json optional_json(const std::optional<T>& v) {
  nlohmann::ordered_json j;  // null
  if (v.has_value()) j = v.value();
  return j;
}

// The machine, overrides, scale and iterations of a program request, as tune's and
// experiment's settings record them.
void add_program_json(nlohmann::ordered_json& j, const eval::Request& program);
// A warning for the reader of a run whose best mapper is faster than the experts' by keeping,
// between iterations, copies that the published program makes again every iteration (its
// inputs placed once in the model); "" when that is not so (outputs.cpp).
std::string caveat(const Summary& s, const program::Program& program);

// ---- Experiments (experiment_report.cpp) -----------------------------------------------

// Writes DIR/report.md, DIR/results.json and DIR/convergence-APP.svg for an experiment.
void write_experiment_outputs(const Experiment& experiment);

}  // namespace mage::tune::detail

namespace mage::tune {

struct Space::Impl {
  std::string app;
  std::string machine_name;
  eval::Resolved resolved;
  program::Program program;
  program::TaskGraph graph;
  dsl::MachineShape shape;
  std::vector<detail::TaskInfo> tasks;
  std::vector<Decision> decisions;
  std::vector<detail::ChoiceValues> values;  // by decision
  std::vector<int> decision_task;            // TaskInfo index by decision
  std::vector<int> decision_arg;             // ArgGroup index by decision (Memory, Layout), else -1
  Point default_point;
  double size = 1;
  // Per processor kind, per task (index in `tasks`), per argument group: the memory kind of the
  // group's first use in the context of that kind, the Plan with every task that can run on it
  // there and every other decision the default (the default memories of decisions a mapper
  // leaves inactive). Only these are kept of the contexts, the largest Plans a space builds.
  std::map<std::string, std::vector<std::vector<std::string>>> context_memories;

  const machine::Machine& machine() const { return *resolved.machine; }
  // The placement of argument group g's first use by task t in `plan` (nullptr: none).
  const mapping::ArgPlacement* first_use_in(const detail::TaskInfo& t, int g, const mapping::Plan& plan) const;
  // The memory kind of a use ("VIRTUAL" when it has no instance, or for none).
  std::string memory_kind_of(const mapping::ArgPlacement* use) const;
  // The kind a point runs task `t` on.
  const std::string& kind_of(const Point& p, const detail::TaskInfo& t) const;
  // Mapper text: Task rules for the kinds of `p`, and rules for the decisions `include` accepts.
  std::string render(const Point& p, const std::function<bool(size_t)>& include) const;
  // Applies mapper text to the program; the error message when it does not compile or map.
  std::optional<mapping::Plan> plan(const std::string& text, std::string* error) const;
  // The processor of each of placed_points(t) placed by `choice` (on `kind`), parents placed
  // as in `context`; nullopt when the choice fails for some point. Default: as in `context`.
  std::optional<std::vector<int32_t>> place(const detail::TaskInfo& t, const std::string& kind,
                                            const detail::PlacementChoice& choice, const mapping::Plan& context) const;
  // The point of a Plan (and of the mapper that made it, for inactive decisions).
  ReadBack read_plan(const mapping::Plan& plan, const dsl::Mapper* mapper) const;
  // The processors `plan` gives task `t`'s points (on `kind`) as a Table placement's
  // table; nullopt where a table cannot say it (nested or several domains).
  std::optional<std::vector<int64_t>> placement_table(const detail::TaskInfo& t, const std::string& kind,
                                                      const std::vector<program::PointTaskId>& points,
                                                      const mapping::Plan& plan) const;
  // Recomputes `size` from the decisions' choices.
  void count_size();
  // The point tasks whose placement says where every point task of `t` goes: all of them
  // for a nested task (its parents matter), those of one launch per domain otherwise.
  std::vector<program::PointTaskId> placed_points(const detail::TaskInfo& t) const;
};

}  // namespace mage::tune
