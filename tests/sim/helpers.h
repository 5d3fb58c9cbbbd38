// Helpers for the simulator tests: a small machine with round numbers, hand-built programs
// and plans, and look-ups into an Outcome's trace.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "machine/machine.h"
#include "mapping/mapping.h"
#include "program/program.h"
#include "sim/sim.h"

namespace mage::sim::test {

using namespace mage::program;
using kinds::DimOrder;
using kinds::MemKind;
using kinds::ProcKind;

// One node: 2 CPUs (10/20 GFLOP/s, 10 us overhead), 2 GPUs (1000/2000 GFLOP/s, 5 us),
// SYSMEM, ZCMEM, one 1 GiB FBMEM per GPU. GPU -> own FBMEM 500 GB/s, peer FBMEM 8 GB/s,
// ZCMEM 10 GB/s (1 us); CPU -> host memories 10 GB/s. Copies: FBMEM <-> host 10 GB/s
// (1 us), FBMEM <-> FBMEM 20 GB/s (2 us), host <-> host 50 GB/s (0.5 us); network
// 5 GB/s (2 us) from RDMEM when nodes > 1.
inline const char* kTinyMachine = R"(
description = "test machine"
nodes = 1
[node]
sockets = 1
[[node.processor]]
kind = "CPU"
count = 2
fp64_gflops = 10
fp32_gflops = 20
launch_overhead_us = 10
[[node.processor]]
kind = "GPU"
count = 2
fp64_gflops = 1000
fp32_gflops = 2000
launch_overhead_us = 5
[[node.memory]]
kind = "SYSMEM"
capacity_gib = 64
bandwidth_gb_per_s = 100
[[node.memory]]
kind = "FBMEM"
per = "gpu"
capacity_gib = 1
bandwidth_gb_per_s = 500
[[node.memory]]
kind = "ZCMEM"
capacity_gib = 1
bandwidth_gb_per_s = 100
[[node.memory]]
kind = "RDMEM"
capacity_gib = 1
bandwidth_gb_per_s = 100
multi_node_only = true
[[node.affinity]]
proc = "CPU"
mem = "SYSMEM"
bandwidth_gb_per_s = 10
latency_us = 0.1
[[node.affinity]]
proc = "CPU"
mem = "ZCMEM"
bandwidth_gb_per_s = 10
latency_us = 0.1
[[node.affinity]]
proc = "CPU"
mem = "RDMEM"
bandwidth_gb_per_s = 10
latency_us = 0.1
[[node.affinity]]
proc = "GPU"
mem = "FBMEM"
reach = "own"
bandwidth_gb_per_s = 500
latency_us = 0.5
[[node.affinity]]
proc = "GPU"
mem = "FBMEM"
reach = "other"
bandwidth_gb_per_s = 8
latency_us = 2
[[node.affinity]]
proc = "GPU"
mem = "ZCMEM"
bandwidth_gb_per_s = 10
latency_us = 1
[[node.channel]]
between = "FBMEM"
and = "FBMEM"
bandwidth_gb_per_s = 20
latency_us = 2
[[node.channel]]
between = "FBMEM"
and = ["SYSMEM", "ZCMEM", "RDMEM"]
bandwidth_gb_per_s = 10
latency_us = 1
[[node.channel]]
between = ["SYSMEM", "ZCMEM", "RDMEM"]
and = ["SYSMEM", "ZCMEM", "RDMEM"]
bandwidth_gb_per_s = 50
latency_us = 0.5
[network]
bandwidth_gb_per_s = 5
latency_us = 2
endpoint = "RDMEM"
)";

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

// Runs in a child process and fails the test unless the outcome is ok.
inline Outcome run_ok(const Program& p, const machine::Machine& m, const mapping::Plan& plan, bool trace = true) {
  TaskGraph g = analyze(p);
  Outcome o = run_isolated(p, g, m, plan, Options{trace, 10}, 60);
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
