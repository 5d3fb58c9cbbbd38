// Runs every tests/dsl/errors/*.map: one small mapper per diagnostic (Halide's test/error
// style). Each file states what it expects in header comments:
//   # expect: LINE:COL: SEVERITY: MESSAGE      (one per diagnostic, in order; none = clean)
//   # machine: RANKS PROCS                     (also bind against this machine shape)
//   # place: TASK KIND POINT ISPACE [single]   (then evaluate one placement, e.g. "t GPU 5 8"
//                                              or "t GPU 1,2 4,4")
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "test_util.h"

namespace mage::dsl {
namespace {

namespace fs = std::filesystem;

std::vector<int64_t> parse_point(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(std::stoll(part));
  return out;
}

std::string render(const Diagnostic& d) {
  return fmt::format("{}:{}: {}: {}", d.loc.line, d.loc.col, to_string(d.severity), d.message);
}

class ErrorCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(ErrorCorpus, ReportsExactlyTheExpectedDiagnostics) {
  const std::string path = GetParam();
  const std::string text = test::read_text(path);
  std::vector<std::string> expected;
  std::optional<std::pair<int64_t, int64_t>> machine;
  std::optional<std::string> place;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    auto directive = [&](const std::string& key) -> std::optional<std::string> {
      std::string prefix = "# " + key + ": ";
      if (line.rfind(prefix, 0) != 0) return std::nullopt;
      return line.substr(prefix.size());
    };
    if (auto e = directive("expect")) expected.push_back(*e);
    if (auto m = directive("machine")) {
      std::istringstream ms(*m);
      int64_t r = 0, p = 0;
      ms >> r >> p;
      machine = {r, p};
    }
    if (auto p = directive("place")) place = *p;
  }
  SourceFile src{fs::path(path).filename().string(), text};
  std::vector<Diagnostic> got;
  CompileResult c = compile(src);
  got = c.diagnostics;
  if (c.unit && machine) {
    BindResult b = Mapper::bind(c.unit, test::shape(machine->first, machine->second));
    got.insert(got.end(), b.diagnostics.begin(), b.diagnostics.end());
    if (b.mapper && place) {
      std::istringstream ps(*place);
      std::string task, kind, point, ispace, single;
      ps >> task >> kind >> point >> ispace >> single;
      TaskView parent;
      parent.name = "parent";
      parent.kind = kinds::parse_proc_kind(kind);
      parent.processor = ProcessorId{0, 0};
      TaskView t;
      t.name = task;
      t.ipoint = parse_point(point);
      t.ispace = parse_point(ispace);
      t.parent = &parent;
      PlacementResult r = b.mapper->place(t, *kinds::parse_proc_kind(kind), single != "single");
      EXPECT_TRUE(r.has_rule) << path;
      if (r.error) got.push_back(*r.error);
    }
  }
  std::vector<std::string> rendered;
  for (const auto& d : got) rendered.push_back(render(d));
  EXPECT_EQ(rendered, expected) << path << "\n" << format_diagnostics(got, src);
}

std::vector<std::string> corpus() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(test::repo_path("tests/dsl/errors")))
    if (entry.path().extension() == ".map") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, ErrorCorpus, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

// Every diagnostic of the catalogue that a mapper can trigger has a file in the corpus.
TEST(ErrorCorpusCoverage, EveryDiagnosticHasAFile) {
  std::set<std::string> covered;
  for (const auto& f : corpus()) covered.insert(fs::path(f).stem().string());
  std::vector<std::string> missing;
  const std::set<std::string> not_from_source = {
      // Reported through check_names() with a program at hand, tested in mapper_test.cpp.
      "unknown_task", "unknown_region",
      // Context line attached to placement errors, not a diagnostic of its own.
      "placement_context"};
#define DIAG(id, severity, format) \
  if (!not_from_source.count(#id) && !covered.count(#id)) missing.push_back(#id);
#include "dsl/diagnostics.def"
#undef DIAG
  EXPECT_TRUE(missing.empty()) << "no tests/dsl/errors/<id>.map for: " << ::testing::PrintToString(missing);
}

}  // namespace
}  // namespace mage::dsl
