// Showing a machine: compact text for people and language models, JSON for programs.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "machine/machine.h"

namespace mage::machine {

using kinds::kMemKinds;
using kinds::kProcKinds;
using kinds::MemKind;
using kinds::ProcKind;

namespace {

std::string flops(double v) {
  if (v >= 1e12) return fmt::format("{:g} TFLOP/s", v / 1e12);
  return fmt::format("{:g} GFLOP/s", v / 1e9);
}
std::string gbps(double v) { return fmt::format("{:g} GB/s", v / 1e9); }
std::string gib(uint64_t bytes) {
  return fmt::format("{:g} GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
}
std::string us(double s) { return fmt::format("{:g} us", s * 1e6); }

std::string kinds(const std::vector<MemKind>& ks) {
  std::string out;
  for (size_t i = 0; i < ks.size(); ++i) out += (i ? ", " : "") + std::string(to_string(ks[i]));
  return out;
}

std::string plural(int n, std::string_view word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

// A processor of the kind as the machine has it (after sharing among ranks).
const Processor* first_of(const Machine& m, ProcKind kind) {
  auto ids = m.processors_of(kind, 0);
  return ids.empty() ? nullptr : &m.processor(ids.front());
}

}  // namespace

std::string describe(const Machine& m) {
  const MachineSpec& s = m.spec();
  std::string out;
  out += s.description.empty() ? s.name + "\n" : fmt::format("{}: {}\n", s.name, s.description);
  out += fmt::format("{} x {} per node = {}; {} per node  (from {})\n", plural(m.nodes(), "node"),
                     plural(m.ranks_per_node(), "rank"), plural(m.ranks(), "rank"),
                     plural(m.sockets_per_node(), "socket"), s.source);

  const bool ranks = m.ranks_per_node() > 1;
  out += fmt::format("processors  {:>5}{}  {:>12}  {:>12}  {:>7}\n", "/node", ranks ? "  /rank" : "", "fp64", "fp32",
                     "launch");
  for (const ProcessorSpec& p : s.processors) {
    const Processor* q = first_of(m, p.kind);
    if (!q) continue;
    std::string note;
    if (p.per == Per::Socket) note = fmt::format("{} per socket", p.count);
    if (p.per == Per::Rank) note = fmt::format("{} per rank", p.count);
    const int declared = p.per == Per::Socket ? p.count * s.sockets : p.count;
    if (p.per != Per::Rank && m.procs_per_node(p.kind) > declared)  // groups shared by ranks
      note += fmt::format("{}each shared by {} ranks", note.empty() ? "" : ", ", m.procs_per_node(p.kind) / declared);
    if (q->cores > 1) note += fmt::format("{}{} cores each", note.empty() ? "" : ": ", q->cores);
    out += fmt::format("  {:<8}  {:>5}{}  {:>12}  {:>12}  {:>7}{}\n", to_string(p.kind), m.procs_per_node(p.kind),
                       ranks ? fmt::format("  {:>5}", m.procs_per_rank(p.kind)) : "", flops(q->fp64_flops),
                       flops(q->fp32_flops), us(q->launch_overhead_s), note.empty() ? "" : "  " + note);
  }

  out += fmt::format("memories    {:>5}  {:>12}  {:>12}\n", "/node", "capacity", "bandwidth");
  for (const MemorySpec& ms : s.memories) {
    std::string note;
    if (ms.per == Per::Socket) note = "1 per socket";
    if (ms.per == Per::Gpu) note = "1 per GPU";
    if (ms.multi_node_only) note += std::string(note.empty() ? "" : ", ") + "only when nodes > 1";
    out += fmt::format("  {:<8}  {:>5}  {:>12}  {:>12}{}\n", to_string(ms.kind), m.mems_per_node(ms.kind),
                       gib(ms.capacity_bytes), gbps(ms.bandwidth), note.empty() ? "" : "  " + note);
  }

  out += "access (processor -> memory: bandwidth, latency)\n";
  for (const ProcessorSpec& p : s.processors) {
    std::string line;
    for (MemKind mk : kMemKinds) {
      std::string part;
      for (const AffinitySpec& a : s.affinities) {
        if (a.proc != p.kind || a.mem != mk) continue;
        // "own" / "other" / "all" only matter for memories with several instances.
        std::string reach;
        for (const MemorySpec& ms : s.memories)
          if (ms.kind == mk && ms.per != Per::Node) reach = std::string(to_string(a.reach)) + " ";
        part += fmt::format("{}{}{} {}", part.empty() ? "" : ", ", reach, gbps(a.bandwidth), us(a.latency));
      }
      if (!part.empty()) line += fmt::format("{}{} {}", line.empty() ? "" : "; ", to_string(mk), part);
    }
    out += fmt::format("  {:<4} -> {}\n", to_string(p.kind), line);
  }

  if (!s.channels.empty()) out += "channels between memories of a node (each direction)\n";
  for (const ChannelSpec& c : s.channels) {
    std::string ends = c.between == c.and_ && c.between.size() > 1 ? "among " + kinds(c.between)
                                                                   : kinds(c.between) + " <-> " + kinds(c.and_);
    out += fmt::format("  {}: {}, {}\n", ends, gbps(c.bandwidth), us(c.latency));
  }
  if (s.network.present)
    out += fmt::format("network: {} per node, {}, via {}\n", gbps(s.network.bandwidth), us(s.network.latency),
                       to_string(s.network.endpoint));
  return out;
}

nlohmann::ordered_json as_json(const Machine& m) {
  using json = nlohmann::ordered_json;
  const MachineSpec& s = m.spec();
  json j;
  j["name"] = s.name;
  j["description"] = s.description;
  j["source"] = s.source;
  j["nodes"] = m.nodes();
  j["ranks_per_node"] = m.ranks_per_node();
  j["ranks"] = m.ranks();
  j["sockets_per_node"] = m.sockets_per_node();
  j["processors"] = json::array();
  for (const ProcessorSpec& p : s.processors) {
    const Processor* q = first_of(m, p.kind);
    if (!q) continue;
    j["processors"].push_back({{"kind", to_string(p.kind)},
                               {"per", to_string(p.per)},
                               {"count", p.count},
                               {"per_node", m.procs_per_node(p.kind)},
                               {"per_rank", m.procs_per_rank(p.kind)},
                               {"cores", q->cores},
                               {"fp64_flops", q->fp64_flops},
                               {"fp32_flops", q->fp32_flops},
                               {"launch_overhead_s", q->launch_overhead_s},
                               {"remote_accesses_in_flight", q->remote_accesses_in_flight}});
  }
  j["memories"] = json::array();
  for (const MemorySpec& ms : s.memories)
    j["memories"].push_back({{"kind", to_string(ms.kind)},
                             {"per", to_string(ms.per)},
                             {"per_node", m.mems_per_node(ms.kind)},
                             {"capacity_bytes", ms.capacity_bytes},
                             {"bandwidth_bytes_per_s", ms.bandwidth},
                             {"multi_node_only", ms.multi_node_only}});
  j["access"] = json::array();
  for (const AffinitySpec& a : s.affinities)
    j["access"].push_back({{"proc", to_string(a.proc)},
                           {"mem", to_string(a.mem)},
                           {"reach", to_string(a.reach)},
                           {"bandwidth_bytes_per_s", a.bandwidth},
                           {"latency_s", a.latency}});
  j["channels"] = json::array();
  for (const ChannelSpec& c : s.channels) {
    json between = json::array(), and_ = json::array();
    for (MemKind k : c.between) between.push_back(to_string(k));
    for (MemKind k : c.and_) and_.push_back(to_string(k));
    j["channels"].push_back(
        {{"between", between}, {"and", and_}, {"bandwidth_bytes_per_s", c.bandwidth}, {"latency_s", c.latency}});
  }
  if (s.network.present)
    j["network"] = {{"bandwidth_bytes_per_s", s.network.bandwidth},
                    {"latency_s", s.network.latency},
                    {"endpoint", to_string(s.network.endpoint)}};
  else
    j["network"] = nullptr;
  j["totals"] = {{"processors", m.processors().size()}, {"memories", m.memories().size()}};
  return j;
}

}  // namespace mage::machine
