// The Outcome as data and as JSON, and the Chrome trace export.
#include <nlohmann/json.hpp>

#include <ostream>

#include "sim/sim.h"

namespace mage::sim {

namespace {

constexpr std::array<std::pair<Status, std::string_view>, 5> kStatusNames{{
    {Status::Ok, "ok"},
    {Status::MapperError, "mapper error"},
    {Status::MappingError, "mapping error"},
    {Status::ExecutionError, "execution error"},
    {Status::SimulatorFailure, "simulator failure"},
}};

nlohmann::ordered_json path_json(const CriticalPath& cp) {
  nlohmann::ordered_json steps = nlohmann::ordered_json::array();
  for (const PathStep& s : cp.steps)
    steps.push_back({{"task", s.task},
                     {"processor", s.processor},
                     {"start_s", s.start_s},
                     {"end_s", s.end_s},
                     {"wait_s", s.wait_s},
                     {"waited_for", s.waited_for}});
  return {{"length_s", cp.length_s},
          {"task_s", cp.task_s},
          {"copy_s", cp.copy_s},
          {"queue_s", cp.queue_s},
          {"limit_s", cp.limit_s},
          {"limit_cost_s", cp.limit_cost_s},
          {"omitted_steps", cp.omitted_steps},
          {"steps", std::move(steps)}};
}

nlohmann::ordered_json oom_json(const std::optional<OutOfMemory>& oom) {
  if (!oom) return nullptr;
  nlohmann::ordered_json held = nlohmann::ordered_json::array();
  for (const HeldData& h : oom->held)
    held.push_back({{"data", h.data}, {"instances", h.instances}, {"bytes", h.bytes}});
  return {{"memory", oom->memory},
          {"memory_kind", oom->memory_kind},
          {"requested_bytes", oom->requested_bytes},
          {"capacity_bytes", oom->capacity_bytes},
          {"used_bytes", oom->used_bytes},
          {"held", std::move(held)},
          {"task", oom->task},
          {"point", oom->point},
          {"argument", oom->argument},
          {"data", oom->data},
          {"processor", oom->processor},
          {"in_flight", oom->in_flight}};
}

std::optional<OutOfMemory> oom_from_json(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  OutOfMemory oom;
  oom.memory = j.at("memory").get<std::string>();
  oom.memory_kind = j.at("memory_kind").get<std::string>();
  oom.requested_bytes = j.at("requested_bytes").get<uint64_t>();
  oom.capacity_bytes = j.at("capacity_bytes").get<uint64_t>();
  oom.used_bytes = j.at("used_bytes").get<uint64_t>();
  for (const auto& h : j.at("held"))
    oom.held.push_back(
        HeldData{h.at("data").get<std::string>(), h.at("instances").get<int64_t>(), h.at("bytes").get<uint64_t>()});
  oom.task = j.at("task").get<std::string>();
  oom.point = j.at("point").get<std::string>();
  oom.argument = j.at("argument").get<int64_t>();
  oom.data = j.at("data").get<std::string>();
  oom.processor = j.at("processor").get<std::string>();
  oom.in_flight = j.at("in_flight").get<int64_t>();
  return oom;
}

}  // namespace

std::string_view to_string(Status s) {
  for (const auto& [status, name] : kStatusNames)
    if (status == s) return name;
  return "?";
}

std::optional<Status> parse_status(std::string_view s) {
  for (const auto& [status, name] : kStatusNames)
    if (name == s) return status;
  return std::nullopt;
}

Outcome failure(Status status, std::string message) {
  Outcome o;
  o.status = status;
  o.message = std::move(message);
  return o;
}

std::string metric_name(const program::Program& program) {
  return program.metric == program::Metric::Flops ? "GFLOP/s" : "iterations/s";
}

nlohmann::ordered_json Outcome::to_json() const {
  using J = nlohmann::ordered_json;
  const Profile& p = profile;
  J procs = J::array();
  for (const ProcessorUse& u : p.processors)
    procs.push_back({{"processor", u.processor},
                     {"kind", u.kind},
                     {"tasks", u.tasks},
                     {"busy_s", u.busy_s},
                     {"busy_fraction", u.busy_fraction}});
  J mems = J::array();
  for (const MemoryPeak& m : p.memories)
    mems.push_back({{"memory", m.memory},
                    {"memory_id", m.id.value},
                    {"kind", kinds::to_string(m.kind)},
                    {"peak_bytes", m.peak_bytes},
                    {"capacity_bytes", m.capacity_bytes}});
  J tasks = J::array();
  for (const TaskCost& t : p.costliest_tasks) {
    J remote = J::array();
    for (const RemoteAccessCost& r : t.remote)
      remote.push_back(
          {{"argument", r.argument}, {"data", r.data}, {"memory", r.memory}, {"bytes", r.bytes}, {"time_s", r.time_s}});
    tasks.push_back({{"task", t.task},
                     {"processor_kind", t.processor_kind},
                     {"count", t.count},
                     {"total_s", t.total_s},
                     {"max_s", t.max_s},
                     {"processors", t.processors},
                     {"flops", t.flops},
                     {"bytes", t.bytes},
                     {"compute_s", t.compute_s},
                     {"limit_wait_s", t.limit_wait_s},
                     {"remote", std::move(remote)}});
  }
  J copies = J::array();
  for (const CopyCost& c : p.costliest_copies)
    copies.push_back({{"data", c.data},
                      {"from", c.from},
                      {"to", c.to},
                      {"inter_node", c.inter_node},
                      {"reduction", c.reduction},
                      {"count", c.count},
                      {"bytes", c.bytes},
                      {"total_s", c.total_s},
                      {"for_task", c.for_task}});
  J prof = {{"window_start_s", p.window_start_s},
            {"window_end_s", p.window_end_s},
            {"makespan_s", p.makespan_s},
            {"tasks", p.tasks},
            {"copies", p.copies},
            {"flops", p.flops},
            {"processors", std::move(procs)},
            {"bytes_moved",
             {{"intra_gpu", p.bytes_moved.intra_gpu},
              {"gpu_host", p.bytes_moved.gpu_host},
              {"host_host", p.bytes_moved.host_host},
              {"inter_node", p.bytes_moved.inter_node}}},
            {"folded_bytes", p.folded_bytes},
            {"memories", std::move(mems)},
            {"costliest_tasks", std::move(tasks)},
            {"costliest_copies", std::move(copies)},
            {"critical_path", path_json(p.critical_path)},
            {"out_of_memory", oom_json(p.out_of_memory)}};
  // A run that failed has no time and no metric: null, not a 0 that reads as a measurement.
  return J{{"status", std::string(sim::to_string(status))},
           {"message", message},
           {"time_s", ok() ? J(time_s) : J()},
           {"metric_name", metric_name},
           {"metric_value", ok() ? J(metric_value) : J()},
           {"profile", std::move(prof)}};
}

Outcome Outcome::from_json(const nlohmann::json& j) {
  Outcome o;
  const std::string status = j.at("status").get<std::string>();
  auto s = parse_status(status);
  if (!s) throw nlohmann::json::other_error::create(501, "unknown status " + status, &j);
  o.status = *s;
  o.message = j.at("message").get<std::string>();
  // null for a failed run (0 in journals and caches written before).
  o.time_s = j.at("time_s").is_null() ? 0.0 : j.at("time_s").get<double>();
  o.metric_name = j.at("metric_name").get<std::string>();
  o.metric_value = j.at("metric_value").is_null() ? 0.0 : j.at("metric_value").get<double>();
  const nlohmann::json& p = j.at("profile");
  Profile& prof = o.profile;
  prof.window_start_s = p.at("window_start_s").get<double>();
  prof.window_end_s = p.at("window_end_s").get<double>();
  prof.makespan_s = p.at("makespan_s").get<double>();
  prof.tasks = p.at("tasks").get<int64_t>();
  prof.copies = p.at("copies").get<int64_t>();
  prof.flops = p.at("flops").get<double>();
  for (const auto& u : p.at("processors"))
    prof.processors.push_back(ProcessorUse{u.at("processor").get<std::string>(), u.at("kind").get<std::string>(),
                                           u.at("tasks").get<int64_t>(), u.at("busy_s").get<double>(),
                                           u.at("busy_fraction").get<double>()});
  const auto& b = p.at("bytes_moved");
  prof.bytes_moved = ChannelBytes{b.at("intra_gpu").get<double>(), b.at("gpu_host").get<double>(),
                                  b.at("host_host").get<double>(), b.at("inter_node").get<double>()};
  // Journals written before folds were counted apart have no such key: no folds known.
  prof.folded_bytes = p.value("folded_bytes", 0.0);
  for (const auto& m : p.at("memories")) {
    const auto kind = kinds::parse_mem_kind(m.at("kind").get<std::string>());
    if (!kind) throw nlohmann::json::other_error::create(501, "unknown memory kind " + m.at("kind").dump(), &m);
    prof.memories.push_back(MemoryPeak{machine::MemId{m.at("memory_id").get<int32_t>()}, *kind,
                                       m.at("memory").get<std::string>(), m.at("peak_bytes").get<uint64_t>(),
                                       m.at("capacity_bytes").get<uint64_t>()});
  }
  for (const auto& t : p.at("costliest_tasks")) {
    TaskCost c{t.at("task").get<std::string>(),
               t.at("processor_kind").get<std::string>(),
               t.at("count").get<int64_t>(),
               t.at("total_s").get<double>(),
               t.at("max_s").get<double>(),
               t.at("processors").get<int64_t>(),
               t.at("flops").get<double>(),
               t.at("bytes").get<double>(),
               t.at("compute_s").get<double>(),
               t.at("limit_wait_s").get<double>(),
               {}};
    for (const auto& r : t.at("remote"))
      c.remote.push_back(RemoteAccessCost{r.at("argument").get<int64_t>(), r.at("data").get<std::string>(),
                                          r.at("memory").get<std::string>(), r.at("bytes").get<double>(),
                                          r.at("time_s").get<double>()});
    prof.costliest_tasks.push_back(std::move(c));
  }
  for (const auto& c : p.at("costliest_copies"))
    prof.costliest_copies.push_back(
        CopyCost{c.at("data").get<std::string>(), c.at("from").get<std::string>(), c.at("to").get<std::string>(),
                 c.at("inter_node").get<bool>(), c.at("reduction").get<bool>(), c.at("count").get<int64_t>(),
                 c.at("bytes").get<double>(), c.at("total_s").get<double>(), c.at("for_task").get<std::string>()});
  const auto& cp = p.at("critical_path");
  CriticalPath& path = prof.critical_path;
  path.length_s = cp.at("length_s").get<double>();
  path.task_s = cp.at("task_s").get<double>();
  path.copy_s = cp.at("copy_s").get<double>();
  path.queue_s = cp.at("queue_s").get<double>();
  path.limit_s = cp.at("limit_s").get<double>();
  path.limit_cost_s = cp.at("limit_cost_s").get<double>();
  path.omitted_steps = cp.at("omitted_steps").get<int64_t>();
  for (const auto& s : cp.at("steps"))
    path.steps.push_back(PathStep{s.at("task").get<std::string>(), s.at("processor").get<std::string>(),
                                  s.at("start_s").get<double>(), s.at("end_s").get<double>(),
                                  s.at("wait_s").get<double>(), s.at("waited_for").get<std::string>()});
  prof.out_of_memory = oom_from_json(p.at("out_of_memory"));
  return o;
}

// ---------------------------------------------------------------- Chrome trace

nlohmann::json chrome_trace(const Trace& trace) {
  using J = nlohmann::json;
  J events = J::array();
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 0}, {"tid", 0}, {"args", {{"name", "mage"}}}});
  for (size_t r = 0; r < trace.rows.size(); ++r) {
    events.push_back(
        {{"name", "thread_name"}, {"ph", "M"}, {"pid", 0}, {"tid", r}, {"args", {{"name", trace.rows[r]}}}});
    events.push_back(
        {{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 0}, {"tid", r}, {"args", {{"sort_index", r}}}});
  }
  for (const TraceEvent& e : trace.events) {
    J args = J::object();
    for (const auto& [k, v] : e.args) args[k] = v;
    events.push_back({{"name", e.name},
                      {"cat", e.category},
                      {"ph", "X"},
                      {"pid", 0},
                      {"tid", e.row},
                      {"ts", e.start_s * 1e6},
                      {"dur", e.duration_s * 1e6},
                      {"args", std::move(args)}});
  }
  return J{{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
}

void write_chrome_trace(const Trace& trace, std::ostream& out) {
  out << chrome_trace(trace).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

// ---------------------------------------------------------------- The trace between processes

nlohmann::json trace_to_json(const Trace& t) {
  nlohmann::json events = nlohmann::json::array();
  for (const TraceEvent& e : t.events) events.push_back({e.row, e.name, e.category, e.start_s, e.duration_s, e.args});
  return {{"rows", t.rows}, {"events", std::move(events)}};
}

Trace trace_from_json(const nlohmann::json& j) {
  Trace t;
  t.rows = j.at("rows").get<std::vector<std::string>>();
  for (const auto& e : j.at("events"))
    t.events.push_back(TraceEvent{e.at(0).get<int>(), e.at(1).get<std::string>(), e.at(2).get<std::string>(),
                                  e.at(3).get<double>(), e.at(4).get<double>(),
                                  e.at(5).get<std::vector<std::pair<std::string, std::string>>>()});
  return t;
}

}  // namespace mage::sim
