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
#include <functional>
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
// With a progress function: how often it is called at least while a child runs.
constexpr auto kProgressEvery = std::chrono::milliseconds(200);

using ProgressFn = std::function<void(size_t, const Progress&)>;

struct Child {
  size_t job = 0;
  pid_t pid = -1;
  int result_fd = -1;  // -1 once at end of file
  int log_fd = -1;
  int progress_fd = -1;  // -1 without a progress function, or once at end of file
  std::string data;
  std::string log;
  std::string progress_bytes;   // received, not yet a whole record
  Progress progress;            // the latest report
  bool progress_fresh = false;  // a report not yet given to the progress function
  Clock::time_point progress_told;
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
std::optional<Child> start(const Prepared& p, const Limits& limits, size_t job, bool with_progress,
                           std::string& error) {
  int result_pipe[2], log_pipe[2], progress_pipe[2] = {-1, -1};
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
  if (with_progress && ::pipe2(progress_pipe, O_CLOEXEC) != 0) {
    error = fmt::format("cannot start the simulator: pipe: {}", std::strerror(errno));
    for (int fd : {result_pipe[0], result_pipe[1], log_pipe[0], log_pipe[1]}) ::close(fd);
    return std::nullopt;
  }
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const auto now = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = fmt::format("cannot start the simulator: fork: {}", std::strerror(errno));
    for (int fd : {result_pipe[0], result_pipe[1], log_pipe[0], log_pipe[1], progress_pipe[0], progress_pipe[1]})
      if (fd >= 0) ::close(fd);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(result_pipe[0]);
    ::close(log_pipe[0]);
    if (progress_pipe[0] >= 0) ::close(progress_pipe[0]);
    detail::child_main(p, limits, result_pipe[1], log_pipe[1], progress_pipe[1], parent);
  }
  ::close(result_pipe[1]);
  ::close(log_pipe[1]);
  if (progress_pipe[1] >= 0) ::close(progress_pipe[1]);
  Child c;
  c.job = job;
  c.pid = pid;
  c.result_fd = result_pipe[0];
  c.log_fd = log_pipe[0];
  c.progress_fd = progress_pipe[0];
  c.start = now;
  c.progress_told = now;
  if (limits.time_s > 0)
    c.deadline = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.time_s));
  return c;
}

void close_fds(Child& c) {
  for (int* fd : {&c.result_fd, &c.log_fd, &c.progress_fd})
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

// Reads the progress records available; the last whole one becomes the child's progress.
// Anything else on the pipe (it cannot happen) ends the reports of that child.
void drain_progress(Child& c) {
  char buf[64 * sizeof(detail::ProgressRecord)];
  const ssize_t n = ::read(c.progress_fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    ::close(c.progress_fd);
    c.progress_fd = -1;
    return;
  }
  c.progress_bytes.append(buf, static_cast<size_t>(n));
  constexpr size_t kSize = sizeof(detail::ProgressRecord);
  const size_t whole = c.progress_bytes.size() / kSize * kSize;
  if (whole == 0) return;
  detail::ProgressRecord rec;
  std::memcpy(&rec, c.progress_bytes.data() + whole - kSize, kSize);
  c.progress_bytes.erase(0, whole);
  if (rec.phase < static_cast<int32_t>(Phase::Compiling) || rec.phase > static_cast<int32_t>(Phase::Simulating)) {
    ::close(c.progress_fd);
    c.progress_fd = -1;
    return;
  }
  c.progress.phase = static_cast<Phase>(rec.phase);
  c.progress.simulation = {
      .simulated_s = rec.simulated_s, .tasks_done = rec.tasks_done, .tasks_total = rec.tasks_total};
  c.progress_fresh = true;
}

// How the child ended, as a Result.
Result conclude(Child& c, int status, bool timed_out, const Limits& limits) {
  if (timed_out)
    return failed(
        fmt::format("simulator exceeded the time limit of {:g} s (--time-limit S raises it, --time-limit 0 lifts it)",
                    limits.time_s));
  if (c.too_big) return failed(fmt::format("simulator output exceeded {} MiB", kMaxResultBytes >> 20));
  // SimGrid aborts when the stack of a new actor (one per busy processor and copy channel) cannot
  // be mapped: at a thousand nodes and more, the memory limit is what it ran into.
  if (WIFSIGNALED(status) && c.log.find("Failed to allocate stack") != std::string::npos) {
    Result r;
    r.outcome = detail::memory_exhausted(limits.memory_bytes);
    r.outcome.message += "; the stacks of its actors (one per busy processor and copy channel) did not fit";
    return r;
  }
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

// Runs every job, up to `workers` at once, handing each result to `done(job, result)` as
// its child ends. When `stop` says so (asked at least every kPollStopMs), the children still
// running are killed and their results dropped, jobs not started are not started, and the
// function returns false.
constexpr int kPollStopMs = 100;

bool run_jobs(const std::vector<const Prepared*>& jobs, int workers, const Limits& limits,
              const std::function<void(size_t, Result)>& done, const std::function<bool()>& stop,
              const ProgressFn& progress = {}) {
  std::vector<Child> running;
  size_t next = 0;
  auto stopped = [&] {
    if (!stop || !stop()) return false;
    for (Child& c : running) {
      ::kill(c.pid, SIGKILL);
      close_fds(c);
      reap(c.pid, std::nullopt);
    }
    running.clear();
    return true;
  };
  while (next < jobs.size() || !running.empty()) {
    if (stopped()) return false;
    while (next < jobs.size() && static_cast<int>(running.size()) < workers) {
      std::string error;
      if (auto c = start(*jobs[next], limits, next, static_cast<bool>(progress), error))
        running.push_back(std::move(*c));
      else
        done(next, failed(error));
      ++next;
    }
    if (running.empty()) continue;

    // Wait for output, the nearest deadline or the next look at `stop`.
    std::vector<pollfd> fds;
    enum class Pipe { Result, Log, Progress };
    std::vector<std::pair<size_t, Pipe>> owner;
    int timeout_ms = stop ? kPollStopMs : -1;
    if (progress)
      timeout_ms = static_cast<int>(timeout_ms < 0 ? kProgressEvery.count()
                                                   : std::min<int64_t>(timeout_ms, kProgressEvery.count()));
    const auto now = Clock::now();
    for (size_t i = 0; i < running.size(); ++i) {
      const Child& c = running[i];
      if (c.result_fd >= 0) {
        fds.push_back({c.result_fd, POLLIN, 0});
        owner.emplace_back(i, Pipe::Result);
      }
      if (c.log_fd >= 0) {
        fds.push_back({c.log_fd, POLLIN, 0});
        owner.emplace_back(i, Pipe::Log);
      }
      if (c.progress_fd >= 0) {
        fds.push_back({c.progress_fd, POLLIN, 0});
        owner.emplace_back(i, Pipe::Progress);
      }
      if (c.deadline) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*c.deadline - now).count();
        const int ms = static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      // A signal (e.g. Ctrl-C, which `stop` may report) or, should it happen, a failed
      // poll: look at `stop` and the deadlines again before reading anything.
      if (errno == EINTR) continue;
      timeout_ms = 1;
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) continue;
      Child& c = running[owner[k].first];
      switch (owner[k].second) {
        case Pipe::Result:
          drain(c.result_fd, c.data, kMaxResultBytes, c.too_big, false);
          break;
        case Pipe::Log:
          drain(c.log_fd, c.log, kLogTail, c.too_big, true);
          break;
        case Pipe::Progress:
          drain_progress(c);
          break;
      }
    }

    // Children that finished, overran their time or sent too much.
    const auto after = Clock::now();
    for (size_t i = 0; i < running.size();) {
      Child& c = running[i];
      const bool timed_out = c.deadline && after >= *c.deadline && (c.result_fd >= 0 || c.log_fd >= 0);
      const bool finished = c.result_fd < 0 && c.log_fd < 0;
      if (!timed_out && !finished && !c.too_big) {
        if (progress && (c.progress_fresh || after - c.progress_told >= kProgressEvery)) {
          c.progress_fresh = false;
          c.progress_told = after;
          c.progress.elapsed_s = std::chrono::duration<double>(after - c.start).count();
          progress(c.job, c.progress);
        }
        ++i;
        continue;
      }
      if (!finished) ::kill(c.pid, SIGKILL);
      close_fds(c);
      const int status = reap(c.pid, c.deadline);
      Result r = conclude(c, status, timed_out, limits);
      r.timing.wall_s = std::chrono::duration<double>(Clock::now() - c.start).count();
      const size_t job = c.job;
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      // A child killed by a signal that also asked us to stop (Ctrl-C reaches the whole
      // process group) has no result to give.
      if (stopped()) return false;
      done(job, std::move(r));
    }
  }
  return true;
}

int worker_count(int workers) {
  if (workers > 0) return workers;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Cache hits first, then each job's result as its child ends; identical requests of one
// batch (with a cache) are evaluated once and reported together.
bool evaluate_prepared(const std::vector<Prepared>& prepared, int workers, const Limits& limits, Cache* cache,
                       const std::function<void(size_t, Result)>& on_result, const std::function<bool()>& stop,
                       const ProgressFn& progress = {}) {
  std::vector<const Prepared*> jobs;
  std::vector<std::vector<size_t>> requests_of;  // the requests each job answers, first one first
  std::map<std::string, size_t> job_by_key;
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (cache) {
      if (stop && stop()) return false;
      if (auto hit = cache->find(prepared[i].key)) {
        on_result(i, std::move(*hit));
        continue;
      }
      auto [it, fresh] = job_by_key.emplace(prepared[i].key, jobs.size());
      if (!fresh) {
        requests_of[it->second].push_back(i);
        continue;
      }
    }
    jobs.push_back(&prepared[i]);
    requests_of.push_back({i});
  }
  auto done = [&](size_t job, Result r) {
    const std::vector<size_t>& requests = requests_of[job];
    if (cache && r.outcome.status != sim::Status::SimulatorFailure) cache->store(prepared[requests[0]].key, r);
    for (size_t k = 1; k < requests.size(); ++k) {
      Result copy = r;
      copy.cached = true;  // an identical request earlier in the batch
      on_result(requests[k], std::move(copy));
    }
    on_result(requests[0], std::move(r));
  };
  return run_jobs(jobs, worker_count(workers), limits, done, stop, progress);
}

std::vector<Prepared> prepare_all(const std::vector<Request>& requests, const Limits& limits) {
  std::vector<Prepared> prepared;
  prepared.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    try {
      prepared.push_back(detail::prepare(requests[i], limits.point_tasks));
    } catch (const LimitError& e) {
      throw LimitError(fmt::format("request {}: {}", i, e.what()));
    } catch (const RequestError& e) {
      throw RequestError(fmt::format("request {}: {}", i, e.what()));
    }
  }
  return prepared;
}

}  // namespace

Result evaluate(const Request& request, const Limits& limits, Cache* cache,
                const std::function<void(const Progress&)>& progress) {
  std::vector<Prepared> prepared;
  prepared.push_back(detail::prepare(request, limits.point_tasks));
  Result result;
  ProgressFn of_job;
  if (progress) of_job = [&](size_t, const Progress& p) { progress(p); };
  evaluate_prepared(
      prepared, 1, limits, cache, [&](size_t, Result r) { result = std::move(r); }, {}, of_job);
  return result;
}

std::vector<Result> evaluate_many(const std::vector<Request>& requests, int workers, const Limits& limits,
                                  Cache* cache) {
  std::vector<Result> results(requests.size());
  evaluate_prepared(prepare_all(requests, limits), workers, limits, cache,
                    [&](size_t i, Result r) { results[i] = std::move(r); }, {});
  return results;
}

bool evaluate_each(const std::vector<Request>& requests, const std::function<void(size_t, Result)>& on_result,
                   int workers, const Limits& limits, Cache* cache, const std::function<bool()>& stop) {
  return evaluate_prepared(prepare_all(requests, limits), workers, limits, cache, on_result, stop);
}

sim::Outcome simulate(const program::Program& program, const program::TaskGraph& graph, const machine::Machine& machine,
                      const mapping::Plan& plan, const sim::Options& options, const Limits& limits) {
  Prepared p;
  p.work = [&] {
    Result r;
    r.outcome = sim::run(program, graph, machine, plan, options);
    return r;
  };
  Result result;
  run_jobs({&p}, 1, limits, [&](size_t, Result r) { result = std::move(r); }, {});
  return std::move(result.outcome);
}

}  // namespace mage::eval
