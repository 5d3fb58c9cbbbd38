#include "dsl/interpreter.h"

#include <fmt/format.h>

namespace mage::dsl {

namespace {

// Every evaluation error is worded by the catalogue (diagnostics.def).
template <typename... Args>
[[noreturn]] void fail(DiagId id, SourceLoc loc, const Args&... args) {
  throw EvalError{id, loc, fmt::format(fmt::runtime(diag_format(id)), args...)};
}

[[noreturn]] void type_error(SourceLoc loc, const std::string& message) { fail(DiagId::type_mismatch, loc, message); }

[[noreturn]] void overflow(SourceLoc loc, std::string_view what) { fail(DiagId::integer_overflow, loc, what); }

int64_t arith(Op op, int64_t a, int64_t b, SourceLoc loc) {
  int64_t r = 0;
  switch (op) {
    case Op::Add:
      if (__builtin_add_overflow(a, b, &r)) overflow(loc, "'+'");
      return r;
    case Op::Sub:
      if (__builtin_sub_overflow(a, b, &r)) overflow(loc, "'-'");
      return r;
    case Op::Mul:
      if (__builtin_mul_overflow(a, b, &r)) overflow(loc, "'*'");
      return r;
    case Op::Div:
    case Op::Mod:
      if (b == 0) fail(DiagId::division_by_zero, loc, op == Op::Div ? "division" : "modulo");
      if (a == INT64_MIN && b == -1) fail(DiagId::integer_overflow, loc, fmt::format("'{}'", op_spelling(op)));
      return op == Op::Div ? a / b : a % b;  // C++ truncates toward zero, as DSL.md says
    default:
      return 0;
  }
}

Tuple to_tuple(const std::vector<int64_t>& xs) {
  Tuple t;
  t.reserve(xs.size());
  for (int64_t x : xs) t.push_back(Value::of_int(x));
  return t;
}

// Where an expression's text begins (a binary expression's location is its operator).
SourceLoc start_loc(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Binary:
    case ExprKind::Ternary:
    case ExprKind::Call:
    case ExprKind::Index:
    case ExprKind::Member:
      return e.kids[0] ? start_loc(*e.kids[0]) : e.loc;
    default:
      return e.loc;
  }
}

}  // namespace

bool Interpreter::truth(const Value& v, SourceLoc loc, std::string_view what) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int() != 0;
  type_error(loc, fmt::format("{} needs a bool or an int, not {}", what, type_phrase(v)));
}

int64_t Interpreter::want_int(const Value& v, SourceLoc loc, std::string_view what) {
  if (!v.is_int()) type_error(loc, fmt::format("{} must be an int, not {}", what, type_phrase(v)));
  return v.as_int();
}

void Interpreter::run_top_level() {
  Frame top(static_cast<size_t>(unit_.resolution.top_frame_size));
  for (const auto& sp : unit_.module.stmts) {
    const Stmt& s = *sp;
    steps_ = 0;
    if (s.kind == StmtKind::Assign && s.global >= 0) {
      globals_[static_cast<size_t>(s.global)] = eval(*s.value, top);
    } else if (s.kind == StmtKind::Print) {
      run_print(s, top);
    }
  }
}

Value Interpreter::call(const Stmt& def, std::vector<Value> args, SourceLoc call_loc) {
  steps_ = 0;
  depth_ = 0;
  return call_function(def, std::move(args), call_loc, {});
}

void Interpreter::run_print(const Stmt& s, Frame& f) {
  std::vector<Value> values = eval_list(s.args, 0, f);  // '*t' gives one value per element
  size_t placeholders = 0;
  for (size_t p = s.format.find("{}"); p != std::string::npos; p = s.format.find("{}", p + 2)) ++placeholders;
  if (placeholders != values.size())
    fail(DiagId::print_value_count, s.loc, placeholders, placeholders == 1 ? "" : "s", values.size(),
         values.size() == 1 ? " is" : "s are");
  std::string out;
  size_t arg = 0;
  for (size_t i = 0; i < s.format.size(); ++i) {
    if (s.format[i] == '{' && i + 1 < s.format.size() && s.format[i + 1] == '}' && arg < values.size()) {
      out += show(values[arg++]);
      ++i;
    } else {
      out += s.format[i];
    }
  }
  log_.push_back(std::move(out));
}

Value Interpreter::call_function(const Stmt& def, std::vector<Value> args, SourceLoc loc,
                                 const std::vector<SourceLoc>& arg_locs) {
  if (args.size() != def.params.size())
    fail(DiagId::wrong_argument_count, loc, fmt::format("function '{}'", def.name), def.params.size(),
         def.params.size() == 1 ? "" : "s", args.size(), args.size() == 1 ? "was" : "were");
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& type = def.params[i].type;
    const Value& a = args[i];
    bool ok = type == "Task"     ? a.is_task()
              : type == "int"    ? a.is_int()
              : type == "bool"   ? a.is_bool()
              : type == "MSpace" ? a.is_space()
                                 : a.is_tuple();  // IPoint, ISpace
    if (!ok)
      fail(DiagId::wrong_argument_type, arg_locs.empty() ? loc : arg_locs[std::min(i, arg_locs.size() - 1)], i + 1,
           def.name,
           type == "Task"     ? "a task"
           : type == "int"    ? "an int"
           : type == "bool"   ? "a bool"
           : type == "MSpace" ? "a machine space"
                              : "a tuple",
           type_phrase(a));
  }
  if (++depth_ > limits_.call_depth) fail(DiagId::recursion_limit, loc, limits_.call_depth, def.name);
  Frame frame(static_cast<size_t>(std::max<int>(def.frame_size, static_cast<int>(args.size()))));
  for (size_t i = 0; i < args.size(); ++i) frame[i] = std::move(args[i]);
  for (const auto& sp : def.body) {
    const Stmt& s = *sp;
    switch (s.kind) {
      case StmtKind::Assign:
        frame[static_cast<size_t>(s.slot)] = eval(*s.value, frame);
        break;
      case StmtKind::Print:
        run_print(s, frame);
        break;
      case StmtKind::Return: {
        Value v = eval(*s.value, frame);
        --depth_;
        return v;
      }
      default:
        break;
    }
  }
  // The checker rejects functions without a return; kept for safety.
  fail(DiagId::missing_return, def.loc, def.name);
}

std::vector<Value> Interpreter::eval_list(const std::vector<ExprPtr>& kids, size_t from, Frame& f,
                                          std::vector<SourceLoc>* locs) {
  std::vector<Value> out;
  out.reserve(kids.size() - from);
  for (size_t i = from; i < kids.size(); ++i) {
    const Expr& k = *kids[i];
    if (k.kind == ExprKind::Unpack) {
      Value t = eval(*k.kids[0], f);
      if (!t.is_tuple()) type_error(k.loc, fmt::format("'*' unpacks a tuple, not {}", type_phrase(t)));
      for (const Value& x : t.as_tuple()) {
        out.push_back(x);
        if (locs) locs->push_back(k.loc);
      }
    } else if (k.kind == ExprKind::StarAll) {
      fail(DiagId::star_not_allowed, k.loc);
    } else {
      out.push_back(eval(k, f));
      if (locs) locs->push_back(start_loc(k));
    }
  }
  return out;
}

Value Interpreter::eval(const Expr& e, Frame& f) {
  if (++steps_ > limits_.steps) fail(DiagId::step_limit, e.loc, limits_.steps);
  switch (e.kind) {
    case ExprKind::Int:
      return Value::of_int(e.int_value);
    case ExprKind::Bool:
      return Value::of_bool(e.int_value != 0);
    case ExprKind::Name: {
      if (e.slot >= 0) return f[static_cast<size_t>(e.slot)];
      const Value& g = globals_[static_cast<size_t>(e.global)];
      if (!g.assigned()) {
        int line = 0;
        for (const auto& s : unit_.module.stmts)
          if (s->kind == StmtKind::Assign && s->global == e.global) line = s->loc.line;
        fail(DiagId::used_before_assignment, e.loc, e.name, line);
      }
      return g;
    }
    case ExprKind::Kind:
      type_error(e.loc, fmt::format("the processor kind {} can only be an argument of Machine()", e.name));
    case ExprKind::Unary: {
      Value v = eval(*e.kids[0], f);
      if (e.op == Op::Not) return Value::of_bool(!truth(v, e.loc, "'!'"));
      if (v.is_int()) return Value::of_int(arith(Op::Sub, 0, v.as_int(), e.loc));
      if (v.is_tuple()) {
        Tuple out;
        for (const Value& x : v.as_tuple())
          out.push_back(Value::of_int(arith(Op::Sub, 0, want_int(x, e.loc, "an element of a negated tuple"), e.loc)));
        return Value::of_tuple(std::move(out));
      }
      type_error(e.loc, fmt::format("unary '-' needs an int or a tuple, not {}", type_phrase(v)));
    }
    case ExprKind::Binary: {
      if (e.op == Op::And || e.op == Op::Or) {
        bool a = truth(eval(*e.kids[0], f), e.loc, e.op == Op::And ? "'&&'" : "'||'");
        if (e.op == Op::And && !a) return Value::of_bool(false);
        if (e.op == Op::Or && a) return Value::of_bool(true);
        return Value::of_bool(truth(eval(*e.kids[1], f), e.loc, e.op == Op::And ? "'&&'" : "'||'"));
      }
      Value a = eval(*e.kids[0], f);
      Value b = eval(*e.kids[1], f);
      return binary(e, a, b);
    }
    case ExprKind::Ternary:
      return truth(eval(*e.kids[0], f), e.loc, "'?:'") ? eval(*e.kids[1], f) : eval(*e.kids[2], f);
    case ExprKind::Call:
      return call_expr(e, f);
    case ExprKind::Index:
      return index(e, f);
    case ExprKind::Member:
      return member(e, eval(*e.kids[0], f));
    case ExprKind::Tuple:
      return Value::of_tuple(eval_list(e.kids, 0, f));
    case ExprKind::Comprehension: {
      Value iter = eval(*e.kids[1], f);
      if (!iter.is_tuple())
        type_error(e.kids[1]->loc, fmt::format("a comprehension iterates over a tuple, not {}", type_phrase(iter)));
      Tuple out;
      out.reserve(iter.as_tuple().size());
      size_t slot = static_cast<size_t>(e.slot);
      if (slot >= f.size()) f.resize(slot + 1);
      for (const Value& x : iter.as_tuple()) {
        f[slot] = x;
        out.push_back(eval(*e.kids[0], f));
      }
      return Value::of_tuple(std::move(out));
    }
    case ExprKind::Unpack:
      fail(DiagId::unpack_not_allowed, e.loc);
    case ExprKind::StarAll:
      fail(DiagId::star_not_allowed, e.loc);
    case ExprKind::Slice:
      type_error(e.loc, "a slice a:b is only allowed inside [ ]");
  }
  type_error(e.loc, "cannot evaluate this expression");
}

Value Interpreter::binary(const Expr& e, const Value& a, const Value& b) {
  switch (e.op) {
    case Op::Eq:
    case Op::Ne: {
      if (a.v.index() != b.v.index())
        type_error(e.loc, fmt::format("cannot compare {} with {}", type_phrase(a), type_phrase(b)));
      bool eq = values_equal(a, b);
      return Value::of_bool(e.op == Op::Eq ? eq : !eq);
    }
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      if (!a.is_int() || !b.is_int())
        type_error(e.loc,
                   fmt::format("'{}' compares ints, not {} and {}", op_spelling(e.op), type_phrase(a), type_phrase(b)));
      int64_t x = a.as_int(), y = b.as_int();
      bool r = e.op == Op::Lt ? x < y : e.op == Op::Le ? x <= y : e.op == Op::Gt ? x > y : x >= y;
      return Value::of_bool(r);
    }
    default:
      break;
  }
  // Arithmetic: int op int, or element-wise with tuples.
  if (a.is_int() && b.is_int()) return Value::of_int(arith(e.op, a.as_int(), b.as_int(), e.loc));
  auto elem = [&](const Value& v, size_t i) -> int64_t {
    const Value& x = v.is_tuple() ? v.as_tuple()[i] : v;
    return want_int(x, e.loc, fmt::format("an operand of '{}'", op_spelling(e.op)));
  };
  if ((a.is_tuple() || a.is_int()) && (b.is_tuple() || b.is_int())) {
    if (a.is_tuple() && b.is_tuple() && a.as_tuple().size() != b.as_tuple().size())
      fail(DiagId::tuple_length_mismatch, e.loc, op_spelling(e.op), a.as_tuple().size(), b.as_tuple().size());
    size_t n = a.is_tuple() ? a.as_tuple().size() : b.as_tuple().size();
    Tuple out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(Value::of_int(arith(e.op, elem(a, i), elem(b, i), e.loc)));
    return Value::of_tuple(std::move(out));
  }
  type_error(e.loc, fmt::format("'{}' needs ints or tuples, not {} and {}", op_spelling(e.op), type_phrase(a),
                                type_phrase(b)));
}

Value Interpreter::call_expr(const Expr& e, Frame& f) {
  const Expr& callee = *e.kids[0];
  if (callee.kind == ExprKind::Member) {
    Value base = eval(*callee.kids[0], f);
    return method(callee, base, eval_list(e.kids, 1, f), callee.loc);  // point at the method name
  }
  if (callee.kind == ExprKind::Name && callee.name == "Machine") {
    if (e.kids.size() != 2 || e.kids[1]->kind != ExprKind::Kind)
      type_error(e.loc, "Machine() takes one processor kind, e.g. Machine(GPU)");
    const ProcWord word = *parse_proc_word(e.kids[1]->name);
    const int64_t count = word.kind ? shape_.count(*word.kind) : 0;
    if (count <= 0 || shape_.ranks <= 0) fail(DiagId::no_machine_kind, e.loc, to_string(word));
    return Value::of_space(SpaceValue{*word.kind, MachineSpace::original(shape_.ranks, count)});
  }
  if (callee.kind == ExprKind::Name) {
    auto it = unit_.resolution.functions.find(callee.name);
    if (it != unit_.resolution.functions.end()) {
      std::vector<SourceLoc> arg_locs;
      std::vector<Value> args = eval_list(e.kids, 1, f, &arg_locs);
      return call_function(*it->second.def, std::move(args), callee.loc, arg_locs);
    }
  }
  type_error(callee.loc, "this expression is not a function");
}

Value Interpreter::method(const Expr& callee, const Value& base, std::vector<Value> args, SourceLoc loc) {
  const std::string& name = callee.name;
  auto arity = [&](size_t n) {
    if (args.size() != n)
      fail(DiagId::wrong_argument_count, loc, fmt::format("method '{}'", name), n, n == 1 ? "" : "s", args.size(),
           args.size() == 1 ? "was" : "were");
  };
  auto int_arg = [&](size_t i) { return want_int(args[i], loc, fmt::format("argument {} of '{}'", i + 1, name)); };
  auto shape_arg = [&](size_t i) {
    if (!args[i].is_tuple())
      type_error(loc, fmt::format("argument {} of '{}' must be a tuple, not {}", i + 1, name, type_phrase(args[i])));
    Shape s;
    for (const Value& x : args[i].as_tuple())
      s.push_back(want_int(x, loc, fmt::format("an element of argument {} of '{}'", i + 1, name)));
    return s;
  };
  if (base.is_task() && name == "processor") {
    arity(1);
    if (!args[0].is_space())
      type_error(loc, fmt::format("processor() takes a machine space, not {}", type_phrase(args[0])));
    const TaskView& t = base.as_task();
    const SpaceValue& m = args[0].as_space();
    if (!t.processor || !t.kind)
      type_error(loc, fmt::format("task {} has not been placed yet, so it has no processor", t.name));
    if (*t.kind != m.kind)
      type_error(loc, fmt::format("task {} runs on a {} processor, which is not in a Machine({}) space", t.name,
                                  to_string(*t.kind), to_string(m.kind)));
    auto p = m.space.point_of(*t.processor);
    if (!p.ok()) fail(DiagId::index_out_of_range, loc, p.error());
    return Value::of_tuple(to_tuple(p.value()));
  }
  if (!base.is_space()) fail(DiagId::unknown_method, callee.loc, type_phrase(base), name);
  const SpaceValue& sv = base.as_space();
  const MachineSpace& m = sv.space;
  Fallible<MachineSpace> r = MachineSpace{};
  if (name == "split") {
    arity(2);
    r = m.split(int_arg(0), int_arg(1));
  } else if (name == "merge") {
    arity(2);
    r = m.merge(int_arg(0), int_arg(1));
  } else if (name == "swap") {
    arity(2);
    r = m.swap(int_arg(0), int_arg(1));
  } else if (name == "slice") {
    arity(3);
    r = m.slice(int_arg(0), int_arg(1), int_arg(2));
  } else if (name == "reverse") {
    arity(1);
    r = m.reverse(int_arg(0));
  } else if (name == "balance_split") {
    arity(2);
    r = m.balance_split(int_arg(0), int_arg(1));
  } else if (name == "auto_split") {
    arity(2);
    r = m.auto_split(int_arg(0), shape_arg(1));
  } else if (name == "greedy_split") {
    arity(2);
    r = m.greedy_split(int_arg(0), shape_arg(1));
  } else
    fail(DiagId::unknown_method, callee.loc, "a machine space", name);
  if (!r.ok()) fail(DiagId::bad_transform, loc, r.error());
  return Value::of_space(SpaceValue{sv.kind, std::move(r.value())});
}

Value Interpreter::member(const Expr& e, const Value& base) {
  const std::string& name = e.name;
  if (base.is_tuple()) {
    const Tuple& t = base.as_tuple();
    if (name == "len") return Value::of_int(static_cast<int64_t>(t.size()));
    if (name == "size") return base;
    if (name == "volume") {
      int64_t v = 1;
      for (const Value& x : t) v = arith(Op::Mul, v, want_int(x, e.loc, "an element of a tuple's volume"), e.loc);
      return Value::of_int(v);
    }
  } else if (base.is_space()) {
    const MachineSpace& m = base.as_space().space;
    if (name == "size") return Value::of_tuple(to_tuple(m.size()));
    if (name == "len") return Value::of_int(m.dims());
    if (name == "volume") return Value::of_int(m.volume());
  } else if (base.is_task()) {
    const TaskView& t = base.as_task();
    if (name == "ipoint") return Value::of_tuple(to_tuple(t.ipoint));
    if (name == "ispace") return Value::of_tuple(to_tuple(t.ispace));
    if (name == "parent") {
      if (!t.parent) type_error(e.loc, fmt::format("task {} has no parent (it is the top-level task)", t.name));
      return Value::of_task(t.parent);
    }
  }
  fail(DiagId::unknown_property, e.loc, type_phrase(base), name);
}

Value Interpreter::index(const Expr& e, Frame& f) {
  Value base = eval(*e.kids[0], f);
  auto slice_of = [&](const Expr& s, const std::vector<int64_t>& seq) {
    int64_t n = static_cast<int64_t>(seq.size());
    auto bound = [&](const ExprPtr& k, int64_t dflt) {
      if (!k) return dflt;
      int64_t v = want_int(eval(*k, f), k->loc, "a slice bound");
      int64_t norm = v < 0 ? v + n : v;
      if (norm < 0 || norm > n)
        fail(DiagId::index_out_of_range, k->loc, fmt::format("slice bound {} out of range for length {}", v, n));
      return norm;
    };
    int64_t lo = bound(s.kids[0], 0);
    int64_t hi = bound(s.kids[1], n);
    std::vector<int64_t> out;
    for (int64_t i = lo; i < hi; ++i) out.push_back(seq[static_cast<size_t>(i)]);
    return out;
  };
  bool single_slice = e.kids.size() == 2 && e.kids[1]->kind == ExprKind::Slice;
  for (size_t i = 1; i < e.kids.size(); ++i)
    if (e.kids[i]->kind == ExprKind::Slice && !single_slice)
      type_error(e.kids[i]->loc, "a slice must be the only index");
  if (base.is_tuple()) {
    const Tuple& t = base.as_tuple();
    if (single_slice) {
      int64_t n = static_cast<int64_t>(t.size());
      std::vector<int64_t> idx(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
      Tuple out;
      for (int64_t i : slice_of(*e.kids[1], idx)) out.push_back(t[static_cast<size_t>(i)]);
      return Value::of_tuple(std::move(out));
    }
    std::vector<Value> items = eval_list(e.kids, 1, f);
    if (items.size() != 1) type_error(e.loc, fmt::format("a tuple takes one index, not {}", items.size()));
    int64_t i = want_int(items[0], e.kids[1]->loc, "a tuple index");
    int64_t n = static_cast<int64_t>(t.size());
    int64_t norm = i < 0 ? i + n : i;
    if (norm < 0 || norm >= n)
      fail(DiagId::index_out_of_range, e.kids[1]->loc,
           fmt::format("index {} out of range for a tuple of length {}", i, n));
    return t[static_cast<size_t>(norm)];
  }
  if (base.is_space()) {
    const SpaceValue& sv = base.as_space();
    if (single_slice) return Value::of_tuple(to_tuple(slice_of(*e.kids[1], sv.space.size())));
    std::vector<std::optional<int64_t>> pattern;
    std::vector<SourceLoc> locs;  // where each index came from, to point at the bad one
    bool any_star = false;
    for (size_t i = 1; i < e.kids.size(); ++i) {
      const Expr& k = *e.kids[i];
      if (k.kind == ExprKind::StarAll) {
        pattern.push_back(std::nullopt);
        locs.push_back(k.loc);
        any_star = true;
      } else if (k.kind == ExprKind::Unpack) {
        Value t = eval(*k.kids[0], f);
        if (!t.is_tuple()) type_error(k.loc, fmt::format("'*' unpacks a tuple, not {}", type_phrase(t)));
        for (const Value& x : t.as_tuple()) {
          pattern.push_back(want_int(x, k.loc, "a machine index"));
          locs.push_back(k.loc);
        }
      } else {
        pattern.push_back(want_int(eval(k, f), k.loc, "a machine index"));
        locs.push_back(start_loc(k));
      }
    }
    // Check each index here so the error points at the one that is wrong; the space's
    // own checks then never fail.
    const Shape& size = sv.space.size();
    if (pattern.size() != size.size())
      fail(DiagId::index_out_of_range, e.loc,
           fmt::format("a {}-D machine space takes {} indices, not {}", size.size(), size.size(), pattern.size()));
    for (size_t d = 0; d < pattern.size(); ++d) {
      if (!pattern[d]) continue;
      int64_t i = *pattern[d];
      if (i < 0)
        fail(DiagId::index_out_of_range, locs[d],
             fmt::format("negative index {} for dimension {} (use * for all processors)", i, d));
      if (i >= size[d])
        fail(DiagId::index_out_of_range, locs[d],
             fmt::format("index {} out of range for dimension {} of size {}", i, d, size[d]));
    }
    if (any_star) {
      auto r = sv.space.at_pattern(pattern);
      if (!r.ok()) fail(DiagId::index_out_of_range, e.loc, r.error());
      return Value::of_procs(ProcessorsValue{sv.kind, std::move(r.value()), true});
    }
    std::vector<int64_t> point;
    point.reserve(pattern.size());
    for (const auto& p : pattern) point.push_back(*p);
    auto r = sv.space.at(point);
    if (!r.ok()) fail(DiagId::index_out_of_range, e.loc, r.error());
    return Value::of_procs(ProcessorsValue{sv.kind, {r.value()}, false});
  }
  type_error(e.loc, fmt::format("{} cannot be indexed", type_phrase(base)));
}

}  // namespace mage::dsl
