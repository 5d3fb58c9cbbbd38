// PUMMA: 2-D distributed matrix multiplication (BENCHMARKS.md; structure in mm2d.h).
#include "apps/mm2d.h"

namespace mage::apps::detail {

Program build_pumma(const Params& params) { return build_mm2d(params, Mm2d::Pumma); }

}  // namespace mage::apps::detail
