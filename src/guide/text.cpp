// Words and numbers for explanations, and look-ups into the program, the machine and the
// mapper's text that several explainers share.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cmath>

#include "guide/detail.h"

namespace mage::guide::detail {

std::string seconds(double s) {
  const double a = std::abs(s);
  if (a == 0) return "0 s";
  if (a < 1e-3) return fmt::format("{:.3g} us", s * 1e6);
  if (a < 1) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} s", s);
}

std::string bytes(double b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.3g} {}", b, kUnits[u]);
}

std::string percent(double fraction) {
  if (fraction > 0 && fraction < 0.001) return "<0.1%";
  return fraction < 0.1 ? fmt::format("{:.1f}%", 100 * fraction) : fmt::format("{:.0f}%", 100 * fraction);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

std::string plural(int64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

kinds::ProcKind machine_kind(kinds::ProcKind k) {
  return kinds::parse_proc_kind(kinds::to_string(k)).value_or(kinds::ProcKind::CPU);
}

const program::TaskKind* find_task(const program::Program& p, std::string_view name) {
  auto id = p.find_task(name);
  return id ? &p.tasks[(*id).index()] : nullptr;
}

std::vector<const program::Launch*> launches_of(const program::Program& p, std::string_view task) {
  std::vector<const program::Launch*> out;
  auto id = p.find_task(task);
  if (!id) return out;
  for (const program::Launch& l : p.launches)
    if (l.task == *id) out.push_back(&l);
  return out;
}

std::optional<kinds::MemKind> best_memory_kind(const machine::Machine& m, kinds::ProcKind kind) {
  const auto procs = m.processors_of(kind);
  if (procs.empty()) return std::nullopt;
  const auto reach = m.accessible(procs.front());
  if (reach.empty()) return std::nullopt;
  return m.memory(reach.front().mem).kind;
}

double access_bandwidth(const machine::Machine& m, kinds::ProcKind proc, kinds::MemKind mem) {
  const auto procs = m.processors_of(proc);
  if (procs.empty()) return 0;
  auto id = m.best_memory(procs.front(), mem);
  if (!id) return 0;
  auto a = m.access(procs.front(), *id);
  return a ? a->bandwidth : 0;
}

std::string space_name(std::string_view kind) {
  std::string name = "m";
  for (char ch : kind) name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  return name;
}

std::string memory_words(std::string_view kind) {
  if (kind == "ZCMEM") return "zero-copy memory (ZCMEM)";
  if (kind == "FBMEM") return "the framebuffer (FBMEM)";
  if (kind == "SYSMEM") return "system memory (SYSMEM)";
  if (kind == "SOCKMEM") return "socket memory (SOCKMEM)";
  if (kind == "RDMEM") return "registered memory (RDMEM)";
  return std::string(kind);
}

std::string source_line(const dsl::SourceFile& s, int line) { return std::string(s.line(line)); }

std::string rule_change(const Context& c, int line, std::string_view from, std::string_view to) {
  if (!c.source || line <= 0) return "";
  const std::string text = trim(source_line(*c.source, line));
  const size_t at = text.rfind(from);
  if (at == std::string::npos) return "";
  std::string fixed = text;
  fixed.replace(at, from.size(), to);
  return fmt::format("{}:{} `{}` to `{}`", c.source->name, line, text, fixed);
}

void order_hints(std::vector<Hint>& hints) {
  std::stable_sort(hints.begin(), hints.end(), [](const Hint& a, const Hint& b) { return a.impact_s > b.impact_s; });
  std::vector<Hint> kept;
  for (Hint& h : hints) {
    const bool seen = std::any_of(kept.begin(), kept.end(), [&](const Hint& k) {
      return k.action == h.action && k.task == h.task && k.argument == h.argument && k.to == h.to;
    });
    if (!seen) kept.push_back(std::move(h));
  }
  hints = std::move(kept);
}

}  // namespace mage::guide::detail
