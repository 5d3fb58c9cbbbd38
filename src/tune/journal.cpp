// DIR/journal.jsonl: every evaluation of a tuning run, one JSON line each, appended with a
// single write as it finishes, so that a run killed at any moment loses at most the
// evaluations in flight (and possibly a torn last line, which reading drops).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tune/detail.h"

namespace mage::tune::detail {

namespace {

constexpr int kFormat = 1;

std::string error_text() { return std::strerror(errno); }

}  // namespace

std::filesystem::path journal_path(const std::filesystem::path& dir) { return dir / "journal.jsonl"; }

Journal Journal::create(const std::filesystem::path& dir, const Settings& settings) {
  const std::filesystem::path path = journal_path(dir);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST)
      throw TuneError(
          fmt::format("{} already holds a tuning run ({}): continue it with --resume {}, or choose "
                      "another --out",
                      dir.string(), path.string(), dir.string()));
    throw TuneError(fmt::format("cannot create {}: {}", path.string(), error_text()));
  }
  Journal j(path, fd);
  j.append({{"type", "run"}, {"format", kFormat}, {"settings", settings.to_json()}});
  return j;
}

Journal Journal::open(const std::filesystem::path& dir) {
  const std::filesystem::path path = journal_path(dir);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw TuneError(fmt::format("cannot open {} to append: {}", path.string(), error_text()));
  return Journal(path, fd);
}

Journal::Journal(Journal&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const nlohmann::ordered_json& record) {
  // Invalid UTF-8 in mapper text or messages is replaced, not an exception.
  const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw TuneError(fmt::format("cannot append to {}: {}", path_.string(), error_text()));
    }
    done += static_cast<size_t>(n);
  }
}

Journal::Contents Journal::read(const std::filesystem::path& dir) {
  const std::filesystem::path path = journal_path(dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(dir)) throw TuneError(fmt::format("{}: no such directory", dir.string()));
    throw TuneError(
        fmt::format("{} holds no tuning run: cannot read {}: {}", dir.string(), path.string(), error_text()));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  Contents c;
  size_t start = 0, good_end = 0;
  bool header = false;
  for (int line = 1; start < text.size(); ++line) {
    const size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos;
    const std::string_view record(text.data() + start, (complete ? end : text.size()) - start);
    nlohmann::json j = nlohmann::json::parse(record, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      if (!complete) break;  // the torn last line of a killed run
      throw TuneError(fmt::format("{}:{}: not a JSON object", path.string(), line));
    }
    try {
      const std::string type = j.at("type").get<std::string>();
      if (line == 1) {
        if (type != "run") throw TuneError("the first line is not the run's settings");
        if (j.at("format").get<int>() != kFormat)
          throw TuneError(fmt::format("journal format {} (this mage reads format {})", j.at("format").dump(), kFormat));
        c.settings = Settings::from_json(j.at("settings"));
        header = true;
      } else if (type == "evaluation") {
        c.evaluations[j.at("number").get<int>()] = j;
      } else if (type == "reference") {
        c.references[j.at("name").get<std::string>()] = j;
      } else if (type == "budget") {
        c.settings.budget = j.at("budget").get<int>();
      } else {
        throw TuneError(fmt::format("unknown record type '{}'", type));
      }
    } catch (const nlohmann::json::exception& e) {
      throw TuneError(fmt::format("{}:{}: {}", path.string(), line, json_problem(e)));
    } catch (const TuneError& e) {
      throw TuneError(fmt::format("{}:{}: {}", path.string(), line, e.what()));
    }
    if (!complete) {
      good_end = text.size();  // a whole record without its newline: keep it, end the line
      break;
    }
    start = end + 1;
    good_end = start;
  }
  if (!header) throw TuneError(fmt::format("{} is empty: the run never started", path.string()));
  if (good_end < text.size()) {
    c.torn_bytes = text.size() - good_end;
    if (::truncate(path.c_str(), static_cast<off_t>(good_end)) != 0)
      throw TuneError(fmt::format("cannot cut the incomplete last line off {}: {}", path.string(), error_text()));
  } else if (!text.empty() && text.back() != '\n') {
    Journal j = open(dir);  // a whole last record without its newline: end its line
    if (::write(j.fd_, "\n", 1) != 1)
      throw TuneError(fmt::format("cannot append to {}: {}", path.string(), error_text()));
  }
  return c;
}

}  // namespace mage::tune::detail
