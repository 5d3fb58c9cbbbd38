// libFuzzer target: the whole evaluation of a mapper on a small program, as eval's child
// runs it — compile, build and analyze the program, check the names, bind to the machine,
// apply, simulate — at the smallest scale (Scale::Small, one timed iteration) on p100x4.
//
// Input: mapper text. A first line `# app: NAME` picks the program (default circuit), so
// the corpus covers all nine. Everything up to the Plan runs in this process, where
// libFuzzer sees its coverage. SimGrid allows one simulation per process (sim.h), so each
// new Plan is simulated in a forked child with a time limit; a Plan simulated before is not
// simulated again (the simulation is deterministic). A crash, sanitizer report, hang or
// exception anywhere, or a child that does not end cleanly, is a failure.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/apps.h"
#include "dsl/dsl.h"
#include "machine/machine.h"
#include "mapping/mapping.h"
#include "program/program.h"
#include "sim/sim.h"

using namespace mage;

namespace {

constexpr unsigned kSimulationSeconds = 20;  // small scale, one iteration: milliseconds normally

// A forked simulation costs about a hundred times what the rest of an input does, so only
// the Plans whose hash is a multiple of FUZZ_EVAL_SIMULATE_ONE_IN (default 1: all) are
// simulated: a long run sets it higher to try many more mappers.
size_t simulate_one_in() {
  static const size_t n = [] {
    const char* v = std::getenv("FUZZ_EVAL_SIMULATE_ONE_IN");
    const long parsed = v ? std::strtol(v, nullptr, 10) : 1;
    return parsed > 0 ? static_cast<size_t>(parsed) : size_t{1};
  }();
  return n;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "eval fuzz: %s\n", what.c_str());
  std::abort();
}

// The app named by a first line `# app: NAME`, else circuit.
std::string app_of(std::string_view text) {
  constexpr std::string_view prefix = "# app: ";
  if (text.substr(0, prefix.size()) != prefix) return "circuit";
  std::string_view rest = text.substr(prefix.size());
  std::string name(rest.substr(0, rest.find('\n')));
  return apps::find(name) ? name : "circuit";
}

// The machine and the program's parameters as eval::resolve derives them for p100x4 (an
// app's preferred ranks per node applied), at the small scale with one timed iteration.
struct Setup {
  machine::Machine machine;
  program::Program program;  // built once: the mapper cannot change it
  program::TaskGraph graph;
};

const Setup& setup_for(const std::string& app) {
  static std::map<std::string, std::unique_ptr<Setup>> setups;
  auto& s = setups[app];
  if (!s) {
    machine::Overrides o;
    if (int r = apps::find(app)->ranks_per_node; r != 1) o.ranks_per_node = r;
    machine::Machine m = machine::load("p100x4", o);
    apps::Params p = apps::params_for(m, apps::Scale::Small, 1);
    program::Program program = apps::build(app, p);
    program::TaskGraph graph = program::analyze(program);
    s = std::make_unique<Setup>(Setup{std::move(m), std::move(program), std::move(graph)});
  }
  return *s;
}

// Everything of a Plan that the simulation depends on, as text.
std::string plan_key(const std::string& app, const mapping::Plan& plan) {
  std::string key = app + "|" + std::to_string(plan.top_level_processor.value) + "|";
  for (const auto& t : plan.tasks) {
    key += fmt::format("{}:{}", kinds::to_string(t.kind), t.processor.value);
    for (const auto& a : t.args)
      key += fmt::format(",{}{}{}{}{}{}{}{}", a.is_virtual, a.memory.value, kinds::to_string(a.layout.fields),
                         kinds::to_string(a.layout.order), a.layout.alignment, a.layout.compact, a.layout.exact,
                         a.collect);
    key += ';';
  }
  for (const auto& k : plan.task_kinds)
    key += fmt::format("{}{}{};", k.instance_limit.value_or(-1), k.control_replicated,
                       k.kind ? kinds::to_string(*k.kind) : "-");
  return key;
}

void simulate_in_child(const program::Program& program, const program::TaskGraph& graph,
                       const machine::Machine& machine, const mapping::Plan& plan) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    ::alarm(kSimulationSeconds);
    sim::Outcome o = sim::run(program, graph, machine, plan);
    if (o.status == sim::Status::SimulatorFailure) {
      std::fprintf(stderr, "eval fuzz: simulator failure: %s\n", o.message.c_str());
      ::_exit(3);
    }
    (void)o.to_json().dump();
    ::_exit(0);
  }
  int status = 0;
  // libFuzzer's -timeout watchdog is a SIGALRM timer in this process: waitpid may be interrupted.
  pid_t waited = 0;
  do waited = ::waitpid(pid, &status, 0);
  while (waited < 0 && errno == EINTR);
  if (waited != pid) fail(fmt::format("waitpid failed: {}", std::strerror(errno)));
  if (WIFSIGNALED(status))
    fail(fmt::format("the simulation ended with signal {} ({})", WTERMSIG(status),
                     WTERMSIG(status) == SIGALRM ? "over the time limit" : strsignal(WTERMSIG(status))));
  if (WEXITSTATUS(status) != 0) fail(fmt::format("the simulation exited with status {}", WEXITSTATUS(status)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string app = app_of(text);
  const Setup& s = setup_for(app);
  try {
    const dsl::SourceFile source{"fuzz.map", text};
    dsl::CompileResult compiled = dsl::compile(source);
    for (const auto& d : compiled.diagnostics) (void)dsl::format_diagnostic(d, source);
    if (!compiled.unit) return 0;

    const program::Program::MapperNames names = s.program.mapper_names();
    (void)dsl::check_names(*compiled.unit, names.tasks, names.data);
    // Tight budgets, as in the language target: the limit paths are exercised all the same.
    dsl::BindResult bound = dsl::Mapper::bind(compiled.unit, mapping::shape_of(s.machine), dsl::EvalLimits{20'000, 32});
    if (!bound.mapper) return 0;

    mapping::ApplyResult applied = mapping::apply(s.program, s.graph, s.machine, *bound.mapper);
    if (const auto* e = std::get_if<mapping::MappingError>(&applied)) {
      if (e->message.empty()) fail("a mapping error without a message");
      return 0;
    }
    const mapping::Plan& plan = std::get<mapping::Plan>(applied);
    static std::unordered_set<size_t> simulated;  // hashes of plan_key
    const size_t key = std::hash<std::string>{}(plan_key(app, plan));
    if (key % simulate_one_in() == 0 && simulated.insert(key).second) {
      simulate_in_child(s.program, s.graph, s.machine, plan);
      // The figure docs/fuzzing.md reports, printed when libFuzzer ends the run.
      static const int report =
          std::atexit([] { std::fprintf(stderr, "eval fuzz: %zu plans simulated\n", simulated.size()); });
      (void)report;
    }
  } catch (const std::exception& e) {
    fail(fmt::format("exception: {}", e.what()));
  }
  return 0;
}
