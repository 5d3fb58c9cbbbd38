// Executing a mapped program on a simulated machine (module `sim`): the Plan of
// mapping::apply runs on a SimGrid model of the Machine, and the result is an Outcome —
// the simulated time of the timed iterations, the program's metric, and a profile that
// says where the time went — or a precise execution error (out of memory, layout
// mismatch, ...). Also the Chrome trace export (`mage run --trace`).
//
// The model it simulates — platform, execution, task time, data, memory, layout, and what is
// not modelled — is specified in docs/simulation.md; each part is implemented where it says.
//
// SimGrid keeps global state per process: run() works once per process (and leaves the
// SimGrid engine and the model in place: tearing them down would cost as much as a small
// simulation). Module `eval` runs each simulation in a forked child (eval::simulate for a
// Plan built by hand); the Outcome comes back as JSON, with the trace when it was recorded.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "machine/machine.h"
#include "mapping/mapping.h"
#include "program/program.h"

namespace mage::sim {

// ---- The outcome -----------------------------------------------------------------------

enum class Status { Ok, MapperError, MappingError, ExecutionError, SimulatorFailure };
std::string_view to_string(Status s);  // "ok", "mapper error", "mapping error", ...
std::optional<Status> parse_status(std::string_view s);

// Time a processor spent running tasks inside the timed window.
struct ProcessorUse {
  std::string processor;  // "node 0 GPU 2"
  std::string kind;       // "GPU"
  int64_t tasks = 0;      // tasks it ran in the window
  double busy_s = 0;
  double busy_fraction = 0;  // busy_s / window
};

// Bytes carried by each kind of channel in the timed window, counted per hop (a copy
// from a GPU of one node to a GPU of another counts in gpu_host twice and inter_node once).
struct ChannelBytes {
  double intra_gpu = 0;   // framebuffer <-> framebuffer of one node
  double gpu_host = 0;    // framebuffer <-> host memory (incl. zero-copy reads by a GPU)
  double host_host = 0;   // host memory <-> host memory of one node
  double inter_node = 0;  // over the network
};

struct MemoryPeak {
  machine::MemId id;
  kinds::MemKind kind = kinds::MemKind::SYSMEM;
  std::string memory;  // its name for people: "node 0 FBMEM 2"
  uint64_t peak_bytes = 0;
  uint64_t capacity_bytes = 0;
};

// An argument that a task kind's point tasks accessed across a link (zero-copy memory, a peer's
// framebuffer), with the time those accesses added to the tasks: their stalls, and their transfers
// where computing did not hide them. A task's added time is its duration minus what it would
// take with those bytes in its processor's fastest memory; it is shared among its remote
// arguments in proportion to their uncontended access time.
struct RemoteAccessCost {
  int64_t argument = 0;  // index
  std::string data;      // as rules name it: the partition, else the region ("rp_ghost")
  std::string memory;    // memory kind, e.g. "ZCMEM"
  double bytes = 0;
  double time_s = 0;  // part of TaskCost::total_s
};

// A task kind's share of the timed window (over its point tasks).
struct TaskCost {
  std::string task;
  std::string processor_kind;
  int64_t count = 0;
  double total_s = 0;
  double max_s = 0;
  int64_t processors = 0;                // distinct processors its point tasks ran on
  double flops = 0;                      // of its variant (leaf tasks)
  double bytes = 0;                      // read and written by its point tasks, all arguments
  double compute_s = 0;                  // computing at the variant's rate (overlapped with local accesses)
  double limit_wait_s = 0;               // its point tasks waited for an instance limit before being mapped (in all)
  std::vector<RemoteAccessCost> remote;  // most time first
};

// Copies of one piece of data between two kinds of memory in the timed window.
struct CopyCost {
  std::string data;  // the partition or region of the destination instance
  std::string from;  // memory kind, e.g. "SYSMEM"
  std::string to;
  bool inter_node = false;
  bool reduction = false;  // folding a reduction instance
  int64_t count = 0;
  double bytes = 0;
  double total_s = 0;
  std::string for_task;  // the task kind most of these bytes were copied for
};

// One step of the critical path, in time order.
struct PathStep {
  std::string task;       // "task_4 (1,0)"
  std::string processor;  // "node 0 GPU 1"
  double start_s = 0;
  double end_s = 0;
  double wait_s = 0;       // gap between the previous step and this task's start
  std::string waited_for;  // "copies", "processor", "instance limit", "dependence", "" (none)
};

struct CriticalPath {
  double length_s = 0;  // end of the window minus start of the path
  double task_s = 0;    // running tasks on the path
  double copy_s = 0;    // waiting for copies
  double queue_s = 0;   // waiting for a busy processor or an instance limit
  double limit_s = 0;   // of queue_s: waiting for an instance limit
  // How much later the path's tasks started because an instance limit delayed their mapping
  // (so their copies could not overlap earlier work): an estimate of what the limit costs.
  double limit_cost_s = 0;
  std::vector<PathStep> steps;  // the last steps (at most 64), in time order
  int64_t omitted_steps = 0;    // earlier steps not listed
};

// Live instances of one piece of data (partition, else region) in a memory.
struct HeldData {
  std::string data;
  int64_t instances = 0;
  uint64_t bytes = 0;
};

// The allocation that did not fit, for programs that react to it (the guide).
struct OutOfMemory {
  std::string memory;       // "node 0 FBMEM 2"
  std::string memory_kind;  // "FBMEM"
  uint64_t requested_bytes = 0;
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  std::vector<HeldData> held;  // what fills the memory, most bytes first
  std::string task;            // the task kind being mapped
  std::string point;           // the point task, as traces label it: "task_4 (0,1)", "task_4 step 1 in task_5 (0,1)"
  int64_t argument = 0;        // the argument being mapped (index)
  std::string data;            // its name as rules name it
  std::string processor;       // where the task was to run
  int64_t in_flight = 0;       // point tasks of that kind mapped and unfinished on that processor, it included
};

struct Profile {
  double window_start_s = 0;  // the timed window
  double window_end_s = 0;
  double makespan_s = 0;                 // the whole simulation
  int64_t tasks = 0;                     // point tasks run (whole run)
  int64_t copies = 0;                    // copies made (whole run)
  double flops = 0;                      // flops of the leaf tasks in the window
  std::vector<ProcessorUse> processors;  // those that ran a task in the window, by id
  ChannelBytes bytes_moved;
  // Of bytes_moved, summed over the channels: folds, a reduction instance's partial sums
  // applied to the data elsewhere (the rest copies data that exists already).
  double folded_bytes = 0;
  std::vector<MemoryPeak> memories;  // those that held an instance, by id
  std::vector<TaskCost> costliest_tasks;
  std::vector<CopyCost> costliest_copies;
  CriticalPath critical_path;
  std::optional<OutOfMemory> out_of_memory;  // set when the run stopped on an allocation that did not fit
};

// ---- The trace (Chrome trace-event format, for Perfetto or chrome://tracing) -----------

struct TraceEvent {
  int row = 0;           // index into Trace::rows
  std::string name;      // "task_4 (0,1)" or "copy B_gpus[(0,1)] 128 MB"
  std::string category;  // "task", "copy"
  double start_s = 0;
  double duration_s = 0;
  std::vector<std::pair<std::string, std::string>> args;
};

struct Trace {
  std::vector<std::string> rows;  // processors first (by id), then channels "SRC -> DST"
  std::vector<TraceEvent> events;
};

struct Outcome {
  Status status = Status::Ok;
  std::string message;      // empty when ok
  double time_s = 0;        // simulated time of the timed iterations
  std::string metric_name;  // "GFLOP/s" (matrix multiplications) or "iterations/s"
  double metric_value = 0;
  Profile profile;
  Trace trace;  // filled when Options::trace

  bool ok() const { return status == Status::Ok; }
  // Keys: status, message, time_s, metric_name, metric_value, profile (never the trace).
  nlohmann::ordered_json to_json() const;
  // The inverse of to_json (throws nlohmann::json::exception on a malformed value).
  static Outcome from_json(const nlohmann::json& j);
};

// An outcome for a failure before or outside the simulation.
Outcome failure(Status status, std::string message);

// The message of the SimulatorFailure run() returns when an allocation fails: a caller that set
// a memory limit (eval's child) says which one instead.
inline constexpr std::string_view kOutOfMemoryMessage = "simulator ran out of memory";

// The name of a program's metric: "GFLOP/s" (program::Metric::Flops) or "iterations/s".
std::string metric_name(const program::Program& program);

// Chrome trace-event JSON: one thread row per processor and per channel, tasks and copies
// as complete ("X") events, times in microseconds.
nlohmann::json chrome_trace(const Trace& trace);
// The trace as compact JSON and back, for an Outcome sent between processes or cached
// (Outcome::to_json never holds it). trace_from_json throws nlohmann::json's exceptions.
nlohmann::json trace_to_json(const Trace& trace);
Trace trace_from_json(const nlohmann::json& j);
void write_chrome_trace(const Trace& trace, std::ostream& out);

// ---- Running ---------------------------------------------------------------------------

struct Options {
  bool trace = false;  // record every task and copy in Outcome::trace
  int top = 10;        // entries in the costliest tasks and copies
};

// How far a running simulation has got, for a progress display (`mage run` on a terminal).
struct Progress {
  double simulated_s = 0;   // simulated time reached (whole run, from 0)
  int64_t tasks_done = 0;   // point tasks completed
  int64_t tasks_total = 0;  // point tasks of the run
};

// Reports of a simulation's progress: `report` is called from inside run() (in the
// simulation's own thread) after a point task ends, once at least `interval_s` wall-clock
// seconds passed since the start or the last report (0: after every point task). Both
// fields of Progress only grow from one report to the next. Reports only read the
// simulation's state: an Outcome is the same, bit for bit, with or without them. `report`
// must not throw.
struct ProgressReport {
  std::function<void(const Progress&)> report;  // none: no reports
  double interval_s = 0.2;
};

// Simulates `plan` (for `graph` = program::analyze(program)) on `machine`, in this process.
// Never throws: problems become an Outcome with status ExecutionError or SimulatorFailure.
// SimGrid allows one simulation per process: a second call returns SimulatorFailure.
Outcome run(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
            const mapping::Plan& plan, const Options& options = {}, const ProgressReport& progress = {});

}  // namespace mage::sim
