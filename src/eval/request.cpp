// Checking and resolving a Request in the parent (machine, program parameters, mapper
// text) and its cache key.
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

#include "eval/detail.h"

namespace mage::eval {

namespace {

// Bump when the meaning of a Result's JSON changes; the model sources are hashed anyway.
constexpr std::string_view kFormatVersion = "1";

bool is_path(std::string_view s) {
  return s.find('/') != std::string_view::npos || (s.size() >= 5 && s.substr(s.size() - 5) == ".toml");
}

// The TOML text of a preset or a file, and the name load_text gives it.
std::pair<std::string, std::string> machine_text(const std::string& name) {
  if (!is_path(name)) {
    if (auto text = machine::preset_text(name)) return {std::string(*text), fmt::format("machines/{}.toml", name)};
    machine::load(name);  // throws LoadError with the list of presets
    throw RequestError("unknown machine preset '" + name + "'");
  }
  std::error_code ec;
  if (std::filesystem::is_directory(name, ec))
    throw RequestError(fmt::format("{}: is a directory, not a machine file", name));
  std::ifstream in(name, std::ios::binary);
  if (!in) throw RequestError(fmt::format("{}: cannot read the machine file: {}", name, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return {text.str(), name};
}

// Machines loaded so far (an optimizer sends thousands of requests for one machine).
std::shared_ptr<const machine::Machine> load_machine(const std::string& text, const std::string& source,
                                                     const machine::Overrides& o) {
  using Key = std::tuple<std::string, std::string, std::optional<int>, std::optional<int>>;
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const machine::Machine>> loaded;
  Key key{source, text, o.nodes, o.ranks_per_node};
  {
    std::lock_guard lock(mutex);
    if (auto it = loaded.find(key); it != loaded.end()) return it->second;
  }
  auto m = std::make_shared<const machine::Machine>(machine::load_text(text, source, o));
  std::lock_guard lock(mutex);
  if (loaded.size() > 64) loaded.clear();
  return loaded.emplace(std::move(key), std::move(m)).first->second;
}

nlohmann::ordered_json params_json(const apps::Params& p) {
  return {{"nodes", p.nodes},
          {"gpus_per_node", p.gpus_per_node},
          {"ranks_per_node", p.ranks_per_node},
          {"cpus_per_node", p.cpus_per_node},
          {"omps_per_node", p.omps_per_node},
          {"scale", std::string(apps::to_string(p.scale))},
          {"iterations", p.iterations ? nlohmann::ordered_json(*p.iterations) : nlohmann::ordered_json()},
          {"place_every_iteration", p.place_every_iteration}};
}

// Point tasks of a built program: each launch's points times the times it is issued
// (top level: once; nested: each point of its parent launch issues it `steps` times).
// Saturates at INT64_MAX.
int64_t count_point_tasks(const program::Program& p) {
  int64_t total = 0;
  auto add = [](int64_t a, int64_t b) {
    int64_t s = 0;
    return __builtin_add_overflow(a, b, &s) ? INT64_MAX : s;
  };
  auto mul = [](int64_t a, int64_t b) {
    int64_t m = 0;
    return __builtin_mul_overflow(a, b, &m) ? INT64_MAX : m;
  };
  auto visit = [&](auto& self, program::LaunchId id, int64_t issues) -> void {
    const program::Launch& l = p.launches[id.index()];
    const int64_t points = mul(issues, l.domain.volume());
    total = add(total, points);
    for (program::LaunchId c : l.children) self(self, c, mul(points, p.launches[c.index()].steps));
  };
  for (program::LaunchId l : p.top) visit(visit, l, 1);
  return total;
}

// Builds the program to find configurations the app does not support before a child is
// started, and counts its point tasks; the program itself is built again in the child.
// Never at more than 2 timed iterations: the count for more is extrapolated from 1 and 2
// (every app repeats the same launches each iteration), so that a huge --iterations costs
// nothing here. With the app's default iterations (at most 50) it builds the program as is.
struct Size {
  int64_t point_tasks = 0;
  int iterations = 0;  // timed
};

Size check_app(const std::string& app, const apps::Params& params) {
  static std::mutex mutex;
  static std::map<std::string, Size> known;
  const std::string key = app + " " + params_json(params).dump();
  {
    std::lock_guard lock(mutex);
    if (auto it = known.find(key); it != known.end()) return it->second;
  }
  int iterations = params.iterations.value_or(0);
  auto count = [&](std::optional<int> n) {
    apps::Params q = params;
    q.iterations = n;
    const program::Program p = apps::build(app, q);
    if (!n) iterations = p.iterations;
    return count_point_tasks(p);
  };
  int64_t n = 0;
  try {
    if (!params.iterations || *params.iterations <= 2) {
      n = count(params.iterations);
    } else {
      const int64_t one = count(1), two = count(2);
      const int64_t per_iteration = two - one;
      int64_t more = 0;
      if (__builtin_mul_overflow(per_iteration, int64_t{*params.iterations} - 1, &more) ||
          __builtin_add_overflow(one, more, &n))
        n = INT64_MAX;
    }
  } catch (const std::exception& e) {
    throw RequestError(e.what());
  }
  std::lock_guard lock(mutex);
  if (known.size() > 4096) known.clear();
  known.emplace(key, Size{n, iterations});
  return Size{n, iterations};
}

// "12,345,678"
std::string thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void check_task_limit(const std::string& app, const apps::Params& params, const Size& size, int64_t limit) {
  if (limit <= 0 || size.point_tasks <= limit) return;
  throw LimitError(fmt::format(
      "{} with {} timed iteration{} on {} node{} would run {} {} point tasks, more than the limit of {} "
      "(--task-limit N raises it, --task-limit 0 lifts it)",
      app, size.iterations, size.iterations == 1 ? "" : "s", params.nodes, params.nodes == 1 ? "" : "s",
      size.point_tasks == INT64_MAX ? "more than" : "about", thousands(size.point_tasks), thousands(limit)));
}

// resolve(), and the machine's TOML text and the name it was loaded under (for the key).
struct ResolvedText {
  Resolved resolved;
  std::string machine_text;
  std::string source;
};

ResolvedText resolve_with_text(const Request& r) {
  const apps::AppInfo* app = apps::find(r.app);
  if (!app) {
    std::string names;
    for (const auto& a : apps::list()) names += (names.empty() ? "" : ", ") + a.name;
    throw RequestError(fmt::format("unknown app '{}' (apps: {})", r.app, names));
  }

  ResolvedText out;
  Resolved& res = out.resolved;
  res.overrides = r.overrides;
  try {
    std::tie(out.machine_text, out.source) = machine_text(r.machine);
    res.machine = load_machine(out.machine_text, out.source, res.overrides);
  } catch (const machine::LoadError& e) {
    throw RequestError(e.what());
  }
  // Neither the request nor the machine file chose the ranks per node: the app's preference.
  if (!res.overrides.ranks_per_node && res.machine->ranks_per_node() == 1 && app->ranks_per_node != 1) {
    res.overrides.ranks_per_node = app->ranks_per_node;
    res.ranks_from_app = true;
    try {
      res.machine = load_machine(out.machine_text, out.source, res.overrides);
    } catch (const machine::LoadError& e) {
      throw RequestError(
          fmt::format("{} runs as {} ranks per node by default, which this machine cannot (give the "
                      "ranks per node, e.g. --ranks-per-node 1): {}",
                      app->name, app->ranks_per_node, e.what()));
    }
  }
  const machine::Machine& m = *res.machine;

  if (r.params) {
    res.params = *r.params;
  } else {
    res.params = apps::params_for(m, r.scale, r.iterations);
    res.params.place_every_iteration = r.place_every_iteration;
  }
  return out;
}

}  // namespace

Resolved resolve(const Request& request) { return resolve_with_text(request).resolved; }

int64_t point_tasks(const Request& request) {
  const Resolved resolved = resolve(request);
  return check_app(request.app, resolved.params).point_tasks;
}

void check_limits(const Request& request, const Limits& limits) {
  const Resolved resolved = resolve(request);
  check_task_limit(request.app, resolved.params, check_app(request.app, resolved.params), limits.point_tasks);
}

MapperSpec mapper_text(std::string text, std::string file) {
  return MapperSpec{MapperKind::Text, std::move(text), std::move(file)};
}
MapperSpec expert_mapper() { return MapperSpec{MapperKind::Expert, "", ""}; }
MapperSpec default_mapper() { return MapperSpec{MapperKind::Default, "", ""}; }

std::string_view to_string(Fault f) {
  switch (f) {
    case Fault::None:
      return "none";
    case Fault::Crash:
      return "crash";
    case Fault::Hang:
      return "hang";
    case Fault::Garbage:
      return "garbage";
    case Fault::Silent:
      return "silent";
    case Fault::Exhaust:
      return "exhaust";
  }
  return "?";
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::Compiling:
      return "compiling the mapper";
    case Phase::Building:
      return "building the program";
    case Phase::Mapping:
      return "mapping";
    case Phase::Simulating:
      return "simulating";
  }
  return "?";
}

std::optional<std::string_view> expert_mapper_text(std::string_view app) {
  for (const auto& e : detail::embedded_experts())
    if (e.app == app) return e.text;
  return std::nullopt;
}

std::string_view model_version() {
  static const std::string version = fmt::format("{}-{}", kFormatVersion, detail::kModelHash);
  return version;
}

std::string cache_key(const Request& request) { return detail::prepare(request).key; }

namespace detail {

std::string content_hash(std::string_view text) {
  __extension__ using u128 = unsigned __int128;
  const u128 prime = (u128{1} << 88) | 0x13b;
  u128 h = (u128{0x6c62272e07bb0142ull} << 64) | 0x62b821756295c58dull;
  for (unsigned char c : text) {
    h ^= c;
    h *= prime;
  }
  return fmt::format("{:016x}{:016x}", static_cast<uint64_t>(h >> 64), static_cast<uint64_t>(h));
}

Prepared prepare(const Request& r, int64_t task_limit) {
  Prepared p;
  ResolvedText resolved = resolve_with_text(r);
  const machine::Overrides& overrides = resolved.resolved.overrides;
  p.app = r.app;
  p.machine = std::move(resolved.resolved.machine);
  p.machine_text = std::move(resolved.machine_text);
  p.params = resolved.resolved.params;
  check_task_limit(p.app, p.params, check_app(p.app, p.params), task_limit);

  p.mapper_kind = r.mapper.kind;
  switch (r.mapper.kind) {
    case MapperKind::Text:
      p.mapper = dsl::SourceFile{r.mapper.file.empty() ? "mapper.map" : r.mapper.file, r.mapper.text};
      break;
    case MapperKind::Expert: {
      auto text = expert_mapper_text(p.app);
      if (!text) throw RequestError(fmt::format("no expert mapper for app '{}'", p.app));
      p.mapper = dsl::SourceFile{fmt::format("mappers/expert/{}.map", p.app), std::string(*text)};
      break;
    }
    case MapperKind::Default:
      p.mapper = dsl::SourceFile{"default", ""};
      break;
  }
  p.options = r.options;
  p.fault = r.debug_fault;

  nlohmann::ordered_json material = {
      {"model", model_version()},
      {"app", p.app},
      {"params", params_json(p.params)},
      {"machine",
       {{"source", resolved.source},
        {"text", p.machine_text},
        // As applied: the app's preferred ranks per node hash as the same explicit override.
        {"nodes", overrides.nodes ? nlohmann::ordered_json(*overrides.nodes) : nlohmann::ordered_json()},
        {"ranks_per_node",
         overrides.ranks_per_node ? nlohmann::ordered_json(*overrides.ranks_per_node) : nlohmann::ordered_json()}}},
      // An expert mapper is its text: the same key as that text under the same file name.
      {"mapper",
       {{"kind", p.mapper_kind == MapperKind::Default ? "default" : "text"},
        {"file", p.mapper.name},
        {"text", p.mapper.text}}},
      {"options", {{"trace", p.options.trace}, {"top", p.options.top}}},
      {"fault", to_string(p.fault)}};
  // The user's texts may hold bytes that are not UTF-8 (a Latin-1 comment): the JSON shows
  // them replaced, and their raw bytes follow it, so that two such texts never share a key.
  p.key_material = material.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const std::string* raw : {&resolved.source, &p.machine_text, &p.mapper.name, &p.mapper.text})
    p.key_material += fmt::format("\n{}:{}", raw->size(), *raw);
  p.key = content_hash(p.key_material);
  return p;
}

}  // namespace detail
}  // namespace mage::eval
