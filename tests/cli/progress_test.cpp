// The progress line (src/cli/progress.h): its text, when it is drawn, how it is erased; and
// `mage run` with it, on a pipe (nothing) and on a pseudo-terminal (the line, then erased).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/progress.h"
#include "run_mage.h"

namespace mage::cli {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// What a StatusLine writes, captured in memory.
class Captured {
 public:
  Captured() : file_(open_memstream(&data_, &size_)) {}
  ~Captured() {
    if (file_) std::fclose(file_);
    std::free(data_);
  }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  std::FILE* file_;
};

eval::Progress simulating(double simulated_s, int64_t done, int64_t total, double elapsed_s) {
  return eval::Progress{.phase = eval::Phase::Simulating,
                        .simulation = {.simulated_s = simulated_s, .tasks_done = done, .tasks_total = total},
                        .elapsed_s = elapsed_s};
}

TEST(ProgressText, SimulatedTimeAndTasks) {
  EXPECT_EQ(progress_text(simulating(0.00125, 1200, 4800, 3.21)),
            "simulating: 1.25 ms simulated, 1200 of 4800 point tasks (25%) [3.2 s]");
  EXPECT_EQ(progress_text(simulating(12.5, 4799, 4800, 61)),
            "simulating: 12.5 s simulated, 4799 of 4800 point tasks (99%) [61.0 s]");
  EXPECT_EQ(progress_text(simulating(3e-6, 0, 10, 1)), "simulating: 3 us simulated, 0 of 10 point tasks (0%) [1.0 s]");
}

TEST(ProgressText, OtherPhasesSayWhatIsGoingOn) {
  EXPECT_EQ(progress_text({.phase = eval::Phase::Building, .simulation = {}, .elapsed_s = 1.44}),
            "building the program [1.4 s]");
  EXPECT_EQ(progress_text({.phase = eval::Phase::Compiling, .simulation = {}, .elapsed_s = 2}),
            "compiling the mapper [2.0 s]");
  EXPECT_EQ(progress_text({.phase = eval::Phase::Mapping, .simulation = {}, .elapsed_s = 5}), "mapping [5.0 s]");
  // Simulating before the simulator's first report.
  EXPECT_EQ(progress_text({.phase = eval::Phase::Simulating, .simulation = {}, .elapsed_s = 1}), "simulating [1.0 s]");
}

TEST(StatusLine, NothingWhenNotEnabled) {
  Captured out;
  {
    StatusLine line(out.file(), false, {.after_s = 0, .every_s = 0, .width = 80});
    line.show("hello", 5);
    EXPECT_FALSE(line.drawn());
    line.keep();
  }
  EXPECT_EQ(out.text(), "");
}

TEST(StatusLine, WaitsForTheThresholdThenAtMostOneDrawPerInterval) {
  Captured out;
  StatusLine line(out.file(), true, {.after_s = 1, .every_s = 0.2, .width = 80});
  line.show("early", 0.5);
  EXPECT_EQ(out.text(), "");
  line.show("first", 1.0);
  EXPECT_EQ(out.text(), "\rfirst\033[K");
  line.show("too soon", 1.1);
  EXPECT_EQ(out.text(), "\rfirst\033[K");
  line.show("second", 1.2);
  EXPECT_EQ(out.text(), "\rfirst\033[K\rsecond\033[K");
  line.clear();
  EXPECT_EQ(out.text(), "\rfirst\033[K\rsecond\033[K\r\033[K");
  EXPECT_FALSE(line.drawn());
  line.clear();  // nothing more to erase
  EXPECT_EQ(out.text(), "\rfirst\033[K\rsecond\033[K\r\033[K");
}

TEST(StatusLine, CutToTheWidthAndToOneLine) {
  Captured out;
  StatusLine line(out.file(), true, {.after_s = 0, .every_s = 0, .width = 10});
  line.show("0123456789abcdef", 0);
  EXPECT_EQ(out.text(), "\r012345678\033[K");
  line.show("ab\ncd", 1);
  EXPECT_EQ(out.text(), "\r012345678\033[K\rab\033[K");
}

TEST(StatusLine, KeepEndsTheLineAndTheDestructorErasesIt) {
  Captured kept;
  {
    StatusLine line(kept.file(), true, {.after_s = 0, .every_s = 0, .width = 80});
    line.show("done", 0);
    line.keep();
  }
  EXPECT_EQ(kept.text(), "\rdone\033[K\n");
  Captured erased;
  {
    StatusLine line(erased.file(), true, {.after_s = 0, .every_s = 0, .width = 80});
    line.show("running", 0);
  }
  EXPECT_EQ(erased.text(), "\rrunning\033[K\r\033[K");
}

// ---- mage run ------------------------------------------------------------------------------

TEST(RunProgress, NothingExtraOnAPipe) {
  // Even with the line due at once, a pipe gets no progress: nothing on stderr, the same
  // stdout.
  test::TempFile err("progress_err.txt");
  const std::string run = "run pennant --machine p100x4 --expert --iterations 200 --json 2>" + err.path();
  const auto r = test::run_mage(run);
  ::setenv("MAGE_PROGRESS_AFTER_S", "0", 1);
  const auto r0 = test::run_mage(run);
  ::unsetenv("MAGE_PROGRESS_AFTER_S");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ASSERT_EQ(r0.exit_code, 0) << r0.out;
  EXPECT_EQ(err.read(), "");
  EXPECT_FALSE(contains(r0.out, "\r")) << r0.out;
  EXPECT_FALSE(contains(r0.out, "simulating")) << r0.out;
  EXPECT_EQ(r.out, r0.out);
}

// Runs mage with `args` on a new pseudo-terminal (stdout and stderr both); what it printed.
std::string run_on_terminal(const std::vector<std::string>& args, const std::string& after_s, int& exit_code) {
  int master = -1;
  winsize size{};
  size.ws_col = 200;
  size.ws_row = 50;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid == 0) {
    if (after_s.empty())
      ::unsetenv("MAGE_PROGRESS_AFTER_S");
    else
      ::setenv("MAGE_PROGRESS_AFTER_S", after_s.c_str(), 1);
    std::vector<char*> argv;
    std::string exe = MAGE_EXE;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    std::_Exit(127);
  }
  std::string out;
  if (pid < 0) return out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO once the child closed the terminal
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(RunProgress, OnATerminalTheLineShowsAndIsErasedBeforeTheResult) {
  int code = -1;
  const std::vector<std::string> args = {"run", "pennant", "--machine", "p100x4", "--expert", "--iterations", "3000"};
  const std::string out = run_on_terminal(args, "0", code);
  ASSERT_EQ(code, 0) << out;
  // With the threshold 0 the reports are drawn as they come; the simulator's say how far it got.
  // (Which earlier phases show depends on timing: reports read together give only the latest.)
  EXPECT_TRUE(contains(out, "\rsimulating: ")) << out;
  EXPECT_TRUE(contains(out, " point tasks (")) << out;
  // Erased before the summary, which starts on a clean line.
  const size_t summary = out.find("pennant on p100x4");
  ASSERT_NE(summary, std::string::npos) << out;
  EXPECT_EQ(out.rfind("\r\033[K", summary), summary - 4) << out;
  EXPECT_FALSE(contains(out.substr(summary), "simulating:")) << out;
}

TEST(RunProgress, OnATerminalNothingBeforeTheThreshold) {
  int code = -1;
  const std::string out =
      run_on_terminal({"run", "circuit", "--machine", "p100x4", "--scale", "small", "--expert"}, "60", code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(out, "status: ok")) << out;
  EXPECT_FALSE(contains(out, "\033[K")) << out;
}

}  // namespace
}  // namespace mage::cli
