// mage tune end to end: a run and where its outputs went, --space, usage errors, a real
// `mage tune` killed with kill -9 and resumed, and Ctrl-C (SIGINT) leaving a resumable run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../test_support.h"
#include "run_mage.h"

namespace mage::test {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A `mage tune` running in the background, its output going to a file.
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      std::vector<char*> argv{const_cast<char*>(MAGE_EXE)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(MAGE_EXE, argv.data());
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
};

// Evaluations journaled so far (complete lines only).
int journaled(const std::string& dir) {
  const std::string text = read_text(dir + "/journal.jsonl");
  int n = 0;
  size_t at = 0;
  while ((at = text.find("\"type\":\"evaluation\"", at)) != std::string::npos) ++n, ++at;
  return n;
}

bool wait_for_evaluations(const std::string& dir, int n) {
  for (int i = 0; i < 3000; ++i) {
    if (journaled(dir) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Per evaluation number: the mapper and the simulated time (-1 for a failed evaluation, whose
// time is null).
std::map<int, std::pair<std::string, double>> evaluations(const std::string& dir) {
  std::map<int, std::pair<std::string, double>> out;
  std::istringstream in(read_text(dir + "/journal.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "evaluation")
      out[j["number"].get<int>()] = {j["mapper"].get<std::string>(),
                                     j["result"]["time_s"].is_null() ? -1.0 : j["result"]["time_s"].get<double>()};
  }
  return out;
}

const std::string kSmall = " --machine p100x4 --scale small --optimizer random --seed 4";

TEST(TuneCli, RunsAndSaysWhereTheOutputsWent) {
  TempDir tmp;
  const std::string out = tmp / "run";
  auto r = run_mage("tune circuit" + kSmall + " --budget 4 --workers 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "tuning circuit on p100x4 with optimizer random")) << r.out;
  EXPECT_TRUE(contains(r.out, "[4/4]")) << r.out;
  EXPECT_TRUE(contains(r.out, "expert mapper: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "4 evaluations (0 failed)")) << r.out;
  EXPECT_TRUE(contains(r.out, "best: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "outputs in " + out + "/: best.map, report.md, summary.json, convergence.svg")) << r.out;
  for (const char* f : {"best.map", "report.md", "summary.json", "convergence.svg", "journal.jsonl"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
}

TEST(TuneCli, HelpListsTheOptimizers) {
  auto r = run_mage("tune --help");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* o : {"bandit, ccd, guided, llm, mcmc, random", "Optimizers:", "\n  bandit   OpenTuner's ensemble",
                        "\n  ccd      AutoMap's", "\n  mcmc     FlexFlow's", "ccd rounds, penalty"})
    EXPECT_TRUE(contains(r.out, o)) << o << "\n" << r.out;
}

TEST(TuneCli, EveryOfflineOptimizerRuns) {
  TempDir tmp;
  for (const char* o : {"bandit", "ccd", "mcmc"}) {
    const std::string out = tmp / o;
    auto r = run_mage(std::string("tune circuit --machine p100x4 --scale small --start expert --budget 3 --workers 2 "
                                  "--optimizer ") +
                      o + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << o << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, std::string("with optimizer ") + o)) << r.out;
    EXPECT_TRUE(contains(r.out, "3 evaluations")) << r.out;
    EXPECT_TRUE(fs::exists(out + "/best.map")) << o;
  }
  auto r = run_mage("tune circuit --machine p100x4 --optimizer ccd --option rounds=0 --out " + tmp / "bad");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(contains(r.out, "optimizer ccd: option rounds=0 is not a whole number from 1 to 1000")) << r.out;
}

TEST(TuneCli, SpacePrintsTheDecisionsAndTheSize) {
  auto r = run_mage("tune cannon --machine p100x4 --space");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "cannon on p100x4")) << r.out;
  EXPECT_TRUE(contains(r.out, "distinct mappers")) << r.out;
  EXPECT_TRUE(contains(r.out, "task_4 (leaf, single launches, launched by task_5")) << r.out;
  EXPECT_TRUE(contains(r.out, "placement on GPU")) << r.out;
  EXPECT_TRUE(contains(r.out, "default* | parent")) << r.out;
}

TEST(TuneCli, UsageErrors) {
  TempDir tmp;
  struct Case {
    std::string args, says;
  };
  const std::vector<Case> cases{
      {"tune circuit --machine p100x4 --optimizer annealing --out " + tmp / "a", "unknown optimizer 'annealing'"},
      {"tune circuit --machine p100x4 --budget 0", "--budget must be at least 1"},
      {"tune circuit --machine p100x4 --option nokey", "--option takes KEY=VALUE"},
      {"tune circuit --machine p100x4 --option width=0 --out " + tmp / "w", "width must be a positive integer"},
      {"tune circuit", "--machine is required"},
      {"tune --machine p100x4", "the program to tune is missing"},
      {"tune circuit --machine p100x4 --start " + tmp / "missing.map", "cannot read"},
      {"tune --resume " + tmp / "nothing", "no such directory"},
      {"tune --resume " + tmp / "x" + " --machine p100x4", "--resume takes the run's settings from its journal"},
      {"tune --resume " + tmp / "x" + " --place-every-iteration", "--place-every-iteration cannot be given with it"},
      {"tune circuit --machine p100x4 --place-every-iteration --out " + tmp / "p",
       "circuit: placing the inputs every iteration applies to the matrix multiplications"},
      {"tune circuit --machine nowhere", "nowhere"},
  };
  for (const Case& c : cases) {
    auto r = run_mage(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.out;
    EXPECT_TRUE(contains(r.out, c.says)) << c.args << "\n" << r.out;
    // Only the error: no run is announced that does not start.
    EXPECT_FALSE(contains(r.out, "tuning circuit on")) << c.args << "\n" << r.out;
    EXPECT_FALSE(contains(r.out, "resuming the run")) << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(tmp / "w"));
  EXPECT_FALSE(fs::exists(tmp / "a"));
  // A directory holding a run is never overwritten.
  auto first = run_mage("tune circuit" + kSmall + " --budget 1 --out " + tmp / "taken");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  auto again = run_mage("tune circuit" + kSmall + " --budget 1 --out " + tmp / "taken");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(contains(again.out, "already holds a tuning run")) << again.out;
}

TEST(TuneCli, ResumesARunKilledWithKill9) {
  TempDir tmp;
  const std::string whole = tmp / "whole", killed = tmp / "killed";
  const std::string budget = "60";
  auto reference = run_mage("tune circuit" + kSmall + " --budget " + budget + " --workers 2 --out " + whole);
  ASSERT_EQ(reference.exit_code, 0) << reference.out;

  {
    Background tune({"tune", "circuit", "--machine", "p100x4", "--scale", "small", "--optimizer", "random", "--seed",
                     "4", "--budget", budget, "--workers", "2", "--out", killed},
                    tmp / "killed.log");
    ASSERT_TRUE(wait_for_evaluations(killed, 10)) << read_text(tmp / "killed.log");
    tune.signal(SIGKILL);
    const int status = tune.wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  const int before = journaled(killed);
  ASSERT_LT(before, 60) << "the run finished before the kill";

  auto resumed = run_mage("tune --resume " + killed);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_TRUE(contains(resumed.out, "from the journal")) << resumed.out;
  // Every evaluation journaled before the kill was kept, and the run ended as the one that
  // was never killed.
  EXPECT_EQ(evaluations(killed), evaluations(whole));
  EXPECT_EQ(read_text(killed + "/best.map"), read_text(whole + "/best.map"));
  const auto summary = nlohmann::json::parse(read_text(killed + "/summary.json"));
  EXPECT_EQ(summary["evaluations"], 60);
  // Only what was not journaled ran again (a line torn by the kill counts as not journaled).
  EXPECT_GE(summary["evaluated_now"].get<int>(), 60 - before);
  EXPECT_LE(summary["evaluated_now"].get<int>(), 60 - before + 1);
}

TEST(TuneCli, CtrlCStopsCleanlyAndTheRunCanBeResumed) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  int status = 0;
  {
    Background tune({"tune", "circuit", "--machine", "p100x4", "--scale", "small", "--optimizer", "random", "--budget",
                     "300", "--workers", "2", "--out", dir},
                    tmp / "run.log");
    ASSERT_TRUE(wait_for_evaluations(dir, 5)) << read_text(tmp / "run.log");
    tune.signal(SIGINT);
    status = tune.wait();
  }
  const std::string log = read_text(tmp / "run.log");
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 130) << log;
  EXPECT_TRUE(contains(log, "interrupted: continue with: mage tune --resume " + dir)) << log;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_TRUE(summary["interrupted"].get<bool>());
  EXPECT_LT(summary["evaluations"].get<int>(), 300);
  EXPECT_TRUE(fs::exists(dir + "/report.md"));

  auto resumed = run_mage("tune --resume " + dir + " --budget 40");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/summary.json"))["evaluations"], 40);
}

}  // namespace
}  // namespace mage::test
