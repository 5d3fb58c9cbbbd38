// Helpers for the app tests.
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "apps/apps.h"
#include "program/program.h"

namespace mage::apps::test {

using namespace mage::program;
using kinds::DimOrder;
using kinds::MemKind;
using kinds::ProcKind;

inline Params machine(int nodes, int gpus_per_node = 4, Scale scale = Scale::Published) {
  Params p;
  p.nodes = nodes;
  p.gpus_per_node = gpus_per_node;
  p.scale = scale;
  return p;
}

// The first top-level or nested launch of a task (throws if none).
inline const Launch& first_launch(const Program& p, const std::string& task) {
  for (const Launch& l : p.launches)
    if (p.task_of(l).name == task) return l;
  throw std::runtime_error("no launch of " + task);
}

inline const TaskKind& task_named(const Program& p, const std::string& task) {
  auto id = p.find_task(task);
  if (!id) throw std::runtime_error("no task " + task);
  return p.tasks[id->index()];
}

// Top-level launches of one (timed) iteration, by task name, in order.
inline std::vector<std::string> iteration_tasks(const Program& p, int iteration) {
  std::vector<std::string> out;
  for (LaunchId id : p.top) {
    const Launch& l = p.launches[id.index()];
    if (l.iteration == iteration) out.push_back(p.task_of(l).name);
  }
  return out;
}

inline int count_timed_iterations(const Program& p) {
  std::set<int> its;
  for (const Launch& l : p.launches)
    if (l.timed) its.insert(l.iteration);
  return static_cast<int>(its.size());
}

// Point tasks of the graph whose launch runs `task`.
inline std::vector<PointTaskId> tasks_of(const Program& p, const TaskGraph& g, const std::string& task) {
  std::vector<PointTaskId> out;
  for (size_t t = 0; t < g.size(); ++t)
    if (p.task_of(p.launches[g.tasks[t].launch.index()]).name == task) out.push_back(PointTaskId::at(t));
  return out;
}

inline Point colour(const Program& p, const TaskGraph& g, PointTaskId t, size_t arg) {
  const Launch& l = p.launches[g.tasks[t.index()].launch.index()];
  const Partition& part = p.partitions[l.args[arg].partition->index()];
  return part.colors.point(g.piece(t, arg));
}

inline void expect_within(double actual, double expected, double tolerance, const std::string& what) {
  EXPECT_NEAR(actual / expected, 1.0, tolerance) << what << ": " << actual << " vs " << expected;
}

}  // namespace mage::apps::test
