#include "apps/matmul.h"

#include <fmt/format.h>
#include <cmath>

namespace mage::apps::detail {

int64_t matrix_size(const Params& params, int64_t multiple) {
  double base = params.scale == Scale::Small ? 64.0 : 20'000.0;
  double n = base * std::sqrt(static_cast<double>(params.nodes));
  auto k = static_cast<int64_t>(std::llround(n / static_cast<double>(multiple)));
  return std::max<int64_t>(k, 1) * multiple;
}

Tiled tiled_matrix(Program& p, const std::string& name, int64_t n, int64_t tx, int64_t ty) {
  Tiled m;
  m.region = p.add_region(name, Domain(n, n), {{"vals", 8}});
  m.tx = tx;
  m.ty = ty;
  p.set_blocks(m.region, std::vector<int64_t>(static_cast<size_t>(tx * ty), (n / tx) * (n / ty)));
  return m;
}

PartitionId tile_partition(Program& p, const Tiled& m, const std::string& name, int64_t cx, int64_t cy) {
  const int64_t fx = m.tx / cx, fy = m.ty / cy;
  std::vector<std::vector<int32_t>> pieces;
  for (int64_t a = 0; a < cx; ++a)
    for (int64_t b = 0; b < cy; ++b) {
      std::vector<int32_t> blocks;
      for (int64_t x = a * fx; x < (a + 1) * fx; ++x)
        for (int64_t y = b * fy; y < (b + 1) * fy; ++y) blocks.push_back(static_cast<int32_t>(x * m.ty + y));
      pieces.push_back(std::move(blocks));
    }
  return p.add_block_partition(name, m.region, Domain(cx, cy), pieces);
}

Placement placement_tasks(Program& p) {
  const std::vector<ProcKind> procs{ProcKind::GPU, ProcKind::OMP, ProcKind::CPU};
  Cost empty = cost(Precision::FP64, {ArgCost{0, 0.0, 0.0, Access::Streaming}});
  Placement pl;
  pl.task_1 = p.add_task(task("task_1", true, procs, empty, "placement of the first tiles of A (empty body)"));
  pl.task_2 = p.add_task(task("task_2", true, procs, empty, "placement of the first tiles of B (empty body)"));
  pl.task_3 = p.add_task(task("task_3", true, procs, empty, "placement of the first tiles of C (empty body)"));
  return pl;
}

void init_cublas(Program& p, int gpus) {
  // Variants for every kind task_4 has, so that a mapper putting everything on CPUs (the
  // program built for BLAS) still maps: there it has nothing to set up.
  TaskKindId t =
      p.add_task(task("init_cublas", true, {ProcKind::GPU, ProcKind::OMP, ProcKind::CPU}, cost(Precision::FP64, {}),
                      "create the cuBLAS handle of one GPU (setup, one point per GPU; a no-op elsewhere)"));
  index_launch(p, t, Domain(gpus), {}, {});
}

TaskKindId dgemm_task(Program& p, double k) {
  Cost dgemm = cost(Precision::FP64, {flops_per(2 * k), {}, {}});
  // cuBLAS and MKL DGEMM on large tiles sustain about 90% of the fp64 peak.
  dgemm.peak_fraction = 0.9;
  return p.add_task(task("task_4", true, {ProcKind::GPU, ProcKind::OMP, ProcKind::CPU}, dgemm,
                         "DGEMM on one tile (cuBLAS/BLAS); requires C-order (row-major) instances", DimOrder::C));
}

void mm_loop(Program& p, const Params& params, int iters, const std::function<void(LaunchOpts)>& place,
             const std::function<void(LaunchOpts)>& iteration) {
  p.iterations = iters;
  p.warmup_iterations = 1;
  p.metric = program::Metric::Flops;
  p.inputs_placed_once = !params.place_every_iteration;
  if (params.place_every_iteration)
    p.notes.push_back({"drivers", "as DISTAL's: the tiles placed again before every timed iteration (untimed)"});
  place(LaunchOpts{});
  for (int it = 0; it <= iters; ++it) {
    if (it > 0 && params.place_every_iteration) place(LaunchOpts{it, false, true});
    iteration(LaunchOpts{it, it > 0, true});
  }
}

FieldAccess vals(const Program& p, RegionId r, Privilege priv) {
  return acc(p, r, priv, {"vals"}, priv == Privilege::RED ? RedOp::Sum : RedOp::None);
}

}  // namespace mage::apps::detail
