// Reading proposals out of replies in every form models write them, and the errors a
// malformed reply gets (they go back to the model as feedback).
#include <gtest/gtest.h>

#include "dsl/dsl.h"
#include "llm/llm.h"

namespace mage::llm {
namespace {

Proposal proposal_of(std::string_view reply) {
  Extraction x = extract_proposal(reply);
  EXPECT_TRUE(x.proposal) << x.error << "\nreply:\n" << reply;
  EXPECT_TRUE(x.error.empty());
  return x.proposal.value_or(Proposal{});
}

std::string error_of(std::string_view reply) {
  Extraction x = extract_proposal(reply);
  EXPECT_FALSE(x.proposal) << "reply:\n" << reply;
  EXPECT_FALSE(x.error.empty());
  return x.error;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Extract, BareJson) {
  Proposal p = proposal_of(
      R"({"reasoning": "rp_shared is copied every step", "sections": {"region": "Region * * GPU FBMEM;\n"}})");
  EXPECT_EQ(p.reasoning, "rp_shared is copied every step");
  EXPECT_FALSE(p.mapper);
  ASSERT_EQ(p.sections.size(), 1u);
  EXPECT_EQ(p.sections.at(Section::Region), "Region * * GPU FBMEM;\n");
}

TEST(Extract, JsonInAFenceAmidProse) {
  Proposal p = proposal_of(
      "Looking at the feedback, the copies dominate.\n"
      "```json\n"
      "{\n"
      "  \"reasoning\": \"keep shared nodes in the framebuffer\",\n"
      "  \"sections\": {\"region\": \"Region * * GPU FBMEM;\", \"layout\": \"Layout * * * SOA C_order;\"}\n"
      "}\n"
      "```\n"
      "This should help.");
  EXPECT_EQ(p.reasoning, "keep shared nodes in the framebuffer");
  EXPECT_EQ(p.sections.size(), 2u);
  EXPECT_EQ(p.sections.at(Section::Layout), "Layout * * * SOA C_order;");
}

TEST(Extract, JsonAmidProseWithoutAFence) {
  Proposal p = proposal_of(
      "Sure! Here is the change: {\"reasoning\": \"r\", \"sections\": {\"task\": \"Task * GPU;\"}} Let me know.");
  EXPECT_EQ(p.sections.at(Section::Task), "Task * GPU;");
}

TEST(Extract, JsonWithRawLineBreaksInStrings) {
  Proposal p = proposal_of(
      "{\"reasoning\": \"two lines\", \"sections\": {\"index_map\": \"m = Machine(GPU);\n"
      "def f(Task task) {\n\treturn m[0, 0];\n}\nIndexTaskMap * f;\"}}");
  EXPECT_EQ(p.sections.at(Section::IndexMap),
            "m = Machine(GPU);\ndef f(Task task) {\n\treturn m[0, 0];\n}\n"
            "IndexTaskMap * f;");
}

TEST(Extract, SectionsAsListsOfLines) {
  Proposal p = proposal_of(R"({"sections": {"limits": ["InstanceLimit task_4 1;", "CollectMemory task_4 *;"]}})");
  EXPECT_EQ(p.sections.at(Section::Limits), "InstanceLimit task_4 1;\nCollectMemory task_4 *;\n");
  EXPECT_EQ(p.reasoning, "");
}

TEST(Extract, AFencedMapperBlock) {
  Proposal p = proposal_of(
      "I rewrote the whole mapper:\n"
      "```mapper\n"
      "Task * GPU;\n"
      "def f(Task task) { print(\"{}\", task.ipoint); return Machine(GPU)[0, 0]; }\n"
      "IndexTaskMap * f;\n"
      "```\n");
  ASSERT_TRUE(p.mapper);
  EXPECT_EQ(*p.mapper,
            "Task * GPU;\n"
            "def f(Task task) { print(\"{}\", task.ipoint); return Machine(GPU)[0, 0]; }\n"
            "IndexTaskMap * f;\n");
  EXPECT_TRUE(p.sections.empty());
  EXPECT_EQ(p.apply_to(Sections{}), *p.mapper);
}

TEST(Extract, TheLastOfSeveralFencedBlocks) {
  Proposal p = proposal_of("The old one:\n```\nTask * CPU;\n```\nThe new one:\n```\nTask * GPU;\n```\n");
  ASSERT_TRUE(p.mapper);
  EXPECT_EQ(*p.mapper, "Task * GPU;\n");
}

TEST(Extract, AFenceLeftOpenByACutReply) {
  Proposal p = proposal_of("```\nTask * GPU;\nRegion * * GPU FBMEM;\n");
  ASSERT_TRUE(p.mapper);
  EXPECT_EQ(*p.mapper, "Task * GPU;\nRegion * * GPU FBMEM;\n");
}

TEST(Extract, JsonWinsOverFencedCode) {
  Proposal p = proposal_of("```\nTask * CPU;\n```\n```json\n{\"sections\": {\"task\": \"Task * OMP;\"}}\n```\n");
  EXPECT_FALSE(p.mapper);
  EXPECT_EQ(p.sections.at(Section::Task), "Task * OMP;");
}

TEST(Extract, MalformedJsonSaysWhere) {
  std::string e = error_of("```json\n{\"reasoning\": \"x\",\n \"sections\": {\"task\": \"Task * GPU;\",}}\n```");
  EXPECT_TRUE(has(e, "the JSON object in your reply is malformed: parse error at line 2, column")) << e;
  EXPECT_TRUE(has(e, "counted from the object's opening brace")) << e;
  EXPECT_FALSE(has(e, "[json.exception")) << e;
}

TEST(Extract, WrongSectionsAreNamed) {
  std::string unknown = error_of(R"({"sections": {"tasks": "Task * GPU;"}})");
  EXPECT_EQ(unknown,
            "\"sections\" in your reply names an unknown section \"tasks\"; the sections are task, region, layout, "
            "limits, index_map, single_map");
  std::string not_object = error_of(R"({"sections": ["Task * GPU;"]})");
  EXPECT_TRUE(has(not_object, "\"sections\" in your reply is an array, not an object")) << not_object;
  std::string empty = error_of(R"({"reasoning": "nothing to change", "sections": {}})");
  EXPECT_TRUE(has(empty, "\"sections\" in your reply is empty")) << empty;
  std::string number = error_of(R"({"sections": {"limits": 1}})");
  EXPECT_EQ(number, "section \"limits\" in your reply is a number; it must be a string of mapping-language text");
}

TEST(Extract, NothingToTake) {
  EXPECT_EQ(error_of("  \n"), "your reply is empty");
  std::string prose = error_of("I think the mapper is already optimal.");
  EXPECT_TRUE(has(prose, "neither a JSON object")) << prose;
  std::string other_json = error_of(R"({"answer": "Task * GPU;"})");
  EXPECT_TRUE(has(other_json, "neither a JSON object")) << other_json;
  std::string empty_fence = error_of("```\n\n```\n");
  EXPECT_TRUE(has(empty_fence, "the fenced block in your reply is empty")) << empty_fence;
}

TEST(Extract, AJsonProposalAppliedToTheCurrentSectionsCompiles) {
  Sections current;
  current[Section::Task] = "Task * GPU,OMP,CPU;\n";
  current[Section::Region] = "Region * * GPU FBMEM;\n";
  current[Section::IndexMap] =
      "m = Machine(GPU);\ndef f(Task task) { return m[0, task.ipoint[0] % m.size[1]]; }\n"
      "IndexTaskMap * f;\n";
  Proposal p = proposal_of(R"({"sections": {"region": "Region * * GPU ZCMEM;", "single_map":
      "def same(Task task) { return m[*task.parent.processor(m)]; }\nSingleTaskMap * same;"}})");
  std::string mapper = p.apply_to(current);
  auto result = dsl::compile(dsl::SourceFile{"new.map", mapper});
  ASSERT_TRUE(result.unit) << mapper;
  EXPECT_TRUE(has(mapper, "Region * * GPU ZCMEM;\n\nm = Machine(GPU);")) << mapper;
}

}  // namespace
}  // namespace mage::llm
