// Helpers shared by the app builders (internal to the apps module).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apps/apps.h"
#include "program/program.h"

namespace mage::apps::detail {

using namespace mage::program;
using kinds::DimOrder;
using kinds::ProcKind;

// Checks what every app needs and returns the total number of GPUs.
int check_params(std::string_view app, const Params& params);

// Timed iterations: the override, else the published or small default.
int iterations(std::string_view app, const Params& params, int published, int small);

// n = a·b with a >= b and a - b as small as possible.
std::pair<int, int> factor2(int n);

// Integer square root, rounded down.
int64_t isqrt(int64_t n);

// Sizes of `parts` near-equal blocks of `total` (the first ones one larger).
std::vector<int64_t> split_even(int64_t total, int64_t parts);

FieldAccess acc(const Program& p, RegionId r, Privilege priv, std::initializer_list<std::string_view> fields,
                RedOp op = RedOp::None);
FieldAccess acc_mask(FieldMask fields, Privilege priv, RedOp op = RedOp::None);

// A piece of a partition (region taken from the partition).
RegionArg piece(const Program& p, PartitionId part, Projection proj, std::vector<FieldAccess> access);
// A whole region.
RegionArg whole(RegionId r, std::vector<FieldAccess> access);

// A task kind whose variants (one per processor kind) share one cost model.
TaskKind task(std::string name, bool leaf, std::vector<ProcKind> procs, Cost cost, std::string description,
              std::optional<DimOrder> layout = std::nullopt);

Cost cost(Precision precision, std::vector<ArgCost> args, double flops_per_point = 0);
// Flops per element of an argument's piece, default bytes.
ArgCost flops_per(double flops_per_element, Access access = Access::Streaming);
// Irregular accesses through index maps; `accesses_per_element`: the fan-in (ArgCost).
ArgCost gather(double flops_per_element = 0, double accesses_per_element = 1);

struct LaunchOpts {
  int iteration = -1;
  bool timed = false;
  bool fence = false;
};
LaunchId index_launch(Program& p, TaskKindId t, Domain d, std::vector<RegionArg> args, LaunchOpts o,
                      LaunchId parent = {}, int64_t steps = 1);
LaunchId single_launch(Program& p, TaskKindId t, std::vector<RegionArg> args, LaunchOpts o, LaunchId parent = {},
                       int64_t steps = 1);

std::string thousands(int64_t v);

// The variant whose cost descriptions and totals use: GPU if there is one, else the first.
ProcKind cost_variant(const TaskKind& t);

// Calls f(launch, ref) for every point task of launch `l` issued by the parent `parent`
// (null at the top level), then for its children, recursively.
void walk(const Program& p, LaunchId l, const PointRef* parent,
          const std::function<void(const Launch&, const PointRef&)>& f);  // 1234567 -> "1,234,567"

}  // namespace mage::apps::detail
