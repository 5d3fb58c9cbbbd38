// The placement families of index launches (and the parent's processor for nested ones):
// their choices, names and the mapping-language functions that implement them.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <functional>
#include <numeric>

#include "tune/detail.h"

namespace mage::tune::detail {

namespace {

std::string join(const auto& values, std::string_view sep) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += sep;
    out += fmt::format("{}", v);
  }
  return out;
}

bool identity(const std::vector<int>& order) {
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] != static_cast<int>(i)) return false;
  return true;
}

// Every ordered factorisation of n into `parts` positive factors (the follow-up work's
// `decompose`: each is a processor grid for a launch of that many dimensions).
void factorisations(int64_t n, int parts, std::vector<int64_t>& prefix, std::vector<std::vector<int64_t>>& out) {
  if (parts == 1) {
    prefix.push_back(n);
    out.push_back(prefix);
    prefix.pop_back();
    return;
  }
  for (int64_t f = 1; f <= n; ++f) {
    if (n % f) continue;
    prefix.push_back(f);
    factorisations(n / f, parts - 1, prefix, out);
    prefix.pop_back();
  }
}

std::string family_name(Family f) {
  switch (f) {
    case Family::Default:
      return "default";
    case Family::Block:
      return "block";
    case Family::Cyclic:
      return "cyclic";
    case Family::Linear:
      return "linear";
    case Family::BlockCyclic:
      return "block_cyclic";
    case Family::AutoSplit:
      return "auto_split";
    case Family::Skew:
      return "skew";
    case Family::Parent:
      return "parent";
    case Family::Table:
      return "table";
  }
  return "?";
}

// A table's digest names the choice, so that a journal resumed against a start mapper that
// places differently fails by name instead of silently meaning another placement, and two
// tables of one mapper get functions of different names.
std::string digest(const std::vector<int64_t>& table) { return mapping::placement_digest(table); }

// `x[o0]`, `x[o0] * e(o1) + x[o1]`, ...: the linear index of point x in order `order`.
std::string linearised(const std::string& x, const std::vector<int>& order,
                       const std::function<std::string(int)>& extent) {
  std::string expr = fmt::format("{}[{}]", x, order[0]);
  for (size_t j = 1; j < order.size(); ++j)
    expr = fmt::format("({}) * {} + {}[{}]", expr, extent(order[j]), x, order[j]);
  return expr;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string PlacementChoice::label() const {
  if (family == Family::Table) return "table " + digest(table);
  if (family == Family::Skew) return fmt::format("skew {}{}{}", skew_axis, skew_sign > 0 ? '+' : '-', 1 - skew_axis);
  std::string out = family_name(family);
  if (!grid.empty()) out += fmt::format(" {}", join(grid, "x"));
  // AutoSplit without an order is the expert's form; with one, even the identity, its cells linearised so.
  if (!order.empty() && (!identity(order) || family == Family::AutoSplit))
    out += fmt::format(" order {}", join(order, ","));
  return out;
}

std::string PlacementChoice::function() const {
  if (family == Family::Default || family == Family::Parent) return "";
  if (family == Family::AutoSplit)
    return order.empty() ? "two_level" : fmt::format("two_level_o{}_{}d", join(order, ""), dims);
  if (family == Family::Table) return "table_" + digest(table);
  if (family == Family::Skew)
    return fmt::format("skew_{}{}{}{}", skew_axis, skew_sign > 0 ? 'p' : 'm', 1 - skew_axis,
                       dims > 2 ? fmt::format("_{}d", dims) : "");
  std::string out = family_name(family);
  if (!grid.empty()) out += fmt::format("_{}", join(grid, "x"));
  // Families without a grid linearise the launch, and their body depends on its dimensions:
  // a mapper placing a 1-D and a 2-D launch that way needs two functions of different names.
  if (grid.empty() && dims > 1) out += fmt::format("_{}d", dims);
  if (!order.empty() && !identity(order)) out += fmt::format("_o{}", join(order, ""));
  return out;
}

std::string PlacementChoice::definition() const {
  const std::string head = fmt::format("def {}(Task task, MSpace m) {{\n", function());
  // Where cell or processor index k lands: node-major (blocks) or node-fastest (cyclic).
  const std::string node_major = "  return m[k / m.size[1], k % m.size[1]];\n}\n";
  const std::string node_fastest = "  return m[k % m.size[0], k / m.size[0]];\n}\n";
  auto grid_extent = [this](int d) { return fmt::format("{}", grid[static_cast<size_t>(d)]); };
  auto launch_extent = [](int d) { return fmt::format("task.ispace[{}]", d); };
  const std::string grid_tuple = fmt::format(fmt::runtime(grid.size() == 1 ? "({},)" : "({})"), join(grid, ", "));
  switch (family) {
    case Family::Default:
    case Family::Parent:
      return "";
    case Family::Block:
      if (dims == 1) return head + "  k = task.ipoint[0] * m.volume / task.ispace[0];\n" + node_major;
      return head + fmt::format("  c = task.ipoint * {} / task.ispace;\n", grid_tuple) +
             fmt::format("  k = {};\n", linearised("c", order, grid_extent)) + node_major;
    case Family::Cyclic:
      if (dims == 1) return head + "  k = task.ipoint[0] % m.volume;\n" + node_fastest;
      return head + fmt::format("  c = task.ipoint % {};\n", grid_tuple) +
             fmt::format("  k = {};\n", linearised("c", order, grid_extent)) + node_fastest;
    case Family::Linear: {
      const std::string l = dims == 1 ? "task.ipoint[0]" : linearised("task.ipoint", order, launch_extent);
      return head + fmt::format("  k = ({}) * m.volume / task.ispace.volume;\n", l) + node_major;
    }
    case Family::BlockCyclic: {
      const std::string l = dims == 1 ? "task.ipoint[0]" : linearised("task.ipoint", order, launch_extent);
      return head + fmt::format("  l = {};\n", l) +
             "  return m[l * m.size[0] / task.ispace.volume, l % m.size[1]];\n}\n";
    }
    case Family::Table: {
      // The processor of each point, by its row-major index (the tuple is the global
      // FUNCTION_at, evaluated once).
      std::vector<int> identity_order(static_cast<size_t>(std::max(dims, 1)));
      std::iota(identity_order.begin(), identity_order.end(), 0);
      const std::string l = dims <= 1 ? "task.ipoint[0]" : linearised("task.ipoint", identity_order, launch_extent);
      return head + fmt::format("  k = {}_at[{}];\n", function(), l) + node_major;
    }
    case Family::Skew: {
      // Coordinate a shifted by coordinate b (modulo a's extent, kept non-negative), then the
      // launch linearised row-major and blocked over the processors, as Linear. A 3-D launch
      // is skewed in its first two coordinates (Solomonik's (r, r, 1) placement launches).
      const int a = skew_axis, b = 1 - skew_axis;
      const std::string shifted =
          skew_sign > 0 ? fmt::format("(task.ipoint[{0}] + task.ipoint[{1}]) % task.ispace[{0}]", a, b)
                        : fmt::format(
                              "(task.ipoint[{0}] + task.ispace[{0}] - task.ipoint[{1}] % task.ispace[{0}]) % "
                              "task.ispace[{0}]",
                              a, b);
      const std::string c0 = a == 0 ? shifted : "task.ipoint[0]";
      const std::string c1 = a == 1 ? shifted : "task.ipoint[1]";
      const std::string l = dims > 2
                                ? fmt::format("(({}) * task.ispace[1] + {}) * task.ispace[2] + task.ipoint[2]", c0, c1)
                                : fmt::format("({}) * task.ispace[1] + {}", c0, c1);
      return head + fmt::format("  l = {};\n", l) + "  k = l * m.volume / task.ispace.volume;\n" + node_major;
    }
    case Family::AutoSplit:
      // Ranks split to the launch's shape, the launch blocked over them; each rank's
      // processors split to its block, the points of the block dealt out cyclically.
      if (!order.empty()) {
        // The same cells, the rank's and the processor's linearised in `order` (row-major
        // for the identity, as the default placement deals out blocks) instead of the
        // machine space's own order of split dimensions (coordinate 0 fastest).
        const auto d = static_cast<int>(order.size());
        auto rank_extent = [](int j) { return fmt::format("grid.size[{}]", j); };
        auto proc_extent = [d](int j) { return fmt::format("grid.size[{}]", d + j); };
        return head + "  ranks = m.auto_split(0, task.ispace);\n" +
               fmt::format("  grid = ranks.auto_split({}, task.ispace / ranks[:-1]);\n", d) +
               fmt::format("  upper = task.ipoint * grid[:{}] / task.ispace;\n", d) +
               fmt::format("  lower = task.ipoint % grid[{}:];\n", d) +
               fmt::format("  return m[{}, {}];\n}}\n", linearised("upper", order, rank_extent),
                           linearised("lower", order, proc_extent));
      }
      return head +
             "  d = task.ispace.len;\n"
             "  ranks = m.auto_split(0, task.ispace);\n"
             "  grid = ranks.auto_split(d, task.ispace / ranks[:-1]);\n"
             "  upper = task.ipoint * grid[:d] / task.ispace;\n"
             "  lower = task.ipoint % grid[d:];\n"
             "  return grid[*upper, *lower];\n}\n";
  }
  return "";
}

std::vector<PlacementChoice> placement_families(int dims, int64_t processors, bool nested) {
  std::vector<PlacementChoice> out;
  out.push_back({Family::Default, dims, {}, {}});
  if (dims >= 1) {
    std::vector<int> order(static_cast<size_t>(dims));
    std::iota(order.begin(), order.end(), 0);
    std::vector<std::vector<int>> orders;
    do {
      orders.push_back(order);
    } while (std::next_permutation(order.begin(), order.end()));
    std::vector<std::vector<int64_t>> grids;
    std::vector<int64_t> prefix;
    if (dims > 1) factorisations(processors, dims, prefix, grids);
    for (Family f : {Family::Block, Family::Cyclic}) {
      if (dims == 1) {
        out.push_back({f, 1, {}, {}});
        continue;
      }
      for (const auto& g : grids)
        for (const auto& o : orders) out.push_back({f, dims, o, g});
    }
    for (Family f : {Family::Linear, Family::BlockCyclic}) {
      if (dims == 1) {
        out.push_back({f, 1, {}, {}});
        continue;
      }
      for (const auto& o : orders) out.push_back({f, dims, o, {}});
    }
    out.push_back({Family::AutoSplit, dims, {}, {}});
    if (dims >= 2)
      for (const auto& o : orders) out.push_back({Family::AutoSplit, dims, o, {}});
    if (dims >= 2)
      for (int axis : {1, 0})
        for (int sign : {1, -1}) {
          PlacementChoice skew{Family::Skew, dims, {}, {}};
          skew.skew_axis = axis;
          skew.skew_sign = sign;
          out.push_back(skew);
        }
  }
  if (nested) out.push_back({Family::Parent, dims, {}, {}});
  return out;
}

std::string space_global(const std::string& kind) { return fmt::format("m{}", lower(kind)); }

PlacementCode placement_code(const PlacementChoice& choice, const std::string& kind,
                             const std::optional<std::string>& parent_kind, bool node_local) {
  PlacementCode code;
  const std::string m = space_global(kind);
  code.globals.push_back(fmt::format("{} = Machine({});", m, kind));
  if (parent_kind && *parent_kind != kind)
    code.globals.push_back(fmt::format("{} = Machine({});", space_global(*parent_kind), *parent_kind));
  const std::string pm = parent_kind ? space_global(*parent_kind) : "";
  if (choice.family == Family::Default) return code;
  if (choice.family == Family::Parent) {
    if (!parent_kind) return code;
    if (*parent_kind == kind) {
      code.wrapper = fmt::format("on_parent_{}", lower(kind));
      code.definitions.push_back(
          fmt::format("def {}(Task task) {{ return {}[*task.parent.processor({})]; }}\n", code.wrapper, m, m));
    } else {
      // The parent runs on another kind: the processor of ours with its index on its node.
      code.wrapper = fmt::format("on_parent_{}_from_{}", lower(kind), lower(*parent_kind));
      code.definitions.push_back(fmt::format(
          "def {}(Task task) {{\n  p = task.parent.processor({});\n  return {}[p[0], p[1] % {}.size[1]];\n}}\n",
          code.wrapper, pm, m, m));
    }
    return code;
  }
  if (choice.family == Family::Table)
    code.globals.push_back(fmt::format(fmt::runtime(choice.table.size() == 1 ? "{}_at = ({},);" : "{}_at = ({});"),
                                       choice.function(), join(choice.table, ", ")));
  code.definitions.push_back(choice.definition());
  if (node_local && parent_kind) {
    code.wrapper = fmt::format("{}_{}_node_of_{}", choice.function(), lower(kind), lower(*parent_kind));
    code.definitions.push_back(fmt::format(
        "def {}(Task task) {{\n  n = task.parent.processor({})[0];\n  return {}(task, {}.slice(0, n, n));\n}}\n",
        code.wrapper, pm, choice.function(), m));
  } else {
    code.wrapper = fmt::format("{}_{}", choice.function(), lower(kind));
    code.definitions.push_back(
        fmt::format("def {}(Task task) {{ return {}(task, {}); }}\n", code.wrapper, choice.function(), m));
  }
  return code;
}

}  // namespace mage::tune::detail
