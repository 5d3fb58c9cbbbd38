// Johnson's 3-D matrix multiplication: a g x g x g grid (BENCHMARKS.md; structure in mm3d.h).
#include "apps/mm3d.h"

namespace mage::apps::detail {

Program build_johnson(const Params& params) {
  // g by total GPUs: 4→2, 8→2, 16→4, 32→4, 64→4.
  static const std::map<int, std::array<int64_t, 3>> grids = {
      {4, {2, 2, 2}}, {8, {2, 2, 2}}, {16, {4, 4, 4}}, {32, {4, 4, 4}}, {64, {4, 4, 4}}};
  return build_mm3d(params, "johnson", grids, "g x g x g by total GPUs: 4,8 -> 2; 16,32,64 -> 4");
}

}  // namespace mage::apps::detail
