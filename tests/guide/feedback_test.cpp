// Hints and feedback as data: the JSON contract (keys and their order), round trips,
// malformed input, and the text form.
#include <nlohmann/json.hpp>

#include "helpers.h"

namespace mage::guide::test {
namespace {

Feedback sample() {
  Feedback f;
  f.category = Category::RemoteAccess;
  f.status = sim::Status::Ok;
  f.explanation = "calculate_new_currents spends 12% of its 8.55 s accessing rp_ghost in ZCMEM.";
  f.suggestions = {"put rp_ghost in the framebuffer: `Region calculate_new_currents rp_ghost GPU FBMEM;`",
                   "or change the rule"};
  f.hints = {Hint{Action::Memory, "calculate_new_currents", "rp_ghost", "ZCMEM", "FBMEM", "it waits on PCIe", 0.25},
             Hint{Action::InstanceLimit, "task_4", "", "1", "none", "memory has room", 0}};
  return f;
}

TEST(Hint, JsonHasExactlyTheContractKeysInOrder) {
  const nlohmann::ordered_json j = sample().hints[0].to_json();
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"action", "task", "argument", "from", "to", "reason", "impact_s"}));
  EXPECT_EQ(j["action"], "memory");
  EXPECT_EQ(j["impact_s"], 0.25);
}

TEST(Hint, EveryActionHasItsContractName) {
  const std::vector<std::pair<Action, std::string>> names{{Action::Processor, "processor"},
                                                          {Action::Memory, "memory"},
                                                          {Action::Layout, "layout"},
                                                          {Action::Placement, "placement"},
                                                          {Action::InstanceLimit, "instance_limit"},
                                                          {Action::CollectMemory, "collect_memory"},
                                                          {Action::Edit, "edit"}};
  for (const auto& [action, name] : names) {
    EXPECT_EQ(to_string(action), name);
    EXPECT_EQ(parse_action(name), action);
  }
  EXPECT_FALSE(parse_action("Memory"));
}

TEST(Hint, RoundTripsAndRejectsAnUnknownActionOrAMissingKey) {
  for (const Hint& h : sample().hints) EXPECT_EQ(Hint::from_json(nlohmann::json::parse(h.to_json().dump())), h);
  nlohmann::json bad = nlohmann::json::parse(sample().hints[0].to_json().dump());
  bad["action"] = "teleport";
  EXPECT_THROW(Hint::from_json(bad), nlohmann::json::exception);
  nlohmann::json missing = nlohmann::json::parse(sample().hints[0].to_json().dump());
  missing.erase("impact_s");
  EXPECT_THROW(Hint::from_json(missing), nlohmann::json::exception);
}

TEST(Feedback, JsonHasTheDocumentedKeysAndRoundTrips) {
  const nlohmann::ordered_json j = sample().to_json();
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"category", "status", "message", "explanation", "suggestions", "hints"}));
  EXPECT_EQ(j["category"], "remote_access");
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(Feedback::from_json(nlohmann::json::parse(j.dump())).to_json().dump(), j.dump());
  nlohmann::json bad = nlohmann::json::parse(j.dump());
  bad["category"] = "cosmic_rays";
  EXPECT_THROW(Feedback::from_json(bad), nlohmann::json::exception);
}

TEST(Feedback, EveryCategoryNameParsesBack) {
  for (int i = 0; i <= static_cast<int>(Category::ComputeBound); ++i) {
    const auto c = static_cast<Category>(i);
    EXPECT_NE(to_string(c), "?");
    EXPECT_EQ(parse_category(to_string(c)), c);
  }
}

TEST(Feedback, TextHasTheCategoryTheExplanationNumberedSuggestionsAndTheMessage) {
  Feedback f = sample();
  f.status = sim::Status::MapperError;
  f.message = "m.map:3:1: error: boom\nline two";
  const std::string text = render(f);
  EXPECT_EQ(text,
            "remote_access (mapper error)\n"
            "calculate_new_currents spends 12% of its 8.55 s accessing rp_ghost in ZCMEM.\n"
            "suggestions:\n"
            "  1. put rp_ghost in the framebuffer: `Region calculate_new_currents rp_ghost GPU FBMEM;`\n"
            "  2. or change the rule\n"
            "message:\n"
            "  m.map:3:1: error: boom\n"
            "  line two\n");
  f.message.clear();
  f.suggestions.clear();
  EXPECT_EQ(render(f),
            "remote_access (mapper error)\n"
            "calculate_new_currents spends 12% of its 8.55 s accessing rp_ghost in ZCMEM.\n");
}

}  // namespace
}  // namespace mage::guide::test
