// The child process of one evaluation: it dies with its parent, takes the limits, runs
// the pipeline (or the request's test fault) and writes the Result as JSON to its pipe.
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
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

// Allocates and touches memory until an allocation fails (or, without an address-space
// limit, until `limit` bytes are in use, so that a sanitized build reports the same).
void exhaust_memory(uint64_t limit) {
  constexpr size_t kBlock = size_t{16} << 20;
  std::vector<char*> blocks;
  for (uint64_t used = 0; kLimitAddressSpace || used < limit; used += kBlock) {
    char* b = new char[kBlock];
    std::memset(b, 1, kBlock);
    blocks.push_back(b);
  }
  for (char* b : blocks) delete[] b;
  throw std::bad_alloc();
}

}  // namespace

void child_main(const Prepared& p, const Limits& limits, int result_fd, int log_fd, int progress_fd, int parent_pid) {
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
  if (memory > 0 && kLimitAddressSpace) {
    const rlimit rl{memory, memory};
    ::setrlimit(RLIMIT_AS, &rl);
  }

  std::string out;
  switch (p.fault) {
    case Fault::None:
      break;
    case Fault::Crash:
      std::raise(SIGSEGV);
      break;
    case Fault::Hang:
      for (;;) ::pause();
    case Fault::Garbage:
      write_all(result_fd, "{\"status\": \"ok\", this is not a result");
      std::_Exit(0);
    case Fault::Silent:
      std::_Exit(3);
    case Fault::Exhaust:
      try {
        exhaust_memory(memory);
      } catch (const std::bad_alloc&) {
        Result r;
        r.outcome = memory_exhausted(memory);
        write_all(result_fd, result_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        std::_Exit(0);
      }
  }

  // Progress records never block the child: one the pipe has no room for is dropped.
  std::function<void(const Progress&)> progress;
  if (progress_fd >= 0 && ::fcntl(progress_fd, F_SETFL, ::fcntl(progress_fd, F_GETFL) | O_NONBLOCK) == 0)
    progress = [progress_fd](const Progress& pr) {
      ProgressRecord rec;
      rec.phase = static_cast<int32_t>(pr.phase);
      rec.simulated_s = pr.simulation.simulated_s;
      rec.tasks_done = pr.simulation.tasks_done;
      rec.tasks_total = pr.simulation.tasks_total;
      char bytes[sizeof rec];
      std::memcpy(bytes, &rec, sizeof rec);
      while (::write(progress_fd, bytes, sizeof bytes) < 0 && errno == EINTR) {
      }
    };

  try {
    out = result_to_json(p.work ? p.work() : run_pipeline(p, memory, progress))
              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::bad_alloc&) {
    Result r;
    r.outcome = memory_exhausted(memory);
    out = result_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& e) {
    Result r;
    r.outcome = sim::failure(sim::Status::SimulatorFailure, std::string("evaluation failed: ") + e.what());
    out = result_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  write_all(result_fd, out);
  ::close(result_fd);
  std::_Exit(0);
}

}  // namespace mage::eval::detail
