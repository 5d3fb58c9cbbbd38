// One evaluation of a mapper (module `eval`): compile the mapper, build the program,
// analyze it, apply the mapper and simulate the Plan — all in one forked child process
// with a time and a memory limit, so that SimGrid's global state, a crash, a hang or an
// exhausted memory stays there. The child sends its Result back through a pipe as JSON.
// Also a result cache keyed by a content hash of everything that decides an outcome, and
// a pool that runs several children at once.
//
// Statuses (sim::Status) of an evaluation:
// - mapper error: the mapper does not compile or its top-level statements fail against
//   the machine; the message is the formatted diagnostics (FILE:LINE:COL: error: ...).
// - mapping error: mapping::apply failed; the message is the MappingError's.
// - execution error: the simulator rejected the execution (out of memory, layout mismatch).
// - simulator failure: the child crashed ("simulator crashed: Segmentation fault"), ran
//   past the time limit ("simulator exceeded the time limit of 30 s (--time-limit S raises
//   it, --time-limit 0 lifts it)"), exhausted its memory limit, or sent
//   something that is not a result.
// A request that cannot be evaluated at all (unknown app or machine, a configuration the
// app does not support, a program over Limits::point_tasks) throws RequestError before any
// child is started.
//
// Deterministic: the same Request gives the same outcome, bit for bit (timings aside).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "apps/apps.h"
#include "dsl/dsl.h"
#include "machine/machine.h"
#include "sim/sim.h"

namespace mage::eval {

// ---- The request -----------------------------------------------------------------------

enum class MapperKind {
  Text,     // mapper text given by the caller
  Expert,   // mappers/expert/<app>.map (built into the program)
  Default,  // the built-in default mapper (mapping::apply_default)
};

struct MapperSpec {
  MapperKind kind = MapperKind::Expert;
  std::string text;  // Text only: the mapper
  std::string file;  // Text only: the name diagnostics give it, e.g. "my.map"
};
MapperSpec mapper_text(std::string text, std::string file = "mapper.map");
MapperSpec expert_mapper();
MapperSpec default_mapper();

// Test hook: makes the child misbehave after it starts, to exercise the failure paths.
enum class Fault {
  None,
  Crash,    // raises SIGSEGV
  Hang,     // sleeps forever (the time limit ends it)
  Garbage,  // writes something that is not a result
  Silent,   // exits with status 3 without a result
  Exhaust,  // allocates memory until the memory limit stops it
};
std::string_view to_string(Fault f);

struct Request {
  std::string app;                 // one of apps::list()
  std::string machine = "p100x4";  // a preset name or a path to a TOML file (machine::load)
  machine::Overrides overrides;    // --nodes, --ranks-per-node (unset: see resolve)
  apps::Scale scale = apps::Scale::Published;
  std::optional<int> iterations;  // timed iterations (default: the app's)
  // The matrix multiplications' tiles placed again before every timed iteration, as DISTAL's
  // drivers do (apps::Params::place_every_iteration); an error for the other programs.
  bool place_every_iteration = false;
  // When set, the program is built with exactly these parameters (scale and iterations
  // above are ignored); otherwise they come from the machine, as `mage app show` does.
  std::optional<apps::Params> params;
  MapperSpec mapper;
  sim::Options options;             // trace, entries in the costliest lists
  Fault debug_fault = Fault::None;  // tests only
};

// What a request runs on, resolved in the parent as every evaluation resolves it: the
// machine loaded from its file with the overrides, and the program's parameters (from that
// machine, or request.params when set). When neither the request (overrides.ranks_per_node)
// nor the machine file (a ranks_per_node other than 1) says how many ranks a node runs, the
// app's preference apps::AppInfo::ranks_per_node decides (Johnson and COSMA: 4, one GPU
// each, as published). Throws RequestError: an unknown app or machine, or a machine that
// cannot run as the app's preferred ranks per node.
struct Resolved {
  std::shared_ptr<const machine::Machine> machine;
  machine::Overrides overrides;  // as applied: the request's, with the app's ranks per node if they decided
  bool ranks_from_app = false;   // the ranks per node are the app's preference
  apps::Params params;
};
Resolved resolve(const Request& request);

// ---- The result ------------------------------------------------------------------------

// Seconds spent in each phase, measured in the child (wall: by the parent, from fork to
// the child's end, including process start and the transfer of the result).
struct Timing {
  double compile_s = 0;   // compile, check the names against the program, bind to the machine
  double build_s = 0;     // build the program and analyze its dependences
  double apply_s = 0;     // mapping::apply
  double simulate_s = 0;  // sim::run
  double wall_s = 0;
  double simulate_cpu_s = 0;  // CPU time of sim::run (unlike simulate_s, not slowed by other load)
};

struct Result {
  sim::Outcome outcome;
  std::vector<dsl::Diagnostic> diagnostics;  // the mapper's errors and warnings
  std::vector<std::string> mapper_log;       // lines the mapper printed with `print`
  Timing timing;
  bool cached = false;  // served by the cache (timing is the original's)

  // The outcome's keys (status, message, time_s, metric_name, metric_value, profile), then
  // diagnostics, mapper_log and, with `timing`, timing. Never the trace.
  nlohmann::ordered_json to_json(bool timing = false) const;
};

// ---- Progress --------------------------------------------------------------------------

// What an evaluation's child is doing, for a progress display (`mage run` on a terminal).
enum class Phase {
  Compiling,   // starting, compiling the mapper
  Building,    // building and analyzing the program, binding the mapper
  Mapping,     // mapping::apply
  Simulating,  // sim::run (sim::Progress below)
};
std::string_view to_string(Phase p);  // "compiling the mapper", "building the program", ...

struct Progress {
  Phase phase = Phase::Compiling;
  sim::Progress simulation;  // Simulating only: the last report of the simulator
  double elapsed_s = 0;      // wall-clock seconds since the child started (the parent's clock)
};

// ---- Evaluating ------------------------------------------------------------------------

// The default of Limits::point_tasks (`--task-limit`): ten million point tasks, a few GiB
// and some minutes of simulation.
inline constexpr int64_t kDefaultTaskLimit = 10'000'000;

struct Limits {
  double time_s = 30;  // wall-clock seconds per child; 0: none
  // Address space per child (RLIMIT_AS; not applied in sanitizer builds); 0: none.
  uint64_t memory_bytes = uint64_t{8} << 30;
  // Point tasks the program may have (see point_tasks), checked in the calling process
  // before any child starts: a request over it throws LimitError; 0: none.
  int64_t point_tasks = kDefaultTaskLimit;
};

// A request that cannot be evaluated: unknown app, unreadable or invalid machine,
// a configuration the app does not support.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request whose program is larger than Limits::point_tasks. The message names the
// estimate, the limit and the flags that raise and lift it.
class LimitError : public RequestError {
 public:
  using RequestError::RequestError;
};

// The point tasks of the program a request runs: every launch's points, nested ones and
// warm-up iterations included (TaskGraph::size() once built). Computed without building the
// program at its size: from builds with 1 and 2 timed iterations, extrapolated linearly,
// or with the app's default iterations (at most 50) counted exactly. Throws RequestError.
int64_t point_tasks(const Request& request);

// Throws LimitError when point_tasks(request) exceeds limits.point_tasks (0: no limit),
// RequestError when the request cannot be evaluated. evaluate() and its relatives check
// it too; call it first where the program is built in this process (an Explainer, a
// tuning Space, `mage app show`).
void check_limits(const Request& request, const Limits& limits);

// While it lives, this process's address space is bounded by `bytes` (its soft limit; 0, or a
// sanitizer build: no bound), so that what is built here (a tuning Space) meets the memory
// limit an evaluation's child meets: an allocation past it throws std::bad_alloc instead of
// exhausting the host. The previous limit is put back at the end. One at a time.
class AddressSpaceLimit {
 public:
  explicit AddressSpaceLimit(uint64_t bytes);
  ~AddressSpaceLimit();
  AddressSpaceLimit(const AddressSpaceLimit&) = delete;
  AddressSpaceLimit& operator=(const AddressSpaceLimit&) = delete;

 private:
  bool set_ = false;
  uint64_t previous_ = 0;  // the soft limit before
};

// "WHAT exceeded the memory limit of N MiB (--memory-limit GIB raises it, --memory-limit 0
// lifts it)": how every stage held to Limits::memory_bytes says it went over.
std::string over_memory_limit(std::string_view what, uint64_t bytes);

// Runs `build()` in this process within `bytes` of address space (AddressSpaceLimit); an
// allocation past it throws LimitError(over_memory_limit(what, bytes)).
template <typename Build>
auto within_memory_limit(uint64_t bytes, std::string_view what, Build&& build) {
  try {
    const AddressSpaceLimit bounded(bytes);
    return build();
  } catch (const std::bad_alloc&) {
    throw LimitError(over_memory_limit(what, bytes));
  }
}

class Cache;

// One evaluation in a child process. Never hangs and never ends the calling process; all
// problems become the Result's outcome, except RequestError. With a cache, a request seen
// before is answered from it (outcomes with status simulator failure are not cached:
// they depend on the limits and the load). The child dies with the calling process.
// To run several at once, use evaluate_many rather than threads: it forks from one thread.
//
// With `progress`, the child reports its phase and the simulator's progress (sim::ProgressReport,
// every 0.2 s) through a pipe of its own; `progress` is called in the calling thread with each
// report as it arrives and, while the child runs, at least every 0.2 s with the latest one
// (elapsed_s updated); never after the child ended, never for a cache hit. The Result does not
// depend on it.
Result evaluate(const Request& request, const Limits& limits = {}, Cache* cache = nullptr,
                const std::function<void(const Progress&)>& progress = {});

// Evaluates every request with up to `workers` children at once (0: one per hardware
// thread); results in request order. Every request is checked before the first child
// starts (RequestError names the request's index). With a cache, identical requests in
// one batch are evaluated once.
std::vector<Result> evaluate_many(const std::vector<Request>& requests, int workers = 0, const Limits& limits = {},
                                  Cache* cache = nullptr);

// The same, handing each result to `on_result(index, result)`, in the calling thread, as soon
// as it is known: cache hits first, then each request as its child ends (an identical
// request of the batch together with the first). For callers that must record each result
// before the next one arrives (a tuning journal). When `stop` is given it is asked at least
// every 100 ms, and also after every child's end; once it returns true the children still
// running are killed, their results and the requests not started are dropped, and
// evaluate_each returns false (true when every request was answered).
bool evaluate_each(const std::vector<Request>& requests, const std::function<void(size_t, Result)>& on_result,
                   int workers = 0, const Limits& limits = {}, Cache* cache = nullptr,
                   const std::function<bool()>& stop = {});

// Simulates a Plan built by the caller (not from a mapper: tests and benchmarks that map by
// hand) in a child process, with evaluate()'s limits and failure messages. Never throws.
sim::Outcome simulate(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
                      const mapping::Plan& plan, const sim::Options& options = {}, const Limits& limits = {});

// ---- The cache -------------------------------------------------------------------------

// The content hash of a request (32 hex digits, 128-bit FNV-1a) over the mapper's text and
// file name, the app, the machine's TOML text and overrides (as resolve applies them: an
// app's default ranks per node hash as the same explicit override), the program parameters, the
// simulator options, the test fault and model_version(). The expert mapper hashes as its
// text. Throws RequestError when the request is invalid.
std::string cache_key(const Request& request);

// Results by cache key, in memory and, when given a directory, also one JSON file per key
// there (<key>.json, written atomically; a file that does not parse or names another key or
// model version is ignored). Safe to share between threads.
class Cache {
 public:
  Cache() = default;
  // Also persisted in `directory` (created if missing; std::runtime_error if it cannot be).
  explicit Cache(std::filesystem::path directory);

  std::optional<Result> find(const std::string& key);
  void store(const std::string& key, const Result& result);

  size_t size() const;
  int64_t hits() const;
  int64_t misses() const;
  const std::optional<std::filesystem::path>& directory() const { return directory_; }

 private:
  mutable std::mutex mutex_;
  std::optional<std::filesystem::path> directory_;
  std::map<std::string, Result, std::less<>> entries_;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

// ---- Data ------------------------------------------------------------------------------

// The text of mappers/expert/<app>.map as it was at build time; nullopt for another name.
std::optional<std::string_view> expert_mapper_text(std::string_view app);

// Names the model (the sources of the language, machines, programs, mapping and simulator
// as built); part of every cache key.
std::string_view model_version();

// Result as JSON with everything needed to restore it (the outcome, the trace when
// recorded, diagnostics, mapper log, timing) and back; what goes through the pipe and into
// the cache. result_from_json throws nlohmann::json::exception on a malformed value.
nlohmann::ordered_json result_to_json(const Result& result);
Result result_from_json(const nlohmann::json& j);

}  // namespace mage::eval
