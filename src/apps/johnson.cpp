// Johnson's 3-D matrix multiplication: a g x g x g grid (BENCHMARKS.md; structure in mm3d.h).
#include <fmt/format.h>

#include "apps/mm3d.h"

namespace mage::apps::detail {

Program build_johnson(const Params& params) {
  // g by total GPUs, published up to 64 GPUs: 4→2, 8→2, 16→4, 32→4, 64→4. That is the
  // smallest power of two whose cube is at least the GPU count: the algorithm's cube of
  // g^3 processors, made at least as large as the machine so that every GPU gets a block of
  // the cube. Beyond 64 GPUs (Lassen past 16 nodes) and for other counts the same rule:
  // 128 and 256 → 8.
  const int gpus = check_params("johnson", params);
  int64_t g = 1;
  while (g * g * g < gpus) g *= 2;
  return build_mm3d(params, "johnson", {g, g, g},
                    fmt::format("g = {}, the smallest power of two with g^3 >= GPUs; published: 4, 8 GPUs -> 2; "
                                "16, 32, 64 -> 4; the same rule beyond (128, 256 -> 8)",
                                g));
}

}  // namespace mage::apps::detail
