#include "calibrate/calibrate.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

namespace mage::calibrate {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::Holds:
      return "holds";
    case Verdict::Off:
      return "off (explained)";
    case Verdict::Fails:
      return "FAILS";
  }
  return "?";
}

Verdict Fact::verdict() const {
  Verdict worst = Verdict::Holds;
  for (const Row& r : rows) worst = std::max(worst, r.verdict);
  return worst;
}

bool Report::all_hold() const {
  return std::none_of(facts.begin(), facts.end(), [](const Fact& f) { return f.verdict() == Verdict::Fails; });
}

// ---- Mapper variants --------------------------------------------------------------------

std::string with_rules_first(std::string_view mapper, std::string_view rules) {
  std::string out(rules);
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += mapper;
  return out;
}

std::string without_placement(std::string_view mapper) {
  std::string out;
  size_t line_no = 0;
  for (size_t pos = 0; pos < mapper.size();) {
    size_t end = mapper.find('\n', pos);
    if (end == std::string_view::npos) end = mapper.size();
    std::string_view line = mapper.substr(pos, end - pos);
    ++line_no;
    const size_t first = line.find_first_not_of(" \t");
    const std::string_view body = first == std::string_view::npos ? std::string_view{} : line.substr(first);
    const bool placement = body.starts_with("IndexTaskMap ") || body.starts_with("SingleTaskMap ");
    if (placement && body.find(';') == std::string_view::npos)
      throw std::invalid_argument(fmt::format("line {}: a placement statement that does not end on its line", line_no));
    if (!placement) {
      out += line;
      if (end < mapper.size()) out += '\n';
    }
    pos = end + 1;
  }
  return out;
}

std::string all_cpu_mapper() { return "Task * CPU;\nLayout * * * SOA C_order;\n"; }

namespace {

// ---- Runs -------------------------------------------------------------------------------

constexpr std::string_view kFramebufferRules = "Region * rp_shared GPU FBMEM;\nRegion * rp_ghost GPU FBMEM;\n";
constexpr std::string_view kFOrderRule = "Layout task_4 * * SOA F_order;\n";
const std::vector<std::string> kMatmuls = {"cannon", "summa", "pumma", "johnson", "solomonik", "cosma"};

enum class Variant { Expert, Default, Framebuffer, FOrder, NoPlacement, AllCpu };

std::string_view describe(Variant v) {
  switch (v) {
    case Variant::Expert:
      return "expert";
    case Variant::Default:
      return "default mapper";
    case Variant::Framebuffer:
      return "expert, rp_shared and rp_ghost in FBMEM";
    case Variant::FOrder:
      return "expert, task_4 in F order";
    case Variant::NoPlacement:
      return "expert without placement functions";
    case Variant::AllCpu:
      return "every task on CPU";
  }
  return "?";
}

eval::MapperSpec mapper_for(const std::string& app, Variant v) {
  if (v == Variant::Expert) return eval::expert_mapper();
  if (v == Variant::Default) return eval::default_mapper();
  if (v == Variant::AllCpu) return eval::mapper_text(all_cpu_mapper(), "all_cpu.map");
  const std::string expert(*eval::expert_mapper_text(app));
  switch (v) {
    case Variant::Framebuffer:
      return eval::mapper_text(with_rules_first(expert, kFramebufferRules), app + "_framebuffer.map");
    case Variant::FOrder:
      return eval::mapper_text(with_rules_first(expert, kFOrderRule), app + "_f_order.map");
    case Variant::NoPlacement:
      return eval::mapper_text(without_placement(expert), app + "_no_placement.map");
    default:
      break;
  }
  throw std::logic_error("calibrate: unhandled mapper variant");
}

struct RunKey {
  std::string app, machine;
  int nodes = 1;
  Variant variant = Variant::Expert;
  friend auto operator<=>(const RunKey&, const RunKey&) = default;
};

// Requests, each evaluated once however many facts use it.
class Runs {
 public:
  void need(const RunKey& k) {
    if (index_.contains(k)) return;
    index_.emplace(k, requests_.size());
    eval::Request r;
    r.app = k.app;
    r.machine = k.machine;
    r.overrides.nodes = k.nodes;
    r.scale = apps::Scale::Published;
    r.mapper = mapper_for(k.app, k.variant);
    r.options.top = 3;
    requests_.push_back(std::move(r));
  }
  void evaluate(int workers, const eval::Limits& limits) { results_ = eval::evaluate_many(requests_, workers, limits); }
  const sim::Outcome& operator[](const RunKey& k) const { return results_.at(index_.at(k)).outcome; }

 private:
  std::map<RunKey, size_t> index_;
  std::vector<eval::Request> requests_;
  std::vector<eval::Result> results_;
};

// ---- Formatting -------------------------------------------------------------------------

std::string seconds(double s) { return fmt::format("{:.3g} s", s); }
std::string ratio(double r) { return fmt::format("{:.2f}x", r); }
std::string gflops(double g) {
  std::string digits = fmt::format("{:.0f}", g), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out + " GFLOP/s";
}
// Rules, one per line, as Markdown code: "`A;` and `B;`".
std::string as_code(std::string_view rules) {
  std::string out;
  for (size_t pos = 0; pos < rules.size();) {
    size_t end = rules.find('\n', pos);
    if (end == std::string_view::npos) end = rules.size();
    if (end > pos) out += fmt::format("{}`{}`", out.empty() ? "" : " and ", rules.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}
std::string gib(double b) { return fmt::format("{:.1f} GiB", b / double(uint64_t{1} << 30)); }

// "execution error: out of memory in ..." cut to its first clause.
std::string short_problem(const sim::Outcome& o) {
  std::string m = o.message.substr(0, o.message.find(';'));
  return fmt::format("{}: {}", sim::to_string(o.status), m);
}

// The fullest framebuffer of the run (none: a zero peak).
sim::MemoryPeak fullest_framebuffer(const sim::Outcome& o) {
  sim::MemoryPeak fullest;
  for (const sim::MemoryPeak& m : o.profile.memories)
    if (m.kind == kinds::MemKind::FBMEM && m.peak_bytes > fullest.peak_bytes) fullest = m;
  return fullest;
}

// A row for a run that should have succeeded but did not.
Row failed_row(std::string label, std::string target, const sim::Outcome& o) {
  return Row{std::move(label), "-", std::move(target), Verdict::Fails, short_problem(o)};
}

// Two runs compared: a failed row for each that did not succeed, else the row `compare`
// makes of them.
void add_comparison(Fact& f, const sim::Outcome& a, const std::string& a_label, const sim::Outcome& b,
                    const std::string& b_label, const std::function<Row()>& compare) {
  if (!a.ok()) f.rows.push_back(failed_row(a_label, "ok", a));
  if (!b.ok()) f.rows.push_back(failed_row(b_label, "ok", b));
  if (a.ok() && b.ok()) f.rows.push_back(compare());
}

// ---- The facts --------------------------------------------------------------------------

struct FactSpec {
  std::string id;
  std::function<void(Runs&)> plan;
  std::function<Fact(const Runs&)> judge;
};

// On p100x4 the published best circuit mapper (1.34x) kept rp_shared and rp_ghost in the
// framebuffer; the issue asks for 1.15-1.6x.
FactSpec circuit_framebuffer() {
  const RunKey expert{"circuit", "p100x4", 1, Variant::Expert}, fb{"circuit", "p100x4", 1, Variant::Framebuffer};
  return {"circuit-framebuffer",
          [=](Runs& r) {
            r.need(expert);
            r.need(fb);
          },
          [=](const Runs& r) {
            Fact f{"circuit-framebuffer",
                   "On p100x4, circuit with everything in the framebuffer is 1.15-1.6x faster than the expert mapper",
                   fmt::format("p100x4, published scale; the expert mapper, and the expert with {} placed first "
                               "(the first rule wins, so the boundary regions go to FBMEM instead of ZCMEM). "
                               "Published: 1.34x.",
                               as_code(kFramebufferRules)),
                   {},
                   ""};
            const sim::Outcome &e = r[expert], &b = r[fb];
            add_comparison(f, e, "circuit, expert", b, "circuit, all in the framebuffer", [&] {
              const double s = e.time_s / b.time_s;
              return Row{
                  "speed-up of all-framebuffer over expert", ratio(s), "1.15-1.6x",
                  s >= 1.15 && s <= 1.6 ? Verdict::Holds : Verdict::Fails,
                  fmt::format("expert {}, all-framebuffer {} for 50 iterations", seconds(e.time_s), seconds(b.time_s))};
            });
            return f;
          }};
}

FactSpec stencil_default() {
  const RunKey expert{"stencil", "p100x4", 1, Variant::Expert}, def{"stencil", "p100x4", 1, Variant::Default};
  return {"stencil-default",
          [=](Runs& r) {
            r.need(expert);
            r.need(def);
          },
          [=](const Runs& r) {
            Fact f{"stencil-default",
                   "On p100x4, stencil's expert and default mappers are within 5% of each other",
                   "p100x4, published scale; the expert mapper and the built-in default mapper. Published: the best "
                   "generated mapper was 1.02x the expert.",
                   {},
                   ""};
            const sim::Outcome &e = r[expert], &d = r[def];
            add_comparison(f, e, "stencil, expert", d, "stencil, default", [&] {
              const double diff = std::abs(e.time_s / d.time_s - 1);
              return Row{"expert vs default", fmt::format("{:.1f}%", 100 * diff), "<= 5%",
                         diff <= 0.05 ? Verdict::Holds : Verdict::Fails,
                         fmt::format("expert {}, default {}", seconds(e.time_s), seconds(d.time_s))};
            });
            return f;
          }};
}

// DGEMM requires C order: the expert with task_4 in F order, and the default mapper (SOA F
// order, as Legion's), must fail with the layout error.
FactSpec dgemm_layout() {
  return {"dgemm-layout",
          [](Runs& r) {
            for (const std::string& app : kMatmuls) {
              r.need({app, "p100x4", 1, Variant::FOrder});
              r.need({app, "p100x4", 1, Variant::Default});
            }
          },
          [](const Runs& r) {
            Fact f{"dgemm-layout",
                   "Any matrix multiplication whose DGEMM leaf (task_4) gets F order fails with a layout error",
                   fmt::format("p100x4, published scale; the expert with {} placed first, and the default mapper "
                               "(SOA, F order, like Legion's).",
                               as_code(kFOrderRule)),
                   {},
                   ""};
            for (const std::string& app : kMatmuls)
              for (Variant v : {Variant::FOrder, Variant::Default}) {
                const sim::Outcome& o = r[{app, "p100x4", 1, v}];
                const bool layout =
                    o.status == sim::Status::ExecutionError && o.message.find("layout mismatch") != std::string::npos;
                f.rows.push_back(Row{fmt::format("{}, {}", app, describe(v)), std::string(sim::to_string(o.status)),
                                     "execution error: layout mismatch", layout ? Verdict::Holds : Verdict::Fails,
                                     o.message});
              }
            return f;
          }};
}

// Measured on Lassen (BENCHMARKS.md): within 2x is the target.
struct Anchor {
  std::string app;
  Variant variant;
  double low, high;  // the measured value or range
  bool throughput;   // GFLOP/s per node (else seconds for the timed iterations)
  std::string why;   // when the model is off by more than 15%: why
};

const std::vector<Anchor>& anchors() {
  static const std::vector<Anchor> list = {
      {"cannon", Variant::Expert, 27'118, 27'118, true, ""},
      {"summa", Variant::Expert, 26'845, 26'845, true, ""},
      {"pumma", Variant::Expert, 27'210, 27'210, true, ""},
      {"solomonik", Variant::Expert, 28'268, 28'268, true, ""},
      {"johnson", Variant::Expert, 27'681, 27'681, true, ""},
      {"cosma", Variant::Expert, 21'857, 21'857, true,
       "the model gives COSMA about Johnson's time (both reduce partial A tiles over k at 4 GPUs), while the "
       "measured COSMA run was 21% slower than Johnson's; the model has no term for what made that difference "
       "(the generated code's extra copies or reduction overheads are candidates), so it is optimistic here"},
      {"cannon", Variant::NoPlacement, 7'600, 7'600, true,
       "without placement functions the leaf DGEMMs go round-robin over the node's GPUs, so tiles move between "
       "GPUs; the model charges those copies their NVLink bandwidth and overlaps them with the other GPUs' work, "
       "and the measured runs were slower still, which points at costs the model leaves out (the runtime's "
       "analysis and mapping of the extra copies, contention on the links)"},
      {"summa", Variant::NoPlacement, 7'600, 7'600, true, "as for Cannon above"},
      {"pumma", Variant::NoPlacement, 7'600, 7'600, true, "as for Cannon above"},
      {"circuit", Variant::Expert, 1.20, 1.35, false, ""},
      {"circuit", Variant::Framebuffer, 1.04, 1.15, false, ""},
      {"stencil", Variant::Expert, 0.56, 0.56, false, ""},
      {"pennant", Variant::Expert, 1.28, 1.28, false, ""},
  };
  return list;
}

FactSpec lassen_anchors() {
  return {
      "lassen-anchors",
      [](Runs& r) {
        for (const Anchor& a : anchors()) r.need({a.app, "lassen", 1, a.variant});
      },
      [](const Runs& r) {
        Fact f{"lassen-anchors",
               "On lassen (1 node), simulated throughput is within 2x of the measured anchors of BENCHMARKS.md",
               "lassen, 1 node, published scale (Johnson and COSMA as 4 ranks per node). Matrix "
               "multiplications in GFLOP/s per node, the others in seconds for the timed iterations. A row "
               "more than 15% off says why.",
               {},
               ""};
        for (const Anchor& a : anchors()) {
          const sim::Outcome& o = r[{a.app, "lassen", 1, a.variant}];
          const std::string label = fmt::format("{}, {}", a.app, describe(a.variant));
          const std::string target =
              a.throughput ? gflops(a.low)
                           : (a.low == a.high ? seconds(a.low) : fmt::format("{}-{}", seconds(a.low), seconds(a.high)));
          if (!o.ok()) {
            f.rows.push_back(failed_row(label, target, o));
            continue;
          }
          const double value = a.throughput ? o.metric_value : o.time_s;
          // The nearest end of the measured range, and the distance to it as a factor >= 1.
          const double nearest = std::clamp(value, a.low, a.high);
          const double factor = std::max(value / nearest, nearest / value);
          Row row{label, a.throughput ? gflops(value) : seconds(value), target, Verdict::Holds,
                  factor == 1.0 ? "inside the measured range" : fmt::format("{} the anchor", ratio(value / nearest))};
          if (factor > 2) row.verdict = Verdict::Fails;
          if (factor > 1.15) row.note += a.why.empty() ? "" : "; " + a.why;
          f.rows.push_back(std::move(row));
        }
        return f;
      }};
}

FactSpec all_cpu() {
  return {"all-cpu",
          [](Runs& r) {
            for (const apps::AppInfo& a : apps::list()) {
              r.need({a.name, "p100x4", 1, Variant::Expert});
              r.need({a.name, "p100x4", 1, Variant::AllCpu});
            }
          },
          [](const Runs& r) {
            Fact f{"all-cpu",
                   "Mapping every task to CPU is slower than the expert mapper, for every program",
                   fmt::format("p100x4, published scale; the expert mapper and {}.", as_code(all_cpu_mapper())),
                   {},
                   ""};
            for (const apps::AppInfo& a : apps::list()) {
              const sim::Outcome &e = r[{a.name, "p100x4", 1, Variant::Expert}],
                                 &c = r[{a.name, "p100x4", 1, Variant::AllCpu}];
              add_comparison(f, e, a.name + ", expert", c, a.name + ", every task on CPU", [&] {
                const double slowdown = c.time_s / e.time_s;
                return Row{a.name, fmt::format("{} slower", ratio(slowdown)), "> 1x",
                           slowdown > 1 ? Verdict::Holds : Verdict::Fails,
                           fmt::format("expert {}, CPU {}", seconds(e.time_s), seconds(c.time_s))};
              });
            }
            return f;
          }};
}

// BENCHMARKS.md: with every placement function removed, the runs ran out of GPU memory at
// these node counts.
const std::vector<std::pair<std::string, int>>& oom_configs() {
  static const std::vector<std::pair<std::string, int>> list = {
      {"summa", 8}, {"summa", 32}, {"pumma", 8}, {"pumma", 32}, {"johnson", 16}, {"cosma", 8}, {"cosma", 16}};
  return list;
}

FactSpec default_placement_oom() {
  return {"default-placement-oom",
          [](Runs& r) {
            for (const auto& [app, nodes] : oom_configs()) r.need({app, "lassen", nodes, Variant::NoPlacement});
          },
          [](const Runs& r) {
            Fact f{"default-placement-oom",
                   "Without placement functions, the matrix multiplications run out of GPU memory where BENCHMARKS.md "
                   "says they did",
                   "lassen at the node counts of BENCHMARKS.md, published scale; the expert without its IndexTaskMap "
                   "and SingleTaskMap statements (memory, layout, InstanceLimit and CollectMemory kept), so the "
                   "runtime's default placement decides. (The built-in default mapper itself stops earlier, at the "
                   "DGEMM layout check: see dgemm-layout.)",
                   {},
                   ""};
            bool some_off = false;
            for (const auto& [app, nodes] : oom_configs()) {
              const sim::Outcome& o = r[{app, "lassen", nodes, Variant::NoPlacement}];
              const std::string label = fmt::format("{}, {} nodes", app, nodes);
              const bool oom = o.status == sim::Status::ExecutionError && o.message.starts_with("out of memory");
              if (oom) {
                f.rows.push_back(Row{label, "out of memory", "out of memory", Verdict::Holds, short_problem(o)});
              } else if (o.ok()) {
                const sim::MemoryPeak fb = fullest_framebuffer(o);
                f.rows.push_back(
                    Row{label, "runs", "out of memory", Verdict::Off,
                        fmt::format("peak {} of {} in the fullest framebuffer", gib(static_cast<double>(fb.peak_bytes)),
                                    gib(static_cast<double>(fb.capacity_bytes)))});
                some_off = true;
              } else {
                f.rows.push_back(failed_row(label, "out of memory", o));
              }
            }
            if (some_off)
              f.discussion =
                  "The model allocates exactly the instances the mapped tasks need and frees them as soon as no "
                  "valid data or later reader remains (and after each task_4 with CollectMemory). The real runtime "
                  "needs more framebuffer than that: Realm reserves part of it for its own DMA buffers and cuBLAS "
                  "for its workspace, instances are deleted lazily (after the operations that may still use them "
                  "are known to have finished, not when the last one does), and the default mapper's instances for "
                  "tiles that moved between GPUs stay until memory pressure makes it collect them. Those margins are "
                  "not modelled, so runs that peak close to the capacity here (see the peaks above) fit in the "
                  "model but did not in reality. Runs that do exceed it fail as they did.";
            return f;
          }};
}

const std::vector<FactSpec>& specs() {
  static const std::vector<FactSpec> list = {circuit_framebuffer(), stencil_default(), dgemm_layout(),
                                             lassen_anchors(),      all_cpu(),         default_placement_oom()};
  return list;
}

std::string cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

const std::vector<std::string>& fact_ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v;
    for (const FactSpec& s : specs()) v.push_back(s.id);
    return v;
  }();
  return ids;
}

Report run(const Options& options) {
  for (const std::string& id : options.only)
    if (std::find(fact_ids().begin(), fact_ids().end(), id) == fact_ids().end())
      throw std::invalid_argument(fmt::format("unknown fact '{}' (facts: {})", id, fmt::join(fact_ids(), ", ")));
  std::vector<const FactSpec*> chosen;
  for (const FactSpec& s : specs())
    if (options.only.empty() || std::find(options.only.begin(), options.only.end(), s.id) != options.only.end())
      chosen.push_back(&s);
  Runs runs;
  for (const FactSpec* s : chosen) s->plan(runs);
  runs.evaluate(options.workers, options.limits);
  Report report;
  for (const FactSpec* s : chosen) report.facts.push_back(s->judge(runs));
  return report;
}

std::string Report::markdown() const {
  std::string out =
      "# Calibration\n\n"
      "What the simulated runs reproduce of the published and measured results (BENCHMARKS.md, issue 4 §4).\n"
      "Produced by `build/mage calibrate --output docs/calibration.md`; every number below is simulated at the\n"
      "published scale and is deterministic. A row is *off (explained)* when it misses its target for a reason\n"
      "the fact's discussion gives, and *FAILS* otherwise.\n\n";
  out += "| fact | verdict |\n|---|---|\n";
  for (const Fact& f : facts) out += fmt::format("| {} | {} |\n", cell(f.title), to_string(f.verdict()));
  for (const Fact& f : facts) {
    out += fmt::format("\n## {}: {}\n\n{}\n\n", f.id, to_string(f.verdict()), f.title);
    out += fmt::format("How: {}\n\n", f.how);
    out += "| run | measured | target | verdict | note |\n|---|---|---|---|---|\n";
    for (const Row& r : f.rows)
      out += fmt::format("| {} | {} | {} | {} | {} |\n", cell(r.label), cell(r.measured), cell(r.target),
                         to_string(r.verdict), cell(r.note));
    if (!f.discussion.empty()) out += fmt::format("\n{}\n", f.discussion);
  }
  out += R"(
## What was set to match

These model parameters were chosen against the anchors above; everything else comes from
the hardware figures of BENCHMARKS.md.

| parameter | value | where | matched against |
|---|---|---|---|
| `calculate_new_currents` sustained share of fp32 peak | 0.55 | src/apps/circuit.cpp | Lassen circuit, all in the framebuffer: 1.04-1.15 s |
| DGEMM (`task_4`) sustained share of fp64 peak | 0.9 | src/apps/matmul.cpp | Lassen 1-node Cannon/SUMMA/PUMMA/Solomonik/Johnson: 26.8-28.3 TFLOP/s |
| GPU `remote_accesses_in_flight` | 8 | machines/*.toml | p100x4 circuit, all-framebuffer vs expert: 1.34x published |
| Lassen GPU to ZCMEM latency | 0.35 us | machines/lassen.toml | Lassen circuit expert 1.20-1.35 s (NVLink 2, against PCIe's 1 us on p100x4) |

InstanceLimit counts, as the published mapper does (DSL.md), the tasks of a kind launched
from one processor (the parent's) that are mapped and not finished: Legion runs one mapper
per processor, and the published expert mappers (`InstanceLimit task_4 1`, each task_4
launched by a task_5 on its own GPU) reach 27 TFLOP/s on a 4-GPU node, which a per-node
limit of one DGEMM at a time could not (one GPU of four busy: about a quarter of that).
)";
  return out;
}

}  // namespace mage::calibrate
