// The names of the kinds and layout words: each written once, read by to_string and parse.
#include "kinds/kinds.h"

#include <algorithm>
#include <cctype>

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

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string closest_word(std::string_view word, const std::vector<std::string_view>& candidates) {
  const std::string w = lower(word);
  if (w.empty()) return "";
  std::vector<std::string_view> prefixed, near;
  const size_t allowed = std::max<size_t>(1, w.size() / 3);
  size_t best_distance = allowed;
  for (std::string_view c : candidates) {
    const std::string lc = lower(c);
    if (lc == w) return std::string(c);
    if (lc.starts_with(w)) prefixed.push_back(c);
    const size_t d = edit_distance(w, lc);
    if (d > allowed) continue;
    if (d < best_distance) best_distance = d, near.clear();
    if (d == best_distance) near.push_back(c);
  }
  if (prefixed.size() == 1) return std::string(prefixed[0]);
  if (near.size() == 1) return std::string(near[0]);
  return "";
}

}  // namespace mage::kinds
