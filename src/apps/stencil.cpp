// Stencil: 2-D star stencil of radius 2, from the Parallel Research Kernels
// (BENCHMARKS.md, "Stencil").
#include <fmt/format.h>

#include "apps/common.h"

namespace mage::apps::detail {

Program build_stencil(const Params& params) {
  const int tiles = check_params("stencil", params);
  const bool small = params.scale == Scale::Small;
  const int iters = iterations("stencil", params, 50, 2);
  const int64_t t = small ? 16 : 15'000;  // tile edge
  const int64_t radius = 2;
  const auto [nx, ny] = factor2(tiles);
  const Domain grid(nx, ny);

  Program p;
  p.name = "stencil";
  p.iterations = iters;
  p.notes = {
      {"tiles", fmt::format("{} x {} (one per GPU), each {} x {} points", nx, ny, thousands(t), thousands(t))},
      {"grid", fmt::format("{} x {} points of input, input1, output (double)", thousands(nx * t), thousands(ny * t))},
      {"halo",
       fmt::format("radius {}: strips of {} x {} points in regions xm, xp, ym, yp", radius, radius, thousands(t))},
      {"loop", fmt::format("{} time steps (timed) of stencil, increment", iters)}};

  const std::vector<Field> point_fields = {{"input", 8}, {"input1", 8}, {"output", 8}};
  // points: per tile two blocks, its core (2t) and its 2-wide edge ring (2t+1), which
  // is what the tile exports to its neighbours.
  RegionId points = p.add_region("points", Domain(nx * t, ny * t), point_fields);
  const int64_t core = (t - 2 * radius) * (t - 2 * radius);
  const int64_t ring = t * t - core;
  std::vector<int64_t> blocks;
  for (int i = 0; i < tiles; ++i) {
    blocks.push_back(core);
    blocks.push_back(ring);
  }
  p.set_blocks(points, blocks);
  std::vector<std::vector<Span>> priv(static_cast<size_t>(tiles)), interior(static_cast<size_t>(tiles)),
      exterior(static_cast<size_t>(tiles));
  for (int i = 0; i < tiles; ++i) {
    Point c = grid.point(i);
    auto b = static_cast<int32_t>(2 * i);
    priv[static_cast<size_t>(i)] = {{b, core}, {b + 1, ring}};
    // interior: the points whose output is computed, at least `radius` from the grid's edge.
    int64_t wx = t - (c[0] == 0 ? radius : 0) - (c[0] == nx - 1 ? radius : 0);
    int64_t wy = t - (c[1] == 0 ? radius : 0) - (c[1] == ny - 1 ? radius : 0);
    interior[static_cast<size_t>(i)] = {{b, core}, {b + 1, wx * wy - core}};
    exterior[static_cast<size_t>(i)] = {{b + 1, ring}};
  }
  PartitionId p_private = p.add_partition("private", points, grid, true, priv);
  PartitionId p_interior = p.add_partition("interior", points, grid, true, interior);
  PartitionId p_exterior = p.add_partition("exterior", points, grid, true, exterior);

  // Halo regions: region d holds every tile's strip on side d (its own boundary points,
  // copied there by increment). "out" piece i: tile i's own strip; "in" piece i: the strip
  // tile i reads, i.e. the one of its neighbour on the opposite side (none at the grid edge).
  struct Side {
    const char* name;
    int dx, dy;  // the neighbour whose strip tile i reads
  };
  const Side sides[] = {{"xm", 1, 0}, {"xp", -1, 0}, {"ym", 0, 1}, {"yp", 0, -1}};
  PartitionId in[4], out[4];
  for (int s = 0; s < 4; ++s) {
    const Side& sd = sides[s];
    const bool along_x = sd.dx != 0;
    RegionId r =
        p.add_region(sd.name, along_x ? Domain(nx * radius, ny * t) : Domain(nx * t, ny * radius), point_fields);
    p.set_blocks(r, std::vector<int64_t>(static_cast<size_t>(tiles), radius * t));
    std::vector<std::vector<int32_t>> own(static_cast<size_t>(tiles));
    std::vector<std::vector<Overlap>> nbr(static_cast<size_t>(tiles));
    for (int i = 0; i < tiles; ++i) {
      own[static_cast<size_t>(i)] = {i};
      Point c = grid.point(i);
      Point n(c[0] + sd.dx, c[1] + sd.dy);
      if (grid.contains(n)) nbr[static_cast<size_t>(i)] = {{grid.linear(n), radius * t}};
    }
    out[s] = p.add_block_partition(fmt::format("p{}_out", sd.name), r, grid, own);
    in[s] = p.add_aliased_partition(fmt::format("p{}_in", sd.name), out[s], grid, nbr);
  }

  const std::vector<ProcKind> procs{ProcKind::GPU, ProcKind::OMP, ProcKind::CPU};
  // stencil: 19 flops per interior point; reads input, updates output (24 B per point).
  TaskKindId stencil = p.add_task(task("stencil", true, procs, cost(Precision::FP64, {{}, flops_per(19)}),
                                       "radius-2 star stencil of input into output: bandwidth-bound"));
  TaskKindId increment = p.add_task(task("increment", true, procs, cost(Precision::FP64, {flops_per(1)}),
                                         "input += 1 on the tile and on its own halo strips"));

  const Projection id = Projection::identity();
  for (int it = 0; it < iters; ++it) {
    LaunchOpts o{it, true, it == 0};
    std::vector<RegionArg> args = {
        piece(p, p_private, id, {acc(p, points, Privilege::RO, {"input"}), acc(p, points, Privilege::RW, {"output"})}),
        piece(p, p_interior, id, {acc(p, points, Privilege::NA, {"input", "output"})})};
    for (int s = 0; s < 4; ++s)
      args.push_back(piece(p, in[s], id, {acc(p, p.partitions[in[s].index()].region, Privilege::RO, {"input"})}));
    index_launch(p, stencil, grid, args, o);
    o.fence = false;
    args = {piece(p, p_private, id, {acc(p, points, Privilege::RW, {"input"})}),
            piece(p, p_exterior, id, {acc(p, points, Privilege::NA, {"input"})})};
    for (int s = 0; s < 4; ++s)
      args.push_back(piece(p, out[s], id, {acc(p, p.partitions[out[s].index()].region, Privilege::RW, {"input"})}));
    index_launch(p, increment, grid, args, o);
  }
  return p;
}

}  // namespace mage::apps::detail
