// The evaluation itself, as the child runs it: compile the mapper, build and analyze the
// program, bind the mapper to the machine, apply it, simulate the Plan.
#include <fmt/format.h>
#include <chrono>
#include <ctime>
#include <new>
#include <variant>

#include "eval/detail.h"
#include "mapping/mapping.h"
#include "program/program.h"

namespace mage::eval::detail {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void append(std::vector<dsl::Diagnostic>& to, const std::vector<dsl::Diagnostic>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// The mapper error: the diagnostics so far, formatted as `mage check` prints them, the first
// few of them (a message read by people and optimizers; Result::diagnostics has them all).
Result mapper_error(Result r, const dsl::SourceFile& source) {
  std::string message = dsl::format_diagnostics(r.diagnostics, source, dsl::kDefaultDiagnosticLimit);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  r.outcome = sim::failure(sim::Status::MapperError, std::move(message));
  return r;
}

Result pipeline(const Prepared& p, const std::function<void(const Progress&)>& progress) {
  auto phase = [&](Phase ph) {
    if (progress) progress(Progress{.phase = ph, .simulation = {}, .elapsed_s = 0});
  };
  phase(Phase::Compiling);
  Result r;
  const machine::Machine& machine = *p.machine;
  const bool has_mapper = p.mapper_kind != MapperKind::Default;

  auto t = Clock::now();
  dsl::CompileResult compiled;
  if (has_mapper) {
    compiled = dsl::compile(p.mapper);
    append(r.diagnostics, compiled.diagnostics);
    r.timing.compile_s = since(t);
  }
  if (has_mapper && !compiled.unit) return mapper_error(std::move(r), p.mapper);

  phase(Phase::Building);
  t = Clock::now();
  program::Program program = apps::build(p.app, p.params);
  program::TaskGraph graph = program::analyze(program);
  r.timing.build_s = since(t);

  std::optional<dsl::Mapper> mapper;
  if (has_mapper) {
    t = Clock::now();
    const program::Program::MapperNames names = program.mapper_names();
    append(r.diagnostics, dsl::check_names(*compiled.unit, names.tasks, names.data));
    dsl::BindResult bound = dsl::Mapper::bind(compiled.unit, mapping::shape_of(machine));
    append(r.diagnostics, bound.diagnostics);
    r.timing.compile_s += since(t);
    if (!bound.mapper) return mapper_error(std::move(r), p.mapper);
    mapper = std::move(bound.mapper);
  }

  phase(Phase::Mapping);
  t = Clock::now();
  mapping::ApplyResult applied =
      mapper ? mapping::apply(program, graph, machine, *mapper) : mapping::apply_default(program, graph, machine);
  r.timing.apply_s = since(t);
  if (mapper) r.mapper_log = mapper->log();
  if (const auto* e = std::get_if<mapping::MappingError>(&applied)) {
    if (e->diagnostic) r.diagnostics.push_back(*e->diagnostic);
    r.outcome = sim::failure(sim::Status::MappingError, e->message);
    return r;
  }

  phase(Phase::Simulating);
  sim::ProgressReport report;
  if (progress)
    report.report = [&](const sim::Progress& s) {
      progress(Progress{.phase = Phase::Simulating, .simulation = s, .elapsed_s = 0});
    };
  t = Clock::now();
  const double cpu = cpu_now();
  r.outcome = sim::run(program, graph, machine, std::get<mapping::Plan>(applied), p.options, report);
  r.timing.simulate_s = since(t);
  r.timing.simulate_cpu_s = cpu_now() - cpu;
  return r;
}

}  // namespace

sim::Outcome memory_exhausted(uint64_t memory_limit_bytes) {
  return sim::failure(sim::Status::SimulatorFailure, memory_limit_bytes > 0
                                                         ? over_memory_limit("simulator", memory_limit_bytes)
                                                         : std::string(sim::kOutOfMemoryMessage));
}

Result run_pipeline(const Prepared& p, uint64_t memory_limit_bytes,
                    const std::function<void(const Progress&)>& progress) {
  try {
    Result r = pipeline(p, progress);
    if (r.outcome.status == sim::Status::SimulatorFailure && r.outcome.message == sim::kOutOfMemoryMessage)
      r.outcome = memory_exhausted(memory_limit_bytes);
    return r;
  } catch (const std::bad_alloc&) {
    Result r;
    r.outcome = memory_exhausted(memory_limit_bytes);
    return r;
  } catch (const std::exception& e) {
    Result r;
    r.outcome = sim::failure(sim::Status::SimulatorFailure, fmt::format("evaluation failed: {}", e.what()));
    return r;
  }
}

}  // namespace mage::eval::detail
