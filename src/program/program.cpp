#include "program/program.h"

#include <fmt/format.h>
#include <algorithm>
#include <numeric>
#include <set>

namespace mage::program {

// ---------------------------------------------------------------- points and domains
std::string to_string(const Point& p) {
  std::string s = "(";
  for (int i = 0; i < p.dim; ++i) {
    if (i) s += ',';
    s += std::to_string(p[i]);
  }
  s += ')';
  return s;
}

int64_t Domain::volume() const {
  int64_t v = 1;
  for (int i = 0; i < dim; ++i) v *= extent[static_cast<size_t>(i)];
  return v;
}

bool Domain::contains(const Point& p) const {
  if (p.dim != dim) return false;
  for (int i = 0; i < dim; ++i)
    if (p[i] < 0 || p[i] >= extent[static_cast<size_t>(i)]) return false;
  return true;
}

int64_t Domain::linear(const Point& p) const {
  if (!contains(p))
    throw ProgramError(fmt::format("point {} is outside the domain {}", to_string(p), to_string(*this)));
  int64_t l = 0;
  for (int i = 0; i < dim; ++i) l = l * extent[static_cast<size_t>(i)] + p[i];
  return l;
}

Point Domain::point(int64_t linear) const {
  Point p;
  p.dim = dim;
  for (int i = dim - 1; i >= 0; --i) {
    p.c[static_cast<size_t>(i)] = linear % extent[static_cast<size_t>(i)];
    linear /= extent[static_cast<size_t>(i)];
  }
  return p;
}

std::string to_string(const Domain& d) {
  if (d.dim == 0) return "1";
  std::string s;
  for (int i = 0; i < d.dim; ++i) {
    if (i) s += 'x';
    s += std::to_string(d.extent[static_cast<size_t>(i)]);
  }
  return s;
}

// ---------------------------------------------------------------- enums
std::string_view to_string(Privilege p) {
  switch (p) {
    case Privilege::RO:
      return "RO";
    case Privilege::RW:
      return "RW";
    case Privilege::WO:
      return "WO";
    case Privilege::RED:
      return "RED";
    case Privilege::NA:
      return "NA";
  }
  return "?";
}

bool reads(Privilege p) { return p == Privilege::RO || p == Privilege::RW; }
bool writes(Privilege p) { return p == Privilege::RW || p == Privilege::WO; }

std::string_view to_string(RedOp op) {
  switch (op) {
    case RedOp::None:
      return "none";
    case RedOp::Sum:
      return "+";
    case RedOp::Prod:
      return "*";
    case RedOp::Min:
      return "min";
    case RedOp::Max:
      return "max";
  }
  return "?";
}

std::string_view to_string(Precision p) { return p == Precision::FP32 ? "fp32" : "fp64"; }
std::string_view to_string(Access a) { return a == Access::Streaming ? "streaming" : "gather"; }

// ---------------------------------------------------------------- regions and tasks
int64_t Region::bytes_per_element() const { return bytes(all_fields()); }

int64_t Region::bytes(FieldMask m) const {
  int64_t b = 0;
  for (size_t f = 0; f < fields.size(); ++f)
    if (m & (FieldMask{1} << f)) b += fields[f].bytes;
  return b;
}

std::optional<int> Region::field_index(std::string_view n) const {
  for (size_t f = 0; f < fields.size(); ++f)
    if (fields[f].name == n) return static_cast<int>(f);
  return std::nullopt;
}

FieldMask Region::all_fields() const {
  return fields.size() >= 64 ? ~FieldMask{0} : (FieldMask{1} << fields.size()) - 1;
}

const Variant* TaskKind::variant(kinds::ProcKind k) const {
  for (const Variant& v : variants)
    if (v.proc == k) return &v;
  return nullptr;
}

Projection Projection::identity() { return Projection{Kind::Identity, {}, {}, "i"}; }

Projection Projection::constant_point(Point p) { return Projection{Kind::Constant, p, {}, to_string(p)}; }

Projection Projection::of(std::function<Point(const PointRef&)> f, std::string text) {
  return Projection{Kind::Function, {}, std::move(f), std::move(text)};
}

Point Projection::apply(const PointRef& ref) const {
  switch (kind) {
    case Kind::Identity:
      return ref.point;
    case Kind::Constant:
      return constant;
    case Kind::Function:
      return function(ref);
  }
  return ref.point;
}

FieldMask RegionArg::fields() const {
  FieldMask m = 0;
  for (const FieldAccess& a : access) m |= a.fields;
  return m;
}

bool RegionArg::only(Privilege p) const {
  return std::all_of(access.begin(), access.end(), [&](const FieldAccess& a) { return a.privilege == p; });
}

bool RegionArg::any(Privilege p) const {
  return std::any_of(access.begin(), access.end(), [&](const FieldAccess& a) { return a.privilege == p; });
}

// ---------------------------------------------------------------- building
namespace {

void check_name(const std::string& what, const std::string& name) {
  if (name.empty()) throw ProgramError(what + " without a name");
}

template <typename IdType, typename T>
std::optional<IdType> find_by_name(const std::vector<T>& v, std::string_view name) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].name == name) return IdType::at(i);
  return std::nullopt;
}

}  // namespace

RegionId Program::add_region(std::string n, Domain space, std::vector<Field> fs) {
  check_name("region", n);
  if (find_region(n) || find_partition(n)) throw ProgramError("duplicate data name " + n);
  if (space.dim < 1 || space.dim > 3) throw ProgramError("region " + n + ": index space must be 1-3 D");
  for (int i = 0; i < space.dim; ++i)
    if (space.extent[static_cast<size_t>(i)] < 0) throw ProgramError("region " + n + ": negative extent");
  if (fs.empty() || fs.size() > 64) throw ProgramError("region " + n + ": needs 1 to 64 fields");
  std::set<std::string> seen;
  for (const Field& f : fs) {
    if (f.bytes <= 0) throw ProgramError("region " + n + ": field " + f.name + " has no size");
    if (!seen.insert(f.name).second) throw ProgramError("region " + n + ": duplicate field " + f.name);
  }
  Region r{std::move(n), space, std::move(fs), {}, {}};
  r.blocks = {r.volume()};
  r.whole = {Span{0, r.volume()}};
  regions.push_back(std::move(r));
  return RegionId::at(regions.size() - 1);
}

void Program::set_blocks(RegionId r, std::vector<int64_t> sizes) {
  Region& reg = regions.at(r.index());
  for (const Partition& p : partitions)
    if (p.region == r) throw ProgramError("region " + reg.name + ": blocks must be set before partitions");
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw ProgramError("region " + reg.name + ": negative block size");
    sum += s;
  }
  if (sum != reg.volume())
    throw ProgramError(
        fmt::format("region {}: blocks sum to {} but the region has {} elements", reg.name, sum, reg.volume()));
  reg.blocks = std::move(sizes);
  reg.whole.clear();
  for (size_t b = 0; b < reg.blocks.size(); ++b) reg.whole.push_back({static_cast<int32_t>(b), reg.blocks[b]});
}

PartitionId Program::add_partition(std::string n, RegionId r, Domain colors, bool disjoint,
                                   std::vector<std::vector<Span>> pieces, std::string parent_name) {
  check_name("partition", n);
  if (find_region(n) || find_partition(n)) throw ProgramError("duplicate data name " + n);
  const Region& reg = regions.at(r.index());
  if (static_cast<int64_t>(pieces.size()) != colors.volume())
    throw ProgramError(
        fmt::format("partition {}: {} pieces for a colour space of {}", n, pieces.size(), colors.volume()));
  Partition p;
  p.name = std::move(n);
  p.region = r;
  p.parent_name = parent_name.empty() ? reg.name : std::move(parent_name);
  p.colors = colors;
  p.disjoint = disjoint;
  std::vector<int64_t> used(reg.blocks.size(), 0);
  for (auto& spans : pieces) {
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.block < b.block; });
    Piece piece;
    for (const Span& s : spans) {
      if (s.block < 0 || static_cast<size_t>(s.block) >= reg.blocks.size())
        throw ProgramError(fmt::format("partition {}: block {} does not exist", p.name, s.block));
      if (s.count < 0 || s.count > reg.blocks[static_cast<size_t>(s.block)])
        throw ProgramError(fmt::format("partition {}: {} elements of block {} of size {}", p.name, s.count, s.block,
                                       reg.blocks[static_cast<size_t>(s.block)]));
      if (!piece.spans.empty() && piece.spans.back().block == s.block)
        throw ProgramError(fmt::format("partition {}: block {} twice in one piece", p.name, s.block));
      if (s.count == 0) continue;
      piece.spans.push_back(s);
      piece.elements += s.count;
      used[static_cast<size_t>(s.block)] += s.count;
    }
    p.pieces.push_back(std::move(piece));
  }
  if (disjoint)
    for (size_t b = 0; b < used.size(); ++b)
      if (used[b] > reg.blocks[b])
        throw ProgramError(
            fmt::format("partition {} is declared disjoint but its pieces overlap in block {}", p.name, b));
  partitions.push_back(std::move(p));
  return PartitionId::at(partitions.size() - 1);
}

PartitionId Program::add_block_partition(std::string n, RegionId r, Domain colors,
                                         const std::vector<std::vector<int32_t>>& blocks, std::string parent_name) {
  const Region& reg = regions.at(r.index());
  std::vector<std::vector<Span>> pieces;
  for (const auto& bs : blocks) {
    std::vector<Span> spans;
    for (int32_t b : bs) {
      if (b < 0 || static_cast<size_t>(b) >= reg.blocks.size())
        throw ProgramError(fmt::format("partition {}: block {} does not exist", n, b));
      spans.push_back({b, reg.blocks[static_cast<size_t>(b)]});
    }
    pieces.push_back(std::move(spans));
  }
  return add_partition(std::move(n), r, colors, true, std::move(pieces), std::move(parent_name));
}

PartitionId Program::add_aliased_partition(std::string n, PartitionId reference, Domain colors,
                                           std::vector<std::vector<Overlap>> overlaps, std::string parent_name) {
  const Partition& ref = partitions.at(reference.index());
  if (!ref.disjoint) throw ProgramError("partition " + n + ": reference " + ref.name + " is not disjoint");
  std::vector<std::vector<Span>> pieces;
  for (const auto& ovs : overlaps) {
    std::vector<Span> spans;
    for (const Overlap& o : ovs) {
      if (o.piece < 0 || o.piece >= static_cast<int64_t>(ref.pieces.size()))
        throw ProgramError(fmt::format("partition {}: piece {} of {} does not exist", n, o.piece, ref.name));
      const Piece& rp = ref.pieces[static_cast<size_t>(o.piece)];
      if (o.count > rp.elements)
        throw ProgramError(fmt::format("partition {}: {} elements of piece {} of {}, which has {}", n, o.count, o.piece,
                                       ref.name, rp.elements));
      if (o.count == 0) continue;
      if (rp.spans.size() != 1)
        throw ProgramError(fmt::format("partition {}: piece {} of {} is not a single block", n, o.piece, ref.name));
      spans.push_back({rp.spans[0].block, o.count});
    }
    pieces.push_back(std::move(spans));
  }
  RegionId r = ref.region;
  PartitionId id = add_partition(std::move(n), r, colors, false, std::move(pieces), std::move(parent_name));
  Partition& p = partitions.back();
  p.reference = reference;
  for (size_t c = 0; c < overlaps.size(); ++c)
    for (const Overlap& o : overlaps[c])
      if (o.count > 0) p.pieces[c].overlaps.push_back(o);
  return id;
}

TaskKindId Program::add_task(TaskKind kind) {
  check_name("task", kind.name);
  if (find_task(kind.name)) throw ProgramError("duplicate task " + kind.name);
  if (kind.variants.empty()) throw ProgramError("task " + kind.name + " has no variant");
  for (size_t i = 0; i < kind.variants.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (kind.variants[i].proc == kind.variants[j].proc)
        throw ProgramError("task " + kind.name + ": two variants for " + std::string(to_string(kind.variants[i].proc)));
  tasks.push_back(std::move(kind));
  return TaskKindId::at(tasks.size() - 1);
}

FutureId Program::add_future(std::string n, RedOp reduction, int64_t bytes) {
  futures.push_back(Future{std::move(n), LaunchId{}, reduction, bytes});
  return FutureId::at(futures.size() - 1);
}

LaunchId Program::add_launch(Launch l) {
  if (!l.task.valid() || l.task.index() >= tasks.size()) throw ProgramError("launch of an unknown task");
  const TaskKind& t = tasks[l.task.index()];
  auto fail = [&](const std::string& why) { throw ProgramError("launch of " + t.name + ": " + why); };
  if (l.kind == LaunchKind::Single && l.domain.dim != 0) fail("a single launch has a 0-D domain");
  if (l.kind == LaunchKind::Index && (l.domain.dim < 1 || l.domain.dim > 3)) fail("index domain must be 1-3 D");
  if (l.steps < 1) fail("steps must be at least 1");
  if (l.same_address_space && (!l.parent.valid() || l.kind != LaunchKind::Index))
    fail("only a nested index launch can be tagged same address space");
  if (l.parent.valid()) {
    if (l.parent.index() >= launches.size()) fail("unknown parent launch");
    if (tasks[launches[l.parent.index()].task.index()].leaf) fail("its parent task is a leaf");
  } else if (l.steps != 1) {
    fail("top-level launches have one step");
  }
  for (size_t i = 0; i < l.args.size(); ++i) {
    const RegionArg& a = l.args[i];
    if (!a.region.valid() || a.region.index() >= regions.size()) fail(fmt::format("argument {}: unknown region", i));
    const Region& reg = regions[a.region.index()];
    if (a.partition) {
      if (!a.partition->valid() || a.partition->index() >= partitions.size())
        fail(fmt::format("argument {}: unknown partition", i));
      if (partitions[a.partition->index()].region != a.region)
        fail(fmt::format("argument {}: partition {} is not of region {}", i, partitions[a.partition->index()].name,
                         reg.name));
    }
    if (a.access.empty()) fail(fmt::format("argument {}: no fields", i));
    if (a.virtual_tag && t.leaf) fail(fmt::format("argument {}: a leaf task's argument cannot be tagged virtual", i));
    FieldMask seen = 0;
    for (const FieldAccess& fa : a.access) {
      if (fa.fields == 0 || (fa.fields & ~reg.all_fields()) != 0) fail(fmt::format("argument {}: bad field set", i));
      if (fa.fields & seen) fail(fmt::format("argument {}: a field is used with two privileges", i));
      seen |= fa.fields;
      if ((fa.privilege == Privilege::RED) != (fa.redop != RedOp::None))
        fail(fmt::format("argument {}: a reduction operator goes with RED privilege only", i));
    }
  }
  for (const Variant& v : t.variants)
    if (v.cost.args.size() > l.args.size())
      fail(fmt::format("cost model of {} has {} arguments, the launch {}", std::string(to_string(v.proc)),
                       v.cost.args.size(), l.args.size()));
  for (FutureId f : l.consumes)
    if (!f.valid() || f.index() >= futures.size()) fail("consumes an unknown future");
  l.id = LaunchId::at(launches.size());
  if (l.produces) {
    FutureId f = *l.produces;
    if (!f.valid() || f.index() >= futures.size()) fail("produces an unknown future");
    if (futures[f.index()].producer.valid()) fail("future " + futures[f.index()].name + " produced twice");
    futures[f.index()].producer = l.id;
  }
  if (l.parent.valid())
    launches[l.parent.index()].children.push_back(l.id);
  else
    top.push_back(l.id);
  launches.push_back(std::move(l));
  return launches.back().id;
}

void Program::tag_same_address_space(LaunchId id) {
  if (!id.valid() || id.index() >= launches.size()) throw ProgramError("tag of an unknown launch");
  Launch& l = launches[id.index()];
  if (!l.parent.valid() || l.kind != LaunchKind::Index)
    throw ProgramError("launch of " + tasks[l.task.index()].name +
                       ": only a nested index launch can be tagged same address space");
  l.same_address_space = true;
}

void Program::tag_virtual(LaunchId id) {
  if (!id.valid() || id.index() >= launches.size()) throw ProgramError("tag of an unknown launch");
  Launch& l = launches[id.index()];
  if (tasks[l.task.index()].leaf)
    throw ProgramError("launch of " + tasks[l.task.index()].name +
                       ": a leaf task's arguments cannot be tagged virtual");
  for (RegionArg& a : l.args) a.virtual_tag = true;
}

// ---------------------------------------------------------------- look-ups
std::optional<RegionId> Program::find_region(std::string_view n) const { return find_by_name<RegionId>(regions, n); }
std::optional<PartitionId> Program::find_partition(std::string_view n) const {
  return find_by_name<PartitionId>(partitions, n);
}
std::optional<TaskKindId> Program::find_task(std::string_view n) const { return find_by_name<TaskKindId>(tasks, n); }

FieldMask Program::fields(RegionId r, std::initializer_list<std::string_view> names) const {
  const Region& reg = regions.at(r.index());
  FieldMask m = 0;
  for (std::string_view n : names) {
    auto f = reg.field_index(n);
    if (!f) throw ProgramError(fmt::format("region {} has no field {}", reg.name, n));
    m |= FieldMask{1} << *f;
  }
  return m;
}

std::vector<std::string> Program::field_names(RegionId r, FieldMask m) const {
  const Region& reg = regions.at(r.index());
  std::vector<std::string> out;
  for (size_t f = 0; f < reg.fields.size(); ++f)
    if (m & (FieldMask{1} << f)) out.push_back(reg.fields[f].name);
  return out;
}

std::vector<std::string> Program::arg_names(const RegionArg& a) const {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  if (a.partition) {
    const Partition& p = partitions.at(a.partition->index());
    add(p.name);
    add(p.parent_name);
  }
  add(regions.at(a.region.index()).name);
  return out;
}

Program::MapperNames Program::mapper_names() const {
  MapperNames names;
  for (const TaskKind& t : tasks) names.tasks.insert(t.name);
  for (const Region& r : regions) names.data.insert(r.name);
  for (const Partition& p : partitions) {
    names.data.insert(p.parent_name);
    names.data.insert(p.name);
  }
  return names;
}

// ---------------------------------------------------------------- per point
int64_t Program::piece_of(const RegionArg& a, const PointRef& ref) const {
  if (!a.partition) return -1;
  const Partition& p = partitions.at(a.partition->index());
  Point c = a.projection.apply(ref);
  if (!p.colors.contains(c))
    throw ProgramError(fmt::format("projection {} maps point {} to colour {}, outside {} of partition {}",
                                   a.projection.text, to_string(ref.point), to_string(c), to_string(p.colors), p.name));
  return p.colors.linear(c);
}

const std::vector<Span>& Program::spans_of(const RegionArg& a, int64_t piece) const {
  if (!a.partition) return regions.at(a.region.index()).whole;
  return partitions.at(a.partition->index()).pieces.at(static_cast<size_t>(piece)).spans;
}

int64_t Program::elements_of(const RegionArg& a, int64_t piece) const {
  if (!a.partition) return regions.at(a.region.index()).volume();
  return partitions.at(a.partition->index()).pieces.at(static_cast<size_t>(piece)).elements;
}

Program::ElementBytes Program::element_bytes(const RegionArg& a) const {
  const Region& reg = regions.at(a.region.index());
  ElementBytes b;
  for (const FieldAccess& fa : a.access) {
    const auto fb = static_cast<double>(reg.bytes(fa.fields));
    if (fa.privilege == Privilege::RO || fa.privilege == Privilege::RW || fa.privilege == Privilege::RED) b.read += fb;
    if (fa.privilege == Privilege::WO || fa.privilege == Privilege::RW || fa.privilege == Privilege::RED) b.write += fb;
  }
  return b;
}

double Program::PointCost::total_bytes() const {
  double t = 0;
  for (double b : read_bytes) t += b;
  for (double b : write_bytes) t += b;
  return t;
}

Program::PointCost Program::point_cost(const Launch& l, kinds::ProcKind proc,
                                       const std::vector<int64_t>& pieces) const {
  const TaskKind& t = task_of(l);
  const Variant* v = t.variant(proc);
  if (!v) throw ProgramError(fmt::format("task {} has no {} variant", t.name, to_string(proc)));
  PointCost c;
  c.precision = v->cost.precision;
  c.flops = v->cost.flops_per_point;
  c.read_bytes.assign(l.args.size(), 0);
  c.write_bytes.assign(l.args.size(), 0);
  if (!t.leaf) return c;  // inner tasks touch no data themselves
  for (size_t i = 0; i < l.args.size(); ++i) {
    const RegionArg& a = l.args[i];
    auto elems = static_cast<double>(elements_of(a, i < pieces.size() ? pieces[i] : -1));
    ArgCost ac = i < v->cost.args.size() ? v->cost.args[i] : ArgCost{};
    const ElementBytes bytes = element_bytes(a);
    c.flops += ac.flops_per_element * elems;
    c.read_bytes[i] = elems * ac.read_bytes_per_element.value_or(bytes.read);
    c.write_bytes[i] = elems * ac.write_bytes_per_element.value_or(bytes.write);
  }
  return c;
}

int64_t Program::total_bytes() const {
  int64_t t = 0;
  for (const Region& r : regions) t += r.total_bytes();
  return t;
}

}  // namespace mage::program
