// The app registry, parameters and error paths, and properties every app shares.
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "helpers.h"

#include <nlohmann/json.hpp>

namespace mage::apps::test {
namespace {

const std::vector<std::string> kApps = {"circuit", "stencil", "pennant",   "cannon", "summa",
                                        "pumma",   "johnson", "solomonik", "cosma"};

TEST(Apps, ListsTheNineAppsInOrder) {
  std::vector<std::string> names;
  for (const AppInfo& a : list()) {
    names.push_back(a.name);
    EXPECT_FALSE(a.summary.empty());
    EXPECT_EQ(a.summary.find('\n'), std::string::npos);
  }
  EXPECT_EQ(names, kApps);
}

// DISTAL's drivers place the matrices again before every iteration; the model places them
// once, and says so for the six matrix multiplications only.
TEST(Apps, TheMatrixMultiplicationsSayTheyPlaceTheirInputsOnce) {
  for (const std::string& app : kApps) {
    const program::Program p = build(app, machine(1, 4, Scale::Small));
    EXPECT_EQ(p.inputs_placed_once, app != "circuit" && app != "stencil" && app != "pennant") << app;
  }
}

// "Run as 4 ranks per node, one GPU each" (BENCHMARKS.md): Johnson and COSMA only.
TEST(Apps, PreferredRanksPerNode) {
  for (const AppInfo& a : list()) {
    const bool four = a.name == "johnson" || a.name == "cosma";
    EXPECT_EQ(a.ranks_per_node, four ? 4 : 1) << a.name;
    ASSERT_EQ(find(a.name), &a) << a.name;
  }
  EXPECT_EQ(find("fft"), nullptr);
  EXPECT_EQ(find(""), nullptr);
}

TEST(Apps, Scale) {
  EXPECT_EQ(parse_scale("small"), Scale::Small);
  EXPECT_EQ(parse_scale("published"), Scale::Published);
  EXPECT_EQ(parse_scale("huge"), std::nullopt);
  EXPECT_EQ(to_string(Scale::Small), "small");
}

std::string error_of(const std::string& app, const Params& p) {
  try {
    build(app, p);
  } catch (const AppError& e) {
    return e.what();
  }
  return "(no error)";
}

// With the drivers' loop (place_every_iteration), each timed iteration starts with the
// placement launches again (untimed, after a fence), and the 3-D algorithms read A's tiles
// back after computing (timed), which folds their partial sums; the other programs have no
// placement tasks and refuse it.
TEST(Apps, PlacingEveryIterationRepeatsThePlacementLaunches) {
  for (const std::string& app : kApps) {
    Params params = machine(1, 4, Scale::Small);
    params.iterations = 3;
    params.place_every_iteration = true;
    if (!find(app)->places_inputs) {
      EXPECT_NE(error_of(app, params).find("applies to the matrix multiplications"), std::string::npos) << app;
      continue;
    }
    Params once_params = machine(1, 4, Scale::Small);
    once_params.iterations = 3;
    const program::Program once = build(app, once_params);
    const program::Program every = build(app, params);
    EXPECT_FALSE(every.inputs_placed_once) << app;
    // Launches of a placement task writing (placing) or reading back its data.
    auto launches_of = [](const program::Program& p, const std::string& task, program::Privilege priv) {
      std::vector<const program::Launch*> out;
      for (const program::Launch& l : p.launches)
        if (p.task_of(l).name == task && l.args[0].only(priv)) out.push_back(&l);
      return out;
    };
    for (const char* task : {"task_1", "task_2", "task_3"}) {
      EXPECT_EQ(launches_of(once, task, program::Privilege::WO).size(), 1u) << app << " " << task;
      const auto placed = launches_of(every, task, program::Privilege::WO);
      ASSERT_EQ(placed.size(), 4u) << app << " " << task;  // before the warm-up, then before each timed iteration
      for (size_t i = 0; i < placed.size(); ++i) {
        EXPECT_FALSE(placed[i]->timed) << app << " " << task;
        if (i > 0) {
          EXPECT_EQ(placed[i]->iteration, static_cast<int>(i)) << app << " " << task;
        }
      }
    }
    // The read-back in the warm-up (untimed) and in each timed iteration (timed).
    const bool three_d = app == "johnson" || app == "cosma" || app == "solomonik";
    const auto read_back = launches_of(every, "task_1", program::Privilege::RO);
    ASSERT_EQ(read_back.size(), three_d ? 4u : 0u) << app;
    for (size_t i = 0; i < read_back.size(); ++i) {
      EXPECT_EQ(read_back[i]->iteration, static_cast<int>(i)) << app;
      EXPECT_EQ(read_back[i]->timed, i > 0) << app;
    }
    EXPECT_TRUE(launches_of(once, "task_1", program::Privilege::RO).empty()) << app;
  }
}

TEST(Apps, UnknownAppNamesTheKnownOnes) {
  std::string e = error_of("fft", machine(1));
  EXPECT_NE(e.find("unknown app 'fft'"), std::string::npos) << e;
  EXPECT_NE(e.find("circuit, stencil"), std::string::npos) << e;
}

TEST(Apps, BadParametersAreErrors) {
  EXPECT_NE(error_of("circuit", machine(0)).find("nodes must be at least 1"), std::string::npos);
  EXPECT_NE(error_of("stencil", machine(1, 0)).find("needs at least one GPU per node"), std::string::npos);
  Params p = machine(1);
  p.iterations = 0;
  EXPECT_NE(error_of("pennant", p).find("iterations must be at least 1"), std::string::npos);
  p = machine(1);
  p.ranks_per_node = 3;
  EXPECT_NE(error_of("johnson", p).find("3 ranks per node do not divide 4 GPUs"), std::string::npos);
}

TEST(Apps, UnsupportedGridsAreErrors) {
  // Cannon, SUMMA, PUMMA launch task_5 over 2 x 2 GPUs per node.
  for (const char* app : {"cannon", "summa", "pumma"})
    EXPECT_NE(error_of(app, machine(1, 2)).find("needs 4 GPUs per node"), std::string::npos) << app;
  // Johnson, COSMA and Solomonik choose a grid for any GPU count (their tables' rules).
  for (const char* app : {"johnson", "cosma", "solomonik"})
    for (int gpus : {1, 2, 3, 12, 20, 44, 256}) EXPECT_EQ(error_of(app, machine(1, gpus)), "(no error)") << app << gpus;
}

// Every program builds and analyses on lassen at every node count from 1 to 64 (small scale:
// the same launches), and at the published scale keeps its work per GPU (weak scaling).
TEST(Apps, EveryLassenNodeCountFrom1To64Builds) {
  for (const std::string& app : kApps)
    for (int nodes = 1; nodes <= 64; ++nodes) {
      SCOPED_TRACE(app + " on " + std::to_string(nodes) + " nodes");
      Params params = machine(nodes, 4, Scale::Small);
      params.ranks_per_node = app == "johnson" || app == "cosma" ? 4 : 1;
      Program small = build(app, params);
      EXPECT_GT(analyze(small).size(), 0u);
      params.scale = Scale::Published;
      Totals t = totals(build(app, params));
      if (app != "circuit" && app != "stencil" && app != "pennant") {
        // A = B.C with n = 20,000 sqrt(nodes) (rounded to the grid): 2 n^3 flops.
        expect_within(t.flops_per_iteration, 2 * std::pow(20'000.0 * std::sqrt(nodes), 3), 0.05, "flops");
      }
    }
}

// "4x4x1": extents joined by 'x'.
std::string dims(std::initializer_list<int64_t> extents) {
  std::string out;
  for (int64_t e : extents) {
    if (!out.empty()) out += 'x';
    out += std::to_string(e);
  }
  return out;
}

// Each index launch with the dimensionality and extents of the published program.
TEST(Apps, EveryIndexLaunchHasThePublishedShape) {
  for (int nodes : {1, 2, 3, 4, 8, 16, 32, 64}) {
    const int64_t G = 4 * nodes;
    SCOPED_TRACE(std::to_string(nodes) + " nodes");
    auto shapes = [&](const std::string& app) {
      std::map<std::string, std::set<std::string>> out;
      Program p = build(app, machine(nodes, 4, Scale::Small));
      for (const Launch& l : p.launches)
        if (l.kind == LaunchKind::Index) {
          const auto& e = l.domain.extent;
          out[p.task_of(l).name].insert(l.domain.dim == 1   ? dims({e[0]})
                                        : l.domain.dim == 2 ? dims({e[0], e[1]})
                                                            : dims({e[0], e[1], e[2]}));
        }
      return out;
    };
    const std::string g1 = dims({G});
    // One piece or tile per GPU, 1-D: circuit, pennant and (PRK in Regent) stencil.
    for (const char* app : {"circuit", "stencil", "pennant"})
      for (const auto& [task, ds] : shapes(app)) EXPECT_EQ(ds, (std::set<std::string>{g1})) << app << " " << task;
    EXPECT_TRUE(shapes("stencil").contains("check"));
    // Cannon, SUMMA, PUMMA: init_cublas 1-D over the GPUs, task_7 over the node grid, task_5
    // over the node's 2 x 2 GPUs, the placements over the 2gx x 2gy GPU grid.
    for (const char* app : {"cannon", "summa", "pumma"}) {
      auto [big, little] = std::pair<int64_t, int64_t>{0, 0};
      for (int64_t d = 1; d * d <= nodes; ++d)
        if (nodes % d == 0) little = d;
      big = nodes / little;
      const int64_t gx = std::string(app) == "cannon" ? big : little, gy = nodes / gx;
      auto s = shapes(app);
      auto xy = [](int64_t a, int64_t b) { return dims({a, b}); };
      EXPECT_EQ(s["init_cublas"], (std::set<std::string>{g1})) << app;
      EXPECT_EQ(s["task_7"], (std::set<std::string>{xy(gx, gy)})) << app;
      EXPECT_EQ(s["task_5"], (std::set<std::string>{"2x2"})) << app;
      EXPECT_EQ(s["task_1"], (std::set<std::string>{xy(2 * gx, 2 * gy)})) << app;
      EXPECT_EQ(s["task_2"], (std::set<std::string>{xy(2 * gx, 2 * gx)})) << app;
      EXPECT_EQ(s["task_3"], (std::set<std::string>{xy(2 * gx, 2 * gy)})) << app;
      EXPECT_EQ(s.size(), 6u) << app;
    }
    // Solomonik: init_cublas 1-D, task_1/2/3 over (r, r, 1), task_5 over (r, r, c).
    {
      int64_t r = 1;
      for (int64_t d = 1; d * d <= G; ++d)
        if (G % (d * d) == 0) r = d;
      const std::string rr1 = dims({r, r, 1});
      auto s = shapes("solomonik");
      EXPECT_EQ(s["init_cublas"], (std::set<std::string>{g1}));
      for (const char* t : {"task_1", "task_2", "task_3"}) EXPECT_EQ(s[t], (std::set<std::string>{rr1})) << t;
      EXPECT_EQ(s["task_5"], (std::set<std::string>{dims({r, r, G / (r * r)})}));
      EXPECT_EQ(s.size(), 5u);
    }
    // Johnson and COSMA: task_4 over the 3-D grid, placements on its three faces.
    for (const char* app : {"johnson", "cosma"}) {
      auto s = shapes(app);
      ASSERT_EQ(s["task_4"].size(), 1u);
      const std::string d = *s["task_4"].begin();
      int64_t gx = 0, gy = 0, gz = 0;
      ASSERT_EQ(std::sscanf(d.c_str(), "%ldx%ldx%ld", &gx, &gy, &gz), 3) << d;
      EXPECT_GE(gx * gy * gz, G) << app;
      auto xyz = [](int64_t a, int64_t b, int64_t c) { return dims({a, b, c}); };
      EXPECT_EQ(s["task_1"], (std::set<std::string>{xyz(gx, gy, 1)})) << app;
      EXPECT_EQ(s["task_2"], (std::set<std::string>{xyz(gx, 1, gz)})) << app;
      EXPECT_EQ(s["task_3"], (std::set<std::string>{xyz(1, gy, gz)})) << app;
      EXPECT_EQ(s.size(), 4u) << app;
    }
  }
}

TEST(Apps, IterationsArePublishedSmallOrOverridden) {
  // Published: circuit 50, stencil 50, pennant 30 (timed), matrix multiplications 10 after a warm-up.
  const std::map<std::string, int> published = {{"circuit", 50}, {"stencil", 50},   {"pennant", 30},
                                                {"cannon", 10},  {"summa", 10},     {"pumma", 10},
                                                {"johnson", 10}, {"solomonik", 10}, {"cosma", 10}};
  for (const auto& [app, n] : published) {
    Program p = build(app, machine(1));
    EXPECT_EQ(p.iterations, n) << app;
    EXPECT_EQ(count_timed_iterations(p), n) << app;
    bool mm = n == 10;
    EXPECT_EQ(p.warmup_iterations, mm ? 1 : 0) << app;
    // A matrix multiplication is measured in flops per second, the others in iterations.
    EXPECT_EQ(p.metric, mm ? program::Metric::Flops : program::Metric::Iterations) << app;
    Program s = build(app, machine(1, 4, Scale::Small));
    EXPECT_EQ(count_timed_iterations(s), 2) << app;
    Params o = machine(1);
    o.iterations = 3;
    EXPECT_EQ(count_timed_iterations(build(app, o)), 3) << app;
  }
}

// Every app, at both scales and 1, 2 and 4 nodes, builds and analyses into a task graph
// whose point tasks are those of its launches, with every edge inside one context.
TEST(Apps, EveryAppAnalyses) {
  for (const std::string& app : kApps)
    for (Scale scale : {Scale::Small, Scale::Published})
      for (int nodes : {1, 2, 4}) {
        Program p = build(app, machine(nodes, 4, scale));
        TaskGraph g = analyze(p);
        ASSERT_GT(g.size(), 0u);
        EXPECT_EQ(g.launch_start.back(), static_cast<int64_t>(g.size()));
        for (size_t t = 0; t < g.size(); ++t)
          for (PointTaskId q : g.preds(PointTaskId::at(t))) {
            ASSERT_LT(q, PointTaskId::at(t));
            ASSERT_EQ(g.tasks[q.index()].parent, g.tasks[t].parent) << app;
          }
        // The first timed launch waits behind a fence.
        for (LaunchId id : p.top)
          if (p.launches[id.index()].timed) {
            EXPECT_TRUE(p.launches[id.index()].fence) << app;
            break;
          }
      }
}

TEST(Apps, BuildingIsDeterministic) {
  for (const std::string& app : kApps) {
    Program a = build(app, machine(2, 4, Scale::Small)), b = build(app, machine(2, 4, Scale::Small));
    EXPECT_EQ(describe(a), describe(b)) << app;
    TaskGraph ga = analyze(a), gb = analyze(b);
    EXPECT_EQ(ga.pred_ids, gb.pred_ids) << app;
    EXPECT_EQ(ga.pieces, gb.pieces) << app;
  }
}

TEST(Describe, TextNamesTasksDataAndCosts) {
  std::string d = describe(build("circuit", machine(2)));
  for (const char* s : {"program circuit:", "calculate_new_currents (leaf; variants GPU,CPU; fp32)",
                        "init_piece (leaf; variants CPU; fp32)", "index launch over 8 (50 launches, timed)",
                        "2 rp_ghost[i]: RO node_voltage",
                        "3 rp_wires[i]: RO in_ptr,out_ptr,inductance,resistance,"
                        "wire_cap; RW current_0..9,voltage_0..8 (200,000 elements, 36 MB)",
                        "1 rp_shared[i]: RED(+) charge", "cost: 1.92e+11 flops per point",
                        "partition rp_ghost of all_shared: aliased, 8 pieces", "overlaps pieces of rp_shared",
                        "each of 50 timed iterations: calculate_new_currents[8], distribute_charge[8], "
                        "update_voltages[8]",
                        "before the loop: init_piece[8], init_pointers[8]", "after the loop: print_summary"})
    EXPECT_NE(d.find(s), std::string::npos) << "missing: " << s << "\n" << d;
}

TEST(Describe, TextShowsNestingProjectionsAndLayout) {
  std::string d = describe(build("cannon", machine(4)));
  for (const char* s :
       {"task_4 (leaf; variants GPU,OMP,CPU; fp64, requires C order)", "task_7 (inner; variants OMP,CPU; fp64)",
        "single launch by each task_5 point, 2 steps per point", "B_nodes[(i,(i+j+ko)%gx)]",
        "task_7[2x2] { task_6 x2 { task_5[2x2] { task_4 x2 } } }", "1 warm-up iteration(s)", "n = 40,000"})
    EXPECT_NE(d.find(s), std::string::npos) << "missing: " << s << "\n" << d;
  std::string pen = describe(build("pennant", machine(1)));
  for (const char* s : {"init_step_points(rp_all_private_p)[4]", "init_step_points(rp_all_shared_p)",
                        "produces future dthydro (min-reduced over points)", "uses future dt",
                        "calc_global_dt (leaf; variants CPU; fp64)", "gather"})
    EXPECT_NE(pen.find(s), std::string::npos) << "missing: " << s;
}

TEST(Describe, JsonCarriesTheSameFacts) {
  nlohmann::json j = describe_json(build("circuit", machine(1)));
  EXPECT_EQ(j["name"], "circuit");
  EXPECT_EQ(j["iterations"], 50);
  EXPECT_EQ(j["per_iteration"]["launches"], 3);
  ASSERT_EQ(j["regions"].size(), 2u);
  EXPECT_EQ(j["regions"][0]["name"], "all_nodes");
  EXPECT_EQ(j["regions"][0]["partitions"][2]["name"], "rp_ghost");
  EXPECT_EQ(j["regions"][0]["partitions"][2]["reference"], "rp_shared");
  EXPECT_FALSE(j["regions"][0]["partitions"][2]["disjoint"].get<bool>());
  const auto& tasks = j["tasks"];
  auto cnc =
      std::find_if(tasks.begin(), tasks.end(), [](const auto& t) { return t["name"] == "calculate_new_currents"; });
  ASSERT_NE(cnc, tasks.end());
  EXPECT_EQ((*cnc)["variants"], nlohmann::json({"GPU", "CPU"}));
  const auto& arg2 = (*cnc)["launches"][0]["args"][2];
  EXPECT_EQ(arg2["names"], nlohmann::json({"rp_ghost", "all_shared", "all_nodes"}));
  EXPECT_EQ(arg2["access"][0]["privilege"], "RO");
  EXPECT_EQ(arg2["pattern"], "gather");
  EXPECT_DOUBLE_EQ((*cnc)["launches"][0]["flops_per_point"][0].get<double>(), 1.92e11);
  nlohmann::json c = describe_json(build("cannon", machine(1)));
  auto t4 = std::find_if(c["tasks"].begin(), c["tasks"].end(), [](const auto& t) { return t["name"] == "task_4"; });
  EXPECT_EQ((*t4)["layout"], "C_order");
  EXPECT_EQ((*t4)["launches"][0]["parent_task"], "task_5");
  EXPECT_EQ((*t4)["launches"][0]["steps"], 2);
}

}  // namespace
}  // namespace mage::apps::test
