// mage calibrate: check the model against what is known of the real runs (the facts of
// BENCHMARKS.md and issue 4 §4) and write the report, docs/calibration.md.
#include <fmt/format.h>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "calibrate/calibrate.h"
#include "cli/commands.h"
#include "cli/io.h"

namespace mage::cli {

namespace {

struct CalibrateOptions {
  std::string output;
  std::vector<std::string> only;
  int jobs = 0;
  bool json = false;
};

// The report as data: whether every fact holds, then per fact its id, title, verdict, how it
// is measured, its rows and the discussion of the rows that are off.
nlohmann::ordered_json report_json(const calibrate::Report& report) {
  nlohmann::ordered_json facts = nlohmann::ordered_json::array();
  for (const calibrate::Fact& f : report.facts) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const calibrate::Row& r : f.rows)
      rows.push_back({{"label", r.label},
                      {"measured", r.measured},
                      {"target", r.target},
                      {"verdict", std::string(calibrate::to_string(r.verdict))},
                      {"note", r.note}});
    facts.push_back({{"id", f.id},
                     {"title", f.title},
                     {"verdict", std::string(calibrate::to_string(f.verdict()))},
                     {"how", f.how},
                     {"rows", std::move(rows)},
                     {"discussion", f.discussion}});
  }
  return {{"all_hold", report.all_hold()}, {"facts", std::move(facts)}};
}

int run_calibrate(const CalibrateOptions& o) {
  if (o.jobs < 0) {
    std::fprintf(stderr, "mage: error: --jobs must be 0 (one per hardware thread) or more\n");
    return 1;
  }
  calibrate::Report report;
  try {
    report = calibrate::run(calibrate::Options{.only = o.only, .workers = o.jobs});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mage: error: %s\n", e.what());
    return 1;
  }
  const std::string markdown = report.markdown();
  if (o.json) {
    if (!o.output.empty() && !write_file(o.output, markdown)) return 1;
    print_json(report_json(report));
  } else if (o.output.empty()) {
    std::fputs(markdown.c_str(), stdout);
  } else {
    if (!write_file(o.output, markdown)) return 1;
    for (const calibrate::Fact& f : report.facts)
      std::printf("%-22s %s\n", f.id.c_str(), std::string(calibrate::to_string(f.verdict())).c_str());
    std::printf("report: %s\n", o.output.c_str());
  }
  return report.all_hold() ? 0 : 2;
}

}  // namespace

void register_calibrate(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CalibrateOptions>();
  auto* sub = app.add_subcommand("calibrate",
                                 "Check the simulator against the published and measured results and write the report "
                                 "(exit 0: every fact holds or is explained, 2: a fact fails)");
  sub->add_option("--output", o->output, "Write the Markdown report to this file (default: print it)");
  sub->add_option("--only", o->only,
                  "Check only these facts: " + fmt::format("{}", fmt::join(calibrate::fact_ids(), ", ")));
  sub->add_option("--jobs", o->jobs, "Evaluations at once (default 0: one per hardware thread)");
  sub->add_flag("--json", o->json,
                "Print the verdicts as JSON (all_hold; per fact id, title, verdict, how, rows, discussion) instead of "
                "Markdown (--output still writes the Markdown)");
  sub->callback([o, &exit_code] { exit_code = run_calibrate(*o); });
}

}  // namespace mage::cli
