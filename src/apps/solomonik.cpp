// Solomonik's 2.5-D matrix multiplication (BENCHMARKS.md, "Solomonik 2.5-D").
#include <fmt/format.h>
#include <map>
#include <numeric>
#include <string>

#include "apps/matmul.h"

namespace mage::apps::detail {

Program build_solomonik(const Params& params) {
  const int gpus = check_params("solomonik", params);
  // (r, c, r3) by total GPUs. 4→(2,1,2), 8→(2,2,2), 16→(4,1,4), 32→(4,2,4) are the published
  // table (BENCHMARKS.md). 64→(4,4,4) is NOT from it but extrapolated, so that Lassen's 16
  // nodes run too: r·r·c = 64 with r3 = r as in every published grid, and c = r, the 3-D
  // limit of the 2.5-D algorithm (4 replicated layers of a 4 x 4 Cannon grid).
  struct Grid {
    int64_t r, c, r3;
    bool published;
  };
  static const std::map<int, Grid> grids = {
      {4, {2, 1, 2, true}}, {8, {2, 2, 2, true}}, {16, {4, 1, 4, true}}, {32, {4, 2, 4, true}}, {64, {4, 4, 4, false}}};
  std::string known, table;
  for (const auto& [g, grid] : grids) {
    known += fmt::format("{}{}", known.empty() ? "" : ", ", g);
    table += fmt::format("{}{} ({},{},{}){}", table.empty() ? "" : ", ", g, grid.r, grid.c, grid.r3,
                         grid.published ? "" : " [extrapolated, not in the published table]");
  }
  auto found = grids.find(gpus);
  if (found == grids.end())
    throw AppError(
        fmt::format("solomonik: no (r, c, r3) grid for {} GPUs ({} node{} x {} GPUs); supported GPU counts: {}", gpus,
                    params.nodes, params.nodes == 1 ? "" : "s", params.gpus_per_node, known));
  const auto [r, c, r3, published] = found->second;
  const int iters = iterations("solomonik", params, 10, 2);
  const int64_t n = matrix_size(params, std::lcm(r, c * r3));
  const int64_t chunk = n / (c * r3);

  Program p;
  p.name = "solomonik";
  p.notes = {{"matrices", fmt::format("A = B.C, n = {} (20,000 x sqrt(nodes)), double", thousands(n))},
             {"grid", fmt::format("task_5 over (r, r, c) = ({}, {}, {}); r3 = {} chunks per k-slab{}", r, r, c, r3,
                                  published ? "" : " (extrapolated: not in the published table)")},
             {"grids", fmt::format("(r, c, r3) by total GPUs: {}; an extrapolated grid keeps r3 = r as the published "
                                   "ones do and takes c = r, the 3-D limit",
                                   table)},
             {"tiles", fmt::format("A(i,j) {} x {}; the k dimension is cut into c = {} slabs of r3 = {} chunks of {}",
                                   thousands(n / r), thousands(n / r), c, r3, thousands(chunk))},
             {"step s of task_5 (i,j,k)",
              "task_4: A(i,j) += B chunk (i, k*r3 + (i+j+s)%r3) . C chunk "
              "(k*r3 + (i+j+s)%r3, j): Cannon shifts inside each layer, A "
              "reduced across the c layers"},
             {"loop", fmt::format("1 warm-up + {} timed iterations, each one launch of task_5 after a fence", iters)}};

  Tiled A = tiled_matrix(p, "A", n, r, r);
  Tiled B = tiled_matrix(p, "B", n, r, c * r3);
  Tiled C = tiled_matrix(p, "C", n, c * r3, r);
  PartitionId a_tiles = tile_partition(p, A, "A_tiles", r, r);
  PartitionId b_slabs = tile_partition(p, B, "B_slabs", r, c);
  PartitionId b_chunks = tile_partition(p, B, "B_chunks", r, c * r3);
  PartitionId c_slabs = tile_partition(p, C, "C_slabs", c, r);
  PartitionId c_chunks = tile_partition(p, C, "C_chunks", c * r3, r);
  Placement pl = placement_tasks(p);
  TaskKindId task_5 = p.add_task(task("task_5", false, {ProcKind::GPU, ProcKind::CPU}, cost(Precision::FP64, {}),
                                      "inner: point (i,j,k) owns k-slab k; for s in [0,r3) launches task_4"));
  TaskKindId task_4 = dgemm_task(p, static_cast<double>(chunk));

  const RegionId ra = A.region, rb = B.region, rc = C.region;
  const Projection id = Projection::identity();
  index_launch(p, pl.task_1, Domain(r, r), {piece(p, a_tiles, id, {vals(p, ra, Privilege::WO)})}, {});
  index_launch(p, pl.task_2, Domain(r, c * r3), {piece(p, b_chunks, id, {vals(p, rb, Privilege::WO)})}, {});
  index_launch(p, pl.task_3, Domain(c * r3, r), {piece(p, c_chunks, id, {vals(p, rc, Privilege::WO)})}, {});
  const int64_t R3 = r3;
  auto kk = [R3](const PointRef& t4) {
    const Point& q = t4.parent->point;
    return q[2] * R3 + (q[0] + q[1] + t4.step) % R3;
  };
  mm_loop(p, iters, [&](LaunchOpts o) {
    LaunchId l5 = index_launch(
        p, task_5, Domain(r, r, c),
        {piece(p, a_tiles, Projection::of([](const PointRef& q) { return Point(q.point[0], q.point[1]); }, "(i,j)"),
               {vals(p, ra, Privilege::RED)}),
         piece(p, b_slabs, Projection::of([](const PointRef& q) { return Point(q.point[0], q.point[2]); }, "(i,k)"),
               {vals(p, rb, Privilege::RO)}),
         piece(p, c_slabs, Projection::of([](const PointRef& q) { return Point(q.point[2], q.point[1]); }, "(k,j)"),
               {vals(p, rc, Privilege::RO)})},
        o);
    single_launch(
        p, task_4,
        {piece(p, a_tiles,
               Projection::of([](const PointRef& q) { return Point(q.parent->point[0], q.parent->point[1]); }, "(i,j)"),
               {vals(p, ra, Privilege::RED)}),
         piece(p, b_chunks,
               Projection::of([kk](const PointRef& q) { return Point(q.parent->point[0], kk(q)); },
                              "(i,k*r3+(i+j+s)%r3)"),
               {vals(p, rb, Privilege::RO)}),
         piece(p, c_chunks,
               Projection::of([kk](const PointRef& q) { return Point(kk(q), q.parent->point[1]); },
                              "(k*r3+(i+j+s)%r3,j)"),
               {vals(p, rc, Privilege::RO)})},
        LaunchOpts{o.iteration, o.timed, false}, l5, r3);
    p.tag_virtual(l5);  // DISTAL tags its inner tasks' region requirements virtual
  });
  return p;
}

}  // namespace mage::apps::detail
