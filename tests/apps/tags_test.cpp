// The launch tags the published programs set (issue 9 §2): DISTAL tags its nested launch
// (task_5 by task_6 in Cannon, SUMMA, PUMMA) same address space and every region
// requirement of its inner tasks virtual; nothing else is tagged. `mage app show` shows them.
#include "helpers.h"

#include <nlohmann/json.hpp>

namespace mage::apps::test {
namespace {

const std::vector<std::string> kApps = {"circuit", "stencil", "pennant",   "cannon", "summa",
                                        "pumma",   "johnson", "solomonik", "cosma"};

bool is_mm2d(const std::string& app) { return app == "cannon" || app == "summa" || app == "pumma"; }

TEST(Tags, OnlyDistalsNestedTask5LaunchIsSameAddressSpace) {
  for (const std::string& app : kApps)
    for (int nodes : {1, 4}) {
      Program p = build(app, machine(nodes, 4, Scale::Small));
      int tagged = 0;
      for (const Launch& l : p.launches) {
        if (!l.same_address_space) continue;
        ++tagged;
        EXPECT_EQ(p.task_of(l).name, "task_5") << app;
        ASSERT_TRUE(l.parent.valid()) << app;
        EXPECT_EQ(p.task_of(p.launches[l.parent.index()]).name, "task_6") << app;
        EXPECT_EQ(l.kind, LaunchKind::Index) << app;
      }
      // One task_5 launch per timed or warm-up iteration.
      EXPECT_EQ(tagged > 0, is_mm2d(app)) << app;
      if (is_mm2d(app)) {
        EXPECT_EQ(tagged, p.iterations + p.warmup_iterations) << app;
      }
    }
}

TEST(Tags, InnerTasksArgumentsAreVirtualLeafArgumentsNever) {
  for (const std::string& app : kApps) {
    Program p = build(app, machine(2, 4, Scale::Small));
    for (const Launch& l : p.launches)
      for (const RegionArg& a : l.args) EXPECT_EQ(a.virtual_tag, !p.task_of(l).leaf) << app << " " << p.task_of(l).name;
  }
}

TEST(Tags, TheProgramRefusesTagsALaunchCannotCarry) {
  Program p = build("cannon", machine(1, 4, Scale::Small));
  const Launch& task_1 = first_launch(p, "task_1");  // top level, leaf
  const Launch& task_4 = first_launch(p, "task_4");  // nested, leaf, single
  const Launch& task_6 = first_launch(p, "task_6");  // nested, inner, single
  EXPECT_THROW(p.tag_same_address_space(task_1.id), ProgramError);
  EXPECT_THROW(p.tag_same_address_space(task_6.id), ProgramError);
  EXPECT_THROW(p.tag_virtual(task_4.id), ProgramError);
  EXPECT_THROW(p.tag_virtual(LaunchId::at(p.launches.size())), ProgramError);
  try {
    p.tag_virtual(task_1.id);
    ADD_FAILURE() << "a leaf task's arguments were tagged virtual";
  } catch (const ProgramError& e) {
    EXPECT_STREQ(e.what(), "launch of task_1: a leaf task's arguments cannot be tagged virtual");
  }
  // add_launch checks the same.
  Launch bad = task_4;
  bad.children.clear();
  bad.args[0].virtual_tag = true;
  EXPECT_THROW(p.add_launch(bad), ProgramError);
  Launch top = task_1;
  top.same_address_space = true;
  EXPECT_THROW(p.add_launch(top), ProgramError);
}

TEST(Tags, DescriptionsShowThem) {
  const std::string d = describe(build("summa", machine(2)));
  for (const char* s : {"index launch over 2x2 by each task_6 point, tagged same address space", ", tagged virtual",
                        "tags (set by the program, as in the published code):", "same address space: without an"})
    EXPECT_NE(d.find(s), std::string::npos) << "missing: " << s << "\n" << d;
  const std::string circuit = describe(build("circuit", machine(2)));
  EXPECT_EQ(circuit.find("tagged"), std::string::npos);
  EXPECT_EQ(circuit.find("tags ("), std::string::npos);

  nlohmann::json j = describe_json(build("summa", machine(2)));
  int checked = 0;
  for (const auto& t : j["tasks"])
    for (const auto& l : t["launches"]) {
      EXPECT_EQ(l["same_address_space"].get<bool>(), t["name"] == "task_5") << t["name"];
      for (const auto& a : l["args"]) EXPECT_EQ(a["virtual_tag"].get<bool>(), !t["leaf"].get<bool>()) << t["name"];
      ++checked;
    }
  EXPECT_GT(checked, 4);
}

}  // namespace
}  // namespace mage::apps::test
