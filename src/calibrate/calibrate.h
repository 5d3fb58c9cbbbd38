// Calibration (module `calibrate`): does the model reproduce what is known of the real
// runs? Each Fact of BENCHMARKS.md, issue 4 §4 and issue 9 §6 is checked by evaluating mapper variants
// (the expert mapper, the default mapper, and the expert with one rule changed) at the
// published scale, and judged against its target. `mage calibrate` runs them all and
// writes the report, docs/calibration.md.
//
// A row that misses its target is Off when the report explains why (a known limit of the
// model, stated in the fact's discussion) and Fails otherwise; a fact holds when all of
// its rows do.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/eval.h"

namespace mage::calibrate {

enum class Verdict { Holds, Off, Fails };
std::string_view to_string(Verdict v);

struct Row {
  std::string label;     // "circuit, all in the framebuffer vs expert"
  std::string measured;  // "1.30x"
  std::string target;    // "1.15-1.6x"
  Verdict verdict = Verdict::Holds;
  std::string note;  // why it is off, or what the run reported
};

struct Fact {
  std::string id;     // "circuit-framebuffer"
  std::string title;  // one line
  std::string how;    // the runs behind it: machine, mappers, variants
  std::vector<Row> rows;
  std::string discussion;   // explains Off rows; empty when none
  Verdict verdict() const;  // the worst of the rows
};

// The facts by id, in report order.
const std::vector<std::string>& fact_ids();

struct Options {
  std::vector<std::string> only;  // fact ids to check (empty: all); unknown ids throw std::invalid_argument
  int workers = 0;                // evaluations at once (0: one per hardware thread)
  eval::Limits limits{.time_s = 120, .memory_bytes = uint64_t{8} << 30};
};

struct Report {
  std::vector<Fact> facts;
  bool all_hold() const;  // no row Fails (Off rows are explained)
  std::string markdown() const;
};

Report run(const Options& options = {});

// ---- Mapper variants (exposed for tests) ------------------------------------------------

// `rules` placed before the mapper's text: the first rule for a key wins (DSL.md), so they
// override the mapper's own.
std::string with_rules_first(std::string_view mapper, std::string_view rules);
// The mapper without its IndexTaskMap and SingleTaskMap statements, so that the runtime's
// default placement decides (BENCHMARKS.md's "every placement function removed").
// Throws std::invalid_argument if such a statement does not end on its line.
std::string without_placement(std::string_view mapper);
// Every task on CPU processors, C order (so that DGEMM accepts its operands).
std::string all_cpu_mapper();

}  // namespace mage::calibrate
