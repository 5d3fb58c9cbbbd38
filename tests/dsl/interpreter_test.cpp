// Values, operators, built-ins and limits of the interpreter, observed through `print`.
#include <gtest/gtest.h>

#include "test_util.h"

namespace mage::dsl {
namespace {

// Evaluates `expr` at top level after `preamble` on a 2-node x 4-processor machine and
// returns what print shows, or "error: MESSAGE" for the first diagnostic.
std::string value_of(const std::string& expr, const std::string& preamble = "") {
  std::string text = preamble + "\nprint(\"{}\", " + expr + ");\n";
  BindResult b = load_mapper(SourceFile{"t.map", text}, test::shape(2, 4));
  for (const auto& d : b.diagnostics)
    if (d.severity == Severity::Error) return "error: " + d.message;
  if (!b.mapper || b.mapper->log().empty()) return "<nothing>";
  return b.mapper->log().back();
}

TEST(Interpreter, IntegerArithmeticTruncatesTowardZero) {
  EXPECT_EQ(value_of("1 + 2 * 3"), "7");
  EXPECT_EQ(value_of("7 / 2"), "3");
  EXPECT_EQ(value_of("-7 / 2"), "-3");
  EXPECT_EQ(value_of("-7 % 3"), "-1");
  EXPECT_EQ(value_of("7 % -3"), "1");
  EXPECT_EQ(value_of("-(3 - 5)"), "2");
  EXPECT_EQ(value_of("1 / 0"), "error: division by zero");
  EXPECT_EQ(value_of("1 % 0"), "error: modulo by zero");
  EXPECT_EQ(value_of("9223372036854775807 + 1"), "error: integer overflow in '+'");
  EXPECT_EQ(value_of("-9223372036854775807 - 1"), "-9223372036854775808");
}

TEST(Interpreter, ComparisonsAndLogic) {
  EXPECT_EQ(value_of("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3"), "True");
  EXPECT_EQ(value_of("1 == 2 || 1 != 2"), "True");
  EXPECT_EQ(value_of("!True"), "False");
  EXPECT_EQ(value_of("(1, 2) == (1, 2)"), "True");
  EXPECT_EQ(value_of("(1, 2) != (1, 3)"), "True");
  EXPECT_EQ(value_of("1 == True"), "error: cannot compare an int with a bool");
  EXPECT_EQ(value_of("(1, 2) < (1, 3)"), "error: '<' compares ints, not a tuple and a tuple");
}

TEST(Interpreter, LogicAndConditionalAreLazy) {
  // The right operand / the branch not taken would divide by zero.
  EXPECT_EQ(value_of("False && 1 / 0 == 1"), "False");
  EXPECT_EQ(value_of("True || 1 / 0 == 1"), "True");
  EXPECT_EQ(value_of("1 > 0 ? 5 : 1 / 0"), "5");
  EXPECT_EQ(value_of("1 < 0 ? 1 / 0 : 6"), "6");
  EXPECT_EQ(value_of("True ? 1 : False ? 2 : 3"), "1");
}

TEST(Interpreter, TuplesAreElementWise) {
  EXPECT_EQ(value_of("(4, 8) / (2, 4)"), "(2, 2)");
  EXPECT_EQ(value_of("(4, 8) + 1"), "(5, 9)");
  EXPECT_EQ(value_of("10 - (1, 2)"), "(9, 8)");
  EXPECT_EQ(value_of("(4, 8) % (3, 5)"), "(1, 3)");
  EXPECT_EQ(value_of("-(1, 2)"), "(-1, -2)");
  EXPECT_EQ(value_of("(1, 2) * (1, 2, 3)"), "error: tuple length mismatch in '*': 2 and 3 elements");
  EXPECT_EQ(value_of("(4, 8) / (2, 0)"), "error: division by zero");
}

TEST(Interpreter, TupleIndexingSlicingAndProperties) {
  const std::string t = "t = (5, 6, 7, 8);";
  EXPECT_EQ(value_of("t[0]", t), "5");
  EXPECT_EQ(value_of("t[-1]", t), "8");
  EXPECT_EQ(value_of("t[1:3]", t), "(6, 7)");
  EXPECT_EQ(value_of("t[:-1]", t), "(5, 6, 7)");
  EXPECT_EQ(value_of("t[2:]", t), "(7, 8)");
  EXPECT_EQ(value_of("t[3:1]", t), "()");
  EXPECT_EQ(value_of("t.len", t), "4");
  EXPECT_EQ(value_of("t.volume", t), "1680");
  EXPECT_EQ(value_of("t.size", t), "(5, 6, 7, 8)");
  EXPECT_EQ(value_of("(7,)", t), "(7,)");
  EXPECT_EQ(value_of("()"), "()");
  EXPECT_EQ(value_of("t[4]", t), "error: index 4 out of range for a tuple of length 4");
  EXPECT_EQ(value_of("t[-5]", t), "error: index -5 out of range for a tuple of length 4");
  EXPECT_EQ(value_of("t[0:5]", t), "error: slice bound 5 out of range for length 4");
  EXPECT_EQ(value_of("t[1, 2]", t), "error: a tuple takes one index, not 2");
  EXPECT_EQ(value_of("t.ipoint", t), "error: a tuple has no property 'ipoint'");
}

TEST(Interpreter, ComprehensionIteratesAnyTuple) {
  EXPECT_EQ(value_of("tuple(i * i for i in (1, 2, 3))"), "(1, 4, 9)");
  EXPECT_EQ(value_of("tuple(x + 1 for x in m.size)", "m = Machine(GPU);"), "(3, 5)");
  EXPECT_EQ(value_of("tuple(tuple(a * b for b in (1, 2)) for a in (1, 3))"), "((1, 2), (3, 6))");
  // The loop variable is scoped to the comprehension: the global i is untouched.
  EXPECT_EQ(value_of("(tuple(i for i in (7, 8)), i)", "i = 1;"), "((7, 8), 1)");
  EXPECT_EQ(value_of("tuple(i for i in 5)"), "error: a comprehension iterates over a tuple, not an int");
}

TEST(Interpreter, FunctionsScopesAndUnpacking) {
  const std::string defs = R"(
g = 10;
def add(int a, int b) { return a + b + g; }
def twice(int x) { y = x; y = y * 2; return y; }
def sum3(int a, int b, int c) { return a + b + c; }
def none() { return 42; }
def fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }
)";
  EXPECT_EQ(value_of("add(1, 2)", defs), "13");
  EXPECT_EQ(value_of("twice(4)", defs), "8");  // reassigning a local replaces it
  EXPECT_EQ(value_of("sum3(*(1, 2), 3)", defs), "6");
  EXPECT_EQ(value_of("sum3(*(1, 2, 3))", defs), "6");
  EXPECT_EQ(value_of("none()", defs), "42");
  EXPECT_EQ(value_of("fact(10)", defs), "3628800");
  EXPECT_EQ(value_of("sum3(*(1, 2))", defs), "error: function 'sum3' takes 3 arguments but 2 were given");
  EXPECT_EQ(value_of("sum3(*(1, 2), (3,))", defs), "error: argument 3 of 'sum3' must be an int but is a tuple");
}

TEST(Interpreter, MachineSpacesAndTransforms) {
  const std::string m = "m = Machine(GPU);";
  EXPECT_EQ(value_of("m.size", m), "(2, 4)");
  EXPECT_EQ(value_of("m.len", m), "2");
  EXPECT_EQ(value_of("m.volume", m), "8");
  EXPECT_EQ(value_of("m[1, 2]", m), "node 1 GPU 2");
  EXPECT_EQ(value_of("m[1, *]", m), "{node 1 GPU 0, node 1 GPU 1, node 1 GPU 2, node 1 GPU 3}");
  EXPECT_EQ(value_of("m[*, 3]", m), "{node 0 GPU 3, node 1 GPU 3}");
  EXPECT_EQ(value_of("m[*(1, 2)]", m), "node 1 GPU 2");
  EXPECT_EQ(value_of("m[:-1]", m), "(2,)");
  // DSL.md worked examples on 2 nodes x 4 GPUs.
  EXPECT_EQ(value_of("m.split(1, 2).size", m), "(2, 2, 2)");
  EXPECT_EQ(value_of("m.split(1, 2)[1, 0, 1]", m), "node 1 GPU 2");
  EXPECT_EQ(value_of("m.merge(0, 1)[5]", m), "node 1 GPU 1");
  EXPECT_EQ(value_of("m.merge(1, 0)[5]", m), "node 1 GPU 2");
  EXPECT_EQ(value_of("m.slice(1, 1, 2)[0, 1]", m), "node 0 GPU 2");
  EXPECT_EQ(value_of("m.swap(0, 1)[3, 1]", m), "node 1 GPU 3");
  EXPECT_EQ(value_of("m.reverse(1)[0, 0]", m), "node 0 GPU 3");
  EXPECT_EQ(value_of("m.merge(0, 1).balance_split(0, 2).size", m), "(4, 2)");
  EXPECT_EQ(value_of("m.auto_split(0, (4, 4)).size", m), "(2, 1, 4)");
  EXPECT_EQ(value_of("m.greedy_split(1, (1, 8)).size", m), "(2, 1, 4)");
  EXPECT_EQ(value_of("m[2, 0]", m), "error: index 2 out of range for dimension 0 of size 2");
  EXPECT_EQ(value_of("m[-1, 0]", m), "error: negative index -1 for dimension 0 (use * for all processors)");
  EXPECT_EQ(value_of("m[0]", m), "error: a 2-D machine space takes 2 indices, not 1");
  EXPECT_EQ(value_of("m.split(1, 3)", m), "error: split: size 4 of dimension 1 is not divisible by 3");
  EXPECT_EQ(value_of("m.split(1)", m), "error: method 'split' takes 2 arguments but 1 was given");
  EXPECT_EQ(value_of("m.twist(1)", m), "error: a machine space has no method 'twist'");
  EXPECT_EQ(value_of("Machine(PROC)"), "error: the machine has no PROC processors");
}

TEST(Interpreter, PrintReplacesPlaceholdersInOrder) {
  BindResult b =
      load_mapper(SourceFile{"t.map", "print(\"a={} b={}\", 1, (2, 3));\nprint(\"plain\");\n"}, test::shape(1, 1));
  ASSERT_TRUE(b.mapper);
  EXPECT_EQ(b.mapper->log(), (std::vector<std::string>{"a=1 b=(2, 3)", "plain"}));
}

TEST(Interpreter, StepAndRecursionLimitsStopRunawayMappers) {
  // Unbounded recursion through the lazy conditional hits the depth limit.
  EXPECT_EQ(value_of("f(1)", "def f(int n) { return n < 0 ? 0 : f(n + 1); }"),
            "error: call depth exceeded 64 (unbounded recursion in 'f'?)");
  // Bounded recursion that does too much work hits the step limit.
  std::string wide = "def w(int n) { return n == 0 ? 1 : w(n - 1) + w(n - 1); }";
  EXPECT_EQ(value_of("w(40)", wide), "error: evaluation exceeded 1000000 steps (does the mapper loop forever?)");
  BindResult small = load_mapper(SourceFile{"t.map", wide + "\nx = w(10);\n"}, test::shape(1, 1), EvalLimits{100, 64});
  ASSERT_FALSE(small.mapper);
  EXPECT_EQ(diag_name(small.diagnostics.at(0).id), "step_limit");
}

TEST(Interpreter, GlobalsUsedByAFunctionBeforeTheirAssignment) {
  EXPECT_EQ(value_of("0", "def f() { return later; }\nx = f();\nlater = 1;"),
            "error: global 'later' is used before its assignment at line 3");
}

}  // namespace
}  // namespace mage::dsl
