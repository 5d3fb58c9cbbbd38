// The machine model: N identical nodes, each with processors, memories, the bandwidth at
// which each processor reaches each memory (affinity), copy channels between memories
// inside a node, and a network between nodes. Machines are data: TOML files under
// machines/ (format: docs/machines.md), loaded with machine::load().
//
// All quantities are in SI units: bytes, bytes per second, flop/s, seconds.
// Processors and memories have stable integer ids (node-major, then kind, then index) and
// names such as "node 0 GPU 2" and "node 0 FBMEM 2" that the simulator and error
// messages use. This module knows nothing of the mapping language or the apps.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kinds/kinds.h"

namespace mage::machine {

// ---- Kinds ------------------------------------------------------------------------------
// Processors and memories are of the kinds kinds::ProcKind and kinds::MemKind.

// How many instances of a processor or memory a node has: one per node, per socket, per
// GPU (memories only: FBMEM), or per rank (processors only: e.g. one IO processor per process).
enum class Per { Node, Socket, Gpu, Rank };
// Which instances of a memory kind an affinity rule covers, seen from a processor: its own
// (the node's, its socket's, its GPU's), the other ones of the node, or all of the node.
enum class Reach { Own, Other, All };
std::string_view to_string(Per per);
std::string_view to_string(Reach reach);

// ---- Identifiers ------------------------------------------------------------------------

// Index into Machine::processors() / Machine::memories(). Ids are dense, start at 0 and are
// the same every time the same file is loaded with the same overrides.
using ProcId = kinds::Id<struct ProcTag>;
using MemId = kinds::Id<struct MemTag>;

// ---- Instances --------------------------------------------------------------------------

struct Processor {
  ProcId id;
  kinds::ProcKind kind = kinds::ProcKind::CPU;
  int node = 0;
  int rank = 0;           // global rank: node * ranks_per_node + rank within the node
  int index = 0;          // among the node's processors of this kind (the N in "node 0 GPU N")
  int index_in_rank = 0;  // among its rank's processors of this kind (the DSL's second coordinate)
  int socket = 0;
  int cores = 1;                 // cores the processor stands for (an OMP processor is a group)
  double fp64_flops = 0;         // flop/s
  double fp32_flops = 0;         // flop/s
  double launch_overhead_s = 0;  // runtime cost of starting one task on it
  // Irregular accesses across a link (zero-copy, a peer's memory) it keeps in flight: a
  // gather pays latency / this per access.
  int remote_accesses_in_flight = 1;
};

struct Memory {
  MemId id;
  kinds::MemKind kind = kinds::MemKind::SYSMEM;
  int node = 0;
  int index = 0;  // among the node's memories of this kind (the N in "node 0 FBMEM N")
  Per per = Per::Node;
  int socket = -1;  // the socket it belongs to (per socket or per GPU), else -1
  int gpu = -1;     // index of the GPU it belongs to (per GPU), else -1
  uint64_t capacity_bytes = 0;
  double bandwidth = 0;  // bytes/s the memory itself sustains, shared by all its users
};

// A processor's direct access to a memory instance.
struct Access {
  ProcId proc;
  MemId mem;
  double bandwidth = 0;  // bytes/s
  double latency = 0;    // s
};

enum class ChannelKind { Intra, Network };
// One hop of a copy: a direct channel between two memories of a node (each direction has the
// bandwidth on its own), or the network between the endpoint memories of two nodes.
struct Channel {
  MemId src;
  MemId dst;
  ChannelKind kind = ChannelKind::Intra;
  double bandwidth = 0;  // bytes/s
  double latency = 0;    // s
};

// ---- The description as written in the file (per node) ----------------------------------
// Kept so that descriptions and JSON show the machine the way its author wrote it. `line` is
// the line of the entry in its file (0 when unknown).

struct ProcessorSpec {
  kinds::ProcKind kind = kinds::ProcKind::CPU;
  Per per = Per::Node;
  int count = 0;  // per node, socket or rank, as `per` says
  int cores = 1;
  double fp64_flops = 0, fp32_flops = 0, launch_overhead_s = 0;
  int remote_accesses_in_flight = 1;
  int line = 0;
};
struct MemorySpec {
  kinds::MemKind kind = kinds::MemKind::SYSMEM;
  Per per = Per::Node;
  uint64_t capacity_bytes = 0;
  double bandwidth = 0;
  bool multi_node_only = false;  // exists only when nodes > 1 (RDMEM)
  int line = 0;
};
struct AffinitySpec {
  kinds::ProcKind proc = kinds::ProcKind::CPU;
  kinds::MemKind mem = kinds::MemKind::SYSMEM;
  Reach reach = Reach::Own;
  double bandwidth = 0, latency = 0;
  int line = 0;
};
struct ChannelSpec {
  std::vector<kinds::MemKind> between, and_;  // every instance of a `between` kind <-> every other
                                              // instance of an `and` kind, on the same node
  double bandwidth = 0, latency = 0;
  int line = 0;
};
struct NetworkSpec {
  double bandwidth = 0;  // bytes/s a node injects into (and receives from) the network
  double latency = 0;
  kinds::MemKind endpoint = kinds::MemKind::SYSMEM;  // memory that inter-node copies leave from / arrive in
  bool present = false;
};
struct MachineSpec {
  std::string name;         // file stem, e.g. "p100x4"
  std::string description;  // one line
  std::string source;       // file the machine was read from, e.g. "machines/p100x4.toml"
  int nodes = 1;
  int ranks_per_node = 1;
  int sockets = 1;                        // per node
  std::vector<ProcessorSpec> processors;  // at most one per kind
  std::vector<MemorySpec> memories;       // at most one per kind
  std::vector<AffinitySpec> affinities;
  std::vector<ChannelSpec> channels;
  NetworkSpec network;
};

// ---- The machine ------------------------------------------------------------------------

class Machine {
 public:
  const MachineSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  const std::string& description() const { return spec_.description; }
  const std::string& source() const { return spec_.source; }

  int nodes() const { return spec_.nodes; }
  int ranks_per_node() const { return spec_.ranks_per_node; }
  int ranks() const { return spec_.nodes * spec_.ranks_per_node; }
  int sockets_per_node() const { return spec_.sockets; }

  // Processors, ordered by node, then kind (CPU, GPU, OMP, IO, PY), then index.
  std::span<const Processor> processors() const { return processors_; }
  const Processor& processor(ProcId id) const { return processors_.at(id.index()); }
  bool has(kinds::ProcKind kind) const { return procs_per_rank(kind) > 0; }
  int procs_per_node(kinds::ProcKind kind) const;
  int procs_per_rank(kinds::ProcKind kind) const;
  // The processor the mapping language calls (rank, i) in Machine(kind); throws
  // std::out_of_range if there is none.
  ProcId processor_at(kinds::ProcKind kind, int rank, int index_in_rank) const;
  // All processors of a kind, in (rank, index) order; or those of one node.
  std::vector<ProcId> processors_of(kinds::ProcKind kind) const;
  std::vector<ProcId> processors_of(kinds::ProcKind kind, int node) const;

  // Memories, ordered by node, then kind (SYSMEM, FBMEM, ZCMEM, RDMEM, SOCKMEM), then index.
  std::span<const Memory> memories() const { return memories_; }
  const Memory& memory(MemId id) const { return memories_.at(id.index()); }
  bool has(kinds::MemKind kind) const { return mems_per_node(kind) > 0; }
  int mems_per_node(kinds::MemKind kind) const;
  std::vector<MemId> memories_of(kinds::MemKind kind) const;
  std::vector<MemId> memories_of(kinds::MemKind kind, int node) const;

  // The memories a processor can access directly: highest bandwidth first, then by id.
  std::span<const Access> accessible(ProcId proc) const;
  std::optional<Access> access(ProcId proc, MemId mem) const;
  // The instance of `kind` that `proc` reaches fastest (its own FBMEM, its socket's SOCKMEM,
  // the node's SYSMEM); nullopt if it can access none ("not visible" in the mapping language).
  std::optional<MemId> best_memory(ProcId proc, kinds::MemKind kind) const;
  // The processors that can access `mem` directly, by id.
  std::vector<ProcId> accessors(MemId mem) const;

  // A direct channel from src to dst (same node, declared in the file), else nullopt.
  std::optional<Channel> channel(MemId src, MemId dst) const;
  // Every direct channel of a node, by (src, dst).
  std::vector<Channel> channels(int node) const;
  const NetworkSpec& network() const { return spec_.network; }
  // The hops a copy from src to dst takes: none if src == dst; inside a node the fewest
  // channels (widest bottleneck, then least latency, then lowest ids); between nodes, src to
  // its node's network endpoint memory, the network, then on to dst. nullopt if unreachable.
  std::optional<std::vector<Channel>> route(MemId src, MemId dst) const;

  std::string name(ProcId id) const;  // "node 0 GPU 2"
  std::string name(MemId id) const;   // "node 0 FBMEM 2"

 private:
  friend Machine build_machine(MachineSpec spec);
  struct Link {
    double bandwidth = 0, latency = 0;
    bool present = false;
  };
  MachineSpec spec_;
  std::vector<Processor> processors_;
  std::vector<Memory> memories_;
  int procs_per_node_total_ = 0;
  int mems_per_node_total_ = 0;
  // By kind (kinds::index).
  std::array<int, kinds::kProcKinds.size()> procs_per_node_{};
  std::array<int, kinds::kProcKinds.size()> procs_per_rank_{};
  std::array<int, kinds::kProcKinds.size()> first_proc_of_kind_{};  // local index of the first processor of a kind
  std::array<int, kinds::kMemKinds.size()> mems_per_node_{};
  std::array<int, kinds::kMemKinds.size()> first_mem_of_kind_{};
  std::vector<std::vector<Access>> access_;  // by local processor index, memory ids local
  std::vector<Link> links_;                  // local src * mems_per_node + local dst
  std::vector<std::vector<int>> routes_;     // same indexing: local memory path, both ends
  std::vector<Channel> hops(int node, const std::vector<int>& path) const;
};

// ---- Loading ----------------------------------------------------------------------------

// What a user can say on the command line about a machine.
// Either may be left out: `load("lassen", {.nodes = 4})`.
struct Overrides {
  std::optional<int> nodes{};
  std::optional<int> ranks_per_node{};
};

// Every problem with a machine file or an override. what() reads
// "FILE:LINE: KEY: REASON" (parts that do not apply are left out).
class LoadError : public std::runtime_error {
 public:
  LoadError(std::string file, int line, std::string key, std::string reason);
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 0 if the problem has no line
  const std::string& key() const { return key_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
  std::string reason_;
};

// A name without '/' and not ending in ".toml" is a preset (machines/NAME.toml, built into
// the program so it works from any directory); anything else is a path to a TOML file.
Machine load(std::string_view preset_or_path, const Overrides& overrides = {});
// The same from TOML text; `source` names it in messages and gives the machine its name.
Machine load_text(std::string_view toml, std::string_view source, const Overrides& overrides = {});

struct Preset {
  std::string name;
  std::string description;
};
// The built-in presets, by name.
std::vector<Preset> presets();
// The TOML text of a built-in preset (as in machines/NAME.toml at build time).
std::optional<std::string_view> preset_text(std::string_view name);

// ---- Showing ----------------------------------------------------------------------------

// A compact, readable description: processors, memories, capacities, bandwidths.
std::string describe(const Machine& machine);
// The same as JSON (SI units; keys in a fixed, readable order; shape in docs/machines.md).
nlohmann::ordered_json as_json(const Machine& machine);

}  // namespace mage::machine
