// COSMA: communication-optimal 3-D matrix multiplication (BENCHMARKS.md; structure in mm3d.h).
#include "apps/mm3d.h"

namespace mage::apps::detail {

Program build_cosma(const Params& params) {
  // (gx, gy, gz) by total GPUs: 4→(1,2,2), 8→(2,2,2), 16→(2,2,4), 32→(2,4,4), 64→(4,4,4).
  static const std::map<int, std::array<int64_t, 3>> grids = {
      {4, {1, 2, 2}}, {8, {2, 2, 2}}, {16, {2, 2, 4}}, {32, {2, 4, 4}}, {64, {4, 4, 4}}};
  return build_mm3d(params, "cosma", grids, "by total GPUs: 4 (1,2,2), 8 (2,2,2), 16 (2,2,4), 32 (2,4,4), 64 (4,4,4)");
}

}  // namespace mage::apps::detail
