#include "apps/mm2d.h"

#include <fmt/format.h>
#include <numeric>

#include "apps/matmul.h"

namespace mage::apps::detail {

Program build_mm2d(const Params& params, Mm2d algo) {
  const char* name = algo == Mm2d::Cannon ? "cannon" : algo == Mm2d::Summa ? "summa" : "pumma";
  check_params(name, params);
  if (params.gpus_per_node != 4)
    throw AppError(
        fmt::format("{}: needs 4 GPUs per node (task_5 is launched over the node's 2 x 2 GPUs); "
                    "the machine has {}",
                    name, params.gpus_per_node));
  const int iters = iterations(name, params, 10, 2);
  // Node grid gx x gy = nodes, as square as possible; Cannon makes x the larger extent,
  // SUMMA and PUMMA y.
  auto [big, little] = factor2(params.nodes);
  const int64_t gx = algo == Mm2d::Cannon ? big : little;
  const int64_t gy = algo == Mm2d::Cannon ? little : big;
  const int64_t n = matrix_size(params, std::lcm(2 * gx, 2 * gy));

  Program p;
  p.name = name;
  const char* pattern = algo == Mm2d::Cannon  ? "B(i,(i+j+ko)%gx) and C((i+j+ko)%gx,j); inside the node "
                                                "GPU (i',j') uses k-half (i'+j'+kio)%2 (systolic shifts)"
                        : algo == Mm2d::Summa ? "B(i,ko) and C(ko,j): broadcasts along rows and columns; "
                                                "GPU k-half kio"
                                              : "B(i,(i+ko)%gx) and C((i+ko)%gx,j): row broadcast, column "
                                                "shift; GPU k-half kio";
  p.notes = {
      {"matrices", fmt::format("A = B.C, n = {} (20,000 x sqrt(nodes)), double", thousands(n))},
      {"node grid", fmt::format("gx x gy = {} x {}; GPU tiles 2gx x 2gy = {} x {}", gx, gy, 2 * gx, 2 * gy)},
      {"tiles", fmt::format("A per GPU {} x {}; each task_4 reads B {} x {} and C {} x {}", thousands(n / (2 * gx)),
                            thousands(n / (2 * gy)), thousands(n / (2 * gx)), thousands(n / (2 * gx)),
                            thousands(n / (2 * gx)), thousands(n / (2 * gy)))},
      {"step ko of node (i,j) reads", pattern},
      {"setup", fmt::format("init_cublas over the {} GPUs (1-D, one point each); task_1, task_2, task_3 place "
                            "A, B, C over the GPU grids {} x {}, {} x {}, {} x {}",
                            params.nodes * params.gpus_per_node, 2 * gx, 2 * gy, 2 * gx, 2 * gx, 2 * gx, 2 * gy)},
      {"loop", fmt::format("1 warm-up + {} timed iterations, each one launch of task_7 after a fence", iters)}};

  Tiled A = tiled_matrix(p, "A", n, 2 * gx, 2 * gy);
  Tiled B = tiled_matrix(p, "B", n, 2 * gx, 2 * gx);
  Tiled C = tiled_matrix(p, "C", n, 2 * gx, 2 * gy);
  PartitionId a_nodes = tile_partition(p, A, "A_nodes", gx, gy);
  PartitionId a_gpus = tile_partition(p, A, "A_gpus", 2 * gx, 2 * gy);
  PartitionId b_rows = tile_partition(p, B, "B_rows", gx, 1);
  PartitionId b_nodes = tile_partition(p, B, "B_nodes", gx, gx);
  PartitionId b_gpus = tile_partition(p, B, "B_gpus", 2 * gx, 2 * gx);
  PartitionId c_cols = tile_partition(p, C, "C_cols", 1, gy);
  PartitionId c_nodes = tile_partition(p, C, "C_nodes", gx, gy);
  PartitionId c_gpus = tile_partition(p, C, "C_gpus", 2 * gx, 2 * gy);

  init_cublas(p, params.nodes * params.gpus_per_node);
  Placement pl = placement_tasks(p);
  const Cost inner_cost = cost(Precision::FP64, {});
  TaskKindId task_7 = p.add_task(task("task_7", false, {ProcKind::OMP, ProcKind::CPU}, inner_cost,
                                      "inner: one node's share, for ko in [0,gx) launches task_6"));
  TaskKindId task_6 = p.add_task(task("task_6", false, {ProcKind::OMP, ProcKind::CPU}, inner_cost,
                                      "inner: step ko of one node, launches task_5 over the node's 2 x 2 GPUs"));
  TaskKindId task_5 = p.add_task(task("task_5", false, {ProcKind::GPU, ProcKind::CPU}, inner_cost,
                                      "inner: one GPU's tile of step ko, launches task_4 for kio in {0,1}"));
  TaskKindId task_4 = dgemm_task(p, static_cast<double>(n / (2 * gx)));

  const Projection id = Projection::identity();
  const RegionId ra = A.region, rb = B.region, rc = C.region;
  // The first tiles (the fence, if any, before the first placement launch only).
  auto place = [&](LaunchOpts o) {
    index_launch(p, pl.task_1, Domain(2 * gx, 2 * gy), {piece(p, a_gpus, id, {vals(p, ra, Privilege::WO)})}, o);
    o.fence = false;
    index_launch(p, pl.task_2, Domain(2 * gx, 2 * gx), {piece(p, b_gpus, id, {vals(p, rb, Privilege::WO)})}, o);
    index_launch(p, pl.task_3, Domain(2 * gx, 2 * gy), {piece(p, c_gpus, id, {vals(p, rc, Privilege::WO)})}, o);
  };

  // The node-level k step: task_6's step ko inside task_7 (i, j).
  auto kstep = [algo, gx](int64_t i, int64_t j, int64_t ko) {
    switch (algo) {
      case Mm2d::Cannon:
        return (i + j + ko) % gx;
      case Mm2d::Summa:
        return ko;
      case Mm2d::Pumma:
        return (i + ko) % gx;
    }
    return ko;
  };
  const char* ktext = algo == Mm2d::Cannon ? "(i+j+ko)%gx" : algo == Mm2d::Summa ? "ko" : "(i+ko)%gx";
  // From a task_6 PointRef: node (i, j) and k.
  auto node_k = [kstep](const PointRef& t6, int64_t& i, int64_t& j, int64_t& k) {
    i = t6.parent->point[0];
    j = t6.parent->point[1];
    k = kstep(i, j, t6.step);
  };
  // The node tile of B, (i, k), or of C, (k, j), that step ko of node (i, j) reads, as an
  // argument of task_6 (up = 0) or of the task_5 it launches (up = 1: task_6 is the parent).
  enum class NodeTile { B, C };
  auto node_tile = [&p, node_k, ktext, b_nodes, c_nodes, rb, rc](NodeTile which, int up) {
    auto proj = [node_k, which, up](const PointRef& r) {
      const PointRef* t6 = &r;
      for (int d = 0; d < up; ++d) t6 = t6->parent;
      int64_t i, j, k;
      node_k(*t6, i, j, k);
      return which == NodeTile::B ? Point(i, k) : Point(k, j);
    };
    return which == NodeTile::B
               ? piece(p, b_nodes, Projection::of(proj, fmt::format("(i,{})", ktext)), {vals(p, rb, Privilege::RO)})
               : piece(p, c_nodes, Projection::of(proj, fmt::format("({},j)", ktext)), {vals(p, rc, Privilege::RO)});
  };
  auto kio_half = [algo](int64_t ii, int64_t jj, int64_t kio) {
    return algo == Mm2d::Cannon ? (ii + jj + kio) % 2 : kio;
  };
  const std::string khalf = algo == Mm2d::Cannon ? "(i'+j'+kio)%2" : "kio";

  mm_loop(p, params, iters, place, [&](LaunchOpts o) {
    LaunchId l7 =
        index_launch(p, task_7, Domain(gx, gy),
                     {piece(p, a_nodes, id, {vals(p, ra, Privilege::RW)}),
                      piece(p, b_rows, Projection::of([](const PointRef& r) { return Point(r.point[0], 0); }, "(i,0)"),
                            {vals(p, rb, Privilege::RO)}),
                      piece(p, c_cols, Projection::of([](const PointRef& r) { return Point(0, r.point[1]); }, "(0,j)"),
                            {vals(p, rc, Privilege::RO)})},
                     o);
    LaunchOpts child{o.iteration, o.timed, false};
    LaunchId l6 =
        single_launch(p, task_6,
                      {piece(p, a_nodes, Projection::of([](const PointRef& r) { return r.parent->point; }, "(i,j)"),
                             {vals(p, ra, Privilege::RW)}),
                       node_tile(NodeTile::B, 0), node_tile(NodeTile::C, 0)},
                      child, l7, gx);
    LaunchId l5 = index_launch(p, task_5, Domain(2, 2),
                               {piece(p, a_gpus,
                                      Projection::of(
                                          [](const PointRef& r) {
                                            const PointRef& t7 = *r.parent->parent;
                                            return Point(2 * t7.point[0] + r.point[0], 2 * t7.point[1] + r.point[1]);
                                          },
                                          "(2i+i',2j+j')"),
                                      {vals(p, ra, Privilege::RW)}),
                                node_tile(NodeTile::B, 1), node_tile(NodeTile::C, 1)},
                               child, l6);
    // DISTAL's tags: the nested launch stays in the launching node; inner tasks map virtually.
    p.tag_same_address_space(l5);
    for (LaunchId inner : {l7, l6, l5}) p.tag_virtual(inner);
    // task_4 at step kio of task_5 (i', j') of task_6 step ko of task_7 (i, j).
    auto gpu_k = [node_k, kio_half](const PointRef& r, int64_t& gi, int64_t& gj, int64_t& gk) {
      const PointRef& t5 = *r.parent;
      int64_t i, j, k;
      node_k(*t5.parent, i, j, k);
      gi = 2 * i + t5.point[0];
      gj = 2 * j + t5.point[1];
      gk = 2 * k + kio_half(t5.point[0], t5.point[1], r.step);
    };
    // The 2-D tile of task_4's point from its (global i, j, k): coordinates `first`, `second`.
    auto gpu_tile = [gpu_k](int first, int second) {
      return [gpu_k, first, second](const PointRef& r) {
        int64_t g[3];
        gpu_k(r, g[0], g[1], g[2]);
        return Point(g[first], g[second]);
      };
    };
    single_launch(p, task_4,
                  {piece(p, a_gpus, Projection::of(gpu_tile(0, 1), "(2i+i',2j+j')"), {vals(p, ra, Privilege::RW)}),
                   piece(p, b_gpus, Projection::of(gpu_tile(0, 2), fmt::format("(2i+i',2{}+{})", ktext, khalf)),
                         {vals(p, rb, Privilege::RO)}),
                   piece(p, c_gpus, Projection::of(gpu_tile(2, 1), fmt::format("(2{}+{},2j+j')", ktext, khalf)),
                         {vals(p, rc, Privilege::RO)})},
                  child, l5, 2);
  });
  return p;
}

}  // namespace mage::apps::detail
