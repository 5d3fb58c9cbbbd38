// mage explain, end to end: the text form, --json (the feedback contract), every exit code
// and usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_mage.h"

namespace mage::test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(ExplainCommand, TheExpertCircuitMapperShouldKeepItsGhostsInTheFramebuffer) {
  auto r = run_mage("explain circuit --machine p100x4 --expert");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* s :
       {"circuit on p100x4, scale published, the expert mapper (mappers/expert/circuit.map)",
        "simulated time: ", "remote_access (ok)", "rp_ghost", "zero-copy memory (ZCMEM)",
        "suggestions:", "  1. put rp_ghost and rp_shared in the framebuffer (FBMEM)", "`Region * rp_ghost GPU FBMEM;`"})
    EXPECT_TRUE(contains(r.out, s)) << "missing: " << s << "\n" << r.out;
}

TEST(ExplainCommand, JsonIsTheFeedbackWithHintsInTheContractForm) {
  auto r = run_mage("explain circuit --machine p100x4 --expert --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"category", "status", "message", "explanation", "suggestions", "hints"}));
  EXPECT_EQ(j["category"], "remote_access");
  ASSERT_FALSE(j["hints"].empty());
  std::vector<std::string> hint_keys;
  for (const auto& [k, v] : j["hints"][0].items()) hint_keys.push_back(k);
  EXPECT_EQ(hint_keys, (std::vector<std::string>{"action", "task", "argument", "from", "to", "reason", "impact_s"}));
  EXPECT_EQ(j["hints"][0]["action"], "memory");
  EXPECT_EQ(j["hints"][0]["argument"], "rp_ghost");
  EXPECT_EQ(j["hints"][0]["to"], "FBMEM");
  // The same bytes every time.
  EXPECT_EQ(run_mage("explain circuit --machine p100x4 --expert --json").out, r.out);
}

TEST(ExplainCommand, ExitsAsRunDoesForEachStatus) {
  TempFile syntax("explain_syntax.map", "mgpu = Machine(GPU);\ndef f(Task t):\n  return mgpu[0, 0];\n}\n");
  auto mapper_error = run_mage("explain circuit --machine p100x4 --scale small --mapper " + syntax.path());
  EXPECT_EQ(mapper_error.exit_code, 2) << mapper_error.out;
  EXPECT_TRUE(contains(mapper_error.out, "syntax_error (mapper error)")) << mapper_error.out;
  EXPECT_TRUE(contains(mapper_error.out, "`def f(Task t) {`")) << mapper_error.out;

  auto mapping_error = run_mage("explain circuit --machine p100x4 --scale small --mapper " +
                                source_path("tests/guide/mappers/placement_out_of_range.map"));
  EXPECT_EQ(mapping_error.exit_code, 3) << mapping_error.out;
  EXPECT_TRUE(contains(mapping_error.out, "placement_out_of_range (mapping error)")) << mapping_error.out;

  auto execution_error = run_mage("explain cannon --machine p100x4 --scale small --mapper " +
                                  source_path("tests/guide/mappers/layout_f_order.map") + " --json");
  EXPECT_EQ(execution_error.exit_code, 4) << execution_error.out;
  EXPECT_EQ(nlohmann::json::parse(execution_error.out)["category"], "layout_mismatch");

  auto failure = run_mage("explain pennant --machine p100x4 --expert --time-limit 0.001");
  EXPECT_EQ(failure.exit_code, 5) << failure.out;
  EXPECT_TRUE(contains(failure.out, "simulator_failure (simulator failure)")) << failure.out;
  EXPECT_TRUE(contains(failure.out, "--time-limit")) << failure.out;
}

// The program explain builds in its own process is held to --memory-limit as the evaluation is.
TEST(ExplainCommand, BuildsWithinTheMemoryLimit) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitized builds run without an address-space limit";
#endif
  auto r = run_mage("explain circuit --machine lassen --nodes 64 --default --memory-limit 0.05");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out,
                       "mage: error: building circuit to explain it exceeded the memory limit of 51 MiB "
                       "(--memory-limit GIB raises it, --memory-limit 0 lifts it)"))
      << r.out;
}

TEST(ExplainCommand, UsageErrorsExit1) {
  auto none = run_mage("explain circuit --machine p100x4");
  EXPECT_EQ(none.exit_code, 1) << none.out;
  EXPECT_TRUE(contains(none.out, "--mapper FILE, --expert, --default")) << none.out;
  auto two = run_mage("explain circuit --machine p100x4 --expert --default");
  EXPECT_EQ(two.exit_code, 1) << two.out;
  auto missing = run_mage("explain circuit --machine p100x4 --mapper /no/such.map");
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_TRUE(contains(missing.out, "cannot read /no/such.map")) << missing.out;
  auto app = run_mage("explain nbody --machine p100x4 --expert");
  EXPECT_EQ(app.exit_code, 1) << app.out;
  auto machine = run_mage("explain circuit --machine nowhere --expert");
  EXPECT_EQ(machine.exit_code, 1) << machine.out;
  EXPECT_TRUE(contains(machine.out, "mage: error:")) << machine.out;
}

}  // namespace
}  // namespace mage::test
