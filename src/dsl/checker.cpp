#include "dsl/checker.h"

#include <fmt/format.h>
#include <algorithm>
#include <unordered_map>

namespace mage::dsl {

namespace {

// Types known without running the mapper.
enum class StaticType { Unknown, Int, Bool, Tuple, Space, Task, Processors };

std::string_view type_name(StaticType t) {
  switch (t) {
    case StaticType::Int:
      return "an int";
    case StaticType::Bool:
      return "a bool";
    case StaticType::Tuple:
      return "a tuple";
    case StaticType::Space:
      return "a machine space";
    case StaticType::Task:
      return "a task";
    case StaticType::Processors:
      return "a processor";
    case StaticType::Unknown:
      break;
  }
  return "a value";
}

StaticType param_type(const std::string& declared) {
  if (declared == "Task") return StaticType::Task;
  if (declared == "int") return StaticType::Int;
  if (declared == "bool") return StaticType::Bool;
  if (declared == "MSpace") return StaticType::Space;
  return StaticType::Tuple;  // IPoint, ISpace
}

std::string_view declared_type_phrase(const std::string& declared) {
  if (declared == "Task") return "a task";
  if (declared == "int") return "an int";
  if (declared == "bool") return "a bool";
  if (declared == "MSpace") return "a machine space";
  return "a tuple";
}

bool is_space_method(std::string_view name) {
  static const char* methods[] = {"split",   "merge",         "swap",       "slice",
                                  "reverse", "balance_split", "auto_split", "greedy_split"};
  return std::any_of(std::begin(methods), std::end(methods), [&](const char* m) { return name == m; });
}

class Checker {
 public:
  Checker(Module& m, DiagnosticSink& sink) : m_(m), sink_(sink) {}

  Resolution run() {
    declare_globals_and_functions();
    for (size_t i = 0; i < m_.stmts.size(); ++i) {
      order_ = i;
      Stmt& s = *m_.stmts[i];
      check_top(s);
    }
    check_shadowed_rules();
    res_.top_frame_size = top_frame_size_;
    return std::move(res_);
  }

 private:
  Module& m_;
  DiagnosticSink& sink_;
  Resolution res_;
  size_t order_ = 0;
  std::map<std::string, size_t, std::less<>> global_order_;  // name -> statement index of assignment
  std::map<std::string, StaticType, std::less<>> global_types_;

  // Function-local scope while checking a body.
  struct Scope {
    std::unordered_map<std::string, int> slots;
    std::unordered_map<std::string, StaticType> types;
    int next_slot = 0;
    int max_slots = 0;
  };
  Scope* scope_ = nullptr;
  const Stmt* current_function_ = nullptr;
  int top_frame_size_ = 0;
  // Comprehension variables in scope (innermost last): name, slot.
  std::vector<std::pair<std::string, int>> comp_vars_;

  void declare_globals_and_functions() {
    for (size_t i = 0; i < m_.stmts.size(); ++i) {
      Stmt& s = *m_.stmts[i];
      if (s.kind == StmtKind::Def) {
        auto [it, fresh] = res_.functions.try_emplace(s.name, FunctionInfo{&s, i});
        if (!fresh) sink_.report(DiagId::function_redefined, s.name_loc, s.name, it->second.def->loc.line);
      }
    }
    for (size_t i = 0; i < m_.stmts.size(); ++i) {
      Stmt& s = *m_.stmts[i];
      if (s.kind != StmtKind::Assign) continue;
      if (res_.functions.count(s.name)) {
        sink_.report(DiagId::name_is_function, s.loc, s.name);
        continue;
      }
      auto it = global_order_.find(s.name);
      if (it != global_order_.end()) {
        sink_.report(DiagId::global_assigned_twice, s.loc, s.name, m_.stmts[it->second]->loc.line);
        continue;
      }
      global_order_[s.name] = i;
      s.global = static_cast<int>(res_.global_names.size());
      res_.globals[s.name] = s.global;
      res_.global_names.push_back(s.name);
    }
  }

  void check_top(Stmt& s) {
    switch (s.kind) {
      case StmtKind::Assign:
        if (s.value) {
          StaticType t = expr(*s.value);
          if (s.global >= 0) global_types_[s.name] = t;
        }
        break;
      case StmtKind::Print:
        print_stmt(s);
        break;
      case StmtKind::Def:
        def(s);
        break;
      case StmtKind::InstanceLimit:
        if (s.limit < 1) sink_.report(DiagId::invalid_instance_limit, s.name_loc, s.limit);
        break;
      case StmtKind::LayoutRule:
        layout_rule(s);
        break;
      case StmtKind::IndexTaskMap:
      case StmtKind::SingleTaskMap:
        map_stmt(s);
        break;
      default:
        break;
    }
  }

  // One rule's constraints must agree: one of SOA/AOS, one of C_order/F_order, no No_Align
  // beside an alignment asked for, one value for Align==; and an alignment is a power of two.
  void layout_rule(const Stmt& s) {
    auto spelling = [](const LayoutConstraint& c) {
      return c.word == "Align" ? fmt::format("Align{}{}", op_spelling(c.align_op), c.align_value) : c.word;
    };
    auto asks_alignment = [](const LayoutConstraint& c) {
      return c.word == "Align" && (c.align_op == Op::Eq || c.align_op == Op::Ge || c.align_op == Op::Gt);
    };
    auto group = [&](const LayoutConstraint& c) -> int {
      if (c.word == "SOA" || c.word == "AOS") return 0;
      if (c.word == "C_order" || c.word == "F_order") return 1;
      if (c.word == "No_Align" || asks_alignment(c)) return 2;
      return -1;
    };
    for (size_t i = 0; i < s.constraints.size(); ++i) {
      const LayoutConstraint& c = s.constraints[i];
      if (c.word == "Align" && (c.align_value < 1 || (c.align_value & (c.align_value - 1)) != 0)) {
        sink_.report(DiagId::alignment_not_power_of_two, c.loc, c.align_value);
        continue;
      }
      const int g = group(c);
      if (g < 0) continue;
      for (size_t j = 0; j < i; ++j) {
        const LayoutConstraint& d = s.constraints[j];
        if (group(d) != g || spelling(d) == spelling(c)) continue;
        // Align>=64 beside Align==128 asks for both; only different exact values contradict.
        if (g == 2 && c.word == "Align" && d.word == "Align" && (c.align_op != Op::Eq || d.align_op != Op::Eq))
          continue;
        sink_.report(DiagId::contradictory_layout, c.loc, spelling(c), spelling(d), d.loc.col);
        break;
      }
    }
  }

  void map_stmt(const Stmt& s) {
    auto keyword = stmt_keyword(s.kind);
    auto it = res_.functions.find(s.name);
    if (it == res_.functions.end()) {
      if (res_.globals.count(s.name))
        sink_.report(DiagId::map_target_not_function, s.name_loc, keyword, s.name);
      else
        sink_.report(DiagId::unknown_function, s.name_loc, s.name);
      return;
    }
    const Stmt& f = *it->second.def;
    if (f.params.size() != 1 || f.params[0].type != "Task")
      sink_.report(DiagId::map_function_signature, s.name_loc, keyword, s.name, s.name);
  }

  void print_stmt(const Stmt& s) {
    size_t placeholders = 0;
    for (size_t p = s.format.find("{}"); p != std::string::npos; p = s.format.find("{}", p + 2)) ++placeholders;
    bool unpacks =
        std::any_of(s.args.begin(), s.args.end(), [](const ExprPtr& a) { return a->kind == ExprKind::Unpack; });
    if (!unpacks && placeholders != s.args.size())
      sink_.report(DiagId::print_placeholder_count, s.loc, placeholders, placeholders == 1 ? "" : "s", s.args.size(),
                   s.args.size() == 1 ? " is" : "s are");
    for (const auto& a : s.args) expr(*a);
  }

  void def(Stmt& s) {
    Scope scope;
    scope_ = &scope;
    current_function_ = &s;
    for (const auto& p : s.params) {
      if (scope.slots.count(p.name)) {
        sink_.report(DiagId::duplicate_parameter, p.loc, p.name);
        continue;
      }
      scope.slots[p.name] = scope.next_slot++;
      scope.types[p.name] = param_type(p.type);
    }
    bool returned = false;
    bool warned = false;
    for (auto& b : s.body) {
      if (returned && !warned) {
        sink_.report(DiagId::unreachable_code, b->loc);
        warned = true;
      }
      switch (b->kind) {
        case StmtKind::Assign: {
          StaticType t = b->value ? expr(*b->value) : StaticType::Unknown;
          auto [it, fresh] = scope.slots.try_emplace(b->name, scope.next_slot);
          if (fresh) ++scope.next_slot;
          b->slot = it->second;
          scope.types[b->name] = t;
          break;
        }
        case StmtKind::Return:
          if (b->value) expr(*b->value);
          returned = true;
          break;
        case StmtKind::Print:
          print_stmt(*b);
          break;
        default:
          break;
      }
    }
    // A body with a syntax error may have lost its return: don't pile on.
    if (!returned && !s.had_syntax_error) sink_.report(DiagId::missing_return, s.name_loc, s.name);
    s.frame_size = std::max(scope.next_slot, scope.max_slots);
    scope_ = nullptr;
    current_function_ = nullptr;
  }

  int new_comp_slot() {
    if (scope_) {
      int slot = scope_->next_slot + static_cast<int>(comp_vars_.size());
      scope_->max_slots = std::max(scope_->max_slots, slot + 1);
      return slot;
    }
    int slot = static_cast<int>(comp_vars_.size());
    top_frame_size_ = std::max(top_frame_size_, slot + 1);
    return slot;
  }

  StaticType name_expr(Expr& e) {
    for (auto it = comp_vars_.rbegin(); it != comp_vars_.rend(); ++it) {
      if (it->first == e.name) {
        e.slot = it->second;
        return StaticType::Unknown;
      }
    }
    if (scope_) {
      auto it = scope_->slots.find(e.name);
      if (it != scope_->slots.end()) {
        e.slot = it->second;
        return scope_->types[e.name];
      }
    }
    auto g = res_.globals.find(e.name);
    if (g != res_.globals.end()) {
      e.global = g->second;
      size_t assigned_at = global_order_[e.name];
      // At top level a global must be assigned before use; functions run later.
      if (!scope_ && assigned_at >= order_)
        sink_.report(DiagId::used_before_assignment, e.loc, e.name, m_.stmts[assigned_at]->loc.line);
      auto t = global_types_.find(e.name);
      return t == global_types_.end() ? StaticType::Unknown : t->second;
    }
    if (res_.functions.count(e.name))
      sink_.report(DiagId::function_as_value, e.loc, e.name);
    else
      sink_.report(DiagId::unknown_name, e.loc, e.name);
    return StaticType::Unknown;
  }

  StaticType call_expr(Expr& e) {
    Expr& callee = *e.kids[0];
    if (callee.kind == ExprKind::Name && callee.name == "Machine" && !res_.functions.count("Machine")) {
      if (e.kids.size() != 2 || e.kids[1]->kind != ExprKind::Kind)
        sink_.report(DiagId::machine_needs_kind, e.kids.size() >= 2 ? e.kids[1]->loc : callee.loc);
      return StaticType::Space;
    }
    bool has_unpack = false;
    std::vector<StaticType> arg_types;
    for (size_t i = 1; i < e.kids.size(); ++i) {
      if (e.kids[i]->kind == ExprKind::Unpack) has_unpack = true;
      arg_types.push_back(expr(*e.kids[i]));
    }
    if (callee.kind == ExprKind::Member) {
      StaticType base = expr(*callee.kids[0]);
      if (callee.name == "processor") return StaticType::Tuple;
      if (is_space_method(callee.name) && (base == StaticType::Space || base == StaticType::Unknown))
        return StaticType::Space;
      return StaticType::Unknown;
    }
    if (callee.kind != ExprKind::Name) {
      expr(callee);
      sink_.report(DiagId::not_callable, callee.loc, print_callee(callee));
      return StaticType::Unknown;
    }
    if (callee.name == "Machine") {
      if (e.kids.size() != 2 || e.kids[1]->kind != ExprKind::Kind)
        sink_.report(DiagId::machine_needs_kind, e.kids.size() == 2 ? e.kids[1]->loc : callee.loc);
      return StaticType::Space;
    }
    auto f = res_.functions.find(callee.name);
    if (f == res_.functions.end()) {
      bool is_value = res_.globals.count(callee.name) || (scope_ && scope_->slots.count(callee.name));
      if (is_value)
        sink_.report(DiagId::not_callable, callee.loc, callee.name);
      else
        sink_.report(DiagId::unknown_function, callee.loc, callee.name);
      return StaticType::Unknown;
    }
    const Stmt& def = *f->second.def;
    bool self_call = current_function_ == &def;
    if (!self_call && f->second.order >= order_)
      sink_.report(DiagId::used_before_definition, callee.loc, callee.name, def.loc.line);
    if (!has_unpack) {
      size_t want = def.params.size();
      size_t got = arg_types.size();
      if (want != got) {
        sink_.report(DiagId::wrong_argument_count, callee.loc, "function '" + callee.name + "'", want,
                     want == 1 ? "" : "s", got, got == 1 ? "was" : "were");
      } else {
        for (size_t i = 0; i < want; ++i) {
          StaticType have = arg_types[i];
          if (have != StaticType::Unknown && have != param_type(def.params[i].type))
            sink_.report(DiagId::wrong_argument_type, e.kids[i + 1]->loc, i + 1, callee.name,
                         declared_type_phrase(def.params[i].type), type_name(have));
        }
      }
    }
    return StaticType::Unknown;
  }

  static std::string print_callee(const Expr& e) { return e.kind == ExprKind::Name ? e.name : "this expression"; }

  StaticType expr(Expr& e) {
    switch (e.kind) {
      case ExprKind::Int:
        return StaticType::Int;
      case ExprKind::Bool:
        return StaticType::Bool;
      case ExprKind::Name:
        return name_expr(e);
      case ExprKind::Kind:
        return StaticType::Unknown;
      case ExprKind::Unary: {
        StaticType t = expr(*e.kids[0]);
        return e.op == Op::Not ? StaticType::Bool : t;
      }
      case ExprKind::Binary: {
        StaticType a = expr(*e.kids[0]);
        StaticType b = expr(*e.kids[1]);
        switch (e.op) {
          case Op::Eq:
          case Op::Ne:
          case Op::Lt:
          case Op::Le:
          case Op::Gt:
          case Op::Ge:
          case Op::And:
          case Op::Or:
            return StaticType::Bool;
          default:
            if (a == StaticType::Tuple || b == StaticType::Tuple) return StaticType::Tuple;
            if (a == StaticType::Int && b == StaticType::Int) return StaticType::Int;
            return StaticType::Unknown;
        }
      }
      case ExprKind::Ternary: {
        expr(*e.kids[0]);
        StaticType a = expr(*e.kids[1]);
        StaticType b = expr(*e.kids[2]);
        return a == b ? a : StaticType::Unknown;
      }
      case ExprKind::Call:
        return call_expr(e);
      case ExprKind::Index: {
        StaticType base = StaticType::Unknown;
        base = expr(*e.kids[0]);
        bool slice = false;
        for (size_t i = 1; i < e.kids.size(); ++i) {
          if (e.kids[i]->kind == ExprKind::Slice) slice = true;
          if (e.kids[i]->kind != ExprKind::StarAll) expr(*e.kids[i]);
        }
        if (slice) return StaticType::Tuple;
        if (base == StaticType::Space) return StaticType::Processors;
        return StaticType::Unknown;
      }
      case ExprKind::Slice:
        for (auto& k : e.kids)
          if (k) expr(*k);
        return StaticType::Tuple;
      case ExprKind::Member: {
        StaticType base = expr(*e.kids[0]);
        if (e.name == "ipoint" || e.name == "ispace" || e.name == "size") return StaticType::Tuple;
        if (e.name == "len" || e.name == "volume") return StaticType::Int;
        if (e.name == "parent" && base == StaticType::Task) return StaticType::Task;
        return StaticType::Unknown;
      }
      case ExprKind::Tuple:
        for (auto& k : e.kids) expr(*k);
        return StaticType::Tuple;
      case ExprKind::Comprehension: {
        expr(*e.kids[1]);
        e.slot = new_comp_slot();
        comp_vars_.emplace_back(e.name, e.slot);
        expr(*e.kids[0]);
        comp_vars_.pop_back();
        return StaticType::Tuple;
      }
      case ExprKind::Unpack:
        expr(*e.kids[0]);
        return StaticType::Unknown;
      case ExprKind::StarAll:
        return StaticType::Unknown;
    }
    return StaticType::Unknown;
  }

  // Later rules with the key of an earlier one never apply: warn, naming the key and the
  // earlier line.
  void check_shadowed_rules() {
    std::map<std::string, int> seen;
    auto kt = [](const Key& k) { return k.kind == Key::Kind::Star ? std::string("*") : k.text; };
    auto note = [&](const std::string& key, const std::string& what, const Stmt& s, SourceLoc loc) {
      auto [it, fresh] = seen.try_emplace(std::string(stmt_keyword(s.kind)) + " " + key, s.loc.line);
      std::string_view kw = stmt_keyword(s.kind);
      std::string rule = (kw[0] == 'I' ? "an " : "a ") + std::string(kw);
      if (!fresh) sink_.report(DiagId::shadowed_rule, loc, what, rule, it->second);
    };
    for (const auto& sp : m_.stmts) {
      const Stmt& s = *sp;
      if (keyed_by_task_names(s.kind)) {
        for (const auto& k : s.keys) note(kt(k), fmt::format("'{}'", kt(k)), s, k.loc);
      } else if (keyed_by_task_and_region(s.kind)) {
        // CollectMemory has no kind slot: its `proc` key is empty.
        std::string key = fmt::format("{} {}", kt(s.task), kt(s.region));
        if (s.kind != StmtKind::CollectMemory) key += fmt::format(" {}", kt(s.proc));
        note(key, fmt::format("'{}'", key), s, s.task.loc);
      }
    }
  }
};

}  // namespace

Resolution check(Module& m, DiagnosticSink& sink) { return Checker(m, sink).run(); }

void check_names(const Module& m, const std::set<std::string, std::less<>>& tasks,
                 const std::set<std::string, std::less<>>& regions, DiagnosticSink& sink) {
  auto task = [&](const Key& k) {
    if (k.kind == Key::Kind::Name && !tasks.count(k.text)) sink.report(DiagId::unknown_task, k.loc, k.text);
  };
  auto region = [&](const Key& k) {
    if (k.kind == Key::Kind::Name && !regions.count(k.text)) sink.report(DiagId::unknown_region, k.loc, k.text);
  };
  for (const auto& sp : m.stmts) {
    const Stmt& s = *sp;
    if (keyed_by_task_names(s.kind)) {
      for (const auto& k : s.keys) task(k);
    } else if (keyed_by_task_and_region(s.kind)) {
      task(s.task);
      region(s.region);
    }
  }
}

}  // namespace mage::dsl
