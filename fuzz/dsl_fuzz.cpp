// libFuzzer target: arbitrary bytes through lexer, parser, checker, printer, top-level
// evaluation and placement. Crashes, hangs, leaks and sanitizer reports are failures;
// so is a printer whose output does not parse back to the same tree.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dsl/dsl.h"
#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/unit.h"

using namespace mage::dsl;
using mage::kinds::MemKind;
using mage::kinds::ProcKind;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SourceFile src{"fuzz.map", std::string(reinterpret_cast<const char*>(data), size)};
  CompileResult c = compile(src);
  for (const auto& d : c.diagnostics) (void)format_diagnostic(d, src);
  if (!c.unit) return 0;

  // Printer property: parse(print(ast)) == ast.
  std::string printed = canonical_text(*c.unit);
  DiagnosticSink sink("printed.map");
  Module again = parse(SourceFile{"printed.map", printed}, sink);
  if (sink.has_errors() || dump(again) != dump(c.unit->module)) {
    std::fprintf(stderr, "printer round trip failed:\n--- printed\n%s\n--- dump before\n%s--- dump after\n%s",
                 printed.c_str(), dump(c.unit->module).c_str(), dump(again).c_str());
    std::abort();
  }

  MachineShape shape;
  shape.ranks = 2;
  for (auto k : {ProcKind::CPU, ProcKind::GPU, ProcKind::OMP}) shape.procs_per_rank[k] = 4;
  // Small budgets: a mapper that would run 1,000,000 steps makes the fuzzer slow, not
  // wiser; the limit paths themselves are still exercised.
  BindResult b = Mapper::bind(c.unit, shape, EvalLimits{20'000, 32});
  if (!b.mapper) return 0;
  const Mapper& m = *b.mapper;

  TaskView parent;
  parent.name = "parent";
  parent.kind = ProcKind::GPU;
  parent.processor = ProcessorId{1, 3};
  auto try_rules = [&](const auto& rules, bool index) {
    for (const auto& [key, rule] : rules) {
      TaskView t;
      t.name = key;
      t.parent = &parent;
      for (const auto& point : {std::vector<int64_t>{0, 0}, std::vector<int64_t>{3, 1}, std::vector<int64_t>{5}}) {
        t.ipoint = index ? point : std::vector<int64_t>{};
        t.ispace = index ? std::vector<int64_t>(point.size(), 6) : std::vector<int64_t>{};
        for (auto kind : {ProcKind::GPU, ProcKind::CPU}) (void)m.place(t, kind, index);
      }
    }
  };
  try_rules(c.unit->index_maps, true);
  try_rules(c.unit->single_maps, false);
  ArgumentView arg{1, {"rp_shared", "all_nodes"}};
  (void)m.memory_priority("t", arg, ProcKind::GPU);
  (void)m.layout("t", arg, MemKind::FBMEM, ProcKind::GPU);
  return 0;
}
