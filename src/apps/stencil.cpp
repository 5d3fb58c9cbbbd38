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
  // The published tile grids ntx x nty by GPU count: 4 -> 2x2, 8 -> 4x2, 16 -> 4x4, 32 -> 8x4,
  // 64 -> 8x8, 128 -> 16x8, 256 -> 16x16, i.e. as square as possible with x the larger extent
  // (factor2 gives exactly these, and a near-square grid for any other count).
  const auto [nx, ny] = factor2(tiles);
  // Every launch and partition is over the 1-D space of tiles, as in the published program:
  // tile i is (ix, iy) = (i % ntx, i / ntx); halo neighbours are the 2-D grid neighbours.
  const Domain launch(tiles);
  auto tile_xy = [ntx = nx](int64_t i) { return std::pair<int64_t, int64_t>{i % ntx, i / ntx}; };

  Program p;
  p.name = "stencil";
  p.iterations = iters;
  p.notes = {
      {"tiles",
       fmt::format("ntx x nty = {} x {} (one per GPU), each {} x {} points", nx, ny, thousands(t), thousands(t))},
      {"launches", fmt::format("over the 1-D space of the {} tiles: tile i is (i % {}, i / {}); partitions "
                               "coloured by i",
                               tiles, nx, nx)},
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
    const auto [ix, iy] = tile_xy(i);
    auto b = static_cast<int32_t>(2 * i);
    priv[static_cast<size_t>(i)] = {{b, core}, {b + 1, ring}};
    // interior: the points whose output is computed, at least `radius` from the grid's edge.
    int64_t wx = t - (ix == 0 ? radius : 0) - (ix == nx - 1 ? radius : 0);
    int64_t wy = t - (iy == 0 ? radius : 0) - (iy == ny - 1 ? radius : 0);
    interior[static_cast<size_t>(i)] = {{b, core}, {b + 1, wx * wy - core}};
    exterior[static_cast<size_t>(i)] = {{b + 1, ring}};
  }
  PartitionId p_private = p.add_partition("private", points, launch, true, priv);
  PartitionId p_interior = p.add_partition("interior", points, launch, true, interior);
  PartitionId p_exterior = p.add_partition("exterior", points, launch, true, exterior);

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
      const auto [ix, iy] = tile_xy(i);
      const int64_t x = ix + sd.dx, y = iy + sd.dy;
      if (x >= 0 && x < nx && y >= 0 && y < ny) nbr[static_cast<size_t>(i)] = {{y * nx + x, radius * t}};
    }
    out[s] = p.add_block_partition(fmt::format("p{}_out", sd.name), r, launch, own);
    in[s] = p.add_aliased_partition(fmt::format("p{}_in", sd.name), out[s], launch, nbr);
  }

  const std::vector<ProcKind> procs{ProcKind::GPU, ProcKind::OMP, ProcKind::CPU};
  // stencil: 19 flops per interior point; reads input, updates output (24 B per point).
  TaskKindId stencil = p.add_task(task("stencil", true, procs, cost(Precision::FP64, {{}, flops_per(19)}),
                                       "radius-2 star stencil of input into output: bandwidth-bound"));
  TaskKindId increment = p.add_task(task("increment", true, procs, cost(Precision::FP64, {flops_per(1)}),
                                         "input += 1 on the tile and on its own halo strips"));
  TaskKindId check = p.add_task(task("check", true, procs, cost(Precision::FP64, {{}, flops_per(2)}),
                                     "after the loop: compare every interior point's input and output with the "
                                     "expected values"));

  const Projection id = Projection::identity();
  for (int it = 0; it < iters; ++it) {
    LaunchOpts o{it, true, it == 0};
    std::vector<RegionArg> args = {
        piece(p, p_private, id, {acc(p, points, Privilege::RO, {"input"}), acc(p, points, Privilege::RW, {"output"})}),
        piece(p, p_interior, id, {acc(p, points, Privilege::NA, {"input", "output"})})};
    for (int s = 0; s < 4; ++s)
      args.push_back(piece(p, in[s], id, {acc(p, p.partitions[in[s].index()].region, Privilege::RO, {"input"})}));
    index_launch(p, stencil, launch, args, o);
    o.fence = false;
    args = {piece(p, p_private, id, {acc(p, points, Privilege::RW, {"input"})}),
            piece(p, p_exterior, id, {acc(p, points, Privilege::NA, {"input"})})};
    for (int s = 0; s < 4; ++s)
      args.push_back(piece(p, out[s], id, {acc(p, p.partitions[out[s].index()].region, Privilege::RW, {"input"})}));
    index_launch(p, increment, launch, args, o);
  }
  // After the loop (untimed) each tile checks its interior values, as the published program
  // does. (Its timing is a flag of stencil and increment, not a task of its own.)
  index_launch(p, check, launch,
               {piece(p, p_private, id, {acc(p, points, Privilege::RO, {"input", "output"})}),
                piece(p, p_interior, id, {acc(p, points, Privilege::NA, {"input", "output"})})},
               LaunchOpts{-1, false, false});
  return p;
}

}  // namespace mage::apps::detail
