// COSMA: communication-optimal 3-D matrix multiplication (BENCHMARKS.md; structure in mm3d.h).
#include <fmt/format.h>

#include "apps/mm3d.h"

namespace mage::apps::detail {

Program build_cosma(const Params& params) {
  // (gx, gy, gz) by total GPUs, published up to 64 GPUs: 4→(1,2,2), 8→(2,2,2), 16→(2,2,4),
  // 32→(2,4,4), 64→(4,4,4). COSMA chooses the grid that moves the fewest bytes: for square
  // matrices each processor receives n^2 (gx + gy + gz) / GPUs elements, so the factorisation
  // of the GPU count into gx <= gy <= gz with the smallest gx + gy + gz (ties: the larger gx,
  // i.e. the more cubic). That reproduces the published table and gives every other count
  // its grid, e.g. 128 → (4,4,8), 256 → (4,8,8), 12 → (2,2,3).
  const int gpus = check_params("cosma", params);
  std::array<int64_t, 3> best{1, 1, gpus};
  for (int64_t x = 1; x * x * x <= gpus; ++x) {
    if (gpus % x) continue;
    for (int64_t y = x; x * y * y <= gpus; ++y) {
      if ((gpus / x) % y) continue;
      const int64_t z = gpus / (x * y);
      if (x + y + z <= best[0] + best[1] + best[2]) best = {x, y, z};
    }
  }
  return build_mm3d(params, "cosma", best,
                    "the factorisation of the GPUs into gx <= gy <= gz with the least communication, "
                    "gx + gy + gz smallest; published: 4 (1,2,2), 8 (2,2,2), 16 (2,2,4), 32 (2,4,4), 64 (4,4,4); "
                    "the same rule beyond (128 (4,4,8), 256 (4,8,8))");
}

}  // namespace mage::apps::detail
