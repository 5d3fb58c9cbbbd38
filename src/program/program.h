// The model of a task-based program, with Legion's semantics: regions and fields,
// partitions into pieces (disjoint or aliased), task kinds with per-processor variants
// and cost models, index and single launches (possibly nested), futures, and the
// dependence analysis that turns the launches into a graph of point tasks.
//
// This module knows nothing about mapping, machines, simulation or the mapping language.
//
// Data is described at the granularity of *blocks*: every region is cut into disjoint
// blocks of elements, and every piece of every partition is a list of (block, count)
// spans. A disjoint partition's pieces are usually whole blocks; an aliased piece (a ghost
// or halo) takes `count` elements out of each block it overlaps, so the amount of data that
// moves between pieces is known exactly, and two pieces overlap when they share a block.
// The simulator can track validity per (block, field).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kinds/kinds.h"

namespace mage::program {

// ---------------------------------------------------------------- errors
// A program that is built inconsistently (unknown field, projection out of range, ...).
class ProgramError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------- points and domains
// A point of a 0- to 3-D space. Dimension 0 is the single point of a single launch.
struct Point {
  int dim = 0;
  std::array<int64_t, 3> c{0, 0, 0};

  Point() = default;
  Point(int64_t x) : dim(1), c{x, 0, 0} {}  // NOLINT
  Point(int64_t x, int64_t y) : dim(2), c{x, y, 0} {}
  Point(int64_t x, int64_t y, int64_t z) : dim(3), c{x, y, z} {}
  int64_t operator[](int i) const { return c[static_cast<size_t>(i)]; }
  friend bool operator==(const Point&, const Point&) = default;
};
std::string to_string(const Point& p);  // "(1,2)"; "()" for dimension 0

// A dense rectangle [0, extent) in 0 to 3 dimensions; points are numbered row-major
// (the last coordinate fastest).
struct Domain {
  int dim = 0;
  std::array<int64_t, 3> extent{1, 1, 1};

  Domain() = default;  // the 0-D domain of one point
  explicit Domain(int64_t x) : dim(1), extent{x, 1, 1} {}
  Domain(int64_t x, int64_t y) : dim(2), extent{x, y, 1} {}
  Domain(int64_t x, int64_t y, int64_t z) : dim(3), extent{x, y, z} {}

  int64_t volume() const;
  bool contains(const Point& p) const;
  int64_t linear(const Point& p) const;  // throws ProgramError when p is outside
  Point point(int64_t linear) const;
  friend bool operator==(const Domain&, const Domain&) = default;
};
std::string to_string(const Domain& d);  // "4x2"; "1" for dimension 0

// ---------------------------------------------------------------- enums
// NA (no access) names a subregion a task only iterates over (Regent's `interior <= private`):
// it needs no instance, moves no data and never conflicts.
enum class Privilege { RO, RW, WO, RED, NA };
std::string_view to_string(Privilege p);
bool reads(Privilege p);   // RO, RW (a RED instance is folded, not read)
bool writes(Privilege p);  // RW, WO

enum class RedOp { None, Sum, Prod, Min, Max };
std::string_view to_string(RedOp op);  // "+", "*", "min", "max"

enum class Precision { FP32, FP64 };
std::string_view to_string(Precision p);

enum class Access { Streaming, Gather };  // gather: irregular, through index maps
std::string_view to_string(Access a);

// ---------------------------------------------------------------- ids
// Positions in the program's tables (kinds::Id: distinct types, -1 for none, index() to index).
using RegionId = kinds::Id<struct RegionTag>;        // Program::regions
using PartitionId = kinds::Id<struct PartitionTag>;  // Program::partitions
using TaskKindId = kinds::Id<struct TaskKindTag>;    // Program::tasks
using LaunchId = kinds::Id<struct LaunchTag>;        // Program::launches
using FutureId = kinds::Id<struct FutureTag>;        // Program::futures
using PointTaskId = kinds::Id<struct PointTaskTag>;  // TaskGraph::tasks

// ---------------------------------------------------------------- data
using FieldMask = uint64_t;  // bit f = field f of the region (at most 64 fields)

// `count` elements of block `block` (count == block size: the whole block).
struct Span {
  int32_t block = 0;
  int64_t count = 0;
};

struct Field {
  std::string name;
  int64_t bytes = 0;
};

struct Region {
  std::string name;
  Domain space;  // index space (1-3 D)
  std::vector<Field> fields;
  std::vector<int64_t> blocks;  // sizes of the disjoint blocks; they sum to space.volume()
  std::vector<Span> whole;      // every block, whole (what a whole-region argument uses)

  int64_t volume() const { return space.volume(); }
  int64_t bytes_per_element() const;      // all fields
  int64_t bytes(FieldMask fields) const;  // bytes per element of the given fields
  int64_t total_bytes() const { return volume() * bytes_per_element(); }
  std::optional<int> field_index(std::string_view name) const;
  FieldMask all_fields() const;
};

// For an aliased piece: how many of its elements lie in piece `piece` (linear colour) of the
// partition's reference (disjoint) partition.
struct Overlap {
  int64_t piece = 0;
  int64_t count = 0;
};

struct Piece {
  int64_t elements = 0;
  std::vector<Span> spans;        // sorted by block, no duplicates
  std::vector<Overlap> overlaps;  // aliased partitions only
};

struct Partition {
  std::string name;
  RegionId region;
  std::string parent_name;  // the (sub)region partitioned; the root region's name by default
  Domain colors;            // colour space; pieces are indexed by linear colour
  bool disjoint = true;
  std::optional<PartitionId> reference;  // aliased: the disjoint partition `overlaps` refer to
  std::vector<Piece> pieces;
};

// ---------------------------------------------------------------- tasks
// Per-argument costs, all per element of the piece the argument names at a launch point.
// Read/write bytes default (nullopt) to the bytes of the argument's fields times the
// privilege: RO reads, WO writes, RW and RED read and write, NA nothing.
struct ArgCost {
  double flops_per_element = 0;
  std::optional<double> read_bytes_per_element;
  std::optional<double> write_bytes_per_element;
  Access access = Access::Streaming;
  // Gather only: irregular accesses each element receives per point task (its fan-in, e.g.
  // the wires that read one circuit node). Accesses across a link stall the kernel.
  double accesses_per_element = 1;
};

struct Cost {
  Precision precision = Precision::FP64;
  double flops_per_point = 0;  // constant part
  std::vector<ArgCost> args;   // by argument index; missing entries are default ArgCost
  // Share of the processor's peak flop rate the kernel sustains (dependent chains,
  // divisions and branches keep some kernels well below peak).
  double peak_fraction = 1;
};

struct Variant {
  kinds::ProcKind proc = kinds::ProcKind::CPU;
  Cost cost;
  std::optional<kinds::DimOrder> layout;  // a required dimension order (task_4's DGEMM: C); none: any
};

struct TaskKind {
  std::string name;
  bool leaf = true;  // false: an inner task, which only launches other tasks
  std::vector<Variant> variants;
  std::string description;  // one line, for people

  const Variant* variant(kinds::ProcKind k) const;
  bool has_variant(kinds::ProcKind k) const { return variant(k) != nullptr; }
};

// ---------------------------------------------------------------- launches
// Identity of a point task while projections are evaluated: its point in its launch, the
// repetition of its launch it belongs to (`step`, see Launch::steps) and its parent task
// (null at the top level).
struct PointRef {
  Point point;
  int64_t step = 0;
  const PointRef* parent = nullptr;
};

// From a launch point to the colour of the piece an argument uses.
struct Projection {
  enum class Kind { Identity, Constant, Function };
  Kind kind = Kind::Identity;
  Point constant;                                  // Kind::Constant
  std::function<Point(const PointRef&)> function;  // Kind::Function
  std::string text;                                // e.g. "(i, (i+j+ko)%4)" for descriptions

  static Projection identity();
  static Projection constant_point(Point p);
  static Projection of(std::function<Point(const PointRef&)> f, std::string text);
  Point apply(const PointRef& ref) const;
};

// Some fields of an argument used with one privilege.
struct FieldAccess {
  FieldMask fields = 0;
  Privilege privilege = Privilege::RO;
  RedOp redop = RedOp::None;  // Privilege::RED only
};

// A region argument of a task, as in Regent: one region or piece, used with one or more
// privileges on disjoint sets of its fields (e.g. RO node_cap,leakage + RW node_voltage,charge).
struct RegionArg {
  RegionId region;
  std::optional<PartitionId> partition;  // none: the whole region
  Projection projection;                 // ignored for whole-region arguments
  std::vector<FieldAccess> access;
  // The program's VIRTUAL_MAP tag (Legion's default mapper): map without an instance.
  // DISTAL sets it on every region requirement of its inner tasks; inner tasks only.
  bool virtual_tag = false;

  FieldMask fields() const;      // all fields used
  bool only(Privilege p) const;  // every access has privilege p
  bool any(Privilege p) const;   // some access has privilege p
};

struct Future {
  std::string name;
  LaunchId producer;
  RedOp reduction = RedOp::None;  // an index launch's point values combined with this op
  int64_t bytes = 8;
};

enum class LaunchKind { Index, Single };

// A launch of a task kind. Top-level launches are issued by the program's top-level task
// in the order of Program::top. A launch whose task is inner has `children`: every point
// task of this launch issues each child launch `child.steps` times, in order (child launch
// by child launch, step by step), and child projections see the parent's PointRef.
// E.g. task_7 (index over gx×gy) → task_6 (single, steps = gx, step = ko) → task_5 (index
// over 2×2) → task_4 (single, steps = 2, step = kio).
struct Launch {
  LaunchId id;
  TaskKindId task;
  LaunchKind kind = LaunchKind::Index;
  Domain domain;  // 0-D for single launches
  std::vector<RegionArg> args;
  std::vector<FutureId> consumes;    // futures read by every point
  std::optional<FutureId> produces;  // future produced (reduced over points if index)
  LaunchId parent;                   // the launch whose points issue this one; none: top level
  int64_t steps = 1;                 // repetitions per parent point (top level: 1)
  std::vector<LaunchId> children;
  // Execution fence: starts only after every launch issued before it in the same context
  // (and their descendants) completed. Used at the start and end of timed loops.
  bool fence = false;
  int iteration = -1;  // loop iteration it belongs to; -1 outside the main loop
  bool timed = false;  // part of the timed region
  // The program's SAME_ADDRESS_SPACE tag (Legion's default mapper): without a placement
  // function, a nested index launch's points stay on the launching node's (rank's)
  // processors instead of spreading over the machine. DISTAL sets it on its nested
  // launches (task_5 launched by task_6 in Cannon, SUMMA, PUMMA). Nested launches only.
  bool same_address_space = false;
};

// ---------------------------------------------------------------- the program
// What a program's figure of merit counts per second of its timed iterations.
enum class Metric : uint8_t {
  Iterations,  // timed iterations
  Flops,       // floating-point operations (the matrix multiplications), reported in GFLOP/s
};

class Program {
 public:
  std::string name;
  std::vector<Region> regions;
  std::vector<Partition> partitions;
  std::vector<TaskKind> tasks;
  std::vector<Launch> launches;  // all launches; top-level ones are listed in `top`
  std::vector<LaunchId> top;
  std::vector<Future> futures;
  int iterations = 0;         // timed iterations
  int warmup_iterations = 0;  // untimed iterations before the timed ones
  Metric metric = Metric::Iterations;
  std::vector<std::pair<std::string, std::string>> notes;  // facts for descriptions (size, ...)
  // The published program places its input data again before every iteration (DISTAL's
  // drivers), where this model places it once: a copy no CollectMemory drops stays valid from
  // one iteration to the next here, not there (docs/simulation.md, "Known differences").
  bool inputs_placed_once = false;

  // --- building (each checks its arguments and throws ProgramError)
  RegionId add_region(std::string name, Domain space, std::vector<Field> fields);
  // Cut a region into disjoint blocks (sizes summing to its volume). Must precede partitions.
  void set_blocks(RegionId r, std::vector<int64_t> sizes);
  // A partition whose pieces are given as spans (elements = sum of counts).
  PartitionId add_partition(std::string name, RegionId r, Domain colors, bool disjoint,
                            std::vector<std::vector<Span>> pieces, std::string parent_name = {});
  // A disjoint partition whose piece c is the whole blocks `blocks[c]`.
  PartitionId add_block_partition(std::string name, RegionId r, Domain colors,
                                  const std::vector<std::vector<int32_t>>& blocks, std::string parent_name = {});
  // An aliased partition described by overlaps with the pieces of a disjoint partition
  // `reference` of the same region. Every reference piece must be a single whole block.
  PartitionId add_aliased_partition(std::string name, PartitionId reference, Domain colors,
                                    std::vector<std::vector<Overlap>> overlaps, std::string parent_name = {});
  TaskKindId add_task(TaskKind kind);
  FutureId add_future(std::string name, RedOp reduction = RedOp::None, int64_t bytes = 8);
  // A launch; without a `parent` it is appended to `top`, otherwise made a child launch.
  LaunchId add_launch(Launch launch);
  // Tags (see Launch::same_address_space and RegionArg::virtual_tag); each throws
  // ProgramError when the launch cannot carry the tag (a top-level launch, a leaf task).
  void tag_same_address_space(LaunchId l);
  void tag_virtual(LaunchId l);  // every region argument of a launch of an inner task

  // --- look-ups
  std::optional<RegionId> find_region(std::string_view name) const;
  std::optional<PartitionId> find_partition(std::string_view name) const;
  std::optional<TaskKindId> find_task(std::string_view name) const;
  const TaskKind& task_of(const Launch& l) const { return tasks.at(l.task.index()); }
  // A field mask from field names of a region (throws on an unknown name).
  FieldMask fields(RegionId r, std::initializer_list<std::string_view> names) const;
  std::vector<std::string> field_names(RegionId r, FieldMask m) const;

  // Names an argument answers to in mapper rules, most specific first: the partition's
  // name, the (sub)region it partitions, the root region (duplicates removed); for a
  // whole-region argument the region's name.
  std::vector<std::string> arg_names(const RegionArg& a) const;
  // The names a mapper may use for this program (dsl::check_names warns about any other):
  // its task kinds, and every name a region argument can answer to (regions, the subregions
  // partitions are made of, partitions).
  struct MapperNames {
    std::set<std::string, std::less<>> tasks;
    std::set<std::string, std::less<>> data;
  };
  MapperNames mapper_names() const;

  // --- per point
  // The linear colour of the piece argument `a` uses at `ref` (-1 for a whole region).
  int64_t piece_of(const RegionArg& a, const PointRef& ref) const;
  const std::vector<Span>& spans_of(const RegionArg& a, int64_t piece) const;
  int64_t elements_of(const RegionArg& a, int64_t piece) const;

  // The default cost rule: the bytes one element of `a` reads and writes when its ArgCost
  // names none (the fields it reads: RO, RW, RED; the fields it writes: WO, RW, RED).
  struct ElementBytes {
    double read = 0, write = 0;
  };
  ElementBytes element_bytes(const RegionArg& a) const;

  struct PointCost {
    double flops = 0;
    Precision precision = Precision::FP64;
    std::vector<double> read_bytes;   // per argument
    std::vector<double> write_bytes;  // per argument
    double total_bytes() const;
  };
  // The cost of one point task of `l` on variant `proc` given the pieces its arguments use.
  PointCost point_cost(const Launch& l, kinds::ProcKind proc, const std::vector<int64_t>& pieces) const;

  int64_t total_bytes() const;  // all fields of all regions
};

// ---------------------------------------------------------------- dependence analysis
struct PointTask {
  LaunchId launch;
  Point point;
  int64_t step = 0;
  PointTaskId parent;  // the point task that issued it; none: top level
};

// The point tasks of a program and the dependences between them, by Legion's rules: two
// uses of data that overlap (a shared block) in a shared field conflict unless both only
// read or both reduce with the same operator; a later use depends on the earlier one.
// Consumers of a future depend on its producer's points; a fence depends on everything
// before it in its context. Dependences link tasks of the same context (siblings issued by
// the same parent point, or top-level tasks); a task completes only when its children have.
struct TaskGraph {
  std::vector<PointTask> tasks;
  // CSR adjacency: preds of task t are pred_ids[pred_start[t] .. pred_start[t+1]), its
  // direct dependences; a fenced launch's points also wait for their fence (below).
  std::vector<int64_t> pred_start, succ_start;
  std::vector<PointTaskId> pred_ids, succ_ids;
  // Execution fences, each kept as one join rather than as |before| x |after| edges (a fence
  // after P points, before a launch of P points, would be P^2 edges: 268 M for circuit on
  // 4,096 Lassen nodes): every task of fence f's before set
  // (fence_before_ids[fence_before_start[f] .. fence_before_start[f+1])) finishes before any of
  // its after set (fence_after_ids[...], ascending) starts. A task is before at most one fence
  // (fence_fed[t]) and after at most one (fence_waited[t]); -1: none.
  std::vector<int64_t> fence_before_start, fence_after_start;
  std::vector<PointTaskId> fence_before_ids, fence_after_ids;
  std::vector<int32_t> fence_fed, fence_waited;
  // Children of task t: child_ids[child_start[t] .. child_start[t+1]) (issue order).
  std::vector<int64_t> child_start;
  std::vector<PointTaskId> child_ids;
  // The piece each argument uses: pieces[piece_start[t] + arg] (-1: whole region).
  std::vector<int64_t> piece_start;
  std::vector<int64_t> pieces;
  std::vector<PointTaskId> top;  // top-level tasks in issue order
  // The point tasks of each launch: launch_tasks[launch_start[l] .. launch_start[l+1]),
  // in issue order (parent point by parent point, step by step, point by point).
  std::vector<int64_t> launch_start;
  std::vector<PointTaskId> launch_tasks;

  size_t size() const { return tasks.size(); }
  size_t fence_count() const { return fence_before_start.empty() ? 0 : fence_before_start.size() - 1; }
  // What the graph stores: direct edges and the fences' members.
  size_t edge_count() const { return pred_ids.size() + fence_before_ids.size() + fence_after_ids.size(); }
  // Every task t waits for, or that waits for t: direct dependences and its fence's members,
  // ascending (the fences expanded: for inspection, not for walks over the whole graph).
  std::vector<PointTaskId> preds(PointTaskId t) const;
  std::vector<PointTaskId> succs(PointTaskId t) const;
  std::vector<PointTaskId> children(PointTaskId t) const;
  std::vector<PointTaskId> of_launch(LaunchId l) const;
  bool has_edge(PointTaskId from, PointTaskId to) const;  // directly or through a fence
  // Calls visit(u, through_fence) for each direct successor u of task t and, when `fence_done`
  // (t is the last task before its fence to finish), each task after that fence, in ascending
  // order of u: the order one successor list of both would have, which the walks over the
  // graph (the simulator's, the bound's) keep.
  template <typename Visit>
  void for_each_successor(size_t t, bool fence_done, Visit visit) const {
    const PointTaskId* s = succ_ids.data() + succ_start[t];
    const PointTaskId* const s_end = succ_ids.data() + succ_start[t + 1];
    const PointTaskId *a = nullptr, *a_end = nullptr;
    if (fence_done) {
      const auto f = static_cast<size_t>(fence_fed[t]);
      a = fence_after_ids.data() + fence_after_start[f];
      a_end = fence_after_ids.data() + fence_after_start[f + 1];
    }
    while (s != s_end || a != a_end) {
      const bool through_fence = s == s_end || (a != a_end && *a < *s);
      const PointTaskId u = through_fence ? *a++ : *s++;
      visit(u, through_fence);
    }
  }
  int64_t piece(PointTaskId t, size_t arg) const { return pieces[static_cast<size_t>(piece_start[t.index()]) + arg]; }
};

TaskGraph analyze(const Program& p);

}  // namespace mage::program
