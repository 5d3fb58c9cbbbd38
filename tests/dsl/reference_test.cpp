// The language reference cannot drift from the language: every reserved word is in it, its
// example mapper compiles and places tasks, and each transform line states the size the
// interpreter computes. And top_level_statements, which tools rearranging mappers build on.
#include <gtest/gtest.h>

#include <regex>

#include "dsl/lexer.h"
#include "test_util.h"

namespace mage::dsl {
namespace {

std::string example_mapper() {
  std::string reference = language_reference();
  size_t at = reference.find("\nEXAMPLE\n");
  EXPECT_NE(at, std::string::npos);
  return at == std::string::npos ? "" : reference.substr(at + 9);
}

TEST(LanguageReference, NamesEveryReservedWord) {
  std::string reference = language_reference();
  auto table = keyword_table();
  EXPECT_GT(table.size(), 40u);
  for (const auto& [spelling, tok] : table) {
    std::regex word("(^|[^A-Za-z_])" + std::string(spelling) + "([^A-Za-z_0-9]|$)");
    EXPECT_TRUE(std::regex_search(reference, word)) << spelling;
  }
}

TEST(LanguageReference, DescribesEveryRuleStatement) {
  std::string reference = language_reference();
  for (const char* keyword : {"Task", "Region", "Layout", "InstanceLimit", "CollectMemory", "IndexTaskMap",
                              "SingleTaskMap", "ControlReplicate"})
    EXPECT_NE(reference.find(std::string("\n") + keyword + " "), std::string::npos) << keyword;
}

TEST(LanguageReference, TheExampleCompilesAndUsesEveryStatementForm) {
  std::string text = example_mapper();
  auto result = compile(SourceFile{"example.map", text});
  ASSERT_TRUE(result.unit) << format_diagnostics(result.diagnostics, SourceFile{"example.map", text});
  EXPECT_TRUE(result.diagnostics.empty());
  std::set<std::string> keywords;
  for (const auto& s : top_level_statements(*result.unit)) keywords.insert(s.keyword);
  for (const char* keyword : {"Task", "Region", "Layout", "InstanceLimit", "CollectMemory", "IndexTaskMap",
                              "SingleTaskMap", "ControlReplicate", "def", "assignment"})
    EXPECT_TRUE(keywords.count(keyword)) << keyword;
}

TEST(LanguageReference, TheExamplesPlacementFunctionsRun) {
  auto bound = load_mapper(SourceFile{"example.map", example_mapper()}, test::shape(2, 4));
  ASSERT_TRUE(bound.mapper);
  const Mapper& m = *bound.mapper;

  TaskView piece{"calculate_new_currents", {5}, {8}, nullptr, ProcKind::GPU, std::nullopt};
  auto one_d = m.place(piece, ProcKind::GPU, true);
  ASSERT_TRUE(one_d.placement);
  EXPECT_EQ(one_d.placement->processors, (std::vector<ProcessorId>{{1, 1}}));

  // (3, 1) of a 4 x 4 launch: node 1 (rows 2-3), GPU (3 % 2) + 2 * (1 % 2) = 3.
  TaskView tile{"task_1", {3, 1}, {4, 4}, nullptr, ProcKind::GPU, std::nullopt};
  auto two_d = m.place(tile, ProcKind::GPU, true);
  ASSERT_TRUE(two_d.placement);
  EXPECT_EQ(two_d.placement->processors, (std::vector<ProcessorId>{{1, 3}}));

  TaskView parent{"task_5", {}, {}, nullptr, ProcKind::GPU, ProcessorId{1, 2}};
  TaskView leaf{"task_4", {}, {}, &parent, ProcKind::GPU, std::nullopt};
  auto same = m.place(leaf, ProcKind::GPU, false);
  ASSERT_TRUE(same.placement);
  EXPECT_EQ(same.placement->processors, (std::vector<ProcessorId>{{1, 2}}));

  TaskView other{"other_leaf", {}, {}, &parent, ProcKind::GPU, std::nullopt};
  auto node = m.place(other, ProcKind::GPU, false);
  ASSERT_TRUE(node.placement);
  EXPECT_TRUE(node.placement->is_set);
  EXPECT_EQ(node.placement->processors.size(), 4u);
}

TEST(LanguageReference, EachTransformLineStatesTheSizeTheInterpreterComputes) {
  std::string reference = language_reference();
  std::regex line(R"(\n  m\.(\w+\((?:[^()]|\([^()]*\))*\)) -> size (\([0-9, ]*\)))");
  std::set<std::string> transforms;
  for (std::sregex_iterator it(reference.begin(), reference.end(), line), end; it != end; ++it) {
    std::string call = (*it)[1], size = (*it)[2];
    transforms.insert(call.substr(0, call.find('(')));
    std::string text = "m = Machine(GPU);\nprint(\"{}\", m." + call + ");\n";
    auto bound = load_mapper(SourceFile{"transform.map", text}, test::shape(2, 4));
    ASSERT_TRUE(bound.mapper) << text << format_diagnostics(bound.diagnostics, SourceFile{"transform.map", text});
    ASSERT_EQ(bound.mapper->log().size(), 1u);
    EXPECT_EQ(bound.mapper->log()[0], "Machine(GPU) of size " + size) << call;
  }
  EXPECT_EQ(transforms, (std::set<std::string>{"split", "merge", "swap", "slice", "reverse", "balance_split",
                                               "auto_split", "greedy_split"}));
}

TEST(TopLevelStatements, GivesKeywordsDefinitionsNamesAndCanonicalText) {
  std::string text =
      "# header\n"
      "Task * GPU;\n"
      "\n"
      "m = Machine(GPU);\n"
      "def f(Task task) {\n"
      "  x = task.ipoint;   # local\n"
      "  return m[x[0] % m.size[0], helper_value];\n"
      "}\n"
      "helper_value = 0;\n"
      "IndexTaskMap t1 f;\n"
      "print(\"{}\", m);\n"
      "# the end\n";
  auto result = compile(SourceFile{"t.map", text});
  ASSERT_TRUE(result.unit) << format_diagnostics(result.diagnostics, SourceFile{"t.map", text});
  auto statements = top_level_statements(*result.unit);
  ASSERT_EQ(statements.size(), 6u);
  EXPECT_EQ(statements[0].keyword, "Task");
  EXPECT_EQ(statements[0].text, "# header\nTask * GPU;\n");
  EXPECT_FALSE(statements[0].blank_line_before);
  EXPECT_EQ(statements[1].keyword, "assignment");
  EXPECT_EQ(statements[1].defines, "m");
  EXPECT_TRUE(statements[1].blank_line_before);
  EXPECT_EQ(statements[2].keyword, "def");
  EXPECT_EQ(statements[2].defines, "f");
  // Globals (also one assigned after the function) and builtins; never locals or parameters.
  EXPECT_EQ(statements[2].names, (std::set<std::string>{"m", "helper_value"}));
  EXPECT_EQ(statements[4].keyword, "IndexTaskMap");
  EXPECT_EQ(statements[4].names, (std::set<std::string>{"f"}));
  EXPECT_EQ(statements[5].keyword, "print");
  EXPECT_EQ(statements[5].names, (std::set<std::string>{"m"}));
  EXPECT_EQ(statements[5].text, "print(\"{}\", m);\n# the end\n");

  std::string joined;
  for (size_t i = 0; i < statements.size(); ++i)
    joined += (i && statements[i].blank_line_before ? "\n" : "") + statements[i].text;
  EXPECT_EQ(joined, canonical_text(*result.unit));
}

}  // namespace
}  // namespace mage::dsl
