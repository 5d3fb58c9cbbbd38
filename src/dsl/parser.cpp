#include "dsl/parser.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <unordered_map>

namespace mage::dsl {

std::string_view op_spelling(Op op) {
  switch (op) {
    case Op::Add:
      return "+";
    case Op::Sub:
      return "-";
    case Op::Mul:
      return "*";
    case Op::Div:
      return "/";
    case Op::Mod:
      return "%";
    case Op::Eq:
      return "==";
    case Op::Ne:
      return "!=";
    case Op::Lt:
      return "<";
    case Op::Le:
      return "<=";
    case Op::Gt:
      return ">";
    case Op::Ge:
      return ">=";
    case Op::And:
      return "&&";
    case Op::Or:
      return "||";
    case Op::Neg:
      return "-";
    case Op::Not:
      return "!";
  }
  return "?";
}

std::string_view stmt_keyword(StmtKind k) {
  switch (k) {
    case StmtKind::TaskRule:
      return "Task";
    case StmtKind::RegionRule:
      return "Region";
    case StmtKind::LayoutRule:
      return "Layout";
    case StmtKind::InstanceLimit:
      return "InstanceLimit";
    case StmtKind::CollectMemory:
      return "CollectMemory";
    case StmtKind::IndexTaskMap:
      return "IndexTaskMap";
    case StmtKind::SingleTaskMap:
      return "SingleTaskMap";
    case StmtKind::ControlReplicate:
      return "ControlReplicate";
    case StmtKind::Assign:
      return "assignment";
    case StmtKind::Def:
      return "def";
    case StmtKind::Return:
      return "return";
    case StmtKind::Print:
      return "print";
  }
  return "statement";
}

namespace {

// Thrown to abandon the current statement after a syntax error has been reported.
struct SyntaxError {};

bool before(SourceLoc a, SourceLoc b) { return a.line < b.line || (a.line == b.line && a.col < b.col); }

class Parser {
 public:
  Parser(const LexResult& lexed, DiagnosticSink& sink) : toks_(lexed.tokens), sink_(sink) {
    for (const auto& d : sink.diagnostics())
      if (d.severity == Severity::Error) lex_errors_.push_back(d.loc);
  }

  bool stopped() const { return stopped_; }

  Module parse_module() {
    Module m;
    while (!at(Tok::End)) {
      if (too_many_errors()) break;
      if (at(Tok::RBrace)) {  // a stray '}' at top level
        // After a function was ended early (a rule or def inside it), the rest of its body and
        // its '}' were already explained by that error.
        if (!orphan_body_) sink_.report(DiagId::expected, cur().loc, "a statement", describe_token(cur()));
        orphan_body_ = false;
        ++pos_;
        continue;
      }
      if (orphan_body_ && at(Tok::KwReturn)) {
        recover(false);
        continue;
      }
      if (auto s = statement(false)) m.stmts.push_back(std::move(s));
    }
    return m;
  }

 private:
  const std::vector<Token>& toks_;
  DiagnosticSink& sink_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<SourceLoc> lex_errors_;  // a statement with a lexical error gets no syntax error
  SourceLoc statement_start_;
  bool stopped_ = false;
  bool body_recovered_ = false;  // a statement of the current function body was dropped
  bool orphan_body_ = false;     // a function was ended early: its leftovers follow

  bool too_many_errors() {
    if (stopped_) return true;
    if (sink_.error_count() < kMaxErrors) return false;
    sink_.report(DiagId::too_many_errors, cur().loc, kMaxErrors);
    stopped_ = true;
    return true;
  }
  // A syntax error right after a lexical error in the same statement is a consequence of it.
  bool follows_lexical_error() const {
    for (SourceLoc l : lex_errors_)
      if (!before(l, statement_start_) && !before(cur().loc, l)) return true;
    return false;
  }
  const Token& prev() const { return toks_[pos_ > 0 ? pos_ - 1 : 0]; }

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  bool at(Tok t) const { return cur().kind == t; }
  const Token& take() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool accept(Tok t) {
    if (!at(t)) return false;
    take();
    return true;
  }
  [[noreturn]] void error_expected(std::string_view what) {
    if (!follows_lexical_error()) sink_.report(DiagId::expected, cur().loc, what, describe_token(cur()));
    throw SyntaxError{};
  }
  const Token& expect(Tok t, std::string_view what = {}) {
    if (!at(t)) error_expected(what.empty() ? tok_name(t) : what);
    return take();
  }

  // Skip to just after the next ';' or balanced '{ }' block, or to a '}' that closes the
  // enclosing block (consumed at top level only, where it is stray).
  void recover(bool in_function) {
    int depth = 0;
    while (!at(Tok::End)) {
      if (depth == 0 && accept(Tok::Semi)) return;
      if (at(Tok::LBrace)) ++depth;
      if (at(Tok::RBrace)) {
        if (depth == 0) {
          if (!in_function) take();
          return;
        }
        if (--depth == 0) {
          take();
          return;
        }
      }
      take();
    }
  }

  StmtPtr statement(bool in_function) {
    size_t start = pos_;
    statement_start_ = cur().loc;
    // An assignment whose value is broken still defines its name, so that later uses of the
    // name do not report it as unknown.
    StmtPtr partial;
    if (at(Tok::Ident) && peek().kind == Tok::Assign) {
      partial = make(StmtKind::Assign, cur().loc);
      partial->name = cur().text;
      partial->name_loc = cur().loc;
    }
    try {
      return statement_or_throw(in_function);
    } catch (const SyntaxError&) {
      if (pos_ == start && !at(Tok::End) && !at(Tok::RBrace)) take();  // always make progress
      recover(in_function);
      if (in_function) body_recovered_ = true;
      if (partial) partial->end = prev().end;
      return partial;
    }
  }

  static bool is_top_level_only(Tok t) {
    switch (t) {
      case Tok::KwTask:
      case Tok::KwRegion:
      case Tok::KwLayout:
      case Tok::KwInstanceLimit:
      case Tok::KwCollectMemory:
      case Tok::KwIndexTaskMap:
      case Tok::KwSingleTaskMap:
      case Tok::KwControlReplicate:
      case Tok::KwDef:
        return true;
      default:
        return false;
    }
  }

  StmtPtr make(StmtKind kind, SourceLoc loc) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->loc = loc;
    return s;
  }

  void end_statement(Stmt& s) {
    if (!at(Tok::Semi) && pos_ > 0 && cur().loc.line > prev().end.line) {
      // Point just after the statement, where the ';' belongs, as compilers do.
      if (!follows_lexical_error())
        sink_.report(DiagId::expected_after, SourceLoc{prev().end.line, prev().end.col + 1}, "';'",
                     describe_token(prev()));
      throw SyntaxError{};
    }
    s.end = expect(Tok::Semi, "';'").loc;
  }

  StmtPtr statement_or_throw(bool in_function) {
    const Token& t = cur();
    if (t.kind == Tok::KwTask && peek().kind == Tok::Ident && peek(2).kind == Tok::Assign) {
      sink_.report(DiagId::typed_local, t.loc, peek().text);
      take();
      return statement_or_throw(in_function);
    }
    if (is_top_level_only(t.kind)) return t.kind == Tok::KwDef ? def() : rule();  // def() ends a body at these
    switch (t.kind) {
      case Tok::KwReturn: {
        if (!in_function) {
          sink_.report(DiagId::return_outside_function, t.loc);
          throw SyntaxError{};
        }
        auto s = make(StmtKind::Return, take().loc);
        s->value = expr();
        end_statement(*s);
        return s;
      }
      case Tok::KwPrint:
        return print();
      case Tok::KwIn:
      case Tok::KwFor:
      case Tok::KwTuple:
      case Tok::KwTrue:
      case Tok::KwFalse:
      case Tok::ProcKind:
      case Tok::MemKind:
      case Tok::LayoutWord:
        if (peek().kind == Tok::Assign) {
          sink_.report(DiagId::keyword_as_name, t.loc, t.text);
          throw SyntaxError{};
        }
        error_expected("a statement");
      case Tok::KwInt:
      case Tok::KwBool:
      case Tok::KwIPoint:
      case Tok::KwISpace:
      case Tok::KwMSpace:
        if (peek().kind == Tok::Ident && peek(2).kind == Tok::Assign) {
          // `int n = ...;`: say what to write, then parse the assignment.
          sink_.report(DiagId::typed_local, t.loc, peek().text);
          take();
          return statement_or_throw(in_function);
        }
        error_expected("a statement");
      case Tok::Ident: {
        if ((t.text == "if" || t.text == "while" || t.text == "for" || t.text == "else") &&
            (peek().kind == Tok::LParen || peek().kind == Tok::LBrace)) {
          sink_.report(DiagId::no_control_flow, t.loc, t.text);
          throw SyntaxError{};
        }
        if (peek().kind != Tok::Assign) {
          take();
          error_expected("'='");
        }
        auto s = make(StmtKind::Assign, t.loc);
        s->name = t.text;
        s->name_loc = t.loc;
        take();
        take();
        s->value = expr();
        end_statement(*s);
        return s;
      }
      default:
        error_expected("a statement");
    }
  }

  // `*`, or a name.
  Key task_key() {
    Key k;
    k.loc = cur().loc;
    if (accept(Tok::Star)) return k;
    k.kind = Key::Kind::Name;
    k.text = expect(Tok::Ident, "a task name or '*'").text;
    return k;
  }
  Key region_key() {
    Key k;
    k.loc = cur().loc;
    if (accept(Tok::Star)) return k;
    if (at(Tok::Int)) {
      k.kind = Key::Kind::Index;
      k.index = take().value;
      k.text = std::to_string(k.index);
      return k;
    }
    k.kind = Key::Kind::Name;
    k.text = expect(Tok::Ident, "a region name, an argument index or '*'").text;
    return k;
  }
  std::vector<Key> name_list(bool allow_kinds) {
    std::vector<Key> keys;
    if (at(Tok::Star)) {
      Key k;
      k.loc = take().loc;
      keys.push_back(k);
      return keys;
    }
    do {
      Key k;
      k.loc = cur().loc;
      if (allow_kinds && at(Tok::ProcKind)) {
        k.kind = Key::Kind::ProcKind;
        k.text = take().text;
      } else if (allow_kinds && at(Tok::Star)) {
        take();
      } else {
        k.kind = Key::Kind::Name;
        k.text = expect(Tok::Ident, allow_kinds ? "a task name, a processor kind or '*'" : "a task name or '*'").text;
      }
      keys.push_back(k);
    } while (accept(Tok::Comma));
    return keys;
  }
  // `what` is "a processor kind" or "a memory kind"; the message lists the words.
  void kind_list(Stmt& s, Tok kind, std::string_view what) {
    std::string expected = std::string(what) + " (";
    for (std::string_view w : kind_words(kind)) expected += std::string(w) + ", ";
    expected.replace(expected.size() - 2, 2, ")");
    do {
      const Token& k = expect(kind, expected);
      s.kinds.push_back(k.text);
      Key key;
      key.kind = kind == Tok::ProcKind ? Key::Kind::ProcKind : Key::Kind::MemKind;
      key.text = k.text;
      key.loc = k.loc;
      s.kind_locs.push_back(key);
    } while (accept(Tok::Comma));
  }

  // A rule keyed by a task and a region (Region, Layout, CollectMemory), its keys parsed.
  StmtPtr task_region_rule(StmtKind kind, SourceLoc loc) {
    auto s = make(kind, loc);
    s->task = task_key();
    s->region = region_key();
    return s;
  }

  StmtPtr rule() {
    const Token& kw = take();
    switch (kw.kind) {
      case Tok::KwTask: {
        auto s = make(StmtKind::TaskRule, kw.loc);
        s->keys = name_list(false);
        kind_list(*s, Tok::ProcKind, "a processor kind");
        end_statement(*s);
        return s;
      }
      case Tok::KwRegion: {
        auto s = task_region_rule(StmtKind::RegionRule, kw.loc);
        s->proc.loc = cur().loc;
        if (!accept(Tok::Star)) {
          s->proc.kind = Key::Kind::ProcKind;
          s->proc.text = expect(Tok::ProcKind, "a processor kind or '*'").text;
        }
        kind_list(*s, Tok::MemKind, "a memory kind");
        end_statement(*s);
        return s;
      }
      case Tok::KwLayout: {
        auto s = task_region_rule(StmtKind::LayoutRule, kw.loc);
        s->proc.loc = cur().loc;
        if (at(Tok::ProcKind)) {
          s->proc.kind = Key::Kind::ProcKind;
          s->proc.text = take().text;
        } else if (at(Tok::MemKind)) {
          s->proc.kind = Key::Kind::MemKind;
          s->proc.text = take().text;
        } else if (!accept(Tok::Star)) {
          error_expected("a memory kind, a processor kind or '*'");
        }
        while (!at(Tok::Semi)) {
          LayoutConstraint c;
          c.loc = cur().loc;
          c.word = expect(Tok::LayoutWord,
                          "a layout constraint (SOA, AOS, C_order, F_order, Align, No_Align, Compact, Exact) or ';'")
                       .text;
          if (c.word == "Align") {
            // The comparisons are the binary operators of precedence 3 and 4.
            const int level = precedence(cur().kind, c.align_op);
            if (level != 3 && level != 4) error_expected("a comparison (==, !=, <, <=, >, >=) after 'Align'");
            take();
            c.align_value = expect(Tok::Int, "an alignment in bytes").value;
          }
          s->constraints.push_back(c);
        }
        end_statement(*s);
        return s;
      }
      case Tok::KwInstanceLimit: {
        auto s = make(StmtKind::InstanceLimit, kw.loc);
        s->keys = name_list(false);
        s->name_loc = cur().loc;
        s->limit = expect(Tok::Int, "an instance count").value;
        end_statement(*s);
        return s;
      }
      case Tok::KwCollectMemory: {
        auto s = task_region_rule(StmtKind::CollectMemory, kw.loc);
        end_statement(*s);
        return s;
      }
      case Tok::KwIndexTaskMap:
      case Tok::KwSingleTaskMap: {
        auto s = make(kw.kind == Tok::KwIndexTaskMap ? StmtKind::IndexTaskMap : StmtKind::SingleTaskMap, kw.loc);
        s->keys = name_list(true);
        s->name_loc = cur().loc;
        s->name = expect(Tok::Ident, "the name of a mapping function").text;
        end_statement(*s);
        return s;
      }
      case Tok::KwControlReplicate: {
        auto s = make(StmtKind::ControlReplicate, kw.loc);
        s->keys = name_list(false);
        end_statement(*s);
        return s;
      }
      default:
        break;
    }
    error_expected("a statement");
  }

  StmtPtr def() {
    auto s = make(StmtKind::Def, take().loc);
    s->name_loc = cur().loc;
    s->name = expect(Tok::Ident, "a function name").text;
    expect(Tok::LParen);
    if (!at(Tok::RParen)) {
      do {
        Param p;
        p.loc = cur().loc;
        switch (cur().kind) {
          case Tok::KwTask:
          case Tok::KwInt:
          case Tok::KwBool:
          case Tok::KwIPoint:
          case Tok::KwISpace:
          case Tok::KwMSpace:
            p.type = take().text;
            break;
          case Tok::Ident:
            if (peek().kind == Tok::Comma || peek().kind == Tok::RParen) {
              // `def f(task)`: say what to write and keep the function (as a Task parameter).
              sink_.report(DiagId::untyped_parameter, cur().loc, cur().text, cur().text, cur().text);
              p.type = "Task";
              break;
            }
            [[fallthrough]];
          default:
            error_expected("a parameter type (Task, int, bool, IPoint, ISpace, MSpace)");
        }
        p.name = expect(Tok::Ident, "a parameter name").text;
        s->params.push_back(p);
      } while (accept(Tok::Comma));
    }
    expect(Tok::RParen, "',' or ')'");
    expect(Tok::LBrace);
    body_recovered_ = false;
    for (;;) {
      if (too_many_errors()) {
        s->had_syntax_error = true;
        s->end = prev().end;
        return s;
      }
      if (at(Tok::RBrace)) break;
      if (at(Tok::End)) {
        sink_.report(DiagId::expected, cur().loc,
                     fmt::format("'}}' to close function '{}' (line {})", s->name, s->loc.line), describe_token(cur()));
        s->had_syntax_error = true;
        s->end = prev().end;
        return s;
      }
      // A rule or a def cannot be in a function: most likely the '}' is missing. End the
      // function here and let the top level parse the statement.
      bool typed_task_local = at(Tok::KwTask) && peek().kind == Tok::Ident && peek(2).kind == Tok::Assign;
      if (is_top_level_only(cur().kind) && !typed_task_local) {
        if (cur().kind == Tok::KwDef)
          sink_.report(DiagId::def_inside_function, cur().loc, s->name, s->loc.line);
        else
          sink_.report(DiagId::statement_in_function, cur().loc, cur().text, s->name, s->loc.line);
        orphan_body_ = true;
        s->had_syntax_error = true;
        s->end = prev().end;
        return s;
      }
      if (auto b = statement(true)) s->body.push_back(std::move(b));
    }
    s->had_syntax_error = body_recovered_;
    s->end = take().loc;
    return s;
  }

  StmtPtr print() {
    auto s = make(StmtKind::Print, take().loc);
    expect(Tok::LParen);
    s->format = expect(Tok::String, "a format string").text;
    while (accept(Tok::Comma)) s->args.push_back(list_item(false));
    expect(Tok::RParen, "',' or ')'");
    end_statement(*s);
    return s;
  }

  // ---- expressions ----
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxNesting) {
        p.sink_.report(DiagId::too_deeply_nested, p.cur().loc, kMaxNesting);
        throw SyntaxError{};
      }
    }
    ~DepthGuard() { --p.depth_; }
  };

  static ExprPtr node(ExprKind kind, SourceLoc loc) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = loc;
    return e;
  }

  ExprPtr expr() {
    DepthGuard guard(*this);
    ExprPtr cond = binary(0);
    if (!at(Tok::Question)) return cond;
    SourceLoc loc = take().loc;
    auto e = node(ExprKind::Ternary, loc);
    e->kids.push_back(std::move(cond));
    e->kids.push_back(expr());
    expect(Tok::Colon, "':' of a conditional expression");
    e->kids.push_back(expr());
    return e;
  }

  static int precedence(Tok t, Op& op) {
    switch (t) {
      case Tok::OrOr:
        op = Op::Or;
        return 1;
      case Tok::AndAnd:
        op = Op::And;
        return 2;
      case Tok::Eq:
        op = Op::Eq;
        return 3;
      case Tok::Ne:
        op = Op::Ne;
        return 3;
      case Tok::Lt:
        op = Op::Lt;
        return 4;
      case Tok::Le:
        op = Op::Le;
        return 4;
      case Tok::Gt:
        op = Op::Gt;
        return 4;
      case Tok::Ge:
        op = Op::Ge;
        return 4;
      case Tok::Plus:
        op = Op::Add;
        return 5;
      case Tok::Minus:
        op = Op::Sub;
        return 5;
      case Tok::Star:
        op = Op::Mul;
        return 6;
      case Tok::Slash:
        op = Op::Div;
        return 6;
      case Tok::Percent:
        op = Op::Mod;
        return 6;
      default:
        return -1;
    }
  }

  // Precedence climbing; all binary operators are left associative.
  ExprPtr binary(int min_prec) {
    ExprPtr lhs = unary();
    for (;;) {
      Op op{};
      int prec = precedence(cur().kind, op);
      if (prec < 0 || prec < min_prec) return lhs;
      if (op == Op::Mul && peek().kind == Tok::Star && peek().loc.line == cur().loc.line &&
          peek().loc.col == cur().loc.col + 1) {
        sink_.report(DiagId::no_power_operator, cur().loc);
        throw SyntaxError{};
      }
      SourceLoc loc = take().loc;
      DepthGuard guard(*this);
      ExprPtr rhs = binary(prec + 1);
      auto e = node(ExprKind::Binary, loc);
      e->op = op;
      e->kids.push_back(std::move(lhs));
      e->kids.push_back(std::move(rhs));
      lhs = std::move(e);
    }
  }

  ExprPtr unary() {
    DepthGuard guard(*this);
    if (at(Tok::Minus) || at(Tok::Bang)) {
      auto e = node(ExprKind::Unary, cur().loc);
      e->op = take().kind == Tok::Minus ? Op::Neg : Op::Not;
      e->kids.push_back(unary());
      return e;
    }
    if (at(Tok::Star)) {
      // Reported, and the operand parsed, so the rest of the statement is still checked.
      sink_.report(DiagId::unpack_not_allowed, take().loc);
      return unary();
    }
    return postfix(primary());
  }

  // An item of an argument or index list: `*` alone, `*expr`, or an expression.
  ExprPtr list_item(bool is_index) {
    if (at(Tok::Star)) {
      SourceLoc loc = take().loc;
      if (at(Tok::Comma) || at(Tok::RBracket) || at(Tok::RParen)) {
        if (!is_index) {
          sink_.report(DiagId::star_not_allowed, loc);
          throw SyntaxError{};
        }
        return node(ExprKind::StarAll, loc);
      }
      auto e = node(ExprKind::Unpack, loc);
      e->kids.push_back(unary());
      return e;
    }
    if (is_index && at(Tok::Colon)) return slice(nullptr);
    ExprPtr e = expr();
    if (is_index && at(Tok::Colon)) return slice(std::move(e));
    return e;
  }

  ExprPtr slice(ExprPtr lo) {
    SourceLoc loc = lo ? lo->loc : cur().loc;
    expect(Tok::Colon);
    auto e = node(ExprKind::Slice, loc);
    e->kids.push_back(std::move(lo));
    e->kids.push_back(at(Tok::RBracket) || at(Tok::Comma) ? nullptr : expr());
    return e;
  }

  ExprPtr postfix(ExprPtr base) {
    for (;;) {
      if (at(Tok::LParen)) {
        auto e = node(ExprKind::Call, take().loc);
        e->kids.push_back(std::move(base));
        if (!at(Tok::RParen)) {
          do e->kids.push_back(list_item(false));
          while (accept(Tok::Comma));
        }
        expect(Tok::RParen, "',' or ')'");
        base = std::move(e);
      } else if (at(Tok::LBracket)) {
        auto e = node(ExprKind::Index, take().loc);
        e->kids.push_back(std::move(base));
        do e->kids.push_back(list_item(true));
        while (accept(Tok::Comma));
        expect(Tok::RBracket, "',' or ']'");
        base = std::move(e);
      } else if (at(Tok::Dot)) {
        take();
        const Token& name = cur();
        // Any word may follow a dot: property names are not reserved words.
        bool is_word = name.kind != Tok::String && !name.text.empty() &&
                       (std::isalpha(static_cast<unsigned char>(name.text[0])) || name.text[0] == '_');
        if (!is_word) error_expected("a property name after '.'");
        auto e = node(ExprKind::Member, name.loc);
        e->name = take().text;
        e->kids.push_back(std::move(base));
        base = std::move(e);
      } else {
        return base;
      }
    }
  }

  ExprPtr primary() {
    const Token& t = cur();
    switch (t.kind) {
      case Tok::Int: {
        auto e = node(ExprKind::Int, t.loc);
        e->int_value = take().value;
        return e;
      }
      case Tok::KwTrue:
      case Tok::KwFalse: {
        auto e = node(ExprKind::Bool, t.loc);
        e->int_value = take().kind == Tok::KwTrue;
        return e;
      }
      case Tok::Ident: {
        auto e = node(ExprKind::Name, t.loc);
        e->name = take().text;
        return e;
      }
      case Tok::ProcKind: {
        auto e = node(ExprKind::Kind, t.loc);
        e->name = take().text;
        return e;
      }
      case Tok::KwTuple: {
        SourceLoc loc = take().loc;
        expect(Tok::LParen, "'(' after 'tuple'");
        auto e = node(ExprKind::Comprehension, loc);
        e->kids.push_back(expr());
        expect(Tok::KwFor, "'for' in a tuple comprehension");
        e->name = expect(Tok::Ident, "a loop variable").text;
        expect(Tok::KwIn, "'in'");
        e->kids.push_back(expr());
        expect(Tok::RParen, "')'");
        return e;
      }
      case Tok::LParen: {
        SourceLoc loc = take().loc;
        if (accept(Tok::RParen)) return node(ExprKind::Tuple, loc);  // ()
        ExprPtr first = list_item(false);
        bool is_tuple = first->kind == ExprKind::Unpack;
        if (!is_tuple && accept(Tok::RParen)) return first;  // parenthesised expression
        auto e = node(ExprKind::Tuple, loc);
        e->kids.push_back(std::move(first));
        while (accept(Tok::Comma)) {
          if (at(Tok::RParen)) break;  // (x,) is a 1-tuple
          e->kids.push_back(list_item(false));
        }
        expect(Tok::RParen, "',' or ')'");
        return e;
      }
      default:
        error_expected("an expression");
    }
  }
};

// Attaches comments and blank lines to statements so that the printer keeps them.
class CommentAttacher {
 public:
  CommentAttacher(Module& m, const LexResult& lexed) : m_(m), lexed_(lexed) {}

  void run() {
    collect(m_.stmts);
    std::stable_sort(anchors_.begin(), anchors_.end(),
                     [](const Anchor& a, const Anchor& b) { return before(a.loc, b.loc); });
    size_t next = 0;
    for (const Comment& c : lexed_.comments) {
      while (next < anchors_.size() && before(anchors_[next].loc, c.loc)) ++next;
      // A comment after code on the line where a statement ends is that statement's.
      if (!c.own_line) {
        Stmt* prev = nullptr;
        for (Stmt* e : ends_)
          if (e->end.line == c.loc.line && before(e->end, c.loc)) prev = e;
        if (prev && prev->trailing_comment.empty()) {
          prev->trailing_comment = c.text;
          continue;
        }
      }
      if (next == anchors_.size())
        m_.trailing_comments.push_back(c.text);
      else if (anchors_[next].closing)
        anchors_[next].closing->closing_comments.push_back(c.text);
      else {
        Stmt* s = anchors_[next].starts;
        if (s->leading_comments.empty()) first_comment_line_[s] = c.loc.line;
        s->leading_comments.push_back(c.text);
      }
    }
    // Blank lines: before the first line of a statement (its first comment, if any).
    for (const Anchor& a : anchors_) {
      if (!a.starts) continue;
      auto it = first_comment_line_.find(a.starts);
      int first = it == first_comment_line_.end() ? a.starts->loc.line : it->second;
      size_t prev = static_cast<size_t>(first - 1);
      a.starts->blank_line_before = a.prev_end_line > 0 && prev < lexed_.blank_line.size() && lexed_.blank_line[prev];
    }
  }

 private:
  struct Anchor {
    SourceLoc loc;
    Stmt* starts = nullptr;   // a statement begins here
    Stmt* closing = nullptr;  // a function's closing brace is here
    int prev_end_line = 0;    // line where the previous statement of the same block ended
  };
  Module& m_;
  const LexResult& lexed_;
  std::vector<Anchor> anchors_;
  std::vector<Stmt*> ends_;  // every statement, of any block, to find trailing comments
  std::unordered_map<const Stmt*, int> first_comment_line_;

  void collect(std::vector<StmtPtr>& stmts, int block_start_line = 0) {
    int prev_end = block_start_line;
    for (auto& s : stmts) {
      anchors_.push_back(Anchor{s->loc, s.get(), nullptr, prev_end});
      if (s->kind == StmtKind::Def) {
        collect(s->body, 0);
        anchors_.push_back(Anchor{s->end, nullptr, s.get(), 0});
      }
      ends_.push_back(s.get());
      prev_end = s->end.line;
    }
  }
};

}  // namespace

Module parse(const SourceFile& source, DiagnosticSink& sink) {
  LexResult lexed = lex(source, sink);
  Parser parser(lexed, sink);
  Module m = parser.parse_module();
  m.stopped_early = parser.stopped();
  CommentAttacher(m, lexed).run();
  return m;
}

}  // namespace mage::dsl
