// compile(), Mapper::bind() and the rule queries of DSL.md's "Which rule applies".
#include <fmt/format.h>
#include <algorithm>

#include "dsl/dsl.h"
#include "dsl/interpreter.h"
#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/unit.h"

namespace mage::dsl {

std::string_view to_string(ProcWord w) { return w.kind ? kinds::to_string(*w.kind) : "PROC"; }
std::string_view to_string(MemWord w) { return w.kind ? kinds::to_string(*w.kind) : "VIRTUAL"; }

std::optional<ProcWord> parse_proc_word(std::string_view s) {
  if (s == to_string(ProcWord::proc())) return ProcWord::proc();
  if (auto k = kinds::parse_proc_kind(s)) return ProcWord(*k);
  return std::nullopt;
}

std::optional<MemWord> parse_mem_word(std::string_view s) {
  if (s == to_string(MemWord::virtual_memory())) return MemWord::virtual_memory();
  if (auto k = kinds::parse_mem_kind(s)) return MemWord(*k);
  return std::nullopt;
}

namespace {

std::string key_name(const Key& k) { return k.kind == Key::Kind::Star ? "*" : k.text; }

LayoutChoice layout_of(const std::vector<LayoutConstraint>& cs, int line) {
  LayoutChoice choice;
  choice.rule_line = line;
  kinds::Layout& l = choice.layout;
  bool no_align = false;
  for (const auto& c : cs) {
    if (auto fields = kinds::parse_field_layout(c.word))
      l.fields = *fields;
    else if (auto order = kinds::parse_dim_order(c.word))
      l.order = *order;
    else if (c.word == "Compact")
      l.compact = true;
    else if (c.word == "Exact")
      l.exact = true;
    else if (c.word == "No_Align")
      no_align = true;
    else if (c.word == "Align" && (c.align_op == Op::Eq || c.align_op == Op::Ge || c.align_op == Op::Gt))
      l.alignment = c.align_value;
  }
  if (no_align) l.alignment = 0;
  return choice;
}

bool region_matches(const Key& k, const ArgumentView& arg) {
  if (k.kind == Key::Kind::Index) return k.index == arg.index;
  for (const auto& n : arg.names)
    if (n == k.text) return true;
  return false;
}

// The four levels of DSL.md, in order: (task, region), (task, *), (*, region), (*, *).
template <typename Rule>
int rule_level(const Rule& r, std::string_view task, const ArgumentView& arg) {
  bool task_exact = r.task.kind != Key::Kind::Star;
  bool region_exact = r.region.kind != Key::Kind::Star;
  if (task_exact && r.task.text != task) return -1;
  if (region_exact && !region_matches(r.region, arg)) return -1;
  return (task_exact ? 0 : 2) + (region_exact ? 0 : 1);
}

// Visits the rules matching (task, arg) in DSL.md's order: the four levels, and within a
// level the rules whose kind slot (`kind_of(rule)`) names a matching kind before the `*`
// ones, each group in source order. `visit` returns true to stop.
template <typename Rule, typename KindOf, typename KindMatches, typename Visit>
void visit_in_order(const std::vector<Rule>& rules, std::string_view task, const ArgumentView& arg, KindOf kind_of,
                    KindMatches kind_matches, Visit visit) {
  for (int level = 0; level < 4; ++level) {
    for (bool exact : {true, false}) {
      for (const Rule& r : rules) {
        if (rule_level(r, task, arg) != level) continue;
        const Key& k = kind_of(r);
        if ((k.kind != Key::Kind::Star) != exact) continue;
        if (exact && !kind_matches(k.text)) continue;
        if (visit(r)) return;
      }
    }
  }
}

// The entry for `name`, else the `*` entry, else end().
template <typename Map>
auto find_exact_or_star(const Map& map, std::string_view name) {
  auto it = map.find(name);
  return it != map.end() ? it : map.find("*");
}

std::string point_text(const std::vector<int64_t>& p) {
  std::string out = "(";
  for (size_t i = 0; i < p.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(p[i]);
  }
  out += ')';
  return out;
}

}  // namespace

void Unit::build_rule_tables() {
  for (const auto& sp : module.stmts) {
    const Stmt& s = *sp;
    switch (s.kind) {
      case StmtKind::TaskRule: {
        std::vector<ProcWord> kinds;
        for (const auto& k : s.kinds) kinds.push_back(*parse_proc_word(k));
        for (const auto& k : s.keys) task_rules.try_emplace(key_name(k), kinds, s.loc);
        break;
      }
      case StmtKind::RegionRule: {
        bool dup = false;
        for (const auto& r : memory_rules) dup |= r.task == s.task && r.region == s.region && r.proc == s.proc;
        if (dup) break;
        MemoryRule r{s.task, s.region, s.proc, {}, s.loc};
        for (const auto& k : s.kinds) r.memories.push_back(*parse_mem_word(k));
        memory_rules.push_back(std::move(r));
        break;
      }
      case StmtKind::LayoutRule: {
        bool dup = false;
        for (const auto& r : layout_rules) dup |= r.task == s.task && r.region == s.region && r.kind == s.proc;
        if (!dup) layout_rules.push_back(LayoutRule{s.task, s.region, s.proc, layout_of(s.constraints, s.loc.line)});
        break;
      }
      case StmtKind::InstanceLimit:
        for (const auto& k : s.keys) instance_limits.try_emplace(key_name(k), s.limit);
        break;
      case StmtKind::CollectMemory:
        collect_rules.push_back(CollectRule{s.task, s.region});
        break;
      case StmtKind::ControlReplicate:
        for (const auto& k : s.keys) control_replicated.insert(key_name(k));
        break;
      case StmtKind::IndexTaskMap:
        for (const auto& k : s.keys) index_maps.try_emplace(key_name(k), MapRule{s.name, s.loc.line});
        break;
      case StmtKind::SingleTaskMap:
        for (const auto& k : s.keys) single_maps.try_emplace(key_name(k), MapRule{s.name, s.loc.line});
        break;
      default:
        break;
    }
  }
}

CompileResult compile(const SourceFile& source) {
  auto unit = std::make_shared<Unit>();
  unit->source = source;
  DiagnosticSink sink(source.name);
  unit->module = parse(unit->source, sink);
  // After the parser gave up, most of the file is unchecked: report nothing more.
  if (!unit->module.stopped_early) unit->resolution = check(unit->module, sink);
  CompileResult result;
  // Statements dropped by the parser's error recovery make the tables incomplete.
  if (!sink.has_errors()) {
    unit->build_rule_tables();
    result.unit = std::move(unit);
  }
  result.diagnostics = sink.take();
  // Separate passes find problems out of order; report them in source order.
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.id == DiagId::too_many_errors || b.id == DiagId::too_many_errors)
      return b.id == DiagId::too_many_errors && a.id != b.id;
    return a.loc.line < b.loc.line || (a.loc.line == b.loc.line && a.loc.col < b.loc.col);
  });
  return result;
}

std::vector<Diagnostic> check_names(const Unit& unit, const std::set<std::string, std::less<>>& tasks,
                                    const std::set<std::string, std::less<>>& regions) {
  DiagnosticSink sink(unit.source.name);
  check_names(unit.module, tasks, regions, sink);
  return sink.take();
}

const SourceFile& source_of(const Unit& unit) { return unit.source; }
std::string canonical_text(const Unit& unit) { return print(unit.module); }

struct Mapper::State {
  std::vector<Value> globals;
  std::vector<std::string> log;
};

namespace {
Diagnostic to_diagnostic(const EvalError& e, const std::string& file) {
  return Diagnostic{e.id, diag_severity(e.id), file, e.loc, e.message, {}};
}
}  // namespace

BindResult Mapper::bind(std::shared_ptr<const Unit> unit, const MachineShape& shape, EvalLimits limits) {
  BindResult result;
  Mapper m;
  m.unit_ = std::move(unit);
  m.shape_ = shape;
  m.limits_ = limits;
  m.state_ = std::make_shared<State>();
  m.state_->globals.resize(m.unit_->resolution.global_names.size());
  try {
    Interpreter(*m.unit_, m.shape_, m.limits_, m.state_->globals, m.state_->log).run_top_level();
  } catch (const EvalError& e) {
    result.diagnostics.push_back(to_diagnostic(e, m.unit_->source.name));
    return result;
  }
  result.mapper = std::move(m);
  return result;
}

BindResult load_mapper(const SourceFile& source, const MachineShape& shape, EvalLimits limits) {
  CompileResult c = compile(source);
  if (!c.unit) return BindResult{std::nullopt, std::move(c.diagnostics)};
  BindResult b = Mapper::bind(c.unit, shape, limits);
  c.diagnostics.insert(c.diagnostics.end(), b.diagnostics.begin(), b.diagnostics.end());
  b.diagnostics = std::move(c.diagnostics);
  return b;
}

const std::vector<std::string>& Mapper::log() const { return state_->log; }

std::vector<ProcWord> Mapper::processor_kinds(std::string_view task) const {
  auto it = find_exact_or_star(unit_->task_rules, task);
  return it == unit_->task_rules.end() ? std::vector<ProcWord>{} : it->second.first;
}

SourceLoc Mapper::task_rule_loc(std::string_view task) const {
  auto it = find_exact_or_star(unit_->task_rules, task);
  return it == unit_->task_rules.end() ? SourceLoc{} : it->second.second;
}

std::vector<Mapper::MemoryCandidate> Mapper::memory_candidates(std::string_view task, const ArgumentView& arg,
                                                               kinds::ProcKind proc) const {
  std::vector<MemoryCandidate> out;
  visit_in_order(
      unit_->memory_rules, task, arg, [](const MemoryRule& r) -> const Key& { return r.proc; },
      [&](const std::string& k) { return k == kinds::to_string(proc); },
      [&](const MemoryRule& r) {
        for (MemWord m : r.memories)
          if (std::none_of(out.begin(), out.end(), [&](const MemoryCandidate& c) { return c.memory == m; }))
            out.push_back(MemoryCandidate{m, r.loc});
        return false;
      });
  return out;
}

std::vector<MemWord> Mapper::memory_priority(std::string_view task, const ArgumentView& arg,
                                             kinds::ProcKind proc) const {
  std::vector<MemWord> out;
  for (const MemoryCandidate& c : memory_candidates(task, arg, proc)) out.push_back(c.memory);
  return out;
}

LayoutChoice Mapper::layout(std::string_view task, const ArgumentView& arg, kinds::MemKind mem,
                            kinds::ProcKind proc) const {
  LayoutChoice found;
  visit_in_order(
      unit_->layout_rules, task, arg, [](const LayoutRule& r) -> const Key& { return r.kind; },
      [&](const std::string& k) { return k == kinds::to_string(mem) || k == kinds::to_string(proc); },
      [&](const LayoutRule& r) {
        found = r.layout;
        return true;
      });
  return found;
}

std::optional<int64_t> Mapper::instance_limit(std::string_view task) const {
  auto it = find_exact_or_star(unit_->instance_limits, task);
  if (it == unit_->instance_limits.end()) return std::nullopt;
  return it->second;
}

bool Mapper::collect_memory(std::string_view task, const ArgumentView& arg) const {
  for (const auto& r : unit_->collect_rules)
    if (rule_level(r, task, arg) >= 0) return true;
  return false;
}

bool Mapper::control_replicated(std::string_view task) const {
  return unit_->control_replicated.count(task) || unit_->control_replicated.count("*");
}

PlacementResult Mapper::place(const TaskView& task, kinds::ProcKind kind, bool index_launch) const {
  const auto& maps = index_launch ? unit_->index_maps : unit_->single_maps;
  auto it = maps.find(task.name);
  if (it == maps.end()) it = maps.find(kinds::to_string(kind));
  if (it == maps.end()) it = maps.find("*");
  PlacementResult result;
  if (it == maps.end()) return result;
  result.has_rule = true;
  result.function = it->second.function;
  result.rule_line = it->second.line;
  const Stmt& def = *unit_->resolution.functions.at(it->second.function).def;
  const std::string& file = unit_->source.name;
  auto context = [&] {
    return fmt::format(" (task {}, point {}, in {})", task.name, point_text(task.ipoint), def.name);
  };
  SourceLoc rule_loc{it->second.line, 1};
  // Results are blamed on the returned expression (a body has one reachable return).
  SourceLoc return_loc = def.name_loc;
  for (const auto& b : def.body)
    if (b->kind == StmtKind::Return) {
      return_loc = b->value->loc;
      for (const Expr* x = b->value.get();
           x && !x->kids.empty() && x->kids[0] &&
           (x->kind == ExprKind::Index || x->kind == ExprKind::Call || x->kind == ExprKind::Member ||
            x->kind == ExprKind::Binary || x->kind == ExprKind::Ternary);
           x = x->kids[0].get())
        return_loc = x->kids[0]->loc;
      break;
    }
  try {
    std::vector<Value> args{Value::of_task(&task)};
    Value v = Interpreter(*unit_, shape_, limits_, state_->globals, state_->log).call(def, std::move(args), rule_loc);
    if (!v.is_procs()) {
      result.error = Diagnostic{
          DiagId::bad_placement_result,
          Severity::Error,
          file,
          return_loc,
          fmt::format(fmt::runtime(diag_format(DiagId::bad_placement_result)), def.name, type_phrase(v)) + context(),
          {}};
      return result;
    }
    const ProcessorsValue& p = v.as_procs();
    if (p.kind != kind) {
      std::string what = p.is_set ? fmt::format("a set of {} processors", kinds::to_string(p.kind))
                                  : fmt::format("a {} processor", kinds::to_string(p.kind));
      result.error = Diagnostic{
          DiagId::wrong_processor_kind,
          Severity::Error,
          file,
          return_loc,
          fmt::format(fmt::runtime(diag_format(DiagId::wrong_processor_kind)), def.name, what, kinds::to_string(kind)) +
              context(),
          {}};
      return result;
    }
    result.placement = Placement{p.kind, p.procs, p.is_set};
  } catch (const EvalError& e) {
    Diagnostic d = to_diagnostic(e, file);
    d.message += context();
    result.error = std::move(d);
  }
  return result;
}

}  // namespace mage::dsl
