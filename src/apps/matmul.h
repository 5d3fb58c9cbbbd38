// Shared pieces of the distributed matrix multiplications (DISTAL-generated; A = B·C in
// double precision): tiled regions, placement tasks, the DGEMM leaf task_4, sizes.
#pragma once

#include <functional>
#include <string>

#include "apps/common.h"

namespace mage::apps::detail {

// n = 20,000 x sqrt(nodes) (weak scaling), or 64 x sqrt(nodes) at small scale, rounded to
// a multiple of `multiple` so that every tile has the same size.
int64_t matrix_size(const Params& params, int64_t multiple);

// An n x n matrix region with one field `vals` (double), cut into tx x ty equal tiles
// (block of tile (a, b) = a * ty + b).
struct Tiled {
  RegionId region;
  int64_t tx = 1, ty = 1;
};
Tiled tiled_matrix(Program& p, const std::string& name, int64_t n, int64_t tx, int64_t ty);
// A disjoint partition into cx x cy pieces, each a rectangle of (tx/cx) x (ty/cy) tiles.
PartitionId tile_partition(Program& p, const Tiled& m, const std::string& name, int64_t cx, int64_t cy);

// task_1, task_2, task_3: empty bodies that only place the first tiles of A, B, C (they
// write their argument, so the data starts where they run, and move no bytes).
struct Placement {
  TaskKindId task_1, task_2, task_3;
};
Placement placement_tasks(Program& p);

// init_cublas: creates the cuBLAS handle of each GPU before anything else runs; a 1-D index
// launch with one point per GPU (untimed), as DISTAL's GPU programs start.
void init_cublas(Program& p, int gpus);

// task_4: one DGEMM on C-ordered tiles: A (m x n, arg 0) op= B (m x k) · C (k x n);
// 2k flops per element of A.
TaskKindId dgemm_task(Program& p, double k);

// The benchmark loop: `place` (the placement launches, untimed), a warm-up iteration (0,
// untimed), then `iters` timed ones (1..iters), each starting with an execution fence. With
// Params::place_every_iteration, `place` again (untimed, after a fence) before each timed
// iteration, as DISTAL's drivers do, and Program::inputs_placed_once stays false.
void mm_loop(Program& p, const Params& params, int iters, const std::function<void(LaunchOpts)>& place,
             const std::function<void(LaunchOpts)>& iteration);

FieldAccess vals(const Program& p, RegionId r, Privilege priv);

}  // namespace mage::apps::detail
