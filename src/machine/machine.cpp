// Names, and the Machine built from a validated spec with its queries.
#include "machine/machine.h"

#include <fmt/format.h>
#include <algorithm>
#include <stdexcept>

#include "machine/detail.h"

namespace mage::machine {

using kinds::kMemKinds;
using kinds::kProcKinds;
using kinds::MemKind;
using kinds::ProcKind;

// ---- Names of the machine's own words -----------------------------------------------------

std::string_view to_string(Per per) {
  switch (per) {
    case Per::Node:
      return "node";
    case Per::Socket:
      return "socket";
    case Per::Gpu:
      return "gpu";
    case Per::Rank:
      return "rank";
  }
  return "?";
}

std::string_view to_string(Reach reach) {
  switch (reach) {
    case Reach::Own:
      return "own";
    case Reach::Other:
      return "other";
    case Reach::All:
      return "all";
  }
  return "?";
}

// ---- Sharing processors among ranks -----------------------------------------------------

namespace detail {

int node_count(const ProcessorSpec& p, int sockets, int ranks_per_node) {
  switch (p.per) {
    case Per::Socket:
      return p.count * sockets;
    case Per::Rank:
      return p.count * ranks_per_node;
    default:
      return p.count;
  }
}

std::optional<RankShare> rank_share(const ProcessorSpec& p, int sockets, int ranks_per_node) {
  const int total = node_count(p, sockets, ranks_per_node);
  const int ranks = ranks_per_node;
  if (total % ranks == 0) return RankShare{total / ranks, 1, p.cores};
  // Fewer processor groups than ranks: each rank owns an equal part of one group.
  if (ranks % total == 0 && p.cores % (ranks / total) == 0) {
    const int split = ranks / total;
    return RankShare{1, split, p.cores / split};
  }
  return std::nullopt;
}

}  // namespace detail

// ---- Building ---------------------------------------------------------------------------

namespace {

const ProcessorSpec* find(const MachineSpec& s, ProcKind k) {
  for (const auto& p : s.processors)
    if (p.kind == k) return &p;
  return nullptr;
}
const MemorySpec* find(const MachineSpec& s, MemKind k) {
  for (const auto& m : s.memories)
    if (m.kind == k) return &m;
  return nullptr;
}

// The socket of the i-th of `total` processors of a node (spread evenly, in order).
int socket_of(const ProcessorSpec& p, int i, int total, int sockets) {
  if (p.per == Per::Socket) return i / p.count;
  return static_cast<int>(static_cast<int64_t>(i) * sockets / total);
}

// Widest-bottleneck route with the fewest hops between every pair of a node's memories.
// Paths are lists of local memory indices including both ends; empty when unreachable.
struct Label {
  double bottleneck = 0;
  double latency = 0;
  int prev = -1;
  bool reached = false;
};
bool better(const Label& a, const Label& b) {  // a strictly preferred over b
  if (!a.reached) return false;
  if (!b.reached) return true;
  if (a.bottleneck != b.bottleneck) return a.bottleneck > b.bottleneck;
  if (a.latency != b.latency) return a.latency < b.latency;
  return a.prev < b.prev;
}

}  // namespace

Machine build_machine(MachineSpec spec) {
  Machine m;
  m.spec_ = std::move(spec);
  const MachineSpec& s = m.spec_;
  const int R = s.ranks_per_node;
  const int S = s.sockets;

  // Processors of one node, with local ids.
  std::vector<Processor> local_procs;
  for (ProcKind kind : kProcKinds) {
    m.first_proc_of_kind_[kinds::index(kind)] = static_cast<int>(local_procs.size());
    const ProcessorSpec* p = find(s, kind);
    if (!p) continue;
    const int total = detail::node_count(*p, S, R);
    const detail::RankShare share = detail::rank_share(*p, S, R).value();
    m.procs_per_rank_[kinds::index(kind)] = share.per_rank;
    m.procs_per_node_[kinds::index(kind)] = share.per_rank * R;
    for (int r = 0; r < R; ++r) {
      for (int j = 0; j < share.per_rank; ++j) {
        Processor q;
        q.id = ProcId{static_cast<int32_t>(local_procs.size())};
        q.kind = kind;
        q.rank = r;
        q.index = r * share.per_rank + j;
        q.index_in_rank = j;
        if (p->per == Per::Rank)
          q.socket = static_cast<int>(static_cast<int64_t>(r) * S / R);
        else if (share.split > 1)
          q.socket = socket_of(*p, r / share.split, total, S);
        else
          q.socket = socket_of(*p, q.index, total, S);
        q.cores = share.cores;
        q.fp64_flops = p->fp64_flops / share.split;
        q.fp32_flops = p->fp32_flops / share.split;
        q.launch_overhead_s = p->launch_overhead_s;
        q.remote_accesses_in_flight = p->remote_accesses_in_flight;
        local_procs.push_back(q);
      }
    }
  }
  const int gpus = m.procs_per_node_[kinds::index(ProcKind::GPU)];
  const int gpu0 = m.first_proc_of_kind_[kinds::index(ProcKind::GPU)];

  // Memories of one node.
  std::vector<Memory> local_mems;
  for (MemKind kind : kMemKinds) {
    m.first_mem_of_kind_[kinds::index(kind)] = static_cast<int>(local_mems.size());
    const MemorySpec* ms = find(s, kind);
    if (!ms || (ms->multi_node_only && s.nodes == 1)) continue;
    const int count = ms->per == Per::Socket ? S : ms->per == Per::Gpu ? gpus : 1;
    m.mems_per_node_[kinds::index(kind)] = count;
    for (int i = 0; i < count; ++i) {
      Memory mem;
      mem.id = MemId{static_cast<int32_t>(local_mems.size())};
      mem.kind = kind;
      mem.index = i;
      mem.per = ms->per;
      if (ms->per == Per::Socket) mem.socket = i;
      if (ms->per == Per::Gpu) {
        mem.gpu = i;
        mem.socket = local_procs[static_cast<size_t>(gpu0 + i)].socket;
      }
      mem.capacity_bytes = ms->capacity_bytes;
      mem.bandwidth = ms->bandwidth;
      local_mems.push_back(mem);
    }
  }
  const int P = static_cast<int>(local_procs.size());
  const int M = static_cast<int>(local_mems.size());
  m.procs_per_node_total_ = P;
  m.mems_per_node_total_ = M;

  // Which memories each processor of a node reaches.
  std::vector<std::vector<Access>> local_access(static_cast<size_t>(P));
  for (const Processor& p : local_procs) {
    auto& list = local_access[p.id.index()];
    for (const AffinitySpec& a : s.affinities) {
      if (a.proc != p.kind) continue;
      for (const Memory& mem : local_mems) {
        if (mem.kind != a.mem) continue;
        const bool own = mem.per == Per::Node || (mem.per == Per::Socket && mem.socket == p.socket) ||
                         (mem.per == Per::Gpu && p.kind == ProcKind::GPU && mem.gpu == p.index);
        const bool covered = a.reach == Reach::All || (a.reach == Reach::Own) == own;
        if (covered) list.push_back(Access{p.id, mem.id, a.bandwidth, a.latency});
      }
    }
    std::sort(list.begin(), list.end(), [](const Access& x, const Access& y) {
      if (x.bandwidth != y.bandwidth) return x.bandwidth > y.bandwidth;
      return x.mem < y.mem;
    });
  }

  // Channels between the memories of a node.
  m.links_.assign(static_cast<size_t>(M) * static_cast<size_t>(M), {});
  for (const ChannelSpec& c : s.channels) {
    for (const Memory& x : local_mems) {
      for (const Memory& y : local_mems) {
        if (x.id == y.id) continue;
        const bool xa = std::find(c.between.begin(), c.between.end(), x.kind) != c.between.end();
        const bool yb = std::find(c.and_.begin(), c.and_.end(), y.kind) != c.and_.end();
        const bool ya = std::find(c.between.begin(), c.between.end(), y.kind) != c.between.end();
        const bool xb = std::find(c.and_.begin(), c.and_.end(), x.kind) != c.and_.end();
        if ((xa && yb) || (ya && xb)) {
          auto& l = m.links_[static_cast<size_t>(x.id.value * M + y.id.value)];
          l = {c.bandwidth, c.latency, true};
        }
      }
    }
  }

  // Routes: for each source, relax by hop count until every reachable memory has a label
  // (the widest path among the shortest ones; ties to less latency, then lower ids).
  m.routes_.assign(static_cast<size_t>(M) * static_cast<size_t>(M), {});
  for (int src = 0; src < M; ++src) {
    std::vector<Label> best(static_cast<size_t>(M));
    std::vector<std::vector<int>> path(static_cast<size_t>(M));
    best[static_cast<size_t>(src)] = {1e300, 0, -1, true};
    path[static_cast<size_t>(src)] = {src};
    std::vector<int> frontier{src};
    while (!frontier.empty()) {
      std::vector<Label> next(static_cast<size_t>(M));
      for (int u : frontier) {
        for (int v = 0; v < M; ++v) {
          const auto& l = m.links_[static_cast<size_t>(u * M + v)];
          if (!l.present || best[static_cast<size_t>(v)].reached) continue;
          const Label& bu = best[static_cast<size_t>(u)];
          Label cand{std::min(bu.bottleneck, l.bandwidth), bu.latency + l.latency, u, true};
          if (better(cand, next[static_cast<size_t>(v)])) next[static_cast<size_t>(v)] = cand;
        }
      }
      frontier.clear();
      for (int v = 0; v < M; ++v) {
        if (!next[static_cast<size_t>(v)].reached) continue;
        best[static_cast<size_t>(v)] = next[static_cast<size_t>(v)];
        path[static_cast<size_t>(v)] = path[static_cast<size_t>(next[static_cast<size_t>(v)].prev)];
        path[static_cast<size_t>(v)].push_back(v);
        frontier.push_back(v);
      }
    }
    for (int dst = 0; dst < M; ++dst)
      m.routes_[static_cast<size_t>(src * M + dst)] = std::move(path[static_cast<size_t>(dst)]);
  }

  // Replicate the node.
  for (int node = 0; node < s.nodes; ++node) {
    for (const Processor& lp : local_procs) {
      Processor p = lp;
      p.id = ProcId{node * P + lp.id.value};
      p.node = node;
      p.rank = node * R + lp.rank;
      m.processors_.push_back(p);
      std::vector<Access> list = local_access[lp.id.index()];
      for (Access& a : list) {
        a.proc = p.id;
        a.mem = MemId{node * M + a.mem.value};
      }
      m.access_.push_back(std::move(list));
    }
    for (const Memory& lm : local_mems) {
      Memory mem = lm;
      mem.id = MemId{node * M + lm.id.value};
      mem.node = node;
      m.memories_.push_back(mem);
    }
  }
  return m;
}

// ---- Queries ----------------------------------------------------------------------------

int Machine::procs_per_node(ProcKind kind) const { return procs_per_node_[kinds::index(kind)]; }
int Machine::procs_per_rank(ProcKind kind) const { return procs_per_rank_[kinds::index(kind)]; }
int Machine::mems_per_node(MemKind kind) const { return mems_per_node_[kinds::index(kind)]; }

ProcId Machine::processor_at(ProcKind kind, int rank, int index_in_rank) const {
  const int per_rank = procs_per_rank(kind);
  if (rank < 0 || rank >= ranks() || index_in_rank < 0 || index_in_rank >= per_rank)
    throw std::out_of_range(fmt::format("no {} processor ({}, {}) in a machine of {} ranks with {} per rank",
                                        to_string(kind), rank, index_in_rank, ranks(), per_rank));
  const int node = rank / ranks_per_node();
  const int local_rank = rank % ranks_per_node();
  return ProcId{node * procs_per_node_total_ + first_proc_of_kind_[kinds::index(kind)] + local_rank * per_rank +
                index_in_rank};
}

std::vector<ProcId> Machine::processors_of(ProcKind kind) const {
  std::vector<ProcId> out;
  for (int node = 0; node < nodes(); ++node) {
    auto part = processors_of(kind, node);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::vector<ProcId> Machine::processors_of(ProcKind kind, int node) const {
  std::vector<ProcId> out;
  if (node < 0 || node >= nodes()) return out;
  const int first = node * procs_per_node_total_ + first_proc_of_kind_[kinds::index(kind)];
  for (int i = 0; i < procs_per_node(kind); ++i) out.push_back(ProcId{first + i});
  return out;
}

std::vector<MemId> Machine::memories_of(MemKind kind) const {
  std::vector<MemId> out;
  for (int node = 0; node < nodes(); ++node) {
    auto part = memories_of(kind, node);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::vector<MemId> Machine::memories_of(MemKind kind, int node) const {
  std::vector<MemId> out;
  if (node < 0 || node >= nodes()) return out;
  const int first = node * mems_per_node_total_ + first_mem_of_kind_[kinds::index(kind)];
  for (int i = 0; i < mems_per_node(kind); ++i) out.push_back(MemId{first + i});
  return out;
}

std::span<const Access> Machine::accessible(ProcId proc) const { return access_.at(proc.index()); }

std::optional<Access> Machine::access(ProcId proc, MemId mem) const {
  for (const Access& a : accessible(proc))
    if (a.mem == mem) return a;
  return std::nullopt;
}

std::optional<MemId> Machine::best_memory(ProcId proc, MemKind kind) const {
  for (const Access& a : accessible(proc))  // fastest first
    if (memory(a.mem).kind == kind) return a.mem;
  return std::nullopt;
}

std::vector<ProcId> Machine::accessors(MemId mem) const {
  std::vector<ProcId> out;
  const int node = memory(mem).node;
  for (int i = 0; i < procs_per_node_total_; ++i) {
    ProcId p{node * procs_per_node_total_ + i};
    if (access(p, mem)) out.push_back(p);
  }
  return out;
}

std::optional<Channel> Machine::channel(MemId src, MemId dst) const {
  const Memory& a = memory(src);
  const Memory& b = memory(dst);
  if (a.node != b.node) return std::nullopt;
  const int M = mems_per_node_total_;
  const Link& l = links_[static_cast<size_t>((src.value % M) * M + dst.value % M)];
  if (!l.present) return std::nullopt;
  return Channel{src, dst, ChannelKind::Intra, l.bandwidth, l.latency};
}

std::vector<Channel> Machine::channels(int node) const {
  std::vector<Channel> out;
  const int M = mems_per_node_total_;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j)
      if (auto c = channel(MemId{node * M + i}, MemId{node * M + j})) out.push_back(*c);
  return out;
}

std::vector<Channel> Machine::hops(int node, const std::vector<int>& path) const {
  std::vector<Channel> out;
  const int M = mems_per_node_total_;
  for (size_t i = 1; i < path.size(); ++i)
    out.push_back(*channel(MemId{node * M + path[i - 1]}, MemId{node * M + path[i]}));
  return out;
}

std::optional<std::vector<Channel>> Machine::route(MemId src, MemId dst) const {
  const Memory& a = memory(src);
  const Memory& b = memory(dst);
  const int M = mems_per_node_total_;
  auto local_path = [&](int from, int to) -> const std::vector<int>& {
    return routes_[static_cast<size_t>(from * M + to)];
  };
  if (a.node == b.node) {
    const auto& path = local_path(src.value % M, dst.value % M);
    if (path.empty()) return std::nullopt;
    return hops(a.node, path);
  }
  if (!spec_.network.present || mems_per_node(spec_.network.endpoint) == 0) return std::nullopt;
  const int endpoint = first_mem_of_kind_[kinds::index(spec_.network.endpoint)];
  const auto& out_path = local_path(src.value % M, endpoint);
  const auto& in_path = local_path(endpoint, dst.value % M);
  if (out_path.empty() || in_path.empty()) return std::nullopt;
  std::vector<Channel> result = hops(a.node, out_path);
  result.push_back(Channel{MemId{a.node * M + endpoint}, MemId{b.node * M + endpoint}, ChannelKind::Network,
                           spec_.network.bandwidth, spec_.network.latency});
  for (const Channel& c : hops(b.node, in_path)) result.push_back(c);
  return result;
}

std::string Machine::name(ProcId id) const {
  const Processor& p = processor(id);
  return fmt::format("node {} {} {}", p.node, to_string(p.kind), p.index);
}

std::string Machine::name(MemId id) const {
  const Memory& m = memory(id);
  return fmt::format("node {} {} {}", m.node, to_string(m.kind), m.index);
}

}  // namespace mage::machine
