// mage explain: evaluate one mapper and say what limits it or what is wrong with it, and
// what to change (docs/explain.md).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/io.h"
#include "cli/program_choice.h"
#include "cli/progress.h"
#include "guide/guide.h"

namespace mage::cli {

namespace {

struct ExplainOptions {
  ProgramChoice program;
  MapperChoice mapper;
  bool json = false;
  double time_limit_s = 30;
  double memory_limit_gib = kDefaultMemoryLimitGiB;
  size_t error_limit = dsl::kDefaultDiagnosticLimit;
};

int explain(const ExplainOptions& o) {
  std::optional<eval::Request> program = program_request(o.program);
  if (!program) return 1;
  eval::Request request = std::move(*program);
  auto mapper = mapper_spec(o.mapper);
  if (!mapper) return 1;
  request.mapper = std::move(*mapper);

  eval::Resolved resolved;
  eval::Result result;
  guide::Feedback feedback;
  try {
    const eval::Limits limits{.time_s = o.time_limit_s,
                              .memory_bytes = memory_limit_bytes(o.memory_limit_gib),
                              .point_tasks = o.program.task_limit};
    resolved = eval::resolve(request);
    eval::check_limits(request, limits);  // before the Explainer builds the program here
    // The Explainer builds the program here, within the memory limit an evaluation has.
    const guide::Explainer explainer =
        eval::within_memory_limit(limits.memory_bytes, fmt::format("building {} to explain it", request.app),
                                  [&] { return guide::Explainer(request); });
    result = evaluate_showing_progress(request, limits);
    feedback = explainer.explain(result);
  } catch (const eval::RequestError& e) {
    return fail(e.what());
  }

  if (o.json) {
    print_json(feedback.to_json());
  } else {
    std::printf("%s\n", describe(request, resolved).c_str());
    if (result.outcome.ok())
      std::printf("simulated time: %.3g s for the timed iterations (%.4g %s)\n", result.outcome.time_s,
                  result.outcome.metric_value, result.outcome.metric_name.c_str());
    // A mapper error's message is its diagnostics: at most --error-limit of them, as `mage
    // run` prints them (the JSON keeps them all).
    if (result.outcome.status == sim::Status::MapperError && request.mapper.kind == eval::MapperKind::Text &&
        !result.diagnostics.empty()) {
      feedback.message = diagnostics_text(result.diagnostics, dsl::SourceFile{request.mapper.file, request.mapper.text},
                                          o.error_limit);
      while (!feedback.message.empty() && feedback.message.back() == '\n') feedback.message.pop_back();
    }
    std::printf("%s", guide::render(feedback).c_str());
  }
  return exit_code(result.outcome.status);
}

}  // namespace

void register_explain(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ExplainOptions>();
  auto* sub = app.add_subcommand("explain",
                                 "Evaluate a mapper and explain the outcome: what limits the time or what is wrong, "
                                 "and which mapper edits to make (exit status as mage run)");
  add_app_argument(*sub, o->program);
  add_program_options(*sub, o->program);
  add_mapper_options(*sub, o->mapper);
  sub->add_flag("--json", o->json, "Print the feedback as JSON");
  add_time_limit(*sub, o->time_limit_s);
  add_memory_limit(*sub, o->memory_limit_gib);
  add_error_limit(*sub, o->error_limit);
  sub->callback([o, &exit_code] {
    require_mapper(o->mapper);
    exit_code = explain(*o);
  });
}

}  // namespace mage::cli
