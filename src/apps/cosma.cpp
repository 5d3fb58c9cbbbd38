// COSMA: communication-optimal 3-D matrix multiplication (BENCHMARKS.md; structure in mm3d.h).
#include <fmt/format.h>

#include "apps/matmul.h"
#include "apps/mm3d.h"

namespace mage::apps::detail {

Program build_cosma(const Params& params) {
  // (gx, gy, gz) by total GPUs, published up to 64 GPUs: 4→(1,2,2), 8→(2,2,2), 16→(2,2,4),
  // 32→(2,4,4), 64→(4,4,4). COSMA chooses the grid that moves the fewest bytes: for square
  // matrices each processor receives n^2 (gx + gy + gz) / GPUs elements, so the factorisation
  // of the GPU count into gx <= gy <= gz with the smallest gx + gy + gz (ties: the larger gx,
  // i.e. the more cubic). That reproduces the published table and gives every other count
  // its grid, e.g. 128 → (4,4,8), 12 → (2,2,3); on Lassen's 64 nodes (256 GPUs) the best grid
  // (4,8,8) needs 16 GB per point, so COSMA takes 2 sequential steps: (8,8,8).
  const int gpus = check_params("cosma", params);
  // The least-communication grid of `points` = gpus x s points (s sequential steps per GPU).
  auto grid_of = [](int64_t points) {
    std::array<int64_t, 3> best{1, 1, points};
    for (int64_t x = 1; x * x * x <= points; ++x) {
      if (points % x) continue;
      for (int64_t y = x; x * y * y <= points; ++y) {
        if ((points / x) % y) continue;
        const int64_t z = points / (x * y);
        if (x + y + z <= best[0] + best[1] + best[2]) best = {x, y, z};
      }
    }
    return best;
  };
  // COSMA is memory-aware: when what one point holds does not fit in 90% of a GPU's
  // framebuffer (the rest is the runtime's), it splits the work into sequential steps: here
  // 2, 4, ... points per GPU. A point holds its B and C tiles and A's tile twice — the
  // reduction buffer it accumulates into and, on the k = 0 face, the tile itself:
  // n^2 (2/gx gy + 1/gx gz + 1/gz gy) doubles.
  const double n = static_cast<double>(matrix_size(params, 1));
  auto fits = [&](const std::array<int64_t, 3>& g) {
    if (params.gpu_memory_bytes == 0) return true;
    const double x = static_cast<double>(g[0]), y = static_cast<double>(g[1]), z = static_cast<double>(g[2]);
    const double bytes = 8 * n * n * (2 / (x * y) + 1 / (x * z) + 1 / (z * y));
    return bytes <= 0.9 * static_cast<double>(params.gpu_memory_bytes);
  };
  int64_t steps = 1;
  std::array<int64_t, 3> best = grid_of(gpus);
  while (!fits(best) && steps < 64) {
    steps *= 2;
    best = grid_of(gpus * steps);
  }
  return build_mm3d(
      params, "cosma", best,
      fmt::format(
          "the factorisation of the GPUs into gx <= gy <= gz with the least communication, gx + gy + gz "
          "smallest, whose tiles fit a GPU{}; published: 4 (1,2,2), 8 (2,2,2), 16 (2,2,4), 32 (2,4,4), "
          "64 (4,4,4); the same rule beyond (128 (4,4,8))",
          steps == 1 ? "" : fmt::format(": they do not at 1 point per GPU, so {} sequential points per GPU", steps)));
}

}  // namespace mage::apps::detail
