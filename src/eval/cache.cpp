// The result cache: in memory, and optionally one JSON file per key in a directory.
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <unistd.h>
#include <atomic>
#include <fstream>
#include <sstream>
#include <system_error>

#include "eval/eval.h"

namespace mage::eval {

namespace {

std::filesystem::path file_of(const std::filesystem::path& dir, const std::string& key) {
  return dir / (key + ".json");
}

// The stored result, or nullopt when the file is missing, unreadable or not ours.
std::optional<Result> read_entry(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    if (j.at("key") != key || j.at("model") != model_version()) return std::nullopt;
    return result_from_json(j.at("result"));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Writes to a temporary file in the same directory, then renames it over the entry, so a
// reader never sees half a file. Failures are ignored: the cache is an optimisation.
void write_entry(const std::filesystem::path& path, const std::string& key, const Result& result) {
  static std::atomic<uint64_t> counter{0};
  nlohmann::ordered_json j = {{"key", key}, {"model", model_version()}, {"result", result_to_json(result)}};
  const std::filesystem::path tmp = path.string() + fmt::format(".tmp.{}.{}", static_cast<long>(::getpid()), counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !(out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) || !out.flush()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace

Cache::Cache(std::filesystem::path directory) : directory_(std::move(directory)) {
  std::error_code ec;
  std::filesystem::create_directories(*directory_, ec);
  if (ec && !std::filesystem::is_directory(*directory_))
    throw std::runtime_error(
        fmt::format("cannot create the cache directory {}: {}", directory_->string(), ec.message()));
}

std::optional<Result> Cache::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() && directory_) {
    if (auto stored = read_entry(file_of(*directory_, key), key)) it = entries_.emplace(key, std::move(*stored)).first;
  }
  if (it == entries_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  Result r = it->second;
  r.cached = true;
  return r;
}

void Cache::store(const std::string& key, const Result& result) {
  std::lock_guard lock(mutex_);
  Result& stored = entries_[key] = result;
  stored.cached = false;
  if (directory_) write_entry(file_of(*directory_, key), key, stored);
}

size_t Cache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

int64_t Cache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

int64_t Cache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace mage::eval
