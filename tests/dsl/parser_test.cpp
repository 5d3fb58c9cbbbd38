#include <gtest/gtest.h>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "test_util.h"

namespace mage::dsl {
namespace {

Module parse_ok(const std::string& text) {
  DiagnosticSink sink("t.map");
  Module m = parse(SourceFile{"t.map", text}, sink);
  EXPECT_TRUE(sink.diagnostics().empty()) << format_diagnostics(sink.diagnostics(), SourceFile{"t.map", text});
  return m;
}

TEST(Parser, ParsesEveryStatementKind) {
  Module m = parse_ok(R"(
Task * GPU,OMP,CPU;
Task init_piece,init_pointers CPU;
Region * * GPU FBMEM;
Region distribute_charge 1 GPU ZCMEM,SYSMEM;
Layout * * * SOA C_order Align==64;
InstanceLimit task_4 1;
CollectMemory task_4 *;
ControlReplicate task_7;
m = Machine(GPU);
def f(Task t) { x = t.ipoint; print("x {}", x); return m[x[0] % m.size[0], 0]; }
IndexTaskMap a,b f;
SingleTaskMap GPU f;
)");
  ASSERT_EQ(m.stmts.size(), 12u);
  EXPECT_EQ(m.stmts[0]->kind, StmtKind::TaskRule);
  EXPECT_EQ(m.stmts[3]->region.kind, Key::Kind::Index);
  EXPECT_EQ(m.stmts[3]->kinds, (std::vector<std::string>{"ZCMEM", "SYSMEM"}));
  EXPECT_EQ(m.stmts[4]->constraints.size(), 3u);
  EXPECT_EQ(m.stmts[4]->constraints[2].align_value, 64);
  EXPECT_EQ(m.stmts[9]->body.size(), 3u);
  EXPECT_EQ(m.stmts[11]->keys[0].kind, Key::Kind::ProcKind);
}

TEST(Parser, PrecedenceAndAssociativity) {
  Module m = parse_ok("x = 1 + 2 * 3 - 4 / 2 % 3;\ny = a || b && c == d < e;\nz = c ? 1 : d ? 2 : 3;\n");
  EXPECT_EQ(dump(m),
            "(assignment @x (binary - (binary + 1 (binary * 2 3)) (binary % (binary / 4 2) 3)))\n"
            "(assignment @y (binary || $a (binary && $b (binary == $c (binary < $d $e)))))\n"
            "(assignment @z (?: $c 1 (?: $d 2 3)))\n");
}

TEST(Parser, ReportsSeveralSyntaxErrorsAndRecovers) {
  auto ds = test::diagnose("Task * GPU\nRegion * * GPU FBMEM;\nx = (1 + ;\ny = 2;\nLayout * * * SOA Bogus;\n");
  ASSERT_EQ(ds.size(), 3u) << test::ids(ds);
  EXPECT_EQ(ds[0].loc.line, 1);  // a missing ';' is reported where it belongs
  EXPECT_EQ(ds[0].loc.col, 11);
  EXPECT_EQ(ds[0].message, "expected ';' after 'GPU'");
  EXPECT_EQ(ds[1].loc.line, 3);
  EXPECT_EQ(ds[1].message, "expected an expression but found ';'");
  EXPECT_EQ(ds[2].loc.line, 5);
  EXPECT_EQ(ds[2].loc.col, 18);
}

// format_diagnostics finds each line once for all diagnostics: the same text as formatting them
// one by one (first and last line, a CRLF line, a line past the end, no location), and with a
// limit the first ones and a count of the rest by severity.
TEST(Diagnostics, FormatsManyAsEachAloneAndCountsTheRest) {
  const SourceFile src{"f.map", "first;\r\nsecond;\n\tthird;"};
  std::vector<Diagnostic> ds;
  for (int line : {1, 2, 3, 4, 0, 3})
    ds.push_back(Diagnostic{DiagId::unknown_task,
                            line == 2 ? Severity::Error : Severity::Warning,
                            "f.map",
                            SourceLoc{line, 2},
                            fmt::format("m{}", line),
                            {"a note"}});
  std::string each;
  for (const Diagnostic& d : ds) each += format_diagnostic(d, src);
  EXPECT_EQ(format_diagnostics(ds, src), each);
  EXPECT_EQ(format_diagnostics(ds, src, 0), each);
  EXPECT_EQ(format_diagnostics(ds, src, 6), each);
  EXPECT_NE(each.find("first;\n ^\n"), std::string::npos) << each;
  EXPECT_NE(each.find("\tthird;\n\t^\n"), std::string::npos) << each;

  const std::string two = format_diagnostics(ds, src, 2, "-n 0 shows all");
  EXPECT_EQ(
      two, format_diagnostic(ds[0], src) + format_diagnostic(ds[1], src) + "... and 4 more warnings; -n 0 shows all\n");
  ds[4].severity = Severity::Error;
  EXPECT_TRUE(format_diagnostics(ds, src, 1).ends_with("... and 2 more errors and 3 more warnings\n"))
      << format_diagnostics(ds, src, 1);
  ds.resize(1);
  EXPECT_TRUE(format_diagnostics(ds, src, 0).ends_with("a note\n"));
}

TEST(Printer, RoundTripsExpressions) {
  for (const char* text : {"x = (1 + 2) * 3;\n", "x = -(a + b);\n", "x = a - (b - c);\n", "x = (a ? b : c) ? d : e;\n",
                           "x = m[*t, 0];\n", "x = t[:-1];\n", "x = (1,);\n", "x = tuple(i * 2 for i in t.size);\n",
                           "x = - -a;\n", "x = !(a && b);\n", "x = f(*(a + b));\n"}) {
    Module a = parse_ok(text);
    EXPECT_EQ(print(a), text);
    Module b = parse_ok(print(a));
    EXPECT_EQ(dump(a), dump(b)) << text;
  }
}

}  // namespace
}  // namespace mage::dsl
