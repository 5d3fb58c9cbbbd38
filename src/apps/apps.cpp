#include "apps/apps.h"

#include <fmt/format.h>

#include "apps/common.h"
#include "machine/machine.h"

namespace mage::apps {

namespace detail {
Program build_circuit(const Params&);
Program build_stencil(const Params&);
Program build_pennant(const Params&);
Program build_cannon(const Params&);
Program build_summa(const Params&);
Program build_pumma(const Params&);
Program build_johnson(const Params&);
Program build_solomonik(const Params&);
Program build_cosma(const Params&);
}  // namespace detail

namespace {

struct Entry {
  AppInfo info;
  program::Program (*build)(const Params&);
};

const std::vector<Entry>& registry() {
  static const std::vector<Entry> apps = {
      {{"circuit",
        "electrical circuit simulation: 3 index launches per iteration over one piece per GPU, "
        "ghost nodes exchanged through reductions"},
       detail::build_circuit},
      {{"stencil", "2-D radius-2 star stencil (PRK) on one 15,000^2 tile per GPU, halo strips to the 4 neighbours"},
       detail::build_stencil},
      {{"pennant",
        "Lagrangian hydrodynamics on an unstructured mesh: 27 index launches per cycle, "
        "irregular side loops, a global time-step reduction"},
       detail::build_pennant},
      {{"cannon", "Cannon's 2-D matrix multiplication (DISTAL): systolic shifts of B and C tiles", 1, true},
       detail::build_cannon},
      {{"summa", "SUMMA 2-D matrix multiplication (DISTAL): row and column broadcasts", 1, true}, detail::build_summa},
      {{"pumma", "PUMMA 2-D matrix multiplication (DISTAL): row broadcast, column shift", 1, true},
       detail::build_pumma},
      // Johnson and COSMA: "Run as 4 ranks per node, one GPU each" (BENCHMARKS.md).
      {{"johnson", "Johnson's 3-D matrix multiplication (DISTAL): g^3 DGEMMs reduced over k", 4, true},
       detail::build_johnson},
      {{"solomonik", "Solomonik's 2.5-D matrix multiplication (DISTAL): Cannon in c replicated layers", 1, true},
       detail::build_solomonik},
      {{"cosma", "COSMA 3-D matrix multiplication (DISTAL): a gx x gy x gz grid of DGEMMs reduced over k", 4, true},
       detail::build_cosma},
  };
  return apps;
}

}  // namespace

std::string_view to_string(Scale s) { return s == Scale::Small ? "small" : "published"; }

std::optional<Scale> parse_scale(std::string_view s) {
  if (s == "published") return Scale::Published;
  if (s == "small") return Scale::Small;
  return std::nullopt;
}

const std::vector<AppInfo>& list() {
  static const std::vector<AppInfo> infos = [] {
    std::vector<AppInfo> v;
    for (const Entry& e : registry()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

Params params_for(const machine::Machine& m, Scale scale, std::optional<int> iterations) {
  Params p;
  p.nodes = m.nodes();
  p.gpus_per_node = m.procs_per_node(kinds::ProcKind::GPU);
  p.ranks_per_node = m.ranks_per_node();
  p.cpus_per_node = m.procs_per_node(kinds::ProcKind::CPU);
  p.omps_per_node = m.procs_per_node(kinds::ProcKind::OMP);
  if (auto fb = m.memories_of(kinds::MemKind::FBMEM); !fb.empty())
    p.gpu_memory_bytes = m.memory(fb.front()).capacity_bytes;
  p.scale = scale;
  p.iterations = iterations;
  return p;
}

const AppInfo* find(std::string_view app) {
  for (const AppInfo& a : list())
    if (a.name == app) return &a;
  return nullptr;
}

program::Program build(std::string_view app, const Params& params) {
  for (const Entry& e : registry())
    if (e.info.name == app) {
      if (params.place_every_iteration && !e.info.places_inputs) {
        std::string placing;  // the apps it applies to, from the registry
        for (const Entry& x : registry())
          if (x.info.places_inputs) placing += (placing.empty() ? "" : ", ") + x.info.name;
        throw AppError(fmt::format(
            "{}: placing the inputs every iteration applies to the matrix multiplications ({}), whose drivers "
            "place their tiles; {} has no placement tasks",
            app, placing, app));
      }
      try {
        return e.build(params);
      } catch (const program::ProgramError& err) {
        // A builder bug rather than a user error, but still reported, never a crash.
        throw AppError(fmt::format("{}: internal error building the program: {}", app, err.what()));
      }
    }
  std::string names;
  for (const Entry& e : registry()) names += (names.empty() ? "" : ", ") + e.info.name;
  throw AppError(fmt::format("unknown app '{}' (known: {})", app, names));
}

using detail::cost_variant;
using detail::walk;
using program::Launch;
using program::LaunchId;
using program::PointRef;

Totals totals(const program::Program& p) {
  Totals t;
  t.region_bytes = p.total_bytes();
  int first = -1;
  for (LaunchId l : p.top)
    if (p.launches[l.index()].timed) {
      first = p.launches[l.index()].iteration;
      break;
    }
  if (first < 0) return t;
  for (LaunchId l : p.top) {
    const Launch& launch = p.launches[l.index()];
    if (!launch.timed || launch.iteration != first) continue;
    ++t.launches_per_iteration;
    walk(p, l, nullptr, [&](const Launch& pl, const PointRef& ref) {
      ++t.point_tasks_per_iteration;
      std::vector<int64_t> pieces;
      for (const auto& a : pl.args) pieces.push_back(p.piece_of(a, ref));
      auto c = p.point_cost(pl, cost_variant(p.task_of(pl)), pieces);
      t.flops_per_iteration += c.flops;
      t.bytes_accessed_per_iteration += c.total_bytes();
    });
  }
  return t;
}

}  // namespace mage::apps
