// Machine spaces and their transforms (DSL.md, "Machine spaces").
//
// Every space holds a flat table: entry r (row-major rank of a point) is the processor of
// the original 2-D space, encoded node * procs_per_rank + proc. A transform builds the new
// table by asking, for each point of the new shape, which point of the old space it
// stands for. Sizes are validated before any arithmetic, and every size stays within
// kMaxMachineVolume, so no product below can overflow.
#include "dsl/machine_space.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace mage::dsl {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

std::string dims_text(int64_t dims) { return str(dims) + "-D machine space"; }

// "op: dimension d out of range for a 2-D machine space", or nothing when d is valid.
std::optional<std::string> bad_dim(const char* op, int64_t dim, int64_t dims) {
  if (dim >= 0 && dim < dims) return std::nullopt;
  return std::string(op) + ": dimension " + str(dim) + " out of range for a " + dims_text(dims);
}

std::optional<std::string> too_many_dims(const char* op, int64_t new_dims) {
  if (new_dims <= kMaxMachineDims) return std::nullopt;
  return std::string(op) + ": the result would have " + str(new_dims) + " dimensions (at most " + str(kMaxMachineDims) +
         ")";
}

// Checks one index of a machine point; `dim` is its position.
std::optional<std::string> bad_index(int64_t index, int64_t dim, int64_t size) {
  if (index < 0) return "negative index " + str(index) + " for dimension " + str(dim) + " (use * for all processors)";
  if (index >= size) return "index " + str(index) + " out of range for dimension " + str(dim) + " of size " + str(size);
  return std::nullopt;
}

std::string index_count_error(size_t got, int64_t dims) {
  return "expected " + str(dims) + (dims == 1 ? " index" : " indices") + " for a " + dims_text(dims) + ", got " +
         str(static_cast<int64_t>(got));
}

// Row-major strides of a shape (the last index is fastest).
Shape strides_of(const Shape& size) {
  Shape strides(size.size(), 1);
  for (size_t i = size.size(); i-- > 1;) strides[i - 1] = strides[i] * size[i];
  return strides;
}

// Prime factors of n (1 <= n <= kMaxMachineVolume), ascending, with multiplicity.
std::vector<int64_t> prime_factors(int64_t n) {
  std::vector<int64_t> primes;
  for (int64_t p = 2; p * p <= n; ++p) {
    while (n % p == 0) {
      primes.push_back(p);
      n /= p;
    }
  }
  if (n > 1) primes.push_back(n);
  return primes;
}

bool valid_launch(const Shape& launch) {
  if (launch.empty() || static_cast<int64_t>(launch.size()) > kMaxSplitParts) return false;
  return std::all_of(launch.begin(), launch.end(), [](int64_t l) { return l >= 1; });
}

bool valid_count(int64_t n) { return n >= 0 && n <= kMaxMachineVolume; }

// (0, 1, ..., 1): the split of an empty dimension.
Shape empty_split(size_t parts) {
  Shape out(parts, 1);
  out[0] = 0;
  return out;
}

// launch[i] / o[i] > launch[j] / o[j], exactly (o entries are >= 1 and <= 2^20, launch
// entries fit in int64, so the cross products fit in 128 bits).
bool ratio_greater(const Shape& launch, const Shape& o, size_t i, size_t j) {
  __extension__ using Wide = __int128;
  return static_cast<Wide>(launch[i]) * o[j] > static_cast<Wide>(launch[j]) * o[i];
}

// The communication cost Σ O_i / L_i, summed in index order (the same order everywhere,
// so equal factorizations give bit-identical costs).
double surface(const Shape& o, const Shape& launch) {
  double cost = 0.0;
  for (size_t i = 0; i < o.size(); ++i) cost += static_cast<double>(o[i]) / static_cast<double>(launch[i]);
  return cost;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Construction and lookup

MachineSpace MachineSpace::original(int64_t ranks, int64_t procs_per_rank) {
  if (ranks < 0 || procs_per_rank < 0 || ranks > kMaxMachineVolume || procs_per_rank > kMaxMachineVolume ||
      (procs_per_rank > 0 && ranks > kMaxMachineVolume / procs_per_rank)) {
    throw std::invalid_argument("machine space of " + str(ranks) + " x " + str(procs_per_rank) +
                                " processors is not supported (at most " + str(kMaxMachineVolume) + ")");
  }
  MachineSpace m;
  m.size_ = {ranks, procs_per_rank};
  m.procs_per_rank_ = procs_per_rank;
  auto table = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(ranks * procs_per_rank));
  for (size_t i = 0; i < table->size(); ++i) (*table)[i] = static_cast<int64_t>(i);
  m.table_ = std::move(table);
  return m;
}

int64_t MachineSpace::volume() const { return table_ ? static_cast<int64_t>(table_->size()) : 0; }

Fallible<ProcessorId> MachineSpace::at(const std::vector<int64_t>& point) const {
  if (static_cast<int64_t>(point.size()) != dims())
    return Fallible<ProcessorId>::failure(index_count_error(point.size(), dims()));
  for (size_t d = 0; d < point.size(); ++d) {
    if (auto err = bad_index(point[d], static_cast<int64_t>(d), size_[d])) return Fallible<ProcessorId>::failure(*err);
  }
  // Every index is in range, so no dimension is empty and the rank stays below volume().
  if (volume() == 0)  // only a default-constructed (0-D) space gets here
    return Fallible<ProcessorId>::failure("the machine space has no processors");
  int64_t rank = 0;
  for (size_t d = 0; d < point.size(); ++d) rank = rank * size_[d] + point[d];
  int64_t code = (*table_)[static_cast<size_t>(rank)];
  return ProcessorId{code / procs_per_rank_, code % procs_per_rank_};
}

Fallible<std::vector<ProcessorId>> MachineSpace::at_pattern(const std::vector<std::optional<int64_t>>& point) const {
  using Result = Fallible<std::vector<ProcessorId>>;
  if (static_cast<int64_t>(point.size()) != dims()) return Result::failure(index_count_error(point.size(), dims()));
  std::vector<size_t> starred;
  for (size_t d = 0; d < point.size(); ++d) {
    if (!point[d]) {
      starred.push_back(d);
    } else if (auto err = bad_index(*point[d], static_cast<int64_t>(d), size_[d])) {
      return Result::failure(*err);
    }
  }
  std::vector<ProcessorId> out;
  // A star over an empty dimension selects nothing. Past this, strides cannot overflow.
  if (volume() == 0) return out;
  const Shape strides = strides_of(size_);
  int64_t base = 0;
  for (size_t d = 0; d < point.size(); ++d)
    if (point[d]) base += *point[d] * strides[d];
  // Odometer over the starred dimensions, last one fastest (row-major).
  std::vector<int64_t> counter(starred.size(), 0);
  while (true) {
    int64_t rank = base;
    for (size_t s = 0; s < starred.size(); ++s) rank += counter[s] * strides[starred[s]];
    int64_t code = (*table_)[static_cast<size_t>(rank)];
    out.push_back({code / procs_per_rank_, code % procs_per_rank_});
    size_t s = starred.size();
    while (s > 0 && ++counter[s - 1] == size_[starred[s - 1]]) counter[--s] = 0;
    if (s == 0) break;
  }
  return out;
}

Fallible<std::vector<int64_t>> MachineSpace::point_of(ProcessorId p) const {
  using Result = Fallible<std::vector<int64_t>>;
  auto missing = [&] {
    return Result::failure("processor " + str(p.proc) + " of node " + str(p.node) + " is not in this machine space");
  };
  // Every code in a table is below kMaxMachineVolume, so bound the inputs before encoding.
  if (!table_ || p.node < 0 || p.proc < 0 || p.proc >= procs_per_rank_ || p.node >= kMaxMachineVolume) return missing();
  const int64_t code = p.node * procs_per_rank_ + p.proc;
  auto it = std::find(table_->begin(), table_->end(), code);
  if (it == table_->end()) return missing();
  int64_t rank = it - table_->begin();
  std::vector<int64_t> point(size_.size());
  for (size_t d = size_.size(); d-- > 0;) {
    point[d] = rank % size_[d];
    rank /= size_[d];
  }
  return point;
}

// ---------------------------------------------------------------------------------------
// Transforms

template <typename OldPoint>
MachineSpace MachineSpace::derive(Shape size, OldPoint old_point) const {
  MachineSpace m;
  m.procs_per_rank_ = procs_per_rank_;
  auto table = std::make_shared<std::vector<int64_t>>();
  // Every size is at most kMaxMachineVolume and so is the product when no size is 0; the
  // sizes of an empty space may multiply past int64, so test for 0 first.
  const bool empty = std::find(size.begin(), size.end(), 0) != size.end();
  int64_t volume = empty ? 0 : 1;
  if (!empty)
    for (int64_t s : size) volume *= s;
  table->reserve(static_cast<size_t>(volume));
  const Shape old_strides = volume > 0 ? strides_of(size_) : Shape(size_.size(), 0);
  std::vector<int64_t> point(size.size(), 0), old(size_.size(), 0);
  for (int64_t r = 0; r < volume; ++r) {
    old_point(point, old);
    int64_t old_rank = 0;
    for (size_t d = 0; d < old.size(); ++d) old_rank += old[d] * old_strides[d];
    table->push_back((*table_)[static_cast<size_t>(old_rank)]);
    // Next point in row-major order.
    for (size_t d = size.size(); d-- > 0;) {
      if (++point[d] < size[d]) break;
      point[d] = 0;
    }
  }
  m.size_ = std::move(size);
  m.table_ = std::move(table);
  return m;
}

namespace {

// The last splits made, per thread. A placement function splits the same space the same way for
// every point of a launch (`m.auto_split(0, task.ispace)`), and each split builds a table the size
// of the machine: on 4,096 Lassen nodes, placing circuit's 49 k points took minutes without this.
// An entry matches only while its source table is alive (the weak pointer locks to the very table
// being split), so a freed table's address reused by another never matches.
struct SplitMemo {
  std::weak_ptr<const std::vector<int64_t>> source;
  Shape source_size;
  int64_t dim = 0;
  Shape factors;
  MachineSpace result;
};
constexpr size_t kSplitMemoEntries = 8;
thread_local std::vector<SplitMemo> split_memo;
thread_local size_t split_memo_next = 0;

}  // namespace

MachineSpace MachineSpace::split_into(int64_t dim, const Shape& factors) const {
  for (const SplitMemo& e : split_memo)
    if (e.dim == dim && e.factors == factors && e.source_size == size_ && table_ && e.source.lock() == table_)
      return e.result;
  const size_t d = static_cast<size_t>(dim), k = factors.size();
  Shape size(size_.begin(), size_.begin() + dim);
  size.insert(size.end(), factors.begin(), factors.end());
  size.insert(size.end(), size_.begin() + dim + 1, size_.end());
  MachineSpace result = derive(std::move(size), [&](const std::vector<int64_t>& p, std::vector<int64_t>& old) {
    for (size_t i = 0; i < d; ++i) old[i] = p[i];
    // (i0, ..., ik-1) -> i0 + i1*O0 + i2*O0*O1 + ...
    int64_t index = 0, weight = 1;
    for (size_t i = 0; i < k; ++i) {
      index += p[d + i] * weight;
      weight *= factors[i];
    }
    old[d] = index;
    for (size_t i = d + 1; i < old.size(); ++i) old[i] = p[i + k - 1];
  });
  if (table_) {
    SplitMemo entry{table_, size_, dim, factors, result};
    if (split_memo.size() < kSplitMemoEntries)
      split_memo.push_back(std::move(entry));
    else
      split_memo[split_memo_next] = std::move(entry);
    split_memo_next = (split_memo_next + 1) % kSplitMemoEntries;
  }
  return result;
}

Fallible<MachineSpace> MachineSpace::split(int64_t dim, int64_t factor) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("split", dim, dims())) return Result::failure(*err);
  if (factor < 1) return Result::failure("split: factor " + str(factor) + " must be at least 1");
  const int64_t n = size_[static_cast<size_t>(dim)];
  if (n % factor != 0)
    return Result::failure("split: size " + str(n) + " of dimension " + str(dim) + " is not divisible by " +
                           str(factor));
  if (factor > kMaxMachineVolume)  // only reachable on an empty dimension (n = 0)
    return Result::failure("split: factor " + str(factor) + " exceeds the largest machine size " +
                           str(kMaxMachineVolume));
  if (auto err = too_many_dims("split", dims() + 1)) return Result::failure(*err);
  return split_into(dim, {factor, n / factor});
}

Fallible<MachineSpace> MachineSpace::merge(int64_t dim1, int64_t dim2) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("merge", dim1, dims())) return Result::failure(*err);
  if (auto err = bad_dim("merge", dim2, dims())) return Result::failure(*err);
  if (dim1 == dim2) return Result::failure("merge: the two dimensions must differ (both are " + str(dim1) + ")");
  const int64_t s1 = size_[static_cast<size_t>(dim1)], s2 = size_[static_cast<size_t>(dim2)];
  if (s1 * s2 > kMaxMachineVolume)  // only reachable when another dimension is empty
    return Result::failure("merge: merged size " + str(s1) + " x " + str(s2) + " exceeds the largest machine size " +
                           str(kMaxMachineVolume));
  // source[j]: the old dimension behind new dimension j, or -1 for the merged one, which
  // takes the place of dim1 once dim2 is removed (index dim1, or dim1 - 1 if dim1 > dim2,
  // as in the original implementation); the other dimensions keep their order.
  std::vector<int64_t> source;
  Shape size;
  for (int64_t i = 0; i < dims(); ++i) {
    if (i == dim1) {
      source.push_back(-1);
      size.push_back(s1 * s2);
    } else if (i != dim2) {
      source.push_back(i);
      size.push_back(size_[static_cast<size_t>(i)]);
    }
  }
  const size_t d1 = static_cast<size_t>(dim1), d2 = static_cast<size_t>(dim2);
  return derive(std::move(size), [&](const std::vector<int64_t>& p, std::vector<int64_t>& old) {
    for (size_t j = 0; j < p.size(); ++j) {
      if (source[j] < 0) {
        old[d1] = p[j] / s2;  // s2 > 0 whenever the space has points
        old[d2] = p[j] % s2;
      } else {
        old[static_cast<size_t>(source[j])] = p[j];
      }
    }
  });
}

Fallible<MachineSpace> MachineSpace::swap(int64_t dim1, int64_t dim2) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("swap", dim1, dims())) return Result::failure(*err);
  if (auto err = bad_dim("swap", dim2, dims())) return Result::failure(*err);
  const size_t d1 = static_cast<size_t>(dim1), d2 = static_cast<size_t>(dim2);
  Shape size = size_;
  std::swap(size[d1], size[d2]);
  return derive(std::move(size), [&](const std::vector<int64_t>& p, std::vector<int64_t>& old) {
    old = p;
    std::swap(old[d1], old[d2]);
  });
}

Fallible<MachineSpace> MachineSpace::slice(int64_t dim, int64_t lo, int64_t hi) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("slice", dim, dims())) return Result::failure(*err);
  const size_t d = static_cast<size_t>(dim);
  const int64_t n = size_[d];
  if (lo < 0) return Result::failure("slice: lower bound " + str(lo) + " is negative");
  if (hi >= n)
    return Result::failure("slice: upper bound " + str(hi) + " out of range for dimension " + str(dim) + " of size " +
                           str(n));
  if (lo > hi) return Result::failure("slice: lower bound " + str(lo) + " is greater than upper bound " + str(hi));
  Shape size = size_;
  size[d] = hi - lo + 1;
  return derive(std::move(size), [&](const std::vector<int64_t>& p, std::vector<int64_t>& old) {
    old = p;
    old[d] += lo;
  });
}

Fallible<MachineSpace> MachineSpace::reverse(int64_t dim) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("reverse", dim, dims())) return Result::failure(*err);
  const size_t d = static_cast<size_t>(dim);
  const int64_t n = size_[d];
  return derive(size_, [&](const std::vector<int64_t>& p, std::vector<int64_t>& old) {
    old = p;
    old[d] = n - 1 - p[d];
  });
}

Fallible<MachineSpace> MachineSpace::balance_split(int64_t dim, int64_t parts) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("balance_split", dim, dims())) return Result::failure(*err);
  if (parts != 2 && parts != 3)
    return Result::failure("balance_split: number of parts must be 2 or 3, got " + str(parts));
  if (auto err = too_many_dims("balance_split", dims() + parts - 1)) return Result::failure(*err);
  return split_into(dim, balanced_factors(size_[static_cast<size_t>(dim)], parts));
}

namespace {

// Validation shared by auto_split and greedy_split.
std::optional<std::string> bad_launch(const char* op, const Shape& launch) {
  if (launch.empty()) return std::string(op) + ": the launch shape is empty";
  if (static_cast<int64_t>(launch.size()) > kMaxSplitParts)
    return std::string(op) + ": the launch shape has " + str(static_cast<int64_t>(launch.size())) +
           " dimensions (at most " + str(kMaxSplitParts) + ")";
  for (size_t i = 0; i < launch.size(); ++i) {
    if (launch[i] < 1)
      return std::string(op) + ": launch extent " + str(launch[i]) + " at position " + str(static_cast<int64_t>(i)) +
             " must be at least 1";
  }
  return std::nullopt;
}

}  // namespace

Fallible<MachineSpace> MachineSpace::auto_split(int64_t dim, const Shape& launch) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("auto_split", dim, dims())) return Result::failure(*err);
  if (auto err = bad_launch("auto_split", launch)) return Result::failure(*err);
  const int64_t new_dims = dims() + static_cast<int64_t>(launch.size()) - 1;
  if (auto err = too_many_dims("auto_split", new_dims)) return Result::failure(*err);
  return split_into(dim, auto_factors(size_[static_cast<size_t>(dim)], launch));
}

Fallible<MachineSpace> MachineSpace::greedy_split(int64_t dim, const Shape& launch) const {
  using Result = Fallible<MachineSpace>;
  if (auto err = bad_dim("greedy_split", dim, dims())) return Result::failure(*err);
  if (auto err = bad_launch("greedy_split", launch)) return Result::failure(*err);
  const int64_t new_dims = dims() + static_cast<int64_t>(launch.size()) - 1;
  if (auto err = too_many_dims("greedy_split", new_dims)) return Result::failure(*err);
  return split_into(dim, greedy_factors(size_[static_cast<size_t>(dim)], launch));
}

// ---------------------------------------------------------------------------------------
// Factor choices

// balance_split. "As equal as possible" is the rule of the original implementation, which
// the examples of DSL.md pin down: start from `parts` ones; give each prime factor of n,
// smallest first, to the currently smallest part; sort the parts in descending order.
// (Which of several equal smallest parts receives a prime does not matter: the multiset is
// the same.) So 12 -> (6, 2), 24 in 3 -> (6, 2, 2): it is not "minimise the largest part",
// which would give (4, 3) and (4, 3, 2).
Shape balanced_factors(int64_t n, int64_t parts) {
  if (!valid_count(n) || (parts != 2 && parts != 3)) return {};
  if (n == 0) return empty_split(static_cast<size_t>(parts));
  Shape out(static_cast<size_t>(parts), 1);
  for (int64_t p : prime_factors(n)) *std::min_element(out.begin(), out.end()) *= p;
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

// greedy_split (Legion's default mapper): each prime factor of n, largest first, goes to the
// dimension with the largest remaining launch[i] / O[i], compared exactly; the first such
// dimension on ties.
Shape greedy_factors(int64_t n, const Shape& launch) {
  if (!valid_count(n) || !valid_launch(launch)) return {};
  if (n == 0) return empty_split(launch.size());
  Shape out(launch.size(), 1);
  std::vector<int64_t> primes = prime_factors(n);
  for (auto it = primes.rbegin(); it != primes.rend(); ++it) {
    size_t best = 0;
    for (size_t i = 1; i < out.size(); ++i)
      if (ratio_greater(launch, out, i, best)) best = i;
    out[best] *= *it;
  }
  return out;
}

// auto_split. Candidates are the ordered factorizations O of n into launch.size() factors.
// Enumeration order: lexicographically descending in (O_0, O_1, ...): O_0 runs over the
// divisors of n from largest to smallest, O_1 over the divisors of n / O_0 likewise, ...,
// and the last factor is what remains. The best cost c* is the minimum of
// surface(O) = Σ O_i / L_i; a candidate ties with the best when its cost is at most
// c* + 1e-9·c* (relative: every cost is positive, and launch extents may be huge).
// The result is the greedy choice if it ties with the best, else the first tying
// candidate in enumeration order. (Descending order means that among dimensions with equal
// launch extents the earlier ones get the larger factors, as in the original.)
//
// Instead of listing every factorization (over 10^8 for some n below kMaxMachineVolume and
// 8 parts), a table of lower bounds -- the least cost of splitting each divisor r of n over
// dimensions i.. -- gives c* and lets the enumeration skip every branch that cannot tie.
Shape auto_factors(int64_t n, const Shape& launch) {
  if (!valid_count(n) || !valid_launch(launch)) return {};
  if (n == 0) return empty_split(launch.size());
  const size_t k = launch.size();

  // Divisors of n, ascending.
  std::vector<int64_t> divisors{1};
  {
    std::vector<int64_t> primes = prime_factors(n);
    for (size_t i = 0; i < primes.size();) {
      size_t j = i;
      while (j < primes.size() && primes[j] == primes[i]) ++j;
      const size_t count = divisors.size();
      int64_t power = 1;
      for (size_t e = i; e < j; ++e) {
        power *= primes[i];
        for (size_t c = 0; c < count; ++c) divisors.push_back(divisors[c] * power);
      }
      i = j;
    }
    std::sort(divisors.begin(), divisors.end());
  }
  const size_t nd = divisors.size();
  auto index_of = [&](int64_t r) {
    return static_cast<size_t>(std::lower_bound(divisors.begin(), divisors.end(), r) - divisors.begin());
  };
  auto term = [&](size_t i, int64_t o) { return static_cast<double>(o) / static_cast<double>(launch[i]); };

  // bound[i][x]: least Σ_{j >= i} O_j / L_j over factorizations of divisors[x] into
  // dimensions i..k-1.
  std::vector<std::vector<double>> bound(k, std::vector<double>(nd, 0.0));
  for (size_t x = 0; x < nd; ++x) bound[k - 1][x] = term(k - 1, divisors[x]);
  for (size_t i = k - 1; i-- > 0;) {
    for (size_t x = 0; x < nd; ++x) {
      const int64_t r = divisors[x];
      double best = term(i, r) + bound[i + 1][0];
      for (size_t y = 0; y < nd && divisors[y] <= r; ++y) {
        if (r % divisors[y] != 0) continue;
        best = std::min(best, term(i, divisors[y]) + bound[i + 1][index_of(r / divisors[y])]);
      }
      bound[i][x] = best;
    }
  }
  const double best_cost = bound[0][nd - 1];
  const double limit = best_cost + 1e-9 * best_cost;
  // Pruning must not drop a tying candidate because `bound` was summed in another order.
  const double prune_limit = limit + 1e-12 * best_cost;

  Shape greedy = greedy_factors(n, launch);
  if (surface(greedy, launch) <= limit) return greedy;

  Shape out(k, 1);
  // Depth-first in enumeration order; true once `out` holds the first tying candidate.
  auto search = [&](auto&& self, size_t i, int64_t rest, double partial) -> bool {
    if (i == k - 1) {
      out[i] = rest;
      return partial + term(i, rest) <= limit;
    }
    for (size_t y = index_of(rest) + 1; y-- > 0;) {
      const int64_t o = divisors[y];
      if (rest % o != 0) continue;
      const double here = partial + term(i, o);
      if (here + bound[i + 1][index_of(rest / o)] > prune_limit) continue;
      out[i] = o;
      if (self(self, i + 1, rest / o, here)) return true;
    }
    return false;
  };
  if (search(search, 0, n, 0.0)) return out;
  return greedy;  // unreachable in practice: the minimiser itself ties with the best
}

}  // namespace mage::dsl
