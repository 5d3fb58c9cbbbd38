// SUMMA: 2-D distributed matrix multiplication (BENCHMARKS.md; structure in mm2d.h).
#include "apps/mm2d.h"

namespace mage::apps::detail {

Program build_summa(const Params& params) { return build_mm2d(params, Mm2d::Summa); }

}  // namespace mage::apps::detail
