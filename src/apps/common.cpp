#include "apps/common.h"

#include <fmt/format.h>

namespace mage::apps::detail {

int check_params(std::string_view app, const Params& params) {
  if (params.nodes < 1) throw AppError(fmt::format("{}: nodes must be at least 1 (got {})", app, params.nodes));
  if (params.gpus_per_node < 1)
    throw AppError(fmt::format("{}: needs at least one GPU per node (the machine has {})", app, params.gpus_per_node));
  if (params.ranks_per_node < 1 || params.gpus_per_node % params.ranks_per_node != 0)
    throw AppError(fmt::format("{}: {} ranks per node do not divide {} GPUs per node", app, params.ranks_per_node,
                               params.gpus_per_node));
  return params.nodes * params.gpus_per_node;
}

int iterations(std::string_view app, const Params& params, int published, int small) {
  if (params.iterations) {
    if (*params.iterations < 1)
      throw AppError(fmt::format("{}: iterations must be at least 1 (got {})", app, *params.iterations));
    return *params.iterations;
  }
  return params.scale == Scale::Small ? small : published;
}

std::pair<int, int> factor2(int n) {
  int b = 1;
  for (int d = 1; d * d <= n; ++d)
    if (n % d == 0) b = d;
  return {n / b, b};
}

int64_t isqrt(int64_t n) {
  int64_t r = 0;
  while ((r + 1) * (r + 1) <= n) ++r;
  return r;
}

std::vector<int64_t> split_even(int64_t total, int64_t parts) {
  std::vector<int64_t> out(static_cast<size_t>(parts), total / parts);
  for (int64_t i = 0; i < total % parts; ++i) ++out[static_cast<size_t>(i)];
  return out;
}

FieldAccess acc(const Program& p, RegionId r, Privilege priv, std::initializer_list<std::string_view> fields,
                RedOp op) {
  return FieldAccess{p.fields(r, fields), priv, op};
}

FieldAccess acc_mask(FieldMask fields, Privilege priv, RedOp op) { return FieldAccess{fields, priv, op}; }

RegionArg piece(const Program& p, PartitionId part, Projection proj, std::vector<FieldAccess> access) {
  return RegionArg{p.partitions.at(part.index()).region, part, std::move(proj), std::move(access)};
}

RegionArg whole(RegionId r, std::vector<FieldAccess> access) {
  return RegionArg{r, std::nullopt, Projection::identity(), std::move(access)};
}

TaskKind task(std::string name, bool leaf, std::vector<ProcKind> procs, Cost c, std::string description,
              std::optional<DimOrder> layout) {
  TaskKind k;
  k.name = std::move(name);
  k.leaf = leaf;
  k.description = std::move(description);
  for (ProcKind pk : procs) k.variants.push_back(Variant{pk, c, layout});
  return k;
}

Cost cost(Precision precision, std::vector<ArgCost> args, double flops_per_point) {
  return Cost{precision, flops_per_point, std::move(args)};
}

ArgCost flops_per(double flops_per_element, Access access) {
  return ArgCost{flops_per_element, std::nullopt, std::nullopt, access};
}

ArgCost gather(double flops_per_element, double accesses_per_element) {
  ArgCost a = flops_per(flops_per_element, Access::Gather);
  a.accesses_per_element = accesses_per_element;
  return a;
}

namespace {

Launch launch(TaskKindId t, LaunchKind kind, std::vector<RegionArg> args, LaunchOpts o, LaunchId parent,
              int64_t steps) {
  Launch l;
  l.task = t;
  l.kind = kind;
  l.args = std::move(args);
  l.parent = parent;
  l.steps = steps;
  l.fence = o.fence;
  l.iteration = o.iteration;
  l.timed = o.timed;
  return l;
}

}  // namespace

LaunchId index_launch(Program& p, TaskKindId t, Domain d, std::vector<RegionArg> args, LaunchOpts o, LaunchId parent,
                      int64_t steps) {
  Launch l = launch(t, LaunchKind::Index, std::move(args), o, parent, steps);
  l.domain = d;
  return p.add_launch(std::move(l));
}

LaunchId single_launch(Program& p, TaskKindId t, std::vector<RegionArg> args, LaunchOpts o, LaunchId parent,
                       int64_t steps) {
  return p.add_launch(launch(t, LaunchKind::Single, std::move(args), o, parent, steps));
}

std::string thousands(int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string s;
  if (v < 0) s.push_back('-');
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

ProcKind cost_variant(const TaskKind& t) {
  return t.has_variant(ProcKind::GPU) ? ProcKind::GPU : t.variants.front().proc;
}

void walk(const Program& p, LaunchId l, const PointRef* parent,
          const std::function<void(const Launch&, const PointRef&)>& f) {
  const Launch& launch = p.launches[l.index()];
  for (int64_t s = 0; s < launch.steps; ++s)
    for (int64_t i = 0; i < launch.domain.volume(); ++i) {
      PointRef ref{launch.domain.point(i), s, parent};
      f(launch, ref);
      for (LaunchId c : launch.children) walk(p, c, &ref, f);
    }
}

}  // namespace mage::apps::detail
