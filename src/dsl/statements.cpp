// The top-level statements of a unit as text, with what each defines and names.
#include "dsl/dsl.h"
#include "dsl/printer.h"
#include "dsl/unit.h"

namespace mage::dsl {

namespace {

// Names that resolve to neither a parameter, a local nor a comprehension variable: the
// globals and functions (and builtins such as Machine) the expression depends on.
void collect_names(const Expr* e, std::set<std::string>& names) {
  if (!e) return;
  if (e->kind == ExprKind::Name && e->slot < 0) names.insert(e->name);
  for (const auto& kid : e->kids) collect_names(kid.get(), names);
}

void collect_names(const Stmt& s, std::set<std::string>& names) {
  collect_names(s.value.get(), names);
  for (const auto& a : s.args) collect_names(a.get(), names);
  for (const auto& b : s.body) collect_names(*b, names);
}

}  // namespace

std::vector<TopLevelStatement> top_level_statements(const Unit& unit) {
  std::vector<TopLevelStatement> out;
  for (const auto& s : unit.module.stmts) {
    TopLevelStatement t;
    t.keyword = stmt_keyword(s->kind);
    t.text = print_statement(*s);
    t.blank_line_before = s->blank_line_before;
    if (s->kind == StmtKind::Def || s->kind == StmtKind::Assign) t.defines = s->name;
    if (s->kind == StmtKind::IndexTaskMap || s->kind == StmtKind::SingleTaskMap)
      t.names.insert(s->name);
    else
      collect_names(*s, t.names);
    out.push_back(std::move(t));
  }
  if (!out.empty())
    for (const auto& c : unit.module.trailing_comments) out.back().text += c + "\n";
  return out;
}

}  // namespace mage::dsl
