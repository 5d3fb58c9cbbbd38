// The Explainer: resolves the request once, rebuilds what an evaluation decided (the
// mapper's Plan, or its MappingError) and hands the evaluation to the explainer of its status.
#include <set>
#include <variant>

#include "apps/apps.h"
#include "guide/detail.h"

namespace mage::guide {

struct Explainer::State {
  eval::Request request;
  std::shared_ptr<const machine::Machine> machine;
  program::Program program;
  program::TaskGraph graph;
};

namespace {

// The mapper's text as eval names it in diagnostics; none for the default mapper.
std::optional<dsl::SourceFile> source_of(const eval::MapperSpec& mapper, const std::string& app) {
  switch (mapper.kind) {
    case eval::MapperKind::Text:
      return dsl::SourceFile{mapper.file, mapper.text};
    case eval::MapperKind::Expert:
      if (auto text = eval::expert_mapper_text(app))
        return dsl::SourceFile{"mappers/expert/" + app + ".map", std::string(*text)};
      return std::nullopt;
    case eval::MapperKind::Default:
      return std::nullopt;
  }
  return std::nullopt;
}

// Applies the mapper as the evaluation did; nullopt when it does not compile or bind.
std::optional<mapping::ApplyResult> apply(const Explainer::State& s, const std::optional<dsl::SourceFile>& source) {
  if (!source) return mapping::apply_default(s.program, s.graph, *s.machine);
  dsl::BindResult bound = dsl::load_mapper(*source, mapping::shape_of(*s.machine));
  if (!bound.mapper) return std::nullopt;
  return mapping::apply(s.program, s.graph, *s.machine, *bound.mapper);
}

}  // namespace

Explainer::Explainer(const eval::Request& request) : state_(std::make_unique<State>()) {
  eval::Resolved resolved = eval::resolve(request);
  state_->request = request;
  state_->machine = resolved.machine;
  try {
    state_->program = apps::build(request.app, resolved.params);
  } catch (const std::exception& e) {
    throw eval::RequestError(e.what());
  }
  state_->graph = program::analyze(state_->program);
}

Explainer::~Explainer() = default;
Explainer::Explainer(Explainer&&) noexcept = default;
Explainer& Explainer::operator=(Explainer&&) noexcept = default;

Feedback Explainer::explain(const eval::Result& result) const { return explain(state_->request.mapper, result); }

Feedback Explainer::explain(const eval::MapperSpec& mapper, const eval::Result& result) const {
  const State& s = *state_;
  const std::optional<dsl::SourceFile> source = source_of(mapper, s.request.app);
  const sim::Status status = result.outcome.status;
  std::optional<mapping::ApplyResult> applied;
  if (status == sim::Status::Ok || status == sim::Status::MappingError || status == sim::Status::ExecutionError)
    applied = apply(s, source);
  const auto* plan = applied ? std::get_if<mapping::Plan>(&*applied) : nullptr;
  const auto* error = applied ? std::get_if<mapping::MappingError>(&*applied) : nullptr;
  const detail::Context c{result, *s.machine, s.program, s.graph, source ? &*source : nullptr, plan, error};

  Feedback f;
  switch (status) {
    case sim::Status::MapperError:
      f = detail::explain_mapper_error(c);
      break;
    case sim::Status::MappingError:
      f = detail::explain_mapping_error(c);
      break;
    case sim::Status::ExecutionError:
      f = detail::explain_execution_error(c);
      break;
    case sim::Status::SimulatorFailure:
      f = detail::explain_simulator_failure(c);
      break;
    case sim::Status::Ok:
      f = detail::explain_performance(c);
      break;
  }
  f.status = status;
  f.message = result.outcome.message;
  detail::order_hints(f.hints);
  return f;
}

Feedback explain(const eval::Request& request, const eval::Result& result) {
  return Explainer(request).explain(result);
}

}  // namespace mage::guide
