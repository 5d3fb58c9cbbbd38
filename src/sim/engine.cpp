// The SimGrid side of the simulator: the platform built from the Machine (only the parts
// the plan can use), one actor per processor, pooled copy actors that each serve one
// (source, destination) memory pair at a time, and sim::run(). Every SimGrid type stays in
// this file.
#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

#include "sim/report.h"
#include "sim/runtime.h"
#include "sim/sim.h"

namespace sg4 = simgrid::s4u;

namespace mage::sim {

namespace {

using detail::CopyId;
using detail::Runtime;
using detail::Topology;
using machine::MemId;
using machine::ProcId;
using program::PointTaskId;

// Accesses across a link up to this size are charged their uncontended time (execute()).
constexpr int64_t kSmallAccessBytes = 64 << 10;

// ---------------------------------------------------------------- the platform

class Platform {
 public:
  // Only what the plan can use is built: hosts for the processors that run tasks and for
  // the memories that can hold instances (and each node's network endpoint), routes
  // between those, links on the routes. Everything else would never carry a transfer, yet
  // would cost SimGrid time to create (a lassen node has dozens of CPU cores).
  Platform(const Topology& topo, const std::vector<ProcId>& procs, const std::vector<MemId>& mems)
      : topo_(topo), m_(topo.machine()) {
    proc_host_.resize(m_.processors().size(), nullptr);
    mem_host_.resize(m_.memories().size(), nullptr);
    used_proc_.assign(m_.processors().size(), false);
    used_mem_.assign(m_.memories().size(), false);
    for (ProcId p : procs) used_proc_[static_cast<size_t>(p.value)] = true;
    for (MemId m : mems) used_mem_[static_cast<size_t>(m.value)] = true;
    for (int n = 0; n < m_.nodes(); ++n)
      if (const MemId g = topo_.network_endpoint(n); g.value >= 0) used_mem_[static_cast<size_t>(g.value)] = true;
  }

  void build() {
    auto* root = sg4::create_full_zone("machine");
    std::vector<sg4::NetZone*> zones;
    for (int n = 0; n < m_.nodes(); ++n) zones.push_back(build_node(root, n));
    const bool network = m_.nodes() > 1 && m_.network().present;
    if (network) {
      // Each node injects into and receives from the network through its own links. The
      // fabric between them has full bisection, so it never limits: it gets no link of its
      // own (a backbone constraint would never bind, yet would tie every inter-node
      // transfer into one system for the bandwidth solver and slow it down).
      const double bw = m_.network().bandwidth;
      std::vector<sg4::Link*> up, down;
      for (int n = 0; n < m_.nodes(); ++n) {
        up.push_back(
            root->create_link(fmt::format("node {} network up", n), bw)->set_latency(m_.network().latency)->seal());
        down.push_back(root->create_link(fmt::format("node {} network down", n), bw)->set_latency(0)->seal());
      }
      for (int a = 0; a < m_.nodes(); ++a)
        for (int b = 0; b < m_.nodes(); ++b) {
          if (a == b) continue;
          const MemId ga = topo_.network_endpoint(a), gb = topo_.network_endpoint(b);
          if (ga.value < 0 || gb.value < 0) continue;
          root->add_route(
              zones[static_cast<size_t>(a)]->get_netpoint(), zones[static_cast<size_t>(b)]->get_netpoint(),
              host(ga)->get_netpoint(), host(gb)->get_netpoint(),
              {sg4::LinkInRoute(up[static_cast<size_t>(a)]), sg4::LinkInRoute(down[static_cast<size_t>(b)])}, false);
        }
    }
    root->seal();
  }

  sg4::Host* host(ProcId p) const { return proc_host_[static_cast<size_t>(p.value)]; }
  sg4::Host* host(MemId m) const { return mem_host_[static_cast<size_t>(m.value)]; }
  // A host for actors that only wait (any one: waiting uses no resource).
  sg4::Host* any_host() const {
    for (sg4::Host* h : proc_host_)
      if (h) return h;
    return nullptr;
  }

  // Seconds `bytes` take between a processor and a memory across a link, alone on it.
  double uncontended_access_s(ProcId p, MemId m, bool to_processor, double bytes) const {
    const Path& path = access_paths_.at(access_key(p, m, to_processor));
    return path.latency + bytes / path.bandwidth;
  }

 private:
  struct Path {
    double latency = 0, bandwidth = 0;
  };
  static int64_t access_key(ProcId p, MemId m, bool to_processor) {
    return (int64_t{p.value} << 32 | static_cast<uint32_t>(m.value)) * 2 + (to_processor ? 1 : 0);
  }

  std::string endpoint_name(int node, int ep) const {
    return ep == 0 ? fmt::format("node {} host memory", node) : fmt::format("node {} FBMEM {}", node, ep - 1);
  }

  sg4::NetZone* build_node(sg4::NetZone* root, int n) {
    auto* zone = sg4::create_full_zone(fmt::format("node {}", n));
    zone->set_parent(root);
    for (const machine::Processor& p : m_.processors()) {
      if (p.node != n || !used(p.id)) continue;
      const double speed = p.fp64_flops > 0 ? p.fp64_flops : 1.0;
      proc_host_[static_cast<size_t>(p.id.value)] = zone->create_host(m_.name(p.id), speed)->seal();
    }
    for (const machine::Memory& mem : m_.memories()) {
      if (mem.node != n || !used(mem.id)) continue;
      mem_host_[static_cast<size_t>(mem.id.value)] = zone->create_host(m_.name(mem.id), 1.0)->seal();
    }
    // One link per direction between two copy endpoints, at the fastest channel between
    // them; a FATPIPE limiter for each slower channel.
    const std::vector<machine::Channel> channels = m_.channels(n);
    std::map<std::pair<int, int>, std::pair<double, double>> pairs;  // bandwidth, latency
    for (const machine::Channel& c : channels) {
      auto key = std::make_pair(topo_.endpoint(c.src), topo_.endpoint(c.dst));
      auto it = pairs.find(key);
      if (it == pairs.end())
        pairs.emplace(key, std::make_pair(c.bandwidth, c.latency));
      else
        it->second = {std::max(it->second.first, c.bandwidth), std::min(it->second.second, c.latency)};
    }
    std::map<std::pair<int, int>, sg4::Link*> links;  // created when a route first needs them
    auto endpoint_link = [&](std::pair<int, int> key) {
      sg4::Link*& link = links[key];
      if (!link) {
        const auto& [bw, lat] = pairs.at(key);
        link = zone->create_link(fmt::format("{} -> {}", endpoint_name(n, key.first), endpoint_name(n, key.second)), bw)
                   ->set_latency(lat)
                   ->seal();
      }
      return link;
    };
    auto hop_links = [&](MemId src, MemId dst, double bandwidth, double latency, std::vector<sg4::LinkInRoute>& out) {
      const auto key = std::make_pair(topo_.endpoint(src), topo_.endpoint(dst));
      const auto& [bw, lat] = pairs.at(key);
      out.emplace_back(endpoint_link(key));
      if (bandwidth < bw || latency > lat) {
        auto* limiter = zone->create_link(fmt::format("{} -> {} limiter", m_.name(src), m_.name(dst)), bandwidth)
                            ->set_latency(std::max(0.0, latency - lat))
                            ->set_sharing_policy(sg4::Link::SharingPolicy::FATPIPE)
                            ->seal();
        out.emplace_back(limiter);
      }
    };
    // Copy routes between every two memories of the node that are connected.
    std::map<std::pair<int, int>, std::vector<sg4::LinkInRoute>> hop_cache;
    auto channel_links = [&](const machine::Channel& c) -> const std::vector<sg4::LinkInRoute>& {
      auto key = std::make_pair(c.src.value, c.dst.value);
      auto it = hop_cache.find(key);
      if (it != hop_cache.end()) return it->second;
      std::vector<sg4::LinkInRoute> v;
      hop_links(c.src, c.dst, c.bandwidth, c.latency, v);
      return hop_cache.emplace(key, std::move(v)).first->second;
    };
    const auto mems = m_.memories();
    for (const machine::Memory& a : mems) {
      if (a.node != n || !used(a.id)) continue;
      for (const machine::Memory& b : mems) {
        if (b.node != n || a.id == b.id || !used(b.id)) continue;
        auto route = m_.route(a.id, b.id);
        if (!route || route->empty()) continue;
        std::vector<sg4::LinkInRoute> path;
        for (const machine::Channel& c : *route) {
          const auto& l = channel_links(c);
          path.insert(path.end(), l.begin(), l.end());
        }
        zone->add_route(host(a.id)->get_netpoint(), host(b.id)->get_netpoint(), nullptr, nullptr, path, false);
      }
    }
    // Accesses that cross a link (zero-copy memory, a peer's framebuffer): memory to
    // processor and back, over the endpoint link when there is one.
    for (const machine::Processor& p : m_.processors()) {
      if (p.node != n || !used(p.id)) continue;
      for (const machine::Access& acc : m_.accessible(p.id)) {
        if (!used(acc.mem) || !topo_.remote(p.id, acc.mem)) continue;
        const int me = topo_.endpoint(acc.mem), pe = topo_.home(p.id);
        for (int dir = 0; dir < 2; ++dir) {
          const auto key = dir == 0 ? std::make_pair(me, pe) : std::make_pair(pe, me);
          std::vector<sg4::LinkInRoute> path;
          double lat = 0, bw = std::numeric_limits<double>::infinity();
          if (auto it = pairs.find(key); it != pairs.end()) {
            path.emplace_back(endpoint_link(key));
            bw = it->second.first;
            lat = it->second.second;
          }
          // Uncontended, a transfer on this path takes its latency plus bytes / bottleneck.
          access_paths_[access_key(p.id, acc.mem, dir == 0)] = {std::max(lat, acc.latency),
                                                                std::min(bw, acc.bandwidth)};
          if (acc.bandwidth < bw || acc.latency > lat || path.empty()) {
            auto* l = zone->create_link(
                              fmt::format("{} {} {} access", m_.name(p.id), dir == 0 ? "<-" : "->", m_.name(acc.mem)),
                              acc.bandwidth)
                          ->set_latency(std::max(0.0, acc.latency - lat))
                          ->set_sharing_policy(path.empty() ? sg4::Link::SharingPolicy::SHARED
                                                            : sg4::Link::SharingPolicy::FATPIPE)
                          ->seal();
            path.emplace_back(l);
          }
          sg4::Host* from = dir == 0 ? host(acc.mem) : host(p.id);
          sg4::Host* to = dir == 0 ? host(p.id) : host(acc.mem);
          zone->add_route(from->get_netpoint(), to->get_netpoint(), nullptr, nullptr, path, false);
        }
      }
    }
    zone->seal();
    return zone;
  }

  bool used(ProcId p) const { return used_proc_[static_cast<size_t>(p.value)]; }
  bool used(MemId m) const { return used_mem_[static_cast<size_t>(m.value)]; }

  const Topology& topo_;
  const machine::Machine& m_;
  std::vector<bool> used_proc_, used_mem_;  // by id
  std::vector<sg4::Host*> proc_host_, mem_host_;
  std::unordered_map<int64_t, Path> access_paths_;  // by access_key
};

// ---------------------------------------------------------------- the actors

using ProgressClock = std::chrono::steady_clock;

class Simulation {
 public:
  Simulation(Runtime& rt, Platform& platform, const ProgressReport& progress)
      : rt_(rt), platform_(platform), progress_(progress) {
    if (progress_.report) next_report_ = ProgressClock::now() + interval();
  }

  // No more progress reports (the caller's function may not outlive run()).
  void stop_reports() { progress_.report = nullptr; }

  void start() {
    workers_.resize(rt_.machine().processors().size());
    for (ProcId p : rt_.used_processors()) {
      workers_[static_cast<size_t>(p.value)] = std::make_unique<Worker>();
      workers_[static_cast<size_t>(p.value)]->proc = p;
    }
    rt_.start(0.0);
    if (rt_.failed()) return;
    for (auto& w : workers_) {
      if (!w) continue;
      Worker* worker = w.get();
      w->actor =
          sg4::Actor::create(rt_.machine().name(w->proc), platform_.host(w->proc), [this, worker] { run(*worker); });
    }
    dispatch();
  }

 private:
  struct Worker {
    ProcId proc;
    sg4::ActorPtr actor;
    bool idle = false;
  };
  // Copies between one pair of memories, one after another (a DMA queue). While it has
  // copies, a copy actor serves it; copy actors are pooled, so there are only as many as
  // channels busy at once.
  struct Channel {
    MemId src, dst;
    std::deque<CopyId> queue;
    bool served = false;
  };
  struct CopyActor {
    sg4::ActorPtr actor;
    Channel* channel = nullptr;
  };

  static double now() { return sg4::Engine::get_clock(); }

  // Starts what the model asks for: copies go to their channel's actor (same-memory and
  // empty copies complete at once), processors with a runnable task wake up.
  // Waking an actor is a simcall, during which other actors run and may dispatch too: the
  // model is read completely first, into local lists, and the actors are woken after.
  void dispatch() {
    std::vector<CopyId> ready;
    std::vector<Channel*> to_serve;
    for (;;) {
      rt_.take_ready_copies(ready);
      if (ready.empty()) break;
      for (CopyId c : ready) {
        const detail::Copy& cp = rt_.copies()[static_cast<size_t>(c)];
        if (cp.src_mem == cp.dst_mem || cp.bytes <= 0) {
          rt_.copy_started(c, now());
          rt_.copy_ended(c, now());
          continue;
        }
        Channel& ch = channel(cp.src_mem, cp.dst_mem);
        ch.queue.push_back(c);
        if (!ch.served) {
          ch.served = true;
          to_serve.push_back(&ch);
        }
      }
    }
    std::vector<int32_t> procs;
    rt_.take_wakeups(procs);
    std::vector<double> timers;
    rt_.take_timers(timers);
    // One sleeper per distinct due time (many tasks share one: every consumer of a future
    // on a node gets it at the same instant).
    for (double due : timers)
      sg4::Actor::create("future arrival", platform_.any_host(), [this, due] {
        sg4::this_actor::sleep_until(due);
        rt_.timers_due(now());
        dispatch();
      })->daemonize();
    for (Channel* ch : to_serve) serve(ch);
    for (int32_t p : procs)
      if (Worker* w = workers_[static_cast<size_t>(p)].get()) wake(*w);
  }

  // Gives a channel to an idle copy actor, or to a new one.
  void serve(Channel* ch) {
    if (!idle_copiers_.empty()) {
      CopyActor* a = idle_copiers_.back();
      idle_copiers_.pop_back();
      a->channel = ch;
      a->actor->resume();
      return;
    }
    copiers_.push_back(std::make_unique<CopyActor>());
    CopyActor* a = copiers_.back().get();
    a->channel = ch;
    a->actor = sg4::Actor::create(fmt::format("copies {}", copiers_.size()), platform_.host(ch->src),
                                  [this, a] { copy_loop(*a); });
  }

  template <typename T>
  static void wake(T& who) {
    if (who.idle && who.actor) {
      who.idle = false;
      who.actor->resume();
    }
  }

  Channel& channel(MemId src, MemId dst) {
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(src.value)) << 32) | static_cast<uint32_t>(dst.value);
    auto it = channels_.find(key);
    if (it != channels_.end()) return *it->second;
    auto ch = std::make_unique<Channel>();
    ch->src = src;
    ch->dst = dst;
    return *channels_.emplace(key, std::move(ch)).first->second;
  }

  // Stops the simulation after an error: every other actor is killed.
  static void stop() { sg4::Actor::kill_all(); }

  void run(Worker& w) {
    for (;;) {
      if (rt_.failed()) return stop();
      if (rt_.finished()) return finish();
      const PointTaskId t = rt_.next_runnable(w.proc);
      if (!t.valid()) {
        if (rt_.active() == 0) {
          rt_.fail(Status::SimulatorFailure, deadlock());
          return stop();
        }
        w.idle = true;
        sg4::this_actor::suspend();
        continue;
      }
      execute(w.proc, rt_.task_started(t, now()));
      rt_.task_ended(t, now());
      report_progress();
      dispatch();
    }
  }

  // A progress report when one is due (wall clock): reads the state, never changes it.
  void report_progress() {
    if (!progress_.report) return;
    const auto wall = ProgressClock::now();
    if (wall < next_report_) return;
    next_report_ = wall + interval();
    progress_.report(Progress{
        .simulated_s = now(), .tasks_done = rt_.completed(), .tasks_total = static_cast<int64_t>(rt_.graph().size())});
  }
  ProgressClock::duration interval() const {
    return std::chrono::duration_cast<ProgressClock::duration>(
        std::chrono::duration<double>(std::max(0.0, progress_.interval_s)));
  }

  // Wakes every idle processor so that it sees the end and returns.
  void finish() {
    for (auto& w : workers_)
      if (w) wake(*w);
  }

  // A processor runs one task at a time, so a task's fixed duration is simulated as a
  // sleep on the processor's host (the same time as executing duration x speed flops on
  // the host, and about 3x cheaper for SimGrid). Accesses that cross a link are transfers
  // that share it with copies; they run alongside the compute. Small ones (a few halo or
  // ghost elements) are charged their uncontended time instead: they would barely slow
  // anything sharing the link, and a SimGrid transfer costs about as much CPU as a task.
  void execute(ProcId proc, const detail::TaskWork& w) {
    double local_s = w.local_s;
    bool transfers = false;
    for (const detail::RemoteAccess& r : w.remote) {
      if (r.bytes <= 0) continue;
      if (r.bytes <= kSmallAccessBytes)
        local_s += platform_.uncontended_access_s(proc, r.mem, r.to_processor, static_cast<double>(r.bytes));
      else
        transfers = true;
    }
    if (!transfers) {
      const double d = w.overhead_s + std::max(w.compute_s, local_s) + w.stall_s;
      if (d > 0) sg4::this_actor::sleep_for(d);
      return;
    }
    sg4::Host* host = platform_.host(proc);
    const double start = now();
    if (w.overhead_s + local_s > 0) sg4::this_actor::sleep_for(w.overhead_s + local_s);
    for (const detail::RemoteAccess& r : w.remote) {
      if (r.bytes <= kSmallAccessBytes) continue;
      sg4::Host* mem = platform_.host(r.mem);
      sg4::Comm::sendto(r.to_processor ? mem : host, r.to_processor ? host : mem, static_cast<uint64_t>(r.bytes));
    }
    const double rest = std::max(0.0, start + w.overhead_s + w.compute_s - now()) + w.stall_s;
    if (rest > 0) sg4::this_actor::sleep_for(rest);
  }

  void copy_loop(CopyActor& self) {
    sg4::Actor::self()->daemonize();
    for (;;) {
      Channel* ch = self.channel;
      if (!ch) {
        idle_copiers_.push_back(&self);
        sg4::this_actor::suspend();
        continue;
      }
      while (!ch->queue.empty()) {
        const CopyId c = ch->queue.front();
        ch->queue.pop_front();
        rt_.copy_started(c, now());
        const auto bytes = static_cast<uint64_t>(rt_.copies()[static_cast<size_t>(c)].bytes);
        // Between nodes, the copy starts once its request reached the source node (Realm
        // sends the DMA request as an active message and the remote node issues it).
        if (inter_node(*ch)) sg4::this_actor::sleep_for(rt_.message_s());
        sg4::Comm::sendto(platform_.host(ch->src), platform_.host(ch->dst), bytes);
        rt_.copy_ended(c, now());
        dispatch();
      }
      ch->served = false;
      self.channel = nullptr;
    }
  }

  bool inter_node(const Channel& ch) const {
    return rt_.machine().memory(ch.src).node != rt_.machine().memory(ch.dst).node;
  }

  std::string deadlock() const {
    int64_t left = static_cast<int64_t>(rt_.graph().size());
    PointTaskId first;
    for (size_t t = 0; t < rt_.tasks().size(); ++t)
      if (rt_.tasks()[t].phase == detail::Phase::Complete)
        --left;
      else if (!first.valid())
        first = PointTaskId::at(t);
    return fmt::format(
        "the simulation cannot progress: {} point tasks never ran (the first is {}); a dependence "
        "or instance limit that can never be satisfied",
        left, first.valid() ? rt_.task_label(first) : "?");
  }

  Runtime& rt_;
  Platform& platform_;
  ProgressReport progress_;  // a copy: the Simulation outlives run()
  ProgressClock::time_point next_report_{};
  std::vector<std::unique_ptr<Worker>> workers_;                     // by processor id
  std::unordered_map<uint64_t, std::unique_ptr<Channel>> channels_;  // look-up only
  std::vector<std::unique_ptr<CopyActor>> copiers_;
  std::vector<CopyActor*> idle_copiers_;
};

// The process's one simulation: the model, the SimGrid engine and what its actors use.
// None of it is ever torn down: that would cost as much as a small simulation (every
// host, link, actor, instance and copy freed one by one), a process runs only one
// simulation, and the engine's remaining actors keep referring to the rest.
struct World {
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<sg4::Engine> engine;
  std::unique_ptr<Platform> platform;
  std::unique_ptr<Simulation> simulation;
};
World* g_world = nullptr;

}  // namespace

Outcome run(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
            const mapping::Plan& plan, const Options& options, const ProgressReport& progress) {
  try {
    auto runtime = std::make_unique<Runtime>(program, graph, machine, plan);
    Runtime& rt = *runtime;
    if (Runtime::Problem p = rt.check(); p.status != Status::Ok) return failure(p.status, p.message);
    if (g_world)
      return failure(Status::SimulatorFailure,
                     "SimGrid allows one simulation per process (run each in a child process, as eval does)");
    g_world = new World;
    g_world->runtime = std::move(runtime);

    std::vector<std::string> args = {"mage", "--log=root.thres:critical", "--cfg=contexts/stack-size:256"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    int argc = static_cast<int>(argv.size());
    g_world->engine = std::make_unique<sg4::Engine>(&argc, argv.data());
    sg4::Engine::set_config("network/model:CM02");
    sg4::Engine::set_config("network/TCP-gamma:-1");
    sg4::Engine::set_config("network/crosstraffic:0");
    sg4::Engine::set_config("network/weight-S:0");
    sg4::Engine::set_config("network/latency-factor:1");
    sg4::Engine::set_config("network/bandwidth-factor:1");

    g_world->platform = std::make_unique<Platform>(rt.topology(), rt.used_processors(), rt.used_memories());
    g_world->platform->build();
    g_world->simulation = std::make_unique<Simulation>(rt, *g_world->platform, progress);
    g_world->simulation->start();
    if (!rt.failed()) g_world->engine->run();
    g_world->simulation->stop_reports();

    if (rt.failed()) {
      Outcome o = failure(rt.failure().status, rt.failure().message);
      o.profile.out_of_memory = rt.out_of_memory();
      return o;
    }
    if (!rt.finished()) return failure(Status::SimulatorFailure, "the simulation ended before every point task ran");
    return detail::report(rt, options);
  } catch (const std::bad_alloc&) {
    return failure(Status::SimulatorFailure, std::string(kOutOfMemoryMessage));
  } catch (const std::exception& e) {
    return failure(Status::SimulatorFailure, std::string("simulator failure: ") + e.what());
  }
}

}  // namespace mage::sim
