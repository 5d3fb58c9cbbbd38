// Machine spaces: the worked examples of DSL.md ("Machine spaces"), every error message,
// and the properties every transform must keep.
#include "dsl/machine_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace mage::dsl {

// Readable failure output (found by argument-dependent lookup, so outside the anonymous
// namespace).
void PrintTo(const ProcessorId& p, std::ostream* os) { *os << "(node " << p.node << ", " << p.proc << ")"; }
void PrintTo(const MachineSpace& m, std::ostream* os) {
  // The size, then the processor at every point in row-major order.
  *os << "size " << ::testing::PrintToString(m.size()) << ":";
  auto all = m.at_pattern(std::vector<std::optional<int64_t>>(m.size().size()));
  if (all.ok())
    for (const ProcessorId& p : all.value()) *os << " " << p.node << "/" << p.proc;
}

namespace {

ProcessorId P(int64_t node, int64_t proc) { return ProcessorId{node, proc}; }

// The value of a transform that must succeed (the test stops with the message otherwise).
#define OK(expr)                                                       \
  ([&] {                                                               \
    auto result_ = (expr);                                             \
    EXPECT_TRUE(result_.ok()) << #expr << ": " << result_.error();     \
    if (!result_.ok()) throw std::runtime_error("unexpected failure"); \
    return result_.value();                                            \
  }())

// The message of a call that must fail.
template <typename T>
std::string error_of(const Fallible<T>& f) {
  return f.ok() ? std::string("<no error>") : f.error();
}

// Every point of a shape in row-major order.
std::vector<std::vector<int64_t>> points_of(const Shape& size) {
  std::vector<std::vector<int64_t>> out;
  if (std::find(size.begin(), size.end(), 0) != size.end()) return out;
  std::vector<int64_t> p(size.size(), 0);
  while (true) {
    out.push_back(p);
    size_t d = size.size();
    while (d > 0 && ++p[d - 1] == size[d - 1]) p[--d] = 0;
    if (d == 0) return out;
  }
}

// The processors of a space, point by point, sorted.
std::vector<ProcessorId> sorted_processors(const MachineSpace& m) {
  std::vector<ProcessorId> out;
  for (const auto& p : points_of(m.size())) out.push_back(OK(m.at(p)));
  std::sort(out.begin(), out.end());
  return out;
}

const MachineSpace kM = MachineSpace::original(2, 4);  // 2 nodes x 4 GPUs

// ---------------------------------------------------------------------------------------
// The original space

TEST(MachineSpace, OriginalIsNodesByProcessors) {
  EXPECT_EQ(kM.size(), (Shape{2, 4}));
  EXPECT_EQ(kM.dims(), 2);
  EXPECT_EQ(kM.volume(), 8);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t g = 0; g < 4; ++g) EXPECT_EQ(OK(kM.at({n, g})), P(n, g));
}

TEST(MachineSpace, OriginalMayBeEmpty) {
  MachineSpace none = MachineSpace::original(2, 0);
  EXPECT_EQ(none.size(), (Shape{2, 0}));
  EXPECT_EQ(none.volume(), 0);
  EXPECT_EQ(error_of(none.at({0, 0})), "index 0 out of range for dimension 1 of size 0");
  EXPECT_TRUE(OK(none.at_pattern({0, std::nullopt})).empty());
  EXPECT_EQ(error_of(none.point_of(P(0, 0))), "processor 0 of node 0 is not in this machine space");
  // Transforms still work, so a mapper written for GPUs compiles on a machine without any.
  EXPECT_EQ(OK(none.balance_split(1, 2)).size(), (Shape{2, 0, 1}));
  EXPECT_EQ(OK(none.auto_split(1, {4, 4})).size(), (Shape{2, 0, 1}));
  EXPECT_EQ(OK(none.greedy_split(1, {4, 4, 4})).size(), (Shape{2, 0, 1, 1}));
  EXPECT_EQ(OK(none.split(1, 5)).size(), (Shape{2, 5, 0}));
  EXPECT_EQ(OK(none.merge(0, 1)).size(), (Shape{0}));
  EXPECT_EQ(OK(none.reverse(1)).size(), (Shape{2, 0}));
  EXPECT_EQ(error_of(none.slice(1, 0, 0)), "slice: upper bound 0 out of range for dimension 1 of size 0");
}

TEST(MachineSpace, OriginalRejectsImpossibleMachines) {
  EXPECT_THROW(MachineSpace::original(-1, 4), std::invalid_argument);
  EXPECT_THROW(MachineSpace::original(4, -1), std::invalid_argument);
  EXPECT_THROW(MachineSpace::original(kMaxMachineVolume, 2), std::invalid_argument);
  EXPECT_THROW(MachineSpace::original(std::numeric_limits<int64_t>::max(), 0), std::invalid_argument);
  EXPECT_THROW(MachineSpace::original(std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()),
               std::invalid_argument);
  EXPECT_EQ(MachineSpace::original(1024, 1024).volume(), kMaxMachineVolume);
}

TEST(MachineSpace, DefaultConstructedSpaceFailsCleanly) {
  MachineSpace m;
  EXPECT_EQ(m.volume(), 0);
  EXPECT_EQ(error_of(m.at({})), "the machine space has no processors");
  EXPECT_TRUE(OK(m.at_pattern({})).empty());
  EXPECT_FALSE(m.point_of(P(0, 0)).ok());
  EXPECT_EQ(error_of(m.split(0, 1)), "split: dimension 0 out of range for a 0-D machine space");
}

// ---------------------------------------------------------------------------------------
// Worked examples of DSL.md (2 nodes x 4 GPUs)

TEST(MachineSpaceExamples, Split) {
  MachineSpace s = OK(kM.split(1, 2));
  EXPECT_EQ(s.size(), (Shape{2, 2, 2}));
  EXPECT_EQ(OK(s.at({0, 0, 1})), P(0, 2));
  EXPECT_EQ(OK(s.at({1, 0, 1})), P(1, 2));
  for (const auto& p : points_of(s.size()))  // (n, i, j) -> (n, i + 2j)
    EXPECT_EQ(OK(s.at(p)), P(p[0], p[1] + 2 * p[2]));
  MachineSpace s0 = OK(kM.split(0, 1));  // (1, 2, 4): a factor of 1 adds a unit dimension
  EXPECT_EQ(s0.size(), (Shape{1, 2, 4}));
  for (const auto& p : points_of(s0.size())) EXPECT_EQ(OK(s0.at(p)), P(p[1], p[2]));
}

TEST(MachineSpaceExamples, MergeNodesMajor) {
  MachineSpace m = OK(kM.merge(0, 1));
  EXPECT_EQ(m.size(), (Shape{8}));
  for (int64_t k = 0; k < 8; ++k) EXPECT_EQ(OK(m.at({k})), P(k / 4, k % 4));
}

TEST(MachineSpaceExamples, MergeGpusMajor) {
  MachineSpace m = OK(kM.merge(1, 0));
  EXPECT_EQ(m.size(), (Shape{8}));
  for (int64_t k = 0; k < 8; ++k) EXPECT_EQ(OK(m.at({k})), P(k % 2, k / 2));
}

TEST(MachineSpaceExamples, Slice) {
  MachineSpace s = OK(kM.slice(1, 1, 2));
  EXPECT_EQ(s.size(), (Shape{2, 2}));
  EXPECT_EQ(OK(s.at({0, 1})), P(0, 2));
  for (const auto& p : points_of(s.size())) EXPECT_EQ(OK(s.at(p)), P(p[0], p[1] + 1));
}

TEST(MachineSpaceExamples, BalancedFactors) {
  EXPECT_EQ(balanced_factors(6, 2), (Shape{3, 2}));
  EXPECT_EQ(balanced_factors(8, 2), (Shape{4, 2}));
  EXPECT_EQ(balanced_factors(16, 2), (Shape{4, 4}));
  EXPECT_EQ(balanced_factors(8, 3), (Shape{2, 2, 2}));
  EXPECT_EQ(balanced_factors(24, 3), (Shape{6, 2, 2}));
  EXPECT_EQ(balanced_factors(12, 2), (Shape{6, 2}));
}

TEST(MachineSpaceExamples, AutoFactors) {
  EXPECT_EQ(auto_factors(4, {4, 2, 4}), (Shape{2, 1, 2}));
  EXPECT_EQ(auto_factors(12, {6, 4}), (Shape{4, 3}));
  EXPECT_EQ(auto_factors(4, {4, 8}), (Shape{2, 2}));
  EXPECT_EQ(auto_factors(16, {1, 1, 1}), (Shape{4, 2, 2}));
}

// Cannon's two-level placement on 2 nodes x 4 GPUs, launch (4, 4).
TEST(MachineSpaceExamples, CannonTwoLevelPlacement) {
  MachineSpace m3 = OK(kM.auto_split(0, {4, 4}));
  EXPECT_EQ(m3.size(), (Shape{2, 1, 4}));
  // (4, 4) / m3[:-1] = (4, 4) / (2, 1) = (2, 4)
  MachineSpace m4 = OK(m3.auto_split(2, {2, 4}));
  EXPECT_EQ(m4.size(), (Shape{2, 1, 2, 2}));
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t j = 0; j < 4; ++j) {
      SCOPED_TRACE("point (" + std::to_string(i) + ", " + std::to_string(j) + ")");
      EXPECT_EQ(OK(m4.at({i / 2, 0, i % 2, j % 2})), P(i / 2, (i % 2) + 2 * (j % 2)));
    }
  }
  EXPECT_EQ(OK(m4.at({3 / 2, 0, 3 % 2, 1 % 2})), P(1, 3));
}

// ---------------------------------------------------------------------------------------
// Each transform in detail

// A 3-D space with distinct sizes (2, 3, 4), point (a, b, c) -> node a, processor b + 3c.
MachineSpace three_d() { return OK(MachineSpace::original(2, 12).split(1, 3)); }

// The merged dimension takes dim1's place among the remaining dimensions: index dim1, or
// dim1 - 1 when dim1 > dim2 (merge(2, 0) of (2, 3, 4) is (3, 8), not (8, 3)).
TEST(MachineSpaceMerge, ThreeDimensionsMergedDimensionTakesTheFirstOnesPlace) {
  const MachineSpace m = three_d();
  ASSERT_EQ(m.size(), (Shape{2, 3, 4}));
  struct Case {
    int64_t d1, d2;
    Shape size;
    std::function<std::vector<int64_t>(const std::vector<int64_t>&)> old_point;
  };
  const std::vector<Case> cases = {
      {0,
       1,
       {6, 4},
       [](auto p) {
         return std::vector<int64_t>{p[0] / 3, p[0] % 3, p[1]};
       }},
      {1,
       0,
       {6, 4},
       [](auto p) {
         return std::vector<int64_t>{p[0] % 2, p[0] / 2, p[1]};
       }},
      {1,
       2,
       {2, 12},
       [](auto p) {
         return std::vector<int64_t>{p[0], p[1] / 4, p[1] % 4};
       }},
      {2,
       1,
       {2, 12},
       [](auto p) {
         return std::vector<int64_t>{p[0], p[1] % 3, p[1] / 3};
       }},
      {0,
       2,
       {8, 3},
       [](auto p) {
         return std::vector<int64_t>{p[0] / 4, p[1], p[0] % 4};
       }},
      {2,
       0,
       {3, 8},
       [](auto p) {
         return std::vector<int64_t>{p[1] % 2, p[0], p[1] / 2};
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("merge(" + std::to_string(c.d1) + ", " + std::to_string(c.d2) + ")");
    MachineSpace merged = OK(m.merge(c.d1, c.d2));
    EXPECT_EQ(merged.size(), c.size);
    for (const auto& p : points_of(merged.size())) EXPECT_EQ(OK(merged.at(p)), OK(m.at(c.old_point(p))));
  }
}

TEST(MachineSpaceSwap, ExchangesIndices) {
  MachineSpace s = OK(kM.swap(0, 1));
  EXPECT_EQ(s.size(), (Shape{4, 2}));
  for (const auto& p : points_of(s.size())) EXPECT_EQ(OK(s.at(p)), P(p[1], p[0]));
  EXPECT_EQ(OK(kM.swap(1, 1)), kM);
  EXPECT_EQ(OK(OK(kM.swap(0, 1)).swap(1, 0)), kM);
  const MachineSpace m = three_d();
  MachineSpace t = OK(m.swap(0, 2));
  EXPECT_EQ(t.size(), (Shape{4, 3, 2}));
  for (const auto& p : points_of(t.size())) EXPECT_EQ(OK(t.at(p)), OK(m.at({p[2], p[1], p[0]})));
}

TEST(MachineSpaceReverse, MirrorsOneDimension) {
  MachineSpace r = OK(kM.reverse(1));
  EXPECT_EQ(r.size(), kM.size());
  for (const auto& p : points_of(r.size())) EXPECT_EQ(OK(r.at(p)), P(p[0], 3 - p[1]));
  MachineSpace r0 = OK(kM.reverse(0));
  for (const auto& p : points_of(r0.size())) EXPECT_EQ(OK(r0.at(p)), P(1 - p[0], p[1]));
}

TEST(MachineSpaceSlice, SinglePointAndFullRange) {
  MachineSpace one = OK(kM.slice(1, 3, 3));
  EXPECT_EQ(one.size(), (Shape{2, 1}));
  EXPECT_EQ(OK(one.at({1, 0})), P(1, 3));
  EXPECT_EQ(OK(kM.slice(0, 0, 1)), kM);
}

TEST(MachineSpaceBalanceSplit, MapsMixedRadix) {
  MachineSpace two = OK(MachineSpace::original(1, 12).balance_split(1, 2));
  EXPECT_EQ(two.size(), (Shape{1, 6, 2}));
  for (const auto& p : points_of(two.size())) EXPECT_EQ(OK(two.at(p)), P(0, p[1] + 6 * p[2]));
  MachineSpace three = OK(MachineSpace::original(24, 1).balance_split(0, 3));
  EXPECT_EQ(three.size(), (Shape{6, 2, 2, 1}));
  for (const auto& p : points_of(three.size())) EXPECT_EQ(OK(three.at(p)), P(p[0] + 6 * p[1] + 12 * p[2], 0));
}

TEST(MachineSpaceBalanceSplit, EdgeCases) {
  EXPECT_EQ(balanced_factors(1, 2), (Shape{1, 1}));
  EXPECT_EQ(balanced_factors(1, 3), (Shape{1, 1, 1}));
  EXPECT_EQ(balanced_factors(7, 2), (Shape{7, 1}));
  EXPECT_EQ(balanced_factors(4, 3), (Shape{2, 2, 1}));
  EXPECT_EQ(balanced_factors(64, 3), (Shape{4, 4, 4}));
  EXPECT_EQ(balanced_factors(36, 2), (Shape{6, 6}));
  EXPECT_EQ(balanced_factors(1009 * 2, 2), (Shape{1009, 2}));  // a large prime
  EXPECT_EQ(balanced_factors(0, 2), (Shape{0, 1}));
  EXPECT_EQ(balanced_factors(0, 3), (Shape{0, 1, 1}));
  EXPECT_EQ(balanced_factors(8, 4), Shape{});
  EXPECT_EQ(balanced_factors(-8, 2), Shape{});
  EXPECT_EQ(balanced_factors(kMaxMachineVolume + 1, 2), Shape{});
  EXPECT_EQ(balanced_factors(kMaxMachineVolume, 2), (Shape{1024, 1024}));
}

TEST(MachineSpaceGreedy, LargestPrimeToLargestRemainingRatio) {
  EXPECT_EQ(greedy_factors(4, {4, 8}), (Shape{2, 2}));
  EXPECT_EQ(greedy_factors(12, {6, 4}), (Shape{6, 2}));  // 3 -> dim 0, then 2, 2
  EXPECT_EQ(greedy_factors(16, {1, 1, 1}), (Shape{4, 2, 2}));
  EXPECT_EQ(greedy_factors(2, {4, 4}), (Shape{2, 1}));  // tie: the first dimension
  EXPECT_EQ(greedy_factors(6, {1, 100}), (Shape{1, 6}));
  EXPECT_EQ(greedy_factors(1, {3, 5, 7}), (Shape{1, 1, 1}));
  EXPECT_EQ(greedy_factors(0, {3, 5}), (Shape{0, 1}));
  EXPECT_EQ(greedy_factors(7, {5}), (Shape{7}));
  // Exact ratio comparison with extents near the int64 limit.
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(greedy_factors(4, {big, big - 1}), (Shape{2, 2}));
  EXPECT_EQ(greedy_factors(4, {big - 1, big}), (Shape{2, 2}));
  EXPECT_EQ(greedy_factors(8, {big, big}), (Shape{4, 2}));
  EXPECT_EQ(greedy_factors(4, {}), Shape{});
  EXPECT_EQ(greedy_factors(4, {0, 1}), Shape{});
  EXPECT_EQ(greedy_factors(4, Shape(9, 1)), Shape{});
}

TEST(MachineSpaceGreedy, SplitUsesTheGreedyChoice) {
  MachineSpace g = OK(MachineSpace::original(12, 1).greedy_split(0, {6, 4}));
  EXPECT_EQ(g.size(), (Shape{6, 2, 1}));
  MachineSpace a = OK(MachineSpace::original(12, 1).auto_split(0, {6, 4}));
  EXPECT_EQ(a.size(), (Shape{4, 3, 1}));
  for (const auto& p : points_of(a.size())) EXPECT_EQ(OK(a.at(p)), P(p[0] + 4 * p[1], 0));
}

// The documented rule of auto_split, by brute force: every ordered factorization in
// lexicographically descending order, cost summed in index order, relative tolerance 1e-9,
// the greedy choice if it ties with the best, else the first tying candidate.
Shape reference_auto(int64_t n, const Shape& launch) {
  std::vector<Shape> all;
  Shape cur(launch.size(), 1);
  std::function<void(size_t, int64_t)> rec = [&](size_t i, int64_t rest) {
    if (i + 1 == launch.size()) {
      cur[i] = rest;
      all.push_back(cur);
      return;
    }
    for (int64_t o = rest; o >= 1; --o) {
      if (rest % o != 0) continue;
      cur[i] = o;
      rec(i + 1, rest / o);
    }
  };
  rec(0, n);
  auto cost = [&](const Shape& o) {
    double c = 0;
    for (size_t i = 0; i < o.size(); ++i) c += static_cast<double>(o[i]) / static_cast<double>(launch[i]);
    return c;
  };
  double best = cost(all[0]);
  for (const auto& o : all) best = std::min(best, cost(o));
  const double limit = best + 1e-9 * best;
  Shape greedy = greedy_factors(n, launch);
  if (cost(greedy) <= limit) return greedy;
  for (const auto& o : all)
    if (cost(o) <= limit) return o;
  return {};
}

TEST(MachineSpaceAuto, MatchesTheDocumentedRuleExhaustively) {
  int greedy_lost = 0;
  for (int64_t n = 1; n <= 72; ++n) {
    for (size_t len = 1; len <= 3; ++len) {
      Shape launch(len, 1);
      while (true) {
        Shape expected = reference_auto(n, launch);
        Shape got = auto_factors(n, launch);
        ASSERT_EQ(got, expected) << "n=" << n << " launch=" << ::testing::PrintToString(launch);
        if (got != greedy_factors(n, launch)) ++greedy_lost;
        size_t d = len;
        while (d > 0 && ++launch[d - 1] > 6) launch[--d] = 1;
        if (d == 0) break;
      }
    }
  }
  EXPECT_GT(greedy_lost, 0);  // the cases where enumeration beats greedy are exercised
}

TEST(MachineSpaceAuto, TieWithoutTheGreedyChoiceTakesTheFirstEnumerated) {
  // Search small 2-D launches for cases where greedy is not among the best and several
  // factorizations tie: the result must be the lexicographically largest of them.
  // 60 over (1, 3): (5, 12) and (4, 15) cost 9; greedy's (6, 10) costs 9.33.
  EXPECT_EQ(greedy_factors(60, {1, 3}), (Shape{6, 10}));
  EXPECT_EQ(auto_factors(60, {1, 3}), (Shape{5, 12}));
  // 24 over (2, 2, 3): (3, 2, 4) and (2, 3, 4) cost 3.83; greedy's (4, 2, 3) costs 4.
  EXPECT_EQ(greedy_factors(24, {2, 2, 3}), (Shape{4, 2, 3}));
  EXPECT_EQ(auto_factors(24, {2, 2, 3}), (Shape{3, 2, 4}));
  EXPECT_EQ(auto_factors(24, {3, 2, 2}), (Shape{4, 3, 2}));
  int cases = 0;
  for (int64_t n = 2; n <= 64; ++n) {
    for (int64_t a = 1; a <= 8; ++a) {
      for (int64_t b = 1; b <= 8; ++b) {
        const Shape launch{a, b};
        const Shape chosen = auto_factors(n, launch);
        if (chosen == greedy_factors(n, launch)) continue;
        auto cost = [&](int64_t x) {
          return static_cast<double>(x) / static_cast<double>(a) + static_cast<double>(n / x) / static_cast<double>(b);
        };
        const double best = cost(chosen[0]);
        std::vector<int64_t> tying;
        for (int64_t x = 1; x <= n; ++x) {
          if (n % x != 0) continue;
          EXPECT_GE(cost(x), best - 1e-12);
          if (cost(x) <= best + 1e-9 * best) tying.push_back(x);
        }
        if (tying.size() < 2) continue;
        ++cases;
        EXPECT_EQ(chosen[0], tying.back()) << "n=" << n << " launch=(" << a << ", " << b << ")";
      }
    }
  }
  EXPECT_GT(cases, 0);
}

TEST(MachineSpaceAuto, LargeInputsStayFast) {
  // 720720 has 240 divisors; 8 parts give ~10^8 ordered factorizations to a brute force.
  Shape o = auto_factors(720720, Shape(8, 1));
  ASSERT_EQ(o.size(), 8u);
  int64_t product = 1;
  for (int64_t x : o) product *= x;
  EXPECT_EQ(product, 720720);
  EXPECT_EQ(auto_factors(kMaxMachineVolume, Shape(8, 3)).size(), 8u);
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(auto_factors(4, {big, big}), (Shape{2, 2}));
  EXPECT_EQ(auto_factors(4, {big, 1}), (Shape{4, 1}));
  EXPECT_EQ(auto_factors(1, {5, 6, 7}), (Shape{1, 1, 1}));
  EXPECT_EQ(auto_factors(0, {5, 6}), (Shape{0, 1}));
  EXPECT_EQ(auto_factors(6, {5}), (Shape{6}));
  EXPECT_EQ(auto_factors(6, {}), Shape{});
  EXPECT_EQ(auto_factors(6, {1, -1}), Shape{});
  EXPECT_EQ(auto_factors(-6, {1, 1}), Shape{});
  MachineSpace whole = OK(MachineSpace::original(1024, 1024).merge(0, 1));
  MachineSpace split = OK(whole.auto_split(0, Shape(8, 1)));
  EXPECT_EQ(split.volume(), kMaxMachineVolume);
  EXPECT_EQ(split.dims(), 8);
}

// ---------------------------------------------------------------------------------------
// Indexing

TEST(MachineSpaceIndexing, Errors) {
  EXPECT_EQ(error_of(kM.at({0, 4})), "index 4 out of range for dimension 1 of size 4");
  EXPECT_EQ(error_of(kM.at({2, 0})), "index 2 out of range for dimension 0 of size 2");
  EXPECT_EQ(error_of(kM.at({-1, 0})), "negative index -1 for dimension 0 (use * for all processors)");
  EXPECT_EQ(error_of(kM.at({0})), "expected 2 indices for a 2-D machine space, got 1");
  EXPECT_EQ(error_of(kM.at({0, 0, 0})), "expected 2 indices for a 2-D machine space, got 3");
  MachineSpace line = OK(kM.merge(0, 1));
  EXPECT_EQ(error_of(line.at({0, 0})), "expected 1 index for a 1-D machine space, got 2");
  EXPECT_EQ(error_of(kM.at({std::numeric_limits<int64_t>::min(), 0})),
            "negative index -9223372036854775808 for dimension 0 (use * for all processors)");
  EXPECT_EQ(error_of(kM.at_pattern({std::nullopt, 9})), "index 9 out of range for dimension 1 of size 4");
  EXPECT_EQ(error_of(kM.at_pattern({-1, std::nullopt})),
            "negative index -1 for dimension 0 (use * for all processors)");
  EXPECT_EQ(error_of(kM.at_pattern({std::nullopt})), "expected 2 indices for a 2-D machine space, got 1");
}

TEST(MachineSpaceIndexing, PatternsSelectAlongStars) {
  EXPECT_EQ(OK(kM.at_pattern({0, std::nullopt})), (std::vector<ProcessorId>{P(0, 0), P(0, 1), P(0, 2), P(0, 3)}));
  EXPECT_EQ(OK(kM.at_pattern({std::nullopt, 1})), (std::vector<ProcessorId>{P(0, 1), P(1, 1)}));
  EXPECT_EQ(OK(kM.at_pattern({1, 2})), (std::vector<ProcessorId>{P(1, 2)}));
  std::vector<ProcessorId> all = OK(kM.at_pattern({std::nullopt, std::nullopt}));
  ASSERT_EQ(all.size(), 8u);
  for (int64_t k = 0; k < 8; ++k) EXPECT_EQ(all[static_cast<size_t>(k)], P(k / 4, k % 4));
  // On a transformed space, row-major over the starred dimensions only.
  MachineSpace s = OK(kM.split(1, 2));  // (n, i, j) -> (n, i + 2j)
  EXPECT_EQ(OK(s.at_pattern({std::nullopt, 1, std::nullopt})),
            (std::vector<ProcessorId>{P(0, 1), P(0, 3), P(1, 1), P(1, 3)}));
}

TEST(MachineSpaceIndexing, PointOfInvertsAt) {
  MachineSpace s = OK(OK(OK(kM.split(1, 2)).swap(0, 2)).reverse(1));
  for (const auto& p : points_of(s.size())) EXPECT_EQ(OK(s.point_of(OK(s.at(p)))), p);
  MachineSpace sliced = OK(kM.slice(1, 1, 2));
  EXPECT_EQ(OK(sliced.point_of(P(1, 2))), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(error_of(sliced.point_of(P(1, 3))), "processor 3 of node 1 is not in this machine space");
  EXPECT_EQ(error_of(kM.point_of(P(2, 0))), "processor 0 of node 2 is not in this machine space");
  EXPECT_EQ(error_of(kM.point_of(P(0, 4))), "processor 4 of node 0 is not in this machine space");
  EXPECT_FALSE(kM.point_of(P(-1, 0)).ok());
  EXPECT_FALSE(kM.point_of(P(0, -1)).ok());
  EXPECT_FALSE(kM.point_of(P(std::numeric_limits<int64_t>::max(), 3)).ok());
}

// ---------------------------------------------------------------------------------------
// Transform errors

TEST(MachineSpaceErrors, Split) {
  EXPECT_EQ(error_of(kM.split(3, 2)), "split: dimension 3 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(kM.split(-1, 2)), "split: dimension -1 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(kM.split(1, 3)), "split: size 4 of dimension 1 is not divisible by 3");
  EXPECT_EQ(error_of(kM.split(1, 8)), "split: size 4 of dimension 1 is not divisible by 8");
  EXPECT_EQ(error_of(kM.split(1, 0)), "split: factor 0 must be at least 1");
  EXPECT_EQ(error_of(kM.split(1, -2)), "split: factor -2 must be at least 1");
  EXPECT_EQ(error_of(MachineSpace::original(2, 0).split(1, kMaxMachineVolume + 1)),
            "split: factor 1048577 exceeds the largest machine size 1048576");
}

TEST(MachineSpaceErrors, Merge) {
  EXPECT_EQ(error_of(kM.merge(1, 1)), "merge: the two dimensions must differ (both are 1)");
  EXPECT_EQ(error_of(kM.merge(0, 2)), "merge: dimension 2 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(kM.merge(-1, 0)), "merge: dimension -1 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(OK(kM.merge(0, 1)).merge(0, 1)), "merge: dimension 1 out of range for a 1-D machine space");
  // Sizes of an empty space can grow only up to the cap.
  MachineSpace wide = OK(MachineSpace::original(2, 0).split(1, kMaxMachineVolume));
  EXPECT_EQ(wide.size(), (Shape{2, kMaxMachineVolume, 0}));
  EXPECT_EQ(error_of(wide.merge(0, 1)), "merge: merged size 2 x 1048576 exceeds the largest machine size 1048576");
  MachineSpace wider = OK(wide.split(1, 1024));
  EXPECT_EQ(wider.size(), (Shape{2, 1024, 1024, 0}));
  EXPECT_EQ(OK(wider.merge(1, 2)).size(), (Shape{2, kMaxMachineVolume, 0}));
}

TEST(MachineSpaceErrors, SwapAndReverse) {
  EXPECT_EQ(error_of(kM.swap(0, 2)), "swap: dimension 2 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(kM.swap(-3, 0)), "swap: dimension -3 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(kM.reverse(2)), "reverse: dimension 2 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(kM.reverse(-1)), "reverse: dimension -1 out of range for a 2-D machine space");
}

TEST(MachineSpaceErrors, Slice) {
  EXPECT_EQ(error_of(kM.slice(2, 0, 0)), "slice: dimension 2 out of range for a 2-D machine space");
  EXPECT_EQ(error_of(kM.slice(1, -1, 2)), "slice: lower bound -1 is negative");
  EXPECT_EQ(error_of(kM.slice(1, 1, 4)), "slice: upper bound 4 out of range for dimension 1 of size 4");
  EXPECT_EQ(error_of(kM.slice(1, 3, 2)), "slice: lower bound 3 is greater than upper bound 2");
  const int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(kM.slice(1, big, big).ok());
  EXPECT_FALSE(kM.slice(1, -big - 1, 0).ok());
}

TEST(MachineSpaceErrors, BalanceSplit) {
  EXPECT_EQ(error_of(kM.balance_split(1, 4)), "balance_split: number of parts must be 2 or 3, got 4");
  EXPECT_EQ(error_of(kM.balance_split(1, 1)), "balance_split: number of parts must be 2 or 3, got 1");
  EXPECT_EQ(error_of(kM.balance_split(2, 2)), "balance_split: dimension 2 out of range for a 2-D machine space");
}

TEST(MachineSpaceErrors, AutoAndGreedySplit) {
  for (const std::string op : {"auto_split", "greedy_split"}) {
    auto call = [&](int64_t d, const Shape& l) {
      return op == "auto_split" ? kM.auto_split(d, l) : kM.greedy_split(d, l);
    };
    EXPECT_EQ(error_of(call(0, {})), op + ": the launch shape is empty");
    EXPECT_EQ(error_of(call(0, Shape(9, 1))), op + ": the launch shape has 9 dimensions (at most 8)");
    EXPECT_EQ(error_of(call(0, {4, 0})), op + ": launch extent 0 at position 1 must be at least 1");
    EXPECT_EQ(error_of(call(0, {-4, 4})), op + ": launch extent -4 at position 0 must be at least 1");
    EXPECT_EQ(error_of(call(2, {4, 4})), op + ": dimension 2 out of range for a 2-D machine space");
    EXPECT_TRUE(call(0, Shape(8, 1)).ok());
  }
}

TEST(MachineSpaceErrors, AtMostSixteenDimensions) {
  MachineSpace m = MachineSpace::original(1, 1);
  for (int i = 0; i < 14; ++i) m = OK(m.split(0, 1));
  EXPECT_EQ(m.dims(), 16);
  EXPECT_EQ(error_of(m.split(0, 1)), "split: the result would have 17 dimensions (at most 16)");
  EXPECT_EQ(error_of(m.balance_split(0, 2)), "balance_split: the result would have 17 dimensions (at most 16)");
  EXPECT_EQ(error_of(m.auto_split(0, {1, 1, 1})), "auto_split: the result would have 18 dimensions (at most 16)");
  EXPECT_EQ(error_of(m.greedy_split(0, {1, 1})), "greedy_split: the result would have 17 dimensions (at most 16)");
  EXPECT_TRUE(m.auto_split(0, {1}).ok());  // one extent: same number of dimensions
}

// ---------------------------------------------------------------------------------------
// Properties

TEST(MachineSpaceProperties, TransformsAreBijectionsOntoTheSameProcessors) {
  const MachineSpace base = MachineSpace::original(4, 6);
  const std::vector<ProcessorId> all = sorted_processors(base);
  const std::vector<std::pair<std::string, std::function<Fallible<MachineSpace>(const MachineSpace&)>>> transforms = {
      {"split(0,2)", [](const MachineSpace& m) { return m.split(0, 2); }},
      {"split(1,3)", [](const MachineSpace& m) { return m.split(1, 3); }},
      {"merge(0,1)", [](const MachineSpace& m) { return m.merge(0, 1); }},
      {"merge(1,0)", [](const MachineSpace& m) { return m.merge(1, 0); }},
      {"swap(0,1)", [](const MachineSpace& m) { return m.swap(0, 1); }},
      {"reverse(0)", [](const MachineSpace& m) { return m.reverse(0); }},
      {"reverse(1)", [](const MachineSpace& m) { return m.reverse(1); }},
      {"balance_split(1,2)", [](const MachineSpace& m) { return m.balance_split(1, 2); }},
      {"balance_split(0,3)", [](const MachineSpace& m) { return m.balance_split(0, 3); }},
      {"auto_split(1,(3,5,2))",
       [](const MachineSpace& m) {
         return m.auto_split(1, {3, 5, 2});
       }},
      {"greedy_split(0,(7,2))",
       [](const MachineSpace& m) {
         return m.greedy_split(0, {7, 2});
       }},
  };
  // Every transform, and every pair of them, applied to the 4 x 6 space.
  for (const auto& first : transforms) {
    MachineSpace once = OK(first.second(base));
    SCOPED_TRACE(first.first);
    EXPECT_EQ(sorted_processors(once), all);
    for (const auto& p : points_of(once.size())) EXPECT_EQ(OK(once.point_of(OK(once.at(p)))), p);
    for (const auto& second : transforms) {
      auto twice = second.second(once);
      if (!twice.ok()) continue;  // e.g. merge(1, 0) of a 1-D space
      SCOPED_TRACE(second.first);
      EXPECT_EQ(sorted_processors(twice.value()), all);
    }
  }
}

TEST(MachineSpaceProperties, SliceSelectsASubset) {
  const MachineSpace base = MachineSpace::original(4, 6);
  MachineSpace s = OK(OK(base.slice(0, 1, 2)).slice(1, 2, 5));
  EXPECT_EQ(s.size(), (Shape{2, 4}));
  std::vector<ProcessorId> expected;
  for (int64_t n = 1; n <= 2; ++n)
    for (int64_t g = 2; g <= 5; ++g) expected.push_back(P(n, g));
  EXPECT_EQ(sorted_processors(s), expected);
}

TEST(MachineSpaceProperties, DoubleReverseIsIdentity) {
  const MachineSpace m = three_d();
  for (int64_t d = 0; d < 3; ++d) EXPECT_EQ(OK(OK(m.reverse(d)).reverse(d)), m);
  EXPECT_NE(OK(m.reverse(0)), m);
}

TEST(MachineSpaceProperties, SplitThenMergeBackIsIdentity) {
  for (const MachineSpace& m : {kM, three_d(), MachineSpace::original(6, 12)}) {
    for (int64_t d = 0; d < m.dims(); ++d) {
      const int64_t n = m.size()[static_cast<size_t>(d)];
      for (int64_t f = 1; f <= n; ++f) {
        if (n % f != 0) continue;
        // split(d, f) makes (f, n/f) with the first part minor; merge(major, minor) undoes it.
        EXPECT_EQ(OK(OK(m.split(d, f)).merge(d + 1, d)), m) << "d=" << d << " f=" << f;
      }
      if (d + 1 < m.dims()) {
        // merge(d+1, d) makes d the minor part; split(d, size[d]) undoes it.
        EXPECT_EQ(OK(OK(m.merge(d + 1, d)).split(d, m.size()[static_cast<size_t>(d)])), m) << "d=" << d;
      }
    }
  }
}

TEST(MachineSpaceProperties, EqualityComparesContent) {
  EXPECT_EQ(MachineSpace::original(2, 4), kM);
  EXPECT_NE(MachineSpace::original(4, 2), kM);
  EXPECT_NE(OK(kM.swap(0, 1)), MachineSpace::original(4, 2));  // same size, other processors
}

// Random sequences of transforms with arbitrary, often absurd, arguments: every call
// returns a value or an error, and every space produced keeps the invariants.
TEST(MachineSpaceProperties, RandomTransformSequencesNeverBreakInvariants) {
  std::mt19937_64 rng(12345);
  const std::vector<int64_t> interesting = {0,
                                            1,
                                            2,
                                            3,
                                            4,
                                            -1,
                                            5,
                                            8,
                                            6,
                                            16,
                                            1 << 20,
                                            std::numeric_limits<int64_t>::max(),
                                            std::numeric_limits<int64_t>::min()};
  auto arg = [&] {
    if (rng() % 4 == 0) return interesting[rng() % interesting.size()];
    return static_cast<int64_t>(rng() % 5);
  };
  int succeeded = 0;
  for (int run = 0; run < 300; ++run) {
    MachineSpace m = MachineSpace::original(static_cast<int64_t>(rng() % 5), static_cast<int64_t>(rng() % 9));
    for (int step = 0; step < 12; ++step) {
      Fallible<MachineSpace> next = m;
      switch (rng() % 8) {
        case 0:
          next = m.split(arg(), arg());
          break;
        case 1:
          next = m.merge(arg(), arg());
          break;
        case 2:
          next = m.swap(arg(), arg());
          break;
        case 3:
          next = m.slice(arg(), arg(), arg());
          break;
        case 4:
          next = m.reverse(arg());
          break;
        case 5:
          next = m.balance_split(arg(), arg());
          break;
        case 6:
          next = m.auto_split(arg(), Shape(static_cast<size_t>(rng() % 4), arg()));
          break;
        default:
          next = m.greedy_split(arg(), {arg(), arg()});
          break;
      }
      if (!next.ok()) {
        EXPECT_FALSE(next.error().empty());
        continue;
      }
      ++succeeded;
      const MachineSpace& n = next.value();
      ASSERT_LE(n.dims(), kMaxMachineDims);
      int64_t product = 1;
      bool empty = false;
      for (int64_t s : n.size()) {
        ASSERT_GE(s, 0);
        ASSERT_LE(s, kMaxMachineVolume);
        if (s == 0) empty = true;
      }
      if (!empty)
        for (int64_t s : n.size()) product *= s;
      ASSERT_EQ(n.volume(), empty ? 0 : product);
      ASSERT_LE(n.volume(), m.volume());
      std::vector<ProcessorId> procs = sorted_processors(n);
      ASSERT_EQ(std::adjacent_find(procs.begin(), procs.end()), procs.end());  // injective
      for (const ProcessorId& p : procs) ASSERT_TRUE(m.point_of(p).ok());      // subset
      m = n;
    }
  }
  EXPECT_GT(succeeded, 500);
}

}  // namespace
}  // namespace mage::dsl
