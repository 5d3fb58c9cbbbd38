#include "apps/mm3d.h"

#include <fmt/format.h>
#include <numeric>

#include "apps/matmul.h"

namespace mage::apps::detail {

Program build_mm3d(const Params& params, const char* name, std::array<int64_t, 3> grid, const std::string& grid_text) {
  const int gpus = check_params(name, params);
  // Plain variables, not a structured binding: the placement lambdas below capture them.
  const int64_t gx = grid[0], gy = grid[1], gz = grid[2];
  const int iters = iterations(name, params, 10, 2);
  const int64_t n = matrix_size(params, std::lcm(std::lcm(gx, gy), gz));

  Program p;
  p.name = name;
  p.notes = {
      {"matrices", fmt::format("A = B.C, n = {} (20,000 x sqrt(nodes)), double", thousands(n))},
      {"grid", fmt::format("{} x {} x {} = {} point tasks on {} GPUs ({})", gx, gy, gz, gx * gy * gz, gpus, grid_text)},
      {"tiles",
       fmt::format("task_4 (i,j,k): A(i,j) {} x {} += B(i,k) {} x {} . C(k,j) {} x {}", thousands(n / gx),
                   thousands(n / gy), thousands(n / gx), thousands(n / gz), thousands(n / gz), thousands(n / gy))},
      {"placement",
       "A, B, C start on the faces k=0, j=0, i=0 (task_1, task_2, task_3); partial A of "
       "every k are reduced back to face k=0"},
      {"ranks", fmt::format("run as {} rank(s) per node", params.ranks_per_node)},
      {"loop", fmt::format("1 warm-up + {} timed iterations, each one launch of task_4 after a fence", iters)}};

  Tiled A = tiled_matrix(p, "A", n, gx, gy);
  Tiled B = tiled_matrix(p, "B", n, gx, gz);
  Tiled C = tiled_matrix(p, "C", n, gz, gy);
  PartitionId a_tiles = tile_partition(p, A, "A_tiles", gx, gy);
  PartitionId b_tiles = tile_partition(p, B, "B_tiles", gx, gz);
  PartitionId c_tiles = tile_partition(p, C, "C_tiles", gz, gy);
  Placement pl = placement_tasks(p);
  TaskKindId task_4 = dgemm_task(p, static_cast<double>(n / gz));

  const RegionId ra = A.region, rb = B.region, rc = C.region;
  auto proj = [](int a, int b, const char* text) {
    return Projection::of([a, b](const PointRef& r) { return Point(r.point[a], r.point[b]); }, text);
  };
  auto place_a = [&](Privilege priv, LaunchOpts o) {
    index_launch(p, pl.task_1, Domain(gx, gy, 1), {piece(p, a_tiles, proj(0, 1, "(i,j)"), {vals(p, ra, priv)})}, o);
  };
  auto place = [&](LaunchOpts o) {
    place_a(Privilege::WO, o);
    o.fence = false;
    index_launch(p, pl.task_2, Domain(gx, 1, gz),
                 {piece(p, b_tiles, proj(0, 2, "(i,k)"), {vals(p, rb, Privilege::WO)})}, o);
    index_launch(p, pl.task_3, Domain(1, gy, gz),
                 {piece(p, c_tiles, proj(2, 1, "(k,j)"), {vals(p, rc, Privilege::WO)})}, o);
  };
  mm_loop(p, params, iters, place, [&](LaunchOpts o) {
    index_launch(p, task_4, Domain(grid[0], grid[1], grid[2]),
                 {piece(p, a_tiles, proj(0, 1, "(i,j)"), {vals(p, ra, Privilege::RED)}),
                  piece(p, b_tiles, proj(0, 2, "(i,k)"), {vals(p, rb, Privilege::RO)}),
                  piece(p, c_tiles, proj(2, 1, "(k,j)"), {vals(p, rc, Privilege::RO)})},
                 o);
    // The drivers' timed read-only placement of A, which folds the partial sums of every k
    // into A's tiles (placed again before the next iteration, they would otherwise be dropped).
    if (params.place_every_iteration) place_a(Privilege::RO, LaunchOpts{o.iteration, o.timed, false});
  });
  return p;
}

}  // namespace mage::apps::detail
