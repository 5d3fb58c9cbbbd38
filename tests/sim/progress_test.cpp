// sim::run's progress reports: monotone, complete, and without effect on the outcome.
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <string>

#include "apps/apps.h"
#include "helpers.h"

namespace mage::sim::test {
namespace {

// What a child saw of its simulation's reports.
struct Seen {
  Outcome outcome;
  int64_t reports = 0;
  bool monotone = true;
  bool total_fixed = true;
  int64_t last_done = 0;
  int64_t total = 0;
};

// Runs sim::run in a forked child (SimGrid runs one simulation per process) with reports
// after every point task (interval 0), checking each against the previous one there.
Seen run_reporting(const Program& p, const TaskGraph& g, const machine::Machine& m, const mapping::Plan& plan) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Seen s;
    Progress last;
    ProgressReport report{
        .report =
            [&](const Progress& pr) {
              if (s.reports > 0 && (pr.simulated_s < last.simulated_s || pr.tasks_done < last.tasks_done))
                s.monotone = false;
              if (s.reports > 0 && pr.tasks_total != last.tasks_total) s.total_fixed = false;
              ++s.reports;
              last = pr;
            },
        .interval_s = 0};
    const Outcome o = run(p, g, m, plan, {}, report);
    nlohmann::json j = {{"outcome", o.to_json()},       {"reports", s.reports},         {"monotone", s.monotone},
                        {"total_fixed", s.total_fixed}, {"last_done", last.tasks_done}, {"total", last.tasks_total}};
    const std::string text = j.dump();
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    std::_Exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Seen s;
  const auto j = nlohmann::json::parse(text);
  s.outcome = Outcome::from_json(j["outcome"]);
  s.reports = j["reports"];
  s.monotone = j["monotone"];
  s.total_fixed = j["total_fixed"];
  s.last_done = j["last_done"];
  s.total = j["total"];
  return s;
}

TEST(Progress, ReportsGrowAndLeaveTheOutcomeAsItWas) {
  const machine::Machine m = machine::load("p100x4");
  const Program p = apps::build("circuit", apps::params_for(m, apps::Scale::Small));
  const TaskGraph g = analyze(p);
  mapping::ApplyResult applied = mapping::apply_default(p, g, m);
  ASSERT_TRUE(std::holds_alternative<mapping::Plan>(applied));
  const mapping::Plan& plan = std::get<mapping::Plan>(applied);

  const Seen seen = run_reporting(p, g, m, plan);
  ASSERT_EQ(seen.outcome.status, Status::Ok) << seen.outcome.message;
  // One report after each point task that ends on a processor (inner tasks complete with
  // their last child, without a report of their own).
  EXPECT_GT(seen.reports, 0);
  EXPECT_LE(seen.reports, static_cast<int64_t>(g.size()));
  EXPECT_TRUE(seen.monotone);
  EXPECT_TRUE(seen.total_fixed);
  EXPECT_EQ(seen.total, static_cast<int64_t>(g.size()));
  EXPECT_LE(seen.last_done, seen.total);
  EXPECT_GT(seen.last_done, seen.total / 2);

  // The same simulation without reports: the same outcome, bit for bit.
  const Outcome quiet = simulate_in_child(p, g, m, plan);
  EXPECT_EQ(quiet.to_json().dump(), seen.outcome.to_json().dump());
}

}  // namespace
}  // namespace mage::sim::test
