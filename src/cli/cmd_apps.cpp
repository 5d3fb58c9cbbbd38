// mage apps, mage app show: the benchmark programs and their descriptions.
#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "apps/apps.h"
#include "cli/commands.h"
#include "eval/eval.h"
#include "machine/machine.h"

namespace mage::cli {

namespace {

int run_apps() {
  size_t width = 0;
  for (const auto& a : apps::list()) width = std::max(width, a.name.size());
  for (const auto& a : apps::list())
    std::printf("%-*s  %s\n", static_cast<int>(width), a.name.c_str(), a.summary.c_str());
  return 0;
}

struct ShowOptions {
  std::string app;
  std::string machine;
  std::optional<int> nodes;
  std::optional<int> ranks_per_node;
  std::optional<int> iterations;
  std::string scale = "published";
  bool json = false;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "mage: error: %s\n", message.c_str());
  return 1;
}

int run_show(const ShowOptions& o) {
  auto scale = apps::parse_scale(o.scale);
  if (!scale) return fail("--scale must be 'published' or 'small', not '" + o.scale + "'");
  try {
    // The machine and parameters as `mage run` resolves them (the app's ranks per node too).
    eval::Request request;
    request.app = o.app;
    request.machine = o.machine;
    request.overrides = {.nodes = o.nodes, .ranks_per_node = o.ranks_per_node};
    request.scale = *scale;
    request.iterations = o.iterations;
    const eval::Resolved resolved = eval::resolve(request);
    const machine::Machine& m = *resolved.machine;
    const apps::Params& params = resolved.params;
    program::Program p = apps::build(o.app, params);
    if (o.json) {
      nlohmann::json j = apps::describe_json(p);
      j["machine"] = {{"name", m.name()},
                      {"nodes", params.nodes},
                      {"gpus_per_node", params.gpus_per_node},
                      {"ranks_per_node", params.ranks_per_node}};
      j["scale"] = std::string(apps::to_string(*scale));
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("machine: %s, %d node%s x %d GPUs, %d rank%s per node%s; scale: %s\n", m.name().c_str(),
                  params.nodes, params.nodes == 1 ? "" : "s", params.gpus_per_node, params.ranks_per_node,
                  params.ranks_per_node == 1 ? "" : "s",
                  resolved.ranks_from_app ? fmt::format(" (as {} runs by default)", o.app).c_str() : "",
                  std::string(apps::to_string(*scale)).c_str());
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
  auto* list = app.add_subcommand("apps", "List the benchmark programs");
  list->callback([&exit_code] { exit_code = run_apps(); });

  auto* group = app.add_subcommand("app", "Inspect a benchmark program");
  group->require_subcommand(1);
  auto o = std::make_shared<ShowOptions>();
  auto* show = group->add_subcommand(
      "show", "Describe a program for a machine: per task its variants, launches, region arguments and cost");
  show->add_option("app", o->app, "Program name (see `mage apps`)")->required();
  show->add_option("--machine", o->machine, "Preset name (see `mage machines`) or path to a .toml file")->required();
  show->add_option("--nodes", o->nodes, "Number of nodes (overrides the machine file)");
  show->add_option("--ranks-per-node", o->ranks_per_node,
                   "Ranks per node (overrides the machine file and the app's default: 4 for johnson and cosma)");
  show->add_option("--scale", o->scale, "Problem size: published (default) or small");
  show->add_option("--iterations", o->iterations, "Timed iterations (default: as published)");
  show->add_flag("--json", o->json, "Print JSON instead of text");
  show->callback([o, &exit_code] { exit_code = run_show(*o); });
}

}  // namespace mage::cli
