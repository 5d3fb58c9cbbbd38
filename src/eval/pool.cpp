// The parent's side: start up to `workers` children, read their results and output, end
// those that run past the time limit, and turn every way a child can end into a Result.
// One thread polls every child, so fork() is never called from a multi-threaded pool.
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "eval/detail.h"

namespace mage::eval {

namespace {

using Clock = std::chrono::steady_clock;
using detail::Prepared;

// More than this from one child is not a result (a trace of a large run is tens of MB).
constexpr size_t kMaxResultBytes = size_t{1} << 30;
// What is kept of a child's stdout and stderr, for failure messages.
constexpr size_t kLogTail = 2000;

struct Child {
  size_t job = 0;
  pid_t pid = -1;
  int result_fd = -1;  // -1 once at end of file
  int log_fd = -1;
  std::string data;
  std::string log;
  Clock::time_point start;
  std::optional<Clock::time_point> deadline;
  bool too_big = false;
};

Result failed(std::string message) {
  Result r;
  r.outcome = sim::failure(sim::Status::SimulatorFailure, std::move(message));
  return r;
}

// The last lines the child printed, to append to a failure message.
std::string log_note(const std::string& log) {
  std::string tail = log.size() > kLogTail ? log.substr(log.size() - kLogTail) : log;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  if (tail.empty()) return "";
  return "\nlast output of the simulator:\n" + tail;
}

// Starts the child of one job; nullopt and `error` set when it cannot.
std::optional<Child> start(const Prepared& p, const Limits& limits, size_t job, std::string& error) {
  int result_pipe[2], log_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) {
    error = fmt::format("cannot start the simulator: pipe: {}", std::strerror(errno));
    return std::nullopt;
  }
  if (::pipe2(log_pipe, O_CLOEXEC) != 0) {
    error = fmt::format("cannot start the simulator: pipe: {}", std::strerror(errno));
    ::close(result_pipe[0]);
    ::close(result_pipe[1]);
    return std::nullopt;
  }
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const auto now = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = fmt::format("cannot start the simulator: fork: {}", std::strerror(errno));
    for (int fd : {result_pipe[0], result_pipe[1], log_pipe[0], log_pipe[1]}) ::close(fd);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(result_pipe[0]);
    ::close(log_pipe[0]);
    detail::child_main(p, limits, result_pipe[1], log_pipe[1], parent);
  }
  ::close(result_pipe[1]);
  ::close(log_pipe[1]);
  Child c;
  c.job = job;
  c.pid = pid;
  c.result_fd = result_pipe[0];
  c.log_fd = log_pipe[0];
  c.start = now;
  if (limits.time_s > 0)
    c.deadline = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.time_s));
  return c;
}

void close_fds(Child& c) {
  for (int* fd : {&c.result_fd, &c.log_fd})
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
}

// Reads what is available on `fd`; closes it at end of file.
void drain(int& fd, std::string& into, size_t limit, bool& too_big, bool keep_tail) {
  char buf[1 << 16];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    ::close(fd);
    fd = -1;
    return;
  }
  into.append(buf, static_cast<size_t>(n));
  if (keep_tail && into.size() > 2 * limit) into.erase(0, into.size() - limit);
  if (!keep_tail && into.size() > limit) too_big = true;
}

// How the child ended, as a Result.
Result conclude(Child& c, int status, bool timed_out, const Limits& limits) {
  if (timed_out) return failed(fmt::format("simulator exceeded {:g} s", limits.time_s));
  if (c.too_big) return failed(fmt::format("simulator output exceeded {} MiB", kMaxResultBytes >> 20));
  if (WIFSIGNALED(status))
    return failed(fmt::format("simulator crashed: {}", strsignal(WTERMSIG(status))) + log_note(c.log));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || c.data.empty())
    return failed(
        fmt::format("simulator exited with status {} and no result", WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
        log_note(c.log));
  try {
    return result_from_json(nlohmann::json::parse(c.data));
  } catch (const std::exception& e) {
    return failed(fmt::format("malformed simulator output: {}", e.what()) + log_note(c.log));
  }
}

// Waits for a child that was killed or closed its pipes (it is exiting); its exit status.
// One that lingers past its deadline is killed.
int reap(pid_t pid, std::optional<Clock::time_point> deadline) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, deadline ? WNOHANG : 0);
    if (r == pid) return status;
    if (r < 0) {
      if (errno == EINTR) continue;
      return 0;  // not our child any more (SIGCHLD ignored): judge by what it sent
    }
    if (Clock::now() >= *deadline) {
      ::kill(pid, SIGKILL);
      deadline.reset();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

// Runs every job, up to `workers` at once; results by job.
std::vector<Result> run_jobs(const std::vector<const Prepared*>& jobs, int workers, const Limits& limits) {
  std::vector<Result> results(jobs.size());
  std::vector<Child> running;
  size_t next = 0;
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && static_cast<int>(running.size()) < workers) {
      std::string error;
      if (auto c = start(*jobs[next], limits, next, error))
        running.push_back(std::move(*c));
      else
        results[next] = failed(error);
      ++next;
    }
    if (running.empty()) continue;

    // Wait for output or the nearest deadline.
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owner;  // (child, is the result pipe)
    int timeout_ms = -1;
    const auto now = Clock::now();
    for (size_t i = 0; i < running.size(); ++i) {
      const Child& c = running[i];
      if (c.result_fd >= 0) {
        fds.push_back({c.result_fd, POLLIN, 0});
        owner.emplace_back(i, true);
      }
      if (c.log_fd >= 0) {
        fds.push_back({c.log_fd, POLLIN, 0});
        owner.emplace_back(i, false);
      }
      if (c.deadline) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*c.deadline - now).count();
        const int ms = static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR)
      timeout_ms = 1;  // should not happen; the deadlines below still apply
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) continue;
      Child& c = running[owner[k].first];
      if (owner[k].second)
        drain(c.result_fd, c.data, kMaxResultBytes, c.too_big, false);
      else
        drain(c.log_fd, c.log, kLogTail, c.too_big, true);
    }

    // Children that finished, overran their time or sent too much.
    const auto after = Clock::now();
    for (size_t i = 0; i < running.size();) {
      Child& c = running[i];
      const bool timed_out = c.deadline && after >= *c.deadline && (c.result_fd >= 0 || c.log_fd >= 0);
      const bool done = c.result_fd < 0 && c.log_fd < 0;
      if (!timed_out && !done && !c.too_big) {
        ++i;
        continue;
      }
      if (!done) ::kill(c.pid, SIGKILL);
      close_fds(c);
      const int status = reap(c.pid, c.deadline);
      Result r = conclude(c, status, timed_out, limits);
      r.timing.wall_s = std::chrono::duration<double>(Clock::now() - c.start).count();
      results[c.job] = std::move(r);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  return results;
}

int worker_count(int workers) {
  if (workers > 0) return workers;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::vector<Result> evaluate_prepared(const std::vector<Prepared>& prepared, int workers, const Limits& limits,
                                      Cache* cache) {
  std::vector<Result> results(prepared.size());
  std::vector<const Prepared*> jobs;
  std::vector<size_t> job_of(prepared.size());  // the job whose result request i takes
  std::vector<bool> from_cache(prepared.size(), false);
  std::map<std::string, size_t> job_by_key;
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (cache) {
      if (auto hit = cache->find(prepared[i].key)) {
        results[i] = std::move(*hit);
        from_cache[i] = true;
        continue;
      }
      auto [it, fresh] = job_by_key.emplace(prepared[i].key, jobs.size());
      job_of[i] = it->second;
      if (!fresh) continue;
    } else {
      job_of[i] = jobs.size();
    }
    jobs.push_back(&prepared[i]);
  }
  std::vector<Result> done = run_jobs(jobs, worker_count(workers), limits);
  std::vector<bool> taken(jobs.size(), false);
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (from_cache[i]) continue;
    const size_t j = job_of[i];
    if (!taken[j]) {
      taken[j] = true;
      if (cache && done[j].outcome.status != sim::Status::SimulatorFailure) cache->store(prepared[i].key, done[j]);
      results[i] = done[j];
    } else {
      results[i] = done[j];
      results[i].cached = true;  // an identical request earlier in the batch
    }
  }
  return results;
}

}  // namespace

Result evaluate(const Request& request, const Limits& limits, Cache* cache) {
  std::vector<Prepared> prepared;
  prepared.push_back(detail::prepare(request));
  return std::move(evaluate_prepared(prepared, 1, limits, cache).front());
}

std::vector<Result> evaluate_many(const std::vector<Request>& requests, int workers, const Limits& limits,
                                  Cache* cache) {
  std::vector<Prepared> prepared;
  prepared.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    try {
      prepared.push_back(detail::prepare(requests[i]));
    } catch (const RequestError& e) {
      throw RequestError(fmt::format("request {}: {}", i, e.what()));
    }
  }
  return evaluate_prepared(prepared, workers, limits, cache);
}

}  // namespace mage::eval
