// Splitting mappers into the six sections and assembling them again.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../test_support.h"
#include "dsl/dsl.h"
#include "llm/llm.h"

namespace mage::llm {
namespace {

std::shared_ptr<const dsl::Unit> compiled(const std::string& text, const std::string& name = "test.map") {
  dsl::SourceFile source{name, text};
  auto result = dsl::compile(source);
  EXPECT_TRUE(result.unit) << dsl::format_diagnostics(result.diagnostics, source);
  return result.unit;
}

using mage::test::read_text;

TEST(Sections, KeysRoundTrip) {
  for (Section s : kSections) {
    EXPECT_EQ(parse_section_key(section_key(s)), s);
    EXPECT_FALSE(section_description(s).empty());
  }
  EXPECT_EQ(parse_section_key("tasks"), std::nullopt);
}

TEST(Sections, TheExpertMappersSplitAndReassembleToTheSameMapper) {
  std::filesystem::path dir = std::filesystem::path(MAGE_SOURCE_DIR) / "mappers" / "expert";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".map") continue;
    ++count;
    std::string name = entry.path().filename();
    auto original = compiled(read_text(entry.path()), name);
    ASSERT_TRUE(original);
    Sections sections = split_sections(*original);
    // Every expert mapper has processor, memory and layout rules and placement functions.
    for (Section s : {Section::Task, Section::Region, Section::Layout, Section::IndexMap})
      EXPECT_FALSE(sections[s].empty()) << name << " " << section_key(s);
    auto again = compiled(assemble(sections), name);
    ASSERT_TRUE(again) << name;
    EXPECT_EQ(dsl::canonical_text(*again), dsl::canonical_text(*original)) << name;
    // And splitting the result gives the same sections.
    EXPECT_EQ(split_sections(*again), sections) << name;
  }
  EXPECT_EQ(count, 9);
}

TEST(Sections, EachStatementGoesToItsSection) {
  auto unit = compiled(
      "Region * * GPU FBMEM;\n"
      "Task * GPU;\n"
      "InstanceLimit t4 1;\n"
      "Layout * * * SOA C_order;\n"
      "ControlReplicate top;\n"
      "CollectMemory t4 *;\n"
      "m = Machine(GPU);\n"
      "unused = 3;\n"
      "def parent_gpu(Task task) { return m[*task.parent.processor(m)]; }\n"
      "def block(Task task) { return m[task.ipoint[0] % m.size[0], 0]; }\n"
      "IndexTaskMap t1 block;\n"
      "SingleTaskMap t4 parent_gpu;\n"
      "print(\"{}\", unused);\n");
  ASSERT_TRUE(unit);
  Sections s = split_sections(*unit);
  EXPECT_EQ(s[Section::Task], "Task * GPU;\nControlReplicate top;\n");
  EXPECT_EQ(s[Section::Region], "Region * * GPU FBMEM;\n");
  EXPECT_EQ(s[Section::Layout], "Layout * * * SOA C_order;\n");
  EXPECT_EQ(s[Section::Limits], "InstanceLimit t4 1;\nCollectMemory t4 *;\n");
  // m is used by both maps: it goes with the index maps, which come first.
  EXPECT_EQ(s[Section::IndexMap],
            "m = Machine(GPU);\n"
            "def block(Task task) {\n  return m[task.ipoint[0] % m.size[0], 0];\n}\n"
            "IndexTaskMap t1 block;\n");
  // What no IndexTaskMap uses, and anything else, goes last.
  EXPECT_EQ(s[Section::SingleMap],
            "unused = 3;\n"
            "def parent_gpu(Task task) {\n  return m[*task.parent.processor(m)];\n}\n"
            "SingleTaskMap t4 parent_gpu;\n"
            "print(\"{}\", unused);\n");
  auto again = compiled(assemble(s));
  ASSERT_TRUE(again);
}

TEST(Sections, DefinitionsNeededThroughOthersFollowTheIndexMaps) {
  // block calls helper, helper reads a global assigned after it: all three are needed.
  auto unit = compiled(
      "def helper(Task task) { return task.ipoint[0] % n; }\n"
      "n = 2;\n"
      "m = Machine(GPU);\n"
      "def block(Task task) { return m[helper(task), 0]; }\n"
      "IndexTaskMap t1 block;\n");
  ASSERT_TRUE(unit);
  Sections s = split_sections(*unit);
  EXPECT_TRUE(s[Section::SingleMap].empty()) << s[Section::SingleMap];
  EXPECT_NE(s[Section::IndexMap].find("def helper"), std::string::npos);
  EXPECT_NE(s[Section::IndexMap].find("n = 2;"), std::string::npos);
}

TEST(Sections, AssembleSkipsEmptySectionsAndTidiesEdges) {
  Sections s;
  s[Section::Task] = "\n\n  Task * GPU;   \n\n";
  s[Section::Layout] = "Layout * * * SOA C_order;";
  s[Section::SingleMap] = "  \n";
  EXPECT_EQ(assemble(s), "  Task * GPU;\n\nLayout * * * SOA C_order;\n");
  EXPECT_EQ(assemble(Sections{}), "");
}

TEST(Sections, AProposalReplacesOnlyItsSections) {
  Sections current;
  current[Section::Task] = "Task * GPU;\n";
  current[Section::Region] = "Region * * GPU FBMEM;\n";
  Proposal p;
  p.sections[Section::Region] = "Region * * GPU ZCMEM;";
  EXPECT_EQ(p.apply_to(current), "Task * GPU;\n\nRegion * * GPU ZCMEM;\n");
  p.sections[Section::Task] = "";  // emptied: the section is dropped
  EXPECT_EQ(p.apply_to(current), "Region * * GPU ZCMEM;\n");
  Proposal whole;
  whole.mapper = "Task * CPU;\n";
  EXPECT_EQ(whole.apply_to(current), "Task * CPU;\n");
}

}  // namespace
}  // namespace mage::llm
