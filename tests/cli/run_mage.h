// Runs build/mage as a user would and captures what it prints.
#pragma once

#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace mage::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr, interleaved as printed
};

// `args` is appended to the mage executable verbatim (quote paths yourself if needed).
inline CommandResult run_mage(const std::string& args) {
  std::string command = std::string(MAGE_EXE) + " " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A file in the temporary directory, removed at the end of the test.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& text)
      : path_(std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_" + name)) {
    std::ofstream(path_) << text;
  }
  explicit TempFile(const std::string& name) : TempFile(name, "") { std::filesystem::remove(path_); }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }
  std::string read() const {
    std::ifstream in(path_);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::filesystem::path path_;
};

inline std::string source_path(const std::string& relative) { return std::string(MAGE_SOURCE_DIR) + "/" + relative; }

}  // namespace mage::test
