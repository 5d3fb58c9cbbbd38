// run_isolated(): one simulation in a forked child, its Outcome sent back as JSON through a
// pipe. A crash, a time-out or an exhausted memory limit becomes a SimulatorFailure.
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/sim.h"

namespace mage::sim {

namespace {

nlohmann::json trace_to_json(const Trace& t) {
  nlohmann::json events = nlohmann::json::array();
  for (const TraceEvent& e : t.events) events.push_back({e.row, e.name, e.category, e.start_s, e.duration_s, e.args});
  return {{"rows", t.rows}, {"events", std::move(events)}};
}

Trace trace_from_json(const nlohmann::json& j) {
  Trace t;
  t.rows = j.at("rows").get<std::vector<std::string>>();
  for (const auto& e : j.at("events"))
    t.events.push_back(TraceEvent{e.at(0).get<int>(), e.at(1).get<std::string>(), e.at(2).get<std::string>(),
                                  e.at(3).get<double>(), e.at(4).get<double>(),
                                  e.at(5).get<std::vector<std::pair<std::string, std::string>>>()});
  return t;
}

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void child(int fd, const program::Program& program, const program::TaskGraph& graph,
                        const machine::Machine& machine, const mapping::Plan& plan, const Options& options,
                        uint64_t memory_limit_bytes) {
  if (memory_limit_bytes > 0) {
    rlimit rl{memory_limit_bytes, memory_limit_bytes};
    setrlimit(RLIMIT_AS, &rl);
  }
  std::string out;
  try {
    Outcome o = run(program, graph, machine, plan, options);
    nlohmann::json j = o.to_json();
    if (options.trace) j["trace"] = trace_to_json(o.trace);
    out = j.dump();
  } catch (const std::bad_alloc&) {
    out = failure(Status::SimulatorFailure, "simulator ran out of memory").to_json().dump();
  } catch (const std::exception& e) {
    out = failure(Status::SimulatorFailure, std::string("simulator failure: ") + e.what()).to_json().dump();
  }
  write_all(fd, out);
  ::close(fd);
  std::_Exit(0);
}

}  // namespace

Outcome run_isolated(const program::Program& program, const program::TaskGraph& graph,
                     const machine::Machine& machine, const mapping::Plan& plan, const Options& options,
                     double time_limit_s, uint64_t memory_limit_bytes) {
  int fds[2];
  if (::pipe(fds) != 0)
    return failure(Status::SimulatorFailure, std::string("cannot create a pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return failure(Status::SimulatorFailure, std::string("cannot fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], program, graph, machine, plan, options, memory_limit_bytes);
  }
  ::close(fds[1]);

  std::string data;
  bool timed_out = false;
  const auto start = std::chrono::steady_clock::now();
  char buf[1 << 16];
  for (;;) {
    int wait_ms = -1;
    if (time_limit_s > 0) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed >= time_limit_s) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>((time_limit_s - elapsed) * 1000) + 1;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int r = ::poll(&pfd, 1, wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r == 0) continue;  // the limit is checked at the top
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return failure(Status::SimulatorFailure, fmt::format("simulator exceeded {:g} s", time_limit_s));
  if (WIFSIGNALED(status))
    return failure(Status::SimulatorFailure, fmt::format("simulator crashed: {}", strsignal(WTERMSIG(status))));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || data.empty())
    return failure(Status::SimulatorFailure,
                   fmt::format("simulator exited with status {} and no result", WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  try {
    const nlohmann::json j = nlohmann::json::parse(data);
    Outcome o = Outcome::from_json(j);
    if (j.contains("trace")) o.trace = trace_from_json(j.at("trace"));
    return o;
  } catch (const std::exception& e) {
    return failure(Status::SimulatorFailure, std::string("unreadable simulator result: ") + e.what());
  }
}

}  // namespace mage::sim
