#include "cli/io.h"

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "apps/apps.h"
#include "kinds/kinds.h"

namespace mage::cli {

std::optional<std::string> read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    if (std::cin.bad()) {
      std::fprintf(stderr, "mage: error: cannot read standard input: %s\n", std::strerror(errno));
      return std::nullopt;
    }
    return ss.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::fprintf(stderr, "mage: error: cannot read %s: it is a directory\n", path.c_str());
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "mage: error: cannot read %s: %s\n", path.c_str(), std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string source_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& names) {
  const std::vector<std::string_view> candidates(names.begin(), names.end());
  const std::string hint = kinds::closest_word(word, candidates);
  return hint.empty() ? "" : "did you mean '" + hint + "'? ";
}

CLI::Validator one_of(const std::string& noun, const std::string& plural, std::vector<std::string> names,
                      const std::string& more) {
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        if (std::find(names.begin(), names.end(), value) != names.end()) return "";
        return fmt::format("unknown {} '{}' ({}{}: {}{})", noun, value, did_you_mean(value, names), plural, join(names),
                           more.empty() ? "" : "; " + more);
      },
      "", noun);
}

CLI::Validator program_name() {
  std::vector<std::string> names;
  for (const auto& a : apps::list()) names.push_back(a.name);
  return one_of("program", "programs", std::move(names), "see `mage apps`");
}

bool write_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".mage-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text) || !out.flush()) {
      std::fprintf(stderr, "mage: error: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::fprintf(stderr, "mage: error: cannot replace %s: %s\n", path.c_str(), ec.message().c_str());
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

void add_error_limit(CLI::App& command, size_t& limit) {
  limit = dsl::kDefaultDiagnosticLimit;
  command.add_option(
      "--error-limit", limit,
      fmt::format("Errors and warnings printed at most (default {}; 0: all)", dsl::kDefaultDiagnosticLimit));
}

void print_json(const nlohmann::ordered_json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

namespace {

// The number the whole of `text` spells, if it does.
std::optional<double> number_of(const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

void add_time_limit(CLI::App& command, double& seconds) {
  command.add_option("--time-limit", seconds, "Seconds an evaluation may take (default 30; 0: no limit)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (const auto v = number_of(value); v && *v >= 0) return "";
            return "must be 0 (no limit) or more seconds, not '" + value + "'";
          },
          "", "seconds"));
}

void add_memory_limit(CLI::App& command, double& gib) {
  command.add_option("--memory-limit", gib, "GiB of memory an evaluation may use (default 8; 0: no limit)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (const auto v = number_of(value); v && (*v == 0 || (*v >= 1.0 / 1024 && *v <= 1 << 20))) return "";
            return "must be 0 (no limit) or from 0.001 to 1048576 GiB, not '" + value + "'";
          },
          "", "GiB"));
}

uint64_t memory_limit_bytes(double gib) { return static_cast<uint64_t>(gib * static_cast<double>(uint64_t{1} << 30)); }

std::string diagnostics_text(const std::vector<dsl::Diagnostic>& ds, const dsl::SourceFile& source, size_t limit) {
  return dsl::format_diagnostics(ds, source, limit, "--error-limit 0 shows all");
}

namespace {

volatile std::sig_atomic_t stop_flag = 0;
void on_stop_signal(int) { stop_flag = 1; }

}  // namespace

StopSignals::StopSignals() {
  stop_flag = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool stop_requested() { return stop_flag != 0; }

}  // namespace mage::cli
