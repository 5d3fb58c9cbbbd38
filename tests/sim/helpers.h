// Helpers for the simulator tests: a small machine with round numbers, hand-built programs
// and plans, and look-ups into an Outcome's trace.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "../test_support.h"
#include "eval/eval.h"
#include "machine/machine.h"
#include "mapping/mapping.h"
#include "program/program.h"
#include "sim/sim.h"

namespace mage::sim::test {

using namespace mage::program;
using kinds::DimOrder;
using kinds::MemKind;
using kinds::ProcKind;

// The machine of most simulator tests (described in its file).
inline const std::string kTinyMachine = mage::test::test_machine_text("tiny");

inline machine::Machine tiny(int nodes = 1) { return machine::load_text(kTinyMachine, "tiny.toml", {.nodes = nodes}); }

inline machine::ProcId gpu(const machine::Machine& m, int i, int node = 0) {
  return m.processors_of(kinds::ProcKind::GPU, node).at(static_cast<size_t>(i));
}
inline machine::ProcId cpu(const machine::Machine& m, int i, int node = 0) {
  return m.processors_of(kinds::ProcKind::CPU, node).at(static_cast<size_t>(i));
}
inline machine::MemId mem(const machine::Machine& m, kinds::MemKind k, int i = 0, int node = 0) {
  return m.memories_of(k, node).at(static_cast<size_t>(i));
}

// A leaf task kind with CPU and GPU variants sharing one cost model.
inline TaskKind leaf(std::string name, Cost cost, std::optional<DimOrder> layout = std::nullopt) {
  TaskKind k;
  k.name = std::move(name);
  k.leaf = true;
  k.variants = {Variant{ProcKind::CPU, cost, layout}, Variant{ProcKind::GPU, cost, layout}};
  return k;
}

inline RegionArg arg(const Program& p, RegionId r, std::optional<PartitionId> part, Privilege priv,
                     std::initializer_list<std::string_view> fields, Projection proj = Projection::identity()) {
  RegionArg a;
  a.region = r;
  a.partition = part;
  a.projection = std::move(proj);
  a.access = {FieldAccess{p.fields(r, fields), priv, priv == Privilege::RED ? RedOp::Sum : RedOp::None}};
  return a;
}

// A single launch at the top level.
inline LaunchId single(Program& p, TaskKindId t, std::vector<RegionArg> args, bool timed = true) {
  Launch l;
  l.task = t;
  l.kind = LaunchKind::Single;
  l.args = std::move(args);
  l.timed = timed;
  l.iteration = 0;
  return p.add_launch(std::move(l));
}

// An index launch at the top level.
inline LaunchId index(Program& p, TaskKindId t, Domain d, std::vector<RegionArg> args, bool timed = true) {
  Launch l;
  l.task = t;
  l.kind = LaunchKind::Index;
  l.domain = d;
  l.args = std::move(args);
  l.timed = timed;
  l.iteration = 0;
  return p.add_launch(std::move(l));
}

// Where each point task runs and where each of its arguments lives (plan_for asks for point
// task t of the graph by its position).
struct Placement {
  machine::ProcId proc;
  std::vector<machine::MemId> mems;  // one per argument; MemId{-1}: VIRTUAL
  kinds::Layout layout{};
  bool collect = false;
};

inline mapping::Plan plan_for(const Program& p, const TaskGraph& g, const machine::Machine& m,
                              const std::function<Placement(int t)>& place) {
  mapping::Plan plan;
  plan.mapper_name = "test";
  plan.task_kinds.resize(p.tasks.size());
  for (size_t t = 0; t < g.size(); ++t) {
    Placement where = place(static_cast<int>(t));
    mapping::TaskPlacement tp;
    tp.processor = where.proc;
    tp.kind = m.processor(where.proc).kind == kinds::ProcKind::GPU ? ProcKind::GPU : ProcKind::CPU;
    for (machine::MemId mid : where.mems) {
      mapping::ArgPlacement ap;
      ap.is_virtual = mid.value < 0;
      ap.memory = mid;
      ap.layout = where.layout;
      ap.collect = where.collect;
      tp.args.push_back(ap);
    }
    plan.tasks.push_back(std::move(tp));
  }
  return plan;
}

// Simulates in a child process (SimGrid allows one simulation per process), as eval does
// for every evaluation; `time_limit_s` and `memory_limit_bytes` 0: no limit.
inline Outcome simulate_in_child(const Program& p, const TaskGraph& g, const machine::Machine& m,
                                 const mapping::Plan& plan, const Options& options = {}, double time_limit_s = 0,
                                 uint64_t memory_limit_bytes = 0) {
  return eval::simulate(p, g, m, plan, options, eval::Limits{time_limit_s, memory_limit_bytes});
}

// Runs in a child process and fails the test unless the outcome is ok.
inline Outcome run_ok(const Program& p, const machine::Machine& m, const mapping::Plan& plan, bool trace = true) {
  TaskGraph g = analyze(p);
  Outcome o = simulate_in_child(p, g, m, plan, Options{trace, 10}, 60);
  EXPECT_EQ(o.status, Status::Ok) << o.message;
  return o;
}

inline std::vector<const TraceEvent*> events(const Outcome& o, const std::string& category) {
  std::vector<const TraceEvent*> out;
  for (const TraceEvent& e : o.trace.events)
    if (e.category == category) out.push_back(&e);
  return out;
}

inline const TraceEvent& task_event(const Outcome& o, const std::string& name) {
  for (const TraceEvent& e : o.trace.events)
    if (e.category == "task" && e.name == name) return e;
  throw std::runtime_error("no task event " + name);
}

inline std::string arg_of(const TraceEvent& e, const std::string& key) {
  for (const auto& [k, v] : e.args)
    if (k == key) return v;
  return "";
}

}  // namespace mage::sim::test
