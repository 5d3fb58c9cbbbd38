// Solomonik's 2.5-D matrix multiplication (BENCHMARKS.md, "Solomonik 2.5-D").
#include <fmt/format.h>
#include <numeric>
#include <set>
#include <string>

#include "apps/matmul.h"

namespace mage::apps::detail {

Program build_solomonik(const Params& params) {
  const int gpus = check_params("solomonik", params);
  // (r, c, r3) by total GPUs, published (BENCHMARKS.md): 4→(2,1,2), 8→(2,2,2), 16→(4,1,4),
  // 32→(4,2,4), 64→(8,1,8), 128→(8,2,8), 256→(16,1,16). Every one is r = the largest integer
  // whose square divides the GPU count, c = GPUs / r^2 replicated layers, r3 = r chunks per
  // k-slab; other GPU counts (Lassen's 3, 5, 6, ... nodes) get their grid by the same rule.
  static const std::set<int> published_counts = {4, 8, 16, 32, 64, 128, 256};
  int64_t r = 1;
  for (int64_t d = 1; d * d <= gpus; ++d)
    if (gpus % (d * d) == 0) r = d;
  const int64_t c = gpus / (r * r), r3 = r;
  const bool published = published_counts.contains(gpus);
  const int iters = iterations("solomonik", params, 10, 2);
  const int64_t n = matrix_size(params, std::lcm(r, c * r3));
  const int64_t chunk = n / (c * r3);

  Program p;
  p.name = "solomonik";
  p.notes = {{"matrices", fmt::format("A = B.C, n = {} (20,000 x sqrt(nodes)), double", thousands(n))},
             {"grid", fmt::format("task_5 over (r, r, c) = ({}, {}, {}); r3 = {} chunks per k-slab{}", r, r, c, r3,
                                  published ? "" : " (not in the published table: by its rule)")},
             {"grids",
              "(r, c, r3) by total GPUs, published: 4 (2,1,2), 8 (2,2,2), 16 (4,1,4), 32 (4,2,4), "
              "64 (8,1,8), 128 (8,2,8), 256 (16,1,16); the rule they follow, used for any other count: "
              "r the largest integer whose square divides the GPUs, c = GPUs / r^2, r3 = r"},
             {"setup", fmt::format("init_cublas over the {} GPUs (1-D, one point each); task_1, task_2, task_3 place "
                                   "A, B, C as {} x {} tiles over (r, r, 1) = ({}, {}, 1)",
                                   gpus, r, r, r, r)},
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
  PartitionId b_tiles = tile_partition(p, B, "B_tiles", r, r);
  PartitionId c_tiles = tile_partition(p, C, "C_tiles", r, r);
  PartitionId b_slabs = tile_partition(p, B, "B_slabs", r, c);
  PartitionId b_chunks = tile_partition(p, B, "B_chunks", r, c * r3);
  PartitionId c_slabs = tile_partition(p, C, "C_slabs", c, r);
  PartitionId c_chunks = tile_partition(p, C, "C_chunks", c * r3, r);
  init_cublas(p, gpus);
  Placement pl = placement_tasks(p);
  TaskKindId task_5 = p.add_task(task("task_5", false, {ProcKind::GPU, ProcKind::CPU}, cost(Precision::FP64, {}),
                                      "inner: point (i,j,k) owns k-slab k; for s in [0,r3) launches task_4"));
  TaskKindId task_4 = dgemm_task(p, static_cast<double>(chunk));

  const RegionId ra = A.region, rb = B.region, rc = C.region;
  const Projection id = Projection::identity();
  // The placement launches are 3-D over (r, r, 1), the k = 0 face of the task_5 grid: point
  // (i, j, 0) places tile (i, j) of each matrix.
  const Projection face = Projection::of([](const PointRef& q) { return Point(q.point[0], q.point[1]); }, "(i,j)");
  auto place_a = [&](Privilege priv, LaunchOpts o) {
    index_launch(p, pl.task_1, Domain(r, r, 1), {piece(p, a_tiles, face, {vals(p, ra, priv)})}, o);
  };
  auto place = [&](LaunchOpts o) {
    place_a(Privilege::WO, o);
    o.fence = false;
    index_launch(p, pl.task_2, Domain(r, r, 1), {piece(p, b_tiles, face, {vals(p, rb, Privilege::WO)})}, o);
    index_launch(p, pl.task_3, Domain(r, r, 1), {piece(p, c_tiles, face, {vals(p, rc, Privilege::WO)})}, o);
  };
  const int64_t R3 = r3;
  auto kk = [R3](const PointRef& t4) {
    const Point& q = t4.parent->point;
    return q[2] * R3 + (q[0] + q[1] + t4.step) % R3;
  };
  mm_loop(p, params, iters, place, [&](LaunchOpts o) {
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
    // The drivers' timed read-only placement of A, which folds the c layers' partial sums.
    if (params.place_every_iteration) place_a(Privilege::RO, LaunchOpts{o.iteration, o.timed, false});
  });
  return p;
}

}  // namespace mage::apps::detail
