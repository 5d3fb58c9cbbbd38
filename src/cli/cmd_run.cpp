// mage run: evaluate one mapper on one program and machine, print a summary or the JSON.
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "apps/apps.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/program_choice.h"
#include "cli/progress.h"
#include "eval/eval.h"
#include "sim/sim.h"

namespace mage::cli {

namespace {

struct RunOptions {
  ProgramChoice program;
  MapperChoice mapper;
  std::string trace_file;
  bool json = false;
  double time_limit_s = 30;
  double memory_limit_gib = kDefaultMemoryLimitGiB;
  size_t error_limit = dsl::kDefaultDiagnosticLimit;
};

// ---- Human-readable quantities ---------------------------------------------------------

std::string bytes(double b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.3g} {}", b, kUnits[u]);
}

std::string percent(double f) {
  if (f > 0 && f < 0.001) return "<0.1%";
  return f < 0.1 ? fmt::format("{:.1f}%", 100 * f) : fmt::format("{:.0f}%", 100 * f);
}

std::string metric(double v) { return v >= 1000 ? fmt::format("{:.0f}", v) : fmt::format("{:.4g}", v); }

// ---- The summary -----------------------------------------------------------------------

void print_processors(const sim::Profile& p) {
  // Per kind: how many ran tasks, the average busy fraction, the busiest and the idlest.
  std::map<std::string, std::vector<const sim::ProcessorUse*>> by_kind;
  for (const auto& u : p.processors) by_kind[u.kind].push_back(&u);
  for (const auto& [kind, uses] : by_kind) {
    double sum = 0;
    const sim::ProcessorUse* busiest = uses.front();
    const sim::ProcessorUse* idlest = uses.front();
    for (const auto* u : uses) {
      sum += u->busy_fraction;
      if (u->busy_fraction > busiest->busy_fraction) busiest = u;
      if (u->busy_fraction < idlest->busy_fraction) idlest = u;
    }
    if (uses.size() > 1 && busiest->busy_fraction - idlest->busy_fraction < 0.005) {
      std::printf("  %zu %ss busy %s each\n", uses.size(), kind.c_str(), percent(sum / uses.size()).c_str());
      continue;
    }
    std::printf("  %zu %s%s busy %s on average; busiest %s %s (%lld tasks), idlest %s %s (%lld tasks)\n", uses.size(),
                kind.c_str(), uses.size() == 1 ? "" : "s", percent(sum / uses.size()).c_str(),
                busiest->processor.c_str(), percent(busiest->busy_fraction).c_str(),
                static_cast<long long>(busiest->tasks), idlest->processor.c_str(),
                percent(idlest->busy_fraction).c_str(), static_cast<long long>(idlest->tasks));
  }
}

void print_memories(const sim::Profile& p) {
  // The fullest memory of each kind.
  std::map<std::string, const sim::MemoryPeak*> fullest;  // by kind name, in alphabetical order
  std::map<std::string, int> count;
  for (const auto& m : p.memories) {
    const std::string kind(kinds::to_string(m.kind));
    ++count[kind];
    auto fraction = [](const sim::MemoryPeak* x) {
      return x->capacity_bytes ? static_cast<double>(x->peak_bytes) / static_cast<double>(x->capacity_bytes) : 0.0;
    };
    if (!fullest.contains(kind) || fraction(&m) > fraction(fullest[kind])) fullest[kind] = &m;
  }
  for (const auto& [kind, m] : fullest) {
    const double used =
        m->capacity_bytes ? static_cast<double>(m->peak_bytes) / static_cast<double>(m->capacity_bytes) : 0;
    std::printf("  %s: peak %s of %s (%s) in %s%s\n", kind.c_str(), bytes(static_cast<double>(m->peak_bytes)).c_str(),
                bytes(static_cast<double>(m->capacity_bytes)).c_str(), percent(used).c_str(), m->memory.c_str(),
                count[kind] > 1 ? fmt::format(", the fullest of {}", count[kind]).c_str() : "");
  }
}

void print_summary(const eval::Request& request, const eval::Resolved& resolved, const eval::Result& r,
                   size_t error_limit) {
  const sim::Outcome& o = r.outcome;
  const sim::Profile& p = o.profile;
  std::printf("%s\n", describe(request, resolved).c_str());
  std::printf("status: %s\n", std::string(sim::to_string(o.status)).c_str());
  if (!o.ok()) {
    // Once: a mapper's errors (and warnings) or a mapping error as diagnostics with their
    // source lines, any other failure as its message.
    const dsl::SourceFile source{request.mapper.file, request.mapper.text};
    if (o.status == sim::Status::MapperError) {
      std::fputs(diagnostics_text(r.diagnostics, source, error_limit).c_str(), stdout);
      return;
    }
    if (o.status == sim::Status::MappingError && request.mapper.kind == eval::MapperKind::Text &&
        !r.diagnostics.empty() && r.diagnostics.back().severity == dsl::Severity::Error) {
      std::fputs(dsl::format_diagnostic(r.diagnostics.back(), source).c_str(), stdout);
      return;
    }
    std::printf("%s\n", o.message.c_str());
    return;
  }
  std::printf("simulated time: %s for the timed iterations (whole run %s)\n", seconds(o.time_s).c_str(),
              seconds(p.makespan_s).c_str());
  std::printf("metric: %s %s\n", metric(o.metric_value).c_str(), o.metric_name.c_str());
  std::printf("work: %lld point tasks, %lld copies\n", static_cast<long long>(p.tasks),
              static_cast<long long>(p.copies));

  std::printf("processors (timed window):\n");
  print_processors(p);
  const sim::ChannelBytes& b = p.bytes_moved;
  std::printf("bytes moved: intra-GPU %s, GPU-host %s, host-host %s, inter-node %s\n", bytes(b.intra_gpu).c_str(),
              bytes(b.gpu_host).c_str(), bytes(b.host_host).c_str(), bytes(b.inter_node).c_str());
  std::printf("peak memory:\n");
  print_memories(p);

  std::printf("top tasks:\n");
  for (size_t i = 0; i < p.costliest_tasks.size() && i < 5; ++i) {
    const auto& t = p.costliest_tasks[i];
    std::printf("  %-28s %-4s %6lld x  total %-9s max %s\n", t.task.c_str(), t.processor_kind.c_str(),
                static_cast<long long>(t.count), seconds(t.total_s).c_str(), seconds(t.max_s).c_str());
  }
  if (!p.costliest_copies.empty()) {
    std::printf("top copies:\n");
    for (size_t i = 0; i < p.costliest_copies.size() && i < 5; ++i) {
      const auto& c = p.costliest_copies[i];
      std::string route =
          c.from + " -> " + c.to + (c.inter_node ? " (inter-node)" : "") + (c.reduction ? " (reduction)" : "");
      std::printf("  %-28s %-30s %6lld x  %-10s total %s\n", c.data.c_str(), route.c_str(),
                  static_cast<long long>(c.count), bytes(c.bytes).c_str(), seconds(c.total_s).c_str());
    }
  }
  const sim::CriticalPath& cp = p.critical_path;
  std::printf("critical path: %s (running tasks %s, waiting for copies %s, queued %s)\n", seconds(cp.length_s).c_str(),
              seconds(cp.task_s).c_str(), seconds(cp.copy_s).c_str(), seconds(cp.queue_s).c_str());
  const size_t shown = std::min<size_t>(cp.steps.size(), 3);
  if (shown > 0) std::printf("  last steps:\n");
  for (size_t i = cp.steps.size() - shown; i < cp.steps.size(); ++i) {
    const auto& s = cp.steps[i];
    std::printf("    %s on %s, %s%s\n", s.task.c_str(), s.processor.c_str(), seconds(s.end_s - s.start_s).c_str(),
                s.waited_for.empty() || s.wait_s <= 0
                    ? ""
                    : fmt::format(" (after waiting {} for {})", seconds(s.wait_s), s.waited_for).c_str());
  }
  const eval::Timing& t = r.timing;
  std::printf("evaluated in %s (compile %s, build %s, apply %s, simulate %s)\n", seconds(t.wall_s).c_str(),
              seconds(t.compile_s).c_str(), seconds(t.build_s).c_str(), seconds(t.apply_s).c_str(),
              seconds(t.simulate_s).c_str());
}

int run(const RunOptions& o) {
  std::optional<eval::Request> program = program_request(o.program);
  if (!program) return 1;

  eval::Request request = std::move(*program);
  request.options.trace = !o.trace_file.empty();
  auto mapper = mapper_spec(o.mapper);
  if (!mapper) return 1;
  request.mapper = std::move(*mapper);

  eval::Resolved resolved;
  eval::Result r;
  try {
    resolved = eval::resolve(request);
    r = evaluate_showing_progress(request, eval::Limits{.time_s = o.time_limit_s,
                                                        .memory_bytes = memory_limit_bytes(o.memory_limit_gib),
                                                        .point_tasks = o.program.task_limit});
  } catch (const eval::RequestError& e) {
    return fail(e.what());
  }

  const sim::Status status = r.outcome.status;
  if (!o.trace_file.empty() && (status == sim::Status::Ok || status == sim::Status::ExecutionError)) {
    std::ostringstream trace;
    sim::write_chrome_trace(r.outcome.trace, trace);
    if (!write_file(o.trace_file, trace.str())) return 1;
  }

  if (o.json) {
    print_json(r.to_json());
  } else {
    print_summary(request, resolved, r, o.error_limit);
    // Warnings of a mapper that ran (the summary shows a mapper error's and a mapping error's
    // diagnostics already).
    if (status != sim::Status::MapperError) {
      std::vector<dsl::Diagnostic> warnings;
      for (const dsl::Diagnostic& d : r.diagnostics)
        if (d.severity != dsl::Severity::Error) warnings.push_back(d);
      std::fputs(
          diagnostics_text(warnings, dsl::SourceFile{request.mapper.file, request.mapper.text}, o.error_limit).c_str(),
          stderr);
    }
    for (const auto& line : r.mapper_log) std::fprintf(stderr, "mapper log: %s\n", line.c_str());
    if (!o.trace_file.empty() && (status == sim::Status::Ok || status == sim::Status::ExecutionError))
      std::printf("trace: %s (open in https://ui.perfetto.dev)\n", o.trace_file.c_str());
  }
  return exit_code(status);
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  auto* sub = app.add_subcommand("run",
                                 "Apply a mapper to a program on a machine and simulate it (exit 0 ok, 2 mapper error, "
                                 "3 mapping error, 4 execution error, 5 simulator failure)");
  add_app_argument(*sub, o->program);
  add_program_options(*sub, o->program);
  add_mapper_options(*sub, o->mapper);
  sub->add_option("--trace", o->trace_file, "Write a Chrome trace-event file (open it in Perfetto)");
  sub->add_flag("--json", o->json, "Print the outcome as JSON");
  add_time_limit(*sub, o->time_limit_s);
  add_memory_limit(*sub, o->memory_limit_gib);
  add_error_limit(*sub, o->error_limit);
  sub->callback([o, &exit_code] {
    require_mapper(o->mapper);
    exit_code = run(*o);
  });
}

}  // namespace mage::cli
