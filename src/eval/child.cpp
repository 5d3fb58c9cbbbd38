// The child process of one evaluation: it dies with its parent, takes the limits, runs
// the pipeline (or the request's test fault) and writes the Result as JSON to its pipe.
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "eval/detail.h"

namespace mage::eval::detail {

namespace {

void write_all(int fd, std::string_view s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    done += static_cast<size_t>(n);
  }
}

// Allocates and touches memory until an allocation fails.
[[noreturn]] void exhaust_memory() {
  std::vector<char*> blocks;
  for (;;) {
    char* b = new char[16 << 20];
    std::memset(b, 1, 16 << 20);
    blocks.push_back(b);
  }
}

}  // namespace

void child_main(const Prepared& p, const Limits& limits, int result_fd, int log_fd, int parent_pid) {
  // Die with the parent; undo what the parent may have set up for itself.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent_pid) std::_Exit(1);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGCHLD})
    std::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Whatever the simulator prints is kept by the parent for failure messages.
  if (const int null = ::open("/dev/null", O_RDONLY); null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::close(null);
  }
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::close(log_fd);

  uint64_t memory = limits.memory_bytes;
  if (p.fault == Fault::Exhaust && memory == 0) memory = uint64_t{256} << 20;  // never the whole machine
  if (memory > 0) {
    const rlimit rl{memory, memory};
    ::setrlimit(RLIMIT_AS, &rl);
  }

  std::string out;
  switch (p.fault) {
    case Fault::None: break;
    case Fault::Crash: std::raise(SIGSEGV); break;
    case Fault::Hang:
      for (;;) ::pause();
    case Fault::Garbage:
      write_all(result_fd, "{\"status\": \"ok\", this is not a result");
      std::_Exit(0);
    case Fault::Silent: std::_Exit(3);
    case Fault::Exhaust:
      try {
        exhaust_memory();
      } catch (const std::bad_alloc&) {
        Result r;
        r.outcome = memory_exhausted(memory);
        write_all(result_fd, result_to_json(r).dump());
        std::_Exit(0);
      }
  }

  try {
    out = result_to_json(run_pipeline(p, memory)).dump();
  } catch (const std::bad_alloc&) {
    Result r;
    r.outcome = memory_exhausted(memory);
    out = result_to_json(r).dump();
  } catch (const std::exception& e) {
    Result r;
    r.outcome = sim::failure(sim::Status::SimulatorFailure, std::string("evaluation failed: ") + e.what());
    out = result_to_json(r).dump();
  }
  write_all(result_fd, out);
  ::close(result_fd);
  std::_Exit(0);
}

}  // namespace mage::eval::detail
