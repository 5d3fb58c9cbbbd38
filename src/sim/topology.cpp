#include "sim/topology.h"

#include <algorithm>
#include <limits>

namespace mage::sim::detail {

using kinds::MemKind;
using machine::MemId;
using machine::ProcId;

Topology::Topology(const machine::Machine& m) : m_(m) {
  const auto mems = m.memories();
  mems_per_node_ = std::max<int>(1, static_cast<int>(mems.size()) / std::max(1, m.nodes()));
  endpoint_.assign(static_cast<size_t>(mems_per_node_), 0);
  for (int i = 0; i < mems_per_node_ && i < static_cast<int>(mems.size()); ++i) {
    const machine::Memory& mem = mems[static_cast<size_t>(i)];
    if (mem.kind == MemKind::FBMEM) endpoint_[static_cast<size_t>(i)] = 1 + (mem.gpu >= 0 ? mem.gpu : mem.index);
  }
  for (const machine::Processor& p : m.processors()) {
    int home = 0;
    if (p.kind == kinds::ProcKind::GPU)
      if (auto fb = m.best_memory(p.id, MemKind::FBMEM)) home = endpoint(*fb);
    home_.push_back(home);
  }
  if (m.network().present && m.nodes() > 0) {
    auto eps = m.memories_of(m.network().endpoint, 0);
    if (!eps.empty()) endpoint_local_ = local(eps.front());
  }
  // Routes inside a node are the same on every node: summarise node 0's.
  const auto M = static_cast<size_t>(mems_per_node_);
  intra_.assign(M * M, RouteInfo{});
  for (size_t s = 0; s < M && s < mems.size(); ++s)
    for (size_t d = 0; d < M && d < mems.size(); ++d) {
      RouteInfo& r = intra_[s * M + d];
      MemId src{static_cast<int32_t>(s)}, dst{static_cast<int32_t>(d)};
      if (s == d) {
        r = RouteInfo{true, true, std::numeric_limits<double>::infinity(), 0, {}};
        continue;
      }
      auto hops = m.route(src, dst);
      if (!hops || hops->empty()) continue;
      r.reachable = true;
      r.bandwidth = std::numeric_limits<double>::infinity();
      for (const machine::Channel& c : *hops) {
        r.bandwidth = std::min(r.bandwidth, c.bandwidth);
        r.latency += c.latency;
        ++r.hops[static_cast<size_t>(hop_kind(c.src, c.dst))];
      }
    }
}

bool Topology::remote(ProcId proc, MemId mem) const { return endpoint(mem) != home(proc); }

HopKind Topology::hop_kind(MemId a, MemId b) const {
  if (m_.memory(a).node != m_.memory(b).node) return HopKind::InterNode;
  const bool fa = is_framebuffer(a), fb = is_framebuffer(b);
  if (fa && fb) return HopKind::IntraGpu;
  if (fa || fb) return HopKind::GpuHost;
  return HopKind::HostHost;
}

HopKind Topology::access_kind(ProcId proc, MemId mem) const {
  const bool fp = home(proc) != 0, fm = is_framebuffer(mem);
  if (fp && fm) return HopKind::IntraGpu;
  if (fp || fm) return HopKind::GpuHost;
  return HopKind::HostHost;
}

MemId Topology::network_endpoint(int node) const {
  if (endpoint_local_ < 0) return MemId{-1};
  return MemId{node * mems_per_node_ + endpoint_local_};
}

RouteInfo Topology::route(MemId src, MemId dst) const {
  const auto M = static_cast<size_t>(mems_per_node_);
  const auto ls = static_cast<size_t>(local(src)), ld = static_cast<size_t>(local(dst));
  const int ns = src.value / mems_per_node_, nd = dst.value / mems_per_node_;
  if (ns == nd) {
    RouteInfo r = intra_[ls * M + ld];
    if (src != dst) r.same = false;
    return r;
  }
  if (endpoint_local_ < 0) return RouteInfo{};
  const auto e = static_cast<size_t>(endpoint_local_);
  const RouteInfo& out = intra_[ls * M + e];
  const RouteInfo& in = intra_[e * M + ld];
  if (!out.reachable || !in.reachable) return RouteInfo{};
  RouteInfo r;
  r.reachable = true;
  r.bandwidth = std::min({out.bandwidth, in.bandwidth, m_.network().bandwidth});
  r.latency = out.latency + in.latency + m_.network().latency;
  for (size_t k = 0; k < kHopKinds; ++k) r.hops[k] = static_cast<uint8_t>(out.hops[k] + in.hops[k]);
  ++r.hops[static_cast<size_t>(HopKind::InterNode)];
  return r;
}

}  // namespace mage::sim::detail
