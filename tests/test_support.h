// What the test programs share: a fresh directory per test, reading a whole file, the
// repository's files (expert mappers, the test machines of tests/data/machines).
#pragma once

#include <stdlib.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace mage::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mage-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The whole file; empty when it cannot be read (tests that need the file assert it is not).
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A file of the repository (MAGE_SOURCE_DIR is set for every test program).
inline std::string repo_path(const std::string& relative) { return std::string(MAGE_SOURCE_DIR) + "/" + relative; }

inline std::string expert_mapper_path(const std::string& app) { return repo_path("mappers/expert/" + app + ".map"); }

// The TOML text of a test machine of tests/data/machines (each file says what it models).
inline std::string test_machine_text(const std::string& name) {
  std::string text = read_text(repo_path("tests/data/machines/" + name + ".toml"));
  if (text.empty()) throw std::runtime_error("test machine " + name + ".toml is missing");
  return text;
}

}  // namespace mage::test
