// Dependence analysis on small hand-built programs.
#include <gtest/gtest.h>

#include <array>

#include "program/program.h"

namespace mage::program {

using kinds::MemKind;
using kinds::ProcKind;
namespace {

// A 1-D region of 4 pieces of 10 elements with fields a and b, partitioned into
// `own` (disjoint, piece i = block i) and `ghost` (aliased: piece i holds 2 elements of
// each neighbour i-1 and i+1, without wrap-around).
struct Fixture {
  Program p;
  RegionId r;
  PartitionId own, ghost;
  TaskKindId t;

  Fixture() {
    r = p.add_region("cells", Domain(40), {{"a", 8}, {"b", 4}});
    p.set_blocks(r, {10, 10, 10, 10});
    own = p.add_block_partition("own", r, Domain(4), {{0}, {1}, {2}, {3}});
    std::vector<std::vector<Overlap>> ov(4);
    for (int64_t i = 0; i < 4; ++i) {
      if (i > 0) ov[static_cast<size_t>(i)].push_back({i - 1, 2});
      if (i < 3) ov[static_cast<size_t>(i)].push_back({i + 1, 2});
    }
    ghost = p.add_aliased_partition("ghost", own, Domain(4), ov, "cells_shared");
    TaskKind k;
    k.name = "work";
    k.variants = {Variant{ProcKind::CPU, {}, std::nullopt}, Variant{ProcKind::GPU, {}, std::nullopt}};
    t = p.add_task(k);
  }

  // Writers of field a, readers of it, then a fenced launch writing field b: their launches.
  std::array<LaunchId, 3> fenced_after_readers() {
    const LaunchId writers = launch({arg(own, Privilege::RW, {"a"})});
    const LaunchId readers = launch({arg(own, Privilege::RO, {"a"})});
    Launch l;
    l.task = t;
    l.domain = Domain(4);
    l.args = {arg(own, Privilege::RW, {"b"})};
    l.fence = true;
    return {writers, readers, p.add_launch(l)};
  }

  RegionArg arg(PartitionId part, Privilege priv, std::initializer_list<std::string_view> fields,
                RedOp op = RedOp::None) const {
    RegionArg a;
    a.region = r;
    a.partition = part;
    a.projection = Projection::identity();
    a.access = {FieldAccess{p.fields(r, fields), priv, op}};
    return a;
  }

  LaunchId launch(std::vector<RegionArg> args) {
    Launch l;
    l.task = t;
    l.kind = LaunchKind::Index;
    l.domain = Domain(4);
    l.args = std::move(args);
    return p.add_launch(std::move(l));
  }
};

// Point i of launch l.
PointTaskId pt(const TaskGraph& g, LaunchId l, int i) { return g.of_launch(l).at(static_cast<size_t>(i)); }

TEST(Graph, ReadAfterReadHasNoEdge) {
  Fixture f;
  LaunchId l0 = f.launch({f.arg(f.own, Privilege::RO, {"a"})});
  LaunchId l1 = f.launch({f.arg(f.own, Privilege::RO, {"a"})});
  TaskGraph g = analyze(f.p);
  EXPECT_EQ(g.size(), 8u);
  EXPECT_EQ(g.edge_count(), 0u);
  EXPECT_FALSE(g.has_edge(pt(g, l0, 0), pt(g, l1, 0)));
}

TEST(Graph, ReadAfterWriteOnTheSamePiece) {
  Fixture f;
  LaunchId w = f.launch({f.arg(f.own, Privilege::RW, {"a"})});
  LaunchId r = f.launch({f.arg(f.own, Privilege::RO, {"a"})});
  TaskGraph g = analyze(f.p);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(g.has_edge(pt(g, w, i), pt(g, r, i)));
  EXPECT_EQ(g.edge_count(), 4u);  // disjoint pieces: no cross edges
  EXPECT_EQ(g.preds(pt(g, r, 2)), std::vector<PointTaskId>{pt(g, w, 2)});
  EXPECT_EQ(g.succs(pt(g, w, 2)), std::vector<PointTaskId>{pt(g, r, 2)});
}

TEST(Graph, WriteAfterReadAndWriteAfterWrite) {
  Fixture f;
  LaunchId w0 = f.launch({f.arg(f.own, Privilege::WO, {"a"})});
  LaunchId r = f.launch({f.arg(f.own, Privilege::RO, {"a"})});
  LaunchId w1 = f.launch({f.arg(f.own, Privilege::RW, {"a"})});
  TaskGraph g = analyze(f.p);
  EXPECT_TRUE(g.has_edge(pt(g, r, 1), pt(g, w1, 1)));    // anti-dependence
  EXPECT_FALSE(g.has_edge(pt(g, w0, 1), pt(g, w1, 1)));  // implied through the reader
  EXPECT_TRUE(g.has_edge(pt(g, w0, 1), pt(g, r, 1)));
}

TEST(Graph, DisjointFieldsDoNotConflict) {
  Fixture f;
  f.launch({f.arg(f.own, Privilege::RW, {"a"})});
  f.launch({f.arg(f.own, Privilege::RW, {"b"})});
  TaskGraph g = analyze(f.p);
  EXPECT_EQ(g.edge_count(), 0u);
}

TEST(Graph, ReductionsWithTheSameOperatorCommute) {
  Fixture f;
  LaunchId w = f.launch({f.arg(f.own, Privilege::WO, {"a"})});
  LaunchId r0 = f.launch({f.arg(f.ghost, Privilege::RED, {"a"}, RedOp::Sum)});
  LaunchId r1 = f.launch({f.arg(f.own, Privilege::RED, {"a"}, RedOp::Sum)});
  LaunchId rd = f.launch({f.arg(f.own, Privilege::RO, {"a"})});
  TaskGraph g = analyze(f.p);
  // No edge between the two reductions, none inside the first launch (ghosts overlap).
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      EXPECT_FALSE(g.has_edge(pt(g, r0, i), pt(g, r1, j)));
      EXPECT_FALSE(g.has_edge(pt(g, r0, i), pt(g, r0, j)));
    }
  // Both reductions wait for the writer; the later one for the same writer.
  EXPECT_TRUE(g.has_edge(pt(g, w, 1), pt(g, r1, 1)));
  EXPECT_TRUE(g.has_edge(pt(g, w, 0), pt(g, r0, 1)));  // ghost 1 holds elements of piece 0
  // The reader waits for every reduction into its piece: own piece 1 and ghosts 0 and 2.
  EXPECT_TRUE(g.has_edge(pt(g, r1, 1), pt(g, rd, 1)));
  EXPECT_TRUE(g.has_edge(pt(g, r0, 0), pt(g, rd, 1)));
  EXPECT_TRUE(g.has_edge(pt(g, r0, 2), pt(g, rd, 1)));
  EXPECT_FALSE(g.has_edge(pt(g, r0, 1), pt(g, rd, 1)));
  EXPECT_FALSE(g.has_edge(pt(g, r0, 3), pt(g, rd, 1)));
}

TEST(Graph, ReductionsWithDifferentOperatorsConflict) {
  Fixture f;
  LaunchId s = f.launch({f.arg(f.own, Privilege::RED, {"a"}, RedOp::Sum)});
  LaunchId m = f.launch({f.arg(f.own, Privilege::RED, {"a"}, RedOp::Max)});
  LaunchId s2 = f.launch({f.arg(f.own, Privilege::RED, {"a"}, RedOp::Sum)});
  TaskGraph g = analyze(f.p);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(g.has_edge(pt(g, s, i), pt(g, m, i)));
    EXPECT_TRUE(g.has_edge(pt(g, m, i), pt(g, s2, i)));
  }
}

TEST(Graph, ReductionAfterReadWaitsForTheReader) {
  Fixture f;
  LaunchId r = f.launch({f.arg(f.own, Privilege::RO, {"a"})});
  LaunchId red = f.launch({f.arg(f.own, Privilege::RED, {"a"}, RedOp::Sum)});
  TaskGraph g = analyze(f.p);
  EXPECT_TRUE(g.has_edge(pt(g, r, 3), pt(g, red, 3)));
}

TEST(Graph, AliasedGhostOverlapCreatesEdgesDisjointPiecesDoNot) {
  Fixture f;
  LaunchId w = f.launch({f.arg(f.own, Privilege::RW, {"a"})});
  LaunchId r = f.launch({f.arg(f.ghost, Privilege::RO, {"a"})});
  TaskGraph g = analyze(f.p);
  // ghost[1] overlaps own[0] and own[2], not own[1] or own[3].
  EXPECT_TRUE(g.has_edge(pt(g, w, 0), pt(g, r, 1)));
  EXPECT_TRUE(g.has_edge(pt(g, w, 2), pt(g, r, 1)));
  EXPECT_FALSE(g.has_edge(pt(g, w, 1), pt(g, r, 1)));
  EXPECT_FALSE(g.has_edge(pt(g, w, 3), pt(g, r, 1)));
  EXPECT_EQ(g.preds(pt(g, r, 0)), std::vector<PointTaskId>{pt(g, w, 1)});
  EXPECT_EQ(g.edge_count(), 6u);  // 1 + 2 + 2 + 1
}

TEST(Graph, OneArgumentWithTwoPrivileges) {
  Fixture f;
  RegionArg both = f.arg(f.own, Privilege::RO, {"a"});
  both.access.push_back(FieldAccess{f.p.fields(f.r, {"b"}), Privilege::RW, RedOp::None});
  LaunchId w = f.launch({both});
  LaunchId ra = f.launch({f.arg(f.ghost, Privilege::RO, {"a"})});
  LaunchId rb = f.launch({f.arg(f.ghost, Privilege::RO, {"b"})});
  TaskGraph g = analyze(f.p);
  EXPECT_TRUE(g.preds(pt(g, ra, 1)).empty());
  EXPECT_TRUE(g.has_edge(pt(g, w, 0), pt(g, rb, 1)));
  EXPECT_EQ(f.p.launches[w.index()].args[0].fields(), 3u);
}

TEST(Graph, GhostOverlapRespectsFields) {
  Fixture f;
  f.launch({f.arg(f.own, Privilege::RW, {"b"})});
  f.launch({f.arg(f.ghost, Privilege::RO, {"a"})});
  EXPECT_EQ(analyze(f.p).edge_count(), 0u);
}

TEST(Graph, WholeRegionArgumentOverlapsEveryPiece) {
  Fixture f;
  LaunchId w = f.launch({f.arg(f.own, Privilege::RW, {"a"})});
  Launch single;
  single.task = f.t;
  single.kind = LaunchKind::Single;
  RegionArg a;
  a.region = f.r;
  a.access = {FieldAccess{f.p.fields(f.r, {"a"}), Privilege::RO, RedOp::None}};
  single.args = {a};
  LaunchId s = f.p.add_launch(single);
  TaskGraph g = analyze(f.p);
  ASSERT_EQ(g.of_launch(s).size(), 1u);
  EXPECT_EQ(g.preds(g.of_launch(s)[0]).size(), 4u);
  EXPECT_EQ(g.piece(g.of_launch(s)[0], 0), -1);
  (void)w;
}

TEST(Graph, NoAccessArgumentsNeverConflict) {
  Fixture f;
  f.launch({f.arg(f.own, Privilege::RW, {"a"})});
  f.launch({f.arg(f.own, Privilege::NA, {"a"})});
  EXPECT_EQ(analyze(f.p).edge_count(), 0u);
}

TEST(Graph, FuturesLinkProducerPointsToConsumers) {
  Fixture f;
  FutureId dt = f.p.add_future("dt", RedOp::Min);
  Launch prod;
  prod.task = f.t;
  prod.domain = Domain(4);
  prod.args = {f.arg(f.own, Privilege::RO, {"a"})};
  prod.produces = dt;
  LaunchId lp = f.p.add_launch(prod);
  Launch cons;
  cons.task = f.t;
  cons.kind = LaunchKind::Single;
  cons.consumes = {dt};
  LaunchId lc = f.p.add_launch(cons);
  EXPECT_EQ(f.p.futures[dt.index()].producer, lp);
  TaskGraph g = analyze(f.p);
  PointTaskId c = g.of_launch(lc).at(0);
  EXPECT_EQ(g.preds(c).size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(g.has_edge(pt(g, lp, i), c));
}

TEST(Graph, ConsumingAnUnproducedFutureIsAnError) {
  Fixture f;
  FutureId dt = f.p.add_future("dt");
  Launch cons;
  cons.task = f.t;
  cons.kind = LaunchKind::Single;
  cons.consumes = {dt};
  f.p.add_launch(cons);
  EXPECT_THROW(analyze(f.p), ProgramError);
}

TEST(Graph, FenceWaitsForEverythingBefore) {
  Fixture f;
  const auto [a, b, c] = f.fenced_after_readers();
  TaskGraph g = analyze(f.p);
  // Each point of c waits for the sinks before it: the four readers (writers are implied).
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_TRUE(g.has_edge(pt(g, b, j), pt(g, c, i)));
    EXPECT_FALSE(g.has_edge(pt(g, a, i), pt(g, c, i)));
  }
}

// A fence is stored as one join of its two sides, not as an edge per pair: P + P members
// rather than P x P edges (circuit on 4,096 Lassen nodes would hold 268 M), while preds,
// succs and has_edge still answer with every task across it.
TEST(Graph, AFenceIsOneJoinNotAnEdgePerPair) {
  Fixture f;
  const auto [a, b, c] = f.fenced_after_readers();
  TaskGraph g = analyze(f.p);
  ASSERT_EQ(g.fence_count(), 1u);
  EXPECT_EQ(g.pred_ids.size(), 4u);    // b(i) after a(i) only
  EXPECT_EQ(g.edge_count(), 4u + 8u);  // and the fence's 4 + 4 members
  std::vector<PointTaskId> readers, fenced;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(pt(g, b, i));
    fenced.push_back(pt(g, c, i));
    EXPECT_EQ(g.fence_fed[pt(g, b, i).index()], 0);
    EXPECT_EQ(g.fence_fed[pt(g, a, i).index()], -1);  // waited for through the readers
    EXPECT_EQ(g.fence_waited[pt(g, c, i).index()], 0);
    EXPECT_EQ(g.fence_waited[pt(g, b, i).index()], -1);
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(g.preds(pt(g, c, i)), readers);
    const std::vector<PointTaskId> after_reader = g.succs(pt(g, b, i));
    EXPECT_EQ(after_reader, fenced);
  }
}

// A task that launches tasks: parent points issue child launches with steps; the child
// projections see the parent's point; siblings depend on each other, other contexts not.
TEST(Graph, NestedLaunchesFormContexts) {
  Program p;
  RegionId r = p.add_region("A", Domain(8), {{"v", 8}});
  p.set_blocks(r, std::vector<int64_t>(8, 1));
  PartitionId halves = p.add_block_partition("A_halves", r, Domain(2), {{0, 1, 2, 3}, {4, 5, 6, 7}});
  PartitionId cells = p.add_block_partition("A_cells", r, Domain(8), {{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}});
  TaskKind outer{"outer", false, {Variant{ProcKind::OMP, {}, std::nullopt}}, ""};
  TaskKind inner{"inner", true, {Variant{ProcKind::GPU, {}, std::nullopt}}, ""};
  TaskKindId to = p.add_task(outer), ti = p.add_task(inner);
  Launch lo;
  lo.task = to;
  lo.domain = Domain(2);
  lo.args = {RegionArg{r, halves, Projection::identity(), {{1, Privilege::RW, RedOp::None}}}};
  LaunchId lo_id = p.add_launch(lo);
  Launch li;
  li.task = ti;
  li.kind = LaunchKind::Single;
  li.parent = lo_id;
  li.steps = 3;
  // Step s of parent i writes cell 4i + s.
  li.args = {
      RegionArg{r,
                cells,
                Projection::of([](const PointRef& ref) { return Point(4 * ref.parent->point[0] + ref.step); }, "4i+s"),
                {{1, Privilege::RW, RedOp::None}}}};
  LaunchId li_id = p.add_launch(li);
  EXPECT_EQ(p.launches[lo_id.index()].children, std::vector<LaunchId>{li_id});
  EXPECT_EQ(p.top, std::vector<LaunchId>{lo_id});
  TaskGraph g = analyze(p);
  ASSERT_EQ(g.size(), 2u + 6u);
  EXPECT_EQ(g.top.size(), 2u);
  std::vector<PointTaskId> kids = g.children(g.top[1]);
  ASSERT_EQ(kids.size(), 3u);
  for (int s = 0; s < 3; ++s) {
    const PointTask& k = g.tasks[(kids[static_cast<size_t>(s)]).index()];
    EXPECT_EQ(k.parent, g.top[1]);
    EXPECT_EQ(k.step, s);
    EXPECT_EQ(g.piece(kids[static_cast<size_t>(s)], 0), 4 + s);
    EXPECT_TRUE(g.preds(kids[static_cast<size_t>(s)]).empty());  // different cells
  }
  EXPECT_EQ(g.edge_count(), 0u);
}

TEST(Graph, ProjectionOutsideTheColourSpaceIsAnError) {
  Fixture f;
  RegionArg a = f.arg(f.own, Privilege::RO, {"a"});
  a.projection = Projection::of([](const PointRef& ref) { return Point(ref.point[0] + 1); }, "i+1");
  f.launch({a});
  try {
    analyze(f.p);
    FAIL() << "expected an error";
  } catch (const ProgramError& e) {
    EXPECT_NE(std::string(e.what()).find("outside 4 of partition own"), std::string::npos) << e.what();
  }
}

// Tens of thousands of point tasks with ghost exchanges: linear, not quadratic.
TEST(Graph, ScalesToManyPointTasks) {
  Program p;
  const int64_t pieces = 1000;
  RegionId r = p.add_region("cells", Domain(pieces * 10), {{"a", 8}});
  p.set_blocks(r, std::vector<int64_t>(static_cast<size_t>(pieces), 10));
  std::vector<std::vector<int32_t>> own(static_cast<size_t>(pieces));
  std::vector<std::vector<Overlap>> ov(static_cast<size_t>(pieces));
  for (int64_t i = 0; i < pieces; ++i) {
    own[static_cast<size_t>(i)] = {static_cast<int32_t>(i)};
    ov[static_cast<size_t>(i)] = {{(i + pieces - 1) % pieces, 1}, {(i + 1) % pieces, 1}};
  }
  PartitionId po = p.add_block_partition("own", r, Domain(pieces), own);
  PartitionId pg = p.add_aliased_partition("ghost", po, Domain(pieces), ov);
  TaskKindId t = p.add_task(TaskKind{"t", true, {Variant{ProcKind::GPU, {}, std::nullopt}}, ""});
  for (int it = 0; it < 30; ++it) {
    Launch w;
    w.task = t;
    w.domain = Domain(pieces);
    w.args = {RegionArg{r, po, Projection::identity(), {{1, Privilege::RW, RedOp::None}}}};
    p.add_launch(w);
    Launch rd = w;
    rd.args = {RegionArg{r, pg, Projection::identity(), {{1, Privilege::RO, RedOp::None}}}};
    p.add_launch(rd);
  }
  TaskGraph g = analyze(p);
  EXPECT_EQ(g.size(), 60000u);
  // Reader i waits for writers i-1 and i+1 (30 launches × 2000 edges); the next writer i
  // waits for readers i-1 and i+1 only, which imply the previous writer (29 × 2000).
  EXPECT_EQ(g.edge_count(), 59u * 2000u);
}

}  // namespace
}  // namespace mage::program
