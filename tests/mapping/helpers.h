// Helpers for the mapping tests: a program built for a machine, mappers from text or from
// mappers/expert, and look-ups into a Plan.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../test_support.h"
#include "apps/apps.h"
#include "dsl/dsl.h"
#include "machine/machine.h"
#include "mapping/mapping.h"
#include "program/program.h"

namespace mage::mapping::test {

using mage::test::read_text;

using mage::test::expert_mapper_path;

// A program built for a machine (apps::Params from the machine, as `mage app show` does).
struct Setup {
  machine::Machine machine;
  program::Program program;
  program::TaskGraph graph;
};

inline std::unique_ptr<Setup> setup_on(machine::Machine m, const std::string& app,
                                       apps::Scale scale = apps::Scale::Small) {
  apps::Params params = apps::params_for(m, scale);
  if (params.gpus_per_node == 0) params.gpus_per_node = 4;  // a GPU-less machine: the app as for 4 GPUs
  auto s = std::make_unique<Setup>(Setup{std::move(m), apps::build(app, params), {}});
  s->graph = program::analyze(s->program);
  return s;
}

inline std::unique_ptr<Setup> setup(const std::string& app, const std::string& preset, int nodes = 1,
                                    int ranks_per_node = 1, apps::Scale scale = apps::Scale::Small) {
  return setup_on(machine::load(preset, {.nodes = nodes, .ranks_per_node = ranks_per_node}), app, scale);
}

// Compiles and binds mapper text for a machine; fails the test on errors.
inline dsl::Mapper mapper_for(const std::string& text, const machine::Machine& m, const std::string& name = "t.map") {
  dsl::SourceFile src{name, text};
  dsl::BindResult b = dsl::load_mapper(src, shape_of(m));
  if (!b.mapper) {
    ADD_FAILURE() << dsl::format_diagnostics(b.diagnostics, src);
    throw std::runtime_error("mapper does not bind");
  }
  return *b.mapper;
}

inline dsl::Mapper expert_for(const std::string& app, const machine::Machine& m) {
  return mapper_for(read_text(expert_mapper_path(app)), m, "mappers/expert/" + app + ".map");
}

// The plan, or a test failure with the error's message.
inline Plan plan_of(const ApplyResult& r) {
  if (const auto* e = std::get_if<MappingError>(&r)) {
    ADD_FAILURE() << "mapping error: " << e->message;
    throw std::runtime_error("mapping error");
  }
  return std::get<Plan>(r);
}

inline MappingError error_of(const ApplyResult& r) {
  if (std::holds_alternative<Plan>(r)) {
    ADD_FAILURE() << "expected a mapping error, got a plan";
    throw std::runtime_error("no mapping error");
  }
  return std::get<MappingError>(r);
}

inline const std::string& task_name(const Setup& s, program::PointTaskId t) {
  return s.program.task_of(s.program.launches[s.graph.tasks[t.index()].launch.index()]).name;
}

// Point tasks whose task kind is `task`, in graph order.
inline std::vector<program::PointTaskId> tasks_named(const Setup& s, const std::string& task) {
  std::vector<program::PointTaskId> out;
  for (size_t t = 0; t < s.graph.size(); ++t)
    if (task_name(s, program::PointTaskId::at(t)) == task) out.push_back(program::PointTaskId::at(t));
  return out;
}

inline const machine::Processor& proc_of(const Setup& s, const Plan& p, program::PointTaskId t) {
  return s.machine.processor(p.tasks[t.index()].processor);
}

inline const machine::Memory& mem_of(const Setup& s, const Plan& p, program::PointTaskId t, size_t arg) {
  return s.machine.memory(p.tasks[t.index()].args.at(arg).memory);
}

// The argument index of `t` whose names include `name` (partition or region).
inline size_t arg_named(const Setup& s, program::PointTaskId t, const std::string& name) {
  const program::Launch& l = s.program.launches[s.graph.tasks[t.index()].launch.index()];
  for (size_t a = 0; a < l.args.size(); ++a) {
    auto names = s.program.arg_names(l.args[a]);
    if (std::find(names.begin(), names.end(), name) != names.end()) return a;
  }
  throw std::runtime_error("no argument " + name);
}

inline bool same_plan(const Plan& a, const Plan& b) {
  if (a.tasks.size() != b.tasks.size() || a.task_kinds.size() != b.task_kinds.size()) return false;
  for (size_t t = 0; t < a.tasks.size(); ++t) {
    const TaskPlacement &x = a.tasks[t], &y = b.tasks[t];
    if (x.kind != y.kind || x.processor != y.processor || x.args.size() != y.args.size() ||
        x.placement_rule_line != y.placement_rule_line || x.from_set != y.from_set)
      return false;
    for (size_t i = 0; i < x.args.size(); ++i) {
      const ArgPlacement &p = x.args[i], &q = y.args[i];
      if (p.is_virtual != q.is_virtual || p.memory != q.memory || !(p.layout == q.layout) || p.collect != q.collect ||
          p.memory_rule_line != q.memory_rule_line || p.layout_rule_line != q.layout_rule_line)
        return false;
    }
  }
  for (size_t k = 0; k < a.task_kinds.size(); ++k) {
    const TaskKindPolicy &x = a.task_kinds[k], &y = b.task_kinds[k];
    if (x.instance_limit != y.instance_limit || x.control_replicated != y.control_replicated || x.kind != y.kind ||
        x.kind_rule_line != y.kind_rule_line)
      return false;
  }
  return a.mapper_name == b.mapper_name && a.top_level_processor == b.top_level_processor;
}

}  // namespace mage::mapping::test
