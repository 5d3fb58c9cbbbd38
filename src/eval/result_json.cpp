// Result as JSON: for people and programs (Result::to_json) and, complete with the trace,
// for the pipe from the child and the cache files (result_to_json / result_from_json).
#include <nlohmann/json.hpp>

#include <array>

#include "eval/eval.h"

namespace mage::eval {

namespace {

constexpr std::array kDiagIds{
#define DIAG(id, severity, format) dsl::DiagId::id,
#include "dsl/diagnostics.def"
#undef DIAG
};

dsl::DiagId parse_diag_id(const std::string& name, const nlohmann::json& j) {
  for (dsl::DiagId id : kDiagIds)
    if (dsl::diag_name(id) == name) return id;
  throw nlohmann::json::other_error::create(501, "unknown diagnostic id " + name, &j);
}

dsl::Severity parse_severity(const std::string& name, const nlohmann::json& j) {
  for (dsl::Severity s : {dsl::Severity::Error, dsl::Severity::Warning, dsl::Severity::Note})
    if (dsl::to_string(s) == name) return s;
  throw nlohmann::json::other_error::create(501, "unknown severity " + name, &j);
}

nlohmann::ordered_json diagnostic_json(const dsl::Diagnostic& d) {
  return {{"file", d.file},
          {"line", d.loc.line},
          {"col", d.loc.col},
          {"severity", dsl::to_string(d.severity)},
          {"id", dsl::diag_name(d.id)},
          {"message", d.message},
          {"notes", d.notes}};
}

dsl::Diagnostic diagnostic_from_json(const nlohmann::json& j) {
  dsl::Diagnostic d{parse_diag_id(j.at("id").get<std::string>(), j),
                    parse_severity(j.at("severity").get<std::string>(), j),
                    j.at("file").get<std::string>(),
                    dsl::SourceLoc{j.at("line").get<int>(), j.at("col").get<int>()},
                    j.at("message").get<std::string>(),
                    j.at("notes").get<std::vector<std::string>>()};
  return d;
}

nlohmann::ordered_json timing_json(const Timing& t) {
  return {{"compile_s", t.compile_s},   {"build_s", t.build_s}, {"apply_s", t.apply_s},
          {"simulate_s", t.simulate_s}, {"wall_s", t.wall_s},   {"simulate_cpu_s", t.simulate_cpu_s}};
}

}  // namespace

nlohmann::ordered_json Result::to_json(bool with_timing) const {
  nlohmann::ordered_json j = outcome.to_json();
  nlohmann::ordered_json ds = nlohmann::ordered_json::array();
  for (const dsl::Diagnostic& d : diagnostics) ds.push_back(diagnostic_json(d));
  j["diagnostics"] = std::move(ds);
  j["mapper_log"] = mapper_log;
  if (with_timing) j["timing"] = timing_json(timing);
  return j;
}

nlohmann::ordered_json result_to_json(const Result& r) {
  nlohmann::ordered_json j = r.to_json(true);
  if (!r.outcome.trace.rows.empty() || !r.outcome.trace.events.empty())
    j["trace"] = sim::trace_to_json(r.outcome.trace);
  return j;
}

Result result_from_json(const nlohmann::json& j) {
  Result r;
  r.outcome = sim::Outcome::from_json(j);
  if (j.contains("trace")) r.outcome.trace = sim::trace_from_json(j.at("trace"));
  for (const auto& d : j.at("diagnostics")) r.diagnostics.push_back(diagnostic_from_json(d));
  r.mapper_log = j.at("mapper_log").get<std::vector<std::string>>();
  const auto& t = j.at("timing");
  r.timing = Timing{t.at("compile_s").get<double>(),  t.at("build_s").get<double>(), t.at("apply_s").get<double>(),
                    t.at("simulate_s").get<double>(), t.at("wall_s").get<double>(),  t.value("simulate_cpu_s", 0.0)};
  return r;
}

}  // namespace mage::eval
