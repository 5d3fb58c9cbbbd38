// run_isolated(): one simulation in a forked child, its Outcome sent back as JSON through a
// pipe. A crash, a time-out or an exhausted memory limit becomes a SimulatorFailure.
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

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

// The first line the child printed that is not part of a backtrace, without SimGrid's
// "[time] file:line: [category/LEVEL] " prefix.
std::string first_message(const std::string& err) {
  size_t pos = 0;
  while (pos < err.size()) {
    size_t end = err.find('\n', pos);
    if (end == std::string::npos) end = err.size();
    std::string line = err.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.rfind("  ->", 0) == 0 || line.rfind("Backtrace", 0) == 0) continue;
    if (size_t tag = line.find("] "); line.front() == '[' && tag != std::string::npos) {
      if (size_t level = line.find("] ", tag + 2); level != std::string::npos)
        line = line.substr(level + 2);
      else
        line = line.substr(tag + 2);
    }
    return line.size() > 300 ? line.substr(0, 300) : line;
  }
  return "";
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

Outcome run_isolated(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
                     const mapping::Plan& plan, const Options& options, double time_limit_s,
                     uint64_t memory_limit_bytes) {
  int fds[2], errs[2];
  if (::pipe(fds) != 0)
    return failure(Status::SimulatorFailure, std::string("cannot create a pipe: ") + std::strerror(errno));
  if (::pipe(errs) != 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return failure(Status::SimulatorFailure, std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {fds[0], fds[1], errs[0], errs[1]}) ::close(fd);
    return failure(Status::SimulatorFailure, std::string("cannot fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // What the simulator prints (SimGrid's messages when it dies) comes back to the parent.
    ::close(fds[0]);
    ::close(errs[0]);
    ::dup2(errs[1], STDERR_FILENO);
    ::close(errs[1]);
    child(fds[1], program, graph, machine, plan, options, memory_limit_bytes);
  }
  ::close(fds[1]);
  ::close(errs[1]);

  std::string data, err;
  bool timed_out = false;
  const auto start = std::chrono::steady_clock::now();
  char buf[1 << 16];
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    int wait_ms = -1;
    if (time_limit_s > 0) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed >= time_limit_s) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>((time_limit_s - elapsed) * 1000) + 1;
    }
    pollfd pfd[2] = {{out_open ? fds[0] : -1, POLLIN, 0}, {err_open ? errs[0] : -1, POLLIN, 0}};
    const int r = ::poll(pfd, 2, wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r == 0) continue;  // the limit is checked at the top
    for (int k = 0; k < 2; ++k) {
      if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(pfd[k].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        (k == 0 ? out_open : err_open) = false;
        continue;
      }
      std::string& into = k == 0 ? data : err;
      if (k == 0 || err.size() < (1u << 20)) into.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fds[0]);
  ::close(errs[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return failure(Status::SimulatorFailure, fmt::format("simulator exceeded {:g} s", time_limit_s));
  const std::string said = first_message(err);
  const std::string why = said.empty() ? "" : fmt::format(" ({})", said);
  if (WIFSIGNALED(status))
    return failure(Status::SimulatorFailure, fmt::format("simulator crashed: {}{}", strsignal(WTERMSIG(status)), why));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || data.empty())
    return failure(Status::SimulatorFailure, fmt::format("simulator exited with status {} and no result{}",
                                                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, why));
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
