// mage apps, mage app show: the benchmark programs and their descriptions.
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "apps/apps.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/program_choice.h"
#include "eval/eval.h"
#include "machine/machine.h"

namespace mage::cli {

namespace {

int run_apps(bool json) {
  if (json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& a : apps::list())
      list.push_back({{"name", a.name}, {"summary", a.summary}, {"ranks_per_node", a.ranks_per_node}});
    print_json(list);
    return 0;
  }
  size_t width = 0;
  for (const auto& a : apps::list()) width = std::max(width, a.name.size());
  for (const auto& a : apps::list())
    std::printf("%-*s  %s\n", static_cast<int>(width), a.name.c_str(), a.summary.c_str());
  return 0;
}

struct ShowOptions {
  ProgramChoice program;
  bool json = false;
};

int run_show(const ShowOptions& o) {
  const std::optional<eval::Request> request = program_request(o.program);
  if (!request) return 1;
  try {
    // The machine and parameters as `mage run` resolves them (the app's ranks per node too).
    const eval::Resolved resolved = eval::resolve(*request);
    eval::check_limits(*request, eval::Limits{.point_tasks = o.program.task_limit});
    const machine::Machine& m = *resolved.machine;
    const apps::Params& params = resolved.params;
    program::Program p = apps::build(request->app, params);
    if (o.json) {
      nlohmann::ordered_json j = apps::describe_json(p);
      j["machine"] = {{"name", m.name()},
                      {"nodes", params.nodes},
                      {"gpus_per_node", params.gpus_per_node},
                      {"ranks_per_node", params.ranks_per_node}};
      j["scale"] = std::string(apps::to_string(request->scale));
      print_json(j);
    } else {
      std::printf("machine: %s, %d node%s x %d GPUs, %d rank%s per node%s; scale: %s\n", m.name().c_str(), params.nodes,
                  params.nodes == 1 ? "" : "s", params.gpus_per_node, params.ranks_per_node,
                  params.ranks_per_node == 1 ? "" : "s",
                  resolved.ranks_from_app ? fmt::format(" (as {} runs by default)", request->app).c_str() : "",
                  std::string(apps::to_string(request->scale)).c_str());
      std::fputs(apps::describe(p).c_str(), stdout);
    }
    return 0;
  } catch (const eval::RequestError& e) {
    return fail(e.what());
  } catch (const apps::AppError& e) {
    return fail(e.what());
  }
}

}  // namespace

void register_apps(CLI::App& app, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  auto* list = app.add_subcommand("apps", "List the benchmark programs (as `mage app list`)");
  list->add_flag("--json", *json, "Print a JSON array of {name, summary, ranks_per_node}");
  list->callback([json, &exit_code] { exit_code = run_apps(*json); });

  auto* group = app.add_subcommand("app", "Inspect a benchmark program");
  group->require_subcommand(1);
  auto* list2 = group->add_subcommand("list", "List the benchmark programs (as `mage apps`)");
  list2->add_flag("--json", *json, "Print a JSON array of {name, summary, ranks_per_node}");
  list2->callback([json, &exit_code] { exit_code = run_apps(*json); });
  auto o = std::make_shared<ShowOptions>();
  auto* show = group->add_subcommand(
      "show", "Describe a program for a machine: per task its variants, launches, region arguments and cost");
  add_app_argument(*show, o->program);
  add_program_options(*show, o->program);
  show->add_flag("--json", o->json, "Print JSON instead of text");
  show->callback([o, &exit_code] { exit_code = run_show(*o); });
}

}  // namespace mage::cli
