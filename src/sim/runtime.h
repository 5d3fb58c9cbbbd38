// The runtime model (internal to sim; no SimGrid here): which point tasks are ready, the
// instances and the validity of their data, the copies a task needs, memory accounting,
// instance limits, and the record of what happened. The engine (engine.cpp) drives it:
// it tells the model when tasks and copies start and end, and carries out the copies and
// task executions the model asks for on SimGrid.
//
// Every decision is made in a deterministic order (task ids, instance ids, copy ids);
// nothing iterates over an unordered container.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "mapping/mapping.h"
#include "program/program.h"
#include "sim/sim.h"
#include "sim/topology.h"

namespace mage::sim::detail {

using program::PointTaskId;
using InstId = int32_t;
using CopyId = int32_t;

// What a task costs once started: overhead, compute and local memory traffic are fixed
// durations; remote accesses are transfers between the memory and the processor.
struct RemoteAccess {
  machine::MemId mem;
  bool to_processor = true;  // reading (memory -> processor), else writing
  int64_t bytes = 0;
};
// One argument's part of a task's cost, for the profile.
struct ArgWork {
  int32_t arg = 0;
  machine::MemId mem;
  bool remote = false;  // accessed across a link
  double bytes = 0;     // read and written (AOS waste included)
  double access_s = 0;  // bytes at the access bandwidth, uncontended
  double stall_s = 0;   // gathers across a link
};
struct TaskWork {
  double overhead_s = 0;
  double compute_s = 0;
  double local_s = 0;  // bytes / bandwidth of local arguments
  double stall_s = 0;  // gathers across a link: latency per access, not hidden by compute
  std::vector<RemoteAccess> remote;
};

// The per-launch, per-argument facts the model needs, computed once.
struct ArgInfo {
  program::FieldMask normal = 0;   // fields used with RO, RW or WO (not NA)
  program::FieldMask read = 0;     // fields whose data must be present (RO, RW)
  program::FieldMask written = 0;  // RW, WO
  program::FieldMask reduced = 0;  // RED
  program::RedOp redop = program::RedOp::None;
  bool read_only() const { return normal != 0 && written == 0; }
};

struct Instance {
  program::RegionId region;
  machine::MemId mem;
  kinds::Layout layout;
  program::FieldMask fields = 0;
  program::RedOp redop = program::RedOp::None;  // None: a normal instance
  std::vector<program::Span> spans;             // sorted by block
  uint64_t bytes = 0;
  int32_t pins = 0;              // tasks and copies using it
  int32_t entries = 0;           // blocks where it holds valid data or pending reductions
  std::vector<CopyId> inflight;  // copies into it that have not arrived
  // Mapped tasks that write or reduce into it and have not completed: a copy out of it for
  // a task that depends on one of them waits for it (tasks map ahead of their predecessors).
  std::vector<PointTaskId> writers;
  bool alive = true;
  program::PartitionId partition;  // what it was created for (naming); none: the whole region
  int64_t piece = -1;
  PointTaskId first_task;
  program::LaunchId reduced_by;  // a reduction instance: the launch whose contributions it holds

  int64_t count(int32_t block) const;  // elements of `block` it holds (0 if none)
};

struct Copy {
  InstId src = -1, dst = -1;
  machine::MemId src_mem, dst_mem;
  int64_t bytes = 0;
  bool fold = false;  // applying a reduction instance
  int32_t deps_left = 0;
  std::vector<CopyId> dependents;
  std::vector<PointTaskId> waiters;
  PointTaskId for_task;
  double issued_s = 0, start_s = -1, end_s = -1;
  bool done = false;
};

// The cost model of one launch on one variant, per element of each argument's piece.
struct LaunchCost {
  program::Precision precision = program::Precision::FP64;
  double flops_per_point = 0;
  double peak_fraction = 1;
  struct Arg {
    double flops = 0, read = 0, write = 0;  // per element
    bool gather = false;
    double accesses = 1;  // gather: accesses per element
  };
  std::vector<Arg> args;
};

// A task's use of an instance, from mapping to completion.
struct Use {
  InstId inst = -1;
  int32_t arg = 0;
  bool collect = false;
  bool read_only = false;
};

enum class Phase : uint8_t { Waiting, Limited, Mapped, Runnable, Running, BodyDone, Complete };

struct TaskState {
  int32_t preds_left = 0;      // predecessors (and the fence before it) not completed
  int32_t preds_unmapped = 0;  // predecessors not mapped (and the fence before it, until it completes)
  int32_t children_left = 0;
  int32_t copies_left = 0;
  Phase phase = Phase::Waiting;
  bool issued = false;
  double ready_s = -1, mapped_s = -1, runnable_s = -1, start_s = -1, end_s = -1, complete_s = -1;
  PointTaskId gate;          // the predecessor or parent whose event released it last
  CopyId last_copy = -1;     // the copy it waited for last
  PointTaskId prev_on_proc;  // the task its processor ran before it
  PointTaskId last_child;    // the child that completed last
  PointTaskId slot_from;     // the task whose completion freed the instance-limit slot it waited for
  double release_s = -1;     // when a future it consumes reaches its node (after the producer completed)
};

class Runtime {
 public:
  Runtime(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
          const mapping::Plan& plan);

  // Problems visible before simulating (execution errors: layout mismatch, inaccessible
  // memory, missing variant; or an inconsistent plan). Empty when none.
  struct Problem {
    Status status = Status::Ok;
    std::string message;
  };
  Problem check() const;

  const Topology& topology() const { return topo_; }
  const program::Program& program() const { return p_; }
  const program::TaskGraph& graph() const { return g_; }
  const machine::Machine& machine() const { return m_; }
  const mapping::Plan& plan() const { return plan_; }

  // ---- driving (the engine calls these, in simulated time order)
  void start(double now);  // issues the top-level tasks
  // The processor's runnable task with the lowest id (removed from its queue), or none.
  PointTaskId next_runnable(machine::ProcId proc);
  // With `args`, also each accessed argument's part (in argument order).
  TaskWork work(PointTaskId t, std::vector<ArgWork>* args = nullptr) const;
  // Records the start and returns what the task costs.
  TaskWork task_started(PointTaskId t, double now);
  void task_ended(PointTaskId t, double now);
  void copy_started(CopyId c, double now);
  void copy_ended(CopyId c, double now);
  void fail(Status status, std::string message);
  // Tasks whose futures arrive at `now` become ready (the engine calls it at each time
  // take_timers gave).
  void timers_due(double now);

  // What the engine must do next: copies whose sources are ready (in id order) and
  // processors that got a runnable task.
  // The engine swaps them out (keeping the capacity of `into`).
  void take_ready_copies(std::vector<CopyId>& into);
  void take_wakeups(std::vector<int32_t>& into);
  // Times at which timers_due must be called (each once), new since the last call.
  void take_timers(std::vector<double>& into);

  // Seconds one stage of the runtime's collectives between nodes takes: a message over the
  // network plus its handling by the runtime on the receiving node (a meta-task, charged as
  // the node's CPU launch overhead). Also what an inter-node copy waits for its request to
  // reach the source node.
  double message_s() const { return message_s_; }
  // Stages of a collective (all-reduce or broadcast) among `nodes` nodes: Legion's
  // collectives are trees of radix LEGION_COLLECTIVE_RADIX = 8 (legion_config.h).
  static int collective_stages(int nodes);

  bool finished() const { return completed_ == static_cast<int64_t>(g_.size()); }
  int64_t completed() const { return completed_; }  // point tasks completed so far
  bool failed() const { return failure_.status != Status::Ok; }
  const Problem& failure() const { return failure_; }
  // The allocation that failed, when the failure is out of memory.
  const std::optional<OutOfMemory>& out_of_memory() const { return out_of_memory_; }
  // Running tasks, runnable tasks and copies not yet arrived: 0 while not finished means
  // nothing can ever happen again.
  int64_t active() const { return running_ + runnable_ + copies_pending_ + timers_pending_; }
  // Processors that have at least one task in the plan (ids in order).
  std::vector<machine::ProcId> used_processors() const;
  // Memories where the plan puts an argument: the only ones that can hold an instance.
  std::vector<machine::MemId> used_memories() const;

  // ---- records (for the profile and the trace)
  const std::vector<TaskState>& tasks() const { return tasks_; }
  const std::vector<Copy>& copies() const { return copies_; }
  const std::vector<Instance>& instances() const { return instances_; }
  const std::vector<uint64_t>& peak_bytes() const { return peak_; }
  // Bytes timed tasks moved by reading or writing across a link (zero-copy, peer memory).
  const std::array<double, kHopKinds>& access_bytes() const { return access_bytes_; }
  bool timed(PointTaskId t) const;
  std::string task_label(PointTaskId t) const;  // "task_4 (0,1)"
  std::string data_label(InstId i) const;       // "B_gpus[(0,1)].vals"
  std::string data_name(InstId i) const;        // "B_gpus"
  double task_flops(PointTaskId t) const;       // of its variant (leaf tasks)

 private:
  // ---- scheduling (runtime.cpp)
  // Mapped as soon as it is issued and its predecessors are mapped (Legion maps ahead);
  // runnable once mapped, its copies arrived, its predecessors completed and the futures it
  // consumes reached its node.
  void queue_mapping(PointTaskId t);
  void preds_completed(PointTaskId t, double now, PointTaskId gate);
  void try_runnable(PointTaskId t, double now);
  // Seconds after producer q completes until a future it produces is usable by task u on
  // u's node (0 when u consumes no future of q's launch, or when no network is crossed).
  double future_delay(PointTaskId q, PointTaskId u);
  int launch_nodes(program::LaunchId l);  // distinct nodes its point tasks run on
  void flush_ready(double now);
  machine::ProcId launcher(PointTaskId t) const;
  bool acquire_slot(PointTaskId t);
  void release_slot(PointTaskId t);
  void map_task(PointTaskId t, double now);
  void make_runnable(PointTaskId t, double now);
  void complete(PointTaskId t, double now);
  const mapping::TaskPlacement& placement(PointTaskId t) const { return plan_.tasks[t.index()]; }
  const program::Launch& launch_of(PointTaskId t) const;
  const ArgInfo& arg_info(PointTaskId t, size_t arg) const;

  // ---- data (coherence.cpp)
  struct Holder {
    InstId inst = -1;
    program::FieldMask valid = 0;
  };
  struct BlockState {
    std::vector<Holder> holders;  // normal instances with valid data
    std::vector<Holder> pending;  // reduction instances with unfolded contributions
  };
  BlockState& block(program::RegionId r, int32_t b) { return blocks_[static_cast<size_t>(block_base_[r.index()] + b)]; }
  void map_argument(PointTaskId t, size_t arg, double now);
  // The instances holding `fields` of the argument in its memory: existing ones for the
  // fields they have (as Legion maps a requirement to several instances), a new one for
  // the rest. False after an out-of-memory error.
  bool find_or_create(PointTaskId t, size_t arg, const std::vector<program::Span>& spans, program::FieldMask fields,
                      program::RedOp redop, std::vector<std::pair<InstId, program::FieldMask>>& parts);
  void map_part(PointTaskId t, size_t arg, InstId i, program::FieldMask fields, double now);
  const LaunchCost& launch_cost(PointTaskId t) const;
  // Frees instances that only hold read-only copies valid elsewhere, unused, oldest first,
  // until `need` bytes are free (Legion's collection under memory pressure).
  void collect_redundant(machine::MemId mem, uint64_t need,
                         const std::vector<std::pair<InstId, program::FieldMask>>& keep);
  InstId best_source(program::RegionId r, int32_t b, int field, int64_t need, machine::MemId dst, InstId exclude);
  bool instant(InstId src, InstId dst) const;
  CopyId new_copy(InstId src, InstId dst, int64_t bytes, bool fold, PointTaskId t, double now);
  void wait_for(PointTaskId t, CopyId c);
  void set_valid(InstId i, int32_t b, program::FieldMask f);
  void clear_valid(InstId i, int32_t b, program::FieldMask f);
  void invalidate_others(InstId keep, int32_t b, program::FieldMask f);
  void add_pending(InstId i, int32_t b, program::FieldMask f);
  void drop_pending(program::RegionId r, int32_t b, program::FieldMask f);
  // Applies reduction instance `red`'s pending contributions to `fields` of the spans to the
  // nearest valid instance, before task t reuses it for another operation.
  void apply_pending(PointTaskId t, InstId red, const std::vector<program::Span>& spans, program::FieldMask fields,
                     double now);
  void kill_dead(program::RegionId r, int32_t b, program::FieldMask dead);
  void unpin(InstId i);
  void maybe_free(InstId i);
  void release_uses(PointTaskId t);
  void add_writer(InstId i, PointTaskId t);
  bool depends_on(PointTaskId t, PointTaskId w) const;  // w is one of t's predecessors
  // Records the allocation that does not fit and returns the error message.
  std::string record_out_of_memory(machine::MemId mem, uint64_t bytes, PointTaskId t, size_t arg);
  int64_t& reads_left(program::RegionId r, int32_t b, int f) {
    return reads_left_[static_cast<size_t>((block_base_[r.index()] + b) * 64 + f)];
  }
  int64_t& reductions_left(program::RegionId r, int32_t b, int f) {
    return reductions_left_[static_cast<size_t>((block_base_[r.index()] + b) * 64 + f)];
  }

  const program::Program& p_;
  const program::TaskGraph& g_;
  const machine::Machine& m_;
  const mapping::Plan& plan_;
  Topology topo_;

  std::vector<std::vector<ArgInfo>> args_;  // by launch, by argument
  std::vector<int64_t> block_base_;         // by region: index of its first block
  std::vector<BlockState> blocks_;
  std::vector<int64_t> reads_left_;  // (block, field) -> reads by tasks not completed
  // (block, field) -> reductions by tasks not completed: pending reductions stay while more
  // come (a reused reduction instance is applied first), even when nobody reads them.
  std::vector<int64_t> reductions_left_;

  std::vector<TaskState> tasks_;
  std::vector<int64_t> fence_left_;             // by fence: the tasks before it not yet complete
  std::vector<Use> uses_;                       // appended as tasks map; a task's are contiguous
  std::vector<int32_t> uses_begin_, uses_end_;  // by task
  mutable std::vector<std::array<int32_t, kinds::kProcKinds.size()>> cost_index_;  // by launch, by kind: into costs_
  mutable std::vector<LaunchCost> costs_;
  std::vector<std::pair<InstId, int64_t>> scratch_sources_, scratch_folds_;
  std::vector<std::pair<InstId, program::FieldMask>> scratch_parts_;
  std::vector<std::pair<int32_t, program::FieldMask>> scratch_blocks_;
  std::vector<CopyId> scratch_copies_;
  std::vector<Instance> instances_;
  std::vector<std::vector<InstId>> by_mem_region_;  // memory * regions + region: live instances there
  std::vector<InstId>& instances_in(machine::MemId mem, program::RegionId r) {
    return by_mem_region_[static_cast<size_t>(mem.value) * p_.regions.size() + r.index()];
  }
  std::vector<Copy> copies_;
  std::vector<uint64_t> used_, peak_;  // by memory id

  std::vector<std::priority_queue<PointTaskId, std::vector<PointTaskId>, std::greater<>>> runnable_q_;  // by proc
  std::vector<PointTaskId> last_on_proc_;  // by proc: the last task started there
  std::vector<PointTaskId> ready_batch_;
  std::vector<CopyId> ready_copies_;
  std::vector<int32_t> wakeups_;
  struct Slots {
    int64_t in_flight = 0;
    std::priority_queue<PointTaskId, std::vector<PointTaskId>, std::greater<>> waiting;
  };
  std::map<std::pair<machine::ProcId, program::TaskKindId>, Slots> slots_;

  std::array<double, kHopKinds> access_bytes_{};
  double message_s_ = 0;
  std::vector<int> launch_nodes_;                      // by launch: 0 until computed
  std::map<double, std::vector<PointTaskId>> timers_;  // due -> tasks to try to make runnable then
  std::vector<std::vector<CopyId>> copies_after_;      // by task: copies waiting for it to complete
  std::vector<double> new_timers_;
  int64_t timers_pending_ = 0;
  int64_t completed_ = 0;
  int64_t running_ = 0;
  int64_t runnable_ = 0;
  int64_t copies_pending_ = 0;
  Problem failure_;
  std::optional<OutOfMemory> out_of_memory_;
};

}  // namespace mage::sim::detail
