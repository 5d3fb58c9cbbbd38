// Feedback on an evaluation (module `guide`): what went wrong or what limits the time, in
// words a performance engineer would use — naming the tasks, arguments, memories,
// processors and numbers — and what to change in the mapper, both as text and as
// structured hints that a program (the `guided` optimizer) can apply.
//
// The input is an eval::Result (status, message, diagnostics, profile) plus what the
// request describes: the program, the machine, the mapper's text and, when the mapper
// applies, its Plan (rebuilt in this process: mapping is deterministic and cheap).
// docs/explain.md describes every category with an example.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eval/eval.h"
#include "sim/sim.h"

namespace mage::guide {

// ---- Hints -----------------------------------------------------------------------------

// What a hint changes. JSON spelling in parentheses.
enum class Action {
  Processor,      // "processor": the Task rule's kind for a task; to: "GPU", "OMP" or "CPU"
  Memory,         // "memory": the Region rule's memory for (task, argument); to: a memory kind
  Layout,         // "layout": the Layout rule for (task, argument); to: constraints, e.g. "C_order"
  Placement,      // "placement": the placement family of a task's launches (see below)
  InstanceLimit,  // "instance_limit": to: a positive integer as text, or "none"
  CollectMemory,  // "collect_memory": to: "on" or "off"
  Edit,           // "edit": fix an error at a line: replace the text `from` by `to`
};
std::string_view to_string(Action a);
std::optional<Action> parse_action(std::string_view s);

// Placement families (Action::Placement's `to`):
//   "block"        blocks of points over the nodes, then over a node's processors
//   "cyclic"       point l on processor l mod P (node-major order)
//   "block_cyclic" blocks over the nodes, cyclic over a node's processors
//   "linear"       the launch linearised, then blocked (1-D launches: the same as block)
//   "auto_split"   the two-level auto_split form of DSL.md (multi-dimensional launches)
//   "parent"       on the processor of the parent task (nested launches)

// One concrete change to the mapper. JSON: exactly the keys action, task, argument, from,
// to, reason, impact_s, in this order.
struct Hint {
  Action action = Action::Edit;
  std::string task;      // a task name, or "*"
  std::string argument;  // a region argument as rules name it (e.g. "rp_ghost"), or ""
  std::string from;      // the current value ("" when unknown); Edit: the text at fault
  std::string to;        // the proposed value; Edit: the replacement text
  std::string reason;    // one sentence
  double impact_s = 0;   // estimated seconds saved (0 when unknown)

  nlohmann::ordered_json to_json() const;
  // Throws nlohmann::json::exception on a missing key or an unknown action.
  static Hint from_json(const nlohmann::json& j);
  friend bool operator==(const Hint&, const Hint&) = default;
};

// ---- Feedback --------------------------------------------------------------------------

// What an evaluation's outcome is chiefly about. JSON spelling: to_string.
enum class Category {
  // The mapper does not compile or its top-level statements fail (status mapper error).
  SyntaxError,    // "syntax_error"
  UndefinedName,  // "undefined_name": unknown name or function, used before definition
  WrongArity,     // "wrong_arity": a call with the wrong number of arguments
  WrongType,      // "wrong_type": an argument or operand of the wrong type
  MapperError,    // "mapper_error": any other error in the mapper
  // Applying the mapper failed (status mapping error).
  PlacementOutOfRange,  // "placement_out_of_range": an index outside the machine space
  WrongProcessorKind,   // "wrong_processor_kind": a processor of another kind than the task's
  VirtualLeaf,          // "virtual_leaf": VIRTUAL memory for an argument a leaf task accesses
  NoProcessorKind,      // "no_processor_kind": no kind of the Task rule can run the task
  PlacementError,       // "placement_error": any other failure of a mapping function
  MappingError,         // "mapping_error": any other mapping failure
  // The simulator rejected the execution (status execution error).
  LayoutMismatch,    // "layout_mismatch": a leaf variant requires another dimension order
  OutOfMemory,       // "out_of_memory"
  ExecutionError,    // "execution_error": any other execution error
  SimulatorFailure,  // "simulator_failure": crash, time or memory limit
  // The run worked (status ok); what limits its time.
  SlowProcessor,  // "slow_processor": a task with a GPU variant runs on CPU or OMP and dominates
  RemoteAccess,   // "remote_access": accesses to zero-copy or another processor's memory dominate a task
  Copies,         // "copies": the critical path waits for copies between memories
  LoadImbalance,  // "load_imbalance": several points on one processor while others idle
  InstanceLimit,  // "instance_limit": an InstanceLimit serializes tasks
  Waiting,        // "waiting": the critical path is mostly waiting rather than running
  ComputeBound,   // "compute_bound": busy processors computing; no mapping change indicated
};
std::string_view to_string(Category c);
std::optional<Category> parse_category(std::string_view s);

struct Feedback {
  Category category = Category::ComputeBound;
  sim::Status status = sim::Status::Ok;
  std::string message;                   // the outcome's raw message ("" when ok)
  std::string explanation;               // one or two sentences
  std::vector<std::string> suggestions;  // concrete mapper edits, most promising first
  std::vector<Hint> hints;               // the same as data, most promising first

  // Keys: category, status, message, explanation, suggestions, hints.
  nlohmann::ordered_json to_json() const;
  // Throws nlohmann::json::exception on a malformed value.
  static Feedback from_json(const nlohmann::json& j);
};

// The feedback as the text a person or a language model reads: the category and status,
// the explanation, the numbered suggestions, and the raw message when there is one.
std::string render(const Feedback& feedback);

// ---- Explaining ------------------------------------------------------------------------

// Explains evaluations of mappers for one program on one machine. Built once per request
// (it resolves the machine and builds the program, as eval does); explain() is then cheap
// enough to call after every evaluation of a tuning run. Thread-compatible (const methods
// may run concurrently).
class Explainer {
 public:
  // Throws eval::RequestError for a request that cannot be evaluated.
  explicit Explainer(const eval::Request& request);
  ~Explainer();
  Explainer(Explainer&&) noexcept;
  Explainer& operator=(Explainer&&) noexcept;

  // The feedback on `result`, an evaluation of `mapper` for this program and machine.
  Feedback explain(const eval::MapperSpec& mapper, const eval::Result& result) const;
  // The same for the request's own mapper.
  Feedback explain(const eval::Result& result) const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// One-off convenience: Explainer(request).explain(result).
Feedback explain(const eval::Request& request, const eval::Result& result);

}  // namespace mage::guide
