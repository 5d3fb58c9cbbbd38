// The names of the kinds and layout words: each written once, read by to_string and parse.
#include "kinds/kinds.h"

namespace mage::kinds {

namespace {

// Names by enumerator value (every enum here numbers its values 0, 1, ...).
constexpr std::array<std::string_view, kProcKinds.size()> kProcNames{"CPU", "GPU", "OMP", "IO", "PY"};
constexpr std::array<std::string_view, kMemKinds.size()> kMemNames{"SYSMEM", "FBMEM", "ZCMEM", "RDMEM", "SOCKMEM"};
constexpr std::array<std::string_view, 2> kFieldLayoutNames{"SOA", "AOS"};
constexpr std::array<std::string_view, 2> kDimOrderNames{"C_order", "F_order"};

template <typename Enum, size_t N>
std::string_view name_of(Enum value, const std::array<std::string_view, N>& names) {
  const auto i = static_cast<size_t>(value);
  return i < N ? names[i] : "?";
}

template <typename Enum, size_t N>
std::optional<Enum> parse(std::string_view name, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(ProcKind k) { return name_of(k, kProcNames); }
std::string_view to_string(MemKind k) { return name_of(k, kMemNames); }
std::string_view to_string(FieldLayout f) { return name_of(f, kFieldLayoutNames); }
std::string_view to_string(DimOrder o) { return name_of(o, kDimOrderNames); }

std::optional<ProcKind> parse_proc_kind(std::string_view name) { return parse<ProcKind>(name, kProcNames); }
std::optional<MemKind> parse_mem_kind(std::string_view name) { return parse<MemKind>(name, kMemNames); }
std::optional<FieldLayout> parse_field_layout(std::string_view word) {
  return parse<FieldLayout>(word, kFieldLayoutNames);
}
std::optional<DimOrder> parse_dim_order(std::string_view word) { return parse<DimOrder>(word, kDimOrderNames); }

}  // namespace mage::kinds
