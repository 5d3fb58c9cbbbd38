// Johnson's 3-D algorithm and COSMA share one structure (BENCHMARKS.md): one index launch
// of task_4 over a gx x gy x gz grid, RED (+) into A(i,j), RO B(i,k), RO C(k,j).
#pragma once

#include <array>
#include <string>

#include "apps/common.h"

namespace mage::apps::detail {

// `grid`: the launch (gx, gy, gz) for the total GPUs; `grid_text`: how it was chosen.
Program build_mm3d(const Params& params, const char* name, std::array<int64_t, 3> grid, const std::string& grid_text);

}  // namespace mage::apps::detail
