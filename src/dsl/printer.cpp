#include "dsl/printer.h"

#include <fmt/format.h>

namespace mage::dsl {

namespace {

constexpr int kPrecTernary = 0;
constexpr int kPrecUnary = 7;
constexpr int kPrecPostfix = 8;
constexpr int kPrecPrimary = 9;

int binary_precedence(Op op) {
  switch (op) {
    case Op::Or:
      return 1;
    case Op::And:
      return 2;
    case Op::Eq:
    case Op::Ne:
      return 3;
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
      return 4;
    case Op::Add:
    case Op::Sub:
      return 5;
    default:
      return 6;
  }
}

int precedence(const Expr& e) {
  switch (e.kind) {
    case ExprKind::Ternary:
      return kPrecTernary;
    case ExprKind::Binary:
      return binary_precedence(e.op);
    case ExprKind::Unary:
    case ExprKind::Unpack:
      return kPrecUnary;
    case ExprKind::Call:
    case ExprKind::Index:
    case ExprKind::Member:
      return kPrecPostfix;
    default:
      return kPrecPrimary;
  }
}

void print_expr_to(std::string& out, const Expr& e);

void print_child(std::string& out, const Expr& e, int min_prec) {
  if (precedence(e) < min_prec) {
    out += '(';
    print_expr_to(out, e);
    out += ')';
  } else {
    print_expr_to(out, e);
  }
}

void print_list(std::string& out, const std::vector<ExprPtr>& kids, size_t from) {
  for (size_t i = from; i < kids.size(); ++i) {
    if (i > from) out += ", ";
    print_expr_to(out, *kids[i]);
  }
}

void print_expr_to(std::string& out, const Expr& e) {
  switch (e.kind) {
    case ExprKind::Int:
      out += std::to_string(e.int_value);
      break;
    case ExprKind::Bool:
      out += e.int_value ? "True" : "False";
      break;
    case ExprKind::Name:
    case ExprKind::Kind:
      out += e.name;
      break;
    case ExprKind::Unary:
      out += op_spelling(e.op);
      // "- -x" must not print as "--x"; keep a space between two minus signs.
      if (e.op == Op::Neg && e.kids[0]->kind == ExprKind::Unary && e.kids[0]->op == Op::Neg) out += ' ';
      print_child(out, *e.kids[0], kPrecUnary);
      break;
    case ExprKind::Unpack:
      out += '*';
      print_child(out, *e.kids[0], kPrecUnary);
      break;
    case ExprKind::Binary: {
      int p = binary_precedence(e.op);
      print_child(out, *e.kids[0], p);
      out += fmt::format(" {} ", op_spelling(e.op));
      print_child(out, *e.kids[1], p + 1);
      break;
    }
    case ExprKind::Ternary:
      print_child(out, *e.kids[0], kPrecTernary + 1);
      out += " ? ";
      print_expr_to(out, *e.kids[1]);
      out += " : ";
      print_expr_to(out, *e.kids[2]);
      break;
    case ExprKind::Call:
      print_child(out, *e.kids[0], kPrecPostfix);
      out += '(';
      print_list(out, e.kids, 1);
      out += ')';
      break;
    case ExprKind::Index:
      print_child(out, *e.kids[0], kPrecPostfix);
      out += '[';
      print_list(out, e.kids, 1);
      out += ']';
      break;
    case ExprKind::Slice:
      if (e.kids[0]) print_expr_to(out, *e.kids[0]);
      out += ':';
      if (e.kids[1]) print_expr_to(out, *e.kids[1]);
      break;
    case ExprKind::Member:
      print_child(out, *e.kids[0], kPrecPostfix);
      out += '.';
      out += e.name;
      break;
    case ExprKind::Tuple:
      out += '(';
      print_list(out, e.kids, 0);
      if (e.kids.size() == 1) out += ',';
      out += ')';
      break;
    case ExprKind::Comprehension:
      out += "tuple(";
      print_expr_to(out, *e.kids[0]);
      out += " for " + e.name + " in ";
      print_expr_to(out, *e.kids[1]);
      out += ')';
      break;
    case ExprKind::StarAll:
      out += '*';
      break;
  }
}

std::string key_text(const Key& k) { return k.kind == Key::Kind::Star ? "*" : k.text; }

std::string key_list(const std::vector<Key>& keys) {
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) out += ',';
    out += key_text(keys[i]);
  }
  return out;
}

std::string join(const std::vector<std::string>& words, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += sep;
    out += words[i];
  }
  return out;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out + "\"";
}

std::string constraint_text(const LayoutConstraint& c) {
  if (c.word == "Align") return fmt::format("Align{}{}", op_spelling(c.align_op), c.align_value);
  return c.word;
}

void print_stmts(std::string& out, const std::vector<StmtPtr>& stmts, const std::string& indent);

void print_stmt(std::string& out, const Stmt& s, const std::string& indent) {
  std::string line;
  switch (s.kind) {
    case StmtKind::TaskRule:
      line = fmt::format("Task {} {};", key_list(s.keys), join(s.kinds, ","));
      break;
    case StmtKind::RegionRule:
      line = fmt::format("Region {} {} {} {};", key_text(s.task), key_text(s.region), key_text(s.proc),
                         join(s.kinds, ","));
      break;
    case StmtKind::LayoutRule: {
      line = fmt::format("Layout {} {} {}", key_text(s.task), key_text(s.region), key_text(s.proc));
      for (const auto& c : s.constraints) line += fmt::format(" {}", constraint_text(c));
      line += ";";
      break;
    }
    case StmtKind::InstanceLimit:
      line = fmt::format("InstanceLimit {} {};", key_list(s.keys), s.limit);
      break;
    case StmtKind::CollectMemory:
      line = fmt::format("CollectMemory {} {};", key_text(s.task), key_text(s.region));
      break;
    case StmtKind::IndexTaskMap:
      line = fmt::format("IndexTaskMap {} {};", key_list(s.keys), s.name);
      break;
    case StmtKind::SingleTaskMap:
      line = fmt::format("SingleTaskMap {} {};", key_list(s.keys), s.name);
      break;
    case StmtKind::ControlReplicate:
      line = fmt::format("ControlReplicate {};", key_list(s.keys));
      break;
    case StmtKind::Assign:
      line = s.name + " = " + print_expr(*s.value) + ";";
      break;
    case StmtKind::Return:
      line = "return " + print_expr(*s.value) + ";";
      break;
    case StmtKind::Print: {
      line = "print(" + quote(s.format);
      for (const auto& a : s.args) line += ", " + print_expr(*a);
      line += ");";
      break;
    }
    case StmtKind::Def: {
      std::vector<std::string> params;
      for (const auto& p : s.params) params.push_back(p.type + " " + p.name);
      out += fmt::format("{}def {}({}) {{\n", indent, s.name, join(params, ", "));
      print_stmts(out, s.body, indent + "  ");
      for (const auto& c : s.closing_comments) out += indent + "  " + c + "\n";
      out += indent + "}";
      if (!s.trailing_comment.empty()) out += "  " + s.trailing_comment;
      out += "\n";
      return;
    }
  }
  out += indent + line;
  if (!s.trailing_comment.empty()) out += "  " + s.trailing_comment;
  out += "\n";
}

void print_with_comments(std::string& out, const Stmt& s, const std::string& indent) {
  for (const auto& c : s.leading_comments) out += indent + c + "\n";
  print_stmt(out, s, indent);
}

void print_stmts(std::string& out, const std::vector<StmtPtr>& stmts, const std::string& indent) {
  for (size_t i = 0; i < stmts.size(); ++i) {
    const Stmt& s = *stmts[i];
    if (i > 0 && s.blank_line_before) out += "\n";
    print_with_comments(out, s, indent);
  }
}

// ---- dump ----
void dump_expr(std::string& out, const Expr* e) {
  if (!e) {
    out += "_";
    return;
  }
  switch (e->kind) {
    case ExprKind::Int:
      out += std::to_string(e->int_value);
      return;
    case ExprKind::Bool:
      out += e->int_value ? "True" : "False";
      return;
    case ExprKind::Name:
      out += "$" + e->name;
      return;
    case ExprKind::Kind:
      out += "%" + e->name;
      return;
    case ExprKind::StarAll:
      out += "*";
      return;
    default:
      break;
  }
  static const char* names[] = {"int",   "bool",  "name",   "kind",  "unary", "binary", "?:", "call",
                                "index", "slice", "member", "tuple", "comp",  "unpack", "all"};
  out += "(";
  out += names[static_cast<int>(e->kind)];
  if (e->kind == ExprKind::Unary || e->kind == ExprKind::Binary) out += fmt::format(" {}", op_spelling(e->op));
  if (e->kind == ExprKind::Member || e->kind == ExprKind::Comprehension) {
    out += " .";
    out += e->name;
  }
  for (const auto& k : e->kids) {
    out += " ";
    dump_expr(out, k.get());
  }
  out += ")";
}

std::string dump_key(const Key& k) {
  switch (k.kind) {
    case Key::Kind::Star:
      return "*";
    case Key::Kind::Index:
      return fmt::format("#{}", k.index);
    default:
      return k.text;
  }
}

void dump_stmt(std::string& out, const Stmt& s) {
  out += fmt::format("({}", stmt_keyword(s.kind));
  for (const auto& k : s.keys) out += fmt::format(" {}", dump_key(k));
  if (s.kind == StmtKind::RegionRule || s.kind == StmtKind::LayoutRule || s.kind == StmtKind::CollectMemory)
    out += fmt::format(" [{} {} {}]", dump_key(s.task), dump_key(s.region), dump_key(s.proc));
  for (const auto& k : s.kinds) out += fmt::format(" {}", k);
  for (const auto& c : s.constraints) out += fmt::format(" {}", constraint_text(c));
  if (s.kind == StmtKind::InstanceLimit) out += fmt::format(" {}", s.limit);
  if (!s.name.empty()) {
    out += " @";
    out += s.name;
  }
  for (const auto& p : s.params) out += fmt::format(" {}:{}", p.type, p.name);
  if (s.kind == StmtKind::Print) out += fmt::format(" {}", quote(s.format));
  for (const auto& a : s.args) {
    out += " ";
    dump_expr(out, a.get());
  }
  if (s.value) {
    out += " ";
    dump_expr(out, s.value.get());
  }
  for (const auto& b : s.body) {
    out += " ";
    dump_stmt(out, *b);
  }
  out += ")";
}

}  // namespace

std::string print_expr(const Expr& e) {
  std::string out;
  print_expr_to(out, e);
  return out;
}

std::string print(const Module& m) {
  std::string out;
  print_stmts(out, m.stmts, "");
  for (const auto& c : m.trailing_comments) out += c + "\n";
  return out;
}

std::string print_statement(const Stmt& s) {
  std::string out;
  print_with_comments(out, s, "");
  return out;
}

std::string dump(const Module& m) {
  std::string out;
  for (const auto& s : m.stmts) {
    dump_stmt(out, *s);
    out += "\n";
  }
  return out;
}

}  // namespace mage::dsl
