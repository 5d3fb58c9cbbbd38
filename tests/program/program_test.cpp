// Building programs: domains, regions, partitions, tasks, launches, costs and their errors.
#include <gtest/gtest.h>

#include "program/program.h"

namespace mage::program {

using kinds::MemKind;
using kinds::ProcKind;
namespace {

TEST(Domain, LinearisesRowMajor) {
  Domain d(2, 3, 4);
  EXPECT_EQ(d.volume(), 24);
  EXPECT_EQ(d.linear(Point(1, 2, 3)), 23);
  EXPECT_EQ(d.linear(Point(0, 1, 0)), 4);
  for (int64_t i = 0; i < d.volume(); ++i) EXPECT_EQ(d.linear(d.point(i)), i);
  EXPECT_FALSE(d.contains(Point(2, 0, 0)));
  EXPECT_FALSE(d.contains(Point(1, 1)));
  EXPECT_THROW(d.linear(Point(0, 3, 0)), ProgramError);
  EXPECT_EQ(Domain().volume(), 1);
  EXPECT_EQ(to_string(Domain(4, 2)), "4x2");
  EXPECT_EQ(to_string(Point(1, 2)), "(1,2)");
  EXPECT_EQ(to_string(Point()), "()");
}

TEST(Privileges, SayWhetherTheyReadAndWrite) {
  EXPECT_TRUE(reads(Privilege::RW));
  EXPECT_FALSE(reads(Privilege::RED));
  EXPECT_TRUE(writes(Privilege::WO));
  EXPECT_FALSE(writes(Privilege::RO));
  EXPECT_EQ(to_string(RedOp::Sum), "+");
}

TEST(Region, FieldsAndBytes) {
  Program p;
  RegionId r = p.add_region("nodes", Domain(100), {{"charge", 4}, {"voltage", 4}, {"cap", 8}});
  const Region& reg = p.regions[r.index()];
  EXPECT_EQ(reg.bytes_per_element(), 16);
  EXPECT_EQ(reg.total_bytes(), 1600);
  EXPECT_EQ(reg.bytes(p.fields(r, {"voltage", "cap"})), 12);
  EXPECT_EQ(p.field_names(r, p.fields(r, {"cap", "charge"})), (std::vector<std::string>{"charge", "cap"}));
  EXPECT_THROW(p.fields(r, {"current"}), ProgramError);
  EXPECT_EQ(reg.blocks, std::vector<int64_t>{100});
}

TEST(Region, BuildErrors) {
  Program p;
  EXPECT_THROW(p.add_region("", Domain(4), {{"a", 4}}), ProgramError);
  EXPECT_THROW(p.add_region("r", Domain(), {{"a", 4}}), ProgramError);
  EXPECT_THROW(p.add_region("r", Domain(4), {}), ProgramError);
  EXPECT_THROW(p.add_region("r", Domain(4), {{"a", 4}, {"a", 8}}), ProgramError);
  EXPECT_THROW(p.add_region("r", Domain(4), {{"a", 0}}), ProgramError);
  RegionId r = p.add_region("r", Domain(4), {{"a", 4}});
  EXPECT_THROW(p.add_region("r", Domain(4), {{"a", 4}}), ProgramError);
  EXPECT_THROW(p.set_blocks(r, {1, 2}), ProgramError);
  p.set_blocks(r, {1, 3});
  p.add_block_partition("halves", r, Domain(2), {{0}, {1}});
  EXPECT_THROW(p.set_blocks(r, {2, 2}), ProgramError);
}

TEST(Partition, DisjointAndAliased) {
  Program p;
  RegionId r = p.add_region("nodes", Domain(30), {{"v", 4}});
  p.set_blocks(r, {10, 10, 10});
  PartitionId own = p.add_block_partition("own", r, Domain(3), {{0}, {1}, {2}}, "all_shared");
  PartitionId ghost = p.add_aliased_partition("ghost", own, Domain(3), {{{1, 3}, {2, 4}}, {{0, 5}}, {}});
  const Partition& g = p.partitions[ghost.index()];
  EXPECT_FALSE(g.disjoint);
  EXPECT_EQ(g.reference, own);
  EXPECT_EQ(g.pieces[0].elements, 7);
  ASSERT_EQ(g.pieces[0].overlaps.size(), 2u);
  EXPECT_EQ(g.pieces[0].overlaps[1].piece, 2);
  EXPECT_EQ(g.pieces[0].overlaps[1].count, 4);
  EXPECT_EQ(g.pieces[0].spans[1].block, 2);
  EXPECT_EQ(g.pieces[2].elements, 0);
  EXPECT_EQ(g.parent_name, "nodes");
  EXPECT_EQ(p.partitions[own.index()].parent_name, "all_shared");
  // Errors: overlap larger than the piece, unknown piece, disjoint pieces that overlap,
  // wrong number of pieces, an aliased partition over an aliased one.
  EXPECT_THROW(p.add_aliased_partition("g2", own, Domain(3), {{{0, 11}}, {}, {}}), ProgramError);
  EXPECT_THROW(p.add_aliased_partition("g3", own, Domain(3), {{{3, 1}}, {}, {}}), ProgramError);
  EXPECT_THROW(p.add_partition("d", r, Domain(2), true, {{{0, 10}}, {{0, 1}}}), ProgramError);
  EXPECT_THROW(p.add_block_partition("d2", r, Domain(2), {{0}}), ProgramError);
  EXPECT_THROW(p.add_aliased_partition("g4", ghost, Domain(1), {{}}), ProgramError);
}

TEST(Program, ArgumentNamesForMapperRules) {
  Program p;
  RegionId r = p.add_region("all_nodes", Domain(10), {{"v", 4}});
  PartitionId part = p.add_block_partition("rp_shared", r, Domain(1), {{0}}, "all_shared");
  RegionArg a{r, part, Projection::identity(), {{1, Privilege::RO, RedOp::None}}};
  EXPECT_EQ(p.arg_names(a), (std::vector<std::string>{"rp_shared", "all_shared", "all_nodes"}));
  RegionArg whole{r, std::nullopt, Projection::identity(), {{1, Privilege::RO, RedOp::None}}};
  EXPECT_EQ(p.arg_names(whole), std::vector<std::string>{"all_nodes"});
  p.add_task(TaskKind{"t", true, {Variant{ProcKind::CPU, {}, std::nullopt}}, ""});
  const Program::MapperNames names = p.mapper_names();
  EXPECT_EQ(names.data, (std::set<std::string, std::less<>>{"all_nodes", "all_shared", "rp_shared"}));
  EXPECT_EQ(names.tasks, (std::set<std::string, std::less<>>{"t"}));
}

struct TwoArgProgram {
  Program p;
  RegionId r;
  PartitionId part;
  TaskKindId t;
  TwoArgProgram() {
    r = p.add_region("cells", Domain(100), {{"x", 8}, {"y", 4}});
    p.set_blocks(r, {60, 40});
    part = p.add_block_partition("pieces", r, Domain(2), {{0}, {1}});
    Cost c;
    c.precision = Precision::FP32;
    c.flops_per_point = 5;
    c.args = {ArgCost{2.0, std::nullopt, std::nullopt, Access::Streaming},
              ArgCost{0.0, 1.0, std::nullopt, Access::Gather}};
    t = p.add_task(TaskKind{"t", true, {Variant{ProcKind::GPU, c, kinds::DimOrder::C}}, ""});
  }
};

TEST(Program, PointCostScalesWithPieceSize) {
  TwoArgProgram f;
  Launch l;
  l.task = f.t;
  l.domain = Domain(2);
  l.args = {
      RegionArg{
          f.r,
          f.part,
          Projection::identity(),
          {{f.p.fields(f.r, {"x"}), Privilege::RW, RedOp::None}, {f.p.fields(f.r, {"y"}), Privilege::RO, RedOp::None}}},
      RegionArg{f.r, std::nullopt, Projection::identity(), {{f.p.fields(f.r, {"y"}), Privilege::RO, RedOp::None}}}};
  LaunchId id = f.p.add_launch(l);
  const Launch& ll = f.p.launches[id.index()];
  auto c = f.p.point_cost(ll, ProcKind::GPU, {1, -1});
  EXPECT_EQ(c.precision, Precision::FP32);
  EXPECT_DOUBLE_EQ(c.flops, 5 + 2.0 * 40);
  EXPECT_DOUBLE_EQ(c.read_bytes[0], 40 * 12);  // RW x (8 B) and RO y (4 B)
  EXPECT_DOUBLE_EQ(c.write_bytes[0], 40 * 8);
  EXPECT_DOUBLE_EQ(c.read_bytes[1], 100 * 1.0);  // overridden per element
  EXPECT_DOUBLE_EQ(c.write_bytes[1], 0);
  EXPECT_DOUBLE_EQ(c.total_bytes(), 40 * 20 + 100);
  EXPECT_THROW(f.p.point_cost(ll, ProcKind::CPU, {0, -1}), ProgramError);
  EXPECT_EQ(f.p.tasks[0].variant(ProcKind::GPU)->layout, kinds::DimOrder::C);
}

// The default cost rule: an element reads what it may read and writes what it may write;
// a reduction does both, and no access neither.
TEST(Program, ElementBytesFollowThePrivileges) {
  TwoArgProgram f;
  const FieldMask x = f.p.fields(f.r, {"x"}), y = f.p.fields(f.r, {"y"});
  auto bytes = [&](std::vector<FieldAccess> access) {
    return f.p.element_bytes(RegionArg{f.r, std::nullopt, Projection::identity(), std::move(access)});
  };
  const auto rw_ro = bytes({{x, Privilege::RW, RedOp::None}, {y, Privilege::RO, RedOp::None}});
  EXPECT_DOUBLE_EQ(rw_ro.read, 12);
  EXPECT_DOUBLE_EQ(rw_ro.write, 8);
  const auto wo = bytes({{x, Privilege::WO, RedOp::None}});
  EXPECT_DOUBLE_EQ(wo.read, 0);
  EXPECT_DOUBLE_EQ(wo.write, 8);
  const auto red = bytes({{y, Privilege::RED, RedOp::Sum}, {x, Privilege::NA, RedOp::None}});
  EXPECT_DOUBLE_EQ(red.read, 4);
  EXPECT_DOUBLE_EQ(red.write, 4);
}

TEST(Program, LaunchErrors) {
  TwoArgProgram f;
  Launch ok;
  ok.task = f.t;
  ok.domain = Domain(2);
  ok.args = {RegionArg{f.r, f.part, Projection::identity(), {{1, Privilege::RO, RedOp::None}}},
             RegionArg{f.r, f.part, Projection::identity(), {{1, Privilege::RO, RedOp::None}}}};
  auto bad = [&](auto change) {
    Launch l = ok;
    change(l);
    return l;
  };
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.task = TaskKindId{7}; })), ProgramError);
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.args[0].access[0].fields = 4; })), ProgramError);
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.args[0].access[0].privilege = Privilege::RED; })), ProgramError);
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.args[0].access[0].redop = RedOp::Sum; })), ProgramError);
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.args[0].access.clear(); })), ProgramError);
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.args[0].access.push_back(l.args[0].access[0]); })),
               ProgramError);  // a field with two privileges
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.kind = LaunchKind::Single; })), ProgramError);
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.args.pop_back(); })), ProgramError);  // cost has 2 args
  EXPECT_THROW(f.p.add_launch(bad([](Launch& l) { l.parent = LaunchId{0}; })), ProgramError);
  LaunchId first = f.p.add_launch(ok);
  // A leaf task cannot launch children.
  EXPECT_THROW(f.p.add_launch(bad([&](Launch& l) { l.parent = first; })), ProgramError);
  EXPECT_THROW(f.p.add_task(TaskKind{"t", true, {Variant{}}, ""}), ProgramError);
  EXPECT_THROW(f.p.add_task(TaskKind{"u", true, {}, ""}), ProgramError);
  EXPECT_THROW(f.p.add_task(TaskKind{"u", true, {Variant{}, Variant{}}, ""}), ProgramError);
}

}  // namespace
}  // namespace mage::program
