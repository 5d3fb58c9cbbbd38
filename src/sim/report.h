// Turning the record of a finished simulation into an Outcome: the timed window, the
// metric, the profile (busy processors, bytes per channel kind, peak memory, costliest
// tasks and copies, critical path) and the trace (internal to sim; no SimGrid here).
#pragma once

#include "sim/runtime.h"
#include "sim/sim.h"

namespace mage::sim::detail {

Outcome report(const Runtime& rt, const Options& options);

}  // namespace mage::sim::detail
