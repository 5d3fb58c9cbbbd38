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
