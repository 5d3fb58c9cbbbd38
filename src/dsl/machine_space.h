// Machine spaces: the processors of one kind viewed as an N-D grid, and the
// transformations of DSL.md ("Machine spaces") that re-shape that grid.
//
// A space stores, for every point of its grid in row-major order, the processor of the
// original 2-D space (rank, processor-within-rank) that the point stands for. Transforms
// build a new table from the old one, so indexing any space costs O(dims) regardless of
// how many transforms produced it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mage::dsl {

using Shape = std::vector<int64_t>;

// Bounds that keep fuzzed mappers from allocating without limit. A space never holds more
// than kMaxMachineVolume processors (and no dimension is larger), never has more than
// kMaxMachineDims dimensions, and auto_split/greedy_split take at most kMaxSplitParts
// launch extents.
inline constexpr int64_t kMaxMachineVolume = int64_t{1} << 20;
inline constexpr int64_t kMaxMachineDims = 16;
inline constexpr int64_t kMaxSplitParts = 8;

// A processor of the original machine space: rank (node) and index within the rank.
struct ProcessorId {
  int64_t node = 0;
  int64_t proc = 0;
  friend bool operator==(const ProcessorId&, const ProcessorId&) = default;
  friend auto operator<=>(const ProcessorId&, const ProcessorId&) = default;
};

// Result of an operation that can fail with a message for the user (no location: the
// interpreter adds the source location and context).
template <typename T>
struct Fallible {
  std::variant<T, std::string> v;
  Fallible(T value) : v(std::move(value)) {}  // NOLINT: implicit on purpose
  static Fallible failure(std::string message) {
    Fallible f{T{}};
    f.v = std::move(message);
    return f;
  }
  bool ok() const { return v.index() == 0; }
  const T& value() const { return std::get<0>(v); }
  T& value() { return std::get<0>(v); }
  const std::string& error() const { return std::get<1>(v); }
};

class MachineSpace {
 public:
  MachineSpace() = default;
  // The space `Machine(KIND)`: size (ranks, processors per rank). Either may be 0 (a
  // machine without that kind of processor gives an empty space). The machine model
  // guarantees sane sizes: negative sizes or more than kMaxMachineVolume processors
  // throw std::invalid_argument.
  static MachineSpace original(int64_t ranks, int64_t procs_per_rank);

  const Shape& size() const { return size_; }
  int64_t dims() const { return static_cast<int64_t>(size_.size()); }
  int64_t volume() const;

  // The processor at a full point (one index per dimension, each in range).
  Fallible<ProcessorId> at(const std::vector<int64_t>& point) const;
  // Indexing where some positions are "*" (nullopt): every processor along them,
  // in row-major order of the starred dimensions.
  Fallible<std::vector<ProcessorId>> at_pattern(const std::vector<std::optional<int64_t>>& point) const;
  // The point of this space that stands for `p`, or an error if `p` is not in it.
  Fallible<std::vector<int64_t>> point_of(ProcessorId p) const;

  // The transforms of DSL.md's table. Errors are messages naming the transform, e.g.
  // "split: size 4 of dimension 1 is not divisible by 3".
  Fallible<MachineSpace> split(int64_t dim, int64_t factor) const;
  // The merged dimension takes the place of dim1 once dim2 is removed: index dim1, or
  // dim1 - 1 if dim1 > dim2 (the original's rule; the same as min(dim1, dim2) whenever the
  // two are adjacent). dim1 is its major part, dim2 the minor.
  Fallible<MachineSpace> merge(int64_t dim1, int64_t dim2) const;
  // swap(d, d) is the identity.
  Fallible<MachineSpace> swap(int64_t dim1, int64_t dim2) const;
  Fallible<MachineSpace> slice(int64_t dim, int64_t lo, int64_t hi) const;
  Fallible<MachineSpace> reverse(int64_t dim) const;
  Fallible<MachineSpace> balance_split(int64_t dim, int64_t parts) const;
  Fallible<MachineSpace> auto_split(int64_t dim, const Shape& launch) const;
  Fallible<MachineSpace> greedy_split(int64_t dim, const Shape& launch) const;

  friend bool operator==(const MachineSpace& a, const MachineSpace& b) {
    return a.size_ == b.size_ && a.procs_per_rank_ == b.procs_per_rank_ &&
           (a.table_ == b.table_ || (a.table_ && b.table_ && *a.table_ == *b.table_));
  }

 private:
  // The space of shape `size` whose point p stands for the point of *this that
  // `old_point(p, out)` writes into `out` (sized dims()).
  template <typename OldPoint>
  MachineSpace derive(Shape size, OldPoint old_point) const;
  // Dimension `dim` replaced by factors.size() dimensions of the given sizes (product
  // size_[dim]), mixed radix with the first factor fastest.
  MachineSpace split_into(int64_t dim, const Shape& factors) const;

  Shape size_;
  int64_t procs_per_rank_ = 0;
  // table_[row-major index of a point] = node * procs_per_rank_ + proc.
  std::shared_ptr<const std::vector<int64_t>> table_;
};

// The factor choices behind balance_split / auto_split / greedy_split, exposed for tests.
// Each returns {} for input the transforms reject (n < 0 or n > kMaxMachineVolume, parts
// not 2 or 3, launch empty, longer than kMaxSplitParts or with an entry < 1). n = 0 gives
// (0, 1, ..., 1).
// balance_split: n split into `parts` factors as equal as possible, in descending order:
// the prime factors of n, smallest first, each multiply the currently smallest part; the
// parts are then sorted in descending order.
Shape balanced_factors(int64_t n, int64_t parts);
// auto_split: factors O of n (one per entry of launch) minimising sum(O_i / L_i); ties
// (within a relative 1e-9) go to the greedy choice if it is among the best, else the first
// enumerated, in lexicographically descending order of (O_0, O_1, ...).
Shape auto_factors(int64_t n, const Shape& launch);
// greedy_split: each prime factor of n, largest first, to the dimension with the largest
// remaining launch[i] / O[i] (first such dimension on ties).
Shape greedy_factors(int64_t n, const Shape& launch);

}  // namespace mage::dsl
