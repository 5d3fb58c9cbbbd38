// Helpers shared by the dsl tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "../test_support.h"
#include "dsl/dsl.h"
#include "dsl/parser.h"
#include "dsl/printer.h"

namespace mage::dsl::test {

using mage::test::read_text;

using mage::test::repo_path;

// Compiles `text` and returns its diagnostics.
inline std::vector<Diagnostic> diagnose(const std::string& text) {
  return compile(SourceFile{"test.map", text}).diagnostics;
}

// The one diagnostic id expected; empty string if there are none.
inline std::string ids(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    if (!out.empty()) out += ',';
    out += diag_name(d.id);
  }
  return out;
}

inline MachineShape shape(int64_t ranks, int64_t procs) {
  MachineShape s;
  s.ranks = ranks;
  for (kinds::ProcKind k : kinds::kProcKinds) s.procs_per_rank[k] = procs;
  return s;
}

}  // namespace mage::dsl::test
