// Cannon, SUMMA and PUMMA share one structure (BENCHMARKS.md, "Distributed matrix
// multiplication"): task_7 over the node grid → task_6 per step ko → task_5 over the node's
// 2 x 2 GPUs → task_4 per step kio. They differ in which tiles of B and C step ko reads.
#pragma once

#include "apps/common.h"

namespace mage::apps::detail {

enum class Mm2d { Cannon, Summa, Pumma };
Program build_mm2d(const Params& params, Mm2d algo);

}  // namespace mage::apps::detail
