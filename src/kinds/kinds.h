// The words every module shares (module `kinds`, at the bottom of the dependency order):
// processor and memory kinds, the words of an instance's layout, and typed ids. Each is
// defined here once, with its one name; the mapping language, the machine, the program,
// the mapping and the simulator all speak them. The language adds only its own words
// (PROC and VIRTUAL, see dsl/dsl.h).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mage::kinds {

// ---- Processor and memory kinds -----------------------------------------------------------

// Spelled as the mapping language and the machine files spell them ("GPU", "FBMEM").
enum class ProcKind : uint8_t { CPU, GPU, OMP, IO, PY };
enum class MemKind : uint8_t { SYSMEM, FBMEM, ZCMEM, RDMEM, SOCKMEM };

// Every kind, in the order above (the order of machine ids and tables).
inline constexpr std::array<ProcKind, 5> kProcKinds{ProcKind::CPU, ProcKind::GPU, ProcKind::OMP, ProcKind::IO,
                                                    ProcKind::PY};
inline constexpr std::array<MemKind, 5> kMemKinds{MemKind::SYSMEM, MemKind::FBMEM, MemKind::ZCMEM, MemKind::RDMEM,
                                                  MemKind::SOCKMEM};

// A kind's position in kProcKinds / kMemKinds, for tables indexed by kind.
constexpr size_t index(ProcKind k) { return static_cast<size_t>(k); }
constexpr size_t index(MemKind k) { return static_cast<size_t>(k); }

std::string_view to_string(ProcKind k);
std::string_view to_string(MemKind k);
// Exact, case-sensitive names; nullopt for anything else.
std::optional<ProcKind> parse_proc_kind(std::string_view name);
std::optional<MemKind> parse_mem_kind(std::string_view name);

// ---- Layout -------------------------------------------------------------------------------

// How an instance arranges a region's fields: SOA (field-major: each field's elements
// together) or AOS (record-major: each element's fields together).
enum class FieldLayout : uint8_t { SOA, AOS };
// Which index of a multi-dimensional region runs fastest in memory: C_order the last
// (row-major), F_order the first (column-major).
enum class DimOrder : uint8_t { C, F };

std::string_view to_string(FieldLayout f);  // "SOA", "AOS"
std::string_view to_string(DimOrder o);     // "C_order", "F_order"
std::optional<FieldLayout> parse_field_layout(std::string_view word);
std::optional<DimOrder> parse_dim_order(std::string_view word);

// The layout of an instance.
struct Layout {
  FieldLayout fields = FieldLayout::SOA;
  DimOrder order = DimOrder::F;
  int64_t alignment = 0;  // bytes; 0: none requested
  bool compact = false;   // one dense instance even for a sparse piece
  bool exact = false;     // exactly the piece: no larger instance may be reused
  friend bool operator==(const Layout&, const Layout&) = default;
};

// ---- Ids ----------------------------------------------------------------------------------

// The position of a thing in its table (a processor, a region, a point task, ...). Each
// kind of thing has its own Id type (Tag tells them apart), so ids of different things do
// not mix; index() is the one way to use an id as an index. -1 (the default) is no thing.
template <typename Tag>
struct Id {
  int32_t value = -1;

  constexpr bool valid() const { return value >= 0; }
  constexpr size_t index() const { return static_cast<size_t>(value); }
  // The id of position i of a table.
  static constexpr Id at(size_t i) { return Id{static_cast<int32_t>(i)}; }
  friend constexpr bool operator==(Id, Id) = default;
  friend constexpr auto operator<=>(Id, Id) = default;
};

// ---- Words a user misspelt ----------------------------------------------------------------

// Levenshtein distance: insertions, deletions and substitutions, each one edit.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate the user probably meant by `word`, or "" when none clearly is: the same word
// in another case, the only candidate that starts with it, or the only one within a small edit
// distance (one edit per three letters, at least one). For "did you mean" hints.
std::string closest_word(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace mage::kinds

template <typename Tag>
struct std::hash<mage::kinds::Id<Tag>> {
  size_t operator()(mage::kinds::Id<Tag> id) const noexcept { return std::hash<int32_t>{}(id.value); }
};
