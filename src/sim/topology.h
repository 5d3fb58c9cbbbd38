// The machine as the simulator sees it (internal to sim; no SimGrid here): copy endpoints
// (an FBMEM is an endpoint, all host memories of a node are one), which accesses cross a
// link, and the routes between memories with their bottleneck bandwidth, latency and the
// kinds of channel they cross.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "machine/machine.h"

namespace mage::sim::detail {

// The kind of channel a hop crosses (ChannelBytes in sim.h).
enum class HopKind { IntraGpu, GpuHost, HostHost, InterNode };
inline constexpr size_t kHopKinds = 4;

struct RouteInfo {
  bool reachable = false;
  bool same = false;                      // source and destination are the same memory: no hop
  double bandwidth = 0;                   // bottleneck, bytes/s (infinite when same)
  double latency = 0;                     // sum over hops, s
  std::array<uint8_t, kHopKinds> hops{};  // how many hops of each kind
};

class Topology {
 public:
  explicit Topology(const machine::Machine& m);

  const machine::Machine& machine() const { return m_; }
  int nodes() const { return m_.nodes(); }
  int mems_per_node() const { return mems_per_node_; }
  int local(machine::MemId mem) const { return mem.value % mems_per_node_; }

  // Copy endpoint of a memory within its node: 0 = host memory, 1 + i = FBMEM i.
  int endpoint(machine::MemId mem) const { return endpoint_[static_cast<size_t>(local(mem))]; }
  bool is_framebuffer(machine::MemId mem) const { return endpoint(mem) != 0; }
  // The endpoint a processor sits at: a GPU at its own framebuffer, others at host memory.
  int home(machine::ProcId proc) const { return home_[static_cast<size_t>(proc.value)]; }
  // Whether proc's access to mem crosses a link between endpoints (zero-copy memory or a
  // peer's framebuffer read by a GPU): such traffic is simulated as a transfer.
  bool remote(machine::ProcId proc, machine::MemId mem) const;
  HopKind hop_kind(machine::MemId a, machine::MemId b) const;
  // The kind of link a processor's access to a memory crosses.
  HopKind access_kind(machine::ProcId proc, machine::MemId mem) const;

  // The route of a copy (machine::Machine::route, summarised). Memories of other nodes go
  // through each node's network endpoint memory.
  RouteInfo route(machine::MemId src, machine::MemId dst) const;
  // The network endpoint memory of a node (-1 without a network).
  machine::MemId network_endpoint(int node) const;

 private:
  const machine::Machine& m_;
  int mems_per_node_ = 1;
  std::vector<int> endpoint_;     // by local memory index
  std::vector<int> home_;         // by processor id
  std::vector<RouteInfo> intra_;  // local src * mems_per_node + local dst (node 0's routes)
  int endpoint_local_ = -1;       // local index of the network endpoint memory
};

}  // namespace mage::sim::detail
