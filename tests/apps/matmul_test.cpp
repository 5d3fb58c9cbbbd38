// The six distributed matrix multiplications against shared/BENCHMARKS.md.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "helpers.h"

namespace mage::apps::test {
namespace {

const std::vector<std::string> kMm = {"cannon", "summa", "pumma", "johnson", "solomonik", "cosma"};

// n = 20,000 x sqrt(nodes); A = B.C costs 2 n^3 flops per iteration.
double expected_flops(int nodes) { return 2 * std::pow(20'000.0 * std::sqrt(nodes), 3); }

TEST(MatMul, BytesPerGpuAndFlopsPerIteration) {
  for (const std::string& app : kMm)
    for (int nodes : {1, 2, 4}) {
      Totals t = totals(build(app, machine(nodes)));
      // 3 x 20,000^2 x 8 B = 9.6 GB per node (weak scaling), i.e. 2.4 GB per GPU.
      expect_within(static_cast<double>(t.region_bytes) / (4 * nodes), 3 * 20'000.0 * 20'000.0 * 8 / 4, 0.10,
                    app + " bytes per GPU");
      expect_within(t.flops_per_iteration, expected_flops(nodes), 0.10, app + " flops per iteration");
      EXPECT_EQ(t.launches_per_iteration, 1) << app;
    }
}

TEST(MatMul, Dgemm4RequiresCOrderAndPlacementTasksAreEmpty) {
  for (const std::string& app : kMm) {
    Program p = build(app, machine(1));
    const TaskKind& t4 = task_named(p, "task_4");
    EXPECT_TRUE(t4.leaf);
    for (const Variant& v : t4.variants) {
      EXPECT_EQ(v.layout, DimOrder::C) << app;
      EXPECT_EQ(v.cost.precision, Precision::FP64) << app;
    }
    EXPECT_TRUE(t4.has_variant(ProcKind::GPU));
    for (const char* name : {"task_1", "task_2", "task_3"}) {
      const Launch& l = first_launch(p, name);
      EXPECT_EQ(l.iteration, -1);
      auto c = p.point_cost(l, ProcKind::GPU, {0});
      EXPECT_EQ(c.flops, 0) << name;
      EXPECT_EQ(c.total_bytes(), 0) << name;
      EXPECT_TRUE(l.args[0].only(Privilege::WO)) << name;
    }
    // Warm-up iteration 0 is untimed, then timed ones.
    EXPECT_EQ(iteration_tasks(p, 0).size(), 1u);
    for (LaunchId id : p.top) {
      const Launch& l = p.launches[id.index()];
      if (l.iteration == 0) {
        EXPECT_FALSE(l.timed);
      } else if (l.iteration >= 1) {
        EXPECT_TRUE(l.timed && l.fence);
      }
    }
  }
}

// ---------------------------------------------------------------- 2-D: cannon, summa, pumma
TEST(MatMul2d, NodeGridsAndNesting) {
  // gx x gy = nodes; Cannon makes x the larger extent, SUMMA and PUMMA y.
  const std::map<int, std::pair<Domain, Domain>> grids = {{1, {Domain(1, 1), Domain(1, 1)}},
                                                          {2, {Domain(2, 1), Domain(1, 2)}},
                                                          {4, {Domain(2, 2), Domain(2, 2)}},
                                                          {8, {Domain(4, 2), Domain(2, 4)}}};
  for (const char* app : {"cannon", "summa", "pumma"})
    for (const auto& [nodes, g] : grids) {
      Program p = build(app, machine(nodes));
      const Domain& grid = std::string(app) == "cannon" ? g.first : g.second;
      const int64_t gx = grid.extent[0], gy = grid.extent[1];
      const Launch& t7 = first_launch(p, "task_7");
      EXPECT_EQ(t7.domain, grid) << app << " " << nodes;
      EXPECT_FALSE(task_named(p, "task_7").leaf);
      EXPECT_TRUE(task_named(p, "task_7").has_variant(ProcKind::OMP));
      ASSERT_EQ(t7.children.size(), 1u);
      const Launch& t6 = p.launches[t7.children[0].index()];
      EXPECT_EQ(p.task_of(t6).name, "task_6");
      EXPECT_EQ(t6.kind, LaunchKind::Single);
      EXPECT_EQ(t6.steps, gx);  // ko in [0, gx)
      const Launch& t5 = p.launches[t6.children.at(0).index()];
      EXPECT_EQ(p.task_of(t5).name, "task_5");
      EXPECT_EQ(t5.domain, Domain(2, 2));
      EXPECT_TRUE(task_named(p, "task_5").has_variant(ProcKind::GPU));
      const Launch& t4 = p.launches[t5.children.at(0).index()];
      EXPECT_EQ(p.task_of(t4).name, "task_4");
      EXPECT_EQ(t4.steps, 2);  // kio in {0, 1}
      // Point tasks per iteration: task_7 gx.gy, task_6 gx.gy.gx, task_5 4x that, task_4 8x.
      EXPECT_EQ(totals(p).point_tasks_per_iteration, gx * gy * (1 + gx * (1 + 4 + 8))) << app;
      // Tiles: A per GPU (n/2gx) x (n/2gy); each task_4 reads B (n/2gx)^2, C (n/2gx) x (n/2gy).
      const double n = 20'000 * std::sqrt(nodes);
      PointRef r7{Point(0, 0), 0, nullptr}, r6{Point(), 0, &r7}, r5{Point(0, 0), 0, &r6}, r4{Point(), 0, &r5};
      auto elems = [&](size_t a) { return static_cast<double>(p.elements_of(t4.args[a], p.piece_of(t4.args[a], r4))); };
      expect_within(elems(0), n / (2 * gx) * n / (2 * gy), 0.01, "A tile");
      expect_within(elems(1), n / (2 * gx) * n / (2 * gx), 0.01, "B tile");
      expect_within(elems(2), n / (2 * gx) * n / (2 * gy), 0.01, "C tile");
    }
}

// Which tiles step (ko, kio) reads: every task_4 multiplies A(gi, gj) += B(gi, gk) C(gk, gj),
// and over the 2gx steps of one GPU tile, gk takes every value once.
TEST(MatMul2d, EveryStepReadsTheMatchingTiles) {
  for (const char* app : {"cannon", "summa", "pumma"}) {
    Program p = build(app, machine(4, 4, Scale::Small));
    TaskGraph g = analyze(p);
    std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> ks;  // first timed iteration
    for (PointTaskId t : tasks_of(p, g, "task_4")) {
      if (p.launches[g.tasks[t.index()].launch.index()].iteration != 1) continue;
      Point a = colour(p, g, t, 0), b = colour(p, g, t, 1), c = colour(p, g, t, 2);
      EXPECT_EQ(b[0], a[0]) << app;
      EXPECT_EQ(c[1], a[1]) << app;
      EXPECT_EQ(b[1], c[0]) << app;
      ks[{a[0], a[1]}].push_back(b[1]);
    }
    ASSERT_EQ(ks.size(), 16u);
    for (auto& [tile, k] : ks) {
      std::sort(k.begin(), k.end());
      EXPECT_EQ(k, (std::vector<int64_t>{0, 1, 2, 3})) << app;
    }
  }
}

TEST(MatMul2d, StepKoReadsThePublishedTiles) {
  // Node (i, j) = (1, 0) on 2 x 2 nodes at ko = 1: SUMMA B(1,1), C(1,0); PUMMA B(1,(1+1)%2=0),
  // C(0,0); Cannon B(1,(1+0+1)%2=0), C(0,0). Node (1,1) at ko = 0: Cannon B(1,(1+1+0)%2=0).
  struct Case {
    const char* app;
    Point node;
    int64_t ko;
    Point b, c;
  };
  for (const Case& k : {Case{"summa", Point(1, 0), 1, Point(1, 1), Point(1, 0)},
                        Case{"pumma", Point(1, 0), 1, Point(1, 0), Point(0, 0)},
                        Case{"cannon", Point(1, 0), 1, Point(1, 0), Point(0, 0)},
                        Case{"cannon", Point(1, 1), 0, Point(1, 0), Point(0, 1)},
                        Case{"pumma", Point(1, 1), 0, Point(1, 1), Point(1, 1)}}) {
    Program p = build(k.app, machine(4));
    const Launch& t6 = first_launch(p, "task_6");
    PointRef r7{k.node, 0, nullptr}, r6{Point(), k.ko, &r7};
    const Partition& bn = p.partitions[t6.args[1].partition->index()];
    const Partition& cn = p.partitions[t6.args[2].partition->index()];
    EXPECT_EQ(bn.name, "B_nodes");
    EXPECT_EQ(bn.colors.point(p.piece_of(t6.args[1], r6)), k.b) << k.app;
    EXPECT_EQ(cn.colors.point(p.piece_of(t6.args[2], r6)), k.c) << k.app;
  }
  // Inside the node Cannon shifts too: GPU (i',j') = (1,0) at kio = 0 uses k-half (1+0+0)%2 = 1.
  Program p = build("cannon", machine(1));
  const Launch& t4 = first_launch(p, "task_4");
  PointRef r7{Point(0, 0), 0, nullptr}, r6{Point(), 0, &r7}, r5{Point(1, 0), 0, &r6}, r4{Point(), 0, &r5};
  EXPECT_EQ(p.partitions[t4.args[1].partition->index()].colors.point(p.piece_of(t4.args[1], r4)), Point(1, 1));
  Program s = build("summa", machine(1));
  const Launch& s4 = first_launch(s, "task_4");
  EXPECT_EQ(s.partitions[s4.args[1].partition->index()].colors.point(s.piece_of(s4.args[1], r4)), Point(1, 0));
}

TEST(MatMul2d, DependencesFollowTheRwTilesOfA) {
  Program p = build("cannon", machine(2, 4, Scale::Small));  // gx = 2, gy = 1
  TaskGraph g = analyze(p);
  auto t7 = tasks_of(p, g, "task_7");
  ASSERT_EQ(t7.size(), 2u * 3u);  // warm-up + 2 timed iterations
  // The next iteration's task_7 (i,j) waits for this iteration's (fence + RW on A).
  EXPECT_TRUE(g.has_edge(t7[0], t7[2]));
  std::vector<PointTaskId> t6 = g.children(t7[0]);
  ASSERT_EQ(t6.size(), 2u);               // ko = 0, 1
  EXPECT_TRUE(g.has_edge(t6[0], t6[1]));  // RW on the node's A tile: in order
  std::vector<PointTaskId> t5 = g.children(t6[0]);
  ASSERT_EQ(t5.size(), 4u);
  for (PointTaskId a : t5)
    for (PointTaskId b : t5) EXPECT_FALSE(g.has_edge(a, b));  // different GPU tiles of A
  std::vector<PointTaskId> t4 = g.children(t5[0]);
  ASSERT_EQ(t4.size(), 2u);  // kio = 0, 1
  EXPECT_TRUE(g.has_edge(t4[0], t4[1]));
  EXPECT_EQ(g.tasks[t4[1].index()].step, 1);
  EXPECT_EQ(g.tasks[t4[1].index()].parent, t5[0]);
}

// ---------------------------------------------------------------- 3-D: johnson, cosma; 2.5-D: solomonik
TEST(MatMul3d, GridsByTotalGpus) {
  // Johnson g: 4→2, 8→2, 16→4, 32→4, 64→4, and by the same rule (the smallest power of two
  // with g^3 >= GPUs) 128, 256→8. COSMA: 4→(1,2,2), 8→(2,2,2), 16→(2,2,4), 32→(2,4,4),
  // 64→(4,4,4), and by the same rule (least gx+gy+gz) 128→(4,4,8), 256→(4,8,8). Solomonik
  // (r, c): 4→(2,1), 8→(2,2), 16→(4,1), 32→(4,2), 64→(8,1), 128→(8,2), 256→(16,1): (r,r,c).
  const std::map<int, Domain> johnson = {{1, Domain(2, 2, 2)}, {2, Domain(2, 2, 2)},  {4, Domain(4, 4, 4)},
                                         {8, Domain(4, 4, 4)}, {16, Domain(4, 4, 4)}, {32, Domain(8, 8, 8)},
                                         {64, Domain(8, 8, 8)}};
  const std::map<int, Domain> cosma = {{1, Domain(1, 2, 2)}, {2, Domain(2, 2, 2)},  {4, Domain(2, 2, 4)},
                                       {8, Domain(2, 4, 4)}, {16, Domain(4, 4, 4)}, {32, Domain(4, 4, 8)},
                                       {64, Domain(4, 8, 8)}};
  const std::map<int, Domain> solomonik = {{1, Domain(2, 2, 1)},   {2, Domain(2, 2, 2)},  {4, Domain(4, 4, 1)},
                                           {8, Domain(4, 4, 2)},   {16, Domain(8, 8, 1)}, {32, Domain(8, 8, 2)},
                                           {64, Domain(16, 16, 1)}};
  for (const auto& [nodes, d] : johnson) {
    Program p = build("johnson", machine(nodes));
    EXPECT_EQ(first_launch(p, "task_4").domain, d) << nodes;
    EXPECT_EQ(totals(p).point_tasks_per_iteration, d.volume());
  }
  for (const auto& [nodes, d] : cosma) EXPECT_EQ(first_launch(build("cosma", machine(nodes)), "task_4").domain, d);
  const std::map<int, int64_t> r3 = {{1, 2}, {2, 2}, {4, 4}, {8, 4}, {16, 8}, {32, 8}, {64, 16}};
  for (const auto& [nodes, d] : solomonik) {
    Program p = build("solomonik", machine(nodes));
    const Launch& t5 = first_launch(p, "task_5");
    EXPECT_EQ(t5.domain, d) << nodes;
    EXPECT_FALSE(task_named(p, "task_5").leaf);
    const Launch& t4 = p.launches[t5.children.at(0).index()];
    EXPECT_EQ(t4.steps, r3.at(nodes));
    EXPECT_EQ(totals(p).point_tasks_per_iteration, d.volume() * (1 + r3.at(nodes)));
  }
}

// COSMA's grid must fit a GPU, counting A's tile twice (the reduction buffer and, on the
// k = 0 face, the tile): on Lassen's 64 nodes (15,000 MB framebuffers) the
// least-communication grid (4,8,8) needs 22.4 GB per point, so it takes 2 points per GPU,
// (8,8,8), 12.8 GB each; at 32 nodes (4,4,8) needs 19.2 GB, so (4,8,8), 11.2 GB.
// Unknown memory: no constraint.
TEST(MatMul3d, CosmaGridsFitTheFramebuffer) {
  Params p = machine(64);
  p.gpu_memory_bytes = 15'000'000'000;
  EXPECT_EQ(first_launch(build("cosma", p), "task_4").domain, Domain(8, 8, 8));
  p.nodes = 32;
  EXPECT_EQ(first_launch(build("cosma", p), "task_4").domain, Domain(4, 8, 8));
  std::string notes;
  p.nodes = 64;
  for (const auto& [k, v] : build("cosma", p).notes) notes += k + ": " + v + "\n";
  EXPECT_NE(notes.find("so 2 sequential points per GPU"), std::string::npos) << notes;
  EXPECT_EQ(first_launch(build("cosma", machine(64)), "task_4").domain, Domain(4, 8, 8));
}

TEST(MatMul3d, ReductionsIntoAAndFacePlacement) {
  Program p = build("johnson", machine(4, 4, Scale::Small));  // g = 4
  const Launch& t4 = first_launch(p, "task_4");
  EXPECT_TRUE(t4.args[0].only(Privilege::RED));
  EXPECT_EQ(t4.args[0].access[0].redop, RedOp::Sum);
  EXPECT_TRUE(t4.args[1].only(Privilege::RO));
  EXPECT_TRUE(t4.args[2].only(Privilege::RO));
  // Placement on the faces k=0 (A), j=0 (B), i=0 (C).
  EXPECT_EQ(first_launch(p, "task_1").domain, Domain(4, 4, 1));
  EXPECT_EQ(first_launch(p, "task_2").domain, Domain(4, 1, 4));
  EXPECT_EQ(first_launch(p, "task_3").domain, Domain(1, 4, 4));
  TaskGraph g = analyze(p);
  std::vector<PointTaskId> it1;
  for (PointTaskId t : tasks_of(p, g, "task_4"))
    if (p.launches[g.tasks[t.index()].launch.index()].iteration == 1) it1.push_back(t);
  ASSERT_EQ(it1.size(), 64u);
  for (PointTaskId t : it1) {
    Point pt = g.tasks[t.index()].point;
    EXPECT_EQ(colour(p, g, t, 0), Point(pt[0], pt[1]));
    EXPECT_EQ(colour(p, g, t, 1), Point(pt[0], pt[2]));
    EXPECT_EQ(colour(p, g, t, 2), Point(pt[2], pt[1]));
    // No edges inside the launch: the fence (the warm-up's sinks) and, since + reductions
    // commute with the warm-up's, the placement task that wrote the tile.
    for (PointTaskId q : g.preds(t)) EXPECT_LE(p.launches[g.tasks[q.index()].launch.index()].iteration, 0);
  }
}

TEST(MatMul3d, SolomonikShiftsChunksInsideEachLayer) {
  Program p = build("solomonik", machine(2, 4, Scale::Small));  // (r, c, r3) = (2, 2, 2)
  TaskGraph g = analyze(p);
  int seen = 0;
  for (PointTaskId t : tasks_of(p, g, "task_4")) {
    const PointTask& pt = g.tasks[t.index()];
    if (p.launches[pt.launch.index()].iteration != 1) continue;
    Point q = g.tasks[pt.parent.index()].point;  // task_5 (i, j, k)
    int64_t chunk = q[2] * 2 + (q[0] + q[1] + pt.step) % 2;
    EXPECT_EQ(colour(p, g, t, 0), Point(q[0], q[1]));
    EXPECT_EQ(colour(p, g, t, 1), Point(q[0], chunk));
    EXPECT_EQ(colour(p, g, t, 2), Point(chunk, q[1]));
    EXPECT_TRUE(g.preds(t).empty());  // RED + into A: the steps commute
    ++seen;
  }
  EXPECT_EQ(seen, 2 * 2 * 2 * 2);
}

// 64 GPUs (16 nodes of 4): (r, c, r3) = (8, 1, 8), the published grid.
TEST(MatMul3d, Solomonik64GpusIsThePublishedGrid) {
  Program p = build("solomonik", machine(16));
  const Launch& t5 = first_launch(p, "task_5");
  EXPECT_EQ(t5.domain, Domain(8, 8, 1));
  ASSERT_EQ(t5.children.size(), 1u);
  const Launch& t4 = p.launches[t5.children[0].index()];
  EXPECT_EQ(p.task_of(t4).name, "task_4");
  EXPECT_EQ(t4.steps, 8);  // r3 = 8 chunks per k-slab
  Totals t = totals(p);
  EXPECT_EQ(t.launches_per_iteration, 1);
  EXPECT_EQ(t.point_tasks_per_iteration, 64 * (1 + 8));
  // n = 80,000: 2 n^3 flops per iteration and 3 n^2 x 8 B = 2.4 GB per GPU, as at every size.
  expect_within(t.flops_per_iteration, expected_flops(16), 1e-9, "flops per iteration");
  expect_within(static_cast<double>(t.region_bytes) / 64, 3 * 20'000.0 * 20'000.0 * 8 / 4, 1e-9, "bytes per GPU");
  // Each DGEMM: A tile (n/r)^2 += B chunk (n/r) x (n/(c.r3)) . C chunk (n/(c.r3)) x (n/r).
  PointRef r5{Point(1, 2, 0), 0, nullptr}, r4{Point(), 1, &r5};
  auto elems = [&](size_t a) { return static_cast<double>(p.elements_of(t4.args[a], p.piece_of(t4.args[a], r4))); };
  EXPECT_EQ(elems(0), 10'000.0 * 10'000.0);
  EXPECT_EQ(elems(1), 10'000.0 * 10'000.0);
  EXPECT_EQ(elems(2), 10'000.0 * 10'000.0);

  std::string notes;
  for (const auto& [k, v] : p.notes) notes += k + ": " + v + "\n";
  EXPECT_NE(notes.find("(r, r, c) = (8, 8, 1); r3 = 8 chunks per k-slab\n"), std::string::npos) << notes;
  EXPECT_NE(notes.find("64 (8,1,8), 128 (8,2,8), 256 (16,1,16)"), std::string::npos) << notes;
  // A count outside the table gets its grid by the table's rule, and says so: 12 GPUs →
  // r = 2 (the largest r with r^2 | 12), c = 3.
  std::string other;
  for (const auto& [k, v] : build("solomonik", machine(3)).notes) other += k + ": " + v + "\n";
  EXPECT_NE(other.find("(r, r, c) = (2, 2, 3); r3 = 2 chunks per k-slab (not in the published table: by its rule)"),
            std::string::npos)
      << other;
}

// At 32 GPUs, (r, c, r3) = (4, 2, 4), every A tile (i, j) still meets every one of the
// c.r3 = 8 k-chunks exactly once: layer k of the 2 covers chunks 4k..4k+3, one per step,
// shifted by (i+j).
TEST(MatMul3d, SolomonikMultipliesEveryChunkOnce) {
  Program p = build("solomonik", machine(8, 4, Scale::Small));
  TaskGraph g = analyze(p);
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> chunks;
  for (PointTaskId t : tasks_of(p, g, "task_4")) {
    const PointTask& pt = g.tasks[t.index()];
    if (p.launches[pt.launch.index()].iteration != 1) continue;
    Point a = colour(p, g, t, 0), b = colour(p, g, t, 1), c = colour(p, g, t, 2);
    EXPECT_EQ(b[0], a[0]);
    EXPECT_EQ(c[1], a[1]);
    EXPECT_EQ(b[1], c[0]);
    Point q = g.tasks[pt.parent.index()].point;  // task_5 (i, j, k)
    EXPECT_EQ(b[1] / 4, q[2]) << "a chunk of the task's own k-slab";
    chunks[{a[0], a[1]}].push_back(b[1]);
  }
  ASSERT_EQ(chunks.size(), 16u);
  std::vector<int64_t> all(8);
  std::iota(all.begin(), all.end(), 0);
  for (auto& [tile, k] : chunks) {
    std::sort(k.begin(), k.end());
    EXPECT_EQ(k, all) << tile.first << "," << tile.second;
  }
}

}  // namespace
}  // namespace mage::apps::test
