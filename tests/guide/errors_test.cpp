// Each error category, triggered by a mapper of tests/guide/mappers (one per category), and
// its feedback: the category, the words it must name, and hints that fix the error when
// applied (an edit that makes the mapper compile or run, a rule change that fits).
#include <nlohmann/json.hpp>

#include "dsl/dsl.h"
#include "helpers.h"

namespace mage::guide::test {
namespace {

using apps::Scale;
using sim::Status;

// The single edit hint of `f`, applied to the mapper text of `e`.
std::string fixed_text(const Explained& e) {
  EXPECT_FALSE(e.feedback.hints.empty());
  if (e.feedback.hints.empty()) return e.request.mapper.text;
  EXPECT_EQ(e.feedback.hints.front().action, Action::Edit) << e.feedback.hints.front().to_json().dump();
  return apply_edit(e.request.mapper.text, e.feedback.hints.front());
}

bool compiles(const std::string& text) {
  return !dsl::has_errors(dsl::compile(dsl::SourceFile{"fixed.map", text}).diagnostics);
}

Status run_status(const std::string& app, const std::string& text, Scale scale = Scale::Small) {
  return eval::evaluate(request_for(app, eval::mapper_text(text, "fixed.map"), scale)).outcome.status;
}

TEST(MapperErrors, AColonWhereABodyNeedsABraceIsFixedOnItsLine) {
  Explained e = explain_run("circuit", test_mapper("syntax_colon.map"));
  EXPECT_EQ(e.result.outcome.status, Status::MapperError);
  EXPECT_EQ(e.feedback.category, Category::SyntaxError);
  EXPECT_EQ(e.feedback.status, Status::MapperError);
  EXPECT_EQ(e.feedback.message, e.result.outcome.message);
  EXPECT_TRUE(contains(e.feedback.explanation, "syntax_colon.map:3")) << e.feedback.explanation;
  EXPECT_TRUE(contains(e.feedback.explanation, "':'")) << e.feedback.explanation;
  ASSERT_EQ(e.feedback.hints.size(), 1u);
  EXPECT_EQ(e.feedback.hints[0].from, "def block1d(Task task):");
  EXPECT_EQ(e.feedback.hints[0].to, "def block1d(Task task) {");
  EXPECT_TRUE(contains(suggestions(e.feedback), "`def block1d(Task task) {`"));
  EXPECT_TRUE(compiles(fixed_text(e)));
}

TEST(MapperErrors, AnUndefinedMachineSpaceIsDefinedBeforeItsFirstUse) {
  Explained e = explain_run("circuit", test_mapper("undefined_space.map"));
  EXPECT_EQ(e.feedback.category, Category::UndefinedName);
  EXPECT_TRUE(contains(e.feedback.explanation, "'mgpu'")) << e.feedback.explanation;
  EXPECT_TRUE(contains(suggestions(e.feedback), "`mgpu = Machine(GPU);`")) << suggestions(e.feedback);
  const std::string fixed = fixed_text(e);
  EXPECT_TRUE(compiles(fixed)) << fixed;
  EXPECT_EQ(run_status("circuit", fixed), Status::Ok);
}

TEST(MapperErrors, AMisspeltNameIsReplacedByTheClosestDefinedOne) {
  Explained e = explain_run("circuit", test_mapper("undefined_typo.map"));
  EXPECT_EQ(e.feedback.category, Category::UndefinedName);
  EXPECT_TRUE(contains(e.feedback.explanation, "'mpgu'")) << e.feedback.explanation;
  EXPECT_TRUE(contains(suggestions(e.feedback), "did you mean 'mgpu'")) << suggestions(e.feedback);
  EXPECT_EQ(run_status("circuit", fixed_text(e)), Status::Ok);
}

TEST(MapperErrors, AWrongArgumentCountQuotesTheDefinition) {
  Explained e = explain_run("circuit", test_mapper("wrong_arity.map"));
  EXPECT_EQ(e.feedback.category, Category::WrongArity);
  EXPECT_TRUE(contains(e.feedback.explanation, "gpu_of")) << e.feedback.explanation;
  EXPECT_TRUE(contains(suggestions(e.feedback), "`def gpu_of(int node, int gpu)`")) << suggestions(e.feedback);
  // Which argument is missing is not known: advice only, no Edit hint with prose for its text.
  EXPECT_TRUE(e.feedback.hints.empty()) << e.feedback.hints.front().to_json().dump();
}

// The type error shows only when block1d runs, so it is a mapping error about a task.
TEST(MapperErrors, AWrongArgumentTypeNamesTheTaskBeingPlacedAndTheSignature) {
  Explained e = explain_run("circuit", test_mapper("wrong_type.map"));
  EXPECT_EQ(e.result.outcome.status, Status::MappingError);
  EXPECT_EQ(e.feedback.category, Category::WrongType);
  EXPECT_TRUE(contains(e.feedback.explanation, "must be a task but is an int")) << e.feedback.explanation;
  EXPECT_TRUE(contains(suggestions(e.feedback), "`def owner(Task task)`")) << suggestions(e.feedback);
  EXPECT_TRUE(e.feedback.hints.empty()) << e.feedback.hints.front().to_json().dump();
}

TEST(MappingErrors, AnIndexPastTheMachineIsTakenModuloItsDimension) {
  Explained e = explain_run("circuit", test_mapper("placement_out_of_range.map"));
  EXPECT_EQ(e.result.outcome.status, Status::MappingError);
  EXPECT_EQ(e.feedback.category, Category::PlacementOutOfRange);
  for (const char* word : {"shifted", "(3)", "calculate_new_currents", "index 4", "dimension 1", "mgpu"})
    EXPECT_TRUE(contains(e.feedback.explanation, word)) << word << ": " << e.feedback.explanation;
  ASSERT_EQ(e.feedback.hints.size(), 1u);
  EXPECT_EQ(e.feedback.hints[0].task, "calculate_new_currents");
  EXPECT_EQ(e.feedback.hints[0].to, "  return mgpu[ip[0] / mgpu.size[1], (ip[0] + 1) % mgpu.size[1]];");
  EXPECT_EQ(run_status("circuit", fixed_text(e)), Status::Ok);
}

TEST(MappingErrors, AProcessorOfTheWrongKindIsReplacedByTheTasksSpace) {
  Explained e = explain_run("circuit", test_mapper("wrong_processor_kind.map"));
  EXPECT_EQ(e.feedback.category, Category::WrongProcessorKind);
  EXPECT_TRUE(contains(e.feedback.explanation, "returns a CPU")) << e.feedback.explanation;
  EXPECT_TRUE(contains(e.feedback.explanation, "runs on GPUs")) << e.feedback.explanation;
  ASSERT_GE(e.feedback.hints.size(), 2u);
  EXPECT_EQ(e.feedback.hints[0].to, "  return mgpu[ip[0] / mgpu.size[1], ip[0] % mgpu.size[1]];");
  EXPECT_EQ(run_status("circuit", fixed_text(e)), Status::Ok);
  // Or the task runs where the function places it: it has a CPU variant.
  const Hint* cpu = find_hint(e.feedback, Action::Processor, "calculate_new_currents", "");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->from, "GPU");
  EXPECT_EQ(cpu->to, "CPU");
}

TEST(MappingErrors, VirtualMemoryForALeafTaskGetsItsProcessorsBestMemory) {
  Explained e = explain_run("circuit", test_mapper("virtual_leaf.map"));
  EXPECT_EQ(e.feedback.category, Category::VirtualLeaf);
  EXPECT_TRUE(contains(e.feedback.explanation, "virtual_leaf.map:4")) << e.feedback.explanation;
  const Hint* h = find_hint(e.feedback, Action::Memory, "calculate_new_currents", "rp_wires");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->from, "VIRTUAL");
  EXPECT_EQ(h->to, "FBMEM");
  EXPECT_TRUE(contains(suggestions(e.feedback), "`Region calculate_new_currents rp_wires GPU FBMEM;`"));
}

TEST(MapperErrors, AnyOtherErrorNamesItsLineAndAnInstanceLimitOf0Becomes1) {
  Explained e = explain_run("circuit", test_mapper("mapper_error.map"));
  EXPECT_EQ(e.feedback.category, Category::MapperError);
  EXPECT_TRUE(contains(e.feedback.explanation, "mapper_error.map:2")) << e.feedback.explanation;
  ASSERT_EQ(e.feedback.hints.size(), 1u);
  EXPECT_EQ(e.feedback.hints[0].from, "InstanceLimit calculate_new_currents 0;");
  EXPECT_EQ(e.feedback.hints[0].to, "InstanceLimit calculate_new_currents 1;");
  EXPECT_EQ(run_status("circuit", fixed_text(e)), Status::Ok);
}

TEST(MappingErrors, ATaskRuleNoVariantMatchesGetsAKindTheTaskHas) {
  Explained e = explain_run("circuit", test_mapper("no_processor_kind.map"));
  EXPECT_EQ(e.feedback.category, Category::NoProcessorKind);
  EXPECT_TRUE(contains(e.feedback.explanation, "init_piece has no GPU variant")) << e.feedback.explanation;
  expect_first_hint(e.feedback, Action::Processor, "init_piece", "GPU", "CPU");
}

TEST(MappingErrors, AnyOtherFailureOfAPlacementNamesTheFunctionAndThePoint) {
  Explained e = explain_run("circuit", test_mapper("placement_error.map"));
  EXPECT_EQ(e.feedback.category, Category::PlacementError);
  for (const char* word : {"spread", "point (0)", "calculate_new_currents", "division by zero"})
    EXPECT_TRUE(contains(e.feedback.explanation, word)) << word << ": " << e.feedback.explanation;
  EXPECT_TRUE(contains(suggestions(e.feedback), "guard it in spread")) << suggestions(e.feedback);
  EXPECT_TRUE(e.feedback.hints.empty()) << e.feedback.hints.front().to_json().dump();
}

TEST(MapperErrors, AMissingSemicolonIsAddedWhereTheParserPoints) {
  Explained e = explain_run("circuit", eval::mapper_text("Task * GPU,CPU\nRegion * * GPU FBMEM;\n", "semi.map"));
  EXPECT_EQ(e.feedback.category, Category::SyntaxError);
  ASSERT_EQ(e.feedback.hints.size(), 1u);
  EXPECT_EQ(e.feedback.hints[0].from, "Task * GPU,CPU");
  EXPECT_EQ(e.feedback.hints[0].to, "Task * GPU,CPU;");
  EXPECT_EQ(run_status("circuit", fixed_text(e)), Status::Ok);
}

// An Edit hint's `to` is mapper text that replaces `from` (guide.h): applied, every one of them
// leaves a mapper that compiles, so an optimizer applying hints blindly never writes prose into
// a mapper.
TEST(MapperErrors, EveryEditHintAppliedCompiles) {
  const std::filesystem::path dir = std::filesystem::path(MAGE_SOURCE_DIR) / "tests/guide/mappers";
  int edits = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    Explained e = explain_run("circuit", test_mapper(name));
    for (const Hint& h : e.feedback.hints) {
      if (h.action != Action::Edit) continue;
      ++edits;
      const std::string fixed = apply_edit(e.request.mapper.text, h);
      EXPECT_NE(fixed, e.request.mapper.text) << name << ": " << h.to_json().dump();
      EXPECT_TRUE(compiles(fixed)) << name << ": " << h.to_json().dump() << "\n" << fixed;
    }
  }
  EXPECT_GE(edits, 6);  // colon, undefined space, typo, out of range, wrong kind, instance limit
}

TEST(ExecutionErrors, DgemmInFOrderGetsCOrderForEachOperand) {
  Explained e = explain_run("cannon", test_mapper("layout_f_order.map"));
  EXPECT_EQ(e.result.outcome.status, Status::ExecutionError);
  EXPECT_EQ(e.feedback.category, Category::LayoutMismatch);
  EXPECT_TRUE(contains(e.feedback.explanation, "layout_f_order.map:6")) << e.feedback.explanation;
  for (const char* operand : {"A_gpus", "B_gpus", "C_gpus"}) {
    const Hint* h = find_hint(e.feedback, Action::Layout, "task_4", operand);
    ASSERT_NE(h, nullptr) << operand;
    EXPECT_EQ(h->from, "SOA F_order");
    EXPECT_EQ(h->to, "SOA C_order");
  }
  EXPECT_TRUE(contains(suggestions(e.feedback), "`Layout task_4 * * SOA C_order;`"));
  std::string fixed = e.request.mapper.text;
  fixed.replace(fixed.find("SOA F_order"), 11, "SOA C_order");
  EXPECT_EQ(run_status("cannon", fixed), Status::Ok);
}

TEST(ExecutionErrors, OutOfZeroCopyMemoryMovesTheDataToTheLargerFramebuffer) {
  Explained e = explain_run("cannon", test_mapper("oom_zero_copy.map"), Scale::Published);
  EXPECT_EQ(e.result.outcome.status, Status::ExecutionError);
  EXPECT_EQ(e.feedback.category, Category::OutOfMemory);
  for (const char* word : {"node 0 ZCMEM 0", "A_gpus", "2 GiB"})
    EXPECT_TRUE(contains(e.feedback.explanation, word)) << word << ": " << e.feedback.explanation;
  const Hint* h = find_hint(e.feedback, Action::Memory, "*", "A_gpus");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->from, "ZCMEM");
  EXPECT_EQ(h->to, "FBMEM");
  EXPECT_TRUE(contains(suggestions(e.feedback), "`Region * * GPU FBMEM;`")) << suggestions(e.feedback);
}

// Johnson's example mapper (initial tiles cyclic over the ranks) without its CollectMemory, on
// a P100 node whose framebuffers hold 5 GiB: two task_4 points per GPU are mapped at once,
// their read-only tiles stay after use, and the tiles do not fit.
TEST(ExecutionErrors, OutOfFramebufferWithSeveralTasksInFlightLimitsThemAndCollectsInputs) {
  const std::filesystem::path dir = std::filesystem::path(MAGE_BINARY_DIR) / "tests/guide";
  std::filesystem::create_directories(dir);
  std::string toml(*machine::preset_text("p100x4"));
  const std::string fb = "kind = \"FBMEM\"\nper = \"gpu\"\ncapacity_gib = 15";
  ASSERT_NE(toml.find(fb), std::string::npos);
  toml.replace(toml.find(fb), fb.size(), "kind = \"FBMEM\"\nper = \"gpu\"\ncapacity_gib = 5");
  const std::filesystem::path file = dir / "p100x4_5gib.toml";
  std::ofstream(file) << toml;
  std::string text = read_text(std::string(MAGE_SOURCE_DIR) + "/mappers/examples/johnson.map");
  const std::string collect = "CollectMemory task_4 *;";
  text.erase(text.find(collect), collect.size());

  Explained e =
      explain_run(request_for("johnson", eval::mapper_text(text, "johnson.map"), Scale::Published, file.string()));
  EXPECT_EQ(e.feedback.category, Category::OutOfMemory);
  for (const char* word :
       {"node 0 FBMEM", "of its 5 GiB", "B_tiles", "C_tiles", "2 task_4 tasks are mapped and unfinished"})
    EXPECT_TRUE(contains(e.feedback.explanation, word)) << word << ": " << e.feedback.explanation;
  expect_first_hint(e.feedback, Action::InstanceLimit, "task_4", "none", "1");
  for (const char* data : {"B_tiles", "C_tiles"}) {
    const Hint* h = find_hint(e.feedback, Action::CollectMemory, "task_4", data);
    ASSERT_NE(h, nullptr) << data;
    EXPECT_EQ(h->from, "off");
    EXPECT_EQ(h->to, "on");
  }
  EXPECT_EQ(find_hint(e.feedback, Action::CollectMemory, "task_4", "A_tiles"), nullptr);  // reduced, not read
  EXPECT_TRUE(contains(suggestions(e.feedback), "`CollectMemory task_4 *;`")) << suggestions(e.feedback);
  // Applied, the hints make it fit.
  const eval::Request fixed = request_for(
      "johnson", eval::mapper_text(text + "InstanceLimit task_4 1;\nCollectMemory task_4 *;\n", "johnson_fixed.map"),
      Scale::Published, file.string());
  EXPECT_EQ(eval::evaluate(fixed).outcome.status, Status::Ok);
}

TEST(Failures, ASimulatorFailureSaysItIsNotTheMappersFault) {
  eval::Request r = request_for("circuit", eval::expert_mapper());
  r.debug_fault = eval::Fault::Crash;
  eval::Result result = eval::evaluate(r);
  ASSERT_EQ(result.outcome.status, Status::SimulatorFailure);
  Feedback f = explain(r, result);
  EXPECT_EQ(f.category, Category::SimulatorFailure);
  EXPECT_TRUE(contains(f.explanation, "not a property of the mapper")) << f.explanation;
  EXPECT_TRUE(f.hints.empty());
}

TEST(Explainer, AnUnknownAppIsARequestError) {
  EXPECT_THROW(Explainer(request_for("nbody", eval::expert_mapper())), eval::RequestError);
}

}  // namespace
}  // namespace mage::guide::test
