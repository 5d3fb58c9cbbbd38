#include "cli/io.h"

#include <fmt/format.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mage::cli {

std::optional<std::string> read_file(const std::string& path) {
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
